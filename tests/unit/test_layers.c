/*
 * Unit tests for tensor.c, layers.c and conv.c.
 *
 * Every backward pass is checked against central finite differences of
 * the scalar L = sum(out * R) for a random R, which makes dout = R.  The
 * gradients are filled with 1 before backward so the test also pins that
 * backward passes add into them.  Forward passes are checked against
 * values worked out by hand.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "model.h"
#include "model-int.h"

#define GRAD_PREFILL	1.0f

/* The forward pass of the layer under test, giving L in double. */
typedef double (*loss_fn)(void *);

static struct rng	test_rng;

/* Fill t with uniform values in [lo, hi). */
static void
fill_uniform(struct tensor *t, float lo, float hi)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		t->data[i] = lo + (hi - lo) * rng_uniform(&test_rng);
}

static void
fill_value(struct tensor *t, float v)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		t->data[i] = v;
}

/* sum(out * r) in double. */
static double
dot(const struct tensor *out, const struct tensor *r)
{
	double	s = 0;
	size_t	i;

	assert_int_equal(out->n, r->n);
	for (i = 0; i < out->n; i++)
		s += (double)out->data[i] * r->data[i];
	return (s);
}

/*
 * Compare grad - GRAD_PREFILL with the central difference of f over every
 * element of x; the largest difference, relative to the largest gradient,
 * must stay under tol.
 */
static void
check_grad(const char *name, struct tensor *x, const struct tensor *grad,
    loss_fn f, void *ctx, float eps, double tol)
{
	double	num, ana, diff, maxdiff, maxgrad, h;
	float	save;
	size_t	i;

	assert_int_equal(x->n, grad->n);
	maxdiff = maxgrad = 0;
	for (i = 0; i < x->n; i++) {
		save = x->data[i];
		x->data[i] = save + eps;
		num = f(ctx);
		x->data[i] = save - eps;
		num -= f(ctx);
		x->data[i] = save;
		/* The step the floats really took. */
		h = (double)(float)(save + eps) - (double)(float)(save - eps);
		num /= h;
		ana = grad->data[i] - GRAD_PREFILL;
		diff = fabs(num - ana);
		if (diff > maxdiff)
			maxdiff = diff;
		if (fabs(num) > maxgrad)
			maxgrad = fabs(num);
	}
	if (maxgrad < 1e-6)
		maxgrad = 1e-6;
	print_message("%-24s max |diff| %.3g, relative %.3g\n", name, maxdiff,
	    maxdiff / maxgrad);
	assert_true(maxdiff / maxgrad < tol);
}

/* ------------------------------------------------------------------ */
/* Convolution. */

struct conv_ctx {
	struct tensor	*inp, *weight, *bias, *out, *r;
};

static double
conv_loss(void *p)
{
	struct conv_ctx	*c = p;

	conv_forward(c->out, c->inp, c->weight, c->bias);
	return (dot(c->out, c->r));
}

static void
conv_check(int ks, int with_bias)
{
	struct conv_ctx	 c;
	struct tensor	*dinp, *dweight, *dbias = NULL;
	int		 N = 2, C = 3, K = 4, H = 6, W = 5;
	int		 bshape[1] = { K };

	c.inp = tensor_new4(N, C, H, W);
	c.weight = tensor_new4(K, C, ks, ks);
	c.bias = with_bias ? tensor_new(1, bshape) : NULL;
	c.out = tensor_new4(N, K, H, W);
	c.r = tensor_new4(N, K, H, W);
	fill_uniform(c.inp, -1, 1);
	fill_uniform(c.weight, -1, 1);
	fill_uniform(c.r, -1, 1);
	dinp = tensor_new4(N, C, H, W);
	dweight = tensor_new4(K, C, ks, ks);
	fill_value(dinp, GRAD_PREFILL);
	fill_value(dweight, GRAD_PREFILL);
	if (with_bias) {
		fill_uniform(c.bias, -1, 1);
		dbias = tensor_new(1, bshape);
		fill_value(dbias, GRAD_PREFILL);
	}

	conv_forward(c.out, c.inp, c.weight, c.bias);
	conv_backward(dinp, dweight, dbias, c.r, c.inp, c.weight);
	check_grad("conv dinp", c.inp, dinp, conv_loss, &c, 1e-2f, 1e-2);
	check_grad("conv dweight", c.weight, dweight, conv_loss, &c, 1e-2f,
	    1e-2);
	if (with_bias) {
		check_grad("conv dbias", c.bias, dbias, conv_loss, &c, 1e-2f,
		    1e-2);
	}

	tensor_free(c.inp); tensor_free(c.weight); tensor_free(c.bias);
	tensor_free(c.out); tensor_free(c.r); tensor_free(dinp);
	tensor_free(dweight); tensor_free(dbias);
}

static void
conv3x3_backward_matches_differences(void **state)
{
	conv_check(3, 0);
	conv_check(3, 1);
}

static void
conv1x1_backward_matches_differences(void **state)
{
	conv_check(1, 1);
}

