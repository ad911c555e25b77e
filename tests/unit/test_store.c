/* Unit tests for store.c: the project file. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <math.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "s4lab.h"
#include "store-int.h"

#define TW	256
#define TH	256

static char	tmpdir[] = "/tmp/test_store.XXXXXX";
static int	counter;

/* A new file name in the scratch folder. */
static char *
scratch(const char *name)
{
	char	*path;

	xasprintf(&path, "%s/%d-%s", tmpdir, counter++, name);
	return (path);
}

/* Run SQL on a file with a bare connection, outside the store. */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3	*db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* One integer from a query on the store's connection. */
static int64_t
query_int(struct store *st, const char *sql)
{
	sqlite3_stmt	*stmt;
	int64_t		 v;

	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &stmt,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return (v);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char	*buf;
	char		*cause = NULL;

	buf = read_file(path, len, 0, &cause);
	assert_non_null(buf);
	return (buf);
}

/* Add a source and n tiles with distinct bytes; ids into ids. */
static void
add_tiles(struct store *st, int n, int64_t *ids)
{
	struct tile	 t;
	char		 bytes[64], *cause = NULL;
	int64_t		 src;
	int		 i;

	src = store_source_add(st, "scene.jpg", 4096, 4096, "ab12", &cause);
	assert_true(src > 0);
	for (i = 0; i < n; i++) {
		memset(&t, 0, sizeof t);
		snprintf(bytes, sizeof bytes, "tile %d of %p", i, (void *)st);
		t.source_id = src;
		t.x = (i % 16) * TW;
		t.y = (i / 16) * TH;
		t.w = TW;
		t.h = TH;
		t.jpeg = (unsigned char *)bytes;
		t.jpeg_len = strlen(bytes);
		assert_int_equal(store_tile_add(st, &t, &cause), 0);
		assert_true(t.id > 0);
		ids[i] = t.id;
	}
}

