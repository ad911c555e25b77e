/*
 * Import: scenes (JPEG or PNG files) cut into tiles of the project's tile
 * size, with their ground-truth masks, into the project store.
 *
 * A scene is a grid of tiles from its top-left corner; the last column and
 * row keep their own smaller size (the padding a model or a view needs is
 * added there, and is never a labelled pixel).  A JPEG tile whose offset
 * falls on the file's MCU grid is cut from the file's bytes without
 * decoding (image_crop_jpeg), so it holds exactly the scene's pixels; the
 * others, and every tile of a PNG, a CMYK JPEG or a JPEG that EXIF turns,
 * are encoded again from the decoded scene.  The whole scene is decoded
 * in any case: that is how damaged files are caught before anything is
 * stored.
 *
 * Each file goes in one transaction, with its source row, tiles and
 * labels: a file that fails leaves nothing behind.  A file whose bytes are
 * already a source of the project is skipped, and so is a tile whose bytes
 * are already stored.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s4lab.h"

#define IMPORT_MAX_FILE		(1024UL * 1024 * 1024)
#define IMPORT_MAX_DEPTH	32
#define IMPORT_QUALITY		95	/* of re-encoded tiles */

/* One scene being imported. */
struct import_scene {
	const char		*path;
	unsigned char		*buf;
	size_t			 len;
	char			 hash[65];
	struct image		 img;
	struct image_info	 info;
	uint8_t			*mask;		/* NULL if none */
	int			 ntiles;
	struct image_rect	*r;
	unsigned char		**jpeg;
	size_t			*jpeg_len;
	int			*lossless;
	/* Said once the scene is stored (struct import_opts warn). */
	char			**warning;
	int			 nwarning;
};

/*
 * The tiles of a w x h scene, row after row, as rectangles: *r is
 * malloc'd, the count returned.  Tiles on the right and bottom edges are
 * smaller when the size does not divide the scene.
 */
int
import_grid(int w, int h, int ts, struct image_rect **r)
{
	int	 nx, ny, i, j, n = 0;

	if (w < 1 || h < 1 || ts < 1)
		fatalx("%s: %dx%d in tiles of %d", __func__, w, h, ts);
	nx = (w + ts - 1) / ts;
	ny = (h + ts - 1) / ts;
	*r = xreallocarray(NULL, (size_t)nx * ny, sizeof **r);
	for (j = 0; j < ny; j++) {
		for (i = 0; i < nx; i++, n++) {
			(*r)[n].x = i * ts;
			(*r)[n].y = j * ts;
			(*r)[n].w = w - i * ts < ts ? w - i * ts : ts;
			(*r)[n].h = h - j * ts < ts ? h - j * ts : ts;
		}
	}
	return (n);
}

/* Whether a tile of this scene can be cut without re-encoding. */
int
import_tile_lossless(const struct image_info *info,
    const struct image_rect *r)
{
	if (info->format != IMAGE_JPEG || info->cmyk ||
	    info->orientation != 1 || info->mcu_w == 0 || info->mcu_h == 0)
		return (0);
	return (r->x % info->mcu_w == 0 && r->y % info->mcu_h == 0);
}

/* ------------------------------------------------------------------ */
/* Finding files and masks. */

static int
import_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static void
import_list_add(struct import_list *l, const char *path, size_t rootlen)
{
	if (l->n == l->size) {
		l->size = l->size == 0 ? 64 : l->size * 2;
		l->item = xreallocarray(l->item, l->size, sizeof *l->item);
	}
	l->item[l->n].path = xstrdup(path);
	l->item[l->n].rootlen = rootlen;
	l->n++;
}

/*
 * The directories and files already walked, by device and inode: a set
 * with open addressing, so that a walk through symbolic links reads each
 * file once and always ends.
 */
struct import_key {
	uint64_t	 dev;
	uint64_t	 ino;
};

struct import_seen {
	struct import_key *key;
	unsigned char	*used;
	size_t		 n;
	size_t		 size;		/* a power of two */
};

static size_t
import_seen_hash(const struct import_key *k, size_t size)
{
	uint64_t	h = k->ino * 0x9e3779b97f4a7c15ULL ^ k->dev;

	return ((size_t)(h ^ (h >> 29)) & (size - 1));
}

