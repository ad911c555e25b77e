/* Unit tests for classes.c: presets and classes files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s4lab.h"

/* A file under tests/data/classes. */
static char *
data(const char *name)
{
	char	*path;

	xasprintf(&path, "%s/tests/data/classes/%s", S4LAB_SRCDIR, name);
	return (path);
}

static void
preset_xbd_has_five_damage_classes(void **state)
{
	struct classes	 cl;
	char		*cause = NULL;

	assert_int_equal(classes_preset("xbd", &cl, &cause), 0);
	assert_int_equal(cl.n, 5);
	assert_string_equal(cl.c[0].name, "background");
	assert_string_equal(cl.c[1].name, "no-damage");
	assert_string_equal(cl.c[4].name, "destroyed");
	assert_int_equal(cl.c[0].key, '0');
	assert_int_equal(cl.c[4].key, '4');
	assert_int_equal(cl.nvoid, 0);
	assert_int_equal(classes_by_rgb(&cl, cl.c[3].rgb), 3);
}

static void
preset_rescuenet_keeps_its_order(void **state)
{
	static const char	*names[] = { "background", "debris", "water",
	    "building-no-damage", "building-minor-damage",
	    "building-major-damage", "building-total-destruction",
	    "vehicle", "road", "tree", "pool", "sand" };
	struct classes		 cl;
	char			*cause = NULL;
	int			 i, j;

	assert_int_equal(classes_preset("rescuenet", &cl, &cause), 0);
	assert_int_equal(cl.n, 12);
	for (i = 0; i < 12; i++) {
		assert_string_equal(cl.c[i].name, names[i]);
		for (j = 0; j < i; j++) {
			assert_memory_not_equal(cl.c[i].rgb, cl.c[j].rgb, 3);
			if (cl.c[i].key != '\0')
				assert_int_not_equal(cl.c[i].key,
				    cl.c[j].key);
		}
	}
	assert_int_equal(cl.c[9].key, '9');
	/* Letters are commands of the labelling screen: no key. */
	assert_int_equal(cl.c[10].key, '\0');
	assert_int_equal(cl.c[11].key, '\0');
}

static void
unknown_preset_is_named(void **state)
{
	struct classes	 cl;
	char		*cause = NULL;

	assert_int_equal(classes_preset("landsat", &cl, &cause), -1);
	assert_non_null(strstr(cause, "landsat"));
	free(cause);
}

static void
text_file_with_void_colours(void **state)
{
	struct classes	 cl;
	char		*path = data("good/samples.txt"), *cause = NULL;
	const uint8_t	 grey[3] = { 0x9b, 0x9b, 0x9b }, red[3] = { 1, 2, 3 };

	assert_int_equal(classes_read(path, &cl, &cause), 0);
	assert_int_equal(cl.n, 6);
	assert_string_equal(cl.c[2].name, "Land (unpaved area)");
	assert_int_equal(cl.c[1].rgb[0], 0x50);
	assert_int_equal(cl.c[1].rgb[1], 0xe3);
	assert_int_equal(cl.c[1].rgb[2], 0xc2);
	assert_int_equal(cl.c[4].key, '4');
	/* Keys not given: the first free ones. */
	assert_int_equal(cl.c[3].key, '3');
	assert_int_equal(cl.c[5].key, '5');
	assert_int_equal(cl.nvoid, 2);
	assert_int_equal(classes_by_rgb(&cl, grey), MASK_VOID);
	assert_int_equal(classes_by_rgb(&cl, cl.c[5].rgb), 5);
	assert_int_equal(classes_by_rgb(&cl, red), -1);
	free(path);
}

static void
text_file_with_crlf_and_bom(void **state)
{
	struct classes	 cl;
	char		*path, *cause = NULL;

	path = data("good/crlf.txt");
	assert_int_equal(classes_read(path, &cl, &cause), 0);
	assert_int_equal(cl.n, 2);
	assert_string_equal(cl.c[1].name, "building");
	assert_int_equal(cl.c[1].key, '1');
	free(path);

	path = data("good/bom.txt");
	assert_int_equal(classes_read(path, &cl, &cause), 0);
	assert_int_equal(cl.n, 2);
	assert_string_equal(cl.c[0].name, "background");
	free(path);
}

