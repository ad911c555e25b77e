/*
 * The project store: one SQLite file that holds everything that lasts.
 *
 * Several processes share the file (two experts' TUIs, a trainer), so it
 * runs in WAL mode: readers never wait for the writer, and writers queue
 * behind a busy timeout.  Every write is one transaction begun with BEGIN
 * IMMEDIATE, so a writer takes the write lock before it reads what it will
 * change and never fails half way with SQLITE_BUSY; a process killed at
 * any moment leaves the file as it was after the last commit.
 *
 * The schema is built by numbered migrations (the table below), each
 * applied in its own transaction, and PRAGMA user_version says how many
 * have run.  A file made by a newer s4lab has a larger user_version: it is
 * opened read-only to find that out and is refused without a single byte
 * changed.  PRAGMA application_id tells an s4lab project from any other
 * SQLite file.
 *
 * Masks (labels, predictions, history) are stored zlib-compressed; a
 * 256x256 label of a few regions packs into a few hundred bytes.
 *
 * Statements are prepared once per connection and kept; each use resets
 * its statement at once, so that no read transaction stays open between
 * calls and the WAL can be checkpointed.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zlib.h>

#include "config.h"
#include "s4lab.h"
#include "store-int.h"

/* How long a writer waits for another one before it gives up, unless
 * $S4LAB_BUSY_TIMEOUT says (seconds, 0 to 3600). */
#define STORE_BUSY_MS		10000

/* Tiles whose hash starts with a byte below this are validation tiles. */
#define STORE_VAL_BYTE		51	/* 0.2 * 256 */

/*
 * The migrations: migration i takes a file from user_version i to i + 1.
 * Never edit one that has shipped; add a new one at the end.
 */
static const char *store_migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT"
	");"
	"INSERT INTO settings (key, value) VALUES ('tile_size', '256');"
	"INSERT INTO settings (key, value) VALUES"
	"  ('void_colours', '#000000,#9b9b9b');"
	"CREATE TABLE classes ("
	"  idx INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  r INTEGER, g INTEGER, b INTEGER,"
	"  key TEXT"
	");"
	"CREATE TABLE sources ("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT NOT NULL,"
	"  width INTEGER, height INTEGER,"
	"  sha256 TEXT UNIQUE NOT NULL,"
	"  imported INTEGER"
	");"
	"CREATE TABLE tiles ("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),"
	"  x INTEGER, y INTEGER, w INTEGER, h INTEGER,"
	"  jpeg BLOB NOT NULL,"
	"  sha256 TEXT UNIQUE NOT NULL,"
	"  split INTEGER NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  state_author TEXT,"
	"  state_time INTEGER"
	");"
	"CREATE INDEX tiles_state ON tiles (state, id);"
	"CREATE INDEX tiles_source ON tiles (source_id);"
	"CREATE TABLE labels ("
	"  tile_id INTEGER PRIMARY KEY REFERENCES tiles(id),"
	"  mask BLOB NOT NULL,"
	"  revision INTEGER NOT NULL,"
	"  author TEXT,"
	"  mtime INTEGER"
	");"
	"CREATE TABLE label_history ("
	"  id INTEGER PRIMARY KEY,"
	"  tile_id INTEGER REFERENCES tiles(id),"
	"  revision INTEGER,"
	"  mask BLOB,"
	"  author TEXT,"
	"  time INTEGER,"
	"  action TEXT"
	");"
	"CREATE INDEX label_history_tile ON label_history (tile_id, revision);"
	"CREATE TABLE models ("
	"  id INTEGER PRIMARY KEY,"
	"  created INTEGER,"
	"  job_id INTEGER,"
	"  config TEXT,"
	"  weights BLOB,"
	"  metrics TEXT"
	");"
	"CREATE TABLE predictions ("
	"  tile_id INTEGER REFERENCES tiles(id),"
	"  model_id INTEGER REFERENCES models(id),"
	"  mask BLOB,"
	"  score REAL,"
	"  entropy REAL,"
	"  PRIMARY KEY (tile_id, model_id)"
	");"
	"CREATE INDEX predictions_score ON predictions (model_id, score DESC);"
	"CREATE INDEX predictions_entropy ON predictions"
	"  (model_id, entropy DESC);"
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT,"
	"  state TEXT NOT NULL DEFAULT 'queued',"
	"  created INTEGER, started INTEGER, finished INTEGER,"
	"  pid INTEGER, host TEXT,"
	"  phase TEXT, progress REAL, epoch INTEGER, loss REAL, eta REAL,"
	"  message TEXT,"
	"  params TEXT,"
	"  cancel INTEGER NOT NULL DEFAULT 0,"
	"  model_id INTEGER,"
	"  heartbeat INTEGER"
	");"
	"CREATE INDEX jobs_state ON jobs (state, id);",
};
#define STORE_NMIGRATIONS \
	((int)(sizeof store_migrations / sizeof store_migrations[0]))

/* The statements kept prepared, by name. */
enum store_stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SETTING_GET,
	S_SETTING_SET,
	S_CLASSES_GET,
	S_CLASSES_CLEAR,
	S_CLASS_ADD,
	S_SOURCE_BY_HASH,
	S_SOURCE_ADD,
	S_TILE_ADD,
	S_TILE_GET,
	S_TILE_BY_HASH,
	S_TILE_SIZE,
	S_TILE_STATE,
	S_TILE_COUNT,
	S_TILE_COUNT_ALL,
	S_IDS_ID,
	S_IDS_SCORE,
	S_IDS_ENTROPY,
	S_IDS_RANDOM,
	S_LABEL_GET,
	S_LABEL_REVISION,
	S_LABEL_PUT,
	S_HISTORY_ADD,
	S_COUNT
};

