/* Unit tests for util.c, sha256.c and progress.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s4lab.h"

static void
clean_text_replaces_escape_sequences(void **state)
{
	char	*s;

	s = clean_text("a\033]2;x\007b\xc2\x9b" "c\xc3\xa9");
	assert_string_equal(s, "a?]2;x?b?c\xc3\xa9");
	free(s);
}

static void
sha256_matches_known_digests(void **state)
{
	char	hex[65];
	char	million[1000];

	sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	/* 56 bytes: the padding spills into a second block. */
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', sizeof million);
	sha256_hex(million, sizeof million, hex);
	assert_string_equal(hex, "41edece42d63e8d9bf515a9ba6932e1c"
	    "20cbc9f5a5d134645adb5db1b9737ea3");
}

static void
progress_format_fits_and_estimates(void **state)
{
	char	buf[128];

	progress_format(buf, sizeof buf, 40, 0.5, 63);
	assert_int_equal(strlen(buf), 40);
	assert_non_null(strstr(buf, " 50% ETA 1m03s"));
	progress_format(buf, sizeof buf, 40, 1.7, -1);
	assert_non_null(strstr(buf, "100%"));
	assert_null(strchr(buf, '-'));
}

static void
log_areas_parse(void **state)
{
	assert_int_equal(log_parse_areas("store,ui"), LOG_STORE|LOG_UI);
	assert_int_equal(log_parse_areas("nothing"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_text_replaces_escape_sequences),
		cmocka_unit_test(sha256_matches_known_digests),
		cmocka_unit_test(progress_format_fits_and_estimates),
		cmocka_unit_test(log_areas_parse),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
