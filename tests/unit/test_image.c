/* Unit tests for image.c: decoding, orientation, encoding, lossless crops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>

#include "s4lab.h"

#define CASES	S4LAB_SRCDIR "/tests/data/cases/"
#define SAMPLES	S4LAB_SRCDIR "/samples/images/"

static void
decode_ok(const char *path, struct image *img, struct image_info *info)
{
	char	*cause = NULL;

	if (image_read(path, IMAGE_MAX_PIXELS, img, info, &cause) != 0)
		fail_msg("%s", cause);
}

/* The error for a file, which must name it and contain want. */
static void
decode_fails(const char *path, const char *want)
{
	struct image		 img;
	struct image_info	 info;
	char			*cause = NULL;

	assert_int_equal(image_read(path, IMAGE_MAX_PIXELS, &img, &info,
	    &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, path) == NULL || strstr(cause, want) == NULL)
		fail_msg("%s: wanted \"%s\" in: %s", path, want, cause);
	assert_null(img.rgb);
	free(cause);
}

/* Mean of one channel over a quadrant (q: 0 TL, 1 TR, 2 BL, 3 BR). */
static double
quadrant_mean(const struct image *img, int q, int ch)
{
	int	 x0 = (q & 1) * img->w / 2, y0 = (q >> 1) * img->h / 2;
	int	 x, y, n = 0;
	double	 s = 0;

	/* Leave a margin: the edges between quadrants ring. */
	for (y = y0 + img->h / 8; y < y0 + img->h / 2 - img->h / 8; y++) {
		for (x = x0 + img->w / 8; x < x0 + img->w / 2 - img->w / 8;
		    x++, n++)
			s += img->rgb[((size_t)y * img->w + x) * 3 + ch];
	}
	return (s / n);
}

static void
cmyk_and_ycck_have_the_expected_colours(void **state)
{
	struct image		 want, img;
	struct image_info	 info;
	const char		*files[] = { CASES "C01-cmyk-adobe.jpg",
				    CASES "C01-ycck.jpg" };
	int			 f, q, ch;
	double			 d;

	decode_ok(CASES "C01-expected-rgb.png", &want, &info);
	for (f = 0; f < 2; f++) {
		decode_ok(files[f], &img, &info);
		assert_true(info.cmyk);
		assert_int_equal(img.w, want.w);
		assert_int_equal(img.h, want.h);
		for (q = 0; q < 4; q++) {
			for (ch = 0; ch < 3; ch++) {
				d = quadrant_mean(&img, q, ch) -
				    quadrant_mean(&want, q, ch);
				if (d > 12 || d < -12)
					fail_msg("%s quadrant %d channel %d "
					    "off by %.1f", files[f], q, ch, d);
			}
		}
		image_free(&img);
	}
	image_free(&want);
}

static void
arithmetic_and_progressive_decode_identically(void **state)
{
	struct image		 a, b;
	struct image_info	 info;
	const char		*files[] = { CASES "C03-arith.jpg",
				    CASES "C03-arith-progressive.jpg" };
	int			 f;

	decode_ok(CASES "C03-huffman.jpg", &a, &info);
	for (f = 0; f < 2; f++) {
		decode_ok(files[f], &b, &info);
		assert_int_equal(a.w, b.w);
		assert_int_equal(a.h, b.h);
		assert_memory_equal(a.rgb, b.rgb, (size_t)a.w * a.h * 3);
		image_free(&b);
	}
	image_free(&a);
}

static void
damaged_files_are_refused_with_their_reason(void **state)
{
	decode_fails(CASES "C06-truncated-half.jpg", "truncated");
	decode_fails(CASES "C06-truncated-progressive.jpg", "truncated");
	decode_fails(CASES "C06-corrupt-middle.jpg", "corrupt");
	decode_fails(CASES "C06-empty.jpg", "empty file");
	decode_fails(CASES "C06-png-named-jpg.jpg", "PNG data under a JPEG");
}

static void
a_bomb_is_refused_from_its_header(void **state)
{
	double	 t = now_seconds();

	decode_fails(CASES "C07-bomb-65500x65500.jpg", "65500x65500");
	decode_fails(CASES "C07-bomb-65500x65500.jpg", "limit of 100.0");
	assert_true(now_seconds() - t < 1.0);
}

