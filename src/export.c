/*
 * Export: the tiles of a project, with their labels, as a dataset that
 * training frameworks read: Pascal VOC (JPEGImages/, SegmentationClass/
 * palette PNGs, ImageSets/Segmentation/{train,val}.txt, labelmap.txt) or
 * COCO (images/ and annotations.json, one RLE annotation per tile and
 * class).  Both add manifest.jsonl, each tile's provenance, and
 * classes.json.  s4lab(5) describes the layouts.
 *
 * Nothing is written into the destination until the dataset is whole:
 * everything goes into a hidden temporary directory beside it, which is
 * renamed over the destination at the end (an empty destination is
 * replaced by rename(2) itself; a non-empty one, with force, is swapped
 * with RENAME_EXCHANGE and then removed).  A failure or an interruption
 * removes the temporary directory and leaves the destination as it was.
 *
 * The whole export reads from one read transaction, so a TUI committing
 * strokes meanwhile changes nothing of what is written: the dataset is
 * the project as it was at one instant.
 *
 * A tile's file name is "<source>_<x>_<y>": the base name of its source
 * scene without its extension, reduced to ASCII letters, digits, '.',
 * '_' and '-', and the tile's offset in that scene.  Two scenes of the
 * same name in different folders would give the same names; those tiles
 * get "~<tile id>" added, a character the reduction never leaves.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "s4lab.h"

/* Longest base taken from a source's name. */
#define EXPORT_BASE_MAX		80

/* One tile to export, as listed before any file is written. */
struct export_tile {
	int64_t		 id;
	char		*source;
	char		*name;		/* file name without extension */
	int		 x, y, w, h;
	int		 split;
	int		 state;
	int		 revision;	/* of its label; 0: none */
	char		*author;
	int64_t		 mtime;
};

/* An export in progress. */
struct export {
	struct store			*st;
	const struct export_opts	*eo;
	struct export_stats		*es;
	struct classes			 cl;
	const char			*dir;	/* destination, for messages */
	char				*tmp;	/* where it is written */
	struct export_tile		*t;
	size_t				 n;
	FILE				*manifest;
	FILE				*coco;
	int64_t				 annotation;
};

static const char *export_states[] = { "new", "done", "skipped" };
static const char *export_splits[] = { "train", "val" };

/* ------------------------------------------------------------------ */
/* Names. */

/*
 * The base of the file names of a source's tiles: its last path
 * component without extension, every byte outside [A-Za-z0-9._-]
 * replaced by '_', a leading '.' too; "tile" if nothing is left.
 */
char *
export_base(const char *source)
{
	const char	*p, *dot;
	char		*b;
	size_t		 len, i;

	if ((p = strrchr(source, '/')) != NULL)
		source = p + 1;
	dot = strrchr(source, '.');
	len = (dot != NULL && dot != source) ? (size_t)(dot - source) :
	    strlen(source);
	if (len > EXPORT_BASE_MAX)
		len = EXPORT_BASE_MAX;
	if (len == 0)
		return (xstrdup("tile"));
	b = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		b[i] = source[i];
		if ((b[i] >= 'a' && b[i] <= 'z') ||
		    (b[i] >= 'A' && b[i] <= 'Z') ||
		    (b[i] >= '0' && b[i] <= '9') ||
		    b[i] == '_' || b[i] == '-' || (b[i] == '.' && i != 0))
			continue;
		b[i] = '_';
	}
	b[len] = '\0';
	return (b);
}

static int
export_cmp_name(const void *a, const void *b)
{
	const struct export_tile	*ta = *(const struct export_tile **)a;
	const struct export_tile	*tb = *(const struct export_tile **)b;

	return (strcmp(ta->name, tb->name));
}

