/* Unit tests for export.c: VOC and COCO datasets from a small project. */
#include <sys/stat.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "s4lab.h"

#define NTILES	5

static char	tmpdir[] = "/tmp/test_export.XXXXXX";
static int	counter;

/*
 * The project: five tiles.  0 (64x64, done, labelled), 1 (an edge tile,
 * 20x13, done, labelled, val), 2 (new, no label), 3 (new, labelled), and
 * 4 (done, labelled), cut from a scene of the same name as tile 0's in
 * another folder and at the same offset, so that their names clash.
 */
struct fixture {
	char		*path;
	struct classes	 cl;
	int64_t		 id[NTILES];
	int		 w[NTILES], h[NTILES];
	uint8_t		*mask[NTILES];	/* NULL: no label */
	unsigned char	*jpeg[NTILES];
	size_t		 jpeg_len[NTILES];
	const char	*name[NTILES];
};

static const char *fixture_names[NTILES] = {
	NULL, "scene_one_64_0", "scene_one_0_64", "scene_one_64_64", NULL
};

static char *
scratch(const char *name)
{
	char	*path;

	xasprintf(&path, "%s/%d-%s", tmpdir, counter++, name);
	return (path);
}

/* A synthetic picture, different for each seed. */
static void
make_jpeg(int w, int h, int seed, unsigned char **out, size_t *len)
{
	struct image	 img;
	char		*cause = NULL;
	int		 i;

	img.w = w;
	img.h = h;
	img.rgb = xmalloc((size_t)w * h * 3);
	for (i = 0; i < w * h * 3; i++)
		img.rgb[i] = (uint8_t)(i * 7 + seed * 31 + (i / (w * 3)) * 3);
	assert_int_equal(image_encode_jpeg(&img, 0, 0, w, h, 90, out, len,
	    &cause), 0);
	free(img.rgb);
}

static int
setup(void **state)
{
	static const int	 sx[NTILES] = { 0, 64, 0, 64, 0 };
	static const int	 sy[NTILES] = { 0, 0, 64, 64, 0 };
	static const int	 sw[NTILES] = { 64, 20, 64, 64, 64 };
	static const int	 sh[NTILES] = { 64, 13, 64, 64, 64 };
	static const int	 labelled[NTILES] = { 1, 1, 0, 1, 1 };
	static const int	 done[NTILES] = { 1, 1, 0, 0, 1 };
	struct fixture		*f;
	struct store		*st;
	struct tile		 t;
	char			*cause = NULL, *sql;
	int64_t			 src[2];
	size_t			 j, n;
	int			 i;

	f = xcalloc(1, sizeof *f);
	f->path = scratch("p.s4lab");
	st = store_open(f->path, STORE_MUSTNEW, &cause);
	assert_non_null(st);
	assert_int_equal(classes_preset("xbd", &f->cl, &cause), 0);
	snprintf(f->cl.c[1].name, sizeof f->cl.c[1].name, "no:damage");
	assert_int_equal(store_set_classes(st, &f->cl, &cause), 0);
	assert_int_equal(store_get_classes(st, &f->cl, &cause), 0);

	src[0] = store_source_add(st, "/data/a/scene one.jpg", 128, 128,
	    "aaaa", &cause);
	src[1] = store_source_add(st, "/data/b/scene one.jpg", 128, 128,
	    "bbbb", &cause);
	assert_true(src[0] > 0 && src[1] > 0);
	for (i = 0; i < NTILES; i++) {
		memset(&t, 0, sizeof t);
		t.source_id = src[i == 4];
		t.x = sx[i];
		t.y = sy[i];
		t.w = f->w[i] = sw[i];
		t.h = f->h[i] = sh[i];
		make_jpeg(t.w, t.h, i, &f->jpeg[i], &f->jpeg_len[i]);
		t.jpeg = f->jpeg[i];
		t.jpeg_len = f->jpeg_len[i];
		assert_int_equal(store_tile_add(st, &t, &cause), 0);
		assert_true(t.id > 0);
		f->id[i] = t.id;
		f->name[i] = fixture_names[i];
		if (labelled[i]) {
			n = (size_t)t.w * t.h;
			f->mask[i] = xmalloc(n);
			/* Every class, and a void band in the middle. */
			for (j = 0; j < n; j++)
				f->mask[i][j] = (j / 5 + i) % 5;
			memset(f->mask[i] + n / 2, MASK_VOID, t.w);
			assert_int_equal(store_label_put(st, t.id, f->mask[i],
			    n, "ann", "paint", &cause), 0);
		}
		if (done[i])
			assert_int_equal(store_tile_set_state(st, t.id,
			    TILE_DONE, "ann", &cause), 0);
	}
	/* The split is decided by the hash; fix it for the test. */
	xasprintf(&sql, "UPDATE tiles SET split = (id = %jd)",
	    (intmax_t)f->id[1]);
	assert_int_equal(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL),
	    SQLITE_OK);
	free(sql);
	store_close(st);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	for (i = 0; i < NTILES; i++) {
		free(f->mask[i]);
		free(f->jpeg[i]);
	}
	free(f->path);
	free(f);
	return (0);
}

