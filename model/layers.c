/*
 * The layers of the network, each forward pass with its backward pass
 * directly below it.  Backward passes add into the gradients they are
 * given; the caller zeroes them.
 *
 * Legend: N batch, C channels (K output channels or classes), H W
 * spatial, P = H*W pixels of one plane.  Every sum runs in a fixed order
 * (per channel, or per image and then image by image), so results do not
 * depend on the number of threads; long sums add float runs in double.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model-int.h"

#define BN_EPS		1e-5f
#define BN_MOMENTUM	0.1f

/* ------------------------------------------------------------------ */
/* Convolution: 1x1 by plain loops (conv.c); 3x3 by the direct kernels
 * (conv-direct.c) where the CPU has them, else im2col and sgemm. */

/* out (N,K,H,W) = conv(inp (N,C,H,W), weight (K,C,k,k)) + bias (K). */
void
conv_forward(struct tensor *out, const struct tensor *inp,
    const struct tensor *weight, const struct tensor *bias)
{
	if (weight->shape[3] == 1) {
		conv1_forward(out, inp, weight, bias);
		return;
	}
	if (conv_direct_forward(out, inp, weight, bias) == 0)
		return;
	conv_ref_forward(out, inp, weight, bias);
}

/* Add the gradients of a convolution; any of dinp, dweight, dbias may be
 * NULL. */
void
conv_backward(struct tensor *dinp, struct tensor *dweight,
    struct tensor *dbias, const struct tensor *dout,
    const struct tensor *inp, const struct tensor *weight)
{
	if (weight->shape[3] == 1) {
		conv1_backward(dinp, dweight, dbias, dout, inp, weight);
		return;
	}
	if (conv_direct_backward(dinp, dweight, dbias, dout, inp,
	    weight) == 0)
		return;
	conv_ref_backward(dinp, dweight, dbias, dout, inp, weight);
}

/* ------------------------------------------------------------------ */
/* Batch normalisation. */

/* Allocate the saved statistics of a bn_state when they are missing. */
static void
bn_state_init(struct bn_state *st, int C)
{
	int	shape[1] = { C };

	if (st->mean == NULL)
		st->mean = tensor_new(1, shape);
	if (st->invstd == NULL)
		st->invstd = tensor_new(1, shape);
	assert(st->mean->n == (size_t)C && st->invstd->n == (size_t)C);
}

/*
 * Sums over long planes: float vector sums over runs of BN_RUN values,
 * added in double.  Fast, and as precise as a double loop for our sizes;
 * the order is fixed, so the result does not depend on threads.
 */
#define BN_RUN	256

/* sum (x[p] - m) and sum (x[p] - m)^2. */
static void
bn_sums(const float *x, int P, float m, double *s1, double *s2)
{
	int	p, q, e;
	float	a, b, d;

	for (p = 0; p < P; p = e) {
		e = P - p < BN_RUN ? P : p + BN_RUN;
		a = b = 0;
		#pragma omp simd reduction(+:a, b)
		for (q = p; q < e; q++) {
			d = x[q] - m;
			a += d;
			b += d * d;
		}
		*s1 += a;
		*s2 += b;
	}
}

/* sum g[p] and sum g[p] * (x[p] - m). */
static void
bn_grad_sums(const float *g, const float *x, int P, float m, double *s1,
    double *s2)
{
	int	p, q, e;
	float	a, b;

	for (p = 0; p < P; p = e) {
		e = P - p < BN_RUN ? P : p + BN_RUN;
		a = b = 0;
		#pragma omp simd reduction(+:a, b)
		for (q = p; q < e; q++) {
			a += g[q];
			b += g[q] * (x[q] - m);
		}
		*s1 += a;
		*s2 += b;
	}
}

/* Mean and biased variance of channel c of inp (N,C,P).  Both sums are
 * taken about a first guess (the first value), then corrected, so that a
 * large mean does not swamp them in float. */
static void
bn_stats(const struct tensor *inp, int c, double *mean, double *var)
{
	int		 N, C, P, n;
	double		 s, ss, cnt, d;
	float		 shift;

	N = inp->shape[0]; C = inp->shape[1];
	P = inp->shape[2] * inp->shape[3];
	cnt = (double)N * P;
	shift = inp->data[(size_t)c * P];
	s = ss = 0;
	for (n = 0; n < N; n++)
		bn_sums(inp->data + ((size_t)n * C + c) * P, P, shift, &s,
		    &ss);
	d = s / cnt;
	*mean = shift + d;
	*var = ss / cnt - d * d;
	if (*var < 0)
		*var = 0;
}

