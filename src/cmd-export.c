/*
 * s4lab export: write a project's labelled tiles as a VOC or COCO dataset.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "s4lab.h"

static int	cmd_export_exec(int, char **);

static const char *cmd_export_options[] = {
	"-f, --format FORMAT\tvoc (the default) or coco",
	"-a, --all\tevery tile, not only those marked done",
	"-F, --force\treplace DIR if it is not empty, once the new "
	    "dataset is complete",
	NULL
};

const struct cmd_entry cmd_export_entry = {
	"export", "[--format voc|coco] [--all] [--force] PROJECT DIR",
	"write the labelled tiles as a Pascal VOC or COCO dataset",
	cmd_export_options, cmd_export_exec
};

static const struct option cmd_export_longopts[] = {
	{ "format",	required_argument,	NULL,	'f' },
	{ "all",	no_argument,		NULL,	'a' },
	{ "force",	no_argument,		NULL,	'F' },
	{ NULL,		0,			NULL,	0 }
};

/* Set by SIGINT, SIGTERM and SIGHUP: the export stops and cleans up. */
static volatile sig_atomic_t cmd_export_stop;

static void
cmd_export_signal(int sig)
{
	(void)sig;
	cmd_export_stop = 1;
}

/* Catch the signals that ask us to stop: the temporary is removed. */
static void
cmd_export_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cmd_export_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A file over the size limit is then an error, not a death. */
	signal(SIGXFSZ, SIG_IGN);
}

/* The progress bar, counted in tiles; begun at the first call. */
static void
cmd_export_tick(void *arg, int64_t done, int64_t total)
{
	struct progress	*pg = arg;

	if (pg->label == NULL)
		progress_begin(pg, "export", (double)total);
	else
		progress_set(pg, (double)done);
}

static int
cmd_export_exec(int argc, char **argv)
{
	struct export_opts	 eo;
	struct export_stats	 es;
	struct progress		 pg;
	struct store		*st;
	char			*cause = NULL, *s;
	int			 ch, rc;

	memset(&eo, 0, sizeof eo);
	memset(&pg, 0, sizeof pg);
	eo.format = EXPORT_VOC;
	while ((ch = getopt_long(argc, argv, "f:aF", cmd_export_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "voc") == 0)
				eo.format = EXPORT_VOC;
			else if (strcmp(optarg, "coco") == 0)
				eo.format = EXPORT_COCO;
			else {
				s = clean_text(optarg);
				fprintf(stderr, "%s: --format: not voc or "
				    "coco: %s\n", cmd_prefix, s);
				free(s);
				return (EXIT_USAGE);
			}
			break;
		case 'a':
			eo.all = 1;
			break;
		case 'F':
			eo.force = 1;
			break;
		default:
			cmd_usage(&cmd_export_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	if (argc - optind != 2) {
		cmd_usage(&cmd_export_entry, stderr);
		return (EXIT_USAGE);
	}

	cmd_export_signals();
	if ((st = store_open(argv[optind], STORE_READONLY, &cause)) == NULL)
		goto fail;
	eo.stop = &cmd_export_stop;
	eo.tick = cmd_export_tick;
	eo.arg = &pg;
	rc = export_dataset(st, argv[optind + 1], &eo, &es, &cause);
	if (pg.label != NULL && rc == 0)
		progress_end(&pg);
	else if (pg.tty)
		fputc('\n', stderr);
	store_close(st);
	if (rc != 0)
		goto fail;
	s = clean_text(argv[optind + 1]);
	printf("exported %jd tiles (%jd labelled; %jd train, %jd val",
	    (intmax_t)es.tiles, (intmax_t)es.labelled, (intmax_t)es.train,
	    (intmax_t)es.val);
	if (eo.format == EXPORT_COCO)
		printf("; %jd annotations", (intmax_t)es.annotations);
	printf(") as %s to %s\n", eo.format == EXPORT_COCO ? "coco" : "voc",
	    s);
	free(s);
	return (EXIT_OK);

fail:
	s = clean_text(cause);
	fprintf(stderr, "%s: %s\n", cmd_prefix, s);
	free(s);
	free(cause);
	return (EXIT_FAIL);
}