/* The whole of a file as a string; NULL if it is not there. */
static char *
slurp(const char *dir, const char *rel, size_t *len)
{
	char		*path, *cause = NULL;
	unsigned char	*buf;
	size_t		 n;

	xasprintf(&path, "%s/%s", dir, rel);
	buf = read_file(path, len != NULL ? len : &n, 0, &cause);
	free(path);
	free(cause);
	return ((char *)buf);
}

static int
count_lines(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		n += (*s == '\n');
	return (n);
}

/* Whether a temporary of an export is left in the scratch folder. */
static int
temp_left(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 found = 0;

	d = opendir(tmpdir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".export-") != NULL)
			found = 1;
	closedir(d);
	return (found);
}

/* The name tile i must have. */
static char *
tile_name(struct fixture *f, int i)
{
	char	*s;

	if (f->name[i] != NULL)
		return (xstrdup(f->name[i]));
	xasprintf(&s, "scene_one_0_0~%jd", (intmax_t)f->id[i]);
	return (s);
}

static int
run_export(struct fixture *f, const char *dir, int format, int all,
    int force, char **cause)
{
	struct export_opts	 eo;
	struct store		*st;
	int			 rc;

	memset(&eo, 0, sizeof eo);
	eo.format = format;
	eo.all = all;
	eo.force = force;
	st = store_open(f->path, 0, cause);
	assert_non_null(st);
	rc = export_dataset(st, dir, &eo, NULL, cause);
	store_close(st);
	return (rc);
}

/* Check tile i's picture and, for VOC, its mask in an export. */
static void
check_tile(struct fixture *f, const char *dir, int i, int voc)
{
	char	*name, *rel, *buf, *path, *cause = NULL;
	uint8_t	*m;
	size_t	 len;
	int	 w, h;

	name = tile_name(f, i);
	xasprintf(&rel, "%s/%s.jpg", voc ? "JPEGImages" : "images", name);
	buf = slurp(dir, rel, &len);
	assert_non_null(buf);
	assert_int_equal(len, f->jpeg_len[i]);
	assert_memory_equal(buf, f->jpeg[i], len);
	free(buf);
	free(rel);
	if (voc) {
		xasprintf(&path, "%s/SegmentationClass/%s.png", dir, name);
		m = mask_read(path, &f->cl, IMAGE_MAX_PIXELS, &w, &h, &cause);
		if (m == NULL)
			fail_msg("%s", cause);
		assert_int_equal(w, f->w[i]);
		assert_int_equal(h, f->h[i]);
		if (f->mask[i] != NULL)
			assert_memory_equal(m, f->mask[i], (size_t)w * h);
		else
			for (len = 0; len < (size_t)w * h; len++)
				assert_int_equal(m[len], MASK_VOID);
		free(m);
		free(path);
	}
	free(name);
}

static void
test_export_base_sanitises(void **state)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "/data/a/scene one.jpg", "scene_one" },
		{ "x/tile1_image_part_001.jpg", "tile1_image_part_001" },
		{ "a.b.c.png", "a.b.c" },
		{ "/x/.hidden", "_hidden" },
		{ "/x/..jpg", "_" },
		{ "/x/\033[31mred\n.jpg", "__31mred_" },
		{ "/x/caf\xc3\xa9.jpg", "caf__" },
		{ "noext", "noext" },
		{ "dir/", "tile" },
		{ "", "tile" },
	};
	char	*b, longname[300];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		b = export_base(cases[i].in);
		assert_string_equal(b, cases[i].out);
		free(b);
	}
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	b = export_base(longname);
	assert_true(strlen(b) <= 80 && strlen(b) > 0);
	free(b);
}

