# ui/: the terminal user interface.
noinst_LIBRARIES += libs4ui.a
libs4ui_a_SOURCES = \
	ui/ui.h \
	ui/tools.c \
	ui/keys.c \
	ui/tui-int.h \
	ui/buf.c \
	ui/term.c \
	ui/compose.c \
	ui/sixel.c \
	ui/blocks.c \
	ui/tui.c \
	ui/tui-draw.c \
	ui/tui-model.c \
	$(NULL)
