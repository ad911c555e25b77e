/*
 * The jobs table: how the TUI, the commands and the trainers coordinate.
 *
 * A job moves queued -> running -> done | failed | cancelled.  Nothing but
 * the row is shared: a trainer claims the oldest queued job in one BEGIN
 * IMMEDIATE transaction (so two trainers can never claim the same one),
 * writes its progress and a heartbeat every few seconds, and ends it.  A
 * trainer that dies leaves its job running; job_reap, which every trainer
 * calls before it claims anything, marks such a job failed when its
 * process is gone from this host or its heartbeat has gone stale.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "s4lab.h"

static const char *job_states[] = {
	"queued", "running", "done", "failed", "cancelled"
};

static void	(*job_hook)(const char *, double, double);

/* The signal that asked this process to stop, or 0. */
static volatile sig_atomic_t job_signal;

#define JOB_COLUMNS "id, kind, state, created, started, finished, " \
	"heartbeat, pid, host, phase, progress, epoch, loss, eta, message, " \
	"params, cancel, model_id"

/* The name of a state. */
const char *
job_state_name(int state)
{
	if (state < 0 || state > JOB_CANCELLED)
		return ("unknown");
	return (job_states[state]);
}

/* A state from its name; -1 if unknown. */
static int
job_state_parse(const char *name)
{
	int	i;

	for (i = 0; i <= JOB_CANCELLED; i++) {
		if (name != NULL && strcmp(name, job_states[i]) == 0)
			return (i);
	}
	return (-1);
}

/* This host's name into buf. */
static void
job_hostname(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0)
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}

/* Set the progress hook. */
void
job_set_hook(void (*fn)(const char *, double, double))
{
	job_hook = fn;
}

/* A signal handler: stop the job at the next step. */
static void
job_on_signal(int sig)
{
	job_signal = sig;
}

/* Catch SIGINT, SIGTERM and SIGHUP (without SA_RESTART, so that sleeps
 * end early): a job run here then stops as if it was cancelled. */
void
job_catch_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = job_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* The signal that asked us to stop, or 0. */
int
job_interrupted(void)
{
	return (job_signal);
}

/* Prepare a statement or set the cause. */
static sqlite3_stmt *
job_prepare(struct store *st, const char *sql, char **cause)
{
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		set_cause(cause, "%s: %s", store_path(st), sqlite3_errmsg(db));
		return (NULL);
	}
	return (stmt);
}

/* Step a statement that returns no row; finalizes it. */
static int
job_exec(struct store *st, sqlite3_stmt *stmt, char **cause)
{
	int	rc;

	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		return (set_cause(cause, "%s: jobs: %s", store_path(st),
		    sqlite3_errmsg(store_db(st))));
	}
	return (0);
}

/* A copy of a text column, "" for NULL. */
static char *
job_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char	*s;

	s = sqlite3_column_text(stmt, col);
	return (xstrdup(s == NULL ? "" : (const char *)s));
}

/* Fill a job from a row of JOB_COLUMNS. */
static void
job_from_row(struct job *job, sqlite3_stmt *stmt)
{
	memset(job, 0, sizeof *job);
	job->id = sqlite3_column_int64(stmt, 0);
	job->kind = job_text(stmt, 1);
	job->state = job_state_parse((const char *)
	    sqlite3_column_text(stmt, 2));
	job->created = sqlite3_column_int64(stmt, 3);
	job->started = sqlite3_column_int64(stmt, 4);
	job->finished = sqlite3_column_int64(stmt, 5);
	job->heartbeat = sqlite3_column_int64(stmt, 6);
	job->pid = sqlite3_column_int(stmt, 7);
	job->host = job_text(stmt, 8);
	job->phase = job_text(stmt, 9);
	job->progress = sqlite3_column_double(stmt, 10);
	job->epoch = sqlite3_column_int(stmt, 11);
	if (sqlite3_column_type(stmt, 12) == SQLITE_NULL)
		job->loss = NAN;
	else
		job->loss = sqlite3_column_double(stmt, 12);
	if (sqlite3_column_type(stmt, 13) == SQLITE_NULL)
		job->eta = -1;
	else
		job->eta = sqlite3_column_double(stmt, 13);
	job->message = job_text(stmt, 14);
	job->params = job_text(stmt, 15);
	job->cancel = sqlite3_column_int(stmt, 16);
	job->model_id = sqlite3_column_int64(stmt, 17);
}