static void
the_pixel_limit_is_the_callers(void **state)
{
	struct image		 img;
	struct image_info	 info;
	char			*cause = NULL;

	/* 1000x700 is 0.7 megapixels: refused under 0.5, taken at 0.7. */
	assert_int_equal(image_read(CASES "C09-gray-scene-1000x700.jpg",
	    500000, &img, &info, &cause), -1);
	assert_non_null(strstr(cause, "1000x700"));
	free(cause);
	decode_ok(CASES "C09-gray-scene-1000x700.jpg", &img, &info);
	image_free(&img);
	assert_int_equal(image_read(CASES "C09-gray-scene-1000x700.jpg",
	    700000, &img, &info, NULL), 0);
	image_free(&img);
}

static void
one_pixel_sides_decode(void **state)
{
	struct image		 img;
	struct image_info	 info;

	decode_ok(CASES "C08-1x1.jpg", &img, &info);
	assert_int_equal(img.w * img.h, 1);
	image_free(&img);
	decode_ok(CASES "C08-1x600.jpg", &img, &info);
	assert_int_equal(img.w, 1);
	assert_int_equal(img.h, 600);
	image_free(&img);
	decode_ok(CASES "C08-600x1.jpg", &img, &info);
	assert_int_equal(img.w, 600);
	assert_int_equal(img.h, 1);
	image_free(&img);
}

static void
gray_stays_gray(void **state)
{
	struct image		 img;
	struct image_info	 info;
	size_t			 i;

	decode_ok(CASES "C09-gray-320x240.jpg", &img, &info);
	assert_true(info.gray);
	assert_int_equal(info.mcu_w, 8);
	assert_int_equal(info.mcu_h, 8);
	for (i = 0; i < (size_t)img.w * img.h; i++) {
		assert_int_equal(img.rgb[i * 3], img.rgb[i * 3 + 1]);
		assert_int_equal(img.rgb[i * 3], img.rgb[i * 3 + 2]);
	}
	image_free(&img);
}

static void
mcu_sizes_follow_subsampling(void **state)
{
	struct image		 img;
	struct image_info	 info;

	decode_ok(CASES "C09-s411-520x360.jpg", &img, &info);
	assert_int_equal(info.mcu_w, 32);
	assert_int_equal(info.mcu_h, 8);
	image_free(&img);
	decode_ok(CASES "C09-s440-520x360.jpg", &img, &info);
	assert_int_equal(info.mcu_w, 8);
	assert_int_equal(info.mcu_h, 16);
	image_free(&img);
	decode_ok(SAMPLES "tile1_image_part_001.jpg", &img, &info);
	assert_int_equal(info.mcu_w, 16);
	assert_int_equal(info.mcu_h, 16);
	image_free(&img);
}

/*
 * Cut a file into tiles of size ts (on its MCU grid, so every one is
 * lossless) and check each decodes to exactly its region of the scene.
 */
static void
crop_matches(const char *path, int ts)
{
	struct image		 img, t;
	struct image_info	 info, tinfo;
	struct image_rect	 r[256];
	unsigned char		*buf, *outs[256];
	size_t			 len, lens[256];
	char			*cause = NULL;
	int			 n = 0, x, y, i, row;

	buf = read_file(path, &len, 0, &cause);
	assert_non_null(buf);
	decode_ok(path, &img, &info);
	assert_int_equal(ts % info.mcu_w, 0);
	assert_int_equal(ts % info.mcu_h, 0);
	for (y = 0; y < img.h; y += ts) {
		for (x = 0; x < img.w; x += ts, n++) {
			assert_true(n < 256);
			r[n].x = x;
			r[n].y = y;
			r[n].w = img.w - x < ts ? img.w - x : ts;
			r[n].h = img.h - y < ts ? img.h - y : ts;
		}
	}
	if (image_crop_jpeg(path, buf, len, r, n, outs, lens, &cause) != 0)
		fail_msg("%s", cause);
	for (i = 0; i < n; i++) {
		if (image_decode("tile.jpg", outs[i], lens[i],
		    IMAGE_MAX_PIXELS, &t, &tinfo, &cause) != 0)
			fail_msg("%s tile %d: %s", path, i, cause);
		assert_int_equal(t.w, r[i].w);
		assert_int_equal(t.h, r[i].h);
		for (row = 0; row < t.h; row++) {
			if (memcmp(t.rgb + (size_t)row * t.w * 3, img.rgb +
			    ((size_t)(r[i].y + row) * img.w + r[i].x) * 3,
			    (size_t)t.w * 3) != 0)
				fail_msg("%s: tile at %d,%d differs in row "
				    "%d", path, r[i].x, r[i].y, row);
		}
		image_free(&t);
		free(outs[i]);
	}
	image_free(&img);
	free(buf);
}

