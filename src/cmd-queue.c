/*
 * s4lab queue: the next tiles to label, in the TUI's order.
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "s4lab.h"

static int	cmd_queue_exec(int, char **);

static const char *cmd_queue_options[] = {
	"-n, --count N\thow many tiles (default 20; 0: all new tiles)",
	"-b, --by ORDER\tdisagreement (default), entropy, random or id",
	NULL
};

const struct cmd_entry cmd_queue_entry = {
	"queue", "[-n N] [-b ORDER] PROJECT", "print the next tiles to label",
	cmd_queue_options, cmd_queue_exec
};

/* A score as text, "-" for none. */
static const char *
queue_num(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.6f", v);
	return (buf);
}

static int
cmd_queue_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	struct store		*st;
	struct rank_entry	*e;
	size_t			 n, i;
	char			*cause = NULL, b1[32], b2[32], b3[32];
	long long		 count = 20;
	int			 ch, order = ORDER_DISAGREEMENT;

	while ((ch = getopt_long(argc, argv, "n:b:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (parse_number(optarg, 0, INT_MAX, &count) != 0) {
				fprintf(stderr, "%s: bad count: %s\n",
				    cmd_prefix, optarg);
				return (EXIT_USAGE);
			}
			break;
		case 'b':
			if ((order = rank_order_parse(optarg)) < 0) {
				fprintf(stderr, "%s: unknown order: %s\n",
				    cmd_prefix, optarg);
				return (EXIT_USAGE);
			}
			break;
		default:
			cmd_usage(&cmd_queue_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		cmd_usage(&cmd_queue_entry, stderr);
		return (EXIT_USAGE);
	}
	if ((st = store_open(argv[0], STORE_READONLY, &cause)) == NULL)
		goto fail;
	if (rank_queue(st, order, &e, &n, &cause) != 0)
		goto fail;
	printf("%-5s %-7s %-6s %-12s %-12s %s\n", "RANK", "TILE", "SCENE",
	    "SCORE", "DISAGREEMENT", "ENTROPY");
	for (i = 0; i < n && e[i].rank != 0; i++) {
		if (count != 0 && (long)i >= count)
			break;
		printf("%-5d %-7lld %-6lld %-12s %-12s %s\n", e[i].rank,
		    (long long)e[i].tile_id, (long long)e[i].source_id,
		    queue_num(b1, sizeof b1, e[i].score),
		    queue_num(b2, sizeof b2, e[i].disagreement),
		    queue_num(b3, sizeof b3, e[i].entropy));
	}
	free(e);
	store_close(st);
	return (EXIT_OK);

fail:
	fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
	free(cause);
	if (st != NULL)
		store_close(st);
	return (EXIT_FAIL);
}
