/*
 * What the TUI draws: the layout, the side panel, the message and status
 * lines, the help screen (through curses), and the image (around it).
 *
 *	+------------------------------+-+----------------+
 *	|                              |||  classes       |
 *	|        the tile image        |||  queue         |
 *	|                              |||                |
 *	+------------------------------+-+----------------+
 *	| message line                        view facts  |
 *	| status line (reverse)                  ? help   |
 *	+-------------------------------------------------+
 *
 * Curses believes the image area is blank, and it is told nothing else: the
 * image is written after doupdate() at its cell, from the encoded bytes
 * kept in tui->img, whenever the view changed or curses may have drawn over
 * it.  When the image's place or size changes, the whole screen is cleared
 * (clearok), because neither half blocks curses never drew nor sixel pixels
 * are erased by curses on its own.  The image area ends two rows above the
 * bottom, so an image never reaches the last row and never scrolls.
 */
#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui-int.h"

#define PANEL_W		30
#define PANEL_MIN_COLS	72
#define PAIR_ERROR	1
#define PAIR_CLASS	2	/* + class index */
#define MSG_SECONDS	4

/* The queue order's name. */
const char *
tui_draw_order_name(int order)
{
	switch (order) {
	case ORDER_DISAGREEMENT:
		return ("disagreement");
	case ORDER_ENTROPY:
		return ("entropy");
	case ORDER_RANDOM:
		return ("random");
	default:
		return ("id");
	}
}

static const char *
tui_draw_state_name(int state)
{
	switch (state) {
	case TILE_DONE:
		return ("done");
	case TILE_SKIPPED:
		return ("skipped");
	default:
		return ("new");
	}
}

/*
 * The key that chooses class i (tui_class_key reads keys the same way):
 * its own, else its index as a digit if no class owns that digit; ' ' if
 * none.
 */
char
tui_draw_class_key(struct tui *tui, int i)
{
	int	j;

	if (tui->cl.c[i].key != '\0')
		return (tui->cl.c[i].key);
	if (i >= 10)
		return (' ');
	for (j = 0; j < tui->cl.n; j++) {
		if (tui->cl.c[j].key == '0' + i)
			return (' ');
	}
	return ('0' + i);
}

/* A class as a message names it: "[key] name". */
const char *
tui_draw_class_name(struct tui *tui, int i)
{
	static char	name[64];

	snprintf(name, sizeof name, "[%c] %s", tui_draw_class_key(tui, i),
	    tui->names[i]);
	return (name);
}

/* The nearest of the eight basic curses colours. */
static short
tui_draw_colour8(const uint8_t *rgb)
{
	short	c = 0;

	if (rgb[0] >= 128)
		c |= COLOR_RED;
	if (rgb[1] >= 128)
		c |= COLOR_GREEN;
	if (rgb[2] >= 128)
		c |= COLOR_BLUE;
	return (c);
}

/* One colour pair per class swatch, and one for errors. */
void
tui_draw_colours(struct tui *tui)
{
	int	i;
	short	bg;

	if (!has_colors())
		return;
	start_color();
	use_default_colors();
	tui->ncolours = COLORS;
	init_pair(PAIR_ERROR, COLOR_RED, -1);
	for (i = 0; i < tui->cl.n && PAIR_CLASS + i < COLOR_PAIRS; i++) {
		if (COLORS >= 256)
			bg = blocks_colour256(tui->cl.c[i].rgb);
		else
			bg = tui_draw_colour8(tui->cl.c[i].rgb);
		init_pair(PAIR_CLASS + i, COLOR_BLACK, bg);
	}
}

/* The image's pixels per cell. */
static void
tui_draw_cell(struct tui *tui, int *cw, int *ch)
{
	if (tui->graphics == GRAPHICS_SIXEL) {
		*cw = tui->term.cell_w > 0 ? tui->term.cell_w : 10;
		*ch = tui->term.cell_h > 0 ? tui->term.cell_h : 20;
	} else {
		*cw = 1;
		*ch = 2;
	}
}

