/*
 * tests/tools/tiles.c: decode a Dubai scene (JPEG image, colour-coded PNG
 * mask) and cut square tiles from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <turbojpeg.h>

#include "tiles.h"

static const struct {
	uint8_t	r, g, b, cls;
} scene_colours[] = {
	{ 0x3c, 0x10, 0x98, 0 },	/* building */
	{ 0x84, 0x29, 0xf6, 1 },	/* land */
	{ 0x6e, 0xc1, 0xe4, 2 },	/* road */
	{ 0xfe, 0xdd, 0x3a, 3 },	/* vegetation */
	{ 0xe2, 0xa9, 0x29, 4 },	/* water */
};

static unsigned char *
scene_slurp(const char *path, size_t *len)
{
	FILE		*f;
	unsigned char	*buf;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	*len = n;
	return (buf);
}

static int
scene_jpeg(const char *path, struct scene *sc)
{
	tjhandle	 tj;
	unsigned char	*buf;
	size_t		 len;
	int		 w, h, sub, cs, rc = -1;

	if ((buf = scene_slurp(path, &len)) == NULL)
		return (-1);
	tj = tjInitDecompress();
	if (tjDecompressHeader3(tj, buf, len, &w, &h, &sub, &cs) == 0) {
		sc->w = w;
		sc->h = h;
		sc->rgb = malloc((size_t)w * h * 3);
		if (tjDecompress2(tj, buf, len, sc->rgb, w, 0, h, TJPF_RGB,
		    TJFLAG_ACCURATEDCT) == 0)
			rc = 0;
	}
	tjDestroy(tj);
	free(buf);
	return (rc);
}

static int
scene_png(const char *path, struct scene *sc)
{
	png_image	 img;
	uint8_t		*px;
	size_t		 i, k;

	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return (-1);
	img.format = PNG_FORMAT_RGB;
	if ((int)img.width != sc->w || (int)img.height != sc->h) {
		png_image_free(&img);
		return (-1);
	}
	px = malloc(PNG_IMAGE_SIZE(img));
	if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
		free(px);
		return (-1);
	}
	sc->mask = malloc((size_t)sc->w * sc->h);
	for (i = 0; i < (size_t)sc->w * sc->h; i++) {
		sc->mask[i] = 255;
		for (k = 0; k < sizeof scene_colours / sizeof *scene_colours;
		    k++) {
			if (px[3 * i] == scene_colours[k].r &&
			    px[3 * i + 1] == scene_colours[k].g &&
			    px[3 * i + 2] == scene_colours[k].b)
				sc->mask[i] = scene_colours[k].cls;
		}
	}
	free(px);
	return (0);
}

int
scene_load(const char *dir, const char *name, struct scene *sc)
{
	char	path[4096];

	memset(sc, 0, sizeof *sc);
	snprintf(path, sizeof path, "%s/images/%s.jpg", dir, name);
	if (scene_jpeg(path, sc) != 0) {
		fprintf(stderr, "%s: cannot decode\n", path);
		scene_free(sc);
		return (-1);
	}
	snprintf(path, sizeof path, "%s/masks/%s.png", dir, name);
	if (scene_png(path, sc) != 0) {
		fprintf(stderr, "%s: cannot decode\n", path);
		scene_free(sc);
		return (-1);
	}
	return (0);
}

void
scene_free(struct scene *sc)
{
	free(sc->rgb);
	free(sc->mask);
	memset(sc, 0, sizeof *sc);
}

void
scene_cut(const struct scene *sc, int x, int y, int t, uint8_t *rgb,
    uint8_t *mask)
{
	int	r;

	for (r = 0; r < t; r++) {
		memcpy(rgb + (size_t)r * t * 3,
		    sc->rgb + ((size_t)(y + r) * sc->w + x) * 3, (size_t)t * 3);
		memcpy(mask + (size_t)r * t,
		    sc->mask + (size_t)(y + r) * sc->w + x, t);
	}
}

int
scene_bench_tiles(const char *dir, uint8_t *rgb, uint8_t *mask)
{
	const char	*names[] = { "tile1_image_part_001",
			    "tile2_image_part_002", "tile3_image_part_003",
			    "tile5_image_part_004" };
	struct scene	 sc;
	size_t		 P = 256 * 256;
	int		 i, k;

	for (i = 0; i < 4; i++) {
		if (scene_load(dir, names[i], &sc) != 0)
			return (-1);
		for (k = 0; k < 4; k++)
			scene_cut(&sc, (k & 1) * (sc.w - 256), (k >> 1) *
			    (sc.h - 256), 256, rgb + (i * 4 + k) * P * 3,
			    mask + (i * 4 + k) * P);
		scene_free(&sc);
	}
	return (0);
}
