/*
 * s4lab ui/: what only the TUI's own files (tui.c, keys.c) share.
 *
 * The TUI's state is one struct tui, `tui` everywhere.  Keys are bound in
 * one table (keys.c): the event loop, the `?` help screen and the man-page
 * test all read it.
 */
#ifndef S4LAB_TUI_INT_H
#define S4LAB_TUI_INT_H

#include <stdio.h>

#include "ui.h"

/* What a key does. */
enum tui_action {
	ACT_NONE,
	ACT_LEFT, ACT_RIGHT, ACT_UP, ACT_DOWN,
	ACT_LEFT_FAR, ACT_RIGHT_FAR, ACT_UP_FAR, ACT_DOWN_FAR,
	ACT_CLASS, ACT_CLASS_NEXT, ACT_CLASS_PREV, ACT_ERASER,
	ACT_BRUSH_DOWN, ACT_BRUSH_UP,
	ACT_PEN, ACT_DAB, ACT_FILL, ACT_UNDO, ACT_REDO,
	ACT_OVERLAY, ACT_OPACITY_UP, ACT_OPACITY_DOWN, ACT_ZOOM,
	ACT_DONE, ACT_SKIP, ACT_NEXT, ACT_PREV, ACT_GOTO,
	ACT_SHOW, ACT_ACCEPT, ACT_RETRAIN, ACT_ORDER,
	ACT_REDRAW, ACT_HELP, ACT_QUIT
};

#define KEYS_MAX	12

/* One binding: the curses key codes (0-ended), how the man page and the
 * help screen name them ("h Left"), and one line of help. */
struct key_binding {
	int		 keys[KEYS_MAX];
	const char	*name;
	const char	*help;
	enum tui_action	 action;
};

/* Cursor steps: small and large, in tile pixels. */
#define STEP_NEAR	1
#define STEP_FAR	16

#define BRUSH_MAX	64

/* keys.c */
extern const struct key_binding key_table[];
const struct key_binding *keys_find(int);
/* The KEYS list of s4lab(1), as mdoc .It lines, to f. */
void		 keys_mdoc(FILE *);

/* A mouse report: SGR 1006 "CSI < b ; x ; y M|m" (x, y from 1; cells, or
 * pixels under SGR-Pixels 1016). */
struct tui_mouse {
	int		 button;	/* 0 left, 1 middle, 2 right, 64/65 wheel */
	int		 motion;	/* the button is held and moved */
	int		 release;
	int		 x, y;		/* from 0 */
};

/* Parse what follows "ESC [": returns bytes used, 0 if more are needed,
 * -1 if it is no mouse report. */
int		 keys_parse_mouse(const char *, size_t, struct tui_mouse *);

#endif /* S4LAB_TUI_INT_H */