/* Add a key; 1 if it was new, 0 if it was there already. */
static int
import_seen_add(struct import_list *l, const struct stat *sb)
{
	struct import_seen	*s;
	struct import_key	 k, *oldkey;
	unsigned char		*oldused;
	size_t			 i, j, oldsize;

	if ((s = l->seen) == NULL)
		s = l->seen = xcalloc(1, sizeof *s);
	if (2 * (s->n + 1) > s->size) {
		oldkey = s->key;
		oldused = s->used;
		oldsize = s->size;
		s->size = oldsize == 0 ? 64 : oldsize * 2;
		s->key = xcalloc(s->size, sizeof *s->key);
		s->used = xcalloc(s->size, 1);
		for (i = 0; i < oldsize; i++) {
			if (!oldused[i])
				continue;
			j = import_seen_hash(&oldkey[i], s->size);
			while (s->used[j])
				j = (j + 1) & (s->size - 1);
			s->key[j] = oldkey[i];
			s->used[j] = 1;
		}
		free(oldkey);
		free(oldused);
	}
	k.dev = (uint64_t)sb->st_dev;
	k.ino = (uint64_t)sb->st_ino;
	for (j = import_seen_hash(&k, s->size); s->used[j];
	    j = (j + 1) & (s->size - 1)) {
		if (s->key[j].dev == k.dev && s->key[j].ino == k.ino)
			return (0);
	}
	s->key[j] = k;
	s->used[j] = 1;
	s->n++;
	return (1);
}

/* Free a list of files. */
void
import_list_free(struct import_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->item[i].path);
	free(l->item);
	for (i = 0; i < l->nwarning; i++)
		free(l->warning[i]);
	free(l->warning);
	if (l->seen != NULL) {
		free(l->seen->key);
		free(l->seen->used);
		free(l->seen);
	}
	memset(l, 0, sizeof *l);
}

/* Whether a file found in a directory is worth trying as a picture. */
static int
import_looks_like_image(const char *path)
{
	unsigned char	 head[8];
	ssize_t		 n;
	int		 fd;

	if (image_kind_of_name(path) != IMAGE_UNKNOWN)
		return (1);
	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1)
		return (0);
	n = read(fd, head, sizeof head);
	close(fd);
	return (n > 0 && image_sniff(head, n) != IMAGE_UNKNOWN);
}

/* One walk of a directory given on the command line. */
struct import_walk {
	struct import_list	*l;
	const char		*skip;		/* the masks directory */
	size_t			 rootlen;
	int			 bad;
	char			**cause;
	/* The directories from the root down to the one being read. */
	struct import_key	 stack[IMPORT_MAX_DEPTH + 1];
	char			*stack_path[IMPORT_MAX_DEPTH + 1];
	int			 depth;
};

static void	import_walk(struct import_walk *, const char *);

/* Count a path that could not be read; the first one is the cause. */
static void
import_walk_bad(struct import_walk *w, const char *path, const char *why)
{
	if (w->bad++ == 0)
		set_cause(w->cause, "%s: %s", path, why);
}

/*
 * A directory met in the walk: walked unless it is the masks directory
 * or was walked already.  When it is one of the directories above it
 * (a symbolic link back up), the loop is noted once, as a warning.
 */
static void
import_walk_dir(struct import_walk *w, const char *path,
    const struct stat *sb)
{
	struct import_list	*l = w->l;
	char			 real[PATH_MAX];
	int			 i;

	if (w->skip != NULL && realpath(path, real) != NULL &&
	    strcmp(real, w->skip) == 0)
		return;
	if (import_seen_add(l, sb)) {
		import_walk(w, path);
		return;
	}
	for (i = 0; i < w->depth; i++) {
		if (w->stack[i].dev == (uint64_t)sb->st_dev &&
		    w->stack[i].ino == (uint64_t)sb->st_ino)
			break;
	}
	if (i == w->depth) {
		log_debug(LOG_IMPORT, "%s: walked already", path);
		return;
	}
	l->warning = xreallocarray(l->warning, l->nwarning + 1,
	    sizeof *l->warning);
	xasprintf(&l->warning[l->nwarning++], "%s: a symbolic link loop "
	    "back to %s, not followed", path, w->stack_path[i]);
}

/*
 * Add the pictures under dir, sorted by name at each level, skipping
 * hidden names and the masks directory, each directory and file once.
 * Directories that cannot be read are counted in w->bad.
 */
