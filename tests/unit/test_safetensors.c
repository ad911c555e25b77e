/* Unit tests for model/safetensors.c: the C25 cases and the rest of their
 * family, a round trip, and every truncation and byte flip of a valid
 * file (nothing may crash or read outside the buffer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "model.h"

#define CASES	S4LAB_SRCDIR "/tests/data/cases/"

/* Read path; it must fail with a cause naming the file and `what`. */
static void
refused(const char *name, const char *what)
{
	struct st_file	 st;
	char		 path[1024], *cause = NULL;

	snprintf(path, sizeof path, CASES "%s", name);
	assert_int_equal(st_read(path, &st, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, path) == NULL || strstr(cause, what) == NULL)
		fail_msg("%s: cause \"%s\" lacks \"%s\"", name, cause, what);
	free(cause);
	assert_int_equal(st.n, 0);
}

/* Parse a header given as text, with datalen bytes of data after it. */
static int
parse_header(const char *json, size_t datalen, char **cause)
{
	struct st_file	 st;
	unsigned char	*buf;
	size_t		 hl = strlen(json), len = 8 + hl + datalen, i;
	int		 rc;

	buf = calloc(1, len);
	for (i = 0; i < 8; i++)
		buf[i] = (uint64_t)hl >> (8 * i);
	memcpy(buf + 8, json, hl);
	*cause = NULL;
	rc = st_parse(buf, len, "mem", &st, cause);
	if (rc == 0)
		st_free(&st);
	free(buf);
	return (rc);
}

static void
header_refused(const char *json, size_t datalen, const char *what)
{
	char	*cause;

	if (parse_header(json, datalen, &cause) != -1)
		fail_msg("accepted: %s", json);
	if (cause == NULL || strstr(cause, "mem") == NULL ||
	    strstr(cause, what) == NULL)
		fail_msg("%s: cause \"%s\" lacks \"%s\"", json,
		    cause != NULL ? cause : "(null)", what);
	free(cause);
}

static void
valid_file_loads(void **state)
{
	struct st_file	 st;
	struct tensor	*w, *b;
	char		*cause = NULL;
	int		 i;

	assert_int_equal(st_read(CASES "C25-valid.safetensors", &st, &cause),
	    0);
	assert_int_equal(st.n, 2);
	w = st_find(&st, "enc.w");
	b = st_find(&st, "enc.b");
	assert_non_null(w);
	assert_non_null(b);
	assert_null(st_find(&st, "enc.x"));
	assert_int_equal(w->ndim, 2);
	assert_int_equal(w->shape[0], 2);
	assert_int_equal(w->shape[1], 3);
	for (i = 0; i < 6; i++)
		assert_true(w->data[i] == (float)i);
	assert_true(b->data[0] == 0.5f && b->data[1] == -1.0f &&
	    b->data[2] == 2.0f);
	assert_string_equal(st_meta(&st, "format"), "pt");
	assert_null(st_meta(&st, "classes"));
	st_free(&st);
}

static void
malformed_files_refused(void **state)
{
	refused("C25-offset-past-eof.safetensors", "past the data");
	refused("C25-shape-bigger-than-range.safetensors", "shape needs");
	refused("C25-overlap.safetensors", "overlap");
	refused("C25-unknown-dtype.safetensors", "unknown dtype");
	refused("C25-header-length-past-eof.safetensors",
	    "past the end of the file");
	refused("C25-header-not-json.safetensors", "bad header");
	refused("C25-too-short.safetensors", "too short");
	refused("C25-trailing-bytes.safetensors", "trailing bytes");
	refused("no-such-file.safetensors", "No such file");
}

