/*
 * showframe: probe the terminal, compose a tile and draw it at a known
 * cell, for tests that look at a real terminal's screen.
 *
 *	showframe [-bC] [-g auto|sixel|blocks] [-m mask.png] [-o dir]
 *	    [-r row] [-c col] [-s px] [-t seconds] [-u x0,y0,x1,y1]
 *	    [-z zoom] image
 *	showframe -R ref.ppm WxH image [mask.png opacity]
 *	showframe -x shot.ppm ref.ppm x y radius tolerance
 *
 * The first form writes, under -o: probe.txt (what the terminal said and
 * the renderer chosen, and the cell the image was drawn at), ref.ppm (the
 * frame as composed, cut to what is drawn), and last an empty file
 * "ready"; then it waits -t seconds (or until killed) and gives the
 * terminal back.  -b puts the image as low as it may go: its last pixel
 * row in the row above the last, with a line of text on the first row
 * (a screen that scrolled would move both).  -u x0,y0,x1,y1 then paints
 * that rectangle of the frame and redraws only it (sixel_enc_region).
 * -C draws the cursor and
 * brush at the centre; -m overlays a colour-coded mask (grey 155 and
 * black mean not labelled, as in samples/classes.txt).
 *
 * The second form only composes the image (and its mask at that opacity)
 * into a WxH frame, as the TUI does, without a cursor, and writes it to
 * ref.ppm, cut to a multiple of 6 rows as sixel_enc_frame draws it.
 *
 * The third form looks for ref.ppm in shot.ppm within radius pixels of
 * (x, y), prints the best place and the mean absolute error per channel
 * there, and exits 0 if that error is at most tolerance and the place is
 * within 2 pixels of (x, y).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "s4lab.h"
#include "ui.h"
#include "imgio.h"

static volatile sig_atomic_t	showframe_stop;

static void
showframe_signal(int sig)
{
	showframe_stop = 1;
}

/* Colour-coded mask -> class indices; the colours become the classes. */
static uint8_t *
showframe_mask(const char *path, int w, int h, struct classes *cl)
{
	uint8_t	*rgb, *mask, *p;
	char	*cause;
	int	 mw, mh, i, c;

	if ((rgb = imgio_load(path, &mw, &mh, &cause)) == NULL)
		fatalx("%s", cause);
	if (mw != w || mh != h)
		fatalx("%s: %dx%d, the image is %dx%d", path, mw, mh, w, h);
	memset(cl, 0, sizeof *cl);
	mask = xmalloc((size_t)w * h);
	for (i = 0; i < w * h; i++) {
		p = rgb + (size_t)i * 3;
		if ((p[0] == 155 && p[1] == 155 && p[2] == 155) ||
		    (p[0] == 0 && p[1] == 0 && p[2] == 0)) {
			mask[i] = MASK_VOID;
			continue;
		}
		for (c = 0; c < cl->n; c++) {
			if (memcmp(cl->c[c].rgb, p, 3) == 0)
				break;
		}
		if (c == cl->n) {
			if (cl->n == MAX_CLASSES)
				fatalx("%s: too many colours", path);
			memcpy(cl->c[cl->n++].rgb, p, 3);
		}
		mask[i] = (uint8_t)c;
	}
	free(rgb);
	return (mask);
}

static void
showframe_file(const char *dir, const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		fatal("%s", path);
	fputs(text, f);
	fclose(f);
	free(path);
}

