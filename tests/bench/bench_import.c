/*
 * Benchmark of import on the sample scenes (samples/, or the directory
 * given as the first argument, with images/ and masks/ in it): tiles per
 * second of import_file into a fresh project, with and without masks, and
 * where the time goes.  The peer, in the same run, is the plain way to
 * cut tiles: decode each scene with TurboJPEG and encode every tile again
 * at quality 95, storing nothing.  Prints figures; never fails on time.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <turbojpeg.h>

#include "s4lab.h"

#define ROUNDS	5

static char	 dir[] = "/tmp/bench_import.XXXXXX";

struct scene {
	char	*image;
	char	*mask;
};

static void
die(const char *what, const char *cause)
{
	fprintf(stderr, "bench_import: %s: %s\n", what, cause);
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

static double
median(double *t, int n)
{
	qsort(t, n, sizeof *t, cmp_double);
	return (t[n / 2]);
}

/* The JPEG scenes of samples/images with their masks, sorted. */
static int
scenes(const char *top, struct scene **sc)
{
	struct dirent	**de;
	char		 *images, *stem;
	int		  n, i, k = 0;

	xasprintf(&images, "%s/images", top);
	if ((n = scandir(images, &de, NULL, alphasort)) < 0)
		die(images, "cannot read");
	*sc = xcalloc(n, sizeof **sc);
	for (i = 0; i < n; i++) {
		if (image_kind_of_name(de[i]->d_name) == IMAGE_JPEG) {
			stem = xstrdup(de[i]->d_name);
			*strrchr(stem, '.') = '\0';
			xasprintf(&(*sc)[k].image, "%s/%s", images,
			    de[i]->d_name);
			xasprintf(&(*sc)[k].mask, "%s/masks/%s.png", top, stem);
			free(stem);
			k++;
		}
		free(de[i]);
	}
	free(de);
	free(images);
	return (k);
}

/* Import every scene into a new project; returns seconds. */
static double
run_import(const struct scene *sc, int n, const struct classes *cl,
    int masks, int round, struct import_stats *is)
{
	struct import_opts	 io;
	struct store		*st;
	char			*path, *cause = NULL;
	double			 t;
	int			 i;

	xasprintf(&path, "%s/p%d-%d.s4lab", dir, masks, round);
	if ((st = store_open(path, STORE_CREATE|STORE_MUSTNEW,
	    &cause)) == NULL)
		die(path, cause);
	if (store_set_classes(st, cl, &cause) != 0)
		die(path, cause);
	memset(&io, 0, sizeof io);
	io.max_pixels = IMAGE_MAX_PIXELS;
	io.user = "bench";
	memset(is, 0, sizeof *is);
	t = now_seconds();
	for (i = 0; i < n; i++) {
		if (import_file(st, sc[i].image, masks ? sc[i].mask : NULL, cl,
		    &io, is, &cause) != 0)
			die(sc[i].image, cause);
	}
	t = now_seconds() - t;
	store_close(st);
	unlink(path);
	free(path);
	return (t);
}

/* The peer: decode, then encode every tile again; returns seconds. */
static double
run_peer(const struct scene *sc, int n, int ts, int64_t *tiles)
{
	struct image		 img;
	struct image_info	 info;
	struct image_rect	*r;
	unsigned char		*jpeg;
	size_t			 len;
	double			 t;
	int			 i, j, nt;

	*tiles = 0;
	t = now_seconds();
	for (i = 0; i < n; i++) {
		if (image_read(sc[i].image, IMAGE_MAX_PIXELS, &img, &info,
		    NULL) != 0)
			die(sc[i].image, "decode");
		nt = import_grid(img.w, img.h, ts, &r);
		for (j = 0; j < nt; j++) {
			if (image_encode_jpeg(&img, r[j].x, r[j].y, r[j].w,
			    r[j].h, 95, &jpeg, &len, NULL) != 0)
				die(sc[i].image, "encode");
			free(jpeg);
		}
		*tiles += nt;
		free(r);
		image_free(&img);
	}
	return (now_seconds() - t);
}