/* All-ones 3x3 kernel on all-ones input counts the in-bounds taps. */
static void
conv3x3_forward_pads_with_zeros(void **state)
{
	struct tensor	*inp, *weight, *out;
	const float	 want[16] = {
		4, 6, 6, 4,  6, 9, 9, 6,  6, 9, 9, 6,  4, 6, 6, 4
	};
	int		 i, k;

	inp = tensor_new4(1, 2, 4, 4);
	weight = tensor_new4(2, 2, 3, 3);
	out = tensor_new4(1, 2, 4, 4);
	fill_value(inp, 1);
	fill_value(weight, 1);
	/* Second output channel: the centre tap of input channel 1 only. */
	memset(weight->data + 18, 0, 18 * sizeof (float));
	weight->data[18 + 9 + 4] = 3;
	conv_forward(out, inp, weight, NULL);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 16; i++) {
			assert_float_equal(out->data[k * 16 + i],
			    k == 0 ? 2 * want[i] : 3, 1e-6);
		}
	}
	tensor_free(inp); tensor_free(weight); tensor_free(out);
}

/* Largest |a - b| relative to the largest |b|. */
static double
max_rel_diff(const struct tensor *a, const struct tensor *b)
{
	double	d, maxd = 0, maxb = 1e-12;
	size_t	i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		d = fabs((double)a->data[i] - b->data[i]);
		maxd = d > maxd ? d : maxd;
		maxb = fabs(b->data[i]) > maxb ? fabs(b->data[i]) : maxb;
	}
	return (maxd / maxb);
}

/* The kernels selected against im2col + sgemm, on shapes with ragged
 * edges: widths past one strip and not a multiple of 16, channel counts
 * not a multiple of 4, planes past one 1x1 block. */
static void
conv_compare_with_reference(void)
{
	const int	 shapes[][6] = {	/* N C K H W k */
		{ 2, 5, 6, 9, 70, 3 }, { 1, 3, 16, 33, 33, 3 },
		{ 3, 17, 2, 4, 16, 3 }, { 1, 1, 1, 1, 1, 3 },
		{ 2, 16, 6, 33, 33, 1 }, { 1, 7, 3, 2, 3, 1 }
	};
	struct tensor	*inp, *w, *b, *o1, *o2, *r, *g1[3], *g2[3];
	size_t		 s;
	int		 N, C, K, H, W, ks, i, bs[1];

	for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		N = shapes[s][0]; C = shapes[s][1]; K = shapes[s][2];
		H = shapes[s][3]; W = shapes[s][4]; ks = shapes[s][5];
		bs[0] = K;
		inp = tensor_new4(N, C, H, W);
		w = tensor_new4(K, C, ks, ks);
		b = tensor_new(1, bs);
		o1 = tensor_new4(N, K, H, W);
		o2 = tensor_new4(N, K, H, W);
		r = tensor_new4(N, K, H, W);
		fill_uniform(inp, -1, 1); fill_uniform(w, -1, 1);
		fill_uniform(b, -1, 1); fill_uniform(r, -1, 1);
		conv_forward(o1, inp, w, b);
		conv_ref_forward(o2, inp, w, b);
		print_message("conv%d %dx%dx%dx%d -> %d: forward %.3g\n", ks,
		    N, C, H, W, K, max_rel_diff(o1, o2));
		assert_true(max_rel_diff(o1, o2) < 1e-5);

		g1[0] = tensor_new4(N, C, H, W);
		g2[0] = tensor_new4(N, C, H, W);
		g1[1] = tensor_new4(K, C, ks, ks);
		g2[1] = tensor_new4(K, C, ks, ks);
		g1[2] = tensor_new(1, bs); g2[2] = tensor_new(1, bs);
		for (i = 0; i < 3; i++) {
			fill_uniform(g1[i], -1, 1);
			memcpy(g2[i]->data, g1[i]->data,
			    g1[i]->n * sizeof (float));
		}
		conv_backward(g1[0], g1[1], g1[2], r, inp, w);
		conv_ref_backward(g2[0], g2[1], g2[2], r, inp, w);
		for (i = 0; i < 3; i++) {
			print_message("  gradient %d: %.3g\n", i,
			    max_rel_diff(g1[i], g2[i]));
			assert_true(max_rel_diff(g1[i], g2[i]) < 1e-5);
			tensor_free(g1[i]); tensor_free(g2[i]);
		}
		tensor_free(inp); tensor_free(w); tensor_free(b);
		tensor_free(o1); tensor_free(o2); tensor_free(r);
	}
}

/* Each instruction set's kernels this CPU runs against the reference. */
static void
conv_fast_matches_reference(void **state)
{
	int	isa;

	for (isa = CONV_ISA_NONE; isa <= CONV_ISA_AVX512; isa++) {
		if (conv_direct_select(isa) != isa)
			continue;
		print_message("instruction set %d\n", isa);
		conv_compare_with_reference();
	}
	conv_direct_select(-1);
}

