/*
 * net.c: the CCT network of model/ARCH.md.
 *
 * One table of parameters (struct net_param) drives allocation, the
 * safetensors names, the optimizer and the gradient clipping, in the order
 * the PyTorch twin registers them.  Activations live in units: a unit is
 * conv3x3 -> BN -> ReLU and keeps its convolution output (for BN's
 * backward), its ReLU output (the next layer's input) and the gradient of
 * that output, which accumulates from every reader (the next unit, and
 * for an encoder level a decoder's skip connection).  The BN output and
 * the gradients that are consumed at once (dbn, dconv) share two scratch
 * buffers of the largest size.
 *
 * Every buffer is allocated for a batch capacity and used as a view of
 * its first n tiles (net_view), so a training step allocates nothing once
 * the first step has sized the buffers.
 *
 * A training step runs two passes that add into one set of parameter
 * gradients: the labelled batch through encoder and main decoder (cross-
 * entropy), then the unlabelled batch through the encoder, the main
 * decoder as a fixed target, and each auxiliary decoder on its perturbed
 * bottleneck, whose consistency gradient flows back into the encoder.
 * Then the gradients are clipped and AdamW takes a step.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "model.h"

#define NET_MAXDEPTH	8
#define NET_MAXPARAM	(NET_MAXDEPTH * 20 + 2 + 2 * 16)

struct net_param {
	char		 name[64];
	struct tensor	*t;		/* the value */
	struct tensor	*g;		/* gradient, NULL for BN buffers */
	struct tensor	*m, *v;		/* AdamW moments */
};

/* conv3x3 (no bias) -> BN -> ReLU; indices into the parameter table. */
struct net_unit {
	int		 w, gamma, beta, rmean, rvar;
	int		 cin, cout, side;
	struct tensor	*conv;		/* (N,cout,side,side) before BN */
	struct tensor	*out;		/* after ReLU */
	struct tensor	*dout;		/* gradient of out, accumulated */
	struct bn_state	 bs;
};

struct net_level {
	struct net_unit	 u[2];
	struct tensor	*pool, *dpool;	/* encoder levels > 0 */
	int32_t		*argmax;
	struct tensor	*up, *dup;	/* decoder levels */
	struct tensor	*cat, *dcat;
};

struct net {
	struct net_config	 cfg;
	struct rng		 rng;
	int			 np;
	struct net_param	 p[NET_MAXPARAM];
	int			 head_w, head_b;
	int			 aux_w[16], aux_b[16];

	int			 cap;		/* batch capacity of buffers */
	struct net_level	 enc[NET_MAXDEPTH];
	struct net_level	 dec[NET_MAXDEPTH];
	struct tensor		*x, *dx;	/* (N,3,T,T) input */
	struct tensor		*scratch1;	/* BN out, then dbn */
	struct tensor		*scratch2;	/* dconv */
	struct tensor		*logits, *dlogits;	/* (N,cls,T,T) */
	struct tensor		*target;	/* main softmax, fixed */
	struct tensor		*zp, *dzp;	/* perturbed bottleneck */
	struct tensor		*zmask;		/* its multiplier */
	struct tensor		*alog, *dalog;	/* aux logits, small */
	struct tensor		*aup, *daup;	/* aux logits, full size */
	uint8_t			*rgb, *mask;	/* augmented copies */
	float			*attn;		/* (side*side) feature drop */
};

/* Out of memory is fatal in model/ as in src/. */
static void *
net_alloc(size_t size)
{
	void	*p;

	if ((p = calloc(1, size > 0 ? size : 1)) == NULL) {
		fprintf(stderr, "net: out of memory\n");
		abort();
	}
	return (p);
}

static int
net_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
net_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	if (cause != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&s, fmt, ap) == -1)
			s = NULL;
		va_end(ap);
		*cause = s;
	}
	return (-1);
}

/* Use the first n tiles of a buffer allocated for more. */
static void
net_view(struct tensor *t, int n)
{
	if (t == NULL)
		return;
	t->shape[0] = n;
	t->n = (size_t)n * t->shape[1] * t->shape[2] * t->shape[3];
}

void
net_config_default(struct net_config *cfg, int classes)
{
	int	k;

	memset(cfg, 0, sizeof *cfg);
	cfg->classes = classes;
	cfg->width = 16;
	cfg->depth = 4;
	cfg->aux = 4;
	for (k = 0; k < 16; k++)
		cfg->perturb[k] = k % NET_NPERTURB;
	cfg->tile = 256;
	cfg->threads = 2;
	cfg->seed = 1;
	cfg->augment = 1;
	cfg->clip = 5.0f;
}

const struct net_config *
net_config(const struct net *net)
{
	return (&net->cfg);
}

/* Check that a configuration describes a network this file can build. */
static int
net_config_check(const struct net_config *cfg, char **cause)
{
	int	k;

	if (cfg->classes < 2 || cfg->classes > 254)
		return (net_cause(cause, "classes %d not in 2..254",
		    cfg->classes));
	if (cfg->width < 1 || cfg->width > 1024)
		return (net_cause(cause, "width %d not in 1..1024",
		    cfg->width));
	if (cfg->depth < 1 || cfg->depth > NET_MAXDEPTH)
		return (net_cause(cause, "depth %d not in 1..%d", cfg->depth,
		    NET_MAXDEPTH));
	if (cfg->aux < 0 || cfg->aux > 16)
		return (net_cause(cause, "aux %d not in 0..16", cfg->aux));
	if (cfg->tile < 1 || cfg->tile > 8192 ||
	    cfg->tile % (1 << (cfg->depth - 1)) != 0)
		return (net_cause(cause, "tile %d is not a multiple of %d",
		    cfg->tile, 1 << (cfg->depth - 1)));
	if ((cfg->width << (cfg->depth - 1)) > 65536)
		return (net_cause(cause, "width %d too large for depth %d",
		    cfg->width, cfg->depth));
	for (k = 0; k < cfg->aux; k++) {
		if (cfg->perturb[k] < NET_PERTURB_NONE ||
		    cfg->perturb[k] >= NET_NPERTURB)
			return (net_cause(cause, "perturbation %d of aux %d "
			    "unknown", cfg->perturb[k], k));
	}
	return (0);
}

