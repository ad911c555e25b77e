/*
 * s4lab label PROJECT: paint labels in the terminal (the TUI is ui/tui.c).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "s4lab.h"
#include "ui.h"

static int	cmd_label_exec(int, char **);

static const char *cmd_label_options[] = {
	"-u, --user NAME\trecord NAME as the author (default: login name)",
	"-g, --graphics MODE\tauto, sixel or blocks (default: auto)",
	"-t, --tile ID\topen this tile first",
	"-T, --no-trainer\tqueue retrains but start no trainer",
	NULL
};

const struct cmd_entry cmd_label_entry = {
	"label", "[--user NAME] [--graphics auto|sixel|blocks] [--tile ID] "
	"[--no-trainer] PROJECT",
	"paint labels on the tiles of a project in the terminal",
	cmd_label_options, cmd_label_exec
};

static const struct option cmd_label_longopts[] = {
	{ "user", required_argument, NULL, 'u' },
	{ "graphics", required_argument, NULL, 'g' },
	{ "tile", required_argument, NULL, 't' },
	{ "no-trainer", no_argument, NULL, 'T' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int
cmd_label_exec(int argc, char **argv)
{
	struct tui_options	 opt;
	char			*cause = NULL;
	long long		 id;
	int			 ch;

	memset(&opt, 0, sizeof opt);
	opt.graphics = GRAPHICS_AUTO;
	opt.start_trainer = 1;
	while ((ch = getopt_long(argc, argv, "u:g:t:Th", cmd_label_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'u':
			if (*optarg == '\0') {
				fprintf(stderr, "%s: empty --user\n",
				    cmd_prefix);
				return (EXIT_USAGE);
			}
			opt.user = optarg;
			break;
		case 'g':
			if ((opt.graphics = term_graphics_mode(optarg)) < 0) {
				fprintf(stderr, "%s: --graphics must be "
				    "auto, sixel or blocks, not %s\n",
				    cmd_prefix, optarg);
				return (EXIT_USAGE);
			}
			break;
		case 't':
			if (parse_number(optarg, 1, LLONG_MAX, &id) != 0) {
				fprintf(stderr, "%s: bad tile id: %s\n",
				    cmd_prefix, optarg);
				return (EXIT_USAGE);
			}
			opt.start_tile = id;
			break;
		case 'T':
			opt.start_trainer = 0;
			break;
		case 'h':
			cmd_usage(&cmd_label_entry, stdout);
			return (EXIT_OK);
		default:
			cmd_usage(&cmd_label_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	if (argc - optind != 1) {
		cmd_usage(&cmd_label_entry, stderr);
		return (EXIT_USAGE);
	}
	opt.path = argv[optind];

	if (tui_run(&opt, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
		free(cause);
		return (EXIT_FAIL);
	}
	return (EXIT_OK);
}
