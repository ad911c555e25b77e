/*
 * Pictures in and out: JPEG and PNG decoding to 8-bit RGB, JPEG encoding of
 * re-encoded tiles, and lossless JPEG crops.
 *
 * Decoding uses the libjpeg API of libjpeg-turbo rather than TurboJPEG's
 * one-call decoder for three reasons: libjpeg only warns on truncated or
 * corrupt entropy data and fills the rest with grey, and we must tell those
 * warnings (which make the picture wrong) from harmless ones (an unknown
 * JFIF revision); four-component JPEGs need the Adobe marker to know whether
 * CMYK is stored inverted; and the EXIF orientation lives in APP1.
 *
 * Every JPEG is decoded without fancy upsampling and without block
 * smoothing.  Both blend pixels across MCU boundaries, so with them a tile
 * cut losslessly from a scene would decode differently at its borders from
 * the same region of the whole scene.  With them off, a lossless crop is
 * pixel-identical to its region, which is what import promises.
 */
#include <sys/types.h>

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <turbojpeg.h>

#include "s4lab.h"
#include "image-int.h"

/* The largest file image_read will read. */
#define IMAGE_MAX_FILE	(1024UL * 1024 * 1024)

struct jpeg_fail {
	struct jpeg_error_mgr	 pub;
	jmp_buf			 jmp;
	int			 finishing;
	char			 why[JMSG_LENGTH_MAX + 64];
};

static const uint8_t png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
    0x1a, '\n' };

/* What the bytes are: IMAGE_JPEG, IMAGE_PNG or IMAGE_UNKNOWN. */
int
image_sniff(const void *buf, size_t len)
{
	const uint8_t	*p = buf;

	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return (IMAGE_JPEG);
	if (len >= 8 && memcmp(p, png_magic, 8) == 0)
		return (IMAGE_PNG);
	return (IMAGE_UNKNOWN);
}

/* What a file name claims: IMAGE_JPEG, IMAGE_PNG or IMAGE_UNKNOWN. */
int
image_kind_of_name(const char *path)
{
	const char	*dot, *slash;

	dot = strrchr(path, '.');
	slash = strrchr(path, '/');
	if (dot == NULL || (slash != NULL && dot < slash))
		return (IMAGE_UNKNOWN);
	if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 ||
	    strcasecmp(dot, ".jpe") == 0 || strcasecmp(dot, ".jfif") == 0)
		return (IMAGE_JPEG);
	if (strcasecmp(dot, ".png") == 0)
		return (IMAGE_PNG);
	return (IMAGE_UNKNOWN);
}

static const char *
image_kind_name(int kind)
{
	switch (kind) {
	case IMAGE_JPEG:
		return ("JPEG");
	case IMAGE_PNG:
		return ("PNG");
	}
	return ("unknown");
}

/* Free an image's pixels; the struct may be reused. */
void
image_free(struct image *img)
{
	free(img->rgb);
	img->rgb = NULL;
	img->w = img->h = 0;
}

/* ------------------------------------------------------------------ */
/* EXIF orientation. */

static unsigned
exif_u16(const uint8_t *p, int be)
{
	return (be ? (p[0] << 8 | p[1]) : (p[1] << 8 | p[0]));
}

static uint32_t
exif_u32(const uint8_t *p, int be)
{
	if (be)
		return ((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]);
	return ((uint32_t)p[3] << 24 | p[2] << 16 | p[1] << 8 | p[0]);
}

/*
 * The orientation tag (1-8) of an APP1 Exif segment's first IFD, 0 when
 * there is none or the segment is malformed.  Every offset is checked
 * against the segment's length.
 */
