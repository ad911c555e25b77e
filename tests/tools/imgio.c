/* Image files for the test and benchmark programs (see imgio.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <turbojpeg.h>

#include "s4lab.h"
#include "imgio.h"

/* Decode JPEG bytes to RGB. */
static uint8_t *
imgio_jpeg(const char *path, const unsigned char *data, size_t len, int *w,
    int *h, char **cause)
{
	tjhandle	 tj;
	uint8_t		*rgb = NULL;
	int		 sub, cs;

	if ((tj = tjInitDecompress()) == NULL) {
		set_cause(cause, "%s: %s", path, tjGetErrorStr());
		return (NULL);
	}
	if (tjDecompressHeader3(tj, data, len, w, h, &sub, &cs) != 0) {
		set_cause(cause, "%s: %s", path, tjGetErrorStr2(tj));
		goto out;
	}
	rgb = xreallocarray(NULL, (size_t)*w * 3, *h);
	if (tjDecompress2(tj, data, len, rgb, *w, 0, *h, TJPF_RGB, 0) != 0) {
		set_cause(cause, "%s: %s", path, tjGetErrorStr2(tj));
		free(rgb);
		rgb = NULL;
	}
out:
	tjDestroy(tj);
	return (rgb);
}

/* Decode a PNG file to RGB (alpha dropped). */
static uint8_t *
imgio_png(const char *path, int *w, int *h, char **cause)
{
	png_image	 pi;
	uint8_t		*rgb;

	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&pi, path)) {
		set_cause(cause, "%s: %s", path, pi.message);
		return (NULL);
	}
	pi.format = PNG_FORMAT_RGB;
	rgb = xmalloc(PNG_IMAGE_SIZE(pi));
	if (!png_image_finish_read(&pi, NULL, rgb, 0, NULL)) {
		set_cause(cause, "%s: %s", path, pi.message);
		free(rgb);
		return (NULL);
	}
	*w = (int)pi.width;
	*h = (int)pi.height;
	return (rgb);
}

/* Decode a JPEG or PNG file, told apart by their signatures. */
uint8_t *
imgio_load(const char *path, int *w, int *h, char **cause)
{
	unsigned char	*data;
	uint8_t		*rgb = NULL;
	size_t		 len;

	if ((data = read_file(path, &len, 256 << 20, cause)) == NULL)
		return (NULL);
	if (len > 3 && data[0] == 0xff && data[1] == 0xd8)
		rgb = imgio_jpeg(path, data, len, w, h, cause);
	else if (len > 8 && memcmp(data, "\211PNG", 4) == 0)
		rgb = imgio_png(path, w, h, cause);
	else
		set_cause(cause, "%s: not a JPEG or PNG file", path);
	free(data);
	return (rgb);
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
