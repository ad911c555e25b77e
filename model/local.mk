# model/: the segmentation engine.
noinst_LIBRARIES += libs4model.a
libs4model_a_SOURCES = \
	model/model.h \
	model/safetensors.c \
	model/net.c \
	$(NULL)