static const char *store_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
	[S_SETTING_SET] = "INSERT INTO settings (key, value) VALUES (?1, ?2) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[S_CLASSES_GET] = "SELECT idx, name, r, g, b, key FROM classes "
	    "ORDER BY idx",
	[S_CLASSES_CLEAR] = "DELETE FROM classes",
	[S_CLASS_ADD] = "INSERT INTO classes (idx, name, r, g, b, key) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_SOURCE_BY_HASH] = "SELECT id FROM sources WHERE sha256 = ?1",
	[S_SOURCE_ADD] = "INSERT INTO sources "
	    "(path, width, height, sha256, imported) "
	    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (sha256) DO NOTHING",
	[S_TILE_ADD] = "INSERT INTO tiles "
	    "(source_id, x, y, w, h, jpeg, sha256, split) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "ON CONFLICT (sha256) DO NOTHING",
	[S_TILE_BY_HASH] = "SELECT id FROM tiles WHERE sha256 = ?1",
	[S_TILE_GET] = "SELECT t.source_id, s.path, t.x, t.y, t.w, t.h, "
	    "t.split, t.state, t.jpeg, l.revision, l.author, l.mtime, "
	    "p.score, p.entropy FROM tiles t "
	    "JOIN sources s ON s.id = t.source_id "
	    "LEFT JOIN labels l ON l.tile_id = t.id "
	    "LEFT JOIN predictions p ON p.tile_id = t.id AND "
	    "p.model_id = (SELECT max(id) FROM models) "
	    "WHERE t.id = ?1",
	[S_TILE_SIZE] = "SELECT w, h FROM tiles WHERE id = ?1",
	[S_TILE_STATE] = "UPDATE tiles SET state = ?2, state_author = ?3, "
	    "state_time = ?4 WHERE id = ?1",
	[S_TILE_COUNT] = "SELECT count(*) FROM tiles WHERE state = ?1",
	[S_TILE_COUNT_ALL] = "SELECT count(*) FROM tiles",
	[S_IDS_ID] = "SELECT id FROM tiles WHERE state = ?1 ORDER BY id",
	[S_IDS_SCORE] = "SELECT t.id FROM tiles t "
	    "LEFT JOIN predictions p ON p.tile_id = t.id AND "
	    "p.model_id = (SELECT max(id) FROM models) "
	    "WHERE t.state = ?1 "
	    "ORDER BY p.score IS NULL, p.score DESC, t.id",
	[S_IDS_ENTROPY] = "SELECT t.id FROM tiles t "
	    "LEFT JOIN predictions p ON p.tile_id = t.id AND "
	    "p.model_id = (SELECT max(id) FROM models) "
	    "WHERE t.state = ?1 "
	    "ORDER BY p.entropy IS NULL, p.entropy DESC, t.id",
	/* Hash digits past the first byte, which decides the split. */
	[S_IDS_RANDOM] = "SELECT id FROM tiles WHERE state = ?1 "
	    "ORDER BY substr(sha256, 9), id",
	[S_LABEL_GET] = "SELECT mask FROM labels WHERE tile_id = ?1",
	[S_LABEL_REVISION] = "SELECT revision FROM labels WHERE tile_id = ?1",
	[S_LABEL_PUT] = "INSERT INTO labels "
	    "(tile_id, mask, revision, author, mtime) "
	    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tile_id) DO UPDATE SET "
	    "mask = excluded.mask, revision = excluded.revision, "
	    "author = excluded.author, mtime = excluded.mtime",
	[S_HISTORY_ADD] = "INSERT INTO label_history "
	    "(tile_id, revision, mask, author, time, action) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

struct store {
	sqlite3		*db;
	char		*path;
	int		 busy;		/* the last begin timed out */
	sqlite3_stmt	*stmt[S_COUNT];
};

/* The order in which store_tile_ids lists states. */
static const int store_queue_states[] = { TILE_NEW, TILE_SKIPPED, TILE_DONE };
#define NSTATES (sizeof store_queue_states / sizeof store_queue_states[0])

/* The schema version this s4lab writes. */
int
store_schema_version(void)
{
	return (STORE_NMIGRATIONS);
}

/* The busy timeout in milliseconds. */
static int
store_busy_ms(void)
{
	const char	*s = getenv("S4LAB_BUSY_TIMEOUT");
	char		*end;
	long		 n;

	if (s == NULL || *s == '\0')
		return (STORE_BUSY_MS);
	n = strtol(s, &end, 10);
	if (*end != '\0' || n < 0 || n > 3600)
		return (STORE_BUSY_MS);
	return ((int)n * 1000);
}

/* Set cause to "PATH: what: SQLite's message"; returns -1. */
static int
store_error(struct store *st, char **cause, const char *what)
{
	int	code = sqlite3_extended_errcode(st->db);

	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
		st->busy = 1;
		return (set_cause(cause, "%s: %s: the project is busy (another "
		    "process held it for over %d s)", st->path, what,
		    store_busy_ms() / 1000));
	}
	return (set_cause(cause, "%s: %s: %s", st->path, what,
	    sqlite3_errmsg(st->db)));
}

/* The prepared statement s, reset and unbound. */
static sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt s, char **cause)
{
	if (st->stmt[s] == NULL) {
		if (sqlite3_prepare_v3(st->db, store_sql[s], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[s], NULL) !=
		    SQLITE_OK) {
			store_error(st, cause, "preparing a statement");
			st->stmt[s] = NULL;
			return (NULL);
		}
	}
	return (st->stmt[s]);
}

/* Reset a statement after use so it holds no read transaction. */
static void
store_done(sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

/* Run a statement that returns no rows; 0 or -1. */
static int
store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what,
    char **cause)
{
	int	rc;

	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		store_error(st, cause, what);
		store_done(stmt);
		return (-1);
	}
	store_done(stmt);
	return (0);
}

/* Bind text or NULL. */
static void
store_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(stmt, i);
	else
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_TRANSIENT);
}

/* Run one pragma or statement with no result on a bare connection. */
static int
store_exec(struct store *st, const char *sql, const char *what,
    char **cause)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return (store_error(st, cause, what));
	return (0);
}

/* An integer pragma's value into *v; 0, or -1 if it cannot be read. */
static int
store_pragma_int(sqlite3 *db, const char *sql, int64_t *v)
{
	sqlite3_stmt	*stmt;
	int		 rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return (-1);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*v = sqlite3_column_int64(stmt, 0);
		rc = 0;
	}
	sqlite3_finalize(stmt);
	return (rc);
}

/*
 * The URI to look at a file read-only.  Without a WAL file beside it the
 * main file is complete, and it is opened immutable, so that not even an
 * empty WAL or shared-memory file is created next to it.
 */