static void
create_then_reopen(void **state)
{
	struct store	*st;
	char		*path = scratch("a.s4lab"), *cause = NULL, *v;

	st = store_open(path, STORE_MUSTNEW, &cause);
	assert_non_null(st);
	assert_int_equal(query_int(st, "PRAGMA user_version"),
	    store_schema_version());
	assert_int_equal(query_int(st, "PRAGMA application_id"),
	    STORE_APPLICATION_ID);
	assert_int_equal(query_int(st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(st, "SELECT journal_mode = 'wal' "
	    "FROM pragma_journal_mode"), 1);
	assert_int_equal(store_tile_size(st), 256);
	assert_int_equal(store_set_setting(st, "tile_size", "512", &cause), 0);
	store_close(st);

	assert_null(store_open(path, STORE_MUSTNEW, &cause));
	assert_non_null(strstr(cause, path));
	assert_non_null(strstr(cause, "already exists"));
	free(cause);
	cause = NULL;

	st = store_open(path, 0, &cause);
	assert_non_null(st);
	assert_int_equal(store_tile_size(st), 512);
	v = store_get_setting(st, "void_colours");
	assert_string_equal(v, "#000000,#9b9b9b");
	free(v);
	assert_null(store_get_setting(st, "no such key"));
	store_close(st);
	free(path);
}

static void
missing_file_is_not_created_without_flag(void **state)
{
	char	*path = scratch("missing.s4lab"), *cause = NULL;

	assert_null(store_open(path, 0, &cause));
	assert_non_null(strstr(cause, path));
	assert_int_equal(access(path, F_OK), -1);
	free(cause);
	free(path);
}

/* Open path without STORE_CREATE: refused with why, the file unchanged. */
static void
refused_unchanged(const char *path, const char *why)
{
	unsigned char	*before, *after;
	size_t		 blen, alen;
	char		*cause = NULL;

	before = slurp(path, &blen);
	assert_null(store_open(path, 0, &cause));
	assert_non_null(strstr(cause, path));
	assert_non_null(strstr(cause, why));
	free(cause);
	after = slurp(path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);
}

static void
empty_v0_file_is_migrated_only_when_creating(void **state)
{
	struct store	*st;
	char		*path = scratch("v0.s4lab"), *cause = NULL;

	/* A real SQLite file: header written, no tables, version 0. */
	raw_exec(path, "CREATE TABLE x (a); DROP TABLE x;");
	refused_unchanged(path, "not an s4lab project (an empty SQLite "
	    "database)");
	st = store_open(path, STORE_CREATE, &cause);
	assert_non_null(st);
	assert_int_equal(query_int(st, "PRAGMA user_version"),
	    store_schema_version());
	assert_int_equal(query_int(st, "SELECT count(*) FROM sqlite_master "
	    "WHERE name IN ('tiles', 'labels', 'label_history', 'jobs', "
	    "'models', 'predictions', 'sources', 'classes', 'settings')"), 9);
	store_close(st);

	/* A zero-byte file too. */
	free(path);
	path = scratch("zero.s4lab");
	fclose(fopen(path, "w"));
	refused_unchanged(path, "not an s4lab project (empty file)");
	st = store_open(path, STORE_CREATE, &cause);
	assert_non_null(st);
	store_close(st);
	free(path);
}

/* A project whose version is 0 or negative is refused, untouched. */
static void
unknown_versions_are_refused_and_unchanged(void **state)
{
	static const char	*sql[] = {
		"PRAGMA journal_mode = DELETE; PRAGMA user_version = -1",
		"PRAGMA journal_mode = DELETE; PRAGMA user_version = 0",
	};
	static const char	*why[] = {
		"not an s4lab project: unknown project version -1",
		"not an s4lab project: unknown project version 0",
	};
	struct store		*st;
	char			*path, *cause = NULL;
	int			 i;

	for (i = 0; i < 2; i++) {
		path = scratch("bad-version.s4lab");
		st = store_open(path, STORE_CREATE, &cause);
		assert_non_null(st);
		store_close(st);
		raw_exec(path, sql[i]);
		refused_unchanged(path, why[i]);
		assert_null(store_open(path, STORE_CREATE, &cause));
		assert_non_null(strstr(cause, why[i]));
		free(cause);
		cause = NULL;
		free(path);
	}
}

/* STORE_READONLY reads a project and cannot change it. */
static void
readonly_open_reads_and_never_writes(void **state)
{
	struct store	*st;
	unsigned char	*before, *after;
	size_t		 blen, alen;
	char		*path = scratch("ro.s4lab"), *cause = NULL, *v;

	st = store_open(path, STORE_CREATE, &cause);
	assert_non_null(st);
	assert_int_equal(store_set_setting(st, "k", "v", &cause), 0);
	store_close(st);
	before = slurp(path, &blen);

	st = store_open(path, STORE_READONLY, &cause);
	assert_non_null(st);
	v = store_get_setting(st, "k");
	assert_string_equal(v, "v");
	free(v);
	assert_int_equal(store_set_setting(st, "k", "w", &cause), -1);
	assert_non_null(strstr(cause, path));
	free(cause);
	cause = NULL;
	store_close(st);
	after = slurp(path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);

	/* An empty file is no project, read-only or not. */
	free(path);
	path = scratch("ro-empty.s4lab");
	fclose(fopen(path, "w"));
	assert_null(store_open(path, STORE_READONLY, &cause));
	assert_non_null(strstr(cause, "empty file"));
	free(cause);
	free(path);
}

static void
newer_version_is_refused_and_unchanged(void **state)
{
	struct store	*st;
	unsigned char	*before, *after;
	size_t		 blen, alen;
	char		*path = scratch("new.s4lab"), *cause = NULL, *wal;

	st = store_open(path, STORE_CREATE, &cause);
	assert_non_null(st);
	store_close(st);
	raw_exec(path, "PRAGMA journal_mode = DELETE; "
	    "PRAGMA user_version = 99");
	before = slurp(path, &blen);

	assert_null(store_open(path, 0, &cause));
	assert_non_null(strstr(cause, path));
	assert_non_null(strstr(cause, "newer"));
	assert_non_null(strstr(cause, "99"));
	free(cause);

	after = slurp(path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	xasprintf(&wal, "%s-wal", path);
	assert_int_equal(access(wal, F_OK), -1);
	free(wal);
	free(before);
	free(after);
	free(path);

	/* In WAL mode too, and no WAL or shared memory file appears. */
	path = scratch("newwal.s4lab");
	st = store_open(path, STORE_CREATE, &cause);
	assert_non_null(st);
	store_close(st);
	raw_exec(path, "PRAGMA user_version = 2");
	before = slurp(path, &blen);
	assert_null(store_open(path, 0, &cause));
	assert_non_null(strstr(cause, "newer"));
	free(cause);
	after = slurp(path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	xasprintf(&wal, "%s-wal", path);
	assert_int_equal(access(wal, F_OK), -1);
	free(wal);
	xasprintf(&wal, "%s-shm", path);
	assert_int_equal(access(wal, F_OK), -1);
	free(wal);
	free(before);
	free(after);
	free(path);
}

static void
other_files_are_refused(void **state)
{
	char		*path, *cause = NULL;
	unsigned char	*before, *after;
	size_t		 blen, alen;
	FILE		*f;

	path = scratch("text.s4lab");
	f = fopen(path, "w");
	fprintf(f, "this is not a database, it is a long enough line of text "
	    "to fill an SQLite header and more: 0123456789 0123456789\n");
	fclose(f);
	assert_null(store_open(path, 0, &cause));
	assert_non_null(strstr(cause, path));
	assert_non_null(strstr(cause, "not an s4lab project"));
	free(cause);
	free(path);

	path = scratch("other.db");
	raw_exec(path, "CREATE TABLE mail (id, body)");
	before = slurp(path, &blen);
	assert_null(store_open(path, STORE_CREATE, &cause));
	assert_non_null(strstr(cause, path));
	assert_non_null(strstr(cause, "not an s4lab project"));
	free(cause);
	after = slurp(path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	free(before);
	free(after);
	free(path);

	assert_null(store_open(tmpdir, 0, &cause));
	assert_non_null(strstr(cause, tmpdir));
	free(cause);
}

static void
tiles_are_deduplicated_and_split_by_hash(void **state)
{
	struct store	*st;
	struct tile	 t, got;
	char		*path = scratch("tiles.s4lab"), *cause = NULL;
	char		 hash[65];
	int64_t		 src, again, ids[40];
	int		 i, val = 0;

	st = store_open(path, STORE_CREATE, &cause);
	add_tiles(st, 40, ids);
	assert_int_equal(store_tile_count(st, -1), 40);
	assert_int_equal(store_tile_count(st, TILE_NEW), 40);

	src = store_source_by_hash(st, "ab12");
	again = store_source_add(st, "elsewhere.jpg", 1, 1, "ab12", &cause);
	assert_int_equal(again, src);
	assert_int_equal(store_source_by_hash(st, "none"), 0);

	assert_int_equal(store_tile_get(st, ids[3], &got, &cause), 0);
	assert_string_equal(got.source_path, "scene.jpg");
	assert_int_equal(got.x, 3 * TW);
	assert_int_equal(got.revision, 0);
	assert_null(got.author);
	assert_true(isnan(got.score));
	sha256_hex(got.jpeg, got.jpeg_len, hash);
	assert_int_equal(got.split, strtol((char[]){ hash[0], hash[1], 0 },
	    NULL, 16) < 51 ? SPLIT_VAL : SPLIT_TRAIN);

	memset(&t, 0, sizeof t);
	t.source_id = src;
	t.w = TW;
	t.h = TH;
	t.jpeg = got.jpeg;
	t.jpeg_len = got.jpeg_len;
	assert_int_equal(store_tile_add(st, &t, &cause), 0);
	assert_int_equal(t.id, 0);
	assert_int_equal(store_tile_count(st, -1), 40);
	tile_free(&got);

	for (i = 0; i < 40; i++) {
		assert_int_equal(store_tile_get(st, ids[i], &got, &cause), 0);
		val += got.split == SPLIT_VAL;
		tile_free(&got);
	}
	assert_true(val > 0 && val < 40);

	assert_int_equal(store_tile_get(st, 9999, &got, &cause), -1);
	assert_non_null(strstr(cause, "no tile 9999"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_tile_set_state(st, 9999, TILE_DONE, "x",
	    &cause), -1);
	free(cause);
	store_close(st);
	free(path);
}

/* Fill a mask with a pattern that depends on seed. */
static void
make_mask(uint8_t *mask, int seed)
{
	int	x, y;

	for (y = 0; y < TH; y++)
		for (x = 0; x < TW; x++)
			mask[y * TW + x] = ((x + seed) / 32 + y / 40) % 5;
	mask[seed % (TW * TH)] = MASK_VOID;
}

static void
labels_round_trip_with_history(void **state)
{
	struct store	*st;
	struct tile	 t;
	sqlite3_stmt	*stmt;
	uint8_t		 mask[TW * TH], got[TW * TH], want[TW * TH];
	char		*path = scratch("labels.s4lab"), *cause = NULL;
	int64_t		 ids[2];
	int		 rev;

	st = store_open(path, STORE_CREATE, &cause);
	add_tiles(st, 2, ids);

	memset(got, 7, sizeof got);
	assert_int_equal(store_label_get(st, ids[0], got, sizeof got,
	    &cause), 1);
	assert_int_equal(got[0], MASK_VOID);
	assert_int_equal(got[sizeof got - 1], MASK_VOID);

	for (rev = 1; rev <= 3; rev++) {
		make_mask(mask, rev);
		assert_int_equal(store_label_put(st, ids[0], mask, sizeof mask,
		    rev == 3 ? "bob" : "ann", rev == 1 ? "import" : NULL,
		    &cause), 0);
	}
	assert_int_equal(store_label_get(st, ids[0], got, sizeof got,
	    &cause), 0);
	assert_memory_equal(got, mask, sizeof got);
	assert_int_equal(store_tile_get(st, ids[0], &t, &cause), 0);
	assert_int_equal(t.revision, 3);
	assert_string_equal(t.author, "bob");
	assert_true(t.mtime > 0);
	tile_free(&t);

	/* Every revision can be restored from the history. */
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT revision, "
	    "mask, action FROM label_history WHERE tile_id = ?1 "
	    "ORDER BY revision", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, ids[0]);
	for (rev = 1; rev <= 3; rev++) {
		assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(stmt, 0), rev);
		assert_int_equal(mask_unpack(sqlite3_column_blob(stmt, 1),
		    sqlite3_column_bytes(stmt, 1), got, sizeof got, &cause), 0);
		make_mask(want, rev);
		assert_memory_equal(got, want, sizeof got);
		assert_string_equal(sqlite3_column_text(stmt, 2),
		    rev == 1 ? "import" : "edit");
	}
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);

	/* Wrong size, missing tile: refused, nothing written. */
	assert_int_equal(store_label_put(st, ids[1], mask, 100, "ann", NULL,
	    &cause), -1);
	assert_non_null(strstr(cause, path));
	free(cause);
	assert_int_equal(store_label_put(st, 4242, mask, sizeof mask, "ann",
	    NULL, &cause), -1);
	assert_non_null(strstr(cause, "no tile 4242"));
	free(cause);
	assert_int_equal(store_label_get(st, ids[0], got, 100, &cause), -1);
	free(cause);
	assert_int_equal(query_int(st, "SELECT count(*) FROM label_history"),
	    3);

	/* Inside the caller's transaction, a rollback undoes the put. */
	assert_int_equal(store_begin(st, &cause), 0);
	assert_int_equal(store_label_put(st, ids[1], mask, sizeof mask, "ann",
	    NULL, &cause), 0);
	store_rollback(st);
	assert_int_equal(store_label_get(st, ids[1], got, sizeof got,
	    &cause), 1);

	store_close(st);
	free(path);
}

/*
 * Two experts on one tile, each with the label as it was when they opened
 * it: each change is applied onto the newest revision, so neither loses
 * the other's pixels; a corrupt label is never written over.
 */
static void
label_apply_merges_concurrent_changes(void **state)
{
	struct store	*st;
	uint8_t		 base[TW * TH], a[TW * TH], b[TW * TH], got[TW * TH];
	char		*path = scratch("apply.s4lab"), *cause = NULL;
	int64_t		 ids[1];
	int		 rev = 0;

	st = store_open(path, STORE_CREATE, &cause);
	add_tiles(st, 1, ids);
	memset(base, MASK_VOID, sizeof base);
	memcpy(a, base, sizeof a);
	memcpy(b, base, sizeof b);
	a[0] = 1;			/* alice's dab */
	b[TW * TH - 1] = 2;		/* bob's dab, on his stale copy */

	assert_int_equal(store_label_apply(st, ids[0], base, a, sizeof a,
	    "alice", "stroke", &rev, got, &cause), 0);
	assert_int_equal(rev, 1);
	assert_int_equal(got[0], 1);
	assert_int_equal(store_label_apply(st, ids[0], base, b, sizeof b,
	    "bob", "stroke", &rev, got, &cause), 0);
	assert_int_equal(rev, 2);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[TW * TH - 1], 2);
	/* Alice paints again from her view after her own save. */
	memcpy(base, a, sizeof base);
	a[TW] = 3;
	assert_int_equal(store_label_apply(st, ids[0], base, a, sizeof a,
	    "alice", "stroke", &rev, got, &cause), 0);
	assert_int_equal(rev, 3);
	assert_int_equal(store_label_get(st, ids[0], got, sizeof got,
	    &cause), 0);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[TW], 3);
	assert_int_equal(got[TW * TH - 1], 2);
	assert_int_equal(query_int(st, "SELECT max(revision) FROM "
	    "label_history"), 3);
	assert_int_equal(query_int(st, "SELECT revision FROM labels"), 3);

	/* A corrupt stored label: refused, nothing written. */
	assert_int_equal(sqlite3_exec(store_db(st), "UPDATE labels SET "
	    "mask = x'0102030405'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_label_apply(st, ids[0], base, a, sizeof a,
	    "alice", "stroke", &rev, got, &cause), -1);
	assert_non_null(strstr(cause, "corrupt"));
	free(cause);
	assert_int_equal(query_int(st, "SELECT count(*) FROM label_history"),
	    3);
	store_close(st);
	free(path);
}

