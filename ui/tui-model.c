/*
 * The model's side of the TUI: predictions, retrain jobs and their
 * progress.  The TUI calls only these four functions, so the predictions
 * and jobs API of src/ (issue 3: models, predictions and jobs tables, a
 * trainer started in the background) plugs in here and nowhere else.
 *
 * Until that API exists, there is no prediction and no job: v, a and O
 * still work (they show the label only, say that no prediction exists, and
 * switch the order, which the store answers in id order without scores),
 * and t says that retraining is not available.
 *
 * FIXME: when src/ has them, tui_model_pred reads the newest model's
 * predicted mask of tui->t.id (store_pred_get), tui_model_retrain inserts a
 * train job and starts `s4lab trainer` detached and niced when
 * tui->opt->start_trainer is set and none runs, and tui_model_poll reads
 * the job row (phase, fraction, ETA through progress_format into
 * tui->job_text) and the newest model id, returning MODEL_NEW when it
 * changed.
 */
#include <stdlib.h>

#include "tui-int.h"

/* The newest model's prediction of the open tile: 1 if pred was filled. */
int
tui_model_pred(struct tui *tui, uint8_t *pred)
{
	return (0);
}

/* Queue a retrain. */
int
tui_model_retrain(struct tui *tui, char **cause)
{
	return (set_cause(cause, "retraining is not in this build yet"));
}

/* Progress of the running job and news of a model: MODEL_* flags. */
int
tui_model_poll(struct tui *tui)
{
	return (0);
}

void
tui_model_free(struct tui *tui)
{
	free(tui->job_text);
	tui->job_text = NULL;
}