/* Name every tile; tiles whose names clash get their id added. */
static void
export_names(struct export *e)
{
	struct export_tile	**by, *t;
	char			 *base, *s;
	size_t			  i, j;

	for (i = 0; i < e->n; i++) {
		t = &e->t[i];
		base = export_base(t->source);
		xasprintf(&t->name, "%s_%d_%d", base, t->x, t->y);
		free(base);
	}
	if (e->n < 2)
		return;

	by = xreallocarray(NULL, e->n, sizeof *by);
	for (i = 0; i < e->n; i++)
		by[i] = &e->t[i];
	qsort(by, e->n, sizeof *by, export_cmp_name);
	for (i = 0; i < e->n; i = j) {
		for (j = i + 1; j < e->n; j++)
			if (strcmp(by[i]->name, by[j]->name) != 0)
				break;
		if (j - i == 1)
			continue;
		for (; i < j; i++) {
			xasprintf(&s, "%s~%jd", by[i]->name,
			    (intmax_t)by[i]->id);
			free(by[i]->name);
			by[i]->name = s;
		}
	}
	free(by);
}

/* ------------------------------------------------------------------ */
/* Files. */

/* Remove one entry of a tree, for nftw. */
static int
export_remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		log_debug(LOG_EXPORT, "%s: %s", path, strerror(errno));
	return (0);
}

