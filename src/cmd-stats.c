/*
 * s4lab stats: what a project holds: tiles by state and split, labelled
 * pixels by class, models and jobs.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "s4lab.h"

#ifndef nitems
#define nitems(a) (sizeof (a) / sizeof (a)[0])
#endif

static int	cmd_stats_exec(int, char **);

static const char *cmd_stats_options[] = {
	"-j, --json\tprint one JSON object instead of tables",
	NULL
};

const struct cmd_entry cmd_stats_entry = {
	"stats", "[--json] PROJECT",
	"show tiles by state and split, labelled pixels by class",
	cmd_stats_options, cmd_stats_exec
};

static const char *cmd_stats_states[] = { "new", "done", "skipped" };
static const char *cmd_stats_splits[] = { "train", "val" };
static const char *cmd_stats_jobs[] = {
	"queued", "running", "done", "failed", "cancelled"
};

struct stats {
	struct classes	 cl;
	int64_t		 tiles[2][3];		/* [split][state] */
	int64_t		 pixels[MAX_CLASSES];
	int64_t		 void_pixels;		/* in labelled tiles */
	int64_t		 bad_pixels;		/* no class (a bug) */
	int64_t		 labels;
	int64_t		 models;
	int64_t		 jobs[5];
};

/* Prepare sql or say why not. */
static sqlite3_stmt *
cmd_stats_prepare(struct store *st, const char *sql, char **cause)
{
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) !=
	    SQLITE_OK) {
		set_cause(cause, "%s: %s", store_path(st),
		    sqlite3_errmsg(store_db(st)));
		return (NULL);
	}
	return (stmt);
}

/* Finish a query: -1 with a cause if it did not end well. */
static int
cmd_stats_finish(struct store *st, sqlite3_stmt *stmt, int rc, char **cause)
{
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return (set_cause(cause, "%s: %s", store_path(st),
		    sqlite3_errmsg(store_db(st))));
	return (0);
}

/* Count tiles by split and state, models and jobs. */
static int
cmd_stats_counts(struct store *st, struct stats *s, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*state;
	int		 rc, split, ts;
	size_t		 i;

	stmt = cmd_stats_prepare(st, "SELECT split, state, count(*) FROM "
	    "tiles GROUP BY split, state", cause);
	if (stmt == NULL)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		split = sqlite3_column_int(stmt, 0);
		ts = sqlite3_column_int(stmt, 1);
		if (split >= 0 && split < 2 && ts >= 0 && ts < 3)
			s->tiles[split][ts] += sqlite3_column_int64(stmt, 2);
	}
	if (cmd_stats_finish(st, stmt, rc, cause) != 0)
		return (-1);

	stmt = cmd_stats_prepare(st, "SELECT count(*) FROM models", cause);
	if (stmt == NULL)
		return (-1);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		s->models = sqlite3_column_int64(stmt, 0);
		rc = sqlite3_step(stmt);
	}
	if (cmd_stats_finish(st, stmt, rc, cause) != 0)
		return (-1);

	stmt = cmd_stats_prepare(st, "SELECT state, count(*) FROM jobs "
	    "GROUP BY state", cause);
	if (stmt == NULL)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(stmt, 0);
		for (i = 0; i < nitems(cmd_stats_jobs); i++)
			if (state != NULL &&
			    strcmp(state, cmd_stats_jobs[i]) == 0)
				s->jobs[i] = sqlite3_column_int64(stmt, 1);
	}
	return (cmd_stats_finish(st, stmt, rc, cause));
}

/* Add up the labelled pixels of every tile by class. */
static int
cmd_stats_pixels(struct store *st, struct stats *s, char **cause)
{
	sqlite3_stmt	*stmt;
	uint8_t		*mask = NULL;
	size_t		 len, size = 0, i;
	char		*why;
	int		 rc;

	stmt = cmd_stats_prepare(st, "SELECT l.tile_id, l.mask, t.w * t.h "
	    "FROM labels l JOIN tiles t ON t.id = l.tile_id", cause);
	if (stmt == NULL)
		return (-1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		len = (size_t)sqlite3_column_int64(stmt, 2);
		if (len > size) {
			mask = xreallocarray(mask, len, 1);
			size = len;
		}
		if (mask_unpack(sqlite3_column_blob(stmt, 1),
		    sqlite3_column_bytes(stmt, 1), mask, len, &why) != 0) {
			set_cause(cause, "%s: label of tile %jd: %s",
			    store_path(st),
			    (intmax_t)sqlite3_column_int64(stmt, 0), why);
			free(why);
			sqlite3_finalize(stmt);
			free(mask);
			return (-1);
		}
		s->labels++;
		for (i = 0; i < len; i++) {
			if (mask[i] == MASK_VOID)
				s->void_pixels++;
			else if (mask[i] < s->cl.n)
				s->pixels[mask[i]]++;
			else
				s->bad_pixels++;
		}
	}
	free(mask);
	return (cmd_stats_finish(st, stmt, rc, cause));
}

