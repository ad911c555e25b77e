/* Unit tests for import.c: tiling, finding files and masks, storing. */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <png.h>
#include <sqlite3.h>

#include "s4lab.h"

#define CASES	S4LAB_SRCDIR "/tests/data/cases/"
#define SAMPLES	S4LAB_SRCDIR "/samples/"

/* A scratch directory per test, removed afterwards. */
static char	 tmpdir[64];

static int
setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/s4lab-import-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	return (0);
}

static int
teardown_tmp(void **state)
{
	char	*cmd;
	int	 rc;

	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	rc = system(cmd);
	free(cmd);
	return (rc == 0 ? 0 : -1);
}

static char *
tmp_path(const char *name)
{
	char	*p;

	xasprintf(&p, "%s/%s", tmpdir, name);
	return (p);
}

static void
write_bytes(const char *path, const void *buf, size_t len)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
copy_file(const char *from, const char *to)
{
	unsigned char	*buf;
	size_t		 len;

	assert_non_null(buf = read_file(from, &len, 0, NULL));
	write_bytes(to, buf, len);
	free(buf);
}

/* The classes of samples/classes.txt. */
static void
classes_samples(struct classes *cl)
{
	static const uint8_t	 rgb[5][3] = {
		{ 0x84, 0x29, 0xf6 }, { 0x3c, 0x10, 0x98 }, { 0x6e, 0xc1, 0xe4 },
		{ 0xfe, 0xdd, 0x3a }, { 0xe2, 0xa9, 0x29 }
	};
	int			 i;

	memset(cl, 0, sizeof *cl);
	for (i = 0; i < 5; i++) {
		snprintf(cl->c[i].name, sizeof cl->c[i].name, "class%d", i);
		memcpy(cl->c[i].rgb, rgb[i], 3);
	}
	cl->n = 5;
	cl->nvoid = 2;
	memcpy(cl->void_rgb[0], "\x9b\x9b\x9b", 3);
	memcpy(cl->void_rgb[1], "\0\0\0", 3);
}

/* A new project in the scratch directory, with tiles of side ts. */
static struct store *
project(int ts, struct classes *cl)
{
	struct store	*st;
	char		*path, *cause = NULL, v[16];

	path = tmp_path("p.s4lab");
	st = store_open(path, STORE_CREATE|STORE_MUSTNEW, &cause);
	if (st == NULL)
		fail_msg("%s", cause);
	free(path);
	classes_samples(cl);
	assert_int_equal(store_set_classes(st, cl, NULL), 0);
	snprintf(v, sizeof v, "%d", ts);
	assert_int_equal(store_set_setting(st, "tile_size", v, NULL), 0);
	return (st);
}

static int64_t
count_tiles(struct store *st)
{
	return (store_tile_count(st, -1));
}

/* ------------------------------------------------------------------ */

static void
the_grid_covers_the_scene_with_smaller_edge_tiles(void **state)
{
	struct image_rect	*r;
	int			 n, i;
	int64_t			 area = 0;

	n = import_grid(797, 644, 256, &r);
	assert_int_equal(n, 4 * 3);
	for (i = 0; i < n; i++) {
		assert_int_equal(r[i].x, (i % 4) * 256);
		assert_int_equal(r[i].y, (i / 4) * 256);
		assert_int_equal(r[i].w, i % 4 == 3 ? 797 - 768 : 256);
		assert_int_equal(r[i].h, i / 4 == 2 ? 644 - 512 : 256);
		area += (int64_t)r[i].w * r[i].h;
	}
	assert_int_equal(area, 797 * 644);
	free(r);

	n = import_grid(256, 256, 256, &r);
	assert_int_equal(n, 1);
	free(r);
	n = import_grid(257, 1, 256, &r);
	assert_int_equal(n, 2);
	assert_int_equal(r[1].w, 1);
	assert_int_equal(r[1].h, 1);
	free(r);
	n = import_grid(1, 1, 256, &r);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].w, 1);
	free(r);
}

