/*
 * s4lab model/: the segmentation engine (interface).
 *
 * Tensors are float32, NCHW, contiguous.  Each layer comes as a
 * <layer>_forward and <layer>_backward pair; a backward pass *adds* into
 * the gradients it is given (so a tensor read twice, as a skip connection
 * is, collects both), and the caller zeroes them.  Gradients are named d +
 * what they are the gradient of (dinp, dout, dweight).
 *
 * The network (net.c) is a U-Net encoder and main decoder plus K
 * auxiliary decoders reading a perturbed bottleneck, trained with
 * cross-consistency (CCT).  Its tensor names are those of the PyTorch twin
 * in model/tpu/s4lab_model.py; model/ARCH.md is the shared description.
 *
 * model/ never includes src/ or ui/.  Errors on bad input (a malformed
 * safetensors file) return -1 and a message through `cause`, as in src/.
 */
#ifndef S4LAB_MODEL_H
#define S4LAB_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* tensor.c */

#define TENSOR_MAXDIM	4

struct tensor {
	int		 ndim;
	int		 shape[TENSOR_MAXDIM];
	size_t		 n;		/* product of shape */
	float		*data;		/* owned; 64-byte aligned */
};

struct tensor	*tensor_new(int, const int *);
struct tensor	*tensor_new4(int, int, int, int);
void		 tensor_free(struct tensor *);
void		 tensor_zero(struct tensor *);
/* Reshape in place when n is unchanged, else reallocate (data lost). */
void		 tensor_resize4(struct tensor *, int, int, int, int);

/* A small deterministic RNG (xoshiro-style); one per thread of work. */
struct rng {
	uint64_t	 s[4];
};
void		 rng_seed(struct rng *, uint64_t);
uint64_t	 rng_next(struct rng *);
float		 rng_uniform(struct rng *);		/* [0, 1) */
float		 rng_normal(struct rng *);

/* ------------------------------------------------------------------ */
/* layers.c: forward and backward side by side.  Shapes: N batch, C/K
 * channels in/out, H W spatial. */

/* 3x3 (pad 1) or 1x1 (pad 0) convolution, stride 1.
 * inp (N,C,H,W), weight (K,C,k,k), bias (K) or NULL, out (N,K,H,W).
 * In backward, dinp, dweight and dbias may each be NULL (not wanted). */
void	conv_forward(struct tensor *out, const struct tensor *inp,
	    const struct tensor *weight, const struct tensor *bias);
void	conv_backward(struct tensor *dinp, struct tensor *dweight,
	    struct tensor *dbias, const struct tensor *dout,
	    const struct tensor *inp, const struct tensor *weight);

/* Batch normalisation over N,H,W per channel.  In training, batch
 * statistics are used and running ones updated (momentum 0.1, unbiased
 * variance, as PyTorch); mean and invstd (C) are saved for backward.
 * bn_forward allocates the state's tensors when they are NULL (the caller
 * frees them); the state may be NULL in inference.  In backward, dgamma
 * and dbeta may be NULL. */
struct bn_state {
	struct tensor	*mean;
	struct tensor	*invstd;
};
void	bn_forward(struct tensor *out, const struct tensor *inp,
	    const struct tensor *gamma, const struct tensor *beta,
	    struct tensor *running_mean, struct tensor *running_var,
	    struct bn_state *, int training);
void	bn_backward(struct tensor *dinp, struct tensor *dgamma,
	    struct tensor *dbeta, const struct tensor *dout,
	    const struct tensor *inp, const struct tensor *gamma,
	    const struct bn_state *);

void	relu_forward(struct tensor *out, const struct tensor *inp);
void	relu_backward(struct tensor *dinp, const struct tensor *dout,
	    const struct tensor *out);

/* 2x2 max-pool, stride 2; argmax (same n as out) saved for backward. */
void	maxpool_forward(struct tensor *out, const struct tensor *inp,
	    int32_t *argmax);
void	maxpool_backward(struct tensor *dinp, const struct tensor *dout,
	    const int32_t *argmax);

/* Nearest 2x upsampling. */
void	upsample2_forward(struct tensor *out, const struct tensor *inp);
void	upsample2_backward(struct tensor *dinp, const struct tensor *dout);

/* Bilinear upsampling by an integer factor, align_corners=False. */
void	bilinear_forward(struct tensor *out, const struct tensor *inp,
	    int factor);
void	bilinear_backward(struct tensor *dinp, const struct tensor *dout,
	    int factor);

/* Channel concatenation out = [a, b]. */
void	concat_forward(struct tensor *out, const struct tensor *a,
	    const struct tensor *b);
void	concat_backward(struct tensor *da, struct tensor *db,
	    const struct tensor *dout);

/* Softmax over channels. */
void	softmax_forward(struct tensor *prob, const struct tensor *logits);

/* Softmax cross-entropy, mean over pixels whose target is not 255 (a
 * target >= classes is ignored too).
 * target has N*H*W bytes.  Returns the loss; dlogits gets its gradient
 * (scaled by `scale`).  Returns 0 and leaves dlogits alone when every
 * pixel is ignored. */
float	ce_forward_backward(struct tensor *dlogits,
	    const struct tensor *logits, const uint8_t *target, float scale);

/* Consistency: mean over all elements of (softmax(logits) - target)^2,
 * target held fixed (a probability tensor).  Adds scale * gradient wrt
 * logits into dlogits when it is not NULL. */
