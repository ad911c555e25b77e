/*
 * The trainer: a process that runs queued jobs until none is left.
 *
 * Any number may run at once, on one project: each claims a job in one
 * transaction, so no job runs twice, and each first reaps the jobs left
 * running by trainers that died.  The TUI starts one with trainer_ensure
 * after it queues a job; the order (queue, then look for a live job)
 * means a trainer that is just finishing cannot miss the new job: either
 * it claims it, or its own job has ended and a new trainer is started.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "s4lab.h"

/* Run one claimed job and end it. */
int
trainer_run_job(struct store *st, struct job *job, char **cause)
{
	char	*cause2 = NULL;
	int	 rc;

	if (strcmp(job->kind, "train") == 0)
		rc = train_job(st, job, cause);
	else if (strcmp(job->kind, "predict") == 0)
		rc = predict_job(st, job, cause);
	else
		rc = set_cause(cause, "job %lld: unknown kind %s",
		    (long long)job->id, job->kind);

	if (rc == 1 && job_end_cancelled(st, job->id, &cause2) != 0) {
		log_debug(LOG_TRAIN, "%s", cause2);
		free(cause2);
	}
	if (rc == -1 && job_fail(st, job->id, *cause, &cause2) != 0) {
		log_debug(LOG_TRAIN, "%s", cause2);
		free(cause2);
	}
	return (rc);
}

/* Print a line with a timestamp to the trainer's log. */
static void
trainer_say(FILE *f, const char *fmt, ...)
{
	va_list	 ap;
	char	 when[32];
	time_t	 t = time(NULL);

	if (f == NULL)
		return;
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
	fprintf(f, "%s [%ld] ", when, (long)getpid());
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

/* Reap, then run queued jobs. */
int
trainer_run(struct store *st, int once, FILE *f, char **cause)
{
	struct job	 job, done;
	char		*cause2 = NULL;
	int		 n, rc, failed = 0;

	if ((n = job_reap(st, JOB_STALE_SECONDS, cause)) < 0)
		return (-1);
	if (n > 0)
		trainer_say(f, "marked %d dead job%s failed", n,
		    n == 1 ? "" : "s");
	for (;;) {
		if (job_interrupted() != 0)
			break;
		if ((rc = job_claim(st, 0, &job, cause)) < 0)
			return (-1);
		if (rc == 0)
			break;
		trainer_say(f, "job %lld (%s %s) started", (long long)job.id,
		    job.kind, job.params);
		rc = trainer_run_job(st, &job, &cause2);
		if (rc == 0 && job_get(st, job.id, &done, NULL) == 0) {
			trainer_say(f, "job %lld done: %s", (long long)job.id,
			    done.message);
			job_clear(&done);
		} else if (rc == 0) {
			trainer_say(f, "job %lld done: model %lld",
			    (long long)job.id, (long long)job.model_id);
		} else if (rc == 1 && job_interrupted() != 0) {
			trainer_say(f, "job %lld cancelled: interrupted by "
			    "signal %d", (long long)job.id, job_interrupted());
		} else if (rc == 1) {
			trainer_say(f, "job %lld cancelled", (long long)job.id);
		} else {
			trainer_say(f, "job %lld failed: %s", (long long)job.id,
			    cause2);
			failed++;
		}
		free(cause2);
		cause2 = NULL;
		job_clear(&job);
		if (once)
			break;
	}
	return (failed);
}

/* Start a detached trainer unless a live one is running a job. */
int
trainer_ensure(struct store *st, const char *exe, char **cause)
{
	pid_t	 pid;
	int	 fd, status;

	if (job_live(st, JOB_STALE_SECONDS))
		return (0);
	if (exe == NULL)
		exe = "/proc/self/exe";
	switch (pid = fork()) {
	case -1:
		return (set_cause(cause, "fork: %s", strerror(errno)));
	case 0:
		/* Keep the TUI's terminal out of the trainer's way. */
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		closefrom(STDERR_FILENO + 1);
		/*
		 * A background trainer shares the cores with the TUI and
		 * whatever else runs: OpenMP threads that spin while they
		 * wait take CPU from both, and on an oversubscribed machine
		 * slowed inference by up to 3.5x.  libgomp reads this once
		 * when it loads, hence here, before exec.
		 */
		setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
		execl(exe, S4LAB_NAME, "trainer", "--detach", store_path(st),
		    (char *)NULL);
		_exit(127);
	}

	/* The child forks the trainer and exits at once. */
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return (set_cause(cause, "waitpid: %s",
			    strerror(errno)));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		return (set_cause(cause, "%s trainer --detach %s failed "
		    "(status %d)", exe, store_path(st), status));
	}
	log_debug(LOG_TRAIN, "started a trainer for %s", store_path(st));
	return (1);
}

/* Queue a first retrain for a project that has labels and no model. */
int
trainer_first_retrain(struct store *st, const char *exe, char **cause)
{
	sqlite3_stmt	*stmt;
	struct job	 job;
	int		 labelled = 0, found;

	if (model_newest(st) != 0)
		return (0);
	if ((found = job_current(st, &job, cause)) != 0) {
		if (found == 1)
			job_clear(&job);
		return (found == 1 ? 0 : -1);
	}
	if (sqlite3_prepare_v2(store_db(st), "SELECT EXISTS (SELECT 1 FROM "
	    "labels l JOIN tiles t ON t.id = l.tile_id WHERE t.split = 0)",
	    -1, &stmt, NULL) != SQLITE_OK)
		return (set_cause(cause, "%s: %s", store_path(st),
		    sqlite3_errmsg(store_db(st))));
	if (sqlite3_step(stmt) == SQLITE_ROW)
		labelled = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (!labelled)
		return (0);
	if (job_queue(st, "train", NULL, cause) < 0)
		return (-1);
	if (trainer_ensure(st, exe, cause) < 0)
		return (-1);
	return (1);
}

/*
 * Detach: fork, start a new session, lower the priority, and send
 * output to PROJECT.trainer.log.  Returns 1 in the parent (which should
 * exit), 0 in the trainer, -1 on error.
 */
int
trainer_detach(const char *project, char **cause)
{
	char	*path;
	int	 fd, null;
	pid_t	 pid;

	xasprintf(&path, "%s.trainer.log", project);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	free(path);
	fflush(stdout);
	fflush(stderr);
	switch (pid = fork()) {
	case -1:
		close(fd);
		return (set_cause(cause, "fork: %s", strerror(errno)));
	case 0:
		break;
	default:
		close(fd);
		return (1);
	}

	setsid();
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) < 10 &&
	    setpriority(PRIO_PROCESS, 0, 10) == -1)
		log_debug(LOG_TRAIN, "setpriority: %s", strerror(errno));
	if ((null = open("/dev/null", O_RDONLY)) != -1) {
		dup2(null, STDIN_FILENO);
		if (null != STDIN_FILENO)
			close(null);
	}
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return (0);
}
