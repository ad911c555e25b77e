/* Image files for the test and benchmark programs (see imgio.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s4lab.h"
#include "imgio.h"

/* Decode a JPEG or PNG file with the project's own reader (image.c). */
uint8_t *
imgio_load(const char *path, int *w, int *h, char **cause)
{
	struct image		img;
	struct image_info	info;

	if (image_read(path, 100000000, &img, &info, cause) != 0)
		return (NULL);
	*w = img.w;
	*h = img.h;
	return (img.rgb);
}

/* Read a binary PPM. */
uint8_t *
imgio_read_ppm(const char *path, int *w, int *h, char **cause)
{
	FILE	*f;
	uint8_t	*rgb = NULL;
	int	 max;

	if ((f = fopen(path, "rb")) == NULL) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fscanf(f, "P6 %d %d %d", w, h, &max) != 3 || max != 255 ||
	    *w <= 0 || *h <= 0 || *w > 16384 || *h > 16384 ||
	    fgetc(f) == EOF) {
		set_cause(cause, "%s: not a P6 PPM with maxval 255", path);
		goto out;
	}
	rgb = xreallocarray(NULL, (size_t)*w * 3, *h);
	if (fread(rgb, 3, (size_t)*w * *h, f) != (size_t)*w * *h) {
		set_cause(cause, "%s: truncated", path);
		free(rgb);
		rgb = NULL;
	}
out:
	fclose(f);
	return (rgb);
}

/* Write a binary PPM. */
int
imgio_write_ppm(const char *path, const uint8_t *rgb, int w, int h,
    char **cause)
{
	FILE	*f;
	int	 ok;

	if ((f = fopen(path, "wb")) == NULL)
		return (set_cause(cause, "%s: %s", path, strerror(errno)));
	fprintf(f, "P6\n%d %d\n255\n", w, h);
	ok = fwrite(rgb, 3, (size_t)w * h, f) == (size_t)w * h;
	if (fclose(f) != 0 || !ok)
		return (set_cause(cause, "%s: write failed", path));
	return (0);
}
