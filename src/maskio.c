/*
 * Masks on disk: PNG files read into class indices and written as palette
 * PNGs, and the COCO run-length encoding.
 *
 * A mask PNG comes in one of three conventions, and the PNG colour type
 * alone does not say which:
 *
 * - colour-coded (RGB, or a palette whose colours are what counts): each
 *   colour is a class colour or one of the classes' "not labelled" colours.
 *   Palette masks made by annotation tools are often like this, with their
 *   own palette order in each file, so the index means nothing.
 * - index (grey, or a palette whose indices are what counts): each value
 *   is a class index, 255 not labelled.  Segmentation datasets ship masks
 *   as 8-bit palette PNGs with a full 256-entry palette in which index 255
 *   is the "void" colour; the palette only decorates.
 * - 16-bit grey: an index mask too (255 or 65535 mean not labelled).
 *
 * So a palette of 256 entries is read by index; a shorter one by colour,
 * and by index only if its colours are not class colours.  A full palette
 * never falls back to colours: a value that is no class must be refused,
 * not mapped through whatever colour the palette happens to hold there.
 *
 * Any value that is neither a class nor "not labelled" refuses the whole
 * mask; the message lists each such value with its pixel count and the
 * first pixel where it occurs.
 */
#include <sys/types.h>

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>

#include "s4lab.h"
#include "image-int.h"

#define MASK_MAX_FILE	(256UL * 1024 * 1024)
#define MASK_BAD_SHOWN	8	/* unknown values listed in a message */
#define MASK_BAD_KEPT	64	/* distinct unknown values counted */

/* How the values of a mask PNG are mapped. */
#define MASK_BY_INDEX	0
#define MASK_BY_COLOUR	1

/* The unknown values met while mapping, to report them together. */
struct mask_bad {
	int		 n;
	uint32_t	 value[MASK_BAD_KEPT];
	uint64_t	 count[MASK_BAD_KEPT];
	int		 x[MASK_BAD_KEPT], y[MASK_BAD_KEPT];
	uint64_t	 others;	/* pixels of the values not kept */
};

/* The raw samples of a mask PNG, before mapping. */
struct mask_raw {
	int		 w, h;
	int		 ct;		/* PNG colour type */
	int		 depth;		/* 8 or 16 after unpacking */
	int		 channels;
	size_t		 rowbytes;
	uint8_t		*data;
	int		 npal;
	uint8_t		 pal[256][3];
};

/* Count one pixel of a value that is no class. */
static void
mask_bad_add(struct mask_bad *mb, uint32_t v, int x, int y)
{
	int	 i;

	for (i = 0; i < mb->n; i++) {
		if (mb->value[i] == v) {
			mb->count[i]++;
			return;
		}
	}
	if (mb->n == MASK_BAD_KEPT) {
		mb->others++;
		return;
	}
	mb->value[i] = v;
	mb->count[i] = 1;
	mb->x[i] = x;
	mb->y[i] = y;
	mb->n++;
}

/* The error for the unknown values in mb; always returns -1. */
static int
mask_bad_cause(const struct mask_bad *mb, const char *name, int colour,
    const struct classes *cl, char **cause)
{
	char	*list = xstrdup(""), *tmp;
	int	 i;

	for (i = 0; i < mb->n && i < MASK_BAD_SHOWN; i++) {
		if (colour) {
			xasprintf(&tmp, "%s%s#%06X (%ju px, first at x=%d "
			    "y=%d)", list, i ? ", " : "", mb->value[i],
			    (uintmax_t)mb->count[i], mb->x[i], mb->y[i]);
		} else {
			xasprintf(&tmp, "%s%s%u (%ju px, first at x=%d y=%d)",
			    list, i ? ", " : "", mb->value[i],
			    (uintmax_t)mb->count[i], mb->x[i], mb->y[i]);
		}
		free(list);
		list = tmp;
	}
	if (mb->n > MASK_BAD_SHOWN || mb->others != 0) {
		xasprintf(&tmp, "%s and more", list);
		free(list);
		list = tmp;
	}
	if (colour) {
		set_cause(cause, "%s: %d colour%s of no class: %s; a "
		    "project's classes are fixed when it is made, so repaint "
		    "those pixels in a class colour or a \"not labelled\" "
		    "colour, or make a new project (init --classes) whose "
		    "classes file maps them", name,
		    mb->n + (mb->others != 0),
		    mb->n == 1 && mb->others == 0 ? "" : "s", list);
	} else {
		set_cause(cause, "%s: value%s of no class: %s; the classes "
		    "are 0 to %d, and 255 is \"not labelled\"", name,
		    mb->n == 1 && mb->others == 0 ? "" : "s", list,
		    cl->n - 1);
	}
	free(list);
	return (-1);
}