/* Two backward passes on the same data give the same bits. */
static void
conv_backward_is_deterministic(void **state)
{
	struct tensor	*inp, *w, *r, *dw[2], *di[2];
	int		 i;

	inp = tensor_new4(3, 8, 40, 40);
	w = tensor_new4(12, 8, 3, 3);
	r = tensor_new4(3, 12, 40, 40);
	fill_uniform(inp, -1, 1); fill_uniform(w, -1, 1);
	fill_uniform(r, -1, 1);
	for (i = 0; i < 2; i++) {
		dw[i] = tensor_new4(12, 8, 3, 3);
		di[i] = tensor_new4(3, 8, 40, 40);
		conv_backward(di[i], dw[i], NULL, r, inp, w);
	}
	assert_memory_equal(dw[0]->data, dw[1]->data, dw[0]->n * 4);
	assert_memory_equal(di[0]->data, di[1]->data, di[0]->n * 4);
	for (i = 0; i < 2; i++) {
		tensor_free(dw[i]); tensor_free(di[i]);
	}
	tensor_free(inp); tensor_free(w); tensor_free(r);
}

/* A convolution in a thread that then ends: its buffers go with it (the
 * sanitizer build reports a leak otherwise), and the result is right. */
static void *
conv_thread_main(void *arg)
{
	struct tensor	**t = arg;

	conv_forward(t[2], t[0], t[1], NULL);
	return (NULL);
}

