/*
 * s4lab: what only image.c and maskio.c share: a libpng reader over a
 * buffer whose errors land in a jmp_buf and a message.
 */
#ifndef IMAGE_INT_H
#define IMAGE_INT_H

#include <setjmp.h>

#include <png.h>

struct png_fail {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 off;
	char		 why[256];
};

/* Set up a reader over buf; setjmp(png_jmpbuf(*pp)) before using it. */
void		 image_png_open(struct png_fail *, const uint8_t *, size_t,
		     png_structp *, png_infop *);

#endif /* IMAGE_INT_H */