static char *
store_check_uri(const char *path)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct stat		 sb;
	const unsigned char	*u;
	char			*wal, *uri, *o;

	uri = o = xmalloc(strlen(path) * 3 + sizeof "file:?immutable=1");
	o += sprintf(o, "file:");
	for (u = (const unsigned char *)path; *u != '\0'; u++) {
		if (isalnum(*u) || strchr("/-._~", *u) != NULL)
			*o++ = *u;
		else {
			*o++ = '%';
			*o++ = hex[*u >> 4];
			*o++ = hex[*u & 15];
		}
	}
	*o = '\0';
	xasprintf(&wal, "%s-wal", path);
	if (stat(wal, &sb) == -1 && errno == ENOENT)
		strcat(o, "?immutable=1");
	free(wal);
	return (uri);
}

/*
 * Look at an existing file without changing it: it must be an s4lab
 * project no newer than this s4lab, or, with STORE_CREATE, an empty file
 * or an SQLite file without tables.
 */
static int
store_check(const char *path, int flags, char **cause)
{
	static const char	 magic[16] = "SQLite format 3";
	unsigned char		 hdr[100];
	struct stat		 sb;
	sqlite3			*db = NULL;
	ssize_t			 n;
	int64_t			 version, appid, tables;
	char			*uri;
	int			 fd, rc = -1;

	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1)
		return (set_cause(cause, "%s: %s", path, strerror(errno)));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return (set_cause(cause, "%s: not a regular file", path));
	}
	n = read(fd, hdr, sizeof hdr);
	close(fd);
	if (n == 0) {
		/* Only a command that creates projects fills an empty file. */
		if (flags & STORE_CREATE)
			return (0);
		return (set_cause(cause, "%s: not an s4lab project (empty "
		    "file)", path));
	}
	if (n < (ssize_t)sizeof hdr || memcmp(hdr, magic, sizeof magic) != 0)
		return (set_cause(cause, "%s: not an s4lab project (not an "
		    "SQLite database)", path));

	uri = store_check_uri(path);
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY|SQLITE_OPEN_URI,
	    NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: %s", path, sqlite3_errmsg(db));
		rc = -1;
		goto out;
	}
	rc = -1;
	sqlite3_busy_timeout(db, store_busy_ms());
	if (store_pragma_int(db, "PRAGMA user_version", &version) != 0 ||
	    store_pragma_int(db, "PRAGMA application_id", &appid) != 0 ||
	    store_pragma_int(db, "SELECT count(*) FROM sqlite_master",
	    &tables) != 0) {
		set_cause(cause, "%s: cannot read: %s", path,
		    sqlite3_errmsg(db));
		goto out;
	}
	if (appid != STORE_APPLICATION_ID &&
	    (appid != 0 || version != 0 || tables != 0)) {
		set_cause(cause, "%s: not an s4lab project (an SQLite database "
		    "of another program)", path);
		goto out;
	}
	if (appid != STORE_APPLICATION_ID && (~flags & STORE_CREATE)) {
		set_cause(cause, "%s: not an s4lab project (an empty SQLite "
		    "database)", path);
		goto out;
	}
	if (appid == STORE_APPLICATION_ID && version < 1) {
		set_cause(cause, "%s: not an s4lab project: unknown project "
		    "version %jd; the file was not changed", path,
		    (intmax_t)version);
		goto out;
	}
	if (version > STORE_NMIGRATIONS) {
		set_cause(cause, "%s: made by a newer s4lab (project version "
		    "%jd; this s4lab %s knows up to %d); use a newer s4lab, "
		    "the file was not changed", path, (intmax_t)version,
		    PACKAGE_VERSION, STORE_NMIGRATIONS);
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(db);
	return (rc);
}

/*
 * Bring the schema up to date, one migration per transaction.  The
 * version is read again under the write lock: another process may have
 * migrated the file meanwhile, or be a newer s4lab.
 */
static int
store_migrate(struct store *st, char **cause)
{
	char	*sql;
	int64_t	 version;

	/* Up to date: no need to wait for the write lock. */
	if (store_pragma_int(st->db, "PRAGMA user_version", &version) == 0 &&
	    version == STORE_NMIGRATIONS)
		return (0);
	for (;;) {
		if (store_begin(st, cause) != 0)
			return (-1);
		if (store_pragma_int(st->db, "PRAGMA user_version",
		    &version) != 0) {
			store_error(st, cause, "reading the schema version");
			store_rollback(st);
			return (-1);
		}
		if (version < 0) {
			store_rollback(st);
			return (set_cause(cause, "%s: not an s4lab project: "
			    "unknown project version %jd", st->path,
			    (intmax_t)version));
		}
		if (version > STORE_NMIGRATIONS) {
			store_rollback(st);
			return (set_cause(cause, "%s: made by a newer s4lab "
			    "(project version %jd; this s4lab knows up to "
			    "%d)", st->path, (intmax_t)version,
			    STORE_NMIGRATIONS));
		}
		if (version == STORE_NMIGRATIONS)
			return (store_commit(st, cause));

		log_debug(LOG_STORE, "%s: migration %jd", st->path,
		    (intmax_t)version + 1);
		xasprintf(&sql, "%s; PRAGMA user_version = %jd; "
		    "PRAGMA application_id = %d", store_migrations[version],
		    (intmax_t)version + 1, STORE_APPLICATION_ID);
		if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			free(sql);
			store_error(st, cause, "migrating the schema");
			store_rollback(st);
			return (-1);
		}
		free(sql);
		if (store_commit(st, cause) != 0)
			return (-1);
	}
}

/* Connection settings: every one of them is per connection. */
static int
store_setup(struct store *st, char **cause)
{
	int64_t	wal;

	sqlite3_busy_timeout(st->db, store_busy_ms());
	if (store_exec(st, "PRAGMA foreign_keys = ON", "setting foreign keys",
	    cause) != 0)
		return (-1);
	if ((store_pragma_int(st->db, "SELECT count(*) FROM "
	    "pragma_journal_mode WHERE journal_mode = 'wal'", &wal) != 0 ||
	    wal != 1) &&
	    store_exec(st, "PRAGMA journal_mode = WAL", "setting WAL mode",
	    cause) != 0)
		return (-1);
	if (store_exec(st, "PRAGMA synchronous = NORMAL",
	    "setting synchronous", cause) != 0)
		return (-1);
	/*
	 * A page cache of up to 64 MB (used only as it fills): with the
	 * default 2 MB a large import spills pages to the WAL again and
	 * again, and 100,000 tiles in one transaction took minutes.
	 */
	return (store_exec(st, "PRAGMA cache_size = -65536",
	    "setting the cache size", cause));
}

