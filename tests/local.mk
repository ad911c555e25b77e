# tests/: cmocka unit tests (tests/unit), scripts that drive the real
# binary (tests/e2e), and benchmarks (tests/bench, run by make bench).
TEST_LDADD = $(LDADD_ALL) $(CMOCKA_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += \
	tests/unit/test_util \
	tests/unit/test_layers \
	$(NULL)
tests_unit_test_util_SOURCES = tests/unit/test_util.c
tests_unit_test_util_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_util_LDADD = $(TEST_LDADD)
tests_unit_test_layers_SOURCES = tests/unit/test_layers.c
tests_unit_test_layers_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_layers_LDADD = $(TEST_LDADD)

TESTS += \
	tests/unit/test_util \
	tests/unit/test_layers \
	$(NULL)

EXTRA_DIST += tests/data tests/e2e tests/bench

noinst_PROGRAMS += \
	tests/bench/bench_layers \
	$(NULL)
tests_bench_bench_layers_SOURCES = tests/bench/bench_layers.c
tests_bench_bench_layers_LDADD = $(LDADD_ALL)
bench: $(noinst_PROGRAMS) src/s4lab
	S4LAB='$(abs_top_builddir)/src/s4lab' top_srcdir='$(abs_top_srcdir)' \
	    top_builddir='$(abs_top_builddir)' \
	    $(SHELL) $(srcdir)/tests/bench/run.sh
.PHONY: bench

# The network (model/net.c, model/safetensors.c): unit tests, the C side
# of the PyTorch parity test, the benchmark and the learning measurement.
check_PROGRAMS += \
	tests/unit/test_safetensors \
	tests/unit/test_net \
	tests/tools/netinfer \
	$(NULL)
TESTS += \
	tests/unit/test_safetensors \
	tests/unit/test_net \
	tests/e2e/torch-parity.sh \
	$(NULL)
noinst_PROGRAMS += \
	tests/bench/bench_net \
	tests/tools/learn \
	$(NULL)
TILES_SOURCES = tests/tools/tiles.c tests/tools/tiles.h
tests_unit_test_safetensors_SOURCES = tests/unit/test_safetensors.c
tests_unit_test_safetensors_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_safetensors_LDADD = $(TEST_LDADD)
tests_unit_test_net_SOURCES = tests/unit/test_net.c $(TILES_SOURCES)
tests_unit_test_net_CFLAGS = $(TEST_CFLAGS) -I$(srcdir)/tests/tools
tests_unit_test_net_LDADD = $(TEST_LDADD)
tests_tools_netinfer_SOURCES = tests/tools/netinfer.c $(TILES_SOURCES)
tests_tools_netinfer_CFLAGS = $(AM_CFLAGS) -I$(srcdir)/tests/tools
tests_tools_netinfer_LDADD = $(LDADD_ALL)
tests_bench_bench_net_SOURCES = tests/bench/bench_net.c $(TILES_SOURCES)
tests_bench_bench_net_CFLAGS = $(AM_CFLAGS) -I$(srcdir)/tests/tools
tests_bench_bench_net_LDADD = $(LDADD_ALL)
tests_tools_learn_SOURCES = tests/tools/learn.c $(TILES_SOURCES)
tests_tools_learn_CFLAGS = $(AM_CFLAGS) -I$(srcdir)/tests/tools
tests_tools_learn_LDADD = $(LDADD_ALL)