static void
test_export_voc_layout(void **state)
{
	struct fixture	*f = *state;
	char		*dir = scratch("voc"), *s, *cause = NULL, *want;

	assert_int_equal(run_export(f, dir, EXPORT_VOC, 0, 0, &cause), 0);
	assert_false(temp_left());
	/* Done tiles only: 0, 1, 4. */
	check_tile(f, dir, 0, 1);
	check_tile(f, dir, 1, 1);
	check_tile(f, dir, 4, 1);
	s = slurp(dir, "JPEGImages/scene_one_0_64.jpg", NULL);
	assert_null(s);

	s = slurp(dir, "ImageSets/Segmentation/val.txt", NULL);
	assert_string_equal(s, "scene_one_64_0\n");
	free(s);
	s = slurp(dir, "ImageSets/Segmentation/train.txt", NULL);
	xasprintf(&want, "scene_one_0_0~%jd\nscene_one_0_0~%jd\n",
	    (intmax_t)f->id[0], (intmax_t)f->id[4]);
	assert_string_equal(s, want);
	free(want);
	free(s);

	s = slurp(dir, "labelmap.txt", NULL);
	assert_string_equal(s, "# label:color_rgb:parts:actions\n"
	    "background:0,0,0::\nno_damage:50,200,80::\n"
	    "minor-damage:240,225,50::\nmajor-damage:245,140,30::\n"
	    "destroyed:220,30,30::\n");
	free(s);

	s = slurp(dir, "manifest.jsonl", NULL);
	assert_int_equal(count_lines(s), 3);
	assert_non_null(strstr(s, "{\"tile\": 2, \"name\": \"scene_one_64_0\""
	    ", \"image\": \"JPEGImages/scene_one_64_0.jpg\", \"mask\": "
	    "\"SegmentationClass/scene_one_64_0.png\", \"source\": "
	    "\"/data/a/scene one.jpg\", \"x\": 64, \"y\": 0, \"w\": 20, "
	    "\"h\": 13, \"split\": \"val\", \"state\": \"done\", "
	    "\"labelled\": true, \"author\": \"ann\", \"time\": \"20"));
	assert_non_null(strstr(s, "\"revision\": 1}\n"));
	free(s);

	s = slurp(dir, "classes.json", NULL);
	assert_non_null(strstr(s, "\"name\": \"no:damage\""));
	assert_non_null(strstr(s, "\"ignore_index\": 255"));
	free(s);
	free(dir);
}

static void
test_export_all_voids_unlabelled(void **state)
{
	struct fixture	*f = *state;
	char		*dir = scratch("all"), *s, *cause = NULL;
	int		 i;

	assert_int_equal(run_export(f, dir, EXPORT_VOC, 1, 0, &cause), 0);
	for (i = 0; i < NTILES; i++)
		check_tile(f, dir, i, 1);
	s = slurp(dir, "manifest.jsonl", NULL);
	assert_int_equal(count_lines(s), NTILES);
	assert_non_null(strstr(s, "\"state\": \"new\", \"labelled\": false, "
	    "\"author\": null, \"time\": null, \"revision\": 0}"));
	free(s);
	free(dir);
}