/* Print the tables. */
static void
cmd_stats_print(const char *path, const struct stats *s)
{
	int64_t		 total = 0, labelled = 0, row;
	char		*name;
	int		 split, ts, i;

	for (split = 0; split < 2; split++)
		for (ts = 0; ts < 3; ts++)
			total += s->tiles[split][ts];
	printf("project: %s\ntiles: %jd\n\n", path, (intmax_t)total);
	printf("%-6s %9s %9s %9s %9s\n", "split", "new", "done", "skipped",
	    "total");
	for (split = 0; split < 2; split++) {
		row = 0;
		printf("%-6s", cmd_stats_splits[split]);
		for (ts = 0; ts < 3; ts++) {
			printf(" %9jd", (intmax_t)s->tiles[split][ts]);
			row += s->tiles[split][ts];
		}
		printf(" %9jd\n", (intmax_t)row);
	}

	for (i = 0; i < s->cl.n; i++)
		labelled += s->pixels[i];
	printf("\nlabelled pixels: %jd in %jd labels\n\n", (intmax_t)labelled,
	    (intmax_t)s->labels);
	printf("%3s %-28s %12s %7s\n", "idx", "class", "pixels", "share");
	for (i = 0; i < s->cl.n; i++) {
		name = clean_text(s->cl.c[i].name);
		printf("%3d %-28s %12jd %6.2f%%\n", i, name,
		    (intmax_t)s->pixels[i], labelled == 0 ? 0.0 :
		    100.0 * s->pixels[i] / labelled);
		free(name);
	}
	printf("%3s %-28s %12jd\n", "", "(not labelled)",
	    (intmax_t)s->void_pixels);
	if (s->bad_pixels != 0)
		printf("%3s %-28s %12jd\n", "", "(no such class)",
		    (intmax_t)s->bad_pixels);

	printf("\nmodels: %jd\njobs:", (intmax_t)s->models);
	for (i = 0; i < (int)nitems(cmd_stats_jobs); i++)
		printf(" %s %jd", cmd_stats_jobs[i], (intmax_t)s->jobs[i]);
	printf("\n");
}

/* Print one JSON object. */
static void
cmd_stats_print_json(const char *path, const struct stats *s)
{
	int64_t	total = 0, labelled = 0;
	int	split, ts, i;

	for (i = 0; i < s->cl.n; i++)
		labelled += s->pixels[i];
	printf("{\"project\": ");
	json_write_string(stdout, path);
	printf(", \"tiles\": {");
	for (split = 0; split < 2; split++) {
		printf("\"%s\": {", cmd_stats_splits[split]);
		for (ts = 0; ts < 3; ts++) {
			printf("\"%s\": %jd, ", cmd_stats_states[ts],
			    (intmax_t)s->tiles[split][ts]);
			total += s->tiles[split][ts];
		}
		printf("\"total\": %jd}, ", (intmax_t)(s->tiles[split][0] +
		    s->tiles[split][1] + s->tiles[split][2]));
	}
	printf("\"total\": %jd}, \"labels\": %jd, \"labelled_pixels\": %jd, "
	    "\"void_pixels\": %jd, \"classes\": [", (intmax_t)total,
	    (intmax_t)s->labels, (intmax_t)labelled,
	    (intmax_t)s->void_pixels);
	for (i = 0; i < s->cl.n; i++) {
		printf("%s{\"index\": %d, \"name\": ", i == 0 ? "" : ", ", i);
		json_write_string(stdout, s->cl.c[i].name);
		printf(", \"pixels\": %jd, \"share\": %.6f}",
		    (intmax_t)s->pixels[i], labelled == 0 ? 0.0 :
		    (double)s->pixels[i] / labelled);
	}
	printf("], \"models\": %jd, \"jobs\": {", (intmax_t)s->models);
	for (i = 0; i < (int)nitems(cmd_stats_jobs); i++)
		printf("%s\"%s\": %jd", i == 0 ? "" : ", ", cmd_stats_jobs[i],
		    (intmax_t)s->jobs[i]);
	printf("}}\n");
}

static int
cmd_stats_exec(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store	*st;
	struct stats	*s;
	char		*cause = NULL;
	int		 ch, json = 0, rc = -1;

	while ((ch = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			cmd_usage(&cmd_stats_entry, stdout);
			return (EXIT_OK);
		default:
			cmd_usage(&cmd_stats_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	if (argc - optind != 1) {
		cmd_usage(&cmd_stats_entry, stderr);
		return (EXIT_USAGE);
	}

	if ((st = store_open(argv[optind], STORE_READONLY, &cause)) == NULL)
		goto out;
	s = xcalloc(1, sizeof *s);
	/* One read transaction: the numbers agree with each other. */
	sqlite3_exec(store_db(st), "BEGIN", NULL, NULL, NULL);
	if (store_get_classes(st, &s->cl, &cause) == 0 &&
	    cmd_stats_counts(st, s, &cause) == 0 &&
	    cmd_stats_pixels(st, s, &cause) == 0)
		rc = 0;
	sqlite3_exec(store_db(st), "COMMIT", NULL, NULL, NULL);
	if (rc == 0 && json)
		cmd_stats_print_json(argv[optind], s);
	else if (rc == 0)
		cmd_stats_print(argv[optind], s);
	free(s);
	store_close(st);
out:
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
		free(cause);
		return (EXIT_FAIL);
	}
	return (EXIT_OK);
}
