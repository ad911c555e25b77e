/*
 * Frame time: compose, sixel and half-block encoding of real aerial tiles,
 * and the same image through img2sixel and chafa in the same run.
 *
 *	bench_frame TILE256 TILE512	in-process figures (median of runs)
 *	bench_frame --once FILE		decode, compose, sixel to stdout (the
 *					whole-process figure set beside peers)
 *	bench_frame --peers FILE...	whole processes, alternating, medians
 *					and ratios
 *
 * Prints figures; never fails on time.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <sixel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s4lab.h"
#include "ui.h"
#include "imgio.h"

#define BENCH_RUNS	15
#define BENCH_ROUNDS	7

static int
bench_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static double
bench_median(double *v, int n)
{
	qsort(v, n, sizeof *v, bench_cmp);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

/* A synthetic label over the left half: 32-pixel squares of each class. */
static uint8_t *
bench_mask(int w, int h, int n)
{
	uint8_t	*mask;
	int	 x, y;

	mask = xmalloc((size_t)w * h);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			mask[(size_t)y * w + x] = x < w / 2 ?
			    (uint8_t)((x / 32 + y / 32) % n) : MASK_VOID;
		}
	}
	return (mask);
}

static void
bench_classes(struct classes *cl)
{
	static const uint8_t c[5][3] = {
		{ 80, 227, 194 }, { 245, 166, 35 }, { 222, 89, 127 },
		{ 208, 2, 27 }, { 65, 117, 5 }
	};
	int	i;

	memset(cl, 0, sizeof *cl);
	cl->n = 5;
	for (i = 0; i < cl->n; i++)
		memcpy(cl->c[i].rgb, c[i], 3);
}

/* One row of the in-process table. */
static void
bench_view(const char *name, const uint8_t *rgb, int w, int h, int size)
{
	struct classes	 cl;
	struct view	 v;
	struct frame	 fr = { 0 };
	struct buf	 out = { 0 };
	struct sixel_enc *se;
	double		 tc[BENCH_RUNS], tm[BENCH_RUNS], ts[BENCH_RUNS];
	double		 tb[BENCH_RUNS], tr[BENCH_RUNS], t0;
	size_t		 sbytes = 0, bbytes = 0, rbytes = 0;
	uint8_t		*mask;
	int		 i;

	bench_classes(&cl);
	mask = bench_mask(w, h, cl.n);
	memset(&v, 0, sizeof v);
	v.rgb = rgb;
	v.w = w;
	v.h = h;
	v.mask = mask;
	v.cl = &cl;
	v.opacity = 0.45f;
	v.cur_x = v.cur_y = -1;
	fr.w = fr.h = size;
	se = sixel_enc_new();
	for (i = 0; i < BENCH_RUNS; i++) {
		v.show = SHOW_LABEL;
		v.cur_x = v.cur_y = w / 3;
		v.brush = 6;
		t0 = now_seconds();
		compose(&v, &fr);
		tm[i] = (now_seconds() - t0) * 1e3;

		v.show = 0;
		v.cur_x = v.cur_y = -1;
		t0 = now_seconds();
		compose(&v, &fr);
		tc[i] = (now_seconds() - t0) * 1e3;

		out.len = 0;
		t0 = now_seconds();
		if (sixel_enc_frame(se, &fr, 0, 0, &out) != 0)
			fatalx("sixel_enc_frame failed");
		ts[i] = (now_seconds() - t0) * 1e3;
		sbytes = out.len;

		/* A stroke's worth: 40x40 pixels, cells of 10x20. */
		out.len = 0;
		t0 = now_seconds();
		sixel_enc_region(se, &fr, 0, 0, 10, 20, size / 3, size / 3,
		    size / 3 + 40, size / 3 + 40, &out);
		tr[i] = (now_seconds() - t0) * 1e3;
		rbytes = out.len;

		out.len = 0;
		t0 = now_seconds();
		blocks_encode(&fr, 0, 0, 1, &out);
		tb[i] = (now_seconds() - t0) * 1e3;
		bbytes = out.len;
	}
	printf("%-20s %4d %7.3f %7.3f %7.2f %7zu %6.2f %6zu %6.2f %7zu\n",
	    name, size, bench_median(tc, BENCH_RUNS),
	    bench_median(tm, BENCH_RUNS), bench_median(ts, BENCH_RUNS),
	    sbytes, bench_median(tr, BENCH_RUNS), rbytes,
	    bench_median(tb, BENCH_RUNS), bbytes);
	sixel_enc_free(se);
	buf_free(&out);
	frame_free(&fr);
	free(mask);
}