/* Remove a project file this process has just created, and its WAL. */
static void
store_unlink_new(const char *path)
{
	char	*p;

	unlink(path);
	xasprintf(&p, "%s-wal", path);
	unlink(p);
	free(p);
	xasprintf(&p, "%s-shm", path);
	unlink(p);
	free(p);
}

/* Whether the directory of path is writable (SQLite keeps -wal there). */
static int
store_dir_writable(const char *path)
{
	char	*dir, *slash;
	int	 ok;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL)
		ok = access(".", W_OK) == 0;
	else {
		slash[slash == dir ? 1 : 0] = '\0';
		ok = access(dir, W_OK) == 0;
	}
	free(dir);
	return (ok);
}

/*
 * Open an existing project to read only.  A WAL project needs its -shm
 * file; when that cannot be made (the directory is not writable) and
 * there is no -wal file, the main file is complete and is opened
 * immutable instead.
 */
static int
store_open_readonly(struct store *st, char **cause)
{
	int64_t	 version;
	char	*uri;
	int	 i, rc;

	for (i = 0; i < 2; i++) {
		if (i == 0) {
			rc = sqlite3_open_v2(st->path, &st->db,
			    SQLITE_OPEN_READONLY, NULL);
		} else {
			uri = store_check_uri(st->path);
			rc = sqlite3_open_v2(uri, &st->db,
			    SQLITE_OPEN_READONLY|SQLITE_OPEN_URI, NULL);
			free(uri);
		}
		if (rc == SQLITE_OK) {
			sqlite3_extended_result_codes(st->db, 1);
			sqlite3_busy_timeout(st->db, store_busy_ms());
			if (store_pragma_int(st->db, "PRAGMA user_version",
			    &version) == 0)
				break;
		}
		if (i == 1 || store_dir_writable(st->path)) {
			if (!store_dir_writable(st->path)) {
				return (set_cause(cause, "%s: cannot read: "
				    "its directory is not writable, and SQLite "
				    "needs to make %s-shm there", st->path,
				    st->path));
			}
			return (set_cause(cause, "%s: cannot read: %s",
			    st->path, sqlite3_errmsg(st->db)));
		}
		sqlite3_close(st->db);
		st->db = NULL;
	}
	if (version < STORE_NMIGRATIONS) {
		return (set_cause(cause, "%s: made by an older s4lab (project "
		    "version %jd); a command that writes (import) brings it "
		    "up to date", st->path, (intmax_t)version));
	}
	return (store_exec(st, "PRAGMA cache_size = -65536",
	    "setting the cache size", cause));
}

/* Open an existing project to read and write, or say why it cannot. */
static int
store_open_readwrite(struct store *st, char **cause)
{
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		return (set_cause(cause, "%s: %s", st->path,
		    sqlite3_errmsg(st->db)));
	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_db_readonly(st->db, "main") == 1)
		return (set_cause(cause, "%s: cannot write the project: the "
		    "file is read-only", st->path));
	if (store_setup(st, cause) != 0) {
		if (!store_dir_writable(st->path)) {
			if (cause != NULL)
				free(*cause);
			return (set_cause(cause, "%s: cannot write the "
			    "project: its directory is not writable (SQLite "
			    "keeps %s-wal there)", st->path, st->path));
		}
		return (-1);
	}
	return (store_migrate(st, cause));
}

/*
 * Open a project.  STORE_CREATE creates a missing file, STORE_MUSTNEW
 * refuses one that exists, STORE_READONLY opens an existing project
 * without ever writing to it.  Returns NULL with a cause naming the file.
 */
struct store *
store_open(const char *path, int flags, char **cause)
{
	struct store	*st;
	struct stat	 sb;
	int		 fd, created = 0;

	if (flags & STORE_MUSTNEW)
		flags |= STORE_CREATE;
	if ((flags & STORE_READONLY) && (flags & STORE_CREATE))
		fatalx("%s: STORE_READONLY with STORE_CREATE", __func__);
	if (stat(path, &sb) == 0) {
		if (flags & STORE_MUSTNEW) {
			set_cause(cause, "%s: already exists", path);
			return (NULL);
		}
	} else if (errno != ENOENT) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	} else if (~flags & STORE_CREATE) {
		set_cause(cause, "%s: no such project", path);
		return (NULL);
	} else {
		fd = open(path, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0666);
		if (fd == -1 && (errno != EEXIST || (flags & STORE_MUSTNEW))) {
			set_cause(cause, "%s: %s", path, errno == EEXIST ?
			    "already exists" : strerror(errno));
			return (NULL);
		}
		if (fd != -1) {
			close(fd);
			created = 1;
		}
	}
	if (!created && store_check(path, flags, cause) != 0)
		return (NULL);

	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	if (flags & STORE_READONLY) {
		if (store_open_readonly(st, cause) != 0)
			goto fail;
	} else if (store_open_readwrite(st, cause) != 0)
		goto fail;
	log_debug(LOG_STORE, "%s: open%s", path,
	    (flags & STORE_READONLY) ? " read-only" : "");
	return (st);

fail:
	store_close(st);
	if (created)
		store_unlink_new(path);
	return (NULL);
}