/*
 * Work out where everything goes for the current screen size, and the
 * frame's size: at fit, the tile at the largest integer scale that fits
 * (or the fraction that fits when it is larger than the area); zoomed, the
 * whole area.  Sixel frames are a multiple of 6 pixels high.
 */
void
tui_draw_layout(struct tui *tui)
{
	struct tui_layout	*l = &tui->lay, old = tui->lay;
	struct view		*v = &tui->v;
	int			 cw, ch, aw, ah, fw, fh;
	float			 s;

	l->rows = LINES;
	l->cols = COLS;
	l->status_row = l->rows - 1;
	l->msg_row = l->rows - 2;
	l->panel_w = l->cols >= PANEL_MIN_COLS ? PANEL_W : 0;
	l->area_cols = l->cols - (l->panel_w > 0 ? l->panel_w + 1 : 0);
	l->panel_col = l->area_cols + 1;
	l->area_rows = l->rows - 2 > 0 ? l->rows - 2 : 0;

	tui_draw_cell(tui, &cw, &ch);
	aw = l->area_cols * cw;
	ah = l->area_rows * ch;
	ah -= ah % (tui->graphics == GRAPHICS_SIXEL ? 6 : 2);
	if (v->w <= 0 || v->h <= 0 || aw <= 0 || ah <= 0) {
		fw = fh = 0;
	} else {
		s = fminf((float)aw / v->w, (float)ah / v->h);
		if (s >= 1)
			s = floorf(s);
		if (v->zoom != 0)
			s *= v->zoom;
		fw = (int)ceilf(v->w * s);
		fh = (int)ceilf(v->h * s);
		fw = fw > aw ? aw : fw;
		fh = fh > ah ? ah : fh;
	}
	/* Round up to whole rows of the renderer, within the area. */
	if (tui->graphics == GRAPHICS_SIXEL)
		fh = (fh + 5) / 6 * 6;
	else
		fh = (fh + 1) / 2 * 2;
	fh = fh > ah ? ah : fh;

	tui->fr.w = fw;
	tui->fr.h = fh;
	l->img_cols = (fw + cw - 1) / cw;
	l->img_rows = (fh + ch - 1) / ch;
	l->img_col = (l->area_cols - l->img_cols) / 2;
	l->img_row = (l->area_rows - l->img_rows) / 2;
	if (memcmp(&old, l, sizeof old) != 0) {
		clearok(curscr, TRUE);
		tui->img_stale = tui->img_dirty = tui->img_full = 1;
	}
}

/* Print at most width columns of s at (row, col). */
static void
tui_draw_text(int row, int col, int width, const char *s)
{
	if (width <= 0)
		return;
	mvaddnstr(row, col, s, width);
}

/*
 * Read again the state of queue entry i if it was forgotten (another
 * expert may have changed it); its score and rank stay as the queue
 * was read.
 */
static void
tui_draw_entry(struct tui *tui, size_t i)
{
	struct tui_entry	*e = &tui->q[i];
	struct tile		 t;
	char			*cause = NULL;

	if (e->known)
		return;
	e->known = 1;
	if (tui->open && e->id == tui->t.id) {
		e->state = tui->t.state;
		return;
	}
	memset(&t, 0, sizeof t);
	if (store_tile_get(tui->st, e->id, &t, &cause) != 0) {
		free(cause);
		return;
	}
	e->state = t.state;
	tile_free(&t);
}

