/*
 * Model versions and their predictions, as the TUI and the commands read
 * them.  The trainer writes them (train.c); only the newest model's
 * predictions are kept.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "s4lab.h"

/* The newest model's id, 0 if none. */
int64_t
model_newest(struct store *st)
{
	sqlite3_stmt	*stmt;
	int64_t		 id = 0;

	if (sqlite3_prepare_v2(store_db(st), "SELECT max(id) FROM models",
	    -1, &stmt, NULL) != SQLITE_OK)
		return (0);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return (id);
}

/* Free what a model holds. */
void
model_clear(struct model *m)
{
	free(m->config);
	free(m->metrics);
	memset(m, 0, sizeof *m);
}

/* All models, newest first. */
int
model_list(struct store *st, struct model **out, size_t *n, char **cause)
{
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;
	struct model	*m;
	const char	*s;
	size_t		 size = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT id, created, job_id, config, "
	    "metrics FROM models ORDER BY id DESC", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return (set_cause(cause, "%s: %s", store_path(st),
		    sqlite3_errmsg(db)));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*n == size) {
			size = size == 0 ? 16 : size * 2;
			*out = xreallocarray(*out, size, sizeof **out);
		}
		m = &(*out)[(*n)++];
		m->id = sqlite3_column_int64(stmt, 0);
		m->created = sqlite3_column_int64(stmt, 1);
		m->job_id = sqlite3_column_int64(stmt, 2);
		s = (const char *)sqlite3_column_text(stmt, 3);
		m->config = xstrdup(s == NULL ? "{}" : s);
		s = (const char *)sqlite3_column_text(stmt, 4);
		m->metrics = xstrdup(s == NULL ? "{}" : s);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		while (*n > 0)
			model_clear(&(*out)[--(*n)]);
		free(*out);
		*out = NULL;
		return (set_cause(cause, "%s: models: %s", store_path(st),
		    sqlite3_errmsg(db)));
	}
	return (0);
}

/* A model's weights. */
int
model_weights(struct store *st, int64_t id, unsigned char **blob,
    size_t *len, char **cause)
{
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;
	int		 rc = -1;

	*blob = NULL;
	if (sqlite3_prepare_v2(db, "SELECT weights FROM models WHERE id = ?",
	    -1, &stmt, NULL) != SQLITE_OK)
		return (set_cause(cause, "%s: %s", store_path(st),
		    sqlite3_errmsg(db)));
	sqlite3_bind_int64(stmt, 1, id);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		set_cause(cause, "%s: no model %lld", store_path(st),
		    (long long)id);
	} else if ((*len = sqlite3_column_bytes(stmt, 0)) == 0) {
		set_cause(cause, "%s: model %lld has no weights",
		    store_path(st), (long long)id);
	} else {
		*blob = xmalloc(*len);
		memcpy(*blob, sqlite3_column_blob(stmt, 0), *len);
		rc = 0;
	}
	sqlite3_finalize(stmt);
	return (rc);
}

/* The newest model's prediction for a tile. */
int
model_prediction(struct store *st, int64_t tile_id, uint8_t *mask,
    size_t len, double *score, double *entropy, char **cause)
{
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(mask, MASK_VOID, len);
	if (score != NULL)
		*score = NAN;
	if (entropy != NULL)
		*entropy = NAN;
	if (sqlite3_prepare_v2(db, "SELECT mask, score, entropy FROM "
	    "predictions WHERE tile_id = ? AND model_id = (SELECT max(id) "
	    "FROM models)", -1, &stmt, NULL) != SQLITE_OK)
		return (set_cause(cause, "%s: %s", store_path(st),
		    sqlite3_errmsg(db)));
	sqlite3_bind_int64(stmt, 1, tile_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(stmt);
		return (0);
	}
	if (rc != SQLITE_ROW) {
		set_cause(cause, "%s: predictions: %s", store_path(st),
		    sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return (-1);
	}
	if (score != NULL)
		*score = sqlite3_column_double(stmt, 1);
	if (entropy != NULL)
		*entropy = sqlite3_column_double(stmt, 2);
	rc = mask_unpack(sqlite3_column_blob(stmt, 0),
	    sqlite3_column_bytes(stmt, 0), mask, len, cause);
	sqlite3_finalize(stmt);
	if (rc != 0) {
		memset(mask, MASK_VOID, len);
		return (-1);
	}
	return (1);
}
