/*
 * s4lab model/: what only the engine's own files share.
 */
#ifndef S4LAB_MODEL_INT_H
#define S4LAB_MODEL_INT_H

#include <stddef.h>

/* tensor.c */
void	*model_alloc(size_t);

/* conv.c: the convolution kernels behind conv_forward/conv_backward. */
void	conv_ref_forward(struct tensor *, const struct tensor *,
	    const struct tensor *, const struct tensor *);
void	conv_ref_backward(struct tensor *, struct tensor *, struct tensor *,
	    const struct tensor *, const struct tensor *,
	    const struct tensor *);

/* conv-direct.c: AVX-512 3x3 kernels; -1 when they do not apply. */
int	conv_direct_forward(struct tensor *, const struct tensor *,
	    const struct tensor *, const struct tensor *);
int	conv_direct_backward(struct tensor *, struct tensor *,
	    struct tensor *, const struct tensor *, const struct tensor *,
	    const struct tensor *);

#endif /* S4LAB_MODEL_INT_H */