static void
mask_unpack_refuses_bad_data(void **state)
{
	uint8_t		 mask[1000], got[1000];
	unsigned char	*packed;
	size_t		 len;
	char		*cause = NULL;

	memset(mask, 3, sizeof mask);
	assert_int_equal(mask_pack(mask, sizeof mask, &packed, &len), 0);
	assert_true(len < 100);
	assert_int_equal(mask_unpack(packed, len, got, sizeof got, &cause), 0);
	assert_memory_equal(got, mask, sizeof got);
	assert_int_equal(mask_unpack(packed, len, got, 999, &cause), -1);
	free(cause);
	assert_int_equal(mask_unpack(packed, len, got, sizeof got + 0, NULL),
	    0);
	assert_int_equal(mask_unpack(packed, len - 3, got, sizeof got,
	    &cause), -1);
	free(cause);
	packed[len / 2] ^= 0x55;
	assert_int_equal(mask_unpack(packed, len, got, sizeof got, &cause),
	    -1);
	free(cause);
	assert_int_equal(mask_unpack((const unsigned char *)"junk", 4, got,
	    sizeof got, &cause), -1);
	free(cause);
	free(packed);
}

/* A child process: open the project and put n labels on tile id. */
static void
writer(const char *path, int64_t id, int n, const char *who)
{
	struct store	*st;
	uint8_t		 mask[TW * TH];
	char		*cause = NULL;
	int		 i;

	if ((st = store_open(path, 0, &cause)) == NULL)
		_exit(1);
	for (i = 0; i < n; i++) {
		make_mask(mask, i);
		if (store_label_put(st, id, mask, sizeof mask, who, NULL,
		    &cause) != 0) {
			fprintf(stderr, "%s\n", cause);
			_exit(2);
		}
	}
	store_close(st);
	_exit(0);
}

