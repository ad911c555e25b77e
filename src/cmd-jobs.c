/*
 * s4lab jobs: list the jobs of a project, or cancel one.
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s4lab.h"

static int	cmd_jobs_exec(int, char **);

static const char *cmd_jobs_options[] = {
	"-c, --cancel ID\tcancel a queued or running job",
	NULL
};

const struct cmd_entry cmd_jobs_entry = {
	"jobs", "[-c ID] PROJECT", "list or cancel train and predict jobs",
	cmd_jobs_options, cmd_jobs_exec
};

/* Print one job as a line. */
static void
jobs_print(const struct job *job)
{
	char	 when[32], eta[16], loss[16], *msg;
	time_t	 t = job->created;

	strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime(&t));
	if (job->state == JOB_RUNNING && job->eta >= 0)
		snprintf(eta, sizeof eta, "%dm%02ds", (int)job->eta / 60,
		    (int)job->eta % 60);
	else
		snprintf(eta, sizeof eta, "-");
	if (isnan(job->loss))
		snprintf(loss, sizeof loss, "-");
	else
		snprintf(loss, sizeof loss, "%.4f", job->loss);
	msg = clean_text(job->message);
	printf("%-5lld %-8s %-10s %-9s %4.0f%% %5d %8s %7s %s %s\n",
	    (long long)job->id, job->kind, job_state_name(job->state),
	    *job->phase == '\0' ? "-" : job->phase, job->progress * 100,
	    job->epoch, loss, eta, when, msg);
	free(msg);
}

static int
cmd_jobs_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cancel", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct store	*st;
	struct job	*jobs;
	size_t		 n, i;
	char		*cause = NULL;
	long long	 cancel = 0;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (parse_number(optarg, 1, LLONG_MAX,
			    &cancel) != 0) {
				fprintf(stderr, "%s: bad job id: %s\n",
				    cmd_prefix, optarg);
				return (EXIT_USAGE);
			}
			break;
		default:
			cmd_usage(&cmd_jobs_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		cmd_usage(&cmd_jobs_entry, stderr);
		return (EXIT_USAGE);
	}
	if ((st = store_open(argv[0], cancel != 0 ? 0 : STORE_READONLY,
	    &cause)) == NULL)
		goto fail;
	if (cancel != 0) {
		if (job_cancel(st, cancel, &cause) != 0)
			goto fail;
		printf("job %lld cancelled\n", cancel);
		store_close(st);
		return (EXIT_OK);
	}
	if (job_list(st, &jobs, &n, &cause) != 0)
		goto fail;
	printf("%-5s %-8s %-10s %-9s %5s %5s %8s %7s %-16s %s\n", "ID",
	    "KIND", "STATE", "PHASE", "DONE", "EPOCH", "LOSS", "ETA",
	    "CREATED", "MESSAGE");
	for (i = 0; i < n; i++) {
		jobs_print(&jobs[i]);
		job_clear(&jobs[i]);
	}
	free(jobs);
	store_close(st);
	return (EXIT_OK);

fail:
	fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
	free(cause);
	if (st != NULL)
		store_close(st);
	return (EXIT_FAIL);
}
