/*
 * s4lab train: queue a retrain, or run it here with --wait.
 */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s4lab.h"

static int	cmd_train_exec(int, char **);

static const char *cmd_train_options[] = {
	"-w, --wait\trun the job here with a progress bar",
	"-b, --background\talso start a detached trainer",
	"-s, --steps N\ttraining steps, 0..1e7 (0, the default: as many as "
	    "fit --minutes)",
	"-m, --minutes M\ttime budget of the whole job when no --steps, "
	    "0.01..1e5 (8)",
	"-S, --seed N\tseed of weights, shuffling and augmentation (1)",
	"-u, --supervised-only\tno consistency loss on unlabelled tiles",
	"-W, --width N\tchannels of the first level, 1..512 (16)",
	"-t, --threads N\tthreads, 0..256 (0, the default: all)",
	NULL
};

const struct cmd_entry cmd_train_entry = {
	"train", "[-bwu] [-s N] [-m M] [-S N] [-W N] [-t N] PROJECT",
	"queue a retrain of the model", cmd_train_options, cmd_train_exec
};

static struct progress	train_pg;

/* Redraw the bar from the job's progress. */
static void
train_hook(const char *phase, double fraction, double eta)
{
	if (phase != NULL)
		train_pg.label = phase;
	progress_set(&train_pg, fraction);
}

/*
 * Wait for a job run by another trainer, drawing its progress.  If we
 * are interrupted, the job (which we queued) is cancelled.
 */
static int
train_follow(struct store *st, int64_t id, struct job *job, char **cause)
{
	static char	phase[32];
	char		*cause2 = NULL;
	int		 asked = 0;

	for (;;) {
		if (job_interrupted() != 0 && !asked) {
			if (job_cancel(st, id, &cause2) != 0) {
				log_debug(LOG_TRAIN, "%s", cause2);
				free(cause2);
				cause2 = NULL;
			}
			asked = 1;
		}
		if (job_get(st, id, job, cause) != 0)
			return (-1);
		if (job->state != JOB_QUEUED && job->state != JOB_RUNNING)
			return (0);
		snprintf(phase, sizeof phase, "%s", job->state == JOB_QUEUED ?
		    "queued" : job->phase);
		train_hook(phase, job->progress, job->eta);
		job_clear(job);
		usleep(500 * 1000);
	}
}

/* Run (or follow) a job in the foreground; exit status. */
int
train_wait(struct store *st, int64_t id)
{
	struct job	 job;
	char		*cause = NULL;
	int		 rc;

	progress_begin(&train_pg, "start", 1.0);
	job_set_hook(train_hook);
	job_catch_signals();
	rc = job_claim(st, id, &job, &cause);
	if (rc == 1) {
		rc = trainer_run_job(st, &job, &cause);
		job_clear(&job);
	} else if (rc == 0)
		rc = train_follow(st, id, &job, &cause) == 0 ? 2 : -1;
	job_set_hook(NULL);
	progress_end(&train_pg);
	if (rc == 2) {
		rc = job.state == JOB_DONE ? 0 : job.state ==
		    JOB_CANCELLED ? 1 : -1;
		if (rc == -1)
			xasprintf(&cause, "%s", job.message);
		job_clear(&job);
	}
	if (rc == 1 && job_interrupted() != 0) {
		fprintf(stderr, "%s: interrupted: job %lld cancelled, nothing "
		    "stored\n", cmd_prefix, (long long)id);
		free(cause);
		return (128 + job_interrupted());
	}
	if (rc == 1)
		fprintf(stderr, "%s: job %lld cancelled\n", cmd_prefix,
		    (long long)id);
	else if (rc != 0)
		fprintf(stderr, "%s: job %lld failed: %s\n", cmd_prefix,
		    (long long)id, cause);
	free(cause);
	if (rc != 0)
		return (EXIT_FAIL);
	if (job_get(st, id, &job, NULL) == 0) {
		printf("job %lld done: %s\n", (long long)id, job.message);
		job_clear(&job);
	}
	return (EXIT_OK);
}

