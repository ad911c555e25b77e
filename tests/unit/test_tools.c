/* Unit tests for ui/tools.c: brush, stroke, fill, undo/redo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ui.h"

#define V MASK_VOID

/* A w x h mask of MASK_VOID. */
static uint8_t *
void_mask(int w, int h)
{
	uint8_t	*m;

	m = xmalloc((size_t)w * h);
	memset(m, V, (size_t)w * h);
	return (m);
}

/* Compare a mask with a picture: '.' void, digits class. */
static void
assert_picture(const uint8_t *m, int w, int h, const char *pic)
{
	int	i;

	assert_int_equal(strlen(pic), (size_t)w * h);
	for (i = 0; i < w * h; i++) {
		if (pic[i] == '.')
			assert_int_equal(m[i], V);
		else
			assert_int_equal(m[i], pic[i] - '0');
	}
}

static void
stamp_radius_zero_is_one_pixel(void **state)
{
	uint8_t	*m = void_mask(3, 3);

	assert_int_equal(tools_stamp(m, 3, 3, 1, 1, 0, 2), 1);
	assert_picture(m, 3, 3, "..." ".2." "...");
	free(m);
}

static void
stamp_radius_one_is_a_plus(void **state)
{
	uint8_t	*m = void_mask(5, 5);

	assert_int_equal(tools_stamp(m, 5, 5, 2, 2, 1, 1), 5);
	assert_picture(m, 5, 5,
	    "....."
	    "..1.."
	    ".111."
	    "..1.."
	    ".....");
	free(m);
}

static void
stamp_radius_two_is_a_disc_of_thirteen(void **state)
{
	uint8_t	*m = void_mask(5, 5);

	assert_int_equal(tools_stamp(m, 5, 5, 2, 2, 2, 3), 13);
	assert_picture(m, 5, 5,
	    "..3.."
	    ".333."
	    "33333"
	    ".333."
	    "..3..");
	/* Painting the same again changes nothing. */
	assert_int_equal(tools_stamp(m, 5, 5, 2, 2, 2, 3), 0);
	free(m);
}

static void
stamp_is_clipped_at_the_edges(void **state)
{
	uint8_t	*m = void_mask(4, 3);

	assert_int_equal(tools_stamp(m, 4, 3, 0, 0, 2, 1), 6);
	assert_picture(m, 4, 3,
	    "111."
	    "11.."
	    "1...");
	/* Wholly outside: nothing, and no write out of bounds. */
	assert_int_equal(tools_stamp(m, 4, 3, -5, 10, 2, 1), 0);
	free(m);
}

static void
eraser_paints_void(void **state)
{
	uint8_t	*m = void_mask(3, 1);

	tools_line(m, 3, 1, 0, 0, 2, 0, 0, 4);
	assert_int_equal(tools_stamp(m, 3, 1, 1, 0, 0, V), 1);
	assert_picture(m, 3, 1, "4.4");
	free(m);
}

static void
line_includes_both_ends(void **state)
{
	uint8_t	*m = void_mask(6, 1);

	assert_int_equal(tools_line(m, 6, 1, 1, 0, 4, 0, 0, 1), 4);
	assert_picture(m, 6, 1, ".1111.");
	free(m);
}

static void
line_diagonal_is_one_pixel_per_step(void **state)
{
	uint8_t	*m = void_mask(4, 4);

	assert_int_equal(tools_line(m, 4, 4, 3, 3, 0, 0, 0, 1), 4);
	assert_picture(m, 4, 4,
	    "1..."
	    ".1.."
	    "..1."
	    "...1");
	free(m);
}

static void
line_shallow_steps_like_bresenham(void **state)
{
	uint8_t	*m = void_mask(5, 3);

	tools_line(m, 5, 3, 0, 0, 4, 2, 0, 1);
	assert_picture(m, 5, 3,
	    "1...."
	    ".11.."
	    "...11");
	free(m);
}

static void
line_with_radius_sweeps_the_disc(void **state)
{
	uint8_t	*m = void_mask(7, 3);

	assert_int_equal(tools_line(m, 7, 3, 1, 1, 5, 1, 1, 2), 17);
	assert_picture(m, 7, 3,
	    ".22222."
	    "2222222"
	    ".22222.");
	free(m);
}

static void
line_of_one_point_is_a_stamp(void **state)
{
	uint8_t	*a = void_mask(5, 5), *b = void_mask(5, 5);

	tools_line(a, 5, 5, 2, 2, 2, 2, 2, 1);
	tools_stamp(b, 5, 5, 2, 2, 2, 1);
	assert_memory_equal(a, b, 25);
	free(a);
	free(b);
}