static void
import_walk(struct import_walk *w, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		**names = NULL, *path;
	size_t		 n = 0, size = 0, i;

	if (w->depth > IMPORT_MAX_DEPTH) {
		import_walk_bad(w, dir, "directories nested too deep");
		return;
	}
	if (stat(dir, &sb) == -1 || (d = opendir(dir)) == NULL) {
		import_walk_bad(w, dir, strerror(errno));
		return;
	}
	w->stack[w->depth].dev = (uint64_t)sb.st_dev;
	w->stack[w->depth].ino = (uint64_t)sb.st_ino;
	w->stack_path[w->depth] = (char *)dir;
	w->depth++;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == size) {
			size = size == 0 ? 64 : size * 2;
			names = xreallocarray(names, size, sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, import_name_cmp);

	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", dir, names[i]);
		free(names[i]);
		if (stat(path, &sb) == -1)
			import_walk_bad(w, path, strerror(errno));
		else if (S_ISDIR(sb.st_mode))
			import_walk_dir(w, path, &sb);
		else if (S_ISREG(sb.st_mode) && import_seen_add(w->l, &sb) &&
		    import_looks_like_image(path))
			import_list_add(w->l, path, w->rootlen);
		free(path);
	}
	free(names);
	w->depth--;
}

/*
 * Add a path given on the command line: a file as it is, a directory as
 * the pictures under it.  masks is the --masks directory (or NULL), which
 * is never walked as pictures.  Symbolic links are followed, but each
 * directory and file is taken once, in all the calls on the same list; a
 * link back to a directory above it is a loop, noted in l->warning.
 * Returns -1 with a cause if something could not be read; what could be
 * read is added all the same.
 */
int
import_collect(const char *path, const char *masks, struct import_list *l,
    char **cause)
{
	struct import_walk	 w;
	struct stat		 sb;
	char			 skip[PATH_MAX], *dir, *tmp;
	size_t			 len;

	if (stat(path, &sb) == -1)
		return (set_cause(cause, "%s: %s", path, strerror(errno)));
	if (!S_ISDIR(sb.st_mode)) {
		import_list_add(l, path, 0);
		return (0);
	}
	if (!import_seen_add(l, &sb)) {
		log_debug(LOG_IMPORT, "%s: walked already", path);
		return (0);
	}
	if (masks == NULL || realpath(masks, skip) == NULL)
		skip[0] = '\0';
	dir = xstrdup(path);
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';

	memset(&w, 0, sizeof w);
	w.l = l;
	w.skip = skip[0] != '\0' ? skip : NULL;
	w.rootlen = len + 1;
	w.cause = cause;
	import_walk(&w, dir);
	free(dir);
	if (w.bad > 1 && cause != NULL) {
		xasprintf(&tmp, "%s (and %d more)", *cause, w.bad - 1);
		free(*cause);
		*cause = tmp;
	}
	return (w.bad ? -1 : 0);
}

/* path without its extension; malloc'd. */
static char *
import_stem(const char *path)
{
	char		*s = xstrdup(path), *dot, *slash;

	dot = strrchr(s, '.');
	slash = strrchr(s, '/');
	if (dot != NULL && (slash == NULL || dot > slash + 1))
		*dot = '\0';
	return (s);
}

/*
 * The mask of a picture in the masks directory: the same path relative to
 * the directory it was found under, or the same base name, with the
 * extension .png.  NULL if there is none.
 */
char *
import_mask_path(const char *masks, const struct import_item *it)
{
	struct stat	 sb;
	const char	*base;
	char		*stem, *try;
	size_t		 len;

	stem = import_stem(it->path);
	/* "masks/" and "masks" give the same paths in messages. */
	len = strlen(masks);
	while (len > 1 && masks[len - 1] == '/')
		len--;
	if (it->rootlen != 0) {
		xasprintf(&try, "%.*s/%s.png", (int)len, masks,
		    stem + it->rootlen);
		if (stat(try, &sb) == 0 && S_ISREG(sb.st_mode)) {
			free(stem);
			return (try);
		}
		free(try);
	}
	base = strrchr(stem, '/');
	base = base == NULL ? stem : base + 1;
	xasprintf(&try, "%.*s/%s.png", (int)len, masks, base);
	free(stem);
	if (stat(try, &sb) == 0 && S_ISREG(sb.st_mode))
		return (try);
	free(try);
	return (NULL);
}