/* Free what a job holds (not the job itself). */
void
job_clear(struct job *job)
{
	free(job->kind);
	free(job->host);
	free(job->phase);
	free(job->message);
	free(job->params);
	memset(job, 0, sizeof *job);
}

/* Queue a job of a kind with its params. */
int64_t
job_queue(struct store *st, const char *kind, const char *params,
    char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 id;

	if (strcmp(kind, "train") != 0 && strcmp(kind, "predict") != 0)
		return (set_cause(cause, "unknown job kind: %s", kind));
	if (params == NULL)
		params = "{}";
	if (store_begin(st, cause) != 0)
		return (-1);
	stmt = job_prepare(st, "INSERT INTO jobs (kind, state, created, "
	    "progress, epoch, params, cancel, model_id) "
	    "VALUES (?, 'queued', ?, 0, 0, ?, 0, 0)", cause);
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, now_unix());
	sqlite3_bind_text(stmt, 3, params, -1, SQLITE_STATIC);
	if (job_exec(st, stmt, cause) != 0)
		goto fail;
	id = sqlite3_last_insert_rowid(store_db(st));
	if (store_commit(st, cause) != 0)
		return (-1);
	log_debug(LOG_TRAIN, "queued job %lld (%s %s)", (long long)id, kind,
	    params);
	return (id);

fail:
	store_rollback(st);
	return (-1);
}

/* Read one job by a query with at most one int64 parameter. */
static int
job_select(struct store *st, const char *where, int64_t arg,
    struct job *job, char **cause)
{
	sqlite3_stmt	*stmt;
	char		*sql;
	int		 rc;

	xasprintf(&sql, "SELECT " JOB_COLUMNS " FROM jobs %s", where);
	stmt = job_prepare(st, sql, cause);
	free(sql);
	if (stmt == NULL)
		return (-1);
	if (sqlite3_bind_parameter_count(stmt) > 0)
		sqlite3_bind_int64(stmt, 1, arg);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		job_from_row(job, stmt);
		sqlite3_finalize(stmt);
		return (1);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		return (set_cause(cause, "%s: jobs: %s", store_path(st),
		    sqlite3_errmsg(store_db(st))));
	}
	return (0);
}

