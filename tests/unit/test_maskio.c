/* Unit tests for maskio.c: mask PNGs in and out, COCO run lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "s4lab.h"

#define CASES	S4LAB_SRCDIR "/tests/data/cases/"
#define SAMPLES	S4LAB_SRCDIR "/samples/masks/"

/* The classes of tests/data/cases/classes-test.json. */
static void
classes_test(struct classes *cl)
{
	static const struct {
		const char	*name;
		uint8_t		 rgb[3];
	} c[] = {
		{ "background", { 0x00, 0x00, 0x00 } },
		{ "building-intact", { 0x00, 0xc8, 0x00 } },
		{ "building-destroyed", { 0xdc, 0x00, 0x00 } },
		{ "water", { 0x00, 0x50, 0xff } },
	};
	int	 i;

	memset(cl, 0, sizeof *cl);
	for (i = 0; i < 4; i++) {
		snprintf(cl->c[i].name, sizeof cl->c[i].name, "%s", c[i].name);
		memcpy(cl->c[i].rgb, c[i].rgb, 3);
		cl->c[i].key = '0' + i;
	}
	cl->n = 4;
	cl->nvoid = 1;
	memcpy(cl->void_rgb[0], "\xe0\xe0\xc0", 3);
}

/* The classes of samples/classes.txt. */
static void
classes_samples(struct classes *cl)
{
	static const uint8_t	 rgb[5][3] = {
		{ 0x84, 0x29, 0xf6 }, { 0x3c, 0x10, 0x98 }, { 0x6e, 0xc1, 0xe4 },
		{ 0xfe, 0xdd, 0x3a }, { 0xe2, 0xa9, 0x29 }
	};
	int			 i;

	memset(cl, 0, sizeof *cl);
	for (i = 0; i < 5; i++)
		memcpy(cl->c[i].rgb, rgb[i], 3);
	cl->n = 5;
	cl->nvoid = 2;
	memcpy(cl->void_rgb[0], "\x9b\x9b\x9b", 3);
	memcpy(cl->void_rgb[1], "\0\0\0", 3);
}

static uint8_t *
read_ok(const char *path, const struct classes *cl, int *w, int *h)
{
	uint8_t	*mask;
	char	*cause = NULL;

	mask = mask_read(path, cl, IMAGE_MAX_PIXELS, w, h, &cause);
	if (mask == NULL)
		fail_msg("%s", cause);
	return (mask);
}

static char *
read_fails(const char *path, const struct classes *cl)
{
	char	*cause = NULL;
	int	 w, h;

	assert_null(mask_read(path, cl, IMAGE_MAX_PIXELS, &w, &h, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, path));
	return (cause);
}

/* The C16 masks are stripes 16 pixels wide: class x / 16. */
static void
assert_stripes(const char *path)
{
	struct classes	 cl;
	uint8_t		*mask;
	int		 w, h, x, y;

	classes_test(&cl);
	mask = read_ok(path, &cl, &w, &h);
	assert_int_equal(w, 64);
	assert_int_equal(h, 48);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			if (mask[y * w + x] != x / 16)
				fail_msg("%s: %d at %d,%d", path,
				    mask[y * w + x], x, y);
		}
	}
	free(mask);
}

static void
rgb_class_colours_map_exactly(void **state)
{
	assert_stripes(CASES "C16-mask-rgb-class-colours.png");
}

static void
a_reordered_full_palette_is_read_by_index(void **state)
{
	assert_stripes(CASES "C16-mask-indices-ok-palette-reordered.png");
}

static void
four_bit_palette_and_sixteen_bit_gray_import(void **state)
{
	assert_stripes(CASES "C16-mask-palette-4bit.png");
	assert_stripes(CASES "C16-mask-gray16.png");
}

static void
unknown_colours_are_listed(void **state)
{
	struct classes	 cl;
	char		*cause;

	classes_test(&cl);
	cause = read_fails(CASES "C16-mask-rgb-unknown-colours.png", &cl);
	assert_non_null(strstr(cause, "4 colours of no class"));
	assert_non_null(strstr(cause, "#3C1098 (768 px, first at x="));
	assert_non_null(strstr(cause, "#8429F6 (768 px"));
	assert_non_null(strstr(cause, "#9B9B9B (768 px"));
	assert_non_null(strstr(cause, "#E2A929 (768 px"));
	assert_non_null(strstr(cause, "classes file"));
	free(cause);
}