/* Add one parameter to the table; grad says whether it is trained. */
static int
net_param_add(struct net *net, int grad, int ndim, const int *shape,
    const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
net_param_add(struct net *net, int grad, int ndim, const int *shape,
    const char *fmt, ...)
{
	struct net_param	*p;
	va_list			 ap;

	if (net->np == NET_MAXPARAM) {
		fprintf(stderr, "net: too many parameters\n");
		abort();
	}
	p = &net->p[net->np];
	va_start(ap, fmt);
	vsnprintf(p->name, sizeof p->name, fmt, ap);
	va_end(ap);
	p->t = tensor_new(ndim, shape);
	if (grad) {
		p->g = tensor_new(ndim, shape);
		p->m = tensor_new(ndim, shape);
		p->v = tensor_new(ndim, shape);
	}
	return (net->np++);
}

/* The parameters of a unit named PREFIX.conv{k}, PREFIX.bn{k}. */
static void
net_unit_params(struct net *net, struct net_unit *u, const char *prefix,
    int k, int cin, int cout, int side)
{
	int	w[4] = { cout, cin, 3, 3 }, c[1] = { cout };

	u->cin = cin;
	u->cout = cout;
	u->side = side;
	u->w = net_param_add(net, 1, 4, w, "%s.conv%d.weight", prefix, k);
	u->gamma = net_param_add(net, 1, 1, c, "%s.bn%d.weight", prefix, k);
	u->beta = net_param_add(net, 1, 1, c, "%s.bn%d.bias", prefix, k);
	u->rmean = net_param_add(net, 0, 1, c, "%s.bn%d.running_mean", prefix,
	    k);
	u->rvar = net_param_add(net, 0, 1, c, "%s.bn%d.running_var", prefix,
	    k);
}

/* Build the parameter table in the twin's order: enc, dec, head, aux. */
static void
net_build(struct net *net)
{
	const struct net_config	*cfg = &net->cfg;
	char			 prefix[32];
	int			 i, k, ci, cin, side;
	int			 hw[4], hb[1], d = cfg->depth;

	for (i = 0; i < d; i++) {
		ci = cfg->width << i;
		cin = i == 0 ? 3 : cfg->width << (i - 1);
		side = cfg->tile >> i;
		snprintf(prefix, sizeof prefix, "enc.%d", i);
		net_unit_params(net, &net->enc[i].u[0], prefix, 1, cin, ci,
		    side);
		net_unit_params(net, &net->enc[i].u[1], prefix, 2, ci, ci,
		    side);
	}
	for (i = d - 2; i >= 0; i--) {
		ci = cfg->width << i;
		side = cfg->tile >> i;
		snprintf(prefix, sizeof prefix, "dec.%d", i);
		net_unit_params(net, &net->dec[i].u[0], prefix, 1,
		    (cfg->width << (i + 1)) + ci, ci, side);
		net_unit_params(net, &net->dec[i].u[1], prefix, 2, ci, ci,
		    side);
	}
	hw[0] = cfg->classes; hw[1] = cfg->width; hw[2] = hw[3] = 1;
	hb[0] = cfg->classes;
	net->head_w = net_param_add(net, 1, 4, hw, "head.weight");
	net->head_b = net_param_add(net, 1, 1, hb, "head.bias");
	hw[1] = cfg->width << (d - 1);
	for (k = 0; k < cfg->aux; k++) {
		net->aux_w[k] = net_param_add(net, 1, 4, hw, "aux.%d.weight",
		    k);
		net->aux_b[k] = net_param_add(net, 1, 1, hb, "aux.%d.bias", k);
	}
}

/* He initialisation of convolutions, BN at identity, biases zero. */
static void
net_init_weights(struct net *net)
{
	struct net_param	*p;
	struct rng		 r;
	float			 std;
	size_t			 j;
	int			 i, fanin;

	rng_seed(&r, net->cfg.seed ^ 0x5eed5eedULL);
	for (i = 0; i < net->np; i++) {
		p = &net->p[i];
		if (p->t->ndim == 4) {
			fanin = p->t->shape[1] * p->t->shape[2] *
			    p->t->shape[3];
			std = sqrtf(2.0f / fanin);
			for (j = 0; j < p->t->n; j++)
				p->t->data[j] = std * rng_normal(&r);
		} else if (strstr(p->name, ".bn") != NULL &&
		    (strstr(p->name, ".weight") != NULL ||
		    strstr(p->name, "running_var") != NULL)) {
			for (j = 0; j < p->t->n; j++)
				p->t->data[j] = 1.0f;
		} else
			tensor_zero(p->t);
	}
}

struct net *
net_new(const struct net_config *cfg)
{
	struct net	*net;
	char		*cause = NULL;

	if (net_config_check(cfg, &cause) != 0) {
		free(cause);
		return (NULL);
	}
	net = net_alloc(sizeof *net);
	net->cfg = *cfg;
	rng_seed(&net->rng, cfg->seed);
	net_build(net);
	net_init_weights(net);
#ifdef _OPENMP
	if (cfg->threads > 0)
		omp_set_num_threads(cfg->threads);
#endif
	return (net);
}

/* Free the activation buffers (not the parameters). */
static void
net_free_buffers(struct net *net)
{
	struct net_level	*l;
	int			 i, j, side;

	for (i = 0; i < NET_MAXDEPTH; i++) {
		for (side = 0; side < 2; side++) {
			l = side == 0 ? &net->enc[i] : &net->dec[i];
			for (j = 0; j < 2; j++) {
				tensor_free(l->u[j].conv);
				tensor_free(l->u[j].out);
				tensor_free(l->u[j].dout);
				tensor_free(l->u[j].bs.mean);
				tensor_free(l->u[j].bs.invstd);
				l->u[j].conv = l->u[j].out = l->u[j].dout =
				    NULL;
				l->u[j].bs.mean = l->u[j].bs.invstd = NULL;
			}
			tensor_free(l->pool);
			tensor_free(l->dpool);
			tensor_free(l->up);
			tensor_free(l->dup);
			tensor_free(l->cat);
			tensor_free(l->dcat);
			free(l->argmax);
			l->pool = l->dpool = l->up = l->dup = l->cat =
			    l->dcat = NULL;
			l->argmax = NULL;
		}
	}
	tensor_free(net->x);
	tensor_free(net->dx);
	tensor_free(net->scratch1);
	tensor_free(net->scratch2);
	tensor_free(net->logits);
	tensor_free(net->dlogits);
	tensor_free(net->target);
	tensor_free(net->zp);
	tensor_free(net->dzp);
	tensor_free(net->zmask);
	tensor_free(net->alog);
	tensor_free(net->dalog);
	tensor_free(net->aup);
	tensor_free(net->daup);
	free(net->rgb);
	free(net->mask);
	free(net->attn);
	net->x = net->dx = net->scratch1 = net->scratch2 = NULL;
	net->logits = net->dlogits = net->target = NULL;
	net->zp = net->dzp = net->zmask = NULL;
	net->alog = net->dalog = net->aup = net->daup = NULL;
	net->rgb = net->mask = NULL;
	net->attn = NULL;
	net->cap = 0;
}

static void
net_unit_buffers(struct net_unit *u, int n)
{
	u->conv = tensor_new4(n, u->cout, u->side, u->side);
	u->out = tensor_new4(n, u->cout, u->side, u->side);
	u->dout = tensor_new4(n, u->cout, u->side, u->side);
}

/* Make sure the buffers hold n tiles; allocates only when n grows. */
static void
net_reserve(struct net *net, int n)
{
	const struct net_config	*cfg = &net->cfg;
	struct net_level	*l;
	size_t			 big, sz;
	int			 i, d = cfg->depth, T = cfg->tile, ci, s;
	int			 zc, zs, cls = cfg->classes;

	if (n <= net->cap)
		return;
	net_free_buffers(net);
	net->cap = n;
	big = 0;
	for (i = 0; i < d; i++) {
		l = &net->enc[i];
		ci = cfg->width << i;
		s = T >> i;
		if (i > 0) {
			l->pool = tensor_new4(n, cfg->width << (i - 1), s, s);
			l->dpool = tensor_new4(n, cfg->width << (i - 1), s, s);
			l->argmax = net_alloc(l->pool->n * sizeof *l->argmax);
		}
		net_unit_buffers(&l->u[0], n);
		net_unit_buffers(&l->u[1], n);
		sz = (size_t)n * ci * s * s;
		big = sz > big ? sz : big;
	}
	for (i = d - 2; i >= 0; i--) {
		l = &net->dec[i];
		ci = cfg->width << i;
		s = T >> i;
		l->up = tensor_new4(n, cfg->width << (i + 1), s, s);
		l->dup = tensor_new4(n, cfg->width << (i + 1), s, s);
		l->cat = tensor_new4(n, (cfg->width << (i + 1)) + ci, s, s);
		l->dcat = tensor_new4(n, (cfg->width << (i + 1)) + ci, s, s);
		net_unit_buffers(&l->u[0], n);
		net_unit_buffers(&l->u[1], n);
	}
	net->scratch1 = tensor_new4(1, 1, 1, big);
	net->scratch2 = tensor_new4(1, 1, 1, big);
	net->x = tensor_new4(n, 3, T, T);
	net->dx = tensor_new4(n, 3, T, T);
	net->logits = tensor_new4(n, cls, T, T);
	net->dlogits = tensor_new4(n, cls, T, T);
	net->target = tensor_new4(n, cls, T, T);
	zc = cfg->width << (d - 1);
	zs = T >> (d - 1);
	net->zp = tensor_new4(n, zc, zs, zs);
	net->dzp = tensor_new4(n, zc, zs, zs);
	net->zmask = tensor_new4(n, zc, zs, zs);
	net->alog = tensor_new4(n, cls, zs, zs);
	net->dalog = tensor_new4(n, cls, zs, zs);
	net->aup = tensor_new4(n, cls, T, T);
	net->daup = tensor_new4(n, cls, T, T);
	/* One more tile each: the source of an augmentation. */
	net->rgb = net_alloc((size_t)(n + 1) * 3 * T * T);
	net->mask = net_alloc((size_t)(n + 1) * T * T);
	net->attn = net_alloc((size_t)zs * zs * sizeof *net->attn);
}

/* Set every activation buffer to a batch of n tiles. */
static void
net_views(struct net *net, int n)
{
	struct net_level	*l;
	int			 i, j, side;

	for (i = 0; i < net->cfg.depth; i++) {
		for (side = 0; side < 2; side++) {
			l = side == 0 ? &net->enc[i] : &net->dec[i];
			for (j = 0; j < 2; j++) {
				net_view(l->u[j].conv, n);
				net_view(l->u[j].out, n);
				net_view(l->u[j].dout, n);
			}
			net_view(l->pool, n);
			net_view(l->dpool, n);
			net_view(l->up, n);
			net_view(l->dup, n);
			net_view(l->cat, n);
			net_view(l->dcat, n);
		}
	}
	net_view(net->x, n);
	net_view(net->dx, n);
	net_view(net->logits, n);
	net_view(net->dlogits, n);
	net_view(net->target, n);
	net_view(net->zp, n);
	net_view(net->dzp, n);
	net_view(net->zmask, n);
	net_view(net->alog, n);
	net_view(net->dalog, n);
	net_view(net->aup, n);
	net_view(net->daup, n);
}

void
net_free(struct net *net)
{
	int	i;

	if (net == NULL)
		return;
	net_free_buffers(net);
	for (i = 0; i < net->np; i++) {
		tensor_free(net->p[i].t);
		tensor_free(net->p[i].g);
		tensor_free(net->p[i].m);
		tensor_free(net->p[i].v);
	}
	free(net);
}

/* ------------------------------------------------------------------ */
/* Forward and backward of the pieces. */

/* A scratch buffer shaped like t (same n). */
static struct tensor *
net_scratch(struct tensor *s, const struct tensor *t)
{
	memcpy(s->shape, t->shape, sizeof s->shape);
	s->ndim = t->ndim;
	s->n = t->n;
	return (s);
}

/* inp -> conv -> BN -> ReLU into u->out. */
static void
net_unit_forward(struct net *net, struct net_unit *u,
    const struct tensor *inp, int training)
{
	struct net_param	*p = net->p;
	struct tensor		*bn;

	bn = net_scratch(net->scratch1, u->conv);
	conv_forward(u->conv, inp, p[u->w].t, NULL);
	bn_forward(bn, u->conv, p[u->gamma].t, p[u->beta].t, p[u->rmean].t,
	    p[u->rvar].t, &u->bs, training);
	relu_forward(u->out, bn);
}

/* From u->dout back to dinp (added), and into the unit's gradients. */
static void
net_unit_backward(struct net *net, struct net_unit *u,
    const struct tensor *inp, struct tensor *dinp)
{
	struct net_param	*p = net->p;
	struct tensor		*dbn, *dconv;

	dbn = net_scratch(net->scratch1, u->out);
	dconv = net_scratch(net->scratch2, u->conv);
	tensor_zero(dbn);
	tensor_zero(dconv);
	relu_backward(dbn, u->dout, u->out);
	bn_backward(dconv, p[u->gamma].g, p[u->beta].g, dbn, u->conv,
	    p[u->gamma].t, &u->bs);
	conv_backward(dinp, p[u->w].g, NULL, dconv, inp, p[u->w].t);
}

/* Bytes (HWC) to the input tensor (N,3,T,T), x = v / 127.5 - 1. */
static void
net_input(struct net *net, const uint8_t *rgb, int n)
{
	size_t	P = (size_t)net->cfg.tile * net->cfg.tile, p;
	int	i, c;
	float	*x;

	for (i = 0; i < n; i++) {
		for (c = 0; c < 3; c++) {
			x = net->x->data + ((size_t)i * 3 + c) * P;
			for (p = 0; p < P; p++)
				x[p] = rgb[((size_t)i * P + p) * 3 + c] /
				    127.5f - 1.0f;
		}
	}
}

/* The encoder on net->x; the bottleneck is the last level's out. */
static void
net_encoder_forward(struct net *net, int training)
{
	struct net_level	*l;
	const struct tensor	*in = net->x;
	int			 i;

	for (i = 0; i < net->cfg.depth; i++) {
		l = &net->enc[i];
		if (i > 0) {
			maxpool_forward(l->pool, in, l->argmax);
			in = l->pool;
		}
		net_unit_forward(net, &l->u[0], in, training);
		net_unit_forward(net, &l->u[1], l->u[0].out, training);
		in = l->u[1].out;
	}
}

static struct tensor *
net_bottleneck(struct net *net)
{
	return (net->enc[net->cfg.depth - 1].u[1].out);
}

/* The main decoder and head; logits in net->logits. */
static void
net_decoder_forward(struct net *net, int training)
{
	struct net_level	*l;
	struct tensor		*in = net_bottleneck(net);
	int			 i;

	for (i = net->cfg.depth - 2; i >= 0; i--) {
		l = &net->dec[i];
		upsample2_forward(l->up, in);
		concat_forward(l->cat, l->up, net->enc[i].u[1].out);
		net_unit_forward(net, &l->u[0], l->cat, training);
		net_unit_forward(net, &l->u[1], l->u[0].out, training);
		in = l->u[1].out;
	}
	conv_forward(net->logits, in, net->p[net->head_w].t,
	    net->p[net->head_b].t);
}

/* Zero the gradients of the activations (they accumulate). */
static void
net_zero_dact(struct net *net, int decoder)
{
	struct net_level	*l;
	int			 i;

	for (i = 0; i < net->cfg.depth; i++) {
		l = &net->enc[i];
		tensor_zero(l->u[0].dout);
		tensor_zero(l->u[1].dout);
		if (l->dpool != NULL)
			tensor_zero(l->dpool);
		if (!decoder || i == net->cfg.depth - 1)
			continue;
		l = &net->dec[i];
		tensor_zero(l->u[0].dout);
		tensor_zero(l->u[1].dout);
		tensor_zero(l->dup);
		tensor_zero(l->dcat);
	}
	tensor_zero(net->dx);
}

/* Main decoder backward from net->dlogits into the encoder's douts. */
static void
net_decoder_backward(struct net *net)
{
	struct net_level	*l;
	struct tensor		*in, *din;
	int			 i, d = net->cfg.depth;

	in = d > 1 ? net->dec[0].u[1].out : net_bottleneck(net);
	din = d > 1 ? net->dec[0].u[1].dout : net->enc[0].u[1].dout;
	conv_backward(din, net->p[net->head_w].g, net->p[net->head_b].g,
	    net->dlogits, in, net->p[net->head_w].t);
	for (i = 0; i <= d - 2; i++) {
		l = &net->dec[i];
		net_unit_backward(net, &l->u[1], l->u[0].out, l->u[0].dout);
		net_unit_backward(net, &l->u[0], l->cat, l->dcat);
		concat_backward(l->dup, net->enc[i].u[1].dout, l->dcat);
		din = i + 1 <= d - 2 ? net->dec[i + 1].u[1].dout :
		    net->enc[d - 1].u[1].dout;
		upsample2_backward(din, l->dup);
	}
}

/* Encoder backward from the douts of its levels down to net->dx. */
static void
net_encoder_backward(struct net *net)
{
	struct net_level	*l;
	const struct tensor	*in;
	struct tensor		*din;
	int			 i;

	for (i = net->cfg.depth - 1; i >= 0; i--) {
		l = &net->enc[i];
		in = i > 0 ? l->pool : net->x;
		din = i > 0 ? l->dpool : net->dx;
		net_unit_backward(net, &l->u[1], l->u[0].out, l->u[0].dout);
		net_unit_backward(net, &l->u[0], in, din);
		if (i > 0)
			maxpool_backward(net->enc[i - 1].u[1].dout, l->dpool,
			    l->argmax);
	}
}

/* ------------------------------------------------------------------ */
/* Perturbations of the bottleneck z: each is z * mask, mask fixed. */

/* Multiplicative noise: mask = 1 + u, u ~ U(-0.3, 0.3). */
static void
net_perturb_noise(struct net *net, float *mask, size_t n)
{
	size_t	j;

	for (j = 0; j < n; j++)
		mask[j] = 1.0f + (rng_uniform(&net->rng) * 0.6f - 0.3f);
}

/* Drop the positions whose normalised channel mean is above t. */
static void
net_perturb_fdrop(struct net *net, const float *z, float *mask, int C,
    size_t P)
{
	float	mn, mx, t, *a = net->attn;
	size_t	p;
	int	c;

	for (p = 0; p < P; p++)
		a[p] = 0;
	for (c = 0; c < C; c++) {
		for (p = 0; p < P; p++)
			a[p] += z[(size_t)c * P + p];
	}
	mn = mx = a[0] / C;
	for (p = 0; p < P; p++) {
		a[p] /= C;
		mn = a[p] < mn ? a[p] : mn;
		mx = a[p] > mx ? a[p] : mx;
	}
	t = 0.6f + 0.3f * rng_uniform(&net->rng);
	for (p = 0; p < P; p++) {
		a[p] = mx > mn ? (a[p] - mn) / (mx - mn) : 0;
		mask[p] = a[p] > t ? 0.0f : 1.0f;
	}
	for (c = 1; c < C; c++)
		memcpy(mask + (size_t)c * P, mask, P * sizeof *mask);
}

/* Each channel zeroed with p = 0.5, the rest doubled. */
static void
net_perturb_spdrop(struct net *net, float *mask, int C, size_t P)
{
	size_t	p;
	int	c;
	float	v;

	for (c = 0; c < C; c++) {
		v = rng_uniform(&net->rng) < 0.5f ? 0.0f : 2.0f;
		for (p = 0; p < P; p++)
			mask[(size_t)c * P + p] = v;
	}
}

/* A side between 1/4 and 1/2 of s (at least 1). */
static int
net_cutout_side(struct net *net, int s)
{
	int	lo = s / 4, hi = s / 2;

	lo = lo < 1 ? 1 : lo;
	hi = hi < lo ? lo : hi;
	return (lo + (int)(rng_uniform(&net->rng) * (hi - lo + 1)) %
	    (hi - lo + 1));
}

/* Zero one rectangle, sides 1/4..1/2 of the feature map's. */
static void
net_perturb_cutout(struct net *net, float *mask, int C, int s)
{
	int	h, w, y0, x0, y, x, c;
	size_t	P = (size_t)s * s;

	h = net_cutout_side(net, s);
	w = net_cutout_side(net, s);
	y0 = (int)(rng_uniform(&net->rng) * (s - h + 1)) % (s - h + 1);
	x0 = (int)(rng_uniform(&net->rng) * (s - w + 1)) % (s - w + 1);
	for (c = 0; c < C; c++) {
		for (y = 0; y < s; y++) {
			for (x = 0; x < s; x++) {
				mask[c * P + (size_t)y * s + x] =
				    (y >= y0 && y < y0 + h && x >= x0 &&
				    x < x0 + w) ? 0.0f : 1.0f;
			}
		}
	}
}

/* net->zp = perturbation kind of z, net->zmask its multiplier. */
static void
net_perturb(struct net *net, int kind)
{
	const struct tensor	*z = net_bottleneck(net);
	int			 N = z->shape[0], C = z->shape[1];
	int			 s = z->shape[2], i;
	size_t			 P = (size_t)s * s, j, per = C * P;
	float			*mask;

	for (i = 0; i < N; i++) {
		mask = net->zmask->data + i * per;
		switch (kind) {
		case NET_PERTURB_NOISE:
			net_perturb_noise(net, mask, per);
			break;
		case NET_PERTURB_FDROP:
			net_perturb_fdrop(net, z->data + i * per, mask, C, P);
			break;
		case NET_PERTURB_SPDROP:
			net_perturb_spdrop(net, mask, C, P);
			break;
		case NET_PERTURB_CUTOUT:
			net_perturb_cutout(net, mask, C, s);
			break;
		default:
			for (j = 0; j < per; j++)
				mask[j] = 1.0f;
			break;
		}
	}
	for (j = 0; j < z->n; j++)
		net->zp->data[j] = z->data[j] * net->zmask->data[j];
}

/* Auxiliary decoder k on in: logits (N,cls,T,T) in net->aup. */
static void
net_aux_forward(struct net *net, int k, const struct tensor *in)
{
	conv_forward(net->alog, in, net->p[net->aux_w[k]].t,
	    net->p[net->aux_b[k]].t);
	bilinear_forward(net->aup, net->alog, 1 << (net->cfg.depth - 1));
}

/* ------------------------------------------------------------------ */
/* Augmentation: one of the eight flips and rotations of the square,
 * the same for tile and mask, then brightness and contrast on the tile. */

static void
net_augment(struct net *net, uint8_t *rgb, uint8_t *mask, int n)
{
	int		 T = net->cfg.tile, i, y, x, sy, sx, t, op, c;
	size_t		 P = (size_t)T * T;
	uint8_t		*src_rgb, *src_mask, *dr, *dm;
	float		 gain, bias, v;

	for (i = 0; i < n; i++) {
		op = (int)(rng_uniform(&net->rng) * 8) & 7;
		gain = 0.8f + 0.4f * rng_uniform(&net->rng);
		bias = 40.0f * rng_uniform(&net->rng) - 20.0f;
		dr = rgb + i * P * 3;
		dm = mask != NULL ? mask + i * P : NULL;

		/* Transform from the spare tile at the end of the buffers. */
		src_rgb = net->rgb + (size_t)net->cap * P * 3;
		src_mask = net->mask + (size_t)net->cap * P;
		memcpy(src_rgb, dr, P * 3);
		if (dm != NULL)
			memcpy(src_mask, dm, P);
		for (y = 0; y < T; y++) {
			for (x = 0; x < T; x++) {
				sy = y;
				sx = (op & 4) ? T - 1 - x : x;
				for (t = 0; t < (op & 3); t++) {
					c = sy;
					sy = sx;
					sx = T - 1 - c;
				}
				for (c = 0; c < 3; c++) {
					v = src_rgb[((size_t)sy * T + sx) * 3 +
					    c];
					v = (v - 128.0f) * gain + 128.0f + bias;
					v = v < 0 ? 0 : v > 255 ? 255 : v;
					dr[((size_t)y * T + x) * 3 + c] =
					    (uint8_t)lrintf(v);
				}
				if (dm != NULL)
					dm[(size_t)y * T + x] =
					    src_mask[(size_t)sy * T + sx];
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Inference. */

void
net_infer(struct net *net, const uint8_t *rgb, int n, float *prob_main,
    float *prob_aux, float *disagreement)
{
	const struct net_config	*cfg = &net->cfg;
	size_t			 P = (size_t)cfg->tile * cfg->tile;
	size_t			 per = (size_t)cfg->classes * P, j;
	int			 i, k, chunk, b, m;
	double			 sum;
	float			 dd;

	chunk = net->cap > 0 ? net->cap : 1;
	net_reserve(net, chunk);
	for (i = 0; i < n; i += chunk) {
		m = n - i < chunk ? n - i : chunk;
		net_views(net, m);
		net_input(net, rgb + (size_t)i * P * 3, m);
		net_encoder_forward(net, 0);
		net_decoder_forward(net, 0);
		softmax_forward(net->target, net->logits);
		if (prob_main != NULL)
			memcpy(prob_main + i * per, net->target->data,
			    m * per * sizeof *prob_main);
		if (disagreement != NULL) {
			for (b = 0; b < m; b++)
				disagreement[i + b] = 0;
		}
		for (k = 0; k < cfg->aux; k++) {
			net_aux_forward(net, k, net_bottleneck(net));
			softmax_forward(net->daup, net->aup);
			for (b = 0; b < m; b++) {
				if (prob_aux != NULL)
					memcpy(prob_aux + ((size_t)(i + b) *
					    cfg->aux + k) * per,
					    net->daup->data + b * per,
					    per * sizeof *prob_aux);
				if (disagreement == NULL)
					continue;
				sum = 0;
				for (j = 0; j < per; j++) {
					dd = net->daup->data[b * per + j] -
					    net->target->data[b * per + j];
					sum += dd * dd;
				}
				disagreement[i + b] += sum / per / cfg->aux;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Training. */

/* The supervised pass: CE of the main decoder on nl labelled tiles. */
static float
net_pass_labelled(struct net *net, const uint8_t *rgb, const uint8_t *mask,
    int nl)
{
	float	loss;

	net_views(net, nl);
	net_input(net, rgb, nl);
	net_encoder_forward(net, 1);
	net_decoder_forward(net, 1);
	tensor_zero(net->dlogits);
	loss = ce_forward_backward(net->dlogits, net->logits, mask, 1.0f);
	net_zero_dact(net, 1);
	net_decoder_backward(net);
	net_encoder_backward(net);
	return (loss);
}

/* The consistency pass on nu unlabelled tiles; returns the mean MSE. */
static float
net_pass_unlabelled(struct net *net, const uint8_t *rgb, int nu, float w)
{
	struct tensor	*dz;
	float		 loss = 0;
	size_t		 j;
	int		 k, K = net->cfg.aux;

	net_views(net, nu);
	net_input(net, rgb, nu);
	net_encoder_forward(net, 1);
	net_decoder_forward(net, 1);
	softmax_forward(net->target, net->logits);
	net_zero_dact(net, 0);
	dz = net->enc[net->cfg.depth - 1].u[1].dout;

	/* Each auxiliary decoder: forward and backward to dz at once. */
	for (k = 0; k < K; k++) {
		net_perturb(net, net->cfg.perturb[k]);
		net_aux_forward(net, k, net->zp);
		tensor_zero(net->daup);
		tensor_zero(net->dalog);
		tensor_zero(net->dzp);
		loss += consistency_forward_backward(net->daup, net->aup,
		    net->target, w / K);
		bilinear_backward(net->dalog, net->daup,
		    1 << (net->cfg.depth - 1));
		conv_backward(net->dzp, net->p[net->aux_w[k]].g,
		    net->p[net->aux_b[k]].g, net->dalog, net->zp,
		    net->p[net->aux_w[k]].t);
		for (j = 0; j < dz->n; j++)
			dz->data[j] += net->dzp->data[j] * net->zmask->data[j];
	}
	net_encoder_backward(net);
	return (K > 0 ? loss / K : 0);
}

void
net_train_step(struct net *net, struct adam *adam, const uint8_t *rgb_l,
    const uint8_t *mask_l, int nl, const uint8_t *rgb_u, int nu,
    float w_cons, struct net_losses *losses)
{
	struct tensor	*grads[NET_MAXPARAM];
	size_t		 P = (size_t)net->cfg.tile * net->cfg.tile;
	int		 i, ng, n;

	n = nl > nu ? nl : nu;
	net_reserve(net, n);
	for (i = 0; i < net->np; i++) {
		if (net->p[i].g != NULL)
			tensor_zero(net->p[i].g);
	}
	losses->sup = losses->cons = 0;

	if (nl > 0) {
		memcpy(net->rgb, rgb_l, nl * P * 3);
		memcpy(net->mask, mask_l, nl * P);
		if (net->cfg.augment)
			net_augment(net, net->rgb, net->mask, nl);
		losses->sup = net_pass_labelled(net, net->rgb, net->mask, nl);
	}
	if (nu > 0 && net->cfg.aux > 0 && w_cons > 0) {
		memcpy(net->rgb, rgb_u, nu * P * 3);
		if (net->cfg.augment)
			net_augment(net, net->rgb, NULL, nu);
		losses->cons = net_pass_unlabelled(net, net->rgb, nu, w_cons);
	}

	/* Clip, then one AdamW step over every trained tensor. */
	for (i = ng = 0; i < net->np; i++) {
		if (net->p[i].g != NULL)
			grads[ng++] = net->p[i].g;
	}
	if (net->cfg.clip > 0)
		clip_grad_norm(grads, ng, net->cfg.clip);
	adam->t++;
	for (i = 0; i < net->np; i++) {
		if (net->p[i].g != NULL)
			adam_step(adam, net->p[i].t, net->p[i].g, net->p[i].m,
			    net->p[i].v);
	}
}

/* ------------------------------------------------------------------ */
/* Weights on disk. */

const struct tensor *
net_tensor(const struct net *net, const char *name, int grad)
{
	int	i;

	for (i = 0; i < net->np; i++) {
		if (strcmp(net->p[i].name, name) == 0)
			return (grad ? net->p[i].g : net->p[i].t);
	}
	return (NULL);
}

int
net_save(const struct net *net, const char *path, char **cause)
{
	struct st_file	 st;
	struct st_entry	*e;
	char		*keys[7], *values[7], buf[6][16];
	int		 i, rc;

	memset(&st, 0, sizeof st);
	e = net_alloc(net->np * sizeof *e);
	for (i = 0; i < net->np; i++) {
		snprintf(e[i].name, sizeof e[i].name, "%s", net->p[i].name);
		e[i].t = net->p[i].t;
	}
	st.n = net->np;
	st.e = e;
	snprintf(buf[0], sizeof buf[0], "s4lab");
	snprintf(buf[1], sizeof buf[1], "%d", net->cfg.classes);
	snprintf(buf[2], sizeof buf[2], "%d", net->cfg.width);
	snprintf(buf[3], sizeof buf[3], "%d", net->cfg.depth);
	snprintf(buf[4], sizeof buf[4], "%d", net->cfg.aux);
	snprintf(buf[5], sizeof buf[5], "%d", net->cfg.tile);
	keys[0] = "format"; keys[1] = "classes"; keys[2] = "width";
	keys[3] = "depth"; keys[4] = "aux"; keys[5] = "tile"; keys[6] = NULL;
	for (i = 0; i < 6; i++)
		values[i] = buf[i];
	values[6] = NULL;
	st.meta_keys = keys;
	st.meta_values = values;
	rc = st_write(path, &st, cause);
	free(e);
	return (rc);
}

/* A decimal metadata value in lo..hi. */
static int
net_meta_int(const struct st_file *st, const char *key, int lo, int hi,
    int *v, const char *path, char **cause)
{
	const char	*s = st_meta(st, key);
	char		*end;
	long		 l;

	if (s == NULL)
		return (net_cause(cause, "%s: metadata \"%s\" missing", path,
		    key));
	l = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || l < lo || l > hi)
		return (net_cause(cause, "%s: metadata \"%s\" is \"%s\", not "
		    "a number in %d..%d", path, key, s, lo, hi));
	*v = l;
	return (0);
}

/* The configuration a weights file describes (shape fields only). */
static int
net_read_config(const struct st_file *st, struct net_config *cfg,
    const char *path, char **cause)
{
	const char	*fmt;
	char		*why = NULL;
	int		 classes;

	fmt = st_meta(st, "format");
	if (fmt == NULL || strcmp(fmt, "s4lab") != 0)
		return (net_cause(cause, "%s: not s4lab weights (metadata "
		    "format is %s)", path, fmt == NULL ? "missing" : fmt));
	if (net_meta_int(st, "classes", 2, 254, &classes, path, cause) != 0)
		return (-1);
	net_config_default(cfg, classes);
	if (net_meta_int(st, "width", 1, 1024, &cfg->width, path,
	    cause) != 0 ||
	    net_meta_int(st, "depth", 1, NET_MAXDEPTH, &cfg->depth, path,
	    cause) != 0 ||
	    net_meta_int(st, "aux", 0, 16, &cfg->aux, path, cause) != 0 ||
	    net_meta_int(st, "tile", 1, 8192, &cfg->tile, path, cause) != 0)
		return (-1);
	if (net_config_check(cfg, &why) != 0) {
		net_cause(cause, "%s: %s", path, why);
		free(why);
		return (-1);
	}
	return (0);
}

/* Copy every tensor of st into net, checking names and shapes. */
static int
net_copy_weights(struct net *net, const struct st_file *st,
    const char *path, char **cause)
{
	struct tensor	*t, *p;
	size_t		 j;
	int		 i;

	if (st->n != net->np)
		return (net_cause(cause, "%s: %d tensors, expected %d", path,
		    st->n, net->np));
	for (i = 0; i < net->np; i++) {
		p = net->p[i].t;
		t = st_find(st, net->p[i].name);
		if (t == NULL)
			return (net_cause(cause, "%s: tensor \"%s\" missing",
			    path, net->p[i].name));
		if (t->ndim != p->ndim || memcmp(t->shape, p->shape,
		    p->ndim * sizeof *p->shape) != 0)
			return (net_cause(cause, "%s: tensor \"%s\" has the "
			    "wrong shape", path, net->p[i].name));
	}
	for (i = 0; i < net->np; i++) {
		t = st_find(st, net->p[i].name);
		for (j = 0; j < t->n; j++) {
			if (!isfinite(t->data[j]))
				return (net_cause(cause, "%s: tensor \"%s\" "
				    "has a non-finite weight (%g at %zu)",
				    path, net->p[i].name, (double)t->data[j],
				    j));
		}
	}
	for (i = 0; i < net->np; i++) {
		p = net->p[i].t;
		t = st_find(st, net->p[i].name);
		memcpy(p->data, t->data, p->n * sizeof *p->data);
	}
	return (0);
}

int
net_read_weights(struct net *net, const char *path, char **cause)
{
	struct net_config	 cfg;
	struct st_file		 st;
	int			 rc = -1;

	if (st_read(path, &st, cause) != 0)
		return (-1);
	if (net_read_config(&st, &cfg, path, cause) != 0)
		goto out;
	if (cfg.classes != net->cfg.classes || cfg.width != net->cfg.width ||
	    cfg.depth != net->cfg.depth || cfg.aux != net->cfg.aux ||
	    cfg.tile != net->cfg.tile) {
		net_cause(cause, "%s: weights for classes %d width %d depth %d "
		    "aux %d tile %d, not %d %d %d %d %d", path, cfg.classes,
		    cfg.width, cfg.depth, cfg.aux, cfg.tile, net->cfg.classes,
		    net->cfg.width, net->cfg.depth, net->cfg.aux,
		    net->cfg.tile);
		goto out;
	}
	rc = net_copy_weights(net, &st, path, cause);

out:
	st_free(&st);
	return (rc);
}

int
net_load(struct net **netp, const char *path, char **cause)
{
	struct net_config	 cfg;
	struct st_file		 st;
	struct net		*net;
	int			 rc = -1;

	*netp = NULL;
	if (st_read(path, &st, cause) != 0)
		return (-1);
	if (net_read_config(&st, &cfg, path, cause) != 0)
		goto out;
	net = net_new(&cfg);
	if (net_copy_weights(net, &st, path, cause) != 0) {
		net_free(net);
		goto out;
	}
	*netp = net;
	rc = 0;

out:
	st_free(&st);
	return (rc);
}

int
net_nparams(const struct net *net)
{
	return (net->np);
}

const char *
net_param_name(const struct net *net, int i)
{
	return (i >= 0 && i < net->np ? net->p[i].name : NULL);
}

/* ------------------------------------------------------------------ */

double
net_flops(const struct net *net)
{
	const struct net_param	*p;
	double			 f = 0, side;
	int			 i, T = net->cfg.tile;

	/* 2 * K * C * k * k per output pixel of every convolution. */
	for (i = 0; i < net->np; i++) {
		p = &net->p[i];
		if (p->t->ndim != 4)
			continue;
		if (strncmp(p->name, "enc.", 4) == 0 ||
		    strncmp(p->name, "dec.", 4) == 0)
			side = T >> atoi(p->name + 4);
		else if (strncmp(p->name, "head", 4) == 0)
			side = T;
		else
			side = T >> (net->cfg.depth - 1);
		f += 2.0 * p->t->n * side * side;
	}
	return (f);
}