static void
lossless_crops_equal_their_region(void **state)
{
	crop_matches(CASES "C09-gray-scene-1000x700.jpg", 256);
	crop_matches(CASES "C09-s411-520x360.jpg", 128);
	crop_matches(CASES "C09-s440-520x360.jpg", 128);
	crop_matches(CASES "C03-arith.jpg", 64);
	crop_matches(CASES "C03-arith-progressive.jpg", 64);
	crop_matches(SAMPLES "tile1_image_part_001.jpg", 256);
	crop_matches(SAMPLES "tile2_image_part_002.jpg", 128);
}

static void
a_crop_off_the_mcu_grid_is_refused(void **state)
{
	struct image_rect	 r = { 8, 0, 64, 64 };
	unsigned char		*buf, *out = NULL;
	size_t			 len, olen;
	char			*cause = NULL;

	buf = read_file(SAMPLES "tile1_image_part_001.jpg", &len, 0, &cause);
	assert_non_null(buf);
	assert_int_equal(image_crop_jpeg("x.jpg", buf, len, &r, 1, &out,
	    &olen, &cause), -1);
	assert_non_null(strstr(cause, "x.jpg"));
	assert_null(out);
	free(cause);
	free(buf);
}

/* A 48x32 picture: red, green / blue, white quadrants of 24x16. */
static void
four_colours(struct image *img)
{
	static const uint8_t	 c[4][3] = { { 255, 0, 0 }, { 0, 255, 0 },
				    { 0, 0, 255 }, { 255, 255, 255 } };
	int			 x, y, q;

	img->w = 48;
	img->h = 32;
	img->rgb = xmalloc(48 * 32 * 3);
	for (y = 0; y < 32; y++) {
		for (x = 0; x < 48; x++) {
			q = (x >= 24) + 2 * (y >= 16);
			memcpy(img->rgb + (y * 48 + x) * 3, c[q], 3);
		}
	}
}

/* The colour letter of a pixel: R, G, B, W or '?'. */
static char
colour_at(const struct image *img, int x, int y)
{
	const uint8_t	*p = img->rgb + ((size_t)y * img->w + x) * 3;
	int		 r = p[0] > 128, g = p[1] > 128, b = p[2] > 128;

	if (r && g && b)
		return ('W');
	if (r && !g && !b)
		return ('R');
	if (!r && g && !b)
		return ('G');
	if (!r && !g && b)
		return ('B');
	return ('?');
}

/* A JPEG of four_colours() with an APP1 Exif segment saying o. */
static unsigned char *
jpeg_with_orientation(int o, int big_endian, size_t *len)
{
	struct image	 img;
	unsigned char	*jpeg, *out;
	size_t		 jlen;
	uint8_t		 app1[2 + 2 + 6 + 8 + 2 + 12 + 4];
	uint8_t		*t;

	four_colours(&img);
	assert_int_equal(image_encode_jpeg(&img, 0, 0, 48, 32, 95, &jpeg,
	    &jlen, NULL), 0);
	image_free(&img);

	/* FF E1, length, "Exif\0\0", TIFF header, one IFD entry. */
	memset(app1, 0, sizeof app1);
	app1[0] = 0xff;
	app1[1] = 0xe1;
	app1[3] = sizeof app1 - 2;
	memcpy(app1 + 4, "Exif\0\0", 6);
	t = app1 + 10;
	if (big_endian) {
		memcpy(t, "MM\0*\0\0\0\x08", 8);
		memcpy(t + 8, "\0\x01" "\x01\x12" "\0\x03" "\0\0\0\x01", 10);
		t[18] = 0;
		t[19] = o;
	} else {
		memcpy(t, "II*\0\x08\0\0\0", 8);
		memcpy(t + 8, "\x01\0" "\x12\x01" "\x03\0" "\x01\0\0\0", 10);
		t[18] = o;
		t[19] = 0;
	}
	out = xmalloc(jlen + sizeof app1);
	memcpy(out, jpeg, 2);
	memcpy(out + 2, app1, sizeof app1);
	memcpy(out + 2 + sizeof app1, jpeg + 2, jlen - 2);
	*len = jlen + sizeof app1;
	free(jpeg);
	return (out);
}