static void
concurrent_writers_lose_nothing(void **state)
{
	struct store	*st;
	char		*path = scratch("two.s4lab"), *cause = NULL;
	int64_t		 ids[2];
	pid_t		 a, b;
	int		 status;

	st = store_open(path, STORE_CREATE, &cause);
	add_tiles(st, 2, ids);

	if ((a = fork()) == 0)
		writer(path, ids[0], 100, "ann");
	if ((b = fork()) == 0)
		writer(path, ids[0], 100, "bob");
	/* This connection writes the other tile meanwhile. */
	assert_int_equal(store_tile_set_state(st, ids[1], TILE_SKIPPED, "me",
	    &cause), 0);
	assert_int_equal(waitpid(a, &status, 0), a);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(waitpid(b, &status, 0), b);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_int_equal(query_int(st, "SELECT revision FROM labels"), 200);
	assert_int_equal(query_int(st, "SELECT count(DISTINCT revision) "
	    "FROM label_history"), 200);
	assert_int_equal(query_int(st, "SELECT count(*) FROM label_history "
	    "WHERE author = 'bob'"), 100);
	assert_int_equal(query_int(st, "SELECT integrity_check = 'ok' "
	    "FROM pragma_integrity_check"), 1);
	store_close(st);
	free(path);
}

