/*
 * Small helpers used everywhere: allocation that never returns NULL, the
 * one fatal path, messages handed back through a cause, text cleaning.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "s4lab.h"

static void	(*fatal_hook)(void);

/* Allocate or die. */
void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		fatal("xmalloc(%zu)", size);
	return (p);
}

/* Allocate zeroed memory or die. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		fatal("xcalloc(%zu, %zu)", n, size);
	return (p);
}

/* Resize an array or die; refuses sizes that overflow. */
void *
xreallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu overflows", n, size);
	if (n * size == 0)
		n = size = 1;
	if ((p = realloc(old, n * size)) == NULL)
		fatal("xreallocarray(%zu, %zu)", n, size);
	return (p);
}

/* Copy a string or die. */
char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("xstrdup");
	return (p);
}

/* Format into a new string or die. */
int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	n;

	n = vasprintf(ret, fmt, ap);
	if (n < 0 || *ret == NULL)
		fatal("xvasprintf");
	return (n);
}

/* Format into a new string or die. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return (n);
}

/* Hand a message back through cause; always returns -1. */
int
set_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return (-1);
	va_start(ap, fmt);
	xvasprintf(cause, fmt, ap);
	va_end(ap);
	return (-1);
}

/* Install the function fatal() calls before it prints. */
void
fatal_set_hook(void (*hook)(void))
{
	fatal_hook = hook;
}

static void __attribute__((noreturn))
fatal_exit(int with_errno, const char *fmt, va_list ap)
{
	int	saved = errno;

	if (fatal_hook != NULL) {
		fatal_hook();
		fatal_hook = NULL;
	}
	fprintf(stderr, "%s: fatal: ", S4LAB_NAME);
	vfprintf(stderr, fmt, ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	log_write("fatal", "exiting");
	exit(70);
}

/* Report an impossible state with errno and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fatal_exit(1, fmt, ap);
}

/* Report an impossible state and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fatal_exit(0, fmt, ap);
}

/*
 * Copy s replacing control characters, so that a file name can never
 * send escape sequences to the terminal.  UTF-8 sequences pass; the C1
 * range (U+0080..U+009F, encoded C2 80..C2 9F) is replaced too.
 */
char *
clean_text(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out, *o;

	out = o = xmalloc(strlen(s) + 1);
	for (; *u != '\0'; u++) {
		if (*u < 0x20 || *u == 0x7f)
			*o++ = '?';
		else if (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
			*o++ = '?';
			u++;
		} else
			*o++ = (char)*u;
	}
	*o = '\0';
	return (out);
}

/*
 * Read a whole file of at most limit bytes (0: no limit).  Returns a
 * malloc'd NUL-terminated buffer, or NULL with a cause naming the file.
 */
unsigned char *
read_file(const char *path, size_t *len, size_t limit, char **cause)
{
	struct stat	 sb;
	unsigned char	*buf;
	ssize_t		 n;
	size_t		 done = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		set_cause(cause, "%s: not a regular file", path);
		close(fd);
		return (NULL);
	}
	if (limit != 0 && (uintmax_t)sb.st_size > limit) {
		set_cause(cause, "%s: %jd bytes, more than the limit of %zu",
		    path, (intmax_t)sb.st_size, limit);
		close(fd);
		return (NULL);
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (done < (size_t)sb.st_size) {
		n = read(fd, buf + done, (size_t)sb.st_size - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			set_cause(cause, "%s: %s", path,
			    n == 0 ? "file shrank while reading" :
			    strerror(errno));
			free(buf);
			close(fd);
			return (NULL);
		}
		done += (size_t)n;
	}
	close(fd);
	buf[done] = '\0';
	*len = done;
	return (buf);
}

/* The name recorded as author: the given one, else the login name. */
const char *
user_name(const char *given)
{
	struct passwd	*pw;
	const char	*s;

	if (given != NULL && *given != '\0')
		return (given);
	if ((s = getenv("USER")) != NULL && *s != '\0')
		return (s);
	if ((pw = getpwuid(getuid())) != NULL)
		return (pw->pw_name);
	return ("unknown");
}

/* Wall-clock seconds, with microseconds. */
double
now_seconds(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return (tv.tv_sec + tv.tv_usec / 1e6);
}

/* Wall-clock seconds since the epoch. */
int64_t
now_unix(void)
{
	return ((int64_t)time(NULL));
}

/*
 * A pixel count for messages into buf: "4290.2 megapixels" from 0.1
 * megapixel up, "100 pixels" below, so that a small limit does not read
 * as 0.0.  Returns buf.
 */
const char *
pixels_text(uint64_t n, char *buf, size_t len)
{
	if (n >= 100000)
		snprintf(buf, len, "%.1f megapixels", n / 1e6);
	else
		snprintf(buf, len, "%ju pixel%s", (uintmax_t)n,
		    n == 1 ? "" : "s");
	return (buf);
}

/* Read a whole decimal number from the command line; see s4lab.h. */
int
parse_number(const char *s, long long min, long long max, long long *v)
{
	char		*end;
	long long	 n;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return (-1);
	*v = n;
	return (0);
}