/* ------------------------------------------------------------------ */
/* One file. */

static void
import_scene_free(struct import_scene *sc)
{
	int	 i;

	free(sc->buf);
	image_free(&sc->img);
	free(sc->mask);
	if (sc->jpeg != NULL) {
		for (i = 0; i < sc->ntiles; i++)
			free(sc->jpeg[i]);
	}
	free(sc->jpeg);
	for (i = 0; i < sc->nwarning; i++)
		free(sc->warning[i]);
	free(sc->warning);
	free(sc->jpeg_len);
	free(sc->lossless);
	free(sc->r);
}

/* Read the scene's mask and check it fits the picture as shown. */
static int
import_scene_mask(struct import_scene *sc, const char *mask_path,
    const struct classes *cl, uint64_t max_pixels, char **cause)
{
	int	 w, h;
	char	*why = NULL, *note = NULL;

	sc->mask = mask_read_noted(mask_path, cl, max_pixels, &w, &h, &note,
	    &why);
	if (note != NULL) {
		/* Said once the scene is stored, with its other warnings. */
		sc->warning = xreallocarray(sc->warning, sc->nwarning + 1,
		    sizeof *sc->warning);
		sc->warning[sc->nwarning++] = note;
	}
	if (sc->mask == NULL) {
		set_cause(cause, "%s: its mask is refused: %s", sc->path,
		    why);
		free(why);
		return (-1);
	}
	if (w == sc->img.w && h == sc->img.h)
		return (0);
	if (sc->info.orientation != 1 && w == sc->info.stored_w &&
	    h == sc->info.stored_h) {
		return (set_cause(cause, "%s: mask %s is %dx%d, the picture "
		    "as stored before its EXIF orientation %d; the mask must "
		    "match the picture as shown, %dx%d", sc->path, mask_path,
		    w, h, sc->info.orientation, sc->img.w, sc->img.h));
	}
	return (set_cause(cause, "%s: mask %s is %dx%d but the picture is "
	    "%dx%d", sc->path, mask_path, w, h, sc->img.w, sc->img.h));
}

/*
 * Encode every tile: the ones on the MCU grid in one lossless crop call,
 * the others from the decoded pixels.  If the crop is refused (TurboJPEG
 * knows fewer subsamplings than libjpeg), they are re-encoded too.
 */
static int
import_scene_tiles(struct import_scene *sc, int ts, char **cause)
{
	struct image_rect	*cr;
	unsigned char		**cout;
	size_t			*clen;
	char			*why = NULL;
	int			*ci, n = 0, i;

	sc->ntiles = import_grid(sc->img.w, sc->img.h, ts, &sc->r);
	sc->jpeg = xcalloc(sc->ntiles, sizeof *sc->jpeg);
	sc->jpeg_len = xcalloc(sc->ntiles, sizeof *sc->jpeg_len);
	sc->lossless = xcalloc(sc->ntiles, sizeof *sc->lossless);
	cr = xcalloc(sc->ntiles, sizeof *cr);
	ci = xcalloc(sc->ntiles, sizeof *ci);
	cout = xcalloc(sc->ntiles, sizeof *cout);
	clen = xcalloc(sc->ntiles, sizeof *clen);
	for (i = 0; i < sc->ntiles; i++) {
		if (import_tile_lossless(&sc->info, &sc->r[i])) {
			cr[n] = sc->r[i];
			ci[n++] = i;
		}
	}
	if (image_crop_jpeg(sc->path, sc->buf, sc->len, cr, n, cout, clen,
	    &why) == 0) {
		for (i = 0; i < n; i++) {
			sc->jpeg[ci[i]] = cout[i];
			sc->jpeg_len[ci[i]] = clen[i];
			sc->lossless[ci[i]] = 1;
		}
	} else {
		log_debug(LOG_IMPORT, "re-encoding instead: %s", why);
		free(why);
	}
	free(cr);
	free(ci);
	free(cout);
	free(clen);

	for (i = 0; i < sc->ntiles; i++) {
		if (sc->jpeg[i] != NULL)
			continue;
		if (image_encode_jpeg(&sc->img, sc->r[i].x, sc->r[i].y,
		    sc->r[i].w, sc->r[i].h, IMPORT_QUALITY, &sc->jpeg[i],
		    &sc->jpeg_len[i], &why) != 0) {
			set_cause(cause, "%s: %s", sc->path, why);
			free(why);
			return (-1);
		}
	}
	return (0);
}

