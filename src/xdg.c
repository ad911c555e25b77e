/*
 * Where s4lab keeps files: the XDG base directories for data, and the
 * samples that ship with it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s4lab.h"

/* Create path and any missing parents. */
int
mkdir_p(const char *path, char **cause)
{
	char	*copy, *p;

	copy = xstrdup(path);
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) == -1 && errno != EEXIST) {
			set_cause(cause, "%s: %s", copy, strerror(errno));
			free(copy);
			return (-1);
		}
		*p = '/';
	}
	if (mkdir(copy, 0755) == -1 && errno != EEXIST) {
		set_cause(cause, "%s: %s", copy, strerror(errno));
		free(copy);
		return (-1);
	}
	free(copy);
	return (0);
}

/* $XDG_DATA_HOME/s4lab, else $HOME/.local/share/s4lab; created. */
char *
xdg_data_dir(char **cause)
{
	const char	*base, *home;
	char		*dir;

	base = getenv("XDG_DATA_HOME");
	if (base != NULL && base[0] == '/')
		xasprintf(&dir, "%s/%s", base, S4LAB_NAME);
	else {
		if ((home = getenv("HOME")) == NULL || *home == '\0') {
			set_cause(cause,
			    "neither XDG_DATA_HOME nor HOME is set");
			return (NULL);
		}
		xasprintf(&dir, "%s/.local/share/%s", home, S4LAB_NAME);
	}
	if (mkdir_p(dir, cause) != 0) {
		free(dir);
		return (NULL);
	}
	return (dir);
}

/*
 * The samples: $S4LAB_SAMPLES, else the source tree's samples/ when run
 * from a build, else the installed copy.
 */
const char *
samples_dir(void)
{
	static char	*dir;
	struct stat	 sb;
	const char	*env;

	if (dir != NULL)
		return (dir);
	if ((env = getenv("S4LAB_SAMPLES")) != NULL && *env != '\0')
		dir = xstrdup(env);
	else {
		xasprintf(&dir, "%s/samples", S4LAB_SRCDIR);
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			free(dir);
			xasprintf(&dir, "%s/samples", S4LAB_DATADIR);
		}
	}
	return (dir);
}