static void
bench_inprocess(int argc, char **argv)
{
	uint8_t	*rgb;
	char	*cause;
	int	 i, w, h;

	printf("%-20s %4s %7s %7s %7s %7s %6s %6s %6s %7s\n", "tile", "view",
	    "compose", "+mask", "sixel", "bytes", "region", "bytes",
	    "blocks", "bytes");
	printf("%-20s %4s %7s %7s %7s %7s %6s %6s %6s %7s\n", "", "px", "ms",
	    "ms", "ms", "", "ms", "", "ms", "");
	for (i = 0; i < argc; i++) {
		if ((rgb = imgio_load(argv[i], &w, &h, &cause)) == NULL)
			fatalx("%s", cause);
		bench_view(strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 :
		    argv[i], rgb, w, h, w);
		if (w < 512)
			bench_view("  same, fit to", rgb, w, h, 512);
		free(rgb);
	}
	printf("(compose: tile only; +mask: half labelled, cursor and brush;"
	    "\n region: sixel of a 40x40 change, cells of 10x20;"
	    "\n blocks: 24-bit, one cell column per pixel; medians of %d)\n",
	    BENCH_RUNS);
}

/* The whole pipeline once, to stdout: sixel, or blocks cols wide. */
static int
bench_once(const char *path, int cols)
{
	struct view	 v;
	struct frame	 fr = { 0 };
	struct buf	 out = { 0 };
	struct sixel_enc *se;
	uint8_t		*rgb;
	char		*cause;
	int		 w, h;

	if ((rgb = imgio_load(path, &w, &h, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return (1);
	}
	memset(&v, 0, sizeof v);
	v.rgb = rgb;
	v.w = w;
	v.h = h;
	v.cur_x = v.cur_y = -1;
	fr.w = w;
	fr.h = h;
	if (cols > 0) {
		fr.w = cols;
		fr.h = cols * h / w;
	}
	compose(&v, &fr);
	se = sixel_enc_new();
	if (cols > 0)
		blocks_encode(&fr, 0, 0, 1, &out);
	else if (sixel_enc_frame(se, &fr, 0, 0, &out) != 0)
		return (1);
	if (buf_write(&out, 1) != 0)
		return (1);
	sixel_enc_free(se);
	buf_free(&out);
	frame_free(&fr);
	free(rgb);
	return (0);
}

/*
 * Decode the sixel image in out and return its mean absolute error per
 * channel against rgb (w x h), over the part both cover; -1 if none.
 */
static double
bench_quality(const struct buf *out, const uint8_t *rgb, int w, int h)
{
	unsigned char	*px = NULL, *pal = NULL, *dcs;
	double		 sum = 0;
	int		 dw, dh, n, x, y, j, cw, ch;

	dcs = memmem(out->p, out->len, "\033P", 2);
	if (dcs == NULL || sixel_decode_raw(dcs, (int)(out->p + out->len -
	    (char *)dcs), &px, &dw, &dh, &pal, &n, NULL) != SIXEL_OK)
		return (-1);
	cw = dw < w ? dw : w;
	ch = dh < h ? dh : h;
	for (y = 0; y < ch; y++) {
		for (x = 0; x < cw; x++) {
			for (j = 0; j < 3; j++) {
				sum += abs(pal[px[y * dw + x] * 3 + j] -
				    rgb[((size_t)y * w + x) * 3 + j]);
			}
		}
	}
	free(px);
	free(pal);
	return (cw > 0 && ch > 0 ? sum / ((double)cw * ch * 3) : -1);
}

/* Run argv with stdout into out; return ms. */
static double
bench_spawn(char **argv, struct buf *out)
{
	char	 b[65536];
	double	 t0;
	ssize_t	 n;
	pid_t	 pid;
	int	 fd[2], status, null;

	if (pipe(fd) != 0)
		fatal("pipe");
	t0 = now_seconds();
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		null = open("/dev/null", O_WRONLY);
		dup2(fd[1], 1);
		dup2(null, 2);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	out->len = 0;
	while ((n = read(fd[0], b, sizeof b)) > 0)
		buf_add(out, b, (size_t)n);
	close(fd[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return (-1);
	return ((now_seconds() - t0) * 1e3);
}

/* Whole processes, alternating, for one image. */
static void
bench_peers_one(const char *self, const char *path)
{
	char		 sixsize[32], symsize[32], cols[32];
	char		*cmds[5][12] = {
		{ (char *)self, (char *)"--once", (char *)path, NULL },
		{ (char *)self, (char *)"--once-blocks", cols, (char *)path,
		  NULL },
		{ (char *)"img2sixel", (char *)path, NULL },
		{ (char *)"chafa", (char *)"-f", (char *)"sixels",
		  (char *)"--threads", (char *)"2", (char *)"--font-ratio",
		  (char *)"1/1", (char *)"-s", sixsize, (char *)path, NULL },
		{ (char *)"chafa", (char *)"-f", (char *)"symbols",
		  (char *)"--symbols", (char *)"vhalf", (char *)"-c",
		  (char *)"full", (char *)"-s", symsize, (char *)path, NULL },
	};
	const char	*names[5] = { "s4lab sixel", "s4lab blocks",
	    "img2sixel", "chafa -f sixels", "chafa -f symbols" };
	/* Whom each is measured against. */
	const int	 base[5] = { -1, -1, 0, 0, 1 };
	double		 t[5][BENCH_ROUNDS], med[5], mae[5];
	size_t		 bytes[5];
	struct buf	 out = { 0 };
	char		*cause;
	uint8_t		*rgb;
	int		 w, h, r, k, ok[5] = { 1, 1, 1, 1, 1 };

	if ((rgb = imgio_load(path, &w, &h, &cause)) == NULL)
		fatalx("%s", cause);
	/* With no terminal to ask, chafa takes cells of 8x8 pixels when
	 * told a font ratio of 1: this gives the image's own size. */
	snprintf(sixsize, sizeof sixsize, "%dx%d", w / 8, h / 8);
	snprintf(symsize, sizeof symsize, "%dx%d", w / 4, h / 8);
	snprintf(cols, sizeof cols, "%d", w / 4);

	for (r = 0; r < BENCH_ROUNDS; r++) {
		for (k = 0; k < 5; k++) {
			t[k][r] = bench_spawn(cmds[k], &out);
			if (t[k][r] < 0)
				ok[k] = 0;
			bytes[k] = out.len;
			if (r == 0)
				mae[k] = bench_quality(&out, rgb, w, h);
		}
	}
	buf_free(&out);
	free(rgb);
	printf("%s (%dx%d), whole processes, median of %d alternating "
	    "rounds:\n", path, w, h, BENCH_ROUNDS);
	for (k = 0; k < 5; k++) {
		if (!ok[k]) {
			printf("  %-18s not available\n", names[k]);
			continue;
		}
		med[k] = bench_median(t[k], BENCH_ROUNDS);
		printf("  %-18s %7.2f ms %7zu bytes", names[k], med[k],
		    bytes[k]);
		if (mae[k] >= 0)
			printf(" error %4.2f", mae[k]);
		else
			printf("           ");
		if (base[k] >= 0 && ok[base[k]])
			printf("  %5.2fx %s", med[k] / med[base[k]],
			    names[base[k]]);
		printf("\n");
	}
	printf("  (blocks and symbols: %s cells of half blocks, 24-bit;\n"
	    "  error: mean absolute per channel of the decoded sixel image)\n",
	    symsize);
}

int
main(int argc, char **argv)
{
	int	i;

	if (argc == 3 && strcmp(argv[1], "--once") == 0)
		return (bench_once(argv[2], 0));
	if (argc == 4 && strcmp(argv[1], "--once-blocks") == 0)
		return (bench_once(argv[3], atoi(argv[2])));
	if (argc >= 3 && strcmp(argv[1], "--peers") == 0) {
		for (i = 2; i < argc; i++)
			bench_peers_one(argv[0], argv[i]);
		return (0);
	}
	if (argc < 2) {
		fprintf(stderr, "usage: bench_frame TILE...\n"
		    "       bench_frame --once FILE\n"
		    "       bench_frame --peers FILE...\n");
		return (2);
	}
	bench_inprocess(argc - 1, argv + 1);
	return (0);
}
