/*
 * What the terminal can do.
 *
 * Facts come from three places, cheapest first: the environment ($TMUX,
 * $COLORTERM), the kernel (TIOCGWINSZ: rows, columns and, on many
 * terminals, the window size in pixels), and queries answered on the tty.
 * The queries all go out in one write, DA1 last: every terminal answers
 * DA1 and answers in order, so once its reply is in, any query still
 * unanswered never will be.  The wait for DA1 is only a guard against
 * something that is not a terminal at all.
 *
 * Replies may come mixed with keys the user typed, split across reads, or
 * cut short; the parsers below scan for a well-formed control sequence of
 * the kind wanted and ignore everything else.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui.h"

/* How long to wait for DA1 at most, in milliseconds. */
#define TERM_DA1_TIMEOUT	2000
/* Replies longer than this are junk: keep the first part. */
#define TERM_REPLY_MAX		4096
#define TERM_MAX_PARAMS		32

/* One control sequence found by term_scan. */
struct term_csi {
	char	 prefix;	/* '?', '>', ... or '\0' */
	int	 params[TERM_MAX_PARAMS];
	int	 nparams;
	char	 inter;		/* an intermediate byte ('$'), or '\0' */
	char	 final;
};

/*
 * Parse a CSI sequence at p (just after ESC [).  Returns the bytes used
 * after the introducer, 0 if the sequence is cut short, -1 if it is not a
 * well-formed sequence.
 */
static int
term_scan_one(const char *p, size_t len, struct term_csi *csi)
{
	size_t	 i = 0;
	int	 v = -1;
	unsigned char	 ch;

	memset(csi, 0, sizeof *csi);
	if (i < len && p[i] != '\0' && strchr("?><=", p[i]) != NULL)
		csi->prefix = p[i++];
	for (; i < len; i++) {
		ch = (unsigned char)p[i];
		if (ch >= '0' && ch <= '9') {
			if (v < 0)
				v = 0;
			if (v < 100000)
				v = v * 10 + (ch - '0');
			continue;
		}
		if (ch == ';' || ch == ':') {
			if (csi->nparams < TERM_MAX_PARAMS)
				csi->params[csi->nparams++] = v < 0 ? 0 : v;
			v = -1;
			continue;
		}
		if (ch >= 0x20 && ch <= 0x2f) {
			if (csi->inter != '\0')
				return (-1);
			csi->inter = (char)ch;
			continue;
		}
		if (ch >= 0x40 && ch <= 0x7e) {
			if (v >= 0 && csi->nparams < TERM_MAX_PARAMS)
				csi->params[csi->nparams++] = v;
			csi->final = (char)ch;
			return ((int)i + 1);
		}
		return (-1);
	}
	return (0);
}

/*
 * Find the next complete CSI sequence in buf, from *off on, with this
 * prefix and final byte.  Returns 0, fills csi and moves *off past the
 * sequence; -1 if there is none.
 */
static int
term_scan(const char *buf, size_t len, size_t *off, char prefix, char final,
    struct term_csi *csi)
{
	size_t	 i;
	int	 n;

	for (i = *off; i + 1 < len; i++) {
		if (buf[i] != '\033' || buf[i + 1] != '[')
			continue;
		n = term_scan_one(buf + i + 2, len - i - 2, csi);
		if (n <= 0)
			continue;
		if (csi->prefix == prefix && csi->final == final) {
			*off = i + 2 + (size_t)n;
			return (0);
		}
		i += 1 + (size_t)n;
	}
	return (-1);
}

/*
 * Parse a DA1 reply, CSI ? Pc ; Ps ... c.  The first parameter is the
 * terminal's class; sixel support is 4 among the others.  Returns 0 and
 * sets *sixel, or -1 if buf holds no complete DA1 reply.
 */
int
term_parse_da1(const char *buf, size_t len, int *sixel)
{
	struct term_csi	 csi;
	size_t		 off = 0;
	int		 i;

	while (term_scan(buf, len, &off, '?', 'c', &csi) == 0) {
		if (csi.nparams == 0 || csi.inter != '\0')
			continue;
		*sixel = 0;
		for (i = 1; i < csi.nparams; i++) {
			if (csi.params[i] == 4)
				*sixel = 1;
		}
		return (0);
	}
	return (-1);
}

/* Find CSI kind ; a ; b t with a and b positive. */
static int
term_parse_t(const char *buf, size_t len, int kind, int *a, int *b)
{
	struct term_csi	 csi;
	size_t		 off = 0;

	while (term_scan(buf, len, &off, '\0', 't', &csi) == 0) {
		if (csi.nparams == 3 && csi.params[0] == kind &&
		    csi.params[1] > 0 && csi.params[2] > 0 &&
		    csi.inter == '\0') {
			*a = csi.params[1];
			*b = csi.params[2];
			return (0);
		}
	}
	return (-1);
}

/* Parse the reply to CSI 16 t, CSI 6 ; height ; width t. */
int
term_parse_cellsize(const char *buf, size_t len, int *w, int *h)
{
	return (term_parse_t(buf, len, 6, h, w));
}

/* Parse the reply to CSI 14 t, CSI 4 ; height ; width t (text area). */
int
term_parse_textsize(const char *buf, size_t len, int *w, int *h)
{
	return (term_parse_t(buf, len, 4, h, w));
}

/*
 * Parse the reply to DECRQM for a private mode, CSI ? mode ; state $ y.
 * State 0 means the mode is unknown, 1 or 3 set, 2 or 4 reset.
 */