/* The class palette; returns the next free row. */
static int
tui_draw_classes(struct tui *tui, int row, int max)
{
	struct tui_layout	*l = &tui->lay;
	size_t			 total = (size_t)tui->v.w * tui->v.h;
	char			 line[64], key;
	int			 i, col = l->panel_col + 1, w = l->panel_w - 1;

	attron(A_BOLD);
	tui_draw_text(row++, col, w, "Classes              share");
	attroff(A_BOLD);
	l->class_row = row;
	for (i = 0; i < tui->cl.n && row < max; i++, row++) {
		key = tui_draw_class_key(tui, i);
		if (i == tui->cls && !tui->eraser)
			attron(A_REVERSE);
		snprintf(line, sizeof line, "%c%c", i == tui->cls &&
		    !tui->eraser ? '>' : ' ', key);
		tui_draw_text(row, col, w, line);
		if (i == tui->cls && !tui->eraser)
			attroff(A_REVERSE);
		attron(COLOR_PAIR(PAIR_CLASS + i));
		tui_draw_text(row, col + 3, 2, "  ");
		attroff(COLOR_PAIR(PAIR_CLASS + i));
		snprintf(line, sizeof line, "%-16.16s%5.1f%%", tui->names[i],
		    total ? 100.0 * tui->counts[i] / total : 0.0);
		tui_draw_text(row, col + 6, w - 6, line);
	}
	if (row < max) {
		if (tui->eraser)
			attron(A_REVERSE);
		tui_draw_text(row, col, w, tui->eraser ? ">e" : " e");
		if (tui->eraser)
			attroff(A_REVERSE);
		snprintf(line, sizeof line, "%-16.16s%5.1f%%", "not labelled",
		    total ? 100.0 * tui->counts[MASK_VOID] / total : 0.0);
		tui_draw_text(row++, col + 6, w - 6, line);
	}
	l->class_rows = row - l->class_row;
	return (row);
}

/* The queue around the open tile. */
static void
tui_draw_queue(struct tui *tui, int row, int max)
{
	struct tui_layout	*l = &tui->lay;
	struct tui_entry	*e;
	char			 line[64], score[16];
	size_t			 first, i;
	int			 col = l->panel_col + 1, w = l->panel_w - 1, n;

	attron(A_BOLD);
	if (tui->qi < tui->nq)
		snprintf(line, sizeof line, "Queue %-11s %4zu/%zu",
		    tui_draw_order_name(tui->order), tui->qi + 1, tui->nq);
	else
		snprintf(line, sizeof line, "Queue %-11s %zu",
		    tui_draw_order_name(tui->order), tui->nq);
	tui_draw_text(row++, col, w, line);
	attroff(A_BOLD);
	if (tui->qi == tui->nq && tui->open && row < max) {
		snprintf(line, sizeof line, "(tile %lld is not in it)",
		    (long long)tui->t.id);
		tui_draw_text(row++, col, w, line);
	} else if (tui->qi < tui->nq && row < max) {
		e = &tui->q[tui->qi];
		if (e->rank > 0 && !isnan(e->score))
			snprintf(line, sizeof line, "this tile: rank %d, %.4f",
			    e->rank, e->score);
		else if (e->rank > 0)
			snprintf(line, sizeof line, "this tile: rank %d",
			    e->rank);
		else
			snprintf(line, sizeof line, "this tile: %s",
			    tui_draw_state_name(tui->t.state));
		tui_draw_text(row++, col, w, line);
	}
	n = max - row;
	l->queue_rows = 0;
	if (n <= 0 || tui->nq == 0)
		return;
	first = tui->qi < tui->nq && tui->qi > (size_t)n / 3 ?
	    tui->qi - n / 3 : 0;
	if (first + n > tui->nq)
		first = tui->nq > (size_t)n ? tui->nq - n : 0;
	l->queue_row = row;
	l->queue_first = first;
	l->queue_rows = n;
	for (i = first; i < tui->nq && row < max; i++, row++) {
		tui_draw_entry(tui, i);
		e = &tui->q[i];
		score[0] = '\0';
		if (!isnan(e->score))
			snprintf(score, sizeof score, "%7.4f", e->score);
		snprintf(line, sizeof line, "%c%8lld  %-8s%s",
		    i == tui->qi ? '>' : ' ', (long long)e->id,
		    e->state < 0 ? "?" : tui_draw_state_name(e->state), score);
		if (i == tui->qi)
			attron(A_REVERSE);
		tui_draw_text(row, col, w, line);
		if (i == tui->qi)
			attroff(A_REVERSE);
	}
}