static void
exif_orientation_is_applied(void **state)
{
	/* Corners TL, TR, BL, BR as shown, for orientations 1 to 8. */
	static const char	*want[9] = { NULL, "RGBW", "GRWB", "WBGR",
				    "BWRG", "RBGW", "BRWG", "WGBR", "GWRB" };
	struct image		 img;
	struct image_info	 info;
	unsigned char		*buf;
	size_t			 len;
	char			 got[5], *cause = NULL;
	int			 o, be;

	for (be = 0; be < 2; be++) {
		for (o = 1; o <= 8; o++) {
			buf = jpeg_with_orientation(o, be, &len);
			if (image_decode("o.jpg", buf, len, IMAGE_MAX_PIXELS,
			    &img, &info, &cause) != 0)
				fail_msg("%s", cause);
			assert_int_equal(info.orientation, o);
			assert_int_equal(img.w, o >= 5 ? 32 : 48);
			assert_int_equal(img.h, o >= 5 ? 48 : 32);
			got[0] = colour_at(&img, 2, 2);
			got[1] = colour_at(&img, img.w - 3, 2);
			got[2] = colour_at(&img, 2, img.h - 3);
			got[3] = colour_at(&img, img.w - 3, img.h - 3);
			got[4] = '\0';
			if (strcmp(got, want[o]) != 0)
				fail_msg("orientation %d: corners %s, want "
				    "%s", o, got, want[o]);
			image_free(&img);
			free(buf);
		}
	}
}

static void
malformed_exif_is_ignored(void **state)
{
	uint8_t	 b[64];

	memset(b, 0, sizeof b);
	memcpy(b, "Exif\0\0II*\0", 10);
	/* IFD offset past the end. */
	b[10] = 0xf0;
	assert_int_equal(image_exif_orientation(b, sizeof b), 0);
	/* An IFD claiming 0xffff entries in a short segment. */
	b[10] = 8;
	b[14] = 0xff;
	b[15] = 0xff;
	assert_int_equal(image_exif_orientation(b, sizeof b), 0);
	/* Too short to hold a header at all. */
	assert_int_equal(image_exif_orientation(b, 9), 0);
	assert_int_equal(image_exif_orientation((const uint8_t *)"JFIF",
	    4), 0);
}

static void
encoding_round_trips_closely(void **state)
{
	struct image		 img, back;
	struct image_info	 info;
	unsigned char		*jpeg;
	size_t			 len, i;
	int			 d, worst = 0;

	decode_ok(SAMPLES "tile1_image_part_001.jpg", &img, &info);
	/* A region off the MCU grid, with an odd size. */
	assert_int_equal(image_encode_jpeg(&img, 37, 11, 201, 99, 95, &jpeg,
	    &len, NULL), 0);
	assert_int_equal(image_decode("t.jpg", jpeg, len, IMAGE_MAX_PIXELS,
	    &back, &info, NULL), 0);
	assert_int_equal(back.w, 201);
	assert_int_equal(back.h, 99);
	for (i = 0; i < (size_t)back.w * back.h * 3; i++) {
		d = back.rgb[i] - img.rgb[((11 + i / 3 / 201) * img.w + 37 +
		    i / 3 % 201) * 3 + i % 3];
		if (abs(d) > worst)
			worst = abs(d);
	}
	print_message("re-encoded at quality 95: largest difference %d\n",
	    worst);
	assert_true(worst <= 40);
	free(jpeg);
	image_free(&back);
	image_free(&img);
}

