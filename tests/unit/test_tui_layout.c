/*
 * Unit tests for ui/tui-draw.c's layout and mouse mapping, without a
 * terminal: LINES and COLS are set by hand.  The image must never reach the
 * two bottom rows (the message and status lines; an image on the last row
 * scrolls the screen), must stay left of the panel, and must have a height
 * its renderer can draw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curses.h>

#include "tui-int.h"

static void
setup_tui(struct tui *tui, int graphics, int w, int h, int cw, int ch)
{
	memset(tui, 0, sizeof *tui);
	tui->graphics = graphics;
	tui->term.cell_w = cw;
	tui->term.cell_h = ch;
	tui->v.w = w;
	tui->v.h = h;
}

static void
check_layout(struct tui *tui)
{
	struct tui_layout	*l = &tui->lay;
	int			 cw, ch;

	cw = tui->graphics == GRAPHICS_SIXEL ? tui->term.cell_w : 1;
	ch = tui->graphics == GRAPHICS_SIXEL ? tui->term.cell_h : 2;
	if (l->rows < 3) {
		assert_int_equal(tui->fr.h, 0);
		return;
	}
	assert_true(l->img_row >= 0);
	assert_true(l->img_col >= 0);
	assert_true(l->img_row + l->img_rows <= l->rows - 2);
	assert_true(l->img_col + l->img_cols <= l->area_cols);
	assert_true(tui->fr.w <= l->img_cols * cw);
	assert_true(tui->fr.h <= l->img_rows * ch);
	if (tui->graphics == GRAPHICS_SIXEL)
		assert_int_equal(tui->fr.h % 6, 0);
	else
		assert_int_equal(tui->fr.h % 2, 0);
	if (l->panel_w > 0)
		assert_true(l->area_cols < l->panel_col);
}

static void
small_tile_is_drawn_at_an_integer_scale(void **state)
{
	struct tui	tui;

	LINES = 30;
	COLS = 100;
	setup_tui(&tui, GRAPHICS_BLOCKS, 64, 48, 0, 0);
	tui_draw_layout(&tui);
	assert_int_equal(tui.fr.w, 64);
	assert_int_equal(tui.fr.h, 48);
	assert_int_equal(tui.lay.img_col, 2);
	assert_int_equal(tui.lay.img_row, 2);
	assert_int_equal(tui.lay.panel_w, 30);
	check_layout(&tui);

	setup_tui(&tui, GRAPHICS_SIXEL, 64, 48, 10, 20);
	tui_draw_layout(&tui);
	assert_int_equal(tui.fr.w, 640);
	assert_int_equal(tui.fr.h, 480);
	check_layout(&tui);
}

static void
image_never_reaches_the_bottom_rows(void **state)
{
	static const int	 sizes[][2] = {
		{ 64, 48 }, { 256, 256 }, { 512, 512 }, { 250, 100 },
		{ 100, 250 }, { 1, 1 },
	};
	static const int	 cells[][2] = {
		{ 10, 20 }, { 7, 13 }, { 9, 17 }
	};
	struct tui		 tui;
	size_t			 s, c;
	int			 zoom;

	for (LINES = 1; LINES <= 70; LINES += 3) {
		for (COLS = 1; COLS <= 240; COLS += 23) {
			for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
				for (zoom = 0; zoom <= 4; zoom += 2) {
					setup_tui(&tui, GRAPHICS_BLOCKS,
					    sizes[s][0], sizes[s][1], 0, 0);
					tui.v.zoom = zoom;
					tui_draw_layout(&tui);
					check_layout(&tui);
					for (c = 0; c < 3; c++) {
						setup_tui(&tui, GRAPHICS_SIXEL,
						    sizes[s][0], sizes[s][1],
						    cells[c][0], cells[c][1]);
						tui.v.zoom = zoom;
						tui_draw_layout(&tui);
						check_layout(&tui);
					}
				}
			}
		}
	}
}

static void
narrow_screen_has_no_panel(void **state)
{
	struct tui	tui;

	LINES = 24;
	COLS = 60;
	setup_tui(&tui, GRAPHICS_BLOCKS, 64, 48, 0, 0);
	tui_draw_layout(&tui);
	assert_int_equal(tui.lay.panel_w, 0);
	assert_int_equal(tui.lay.area_cols, 60);
	check_layout(&tui);
}

/* Compose a 64x48 tile and map mouse reports back to tile pixels. */
static void
mouse_maps_to_the_pixel_under_it(void **state)
{
	struct tui	 tui;
	struct classes	 cl;
	uint8_t		*rgb, *mask;
	struct tui_mouse m;
	int		 x, y;

	memset(&cl, 0, sizeof cl);
	cl.n = 1;
	rgb = xcalloc(64 * 48, 3);
	mask = xmalloc(64 * 48);
	memset(mask, MASK_VOID, 64 * 48);
	LINES = 30;
	COLS = 100;

	/* Sixel, 10x20 cells, pixel reports: tile pixel = frame / 10. */
	setup_tui(&tui, GRAPHICS_SIXEL, 64, 48, 10, 20);
	tui.pixel_mouse = 1;
	tui.rgb = rgb;
	tui.v.rgb = rgb;
	tui.mask = mask;
	tui.v.cl = &cl;
	tui_draw_layout(&tui);
	tui_draw_compose(&tui);
	memset(&m, 0, sizeof m);
	m.x = tui.lay.img_col * 10 + 10 * 10 + 3;
	m.y = tui.lay.img_row * 20 + 7 * 10 + 9;
	assert_int_equal(tui_draw_mouse_to_tile(&tui, &m, 0, &x, &y), 0);
	assert_int_equal(x, 10);
	assert_int_equal(y, 7);
	m.x = 0;
	assert_int_equal(tui_draw_mouse_to_tile(&tui, &m, 0, &x, &y), -1);
	/* A drag off the image stops at its edge: left, right, below. */
	assert_int_equal(tui_draw_mouse_to_tile(&tui, &m, 1, &x, &y), 0);
	assert_int_equal(x, 0);
	assert_int_equal(y, 7);
	m.x = 99 * 10;
	m.y = 29 * 20;
	assert_int_equal(tui_draw_mouse_to_tile(&tui, &m, 1, &x, &y), 0);
	assert_int_equal(x, 63);
	assert_int_equal(y, 47);
	frame_free(&tui.fr);
	buf_free(&tui.img);

	/* Blocks, cell reports: cell (c, r) is pixel (c - 2, 2 (r - 2) + 1). */
	setup_tui(&tui, GRAPHICS_BLOCKS, 64, 48, 0, 0);
	tui.rgb = rgb;
	tui.v.rgb = rgb;
	tui.mask = mask;
	tui.v.cl = &cl;
	tui_draw_layout(&tui);
	tui_draw_compose(&tui);
	m.x = 10;
	m.y = 5;
	assert_int_equal(tui_draw_mouse_to_tile(&tui, &m, 0, &x, &y), 0);
	assert_int_equal(x, 8);
	assert_int_equal(y, 7);
	m.y = 27;
	assert_int_equal(tui_draw_mouse_to_tile(&tui, &m, 0, &x, &y), -1);
	frame_free(&tui.fr);
	buf_free(&tui.img);
	free(rgb);
	free(mask);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_tile_is_drawn_at_an_integer_scale),
		cmocka_unit_test(image_never_reaches_the_bottom_rows),
		cmocka_unit_test(narrow_screen_has_no_panel),
		cmocka_unit_test(mouse_maps_to_the_pixel_under_it),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