/* The side panel: classes, then the queue. */
static void
tui_draw_panel(struct tui *tui)
{
	struct tui_layout	*l = &tui->lay;
	int			 row;

	if (l->panel_w == 0)
		return;
	mvvline(0, l->panel_col - 1, ACS_VLINE, l->area_rows);
	row = tui_draw_classes(tui, 0, l->area_rows / 2 + 2);
	tui_draw_queue(tui, row + 1, l->area_rows);
}

/* The message line: the last message or the job's progress; view facts. */
static void
tui_draw_message(struct tui *tui)
{
	struct tui_layout	*l = &tui->lay;
	struct view		*v = &tui->v;
	char			 facts[64];
	const char		*show;
	int			 fl;

	if (!tui->overlay)
		show = "mask off";
	else if (tui->show == SHOW_LABEL)
		show = "label";
	else if (tui->show == SHOW_PRED)
		show = "prediction";
	else
		show = "label+prediction";
	fl = snprintf(facts, sizeof facts, "%s %d%%  zoom %s", show,
	    (int)lrintf(v->opacity * 100), v->zoom == 0 ? "fit" :
	    v->zoom == 2 ? "2x" : "4x");
	if (fl >= l->cols)
		fl = 0;
	else
		tui_draw_text(l->msg_row, l->cols - fl, fl, facts);

	/* A message shows for a few seconds, then the job's progress. */
	if (tui->job_text != NULL && (tui->msg == NULL ||
	    now_seconds() - tui->msg_time > MSG_SECONDS)) {
		tui_draw_text(l->msg_row, 0, l->cols - fl - 1, tui->job_text);
		return;
	}
	if (tui->msg != NULL && tui->msg_error)
		attron(COLOR_PAIR(PAIR_ERROR) | A_BOLD);
	if (tui->msg != NULL)
		tui_draw_text(l->msg_row, 0, l->cols - fl - 1, tui->msg);
	if (tui->msg != NULL && tui->msg_error)
		attroff(COLOR_PAIR(PAIR_ERROR) | A_BOLD);
}

/* The status line: what the tile is and what the tools will do. */
static void
tui_draw_status(struct tui *tui)
{
	struct tui_layout	*l = &tui->lay;
	struct tile		*t = &tui->t;
	struct view		*v = &tui->v;
	char			 line[512], who[96], tool[96];
	const char		*saved, *hint = "? help ";
	int			 hl = strlen(hint);

	if (t->revision > 0)
		snprintf(who, sizeof who, "%s r%d", tui->author, t->revision);
	else
		snprintf(who, sizeof who, "no label");
	if (tui->eraser)
		snprintf(tool, sizeof tool, "eraser");
	else
		snprintf(tool, sizeof tool, "%s",
		    tui_draw_class_name(tui, tui->cls));
	if (tui->pen)
		saved = "painting";
	else if (tui->unsaved)
		saved = "NOT SAVED";
	else if (tui->broken)
		saved = "read-only";
	else
		saved = "saved";
	/* Most wanted first: what is cut on a narrow screen is the end. */
	snprintf(line, sizeof line, " tile %lld  %s  %s | %s  brush %d  "
	    "%d,%d | %s +%d,%d  %s", (long long)t->id,
	    tui_draw_state_name(t->state), saved, tool, v->brush, v->cur_x,
	    v->cur_y, tui->source, t->x, t->y, who);
	attron(A_REVERSE);
	mvhline(l->status_row, 0, ' ', l->cols);
	tui_draw_text(l->status_row, 0, l->cols - hl - 1, line);
	if (l->cols > hl)
		tui_draw_text(l->status_row, l->cols - hl, hl, hint);
	attroff(A_REVERSE);
}

/*
 * The class swatches in their real colours, written over the panel after
 * curses has drawn it (whose colours may be only the eight basic ones):
 * 24-bit where the terminal has it, else the nearest of xterm's 256, as
 * the half-block renderer does.  Written after every update, since curses
 * may have repainted those cells with its own idea of them.
 */