/* Close the project; NULL is fine. */
void
store_close(struct store *st)
{
	int	i;

	if (st == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		fatalx("%s: close: %s", st->path, sqlite3_errmsg(st->db));
	free(st->path);
	free(st);
}

/* The SQLite handle, for readers that need their own queries. */
struct sqlite3 *
store_db(struct store *st)
{
	return (st->db);
}

/* The file name the store was opened with. */
const char *
store_path(struct store *st)
{
	return (st->path);
}

/* Begin a write transaction, waiting out other writers. */
int
store_begin(struct store *st, char **cause)
{
	sqlite3_stmt	*stmt;

	st->busy = 0;
	if ((stmt = store_stmt(st, S_BEGIN, cause)) == NULL)
		return (-1);
	return (store_step_done(st, stmt, "begin", cause));
}

/* Whether the last write transaction failed because the project stayed
 * busy past the busy timeout (another process held the write lock). */
int
store_busy(struct store *st)
{
	return (st->busy);
}

/* Commit; on failure the transaction is rolled back. */
int
store_commit(struct store *st, char **cause)
{
	sqlite3_stmt	*stmt;

	if ((stmt = store_stmt(st, S_COMMIT, cause)) == NULL) {
		store_rollback(st);
		return (-1);
	}
	if (store_step_done(st, stmt, "commit", cause) != 0) {
		store_rollback(st);
		return (-1);
	}
	return (0);
}

/* Roll back the open transaction, if any. */
void
store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return;
	if (sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		log_debug(LOG_STORE, "%s: rollback: %s", st->path,
		    sqlite3_errmsg(st->db));
}

/*
 * Begin a transaction unless the caller holds one: *own says whether
 * store_end must finish it.
 */
static int
store_start(struct store *st, int *own, char **cause)
{
	*own = sqlite3_get_autocommit(st->db);
	if (!*own)
		return (0);
	return (store_begin(st, cause));
}

/* Commit (rc 0) or roll back what store_start began; returns rc. */
static int
store_end(struct store *st, int own, int rc, char **cause)
{
	if (!own)
		return (rc);
	if (rc != 0) {
		store_rollback(st);
		return (rc);
	}
	return (store_commit(st, cause));
}

/* ------------------------------------------------------------------ */

/* A setting's value (malloc'd), or NULL if unset. */
char *
store_get_setting(struct store *st, const char *key)
{
	sqlite3_stmt		*stmt;
	const unsigned char	*v;
	char			*value = NULL;

	if ((stmt = store_stmt(st, S_SETTING_GET, NULL)) == NULL)
		return (NULL);
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    (v = sqlite3_column_text(stmt, 0)) != NULL)
		value = xstrdup((const char *)v);
	store_done(stmt);
	return (value);
}

/* Set a setting; value NULL stores NULL. */
int
store_set_setting(struct store *st, const char *key, const char *value,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int		 own, rc;

	if (store_start(st, &own, cause) != 0)
		return (-1);
	if ((stmt = store_stmt(st, S_SETTING_SET, cause)) == NULL)
		return (store_end(st, own, -1, cause));
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	store_bind_text(stmt, 2, value);
	rc = store_step_done(st, stmt, "writing a setting", cause);
	return (store_end(st, own, rc, cause));
}

/* The project's tile size in pixels (256 if unset or bad). */
int
store_tile_size(struct store *st)
{
	char		*v, *end;
	long		 n;

	if ((v = store_get_setting(st, "tile_size")) == NULL)
		return (256);
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < 1 || n > 65535)
		n = 256;
	free(v);
	return ((int)n);
}

/* Parse "#rrggbb" into rgb; 0 or -1. */
static int
store_parse_rgb(const char *s, size_t len, uint8_t *rgb)
{
	unsigned int	v[3];
	char		buf[8];

	if (len != 7 || s[0] != '#')
		return (-1);
	memcpy(buf, s, 7);
	buf[7] = '\0';
	if (strspn(buf + 1, "0123456789abcdefABCDEF") != 6 ||
	    sscanf(buf + 1, "%2x%2x%2x", &v[0], &v[1], &v[2]) != 3)
		return (-1);
	rgb[0] = v[0];
	rgb[1] = v[1];
	rgb[2] = v[2];
	return (0);
}

/* Read the void colours setting into cl. */
static int
store_get_void(struct store *st, struct classes *cl, char **cause)
{
	char	*v, *p, *comma;
	int	 rc = 0;

	cl->nvoid = 0;
	if ((v = store_get_setting(st, "void_colours")) == NULL)
		return (0);
	for (p = v; *p != '\0'; p = comma + 1) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		if (cl->nvoid == MAX_VOID_COLOURS || store_parse_rgb(p,
		    comma - p, cl->void_rgb[cl->nvoid]) != 0) {
			rc = set_cause(cause, "%s: setting void_colours: bad "
			    "value \"%s\"", st->path, v);
			break;
		}
		cl->nvoid++;
		if (*comma == '\0')
			break;
	}
	free(v);
	return (rc);
}

/* Read the project's classes and void colours. */
int
store_get_classes(struct store *st, struct classes *cl, char **cause)
{
	sqlite3_stmt		*stmt;
	struct classdef		*cd;
	const unsigned char	*s;
	int			 rc;

	memset(cl, 0, sizeof *cl);
	if ((stmt = store_stmt(st, S_CLASSES_GET, cause)) == NULL)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (cl->n == MAX_CLASSES ||
		    sqlite3_column_int(stmt, 0) != cl->n) {
			store_done(stmt);
			return (set_cause(cause, "%s: class table is broken "
			    "near index %d", st->path, cl->n));
		}
		cd = &cl->c[cl->n++];
		if ((s = sqlite3_column_text(stmt, 1)) != NULL)
			snprintf(cd->name, sizeof cd->name, "%s", s);
		cd->rgb[0] = sqlite3_column_int(stmt, 2);
		cd->rgb[1] = sqlite3_column_int(stmt, 3);
		cd->rgb[2] = sqlite3_column_int(stmt, 4);
		if ((s = sqlite3_column_text(stmt, 5)) != NULL)
			cd->key = (char)s[0];
	}
	if (rc != SQLITE_DONE) {
		store_error(st, cause, "reading classes");
		store_done(stmt);
		return (-1);
	}
	store_done(stmt);
	return (store_get_void(st, cl, cause));
}

/* Write the void colours as "#rrggbb,#rrggbb". */
static int
store_set_void(struct store *st, const struct classes *cl, char **cause)
{
	char	buf[MAX_VOID_COLOURS * 8 + 1];
	size_t	off = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < cl->nvoid && i < MAX_VOID_COLOURS; i++) {
		off += snprintf(buf + off, sizeof buf - off, "%s#%02x%02x%02x",
		    i == 0 ? "" : ",", cl->void_rgb[i][0], cl->void_rgb[i][1],
		    cl->void_rgb[i][2]);
	}
	return (store_set_setting(st, "void_colours", buf, cause));
}

