/* Unit tests for compose.c: exact pixels of small synthetic tiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ui.h"

#define T	4		/* the small tile is T x T */

static uint8_t	tile[T * T * 3];
static uint8_t	grey[T * T * 3];
static uint8_t	mask[T * T];
static struct classes cl;

static int
setup(void **state)
{
	int	i;

	/* Each tile pixel a distinct colour: (10x, 10y, 7). */
	for (i = 0; i < T * T; i++) {
		tile[i * 3] = (uint8_t)(10 * (i % T));
		tile[i * 3 + 1] = (uint8_t)(10 * (i / T));
		tile[i * 3 + 2] = 7;
	}
	memset(grey, 100, sizeof grey);
	/* Left two columns class 0, the rest not labelled. */
	for (i = 0; i < T * T; i++)
		mask[i] = (i % T) < 2 ? 0 : MASK_VOID;
	memset(&cl, 0, sizeof cl);
	cl.n = 2;
	cl.c[0].rgb[0] = 200;
	cl.c[1].rgb[2] = 250;
	return (0);
}

static void
view_init(struct view *v, const uint8_t *rgb)
{
	memset(v, 0, sizeof *v);
	v->rgb = rgb;
	v->w = v->h = T;
	v->cl = &cl;
	v->opacity = 0.5f;
	v->cur_x = v->cur_y = -1;
}

static void
assert_px(const struct frame *fr, int x, int y, int r, int g, int b)
{
	const uint8_t	*p = fr->rgb + ((size_t)y * fr->w + x) * 3;

	if (p[0] != r || p[1] != g || p[2] != b) {
		print_error("pixel (%d,%d) is %d,%d,%d, wanted %d,%d,%d\n",
		    x, y, p[0], p[1], p[2], r, g, b);
		fail();
	}
}

static void
fit_scales_by_whole_pixels(void **state)
{
	struct view	v;
	struct frame	fr = { .w = 10, .h = 8 };
	int		x, y;

	view_init(&v, tile);
	compose(&v, &fr);
	assert_true(fr.scale == 2.0f);
	for (y = 0; y < 8; y++) {
		for (x = 0; x < 8; x++)
			assert_px(&fr, x, y, 10 * (x / 2), 10 * (y / 2), 7);
		/* Beyond the tile: the background. */
		assert_px(&fr, 8, y, 24, 24, 24);
		assert_px(&fr, 9, y, 24, 24, 24);
	}
	frame_free(&fr);
}

static void
fit_shrinks_a_large_tile(void **state)
{
	struct view	v;
	struct frame	fr = { .w = 2, .h = 2 };

	view_init(&v, tile);
	compose(&v, &fr);
	assert_true(fr.scale == 0.5f);
	assert_px(&fr, 1, 1, 20, 20, 7);
	assert_px(&fr, 1, 0, 20, 0, 7);
	frame_free(&fr);
}

static void
zoom_pans_and_clamps(void **state)
{
	struct view	v;
	struct frame	fr = { .w = 4, .h = 4 };
	int		tx, ty;

	view_init(&v, tile);
	v.zoom = 2;
	v.pan_x = 5;		/* too far right: clamped to 2 */
	v.pan_y = 1;
	compose(&v, &fr);
	assert_true(fr.scale == 2.0f);
	assert_int_equal(fr.ox, 2);
	assert_int_equal(fr.oy, 1);
	assert_px(&fr, 0, 0, 20, 10, 7);
	assert_px(&fr, 3, 3, 30, 20, 7);
	assert_int_equal(compose_to_tile(&fr, &v, 3, 1, &tx, &ty), 0);
	assert_int_equal(tx, 3);
	assert_int_equal(ty, 1);
	v.zoom = 4;
	v.pan_x = v.pan_y = -3;
	compose(&v, &fr);
	assert_int_equal(fr.ox, 0);
	assert_int_equal(fr.oy, 0);
	assert_px(&fr, 3, 3, 0, 0, 7);
	frame_free(&fr);
}

static void
to_tile_maps_back_and_refuses_outside(void **state)
{
	struct view	v;
	struct frame	fr = { .w = 10, .h = 8 };
	int		tx = -7, ty = -7;

	view_init(&v, tile);
	compose(&v, &fr);
	assert_int_equal(compose_to_tile(&fr, &v, 5, 3, &tx, &ty), 0);
	assert_int_equal(tx, 2);
	assert_int_equal(ty, 1);
	assert_int_equal(compose_to_tile(&fr, &v, 7, 7, &tx, &ty), 0);
	assert_int_equal(tx, 3);
	assert_int_equal(ty, 3);
	assert_int_equal(compose_to_tile(&fr, &v, 8, 0, &tx, &ty), -1);
	assert_int_equal(compose_to_tile(&fr, &v, -1, 0, &tx, &ty), -1);
	assert_int_equal(compose_to_tile(&fr, &v, 0, 8, &tx, &ty), -1);
	frame_free(&fr);
}

/*
 * Grey 100 under class 0 (200,0,0) at opacity 0.5: the fill is
 * (100 * 128 + 200 * 128) >> 8 = 150 and 50, 50.  The class is dark, so
 * its outline is lighter, (227,127,127), at alpha 192: 195 and 120.
 */
static void
mask_fill_outline_and_void(void **state)
{
	struct view	v;
	struct frame	fr = { .w = T, .h = T };
	int		y;

	view_init(&v, grey);
	v.mask = mask;
	v.show = SHOW_LABEL;
	compose(&v, &fr);
	for (y = 0; y < T; y++) {
		assert_px(&fr, 0, y, 150, 50, 50);
		assert_px(&fr, 1, y, 195, 120, 120);	/* next to void */
		assert_px(&fr, 2, y, 100, 100, 100);	/* void: unchanged */
		assert_px(&fr, 3, y, 100, 100, 100);
	}

	/* Hidden: the tile alone. */
	v.show = 0;
	compose(&v, &fr);
	assert_px(&fr, 0, 0, 100, 100, 100);
	assert_px(&fr, 1, 0, 100, 100, 100);
	frame_free(&fr);
}

