/*
 * s4lab's entry point: find the subcommand in the table and run it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "s4lab.h"

static int	cmd_version_exec(int, char **);

static const char *cmd_version_options[] = { NULL };
const struct cmd_entry cmd_version_entry = {
	"version", "", "print the version and exit",
	cmd_version_options, cmd_version_exec
};

#define CMD(name) extern const struct cmd_entry cmd_##name##_entry;
#include "commands.h"
#undef CMD

const struct cmd_entry *cmd_table[] = {
#define CMD(name) &cmd_##name##_entry,
#include "commands.h"
#undef CMD
	NULL
};

/* What every message of the running command starts with: "s4lab CMD". */
const char	*cmd_prefix = S4LAB_NAME;

/* Print the version. */
static int
cmd_version_exec(int argc, char **argv)
{
	printf("%s %s\n", S4LAB_NAME, PACKAGE_VERSION);
	return (EXIT_OK);
}

/* Print one command's usage and options. */
void
cmd_usage(const struct cmd_entry *ce, FILE *f)
{
	const char	**o;

	fprintf(f, "usage: %s %s%s%s\n", S4LAB_NAME, ce->name,
	    *ce->usage != '\0' ? " " : "", ce->usage);
	fprintf(f, "%s\n", ce->summary);
	for (o = ce->options; *o != NULL; o++)
		fprintf(f, "  %s\n", *o);
}

/* Find a command by its name or an unambiguous prefix. */
const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry	**ce, *found = NULL;

	for (ce = cmd_table; *ce != NULL; ce++) {
		if (strcmp((*ce)->name, name) == 0)
			return (*ce);
		if (strncmp((*ce)->name, name, strlen(name)) == 0) {
			if (found != NULL)
				return (NULL);
			found = *ce;
		}
	}
	return (found);
}

/* Print the list of commands. */
static void
usage(FILE *f)
{
	const struct cmd_entry	**ce;

	fprintf(f, "usage: %s [-v] [--version] COMMAND [ARGS]\n\n",
	    S4LAB_NAME);
	fprintf(f, "Label aerial image tiles for segmentation in a terminal."
	    "\n\ncommands:\n");
	for (ce = cmd_table; *ce != NULL; ce++)
		fprintf(f, "  %-10s %s\n", (*ce)->name, (*ce)->summary);
	fprintf(f, "\n%s COMMAND --help describes one command; "
	    "man s4lab describes them all.\n", S4LAB_NAME);
}

int
main(int argc, char **argv)
{
	const struct cmd_entry	*ce;
	char			*prefix;
	int			 i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return (EXIT_OK);
		}
		if (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0)
			return (cmd_version_exec(0, NULL));
		if (strcmp(argv[i], "-v") == 0) {
			log_open(LOG_ALL, NULL);
			continue;
		}
		if (strncmp(argv[i], "-v", 2) == 0 && argv[i][2] != '\0') {
			log_open(log_parse_areas(argv[i] + 2), NULL);
			continue;
		}
		fprintf(stderr, "%s: unknown option %s\n", S4LAB_NAME,
		    argv[i]);
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (i == argc) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	ce = cmd_find(argv[i]);
	if (ce == NULL) {
		fprintf(stderr, "%s: unknown or ambiguous command: %s\n",
		    S4LAB_NAME, argv[i]);
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (argc - i >= 2 && (strcmp(argv[i + 1], "--help") == 0 ||
	    strcmp(argv[i + 1], "-h") == 0)) {
		cmd_usage(ce, stdout);
		return (EXIT_OK);
	}
	/* getopt's messages start with argv[0]: make it ours too. */
	xasprintf(&prefix, "%s %s", S4LAB_NAME, ce->name);
	cmd_prefix = prefix;
	argv[i] = prefix;
	optind = 1;
	rc = ce->exec(argc - i, argv + i);
	log_close();
	free(prefix);
	return (rc);
}