int
image_exif_orientation(const uint8_t *p, size_t len)
{
	uint32_t	 ifd;
	unsigned	 n, i, tag, type, v;
	const uint8_t	*t, *e;
	size_t		 tlen;
	int		 be;

	if (len < 6 + 8 || memcmp(p, "Exif\0\0", 6) != 0)
		return (0);
	t = p + 6;
	tlen = len - 6;
	if (memcmp(t, "II*\0", 4) == 0)
		be = 0;
	else if (memcmp(t, "MM\0*", 4) == 0)
		be = 1;
	else
		return (0);
	ifd = exif_u32(t + 4, be);
	if (ifd < 8 || ifd > tlen - 2)
		return (0);
	n = exif_u16(t + ifd, be);
	for (i = 0; i < n; i++) {
		if ((size_t)ifd + 2 + (size_t)(i + 1) * 12 > tlen)
			return (0);
		e = t + ifd + 2 + i * 12;
		tag = exif_u16(e, be);
		type = exif_u16(e + 2, be);
		if (tag != 0x0112)
			continue;
		if (type != 3 || exif_u32(e + 4, be) != 1)
			return (0);
		v = exif_u16(e + 8, be);
		return (v >= 1 && v <= 8 ? (int)v : 0);
	}
	return (0);
}

/*
 * Turn img as stored into img as shown for EXIF orientation o.  For each
 * pixel of the result, (sx, sy) is where it comes from in the stored image.
 */
void
image_orient(struct image *img, int o)
{
	uint8_t		*out;
	int		 w = img->w, h = img->h, ow, oh, ox, oy, sx, sy;

	if (o <= 1 || o > 8)
		return;
	ow = (o >= 5) ? h : w;
	oh = (o >= 5) ? w : h;
	out = xreallocarray(NULL, (size_t)ow * oh, 3);
	for (oy = 0; oy < oh; oy++) {
		for (ox = 0; ox < ow; ox++) {
			switch (o) {
			case 2:		/* mirrored left to right */
				sx = w - 1 - ox; sy = oy;
				break;
			case 3:		/* turned 180 degrees */
				sx = w - 1 - ox; sy = h - 1 - oy;
				break;
			case 4:		/* mirrored top to bottom */
				sx = ox; sy = h - 1 - oy;
				break;
			case 5:		/* transposed */
				sx = oy; sy = ox;
				break;
			case 6:		/* to be turned 90 degrees clockwise */
				sx = oy; sy = h - 1 - ox;
				break;
			case 7:		/* transversed */
				sx = w - 1 - oy; sy = h - 1 - ox;
				break;
			default:	/* 8: to be turned 90 anticlockwise */
				sx = w - 1 - oy; sy = ox;
				break;
			}
			memcpy(out + ((size_t)oy * ow + ox) * 3,
			    img->rgb + ((size_t)sy * w + sx) * 3, 3);
		}
	}
	free(img->rgb);
	img->rgb = out;
	img->w = ow;
	img->h = oh;
}

/* ------------------------------------------------------------------ */
/* JPEG decoding. */

static void
jpeg_fail_exit(j_common_ptr ci)
{
	struct jpeg_fail	*jf = (struct jpeg_fail *)ci->err;
	char			 msg[JMSG_LENGTH_MAX];

	(*ci->err->format_message)(ci, msg);
	snprintf(jf->why, sizeof jf->why, "not a valid JPEG (%s)", msg);
	longjmp(jf->jmp, 1);
}

/*
 * libjpeg's warnings.  Those that mean pixels are missing or wrong stop
 * the decoding: libjpeg would go on and paint the rest grey.  Once every
 * row is out, what is left to read (a missing EOI, junk before it) can no
 * longer change the picture, and is only logged.
 */
static void
jpeg_fail_message(j_common_ptr ci, int level)
{
	struct jpeg_fail	*jf = (struct jpeg_fail *)ci->err;
	char			 msg[JMSG_LENGTH_MAX];
	const char		*what;

	if (level != -1)
		return;
	(*ci->err->format_message)(ci, msg);
	switch (ci->err->msg_code) {
	case JWRN_JPEG_EOF:
		what = "truncated: the data ends before the picture is "
		    "complete";
		break;
	case JWRN_HIT_MARKER:
	case JWRN_HUFF_BAD_CODE:
	case JWRN_ARITH_BAD_CODE:
	case JWRN_MUST_RESYNC:
	case JWRN_EXTRANEOUS_DATA:
	case JWRN_BOGUS_PROGRESSION:
	case JWRN_NOT_SEQUENTIAL:
		what = "corrupt: the compressed data is damaged";
		break;
	default:
		log_debug(LOG_IMPORT, "JPEG warning ignored: %s", msg);
		return;
	}
	if (jf->finishing) {
		log_debug(LOG_IMPORT, "JPEG warning after the last row: %s",
		    msg);
		return;
	}
	snprintf(jf->why, sizeof jf->why, "%s (%s)", what, msg);
	longjmp(jf->jmp, 1);
}