/* The class of a colour: its index, MASK_VOID, or -1. */
static int
mask_colour_class(const struct classes *cl, uint32_t rgb)
{
	uint8_t	 c[3] = { rgb >> 16, rgb >> 8, rgb };

	return (classes_by_rgb(cl, c));
}

/* The class of an index value: itself, MASK_VOID, or -1. */
static int
mask_index_class(const struct classes *cl, uint32_t v, int depth)
{
	if (v < (uint32_t)cl->n)
		return ((int)v);
	if (v == 255 || (depth == 16 && v == 65535))
		return (MASK_VOID);
	return (-1);
}

/* ------------------------------------------------------------------ */
/* Reading. */

/* Set the unpacking transforms and collect the raw samples. */
static void
mask_raw_rows(png_structp p, png_infop pi, struct mask_raw *mr,
    png_bytep *rows)
{
	int	 y;

	mr->rowbytes = png_get_rowbytes(p, pi);
	mr->data = xreallocarray(NULL, mr->h, mr->rowbytes);
	for (y = 0; y < mr->h; y++)
		rows[y] = mr->data + (size_t)y * mr->rowbytes;
	png_read_image(p, rows);
}

/*
 * Read a PNG's samples without colour conversion: palette indices and
 * grey values unpacked to a byte each, 16-bit samples in host order.
 */
static int
mask_raw_read(const char *name, const uint8_t *buf, size_t len,
    uint64_t max_pixels, struct mask_raw *mr, char **cause)
{
	struct png_fail		 pf;
	png_structp		 p;
	png_infop		 pi;
	png_colorp		 pal;
	png_bytep *volatile	 rows = NULL;
	png_uint_32		 w, h;
	char			 b1[32];
	int			 i, npal;

	memset(mr, 0, sizeof *mr);
	image_png_open(&pf, buf, len, &p, &pi);
	if (setjmp(png_jmpbuf(p)) != 0) {
		png_destroy_read_struct(&p, &pi, NULL);
		free(rows);
		free(mr->data);
		mr->data = NULL;
		return (set_cause(cause, "%s: not a valid PNG (%s)", name,
		    pf.why));
	}
	png_read_info(p, pi);
	png_get_IHDR(p, pi, &w, &h, &mr->depth, &mr->ct, NULL, NULL, NULL);
	if ((uint64_t)w * h > max_pixels) {
		png_destroy_read_struct(&p, &pi, NULL);
		return (set_cause(cause, "%s: %ux%u is more than the limit "
		    "of %s", name, w, h, pixels_text(max_pixels, b1,
		    sizeof b1)));
	}
	mr->w = w;
	mr->h = h;
	if (mr->ct == PNG_COLOR_TYPE_PALETTE &&
	    png_get_PLTE(p, pi, &pal, &npal) == PNG_INFO_PLTE) {
		mr->npal = npal > 256 ? 256 : npal;
		for (i = 0; i < mr->npal; i++) {
			mr->pal[i][0] = pal[i].red;
			mr->pal[i][1] = pal[i].green;
			mr->pal[i][2] = pal[i].blue;
		}
	}
	if (mr->depth < 8) {
		png_set_packing(p);
		mr->depth = 8;
	}
	if (mr->depth == 16)
		png_set_swap(p);
	if (mr->ct == PNG_COLOR_TYPE_GRAY_ALPHA) {
		png_set_strip_alpha(p);
		mr->ct = PNG_COLOR_TYPE_GRAY;
	}
	png_set_interlace_handling(p);
	png_read_update_info(p, pi);
	mr->channels = png_get_channels(p, pi);
	rows = xreallocarray(NULL, h, sizeof *rows);
	mask_raw_rows(p, pi, mr, rows);

	png_destroy_read_struct(&p, &pi, NULL);
	free(rows);
	return (0);
}

