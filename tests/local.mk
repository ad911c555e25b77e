# tests/: cmocka unit tests (tests/unit), scripts that drive the real
# binary (tests/e2e), and benchmarks (tests/bench, run by make bench).
TEST_LDADD = $(LDADD_ALL) $(CMOCKA_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += \
	tests/unit/test_util \
	tests/unit/test_store \
	$(NULL)
tests_unit_test_util_SOURCES = tests/unit/test_util.c
tests_unit_test_util_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_util_LDADD = $(TEST_LDADD)
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_store_LDADD = $(TEST_LDADD)

TESTS += \
	tests/unit/test_util \
	tests/unit/test_store \
	$(NULL)

EXTRA_DIST += tests/data tests/e2e tests/bench

noinst_PROGRAMS += \
	$(NULL)
bench: $(noinst_PROGRAMS) src/s4lab
	S4LAB='$(abs_top_builddir)/src/s4lab' top_srcdir='$(abs_top_srcdir)' \
	    top_builddir='$(abs_top_builddir)' \
	    $(SHELL) $(srcdir)/tests/bench/run.sh
.PHONY: bench

# jobs, trainer, ranking.
check_PROGRAMS += \
	tests/unit/test_jobs \
	tests/e2e/mkproject \
	$(NULL)
tests_unit_test_jobs_SOURCES = tests/unit/test_jobs.c tests/unit/synth.c \
	tests/unit/synth.h
tests_unit_test_jobs_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_jobs_LDADD = $(TEST_LDADD)
tests_e2e_mkproject_SOURCES = tests/e2e/mkproject.c tests/unit/synth.c \
	tests/unit/synth.h
tests_e2e_mkproject_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tests/unit
tests_e2e_mkproject_LDADD = $(LDADD_ALL)

TESTS += \
	tests/unit/test_jobs \
	tests/e2e/trainer-faults.sh \
	$(NULL)

TESTS += \
	tests/e2e/cli.sh \
	$(NULL)