static void
tui_draw_swatches(struct tui *tui)
{
	struct tui_layout	*l = &tui->lay;
	struct buf		 out;
	const uint8_t		*c;
	int			 i;

	if (l->panel_w == 0 || tui->help)
		return;
	memset(&out, 0, sizeof out);
	buf_add(&out, "\0337", 2);
	for (i = 0; i < tui->cl.n && i < l->class_rows &&
	    l->class_row + i < l->area_rows; i++) {
		c = tui->cl.c[i].rgb;
		buf_printf(&out, "\033[%d;%dH", l->class_row + i + 1,
		    l->panel_col + 5);
		if (tui->term.truecolor)
			buf_printf(&out, "\033[48;2;%d;%d;%dm", c[0], c[1],
			    c[2]);
		else
			buf_printf(&out, "\033[48;5;%dm", blocks_colour256(c));
		buf_add(&out, "  \033[m", 6);
	}
	buf_add(&out, "\0338", 2);
	if (buf_write(&out, STDOUT_FILENO) != 0)
		log_debug(LOG_UI, "swatches: %s", strerror(errno));
	buf_free(&out);
}

/* Rows of keys per help page. */
static int
tui_draw_help_rows(struct tui *tui)
{
	int	n = tui->lay.rows - 4;

	return (n < 1 ? 1 : n);
}

/* How many pages the help screen has. */
int
tui_draw_help_pages(struct tui *tui)
{
	const struct key_binding	*kb;
	int				 n = 0, per;

	for (kb = key_table; kb->name != NULL; kb++)
		n++;
	per = tui_draw_help_rows(tui);
	return ((n + per - 1) / per);
}

/* The help screen: every key of the table, a page at a time. */
static void
tui_draw_help(struct tui *tui)
{
	const struct key_binding	*kb;
	struct tui_layout		*l = &tui->lay;
	char				 line[160];
	int				 per, page, pages, i = 0, row = 2;

	per = tui_draw_help_rows(tui);
	page = tui->help - 1;
	pages = tui_draw_help_pages(tui);
	snprintf(line, sizeof line, "s4lab label: keys (page %d of %d; %s)",
	    page + 1, pages, page + 1 < pages ? "any key for more, q to close" :
	    "any key to close");
	attron(A_BOLD);
	tui_draw_text(0, 1, l->cols - 1, line);
	attroff(A_BOLD);
	for (kb = key_table; kb->name != NULL; kb++, i++) {
		if (i < page * per || i >= (page + 1) * per)
			continue;
		snprintf(line, sizeof line, "%-10s %s", kb->name, kb->help);
		tui_draw_text(row++, 2, l->cols - 2, line);
	}
}

/*
 * Compose the view into the frame (fr->w, fr->h > 0).  Zoomed in, the view
 * pans to keep the cursor an eighth of the view away from its edges.
 */
static void
tui_draw_frame(struct tui *tui)
{
	struct view	*v = &tui->v;
	struct frame	*fr = &tui->fr;
	int		 vw, vh, mx, my, px, py;

	v->show = tui->overlay ? tui->show : 0;
	v->mask = tui->mask;
	v->pred = tui->pred;
	compose(v, fr);
	if (v->zoom != 0 && fr->scale > 0) {
		vw = (int)(fr->w / fr->scale);
		vh = (int)(fr->h / fr->scale);
		mx = vw / 8;
		my = vh / 8;
		px = fr->ox;
		py = fr->oy;
		if (v->cur_x < px + mx)
			px = v->cur_x - mx;
		else if (v->cur_x > px + vw - 1 - mx)
			px = v->cur_x - vw + 1 + mx;
		if (v->cur_y < py + my)
			py = v->cur_y - my;
		else if (v->cur_y > py + vh - 1 - my)
			py = v->cur_y - vh + 1 + my;
		if (px != fr->ox || py != fr->oy) {
			v->pan_x = px < 0 ? 0 : px;
			v->pan_y = py < 0 ? 0 : py;
			compose(v, fr);
		}
	}
	v->pan_x = fr->ox;
	v->pan_y = fr->oy;
}