/* Map a palette or grey mask by index. */
static int
mask_map_index(const char *name, const struct mask_raw *mr,
    const struct classes *cl, uint8_t *mask, char **cause)
{
	struct mask_bad	 mb;
	const uint8_t	*row;
	uint32_t	 v;
	uint16_t	 v16;
	int		 x, y, c;

	memset(&mb, 0, sizeof mb);
	for (y = 0; y < mr->h; y++) {
		row = mr->data + (size_t)y * mr->rowbytes;
		for (x = 0; x < mr->w; x++) {
			if (mr->depth == 16) {
				memcpy(&v16, row + x * 2, 2);
				v = v16;
			} else
				v = row[x];
			if ((c = mask_index_class(cl, v, mr->depth)) == -1) {
				mask_bad_add(&mb, v, x, y);
				continue;
			}
			mask[(size_t)y * mr->w + x] = c;
		}
	}
	if (mb.n != 0)
		return (mask_bad_cause(&mb, name, 0, cl, cause));
	return (0);
}

/* Map a palette mask through its palette's colours. */
static int
mask_map_palette(const char *name, const struct mask_raw *mr,
    const struct classes *cl, uint8_t *mask, char **cause)
{
	struct mask_bad	 mb;
	int		 lut[256], i, x, y, c;
	uint32_t	 rgb;
	const uint8_t	*row;

	memset(&mb, 0, sizeof mb);
	for (i = 0; i < 256; i++) {
		if (i >= mr->npal) {
			lut[i] = -2;
			continue;
		}
		rgb = mr->pal[i][0] << 16 | mr->pal[i][1] << 8 | mr->pal[i][2];
		lut[i] = mask_colour_class(cl, rgb);
	}
	for (y = 0; y < mr->h; y++) {
		row = mr->data + (size_t)y * mr->rowbytes;
		for (x = 0; x < mr->w; x++) {
			if ((c = lut[row[x]]) >= 0) {
				mask[(size_t)y * mr->w + x] = c;
				continue;
			}
			if (c == -2) {
				return (set_cause(cause, "%s: index %d at x=%d "
				    "y=%d is past the palette's %d colours",
				    name, row[x], x, y, mr->npal));
			}
			i = row[x];
			mask_bad_add(&mb, mr->pal[i][0] << 16 |
			    mr->pal[i][1] << 8 | mr->pal[i][2], x, y);
		}
	}
	if (mb.n != 0)
		return (mask_bad_cause(&mb, name, 1, cl, cause));
	return (0);
}

/* Map an RGB or RGBA mask by colour; transparent pixels are void. */
static int
mask_map_rgb(const char *name, const struct mask_raw *mr,
    const struct classes *cl, uint8_t *mask, char **cause)
{
	struct mask_bad	 mb;
	const uint8_t	*row, *px;
	uint32_t	 rgb, last = UINT32_MAX;
	uint16_t	 s[4];
	int		 x, y, c = -1, step, hi;

	memset(&mb, 0, sizeof mb);
	hi = (mr->depth == 16);
	step = mr->channels * (hi ? 2 : 1);
	for (y = 0; y < mr->h; y++) {
		row = mr->data + (size_t)y * mr->rowbytes;
		for (x = 0; x < mr->w; x++) {
			px = row + (size_t)x * step;
			if (hi) {
				/* 16-bit samples, host order: the high byte. */
				memcpy(s, px, step);
				if (mr->channels == 4 && s[3] == 0) {
					mask[(size_t)y * mr->w + x] = MASK_VOID;
					continue;
				}
				rgb = (s[0] >> 8) << 16 | (s[1] >> 8) << 8 |
				    (s[2] >> 8);
			} else {
				if (mr->channels == 4 && px[3] == 0) {
					mask[(size_t)y * mr->w + x] = MASK_VOID;
					continue;
				}
				rgb = px[0] << 16 | px[1] << 8 | px[2];
			}
			if (rgb != last) {
				c = mask_colour_class(cl, rgb);
				last = rgb;
			}
			if (c == -1) {
				mask_bad_add(&mb, rgb, x, y);
				continue;
			}
			mask[(size_t)y * mr->w + x] = c;
		}
	}
	if (mb.n != 0)
		return (mask_bad_cause(&mb, name, 1, cl, cause));
	return (0);
}