/* Replace the project's classes and void colours. */
int
store_set_classes(struct store *st, const struct classes *cl, char **cause)
{
	sqlite3_stmt		*stmt;
	const struct classdef	*cd;
	char			 key[2];
	int			 i, own, rc = -1;

	if (store_start(st, &own, cause) != 0)
		return (-1);
	if ((stmt = store_stmt(st, S_CLASSES_CLEAR, cause)) == NULL ||
	    store_step_done(st, stmt, "writing classes", cause) != 0)
		goto out;
	if ((stmt = store_stmt(st, S_CLASS_ADD, cause)) == NULL)
		goto out;
	for (i = 0; i < cl->n; i++) {
		cd = &cl->c[i];
		sqlite3_bind_int(stmt, 1, i);
		sqlite3_bind_text(stmt, 2, cd->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(stmt, 3, cd->rgb[0]);
		sqlite3_bind_int(stmt, 4, cd->rgb[1]);
		sqlite3_bind_int(stmt, 5, cd->rgb[2]);
		key[0] = cd->key;
		key[1] = '\0';
		store_bind_text(stmt, 6, cd->key == '\0' ? NULL : key);
		if (store_step_done(st, stmt, "writing classes", cause) != 0)
			goto out;
	}
	rc = store_set_void(st, cl, cause);
out:
	return (store_end(st, own, rc, cause));
}

/* ------------------------------------------------------------------ */

/* The id of the source with this content hash, 0 if none. */
int64_t
store_source_by_hash(struct store *st, const char *sha256)
{
	sqlite3_stmt	*stmt;
	int64_t		 id = 0;

	if ((stmt = store_stmt(st, S_SOURCE_BY_HASH, NULL)) == NULL)
		return (0);
	sqlite3_bind_text(stmt, 1, sha256, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		id = sqlite3_column_int64(stmt, 0);
	store_done(stmt);
	return (id);
}

/*
 * Add a source scene and return its id; a scene with the same hash is
 * not added again, and its id is returned.  -1 on error.
 */
int64_t
store_source_add(struct store *st, const char *path, int width, int height,
    const char *sha256, char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 id = -1;
	int		 own;

	if (store_start(st, &own, cause) != 0)
		return (-1);
	if ((stmt = store_stmt(st, S_SOURCE_ADD, cause)) == NULL)
		goto out;
	sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, width);
	sqlite3_bind_int(stmt, 3, height);
	sqlite3_bind_text(stmt, 4, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, now_unix());
	if (store_step_done(st, stmt, "adding a source", cause) != 0)
		goto out;
	if ((id = store_source_by_hash(st, sha256)) == 0) {
		store_error(st, cause, "adding a source");
		id = -1;
	}
out:
	if (store_end(st, own, id == -1 ? -1 : 0, cause) != 0)
		return (-1);
	return (id);
}

/* The split of a tile, from its content hash: the same on every run. */
static int
store_split(const char *sha256)
{
	unsigned int	byte;

	if (sscanf(sha256, "%2x", &byte) != 1)
		return (SPLIT_TRAIN);
	return (byte < STORE_VAL_BYTE ? SPLIT_VAL : SPLIT_TRAIN);
}

/*
 * Add a tile: source_id, x, y, w, h and jpeg are read from t; id, split
 * and state are set.  A tile with identical bytes is not added again:
 * t->id is then 0 and the result still 0.
 */
int
store_tile_add(struct store *st, struct tile *t, char **cause)
{
	sqlite3_stmt	*stmt;
	char		 hash[65];
	int		 own, rc = -1;

	sha256_hex(t->jpeg, t->jpeg_len, hash);
	t->split = store_split(hash);
	t->state = TILE_NEW;
	t->id = 0;
	if (store_start(st, &own, cause) != 0)
		return (-1);
	if ((stmt = store_stmt(st, S_TILE_ADD, cause)) == NULL)
		goto out;
	sqlite3_bind_int64(stmt, 1, t->source_id);
	sqlite3_bind_int(stmt, 2, t->x);
	sqlite3_bind_int(stmt, 3, t->y);
	sqlite3_bind_int(stmt, 4, t->w);
	sqlite3_bind_int(stmt, 5, t->h);
	sqlite3_bind_blob64(stmt, 6, t->jpeg, t->jpeg_len, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 8, t->split);
	if (store_step_done(st, stmt, "adding a tile", cause) != 0)
		goto out;
	if (sqlite3_changes(st->db) == 1)
		t->id = sqlite3_last_insert_rowid(st->db);
	rc = 0;
out:
	return (store_end(st, own, rc, cause));
}

/* The id of the tile with exactly these bytes, 0 if none (or on error). */
int64_t
store_tile_find(struct store *st, const void *jpeg, size_t len)
{
	sqlite3_stmt	*stmt;
	char		 hash[65];
	int64_t		 id = 0;

	if ((stmt = store_stmt(st, S_TILE_BY_HASH, NULL)) == NULL)
		return (0);
	sha256_hex(jpeg, len, hash);
	sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		id = sqlite3_column_int64(stmt, 0);
	store_done(stmt);
	return (id);
}

/* Copy a text column, or NULL. */
static char *
store_column_strdup(sqlite3_stmt *stmt, int i)
{
	const unsigned char	*s;

	if ((s = sqlite3_column_text(stmt, i)) == NULL)
		return (NULL);
	return (xstrdup((const char *)s));
}

/* Read a tile with its bytes, its label's facts and its scores. */
int
store_tile_get(struct store *st, int64_t id, struct tile *t, char **cause)
{
	sqlite3_stmt	*stmt;
	const void	*blob;
	int		 rc;

	memset(t, 0, sizeof *t);
	if ((stmt = store_stmt(st, S_TILE_GET, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			set_cause(cause, "%s: no tile %jd", st->path,
			    (intmax_t)id);
		else
			store_error(st, cause, "reading a tile");
		store_done(stmt);
		return (-1);
	}
	t->id = id;
	t->source_id = sqlite3_column_int64(stmt, 0);
	t->source_path = store_column_strdup(stmt, 1);
	t->x = sqlite3_column_int(stmt, 2);
	t->y = sqlite3_column_int(stmt, 3);
	t->w = sqlite3_column_int(stmt, 4);
	t->h = sqlite3_column_int(stmt, 5);
	t->split = sqlite3_column_int(stmt, 6);
	t->state = sqlite3_column_int(stmt, 7);
	blob = sqlite3_column_blob(stmt, 8);
	t->jpeg_len = sqlite3_column_bytes(stmt, 8);
	t->jpeg = xmalloc(t->jpeg_len);
	if (t->jpeg_len != 0)
		memcpy(t->jpeg, blob, t->jpeg_len);
	t->revision = sqlite3_column_int(stmt, 9);
	t->author = store_column_strdup(stmt, 10);
	t->mtime = sqlite3_column_int64(stmt, 11);
	t->score = t->entropy = NAN;
	if (sqlite3_column_type(stmt, 12) != SQLITE_NULL)
		t->score = sqlite3_column_double(stmt, 12);
	if (sqlite3_column_type(stmt, 13) != SQLITE_NULL)
		t->entropy = sqlite3_column_double(stmt, 13);
	store_done(stmt);
	return (0);
}

/* Free what store_tile_get allocated; the struct itself is the caller's. */
void
tile_free(struct tile *t)
{
	free(t->source_path);
	free(t->jpeg);
	free(t->author);
	t->source_path = t->author = NULL;
	t->jpeg = NULL;
	t->jpeg_len = 0;
}

/*
 * The ids of all tiles in queue order: new tiles first, then skipped,
 * then done; within each, by order (ORDER_*).  *ids is malloc'd.
 */
int
store_tile_ids(struct store *st, int order, int64_t **ids, size_t *n,
    char **cause)
{
	sqlite3_stmt	*stmt;
	enum store_stmt	 s;
	size_t		 i, size = 1024;
	int		 own, rc = SQLITE_DONE;

	switch (order) {
	case ORDER_ID:
		s = S_IDS_ID;
		break;
	case ORDER_DISAGREEMENT:
		s = S_IDS_SCORE;
		break;
	case ORDER_ENTROPY:
		s = S_IDS_ENTROPY;
		break;
	case ORDER_RANDOM:
		s = S_IDS_RANDOM;
		break;
	default:
		return (set_cause(cause, "unknown tile order %d", order));
	}
	if ((stmt = store_stmt(st, s, cause)) == NULL)
		return (-1);

	/* Read in one transaction so the three lists agree. */
	own = sqlite3_get_autocommit(st->db);
	if (own && store_exec(st, "BEGIN", "reading tiles", cause) != 0)
		return (-1);
	*n = 0;
	*ids = xreallocarray(NULL, size, sizeof **ids);
	for (i = 0; i < NSTATES && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int(stmt, 1, store_queue_states[i]);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			if (*n == size) {
				size *= 2;
				*ids = xreallocarray(*ids, size, sizeof **ids);
			}
			(*ids)[(*n)++] = sqlite3_column_int64(stmt, 0);
		}
		if (rc != SQLITE_DONE)
			store_error(st, cause, "reading tiles");
		store_done(stmt);
	}
	if (own)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return (-1);
	}
	return (0);
}

/* How many tiles are in this state (-1: all tiles); -1 on error. */
int64_t
store_tile_count(struct store *st, int state)
{
	sqlite3_stmt	*stmt;
	int64_t		 n = -1;

	stmt = store_stmt(st, state < 0 ? S_TILE_COUNT_ALL : S_TILE_COUNT,
	    NULL);
	if (stmt == NULL)
		return (-1);
	if (state >= 0)
		sqlite3_bind_int(stmt, 1, state);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	store_done(stmt);
	return (n);
}

/* Set a tile's state, recording who did it and when. */
int
store_tile_set_state(struct store *st, int64_t id, int state,
    const char *author, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 own, rc = -1;

	if (state != TILE_NEW && state != TILE_DONE && state != TILE_SKIPPED)
		return (set_cause(cause, "%s: tile %jd: bad state %d",
		    st->path, (intmax_t)id, state));
	if (store_start(st, &own, cause) != 0)
		return (-1);
	if ((stmt = store_stmt(st, S_TILE_STATE, cause)) == NULL)
		goto out;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, state);
	store_bind_text(stmt, 3, author);
	sqlite3_bind_int64(stmt, 4, now_unix());
	if (store_step_done(st, stmt, "setting a tile's state", cause) != 0)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		set_cause(cause, "%s: no tile %jd", st->path, (intmax_t)id);
		goto out;
	}
	rc = 0;
