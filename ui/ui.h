/*
 * s4lab ui/: the terminal user interface (interface).
 *
 * The TUI (tui.c) owns the terminal through ncursesw for text and writes
 * images around it: after doupdate(), at a known cell, either as sixel
 * (sixel.c, libsixel) or as Unicode half blocks (blocks.c).  compose.c
 * turns a tile, its masks and the view state into an RGB frame the size of
 * the image area; the renderers only encode frames.  The TUI reads and
 * writes the project through src/ (s4lab.h) and nothing else.
 *
 * Names: the terminal facts `term`, a frame `fr`, the view `v`.
 */
#ifndef S4LAB_UI_H
#define S4LAB_UI_H

#include <stddef.h>
#include <stdint.h>

#include "s4lab.h"

/* ------------------------------------------------------------------ */
/* buf.c: a growing byte buffer for terminal output. */

struct buf {
	char		*p;
	size_t		 len;
	size_t		 size;
};

void		 buf_add(struct buf *, const void *, size_t);
void		 buf_printf(struct buf *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
void		 buf_free(struct buf *);
/* Make room for n more bytes at p + len (for writers that fill it
 * directly and then advance len). */
void		 buf_reserve_tail(struct buf *, size_t);
/* Write it all to fd, retrying on EINTR and short writes; on success the
 * buffer is emptied (len 0, memory kept). */
int		 buf_write(struct buf *, int);

/* ------------------------------------------------------------------ */
/* term.c: what the terminal can do. */

#define GRAPHICS_AUTO	0
#define GRAPHICS_SIXEL	1
#define GRAPHICS_BLOCKS	2

struct term {
	int		 rows, cols;
	int		 cell_w, cell_h;	/* pixels; 0 if unknown */
	int		 sixel;			/* DA1 said 4 */
	int		 truecolor;		/* else 256 colours */
	int		 in_tmux;
	int		 pixel_mouse;		/* SGR-Pixels 1016 accepted */
};

/*
 * Ask the terminal (on fd, already in raw mode) for its cell size (CSI
 * 16 t, TIOCGWINSZ first) and device attributes, DA1 last, reading until
 * the DA1 reply arrives (or a generous timeout for terminals that never
 * answer).  Fills term.
 */
int		 term_probe(struct term *, int, char **);
/* Parsers, exposed for tests: DA1 "\033[?64;4;...c" -> 1 if 4 is in it;
 * CSI 6;h;w t -> cell size (w, h); CSI 4;h;w t -> text area size (w, h);
 * DECRQM CSI ? mode;state $ y -> state.  Each skips junk and partial
 * sequences and returns -1 if buf holds no such reply. */
int		 term_parse_da1(const char *, size_t, int *);
int		 term_parse_cellsize(const char *, size_t, int *, int *);
int		 term_parse_textsize(const char *, size_t, int *, int *);
int		 term_parse_decrqm(const char *, size_t, int, int *);
/* "auto", "sixel", "blocks" -> GRAPHICS_*; -1 for anything else. */
int		 term_graphics_mode(const char *);
/* Choose the renderer: GRAPHICS_SIXEL or GRAPHICS_BLOCKS. */
int		 term_choose(const struct term *, int);

/* ------------------------------------------------------------------ */
/* compose.c: tile + masks + view -> RGB frame. */

#define SHOW_LABEL	0x1
#define SHOW_PRED	0x2

struct view {
	/* The tile: w x h RGB bytes, and its label and prediction masks
	 * (w x h class indices, MASK_VOID = none); pred may be NULL. */
	const uint8_t		*rgb;
	int			 w, h;
	const uint8_t		*mask;
	const uint8_t		*pred;
	const struct classes	*cl;
	int			 show;		/* SHOW_* */
	float			 opacity;	/* of the mask colours, 0..1 */
	int			 zoom;		/* 0 fit, 2, 4 */
	int			 pan_x, pan_y;	/* tile pixel at the top-left */
	int			 cur_x, cur_y;	/* cursor in tile pixels */
	int			 brush;		/* radius in tile pixels */
};

struct frame {
	uint8_t		*rgb;		/* w x h RGB */
	int		 w, h;
	/* The mapping back: frame pixel (fx, fy) shows tile pixel
	 * (ox + fx / scale, oy + fy / scale). */
	float		 scale;
	int		 ox, oy;
};

/* Draw v into fr at fr->w x fr->h (the caller sets them; rgb is
 * reallocated as needed).  Scale: fit is the largest integer scale at
 * which the whole tile fits (a fraction if it is larger than the frame);
 * zoom 2 and 4 multiply it, and the pan is clamped so that the view stays
 * inside the tile (fr->ox, fr->oy say where it ended).  The image is at
 * the frame's top-left; the rest is a dark grey.  The cursor is drawn
 * only when it is inside the tile.  With SHOW_LABEL|SHOW_PRED the label
 * wins and the prediction shows at half opacity where there is none. */
void		 compose(const struct view *, struct frame *);
/* Map a frame pixel to a tile pixel; -1 if outside the tile. */
int		 compose_to_tile(const struct frame *, const struct view *,
		     int, int, int *, int *);
void		 frame_free(struct frame *);

/* ------------------------------------------------------------------ */
/* sixel.c and blocks.c: frame -> terminal bytes at cell (row, col). */

/* libsixel owns the name sixel_encode(), hence the sixel_enc_ prefix. */
struct sixel_enc;

struct sixel_enc *sixel_enc_new(void);
void		 sixel_enc_free(struct sixel_enc *);
/* Append the sixel image of a frame at cell (row, col), 0-based, to out:
 * DECSC, the cursor move, the image (height cut to a multiple of 6, no
 * trailing graphics newline), DECRC.  The caller keeps the image above
 * the last screen row.  -1 if the frame cannot be encoded. */
int		 sixel_enc_frame(struct sixel_enc *, const struct frame *,
		     int, int, struct buf *);
/* Only the part of that image over frame pixels x0..x1-1, y0..y1-1
 * (args: row, col, cell_w, cell_h, x0, y0, x1, y1), widened to cell
 * boundaries and whole bands, for redrawing a small change (a stroke)
 * with a fraction of the bytes.  -1 if there is nothing to draw. */
int		 sixel_enc_region(struct sixel_enc *, const struct frame *,
		     int, int, int, int, int, int, int, int, struct buf *);
/* Encode with libsixel's encoder instead of the faster own one (the
 * palette is the same); for tests and benchmarks. */
void		 sixel_enc_use_libsixel(struct sixel_enc *, int);
/* Half blocks: each cell shows two frame pixels (upper, lower); the int
 * after row and col is 1 for 24-bit colour, 0 for 256 colours. */
void		 blocks_encode(const struct frame *, int, int, int,
		     struct buf *);
/* The nearest xterm 256-colour index of an RGB pixel. */
int		 blocks_colour256(const uint8_t *);

/* ------------------------------------------------------------------ */
/* tools.c: painting on a mask (w x h bytes), and undo/redo. */

struct tools_undo;

/* Each returns the number of pixels it changed. */
size_t		 tools_stamp(uint8_t *, int, int, int, int, int, uint8_t);
size_t		 tools_line(uint8_t *, int, int, int, int, int, int, int,
		     uint8_t);
size_t		 tools_fill(uint8_t *, int, int, int, int, uint8_t);
/* Pixels per value: counts has 256 entries. */
void		 tools_count(const uint8_t *, int, int, size_t *);

/* An undo stack of rectangle diffs, bounded in bytes (0: 64 MiB). */
struct tools_undo *tools_undo_new(size_t);
void		 tools_undo_free(struct tools_undo *);
void		 tools_undo_clear(struct tools_undo *);
size_t		 tools_undo_bytes(const struct tools_undo *);
int		 tools_can_undo(const struct tools_undo *);
int		 tools_can_redo(const struct tools_undo *);
/* Record before -> after; 0 if they are equal (nothing recorded). */
int		 tools_undo_push(struct tools_undo *, const uint8_t *,
		     const uint8_t *, int, int);
/* Apply to the mask; 0 if there was nothing to undo or redo. */
int		 tools_undo(struct tools_undo *, uint8_t *, int, int);
int		 tools_redo(struct tools_undo *, uint8_t *, int, int);

/* ------------------------------------------------------------------ */
/* tui.c: s4lab label. */

struct tui_options {
	const char	*path;
	const char	*user;
	int		 graphics;	/* GRAPHICS_* */
	int64_t		 start_tile;	/* 0: the head of the queue */
	int		 start_trainer;	/* let the TUI start a trainer */
};

int		 tui_run(const struct tui_options *, char **);

#endif /* S4LAB_UI_H */