/* Claim the oldest queued job, or a given one. */
int
job_claim(struct store *st, int64_t id, struct job *job, char **cause)
{
	sqlite3_stmt	*stmt;
	char		 host[256];
	int		 found;
	int64_t		 now = now_unix();

	if (store_begin(st, cause) != 0)
		return (-1);
	if (id != 0) {
		found = job_select(st, "WHERE id = ? AND state = 'queued'",
		    id, job, cause);
	} else {
		found = job_select(st, "WHERE state = 'queued' "
		    "ORDER BY id LIMIT 1", 0, job, cause);
	}
	if (found <= 0) {
		store_rollback(st);
		return (found);
	}

	job_hostname(host, sizeof host);
	stmt = job_prepare(st, "UPDATE jobs SET state = 'running', pid = ?, "
	    "host = ?, started = ?, heartbeat = ?, phase = 'start', "
	    "progress = 0 WHERE id = ?", cause);
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int(stmt, 1, (int)getpid());
	sqlite3_bind_text(stmt, 2, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_int64(stmt, 4, now);
	sqlite3_bind_int64(stmt, 5, job->id);
	if (job_exec(st, stmt, cause) != 0)
		goto fail;
	if (store_commit(st, cause) != 0) {
		job_clear(job);
		return (-1);
	}

	job->state = JOB_RUNNING;
	job->pid = (int)getpid();
	free(job->host);
	job->host = xstrdup(host);
	job->started = job->heartbeat = now;
	log_debug(LOG_TRAIN, "claimed job %lld", (long long)job->id);
	return (1);

fail:
	store_rollback(st);
	job_clear(job);
	return (-1);
}

/* Write progress and the heartbeat; report whether cancel was asked. */
int
job_progress(struct store *st, int64_t id, const char *phase, int epoch,
    double loss, double fraction, double eta, char **cause)
{
	sqlite3_stmt	*stmt;

	if (job_hook != NULL)
		job_hook(phase, fraction, eta);
	stmt = job_prepare(st, "UPDATE jobs SET phase = coalesce(?, phase), "
	    "epoch = coalesce(?, epoch), loss = coalesce(?, loss), "
	    "progress = ?, eta = ?, heartbeat = ? "
	    "WHERE id = ? AND state = 'running'", cause);
	if (stmt == NULL)
		return (-1);
	if (phase != NULL)
		sqlite3_bind_text(stmt, 1, phase, -1, SQLITE_STATIC);
	if (epoch >= 0)
		sqlite3_bind_int(stmt, 2, epoch);
	if (isfinite(loss))
		sqlite3_bind_double(stmt, 3, loss);
	sqlite3_bind_double(stmt, 4, fraction < 0 ? 0 :
	    fraction > 1 ? 1 : fraction);
	if (eta >= 0 && isfinite(eta))
		sqlite3_bind_double(stmt, 5, eta);
	sqlite3_bind_int64(stmt, 6, now_unix());
	sqlite3_bind_int64(stmt, 7, id);
	if (job_exec(st, stmt, cause) != 0)
		return (-1);
	return (job_cancelled(st, id, cause));
}

/* Was cancellation asked? */
int
job_cancelled(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc, cancel = 0;

	if (job_signal != 0)
		return (1);
	stmt = job_prepare(st, "SELECT cancel FROM jobs WHERE id = ?", cause);
	if (stmt == NULL)
		return (-1);
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		cancel = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		return (set_cause(cause, "%s: job %lld: %s", store_path(st),
		    (long long)id, sqlite3_errmsg(store_db(st))));
	}
	if (rc == SQLITE_DONE) {
		return (set_cause(cause, "%s: no job %lld", store_path(st),
		    (long long)id));
	}
	return (cancel);
}

/* End a running job in a final state. */
static int
job_end(struct store *st, int64_t id, const char *state, int64_t model_id,
    const char *message, char **cause)
{
	sqlite3_stmt	*stmt;
	int64_t		 now = now_unix();

	stmt = job_prepare(st, "UPDATE jobs SET state = ?, finished = ?, "
	    "heartbeat = ?, model_id = ?, message = ?, eta = 0, "
	    "progress = CASE WHEN ? = 'done' THEN 1 ELSE progress END "
	    "WHERE id = ? AND state = 'running'", cause);
	if (stmt == NULL)
		return (-1);
	sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_int64(stmt, 4, model_id);
	sqlite3_bind_text(stmt, 5, message == NULL ? "" : message, -1,
	    SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 6, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 7, id);
	if (job_exec(st, stmt, cause) != 0)
		return (-1);
	if (sqlite3_changes(store_db(st)) != 1) {
		return (set_cause(cause, "%s: job %lld is not running",
		    store_path(st), (long long)id));
	}
	log_debug(LOG_TRAIN, "job %lld %s: %s", (long long)id, state,
	    message == NULL ? "" : message);
	return (0);
}

/* The job is done. */
int
job_finish(struct store *st, int64_t id, int64_t model_id,
    const char *message, char **cause)
{
	return (job_end(st, id, "done", model_id, message, cause));
}

/* The job failed. */
int
job_fail(struct store *st, int64_t id, const char *message, char **cause)
{
	return (job_end(st, id, "failed", 0, message, cause));
}

/* The job stopped because it was cancelled. */
int
job_end_cancelled(struct store *st, int64_t id, char **cause)
{
	char	msg[64];
	int	sig = job_signal;

	if (sig == 0)
		return (job_end(st, id, "cancelled", 0, "cancelled", cause));
	snprintf(msg, sizeof msg, "interrupted by signal %d (%s)", sig,
	    sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" :
	    sig == SIGHUP ? "SIGHUP" : "signal");
	return (job_end(st, id, "cancelled", 0, msg, cause));
}

