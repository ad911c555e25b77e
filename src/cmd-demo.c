/*
 * s4lab demo: a project made from the bundled samples, opened in the TUI.
 *
 * The project lives in the user's data directory and is made once; later
 * runs reopen it with whatever the user painted.  Half of the scenes come
 * with their masks as labels, so the model has something to learn from
 * and the queue has something to offer; the rest are left to the user.
 * The project is built under a temporary name and renamed when complete,
 * so an interrupted first run leaves nothing half made.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s4lab.h"
#include "ui.h"

static int	cmd_demo_exec(int, char **);

static const char *cmd_demo_options[] = {
	"-f, --fresh\tthrow away the demo project and make it again",
	"-g, --graphics MODE\tauto, sixel or blocks (auto)",
	"-P, --project FILE\twhere the demo project is (default: "
	    "$XDG_DATA_HOME/s4lab/demo.s4lab)",
	"-u, --user NAME\tauthor of the labels (default: the login name)",
	"-n, --no-ui\tmake the project and print its path, open nothing",
	NULL
};

const struct cmd_entry cmd_demo_entry = {
	"demo", "[--fresh] [--graphics MODE] [--project FILE] [--user NAME] "
	    "[--no-ui]",
	"open the labelling screen on a project made from the samples",
	cmd_demo_options, cmd_demo_exec
};

/* Import the samples into a new project at path; every other scene with
 * its mask.  Returns -1 with a cause if the samples cannot be read. */
static int
demo_make(const char *path, const char *user, char **cause)
{
	struct store		*st;
	struct classes		 cl;
	struct import_opts	 io;
	struct import_stats	 is;
	struct import_list	 l;
	struct progress		 pr;
	const char		*samples = samples_dir();
	char			*images, *masks, *classes, *mask_path, *why;
	size_t			 i;
	int			 rc = -1;

	xasprintf(&images, "%s/images", samples);
	xasprintf(&masks, "%s/masks", samples);
	xasprintf(&classes, "%s/classes.txt", samples);
	memset(&l, 0, sizeof l);
	memset(&is, 0, sizeof is);
	memset(&io, 0, sizeof io);
	io.max_pixels = IMAGE_MAX_PIXELS;
	io.user = user;
	st = NULL;

	if (classes_read(classes, &cl, cause) != 0)
		goto out;
	if (import_collect(images, NULL, &l, cause) != 0)
		goto out;
	if (l.n == 0) {
		set_cause(cause, "%s: no sample images", images);
		goto out;
	}
	if ((st = store_open(path, STORE_CREATE|STORE_MUSTNEW, cause)) == NULL)
		goto out;
	if (store_set_classes(st, &cl, cause) != 0)
		goto out;

	progress_begin(&pr, "demo: importing samples", (double)l.n);
	for (i = 0; i < l.n; i++) {
		mask_path = NULL;
		if (i % 2 == 0)
			mask_path = import_mask_path(masks, &l.item[i]);
		why = NULL;
		if (import_file(st, l.item[i].path, mask_path, &cl, &io, &is,
		    &why) != 0) {
			/* A broken sample is worth saying, not stopping for. */
			fprintf(stderr, "%s: %s\n", cmd_prefix, why);
			free(why);
		}
		free(mask_path);
		progress_set(&pr, (double)(i + 1));
	}
	progress_end(&pr);
	printf("demo: %lld tiles from %d scenes, %lld labelled\n",
	    (long long)is.tiles, is.files, (long long)is.labelled);
	rc = 0;

out:
	if (st != NULL)
		store_close(st);
	import_list_free(&l);
	free(images);
	free(masks);
	free(classes);
	return (rc);
}

/* Remove a project file and its WAL companions. */
static void
demo_remove(const char *path)
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

/* Make the demo project at path unless it is there (or fresh is set). */
static int
demo_ensure(const char *path, int fresh, const char *user, char **cause)
{
	struct stat	 sb;
	char		*tmp;
	int		 rc;

	if (fresh)
		demo_remove(path);
	else if (stat(path, &sb) == 0)
		return (0);

	xasprintf(&tmp, "%s.new", path);
	demo_remove(tmp);
	rc = demo_make(tmp, user, cause);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = set_cause(cause, "%s: %s", path, strerror(errno));
	if (rc != 0)
		demo_remove(tmp);
	free(tmp);
	return (rc);
}

/*
 * Queue the first retrain when the project has labels and no model, and
 * start a trainer in the background, so that predictions appear while the
 * user looks at the first tiles.
 */
static int
demo_first_retrain(const char *path, char **cause)
{
	struct store	*st;
	int		 rc;

	if ((st = store_open(path, 0, cause)) == NULL)
		return (-1);
	rc = trainer_first_retrain(st, NULL, cause);
	store_close(st);
	if (rc == 1)
		printf("demo: a first model is being trained in the "
		    "background\n");
	return (rc == -1 ? -1 : 0);
}

static int
cmd_demo_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fresh",	no_argument,		NULL, 'f' },
		{ "graphics",	required_argument,	NULL, 'g' },
		{ "project",	required_argument,	NULL, 'P' },
		{ "user",	required_argument,	NULL, 'u' },
		{ "no-ui",	no_argument,		NULL, 'n' },
		{ NULL,		0,			NULL, 0 }
	};
	struct tui_options	 to;
	char			*dir = NULL, *path = NULL, *cause = NULL;
	const char		*user = NULL;
	int			 ch, fresh = 0, noui = 0, rc = EXIT_FAIL;

	memset(&to, 0, sizeof to);
	to.graphics = GRAPHICS_AUTO;
	while ((ch = getopt_long(argc, argv, "fg:P:u:n", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			fresh = 1;
			break;
		case 'g':
			if ((to.graphics = term_graphics_mode(optarg)) == -1) {
				fprintf(stderr, "%s: --graphics: auto, sixel "
				    "or blocks, not %s\n", cmd_prefix, optarg);
				return (EXIT_USAGE);
			}
			break;
		case 'P':
			path = xstrdup(optarg);
			break;
		case 'u':
			if (*optarg == '\0') {
				fprintf(stderr, "%s: empty --user\n",
				    cmd_prefix);
				return (EXIT_USAGE);
			}
			user = optarg;
			break;
		case 'n':
			noui = 1;
			break;
		default:
			cmd_usage(&cmd_demo_entry, stderr);
			return (EXIT_USAGE);
		}
	}
	if (optind != argc) {
		cmd_usage(&cmd_demo_entry, stderr);
		return (EXIT_USAGE);
	}

	if (path == NULL) {
		if ((dir = xdg_data_dir(&cause)) == NULL)
			goto out;
		xasprintf(&path, "%s/demo.s4lab", dir);
	}
	if (demo_ensure(path, fresh, user_name(user), &cause) != 0)
		goto out;
	if (noui) {
		printf("%s\n", path);
		rc = EXIT_OK;
		goto out;
	}

	if (demo_first_retrain(path, &cause) != 0)
		goto out;

	to.path = path;
	to.user = user_name(user);
	to.start_trainer = 1;
	rc = tui_run(&to, &cause) == 0 ? EXIT_OK : EXIT_FAIL;

out:
	if (cause != NULL) {
		fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
		free(cause);
	}
	free(path);
	free(dir);
	return (rc);
}