/* Compose the frame and encode it whole into img. */
void
tui_draw_compose(struct tui *tui)
{
	struct frame	*fr = &tui->fr;
	struct tui_layout *l = &tui->lay;

	tui->img.len = 0;
	if (fr->w <= 0 || fr->h <= 0)
		return;
	tui_draw_frame(tui);
	tui->img_at.w = fr->w;
	tui->img_at.h = fr->h;
	tui->img_at.ox = fr->ox;
	tui->img_at.oy = fr->oy;
	tui->img_at.scale = fr->scale;
	tui->img_at_row = l->img_row;
	tui->img_at_col = l->img_col;
	if (tui->graphics == GRAPHICS_SIXEL && tui->sx != NULL &&
	    sixel_enc_frame(tui->sx, fr, l->img_row, l->img_col,
	    &tui->img) == 0)
		return;
	tui->img.len = 0;
	blocks_encode(fr, l->img_row, l->img_col, tui->term.truecolor,
	    &tui->img);
}

/*
 * Mark a small change: tile pixels x0..x1-1, y0..y1-1 (the caller pads
 * them by the brush).  The next draw may send only that part.
 */
void
tui_draw_changed_at(struct tui *tui, int x0, int y0, int x1, int y1)
{
	tui->img_stale = tui->img_dirty = 1;
	if (tui->dirty_x0 >= tui->dirty_x1) {
		tui->dirty_x0 = x0;
		tui->dirty_y0 = y0;
		tui->dirty_x1 = x1;
		tui->dirty_y1 = y1;
		return;
	}
	tui->dirty_x0 = x0 < tui->dirty_x0 ? x0 : tui->dirty_x0;
	tui->dirty_y0 = y0 < tui->dirty_y0 ? y0 : tui->dirty_y0;
	tui->dirty_x1 = x1 > tui->dirty_x1 ? x1 : tui->dirty_x1;
	tui->dirty_y1 = y1 > tui->dirty_y1 ? y1 : tui->dirty_y1;
}

/*
 * With sixel, send only the part of the image that a small change touched:
 * the frame is composed again whole (it is cheap), but only the cells over
 * the changed tile pixels, widened by the cursor's crosshair, are encoded
 * and written.  Returns 0 if it did, -1 if the whole image must be sent
 * (a view change, a new layout, the renderer is not sixel).
 */
static int
tui_draw_part(struct tui *tui)
{
	struct tui_layout	*l = &tui->lay;
	struct frame		*fr = &tui->fr, *at = &tui->img_at;
	struct buf		 out;
	int			 cw, ch, x0, y0, x1, y1, m;

	if (tui->graphics != GRAPHICS_SIXEL || tui->sx == NULL ||
	    tui->img_full || tui->dirty_x0 >= tui->dirty_x1 ||
	    tui->img.len == 0)
		return (-1);
	tui_draw_frame(tui);
	if (fr->w != at->w || fr->h != at->h || fr->ox != at->ox ||
	    fr->oy != at->oy || fr->scale != at->scale ||
	    l->img_row != tui->img_at_row || l->img_col != tui->img_at_col ||
	    fr->scale <= 0)
		return (-1);
	/* The crosshair reaches 8 frame pixels past the brush circle. */
	m = 12 + (int)ceilf(fr->scale);
	x0 = (int)floorf((tui->dirty_x0 - fr->ox) * fr->scale) - m;
	y0 = (int)floorf((tui->dirty_y0 - fr->oy) * fr->scale) - m;
	x1 = (int)ceilf((tui->dirty_x1 - fr->ox) * fr->scale) + m;
	y1 = (int)ceilf((tui->dirty_y1 - fr->oy) * fr->scale) + m;
	tui_draw_cell(tui, &cw, &ch);
	memset(&out, 0, sizeof out);
	if (sixel_enc_region(tui->sx, fr, l->img_row, l->img_col, cw, ch, x0,
	    y0, x1, y1, &out) == 0) {
		log_debug(LOG_UI, "part %d,%d-%d,%d: %zu bytes", x0, y0, x1,
		    y1, out.len);
		if (buf_write(&out, STDOUT_FILENO) != 0)
			log_debug(LOG_UI, "image write failed");
	}
	buf_free(&out);
	tui->img_part = 1;
	return (0);
}

