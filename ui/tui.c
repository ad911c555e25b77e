/*
 * s4lab label: the TUI's set-up, teardown and event loop.
 *
 * Curses owns the text (side panel, message and status lines); the image is
 * written around it, after doupdate(), by tui-draw.c.  Everything the
 * expert changes is saved at once: a stroke when the pen lifts, a fill, an
 * undo, a redo or an accepted prediction each become one store_label_apply,
 * so killing the process loses at most the stroke in progress.  Only the
 * pixels the expert changed are written, onto the label as it is stored
 * then, so that two experts on one tile never lose each other's work.
 *
 * The terminal is given back on every way out: a normal quit, fatal()
 * (through fatal_set_hook) and the signals that end a process.  The signal
 * handler only writes the saved reset strings and restores the saved
 * termios, which are async-signal-safe, instead of calling endwin(), which
 * is not and may be the very function that was interrupted.
 */
#include <sys/types.h>

#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tui-int.h"

#define TUI_CTRL(c)	((c) & 0x1f)
#define RESET_MAX	256

#define MOUSE_ON	"\033[?1002h\033[?1006h"
#define MOUSE_OFF	"\033[?1016l\033[?1006l\033[?1002l\033[?1000l"
#define PIXELS_ON	"\033[?1016h"

/* What the signal handler needs, set up before curses starts. */
static volatile sig_atomic_t	 tui_active;
static struct termios		 tui_termios;
static char			 tui_reset[RESET_MAX];
static size_t			 tui_reset_len;

static const int tui_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	SIGABRT
};

static void	tui_pen_up(struct tui *);

/* Append a terminfo string (if the terminal has it) to the reset bytes. */
static void
tui_reset_add(const char *s)
{
	size_t	len;

	if (s == NULL || s == (char *)-1)
		return;
	len = strlen(s);
	if (tui_reset_len + len < sizeof tui_reset) {
		memcpy(tui_reset + tui_reset_len, s, len);
		tui_reset_len += len;
	}
}

/* Give the terminal back: idempotent; also fatal()'s hook. */
static void
tui_restore(void)
{
	if (!tui_active)
		return;
	tui_active = 0;
	if (write(STDOUT_FILENO, MOUSE_OFF, strlen(MOUSE_OFF)) < 0) {
		/* Nothing more can be done about the terminal. */
	}
	/*
	 * Blank the alternate screen before leaving it: a terminal resized
	 * meanwhile (tmux) may carry some of its rows over into the normal
	 * screen, which would then show the tile above the prompt.
	 */
	attrset(A_NORMAL);
	clear();
	refresh();
	endwin();
}

/* A signal that ends the process: reset the terminal, then die of it. */
static void
tui_signal(int sig)
{
	int	saved = errno;

	if (tui_active) {
		tui_active = 0;
		if (write(STDOUT_FILENO, tui_reset, tui_reset_len) < 0)
			saved = errno;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tui_termios);
	}
	signal(sig, SIG_DFL);
	errno = saved;
	raise(sig);
}

/* Put the terminal in raw mode for a moment and ask what it can do. */
static void
tui_probe(struct tui *tui)
{
	struct termios	 raw;
	char		*cause = NULL;

	memset(&tui->term, 0, sizeof tui->term);
	if (tcgetattr(STDIN_FILENO, &tui_termios) != 0)
		fatal("tcgetattr");
	raw = tui_termios;
	cfmakeraw(&raw);
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	if (term_probe(&tui->term, STDIN_FILENO, &cause) != 0) {
		log_debug(LOG_UI, "probe: %s", cause);
		free(cause);
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &tui_termios);
	tui->graphics = term_choose(&tui->term, tui->opt->graphics);
	tui->pixel_mouse = tui->graphics == GRAPHICS_SIXEL &&
	    tui->term.pixel_mouse && tui->term.cell_w > 0 &&
	    tui->term.cell_h > 0;
}

/* Start curses, the mouse and the handlers that undo them. */
static void
tui_start(struct tui *tui)
{
	struct sigaction	 sa;
	size_t			 i;

	/* Wide characters for borders and blocks; numbers stay in C. */
	setlocale(LC_CTYPE, "");
	initscr();
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	/* Mouse reports are parsed here (keys.c), pixels included. */
	keyok(KEY_MOUSE, FALSE);
	set_escdelay(25);
	curs_set(0);
	timeout(1000);
	tui_draw_colours(tui);

	tui_reset_len = 0;
	tui_reset_add(MOUSE_OFF);
	tui_reset_add(tigetstr("sgr0"));
	tui_reset_add(tigetstr("cnorm"));
	tui_reset_add(tigetstr("rmkx"));
	tui_reset_add(tigetstr("clear"));	/* see tui_restore */
	tui_reset_add(tigetstr("rmcup"));
	tui_reset_add("\r\n");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tui_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof tui_signals / sizeof tui_signals[0]; i++)
		sigaction(tui_signals[i], &sa, NULL);
	fatal_set_hook(tui_restore);
	tui_active = 1;

	printf("%s%s", MOUSE_ON, tui->pixel_mouse ? PIXELS_ON : "");
	fflush(stdout);
}