static void
conv_in_a_thread_that_ends(void **state)
{
	struct tensor	*t[4];
	pthread_t	 thread;

	t[0] = tensor_new4(1, 4, 20, 20);
	t[1] = tensor_new4(4, 4, 3, 3);
	t[2] = tensor_new4(1, 4, 20, 20);
	t[3] = tensor_new4(1, 4, 20, 20);
	fill_uniform(t[0], -1, 1);
	fill_uniform(t[1], -1, 1);
	assert_int_equal(pthread_create(&thread, NULL, conv_thread_main, t),
	    0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	conv_ref_forward(t[3], t[0], t[1], NULL);
	assert_true(max_rel_diff(t[2], t[3]) < 1e-5);
	tensor_free(t[0]); tensor_free(t[1]); tensor_free(t[2]);
	tensor_free(t[3]);
}

/* ------------------------------------------------------------------ */
/* Batch normalisation. */

struct bn_ctx {
	struct tensor	*inp, *gamma, *beta, *out, *r;
	struct bn_state	 st;
};

static double
bn_loss(void *p)
{
	struct bn_ctx	*c = p;

	bn_forward(c->out, c->inp, c->gamma, c->beta, NULL, NULL, &c->st, 1);
	return (dot(c->out, c->r));
}

static void
bn_backward_matches_differences(void **state)
{
	struct bn_ctx	 c;
	struct tensor	*dinp, *dgamma, *dbeta;
	int		 N = 2, C = 3, H = 6, W = 6, shape[1] = { 3 };

	memset(&c, 0, sizeof c);
	c.inp = tensor_new4(N, C, H, W);
	c.out = tensor_new4(N, C, H, W);
	c.r = tensor_new4(N, C, H, W);
	c.gamma = tensor_new(1, shape);
	c.beta = tensor_new(1, shape);
	fill_uniform(c.inp, -2, 3);
	fill_uniform(c.r, -1, 1);
	fill_uniform(c.gamma, 0.5f, 1.5f);
	fill_uniform(c.beta, -1, 1);
	dinp = tensor_new4(N, C, H, W);
	dgamma = tensor_new(1, shape);
	dbeta = tensor_new(1, shape);
	fill_value(dinp, GRAD_PREFILL);
	fill_value(dgamma, GRAD_PREFILL);
	fill_value(dbeta, GRAD_PREFILL);

	bn_forward(c.out, c.inp, c.gamma, c.beta, NULL, NULL, &c.st, 1);
	bn_backward(dinp, dgamma, dbeta, c.r, c.inp, c.gamma, &c.st);
	check_grad("bn dinp", c.inp, dinp, bn_loss, &c, 1e-2f, 1e-2);
	check_grad("bn dgamma", c.gamma, dgamma, bn_loss, &c, 1e-2f, 1e-2);
	check_grad("bn dbeta", c.beta, dbeta, bn_loss, &c, 1e-2f, 1e-2);

	tensor_free(c.inp); tensor_free(c.out); tensor_free(c.r);
	tensor_free(c.gamma); tensor_free(c.beta); tensor_free(dinp);
	tensor_free(dgamma); tensor_free(dbeta);
	tensor_free(c.st.mean); tensor_free(c.st.invstd);
}

/* Channel 0 holds 1 2 3 4: mean 2.5, biased variance 1.25, unbiased 5/3. */
static void
bn_updates_running_statistics(void **state)
{
	struct tensor	*inp, *out, *gamma, *beta, *rm, *rv;
	struct bn_state	 st = { NULL, NULL };
	int		 shape[1] = { 2 };
	const float	 x[8] = { 1, 2, 10, 10,  3, 4, 10, 10 };
	float		 is;
	int		 i;

	inp = tensor_new4(2, 2, 1, 2);
	out = tensor_new4(2, 2, 1, 2);
	gamma = tensor_new(1, shape);
	beta = tensor_new(1, shape);
	rm = tensor_new(1, shape);
	rv = tensor_new(1, shape);
	memcpy(inp->data, x, sizeof x);
	fill_value(gamma, 2);
	fill_value(beta, 0.5f);
	fill_value(rv, 1);

	/* Training: batch statistics, running ones move by 0.1. */
	bn_forward(out, inp, gamma, beta, rm, rv, &st, 1);
	assert_float_equal(rm->data[0], 0.25f, 1e-6);
	assert_float_equal(rv->data[0], 0.9f + 0.1f * 5.0f / 3.0f, 1e-6);
	assert_float_equal(rm->data[1], 1.0f, 1e-6);
	assert_float_equal(rv->data[1], 0.9f, 1e-6);
	is = 1.0f / sqrtf(1.25f + 1e-5f);
	assert_float_equal(st.invstd->data[0], is, 1e-5);
	assert_float_equal(out->data[0], 2 * (1 - 2.5f) * is + 0.5f, 1e-5);
	assert_float_equal(out->data[5], 2 * (4 - 2.5f) * is + 0.5f, 1e-5);
	assert_float_equal(out->data[2], 0.5f, 1e-5);

	/* Inference: the running statistics, left unchanged. */
	bn_forward(out, inp, gamma, beta, rm, rv, NULL, 0);
	for (i = 0; i < 8; i++) {
		int c = (i / 2) % 2;

		assert_float_equal(out->data[i], 2 * (x[i] - rm->data[c]) /
		    sqrtf(rv->data[c] + 1e-5f) + 0.5f, 1e-5);
	}
	assert_float_equal(rm->data[0], 0.25f, 1e-6);

	tensor_free(inp); tensor_free(out); tensor_free(gamma);
	tensor_free(beta); tensor_free(rm); tensor_free(rv);
	tensor_free(st.mean); tensor_free(st.invstd);
}

/* A large mean does not swamp a small variance: mean 1000, standard
 * deviation about 0.03, over 2 * 5000 values. */
static void
bn_variance_survives_large_mean(void **state)
{
	struct tensor	*inp, *out, *gamma, *beta;
	struct bn_state	 st = { NULL, NULL };
	int		 shape[1] = { 1 };
	double		 s = 0, ss = 0, m, var;
	size_t		 i;

	inp = tensor_new4(2, 1, 50, 100);
	out = tensor_new4(2, 1, 50, 100);
	gamma = tensor_new(1, shape);
	beta = tensor_new(1, shape);
	gamma->data[0] = 1;
	fill_uniform(inp, 999.95f, 1000.05f);
	for (i = 0; i < inp->n; i++)
		s += inp->data[i];
	m = s / inp->n;
	for (i = 0; i < inp->n; i++)
		ss += (inp->data[i] - m) * (inp->data[i] - m);
	var = ss / inp->n;
	bn_forward(out, inp, gamma, beta, NULL, NULL, &st, 1);
	assert_float_equal(st.mean->data[0], m, 1e-4);
	assert_float_equal(st.invstd->data[0], 1 / sqrt(var + 1e-5),
	    1e-3 / sqrt(var + 1e-5));
	tensor_free(inp); tensor_free(out); tensor_free(gamma);
	tensor_free(beta); tensor_free(st.mean); tensor_free(st.invstd);
}

/* ------------------------------------------------------------------ */
/* ReLU, max-pooling, upsampling, concatenation. */

struct unary_ctx {
	struct tensor	*inp, *out, *r, *b;
	int		 factor;
	int32_t		*argmax;
	void		 (*fwd)(struct unary_ctx *);
};

static double
unary_loss(void *p)
{
	struct unary_ctx	*c = p;

	c->fwd(c);
	return (dot(c->out, c->r));
}

static void
relu_fwd(struct unary_ctx *c)
{
	relu_forward(c->out, c->inp);
}

static void
relu_backward_matches_differences(void **state)
{
	struct unary_ctx	 c = { 0 };
	struct tensor		*dinp;
	size_t			 i;

	c.inp = tensor_new4(2, 3, 6, 6);
	c.out = tensor_new4(2, 3, 6, 6);
	c.r = tensor_new4(2, 3, 6, 6);
	c.fwd = relu_fwd;
	fill_uniform(c.inp, -1, 1);
	/* Keep every value clear of the kink at 0. */
	for (i = 0; i < c.inp->n; i++)
		c.inp->data[i] += c.inp->data[i] < 0 ? -0.1f : 0.1f;
	fill_uniform(c.r, -1, 1);
	dinp = tensor_new4(2, 3, 6, 6);
	fill_value(dinp, GRAD_PREFILL);
	relu_forward(c.out, c.inp);
	relu_backward(dinp, c.r, c.out);
	check_grad("relu dinp", c.inp, dinp, unary_loss, &c, 1e-2f, 1e-3);
	tensor_free(c.inp); tensor_free(c.out); tensor_free(c.r);
	tensor_free(dinp);
}

static void
maxpool_fwd(struct unary_ctx *c)
{
	maxpool_forward(c->out, c->inp, c->argmax);
}

static void
maxpool_backward_matches_differences(void **state)
{
	struct unary_ctx	 c = { 0 };
	struct tensor		*dinp;
	size_t			 i, j, n;
	float			 tmp;

	c.inp = tensor_new4(2, 3, 6, 6);
	c.out = tensor_new4(2, 3, 3, 3);
	c.r = tensor_new4(2, 3, 3, 3);
	c.argmax = malloc(c.out->n * sizeof *c.argmax);
	c.fwd = maxpool_fwd;
	/* Distinct values 0.1 apart, shuffled: no ties within eps. */
	n = c.inp->n;
	for (i = 0; i < n; i++)
		c.inp->data[i] = 0.1f * (float)i;
	for (i = n - 1; i > 0; i--) {
		j = rng_next(&test_rng) % (i + 1);
		tmp = c.inp->data[i];
		c.inp->data[i] = c.inp->data[j];
		c.inp->data[j] = tmp;
	}
	fill_uniform(c.r, -1, 1);
	dinp = tensor_new4(2, 3, 6, 6);
	fill_value(dinp, GRAD_PREFILL);
	maxpool_forward(c.out, c.inp, c.argmax);
	maxpool_backward(dinp, c.r, c.argmax);
	check_grad("maxpool dinp", c.inp, dinp, unary_loss, &c, 1e-2f, 1e-3);
	tensor_free(c.inp); tensor_free(c.out); tensor_free(c.r);
	tensor_free(dinp); free(c.argmax);
}

/* The first largest value of each block wins, as in PyTorch. */
static void
maxpool_forward_picks_first_maximum(void **state)
{
	struct tensor	*inp, *out;
	int32_t		 argmax[2];
	const float	 x[8] = { 1, 5, 2, 0,  5, 0, 2, 2 };

	inp = tensor_new4(1, 1, 2, 4);
	out = tensor_new4(1, 1, 1, 2);
	memcpy(inp->data, x, sizeof x);
	maxpool_forward(out, inp, argmax);
	assert_float_equal(out->data[0], 5, 0);
	assert_int_equal(argmax[0], 1);
	assert_float_equal(out->data[1], 2, 0);
	assert_int_equal(argmax[1], 2);
	tensor_free(inp); tensor_free(out);
}

static void
upsample2_fwd(struct unary_ctx *c)
{
	upsample2_forward(c->out, c->inp);
}

static void
upsample2_backward_matches_differences(void **state)
{
	struct unary_ctx	 c = { 0 };
	struct tensor		*dinp;

	c.inp = tensor_new4(2, 3, 3, 4);
	c.out = tensor_new4(2, 3, 6, 8);
	c.r = tensor_new4(2, 3, 6, 8);
	c.fwd = upsample2_fwd;
	fill_uniform(c.inp, -1, 1);
	fill_uniform(c.r, -1, 1);
	dinp = tensor_new4(2, 3, 3, 4);
	fill_value(dinp, GRAD_PREFILL);
	upsample2_forward(c.out, c.inp);
	assert_float_equal(c.out->data[8 + 1], c.inp->data[0], 0);
	assert_float_equal(c.out->data[8 * 3 + 7], c.inp->data[4 + 3], 0);
	upsample2_backward(dinp, c.r);
	check_grad("upsample2 dinp", c.inp, dinp, unary_loss, &c, 1e-2f,
	    1e-3);
	tensor_free(c.inp); tensor_free(c.out); tensor_free(c.r);
	tensor_free(dinp);
}

static void
bilinear_fwd(struct unary_ctx *c)
{
	bilinear_forward(c->out, c->inp, c->factor);
}

static void
bilinear_backward_matches_differences(void **state)
{
	struct unary_ctx	 c = { 0 };
	struct tensor		*dinp;
	int			 f;

	for (f = 2; f <= 8; f *= 2) {
		c.inp = tensor_new4(2, 3, 3, 4);
		c.out = tensor_new4(2, 3, 3 * f, 4 * f);
		c.r = tensor_new4(2, 3, 3 * f, 4 * f);
		c.factor = f;
		c.fwd = bilinear_fwd;
		fill_uniform(c.inp, -1, 1);
		fill_uniform(c.r, -1, 1);
		dinp = tensor_new4(2, 3, 3, 4);
		fill_value(dinp, GRAD_PREFILL);
		bilinear_forward(c.out, c.inp, f);
		bilinear_backward(dinp, c.r, f);
		check_grad("bilinear dinp", c.inp, dinp, unary_loss, &c,
		    1e-2f, 1e-3);
		tensor_free(c.inp); tensor_free(c.out); tensor_free(c.r);
		tensor_free(dinp);
	}
}

/*
 * PyTorch, align_corners=False: source x = (o + 0.5) / f - 0.5, clamped
 * at 0, neighbours min(floor + 1, last).  For [a b] and f = 2 the outputs
 * are a, .75a + .25b, .25a + .75b, b; for f = 4 the sources are -.375
 * and -.125 (clamped to 0), .125, .375, .625, .875, then 1.125 and 1.375,
 * whose neighbours are both b.
 */
static void
bilinear_forward_matches_pytorch(void **state)
{
	struct tensor	*inp, *out;
	const float	 want2[16] = {
		1.0f, 1.25f, 1.75f, 2.0f,
		1.5f, 1.75f, 2.25f, 2.5f,
		2.5f, 2.75f, 3.25f, 3.5f,
		3.0f, 3.25f, 3.75f, 4.0f
	};
	const float	 want4[8] = {
		1.0f, 1.0f, 1.125f, 1.375f, 1.625f, 1.875f, 2.0f, 2.0f
	};
	int		 i;

	inp = tensor_new4(1, 1, 2, 2);
	for (i = 0; i < 4; i++)
		inp->data[i] = (float)(i + 1);
	out = tensor_new4(1, 1, 4, 4);
	bilinear_forward(out, inp, 2);
	for (i = 0; i < 16; i++)
		assert_float_equal(out->data[i], want2[i], 1e-6);
	tensor_free(out);

	/* First row at f = 4: the top row of the input, [1 2]. */
	out = tensor_new4(1, 1, 8, 8);
	bilinear_forward(out, inp, 4);
	for (i = 0; i < 8; i++)
		assert_float_equal(out->data[i], want4[i], 1e-6);
	/* Row 5 (source .875): .125 * [1 2] + .875 * [3 4], column 0. */
	assert_float_equal(out->data[5 * 8], 0.125f * 1 + 0.875f * 3, 1e-6);
	tensor_free(out);
	tensor_free(inp);
}

static double
concat_loss(void *p)
{
	struct unary_ctx	*c = p;

	concat_forward(c->out, c->inp, c->b);
	return (dot(c->out, c->r));
}

static void
concat_backward_matches_differences(void **state)
{
	struct unary_ctx	 c = { 0 };
	struct tensor		*da, *db;

	c.inp = tensor_new4(2, 3, 4, 4);
	c.b = tensor_new4(2, 2, 4, 4);
	c.out = tensor_new4(2, 5, 4, 4);
	c.r = tensor_new4(2, 5, 4, 4);
	fill_uniform(c.inp, -1, 1);
	fill_uniform(c.b, -1, 1);
	fill_uniform(c.r, -1, 1);
	da = tensor_new4(2, 3, 4, 4);
	db = tensor_new4(2, 2, 4, 4);
	fill_value(da, GRAD_PREFILL);
	fill_value(db, GRAD_PREFILL);
	concat_forward(c.out, c.inp, c.b);
	/* Image 1, channel 3 is b's channel 0 of image 1. */
	assert_float_equal(c.out->data[(5 + 3) * 16], c.b->data[2 * 16], 0);
	concat_backward(da, db, c.r);
	check_grad("concat da", c.inp, da, concat_loss, &c, 1e-2f, 1e-3);
	check_grad("concat db", c.b, db, concat_loss, &c, 1e-2f, 1e-3);
	tensor_free(c.inp); tensor_free(c.b); tensor_free(c.out);
	tensor_free(c.r); tensor_free(da); tensor_free(db);
}

/* ------------------------------------------------------------------ */
/* Softmax and losses. */

struct loss_ctx {
	struct tensor	*logits, *target;
	uint8_t		*labels;
};

static double
ce_loss(void *p)
{
	struct loss_ctx	*c = p;

	return (ce_forward_backward(NULL, c->logits, c->labels, 1));
}

static void
ce_backward_matches_differences(void **state)
{
	struct loss_ctx	 c;
	struct tensor	*dlogits;
	int		 i, N = 2, K = 4, P = 9;

	c.logits = tensor_new4(N, K, 3, 3);
	fill_uniform(c.logits, -2, 2);
	c.labels = malloc(N * P);
	for (i = 0; i < N * P; i++)
		c.labels[i] = i % 5 == 4 ? 255 : rng_next(&test_rng) % K;
	dlogits = tensor_new4(N, K, 3, 3);
	fill_value(dlogits, GRAD_PREFILL);
	ce_forward_backward(dlogits, c.logits, c.labels, 1);
	check_grad("ce dlogits", c.logits, dlogits, ce_loss, &c, 1e-2f,
	    1e-2);
	tensor_free(c.logits); tensor_free(dlogits); free(c.labels);
}

/* Equal logits over 4 classes cost log 4; ignored pixels cost nothing. */
static void
ce_forward_ignores_255(void **state)
{
	struct tensor	*logits, *dlogits;
	uint8_t		 labels[4] = { 0, 255, 3, 255 };
	float		 loss;

	logits = tensor_new4(1, 4, 2, 2);
	dlogits = tensor_new4(1, 4, 2, 2);
	/* Pixel 1 is ignored: huge logits there must not matter. */
	logits->data[1] = 100;
	loss = ce_forward_backward(dlogits, logits, labels, 2);
	assert_float_equal(loss, logf(4), 1e-6);
	/* (0.25 - 1) * scale 2 / 2 counted pixels. */
	assert_float_equal(dlogits->data[0], -0.75f, 1e-6);
	assert_float_equal(dlogits->data[1], 0, 0);
	assert_float_equal(dlogits->data[4], 0.25f, 1e-6);

	memset(labels, 255, sizeof labels);
	tensor_zero(dlogits);
	assert_float_equal(ce_forward_backward(dlogits, logits, labels, 1), 0,
	    0);
	assert_float_equal(dlogits->data[0], 0, 0);
	tensor_free(logits); tensor_free(dlogits);
}

static double
cons_loss(void *p)
{
	struct loss_ctx	*c = p;

	return (consistency_forward_backward(NULL, c->logits, c->target,
	    1));
}

static void
consistency_backward_matches_differences(void **state)
{
	struct loss_ctx	 c;
	struct tensor	*dlogits;

	c.logits = tensor_new4(2, 4, 3, 3);
	c.target = tensor_new4(2, 4, 3, 3);
	fill_uniform(c.logits, -2, 2);
	fill_uniform(c.target, -2, 2);
	softmax_forward(c.target, c.target);
	dlogits = tensor_new4(2, 4, 3, 3);
	fill_value(dlogits, GRAD_PREFILL);
	consistency_forward_backward(dlogits, c.logits, c.target, 1);
	check_grad("consistency dlogits", c.logits, dlogits, cons_loss, &c,
	    1e-2f, 1e-2);
	tensor_free(c.logits); tensor_free(c.target); tensor_free(dlogits);
}

/* Softmax of equal logits is uniform; the loss against one-hot is known. */
static void
consistency_forward_known_value(void **state)
{
	struct tensor	*logits, *target, *prob;
	float		 loss;
	int		 p;

	logits = tensor_new4(1, 2, 1, 2);
	target = tensor_new4(1, 2, 1, 2);
	prob = tensor_new4(1, 2, 1, 2);
	target->data[0] = 1;	/* class 0 at pixel 0 */
	target->data[3] = 1;	/* class 1 at pixel 1 */
	loss = consistency_forward_backward(NULL, logits, target, 1);
	assert_float_equal(loss, 0.25f, 1e-6);

	logits->data[0] = 1;
	softmax_forward(prob, logits);
	for (p = 0; p < 2; p++)
		assert_float_equal(prob->data[p] + prob->data[2 + p], 1, 1e-6);
	assert_float_equal(prob->data[0], 1 / (1 + expf(-1)), 1e-6);
	tensor_free(logits); tensor_free(target); tensor_free(prob);
}

/* ------------------------------------------------------------------ */
/* Optimisation. */

/* The first AdamW step moves each weight by about lr against the sign
 * of its gradient, after the decay. */
static void
adam_first_step_is_exact(void **state)
{
	struct adam	 a = { 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 1 };
	struct tensor	*p, *g, *m, *v;
	int		 shape[1] = { 2 };

	p = tensor_new(1, shape); g = tensor_new(1, shape);
	m = tensor_new(1, shape); v = tensor_new(1, shape);
	p->data[0] = 1; p->data[1] = -2;
	g->data[0] = 0.5f; g->data[1] = -3;
	adam_step(&a, p, g, m, v);
	assert_float_equal(p->data[0], 1 * (1 - 0.001f) - 0.1f, 1e-6);
	assert_float_equal(p->data[1], -2 * (1 - 0.001f) + 0.1f, 1e-6);
	assert_float_equal(m->data[1], -0.3f, 1e-6);
	assert_float_equal(v->data[1], 0.009f, 1e-6);
	tensor_free(p); tensor_free(g); tensor_free(m); tensor_free(v);
}

/* AdamW finds the minimum of 0.5 * |x - c|^2. */
static void
adam_minimises_a_quadratic(void **state)
{
	struct adam	 a = { 0.05f, 0.9f, 0.999f, 1e-8f, 0, 0 };
	struct tensor	*p, *g, *m, *v;
	const float	 c[3] = { 3, -1, 0.5f };
	int		 shape[1] = { 3 }, i, step;

	p = tensor_new(1, shape); g = tensor_new(1, shape);
	m = tensor_new(1, shape); v = tensor_new(1, shape);
	for (step = 0; step < 2000; step++) {
		for (i = 0; i < 3; i++)
			g->data[i] = p->data[i] - c[i];
		a.t++;
		adam_step(&a, p, g, m, v);
	}
	for (i = 0; i < 3; i++)
		assert_float_equal(p->data[i], c[i], 1e-2);
	tensor_free(p); tensor_free(g); tensor_free(m); tensor_free(v);
}

/* Warm-up rises linearly, the cosine halves at mid-course, ends at 0. */
static void
lr_cosine_warms_up_and_decays(void **state)
{
	assert_float_equal(lr_cosine(1, 0, 110, 10), 0.1f, 1e-6);
	assert_float_equal(lr_cosine(1, 9, 110, 10), 1, 1e-6);
	assert_float_equal(lr_cosine(1, 10, 110, 10), 1, 1e-6);
	assert_float_equal(lr_cosine(1, 60, 110, 10), 0.5f, 1e-6);
	assert_true(lr_cosine(1, 109, 110, 10) < 1e-3f);
	assert_float_equal(lr_cosine(1, 110, 110, 10), 0, 0);
	assert_float_equal(lr_cosine(2, 5, 100, 0), 2 * 0.5 * (1 + cos(M_PI *
	    0.05)), 1e-6);
}

static void
clip_grad_norm_scales_to_max(void **state)
{
	struct tensor	*g[2];
	int		 s1[1] = { 2 }, s2[1] = { 1 };
	float		 norm;

	g[0] = tensor_new(1, s1);
	g[1] = tensor_new(1, s2);
	g[0]->data[0] = 3; g[0]->data[1] = 0; g[1]->data[0] = 4;
	norm = clip_grad_norm(g, 2, 10);
	assert_float_equal(norm, 5, 1e-6);
	assert_float_equal(g[1]->data[0], 4, 0);
	norm = clip_grad_norm(g, 2, 1);
	assert_float_equal(norm, 5, 1e-6);
	assert_float_equal(g[0]->data[0], 0.6f, 1e-5);
	assert_float_equal(g[1]->data[0], 0.8f, 1e-5);
	tensor_free(g[0]); tensor_free(g[1]);
}

/* ------------------------------------------------------------------ */
/* Tensors and the RNG. */

static void
tensor_is_aligned_and_resizes(void **state)
{
	struct tensor	*t;

	t = tensor_new4(1, 3, 5, 7);
	assert_int_equal((uintptr_t)t->data % 64, 0);
	assert_int_equal(t->n, 105);
	t->data[104] = 1;
	tensor_resize4(t, 3, 1, 7, 5);
	assert_float_equal(t->data[104], 1, 0);
	assert_int_equal(t->shape[0], 3);
	tensor_resize4(t, 2, 2, 2, 2);
	assert_int_equal(t->n, 16);
	assert_int_equal((uintptr_t)t->data % 64, 0);
	tensor_free(t);
}

static void
rng_is_deterministic_and_distributed(void **state)
{
	struct rng	 a, b;
	double		 s, ss, u, x;
	int		 i, n = 200000;

	rng_seed(&a, 42);
	rng_seed(&b, 42);
	for (i = 0; i < 100; i++)
		assert_true(rng_next(&a) == rng_next(&b));
	rng_seed(&b, 43);
	assert_true(rng_next(&a) != rng_next(&b));

	s = 0;
	for (i = 0; i < n; i++) {
		u = rng_uniform(&a);
		assert_true(u >= 0 && u < 1);
		s += u;
	}
	assert_float_equal(s / n, 0.5, 5e-3);
	s = ss = 0;
	for (i = 0; i < n; i++) {
		x = rng_normal(&a);
		s += x;
		ss += x * x;
	}
	assert_float_equal(s / n, 0, 1e-2);
	assert_float_equal(ss / n, 1, 2e-2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tensor_is_aligned_and_resizes),
		cmocka_unit_test(rng_is_deterministic_and_distributed),
		cmocka_unit_test(conv3x3_forward_pads_with_zeros),
		cmocka_unit_test(conv3x3_backward_matches_differences),
		cmocka_unit_test(conv1x1_backward_matches_differences),
		cmocka_unit_test(conv_fast_matches_reference),
		cmocka_unit_test(conv_backward_is_deterministic),
		cmocka_unit_test(conv_in_a_thread_that_ends),
		cmocka_unit_test(bn_backward_matches_differences),
		cmocka_unit_test(bn_updates_running_statistics),
		cmocka_unit_test(bn_variance_survives_large_mean),
		cmocka_unit_test(relu_backward_matches_differences),
		cmocka_unit_test(maxpool_backward_matches_differences),
		cmocka_unit_test(maxpool_forward_picks_first_maximum),
		cmocka_unit_test(upsample2_backward_matches_differences),
		cmocka_unit_test(bilinear_backward_matches_differences),
		cmocka_unit_test(bilinear_forward_matches_pytorch),
		cmocka_unit_test(concat_backward_matches_differences),
		cmocka_unit_test(ce_backward_matches_differences),
		cmocka_unit_test(ce_forward_ignores_255),
		cmocka_unit_test(consistency_backward_matches_differences),
		cmocka_unit_test(consistency_forward_known_value),
		cmocka_unit_test(adam_first_step_is_exact),
		cmocka_unit_test(adam_minimises_a_quadratic),
		cmocka_unit_test(lr_cosine_warms_up_and_decays),
		cmocka_unit_test(clip_grad_norm_scales_to_max),
	};

	rng_seed(&test_rng, 1234);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
