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
	int		 button;	/* 0 left, 2 right; 64, 65 wheel */
	int		 motion;	/* the button is held and moved */
	int		 release;
	int		 x, y;		/* from 0 */
};

/* Parse what follows "ESC [": returns bytes used, 0 if more are needed,
 * -1 if it is no mouse report. */
int		 keys_parse_mouse(const char *, size_t, struct tui_mouse *);

/* One queue entry as the side panel shows it; filled lazily. */
struct tui_entry {
	int64_t		 id;
	int		 known;
	int		 state;		/* TILE_* */
	double		 score;		/* by the queue's order; NaN: none */
	int		 rank;		/* 1.. among new tiles; 0: other */
};

/* Layout in cells; the image area never includes the last two rows. */
struct tui_layout {
	int		 rows, cols;
	int		 area_rows, area_cols;	/* the image area at 0, 0 */
	int		 panel_col, panel_w;	/* 0 wide: no panel */
	int		 msg_row, status_row;
	int		 img_row, img_col;	/* the frame's top-left cell */
	int		 img_rows, img_cols;
	/* Where the panel's lists were drawn, for the mouse. */
	int		 class_row, class_rows;	/* classes, then the eraser */
	int		 queue_row, queue_rows;	/* shows q[queue_first]... */
	size_t		 queue_first;
};

struct tui {
	const struct tui_options *opt;
	struct store		*st;
	const char		*user;
	struct classes		 cl;
	char			*names[MAX_CLASSES];	/* cleaned */
	int			 ncolours;		/* curses colours */

	/* The terminal. */
	struct term		 term;
	int			 graphics;		/* GRAPHICS_* */
	int			 pixel_mouse;		/* 1016 on */
	struct tui_layout	 lay;

	/* The queue, in the order the store gave it. */
	int			 order;			/* ORDER_* */
	struct tui_entry	*q;
	size_t			 nq;
	size_t			 qi;			/* nq: not in queue */

	/* The open tile: its RGB, label and prediction, w x h each. */
	int			 open;
	struct tile		 t;
	char			*source;		/* cleaned basename */
	char			*author;		/* cleaned */
	uint8_t			*rgb;
	uint8_t			*mask;
	uint8_t			*snap;			/* before the change */
	uint8_t			*base;			/* as last stored */
	uint8_t			*pred;			/* NULL: none */
	int			 pred_broken;		/* unreadable */
	size_t			 counts[256];
	struct tools_undo	*undo;

	/* Tools. */
	int			 cls;
	int			 eraser;
	int			 pen;			/* a stroke is open */
	int			 pen_x, pen_y;
	int			 unsaved;		/* last save failed */
	int			 broken;		/* label unreadable */

	/* The view and its encoded image. */
	struct view		 v;
	int			 overlay;
	int			 show;			/* SHOW_*, overlay on */
	struct frame		 fr;
	struct sixel_enc	*sx;
	struct buf		 img;			/* encoded */
	int			 img_stale;		/* compose again */
	int			 img_dirty;		/* write again */
	/* A small change (a stroke, a cursor move) lies in these tile
	 * pixels (x0 >= x1: none); unless img_full is set, the sixel
	 * renderer sends only that part.  img_part: the screen was last
	 * changed by a part, so img holds an older whole image. */
	int			 img_full;
	int			 img_part;
	int			 dirty_x0, dirty_y0, dirty_x1, dirty_y1;
	struct frame		 img_at;		/* geometry of img */
	int			 img_at_row, img_at_col;

	/* The screen. */
	int			 help;			/* page + 1; 0: off */
	int			 quit;
	char			*msg;
	int			 msg_error;
	double			 msg_time;		/* job progress after */

	/* The model's side (tui-model.c). */
	int64_t			 job_id;		/* 0: none running */
	char			*job_text;		/* progress, or NULL */
	int64_t			 model_id;
};

/* tui.c */
void		 tui_message(struct tui *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));

/* tui-draw.c */
void		 tui_draw_layout(struct tui *);
void		 tui_draw_colours(struct tui *);
void		 tui_draw(struct tui *);
void		 tui_draw_compose(struct tui *);
/* Only the tile pixels x0..x1-1, y0..y1-1 changed (with the cursor
 * that may lie around them). */
void		 tui_draw_changed_at(struct tui *, int, int, int, int);
int		 tui_draw_help_pages(struct tui *);
const char	*tui_draw_order_name(int);
/* The key that chooses class i; "[key] name" (a static buffer). */
char		 tui_draw_class_key(struct tui *, int);
const char	*tui_draw_class_name(struct tui *, int);
/* The tile pixel under a mouse report; -1 if none.  With the int set, a
 * report off the image clamps to the tile's edge (a drag). */
int		 tui_draw_mouse_to_tile(struct tui *, const struct tui_mouse *,
		     int, int *, int *);
/* The cell of a mouse report. */
void		 tui_draw_mouse_cell(struct tui *, const struct tui_mouse *,
		     int *, int *);

/* tui-model.c: the model's side of the TUI (predictions, retrains). */
#define MODEL_PROGRESS	0x1	/* job_text changed */
#define MODEL_NEW	0x2	/* a new model landed: reload */

/* Fill pred (w x h) with the newest model's prediction: 1, or 0 if none. */
int		 tui_model_pred(struct tui *, uint8_t *);
void		 tui_model_init(struct tui *);
/* Queue a retrain and start a trainer if none runs. */
int		 tui_model_retrain(struct tui *, char **);
/* Look at the running job and the newest model: MODEL_* flags. */
int		 tui_model_poll(struct tui *);
void		 tui_model_free(struct tui *);

#endif /* S4LAB_TUI_INT_H */
