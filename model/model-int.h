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
void	conv1_forward(struct tensor *, const struct tensor *,
	    const struct tensor *, const struct tensor *);
void	conv1_backward(struct tensor *, struct tensor *, struct tensor *,
	    const struct tensor *, const struct tensor *,
	    const struct tensor *);
int	conv_threads(void);
int	conv_thread(void);

/* conv-direct.c: 3x3 kernels for AVX-512 and AVX2; -1 when they do not
 * apply.  conv_direct_select caps the instruction set (tests, bench). */
#define CONV_ISA_NONE	0
#define CONV_ISA_AVX2	1
#define CONV_ISA_AVX512	2
int	conv_direct_select(int);
int	conv_direct_forward(struct tensor *, const struct tensor *,
	    const struct tensor *, const struct tensor *);
int	conv_direct_backward(struct tensor *, struct tensor *,
	    struct tensor *, const struct tensor *, const struct tensor *,
	    const struct tensor *);

#endif /* S4LAB_MODEL_INT_H */