static int
showframe_compare(char **argv)
{
	uint8_t	*shot, *ref;
	char	*cause;
	double	 mae, best = -1, tol;
	long	 sum;
	int	 sw, sh, rw, rh, x0, y0, r, dx, dy, x, y, j, bx = 0, by = 0;
	int	 step;

	if ((shot = imgio_read_ppm(argv[0], &sw, &sh, &cause)) == NULL ||
	    (ref = imgio_read_ppm(argv[1], &rw, &rh, &cause)) == NULL)
		fatalx("%s", cause);
	x0 = atoi(argv[2]);
	y0 = atoi(argv[3]);
	r = atoi(argv[4]);
	tol = atof(argv[5]);

	/* Search on every fourth pixel, then measure the best place fully. */
	for (step = 4; step >= 1; step -= 3) {
		for (dy = -r; dy <= r; dy++) {
			for (dx = -r; dx <= r; dx++) {
				if (step == 1 && (dx != bx || dy != by))
					continue;
				if (x0 + dx < 0 || y0 + dy < 0 ||
				    x0 + dx + rw > sw || y0 + dy + rh > sh)
					continue;
				sum = 0;
				for (y = 0; y < rh; y += step) {
					const uint8_t *a = ref + (size_t)y *
					    rw * 3;
					const uint8_t *b = shot + ((size_t)(y0 +
					    dy + y) * sw + x0 + dx) * 3;

					for (x = 0; x < rw * 3; x += 3 * step)
						for (j = 0; j < 3; j++)
							sum += abs(a[x + j] -
							    b[x + j]);
				}
				mae = (double)sum * step * step /
				    ((double)rw * rh * 3);
				if (step == 1 || best < 0 || mae < best) {
					best = mae;
					bx = dx;
					by = dy;
				}
			}
		}
		if (best < 0)
			fatalx("%s: %dx%d cannot hold %dx%d at %d,%d", argv[0],
			    sw, sh, rw, rh, x0, y0);
	}
	printf("found at %d,%d (expected %d,%d): mean abs error %.2f, "
	    "tolerance %.2f\n", x0 + bx, y0 + by, x0, y0, best, tol);
	free(shot);
	free(ref);
	return (best <= tol && abs(bx) <= 2 && abs(by) <= 2 ? 0 : 1);
}

/*
 * -u x0,y0,x1,y1: paint that rectangle of the frame magenta and redraw only
 * it with sixel_enc_region; ref-region.ppm is the frame around it (8
 * pixels more each side, so a misplaced redraw shows), and its place in
 * the image goes to region.txt.
 */
static void
showframe_update(struct sixel_enc *se, struct frame *fr,
    const struct term *term, int row, int col, const char *spec,
    const char *dir, struct buf *out)
{
	struct frame	 sub;
	char		*path, *text, *cause;
	int		 x0, y0, x1, y1, m = 8, y;

	if (sscanf(spec, "%d,%d,%d,%d", &x0, &y0, &x1, &y1) != 4 ||
	    x0 < m || y0 < m || x1 + m > fr->w || y1 + m > fr->h ||
	    x0 >= x1 || y0 >= y1)
		fatalx("-u %s: not a rectangle inside the frame", spec);
	for (y = y0; y < y1; y++) {
		uint8_t	*p = fr->rgb + ((size_t)y * fr->w + x0) * 3;
		int	 x;

		for (x = x0; x < x1; x++, p += 3) {
			p[0] = p[2] = 255;
			p[1] = 0;
		}
	}
	usleep(300000);		/* the whole image first, for a while */
	if (sixel_enc_region(se, fr, row, col, term->cell_w, term->cell_h,
	    x0, y0, x1, y1, out) != 0)
		fatalx("sixel_enc_region failed");

	sub.w = x1 - x0 + 2 * m;
	sub.h = y1 - y0 + 2 * m;
	sub.rgb = xmalloc((size_t)sub.w * sub.h * 3);
	for (y = 0; y < sub.h; y++) {
		memcpy(sub.rgb + (size_t)y * sub.w * 3, fr->rgb +
		    ((size_t)(y0 - m + y) * fr->w + x0 - m) * 3,
		    (size_t)sub.w * 3);
	}
	xasprintf(&path, "%s/ref-region.ppm", dir);
	if (imgio_write_ppm(path, sub.rgb, sub.w, sub.h, &cause) != 0)
		fatalx("%s", cause);
	free(path);
	free(sub.rgb);
	xasprintf(&text, "%d %d\n", x0 - m, y0 - m);
	showframe_file(dir, "region.txt", text);
	free(text);
}