static void
test_export_coco_rle(void **state)
{
	struct fixture		*f = *state;
	char			*dir = scratch("coco"), *s, *cause = NULL;
	struct json		*j;
	const struct json	*a, *seg, *v;
	uint32_t		*counts;
	uint8_t			*bit;
	int64_t			 image, cat, area, want, h, w;
	size_t			 k, n, p;
	int			 i, found[NTILES] = { 0 };

	assert_int_equal(run_export(f, dir, EXPORT_COCO, 0, 0, &cause), 0);
	check_tile(f, dir, 0, 0);
	check_tile(f, dir, 1, 0);
	check_tile(f, dir, 4, 0);
	s = slurp(dir, "annotations.json", &n);
	assert_non_null(s);
	j = json_parse(s, n, &cause);
	assert_non_null(j);
	free(s);

	assert_int_equal(json_get(j, "images")->n, 3);
	assert_int_equal(json_get(j, "categories")->n, f->cl.n);
	v = json_get(j, "annotations");
	/* Each labelled tile holds all five classes. */
	assert_int_equal(v->n, 3 * 5);
	for (k = 0; k < v->n; k++) {
		a = json_at(v, k);
		assert_int_equal(json_get_int(a, "image_id", &image), 0);
		assert_int_equal(json_get_int(a, "category_id", &cat), 0);
		assert_int_equal(json_get_int(a, "area", &area), 0);
		for (i = 0; i < NTILES; i++)
			if (f->id[i] == image)
				break;
		assert_true(i < NTILES && f->mask[i] != NULL);
		found[i]++;
		seg = json_get(a, "segmentation");
		h = json_at(json_get(seg, "size"), 0)->integer;
		w = json_at(json_get(seg, "size"), 1)->integer;
		assert_int_equal(h, f->h[i]);
		assert_int_equal(w, f->w[i]);
		assert_int_equal(mask_rle_from_string(json_get_string(seg,
		    "counts"), &counts, &n, &cause), 0);
		bit = xmalloc((size_t)w * h);
		assert_int_equal(mask_rle_decode(counts, n, w, h, bit,
		    &cause), 0);
		want = 0;
		for (p = 0; p < (size_t)w * h; p++) {
			assert_int_equal(bit[p], f->mask[i][p] == cat - 1);
			want += bit[p];
		}
		assert_int_equal(area, want);
		free(bit);
		free(counts);
	}
	assert_int_equal(found[0], 5);
	assert_int_equal(found[1], 5);
	assert_int_equal(found[4], 5);
	json_free(j);
	s = slurp(dir, "manifest.jsonl", NULL);
	assert_int_equal(count_lines(s), 3);
	free(s);
	free(dir);
}

static void
test_export_refuses_non_empty(void **state)
{
	struct fixture	*f = *state;
	char		*dir = scratch("full"), *file, *cause = NULL, *s;
	FILE		*fp;

	assert_int_equal(mkdir(dir, 0777), 0);
	xasprintf(&file, "%s/mine.txt", dir);
	assert_non_null(fp = fopen(file, "w"));
	fclose(fp);
	assert_int_equal(run_export(f, dir, EXPORT_VOC, 0, 0, &cause), -1);
	assert_non_null(strstr(cause, "not empty"));
	free(cause);
	cause = NULL;
	assert_int_equal(access(file, F_OK), 0);
	assert_false(temp_left());

	assert_int_equal(run_export(f, dir, EXPORT_VOC, 0, 1, &cause), 0);
	assert_int_equal(access(file, F_OK), -1);
	s = slurp(dir, "manifest.jsonl", NULL);
	assert_int_equal(count_lines(s), 3);
	free(s);
	assert_false(temp_left());
	free(file);

	/* A file is no directory, even with force. */
	xasprintf(&file, "%s/manifest.jsonl", dir);
	assert_int_equal(run_export(f, file, EXPORT_VOC, 0, 1, &cause), -1);
	assert_non_null(strstr(cause, "not a directory"));
	free(cause);
	free(file);
	free(dir);
}

/* A tick that asks the export to stop after the first tile. */
static void
stop_tick(void *arg, int64_t done, int64_t total)
{
	(void)total;
	if (done == 1)
		*(volatile sig_atomic_t *)arg = 1;
}

static void
test_export_stop_leaves_nothing(void **state)
{
	struct fixture		*f = *state;
	struct export_opts	 eo;
	struct store		*st;
	volatile sig_atomic_t	 stop = 0;
	char			*dir = scratch("stopped"), *cause = NULL;
	int			 format;

	for (format = EXPORT_VOC; format <= EXPORT_COCO; format++) {
		memset(&eo, 0, sizeof eo);
		eo.format = format;
		eo.stop = &stop;
		eo.tick = stop_tick;
		eo.arg = (void *)&stop;
		stop = 0;
		st = store_open(f->path, 0, &cause);
		assert_int_equal(export_dataset(st, dir, &eo, NULL, &cause),
		    -1);
		store_close(st);
		assert_non_null(strstr(cause, "interrupted"));
		free(cause);
		cause = NULL;
		assert_int_equal(access(dir, F_OK), -1);
		assert_false(temp_left());
	}
	free(dir);
}