/* Stop curses and put the signals back as they were. */
static void
tui_stop(struct tui *tui)
{
	size_t	i;

	tui_restore();
	fatal_set_hook(NULL);
	for (i = 0; i < sizeof tui_signals / sizeof tui_signals[0]; i++)
		signal(tui_signals[i], SIG_DFL);
}

/* Say something on the message line; error messages show in red. */
void
tui_message(struct tui *tui, int error, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	free(tui->msg);
	tui->msg = clean_text(s);
	tui->msg_error = error;
	tui->msg_time = now_seconds();
	free(s);
	log_debug(LOG_UI, "%s", tui->msg);
}

/* Show a cause from src/ as an error and free it. */
static void
tui_cause(struct tui *tui, const char *what, char *cause)
{
	tui_message(tui, 1, "%s: %s", what, cause != NULL ? cause : "failed");
	free(cause);
}

/* The image must be composed again (the view changed). */
static void
tui_changed(struct tui *tui)
{
	tui->img_stale = 1;
	tui->img_dirty = 1;
	tui->img_full = 1;
}

/*
 * Only what is around the cursor changed, from where it was (x, y) to
 * where it is: the brush's paint between them, the outline of what it
 * painted and the cursor itself.
 */
static void
tui_changed_cursor(struct tui *tui, int x, int y)
{
	struct view	*v = &tui->v;
	int		 pad = v->brush + 2;

	tui_draw_changed_at(tui, (x < v->cur_x ? x : v->cur_x) - pad,
	    (y < v->cur_y ? y : v->cur_y) - pad,
	    (x > v->cur_x ? x : v->cur_x) + pad + 1,
	    (y > v->cur_y ? y : v->cur_y) + pad + 1);
}

/* Load the class table and clean the names for display. */
static int
tui_load_classes(struct tui *tui, char **cause)
{
	int	i;

	if (store_get_classes(tui->st, &tui->cl, cause) != 0)
		return (-1);
	if (tui->cl.n == 0)
		return (set_cause(cause, "%s: the project has no classes",
		    store_path(tui->st)));
	for (i = 0; i < tui->cl.n; i++)
		tui->names[i] = clean_text(tui->cl.c[i].name);
	return (0);
}

/*
 * Read the queue in the current order, with each tile's state, score and
 * rank (rank.c mixes scenes when their scores are close).  Keeps the open
 * tile's place in it when it is there (qi = nq otherwise).
 */
static int
tui_load_queue(struct tui *tui, char **cause)
{
	struct rank_entry	*e;
	size_t			 n, i;

	if (rank_queue(tui->st, tui->order, &e, &n, cause) != 0)
		return (-1);
	free(tui->q);
	tui->q = xcalloc(n == 0 ? 1 : n, sizeof *tui->q);
	tui->nq = n;
	tui->qi = n;
	for (i = 0; i < n; i++) {
		tui->q[i].id = e[i].tile_id;
		tui->q[i].known = 1;
		tui->q[i].state = e[i].state;
		tui->q[i].score = e[i].score;
		tui->q[i].rank = e[i].rank;
		if (tui->open && e[i].tile_id == tui->t.id)
			tui->qi = i;
	}
	free(e);
	return (0);
}

/* Forget the panel's states: they are read again as they show. */
static void
tui_queue_forget(struct tui *tui)
{
	size_t	i;

	for (i = 0; i < tui->nq; i++)
		tui->q[i].known = 0;
}

/*
 * Decode the tile into rgb (w x h); an image of another size than the
 * tile's is refused (rgb stays grey).
 */
static int
tui_decode(struct tui *tui, char **cause)
{
	struct tile		*t = &tui->t;
	struct image		 img;
	struct image_info	 info;
	char			 name[64];
	int			 y, cw;

	memset(tui->rgb, 96, (size_t)t->w * t->h * 3);
	snprintf(name, sizeof name, "tile %lld", (long long)t->id);
	if (image_decode(name, t->jpeg, t->jpeg_len, (uint64_t)1 << 28, &img,
	    &info, cause) != 0)
		return (-1);
	/* The label is the tile's size: a different image would not line up
	 * with it (the copy below stays within both all the same). */
	if (img.w != t->w || img.h != t->h) {
		set_cause(cause, "tile %lld: the image is %dx%d, the tile "
		    "%dx%d", (long long)t->id, img.w, img.h, t->w, t->h);
		image_free(&img);
		return (-1);
	}
	cw = img.w < t->w ? img.w : t->w;
	for (y = 0; y < t->h && y < img.h; y++)
		memcpy(tui->rgb + (size_t)y * t->w * 3,
		    img.rgb + (size_t)y * img.w * 3, (size_t)cw * 3);
	image_free(&img);
	return (0);
}

