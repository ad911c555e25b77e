/*
 * The model's side of the TUI: predictions, retrain jobs and their
 * progress, through src/'s models, jobs and trainer functions and nothing
 * else.  The TUI calls only the functions here.
 *
 * The TUI never trains: `t` queues a train job and makes sure a trainer
 * runs (trainer_ensure: `s4lab trainer --detach`, niced, logging next to
 * the project).  About once a second the TUI polls: the newest queued or
 * running job gives the progress line, and a model newer than the one seen
 * makes the TUI read the queue and the open tile's prediction again.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tui-int.h"

/* The newest model's prediction of the open tile: 1 if pred was filled. */
int
tui_model_pred(struct tui *tui, uint8_t *pred)
{
	struct tile	*t = &tui->t;
	char		*cause = NULL;
	int		 r;

	r = model_prediction(tui->st, t->id, pred, (size_t)t->w * t->h, NULL,
	    NULL, &cause);
	tui->pred_broken = (r < 0);
	if (r < 0) {
		log_debug(LOG_UI, "prediction of tile %lld: %s",
		    (long long)t->id, cause);
		tui_message(tui, 1, "the prediction of tile %lld is "
		    "unreadable: %s", (long long)t->id, cause);
		free(cause);
		return (0);
	}
	return (r);
}

/* Remember the newest model, so that only a newer one counts as new. */
void
tui_model_init(struct tui *tui)
{
	tui->model_id = model_newest(tui->st);
}

/*
 * Queue a retrain unless a train job is already queued or running, then
 * make sure a trainer runs (unless the options say not to start one).
 */
int
tui_model_retrain(struct tui *tui, char **cause)
{
	struct job	 job;
	int64_t		 id;
	int		 r;

	memset(&job, 0, sizeof job);
	if ((r = job_current(tui->st, &job, cause)) < 0)
		return (-1);
	if (r == 1 && strcmp(job.kind, "train") == 0) {
		id = job.id;
		tui_message(tui, 0, "retrain: job %lld is already %s",
		    (long long)id, job_state_name(job.state));
	} else {
		if ((id = job_queue(tui->st, "train", NULL, cause)) < 0) {
			job_clear(&job);
			return (-1);
		}
		tui_message(tui, 0, "retrain queued: job %lld", (long long)id);
	}
	job_clear(&job);
	tui->job_id = id;
	if (tui->opt->start_trainer &&
	    trainer_ensure(tui->st, NULL, cause) < 0)
		return (-1);
	return (0);
}

/* Replace the progress text; MODEL_PROGRESS if it changed. */
static int
tui_model_text(struct tui *tui, char *text)
{
	if (text == NULL && tui->job_text == NULL)
		return (0);
	if (text != NULL && tui->job_text != NULL &&
	    strcmp(text, tui->job_text) == 0) {
		free(text);
		return (0);
	}
	free(tui->job_text);
	tui->job_text = text;
	return (MODEL_PROGRESS);
}

/* The progress line of a queued or running job. */
static char *
tui_model_running(const struct job *job)
{
	char	 bar[64], loss[32], *text, *phase;

	if (job->state == JOB_QUEUED) {
		xasprintf(&text, "%s job %lld queued, waiting for a trainer",
		    job->kind, (long long)job->id);
		return (text);
	}
	progress_format(bar, sizeof bar, 36, job->progress, job->eta);
	loss[0] = '\0';
	if (job->epoch > 0 && !isnan(job->loss))
		snprintf(loss, sizeof loss, " epoch %d loss %.3f", job->epoch,
		    job->loss);
	phase = clean_text(job->phase != NULL ? job->phase : "");
	xasprintf(&text, "%s job %lld: %s%s %s", job->kind,
	    (long long)job->id, phase, loss, bar);
	free(phase);
	return (text);
}

/* How the job this TUI followed ended. */
static char *
tui_model_ended(struct tui *tui)
{
	struct job	 job;
	char		*cause = NULL, *text, *msg;

	memset(&job, 0, sizeof job);
	if (job_get(tui->st, tui->job_id, &job, &cause) != 0) {
		free(cause);
		return (NULL);
	}
	msg = clean_text(job.message != NULL ? job.message : "");
	if (strcmp(msg, job_state_name(job.state)) == 0)
		*msg = '\0';
	xasprintf(&text, "%s job %lld %s%s%s", job.kind,
	    (long long)job.id, job_state_name(job.state),
	    *msg != '\0' ? ": " : "", msg);
	free(msg);
	job_clear(&job);
	return (text);
}

/* Progress of the current job and news of a model: MODEL_* flags. */
int
tui_model_poll(struct tui *tui)
{
	struct job	 job;
	char		*cause = NULL, *text = NULL;
	int64_t		 newest;
	int		 r, flags = 0;

	memset(&job, 0, sizeof job);
	if ((r = job_current(tui->st, &job, &cause)) < 0) {
		log_debug(LOG_UI, "poll: %s", cause);
		free(cause);
		return (0);
	}
	if (r == 1) {
		text = tui_model_running(&job);
		tui->job_id = job.id;
		job_clear(&job);
		flags |= tui_model_text(tui, text);
	} else if (tui->job_id != 0) {
		flags |= tui_model_text(tui, tui_model_ended(tui));
		tui->job_id = 0;
	}

	newest = model_newest(tui->st);
	if (newest != tui->model_id) {
		tui->model_id = newest;
		flags |= MODEL_NEW;
	}
	return (flags);
}

void
tui_model_free(struct tui *tui)
{
	free(tui->job_text);
	tui->job_text = NULL;
}