static void
void_is_kept_as_is(void **state)
{
	struct classes	 cl;
	uint8_t		*mask;
	int		 w, h, i, n[256];

	classes_test(&cl);
	mask = read_ok(CASES "C21-mask-void.png", &cl, &w, &h);
	memset(n, 0, sizeof n);
	for (i = 0; i < w * h; i++)
		n[mask[i]]++;
	assert_int_equal(n[0], 768);
	assert_int_equal(n[1], 768);
	assert_int_equal(n[2], 384);
	assert_int_equal(n[255], 1152);
	assert_int_equal(n[0] + n[1] + n[2] + n[255], w * h);
	free(mask);
}

static void
bad_indices_are_named_with_counts(void **state)
{
	struct classes	 cl;
	char		*cause;

	classes_test(&cl);
	cause = read_fails(CASES "C21-mask-bad-index.png", &cl);
	assert_non_null(strstr(cause, "9 (16 px, first at x="));
	assert_non_null(strstr(cause, "254 (4 px, first at x="));
	assert_non_null(strstr(cause, "0 to 3"));
	free(cause);
}

static void
non_png_masks_are_refused(void **state)
{
	struct classes	 cl;
	char		*cause;

	classes_test(&cl);
	cause = read_fails(CASES "C08-1x1.jpg", &cl);
	assert_non_null(strstr(cause, "not a PNG"));
	free(cause);
	cause = read_fails(CASES "C06-empty.jpg", &cl);
	assert_non_null(strstr(cause, "empty"));
	free(cause);
}

/*
 * Real masks against the per-class pixel counts the dataset's manifest
 * gives: a 4-bit palette mask whose palette order is its own, and an RGB
 * one.  Order: land, building, road, vegetation, water, not labelled.
 */
static void
count_classes(const char *path, const int *want)
{
	struct classes	 cl;
	uint8_t		*mask;
	int		 w, h, i, n[256];

	classes_samples(&cl);
	mask = read_ok(path, &cl, &w, &h);
	memset(n, 0, sizeof n);
	for (i = 0; i < w * h; i++)
		n[mask[i]]++;
	for (i = 0; i < 5; i++) {
		if (n[i] != want[i])
			fail_msg("%s: class %d has %d px, want %d", path, i,
			    n[i], want[i]);
	}
	assert_int_equal(n[255], want[5]);
	free(mask);
}

static void
sample_masks_match_the_manifest(void **state)
{
	static const int	 t2p2[6] = { 148358, 76650, 50288, 0, 0, 2144 };
	static const int	 t2p4[6] = { 186742, 12919, 23200, 12018, 42017,
				    0 };
	static const int	 t1p1[6] = { 388530, 2779, 73093, 4377, 36569,
				    7920 };

	count_classes(SAMPLES "tile2_image_part_002.png", t2p2);
	count_classes(SAMPLES "tile2_image_part_004.png", t2p4);
	count_classes(SAMPLES "tile1_image_part_001.png", t1p1);
}

static void
written_masks_read_back_identically(void **state)
{
	struct classes		 cl;
	struct image		 img;
	struct image_info	 info;
	uint8_t			*mask, *back;
	unsigned char		*png;
	size_t			 len;
	char			 path[] = "/tmp/s4lab-maskio-XXXXXX";
	int			 w = 37, h = 23, i, bw, bh, fd;

	classes_test(&cl);
	mask = xmalloc(w * h);
	srandom(7);
	for (i = 0; i < w * h; i++)
		mask[i] = (random() % 5 == 4) ? MASK_VOID : random() % 4;
	assert_int_equal(mask_encode_png(mask, w, h, &cl, &png, &len,
	    NULL), 0);
	back = mask_decode("m.png", png, len, &cl, IMAGE_MAX_PIXELS, &bw,
	    &bh, NULL);
	assert_non_null(back);
	assert_int_equal(bw, w);
	assert_int_equal(bh, h);
	assert_memory_equal(back, mask, w * h);
	free(back);

	/* As a picture, each pixel shows its class colour. */
	assert_int_equal(image_decode("m.png", png, len, IMAGE_MAX_PIXELS,
	    &img, &info, NULL), 0);
	for (i = 0; i < w * h; i++) {
		if (mask[i] == MASK_VOID)
			assert_memory_equal(img.rgb + i * 3, cl.void_rgb[0], 3);
		else
			assert_memory_equal(img.rgb + i * 3,
			    cl.c[mask[i]].rgb, 3);
	}
	image_free(&img);
	free(png);

	/* Through a file too. */
	fd = mkstemp(path);
	assert_true(fd != -1);
	close(fd);
	assert_int_equal(mask_write_png(path, mask, w, h, &cl, NULL), 0);
	back = read_ok(path, &cl, &bw, &bh);
	assert_memory_equal(back, mask, w * h);
	free(back);
	unlink(path);
	free(mask);
}