/* Drop the open tile. */
static void
tui_close_tile(struct tui *tui)
{
	if (!tui->open)
		return;
	tile_free(&tui->t);
	free(tui->source);
	free(tui->author);
	free(tui->rgb);
	free(tui->mask);
	free(tui->snap);
	free(tui->base);
	free(tui->pred);
	tui->source = tui->author = NULL;
	tui->rgb = tui->mask = tui->snap = tui->base = tui->pred = NULL;
	tools_undo_clear(tui->undo);
	tui->open = 0;
}

/* Point the view at the open tile's buffers. */
static void
tui_view_tile(struct tui *tui)
{
	struct view	*v = &tui->v;

	v->rgb = tui->rgb;
	v->w = tui->t.w;
	v->h = tui->t.h;
	v->mask = tui->mask;
	v->pred = tui->pred;
	v->cl = &tui->cl;
	if (v->cur_x >= v->w)
		v->cur_x = v->w - 1;
	if (v->cur_y >= v->h)
		v->cur_y = v->h - 1;
	v->pan_x = v->pan_y = 0;
	tools_count(tui->mask, v->w, v->h, tui->counts);
	tui_changed(tui);
}

/*
 * Open a tile: its bytes, its label as it is in the project now (another
 * expert may have changed it) and its prediction.  The tile open before
 * stays open if this one cannot be read.  A label that cannot be read
 * (corrupt) shows as none, with the error on the message line, and the
 * tile is read-only: nothing is ever written over it from here.
 */
static int
tui_open_tile(struct tui *tui, int64_t id, char **cause)
{
	struct tile	 t;
	uint8_t		*mask;
	char		*dcause = NULL, *lcause = NULL;
	const char	*base;
	size_t		 n, i;

	memset(&t, 0, sizeof t);
	if (store_tile_get(tui->st, id, &t, cause) != 0)
		return (-1);
	if (t.w <= 0 || t.h <= 0 || t.w > 16384 || t.h > 16384) {
		set_cause(cause, "tile %lld: bad size %dx%d", (long long)id,
		    t.w, t.h);
		tile_free(&t);
		return (-1);
	}
	n = (size_t)t.w * t.h;
	mask = xmalloc(n);
	if (store_label_get(tui->st, id, mask, n, &lcause) < 0)
		memset(mask, MASK_VOID, n);

	tui_close_tile(tui);
	tui->t = t;
	tui->open = 1;
	/* What the message line said was about the tile before. */
	free(tui->msg);
	tui->msg = NULL;
	tui->broken = lcause != NULL;
	if (lcause != NULL)
		tui_message(tui, 1, "read-only, the label cannot be read: %s",
		    lcause);
	free(lcause);
	tui->mask = mask;
	tui->snap = xmalloc(n);
	tui->base = xmalloc(n);
	memcpy(tui->base, mask, n);
	tui->rgb = xmalloc(n * 3);
	if (tui_decode(tui, &dcause) != 0)
		tui_cause(tui, "decode", dcause);
	tui->pred = xmalloc(n);
	if (tui_model_pred(tui, tui->pred) != 1) {
		free(tui->pred);
		tui->pred = NULL;
	}
	base = t.source_path != NULL ? t.source_path : "";
	if (strrchr(base, '/') != NULL)
		base = strrchr(base, '/') + 1;
	tui->source = clean_text(base);
	tui->author = clean_text(t.author != NULL ? t.author : "");

	/* Find it in the queue; read the panel's states again. */
	tui->qi = tui->nq;
	tui_queue_forget(tui);
	for (i = 0; i < tui->nq; i++) {
		if (tui->q[i].id == id) {
			tui->qi = i;
			break;
		}
	}
	tui_view_tile(tui);
	log_debug(LOG_UI, "tile %lld %dx%d revision %d", (long long)id, t.w,
	    t.h, t.revision);
	return (0);
}

/* Open the tile at place i of the queue; a message if there is none. */
static void
tui_open_index(struct tui *tui, size_t i)
{
	char	*cause = NULL;

	if (i >= tui->nq) {
		tui_message(tui, 0, "end of the queue (%zu tiles)", tui->nq);
		return;
	}
	if (tui_open_tile(tui, tui->q[i].id, &cause) != 0)
		tui_cause(tui, "open", cause);
}

/*
 * Save what changed since the label was last stored (base -> mask) as a
 * new revision, applied onto the label as it is in the project now; the
 * merged label (with other experts' changes) becomes the view.  With
 * record set, the change from snap to mask is recorded for undo first;
 * partial says the change is on the screen already (a stroke).
 */
static void
tui_save(struct tui *tui, const char *what, int record, int partial)
{
	struct tile	*t = &tui->t;
	char		*cause = NULL;
	size_t		 n = (size_t)t->w * t->h;
	double		 start;
	int		 rev;

	if (record && !tools_undo_push(tui->undo, tui->snap, tui->mask, t->w,
	    t->h))
		return;
	/* Strokes are on the screen already; a fill, an undo are not. */
	if (!partial)
		tui_changed(tui);
	start = now_seconds();
	if (store_label_apply(tui->st, t->id, tui->base, tui->mask, n,
	    tui->user, what, &rev, tui->base, &cause) != 0) {
		tools_count(tui->mask, t->w, t->h, tui->counts);
		tui->unsaved = 1;
		tui_cause(tui, "not saved", cause);
		return;
	}
	/* Another expert's changes came with it: show them. */
	if (memcmp(tui->mask, tui->base, n) != 0) {
		memcpy(tui->mask, tui->base, n);
		tui_changed(tui);
	}
	tools_count(tui->mask, t->w, t->h, tui->counts);
	log_debug(LOG_UI, "tile %lld: %s saved in %.3f ms", (long long)t->id,
	    what, (now_seconds() - start) * 1e3);
	tui->unsaved = 0;
	t->revision = rev;
	free(tui->author);
	tui->author = clean_text(tui->user);
	tui_message(tui, 0, "%s saved (revision %d)", what, t->revision);
}