/* Put the tty in raw mode; the old settings go in *old. */
static int
showframe_raw(struct termios *old)
{
	struct termios	tio;
	int		fd;

	if ((fd = open("/dev/tty", O_RDWR)) == -1)
		fatal("/dev/tty");
	if (tcgetattr(fd, old) != 0)
		fatal("tcgetattr");
	tio = *old;
	cfmakeraw(&tio);
	if (tcsetattr(fd, TCSANOW, &tio) != 0)
		fatal("tcsetattr");
	return (fd);
}

static int
showframe_ref(int argc, char **argv)
{
	struct view	 v;
	struct frame	 fr = { 0 };
	struct classes	 cl;
	char		*cause;
	uint8_t		*rgb, *mask = NULL;
	int		 w, h;

	if (sscanf(argv[1], "%dx%d", &fr.w, &fr.h) != 2 || fr.w <= 0 ||
	    fr.h <= 0 || fr.w > 8192 || fr.h > 8192)
		fatalx("%s: not a size", argv[1]);
	if ((rgb = imgio_load(argv[2], &w, &h, &cause)) == NULL)
		fatalx("%s", cause);
	memset(&v, 0, sizeof v);
	memset(&cl, 0, sizeof cl);
	v.rgb = rgb;
	v.w = w;
	v.h = h;
	v.cur_x = v.cur_y = -1;
	v.cl = &cl;
	if (argc == 5) {
		mask = showframe_mask(argv[3], w, h, &cl);
		v.mask = mask;
		v.show = SHOW_LABEL;
		v.opacity = (float)atof(argv[4]);
	}
	compose(&v, &fr);
	fr.h -= fr.h % 6;
	if (imgio_write_ppm(argv[0], fr.rgb, fr.w, fr.h, &cause) != 0)
		fatalx("%s", cause);
	frame_free(&fr);
	free(rgb);
	free(mask);
	return (0);
}