static void
kill_9_mid_writes_leaves_a_consistent_file(void **state)
{
	struct store	*st;
	char		*path = scratch("kill.s4lab"), *cause = NULL;
	int64_t		 ids[1], rev;
	pid_t		 pid;
	int		 i, status;

	st = store_open(path, STORE_CREATE, &cause);
	add_tiles(st, 1, ids);
	if ((pid = fork()) == 0)
		writer(path, ids[0], 1000000, "ann");
	/* Kill it once it has written a few revisions. */
	for (i = 0; i < 1000; i++) {
		usleep(10 * 1000);
		if (query_int(st, "SELECT count(*) FROM label_history") > 10)
			break;
	}
	kill(pid, SIGKILL);
	store_close(st);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	st = store_open(path, 0, &cause);
	assert_non_null(st);
	assert_int_equal(query_int(st, "SELECT integrity_check = 'ok' "
	    "FROM pragma_integrity_check"), 1);
	/* Every committed revision has its history row, and no more. */
	rev = query_int(st, "SELECT revision FROM labels");
	assert_true(rev > 0);
	assert_int_equal(query_int(st, "SELECT count(*) FROM label_history"),
	    rev);
	assert_int_equal(query_int(st, "SELECT max(revision) FROM "
	    "label_history"), rev);
	store_close(st);
	free(path);
}