/* Ask a job to stop. */
int
job_cancel(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt	*stmt;
	struct job	 job;
	int		 found;

	if (store_begin(st, cause) != 0)
		return (-1);
	found = job_select(st, "WHERE id = ?", id, &job, cause);
	if (found <= 0) {
		store_rollback(st);
		if (found == 0) {
			set_cause(cause, "%s: no job %lld", store_path(st),
			    (long long)id);
		}
		return (-1);
	}
	if (job.state != JOB_QUEUED && job.state != JOB_RUNNING) {
		set_cause(cause, "%s: job %lld has already ended (%s)",
		    store_path(st), (long long)id, job_state_name(job.state));
		job_clear(&job);
		store_rollback(st);
		return (-1);
	}
	if (job.state == JOB_QUEUED) {
		stmt = job_prepare(st, "UPDATE jobs SET cancel = 1, "
		    "state = 'cancelled', finished = ?, message = 'cancelled "
		    "before it started' WHERE id = ?", cause);
	} else {
		stmt = job_prepare(st, "UPDATE jobs SET cancel = 1 "
		    "WHERE ? > 0 AND id = ?", cause);
	}
	job_clear(&job);
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, now_unix());
	sqlite3_bind_int64(stmt, 2, id);
	if (job_exec(st, stmt, cause) != 0)
		goto fail;
	return (store_commit(st, cause));

fail:
	store_rollback(st);
	return (-1);
}

/* Is the process of a running job gone?  Only this host can tell. */
static int
job_process_gone(const struct job *job, const char *host)
{
	if (strcmp(job->host, host) != 0 || job->pid <= 0)
		return (0);
	if (kill(job->pid, 0) == 0 || errno == EPERM)
		return (0);
	return (errno == ESRCH);
}

/* Why a running job is dead, or NULL if it may be alive. */
static char *
job_dead_reason(const struct job *job, const char *host, int stale)
{
	char	*why;
	int64_t	 age = now_unix() - job->heartbeat;

	if (job_process_gone(job, host)) {
		xasprintf(&why, "trainer process %d on %s is gone", job->pid,
		    host);
		return (why);
	}
	if (age > stale) {
		xasprintf(&why, "no heartbeat for %lld seconds (trainer %d on "
		    "%s)", (long long)age, job->pid, job->host);
		return (why);
	}
	return (NULL);
}

/* Mark failed the running jobs whose trainer is dead. */
int
job_reap(struct store *st, int stale, char **cause)
{
	struct job	*jobs;
	size_t		 n, i;
	char		 host[256], *why, *cause2 = NULL;
	int		 reaped = 0;

	job_hostname(host, sizeof host);
	if (job_list(st, &jobs, &n, cause) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (jobs[i].state != JOB_RUNNING)
			continue;
		why = job_dead_reason(&jobs[i], host, stale);
		if (why == NULL)
			continue;
		/* Someone else may have reaped or ended it meanwhile. */
		if (job_fail(st, jobs[i].id, why, &cause2) == 0)
			reaped++;
		free(cause2);
		cause2 = NULL;
		free(why);
	}
	for (i = 0; i < n; i++)
		job_clear(&jobs[i]);
	free(jobs);
	return (reaped);
}

/* Does some running job look alive? */
int
job_live(struct store *st, int stale)
{
	struct job	*jobs;
	size_t		 n, i;
	char		 host[256], *why;
	int		 live = 0;

	job_hostname(host, sizeof host);
	if (job_list(st, &jobs, &n, NULL) != 0)
		return (0);
	for (i = 0; i < n; i++) {
		if (jobs[i].state == JOB_RUNNING && !live) {
			why = job_dead_reason(&jobs[i], host, stale);
			live = (why == NULL);
			free(why);
		}
		job_clear(&jobs[i]);
	}
	free(jobs);
	return (live);
}

/* One job by id. */
int
job_get(struct store *st, int64_t id, struct job *job, char **cause)
{
	int	found;

	found = job_select(st, "WHERE id = ?", id, job, cause);
	if (found == 0) {
		return (set_cause(cause, "%s: no job %lld", store_path(st),
		    (long long)id));
	}
	return (found < 0 ? -1 : 0);
}

