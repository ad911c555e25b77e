/* Unit tests for json.c. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s4lab.h"

static struct json *
parse(const char *s)
{
	char		*cause = NULL;
	struct json	*j;

	j = json_parse(s, strlen(s), &cause);
	if (j == NULL)
		print_message("%s: %s\n", s, cause);
	assert_non_null(j);
	return (j);
}

/* Parsing s fails with a cause containing why. */
static void
refuse(const char *s, size_t len, const char *why)
{
	char	*cause = NULL;

	assert_null(json_parse(s, len, &cause));
	assert_non_null(cause);
	if (strstr(cause, why) == NULL)
		fail_msg("%s: got \"%s\", wanted \"%s\"", s, cause, why);
	free(cause);
}

static void
objects_arrays_and_scalars(void **state)
{
	struct json		*j;
	const struct json	*a;
	int64_t			 v;

	j = parse(" {\"a\": [1, -2.5e1, true, false, null], \"b\": "
	    "{\"c\": \"d\"}, \"big\": 9007199254740993} ");
	assert_int_equal(j->type, JSON_OBJECT);
	a = json_get(j, "a");
	assert_int_equal(a->n, 5);
	assert_int_equal(json_at(a, 0)->integer, 1);
	assert_true(json_at(a, 0)->is_integer);
	assert_false(json_at(a, 1)->is_integer);
	assert_true(json_at(a, 1)->number == -25.0);
	assert_int_equal(json_at(a, 2)->boolean, 1);
	assert_int_equal(json_at(a, 3)->type, JSON_BOOL);
	assert_int_equal(json_at(a, 4)->type, JSON_NULL);
	assert_null(json_at(a, 5));
	assert_string_equal(json_get_string(json_get(j, "b"), "c"), "d");
	assert_null(json_get_string(j, "a"));
	assert_null(json_get(j, "zz"));
	/* Integers stay exact past 2^53. */
	assert_int_equal(json_get_int(j, "big", &v), 0);
	assert_int_equal(v, 9007199254740993LL);
	assert_int_equal(json_get_int(j, "a", &v), -1);
	json_free(j);
}

static void
strings_unescape_to_utf8(void **state)
{
	struct json	*j;

	j = parse("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t"
	    "\\u00e9\\ud83d\\ude00 \xc3\xa9\"");
	assert_string_equal(j->string, "a\"\\/\b\f\n\r\t\xc3\xa9"
	    "\xf0\x9f\x98\x80 \xc3\xa9");
	json_free(j);
}

static void
numbers_ignore_the_locale(void **state)
{
	struct json	*j;

	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL &&
	    setlocale(LC_NUMERIC, "fr_FR.UTF-8") == NULL)
		print_message("no locale with a decimal comma; checking C\n");
	j = parse("0.5");
	assert_true(j->number == 0.5);
	json_free(j);
	setlocale(LC_NUMERIC, "C");
}

static void
bad_text_is_refused_with_its_place(void **state)
{
	char	deep[300];

	refuse("", 0, "unexpected end");
	refuse("{\"a\": 1,}", 9, "line 1 column 9: expected a key");
	refuse("[1, 2", 5, "expected ','");
	refuse("{\"a\": 1, \"a\": 2}", 16, "duplicate key \"a\"");
	refuse("01", 2, "text after the end");
	refuse("-", 1, "bad number");
	refuse("1.", 2, "bad number");
	refuse("1e", 2, "bad number");
	refuse("tru", 3, "unexpected character");
	refuse("\"abc", 4, "unterminated string");
	refuse("\"a\nb\"", 5, "control character");
	refuse("\"\\x\"", 4, "bad escape");
	refuse("\"\\u12g4\"", 8, "bad \\u escape");
	refuse("\"\\ud800\"", 8, "bad \\u escape");
	refuse("\"\\udc00\"", 8, "bad \\u escape");
	refuse("\"\\u0000\"", 8, "bad \\u escape");
	refuse("\"\xc0\xaf\"", 4, "invalid UTF-8");
	refuse("\"\xed\xa0\x80\"", 5, "invalid UTF-8");
	refuse("\"\xe2\x82\"", 4, "invalid UTF-8");
	refuse("[1]\0", 4, "text after the end");
	refuse("{\n\"a\":\n@}", 9, "line 3 column 1");
	memset(deep, '[', sizeof deep);
	refuse(deep, sizeof deep, "nested deeper");
}

static void
strings_are_written_escaped(void **state)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&buf, &len);
	json_write_string(f, "a\"b\\c\nd\001\xc3\xa9");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\"");
	free(buf);

	/* Bytes that are not UTF-8 become U+FFFD: the output is JSON. */
	f = open_memstream(&buf, &len);
	json_write_string(f, "b\xe2t\xc3\xa9\xff");
	fclose(f);
	assert_string_equal(buf, "\"b\\ufffdt\xc3\xa9\\ufffd\"");
	free(buf);
}

/*
 * Every prefix of a document, and many random byte changes to it, parse
 * or fail cleanly (the sanitizer build checks for bad reads and leaks).
 */
static void
mutations_never_crash(void **state)
{
	static const char	 doc[] = "{\"classes\": [{\"index\": 0, "
	    "\"name\": \"b\\u00e9\", \"color\": \"#000000\"}, "
	    "{\"n\": [1.5e3, -0, true, null, "
	    "{\"x\": \"\\ud83d\\ude00\"}]}]}";
	struct json		*j;
	char			 buf[sizeof doc], *cause;
	uint32_t		 seed = 12345;
	size_t			 len, i, k, ok = 0;

	for (len = 0; len < sizeof doc; len++) {
		cause = NULL;
		j = json_parse(doc, len, &cause);
		assert_true((j == NULL) != (cause == NULL));
		ok += j != NULL;
		json_free(j);
		free(cause);
	}
	assert_int_equal(ok, 1);	/* only the whole document */
	for (i = 0; i < 20000; i++) {
		memcpy(buf, doc, sizeof doc);
		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % (sizeof doc - 1)] =
			    (char)(seed >> 24);
		}
		cause = NULL;
		j = json_parse(buf, sizeof doc - 1, &cause);
		assert_true((j == NULL) != (cause == NULL));
		json_free(j);
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(objects_arrays_and_scalars),
		cmocka_unit_test(strings_unescape_to_utf8),
		cmocka_unit_test(numbers_ignore_the_locale),
		cmocka_unit_test(bad_text_is_refused_with_its_place),
		cmocka_unit_test(strings_are_written_escaped),
		cmocka_unit_test(mutations_never_crash),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