/* Map a palette mask: by index or by colour, as the file comment says. */
static int
mask_map_paletted(const char *name, const struct mask_raw *mr,
    const struct classes *cl, uint8_t *mask, char **note, char **cause)
{
	char	*cause2 = NULL;

	if (mr->npal == 256) {
		log_debug(LOG_IMPORT, "%s: full palette, read by index",
		    name);
		return (mask_map_index(name, mr, cl, mask, cause));
	}
	if (mask_map_palette(name, mr, cl, mask, cause) == 0)
		return (0);
	if (mask_map_index(name, mr, cl, mask, &cause2) == 0) {
		log_debug(LOG_IMPORT, "%s: palette colours are no class "
		    "colours, read by index", name);
		if (note != NULL) {
			xasprintf(note, "%s: its palette's colours are not "
			    "the classes' colours, so its values were read as "
			    "class indices", name);
		}
		free(*cause);
		*cause = NULL;
		return (0);
	}
	free(cause2);
	return (-1);
}

/*
 * Decode a mask PNG (the contents of the file called name) into a
 * malloc'd array of w * h class indices (MASK_VOID: not labelled).  When
 * note is not NULL and the mask was read in a way worth telling the user
 * (a short palette read by index), *note gets a malloc'd sentence.
 */
uint8_t *
mask_decode_noted(const char *name, const void *buf, size_t len,
    const struct classes *cl, uint64_t max_pixels, int *w, int *h,
    char **note, char **cause)
{
	struct mask_raw	 mr;
	uint8_t		*mask;
	char		*why = NULL;
	int		 rc;

	if (len == 0) {
		set_cause(cause, "%s: empty file", name);
		return (NULL);
	}
	if (image_sniff(buf, len) != IMAGE_PNG) {
		set_cause(cause, "%s: not a PNG file (masks must be PNG)",
		    name);
		return (NULL);
	}
	if (mask_raw_read(name, buf, len, max_pixels, &mr, cause) != 0)
		return (NULL);
	mask = xmalloc((size_t)mr.w * mr.h);
	switch (mr.ct) {
	case PNG_COLOR_TYPE_PALETTE:
		rc = mask_map_paletted(name, &mr, cl, mask, note, &why);
		break;
	case PNG_COLOR_TYPE_GRAY:
		rc = mask_map_index(name, &mr, cl, mask, &why);
		break;
	default:
		rc = mask_map_rgb(name, &mr, cl, mask, &why);
		break;
	}
	free(mr.data);
	if (rc != 0) {
		if (cause != NULL)
			*cause = why;
		else
			free(why);
		free(mask);
		return (NULL);
	}
	*w = mr.w;
	*h = mr.h;
	return (mask);
}

/* Decode a mask PNG; see mask_decode_noted. */
uint8_t *
mask_decode(const char *name, const void *buf, size_t len,
    const struct classes *cl, uint64_t max_pixels, int *w, int *h,
    char **cause)
{
	return (mask_decode_noted(name, buf, len, cl, max_pixels, w, h, NULL,
	    cause));
}

/* Read a mask PNG file; see mask_decode_noted. */
uint8_t *
mask_read_noted(const char *path, const struct classes *cl,
    uint64_t max_pixels, int *w, int *h, char **note, char **cause)
{
	unsigned char	*buf;
	uint8_t		*mask;
	size_t		 len;

	if ((buf = read_file(path, &len, MASK_MAX_FILE, cause)) == NULL)
		return (NULL);
	mask = mask_decode_noted(path, buf, len, cl, max_pixels, w, h, note,
	    cause);
	free(buf);
	return (mask);
}

/* Read a mask PNG file without notes. */
uint8_t *
mask_read(const char *path, const struct classes *cl, uint64_t max_pixels,
    int *w, int *h, char **cause)
{
	return (mask_read_noted(path, cl, max_pixels, w, h, NULL, cause));
}

/* ------------------------------------------------------------------ */
/* Writing. */