static void
test_export_corrupt_label_fails_whole(void **state)
{
	struct fixture	*f = *state;
	char		*dir = scratch("corrupt"), *copy, *cmd, *cause = NULL;
	char		*before, *after, *sql, *want;
	sqlite3		*db;

	/* A good export first, to be left alone by a failed --force. */
	assert_int_equal(run_export(f, dir, EXPORT_VOC, 0, 0, &cause), 0);
	before = slurp(dir, "manifest.jsonl", NULL);

	copy = scratch("corrupt.s4lab");
	xasprintf(&cmd, "cp '%s' '%s'", f->path, copy);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
	xasprintf(&sql, "UPDATE labels SET mask = x'0102' WHERE tile_id = %jd",
	    (intmax_t)f->id[4]);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	sqlite3_close(db);

	free(f->path);
	f->path = copy;
	assert_int_equal(run_export(f, dir, EXPORT_VOC, 0, 1, &cause), -1);
	xasprintf(&want, "label of tile %jd: mask", (intmax_t)f->id[4]);
	assert_non_null(strstr(cause, want));
	free(want);
	free(cause);
	after = slurp(dir, "manifest.jsonl", NULL);
	assert_string_equal(before, after);
	assert_false(temp_left());
	free(before);
	free(after);
	free(dir);
}

/* A tick that commits a change through another connection. */
struct snapshot {
	const char	*path;
	int64_t		 id;
	int64_t		 other;
	size_t		 len;
};

static void
snapshot_tick(void *arg, int64_t done, int64_t total)
{
	struct snapshot	*sn = arg;
	struct store	*st;
	uint8_t		*m;
	char		*cause = NULL;

	(void)total;
	if (done != 1)
		return;
	st = store_open(sn->path, 0, &cause);
	assert_non_null(st);
	m = xmalloc(sn->len);
	memset(m, 3, sn->len);
	assert_int_equal(store_label_put(st, sn->id, m, sn->len, "other",
	    "fill", &cause), 0);
	assert_int_equal(store_tile_set_state(st, sn->other, TILE_DONE,
	    "other", &cause), 0);
	free(m);
	store_close(st);
}

static void
test_export_reads_one_snapshot(void **state)
{
	struct fixture		*f = *state;
	struct export_opts	 eo;
	struct export_stats	 es;
	struct snapshot		 sn;
	struct store		*st;
	char			*dir = scratch("snap"), *s, *cause = NULL;

	/* While tile 0 is written, tile 4's label and tile 2's state change. */
	sn.path = f->path;
	sn.id = f->id[4];
	sn.other = f->id[2];
	sn.len = (size_t)f->w[4] * f->h[4];
	memset(&eo, 0, sizeof eo);
	eo.format = EXPORT_VOC;
	eo.tick = snapshot_tick;
	eo.arg = &sn;
	st = store_open(f->path, 0, &cause);
	assert_int_equal(export_dataset(st, dir, &eo, &es, &cause), 0);
	store_close(st);
	assert_int_equal(es.tiles, 3);
	assert_int_equal(es.labelled, 3);
	assert_int_equal(es.train, 2);
	assert_int_equal(es.val, 1);
	check_tile(f, dir, 4, 1);	/* the mask as it was */
	s = slurp(dir, "manifest.jsonl", NULL);
	assert_int_equal(count_lines(s), 3);
	assert_null(strstr(s, "\"other\""));
	free(s);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_base_sanitises),
		cmocka_unit_test_setup_teardown(test_export_voc_layout,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_export_all_voids_unlabelled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_coco_rle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_export_refuses_non_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_export_stop_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_export_corrupt_label_fails_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_export_reads_one_snapshot, setup, teardown),
	};
	char	 cmd[64];
	int	 rc;

	if (mkdtemp(tmpdir) == NULL)
		return (1);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return (1);
	return (rc);
}
