/*
 * s4lab import: add scenes, and their masks, to a project.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "s4lab.h"

static int	cmd_import_exec(int, char **);

static const char *cmd_import_options[] = {
	"-m, --masks DIR\tmasks matched to pictures by name, stored as "
	    "labels",
	"-p, --max-pixels N\trefuse pictures of more than N pixels "
	    "(default 100000000)",
	"-u, --user NAME\tauthor of the imported labels (default: login name)",
	NULL
};

const struct cmd_entry cmd_import_entry = {
	"import",
	"[--masks DIR] [--max-pixels N] [--user NAME] PROJECT PATH...",
	"cut JPEG and PNG scenes into tiles and add them to a project",
	cmd_import_options, cmd_import_exec
};

static const struct option cmd_import_longopts[] = {
	{ "masks",	required_argument,	NULL,	'm' },
	{ "max-pixels",	required_argument,	NULL,	'p' },
	{ "user",	required_argument,	NULL,	'u' },
	{ NULL,		0,			NULL,	0 }
};

/* Print a message about one file, above the progress bar if any. */
static void
cmd_import_error(int tty, const char *cause)
{
	char	*s = clean_text(cause);

	fprintf(stderr, "%s%s: %s\n", tty ? "\r\033[K" : "", cmd_prefix, s);
	free(s);
}

/*
 * When this many files in a row find the project busy past the store's
 * busy timeout, the others are not tried: each would wait as long.
 */
#define CMD_IMPORT_BUSY_TRIES	3

/* Name a file that was not tried because the project stayed busy. */
static void
cmd_import_skipped(int tty, const char *path, struct store *st)
{
	char	*msg;

	xasprintf(&msg, "%s: not imported: %s stayed busy (another process "
	    "holds its write lock)", path, store_path(st));
	cmd_import_error(tty, msg);
	free(msg);
}

/* A warning from import_file, above the progress bar (arg) if any. */
static void
cmd_import_warn(void *arg, const char *msg)
{
	struct progress	*pg = arg;

	cmd_import_error(pg->tty, msg);
}

/* Import every collected file; the progress is counted in files. */
static void
cmd_import_files(struct store *st, const struct import_list *l,
    const char *masks, const struct classes *cl,
    const struct import_opts *opts, struct import_stats *is)
{
	struct import_opts	 o = *opts, *io = &o;
	struct progress		 pg;
	char			*mask_path, *cause;
	size_t			 i;
	int			 busy = 0;

	progress_begin(&pg, "import", (double)l->n);
	io->warn = cmd_import_warn;
	io->warn_arg = &pg;
	for (i = 0; i < l->n; i++) {
		if (busy >= CMD_IMPORT_BUSY_TRIES) {
			cmd_import_skipped(pg.tty, l->item[i].path, st);
			is->failed++;
			continue;
		}
		cause = NULL;
		mask_path = NULL;
		if (masks != NULL)
			mask_path = import_mask_path(masks, &l->item[i]);
		if (import_file(st, l->item[i].path, mask_path, cl, io, is,
		    &cause) != 0) {
			cmd_import_error(pg.tty, cause);
			is->failed++;
			busy = store_busy(st) ? busy + 1 : 0;
		} else {
			busy = 0;
			if (masks != NULL && mask_path == NULL)
				is->nomask++;
		}
		free(cause);
		free(mask_path);
		progress_set(&pg, (double)(i + 1));
	}
	progress_end(&pg);
}

/* Print what was done, on stdout. */
static void
cmd_import_summary(const struct import_stats *is, const char *masks)
{
	printf("imported %d file%s: %jd tiles (%jd cut losslessly), "
	    "%jd labelled", is->files, is->files == 1 ? "" : "s",
	    (intmax_t)is->tiles, (intmax_t)is->lossless,
	    (intmax_t)is->labelled);
	if (is->duplicate != 0)
		printf("; %jd identical tiles skipped",
		    (intmax_t)is->duplicate);
	if (is->known != 0)
		printf("; %d file%s already in the project", is->known,
		    is->known == 1 ? "" : "s");
	if (masks != NULL && is->nomask != 0)
		printf("; %d without a mask in %s", is->nomask, masks);
	if (is->failed != 0)
		printf("; %d failed", is->failed);
	printf("\n");
}

/* --max-pixels: a positive whole number. */
static int
cmd_import_pixels(const char *s, uint64_t *v)
{
	long long	 n;

	if (parse_number(s, 1, LLONG_MAX, &n) != 0)
		return (-1);
	*v = (uint64_t)n;
	return (0);
}

static int
cmd_import_exec(int argc, char **argv)
{
	struct import_opts	 io;
	struct import_stats	 is;
	struct import_list	 l;
	struct classes		 cl;
	struct store		*st;
	struct stat		 sb;
	const char		*masks = NULL;
	char			*cause = NULL;
	size_t			 w;
	int			 ch, i, rc = EXIT_OK;

	memset(&io, 0, sizeof io);
	memset(&is, 0, sizeof is);
	memset(&l, 0, sizeof l);
	io.max_pixels = IMAGE_MAX_PIXELS;
	while ((ch = getopt_long(argc, argv, "m:p:u:", cmd_import_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'm':
			masks = optarg;
			break;
		case 'p':
			if (cmd_import_pixels(optarg, &io.max_pixels) != 0) {
				fprintf(stderr, "%s: --max-pixels: not a "
				    "positive number: %s\n", cmd_prefix,
				    optarg);
				return (EXIT_USAGE);
			}
			break;
		case 'u':
			if (*optarg == '\0') {
				fprintf(stderr, "%s: empty --user\n",
				    cmd_prefix);
				return (EXIT_USAGE);
			}
			io.user = optarg;
			break;
		default:
			cmd_usage(&cmd_import_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2) {
		cmd_usage(&cmd_import_entry, stderr);
		return (EXIT_USAGE);
	}
	if (masks != NULL && (stat(masks, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
		fprintf(stderr, "%s: --masks %s: not a directory\n",
		    cmd_prefix, masks);
		return (EXIT_USAGE);
	}

	if ((st = store_open(argv[0], 0, &cause)) == NULL) {
		fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
		free(cause);
		return (EXIT_FAIL);
	}
	if (store_get_classes(st, &cl, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
		free(cause);
		store_close(st);
		return (EXIT_FAIL);
	}
	for (i = 1; i < argc; i++) {
		if (import_collect(argv[i], masks, &l, &cause) != 0) {
			cmd_import_error(0, cause);
			is.failed++;
		}
		free(cause);
		cause = NULL;
	}
	for (w = 0; w < l.nwarning; w++)
		cmd_import_error(0, l.warning[w]);
	cmd_import_files(st, &l, masks, &cl, &io, &is);
	cmd_import_summary(&is, masks);
	if (is.failed != 0)
		rc = EXIT_FAIL;
	import_list_free(&l);
	store_close(st);
	return (rc);
}