static void
tile_ids_in_queue_orders(void **state)
{
	struct store	*st;
	struct tile	 t;
	char		*path = scratch("order.s4lab"), *cause = NULL, *sql;
	int64_t		 ids[6], *got, *again;
	size_t		 n, n2;
	const double	 score[6] = { 0.1, 0.9, -1, 0.5, 0.7, 0.3 };
	int		 i;

	st = store_open(path, STORE_CREATE, &cause);
	add_tiles(st, 6, ids);
	/* 0 done, 1 skipped, the rest new. */
	assert_int_equal(store_tile_set_state(st, ids[0], TILE_DONE, "ann",
	    &cause), 0);
	assert_int_equal(store_tile_set_state(st, ids[1], TILE_SKIPPED, "ann",
	    &cause), 0);

	assert_int_equal(store_tile_ids(st, ORDER_ID, &got, &n, &cause), 0);
	assert_int_equal(n, 6);
	assert_int_equal(got[0], ids[2]);
	assert_int_equal(got[3], ids[5]);
	assert_int_equal(got[4], ids[1]);
	assert_int_equal(got[5], ids[0]);
	free(got);

	/* An old model scores everything the other way round. */
	raw_exec(path, "INSERT INTO models (id) VALUES (1), (2)");
	for (i = 0; i < 6; i++) {
		if (score[i] < 0)
			continue;
		xasprintf(&sql, "INSERT INTO predictions VALUES (%jd, 2, NULL, "
		    "%f, %f); INSERT INTO predictions VALUES (%jd, 1, NULL, "
		    "%f, 0)", (intmax_t)ids[i], score[i], 1 - score[i],
		    (intmax_t)ids[i], 1 - score[i]);
		raw_exec(path, sql);
		free(sql);
	}
	assert_int_equal(store_tile_ids(st, ORDER_DISAGREEMENT, &got, &n,
	    &cause), 0);
	assert_int_equal(n, 6);
	/* New: 4 (0.7), 3 (0.5), 5 (0.3), 2 (none); skipped 1; done 0. */
	assert_int_equal(got[0], ids[4]);
	assert_int_equal(got[1], ids[3]);
	assert_int_equal(got[2], ids[5]);
	assert_int_equal(got[3], ids[2]);
	assert_int_equal(got[4], ids[1]);
	assert_int_equal(got[5], ids[0]);
	free(got);
	assert_int_equal(store_tile_ids(st, ORDER_ENTROPY, &got, &n,
	    &cause), 0);
	assert_int_equal(got[0], ids[5]);
	assert_int_equal(got[3], ids[2]);
	free(got);

	assert_int_equal(store_tile_get(st, ids[4], &t, &cause), 0);
	assert_true(fabs(t.score - 0.7) < 1e-9);
	assert_true(fabs(t.entropy - 0.3) < 1e-9);
	tile_free(&t);

	assert_int_equal(store_tile_ids(st, ORDER_RANDOM, &got, &n, &cause),
	    0);
	assert_int_equal(store_tile_ids(st, ORDER_RANDOM, &again, &n2,
	    &cause), 0);
	assert_int_equal(n, 6);
	assert_int_equal(n2, 6);
	assert_memory_equal(got, again, n * sizeof *got);
	assert_int_equal(got[4], ids[1]);
	assert_int_equal(got[5], ids[0]);
	free(got);
	free(again);

	assert_int_equal(store_tile_ids(st, 99, &got, &n, &cause), -1);
	free(cause);
	store_close(st);
	free(path);
}