/*
 * out = gamma * (inp - mean) * invstd + beta, per channel, all (N,C,H,W);
 * gamma, beta, running_mean, running_var (C).  Training uses the batch
 * statistics and moves the running ones towards them (the running
 * variance with the unbiased estimate); inference uses the running ones.
 * st (NULL allowed in inference) gets mean and invstd, allocated here when
 * NULL; the caller frees them.
 */
void
bn_forward(struct tensor *out, const struct tensor *inp,
    const struct tensor *gamma, const struct tensor *beta,
    struct tensor *running_mean, struct tensor *running_var,
    struct bn_state *st, int training)
{
	int		 N, C, P, c, n, p;
	double		 mean, var, cnt;
	float		 m, is, a, b;
	const float	*x;
	float		*y;

	N = inp->shape[0]; C = inp->shape[1];
	P = inp->shape[2] * inp->shape[3];
	assert(out->n == inp->n && gamma->n == (size_t)C);
	assert(training || (running_mean != NULL && running_var != NULL));
	if (st != NULL)
		bn_state_init(st, C);
	cnt = (double)N * P;

	#pragma omp parallel for private(mean, var, m, is, a, b, x, y, n, p)
	for (c = 0; c < C; c++) {
		/* Statistics: the batch's, or the running ones. */
		if (training) {
			bn_stats(inp, c, &mean, &var);
			if (running_mean != NULL) {
				running_mean->data[c] = (1 - BN_MOMENTUM) *
				    running_mean->data[c] +
				    BN_MOMENTUM * (float)mean;
			}
			if (running_var != NULL) {
				running_var->data[c] = (1 - BN_MOMENTUM) *
				    running_var->data[c] + BN_MOMENTUM *
				    (float)(cnt > 1 ? var * cnt / (cnt - 1) :
				    var);
			}
		} else {
			mean = running_mean->data[c];
			var = running_var->data[c];
		}
		m = (float)mean;
		is = (float)(1.0 / sqrt(var + BN_EPS));
		if (st != NULL) {
			st->mean->data[c] = m;
			st->invstd->data[c] = is;
		}

		/* Normalise, scale and shift. */
		a = gamma->data[c] * is;
		b = beta->data[c] - a * m;
		for (n = 0; n < N; n++) {
			x = inp->data + ((size_t)n * C + c) * P;
			y = out->data + ((size_t)n * C + c) * P;
			#pragma omp simd
			for (p = 0; p < P; p++)
				y[p] = a * x[p] + b;
		}
	}
}

/*
 * With xhat = (x - mean) * invstd and M = N*H*W values per channel:
 *   dbeta = sum dout, dgamma = sum dout * xhat,
 *   dx = gamma * invstd / M * (M * dout - dbeta - xhat * dgamma),
 * the batch statistics being functions of x (training mode).
 */