/*
 * The region of the scene's mask under tile i, or NULL when the scene has
 * no mask or nothing in that region is labelled.  malloc'd.
 */
static uint8_t *
import_tile_mask(const struct import_scene *sc, int i)
{
	const struct image_rect	*r = &sc->r[i];
	uint8_t			*m;
	int			 y, x, any = 0;

	if (sc->mask == NULL)
		return (NULL);
	m = xmalloc((size_t)r->w * r->h);
	for (y = 0; y < r->h; y++) {
		memcpy(m + (size_t)y * r->w, sc->mask +
		    (size_t)(r->y + y) * sc->img.w + r->x, r->w);
		for (x = 0; x < r->w && !any; x++)
			any = (m[(size_t)y * r->w + x] != MASK_VOID);
	}
	if (!any) {
		free(m);
		return (NULL);
	}
	return (m);
}

/*
 * Tile i of the scene has the bytes of a tile already stored, and the
 * scene's mask labels it (m).  The stored tile gets that label if it has
 * none; if it has another one, it keeps it and a warning is noted.
 * Returns 1 if a label was stored, 0 if not, -1 on error.
 */
static int
import_tile_known(struct store *st, struct import_scene *sc, int i,
    const uint8_t *m, const char *author, char **cause)
{
	const struct image_rect	*r = &sc->r[i];
	size_t			 len = (size_t)r->w * r->h;
	uint8_t			*old;
	int64_t			 id;
	int			 rc;

	if ((id = store_tile_find(st, sc->jpeg[i], sc->jpeg_len[i])) <= 0) {
		return (set_cause(cause, "%s: tile at %d,%d: its identical "
		    "stored tile cannot be read", sc->path, r->x, r->y));
	}
	old = xmalloc(len);
	rc = store_label_get(st, id, old, len, cause);
	if (rc == 1) {
		if (store_label_put(st, id, m, len, author, "import",
		    cause) != 0 || store_tile_set_state(st, id, TILE_DONE,
		    author, cause) != 0)
			rc = -1;
	} else if (rc == 0 && memcmp(old, m, len) != 0) {
		sc->warning = xreallocarray(sc->warning, sc->nwarning + 1,
		    sizeof *sc->warning);
		xasprintf(&sc->warning[sc->nwarning++], "%s: the tile at "
		    "%d,%d is identical to tile %jd, which has another label; "
		    "tile %jd keeps its label and this mask's part is not "
		    "stored", sc->path, r->x, r->y, (intmax_t)id,
		    (intmax_t)id);
	}
	free(old);
	return (rc);
}

/* Add tile i of the scene and its label; 0 or -1. */
static int
import_tile_store(struct store *st, struct import_scene *sc, int64_t sid,
    int i, const char *author, struct import_stats *is, char **cause)
{
	struct tile	 t;
	uint8_t		*m;
	int		 rc = -1;

	memset(&t, 0, sizeof t);
	t.source_id = sid;
	t.x = sc->r[i].x;
	t.y = sc->r[i].y;
	t.w = sc->r[i].w;
	t.h = sc->r[i].h;
	t.jpeg = sc->jpeg[i];
	t.jpeg_len = sc->jpeg_len[i];
	if (store_tile_add(st, &t, cause) != 0)
		return (-1);
	if (t.id == 0)
		is->duplicate++;
	else {
		is->tiles++;
		is->lossless += sc->lossless[i];
	}
	if ((m = import_tile_mask(sc, i)) == NULL)
		return (0);
	if (t.id == 0) {
		if ((rc = import_tile_known(st, sc, i, m, author, cause)) > 0)
			is->labelled++;
		free(m);
		return (rc < 0 ? -1 : 0);
	}
	if (store_label_put(st, t.id, m, (size_t)t.w * t.h, author, "import",
	    cause) == 0 && store_tile_set_state(st, t.id, TILE_DONE, author,
	    cause) == 0) {
		is->labelled++;
		rc = 0;
	}
	free(m);
	return (rc);
}