/* Where the time of one import goes, summed over the scenes. */
static void
phases(const struct scene *sc, int n, const struct classes *cl, int ts)
{
	struct image		 img;
	struct image_info	 info;
	struct image_rect	*r;
	unsigned char		*buf, **outs;
	size_t			 len, *lens;
	uint8_t			*mask;
	double			 t, td = 0, tm = 0, tc = 0;
	int			 i, j, nt, w, h;

	for (i = 0; i < n; i++) {
		buf = read_file(sc[i].image, &len, 0, NULL);
		t = now_seconds();
		image_decode(sc[i].image, buf, len, IMAGE_MAX_PIXELS, &img,
		    &info, NULL);
		td += now_seconds() - t;
		t = now_seconds();
		mask = mask_read(sc[i].mask, cl, IMAGE_MAX_PIXELS, &w, &h,
		    NULL);
		tm += now_seconds() - t;
		nt = import_grid(img.w, img.h, ts, &r);
		outs = xcalloc(nt, sizeof *outs);
		lens = xcalloc(nt, sizeof *lens);
		t = now_seconds();
		if (image_crop_jpeg(sc[i].image, buf, len, r, nt, outs, lens,
		    NULL) != 0)
			die(sc[i].image, "crop");
		tc += now_seconds() - t;
		for (j = 0; j < nt; j++)
			free(outs[j]);
		free(outs);
		free(lens);
		free(r);
		free(mask);
		free(buf);
		image_free(&img);
	}
	printf("  of which, once: decode %.1f ms, masks %.1f ms, lossless "
	    "crops %.1f ms\n", td * 1e3, tm * 1e3, tc * 1e3);
}

int
main(int argc, char **argv)
{
	struct import_stats	 is;
	struct scene		*sc;
	struct classes		 cl;
	const char		*top;
	char			*path, *cause = NULL;
	double			 tm[ROUNDS], tn[ROUNDS], tp[ROUNDS], m, p;
	int64_t			 ptiles = 0;
	int			 n, i;

	top = argc > 1 ? argv[1] : samples_dir();
	if (top == NULL)
		die("samples", "not found; give the directory");
	n = scenes(top, &sc);
	xasprintf(&path, "%s/classes.txt", top);
	if (classes_read(path, &cl, &cause) != 0)
		die(path, cause);
	free(path);
	if (mkdtemp(dir) == NULL)
		die(dir, "mkdtemp");

	/* Alternate the three, so that drift hits them alike. */
	for (i = 0; i < ROUNDS; i++) {
		tm[i] = run_import(sc, n, &cl, 1, i, &is);
		tn[i] = run_import(sc, n, &cl, 0, i, &is);
		tp[i] = run_peer(sc, n, 256, &ptiles);
	}
	printf("import of %d scenes from %s: %jd tiles of 256 (%jd cut "
	    "losslessly), median of %d runs\n", n, top, (intmax_t)is.tiles,
	    (intmax_t)is.lossless, ROUNDS);
	m = median(tm, ROUNDS);
	p = median(tp, ROUNDS);
	printf("  %-40s %7.1f ms %8.0f tiles/s\n", "s4lab import, with masks",
	    m * 1e3, is.tiles / m);
	printf("  %-40s %7.1f ms %8.0f tiles/s\n", "s4lab import, no masks",
	    median(tn, ROUNDS) * 1e3, is.tiles / median(tn, ROUNDS));
	printf("  %-40s %7.1f ms %8.0f tiles/s\n",
	    "peer: decode + re-encode tiles, no store", p * 1e3, ptiles / p);
	printf("  s4lab with masks / peer: %.2fx the peer's rate "
	    "(goal: 300 tiles/s)\n", (is.tiles / m) / (ptiles / p));
	phases(sc, n, &cl, 256);
	rmdir(dir);
	for (i = 0; i < n; i++) {
		free(sc[i].image);
		free(sc[i].mask);
	}
	free(sc);
	return (0);
}