int
term_parse_decrqm(const char *buf, size_t len, int mode, int *state)
{
	struct term_csi	 csi;
	size_t		 off = 0;

	while (term_scan(buf, len, &off, '?', 'y', &csi) == 0) {
		if (csi.inter == '$' && csi.nparams == 2 &&
		    csi.params[0] == mode) {
			*state = csi.params[1];
			return (0);
		}
	}
	return (-1);
}

/*
 * Facts from the environment.  $TMUX is set inside tmux, but not across
 * ssh from inside it, where TERM still says tmux or screen (GNU screen
 * passes no sixel either).  24-bit colour: $COLORTERM, or a TERM of the
 * -direct kind.
 */
static void
term_probe_env(struct term *term)
{
	const char	*s, *t;
	size_t		 len;

	s = getenv("TMUX");
	t = getenv("TERM");
	term->in_tmux = (s != NULL && *s != '\0') || (t != NULL &&
	    (strncmp(t, "tmux", 4) == 0 || strncmp(t, "screen", 6) == 0));
	s = getenv("COLORTERM");
	term->truecolor = (s != NULL &&
	    (strcmp(s, "truecolor") == 0 || strcmp(s, "24bit") == 0));
	if (t != NULL && (len = strlen(t)) > 7 &&
	    strcmp(t + len - 7, "-direct") == 0)
		term->truecolor = 1;
}

/* Read from fd until a DA1 reply is in reply or the timeout passes. */
static size_t
term_read_replies(int fd, char *reply, size_t size)
{
	struct pollfd	 pfd;
	double		 end;
	size_t		 len = 0;
	ssize_t		 n;
	int		 left, sixel;

	end = now_seconds() + TERM_DA1_TIMEOUT / 1000.0;
	while (len < size) {
		left = (int)((end - now_seconds()) * 1000.0);
		if (left <= 0)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		n = read(fd, reply + len, size - len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (term_parse_da1(reply, len, &sixel) == 0)
			break;
	}
	return (len);
}

/*
 * Probe the terminal on fd (a tty in raw mode).  Returns -1 only if fd is
 * not a terminal at all; a terminal that answers nothing is taken to
 * support nothing.
 */
int
term_probe(struct term *term, int fd, char **cause)
{
	struct winsize	 ws;
	struct buf	 q = { 0 };
	char		 reply[TERM_REPLY_MAX];
	size_t		 len;
	int		 w, h, state, ask_pixels;

	memset(term, 0, sizeof *term);
	term_probe_env(term);
	if (ioctl(fd, TIOCGWINSZ, &ws) == -1)
		return (set_cause(cause, "terminal size: %s", strerror(errno)));
	term->rows = ws.ws_row > 0 ? ws.ws_row : 24;
	term->cols = ws.ws_col > 0 ? ws.ws_col : 80;
	if (ws.ws_xpixel > 0 && ws.ws_ypixel > 0 && ws.ws_col > 0 &&
	    ws.ws_row > 0) {
		term->cell_w = ws.ws_xpixel / ws.ws_col;
		term->cell_h = ws.ws_ypixel / ws.ws_row;
	}
	ask_pixels = (term->cell_w == 0 || term->cell_h == 0);

	/* Cell size, text area size, SGR-Pixels mouse, then DA1. */
	if (ask_pixels)
		buf_printf(&q, "\033[16t\033[14t");
	buf_printf(&q, "\033[?1016$p\033[c");
	if (buf_write(&q, fd) != 0) {
		buf_free(&q);
		return (set_cause(cause, "terminal query: %s",
		    strerror(errno)));
	}
	buf_free(&q);
	len = term_read_replies(fd, reply, sizeof reply);
	log_debug(LOG_UI, "%zu reply bytes", len);

	if (term_parse_da1(reply, len, &term->sixel) != 0)
		term->sixel = 0;
	if (ask_pixels) {
		if (term_parse_cellsize(reply, len, &w, &h) == 0) {
			term->cell_w = w;
			term->cell_h = h;
		} else if (term_parse_textsize(reply, len, &w, &h) == 0) {
			term->cell_w = w / term->cols;
			term->cell_h = h / term->rows;
		}
	}
	/* A cell of more than 500 pixels is a wrong reply, not a cell. */
	if (term->cell_w > 500 || term->cell_h > 500)
		term->cell_w = term->cell_h = 0;
	if (term_parse_decrqm(reply, len, 1016, &state) == 0)
		term->pixel_mouse = (state >= 1 && state <= 4);
	log_debug(LOG_UI, "%dx%d cells of %dx%d px, sixel %d, truecolor %d, "
	    "tmux %d, pixel mouse %d", term->cols, term->rows, term->cell_w,
	    term->cell_h, term->sixel, term->truecolor, term->in_tmux,
	    term->pixel_mouse);
	return (0);
}

/*
 * Choose the renderer for a GRAPHICS_* request.  Auto picks sixel only
 * where DA1 announced it, the cell size in pixels is known (the image must
 * be fitted to cells), and tmux is not in between (tmux 3.3 drops sixel).
 */
int
term_choose(const struct term *term, int graphics)
{
	if (graphics == GRAPHICS_SIXEL || graphics == GRAPHICS_BLOCKS)
		return (graphics);
	if (term->sixel && !term->in_tmux && term->cell_w > 0 &&
	    term->cell_h > 0)
		return (GRAPHICS_SIXEL);
	return (GRAPHICS_BLOCKS);
}

/* Read a --graphics argument: GRAPHICS_*, or -1 if it names none. */
int
term_graphics_mode(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return (GRAPHICS_AUTO);
	if (strcmp(s, "sixel") == 0)
		return (GRAPHICS_SIXEL);
	if (strcmp(s, "blocks") == 0)
		return (GRAPHICS_BLOCKS);
	return (-1);
}
