/*
 * Unit tests for sixel.c and blocks.c: the bytes around the image, and
 * the image itself decoded back by libsixel and compared with the frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sixel.h>

#include "ui.h"
#include "imgio.h"

/* Decode the DCS part of out and return the mean absolute error against
 * fr (per channel), the largest error in *maxerr. */
static double
decode_and_compare(const struct buf *out, const struct frame *fr,
    int want_h, int *maxerr)
{
	unsigned char	*px = NULL, *pal = NULL, *dcs;
	const uint8_t	*f;
	double		 sum = 0;
	int		 w, h, n, x, y, j, e;

	dcs = memmem(out->p, out->len, "\033P", 2);
	assert_non_null(dcs);
	assert_int_equal(sixel_decode_raw(dcs, (int)(out->p + out->len -
	    (char *)dcs), &px, &w, &h, &pal, &n, NULL), SIXEL_OK);
	assert_int_equal(w, fr->w);
	assert_int_equal(h, want_h);
	*maxerr = 0;
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			f = fr->rgb + ((size_t)y * fr->w + x) * 3;
			for (j = 0; j < 3; j++) {
				e = abs(pal[px[y * w + x] * 3 + j] - f[j]);
				sum += e;
				if (e > *maxerr)
					*maxerr = e;
			}
		}
	}
	free(px);
	free(pal);
	return (sum / ((double)w * h * 3));
}

/* A frame of 192 colours, each the centre of its own 5-bit bin. */
static void
small_frame(struct frame *fr, int w, int h)
{
	int	i;

	fr->w = w;
	fr->h = h;
	fr->rgb = xmalloc((size_t)w * h * 3);
	for (i = 0; i < w * h; i++) {
		fr->rgb[i * 3] = (uint8_t)(32 * ((i * 7) % 8) + 4);
		fr->rgb[i * 3 + 1] = (uint8_t)(32 * ((i / w) % 8) + 12);
		fr->rgb[i * 3 + 2] = (uint8_t)(96 * (i % 3) + 4);
	}
}

static void
sixel_framing(struct buf *out, int libsixel)
{
	struct sixel_enc	*se;
	struct frame		 fr;
	int			 maxerr;
	double			 mae;

	small_frame(&fr, 33, 20);
	se = sixel_enc_new();
	sixel_enc_use_libsixel(se, libsixel);
	buf_add(out, "before", 6);
	assert_int_equal(sixel_enc_frame(se, &fr, 2, 4, out), 0);

	/* Saved cursor, moved to row 3 column 5, restored at the end. */
	assert_memory_equal(out->p, "before\0337\033[3;5H\033P", 16);
	assert_memory_equal(out->p + out->len - 4, "\033\\\0338", 4);
	/* No graphics newline before ST: the cursor stays on the image. */
	assert_int_not_equal(out->p[out->len - 5], '-');

	/* 20 rows cut to 18; colours within the palette's percent steps. */
	mae = decode_and_compare(out, &fr, 18, &maxerr);
	print_message("small: mean error %.2f, max %d\n", mae, maxerr);
	assert_true(maxerr <= 2);
	assert_true(mae < 1.0);
	sixel_enc_free(se);
	frame_free(&fr);
}

static void
sixel_own_encoder_round_trips(void **state)
{
	struct buf	out = { 0 };

	sixel_framing(&out, 0);
	buf_free(&out);
}

static void
sixel_libsixel_encoder_round_trips(void **state)
{
	struct buf	out = { 0 };

	sixel_framing(&out, 1);
	buf_free(&out);
}

static void
sixel_refuses_less_than_a_band(void **state)
{
	struct sixel_enc	*se;
	struct frame		 fr;
	struct buf		 out = { 0 };

	small_frame(&fr, 8, 5);
	se = sixel_enc_new();
	assert_int_equal(sixel_enc_frame(se, &fr, 0, 0, &out), -1);
	assert_int_equal(out.len, 0);
	sixel_enc_free(se);
	frame_free(&fr);
}

/* A real aerial tile: the quantisation error stays small. */
static void
sixel_real_tile_within_tolerance(void **state)
{
	struct sixel_enc	*se;
	struct frame		 fr = { 0 };
	struct buf		 out = { 0 };
	char			*cause = NULL;
	int			 w, h, maxerr;
	double			 mae;

	fr.rgb = imgio_load(S4LAB_SRCDIR "/tests/data/aerial-512.jpg", &w,
	    &h, &cause);
	assert_non_null(fr.rgb);
	fr.w = w;
	fr.h = h;
	se = sixel_enc_new();
	assert_int_equal(sixel_enc_frame(se, &fr, 0, 0, &out), 0);
	mae = decode_and_compare(&out, &fr, h - h % 6, &maxerr);
	print_message("aerial-512: mean error %.2f, max %d, %zu bytes\n",
	    mae, maxerr, out.len);
	assert_true(mae < 3.0);
	sixel_enc_free(se);
	buf_free(&out);
	frame_free(&fr);
}