/* 1 if the open tile can be painted; else says why not. */
static int
tui_paintable(struct tui *tui)
{
	if (!tui->open)
		return (0);
	if (tui->broken) {
		tui_message(tui, 1, "tile %lld: its label cannot be read; "
		    "painting is off on this tile", (long long)tui->t.id);
		return (0);
	}
	return (1);
}

/* The value the tools paint. */
static uint8_t
tui_ink(struct tui *tui)
{
	return (tui->eraser ? MASK_VOID : (uint8_t)tui->cls);
}

/* Put the pen down at the cursor: the stroke starts with one dab. */
static void
tui_pen_down(struct tui *tui)
{
	struct view	*v = &tui->v;

	if (tui->pen || !tui_paintable(tui))
		return;
	memcpy(tui->snap, tui->mask, (size_t)v->w * v->h);
	tui->pen = 1;
	tui->pen_x = v->cur_x;
	tui->pen_y = v->cur_y;
	tools_stamp(tui->mask, v->w, v->h, v->cur_x, v->cur_y, v->brush,
	    tui_ink(tui));
	tui_changed_cursor(tui, v->cur_x, v->cur_y);
}

/* With the pen down, paint from where it was to the cursor. */
static void
tui_pen_move(struct tui *tui)
{
	struct view	*v = &tui->v;

	if (!tui->pen)
		return;
	tools_line(tui->mask, v->w, v->h, tui->pen_x, tui->pen_y, v->cur_x,
	    v->cur_y, v->brush, tui_ink(tui));
	tui->pen_x = v->cur_x;
	tui->pen_y = v->cur_y;
}

/* Lift the pen: the stroke is complete and is saved. */
static void
tui_pen_up(struct tui *tui)
{
	if (!tui->pen)
		return;
	tui->pen = 0;
	tui_save(tui, tui->eraser ? "erase" : "stroke", 1, 1);
}

/* Move the cursor by (dx, dy), inside the tile; paints if the pen is down. */
static void
tui_move(struct tui *tui, int dx, int dy)
{
	struct view	*v = &tui->v;
	int		 x = v->cur_x, y = v->cur_y;

	if (!tui->open)
		return;
	v->cur_x += dx;
	v->cur_y += dy;
	if (v->cur_x < 0)
		v->cur_x = 0;
	if (v->cur_x >= v->w)
		v->cur_x = v->w - 1;
	if (v->cur_y < 0)
		v->cur_y = 0;
	if (v->cur_y >= v->h)
		v->cur_y = v->h - 1;
	tui_pen_move(tui);
	tui_changed_cursor(tui, x, y);
}

/* Fill the region under the cursor. */
static void
tui_fill(struct tui *tui)
{
	struct view	*v = &tui->v;
	size_t		 n;

	if (!tui_paintable(tui))
		return;
	memcpy(tui->snap, tui->mask, (size_t)v->w * v->h);
	n = tools_fill(tui->mask, v->w, v->h, v->cur_x, v->cur_y,
	    tui_ink(tui));
	if (n == 0) {
		tui_message(tui, 0, "fill: the region is already %s",
		    tui->eraser ? "not labelled" :
		    tui_draw_class_name(tui, tui->cls));
		return;
	}
	tui_save(tui, "fill", 1, 0);
}

/* Undo or redo one change and save the result. */
static void
tui_undo(struct tui *tui, int redo)
{
	struct view	*v = &tui->v;
	int		 done;

	if (!tui_paintable(tui))
		return;
	if (redo)
		done = tools_redo(tui->undo, tui->mask, v->w, v->h);
	else
		done = tools_undo(tui->undo, tui->mask, v->w, v->h);
	if (!done) {
		tui_message(tui, 0, "nothing to %s", redo ? "redo" : "undo");
		return;
	}
	tui_save(tui, redo ? "redo" : "undo", 0, 0);
}

/* Take the prediction as the label; the expert then corrects it. */
static void
tui_accept(struct tui *tui)
{
	struct view	*v = &tui->v;

	if (!tui_paintable(tui))
		return;
	if (tui->pred == NULL && tui->pred_broken) {
		tui_message(tui, 1, "the prediction of tile %lld is "
		    "unreadable (t queues a retrain)", (long long)tui->t.id);
		return;
	}
	if (tui->pred == NULL) {
		tui_message(tui, 1, "no prediction for this tile yet "
		    "(t queues a retrain)");
		return;
	}
	memcpy(tui->snap, tui->mask, (size_t)v->w * v->h);
	memcpy(tui->mask, tui->pred, (size_t)v->w * v->h);
	if (memcmp(tui->snap, tui->mask, (size_t)v->w * v->h) == 0) {
		tui_message(tui, 0, "the label already is the prediction");
		return;
	}
	tui->show |= SHOW_LABEL;
	tui_save(tui, "accept", 1, 0);
}