static void
only_tiles_on_the_mcu_grid_are_lossless(void **state)
{
	struct image_info	 info;
	struct image_rect	 on = { 256, 512, 256, 256 };
	struct image_rect	 off = { 200, 0, 200, 200 };
	struct image_rect	 half = { 16, 8, 16, 16 };

	memset(&info, 0, sizeof info);
	info.format = IMAGE_JPEG;
	info.orientation = 1;
	info.mcu_w = info.mcu_h = 16;
	assert_true(import_tile_lossless(&info, &on));
	assert_false(import_tile_lossless(&info, &off));
	assert_false(import_tile_lossless(&info, &half));
	info.mcu_h = 8;
	assert_true(import_tile_lossless(&info, &half));
	info.orientation = 6;
	assert_false(import_tile_lossless(&info, &on));
	info.orientation = 1;
	info.cmyk = 1;
	assert_false(import_tile_lossless(&info, &on));
	info.cmyk = 0;
	info.format = IMAGE_PNG;
	assert_false(import_tile_lossless(&info, &on));
}

static void
masks_match_by_relative_path_then_base_name(void **state)
{
	struct import_item	 it;
	char			*masks, *p, *want;

	masks = tmp_path("masks");
	assert_int_equal(mkdir(masks, 0755), 0);
	p = tmp_path("masks/a");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = tmp_path("masks/a/x.png");
	write_bytes(p, "", 0);
	free(p);
	p = tmp_path("masks/x.png");
	write_bytes(p, "", 0);
	free(p);
	p = tmp_path("masks/y.png");
	write_bytes(p, "", 0);
	free(p);

	/* Found under "/scenes": a/x.jpg -> masks/a/x.png. */
	it.path = "/scenes/a/x.jpg";
	it.rootlen = strlen("/scenes/");
	p = import_mask_path(masks, &it);
	want = tmp_path("masks/a/x.png");
	assert_string_equal(p, want);
	free(want);
	free(p);
	/* Given as a file: the base name only. */
	it.rootlen = 0;
	p = import_mask_path(masks, &it);
	want = tmp_path("masks/x.png");
	assert_string_equal(p, want);
	free(want);
	free(p);
	it.path = "/elsewhere/b/y.tar.jpg";
	assert_null(import_mask_path(masks, &it));
	it.path = "/elsewhere/b/y.JPG";
	p = import_mask_path(masks, &it);
	assert_non_null(strstr(p, "masks/y.png"));
	free(p);
	free(masks);
}

static void
directories_are_walked_sorted_skipping_masks(void **state)
{
	struct import_list	 l;
	const char		*dirs[] = { "d", "d/sub", "d/masks", "d/.git" };
	const char		*files[] = { "d/b.jpg", "d/a.png",
				    "d/sub/c.jpeg", "d/.hidden.jpg",
				    "d/notes.txt", "d/masks/a.png",
				    "d/.git/x.jpg", "d/sub/noext" };
	char			*p, *masks, *cause = NULL;
	size_t			 i;

	for (i = 0; i < 4; i++) {
		p = tmp_path(dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
		free(p);
	}
	for (i = 0; i < 8; i++) {
		p = tmp_path(files[i]);
		write_bytes(p, "not a picture", 13);
		free(p);
	}
	/* A JPEG without an extension is found by its first bytes. */
	p = tmp_path("d/sub/noext");
	copy_file(CASES "C08-1x1.jpg", p);
	free(p);

	memset(&l, 0, sizeof l);
	masks = tmp_path("d/masks");
	p = tmp_path("d/");
	assert_int_equal(import_collect(p, masks, &l, &cause), 0);
	free(p);
	assert_int_equal(l.n, 4);
	assert_non_null(strstr(l.item[0].path, "/d/a.png"));
	assert_non_null(strstr(l.item[1].path, "/d/b.jpg"));
	assert_non_null(strstr(l.item[2].path, "/d/sub/c.jpeg"));
	assert_non_null(strstr(l.item[3].path, "/d/sub/noext"));
	assert_string_equal(l.item[2].path + l.item[2].rootlen, "sub/c.jpeg");

	/* A file given by name is taken whatever it is. */
	p = tmp_path("d/notes.txt");
	assert_int_equal(import_collect(p, NULL, &l, &cause), 0);
	free(p);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.item[4].rootlen, 0);
	p = tmp_path("nothing-here");
	assert_int_equal(import_collect(p, NULL, &l, &cause), -1);
	assert_non_null(strstr(cause, p));
	free(cause);
	free(p);
	import_list_free(&l);
	free(masks);
}

/*
 * Symbolic links back up make loops: each directory and file is taken
 * once, each loop is one warning, and the walk ends (an alarm fails the
 * test if it does not).
 */