/* Convert one row of CMYK (inverted as Adobe writes it, or not) to RGB. */
static void
jpeg_cmyk_row(const uint8_t *in, uint8_t *out, int w, int inverted)
{
	int	 x, i, k, v;

	for (x = 0; x < w; x++, in += 4, out += 3) {
		k = inverted ? in[3] : 255 - in[3];
		for (i = 0; i < 3; i++) {
			v = inverted ? in[i] : 255 - in[i];
			out[i] = (uint8_t)((v * k + 127) / 255);
		}
	}
}

/* The orientation from the first APP1 Exif marker libjpeg saved. */
static int
jpeg_orientation(struct jpeg_decompress_struct *ci)
{
	jpeg_saved_marker_ptr	 m;
	int			 o;

	for (m = ci->marker_list; m != NULL; m = m->next) {
		if (m->marker != JPEG_APP0 + 1)
			continue;
		if ((o = image_exif_orientation(m->data,
		    m->data_length)) != 0)
			return (o);
	}
	return (1);
}

/* The body of jpeg_decode, between setjmp and the clean-up. */
static void
jpeg_decode_rows(struct jpeg_decompress_struct *ci, struct image *img,
    uint8_t *row4)
{
	JSAMPROW	 rows[1];
	int		 inverted = ci->saw_Adobe_marker;

	while (ci->output_scanline < ci->output_height) {
		rows[0] = img->rgb + (size_t)ci->output_scanline * img->w * 3;
		if (row4 != NULL)
			rows[0] = row4;
		jpeg_read_scanlines(ci, rows, 1);
		if (row4 != NULL) {
			jpeg_cmyk_row(row4, img->rgb +
			    (size_t)(ci->output_scanline - 1) * img->w * 3,
			    img->w, inverted);
		}
	}
}

/*
 * Decode a JPEG into img (stored orientation) and fill info.  The header
 * alone decides whether the picture is too large: nothing is allocated for
 * a file that claims more than max_pixels.
 */
static int
jpeg_decode(const char *name, const uint8_t *buf, size_t len,
    uint64_t max_pixels, struct image *img, struct image_info *info,
    char **cause)
{
	struct jpeg_decompress_struct	 ci;
	struct jpeg_fail		 jf;
	uint8_t *volatile		 row4 = NULL;
	uint64_t			 pixels;
	char				 b1[32], b2[32];
	int				 cmyk;

	memset(img, 0, sizeof *img);
	memset(&jf, 0, sizeof jf);
	ci.err = jpeg_std_error(&jf.pub);
	jf.pub.error_exit = jpeg_fail_exit;
	jf.pub.emit_message = jpeg_fail_message;
	if (setjmp(jf.jmp) != 0) {
		jpeg_destroy_decompress(&ci);
		free(row4);
		image_free(img);
		return (set_cause(cause, "%s: %s", name, jf.why));
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, buf, len);
	jpeg_save_markers(&ci, JPEG_APP0 + 1, 0xffff);
	jpeg_read_header(&ci, TRUE);

	pixels = (uint64_t)ci.image_width * ci.image_height;
	if (pixels > max_pixels) {
		jpeg_destroy_decompress(&ci);
		return (set_cause(cause, "%s: %ux%u is %s, more than the "
		    "limit of %s (--max-pixels)", name, ci.image_width,
		    ci.image_height, pixels_text(pixels, b1, sizeof b1),
		    pixels_text(max_pixels, b2, sizeof b2)));
	}

	info->format = IMAGE_JPEG;
	info->orientation = jpeg_orientation(&ci);
	info->gray = (ci.jpeg_color_space == JCS_GRAYSCALE);
	cmyk = (ci.jpeg_color_space == JCS_CMYK ||
	    ci.jpeg_color_space == JCS_YCCK);
	info->cmyk = cmyk;
	if (ci.num_components == 1) {
		info->mcu_w = info->mcu_h = DCTSIZE;
	} else {
		info->mcu_w = ci.max_h_samp_factor * DCTSIZE;
		info->mcu_h = ci.max_v_samp_factor * DCTSIZE;
	}

	ci.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
	ci.do_fancy_upsampling = FALSE;
	ci.do_block_smoothing = FALSE;
	ci.dct_method = JDCT_ISLOW;
	jpeg_start_decompress(&ci);
	if (ci.output_components != (cmyk ? 4 : 3))
		ERREXIT(&ci, JERR_BAD_J_COLORSPACE);

	img->w = ci.output_width;
	img->h = ci.output_height;
	img->rgb = xreallocarray(NULL, (size_t)img->w * img->h, 3);
	if (cmyk)
		row4 = xreallocarray(NULL, img->w, 4);
	jpeg_decode_rows(&ci, img, row4);

	jf.finishing = 1;
	jpeg_finish_decompress(&ci);
	jpeg_destroy_decompress(&ci);
	free(row4);
	return (0);
}