/*
 * The numeric options: their JSON key and the range the trainer accepts
 * (params_read in train.c).  --steps 0 means "as many as fit the budget",
 * as when it is absent.
 */
static const struct train_opt {
	int		 ch;
	const char	*name;
	const char	*key;
	double		 min, max;
} train_opts[] = {
	{ 's', "steps", "steps", 0, 1e7 },
	{ 'm', "minutes", "minutes", 0.01, 1e5 },
	{ 'S', "seed", "seed", 0, 9e15 },
	{ 'W', "width", "width", 1, 512 },
	{ 't', "threads", "threads", 0, 256 },
	{ 'u', "supervised-only", "supervised_only", 0, 1 },
};
#define TRAIN_NOPTS (sizeof train_opts / sizeof train_opts[0])

/* Read a number option; -1 if malformed. */
static int
train_number(const char *arg, double *v)
{
	char	*end;

	*v = strtod(arg, &end);
	if (end == arg || isspace((unsigned char)*arg) || *end != '\0' ||
	    !isfinite(*v))
		return (-1);
	return (0);
}

/* The params as a flat JSON object: each option once, the last given. */
static char *
train_params(const double *value, const int *set)
{
	char	*json, *s;
	size_t	 i;

	json = xstrdup("{");
	for (i = 0; i < TRAIN_NOPTS; i++) {
		if (!set[i])
			continue;
		xasprintf(&s, "%s%s\"%s\":%.17g", json, json[1] == '\0' ?
		    "" : ",", train_opts[i].key, value[i]);
		free(json);
		json = s;
	}
	xasprintf(&s, "%s}", json);
	free(json);
	return (s);
}

static int
cmd_train_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "background", no_argument, NULL, 'b' },
		{ "steps", required_argument, NULL, 's' },
		{ "minutes", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 'S' },
		{ "supervised-only", no_argument, NULL, 'u' },
		{ "width", required_argument, NULL, 'W' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct store	*st = NULL;
	char		*params = NULL, *cause = NULL;
	int		 ch, wait = 0, bg = 0, rc = EXIT_OK;
	int		 set[TRAIN_NOPTS] = { 0 };
	double		 value[TRAIN_NOPTS], v;
	size_t		 i;
	int64_t		 id;

	while ((ch = getopt_long(argc, argv, "bwus:m:S:W:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'w':
			wait = 1;
			break;
		case 'b':
			bg = 1;
			break;
		case 'u':
		case 's':
		case 'm':
		case 'S':
		case 'W':
		case 't':
			for (i = 0; train_opts[i].ch != ch; i++)
				/* nothing */;
			if (ch == 'u')
				v = 1;
			else if (train_number(optarg, &v) != 0) {
				fprintf(stderr, "%s: --%s: bad number: %s\n",
				    cmd_prefix, train_opts[i].name, optarg);
				return (EXIT_USAGE);
			}
			if (v < train_opts[i].min || v > train_opts[i].max ||
			    (ch != 'm' && v != floor(v))) {
				fprintf(stderr, "%s: --%s must be %s in "
				    "%g..%g, not %s\n", cmd_prefix, train_opts[i].name,
				    ch == 'm' ? "a number" : "a whole number",
				    train_opts[i].min, train_opts[i].max,
				    optarg);
				return (EXIT_USAGE);
			}
			value[i] = v;
			set[i] = 1;
			break;
		default:
			cmd_usage(&cmd_train_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		cmd_usage(&cmd_train_entry, stderr);
		return (EXIT_USAGE);
	}
	params = train_params(value, set);

	if ((st = store_open(argv[0], 0, &cause)) == NULL)
		goto fail;
	if ((id = job_queue(st, "train", params, &cause)) < 0)
		goto fail;
	if (wait)
		rc = train_wait(st, id);
	else {
		printf("job %lld queued\n", (long long)id);
		if (bg && trainer_ensure(st, NULL, &cause) < 0)
			goto fail;
	}
	store_close(st);
	free(params);
	return (rc);

fail:
	fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
	free(cause);
	free(params);
	if (st != NULL)
		store_close(st);
	return (EXIT_FAIL);
}
