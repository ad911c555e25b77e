/*
 * s4lab init: create a project file with its classes and tile size.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "s4lab.h"

static int	cmd_init_exec(int, char **);

static const char *cmd_init_options[] = {
	"-p, --preset NAME\tclasses of a preset: xbd (default), rescuenet",
	"-c, --classes FILE\tclasses from a file (text or JSON; s4lab(5))",
	"-t, --tile-size N\ttile side in pixels, 32 to 4096, a multiple of "
	    "16 (256)",
	NULL
};

const struct cmd_entry cmd_init_entry = {
	"init", "[--preset NAME | --classes FILE] [--tile-size N] PROJECT",
	"create a project", cmd_init_options, cmd_init_exec
};

/* Parse a tile size: 32 to 4096, a multiple of 16. */
static int
cmd_init_tile_size(const char *s, int *size)
{
	long long	 n;

	if (parse_number(s, 32, 4096, &n) != 0 || n % 16 != 0)
		return (-1);
	*size = (int)n;
	return (0);
}

/* Write the classes and settings of a new project in one transaction. */
static int
cmd_init_fill(struct store *st, const struct classes *cl, int tile_size,
    char **cause)
{
	char	buf[32];

	if (store_begin(st, cause) != 0)
		return (-1);
	snprintf(buf, sizeof buf, "%d", tile_size);
	if (store_set_classes(st, cl, cause) != 0 ||
	    store_set_setting(st, "tile_size", buf, cause) != 0)
		goto fail;
	snprintf(buf, sizeof buf, "%jd", (intmax_t)now_unix());
	if (store_set_setting(st, "created", buf, cause) != 0 ||
	    store_set_setting(st, "created_by", S4LAB_NAME " "
	    PACKAGE_VERSION, cause) != 0)
		goto fail;
	return (store_commit(st, cause));

fail:
	store_rollback(st);
	return (-1);
}

/* Remove a project this command created and could not finish. */
static void
cmd_init_remove(const char *path)
{
	char	*p;

	unlink(path);
	xasprintf(&p, "%s-wal", path);
	unlink(p);
	free(p);
	xasprintf(&p, "%s-shm", path);
	unlink(p);
	free(p);
}

static int
cmd_init_exec(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "preset", required_argument, NULL, 'p' },
		{ "classes", required_argument, NULL, 'c' },
		{ "tile-size", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct classes	 cl;
	struct store	*st;
	const char	*preset = NULL, *file = NULL, *path;
	char		*cause = NULL;
	int		 ch, tile_size = 256;

	while ((ch = getopt_long(argc, argv, "p:c:t:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'p':
			preset = optarg;
			break;
		case 'c':
			file = optarg;
			break;
		case 't':
			if (cmd_init_tile_size(optarg, &tile_size) != 0) {
				fprintf(stderr, "%s: bad tile size %s "
				    "(32 to 4096, a multiple of 16)\n",
				    cmd_prefix, optarg);
				return (EXIT_USAGE);
			}
			break;
		case 'h':
			cmd_usage(&cmd_init_entry, stdout);
			return (EXIT_OK);
		default:
			cmd_usage(&cmd_init_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	if (argc - optind != 1 || (preset != NULL && file != NULL)) {
		cmd_usage(&cmd_init_entry, stderr);
		return (EXIT_USAGE);
	}
	path = argv[optind];

	if (file != NULL) {
		if (classes_read(file, &cl, &cause) != 0)
			goto fail;
	} else if (classes_preset(preset != NULL ? preset : "xbd", &cl,
	    &cause) != 0) {
		fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
		free(cause);
		return (EXIT_USAGE);
	}
	if ((st = store_open(path, STORE_MUSTNEW, &cause)) == NULL)
		goto fail;
	if (cmd_init_fill(st, &cl, tile_size, &cause) != 0) {
		store_close(st);
		cmd_init_remove(path);
		goto fail;
	}
	store_close(st);
	printf("%s: %d class%s (%s), tiles of %dx%d\n", path, cl.n,
	    cl.n == 1 ? "" : "es",
	    file != NULL ? file : (preset != NULL ? preset : "xbd"),
	    tile_size, tile_size);
	return (EXIT_OK);

fail:
	fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
	free(cause);
	return (EXIT_FAIL);
}