/* ------------------------------------------------------------------ */
/* PNG decoding. */

static void
png_fail_error(png_structp p, png_const_charp msg)
{
	struct png_fail	*pf = png_get_error_ptr(p);

	snprintf(pf->why, sizeof pf->why, "%s", msg);
	png_longjmp(p, 1);
}

static void
png_fail_warning(png_structp p, png_const_charp msg)
{
	log_debug(LOG_IMPORT, "PNG warning: %s", msg);
}

static void
png_fail_read(png_structp p, png_bytep out, size_t n)
{
	struct png_fail	*pf = png_get_io_ptr(p);

	if (n > pf->len - pf->off)
		png_error(p, "truncated: the data ends early");
	memcpy(out, pf->buf + pf->off, n);
	pf->off += n;
}

/*
 * A libpng reader over a buffer, its errors caught in pf.  Used by
 * png_decode here and by the mask reader (maskio.c).
 */
void
image_png_open(struct png_fail *pf, const uint8_t *buf, size_t len,
    png_structp *pp, png_infop *ip)
{
	memset(pf, 0, sizeof *pf);
	pf->buf = buf;
	pf->len = len;
	*pp = png_create_read_struct(PNG_LIBPNG_VER_STRING, pf,
	    png_fail_error, png_fail_warning);
	if (*pp == NULL)
		fatalx("png_create_read_struct failed");
	*ip = png_create_info_struct(*pp);
	if (*ip == NULL)
		fatalx("png_create_info_struct failed");
	png_set_read_fn(*pp, pf, png_fail_read);
}