void
bn_backward(struct tensor *dinp, struct tensor *dgamma,
    struct tensor *dbeta, const struct tensor *dout,
    const struct tensor *inp, const struct tensor *gamma,
    const struct bn_state *st)
{
	int		 N, C, P, c, n, p;
	double		 sg, sgx, cnt;
	float		 m, is, k, fg, fgx, xh;
	const float	*x, *g;
	float		*dx;

	N = inp->shape[0]; C = inp->shape[1];
	P = inp->shape[2] * inp->shape[3];
	assert(dout->n == inp->n && st != NULL && st->mean != NULL);
	cnt = (double)N * P;

	#pragma omp parallel for \
	    private(sg, sgx, m, is, k, fg, fgx, xh, x, g, dx, n, p)
	for (c = 0; c < C; c++) {
		m = st->mean->data[c];
		is = st->invstd->data[c];

		/* The two sums over the channel. */
		sg = sgx = 0;
		for (n = 0; n < N; n++) {
			x = inp->data + ((size_t)n * C + c) * P;
			g = dout->data + ((size_t)n * C + c) * P;
			bn_grad_sums(g, x, P, m, &sg, &sgx);
		}
		sgx *= is;
		if (dbeta != NULL)
			dbeta->data[c] += (float)sg;
		if (dgamma != NULL)
			dgamma->data[c] += (float)sgx;
		if (dinp == NULL)
			continue;

		/* dx, from the sums. */
		k = gamma->data[c] * is;
		fg = (float)(sg / cnt);
		fgx = (float)(sgx / cnt);
		for (n = 0; n < N; n++) {
			x = inp->data + ((size_t)n * C + c) * P;
			g = dout->data + ((size_t)n * C + c) * P;
			dx = dinp->data + ((size_t)n * C + c) * P;
			#pragma omp simd
			for (p = 0; p < P; p++) {
				xh = (x[p] - m) * is;
				dx[p] += k * (g[p] - fg - xh * fgx);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* ReLU. */

/* out = max(inp, 0); out may be inp. */
void
relu_forward(struct tensor *out, const struct tensor *inp)
{
	const float	*x = inp->data;
	float		*y = out->data;
	size_t		 i, n = inp->n;

	assert(out->n == n);
	/* A select, not a branch: signs are random. */
	#pragma omp parallel for simd if (n > 65536)
	for (i = 0; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : 0;
}

/* dinp += dout where the output was positive. */
void
relu_backward(struct tensor *dinp, const struct tensor *dout,
    const struct tensor *out)
{
	const float	*y = out->data, *g = dout->data;
	float		*dx = dinp->data;
	size_t		 i, n = out->n;

	assert(dinp->n == n && dout->n == n);
	#pragma omp parallel for simd if (n > 65536)
	for (i = 0; i < n; i++)
		dx[i] += y[i] > 0 ? g[i] : 0;
}

/* ------------------------------------------------------------------ */
/* 2x2 max-pooling, stride 2. */

/* out (N,C,H/2,W/2) = max of each 2x2 block of inp (N,C,H,W); argmax
 * gets the index into inp of the first largest value of each block. */
void
maxpool_forward(struct tensor *out, const struct tensor *inp,
    int32_t *argmax)
{
	int		 NC, H, W, Ho, Wo, i, y, x, i01, i23;
	size_t		 base, o, j;
	float		 best, m01, m23;
	const float	*a;
	int32_t		 at;

	NC = inp->shape[0] * inp->shape[1];
	H = inp->shape[2]; W = inp->shape[3]; Ho = H / 2; Wo = W / 2;
	assert(out->shape[2] == Ho && out->shape[3] == Wo);
	assert(out->n == (size_t)NC * Ho * Wo && inp->n <= INT32_MAX);

	#pragma omp parallel for \
	    private(base, o, j, best, m01, m23, i01, i23, a, at, y, x)
	for (i = 0; i < NC; i++) {
		base = (size_t)i * H * W;
		for (y = 0; y < Ho; y++) {
			for (x = 0; x < Wo; x++) {
				o = ((size_t)i * Ho + y) * Wo + x;
				j = base + (size_t)2 * y * W + 2 * x;
				/* Pairs, then the pair maxima, each keeping
				 * the first of equals: the order of a scan. */
				a = inp->data + j;
				m01 = a[1] > a[0] ? a[1] : a[0];
				i01 = a[1] > a[0] ? 1 : 0;
				m23 = a[W + 1] > a[W] ? a[W + 1] : a[W];
				i23 = a[W + 1] > a[W] ? W + 1 : W;
				best = m23 > m01 ? m23 : m01;
				at = (int32_t)j + (m23 > m01 ? i23 : i01);
				out->data[o] = best;
				argmax[o] = at;
			}
		}
	}
}

/* dinp[argmax] += dout. */
void
maxpool_backward(struct tensor *dinp, const struct tensor *dout,
    const int32_t *argmax)
{
	size_t	i;

	/* Blocks do not overlap: each input gets at most one output. */
	#pragma omp parallel for if (dout->n > 65536)
	for (i = 0; i < dout->n; i++)
		dinp->data[argmax[i]] += dout->data[i];
}

/* ------------------------------------------------------------------ */
/* Nearest 2x upsampling. */

/* out (N,C,2H,2W): each value of inp (N,C,H,W) copied to a 2x2 block. */
void
upsample2_forward(struct tensor *out, const struct tensor *inp)
{
	int		 NC, H, W, i, y, x;
	const float	*s;
	float		*d0, *d1;

	NC = inp->shape[0] * inp->shape[1];
	H = inp->shape[2]; W = inp->shape[3];
	assert(out->n == inp->n * 4 && out->shape[3] == 2 * W);

	#pragma omp parallel for private(s, d0, d1, y, x)
	for (i = 0; i < NC; i++) {
		for (y = 0; y < H; y++) {
			s = inp->data + ((size_t)i * H + y) * W;
			d0 = out->data + ((size_t)i * 2 * H + 2 * y) * 2 * W;
			d1 = d0 + 2 * W;
			for (x = 0; x < W; x++) {
				d0[2 * x] = d0[2 * x + 1] = s[x];
				d1[2 * x] = d1[2 * x + 1] = s[x];
			}
		}
	}
}

/* dinp += the sum of dout over each 2x2 block. */
void
upsample2_backward(struct tensor *dinp, const struct tensor *dout)
{
	int		 NC, H, W, i, y, x;
	const float	*g0, *g1;
	float		*d;

	NC = dinp->shape[0] * dinp->shape[1];
	H = dinp->shape[2]; W = dinp->shape[3];
	assert(dout->n == dinp->n * 4);

	#pragma omp parallel for private(g0, g1, d, y, x)
	for (i = 0; i < NC; i++) {
		for (y = 0; y < H; y++) {
			d = dinp->data + ((size_t)i * H + y) * W;
			g0 = dout->data + ((size_t)i * 2 * H + 2 * y) * 2 * W;
			g1 = g0 + 2 * W;
			for (x = 0; x < W; x++)
				d[x] += g0[2 * x] + g0[2 * x + 1] +
				    g1[2 * x] + g1[2 * x + 1];
		}
	}
}

/* ------------------------------------------------------------------ */
/* Bilinear upsampling by an integer factor, align_corners=False. */

/*
 * Output position o of n_in inputs, scale 1/f: the source coordinate is
 * (o + 0.5) / f - 0.5, clamped below at 0; it falls between i0 and i1 =
 * min(i0 + 1, n_in - 1) with weight l1 on i1.  This is PyTorch's rule.
 */
static void
bilinear_index(int o, int factor, int n_in, int *i0, int *i1, float *l1)
{
	float	src;

	src = ((float)o + 0.5f) / (float)factor - 0.5f;
	if (src < 0)
		src = 0;
	*i0 = (int)src;
	*i1 = *i0 < n_in - 1 ? *i0 + 1 : *i0;
	*l1 = src - (float)*i0;
}

/* out (N,C,H*f,W*f) = bilinear interpolation of inp (N,C,H,W). */
void
bilinear_forward(struct tensor *out, const struct tensor *inp, int factor)
{
	int		 NC, H, W, Ho, Wo, i, *x0, *x1;
	float		*lx;

	NC = inp->shape[0] * inp->shape[1];
	H = inp->shape[2]; W = inp->shape[3];
	Ho = H * factor; Wo = W * factor;
	assert(out->shape[2] == Ho && out->shape[3] == Wo);
	assert(out->n == (size_t)NC * Ho * Wo);

	/* The columns' neighbours and weights, the same on every row. */
	x0 = model_alloc(Wo * sizeof *x0);
	x1 = model_alloc(Wo * sizeof *x1);
	lx = model_alloc(Wo * sizeof *lx);
	for (i = 0; i < Wo; i++)
		bilinear_index(i, factor, W, &x0[i], &x1[i], &lx[i]);

	#pragma omp parallel for
	for (i = 0; i < NC; i++) {
		const float	*s = inp->data + (size_t)i * H * W, *r0, *r1;
		float		*d = out->data + (size_t)i * Ho * Wo, ly, top;
		float		 bot;
		int		 y, x, y0, y1;

		for (y = 0; y < Ho; y++) {
			bilinear_index(y, factor, H, &y0, &y1, &ly);
			r0 = s + (size_t)y0 * W;
			r1 = s + (size_t)y1 * W;
			for (x = 0; x < Wo; x++) {
				top = (1 - lx[x]) * r0[x0[x]] +
				    lx[x] * r0[x1[x]];
				bot = (1 - lx[x]) * r1[x0[x]] +
				    lx[x] * r1[x1[x]];
				d[(size_t)y * Wo + x] = (1 - ly) * top +
				    ly * bot;
			}
		}
	}
	free(x0);
	free(x1);
	free(lx);
}

/* dinp += the transpose of the interpolation applied to dout. */
void
bilinear_backward(struct tensor *dinp, const struct tensor *dout,
    int factor)
{
	int		 NC, H, W, Ho, Wo, i, y, x, y0, y1, x0, x1;
	float		 ly, lx, g;
	const float	*s;
	float		*d;

	NC = dinp->shape[0] * dinp->shape[1];
	H = dinp->shape[2]; W = dinp->shape[3];
	Ho = H * factor; Wo = W * factor;
	assert(dout->n == (size_t)NC * Ho * Wo);

	/* Each plane is its own: threads never write the same value. */
	#pragma omp parallel for private(y, x, y0, y1, x0, x1, ly, lx, g, s, d)
	for (i = 0; i < NC; i++) {
		s = dout->data + (size_t)i * Ho * Wo;
		d = dinp->data + (size_t)i * H * W;
		for (y = 0; y < Ho; y++) {
			bilinear_index(y, factor, H, &y0, &y1, &ly);
			for (x = 0; x < Wo; x++) {
				bilinear_index(x, factor, W, &x0, &x1, &lx);
				g = s[(size_t)y * Wo + x];
				d[y0 * W + x0] += (1 - ly) * (1 - lx) * g;
				d[y0 * W + x1] += (1 - ly) * lx * g;
				d[y1 * W + x0] += ly * (1 - lx) * g;
				d[y1 * W + x1] += ly * lx * g;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Channel concatenation. */

/* out (N,Ca+Cb,H,W) = [a (N,Ca,H,W), b (N,Cb,H,W)]. */
void
concat_forward(struct tensor *out, const struct tensor *a,
    const struct tensor *b)
{
	int	N, n;
	size_t	na, nb;

	N = a->shape[0];
	na = a->n / N; nb = b->n / N;
	assert(out->n == a->n + b->n && b->shape[0] == N);
	#pragma omp parallel for
	for (n = 0; n < 2 * N; n++) {
		if (n % 2 == 0)
			memcpy(out->data + n / 2 * (na + nb),
			    a->data + n / 2 * na, na * sizeof *a->data);
		else
			memcpy(out->data + n / 2 * (na + nb) + na,
			    b->data + n / 2 * nb, nb * sizeof *b->data);
	}
}

/* da += the first channels of dout, db += the rest; either may be NULL. */
void
concat_backward(struct tensor *da, struct tensor *db,
    const struct tensor *dout)
{
	int		 N, n;
	size_t		 na, nb, i;
	const float	*g;

	N = dout->shape[0];
	na = da != NULL ? da->n / N : dout->n / N - db->n / N;
	nb = dout->n / N - na;
	#pragma omp parallel for private(g, i)
	for (n = 0; n < N; n++) {
		g = dout->data + n * (na + nb);
		if (da != NULL) {
			#pragma omp simd
			for (i = 0; i < na; i++)
				da->data[n * na + i] += g[i];
		}
		if (db != NULL) {
			#pragma omp simd
			for (i = 0; i < nb; i++)
				db->data[n * nb + i] += g[na + i];
		}
	}
}

/* ------------------------------------------------------------------ */
/* Softmax and the losses. */

/* exp(x) for x <= 0, flushed to 0 below -80 where expf would only
 * underflow, and slowly. */
static inline float
softmax_exp(float x)
{
	return (x < -80.0f ? 0.0f : expf(x));
}

#define SOFTMAX_RUN	256	/* pixels at once */

/* prob (N,K,H,W) = softmax over K of logits (N,K,H,W); prob may be
 * logits.  Runs of pixels go through each step together, so that every
 * loop but the exponential's runs along a row. */
void
softmax_forward(struct tensor *prob, const struct tensor *logits)
{
	int	 N, K, P, nb, i;

	N = logits->shape[0]; K = logits->shape[1];
	P = logits->shape[2] * logits->shape[3];
	nb = (P + SOFTMAX_RUN - 1) / SOFTMAX_RUN;
	assert(prob->n == logits->n);

	#pragma omp parallel for
	for (i = 0; i < N * nb; i++) {
		float		 mx[SOFTMAX_RUN], sum[SOFTMAX_RUN];
		const float	*z;
		float		*q;
		int		 n = i / nb, p0, len, k, p;

		p0 = (i % nb) * SOFTMAX_RUN;
		len = P - p0 < SOFTMAX_RUN ? P - p0 : SOFTMAX_RUN;
		z = logits->data + (size_t)n * K * P + p0;
		q = prob->data + (size_t)n * K * P + p0;

		/* Largest logit, exponentials, sum, normalise. */
		for (p = 0; p < len; p++)
			mx[p] = z[p];
		for (k = 1; k < K; k++)
			for (p = 0; p < len; p++)
				mx[p] = z[(size_t)k * P + p] > mx[p] ?
				    z[(size_t)k * P + p] : mx[p];
		for (p = 0; p < len; p++)
			sum[p] = 0;
		for (k = 0; k < K; k++) {
			for (p = 0; p < len; p++) {
				q[(size_t)k * P + p] =
				    softmax_exp(z[(size_t)k * P + p] - mx[p]);
				sum[p] += q[(size_t)k * P + p];
			}
		}
		for (p = 0; p < len; p++)
			sum[p] = 1.0f / sum[p];
		for (k = 0; k < K; k++)
			for (p = 0; p < len; p++)
				q[(size_t)k * P + p] *= sum[p];
	}
}

/*
 * Cross-entropy of softmax(logits (N,K,H,W)) against target (N*H*W class
 * indices), averaged over the pixels whose target is a class (255, and
 * any value >= K, is ignored).  dlogits += scale * (prob - onehot) /
 * count.
 */
float
ce_forward_backward(struct tensor *dlogits, const struct tensor *logits,
    const uint8_t *target, float scale)
{
	int		 N, K, P, n, k, p, t;
	const float	*z;
	float		 mx, sum, e[256], f;
	double		*part, loss;
	size_t		 count;

	N = logits->shape[0]; K = logits->shape[1];
	P = logits->shape[2] * logits->shape[3];
	assert(K <= 256 && (dlogits == NULL || dlogits->n == logits->n));

	/* The number of pixels that count, for the mean. */
	count = 0;
	for (n = 0; n < N; n++)
		for (p = 0; p < P; p++)
			count += target[(size_t)n * P + p] < K;
	if (count == 0)
		return (0);
	f = scale / (float)count;

	/* Per pixel: log-sum-exp, loss, gradient; one partial sum per
	 * image, added in order so the result does not depend on threads. */
	part = model_alloc(N * sizeof *part);
	#pragma omp parallel for private(z, mx, sum, e, k, t, p)
	for (n = 0; n < N; n++) {
		part[n] = 0;
		for (p = 0; p < P; p++) {
			t = target[(size_t)n * P + p];
			if (t >= K)
				continue;
			z = logits->data + (size_t)n * K * P + p;
			mx = z[0];
			for (k = 1; k < K; k++)
				mx = z[(size_t)k * P] > mx ? z[(size_t)k * P] :
				    mx;
			sum = 0;
			for (k = 0; k < K; k++) {
				e[k] = softmax_exp(z[(size_t)k * P] - mx);
				sum += e[k];
			}
			part[n] += logf(sum) + mx - z[(size_t)t * P];
			if (dlogits == NULL)
				continue;
			for (k = 0; k < K; k++) {
				dlogits->data[((size_t)n * K + k) * P + p] +=
				    f * (e[k] / sum - (k == t));
			}
		}
	}
	loss = 0;
	for (n = 0; n < N; n++)
		loss += part[n];
	free(part);
	return ((float)(loss / (double)count));
}

/*
 * Mean over all elements of (softmax(logits) - target)^2, target fixed.
 * With q = softmax(z) and g = d loss / d q = 2 (q - target) / count, the
 * softmax gives d loss / d z_k = q_k (g_k - sum_j q_j g_j).
 */
float
consistency_forward_backward(struct tensor *dlogits,
    const struct tensor *logits, const struct tensor *target, float scale)
{
	int		 N, K, P, n, k, p;
	const float	*z, *t;
	float		 mx, sum, q[256], g[256], dot, f;
	double		*part, loss;

	N = logits->shape[0]; K = logits->shape[1];
	P = logits->shape[2] * logits->shape[3];
	assert(K <= 256 && target->n == logits->n);
	assert(dlogits == NULL || dlogits->n == logits->n);
	f = 2.0f * scale / (float)logits->n;

	part = model_alloc(N * sizeof *part);
	#pragma omp parallel for private(z, t, mx, sum, q, g, dot, k, p)
	for (n = 0; n < N; n++) {
		part[n] = 0;
		for (p = 0; p < P; p++) {
			z = logits->data + (size_t)n * K * P + p;
			t = target->data + (size_t)n * K * P + p;

			/* The softmax of this pixel. */
			mx = z[0];
			for (k = 1; k < K; k++)
				mx = z[(size_t)k * P] > mx ? z[(size_t)k * P] :
				    mx;
			sum = 0;
			for (k = 0; k < K; k++) {
				q[k] = softmax_exp(z[(size_t)k * P] - mx);
				sum += q[k];
			}

			/* Squared error and its gradient through it. */
			dot = 0;
			for (k = 0; k < K; k++) {
				q[k] /= sum;
				g[k] = q[k] - t[(size_t)k * P];
				part[n] += (double)g[k] * g[k];
				dot += q[k] * g[k];
			}
			if (dlogits == NULL)
				continue;
			for (k = 0; k < K; k++) {
				dlogits->data[((size_t)n * K + k) * P + p] +=
				    f * q[k] * (g[k] - dot);
			}
		}
	}
	loss = 0;
	for (n = 0; n < N; n++)
		loss += part[n];
	free(part);
	return ((float)(loss / (double)logits->n));
}

/* ------------------------------------------------------------------ */
/* Optimisation. */

/*
 * One AdamW update of param from grad, with moments m and v (all the same
 * size), as torch.optim.AdamW: decay the weights by lr * weight_decay,
 * then the bias-corrected Adam step.  a->t is the step number (1 for the
 * first): the caller increments it once per step, before the updates.
 */
void
adam_step(struct adam *a, struct tensor *param, const struct tensor *grad,
    struct tensor *m, struct tensor *v)
{
	size_t	i, n = param->n;
	float	decay, c1, c2s, step, gi, b1, b2;

	assert(a->t >= 1 && grad->n == n && m->n == n && v->n == n);
	b1 = a->beta1; b2 = a->beta2;
	decay = 1.0f - a->lr * a->weight_decay;
	c1 = 1.0f - (float)pow(b1, a->t);
	c2s = sqrtf(1.0f - (float)pow(b2, a->t));
	step = a->lr / c1;

	for (i = 0; i < n; i++) {
		gi = grad->data[i];
		m->data[i] = b1 * m->data[i] + (1 - b1) * gi;
		v->data[i] = b2 * v->data[i] + (1 - b2) * gi * gi;
		param->data[i] = param->data[i] * decay - step * m->data[i] /
		    (sqrtf(v->data[i]) / c2s + a->eps);
	}
}

/* Warm-up then cosine decay of the learning rate: step 0 of a warm-up
 * already moves (lr / warmup), and the last step is not quite zero. */
float
lr_cosine(float lr, int step, int total, int warmup)
{
	double	t;

	if (step < warmup)
		return (lr * (float)(step + 1) / (float)warmup);
	if (total <= warmup || step >= total)
		return (total <= warmup ? lr : 0);
	t = (double)(step - warmup) / (double)(total - warmup);
	return ((float)(0.5 * lr * (1.0 + cos(M_PI * t))));
}

/* Scale the n gradients so that their joint L2 norm is at most max (as
 * torch.nn.utils.clip_grad_norm_); returns the norm before. */
float
clip_grad_norm(struct tensor **grads, int n, float max)
{
	double	sum, norm;
	float	f;
	size_t	j;
	int	i;

	sum = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < grads[i]->n; j++)
			sum += (double)grads[i]->data[j] * grads[i]->data[j];
	norm = sqrt(sum);
	if (norm > max) {
		f = (float)(max / (norm + 1e-6));
		for (i = 0; i < n; i++)
			for (j = 0; j < grads[i]->n; j++)
				grads[i]->data[j] *= f;
	}
	return ((float)norm);
}