out:
	return (store_end(st, own, rc, cause));
}

/* ------------------------------------------------------------------ */

/*
 * Compress a mask with zlib.  *out is malloc'd; returns 0, or -1 if the
 * mask is too large for one zlib call (over 4 GB), which is a bug.
 */
int
mask_pack(const uint8_t *mask, size_t len, unsigned char **out,
    size_t *outlen)
{
	uLongf	bound;

	if (len > UINT_MAX / 2)
		return (-1);
	bound = compressBound(len);
	*out = xmalloc(bound);
	if (compress2(*out, &bound, mask, len, Z_BEST_SPEED) != Z_OK)
		fatalx("mask_pack: zlib failed on %zu bytes", len);
	*outlen = bound;
	return (0);
}

/*
 * Uncompress a packed mask into mask, which must come out exactly len
 * bytes.  Returns 0, or -1 with a cause saying what is wrong (the caller
 * adds the file and the row).
 */
int
mask_unpack(const unsigned char *in, size_t inlen, uint8_t *mask, size_t len,
    char **cause)
{
	z_stream	z;
	int		zr;

	if (inlen > UINT_MAX || len > UINT_MAX)
		return (set_cause(cause, "mask too large"));
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		fatalx("mask_unpack: inflateInit failed");
	z.next_in = (unsigned char *)in;
	z.avail_in = inlen;
	z.next_out = mask;
	z.avail_out = len;
	zr = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (zr == Z_STREAM_END && z.total_out == len)
		return (0);
	if (zr == Z_STREAM_END)
		return (set_cause(cause, "mask is %lu bytes, not %zu",
		    z.total_out, len));
	if (zr == Z_BUF_ERROR && z.avail_out == 0)
		return (set_cause(cause, "mask is more than %zu bytes", len));
	return (set_cause(cause, "mask data is corrupt (%s)",
	    z.msg != NULL ? z.msg : "truncated"));
}