static void
writing_to_a_missing_directory_fails(void **state)
{
	struct classes	 cl;
	uint8_t		 mask[4] = { 0, 1, 2, 255 };
	char		*cause = NULL;

	classes_test(&cl);
	assert_int_equal(mask_write_png("/nonexistent/dir/m.png", mask, 2, 2,
	    &cl, &cause), -1);
	assert_non_null(strstr(cause, "/nonexistent/dir/m.png"));
	free(cause);
}

/*
 * A 3x2 mask, rows "1 0 0" and "1 1 0", class 1.  Down the columns:
 * 1 1 | 0 1 | 0 0, so the counts are 0 (no leading zeros), 2, 1, 1, 2.
 * pycocotools' string: 0 -> '0', 2 -> '2', 1 -> '1'; the fourth count is
 * stored as 1 - 2 = -1, whose five low bits are 31 with the sign bit set
 * and nothing more to come: 31 + 48 = 'O'; the fifth, 2 - 1 = 1 -> '1'.
 */
static void
rle_matches_a_hand_derived_answer(void **state)
{
	static const uint8_t	 mask[6] = { 1, 0, 0, 1, 1, 0 };
	static const uint32_t	 want[5] = { 0, 2, 1, 1, 2 };
	uint32_t		*counts, *back;
	size_t			 n, bn;
	uint8_t			 out[6];
	char			*s;

	n = mask_rle_encode(mask, 3, 2, 1, &counts);
	assert_int_equal(n, 5);
	assert_memory_equal(counts, want, sizeof want);
	s = mask_rle_string(counts, n);
	assert_string_equal(s, "021O1");
	assert_int_equal(mask_rle_from_string(s, &back, &bn, NULL), 0);
	assert_int_equal(bn, 5);
	assert_memory_equal(back, want, sizeof want);
	assert_int_equal(mask_rle_decode(back, bn, 3, 2, out, NULL), 0);
	assert_memory_equal(out, mask, 6);
	free(s);
	free(back);
	free(counts);

	/*
	 * 40 pixels, none of the class: one count, 40 = 0b1_01000: the low
	 * five bits 8 with "more" (0x20): 40 + 48 = 'X'; then 1 -> '1'.
	 */
	memset(out, 0, sizeof out);
	{
		uint8_t	 zero[40];

		memset(zero, 3, sizeof zero);
		n = mask_rle_encode(zero, 4, 10, 1, &counts);
		assert_int_equal(n, 1);
		assert_int_equal(counts[0], 40);
		s = mask_rle_string(counts, n);
		assert_string_equal(s, "X1");
		free(s);
		free(counts);
	}
}

static void
rle_round_trips_random_masks(void **state)
{
	uint8_t		*mask, *bin, *out;
	uint32_t	*counts, *back;
	size_t		 n, bn;
	char		*s;
	int		 w, h, i, round, cls;

	srandom(11);
	for (round = 0; round < 50; round++) {
		w = 1 + random() % 70;
		h = 1 + random() % 70;
		cls = random() % 3;
		mask = xmalloc(w * h);
		bin = xmalloc(w * h);
		out = xmalloc(w * h);
		/* Runs of random length, so counts get large and small. */
		for (i = 0; i < w * h; i++) {
			mask[i] = (i == 0 || random() % 9 == 0) ?
			    random() % 3 : mask[i - 1];
			bin[i] = (mask[i] == cls);
		}
		n = mask_rle_encode(mask, w, h, cls, &counts);
		s = mask_rle_string(counts, n);
		assert_int_equal(mask_rle_from_string(s, &back, &bn, NULL), 0);
		assert_int_equal(bn, n);
		assert_memory_equal(back, counts, n * sizeof *counts);
		assert_int_equal(mask_rle_decode(back, bn, w, h, out, NULL), 0);
		assert_memory_equal(out, bin, w * h);
		free(s);
		free(back);
		free(counts);
		free(mask);
		free(bin);
		free(out);
	}
}

