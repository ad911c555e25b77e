/*
 * s4lab predict: predict and rescore every tile with the newest model.
 */
#include <getopt.h>
#include <stdlib.h>

#include "s4lab.h"

static int	cmd_predict_exec(int, char **);

static const char *cmd_predict_options[] = {
	"-q, --queue\tonly queue the job for a trainer",
	NULL
};

const struct cmd_entry cmd_predict_entry = {
	"predict", "[-q] PROJECT", "predict every tile with the newest model",
	cmd_predict_options, cmd_predict_exec
};

static int
cmd_predict_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "queue", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	struct store	*st;
	char		*cause = NULL;
	int		 ch, queue = 0, rc = EXIT_OK;
	int64_t		 id;

	while ((ch = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			queue = 1;
			break;
		default:
			cmd_usage(&cmd_predict_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		cmd_usage(&cmd_predict_entry, stderr);
		return (EXIT_USAGE);
	}
	if ((st = store_open(argv[0], 0, &cause)) == NULL)
		goto fail;
	if (model_newest(st) == 0) {
		set_cause(&cause, "%s: no model yet; run s4lab train first",
		    argv[0]);
		goto fail;
	}
	if ((id = job_queue(st, "predict", NULL, &cause)) < 0)
		goto fail;
	if (queue)
		printf("job %lld queued\n", (long long)id);
	else
		rc = train_wait(st, id);
	store_close(st);
	return (rc);

fail:
	fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
	free(cause);
	if (st != NULL)
		store_close(st);
	return (EXIT_FAIL);
}