static void
fill_stops_at_other_values_four_connected(void **state)
{
	uint8_t	m[25];

	/* The 1 ring has a diagonal gap at the bottom right corner. */
	memcpy(m, (uint8_t []){
	    V, V, V, V, V,
	    V, 1, 1, 1, V,
	    V, 1, V, 1, V,
	    V, 1, 1, V, V,
	    V, V, V, V, V }, 25);
	assert_int_equal(tools_fill(m, 5, 5, 2, 2, 2), 1);
	assert_picture(m, 5, 5,
	    "....."
	    ".111."
	    ".121."
	    ".11.."
	    ".....");
	/* Outside the ring: every void pixel, through the gap too. */
	assert_int_equal(tools_fill(m, 5, 5, 0, 0, 3), 17);
	assert_picture(m, 5, 5,
	    "33333"
	    "31113"
	    "31213"
	    "31133"
	    "33333");
}

static void
fill_on_a_class_replaces_that_region_only(void **state)
{
	uint8_t	m[8] = { 1, 1, 2, 1, 1, 1, 2, 1 };

	assert_int_equal(tools_fill(m, 4, 2, 0, 0, V), 4);
	assert_picture(m, 4, 2, "..21" "..21");
	assert_int_equal(tools_fill(m, 4, 2, 2, 0, 2), 0);
	assert_int_equal(tools_fill(m, 4, 2, 9, 0, 2), 0);
}

static void
fill_void_tile_labels_it_all(void **state)
{
	uint8_t	*m = void_mask(512, 512);
	size_t	 counts[256];

	assert_int_equal(tools_fill(m, 512, 512, 300, 7, 0), 512 * 512);
	tools_count(m, 512, 512, counts);
	assert_int_equal(counts[0], 512 * 512);
	assert_int_equal(counts[V], 0);
	free(m);
}

static void
fill_follows_a_long_maze(void **state)
{
	int	 w = 256, h = 256, x, y;
	uint8_t	*m = void_mask(w, h);
	size_t	 counts[256], want;

	/* Walls on every other row, open at alternating ends: a serpent. */
	for (y = 1; y < h; y += 2)
		for (x = 0; x < w; x++)
			if (!(y % 4 == 1 ? x == w - 1 : x == 0))
				m[y * w + x] = 1;
	tools_count(m, w, h, counts);
	want = counts[V];
	assert_int_equal(tools_fill(m, w, h, 0, 0, 5), want);
	tools_count(m, w, h, counts);
	assert_int_equal(counts[V], 0);
	free(m);
}

static void
undo_and_redo_restore_each_stroke(void **state)
{
	struct tools_undo	*u = tools_undo_new(0);
	uint8_t			*m = void_mask(8, 8), *snap = void_mask(8, 8);
	uint8_t			*s1, *s2;

	tools_line(m, 8, 8, 0, 0, 7, 0, 0, 1);
	assert_int_equal(tools_undo_push(u, snap, m, 8, 8), 1);
	s1 = xmalloc(64);
	memcpy(s1, m, 64);
	memcpy(snap, m, 64);
	tools_fill(m, 8, 8, 3, 3, 2);
	assert_int_equal(tools_undo_push(u, snap, m, 8, 8), 1);
	s2 = xmalloc(64);
	memcpy(s2, m, 64);

	assert_true(tools_undo(u, m, 8, 8));
	assert_memory_equal(m, s1, 64);
	assert_true(tools_undo(u, m, 8, 8));
	assert_picture(m, 8, 8, "................................"
	    "................................");
	assert_false(tools_undo(u, m, 8, 8));
	assert_true(tools_redo(u, m, 8, 8));
	assert_memory_equal(m, s1, 64);
	assert_true(tools_redo(u, m, 8, 8));
	assert_memory_equal(m, s2, 64);
	assert_false(tools_redo(u, m, 8, 8));
	tools_undo_free(u);
	free(m);
	free(snap);
	free(s1);
	free(s2);
}

static void
undo_keeps_only_the_changed_rectangle(void **state)
{
	struct tools_undo	*u = tools_undo_new(0);
	uint8_t			*m = void_mask(100, 100), *snap;

	snap = void_mask(100, 100);
	tools_line(m, 100, 100, 10, 20, 13, 21, 0, 1);
	assert_int_equal(tools_undo_push(u, snap, m, 100, 100), 1);
	assert_int_equal(tools_undo_bytes(u), 2 * 4 * 2);
	/* No change, no entry. */
	assert_int_equal(tools_undo_push(u, m, m, 100, 100), 0);
	assert_int_equal(tools_undo_bytes(u), 16);
	tools_undo_free(u);
	free(m);
	free(snap);
}

/* Undo and redo touch only the pixels the change made: another expert's
 * pixels inside its rectangle stay. */
