# ui/: the terminal user interface.
noinst_LIBRARIES += libs4ui.a
libs4ui_a_SOURCES = \
	ui/ui.h \
	ui/tools.c \
	ui/keys.c \
	ui/tui-int.h \
	$(NULL)