/* Put the scene's name before a cause from the store; returns -1. */
static int
import_scene_cause(const struct import_scene *sc, char **cause)
{
	char	*tmp;

	if (cause == NULL || *cause == NULL ||
	    strncmp(*cause, sc->path, strlen(sc->path)) == 0)
		return (-1);
	xasprintf(&tmp, "%s: not imported: %s", sc->path, *cause);
	free(*cause);
	*cause = tmp;
	return (-1);
}

/*
 * Store the scene, its tiles and their labels in one transaction.  The
 * scene's hash is looked up again under the write lock: another import
 * may have stored the same file since import_file looked.  Returns 0, 1
 * if the scene is in the project already, -1.
 */
static int
import_scene_store(struct store *st, struct import_scene *sc,
    const char *author, struct import_stats *is, char **cause)
{
	struct import_stats	 add;
	char			 real[PATH_MAX];
	const char		*path;
	int64_t			 sid;
	int			 i;

	path = realpath(sc->path, real) != NULL ? real : sc->path;
	if (store_begin(st, cause) != 0)
		return (import_scene_cause(sc, cause));
	if ((sid = store_source_by_hash(st, sc->hash)) > 0) {
		log_debug(LOG_IMPORT, "%s: source %jd meanwhile", sc->path,
		    (intmax_t)sid);
		store_rollback(st);
		return (1);
	}
	sid = store_source_add(st, path, sc->img.w, sc->img.h, sc->hash,
	    cause);
	if (sid <= 0)
		goto fail;
	memset(&add, 0, sizeof add);
	for (i = 0; i < sc->ntiles; i++) {
		if (import_tile_store(st, sc, sid, i, author, &add, cause) != 0)
			goto fail;
	}
	if (store_commit(st, cause) != 0)
		goto fail;
	is->tiles += add.tiles;
	is->lossless += add.lossless;
	is->duplicate += add.duplicate;
	is->labelled += add.labelled;
	return (0);

fail:
	store_rollback(st);
	return (import_scene_cause(sc, cause));
}

/*
 * Import one picture file, and its mask when mask_path is not NULL (cl:
 * the project's classes).  Returns 0 if imported or already in the
 * project, -1 with a cause naming the file otherwise; then nothing of it
 * is in the project.
 */
int
import_file(struct store *st, const char *path, const char *mask_path,
    const struct classes *cl, const struct import_opts *io,
    struct import_stats *is, char **cause)
{
	struct import_scene	 sc;
	int64_t			 sid;
	int			 ts, stored, i, rc = -1;

	memset(&sc, 0, sizeof sc);
	sc.path = path;
	if ((sc.buf = read_file(path, &sc.len, IMPORT_MAX_FILE,
	    cause)) == NULL)
		return (-1);
	sha256_hex(sc.buf, sc.len, sc.hash);
	if ((sid = store_source_by_hash(st, sc.hash)) > 0) {
		log_debug(LOG_IMPORT, "%s: already source %jd", path,
		    (intmax_t)sid);
		is->known++;
		rc = 0;
		goto out;
	}
	if (image_decode(path, sc.buf, sc.len, io->max_pixels, &sc.img,
	    &sc.info, cause) != 0)
		goto out;
	if (mask_path != NULL && import_scene_mask(&sc, mask_path, cl,
	    io->max_pixels, cause) != 0)
		goto out;
	if ((ts = store_tile_size(st)) < 1)
		ts = 256;
	if (import_scene_tiles(&sc, ts, cause) != 0)
		goto out;
	if ((stored = import_scene_store(st, &sc, user_name(io->user), is,
	    cause)) < 0)
		goto out;
	if (stored == 1) {
		is->known++;
		rc = 0;
		goto out;
	}
	for (i = 0; i < sc.nwarning; i++) {
		if (io->warn != NULL)
			io->warn(io->warn_arg, sc.warning[i]);
		else
			log_debug(LOG_IMPORT, "%s", sc.warning[i]);
	}
	is->files++;
	if (mask_path != NULL)
		is->masks++;
	log_debug(LOG_IMPORT, "%s: %dx%d, %d tiles", path, sc.img.w,
	    sc.img.h, sc.ntiles);
	rc = 0;
out:
	import_scene_free(&sc);
	return (rc);
}
