/* Unit tests for jobs.c, rank.c, models.c and train.c. */
#include <sys/wait.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "s4lab.h"
#include "synth.h"

#define TINY "{\"steps\":3,\"width\":4,\"depth\":2,\"aux\":2," \
	"\"threads\":1,\"seed\":7}"

static char	tmpdir[] = "/tmp/test_jobs.XXXXXX";
static int	counter;

/* A new project of synthetic tiles, open. */
static struct store *
project(int nlab, int nval, int nunl, char **pathp)
{
	struct store	*st;
	char		*path, *cause = NULL;

	xasprintf(&path, "%s/%d.s4lab", tmpdir, counter++);
	synth_project(path, 32, nlab, nval, nunl);
	st = store_open(path, 0, &cause);
	assert_non_null(st);
	if (pathp != NULL)
		*pathp = path;
	else
		free(path);
	return (st);
}

/* Run SQL on the store's connection. */
static void
exec_sql(struct store *st, const char *sql)
{
	assert_int_equal(sqlite3_exec(store_db(st), sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

/* One integer from a query. */
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

static void
claim_takes_oldest_queued_first(void **state)
{
	struct store	*st = project(1, 0, 1, NULL);
	struct job	 job;
	int64_t		 a, b;
	char		*cause = NULL;

	a = job_queue(st, "train", "{}", &cause);
	b = job_queue(st, "predict", NULL, &cause);
	assert_true(a > 0 && b > a);
	assert_int_equal(job_claim(st, 0, &job, &cause), 1);
	assert_int_equal(job.id, a);
	assert_int_equal(job.state, JOB_RUNNING);
	assert_int_equal(job.pid, getpid());
	job_clear(&job);
	assert_int_equal(job_claim(st, 0, &job, &cause), 1);
	assert_int_equal(job.id, b);
	assert_string_equal(job.kind, "predict");
	job_clear(&job);
	assert_int_equal(job_claim(st, 0, &job, &cause), 0);
	assert_int_equal(job_queue(st, "bake", NULL, &cause), -1);
	free(cause);
	store_close(st);
}

static void
two_connections_never_claim_one_job(void **state)
{
	struct store	*st, *st2;
	struct job	 job;
	char		*path, *cause = NULL;
	int64_t		 id;

	st = project(1, 0, 0, &path);
	st2 = store_open(path, 0, &cause);
	assert_non_null(st2);
	id = job_queue(st, "train", NULL, &cause);
	assert_int_equal(job_claim(st2, id, &job, &cause), 1);
	job_clear(&job);
	assert_int_equal(job_claim(st, 0, &job, &cause), 0);
	assert_int_equal(job_claim(st, id, &job, &cause), 0);
	store_close(st2);
	store_close(st);
	free(path);
}

static void
cancel_of_queued_job_is_immediate(void **state)
{
	struct store	*st = project(1, 0, 0, NULL);
	struct job	 job;
	char		*cause = NULL;
	int64_t		 id;

	id = job_queue(st, "train", NULL, &cause);
	assert_int_equal(job_cancel(st, id, &cause), 0);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_int_equal(job.state, JOB_CANCELLED);
	assert_true(job.finished > 0);
	job_clear(&job);
	assert_int_equal(job_claim(st, 0, &job, &cause), 0);
	/* An ended job cannot be cancelled again, nor a missing one. */
	assert_int_equal(job_cancel(st, id, &cause), -1);
	assert_non_null(strstr(cause, "already ended"));
	free(cause);
	cause = NULL;
	assert_int_equal(job_cancel(st, 999, &cause), -1);
	assert_non_null(strstr(cause, "no job 999"));
	free(cause);
	store_close(st);
}

static void
cancel_of_running_job_sets_the_flag(void **state)
{
	struct store	*st = project(1, 0, 0, NULL);
	struct job	 job;
	char		*cause = NULL;
	int64_t		 id;

	id = job_queue(st, "train", NULL, &cause);
	assert_int_equal(job_claim(st, 0, &job, &cause), 1);
	job_clear(&job);
	assert_int_equal(job_progress(st, id, "train", 2, 0.5, 0.3, 12,
	    &cause), 0);
	assert_int_equal(job_cancel(st, id, &cause), 0);
	assert_int_equal(job_cancelled(st, id, &cause), 1);
	assert_int_equal(job_progress(st, id, NULL, 2, 0.4, 0.4, 10,
	    &cause), 1);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_int_equal(job.state, JOB_RUNNING);
	assert_string_equal(job.phase, "train");
	assert_int_equal(job.epoch, 2);
	assert_true(fabs(job.progress - 0.4) < 1e-9);
	assert_true(fabs(job.eta - 10) < 1e-9);
	job_clear(&job);
	assert_int_equal(job_end_cancelled(st, id, &cause), 0);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_int_equal(job.state, JOB_CANCELLED);
	job_clear(&job);
	/* Ending it twice is refused. */
	assert_int_equal(job_fail(st, id, "late", &cause), -1);
	free(cause);
	store_close(st);
}

/* A pid that is surely not running: a child that has been reaped. */
static pid_t
dead_pid(void)
{
	pid_t	pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (pid);
}

static void
reap_fails_jobs_of_dead_trainers(void **state)
{
	struct store	*st = project(1, 0, 0, NULL);
	struct job	 job;
	char		*cause = NULL, *sql;
	int64_t		 a, b, c;

	a = job_queue(st, "train", NULL, &cause);
	b = job_queue(st, "train", NULL, &cause);
	c = job_queue(st, "train", NULL, &cause);
	assert_int_equal(job_claim(st, a, &job, &cause), 1);
	job_clear(&job);
	assert_int_equal(job_claim(st, b, &job, &cause), 1);
	job_clear(&job);
	assert_int_equal(job_claim(st, c, &job, &cause), 1);
	job_clear(&job);
	assert_int_equal(job_live(st, JOB_STALE_SECONDS), 1);

	/* a: its process is gone; b: silent for too long; c: alive. */
	xasprintf(&sql, "UPDATE jobs SET pid = %d WHERE id = %lld",
	    (int)dead_pid(), (long long)a);
	exec_sql(st, sql);
	free(sql);
	xasprintf(&sql, "UPDATE jobs SET heartbeat = heartbeat - 1000, "
	    "host = 'elsewhere' WHERE id = %lld", (long long)b);
	exec_sql(st, sql);
	free(sql);
	assert_int_equal(job_reap(st, 600, &cause), 2);

	assert_int_equal(job_get(st, a, &job, &cause), 0);
	assert_int_equal(job.state, JOB_FAILED);
	assert_non_null(strstr(job.message, "gone"));
	job_clear(&job);
	assert_int_equal(job_get(st, b, &job, &cause), 0);
	assert_int_equal(job.state, JOB_FAILED);
	assert_non_null(strstr(job.message, "heartbeat"));
	job_clear(&job);
	assert_int_equal(job_get(st, c, &job, &cause), 0);
	assert_int_equal(job.state, JOB_RUNNING);
	job_clear(&job);
	assert_int_equal(job_reap(st, 600, &cause), 0);
	store_close(st);
}

static void
current_job_prefers_running(void **state)
{
	struct store	*st = project(1, 0, 0, NULL);
	struct job	 job;
	char		*cause = NULL;
	int64_t		 a, b;

	assert_int_equal(job_current(st, &job, &cause), 0);
	assert_int_equal(job_live(st, JOB_STALE_SECONDS), 0);
	a = job_queue(st, "train", NULL, &cause);
	b = job_queue(st, "train", NULL, &cause);
	assert_int_equal(job_current(st, &job, &cause), 1);
	assert_int_equal(job.id, b);
	job_clear(&job);
	assert_int_equal(job_claim(st, 0, &job, &cause), 1);
	job_clear(&job);
	assert_int_equal(job_current(st, &job, &cause), 1);
	assert_int_equal(job.id, a);
	job_clear(&job);
	store_close(st);
}

static void
current_job_is_never_a_dead_one(void **state)
{
	struct store	*st = project(1, 0, 0, NULL);
	struct job	 job;
	char		*cause = NULL, *sql;
	int64_t		 a;

	a = job_queue(st, "train", NULL, &cause);
	assert_int_equal(job_claim(st, 0, &job, &cause), 1);
	job_clear(&job);
	/* Its trainer died: the job is reaped, not current. */
	xasprintf(&sql, "UPDATE jobs SET pid = %d WHERE id = %lld",
	    (int)dead_pid(), (long long)a);
	exec_sql(st, sql);
	free(sql);
	assert_int_equal(job_current(st, &job, &cause), 0);
	assert_int_equal(job_get(st, a, &job, &cause), 0);
	assert_int_equal(job.state, JOB_FAILED);
	job_clear(&job);
	/* A stale heartbeat on another host is as dead. */
	a = job_queue(st, "train", NULL, &cause);
	assert_int_equal(job_claim(st, 0, &job, &cause), 1);
	job_clear(&job);
	exec_sql(st, "UPDATE jobs SET host = 'elsewhere', "
	    "heartbeat = heartbeat - 1000 WHERE state = 'running'");
	assert_int_equal(job_current(st, &job, &cause), 0);
	/* The demo's first retrain is then queued again. */
	synth_label(st, 1, 1);
	exec_sql(st, "UPDATE tiles SET split = 0");
	assert_int_equal(trainer_first_retrain(st, "/bin/true", &cause), 1);
	store_close(st);
}

static void
params_read_numbers_and_refuse_garbage(void **state)
{
	struct job	 job;
	double		 v = 0;
	char		*cause = NULL;

	memset(&job, 0, sizeof job);
	job.params = "{ \"steps\" : 12, \"name\": \"a\\\"b\", "
	    "\"supervised_only\": true, \"lr\": 1e-3 }";
	assert_int_equal(job_param(&job, "steps", &v, &cause), 1);
	assert_true(v == 12);
	assert_int_equal(job_param(&job, "supervised_only", &v, &cause), 1);
	assert_true(v == 1);
	assert_int_equal(job_param(&job, "lr", &v, &cause), 1);
	assert_true(fabs(v - 1e-3) < 1e-12);
	assert_int_equal(job_param(&job, "seed", &v, &cause), 0);
	assert_int_equal(job_param(&job, "name", &v, &cause), -1);
	free(cause);
	cause = NULL;
	job.params = "{\"steps\": 12";
	assert_int_equal(job_param(&job, "steps", &v, &cause), -1);
	assert_non_null(strstr(cause, "malformed"));
	free(cause);
	cause = NULL;
	job.params = "{\"steps\": 1e999}";
	assert_int_equal(job_param(&job, "steps", &v, &cause), -1);
	free(cause);
	cause = NULL;
	job.params = "";
	assert_int_equal(job_param(&job, "steps", &v, &cause), 0);
}

/* Give tile ids a model's scores (scene of each tile is id mod 3). */
static void
fake_scores(struct store *st, const double *score, int n)
{
	char	*sql;
	int	 i;

	exec_sql(st, "INSERT INTO models (id, created) VALUES (1, 0)");
	for (i = 0; i < n; i++) {
		xasprintf(&sql, "INSERT INTO predictions (tile_id, model_id, "
		    "score, entropy) VALUES (%d, 1, %f, %f)", i + 1, score[i],
		    1 - score[i]);
		exec_sql(st, sql);
		free(sql);
	}
}

static void
queue_interleaves_scenes_nearly_as_high(void **state)
{
	/* Tiles 1,4,7,10 are scene 0; 2,5 scene 1; 3,6,8,9 lower. */
	static const double score[] = {
		1.0, 0.95, 0.1, 0.99, 0.94, 0.1, 0.98, 0.1, 0.1, 0.97
	};
	static const int64_t want[] = { 1, 2, 4, 5, 7, 10 };
	struct store		*st = project(0, 0, 10, NULL);
	struct rank_entry	*e;
	size_t			 n, i;
	char			*cause = NULL;

	fake_scores(st, score, 10);
	assert_int_equal(rank_queue(st, ORDER_DISAGREEMENT, &e, &n, &cause),
	    0);
	assert_int_equal(n, 10);
	for (i = 0; i < 6; i++) {
		assert_int_equal(e[i].tile_id, want[i]);
		assert_int_equal(e[i].rank, (int)i + 1);
	}
	assert_non_null(rank_find(e, n, 5));
	assert_int_equal(rank_find(e, n, 5)->rank, 4);
	assert_null(rank_find(e, n, 99));
	free(e);

	/* By entropy (1 - score here) the low scorers come first. */
	assert_int_equal(rank_queue(st, ORDER_ENTROPY, &e, &n, &cause), 0);
	assert_true(e[0].score > 0.8);
	free(e);
	store_close(st);
}

static void
queue_keeps_far_better_scene_first(void **state)
{
	static const double score[] = {
		1.0, 0.2, 0.2, 0.9, 0.2, 0.2, 0.8, 0.2, 0.2
	};
	struct store		*st = project(0, 0, 9, NULL);
	struct rank_entry	*e;
	size_t			 n;
	char			*cause = NULL;

	fake_scores(st, score, 9);
	/* A done tile leaves the queue of new tiles. */
	exec_sql(st, "UPDATE tiles SET state = 1 WHERE id = 7");
	assert_int_equal(rank_queue(st, ORDER_DISAGREEMENT, &e, &n, &cause),
	    0);
	assert_int_equal(e[0].tile_id, 1);
	assert_int_equal(e[1].tile_id, 4);
	assert_int_equal(e[8].tile_id, 7);
	assert_int_equal(e[8].rank, 0);
	assert_int_equal(e[7].rank, 8);
	free(e);
	assert_int_equal(rank_order_parse("random"), ORDER_RANDOM);
	assert_int_equal(rank_order_parse("best"), -1);
	store_close(st);
}

/* Run a queued job here as a trainer would. */
static int
run_one(struct store *st, int64_t id, struct job *job)
{
	char	*cause = NULL;
	int	 rc;

	assert_int_equal(job_claim(st, id, job, &cause), 1);
	rc = trainer_run_job(st, job, &cause);
	if (rc != 0)
		print_message("job %lld: %s\n", (long long)id, cause);
	free(cause);
	return (rc);
}

static void
train_stores_model_metrics_predictions(void **state)
{
	struct store	*st = project(6, 3, 6, NULL);
	struct job	 job;
	uint8_t		 mask[32 * 32];
	double		 score, entropy;
	char		*cause = NULL;
	int64_t		 id, model;

	id = job_queue(st, "train", TINY, &cause);
	assert_int_equal(run_one(st, id, &job), 0);
	model = job.model_id;
	job_clear(&job);
	assert_true(model > 0);
	assert_int_equal(model_newest(st), model);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_int_equal(job.state, JOB_DONE);
	assert_int_equal(job.model_id, model);
	assert_true(job.progress == 1);
	job_clear(&job);
	assert_int_equal(query_int(st, "SELECT count(*) FROM predictions"),
	    15);
	assert_int_equal(query_int(st, "SELECT count(*) FROM models WHERE "
	    "metrics LIKE '%\"miou\":0.%' AND metrics LIKE '%\"val_tiles\":3%' "
	    "AND config LIKE '%\"labelled\":6,%' AND length(weights) > 100"),
	    1);
	assert_int_equal(model_prediction(st, 12, mask, sizeof mask, &score,
	    &entropy, &cause), 1);
	assert_true(score >= 0 && entropy >= 0);
	assert_true(mask[0] < 3 && mask[sizeof mask - 1] < 3);

	/* A predict job rescores with the same model. */
	exec_sql(st, "DELETE FROM predictions");
	id = job_queue(st, "predict", NULL, &cause);
	assert_int_equal(run_one(st, id, &job), 0);
	job_clear(&job);
	assert_int_equal(query_int(st, "SELECT count(*) FROM predictions "
	    "WHERE model_id = (SELECT max(id) FROM models)"), 15);
	store_close(st);
}

static void
train_is_deterministic_for_a_seed(void **state)
{
	struct store	*st = project(4, 1, 4, NULL);
	struct job	 job;
	char		*cause = NULL;

	job_queue(st, "train", TINY, &cause);
	job_queue(st, "train", TINY, &cause);
	job_queue(st, "train", "{\"steps\":3,\"width\":4,\"depth\":2,"
	    "\"aux\":2,\"threads\":1,\"seed\":8}", &cause);
	assert_int_equal(run_one(st, 0, &job), 0);
	job_clear(&job);
	assert_int_equal(run_one(st, 0, &job), 0);
	job_clear(&job);
	assert_int_equal(run_one(st, 0, &job), 0);
	job_clear(&job);
	assert_int_equal(query_int(st, "SELECT (SELECT weights FROM models "
	    "WHERE id = 1) = (SELECT weights FROM models WHERE id = 2)"), 1);
	assert_int_equal(query_int(st, "SELECT (SELECT weights FROM models "
	    "WHERE id = 1) = (SELECT weights FROM models WHERE id = 3)"), 0);
	/* Only the newest model's predictions are kept. */
	assert_int_equal(query_int(st, "SELECT count(DISTINCT model_id) "
	    "FROM predictions"), 1);
	store_close(st);
}

static void
train_without_labels_fails_cleanly(void **state)
{
	struct store	*st = project(0, 0, 3, NULL);
	struct job	 job;
	char		*cause = NULL;
	int64_t		 id;

	id = job_queue(st, "train", "{\"steps\":\"many\"}", &cause);
	assert_int_equal(run_one(st, id, &job), -1);
	job_clear(&job);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_int_equal(job.state, JOB_FAILED);
	assert_non_null(strstr(job.message, "steps"));
	job_clear(&job);
	id = job_queue(st, "train", TINY, &cause);
	assert_int_equal(run_one(st, id, &job), -1);
	job_clear(&job);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_non_null(strstr(job.message, "no labelled tile"));
	job_clear(&job);
	assert_int_equal(model_newest(st), 0);
	id = job_queue(st, "predict", NULL, &cause);
	assert_int_equal(run_one(st, id, &job), -1);
	job_clear(&job);
	store_close(st);
}

static void
cancelled_train_job_stores_nothing(void **state)
{
	struct store	*st = project(2, 0, 2, NULL);
	struct job	 job;
	char		*cause = NULL;
	int64_t		 id;

	id = job_queue(st, "train", TINY, &cause);
	assert_int_equal(job_claim(st, id, &job, &cause), 1);
	/* The flag is read between steps: set before the first one. */
	exec_sql(st, "UPDATE jobs SET cancel = 1");
	assert_int_equal(trainer_run_job(st, &job, &cause), 1);
	job_clear(&job);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_int_equal(job.state, JOB_CANCELLED);
	job_clear(&job);
	assert_int_equal(model_newest(st), 0);
	assert_int_equal(query_int(st, "SELECT count(*) FROM predictions"),
	    0);
	store_close(st);
}

/* Replace model 1's weights blob with len bytes of blob. */
static void
set_weights(struct store *st, const unsigned char *blob, size_t len)
{
	sqlite3_stmt	*stmt;

	assert_int_equal(sqlite3_prepare_v2(store_db(st), "UPDATE models SET "
	    "weights = ? WHERE id = 1", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_blob(stmt, 1, blob, len, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
}

/* Run a predict job that must fail; its message. */
static char *
predict_fails(struct store *st)
{
	struct job	 job;
	char		*cause = NULL, *msg;
	int64_t		 id;

	id = job_queue(st, "predict", NULL, &cause);
	assert_int_equal(run_one(st, id, &job), -1);
	job_clear(&job);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_int_equal(job.state, JOB_FAILED);
	msg = xstrdup(job.message);
	job_clear(&job);
	return (msg);
}

static void
refused_weights_say_why(void **state)
{
	struct store	*st = project(2, 0, 2, NULL);
	struct job	 job;
	unsigned char	*blob, *bad;
	size_t		 len, hdr;
	char		*cause = NULL, *msg;
	float		 nan = NAN;

	job_queue(st, "train", TINY, &cause);
	assert_int_equal(run_one(st, 0, &job), 0);
	job_clear(&job);
	assert_int_equal(model_weights(st, 1, &blob, &len, &cause), 0);

	/* Truncated: the fault is named, not just "refused". */
	set_weights(st, blob, len / 2);
	msg = predict_fails(st);
	print_message("%s\n", msg);
	assert_non_null(strstr(msg, "model 1: weights refused: "));
	assert_true(strlen(strstr(msg, "refused: ")) > 12);
	assert_null(strstr(msg, "s4lab-"));
	free(msg);

	/* A NaN in the first tensor's data. */
	hdr = 0;
	memcpy(&hdr, blob, 8);
	bad = xmalloc(len);
	memcpy(bad, blob, len);
	memcpy(bad + 8 + hdr, &nan, sizeof nan);
	set_weights(st, bad, len);
	msg = predict_fails(st);
	print_message("%s\n", msg);
	assert_non_null(strstr(msg, "model 1: weights refused: "));
	assert_non_null(strstr(msg, "non-finite"));
	free(msg);
	assert_int_equal(query_int(st, "SELECT count(*) FROM predictions "
	    "WHERE score IS NULL"), 0);
	free(bad);
	free(blob);
	store_close(st);
}

/* Set every revision of a tile's label to len bytes of blob. */
static void
set_label_blob(struct store *st, int64_t tile, const void *blob, size_t len)
{
	sqlite3_stmt	*stmt;

	assert_int_equal(sqlite3_prepare_v2(store_db(st), "UPDATE labels SET "
	    "mask = ? WHERE tile_id = ?", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_blob(stmt, 1, blob, len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, tile);
	assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
	sqlite3_finalize(stmt);
}

static void
bad_labels_are_skipped_and_named(void **state)
{
	struct store	*st = project(3, 0, 2, NULL);
	struct job	 job;
	uint8_t		 mask[32 * 32];
	unsigned char	*packed;
	size_t		 plen;
	char		*cause = NULL;
	int64_t		 id;

	assert_int_equal(query_int(st, "SELECT count(*) FROM labels "
	    "WHERE tile_id IN (1, 2)"), 2);
	/* Tile 1's label is garbage, tile 2's uses a class that is gone. */
	set_label_blob(st, 1, "junk", 4);
	memset(mask, 1, sizeof mask);
	memset(mask, 200, 100);
	assert_int_equal(mask_pack(mask, sizeof mask, &packed, &plen), 0);
	set_label_blob(st, 2, packed, plen);
	free(packed);
	id = job_queue(st, "train", TINY, &cause);
	assert_int_equal(run_one(st, id, &job), 0);
	job_clear(&job);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	print_message("%s\n", job.message);
	assert_int_equal(job.state, JOB_DONE);
	assert_non_null(strstr(job.message, "tile 1: label unreadable"));
	assert_non_null(strstr(job.message, "tile 2: 100 pixels of classes "
	    "that no longer exist"));
	job_clear(&job);
	assert_int_equal(query_int(st, "SELECT json_extract(config, "
	    "'$.labelled') FROM models"), 2);
	store_close(st);
}

static struct store	*hook_st;
static double		 eta_at, eta_said;

/* A progress hook that keeps the first ETA once the steps are fixed. */
static void
first_budget_eta(const char *phase, double fraction, double eta)
{
	if (eta_said < 0 && phase != NULL && strcmp(phase, "train") == 0 &&
	    fraction > 0.02 && eta >= 0) {
		eta_said = eta;
		eta_at = now_seconds();
	}
}

static void
budget_eta_comes_from_the_steps_left(void **state)
{
	struct store	*st = project(2, 0, 2, NULL);
	struct job	 job;
	char		*cause = NULL;
	double		 left;
	int64_t		 id;

	/* A 3-second budget: the steps are fixed after the fifth. */
	eta_said = -1;
	job_set_hook(first_budget_eta);
	id = job_queue(st, "train", "{\"minutes\":0.05,\"width\":4,"
	    "\"depth\":2,\"aux\":2,\"threads\":1,\"seed\":7,"
	    "\"max_steps\":1e7}", &cause);
	assert_int_equal(run_one(st, id, &job), 0);
	job_set_hook(NULL);
	job_clear(&job);
	left = now_seconds() - eta_at;
	print_message("ETA said %.2f s, took %.2f s\n", eta_said, left);
	assert_true(eta_said >= 0);
	/* Said early (at the fifth step), and close to the truth. */
	assert_true(left > 1.5);
	assert_true(eta_said < 3 * left && left < 3 * eta_said);
	store_close(st);
}

/* A progress hook that asks for cancellation when the store begins. */
static void
cancel_at_store(const char *phase, double fraction, double eta)
{
	if (phase != NULL && strcmp(phase, "store") == 0)
		exec_sql(hook_st, "UPDATE jobs SET cancel = 1");
}

static void
cancel_during_store_stores_nothing(void **state)
{
	struct store	*st = project(2, 0, 2, NULL);
	struct job	 job;
	char		*cause = NULL;
	int64_t		 id;

	hook_st = st;
	job_set_hook(cancel_at_store);
	id = job_queue(st, "train", TINY, &cause);
	assert_int_equal(job_claim(st, id, &job, &cause), 1);
	assert_int_equal(trainer_run_job(st, &job, &cause), 1);
	job_set_hook(NULL);
	job_clear(&job);
	assert_int_equal(job_get(st, id, &job, &cause), 0);
	assert_int_equal(job.state, JOB_CANCELLED);
	job_clear(&job);
	assert_int_equal(model_newest(st), 0);
	assert_int_equal(query_int(st, "SELECT count(*) FROM predictions"),
	    0);
	store_close(st);
}

static void
first_retrain_is_queued_once(void **state)
{
	struct store	*st = project(0, 0, 2, NULL);
	struct job	 job;
	char		*cause = NULL;

	/* No labels: nothing to train on. */
	assert_int_equal(trainer_first_retrain(st, "/bin/true", &cause), 0);
	synth_label(st, 1, 1);
	exec_sql(st, "UPDATE tiles SET split = 0");
	/* /bin/true stands in for the trainer: it only has to start. */
	assert_int_equal(trainer_first_retrain(st, "/bin/true", &cause), 1);
	assert_int_equal(query_int(st, "SELECT count(*) FROM jobs WHERE "
	    "kind = 'train' AND state = 'queued'"), 1);
	assert_int_equal(trainer_first_retrain(st, "/bin/true", &cause), 0);
	/* A live running job means a trainer runs: none is started. */
	assert_int_equal(job_claim(st, 0, &job, &cause), 1);
	job_clear(&job);
	assert_int_equal(trainer_ensure(st, "/bin/false", &cause), 0);
	exec_sql(st, "UPDATE jobs SET state = 'done'");
	assert_int_equal(trainer_ensure(st, "/bin/false", &cause), -1);
	assert_non_null(strstr(cause, "failed"));
	free(cause);
	store_close(st);
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

	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return (-1);
	free(cmd);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(claim_takes_oldest_queued_first),
		cmocka_unit_test(two_connections_never_claim_one_job),
		cmocka_unit_test(cancel_of_queued_job_is_immediate),
		cmocka_unit_test(cancel_of_running_job_sets_the_flag),
		cmocka_unit_test(reap_fails_jobs_of_dead_trainers),
		cmocka_unit_test(current_job_prefers_running),
		cmocka_unit_test(current_job_is_never_a_dead_one),
		cmocka_unit_test(params_read_numbers_and_refuse_garbage),
		cmocka_unit_test(queue_interleaves_scenes_nearly_as_high),
		cmocka_unit_test(queue_keeps_far_better_scene_first),
		cmocka_unit_test(train_stores_model_metrics_predictions),
		cmocka_unit_test(train_is_deterministic_for_a_seed),
		cmocka_unit_test(train_without_labels_fails_cleanly),
		cmocka_unit_test(cancelled_train_job_stores_nothing),
		cmocka_unit_test(cancel_during_store_stores_nothing),
		cmocka_unit_test(refused_weights_say_why),
		cmocka_unit_test(budget_eta_comes_from_the_steps_left),
		cmocka_unit_test(bad_labels_are_skipped_and_named),
		cmocka_unit_test(first_retrain_is_queued_once),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
