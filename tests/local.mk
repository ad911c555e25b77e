# tests/: cmocka unit tests (tests/unit), scripts that drive the real
# binary (tests/e2e), and benchmarks (tests/bench, run by make bench).
TEST_LDADD = $(LDADD_ALL) $(CMOCKA_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += \
	tests/unit/test_util \
	tests/unit/test_image \
	tests/unit/test_maskio \
	tests/unit/test_import \
	tests/unit/test_store \
	tests/unit/test_classes \
	tests/unit/test_json \
	$(NULL)
tests_unit_test_util_SOURCES = tests/unit/test_util.c
tests_unit_test_util_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_util_LDADD = $(TEST_LDADD)
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_store_LDADD = $(TEST_LDADD)
tests_unit_test_classes_SOURCES = tests/unit/test_classes.c
tests_unit_test_classes_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_classes_LDADD = $(TEST_LDADD)
tests_unit_test_json_SOURCES = tests/unit/test_json.c
tests_unit_test_json_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_json_LDADD = $(TEST_LDADD)

tests_unit_test_image_SOURCES = tests/unit/test_image.c
tests_unit_test_image_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_image_LDADD = $(TEST_LDADD)
tests_unit_test_maskio_SOURCES = tests/unit/test_maskio.c
tests_unit_test_maskio_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_maskio_LDADD = $(TEST_LDADD)
tests_unit_test_import_SOURCES = tests/unit/test_import.c
tests_unit_test_import_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_import_LDADD = $(TEST_LDADD)

TESTS += \
	tests/e2e/init-stats.sh \
	tests/unit/test_util \
	tests/unit/test_image \
	tests/unit/test_maskio \
	tests/unit/test_import \
	tests/unit/test_store \
	tests/unit/test_classes \
	tests/unit/test_json \
	$(NULL)

EXTRA_DIST += tests/data tests/e2e tests/bench

noinst_PROGRAMS += \
	tests/bench/bench_import \
	$(NULL)
tests_bench_bench_import_SOURCES = tests/bench/bench_import.c
tests_bench_bench_import_LDADD = $(LDADD_ALL)
bench: $(noinst_PROGRAMS) src/s4lab
	S4LAB='$(abs_top_builddir)/src/s4lab' top_srcdir='$(abs_top_srcdir)' \
	    top_builddir='$(abs_top_builddir)' \
	    $(SHELL) $(srcdir)/tests/bench/run.sh
.PHONY: bench

TESTS += \
	tests/e2e/cli.sh \
	tests/e2e/import-cases.sh \
	$(NULL)