static void
family_refused(void **state)
{
	char	*cause;

	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[4,8]}}", 8, "hole");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[8,12]}}", 12, "hole");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[8,4]}}", 8, "reversed");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[-4,0]}}", 8, "negative");
	/* 2^62 * 4 wraps to 0 in 64 bits. */
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":["
	    "4611686018427387904],\"data_offsets\":[0,0]}}", 0, "dimension");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536,"
	    "16384],\"data_offsets\":[0,0]}}", 0, "shape needs");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,18446744073709551616]}}", 4, "too large");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[4,8]}}", 8, "repeated");
	header_refused("{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4]}}", 4, "UTF-8");
	header_refused("{\"a\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4]}}", 4, "UTF-8");
	header_refused("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],"
	    "\"data_offsets\":[0,4]}}", 4, "F16 is not supported");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],"
	    "\"data_offsets\":[0,4]}}", 4, "dimensions");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4,
	    "lacks");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4],\"extra\":1}}", 4, "unknown field");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],"
	    "\"data_offsets\":[0,4]}}", 4, "integer");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4]}}x", 4, "after");
	header_refused("{\"__metadata__\":{\"k\":1}}", 0, "not a string");
	header_refused("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0,
	    "repeated");
	header_refused("[]", 0, "not a JSON object");
	header_refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
	    "\"data_offsets\":[0,4]", 4, "ends early");
	header_refused("{\"\\ud800\":{}}", 0, "surrogate");

	/* A header length over the limit is refused before anything else. */
	{
		unsigned char	buf[16] = { 0, 0, 0, 0x10, 0, 0, 0, 0 };
		struct st_file	st;

		cause = NULL;
		assert_int_equal(st_parse(buf, sizeof buf, "big", &st, &cause),
		    -1);
		assert_non_null(strstr(cause, "over the limit"));
		free(cause);
	}

	/* Padding with spaces, escapes, empty object: fine. */
	assert_int_equal(parse_header("{\"a\\u00e9\\n\":{\"dtype\":\"F32\","
	    "\"shape\":[],\"data_offsets\":[0,4]}}    ", 4, &cause), 0);
	assert_int_equal(parse_header("{}", 0, &cause), 0);
}

static void
round_trip(void **state)
{
	struct st_file	 st, back;
	struct st_entry	 e[2];
	struct tensor	*t;
	char		*keys[] = { "format", "odd \"key\"", NULL };
	char		*values[] = { "s4lab", "line\nbreak", NULL };
	char		 dir[] = "/tmp/s4lab-st-XXXXXX", path[256];
	char		*cause = NULL;
	size_t		 i;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/w.safetensors", dir);
	snprintf(e[0].name, sizeof e[0].name, "enc.0.conv1.weight");
	e[0].t = tensor_new4(2, 3, 3, 3);
	snprintf(e[1].name, sizeof e[1].name, "head.bias");
	e[1].t = tensor_new4(1, 1, 1, 5);
	e[1].t->ndim = 1;
	e[1].t->shape[0] = 5;
	for (i = 0; i < e[0].t->n; i++)
		e[0].t->data[i] = (float)i * 0.37f - 3.0f;
	for (i = 0; i < e[1].t->n; i++)
		e[1].t->data[i] = -(float)i / 7.0f;
	st.n = 2;
	st.e = e;
	st.meta_keys = keys;
	st.meta_values = values;
	assert_int_equal(st_write(path, &st, &cause), 0);

	assert_int_equal(st_read(path, &back, &cause), 0);
	assert_int_equal(back.n, 2);
	t = st_find(&back, "enc.0.conv1.weight");
	assert_non_null(t);
	assert_int_equal(t->ndim, 4);
	assert_memory_equal(t->data, e[0].t->data, e[0].t->n * 4);
	t = st_find(&back, "head.bias");
	assert_int_equal(t->ndim, 1);
	assert_int_equal(t->shape[0], 5);
	assert_memory_equal(t->data, e[1].t->data, 5 * 4);
	assert_string_equal(st_meta(&back, "odd \"key\""), "line\nbreak");
	assert_string_equal(st_meta(&back, "format"), "s4lab");
	st_free(&back);

	/* A write into a missing folder fails and leaves nothing. */
	snprintf(path, sizeof path, "%s/no/w.safetensors", dir);
	assert_int_equal(st_write(path, &st, &cause), -1);
	assert_non_null(cause);
	free(cause);

	tensor_free(e[0].t);
	tensor_free(e[1].t);
	snprintf(path, sizeof path, "%s/w.safetensors", dir);
	unlink(path);
	rmdir(dir);
}

/* Every prefix and every single-byte change of a valid file. */
static void
truncations_and_flips(void **state)
{
	struct st_file	 st;
	FILE		*f;
	unsigned char	 buf[512], copy[512];
	size_t		 len, i;
	char		*cause;
	int		 b;

	f = fopen(CASES "C25-valid.safetensors", "rb");
	assert_non_null(f);
	len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	for (i = 0; i < len; i++) {
		cause = NULL;
		assert_int_equal(st_parse(buf, i, "cut", &st, &cause), -1);
		assert_non_null(cause);
		free(cause);
	}
	for (i = 0; i < len; i++) {
		for (b = 0; b < 8; b++) {
			memcpy(copy, buf, len);
			copy[i] ^= 1 << b;
			cause = NULL;
			if (st_parse(copy, len, "flip", &st, &cause) == 0)
				st_free(&st);
			free(cause);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_file_loads),
		cmocka_unit_test(malformed_files_refused),
		cmocka_unit_test(family_refused),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(truncations_and_flips),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