/* Set the open tile's state, then go to the next tile in the queue. */
static void
tui_set_state(struct tui *tui, int state)
{
	char	*cause = NULL;
	int64_t	 id;

	if (!tui->open)
		return;
	if (store_tile_set_state(tui->st, tui->t.id, state, tui->user,
	    &cause) != 0) {
		tui_cause(tui, "state", cause);
		return;
	}
	tui->t.state = state;
	if (tui->qi < tui->nq) {
		tui->q[tui->qi].state = state;
		tui->q[tui->qi].known = 1;
	}
	id = tui->t.id;
	if (tui->qi + 1 < tui->nq) {
		tui_open_index(tui, tui->qi + 1);
		/* Unless opening the next one had something to say. */
		if (tui->msg == NULL)
			tui_message(tui, 0, "tile %lld %s", (long long)id,
			    state == TILE_DONE ? "done" : "skipped");
	} else
		tui_message(tui, 0, "tile %lld %s; that was the last of the "
		    "queue", (long long)id,
		    state == TILE_DONE ? "done" : "skipped");
}

/* Read a line on the message row; 0 if cancelled. */
static int
tui_prompt(struct tui *tui, const char *prompt, char *line, size_t size)
{
	size_t	len = 0;
	int	ch;

	line[0] = '\0';
	timeout(-1);
	curs_set(1);
	for (;;) {
		move(tui->lay.msg_row, 0);
		clrtoeol();
		addnstr(prompt, tui->lay.cols - 1);
		addnstr(line, tui->lay.cols - 1 - (int)strlen(prompt));
		refresh();
		ch = getch();
		if (ch == '\r' || ch == '\n' || ch == KEY_ENTER)
			break;
		if (ch == 27 || ch == TUI_CTRL('c') || ch == TUI_CTRL('g')) {
			len = 0;
			line[0] = '\0';
			break;
		}
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len > 0)
			line[--len] = '\0';
		else if (ch >= ' ' && ch < 127 && len + 1 < size) {
			line[len++] = ch;
			line[len] = '\0';
		} else if (ch == KEY_RESIZE)
			tui_draw_layout(tui);
	}
	curs_set(0);
	timeout(1000);
	tui->img_dirty = 1;
	return (len > 0);
}

/* Ask for a tile id and open it. */
static void
tui_goto(struct tui *tui)
{
	char		 line[32], *end, *cause = NULL;
	long long	 id;

	if (!tui_prompt(tui, "go to tile id: ", line, sizeof line))
		return;
	errno = 0;
	id = strtoll(line, &end, 10);
	if (*end != '\0' || errno != 0 || id <= 0) {
		tui_message(tui, 1, "not a tile id: %s", line);
		return;
	}
	if (tui_open_tile(tui, id, &cause) != 0)
		tui_cause(tui, "go to", cause);
}

/* Switch the queue order and read the queue again. */
static void
tui_order(struct tui *tui)
{
	static const int	 next[] = {
		[ORDER_DISAGREEMENT] = ORDER_ENTROPY,
		[ORDER_ENTROPY] = ORDER_RANDOM,
		[ORDER_RANDOM] = ORDER_ID,
		[ORDER_ID] = ORDER_DISAGREEMENT,
	};
	char			*cause = NULL;

	tui->order = next[tui->order];
	if (tui_load_queue(tui, &cause) != 0)
		tui_cause(tui, "queue", cause);
	else
		tui_message(tui, 0, "queue order: %s",
		    tui_draw_order_name(tui->order));
}

/*
 * Choose a class by a key: a class's own key, else (with digits set) a
 * digit as the index of a class that has no key of its own, as the panel
 * shows them (tui_draw_class_key).
 */
static int
tui_class_key(struct tui *tui, int ch, int digits)
{
	int	i;

	for (i = 0; i < tui->cl.n; i++) {
		if (tui->cl.c[i].key != '\0' && tui->cl.c[i].key == ch)
			break;
	}
	if (i == tui->cl.n) {
		if (!digits || ch < '0' || ch > '9')
			return (0);
		i = ch - '0';
		if (i >= tui->cl.n || tui_draw_class_key(tui, i) != ch) {
			tui_message(tui, 1, "no class has the key %c", ch);
			return (1);
		}
	}
	tui->cls = i;
	tui->eraser = 0;
	tui_message(tui, 0, "class %s", tui_draw_class_name(tui, i));
	return (1);
}

/* Choose the class delta places further, wrapping. */
static void
tui_class_step(struct tui *tui, int delta)
{
	tui->cls = (tui->cls + delta + tui->cl.n) % tui->cl.n;
	tui->eraser = 0;
	tui_message(tui, 0, "class %s", tui_draw_class_name(tui, tui->cls));
}