static void
gray_regions_encode_as_gray(void **state)
{
	struct image		 img, back;
	struct image_info	 info;
	unsigned char		*jpeg;
	size_t			 len;

	decode_ok(CASES "C09-gray-320x240.jpg", &img, &info);
	assert_int_equal(image_encode_jpeg(&img, 3, 5, 100, 100, 95, &jpeg,
	    &len, NULL), 0);
	assert_int_equal(image_decode("t.jpg", jpeg, len, IMAGE_MAX_PIXELS,
	    &back, &info, NULL), 0);
	assert_true(info.gray);
	free(jpeg);
	image_free(&back);
	image_free(&img);
}

/* Write a small PNG of the given type and depth with libpng. */
static unsigned char *
png_of(int ct, int depth, int w, int h, const uint8_t *samples,
    size_t *len)
{
	FILE		*f;
	char		*buf = NULL;
	size_t		 size = 0;
	png_structp	 p;
	png_infop	 pi;
	png_color	 pal[4] = { { 255, 0, 0 }, { 0, 255, 0 },
			    { 0, 0, 255 }, { 9, 9, 9 } };
	size_t		 rb;
	int		 y;

	f = open_memstream(&buf, &size);
	p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	pi = png_create_info_struct(p);
	png_init_io(p, f);
	png_set_IHDR(p, pi, w, h, depth, ct, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (ct == PNG_COLOR_TYPE_PALETTE)
		png_set_PLTE(p, pi, pal, 4);
	png_write_info(p, pi);
	rb = png_get_rowbytes(p, pi);
	for (y = 0; y < h; y++)
		png_write_row(p, samples + y * rb);
	png_write_end(p, pi);
	png_destroy_write_struct(&p, &pi);
	fclose(f);
	*len = size;
	return ((unsigned char *)buf);
}

static void
png_types_decode_to_rgb(void **state)
{
	/* 2x1 pictures, as raw samples of each type. */
	static const uint8_t	 rgba[] = { 10, 20, 30, 0, 40, 50, 60, 255 };
	static const uint8_t	 gray16[] = { 0x12, 0x34, 0xff, 0xff };
	static const uint8_t	 pal2[] = { 0x24 };	/* 0, 2, 1, 0 */
	static const uint8_t	 ga[] = { 77, 0, 200, 255 };
	struct image		 img;
	struct image_info	 info;
	unsigned char		*png;
	size_t			 len;

	png = png_of(PNG_COLOR_TYPE_RGBA, 8, 2, 1, rgba, &len);
	assert_int_equal(image_decode("a.png", png, len, IMAGE_MAX_PIXELS,
	    &img, &info, NULL), 0);
	assert_memory_equal(img.rgb, "\x0a\x14\x1e\x28\x32\x3c", 6);
	image_free(&img);
	free(png);

	png = png_of(PNG_COLOR_TYPE_GRAY, 16, 2, 1, gray16, &len);
	assert_int_equal(image_decode("a.png", png, len, IMAGE_MAX_PIXELS,
	    &img, &info, NULL), 0);
	assert_true(info.gray);
	/* 0x1234 scaled to 8 bits is 0x12; 0xffff is 0xff. */
	assert_memory_equal(img.rgb, "\x12\x12\x12\xff\xff\xff", 6);
	image_free(&img);
	free(png);

	png = png_of(PNG_COLOR_TYPE_PALETTE, 2, 4, 1, pal2, &len);
	assert_int_equal(image_decode("a.png", png, len, IMAGE_MAX_PIXELS,
	    &img, &info, NULL), 0);
	assert_int_equal(img.w, 4);
	assert_memory_equal(img.rgb, "\xff\0\0\0\0\xff\0\xff\0\xff\0\0", 12);
	image_free(&img);
	free(png);

	png = png_of(PNG_COLOR_TYPE_GRAY_ALPHA, 8, 2, 1, ga, &len);
	assert_int_equal(image_decode("a.png", png, len, IMAGE_MAX_PIXELS,
	    &img, &info, NULL), 0);
	assert_memory_equal(img.rgb, "\x4d\x4d\x4d\xc8\xc8\xc8", 6);
	image_free(&img);

	/* The same bytes cut short are refused, naming the file. */
	assert_int_equal(image_decode("short.png", png, len - 20,
	    IMAGE_MAX_PIXELS, &img, &info, NULL), -1);
	free(png);
}

static void
a_truncated_png_is_refused(void **state)
{
	unsigned char	*buf;
	size_t		 len;
	struct image	 img;
	struct image_info info;
	char		*cause = NULL;

	buf = read_file(S4LAB_SRCDIR "/samples/masks/tile1_image_part_001.png",
	    &len, 0, &cause);
	assert_non_null(buf);
	assert_int_equal(image_decode("cut.png", buf, len / 2,
	    IMAGE_MAX_PIXELS, &img, &info, &cause), -1);
	assert_non_null(strstr(cause, "cut.png"));
	assert_null(img.rgb);
	free(cause);
	/* And a JPEG under a PNG name. */
	free(buf);
	buf = read_file(CASES "C08-1x1.jpg", &len, 0, NULL);
	assert_int_equal(image_decode("x.png", buf, len, IMAGE_MAX_PIXELS,
	    &img, &info, &cause), -1);
	assert_non_null(strstr(cause, "JPEG data under a PNG name"));
	free(cause);
	free(buf);
}

/*
 * Damaged copies of good files: random bytes changed, or the file cut
 * short.  Each must decode or be refused with a cause; never crash, never
 * read outside the buffer (the sanitizer build checks that).
 */
static void
mutated_files_never_crash(void **state)
{
	static const char	*files[] = { CASES "C03-huffman.jpg",
				    CASES "C03-arith-progressive.jpg",
				    CASES "C01-ycck.jpg",
				    CASES "C09-s411-520x360.jpg",
				    CASES "C16-mask-palette-4bit.png",
				    CASES "C01-expected-rgb.png" };
	struct image		 img;
	struct image_info	 info;
	unsigned char		*buf, *copy;
	size_t			 len, cut, f;
	char			*cause;
	int			 i, k, ok = 0, refused = 0;

	srandom(1234);
	for (f = 0; f < sizeof files / sizeof files[0]; f++) {
		assert_non_null(buf = read_file(files[f], &len, 0, NULL));
		copy = xmalloc(len);
		for (i = 0; i < 150; i++) {
			memcpy(copy, buf, len);
			cut = len;
			if (i % 3 == 0)
				cut = 1 + random() % len;
			else {
				for (k = 0; k < 1 + i % 8; k++)
					copy[random() % len] = random();
			}
			cause = NULL;
			if (image_decode(files[f], copy, cut, 4000000, &img,
			    &info, &cause) == 0) {
				assert_non_null(img.rgb);
				assert_true(img.w > 0 && img.h > 0);
				image_free(&img);
				ok++;
			} else {
				assert_non_null(cause);
				assert_null(img.rgb);
				free(cause);
				refused++;
			}
		}
		free(copy);
		free(buf);
	}
	print_message("mutated files: %d decoded, %d refused\n", ok, refused);
	assert_true(refused > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cmyk_and_ycck_have_the_expected_colours),
		cmocka_unit_test(arithmetic_and_progressive_decode_identically),
		cmocka_unit_test(damaged_files_are_refused_with_their_reason),
		cmocka_unit_test(a_bomb_is_refused_from_its_header),
		cmocka_unit_test(the_pixel_limit_is_the_callers),
		cmocka_unit_test(one_pixel_sides_decode),
		cmocka_unit_test(gray_stays_gray),
		cmocka_unit_test(mcu_sizes_follow_subsampling),
		cmocka_unit_test(lossless_crops_equal_their_region),
		cmocka_unit_test(a_crop_off_the_mcu_grid_is_refused),
		cmocka_unit_test(exif_orientation_is_applied),
		cmocka_unit_test(malformed_exif_is_ignored),
		cmocka_unit_test(encoding_round_trips_closely),
		cmocka_unit_test(gray_regions_encode_as_gray),
		cmocka_unit_test(png_types_decode_to_rgb),
		cmocka_unit_test(a_truncated_png_is_refused),
		cmocka_unit_test(mutated_files_never_crash),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