/* Write the kept image bytes to the terminal. */
static void
tui_draw_image(struct tui *tui)
{
	struct buf	out;

	memset(&out, 0, sizeof out);
	buf_add(&out, tui->img.p, tui->img.len);
	if (buf_write(&out, STDOUT_FILENO) != 0)
		log_debug(LOG_UI, "image write failed");
	buf_free(&out);
}

/* Draw the screen: curses first, then the image over its area. */
void
tui_draw(struct tui *tui)
{
	erase();
	if (tui->help) {
		tui_draw_help(tui);
	} else {
		tui_draw_panel(tui);
		tui_draw_message(tui);
	}
	if (tui->open)
		tui_draw_status(tui);
	wnoutrefresh(stdscr);
	doupdate();
	tui_draw_swatches(tui);

	if (tui->help || !tui->open || !tui->img_dirty)
		return;
	if (tui->img_stale && tui_draw_part(tui) == 0)
		goto done;
	/* The kept image is older than the screen: make it again. */
	if (tui->img_stale || tui->img_part)
		tui_draw_compose(tui);
	tui_draw_image(tui);
	tui->img_part = 0;
done:
	tui->img_stale = tui->img_dirty = tui->img_full = 0;
	tui->dirty_x0 = tui->dirty_x1 = 0;
}

/* The cell of a mouse report (pixels under SGR-Pixels). */
void
tui_draw_mouse_cell(struct tui *tui, const struct tui_mouse *m, int *col,
    int *row)
{
	int	cw, ch;

	*col = m->x;
	*row = m->y;
	if (tui->pixel_mouse) {
		tui_draw_cell(tui, &cw, &ch);
		*col = m->x / cw;
		*row = m->y / ch;
	}
}

/*
 * The tile pixel under a mouse report: pixels under SGR-Pixels, else the
 * centre of the cell.  With clamp set (a drag), a report off the image
 * gives the nearest pixel on the tile's edge instead of -1.
 */
int
tui_draw_mouse_to_tile(struct tui *tui, const struct tui_mouse *m, int clamp,
    int *x, int *y)
{
	struct tui_layout	*l = &tui->lay;
	struct frame		*fr = &tui->fr;
	struct view		*v = &tui->v;
	int			 cw, ch, fx, fy, tx, ty;

	tui_draw_cell(tui, &cw, &ch);
	if (tui->pixel_mouse) {
		fx = m->x - l->img_col * cw;
		fy = m->y - l->img_row * ch;
	} else {
		fx = (m->x - l->img_col) * cw + cw / 2;
		fy = (m->y - l->img_row) * ch + ch / 2;
	}
	if (!clamp) {
		if (fx < 0 || fy < 0 || fx >= fr->w || fy >= fr->h)
			return (-1);
		return (compose_to_tile(fr, v, fx, fy, x, y));
	}
	if (fr->w <= 0 || fr->h <= 0 || fr->scale <= 0 || v->w <= 0 ||
	    v->h <= 0)
		return (-1);
	fx = fx < 0 ? 0 : fx >= fr->w ? fr->w - 1 : fx;
	fy = fy < 0 ? 0 : fy >= fr->h ? fr->h - 1 : fy;
	tx = fr->ox + (int)(fx / fr->scale);
	ty = fr->oy + (int)(fy / fr->scale);
	*x = tx < 0 ? 0 : tx >= v->w ? v->w - 1 : tx;
	*y = ty < 0 ? 0 : ty >= v->h ? v->h - 1 : ty;
	return (0);
}