static void
outline_stays_one_pixel_wide_when_zoomed(void **state)
{
	struct view	v;
	struct frame	fr = { .w = 2 * T, .h = 2 * T };
	int		y;

	view_init(&v, grey);
	v.mask = mask;
	v.show = SHOW_LABEL;
	compose(&v, &fr);
	for (y = 0; y < 2 * T; y++) {
		assert_px(&fr, 0, y, 150, 50, 50);
		assert_px(&fr, 2, y, 150, 50, 50);
		assert_px(&fr, 3, y, 195, 120, 120);
		assert_px(&fr, 4, y, 100, 100, 100);
	}
	frame_free(&fr);
}

static void
boundary_between_two_classes(void **state)
{
	struct view	v;
	struct frame	fr = { .w = T, .h = T };
	uint8_t		m[T * T];
	int		i;

	/* Top half class 0, bottom half class 1 (0,0,250: dark, so a
	 * lighter outline, (127,127,252)). */
	for (i = 0; i < T * T; i++)
		m[i] = i < T * T / 2 ? 0 : 1;
	view_init(&v, grey);
	v.mask = m;
	v.show = SHOW_LABEL;
	compose(&v, &fr);
	assert_px(&fr, 0, 0, 150, 50, 50);
	assert_px(&fr, 0, 1, 195, 120, 120);
	assert_px(&fr, 0, 2, (100 * 64 + 127 * 192) >> 8,
	    (100 * 64 + 127 * 192) >> 8, (100 * 64 + 252 * 192) >> 8);
	assert_px(&fr, 0, 3, 50, 50, (100 * 128 + 250 * 128) >> 8);
	frame_free(&fr);
}

static void
prediction_under_label_at_half_opacity(void **state)
{
	struct view	v;
	struct frame	fr = { .w = T, .h = T };
	uint8_t		pred[T * T];

	memset(pred, 0, sizeof pred);
	view_init(&v, grey);
	v.opacity = 1.0f;
	v.pred = pred;
	v.show = SHOW_PRED;
	compose(&v, &fr);
	/* Prediction alone: full opacity inside, no class change. */
	assert_px(&fr, 1, 1, 200, 0, 0);

	v.mask = mask;
	v.show = SHOW_LABEL|SHOW_PRED;
	compose(&v, &fr);
	assert_px(&fr, 0, 1, 200, 0, 0);		/* label */
	assert_px(&fr, 3, 1, 150, 50, 50);		/* prediction, a/2 */
	/* Label and prediction of one class: no boundary between. */
	assert_px(&fr, 1, 1, 200, 0, 0);
	frame_free(&fr);
}

static void
bad_mask_values_show_as_void(void **state)
{
	struct view	v;
	struct frame	fr = { .w = T, .h = T };
	uint8_t		m[T * T];

	memset(m, 77, sizeof m);
	view_init(&v, grey);
	v.mask = m;
	v.show = SHOW_LABEL;
	v.opacity = 1.0f;
	compose(&v, &fr);
	assert_px(&fr, 2, 2, 100, 100, 100);
	frame_free(&fr);
}

static void
cursor_circle_and_crosshair_contrast(void **state)
{
	struct view	v;
	struct frame	fr = { .w = 16, .h = 16 };
	uint8_t		black[16 * 16 * 3], white[16 * 16 * 3];

	memset(black, 0, sizeof black);
	memset(white, 255, sizeof white);
	view_init(&v, black);
	v.w = v.h = 16;
	v.cur_x = v.cur_y = 8;
	v.brush = 1;		/* radius 1.5 px: a circle of radius 2 */
	compose(&v, &fr);
	assert_px(&fr, 8, 8, 0, 0, 0);		/* the pixel itself shows */
	assert_px(&fr, 10, 8, 255, 255, 255);	/* circle */
	assert_px(&fr, 8, 6, 255, 255, 255);
	assert_px(&fr, 11, 8, 0, 0, 0);		/* gap */
	assert_px(&fr, 12, 8, 255, 255, 255);	/* arm */
	assert_px(&fr, 8, 4, 255, 255, 255);
	assert_px(&fr, 11, 11, 0, 0, 0);

	v.rgb = white;
	compose(&v, &fr);
	assert_px(&fr, 10, 8, 0, 0, 0);
	assert_px(&fr, 10, 9, 0, 0, 0);

	/* Outside the tile: no cursor. */
	v.cur_x = -1;
	compose(&v, &fr);
	assert_px(&fr, 10, 8, 255, 255, 255);
	frame_free(&fr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fit_scales_by_whole_pixels),
		cmocka_unit_test(fit_shrinks_a_large_tile),
		cmocka_unit_test(zoom_pans_and_clamps),
		cmocka_unit_test(to_tile_maps_back_and_refuses_outside),
		cmocka_unit_test(mask_fill_outline_and_void),
		cmocka_unit_test(outline_stays_one_pixel_wide_when_zoomed),
		cmocka_unit_test(boundary_between_two_classes),
		cmocka_unit_test(prediction_under_label_at_half_opacity),
		cmocka_unit_test(bad_mask_values_show_as_void),
		cmocka_unit_test(cursor_circle_and_crosshair_contrast),
	};

	return (cmocka_run_group_tests(tests, setup, NULL));
}