/* Make the brush bigger or smaller. */
static void
tui_brush(struct tui *tui, int delta)
{
	struct view	*v = &tui->v;

	v->brush += delta;
	if (v->brush < 0)
		v->brush = 0;
	if (v->brush > BRUSH_MAX)
		v->brush = BRUSH_MAX;
	tui_message(tui, 0, "brush %d", v->brush);
	tui_changed(tui);
}

/* Actions that leave a stroke in progress open. */
static int
tui_keeps_pen(enum tui_action a)
{
	switch (a) {
	case ACT_LEFT:
	case ACT_RIGHT:
	case ACT_UP:
	case ACT_DOWN:
	case ACT_LEFT_FAR:
	case ACT_RIGHT_FAR:
	case ACT_UP_FAR:
	case ACT_DOWN_FAR:
	case ACT_BRUSH_DOWN:
	case ACT_BRUSH_UP:
	case ACT_OVERLAY:
	case ACT_OPACITY_UP:
	case ACT_OPACITY_DOWN:
	case ACT_ZOOM:
	case ACT_SHOW:
	case ACT_REDRAW:
	case ACT_PEN:
		return (1);
	default:
		return (0);
	}
}

/* Show the label, the prediction or both. */
static void
tui_show(struct tui *tui)
{
	static const char	*names[] = {
		"", "label", "prediction", "both"
	};

	if (tui->show == (SHOW_LABEL | SHOW_PRED))
		tui->show = SHOW_LABEL;
	else if (tui->show == SHOW_LABEL)
		tui->show = SHOW_PRED;
	else
		tui->show = SHOW_LABEL | SHOW_PRED;
	tui->overlay = 1;
	tui_message(tui, 0, "showing %s%s", names[tui->show],
	    tui->pred == NULL && (tui->show & SHOW_PRED) ?
	    " (this tile has no prediction yet)" : "");
	tui_changed(tui);
}

/* Queue a retrain. */
static void
tui_retrain(struct tui *tui)
{
	char	*cause = NULL;

	if (tui_model_retrain(tui, &cause) != 0)
		tui_cause(tui, "retrain", cause);
}

/* Do what a key is bound to. */
static void
tui_act(struct tui *tui, const struct key_binding *kb, int ch)
{
	struct view	*v = &tui->v;

	if (!tui_keeps_pen(kb->action))
		tui_pen_up(tui);
	switch (kb->action) {
	case ACT_NONE:
		break;
	case ACT_LEFT:
		tui_move(tui, -STEP_NEAR, 0);
		break;
	case ACT_RIGHT:
		tui_move(tui, STEP_NEAR, 0);
		break;
	case ACT_UP:
		tui_move(tui, 0, -STEP_NEAR);
		break;
	case ACT_DOWN:
		tui_move(tui, 0, STEP_NEAR);
		break;
	case ACT_LEFT_FAR:
		tui_move(tui, -STEP_FAR, 0);
		break;
	case ACT_RIGHT_FAR:
		tui_move(tui, STEP_FAR, 0);
		break;
	case ACT_UP_FAR:
		tui_move(tui, 0, -STEP_FAR);
		break;
	case ACT_DOWN_FAR:
		tui_move(tui, 0, STEP_FAR);
		break;
	case ACT_CLASS:
		tui_class_key(tui, ch, 1);
		break;
	case ACT_CLASS_NEXT:
		tui_class_step(tui, 1);
		break;
	case ACT_CLASS_PREV:
		tui_class_step(tui, -1);
		break;
	case ACT_ERASER:
		tui->eraser = !tui->eraser;
		tui_message(tui, 0, "eraser %s", tui->eraser ? "on" : "off");
		break;
	case ACT_BRUSH_DOWN:
		tui_brush(tui, -1);
		break;
	case ACT_BRUSH_UP:
		tui_brush(tui, 1);
		break;
	case ACT_PEN:
		if (tui->pen)
			tui_pen_up(tui);
		else
			tui_pen_down(tui);
		break;
	case ACT_DAB:
		tui_pen_down(tui);
		tui_pen_up(tui);
		break;
	case ACT_FILL:
		tui_fill(tui);
		break;
	case ACT_UNDO:
		tui_undo(tui, 0);
		break;
	case ACT_REDO:
		tui_undo(tui, 1);
		break;
	case ACT_OVERLAY:
		tui->overlay = !tui->overlay;
		tui_message(tui, 0, "mask %s", tui->overlay ? "shown" :
		    "hidden");
		tui_changed(tui);
		break;
	case ACT_OPACITY_UP:
	case ACT_OPACITY_DOWN:
		v->opacity += kb->action == ACT_OPACITY_UP ? 0.125f : -0.125f;
		v->opacity = v->opacity < 0 ? 0 : v->opacity > 1 ? 1 :
		    v->opacity;
		tui->overlay = 1;
		tui_message(tui, 0, "opacity %d%%", (int)lrintf(v->opacity *
		    100));
		tui_changed(tui);
		break;
	case ACT_ZOOM:
		v->zoom = v->zoom == 0 ? 2 : v->zoom == 2 ? 4 : 0;
		tui_message(tui, 0, "zoom %s", v->zoom == 0 ? "to fit" :
		    v->zoom == 2 ? "2x" : "4x");
		tui_draw_layout(tui);
		tui_changed(tui);
		break;
	case ACT_DONE:
		tui_set_state(tui, TILE_DONE);
		break;
	case ACT_SKIP:
		tui_set_state(tui, TILE_SKIPPED);
		break;
	case ACT_NEXT:
		tui_open_index(tui, tui->qi < tui->nq ? tui->qi + 1 : 0);
		break;
	case ACT_PREV:
		if (tui->qi == 0 || tui->nq == 0)
			tui_message(tui, 0, "start of the queue");
		else
			tui_open_index(tui, tui->qi < tui->nq ? tui->qi - 1 :
			    0);
		break;
	case ACT_GOTO:
		tui_goto(tui);
		break;
	case ACT_SHOW:
		tui_show(tui);
		break;
	case ACT_ACCEPT:
		tui_accept(tui);
		break;
	case ACT_RETRAIN:
		tui_retrain(tui);
		break;
	case ACT_ORDER:
		tui_order(tui);
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		tui->img_dirty = 1;
		break;
	case ACT_HELP:
		/* Curses would leave the image where it thinks are blanks. */
		clearok(curscr, TRUE);
		tui->help = 1;
		break;
	case ACT_QUIT:
		tui->quit = 1;
		break;
	}
}