struct mask_sink {
	unsigned char	*buf;
	size_t		 len;
	size_t		 size;
	char		 why[256];
};

static void
mask_sink_write(png_structp p, png_bytep data, size_t n)
{
	struct mask_sink	*ms = png_get_io_ptr(p);

	while (ms->len + n > ms->size) {
		ms->size = ms->size == 0 ? 4096 : ms->size * 2;
		ms->buf = xreallocarray(ms->buf, ms->size, 1);
	}
	memcpy(ms->buf + ms->len, data, n);
	ms->len += n;
}

static void
mask_sink_flush(png_structp p)
{
}

static void
mask_sink_error(png_structp p, png_const_charp msg)
{
	struct mask_sink	*ms = png_get_error_ptr(p);

	snprintf(ms->why, sizeof ms->why, "%s", msg);
	png_longjmp(p, 1);
}

/*
 * The palette of a written mask: PLTE[i] is the colour of class i, index
 * 255 the first "not labelled" colour (white if there is none), the rest
 * black.
 */
static void
mask_palette(const struct classes *cl, png_color *pal)
{
	int	 i;

	memset(pal, 0, 256 * sizeof *pal);
	for (i = 0; i < cl->n && i < 255; i++) {
		pal[i].red = cl->c[i].rgb[0];
		pal[i].green = cl->c[i].rgb[1];
		pal[i].blue = cl->c[i].rgb[2];
	}
	if (cl->nvoid > 0) {
		pal[255].red = cl->void_rgb[0][0];
		pal[255].green = cl->void_rgb[0][1];
		pal[255].blue = cl->void_rgb[0][2];
	} else
		pal[255].red = pal[255].green = pal[255].blue = 255;
}

/*
 * Encode a mask as an 8-bit palette PNG whose values are the class
 * indices (see mask_palette).  *out is malloc'd.
 */
int
mask_encode_png(const uint8_t *mask, int w, int h, const struct classes *cl,
    unsigned char **out, size_t *outlen, char **cause)
{
	struct mask_sink	 ms;
	png_structp		 p;
	png_infop		 pi;
	png_color		 pal[256];
	int			 y;

	memset(&ms, 0, sizeof ms);
	p = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ms,
	    mask_sink_error, NULL);
	if (p == NULL || (pi = png_create_info_struct(p)) == NULL)
		fatalx("png_create_write_struct failed");
	if (setjmp(png_jmpbuf(p)) != 0) {
		png_destroy_write_struct(&p, &pi);
		free(ms.buf);
		return (set_cause(cause, "PNG encoding failed: %s", ms.why));
	}
	png_set_write_fn(p, &ms, mask_sink_write, mask_sink_flush);
	png_set_IHDR(p, pi, w, h, 8, PNG_COLOR_TYPE_PALETTE,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	mask_palette(cl, pal);
	png_set_PLTE(p, pi, pal, 256);
	png_set_filter(p, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_write_info(p, pi);
	for (y = 0; y < h; y++)
		png_write_row(p, mask + (size_t)y * w);
	png_write_end(p, pi);
	png_destroy_write_struct(&p, &pi);

	*out = ms.buf;
	*outlen = ms.len;
	return (0);
}

/* Write a mask as a palette PNG file; a failed write leaves no file. */
int
mask_write_png(const char *path, const uint8_t *mask, int w, int h,
    const struct classes *cl, char **cause)
{
	unsigned char	*buf;
	size_t		 len;
	FILE		*f;
	int		 failed;

	if (mask_encode_png(mask, w, h, cl, &buf, &len, cause) != 0)
		return (-1);
	if ((f = fopen(path, "wb")) == NULL) {
		free(buf);
		return (set_cause(cause, "%s: %s", path, strerror(errno)));
	}
	failed = (fwrite(buf, 1, len, f) != len);
	failed |= (fclose(f) != 0);
	free(buf);
	if (failed) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		unlink(path);
		return (-1);
	}
	return (0);
}

/* ------------------------------------------------------------------ */
/* COCO run lengths. */

/*
 * The run lengths of class cls in a w x h mask, in column-major order as
 * COCO and pycocotools count them: down the first column, then the next.
 * The first count is of pixels that are not the class (possibly 0), then
 * counts alternate.  Returns the number of counts; *counts is malloc'd.
 */
