# model/: the segmentation engine.
noinst_LIBRARIES += libs4model.a
libs4model_a_SOURCES = \
	model/model.h \
	model/safetensors.c \
	model/net.c \
	model/model-int.h \
	model/tensor.c \
	model/layers.c \
	model/conv.c \
	model/conv-direct.c \
	model/conv-kernel.h \
	$(NULL)
EXTRA_DIST += model/ARCH.md model/tpu/s4lab_model.py