/* A key: its binding, else a class's own key. */
static void
tui_key(struct tui *tui, int ch)
{
	const struct key_binding	*kb;

	if ((kb = keys_find(ch)) != NULL) {
		tui_act(tui, kb, ch);
		return;
	}
	if (ch > 0 && ch < 256 && tui_class_key(tui, ch, 0)) {
		tui_pen_up(tui);
		return;
	}
	tui_message(tui, 0, "no such key; ? lists the keys");
}

/*
 * A click on the side panel: a class (or the eraser) is chosen, a tile of
 * the queue opened.  Returns 1 if the click was on the panel.
 */
static int
tui_mouse_panel(struct tui *tui, const struct tui_mouse *m)
{
	struct tui_layout	*l = &tui->lay;
	int			 col, row;
	size_t			 i;

	tui_draw_mouse_cell(tui, m, &col, &row);
	if (l->panel_w == 0 || col < l->panel_col || row >= l->area_rows)
		return (0);
	tui_pen_up(tui);
	if (m->button != 0 || m->motion || m->release)
		return (1);
	if (row >= l->class_row && row < l->class_row + l->class_rows) {
		if (row - l->class_row < tui->cl.n) {
			tui->cls = row - l->class_row;
			tui->eraser = 0;
			tui_message(tui, 0, "class %s",
			    tui_draw_class_name(tui, tui->cls));
		} else {
			tui->eraser = 1;
			tui_message(tui, 0, "eraser on");
		}
	} else if (row >= l->queue_row && row < l->queue_row + l->queue_rows) {
		i = l->queue_first + (row - l->queue_row);
		if (i < tui->nq)
			tui_open_index(tui, i);
	}
	return (1);
}

/*
 * The mouse: on the tile the left button paints and the wheel sizes the
 * brush; on the panel a click chooses a class or opens a tile.
 */
static void
tui_mouse(struct tui *tui, const struct tui_mouse *m)
{
	struct view	*v = &tui->v;
	int		 x, y, ox = v->cur_x, oy = v->cur_y;

	if (m->button == 64 || m->button == 65) {
		tui_brush(tui, m->button == 64 ? 1 : -1);
		return;
	}
	/* A drag goes on to the image's edge, even over the panel. */
	if (tui->pen && (m->motion || m->release) &&
	    tui_draw_mouse_to_tile(tui, m, 1, &x, &y) == 0) {
		v->cur_x = x;
		v->cur_y = y;
		tui_pen_move(tui);
		if (m->release)
			tui_pen_up(tui);
		tui_changed_cursor(tui, ox, oy);
		return;
	}
	if (tui_mouse_panel(tui, m))
		return;
	if (!tui->open || tui_draw_mouse_to_tile(tui, m, 0, &x, &y) != 0) {
		if (m->release)
			tui_pen_up(tui);
		return;
	}
	v->cur_x = x;
	v->cur_y = y;
	if (m->release) {
		tui_pen_move(tui);
		tui_pen_up(tui);
	} else if (m->button == 0 && !m->motion)
		tui_pen_down(tui);
	else if (m->button == 0)
		tui_pen_move(tui);
	tui_changed_cursor(tui, ox, oy);
}

/*
 * After ESC: an SGR mouse report ("[<b;x;yM") is read and handled; any
 * other sequence is dropped.
 */