/* Remove a directory and everything in it, as far as possible. */
static void
export_remove_tree(const char *path)
{
	nftw(path, export_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A malloc'd "tmp/rel". */
static char *
export_path(struct export *e, const char *rel)
{
	char	*path;

	xasprintf(&path, "%s/%s", e->tmp, rel);
	return (path);
}

/* Create a folder of the dataset. */
static int
export_mkdir(struct export *e, const char *rel, char **cause)
{
	char	*path = export_path(e, rel);
	int	 rc = 0;

	if (mkdir(path, 0777) != 0)
		rc = set_cause(cause, "%s/%s: %s", e->dir, rel,
		    strerror(errno));
	free(path);
	return (rc);
}

/* Write a whole file of the dataset. */
static int
export_write(struct export *e, const char *rel, const void *buf,
    size_t len, char **cause)
{
	const unsigned char	*p = buf;
	char			*path = export_path(e, rel);
	ssize_t			 n;
	int			 fd, rc = -1;

	fd = open(path, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0666);
	free(path);
	if (fd == -1)
		goto out;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		p += n;
		len -= n;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	return (0);

out:
	set_cause(cause, "%s/%s: %s", e->dir, rel, strerror(errno));
	if (fd != -1)
		close(fd);
	return (rc);
}

/* Open a file of the dataset for writing with stdio. */
static FILE *
export_fopen(struct export *e, const char *rel, char **cause)
{
	char	*path = export_path(e, rel);
	FILE	*f;

	if ((f = fopen(path, "wx")) == NULL)
		set_cause(cause, "%s/%s: %s", e->dir, rel, strerror(errno));
	free(path);
	return (f);
}

/* Close a stdio file of the dataset, reporting a failed write. */
static int
export_fclose(struct export *e, FILE **f, const char *rel, char **cause)
{
	int	failed;

	if (*f == NULL)
		return (0);
	failed = ferror(*f);
	if (fclose(*f) != 0)
		failed = 1;
	*f = NULL;
	if (failed)
		return (set_cause(cause, "%s/%s: %s", e->dir, rel,
		    errno != 0 ? strerror(errno) : "write failed"));
	return (0);
}

/* ------------------------------------------------------------------ */
/* JSON output. */

/* Length of the valid UTF-8 sequence at s, 0 if it is not one. */
static int
export_utf8_len(const unsigned char *s)
{
	int	n, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return (0);
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return (0);
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return (0);
	return (n);
}

/* A JSON string; bytes that are not UTF-8 (a file name's) become '?'. */
static void
export_json_string(FILE *f, const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*copy;
	size_t			 i = 0;
	int			 n;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	copy = xstrdup(s);
	while (u[i] != '\0') {
		if ((n = export_utf8_len(u + i)) == 0) {
			copy[i++] = '?';
			continue;
		}
		i += n;
	}
	json_write_string(f, copy);
	free(copy);
}

/* A Unix time as "YYYY-MM-DDTHH:MM:SSZ", or null. */
static void
export_json_time(FILE *f, int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;
	char		buf[32];

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		fputs("null", f);
		return;
	}
	fprintf(f, "\"%s\"", buf);
}

/* One line of manifest.jsonl. */
static void
export_manifest_line(struct export *e, const struct export_tile *t)
{
	FILE	*f = e->manifest;
	int	 state = t->state;

	fprintf(f, "{\"tile\": %jd, \"name\": ", (intmax_t)t->id);
	export_json_string(f, t->name);
	fprintf(f, ", \"image\": \"%s/%s.jpg\"",
	    e->eo->format == EXPORT_COCO ? "images" : "JPEGImages", t->name);
	if (e->eo->format == EXPORT_VOC)
		fprintf(f, ", \"mask\": \"SegmentationClass/%s.png\"",
		    t->name);
	fputs(", \"source\": ", f);
	export_json_string(f, t->source);
	fprintf(f, ", \"x\": %d, \"y\": %d, \"w\": %d, \"h\": %d, "
	    "\"split\": \"%s\", \"state\": ", t->x, t->y, t->w, t->h,
	    export_splits[t->split == SPLIT_VAL]);
	if (state >= 0 && state < 3)
		fprintf(f, "\"%s\"", export_states[state]);
	else
		fprintf(f, "%d", state);
	fprintf(f, ", \"labelled\": %s, \"author\": ",
	    t->revision > 0 ? "true" : "false");
	export_json_string(f, t->author);
	fputs(", \"time\": ", f);
	export_json_time(f, t->revision > 0 ? t->mtime : 0);
	fprintf(f, ", \"revision\": %d}\n", t->revision);
}

/* "#rrggbb" of a class. */
static void
export_hex(const uint8_t *rgb, char *buf)
{
	snprintf(buf, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* classes.json: the classes in the form s4lab init --classes reads. */
static int
export_classes_json(struct export *e, char **cause)
{
	const struct classdef	*cd;
	FILE			*f;
	char			 hex[8];
	int			 i;

	if ((f = export_fopen(e, "classes.json", cause)) == NULL)
		return (-1);
	fputs("{\"classes\": [", f);
	for (i = 0; i < e->cl.n; i++) {
		cd = &e->cl.c[i];
		export_hex(cd->rgb, hex);
		fprintf(f, "%s\n  {\"index\": %d, \"name\": ", i ? "," : "",
		    i);
		export_json_string(f, cd->name);
		fprintf(f, ", \"color\": \"%s\", \"key\": ", hex);
		if (cd->key != '\0')
			fprintf(f, "\"%c\"", cd->key);
		else
			fputs("null", f);
		fputs("}", f);
	}
	fprintf(f, "\n], \"ignore_index\": %d, \"unlabelled\": [", MASK_VOID);
	for (i = 0; i < e->cl.nvoid; i++) {
		export_hex(e->cl.void_rgb[i], hex);
		fprintf(f, "%s{\"index\": %d, \"color\": \"%s\"}",
		    i ? ", " : "", MASK_VOID, hex);
	}
	fputs("]}\n", f);
	return (export_fclose(e, &f, "classes.json", cause));
}

/* ------------------------------------------------------------------ */
/* The list of tiles, read first. */

/* Read the tiles to export, in id order, with their label's facts. */
static int
export_list(struct export *e, char **cause)
{
	sqlite3			*db = store_db(e->st);
	sqlite3_stmt		*stmt;
	struct export_tile	*t;
	const unsigned char	*s;
	size_t			 size = 0;
	int			 rc;

	if (sqlite3_prepare_v2(db, "SELECT t.id, s.path, t.x, t.y, t.w, "
	    "t.h, t.split, t.state, l.revision, l.author, l.mtime "
	    "FROM tiles t JOIN sources s ON s.id = t.source_id "
	    "LEFT JOIN labels l ON l.tile_id = t.id "
	    "WHERE ?1 OR t.state = ?2 ORDER BY t.id", -1, &stmt,
	    NULL) != SQLITE_OK)
		return (set_cause(cause, "%s: %s", store_path(e->st),
		    sqlite3_errmsg(db)));
	sqlite3_bind_int(stmt, 1, e->eo->all != 0);
	sqlite3_bind_int(stmt, 2, TILE_DONE);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (e->n == size) {
			size = size == 0 ? 256 : size * 2;
			e->t = xreallocarray(e->t, size, sizeof *e->t);
		}
		t = &e->t[e->n++];
		memset(t, 0, sizeof *t);
		t->id = sqlite3_column_int64(stmt, 0);
		s = sqlite3_column_text(stmt, 1);
		t->source = xstrdup(s != NULL ? (const char *)s : "");
		t->x = sqlite3_column_int(stmt, 2);
		t->y = sqlite3_column_int(stmt, 3);
		t->w = sqlite3_column_int(stmt, 4);
		t->h = sqlite3_column_int(stmt, 5);
		t->split = sqlite3_column_int(stmt, 6);
		t->state = sqlite3_column_int(stmt, 7);
		t->revision = sqlite3_column_int(stmt, 8);
		if ((s = sqlite3_column_text(stmt, 9)) != NULL)
			t->author = xstrdup((const char *)s);
		t->mtime = sqlite3_column_int64(stmt, 10);
		if (t->w < 1 || t->h < 1 || t->w > 65535 || t->h > 65535) {
			sqlite3_finalize(stmt);
			return (set_cause(cause, "%s: tile %jd: bad size "
			    "%dx%d", store_path(e->st), (intmax_t)t->id,
			    t->w, t->h));
		}
	}
	if (rc != SQLITE_DONE)
		set_cause(cause, "%s: %s", store_path(e->st),
		    sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* ------------------------------------------------------------------ */
/* The layouts. */

/* The folders and the files that need only the list. */
static int
export_start(struct export *e, char **cause)
{
	const struct export_tile	*t;
	char				 hex[8];
	size_t				 i;
	int				 c;

	if (e->eo->format == EXPORT_VOC) {
		if (export_mkdir(e, "JPEGImages", cause) != 0 ||
		    export_mkdir(e, "SegmentationClass", cause) != 0 ||
		    export_mkdir(e, "ImageSets", cause) != 0 ||
		    export_mkdir(e, "ImageSets/Segmentation", cause) != 0)
			return (-1);
	} else if (export_mkdir(e, "images", cause) != 0)
		return (-1);
	if ((e->manifest = export_fopen(e, "manifest.jsonl", cause)) == NULL)
		return (-1);
	if (e->eo->format == EXPORT_VOC)
		return (0);

	/* COCO: everything but the annotations is known already. */
	if ((e->coco = export_fopen(e, "annotations.json", cause)) == NULL)
		return (-1);
	fputs("{\"info\": {\"description\": \"s4lab export\", "
	    "\"version\": \"1\"},\n\"licenses\": [],\n\"categories\": [",
	    e->coco);
	for (c = 0; c < e->cl.n; c++) {
		export_hex(e->cl.c[c].rgb, hex);
		fprintf(e->coco, "%s\n  {\"id\": %d, \"index\": %d, "
		    "\"name\": ", c ? "," : "", c + 1, c);
		export_json_string(e->coco, e->cl.c[c].name);
		fprintf(e->coco, ", \"supercategory\": \"\", \"color\": "
		    "[%d, %d, %d], \"colour\": \"%s\"}", e->cl.c[c].rgb[0],
		    e->cl.c[c].rgb[1], e->cl.c[c].rgb[2], hex);
	}
	fputs("\n],\n\"images\": [", e->coco);
	for (i = 0; i < e->n; i++) {
		t = &e->t[i];
		fprintf(e->coco, "%s\n  {\"id\": %jd, \"file_name\": "
		    "\"%s.jpg\", \"width\": %d, \"height\": %d}",
		    i ? "," : "", (intmax_t)t->id, t->name, t->w, t->h);
	}
	fputs("\n],\n\"annotations\": [", e->coco);
	return (0);
}

/* COCO: one annotation per class present in the tile's mask. */
static void
export_coco_tile(struct export *e, const struct export_tile *t,
    const uint8_t *mask)
{
	int64_t		 area[MAX_CLASSES];
	int		 x0[MAX_CLASSES], y0[MAX_CLASSES];
	int		 x1[MAX_CLASSES], y1[MAX_CLASSES];
	uint32_t	*counts;
	size_t		 n;
	char		*s;
	int		 x, y, c;

	memset(area, 0, sizeof area);
	for (y = 0; y < t->h; y++) {
		for (x = 0; x < t->w; x++) {
			c = mask[(size_t)y * t->w + x];
			if (c >= e->cl.n)
				continue;
			if (area[c]++ == 0) {
				x0[c] = x1[c] = x;
				y0[c] = y1[c] = y;
				continue;
			}
			if (x < x0[c])
				x0[c] = x;
			if (x > x1[c])
				x1[c] = x;
			y1[c] = y;
		}
	}
	for (c = 0; c < e->cl.n; c++) {
		if (area[c] == 0)
			continue;
		n = mask_rle_encode(mask, t->w, t->h, c, &counts);
		s = mask_rle_string(counts, n);
		free(counts);
		fprintf(e->coco, "%s\n  {\"id\": %jd, \"image_id\": %jd, "
		    "\"category_id\": %d, \"segmentation\": {\"size\": "
		    "[%d, %d], \"counts\": ", e->annotation ? "," : "",
		    (intmax_t)e->annotation + 1, (intmax_t)t->id, c + 1, t->h,
		    t->w);
		/* The counts alphabet ('0' to 'o') holds a backslash. */
		json_write_string(e->coco, s);
		fprintf(e->coco, "}, \"area\": %jd, \"bbox\": [%d, %d, %d, "
		    "%d], \"iscrowd\": 0}", (intmax_t)area[c], x0[c], y0[c],
		    x1[c] - x0[c] + 1, y1[c] - y0[c] + 1);
		free(s);
		e->annotation++;
	}
}

/* Write one tile: its picture, its mask or annotations, its line. */
static int
export_tile(struct export *e, const struct export_tile *t, uint8_t *mask,
    char **cause)
{
	struct tile	 tile;
	unsigned char	*png = NULL;
	size_t		 pnglen;
	char		*rel, *why;
	int		 rc = -1, labelled;

	if (store_tile_get(e->st, t->id, &tile, cause) != 0)
		return (-1);
	if (tile.w != t->w || tile.h != t->h)
		fatalx("%s: tile %jd changed inside a read transaction",
		    store_path(e->st), (intmax_t)t->id);
	labelled = store_label_get(e->st, t->id, mask, (size_t)t->w * t->h,
	    cause);
	if (labelled < 0)
		goto out;

	xasprintf(&rel, "%s/%s.jpg", e->eo->format == EXPORT_COCO ?
	    "images" : "JPEGImages", t->name);
	rc = export_write(e, rel, tile.jpeg, tile.jpeg_len, cause);
	free(rel);
	if (rc != 0)
		goto out;

	if (e->eo->format == EXPORT_VOC) {
		rc = -1;
		if (mask_encode_png(mask, t->w, t->h, &e->cl, &png, &pnglen,
		    &why) != 0) {
			set_cause(cause, "%s: tile %jd: %s",
			    store_path(e->st), (intmax_t)t->id, why);
			free(why);
			goto out;
		}
		xasprintf(&rel, "SegmentationClass/%s.png", t->name);
		rc = export_write(e, rel, png, pnglen, cause);
		free(rel);
		free(png);
		if (rc != 0)
			goto out;
	} else
		export_coco_tile(e, t, mask);

	export_manifest_line(e, t);
	e->es->tiles++;
	if (labelled == 0)
		e->es->labelled++;
	if (t->split == SPLIT_VAL)
		e->es->val++;
	else
		e->es->train++;
	rc = 0;
out:
	tile_free(&tile);
	return (rc);
}

/* VOC: the split files and labelmap.txt. */
static int
export_voc_end(struct export *e, char **cause)
{
	static const char	*rel[2] = {
		"ImageSets/Segmentation/train.txt",
		"ImageSets/Segmentation/val.txt"
	};
	const struct classdef	*cd;
	FILE			*f;
	size_t			 i;
	int			 split, c;
	char			*name, *p;

	for (split = 0; split < 2; split++) {
		if ((f = export_fopen(e, rel[split], cause)) == NULL)
			return (-1);
		for (i = 0; i < e->n; i++)
			if ((e->t[i].split == SPLIT_VAL) == split)
				fprintf(f, "%s\n", e->t[i].name);
		if (export_fclose(e, &f, rel[split], cause) != 0)
			return (-1);
	}

	if ((f = export_fopen(e, "labelmap.txt", cause)) == NULL)
		return (-1);
	fputs("# label:color_rgb:parts:actions\n", f);
	for (c = 0; c < e->cl.n; c++) {
		cd = &e->cl.c[c];
		/* The format has no quoting: ':' in a name would split it. */
		name = clean_text(cd->name);
		for (p = name; *p != '\0'; p++)
			if (*p == ':')
				*p = '_';
		fprintf(f, "%s:%d,%d,%d::\n", name, cd->rgb[0], cd->rgb[1],
		    cd->rgb[2]);
		free(name);
	}
	return (export_fclose(e, &f, "labelmap.txt", cause));
}

/* Write every tile, then the files that close the dataset. */
static int
export_tiles(struct export *e, char **cause)
{
	uint8_t	*mask = NULL;
	size_t	 i;
	int	 rc = -1;

	if (e->eo->tick != NULL)
		e->eo->tick(e->eo->arg, 0, (int64_t)e->n);
	for (i = 0; i < e->n; i++) {
		if (e->eo->stop != NULL && *e->eo->stop) {
			set_cause(cause, "%s: interrupted", e->dir);
			goto out;
		}
		mask = xreallocarray(mask, e->t[i].w, e->t[i].h);
		if (export_tile(e, &e->t[i], mask, cause) != 0)
			goto out;
		if (e->eo->tick != NULL)
			e->eo->tick(e->eo->arg, (int64_t)i + 1, (int64_t)e->n);
	}
	if (e->coco != NULL) {
		fputs("\n]}\n", e->coco);
		e->es->annotations = e->annotation;
	}
	if (export_fclose(e, &e->coco, "annotations.json", cause) != 0 ||
	    export_fclose(e, &e->manifest, "manifest.jsonl", cause) != 0)
		goto out;
	if (e->eo->format == EXPORT_VOC && export_voc_end(e, cause) != 0)
		goto out;
	rc = export_classes_json(e, cause);
out:
	free(mask);
	return (rc);
}

/* ------------------------------------------------------------------ */
/* The destination. */

/*
 * Whether the destination may be written: 0 with *exists set (0 absent,
 * 1 an empty folder, 2 a non-empty one and force), or -1.
 */
static int
export_check_dir(const char *dir, int force, int *exists, char **cause)
{
	struct stat	 sb;
	struct dirent	*de;
	DIR		*d;

	*exists = 0;
	if (lstat(dir, &sb) != 0) {
		if (errno == ENOENT)
			return (0);
		return (set_cause(cause, "%s: %s", dir, strerror(errno)));
	}
	if (!S_ISDIR(sb.st_mode))
		return (set_cause(cause, "%s: exists and is not a directory",
		    dir));
	if ((d = opendir(dir)) == NULL)
		return (set_cause(cause, "%s: %s", dir, strerror(errno)));
	*exists = 1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			*exists = 2;
			break;
		}
	}
	closedir(d);
	if (*exists == 2 && !force)
		return (set_cause(cause, "%s: directory is not empty (--force "
		    "replaces it)", dir));
	return (0);
}

/* Make the hidden temporary folder beside dir. */
static int
export_mktemp(struct export *e, const char *dir, char **cause)
{
	const char	*slash, *base;
	char		*tmp;
	size_t		 len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	slash = memrchr(dir, '/', len);
	base = slash != NULL ? slash + 1 : dir;
	if ((size_t)(base - dir) == len || strncmp(base, ".", len -
	    (base - dir)) == 0 || strncmp(base, "..", len - (base - dir)) == 0)
		return (set_cause(cause, "%s: not a name for a new directory",
		    dir));
	xasprintf(&tmp, "%.*s.%.*s.export-XXXXXX",
	    slash != NULL ? (int)(base - dir) : 0, dir,
	    (int)(len - (base - dir)), base);
	if (mkdtemp(tmp) == NULL) {
		set_cause(cause, "%s: %s", dir, strerror(errno));
		free(tmp);
		return (-1);
	}
	e->tmp = tmp;
	return (0);
}

/* Flush the dataset to disk and put it in place of dir. */
static int
export_install(struct export *e, const char *dir, int exists,
    char **cause)
{
	char	*old;
	int	 fd;

	/*
	 * Onto the disk before it appears under its name, so that a crash
	 * of the machine cannot show a dataset of empty files.  One syncfs
	 * costs less than an fsync per file.
	 */
	if ((fd = open(e->tmp, O_RDONLY|O_DIRECTORY|O_CLOEXEC)) != -1) {
		if (syncfs(fd) != 0)
			log_debug(LOG_EXPORT, "%s: %s", e->tmp,
			    strerror(errno));
		close(fd);
	}
	if (exists != 2) {
		if (rename(e->tmp, dir) != 0)
			return (set_cause(cause, "%s: %s", dir,
			    errno == ENOTEMPTY || errno == EEXIST ?
			    "directory is not empty (--force replaces it)" :
			    strerror(errno)));
		return (0);
	}

#ifdef RENAME_EXCHANGE
	if (renameat2(AT_FDCWD, e->tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0) {
		export_remove_tree(e->tmp);	/* now the old dataset */
		return (0);
	}
	if (errno != EINVAL && errno != ENOSYS)
		return (set_cause(cause, "%s: %s", dir, strerror(errno)));
#endif
	/* No atomic exchange here: old aside, new in, old removed. */
	xasprintf(&old, "%s.old", e->tmp);
	if (rename(dir, old) != 0) {
		set_cause(cause, "%s: %s", dir, strerror(errno));
		free(old);
		return (-1);
	}
	if (rename(e->tmp, dir) != 0) {
		set_cause(cause, "%s: %s", dir, strerror(errno));
		if (rename(old, dir) != 0)
			log_debug(LOG_EXPORT, "%s: %s", old, strerror(errno));
		free(old);
		return (-1);
	}
	export_remove_tree(old);
	free(old);
	return (0);
}

/* ------------------------------------------------------------------ */

static void
export_free(struct export *e)
{
	size_t	i;

	if (e->manifest != NULL)
		fclose(e->manifest);
	if (e->coco != NULL)
		fclose(e->coco);
	for (i = 0; i < e->n; i++) {
		free(e->t[i].source);
		free(e->t[i].name);
		free(e->t[i].author);
	}
	free(e->t);
	free(e->tmp);
}

/*
 * Export the project's done tiles (every tile with eo->all) into the
 * directory dir, which must be absent or empty unless eo->force.  On
 * success dir holds the whole dataset and es (which may be NULL) says
 * what is in it; on failure, -1 with a cause, and dir is as it was.
 */
int
export_dataset(struct store *st, const char *dir,
    const struct export_opts *eo, struct export_stats *es, char **cause)
{
	struct export		 e;
	struct export_stats	 es0;
	sqlite3			*db = store_db(st);
	int			 exists, rc = -1, intxn = 0;

	memset(&e, 0, sizeof e);
	if (es == NULL)
		es = &es0;
	memset(es, 0, sizeof *es);
	e.st = st;
	e.eo = eo;
	e.es = es;
	e.dir = dir;
	if (eo->format != EXPORT_VOC && eo->format != EXPORT_COCO)
		return (set_cause(cause, "unknown export format %d",
		    eo->format));
	if (export_check_dir(dir, eo->force, &exists, cause) != 0)
		return (-1);

	/* One read transaction from the first read to the last. */
	if (sqlite3_get_autocommit(db)) {
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return (set_cause(cause, "%s: %s", store_path(st),
			    sqlite3_errmsg(db)));
		intxn = 1;
	}
	if (store_get_classes(st, &e.cl, cause) != 0 ||
	    export_list(&e, cause) != 0)
		goto out;
	export_names(&e);
	log_debug(LOG_EXPORT, "%s: %zu tiles to %s", store_path(st), e.n,
	    dir);

	if (export_mktemp(&e, dir, cause) != 0)
		goto out;
	if (export_start(&e, cause) != 0 || export_tiles(&e, cause) != 0)
		goto out;
	if (intxn) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		intxn = 0;
	}
	if (eo->stop != NULL && *eo->stop) {
		set_cause(cause, "%s: interrupted", dir);
		goto out;
	}
	if (export_install(&e, dir, exists, cause) != 0)
		goto out;
	free(e.tmp);
	e.tmp = NULL;
	rc = 0;
out:
	if (intxn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (e.manifest != NULL) {
		fclose(e.manifest);
		e.manifest = NULL;
	}
	if (e.coco != NULL) {
		fclose(e.coco);
		e.coco = NULL;
	}
	if (e.tmp != NULL)
		export_remove_tree(e.tmp);
	export_free(&e);
	return (rc);
}