/* Decode a PNG of any colour type to 8-bit RGB; alpha is dropped. */
static int
png_decode(const char *name, const uint8_t *buf, size_t len,
    uint64_t max_pixels, struct image *img, struct image_info *info,
    char **cause)
{
	struct png_fail		 pf;
	png_structp		 p;
	png_infop		 pi;
	png_bytep *volatile	 rows = NULL;
	png_uint_32		 w, h, y;
	char			 b1[32], b2[32];
	int			 depth, ct;

	memset(img, 0, sizeof *img);
	image_png_open(&pf, buf, len, &p, &pi);
	if (setjmp(png_jmpbuf(p)) != 0) {
		png_destroy_read_struct(&p, &pi, NULL);
		free(rows);
		image_free(img);
		return (set_cause(cause, "%s: not a valid PNG (%s)", name,
		    pf.why));
	}
	png_read_info(p, pi);
	png_get_IHDR(p, pi, &w, &h, &depth, &ct, NULL, NULL, NULL);
	if ((uint64_t)w * h > max_pixels) {
		png_destroy_read_struct(&p, &pi, NULL);
		return (set_cause(cause, "%s: %ux%u is %s, more than the "
		    "limit of %s (--max-pixels)", name, w, h,
		    pixels_text((uint64_t)w * h, b1, sizeof b1),
		    pixels_text(max_pixels, b2, sizeof b2)));
	}
	info->format = IMAGE_PNG;
	info->orientation = 1;
	info->gray = !(ct & PNG_COLOR_MASK_COLOR);
	info->mcu_w = info->mcu_h = 0;

	if (ct == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(p);
	if (ct == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(p);
	if (depth == 16)
		png_set_scale_16(p);
	if ((ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(p, pi, PNG_INFO_tRNS))
		png_set_strip_alpha(p);
	if (!(ct & PNG_COLOR_MASK_COLOR))
		png_set_gray_to_rgb(p);
	png_set_interlace_handling(p);
	png_read_update_info(p, pi);
	if (png_get_rowbytes(p, pi) != (size_t)w * 3)
		png_error(p, "unexpected row size after conversion to RGB");

	img->w = w;
	img->h = h;
	img->rgb = xreallocarray(NULL, (size_t)w * h, 3);
	rows = xreallocarray(NULL, h, sizeof *rows);
	for (y = 0; y < h; y++)
		rows[y] = img->rgb + (size_t)y * w * 3;
	png_read_image(p, rows);

	png_destroy_read_struct(&p, &pi, NULL);
	free(rows);
	return (0);
}

/* ------------------------------------------------------------------ */
/* Decoding, whatever the format. */

/*
 * Decode buf (the contents of the file called name) into img, as shown:
 * the EXIF orientation is applied.  info says what the file was.  The
 * format is found from the bytes; a name whose extension claims the other
 * format is refused, since such a file was mislabelled by someone.
 */
int
image_decode(const char *name, const void *buf, size_t len,
    uint64_t max_pixels, struct image *img, struct image_info *info,
    char **cause)
{
	int	 kind, claimed;

	memset(img, 0, sizeof *img);
	memset(info, 0, sizeof *info);
	if (len == 0)
		return (set_cause(cause, "%s: empty file", name));
	kind = image_sniff(buf, len);
	claimed = image_kind_of_name(name);
	if (kind == IMAGE_UNKNOWN) {
		return (set_cause(cause, "%s: not a JPEG or PNG file%s", name,
		    claimed != IMAGE_UNKNOWN ? " (the data does not start "
		    "as one)" : ""));
	}
	if (claimed != IMAGE_UNKNOWN && claimed != kind) {
		return (set_cause(cause, "%s: %s data under a %s name; "
		    "rename the file", name, image_kind_name(kind),
		    image_kind_name(claimed)));
	}

	if (kind == IMAGE_JPEG) {
		if (jpeg_decode(name, buf, len, max_pixels, img, info,
		    cause) != 0)
			return (-1);
	} else {
		if (png_decode(name, buf, len, max_pixels, img, info,
		    cause) != 0)
			return (-1);
	}
	info->stored_w = img->w;
	info->stored_h = img->h;
	if (info->orientation != 1) {
		log_debug(LOG_IMPORT, "%s: EXIF orientation %d applied", name,
		    info->orientation);
		image_orient(img, info->orientation);
	}
	info->w = img->w;
	info->h = img->h;
	return (0);
}

/* Read and decode a file; see image_decode. */
int
image_read(const char *path, uint64_t max_pixels, struct image *img,
    struct image_info *info, char **cause)
{
	unsigned char	*buf;
	size_t		 len;
	int		 rc;

	memset(img, 0, sizeof *img);
	if ((buf = read_file(path, &len, IMAGE_MAX_FILE, cause)) == NULL)
		return (-1);
	rc = image_decode(path, buf, len, max_pixels, img, info, cause);
	free(buf);
	return (rc);
}

/* ------------------------------------------------------------------ */
/* JPEG encoding and lossless crops. */

/* Copy a TurboJPEG buffer into a malloc'd one, which callers free(). */
static unsigned char *
image_tj_copy(unsigned char *tjbuf, unsigned long len)
{
	unsigned char	*out;

	out = xmalloc(len == 0 ? 1 : len);
	memcpy(out, tjbuf, len);
	tjFree(tjbuf);
	return (out);
}

/* Whether every pixel of a region is grey (R = G = B). */
static int
image_region_gray(const struct image *img, int x, int y, int w, int h)
{
	const uint8_t	*p;
	int		 i, j;

	for (j = 0; j < h; j++) {
		p = img->rgb + ((size_t)(y + j) * img->w + x) * 3;
		for (i = 0; i < w; i++, p += 3) {
			if (p[0] != p[1] || p[1] != p[2])
				return (0);
		}
	}
	return (1);
}

/*
 * Encode the region (x, y, w, h) of img as a JPEG of the given quality,
 * in 4:4:4, or grayscale when the region is grey.  *out is malloc'd.
 */
int
image_encode_jpeg(const struct image *img, int x, int y, int w, int h,
    int quality, unsigned char **out, size_t *outlen, char **cause)
{
	tjhandle	 tj;
	unsigned char	*tjbuf = NULL;
	unsigned long	 len = 0;
	int		 samp;

	if (x < 0 || y < 0 || w < 1 || h < 1 || x > img->w - w ||
	    y > img->h - h)
		fatalx("%s: region %d,%d %dx%d outside %dx%d", __func__, x, y,
		    w, h, img->w, img->h);
	if ((tj = tjInitCompress()) == NULL)
		fatalx("tjInitCompress: %s", tjGetErrorStr2(NULL));
	samp = image_region_gray(img, x, y, w, h) ? TJSAMP_GRAY : TJSAMP_444;
	if (tjCompress2(tj, img->rgb + ((size_t)y * img->w + x) * 3, w,
	    img->w * 3, h, TJPF_RGB, &tjbuf, &len, samp, quality,
	    TJFLAG_ACCURATEDCT) != 0) {
		set_cause(cause, "JPEG encoding failed: %s",
		    tjGetErrorStr2(tj));
		tjFree(tjbuf);
		tjDestroy(tj);
		return (-1);
	}
	tjDestroy(tj);
	*out = image_tj_copy(tjbuf, len);
	*outlen = len;
	return (0);
}

/*
 * Cut n regions out of a JPEG without decoding it: the DCT coefficients
 * are copied, so each piece decodes to exactly the pixels of its region.
 * Each region must start on the file's MCU grid (image_info's mcu_w,
 * mcu_h).  outs[i] are malloc'd; on failure none is left allocated.
 */
int
image_crop_jpeg(const char *name, const void *buf, size_t len,
    const struct image_rect *r, int n, unsigned char **outs,
    size_t *lens, char **cause)
{
	tjhandle	 tj;
	tjtransform	*xf;
	unsigned char	**bufs;
	unsigned long	*sizes;
	int		 i, rc = -1;

	if (n == 0)
		return (0);
	if ((tj = tjInitTransform()) == NULL)
		fatalx("tjInitTransform: %s", tjGetErrorStr2(NULL));
	xf = xcalloc(n, sizeof *xf);
	bufs = xcalloc(n, sizeof *bufs);
	sizes = xcalloc(n, sizeof *sizes);
	for (i = 0; i < n; i++) {
		xf[i].r.x = r[i].x;
		xf[i].r.y = r[i].y;
		xf[i].r.w = r[i].w;
		xf[i].r.h = r[i].h;
		xf[i].op = TJXOP_NONE;
		xf[i].options = TJXOPT_CROP|TJXOPT_PERFECT|TJXOPT_COPYNONE;
	}
	if (tjTransform(tj, buf, len, n, bufs, sizes, xf,
	    TJFLAG_STOPONWARNING) != 0) {
		set_cause(cause, "%s: lossless crop failed: %s", name,
		    tjGetErrorStr2(tj));
		for (i = 0; i < n; i++)
			tjFree(bufs[i]);
		goto out;
	}
	for (i = 0; i < n; i++) {
		lens[i] = sizes[i];
		outs[i] = image_tj_copy(bufs[i], sizes[i]);
	}
	rc = 0;
out:
	tjDestroy(tj);
	free(xf);
	free(bufs);
	free(sizes);
	return (rc);
}