size_t
mask_rle_encode(const uint8_t *mask, int w, int h, int cls,
    uint32_t **counts)
{
	uint32_t	*c, run = 0;
	size_t		 n = 0, size = 16;
	int		 x, y, cur = 0, in;

	c = xreallocarray(NULL, size, sizeof *c);
	for (x = 0; x < w; x++) {
		for (y = 0; y < h; y++) {
			in = (mask[(size_t)y * w + x] == cls);
			if (in == cur) {
				run++;
				continue;
			}
			if (n == size) {
				size *= 2;
				c = xreallocarray(c, size, sizeof *c);
			}
			c[n++] = run;
			run = 1;
			cur = in;
		}
	}
	if (n == size)
		c = xreallocarray(c, size + 1, sizeof *c);
	c[n++] = run;
	*counts = c;
	return (n);
}

/*
 * Paint the runs into a row-major w x h array of 0 and 1.  The counts
 * must cover exactly w * h pixels.
 */
int
mask_rle_decode(const uint32_t *counts, size_t n, int w, int h,
    uint8_t *out, char **cause)
{
	uint64_t	 pos = 0, total = (uint64_t)w * h, k;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (counts[i] > total - pos) {
			return (set_cause(cause, "RLE counts cover more than "
			    "%dx%d pixels", w, h));
		}
		for (k = 0; k < counts[i]; k++, pos++) {
			/* pos runs down columns: x = pos / h, y = pos % h. */
			out[(size_t)(pos % h) * w + pos / h] = (i & 1);
		}
	}
	if (pos != total) {
		return (set_cause(cause, "RLE counts cover %ju of %dx%d "
		    "pixels", (uintmax_t)pos, w, h));
	}
	return (0);
}

/*
 * The counts as pycocotools writes them in a string: from the fourth
 * count on, each is stored as its difference from the count two before;
 * each number goes out five bits at a time, low bits first, as characters
 * from '0' (48), with 0x20 meaning "more follows" and the last group's
 * 0x10 bit its sign.  Returns a malloc'd string.
 */
char *
mask_rle_string(const uint32_t *counts, size_t n)
{
	char	*s;
	size_t	 i, len = 0;
	int64_t	 x;
	int	 c, more;

	s = xreallocarray(NULL, n * 7 + 1, 1);
	for (i = 0; i < n; i++) {
		x = counts[i];
		if (i > 2)
			x -= counts[i - 2];
		do {
			c = (int)(x & 0x1f);
			x >>= 5;	/* arithmetic: keeps the sign */
			more = (c & 0x10) ? x != -1 : x != 0;
			if (more)
				c |= 0x20;
			s[len++] = (char)(c + 48);
		} while (more);
	}
	s[len] = '\0';
	return (s);
}

/* Parse a pycocotools counts string; *counts is malloc'd. */
int
mask_rle_from_string(const char *s, uint32_t **counts, size_t *n,
    char **cause)
{
	uint32_t	*c;
	size_t		 m = 0, len = strlen(s), p = 0;
	int64_t		 x;
	int		 k, more, v;

	c = xreallocarray(NULL, len + 1, sizeof *c);
	while (p < len) {
		x = 0;
		k = 0;
		do {
			v = (unsigned char)s[p] - 48;
			if (v < 0 || v > 63 || k > 6) {
				free(c);
				return (set_cause(cause, "bad RLE string at "
				    "character %zu", p));
			}
			x |= (int64_t)(v & 0x1f) << (5 * k);
			more = v & 0x20;
			p++;
			k++;
			if (!more && (v & 0x10))
				x |= -((int64_t)1 << (5 * k));
			if (more && p == len) {
				free(c);
				return (set_cause(cause, "RLE string ends "
				    "inside a number"));
			}
		} while (more);
		if (m > 2)
			x += c[m - 2];
		if (x < 0 || x > UINT32_MAX) {
			free(c);
			return (set_cause(cause, "bad RLE count %jd",
			    (intmax_t)x));
		}
		c[m++] = (uint32_t)x;
	}
	*counts = c;
	*n = m;
	return (0);
}