static void
tui_escape(struct tui *tui)
{
	struct tui_mouse	m;
	char			buf[32];
	size_t			len = 0;
	int			ch, r;

	timeout(50);
	ch = getch();
	if (ch != '[') {
		if (ch != ERR)
			ungetch(ch);
		timeout(1000);
		return;
	}
	while (len < sizeof buf) {
		if ((ch = getch()) == ERR || ch > 255)
			break;
		buf[len++] = ch;
		r = keys_parse_mouse(buf, len, &m);
		if (r > 0) {
			if (tui->help)
				tui->help = 0;
			else
				tui_mouse(tui, &m);
			break;
		}
		if (r < 0)
			break;
	}
	timeout(1000);
}

/* Look at the model's side about once a second. */
static void
tui_poll(struct tui *tui, double *last)
{
	int	flags;
	char	*cause = NULL;

	if (now_seconds() - *last < 1)
		return;
	*last = now_seconds();
	flags = tui_model_poll(tui);
	if (flags & MODEL_NEW) {
		tui_message(tui, 0, "model %lld is in: predictions and queue "
		    "updated", (long long)tui->model_id);
		if (tui_load_queue(tui, &cause) != 0)
			tui_cause(tui, "queue", cause);
		if (tui->open && !tui->pen) {
			if (tui->pred == NULL)
				tui->pred = xmalloc((size_t)tui->v.w *
				    tui->v.h);
			if (tui_model_pred(tui, tui->pred) != 1) {
				free(tui->pred);
				tui->pred = NULL;
			}
			tui->v.pred = tui->pred;
			tui_changed(tui);
		}
	}
}

/* Read keys and mouse until quit. */
static void
tui_loop(struct tui *tui)
{
	double	last = 0;
	int	ch, pages;

	while (!tui->quit) {
		tui_poll(tui, &last);
		tui_draw(tui);
		ch = getch();
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			tui_draw_layout(tui);
			clearok(curscr, TRUE);
			tui_changed(tui);
			continue;
		}
		if (tui->help) {
			pages = tui_draw_help_pages(tui);
			if (ch == 27)
				tui_escape(tui);
			if (ch != 27 && tui->help < pages && ch != 'q')
				tui->help++;
			else {
				tui->help = 0;
				tui->img_dirty = 1;
			}
			continue;
		}
		if (ch == 27)
			tui_escape(tui);
		else
			tui_key(tui, ch);
	}
	tui_pen_up(tui);
}

/* Free everything the TUI holds. */
static void
tui_free(struct tui *tui)
{
	int	i;

	tui_close_tile(tui);
	tools_undo_free(tui->undo);
	for (i = 0; i < tui->cl.n; i++)
		free(tui->names[i]);
	free(tui->q);
	free(tui->msg);
	tui_model_free(tui);
	frame_free(&tui->fr);
	buf_free(&tui->img);
	if (tui->sx != NULL)
		sixel_enc_free(tui->sx);
	if (tui->st != NULL)
		store_close(tui->st);
}

/*
 * Run s4lab label: open the project, then paint until the expert quits.
 * Returns -1 with a cause if the project cannot be opened or the last
 * change could not be saved.
 */
int
tui_run(const struct tui_options *opt, char **cause)
{
	struct tui	 tui;
	int64_t		 first;
	int		 rc = -1;

	memset(&tui, 0, sizeof tui);
	tui.opt = opt;
	tui.user = user_name(opt->user);
	tui.undo = tools_undo_new(0);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		set_cause(cause, "label needs a terminal");
		goto out;
	}
	if ((tui.st = store_open(opt->path, 0, cause)) == NULL)
		goto out;
	if (tui_load_classes(&tui, cause) != 0)
		goto out;
	tui.order = ORDER_DISAGREEMENT;
	if (tui_load_queue(&tui, cause) != 0)
		goto out;
	first = opt->start_tile != 0 ? opt->start_tile :
	    tui.nq > 0 ? tui.q[0].id : 0;
	if (first == 0) {
		set_cause(cause, "%s: no tiles yet (s4lab import adds some)",
		    opt->path);
		goto out;
	}
	if (tui_open_tile(&tui, first, cause) != 0)
		goto out;
	tui.v.cur_x = tui.v.w / 2;
	tui.v.cur_y = tui.v.h / 2;
	tui.v.brush = 2;
	tui.v.opacity = 0.5f;
	tui.overlay = 1;
	tui.show = SHOW_LABEL | SHOW_PRED;
	tui.cls = tui.cl.n > 1 ? 1 : 0;

	tui_probe(&tui);
	if (tui.graphics == GRAPHICS_SIXEL)
		tui.sx = sixel_enc_new();
	tui_model_init(&tui);
	tui_start(&tui);
	tui_draw_layout(&tui);
	if (tui.msg == NULL)
		tui_message(&tui, 0, "%zu tile%s in the queue; ? lists the "
		    "keys", tui.nq, tui.nq == 1 ? "" : "s");
	tui_loop(&tui);
	tui_stop(&tui);

	if (tui.unsaved)
		set_cause(cause, "tile %lld: the last change was not saved",
		    (long long)tui.t.id);
	else
		rc = 0;
out:
	tui_free(&tui);
	return (rc);
}