static void
symbolic_link_loops_are_walked_once(void **state)
{
	struct import_list	 l;
	char			*p, *q, *cause = NULL;

	alarm(20);
	p = tmp_path("lp");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = tmp_path("lp/a.jpg");
	copy_file(CASES "C08-1x1.jpg", p);
	free(p);
	p = tmp_path("lp/self");
	assert_int_equal(symlink(".", p), 0);
	free(p);

	/* Two loops inside each other, and a second name for a directory. */
	p = tmp_path("lp/loop");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = tmp_path("lp/loop/up");
	assert_int_equal(symlink("..", p), 0);
	free(p);
	p = tmp_path("lp/loop/b.jpg");
	copy_file(CASES "C08-1x1.jpg", p);
	free(p);
	p = tmp_path("lp/loop2");
	assert_int_equal(symlink("loop", p), 0);
	free(p);
	p = tmp_path("lp/same.jpg");
	assert_int_equal(symlink("a.jpg", p), 0);
	free(p);

	memset(&l, 0, sizeof l);
	p = tmp_path("lp");
	assert_int_equal(import_collect(p, NULL, &l, &cause), 0);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(l.item[0].path, "/lp/a.jpg"));
	assert_non_null(strstr(l.item[1].path, "/lp/loop/b.jpg"));
	assert_int_equal(l.nwarning, 2);
	q = tmp_path("lp/loop/up");
	assert_non_null(strstr(l.warning[0], q));
	assert_non_null(strstr(l.warning[0], "loop"));
	free(q);
	q = tmp_path("lp/self");
	assert_non_null(strstr(l.warning[1], q));
	free(q);

	/* The same directory again adds nothing. */
	assert_int_equal(import_collect(p, NULL, &l, &cause), 0);
	assert_int_equal(l.n, 2);
	free(p);
	import_list_free(&l);
	alarm(0);
}

/* ------------------------------------------------------------------ */

static int
import_one(struct store *st, const char *path, const char *mask,
    const struct classes *cl, struct import_stats *is, char **cause)
{
	struct import_opts	 io;

	memset(&io, 0, sizeof io);
	io.max_pixels = IMAGE_MAX_PIXELS;
	io.user = "tester";
	return (import_file(st, path, mask, cl, &io, is, cause));
}

/*
 * Every stored tile of a scene decodes to its region of the scene (exactly
 * when cut losslessly, closely otherwise), carries the mask's region as
 * its label, and is done.
 */
static void
check_tiles(struct store *st, const char *scene, const char *maskfile,
    const struct classes *cl, int exact)
{
	struct image		 img, ti;
	struct image_info	 info;
	struct tile		 t;
	uint8_t			*mask, *label;
	int64_t			*ids;
	size_t			 n, i;
	int			 w, h, y, x, c, d, worst = 0;

	assert_int_equal(image_read(scene, IMAGE_MAX_PIXELS, &img, &info,
	    NULL), 0);
	mask = mask_read(maskfile, cl, IMAGE_MAX_PIXELS, &w, &h, NULL);
	assert_non_null(mask);
	assert_int_equal(store_tile_ids(st, ORDER_ID, &ids, &n, NULL), 0);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(store_tile_get(st, ids[i], &t, NULL), 0);
		assert_int_equal(image_decode("tile.jpg", t.jpeg, t.jpeg_len,
		    IMAGE_MAX_PIXELS, &ti, &info, NULL), 0);
		assert_int_equal(ti.w, t.w);
		assert_int_equal(ti.h, t.h);
		for (y = 0; y < t.h; y++) {
			for (x = 0; x < t.w * 3; x++) {
				d = abs(ti.rgb[y * t.w * 3 + x] - img.rgb[
				    ((size_t)(t.y + y) * img.w + t.x) * 3 + x]);
				worst = d > worst ? d : worst;
			}
		}
		label = xmalloc((size_t)t.w * t.h);
		assert_int_equal(store_label_get(st, t.id, label,
		    (size_t)t.w * t.h, NULL), 0);
		for (y = 0; y < t.h; y++) {
			for (x = 0; x < t.w; x++) {
				c = mask[(size_t)(t.y + y) * w + t.x + x];
				assert_int_equal(label[y * t.w + x], c);
			}
		}
		assert_int_equal(t.state, TILE_DONE);
		assert_string_equal(t.author, "tester");
		free(label);
		image_free(&ti);
		tile_free(&t);
	}
	print_message("%s: %zu tiles, largest pixel difference %d\n", scene,
	    n, worst);
	if (exact)
		assert_int_equal(worst, 0);
	else
		assert_true(worst <= 40);
	free(ids);
	free(mask);
	image_free(&img);
}