/*
 * The newest queued or running job.  Jobs whose trainer is dead are
 * reaped first: a dead job never counts as running.
 */
int
job_current(struct store *st, struct job *job, char **cause)
{
	if (job_reap(st, JOB_STALE_SECONDS, cause) < 0)
		return (-1);
	return (job_select(st, "WHERE state IN ('queued', 'running') "
	    "ORDER BY state = 'running' DESC, id DESC LIMIT 1", 0, job,
	    cause));
}

/* All jobs, newest first. */
int
job_list(struct store *st, struct job **jobs, size_t *n, char **cause)
{
	sqlite3_stmt	*stmt;
	size_t		 size = 0;
	int		 rc;

	*jobs = NULL;
	*n = 0;
	stmt = job_prepare(st, "SELECT " JOB_COLUMNS " FROM jobs "
	    "ORDER BY id DESC", cause);
	if (stmt == NULL)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*n == size) {
			size = size == 0 ? 16 : size * 2;
			*jobs = xreallocarray(*jobs, size, sizeof **jobs);
		}
		job_from_row(&(*jobs)[(*n)++], stmt);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		while (*n > 0)
			job_clear(&(*jobs)[--(*n)]);
		free(*jobs);
		*jobs = NULL;
		return (set_cause(cause, "%s: jobs: %s", store_path(st),
		    sqlite3_errmsg(store_db(st))));
	}
	return (0);
}

/* Skip spaces in a JSON text. */
static const char *
job_json_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return (p);
}

/* Skip a JSON string at p (at its quote); NULL if malformed. */
static const char *
job_json_string(const char *p, const char **start, size_t *len)
{
	const char	*s;

	if (*p != '"')
		return (NULL);
	s = ++p;
	while (*p != '"') {
		if (*p == '\0' || (unsigned char)*p < 0x20)
			return (NULL);
		if (*p == '\\' && *++p == '\0')
			return (NULL);
		p++;
	}
	*start = s;
	*len = p - s;
	return (p + 1);
}

/* Read a scalar value: number, true, false, null or string. */
static const char *
job_json_value(const char *p, double *value, int *isnum)
{
	const char	*s;
	char		*end;
	size_t		 len;

	*isnum = 1;
	if (strncmp(p, "true", 4) == 0) {
		*value = 1;
		return (p + 4);
	}
	if (strncmp(p, "false", 5) == 0) {
		*value = 0;
		return (p + 5);
	}
	*isnum = 0;
	if (strncmp(p, "null", 4) == 0)
		return (p + 4);
	if (*p == '"')
		return (job_json_string(p, &s, &len));
	errno = 0;
	*value = strtod(p, &end);
	if (end == p || errno == ERANGE || !isfinite(*value))
		return (NULL);
	*isnum = 1;
	return (end);
}

/* A number from the job's flat JSON params. */
int
job_param(const struct job *job, const char *key, double *value,
    char **cause)
{
	const char	*p, *k;
	size_t		 klen;
	double		 v;
	int		 isnum, found = 0;

	p = job_json_space(job->params);
	if (*p == '\0')
		return (0);
	if (*p++ != '{')
		goto bad;
	p = job_json_space(p);
	while (*p != '}') {
		if ((p = job_json_string(p, &k, &klen)) == NULL)
			goto bad;
		p = job_json_space(p);
		if (*p++ != ':')
			goto bad;
		p = job_json_space(p);
		if ((p = job_json_value(p, &v, &isnum)) == NULL)
			goto bad;
		if (klen == strlen(key) && strncmp(k, key, klen) == 0) {
			if (!isnum) {
				return (set_cause(cause, "job %lld: parameter "
				    "%s is not a number", (long long)job->id,
				    key));
			}
			*value = v;
			found = 1;
		}
		p = job_json_space(p);
		if (*p == ',')
			p = job_json_space(p + 1);
		else if (*p != '}')
			goto bad;
	}
	if (*job_json_space(p + 1) != '\0')
		goto bad;
	return (found);

bad:
	return (set_cause(cause, "job %lld: malformed parameters: %s",
	    (long long)job->id, job->params));
}