float	consistency_forward_backward(struct tensor *dlogits,
	    const struct tensor *logits, const struct tensor *target,
	    float scale);

/* Adam with decoupled weight decay (AdamW), bias-corrected, as
 * torch.optim.AdamW.  t is the step number: the caller increments it once
 * per training step (to 1 for the first) before calling adam_step on each
 * parameter; m and v start at zero. */
struct adam {
	float		 lr, beta1, beta2, eps, weight_decay;
	int		 t;
};
void	adam_step(struct adam *, struct tensor *param,
	    const struct tensor *grad, struct tensor *m, struct tensor *v);
/* The learning rate at step (0-based) of total: linear warm-up over the
 * first warmup steps, then a half cosine from lr down to 0. */
float	lr_cosine(float lr, int step, int total, int warmup);
/* Scale all gradients so their global L2 norm is at most max; returns
 * the norm before clipping (torch.nn.utils.clip_grad_norm_). */
float	clip_grad_norm(struct tensor **grads, int n, float max);

/* ------------------------------------------------------------------ */
/* safetensors.c: weights on disk. */

struct st_entry {
	char		 name[128];
	struct tensor	*t;
};

struct st_file {
	int		 n;
	struct st_entry	*e;
	/* "__metadata__" pairs, NULL-ended arrays; may be empty. */
	char		**meta_keys;
	char		**meta_values;
};

/* Read and validate a safetensors file (F32 tensors only); -1 and a
 * cause naming the file and the fault on anything malformed. */
int		 st_read(const char *, struct st_file *, char **);
/* Same, from memory. */
int		 st_parse(const unsigned char *, size_t, const char *,
		     struct st_file *, char **);
/* Write atomically (temporary file, fsync, rename). */
int		 st_write(const char *, const struct st_file *, char **);
struct tensor	*st_find(const struct st_file *, const char *);
const char	*st_meta(const struct st_file *, const char *);
void		 st_free(struct st_file *);

/* ------------------------------------------------------------------ */
/* net.c: the CCT network. */

#define NET_PERTURB_NOISE	0	/* multiplicative uniform feature noise */
#define NET_PERTURB_FDROP	1	/* drop the most-attended features */
#define NET_PERTURB_SPDROP	2	/* spatial (channel-wise) dropout */
#define NET_PERTURB_CUTOUT	3	/* zero a random rectangle */
#define NET_NPERTURB		4
#define NET_PERTURB_NONE	(-1)	/* identity: for tests and ablations */

struct net_config {
	int		 classes;	/* output classes */
	int		 width;		/* channels of the first level (16) */
	int		 depth;		/* levels, 4: 16-32-64-128 */
	int		 aux;		/* auxiliary decoders K (4) */
	int		 perturb[16];	/* NET_PERTURB_* of each aux decoder */
	int		 tile;		/* input side in pixels (256) */
	int		 threads;
	uint64_t	 seed;
	int		 augment;	/* flips, rotations, jitter (1) */
	float		 clip;		/* gradient norm limit, 0 none (5) */
};

struct net;

/* Defaults: width 16, depth 4, aux 4 (one of each perturbation). */
void		 net_config_default(struct net_config *, int classes);
/* A new network with He-initialised weights from cfg->seed. */
struct net	*net_new(const struct net_config *);
void		 net_free(struct net *);
const struct net_config *net_config(const struct net *);
/* Weights in and out, by the twin's tensor names; load checks shapes and
 * gives the other settings their defaults. */
int		 net_load(struct net **, const char *, char **);
int		 net_save(const struct net *, const char *, char **);

/* Weights into an existing network of the same shape (classes, width,
 * depth, aux, tile), keeping its other settings. */
int		 net_read_weights(struct net *, const char *, char **);
/* The tensors in the twin's order: count and names. */
int		 net_nparams(const struct net *);
const char	*net_param_name(const struct net *, int);
/* A parameter by its name, or its gradient after the last training step
 * when grad is set (NULL for BN running statistics); NULL if unknown. */
const struct tensor *net_tensor(const struct net *, const char *, int);

/*
 * Inference on n tiles: rgb is n * 3 * tile * tile bytes, HWC order per
 * tile (as decoded JPEG).  prob_main gets n * classes * tile * tile
 * softmax probabilities; prob_aux (NULL to skip) n * aux * classes *
 * tile * tile (tile-major: tile i, then aux k); disagreement[i] (NULL
 * to skip) is the mean over auxiliary decoders, pixels and classes of the
 * squared difference of softmaxes (the consistency loss at inference).
 */
void		 net_infer(struct net *, const uint8_t *rgb, int n,
		     float *prob_main, float *prob_aux, float *disagreement);

/*
 * One CCT training step: nl labelled tiles (rgb, masks of tile*tile bytes
 * with 255 ignored) and nu unlabelled tiles; w_cons weights the
 * consistency loss.  Returns the supervised and consistency losses.
 * When cfg->augment is set, each tile is flipped or rotated (mask too) and
 * its brightness and contrast jittered first.  Increments adam->t.
 */
struct net_losses {
	float		 sup;
	float		 cons;
};
void		 net_train_step(struct net *, struct adam *,
		     const uint8_t *rgb_l, const uint8_t *mask_l, int nl,
		     const uint8_t *rgb_u, int nu, float w_cons,
		     struct net_losses *);
/* FLOPs of one forward pass of every decoder on one tile. */
double		 net_flops(const struct net *);

#endif /* S4LAB_MODEL_H */