/* Decode a region's image and compare it with the frame at (x, y). */
static void
region_matches(const struct buf *out, const struct frame *fr, int x, int y,
    int w, int h)
{
	struct frame	sub;
	int		j, maxerr;

	sub.w = w;
	sub.h = h;
	sub.rgb = xmalloc((size_t)w * h * 3);
	for (j = 0; j < h; j++) {
		memcpy(sub.rgb + (size_t)j * w * 3, fr->rgb + ((size_t)(y + j) *
		    fr->w + x) * 3, (size_t)w * 3);
	}
	decode_and_compare(out, &sub, h, &maxerr);
	assert_true(maxerr <= 2);
	frame_free(&sub);
}

static void
sixel_region_on_cells_and_bands(void **state)
{
	struct sixel_enc	*se;
	struct frame		 fr;
	struct buf		 out = { 0 };

	small_frame(&fr, 40, 50);	/* drawn: 48 rows */
	se = sixel_enc_new();

	/* Cells of 7x10 at (2, 3): pixels 9..19 x 12..19 -> from cell
	 * (1, 1), 13 wide, 12 high (two bands). */
	assert_int_equal(sixel_enc_region(se, &fr, 2, 3, 7, 10, 9, 12, 20,
	    20, &out), 0);
	assert_memory_equal(out.p, "\0337\033[4;5H\033P", 10);
	region_matches(&out, &fr, 7, 10, 13, 12);

	/* At the bottom: rows 40..47 would need 12; it starts two cells
	 * higher, at 30, with three bands. */
	out.len = 0;
	assert_int_equal(sixel_enc_region(se, &fr, 2, 3, 7, 10, 0, 45, 40,
	    60, &out), 0);
	assert_memory_equal(out.p, "\0337\033[6;4H\033P", 10);
	region_matches(&out, &fr, 0, 30, 40, 18);

	/* Nothing inside the image. */
	out.len = 0;
	assert_int_equal(sixel_enc_region(se, &fr, 0, 0, 7, 10, 5, 48, 9, 50,
	    &out), -1);
	assert_int_equal(out.len, 0);
	sixel_enc_free(se);
	buf_free(&out);
	frame_free(&fr);
}

static void
blocks_exact_bytes(void **state)
{
	struct frame	fr;
	struct buf	out = { 0 };
	uint8_t		px[2 * 3 * 3] = {
		1, 2, 3,	1, 2, 3,
		4, 5, 6,	4, 5, 6,
		9, 9, 9,	9, 9, 9,	/* odd last row: left out */
	};
	const char	*want = "\0337\033[5;3H"
	    "\033[38;2;1;2;3;48;2;4;5;6m\342\226\200\342\226\200"
	    "\033[0m\0338";

	fr.rgb = px;
	fr.w = 2;
	fr.h = 3;
	blocks_encode(&fr, 4, 2, 1, &out);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.p, want, out.len);
	buf_free(&out);
}

static void
blocks_256_colours(void **state)
{
	struct frame	fr;
	struct buf	out = { 0 };
	uint8_t		px[4 * 3] = { 255, 0, 0, 0, 0, 0, 128, 128, 128,
	    255, 255, 255 };
	const uint8_t	black[3] = { 0, 0, 0 }, grey[3] = { 128, 128, 128 };
	const uint8_t	red[3] = { 255, 0, 0 }, blue[3] = { 0, 0, 215 };

	assert_int_equal(blocks_colour256(black), 16);
	assert_int_equal(blocks_colour256(red), 196);
	assert_int_equal(blocks_colour256(grey), 244);
	assert_int_equal(blocks_colour256(blue), 20);
	fr.rgb = px;
	fr.w = 2;
	fr.h = 2;
	blocks_encode(&fr, 0, 0, 0, &out);
	assert_non_null(memmem(out.p, out.len, "\033[38;5;196;48;5;244m",
	    20));
	assert_non_null(memmem(out.p, out.len, "\033[38;5;16;48;5;231m",
	    19));
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sixel_own_encoder_round_trips),
		cmocka_unit_test(sixel_libsixel_encoder_round_trips),
		cmocka_unit_test(sixel_refuses_less_than_a_band),
		cmocka_unit_test(sixel_real_tile_within_tolerance),
		cmocka_unit_test(sixel_region_on_cells_and_bands),
		cmocka_unit_test(blocks_exact_bytes),
		cmocka_unit_test(blocks_256_colours),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