static void
imported_tiles_round_trip(void **state)
{
	struct classes		 cl;
	struct import_stats	 is;
	struct store		*st;
	char			*cause = NULL;

	memset(&is, 0, sizeof is);
	st = project(256, &cl);
	if (import_one(st, SAMPLES "images/tile1_image_part_001.jpg",
	    SAMPLES "masks/tile1_image_part_001.png", &cl, &is, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(is.files, 1);
	assert_int_equal(is.tiles, 12);
	assert_int_equal(is.lossless, 12);
	assert_int_equal(is.labelled, 12);
	check_tiles(st, SAMPLES "images/tile1_image_part_001.jpg",
	    SAMPLES "masks/tile1_image_part_001.png", &cl, 1);
	store_close(st);
}

static void
tiles_off_the_grid_are_reencoded(void **state)
{
	struct classes		 cl;
	struct import_stats	 is;
	struct store		*st;
	char			*cause = NULL;

	memset(&is, 0, sizeof is);
	/* 200 is no multiple of 16: only the tiles at x=0 or 400 and y=0
	 * or 400 fall on the grid. */
	st = project(200, &cl);
	if (import_one(st, SAMPLES "images/tile2_image_part_002.jpg",
	    SAMPLES "masks/tile2_image_part_002.png", &cl, &is, &cause) != 0)
		fail_msg("%s", cause);
	/* 510x544: 3 x 3 tiles. */
	assert_int_equal(is.tiles, 9);
	assert_int_equal(is.lossless, 4);
	check_tiles(st, SAMPLES "images/tile2_image_part_002.jpg",
	    SAMPLES "masks/tile2_image_part_002.png", &cl, 0);
	store_close(st);
}

/* Write an RGB PNG. */
static void
write_png(const char *path, const uint8_t *rgb, int w, int h)
{
	FILE		*f;
	png_structp	 p;
	png_infop	 pi;
	int		 y;

	assert_non_null(f = fopen(path, "wb"));
	p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	pi = png_create_info_struct(p);
	png_init_io(p, f);
	png_set_IHDR(p, pi, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(p, pi);
	for (y = 0; y < h; y++)
		png_write_row(p, rgb + (size_t)y * w * 3);
	png_write_end(p, pi);
	png_destroy_write_struct(&p, &pi);
	fclose(f);
}

static void
identical_files_and_tiles_are_skipped(void **state)
{
	struct classes		 cl;
	struct import_stats	 is;
	struct store		*st;
	uint8_t			*rgb;
	char			*copy, *png, *cause = NULL;
	int			 x, y;

	memset(&is, 0, sizeof is);
	st = project(64, &cl);
	assert_int_equal(import_one(st, CASES "C09-gray-320x240.jpg", NULL,
	    &cl, &is, NULL), 0);
	assert_int_equal(is.tiles, 5 * 4);
	/* The same bytes under another name. */
	copy = tmp_path("copy.jpg");
	copy_file(CASES "C09-gray-320x240.jpg", copy);
	assert_int_equal(import_one(st, copy, NULL, &cl, &is, NULL), 0);
	assert_int_equal(is.known, 1);
	assert_int_equal(count_tiles(st), 20);

	/* A PNG whose two halves are the same picture. */
	rgb = xmalloc(128 * 64 * 3);
	for (y = 0; y < 64; y++) {
		for (x = 0; x < 128; x++) {
			rgb[(y * 128 + x) * 3] = (x % 64) * 4;
			rgb[(y * 128 + x) * 3 + 1] = y * 4;
			rgb[(y * 128 + x) * 3 + 2] = 77;
		}
	}
	png = tmp_path("halves.png");
	write_png(png, rgb, 128, 64);
	if (import_one(st, png, NULL, &cl, &is, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(is.tiles, 21);
	assert_int_equal(is.duplicate, 1);
	assert_int_equal(count_tiles(st), 21);
	free(rgb);
	free(png);
	free(copy);
	store_close(st);
}

/* Warnings of import_file, counted, the last one kept. */
struct warned {
	int	 n;
	char	 last[512];
};

static void
count_warning(void *arg, const char *msg)
{
	struct warned	*w = arg;

	w->n++;
	snprintf(w->last, sizeof w->last, "%s", msg);
}

/*
 * A 128x128 PNG scene of four distinct 64x64 quadrants, quadrant q (0 to
 * 3, or -1 for none) painted in grey level v, and a mask all of class c
 * (or none when c < 0).  Returns the scene's path; *mask its mask's.
 */
static char *
quad_scene(const char *name, int q, int v, int c,
    const struct classes *cl, char **mask)
{
	uint8_t	*rgb, *m;
	char	*path, *base;
	int	 x, y, in;

	rgb = xmalloc(128 * 128 * 3);
	for (y = 0; y < 128; y++) {
		for (x = 0; x < 128; x++) {
			in = q >= 0 && (x / 64) + 2 * (y / 64) == q;
			rgb[(y * 128 + x) * 3] = in ? v : x * 2;
			rgb[(y * 128 + x) * 3 + 1] = in ? v : y * 2;
			rgb[(y * 128 + x) * 3 + 2] = in ? v : (x * y) % 251;
		}
	}
	xasprintf(&base, "%s.png", name);
	path = tmp_path(base);
	free(base);
	write_png(path, rgb, 128, 128);
	free(rgb);
	*mask = NULL;
	if (c >= 0) {
		m = xmalloc(128 * 128);
		memset(m, c, 128 * 128);
		xasprintf(&base, "%s-mask.png", name);
		*mask = tmp_path(base);
		free(base);
		assert_int_equal(mask_write_png(*mask, m, 128, 128, cl, NULL),
		    0);
		free(m);
	}
	return (path);
}

/* The first pixel of tile id's label, or -1 if it has none. */
static int
label_of(struct store *st, int64_t id)
{
	uint8_t	m[64 * 64];
	int	rc;

	rc = store_label_get(st, id, m, sizeof m, NULL);
	assert_true(rc >= 0);
	return (rc == 1 ? -1 : m[0]);
}

/*
 * A scene identical to a stored one but for a quadrant: its known tiles
 * take its mask's label when they have none, keep theirs with a warning
 * naming the scene, the offset and the tile when it differs, and say
 * nothing when it is the same.
 */
static void
identical_tiles_get_or_keep_labels(void **state)
{
	struct import_opts	 io;
	struct import_stats	 is;
	struct classes		 cl;
	struct warned		 w;
	struct store		*st;
	char			*a, *b, *e, *ma, *mb, *me, *cause = NULL;
	int64_t			 id;

	st = project(64, &cl);
	memset(&io, 0, sizeof io);
	io.max_pixels = IMAGE_MAX_PIXELS;
	io.user = "tester";
	io.warn = count_warning;
	io.warn_arg = &w;
	memset(&w, 0, sizeof w);

	/* a: all class 1.  b: a with quadrant 0 black, all class 2. */
	a = quad_scene("a", -1, 0, 1, &cl, &ma);
	b = quad_scene("b", 0, 0, 2, &cl, &mb);
	memset(&is, 0, sizeof is);
	if (import_file(st, a, ma, &cl, &io, &is, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(is.labelled, 4);
	if (import_file(st, b, mb, &cl, &io, &is, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(is.files, 2);
	assert_int_equal(is.tiles, 5);
	assert_int_equal(is.duplicate, 3);
	assert_int_equal(is.labelled, 5);
	assert_int_equal(w.n, 3);
	assert_non_null(strstr(w.last, b));
	assert_non_null(strstr(w.last, "tile at 64,64"));
	assert_non_null(strstr(w.last, "identical to tile 4"));
	assert_int_equal(label_of(st, 4), 1);
	assert_int_equal(label_of(st, 5), 2);

	/* e: a with quadrant 3 white, all class 1: the same labels. */
	e = quad_scene("e", 3, 255, 1, &cl, &me);
	if (import_file(st, e, me, &cl, &io, &is, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(w.n, 3);
	assert_int_equal(is.duplicate, 6);
	free(a);
	free(b);
	free(e);
	free(ma);
	free(mb);
	free(me);

	/* Without labels first, then with a mask: the label is stored. */
	a = quad_scene("c", 1, 30, -1, &cl, &ma);
	b = quad_scene("d", 2, 30, 3, &cl, &mb);
	if (import_file(st, a, NULL, &cl, &io, &is, &cause) != 0)
		fail_msg("%s", cause);
	id = count_tiles(st);
	assert_int_equal(label_of(st, id), -1);
	if (import_file(st, b, mb, &cl, &io, &is, &cause) != 0)
		fail_msg("%s", cause);
	/* d's other quadrants are a's, labelled 1: three more warnings. */
	assert_int_equal(w.n, 6);
	assert_int_equal(label_of(st, id), 3);
	assert_int_equal(store_tile_count(st, TILE_DONE), count_tiles(st));
	free(a);
	free(b);
	free(mb);
	store_close(st);
}

/* Nothing of path is in the project: no source with its hash. */
static void
assert_not_stored(struct store *st, const char *path)
{
	unsigned char	*buf;
	size_t		 len;
	char		 hash[65];

	assert_non_null(buf = read_file(path, &len, 0, NULL));
	sha256_hex(buf, len, hash);
	assert_int_equal(store_source_by_hash(st, hash), 0);
	free(buf);
}

static void
a_failed_file_leaves_nothing(void **state)
{
	struct classes		 cl;
	struct import_stats	 is;
	struct store		*st;
	char			*mask, *cause = NULL, *err = NULL;
	int64_t			 before;

	memset(&is, 0, sizeof is);
	st = project(128, &cl);
	assert_int_equal(import_one(st, CASES "C09-gray-320x240.jpg", NULL,
	    &cl, &is, NULL), 0);
	before = count_tiles(st);

	/* Refused before anything is written: a mask of the wrong size. */
	mask = tmp_path("small.png");
	{
		uint8_t	 m[4] = { 0, 1, 2, 3 };

		assert_int_equal(mask_write_png(mask, m, 2, 2, &cl, NULL), 0);
	}
	assert_int_equal(import_one(st, SAMPLES
	    "images/tile2_image_part_004.jpg", mask, &cl, &is, &cause), -1);
	assert_non_null(strstr(cause, "is 2x2 but the picture is 509x544"));
	free(cause);
	cause = NULL;

	/*
	 * Refused half-way: the store fails on the fourth label, after
	 * the source, several tiles and three labels went in.
	 */
	assert_int_equal(sqlite3_exec(store_db(st), "CREATE TEMP TRIGGER "
	    "provoked BEFORE INSERT ON labels WHEN (SELECT count(*) FROM "
	    "labels) >= 3 BEGIN SELECT RAISE(ABORT, 'provoked'); END;", NULL,
	    NULL, &err), SQLITE_OK);
	assert_int_equal(import_one(st, SAMPLES
	    "images/tile2_image_part_004.jpg", SAMPLES
	    "masks/tile2_image_part_004.png", &cl, &is, &cause), -1);
	assert_non_null(strstr(cause, "provoked"));
	free(cause);
	assert_int_equal(count_tiles(st), before);
	assert_not_stored(st, SAMPLES "images/tile2_image_part_004.jpg");

	/* And once the store works again, the same file goes in. */
	assert_int_equal(sqlite3_exec(store_db(st), "DROP TRIGGER provoked",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(import_one(st, SAMPLES
	    "images/tile2_image_part_004.jpg", SAMPLES
	    "masks/tile2_image_part_004.png", &cl, &is, NULL), 0);
	assert_int_equal(count_tiles(st), before + 4 * 5);
	free(mask);
	store_close(st);
}

static void
damaged_files_are_refused_and_the_rest_stays(void **state)
{
	static const char	*bad[] = { "C06-truncated-half.jpg",
				    "C06-truncated-progressive.jpg",
				    "C06-corrupt-middle.jpg", "C06-empty.jpg",
				    "C06-png-named-jpg.jpg",
				    "C07-bomb-65500x65500.jpg" };
	struct classes		 cl;
	struct import_stats	 is;
	struct store		*st;
	char			*path, *cause = NULL;
	size_t			 i;

	memset(&is, 0, sizeof is);
	st = project(256, &cl);
	assert_int_equal(import_one(st, CASES "C03-huffman.jpg", NULL, &cl,
	    &is, NULL), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&path, "%s%s", CASES, bad[i]);
		assert_int_equal(import_one(st, path, NULL, &cl, &is,
		    &cause), -1);
		assert_non_null(strstr(cause, path));
		free(cause);
		cause = NULL;
		if (i != 3)
			assert_not_stored(st, path);
		free(path);
	}
	assert_int_equal(count_tiles(st), 1);
	/* The other codings of C03 cut to the same tile. */
	assert_int_equal(import_one(st, CASES "C03-arith.jpg", NULL, &cl,
	    &is, NULL), 0);
	assert_int_equal(import_one(st, CASES "C03-arith-progressive.jpg",
	    NULL, &cl, &is, NULL), 0);
	assert_int_equal(is.duplicate, 2);
	assert_int_equal(count_tiles(st), 1);
	store_close(st);
}

/* A JPEG of a scene with an APP1 Exif segment saying orientation o. */
static void
write_turned_jpeg(const char *path, const struct image *img, int o)
{
	static const uint8_t	 app1[] = { 0xff, 0xe1, 0, 34,
				    'E', 'x', 'i', 'f', 0, 0,
				    'I', 'I', '*', 0, 8, 0, 0, 0,
				    1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0,
				    0, 0, 0, 0, 0, 0, 0, 0 };
	unsigned char		*jpeg, *out;
	size_t			 len;

	assert_int_equal(image_encode_jpeg(img, 0, 0, img->w, img->h, 95,
	    &jpeg, &len, NULL), 0);
	out = xmalloc(len + sizeof app1);
	memcpy(out, jpeg, 2);
	memcpy(out + 2, app1, sizeof app1);
	out[2 + 28] = o;
	memcpy(out + 2 + sizeof app1, jpeg + 2, len - 2);
	write_bytes(path, out, len + sizeof app1);
	free(out);
	free(jpeg);
}

static void
a_turned_scene_is_cut_as_shown(void **state)
{
	struct classes		 cl;
	struct import_stats	 is;
	struct image		 img;
	struct image_info	 info;
	struct tile		 t;
	struct store		*st;
	uint8_t			*m;
	int64_t			*ids;
	size_t			 n;
	char			*path, *mask, *cause = NULL;

	memset(&is, 0, sizeof is);
	st = project(256, &cl);
	assert_int_equal(image_read(CASES "C09-s440-520x360.jpg",
	    IMAGE_MAX_PIXELS, &img, &info, NULL), 0);
	path = tmp_path("turned.jpg");
	write_turned_jpeg(path, &img, 6);

	/* A mask of the stored size, not the shown one, is refused. */
	mask = tmp_path("turned.png");
	m = xcalloc((size_t)img.w * img.h, 1);
	assert_int_equal(mask_write_png(mask, m, img.w, img.h, &cl, NULL), 0);
	assert_int_equal(import_one(st, path, mask, &cl, &is, &cause), -1);
	assert_non_null(strstr(cause, "before its EXIF orientation 6"));
	free(cause);
	assert_int_equal(count_tiles(st), 0);

	/* Without it: 360x520 as shown, 2 x 3 tiles, none lossless. */
	if (import_one(st, path, NULL, &cl, &is, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(is.tiles, 6);
	assert_int_equal(is.lossless, 0);
	assert_int_equal(store_tile_ids(st, ORDER_ID, &ids, &n, NULL), 0);
	assert_int_equal(n, 6);
	assert_int_equal(store_tile_get(st, ids[5], &t, NULL), 0);
	assert_int_equal(t.x, 256);
	assert_int_equal(t.y, 512);
	assert_int_equal(t.w, 360 - 256);
	assert_int_equal(t.h, 520 - 512);
	tile_free(&t);
	free(ids);
	free(m);
	free(mask);
	free(path);
	image_free(&img);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    the_grid_covers_the_scene_with_smaller_edge_tiles),
		cmocka_unit_test(only_tiles_on_the_mcu_grid_are_lossless),
		cmocka_unit_test_setup_teardown(
		    masks_match_by_relative_path_then_base_name, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(
		    directories_are_walked_sorted_skipping_masks, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(
		    symbolic_link_loops_are_walked_once, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(imported_tiles_round_trip,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(
		    tiles_off_the_grid_are_reencoded, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(
		    identical_files_and_tiles_are_skipped, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(
		    identical_tiles_get_or_keep_labels, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(a_failed_file_leaves_nothing,
		    setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(
		    damaged_files_are_refused_and_the_rest_stays, setup_tmp,
		    teardown_tmp),
		cmocka_unit_test_setup_teardown(a_turned_scene_is_cut_as_shown,
		    setup_tmp, teardown_tmp),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