static void
undo_leaves_other_pixels_in_the_rectangle(void **state)
{
	struct tools_undo	*u = tools_undo_new(0);
	uint8_t			*m = void_mask(10, 10), *snap;

	snap = void_mask(10, 10);
	m[0] = 1;
	m[99] = 1;
	assert_int_equal(tools_undo_push(u, snap, m, 10, 10), 1);
	m[55] = 4;			/* merged in from someone else */
	assert_true(tools_undo(u, m, 10, 10));
	assert_int_equal(m[0], MASK_VOID);
	assert_int_equal(m[99], MASK_VOID);
	assert_int_equal(m[55], 4);
	assert_true(tools_redo(u, m, 10, 10));
	assert_int_equal(m[0], 1);
	assert_int_equal(m[99], 1);
	assert_int_equal(m[55], 4);
	tools_undo_free(u);
	free(m);
	free(snap);
}

static void
a_new_change_drops_the_redo_branch(void **state)
{
	struct tools_undo	*u = tools_undo_new(0);
	uint8_t			*m = void_mask(4, 1), *snap = void_mask(4, 1);

	tools_stamp(m, 4, 1, 0, 0, 0, 1);
	tools_undo_push(u, snap, m, 4, 1);
	memcpy(snap, m, 4);
	tools_stamp(m, 4, 1, 1, 0, 0, 1);
	tools_undo_push(u, snap, m, 4, 1);
	tools_undo(u, m, 4, 1);
	memcpy(snap, m, 4);
	tools_stamp(m, 4, 1, 3, 0, 0, 2);
	tools_undo_push(u, snap, m, 4, 1);
	assert_false(tools_can_redo(u));
	assert_false(tools_redo(u, m, 4, 1));
	assert_picture(m, 4, 1, "1..2");
	tools_undo(u, m, 4, 1);
	tools_undo(u, m, 4, 1);
	assert_picture(m, 4, 1, "....");
	assert_false(tools_can_undo(u));
	tools_undo_free(u);
	free(m);
	free(snap);
}

static void
undo_memory_is_bounded_dropping_the_oldest(void **state)
{
	struct tools_undo	*u = tools_undo_new(1000);
	uint8_t			*m = void_mask(100, 100), *snap;
	int			 i, undone = 0;

	snap = void_mask(100, 100);
	/* Each change repaints the whole mask: 20000 bytes, over the
	 * limit of 1000 on its own. */
	for (i = 0; i < 20; i++) {
		memcpy(snap, m, 10000);
		tools_fill(m, 100, 100, 0, 0, i % 2);
		tools_undo_push(u, snap, m, 100, 100);
		assert_true(tools_undo_bytes(u) <= 20000);
	}
	/* The newest change is kept even though it exceeds the limit. */
	while (tools_undo(u, m, 100, 100))
		undone++;
	assert_int_equal(undone, 1);
	assert_int_equal(m[0], 0);

	tools_undo_clear(u);
	assert_int_equal(tools_undo_bytes(u), 0);
	for (i = 0; i < 20; i++) {
		memcpy(snap, m, 10000);
		tools_stamp(m, 100, 100, 5 + 10 * (i % 10), 5 + 10 * (i / 10),
		    0, 9);
		tools_undo_push(u, snap, m, 100, 100);
		assert_true(tools_undo_bytes(u) <= 1000);
	}
	undone = 0;
	while (tools_undo(u, m, 100, 100))
		undone++;
	/* Single pixels cost 2 bytes each: all 20 fit. */
	assert_int_equal(undone, 20);
	tools_undo_free(u);
	free(m);
	free(snap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stamp_radius_zero_is_one_pixel),
		cmocka_unit_test(stamp_radius_one_is_a_plus),
		cmocka_unit_test(stamp_radius_two_is_a_disc_of_thirteen),
		cmocka_unit_test(stamp_is_clipped_at_the_edges),
		cmocka_unit_test(eraser_paints_void),
		cmocka_unit_test(line_includes_both_ends),
		cmocka_unit_test(line_diagonal_is_one_pixel_per_step),
		cmocka_unit_test(line_shallow_steps_like_bresenham),
		cmocka_unit_test(line_with_radius_sweeps_the_disc),
		cmocka_unit_test(line_of_one_point_is_a_stamp),
		cmocka_unit_test(fill_stops_at_other_values_four_connected),
		cmocka_unit_test(fill_on_a_class_replaces_that_region_only),
		cmocka_unit_test(fill_void_tile_labels_it_all),
		cmocka_unit_test(fill_follows_a_long_maze),
		cmocka_unit_test(undo_and_redo_restore_each_stroke),
		cmocka_unit_test(undo_keeps_only_the_changed_rectangle),
		cmocka_unit_test(undo_leaves_other_pixels_in_the_rectangle),
		cmocka_unit_test(a_new_change_drops_the_redo_branch),
		cmocka_unit_test(undo_memory_is_bounded_dropping_the_oldest),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
