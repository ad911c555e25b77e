/*
 * s4lab trainer: run the queued jobs of a project, here or detached.
 */
#include <getopt.h>
#include <stdlib.h>

#include "s4lab.h"

static int	cmd_trainer_exec(int, char **);

static const char *cmd_trainer_options[] = {
	"-1, --once\trun at most one job",
	"-d, --detach\trun in the background, niced, logging to "
	    "PROJECT.trainer.log",
	NULL
};

const struct cmd_entry cmd_trainer_entry = {
	"trainer", "[-1d] PROJECT", "run queued train and predict jobs",
	cmd_trainer_options, cmd_trainer_exec
};

static int
cmd_trainer_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "detach", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct store	*st;
	char		*cause = NULL;
	int		 ch, once = 0, detach = 0, rc;

	while ((ch = getopt_long(argc, argv, "1d", longopts, NULL)) != -1) {
		switch (ch) {
		case '1':
			once = 1;
			break;
		case 'd':
			detach = 1;
			break;
		default:
			cmd_usage(&cmd_trainer_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		cmd_usage(&cmd_trainer_entry, stderr);
		return (EXIT_USAGE);
	}

	/* Detach before the project is opened: no connection crosses fork. */
	if (detach) {
		rc = trainer_detach(argv[0], &cause);
		if (rc == 1) {
			printf("trainer started; log in %s.trainer.log\n",
			    argv[0]);
			return (EXIT_OK);
		}
		if (rc == -1)
			goto fail;
	}
	if ((st = store_open(argv[0], 0, &cause)) == NULL)
		goto fail;
	job_catch_signals();
	rc = trainer_run(st, once, stderr, &cause);
	store_close(st);
	if (rc < 0)
		goto fail;
	if (job_interrupted() != 0) {
		fprintf(stderr, "%s: interrupted by signal %d\n", cmd_prefix,
		    job_interrupted());
		return (128 + job_interrupted());
	}
	return (rc == 0 ? EXIT_OK : EXIT_FAIL);

fail:
	fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
	free(cause);
	return (EXIT_FAIL);
}
