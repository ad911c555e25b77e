/*
 * The debug log: off by default; -v (or -vAREA,AREA) opens one file per
 * process with a timestamp and the function name on every line.  Nothing
 * diagnostic goes to the screen while the TUI owns it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "s4lab.h"

int		 log_areas;
static FILE	*log_file;

static const struct {
	const char	*name;
	int		 area;
} log_names[] = {
	{ "store", LOG_STORE }, { "import", LOG_IMPORT }, { "ui", LOG_UI },
	{ "sixel", LOG_SIXEL }, { "train", LOG_TRAIN },
	{ "export", LOG_EXPORT }, { "all", LOG_ALL }
};

/* Turn "store,ui" into a mask of areas. */
int
log_parse_areas(const char *s)
{
	char	*copy, *word, *last;
	size_t	 i;
	int	 areas = 0;

	copy = xstrdup(s);
	for (word = strtok_r(copy, ",", &last); word != NULL;
	    word = strtok_r(NULL, ",", &last)) {
		for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++)
			if (strcmp(word, log_names[i].name) == 0)
				areas |= log_names[i].area;
	}
	free(copy);
	return (areas);
}

/* Open the log file: path, or s4lab-PID.log in the current directory. */
void
log_open(int areas, const char *path)
{
	char	*name = NULL;

	if (log_file != NULL)
		fclose(log_file);
	if (path == NULL) {
		xasprintf(&name, "%s-%ld.log", S4LAB_NAME, (long)getpid());
		path = name;
	}
	log_file = fopen(path, "a");
	free(name);
	if (log_file == NULL) {
		log_areas = 0;
		return;
	}
	setvbuf(log_file, NULL, _IOLBF, 0);
	log_areas = areas;
}

/* Close the log. */
void
log_close(void)
{
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	log_areas = 0;
}

/* Write one line: time, function, message. */
void
log_write(const char *func, const char *fmt, ...)
{
	struct timeval	tv;
	struct tm	tm;
	char		when[32];
	va_list		ap;

	if (log_file == NULL)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof when, "%H:%M:%S", &tm);
	fprintf(log_file, "%s.%06ld %s: ", when, (long)tv.tv_usec, func);
	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputc('\n', log_file);
}