static void
bad_rle_is_refused(void **state)
{
	static const uint32_t	 toomany[2] = { 3, 4 };
	uint32_t		*c;
	uint8_t			 out[6];
	size_t			 n;
	char			*cause = NULL;

	assert_int_equal(mask_rle_decode(toomany, 2, 3, 2, out, &cause), -1);
	free(cause);
	assert_int_equal(mask_rle_decode(toomany, 1, 3, 2, out, &cause), -1);
	assert_non_null(strstr(cause, "3 of 3x2"));
	free(cause);
	/* A character outside '0'..'o', a number cut short, a negative. */
	assert_int_equal(mask_rle_from_string("12~", &c, &n, NULL), -1);
	assert_int_equal(mask_rle_from_string("X", &c, &n, NULL), -1);
	assert_int_equal(mask_rle_from_string("O", &c, &n, NULL), -1);
	assert_int_equal(mask_rle_from_string("", &c, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(c);
}

/* Damaged masks and counts strings: refused or read, never a crash. */
static void
mutated_masks_and_strings_never_crash(void **state)
{
	static const char	*files[] = { CASES "C21-mask-void.png",
				    CASES "C16-mask-gray16.png",
				    CASES "C16-mask-rgb-class-colours.png",
				    SAMPLES "tile2_image_part_004.png" };
	struct classes		 cl;
	unsigned char		*buf, *copy;
	uint8_t			*mask;
	uint32_t		*counts;
	size_t			 len, cut, f, n;
	char			*cause, s[32];
	int			 i, k, w, h;

	classes_test(&cl);
	srandom(99);
	for (f = 0; f < sizeof files / sizeof files[0]; f++) {
		assert_non_null(buf = read_file(files[f], &len, 0, NULL));
		copy = xmalloc(len);
		for (i = 0; i < 150; i++) {
			memcpy(copy, buf, len);
			cut = (i % 3 == 0) ? 1 + random() % len : len;
			for (k = 0; i % 3 != 0 && k < 1 + i % 4; k++)
				copy[8 + random() % (len - 8)] = random();
			cause = NULL;
			mask = mask_decode("m.png", copy, cut, &cl, 4000000,
			    &w, &h, &cause);
			if (mask == NULL) {
				assert_non_null(cause);
				free(cause);
			} else
				free(mask);
		}
		free(copy);
		free(buf);
	}
	for (i = 0; i < 2000; i++) {
		for (k = 0; k < (int)sizeof s - 1; k++)
			s[k] = 40 + random() % 80;
		s[random() % sizeof s] = '\0';
		s[sizeof s - 1] = '\0';
		cause = NULL;
		if (mask_rle_from_string(s, &counts, &n, &cause) == 0)
			free(counts);
		else
			free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rgb_class_colours_map_exactly),
		cmocka_unit_test(a_reordered_full_palette_is_read_by_index),
		cmocka_unit_test(four_bit_palette_and_sixteen_bit_gray_import),
		cmocka_unit_test(unknown_colours_are_listed),
		cmocka_unit_test(void_is_kept_as_is),
		cmocka_unit_test(bad_indices_are_named_with_counts),
		cmocka_unit_test(non_png_masks_are_refused),
		cmocka_unit_test(sample_masks_match_the_manifest),
		cmocka_unit_test(written_masks_read_back_identically),
		cmocka_unit_test(writing_to_a_missing_directory_fails),
		cmocka_unit_test(rle_matches_a_hand_derived_answer),
		cmocka_unit_test(rle_round_trips_random_masks),
		cmocka_unit_test(bad_rle_is_refused),
		cmocka_unit_test(mutated_masks_and_strings_never_crash),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
