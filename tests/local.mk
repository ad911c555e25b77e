# tests/: cmocka unit tests (tests/unit), scripts that drive the real
# binary (tests/e2e), and benchmarks (tests/bench, run by make bench).
TEST_LDADD = $(LDADD_ALL) $(CMOCKA_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += \
	tests/unit/test_util \
	tests/unit/test_tools \
	tests/unit/test_keys \
	tests/unit/test_image \
	tests/unit/test_maskio \
	tests/unit/test_import \
	tests/unit/test_term \
	tests/unit/test_compose \
	tests/unit/test_render \
	tests/unit/test_store \
	tests/unit/test_classes \
	tests/unit/test_json \
	tests/tools/tuitool \
	tests/unit/test_tui_layout \
	tests/unit/test_layers \
	tests/unit/test_image \
	tests/unit/test_maskio \
	tests/unit/test_export \
	$(NULL)
tests_unit_test_util_SOURCES = tests/unit/test_util.c
tests_unit_test_util_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_util_LDADD = $(TEST_LDADD)
tests_unit_test_tools_SOURCES = tests/unit/test_tools.c
tests_unit_test_tools_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tools_LDADD = $(TEST_LDADD)
tests_unit_test_keys_SOURCES = tests/unit/test_keys.c
tests_unit_test_keys_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_keys_LDADD = $(TEST_LDADD)
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_store_LDADD = $(TEST_LDADD)
tests_unit_test_classes_SOURCES = tests/unit/test_classes.c
tests_unit_test_classes_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_classes_LDADD = $(TEST_LDADD)
tests_unit_test_json_SOURCES = tests/unit/test_json.c
tests_unit_test_json_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_json_LDADD = $(TEST_LDADD)
tests_unit_test_tui_layout_SOURCES = tests/unit/test_tui_layout.c
tests_unit_test_tui_layout_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tui_layout_LDADD = $(TEST_LDADD)
tests_tools_tuitool_SOURCES = tests/tools/tuitool.c
tests_tools_tuitool_LDADD = $(LDADD_ALL)

tests_unit_test_image_SOURCES = tests/unit/test_image.c
tests_unit_test_image_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_image_LDADD = $(TEST_LDADD)
tests_unit_test_maskio_SOURCES = tests/unit/test_maskio.c
tests_unit_test_maskio_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_maskio_LDADD = $(TEST_LDADD)
tests_unit_test_export_SOURCES = tests/unit/test_export.c
tests_unit_test_export_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_export_LDADD = $(TEST_LDADD)
tests_unit_test_import_SOURCES = tests/unit/test_import.c
tests_unit_test_import_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_import_LDADD = $(TEST_LDADD)
tests_unit_test_term_SOURCES = tests/unit/test_term.c
tests_unit_test_term_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_term_LDADD = $(TEST_LDADD)
tests_unit_test_compose_SOURCES = tests/unit/test_compose.c
tests_unit_test_compose_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_compose_LDADD = $(TEST_LDADD)
tests_unit_test_render_SOURCES = tests/unit/test_render.c \
	tests/tools/imgio.c tests/tools/imgio.h
tests_unit_test_render_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tests/tools
tests_unit_test_render_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_render_LDADD = $(TEST_LDADD)
tests_unit_test_layers_SOURCES = tests/unit/test_layers.c
tests_unit_test_layers_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_layers_LDADD = $(TEST_LDADD)

TESTS += \
	tests/e2e/init-stats.sh \
	tests/e2e/export-reader.sh \
	tests/unit/test_util \
	tests/unit/test_tools \
	tests/unit/test_keys \
	tests/unit/test_image \
	tests/unit/test_maskio \
	tests/unit/test_import \
	tests/unit/test_term \
	tests/unit/test_compose \
	tests/unit/test_render \
	tests/e2e/sixel-xterm.sh \
	tests/e2e/blocks-tmux.sh \
	tests/unit/test_store \
	tests/unit/test_classes \
	tests/unit/test_json \
	tests/unit/test_layers \
	tests/unit/test_image \
	tests/unit/test_maskio \
	tests/unit/test_export \
	$(NULL)

EXTRA_DIST += tests/data tests/e2e tests/bench

noinst_PROGRAMS += \
	tests/bench/bench_import \
	$(NULL)
tests_bench_bench_import_SOURCES = tests/bench/bench_import.c
tests_bench_bench_import_LDADD = $(LDADD_ALL)
noinst_PROGRAMS += \
	tests/bench/bench_store \
	$(NULL)
tests_bench_bench_store_SOURCES = tests/bench/bench_store.c
tests_bench_bench_store_LDADD = $(LDADD_ALL)
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

# ui/ renderers: frame time beside img2sixel and chafa.
noinst_PROGRAMS += tests/bench/bench_frame
tests_bench_bench_frame_SOURCES = tests/bench/bench_frame.c \
	tests/tools/imgio.c tests/tools/imgio.h
tests_bench_bench_frame_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tests/tools
tests_bench_bench_frame_LDADD = $(LDADD_ALL)

# A program that draws one composed tile in a real terminal, and checks
# a screenshot of it (tests/e2e/sixel-xterm.sh).
check_PROGRAMS += tests/tools/showframe
tests_tools_showframe_SOURCES = tests/tools/showframe.c \
	tests/tools/imgio.c tests/tools/imgio.h
tests_tools_showframe_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tests/tools
tests_tools_showframe_LDADD = $(LDADD_ALL)
TESTS += \
	tests/e2e/cli.sh \
	tests/e2e/import-cases.sh \
	tests/e2e/readonly.sh \
	$(NULL)

TESTS += \
	tests/unit/test_tui_layout \
	tests/e2e/tui-tmux.sh \
	$(NULL)
EXTRA_DIST += tests/e2e/tui-expect.py
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