static void
json_with_indices_and_unlabelled(void **state)
{
	struct classes	 cl;
	char		*path = data("good/classes-test.json"), *cause = NULL;
	const uint8_t	 cream[3] = { 0xe0, 0xe0, 0xc0 };

	assert_int_equal(classes_read(path, &cl, &cause), 0);
	assert_int_equal(cl.n, 4);
	assert_string_equal(cl.c[0].name, "background");
	assert_string_equal(cl.c[2].name, "building-destroyed");
	assert_int_equal(cl.c[2].rgb[0], 0xdc);
	assert_int_equal(cl.c[3].key, '3');
	assert_int_equal(cl.nvoid, 1);
	assert_int_equal(classes_by_rgb(&cl, cream), MASK_VOID);
	free(path);
}

static void
json_with_titles_in_list_order(void **state)
{
	struct classes	 cl;
	char		*path = data("good/dubai-aerial.json"), *cause = NULL;

	assert_int_equal(classes_read(path, &cl, &cause), 0);
	assert_int_equal(cl.n, 6);
	assert_string_equal(cl.c[0].name, "Water");
	assert_string_equal(cl.c[5].name, "Unlabeled");
	assert_int_equal(cl.c[3].rgb[0], 0xd0);
	assert_int_equal(cl.c[3].rgb[2], 0x1b);
	assert_int_equal(cl.nvoid, 0);
	assert_int_equal(cl.c[5].key, '5');
	free(path);
}

static void
bad_files_are_refused_with_a_reason(void **state)
{
	static const struct {
		const char	*file;
		const char	*why;
	} bad[] = {
		{ "no-colour.txt", "line 2: no colour" },
		{ "bad-colour.txt", "line 3: no colour" },
		{ "same-colour.txt", "line 3: classes \"building\" and "
		    "\"road\" have the same colour" },
		{ "void-is-class.txt", "line 2: void colour #000000 is also" },
		{ "long-key.txt", "line 2: key \"bb\"" },
		{ "same-key.txt", "line 2: classes \"background\" and "
		    "\"building\" have the same key '7'" },
		{ "letter-key.txt", "line 2: key \"f\" is not one digit" },
		{ "same-name.txt", "line 2: class \"water\" appears twice" },
		{ "empty.txt", "no classes" },
		{ "trailing.txt", "line 1: unexpected \"extra\"" },
		{ "control.txt", "line 2: control character" },
		{ "latin1.txt", "line 2: class name is not UTF-8" },
		{ "index-gap.json", "\"index\" is not an integer from 0" },
		{ "index-some.json", "some classes have an \"index\"" },
		{ "no-classes.json", "no \"classes\" array" },
		{ "syntax.json", "line 3 column 16: expected ','" },
		{ "void-index.json", "unlabelled index 7" },
		{ "colour-array.json", "\"color\" is missing" },
		{ "missing.txt", "No such file" },
	};
	struct classes	 cl;
	char		*path, *name, *cause;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&name, "bad/%s", bad[i].file);
		path = data(name);
		cause = NULL;
		assert_int_equal(classes_read(path, &cl, &cause), -1);
		print_message("%s\n", cause);
		assert_non_null(strstr(cause, path));
		assert_non_null(strstr(cause, bad[i].why));
		assert_int_equal(cl.n, 0);
		free(cause);
		free(path);
		free(name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(preset_xbd_has_five_damage_classes),
		cmocka_unit_test(preset_rescuenet_keeps_its_order),
		cmocka_unit_test(unknown_preset_is_named),
		cmocka_unit_test(text_file_with_void_colours),
		cmocka_unit_test(text_file_with_crlf_and_bom),
		cmocka_unit_test(json_with_indices_and_unlabelled),
		cmocka_unit_test(json_with_titles_in_list_order),
		cmocka_unit_test(bad_files_are_refused_with_a_reason),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
