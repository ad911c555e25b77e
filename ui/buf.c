/*
 * A growing byte buffer: a whole frame of terminal output is built in one
 * and written with as few write(2) calls as the kernel allows, so that the
 * terminal never shows half an image.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui.h"

/* Make room for n more bytes (and a NUL, for printf). */
static void
buf_reserve(struct buf *b, size_t n)
{
	size_t	size;

	if (b->len + n + 1 <= b->size)
		return;
	size = b->size == 0 ? 4096 : b->size;
	while (size < b->len + n + 1) {
		if (size > SIZE_MAX / 2)
			fatalx("buf_reserve: %zu bytes", b->len + n);
		size *= 2;
	}
	b->p = xreallocarray(b->p, 1, size);
	b->size = size;
}

/* Make room for n more bytes after the end. */
void
buf_reserve_tail(struct buf *b, size_t n)
{
	buf_reserve(b, n);
}

/* Append n bytes. */
void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Append formatted text. */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("buf_printf: bad format");
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Release the memory; the buffer is empty and reusable afterwards. */
void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->size = 0;
}

/*
 * Write the whole buffer to fd and empty it.  A non-blocking fd that is
 * full is waited for.  Returns -1 (with errno) if a write fails.
 */
int
buf_write(struct buf *b, int fd)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < b->len) {
		n = write(fd, b->p + off, b->len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				usleep(1000);
				continue;
			}
			return (-1);
		}
		off += (size_t)n;
	}
	b->len = 0;
	return (0);
}