int
main(int argc, char **argv)
{
	struct termios	 old;
	struct term	 term;
	struct classes	 cl;
	struct view	 v;
	struct frame	 fr = { 0 };
	struct buf	 out = { 0 };
	struct sixel_enc *se;
	const char	*dir = ".", *maskpath = NULL, *g = "auto";
	const char	*update = NULL;
	char		*cause, *text, *path;
	uint8_t		*rgb, *mask = NULL;
	int		 ch, fd, w, h, row = 1, col = 2, size = 0, secs = 30;
	int		 zoom = 0, cursor = 0, bottom = 0, graphics, mode, i;

	if (argc == 8 && strcmp(argv[1], "-x") == 0)
		return (showframe_compare(argv + 2));
	if ((argc == 5 || argc == 7) && strcmp(argv[1], "-R") == 0)
		return (showframe_ref(argc - 2, argv + 2));
	while ((ch = getopt(argc, argv, "bCc:g:m:o:r:s:t:u:z:")) != -1) {
		switch (ch) {
		case 'u': update = optarg; break;
		case 'b': bottom = 1; break;
		case 'C': cursor = 1; break;
		case 'c': col = atoi(optarg); break;
		case 'g': g = optarg; break;
		case 'm': maskpath = optarg; break;
		case 'o': dir = optarg; break;
		case 'r': row = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		case 't': secs = atoi(optarg); break;
		case 'z': zoom = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: showframe [-C] [-g auto|sixel|"
			    "blocks] [-m mask] [-o dir] [-r row] [-c col] "
			    "[-s px] [-t secs] [-z zoom] image\n");
			return (2);
		}
	}
	if (optind != argc - 1)
		return (2);
	graphics = strcmp(g, "sixel") == 0 ? GRAPHICS_SIXEL :
	    strcmp(g, "blocks") == 0 ? GRAPHICS_BLOCKS : GRAPHICS_AUTO;
	if ((rgb = imgio_load(argv[optind], &w, &h, &cause)) == NULL)
		fatalx("%s", cause);
	memset(&cl, 0, sizeof cl);
	if (maskpath != NULL)
		mask = showframe_mask(maskpath, w, h, &cl);
	signal(SIGTERM, showframe_signal);
	signal(SIGHUP, showframe_signal);

	/* Probe. */
	fd = showframe_raw(&old);
	if (term_probe(&term, fd, &cause) != 0)
		fatalx("%s", cause);
	mode = term_choose(&term, graphics);

	/* Compose. */
	memset(&v, 0, sizeof v);
	v.rgb = rgb;
	v.w = w;
	v.h = h;
	v.mask = mask;
	v.cl = &cl;
	v.show = mask != NULL ? SHOW_LABEL : 0;
	v.opacity = 0.45f;
	v.zoom = zoom;
	v.cur_x = cursor ? w / 2 : -1;
	v.cur_y = cursor ? h / 2 : -1;
	v.brush = 8;
	if (mode == GRAPHICS_SIXEL) {
		fr.w = size > 0 ? size : w;
		fr.h = size > 0 ? size : h;
	} else {
		fr.w = term.cols - col > 0 ? term.cols - col : 1;
		fr.h = 2 * (term.rows - row - 1 > 0 ? term.rows - row - 1 : 1);
		if (fr.w > fr.h)
			fr.w = fr.h;
	}
	compose(&v, &fr);
	if (bottom && mode == GRAPHICS_SIXEL && term.cell_h > 0) {
		row = term.rows - 1 - ((fr.h - fr.h % 6) + term.cell_h - 1) /
		    term.cell_h;
	}
	xasprintf(&text, "rows=%d cols=%d cell=%dx%d sixel=%d truecolor=%d "
	    "tmux=%d pixel_mouse=%d renderer=%s at=%d,%d\n", term.rows,
	    term.cols, term.cell_w, term.cell_h, term.sixel, term.truecolor,
	    term.in_tmux, term.pixel_mouse,
	    mode == GRAPHICS_SIXEL ? "sixel" : "blocks", row, col);
	showframe_file(dir, "probe.txt", text);
	free(text);

	/* Draw. */
	buf_printf(&out, "\033[?25l\033[H\033[2J");
	if (bottom)
		buf_printf(&out, "top line: the screen did not scroll");
	if (mode == GRAPHICS_SIXEL) {
		se = sixel_enc_new();
		if (sixel_enc_frame(se, &fr, row, col, &out) != 0)
			fatalx("sixel_enc_frame failed");
		if (buf_write(&out, fd) != 0)
			fatal("write");
		if (update != NULL)
			showframe_update(se, &fr, &term, row, col, update, dir,
			    &out);
		sixel_enc_free(se);
	} else
		blocks_encode(&fr, row, col, term.truecolor, &out);
	if (buf_write(&out, fd) != 0)
		fatal("write");
	tcdrain(fd);

	/* What was drawn, and then the sign that it is there. */
	xasprintf(&path, "%s/ref.ppm", dir);
	if (mode == GRAPHICS_SIXEL)
		fr.h -= fr.h % 6;
	if (imgio_write_ppm(path, fr.rgb, fr.w, fr.h, &cause) != 0)
		fatalx("%s", cause);
	free(path);
	showframe_file(dir, "ready", "");

	for (i = 0; i < secs * 10 && !showframe_stop; i++)
		usleep(100000);
	buf_printf(&out, "\033[?25h\033[0m\033[H\033[2J");
	buf_write(&out, fd);
	tcsetattr(fd, TCSANOW, &old);
	buf_free(&out);
	frame_free(&fr);
	free(rgb);
	free(mask);
	return (0);
}