/* Check that tile id exists and that its mask is len bytes. */
static int
store_check_mask_size(struct store *st, int64_t id, size_t len,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 size;
	int		 rc;

	if ((stmt = store_stmt(st, S_TILE_SIZE, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			set_cause(cause, "%s: no tile %jd", st->path,
			    (intmax_t)id);
		else
			store_error(st, cause, "reading a tile");
		store_done(stmt);
		return (-1);
	}
	size = sqlite3_column_int64(stmt, 0) * sqlite3_column_int64(stmt, 1);
	store_done(stmt);
	if (size < 0 || (uint64_t)size != len) {
		return (set_cause(cause, "%s: tile %jd: mask of %zu bytes for "
		    "a tile of %jd pixels", st->path, (intmax_t)id, len,
		    (intmax_t)size));
	}
	return (0);
}

/*
 * Read a tile's label into mask (len = w * h bytes).  Returns 0, or 1
 * with mask all MASK_VOID when the tile has no label yet, or -1.
 */
int
store_label_get(struct store *st, int64_t id, uint8_t *mask, size_t len,
    char **cause)
{
	sqlite3_stmt	*stmt;
	char		*why;
	int		 rc;

	if ((stmt = store_stmt(st, S_LABEL_GET, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		store_done(stmt);
		if (store_check_mask_size(st, id, len, cause) != 0)
			return (-1);
		memset(mask, MASK_VOID, len);
		return (1);
	}
	if (rc != SQLITE_ROW) {
		store_error(st, cause, "reading a label");
		store_done(stmt);
		return (-1);
	}
	rc = mask_unpack(sqlite3_column_blob(stmt, 0),
	    sqlite3_column_bytes(stmt, 0), mask, len, &why);
	store_done(stmt);
	if (rc != 0) {
		set_cause(cause, "%s: label of tile %jd: %s", st->path,
		    (intmax_t)id, why);
		free(why);
		return (-1);
	}
	return (0);
}

/* The revision of a tile's label, 0 if none; -1 on error. */
static int
store_label_revision(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc, rev = 0;

	if ((stmt = store_stmt(st, S_LABEL_REVISION, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		rev = sqlite3_column_int(stmt, 0);
	else if (rc != SQLITE_DONE)
		rev = store_error(st, cause, "reading a label");
	store_done(stmt);
	return (rev);
}

/* Write the label row and its history row for revision rev. */
static int
store_label_write(struct store *st, int64_t id, int rev,
    const unsigned char *packed, size_t packedlen, const char *author,
    const char *action, char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 now = now_unix();

	if ((stmt = store_stmt(st, S_LABEL_PUT, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_blob64(stmt, 2, packed, packedlen, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, rev);
	store_bind_text(stmt, 4, author);
	sqlite3_bind_int64(stmt, 5, now);
	if (store_step_done(st, stmt, "writing a label", cause) != 0)
		return (-1);

	if ((stmt = store_stmt(st, S_HISTORY_ADD, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, rev);
	sqlite3_bind_blob64(stmt, 3, packed, packedlen, SQLITE_STATIC);
	store_bind_text(stmt, 4, author);
	sqlite3_bind_int64(stmt, 5, now);
	store_bind_text(stmt, 6, action != NULL ? action : "edit");
	return (store_step_done(st, stmt, "writing label history", cause));
}

/*
 * Store mask (len = w * h bytes) as the next revision of a tile's label,
 * with a history row holding the same mask, by author; action says what
 * made it ("paint", "fill", "import"...; NULL: "edit").  One transaction
 * unless the caller holds one.
 */
int
store_label_put(struct store *st, int64_t id, const uint8_t *mask,
    size_t len, const char *author, const char *action, char **cause)
{
	unsigned char	*packed = NULL;
	size_t		 packedlen;
	int		 own, rev, rc = -1;

	if (mask_pack(mask, len, &packed, &packedlen) != 0)
		return (set_cause(cause, "%s: tile %jd: mask too large",
		    st->path, (intmax_t)id));
	if (store_start(st, &own, cause) != 0) {
		free(packed);
		return (-1);
	}
	if (store_check_mask_size(st, id, len, cause) != 0)
		goto out;
	if ((rev = store_label_revision(st, id, cause)) < 0)
		goto out;
	rc = store_label_write(st, id, rev + 1, packed, packedlen, author,
	    action, cause);
out:
	free(packed);
	return (store_end(st, own, rc, cause));
}

/*
 * Apply one expert's change to the newest stored label: the pixels where
 * after differs from before (both len = w * h bytes, the caller's view
 * before and after a stroke, fill or undo) are written onto the label as
 * it is now in the project, so that a change made meanwhile by another
 * process survives everywhere this one did not paint.  Read, merge and
 * write happen in one transaction (BEGIN IMMEDIATE unless the caller holds
 * one).  The new revision goes to *rev and the merged mask to merged (len
 * bytes; may be NULL).  A stored label that cannot be read is an error:
 * nothing is written over it.
 */
int
store_label_apply(struct store *st, int64_t id, const uint8_t *before,
    const uint8_t *after, size_t len, const char *author, const char *action,
    int *rev, uint8_t *merged, char **cause)
{
	unsigned char	*packed = NULL;
	uint8_t		*cur;
	size_t		 packedlen, i;
	int		 own, old = 0, rc = -1;

	cur = xmalloc(len);
	if (store_start(st, &own, cause) != 0) {
		free(cur);
		return (-1);
	}
	if (store_label_get(st, id, cur, len, cause) < 0)
		goto out;
	for (i = 0; i < len; i++) {
		if (after[i] != before[i])
			cur[i] = after[i];
	}
	if ((old = store_label_revision(st, id, cause)) < 0)
		goto out;
	if (mask_pack(cur, len, &packed, &packedlen) != 0) {
		set_cause(cause, "%s: tile %jd: mask too large", st->path,
		    (intmax_t)id);
		goto out;
	}
	rc = store_label_write(st, id, old + 1, packed, packedlen, author,
	    action, cause);
out:
	free(packed);
	rc = store_end(st, own, rc, cause);
	if (rc == 0) {
		if (rev != NULL)
			*rev = old + 1;
		if (merged != NULL)
			memcpy(merged, cur, len);
	}
	free(cur);
	return (rc);
}
