# src/: the core (store, images, masks, import, export, jobs) as a library,
# and the command line on top of it.
noinst_LIBRARIES += libs4core.a
# zlib compresses masks in the project file (store.c).
AM_CFLAGS += $(ZLIB_CFLAGS)
LDADD_ALL += $(ZLIB_LIBS)
libs4core_a_SOURCES = \
	src/s4lab.h \
	src/util.c \
	src/log.c \
	src/progress.c \
	src/xdg.c \
	src/sha256.c \
	src/jobs.c \
	src/models.c \
	src/rank.c \
	src/train.c \
	src/trainer.c \
	src/image.c \
	src/image-int.h \
	src/maskio.c \
	src/import.c \
	src/store-int.h \
	src/store.c \
	src/json.c \
	src/classes.c \
	src/export.c \
	$(NULL)

bin_PROGRAMS += src/s4lab
src_s4lab_SOURCES = \
	src/main.c \
	src/cmd-label.c \
	src/cmd-demo.c \
	src/commands.h \
	src/cmd-jobs.c \
	src/cmd-models.c \
	src/cmd-predict.c \
	src/cmd-queue.c \
	src/cmd-train.c \
	src/cmd-trainer.c \
	src/cmd-init.c \
	src/cmd-import.c \
	src/cmd-stats.c \
	src/cmd-export.c \
	$(NULL)
src_s4lab_LDADD = $(LDADD_ALL)