static void
classes_round_trip(void **state)
{
	struct store	*st;
	struct classes	 cl, got;
	char		*path = scratch("classes.s4lab"), *cause = NULL;

	memset(&cl, 0, sizeof cl);
	cl.n = 3;
	strcpy(cl.c[0].name, "background");
	strcpy(cl.c[1].name, "building");
	cl.c[1].rgb[0] = 200;
	cl.c[1].key = '1';
	strcpy(cl.c[2].name, "water");
	cl.c[2].rgb[2] = 255;
	cl.nvoid = 1;
	cl.void_rgb[0][0] = cl.void_rgb[0][1] = cl.void_rgb[0][2] = 0x9b;

	st = store_open(path, STORE_CREATE, &cause);
	assert_int_equal(store_set_classes(st, &cl, &cause), 0);
	assert_int_equal(store_get_classes(st, &got, &cause), 0);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.c[1].name, "building");
	assert_int_equal(got.c[1].rgb[0], 200);
	assert_int_equal(got.c[1].key, '1');
	assert_int_equal(got.c[2].key, '\0');
	assert_int_equal(got.c[2].rgb[2], 255);
	assert_int_equal(got.nvoid, 1);
	assert_int_equal(got.void_rgb[0][1], 0x9b);

	cl.nvoid = 0;
	cl.n = 2;
	assert_int_equal(store_set_classes(st, &cl, &cause), 0);
	assert_int_equal(store_get_classes(st, &got, &cause), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.nvoid, 0);
	store_close(st);
	free(path);
}

static int
setup(void **state)
{
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	return (0);
}

static int
teardown(void **state)
{
	char	*cmd;
	int	 rc;

	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	rc = system(cmd);
	free(cmd);
	return (rc == 0 ? 0 : -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_then_reopen),
		cmocka_unit_test(missing_file_is_not_created_without_flag),
		cmocka_unit_test(empty_v0_file_is_migrated_only_when_creating),
		cmocka_unit_test(unknown_versions_are_refused_and_unchanged),
		cmocka_unit_test(readonly_open_reads_and_never_writes),
		cmocka_unit_test(newer_version_is_refused_and_unchanged),
		cmocka_unit_test(other_files_are_refused),
		cmocka_unit_test(tiles_are_deduplicated_and_split_by_hash),
		cmocka_unit_test(labels_round_trip_with_history),
		cmocka_unit_test(mask_unpack_refuses_bad_data),
		cmocka_unit_test(concurrent_writers_lose_nothing),
		cmocka_unit_test(kill_9_mid_writes_leaves_a_consistent_file),
		cmocka_unit_test(tile_ids_in_queue_orders),
		cmocka_unit_test(classes_round_trip),
		cmocka_unit_test(label_apply_merges_concurrent_changes),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
