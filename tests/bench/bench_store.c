/*
 * Benchmark of the project store: the latency of committing one stroke
 * (store_label_put of a 256x256 mask), and opening a project of 100,000
 * tiles and moving through its queue.  The peer is SQLite itself in the
 * same run: one 4 KB row per BEGIN IMMEDIATE transaction, WAL,
 * synchronous=NORMAL.  Prints figures; never fails on time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "s4lab.h"

#define SIDE		256
#define STROKES		1000

static char	dir[] = "/tmp/bench_store.XXXXXX";
static int	TILES = 100000;

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

/* Print median, p99 and max of n times in seconds, as milliseconds. */
static void
report(const char *what, double *t, int n, double peer_median)
{
	qsort(t, n, sizeof *t, cmp_double);
	printf("%-38s %8.3f %8.3f %8.3f", what, t[n / 2] * 1e3,
	    t[n * 99 / 100] * 1e3, t[n - 1] * 1e3);
	if (peer_median > 0)
		printf("  %5.1fx", t[n / 2] / peer_median);
	printf("\n");
}

static void
die(const char *what, char *cause)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, cause);
	exit(1);
}

/* Paint a disk of class c at (cx, cy), radius r: one brush stroke. */
static void
paint(uint8_t *mask, int cx, int cy, int r, int c)
{
	int	x, y;

	for (y = cy - r; y <= cy + r; y++)
		for (x = cx - r; x <= cx + r; x++)
			if (x >= 0 && y >= 0 && x < SIDE && y < SIDE &&
			    (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
				mask[y * SIDE + x] = c;
}

/* The peer: raw SQLite, WAL, synchronous=NORMAL, a 4 KB row table. */
static sqlite3 *
peer_open(sqlite3_stmt **ins)
{
	sqlite3	*db;
	char	*path;

	xasprintf(&path, "%s/peer.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, "open");
	sqlite3_exec(db, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = NORMAL; CREATE TABLE t (id INTEGER "
	    "PRIMARY KEY, b BLOB)", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO t (b) VALUES (?1)", -1, ins,
	    NULL);
	free(path);
	return (db);
}

/* One peer commit of a 4 KB row; returns its time. */
static double
peer_commit(sqlite3 *db, sqlite3_stmt *ins, int i)
{
	char	blob[4096];
	double	t0;

	memset(blob, i, sizeof blob);
	t0 = now_seconds();
	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_bind_blob(ins, 1, blob, sizeof blob, SQLITE_STATIC);
	sqlite3_step(ins);
	sqlite3_reset(ins);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return (now_seconds() - t0);
}

/*
 * 1000 strokes committed one by one on one tile, each alternating with
 * a peer commit so that both see the same machine.
 */
static void
bench_strokes(void)
{
	struct store	*st;
	struct tile	 tile;
	sqlite3		*peer;
	sqlite3_stmt	*ins;
	uint8_t		*mask;
	char		*path, *cause = NULL;
	double		*t, *tp, t0;
	int		 i;

	xasprintf(&path, "%s/strokes.s4lab", dir);
	if ((st = store_open(path, STORE_MUSTNEW, &cause)) == NULL)
		die(path, cause);
	memset(&tile, 0, sizeof tile);
	tile.source_id = store_source_add(st, "scene.jpg", SIDE, SIDE, "00",
	    &cause);
	tile.w = tile.h = SIDE;
	tile.jpeg = (unsigned char *)"tile";
	tile.jpeg_len = 4;
	if (store_tile_add(st, &tile, &cause) != 0)
		die(path, cause);
	peer = peer_open(&ins);

	t = xreallocarray(NULL, STROKES, sizeof *t);
	tp = xreallocarray(NULL, STROKES, sizeof *tp);
	mask = xmalloc(SIDE * SIDE);
	memset(mask, MASK_VOID, SIDE * SIDE);
	for (i = 0; i < STROKES; i++) {
		paint(mask, (i * 37) % SIDE, (i * 91) % SIDE, 6 + i % 10,
		    i % 5);
		tp[i] = peer_commit(peer, ins, i);
		t0 = now_seconds();
		if (store_label_put(st, tile.id, mask, SIDE * SIDE, "bench",
		    "paint", &cause) != 0)
			die(path, cause);
		t[i] = now_seconds() - t0;
	}
	report("peer: SQLite, 4 KB row per commit", tp, STROKES, 0);
	report("stroke commit (label_put 256x256)", t, STROKES,
	    tp[STROKES / 2]);
	sqlite3_finalize(ins);
	sqlite3_close(peer);
	free(mask);
	free(t);
	free(tp);
	store_close(st);
	free(path);
}

/* Fill a project with TILES small tiles and predictions, in one go. */
static void
bench_make_big(const char *path)
{
	struct store	*st;
	struct tile	 tile;
	sqlite3_stmt	*pred;
	char		 bytes[64], *cause = NULL;
	double		 t0;
	int		 i;

	t0 = now_seconds();
	if ((st = store_open(path, STORE_MUSTNEW, &cause)) == NULL)
		die(path, cause);
	if (store_begin(st, &cause) != 0)
		die(path, cause);
	memset(&tile, 0, sizeof tile);
	tile.source_id = store_source_add(st, "big.jpg", 80000, 80000, "11",
	    &cause);
	tile.w = tile.h = SIDE;
	sqlite3_exec(store_db(st), "INSERT INTO models (id) VALUES (1)",
	    NULL, NULL, NULL);
	sqlite3_prepare_v2(store_db(st), "INSERT INTO predictions "
	    "(tile_id, model_id, score, entropy) VALUES (?1, 1, ?2, ?3)", -1,
	    &pred, NULL);
	for (i = 0; i < TILES; i++) {
		snprintf(bytes, sizeof bytes, "small tile blob %d", i);
		tile.x = (i % 312) * SIDE;
		tile.y = (i / 312) * SIDE;
		tile.jpeg = (unsigned char *)bytes;
		tile.jpeg_len = strlen(bytes);
		if (store_tile_add(st, &tile, &cause) != 0)
			die(path, cause);
		sqlite3_bind_int64(pred, 1, tile.id);
		sqlite3_bind_double(pred, 2, (i * 7919 % 10007) / 10007.0);
		sqlite3_bind_double(pred, 3, (i * 104729 % 10007) / 10007.0);
		sqlite3_step(pred);
		sqlite3_reset(pred);
	}
	sqlite3_finalize(pred);
	if (store_commit(st, &cause) != 0)
		die(path, cause);
	store_close(st);
	printf("make %d tiles + predictions, one transaction: %.0f ms "
	    "(%.0f tiles/s)\n", TILES, (now_seconds() - t0) * 1e3,
	    TILES / (now_seconds() - t0));
}

/* Open, list the queue, read the first and the next tile. */
static void
bench_open_big(const char *path, int order, const char *name)
{
	struct store	*st;
	struct tile	 t;
	uint8_t		*mask;
	int64_t		*ids;
	size_t		 n;
	char		*cause = NULL;
	double		 t0, t_open, t_ids, t_first, t_next, t_label;

	t0 = now_seconds();
	if ((st = store_open(path, 0, &cause)) == NULL)
		die(path, cause);
	t_open = now_seconds();
	if (store_tile_ids(st, order, &ids, &n, &cause) != 0)
		die(path, cause);
	t_ids = now_seconds();
	if (store_tile_get(st, ids[0], &t, &cause) != 0)
		die(path, cause);
	tile_free(&t);
	t_first = now_seconds();
	if (store_tile_get(st, ids[1], &t, &cause) != 0)
		die(path, cause);
	t_next = now_seconds();
	mask = xmalloc((size_t)t.w * t.h);
	if (store_label_get(st, ids[1], mask, (size_t)t.w * t.h, &cause) < 0)
		die(path, cause);
	t_label = now_seconds();
	tile_free(&t);
	free(mask);
	printf("%-14s open %6.2f ms  ids %6.2f ms (%zu)  first %5.3f ms  "
	    "next %5.3f ms  label %5.3f ms  total %6.2f ms\n", name,
	    (t_open - t0) * 1e3, (t_ids - t_open) * 1e3, n,
	    (t_first - t_ids) * 1e3, (t_next - t_first) * 1e3,
	    (t_label - t_next) * 1e3, (t_label - t0) * 1e3);
	free(ids);
	store_close(st);
}

int
main(void)
{
	char	*path, *cmd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("BENCH_TILES") != NULL)
		TILES = atoi(getenv("BENCH_TILES"));
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	printf("%-38s %8s %8s %8s  %s\n", "store (ms)", "median", "p99",
	    "max", "/peer");
	bench_strokes();

	xasprintf(&path, "%s/big.s4lab", dir);
	bench_make_big(path);
	printf("open a project of %d tiles (goal: open < 1 s, next "
	    "< 10 ms):\n", TILES);
	bench_open_big(path, ORDER_ID, "by id");
	bench_open_big(path, ORDER_DISAGREEMENT, "disagreement");
	bench_open_big(path, ORDER_RANDOM, "random");
	free(path);

	xasprintf(&cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_store: could not remove %s\n", dir);
	free(cmd);
	return (0);
}
