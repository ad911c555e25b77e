/*
 * Convolutions, stride 1: 3x3 with padding 1 and 1x1 without.
 *
 * Legend: N batch, C input channels, K output channels, H W spatial,
 * S = k*k taps (9 or 1), P = H*W pixels.
 *
 * This file holds the reference kernels, im2col followed by CBLAS sgemm
 * (simple, and exact enough to check the fast kernels against), and the
 * 1x1 kernels the network uses.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "model.h"
#include "model-int.h"

/* The threads a parallel loop will get, and this thread's number. */
int
conv_threads(void)
{
#ifdef _OPENMP
	return (omp_get_max_threads());
#else
	return (1);
#endif
}

int
conv_thread(void)
{
#ifdef _OPENMP
	return (omp_get_thread_num());
#else
	return (0);
#endif
}

/* Check the shapes of a convolution and return the kernel side. */
static int
conv_shape(const struct tensor *out, const struct tensor *inp,
    const struct tensor *weight)
{
	int	ks;

	ks = weight->shape[3];
	assert(ks == 1 || ks == 3);
	assert(weight->shape[2] == ks);
	assert(weight->shape[1] == inp->shape[1]);
	assert(out->shape[0] == inp->shape[0]);
	assert(out->shape[1] == weight->shape[0]);
	assert(out->shape[2] == inp->shape[2]);
	assert(out->shape[3] == inp->shape[3]);
	return (ks);
}

/* Unfold one image (C,H,W) into col (C*9, P) for a 3x3 pad-1 kernel. */
static void
conv_im2col(float *col, const float *img, int C, int H, int W)
{
	int	 c, dy, dx, y, x, sy, sx;
	float	*row;

	for (c = 0; c < C; c++) {
		for (dy = 0; dy < 3; dy++) {
			for (dx = 0; dx < 3; dx++) {
				row = col + ((size_t)(c * 9 + dy * 3 + dx)) *
				    H * W;
				for (y = 0; y < H; y++) {
					sy = y + dy - 1;
					for (x = 0; x < W; x++) {
						sx = x + dx - 1;
						row[y * W + x] = (sy < 0 ||
						    sy >= H || sx < 0 ||
						    sx >= W) ? 0.0f :
						    img[((size_t)c * H + sy) *
						    W + sx];
					}
				}
			}
		}
	}
}

/* Fold col (C*9, P) back, adding into img (C,H,W). */
static void
conv_col2im(float *img, const float *col, int C, int H, int W)
{
	int		 c, dy, dx, y, x, sy, sx;
	const float	*row;

	for (c = 0; c < C; c++) {
		for (dy = 0; dy < 3; dy++) {
			for (dx = 0; dx < 3; dx++) {
				row = col + ((size_t)(c * 9 + dy * 3 + dx)) *
				    H * W;
				for (y = 0; y < H; y++) {
					sy = y + dy - 1;
					if (sy < 0 || sy >= H)
						continue;
					for (x = 0; x < W; x++) {
						sx = x + dx - 1;
						if (sx < 0 || sx >= W)
							continue;
						img[((size_t)c * H + sy) * W +
						    sx] += row[y * W + x];
					}
				}
			}
		}
	}
}

/* out (N,K,H,W) = weight (K,C,k,k) * inp (N,C,H,W) + bias (K). */
void
conv_ref_forward(struct tensor *out, const struct tensor *inp,
    const struct tensor *weight, const struct tensor *bias)
{
	int		 N, C, K, H, W, P, S, ks, n, k, p;
	float		*col, *o;
	const float	*b;

	ks = conv_shape(out, inp, weight);
	N = inp->shape[0]; C = inp->shape[1]; H = inp->shape[2];
	W = inp->shape[3]; K = weight->shape[0]; P = H * W; S = ks * ks;
	col = ks == 3 ? model_alloc((size_t)C * S * P * sizeof *col) : NULL;

	for (n = 0; n < N; n++) {
		const float *x = inp->data + (size_t)n * C * P;

		o = out->data + (size_t)n * K * P;
		if (ks == 3) {
			conv_im2col(col, x, C, H, W);
			x = col;
		}
		/* o (K,P) = weight (K,C*S) x col (C*S,P) */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, P,
		    C * S, 1.0f, weight->data, C * S, x, P, 0.0f, o, P);
		if (bias == NULL)
			continue;
		b = bias->data;
		for (k = 0; k < K; k++)
			for (p = 0; p < P; p++)
				o[(size_t)k * P + p] += b[k];
	}
	free(col);
}

/* Add the gradients of a convolution into dinp, dweight and dbias (any
 * of them NULL to skip). */
void
conv_ref_backward(struct tensor *dinp, struct tensor *dweight,
    struct tensor *dbias, const struct tensor *dout,
    const struct tensor *inp, const struct tensor *weight)
{
	int		 N, C, K, H, W, P, S, ks, n, k, p;
	float		*col, *dcol;
	const float	*x, *g;
	double		 sum;

	ks = conv_shape(dout, inp, weight);
	N = inp->shape[0]; C = inp->shape[1]; H = inp->shape[2];
	W = inp->shape[3]; K = weight->shape[0]; P = H * W; S = ks * ks;
	col = model_alloc((size_t)C * S * P * sizeof *col);

	for (n = 0; n < N; n++) {
		g = dout->data + (size_t)n * K * P;
		x = inp->data + (size_t)n * C * P;

		/* dbias (K) += sum over pixels of dout */
		if (dbias != NULL) {
			for (k = 0; k < K; k++) {
				sum = 0;
				for (p = 0; p < P; p++)
					sum += g[(size_t)k * P + p];
				dbias->data[k] += (float)sum;
			}
		}

		/* dweight (K,C*S) += dout (K,P) x col^T (P,C*S) */
		if (dweight != NULL) {
			if (ks == 3) {
				conv_im2col(col, x, C, H, W);
				x = col;
			}
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
			    K, C * S, P, 1.0f, g, P, x, P, 1.0f,
			    dweight->data, C * S);
		}

		/* dcol (C*S,P) = weight^T (C*S,K) x dout (K,P) */
		if (dinp != NULL) {
			float *di = dinp->data + (size_t)n * C * P;

			dcol = ks == 3 ? col : di;
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
			    C * S, P, K, 1.0f, weight->data, C * S, g, P,
			    ks == 3 ? 0.0f : 1.0f, dcol, P);
			if (ks == 3)
				conv_col2im(di, col, C, H, W);
		}
	}
	free(col);
}

/*
 * 1x1 convolutions: per-pixel products of few channels (the head and the
 * auxiliary decoders).  sgemm would run them on its own threads while the
 * OpenMP ones spin, so they are plain loops over blocks of pixels that
 * stay in cache.
 */
#define CONV1_BLOCK	1024	/* pixels per block */

/* out (N,K,P) = bias + weight (K,C) x inp (N,C,P); with transpose, the
 * weight is read as (C,K) and out (N,C,P) gets weight^T x inp added. */
static void
conv1_apply(float *out, const float *inp, const float *weight,
    const float *bias, int N, int C, int K, int P, int transpose)
{
	int	nb, i;

	nb = (P + CONV1_BLOCK - 1) / CONV1_BLOCK;

	#pragma omp parallel for
	for (i = 0; i < N * nb; i++) {
		int		 n = i / nb, p0, len, k, c, p;
		float		*o, w;
		const float	*x;

		p0 = (i % nb) * CONV1_BLOCK;
		len = P - p0 < CONV1_BLOCK ? P - p0 : CONV1_BLOCK;
		for (k = 0; k < K; k++) {
			o = out + ((size_t)n * K + k) * P + p0;
			if (!transpose) {
				w = bias != NULL ? bias[k] : 0;
				for (p = 0; p < len; p++)
					o[p] = w;
			}
			for (c = 0; c < C; c++) {
				w = transpose ? weight[(size_t)c * K + k] :
				    weight[(size_t)k * C + c];
				x = inp + ((size_t)n * C + c) * P + p0;
				#pragma omp simd
				for (p = 0; p < len; p++)
					o[p] += w * x[p];
			}
		}
	}
}

/* out (N,K,H,W) = weight (K,C,1,1) x inp (N,C,H,W) + bias. */
void
conv1_forward(struct tensor *out, const struct tensor *inp,
    const struct tensor *weight, const struct tensor *bias)
{
	conv_shape(out, inp, weight);
	conv1_apply(out->data, inp->data, weight->data,
	    bias != NULL ? bias->data : NULL, inp->shape[0], inp->shape[1],
	    weight->shape[0], inp->shape[2] * inp->shape[3], 0);
}

/* Add the gradients of a 1x1 convolution (any of them NULL to skip);
 * dweight sums per thread over blocks of pixels, then in thread order. */
void
conv1_backward(struct tensor *dinp, struct tensor *dweight,
    struct tensor *dbias, const struct tensor *dout,
    const struct tensor *inp, const struct tensor *weight)
{
	int	 N, C, K, P, nb, nthread, i;
	float	*acc;
	size_t	 nw, j;

	conv_shape(dout, inp, weight);
	N = inp->shape[0]; C = inp->shape[1]; K = weight->shape[0];
	P = inp->shape[2] * inp->shape[3];
	nb = (P + CONV1_BLOCK - 1) / CONV1_BLOCK;

	/* dinp (N,C,P) += weight^T (C,K) x dout (N,K,P) */
	if (dinp != NULL)
		conv1_apply(dinp->data, dout->data, weight->data, NULL, N, K,
		    C, P, 1);
	if (dweight == NULL && dbias == NULL)
		return;

	/* dweight (K,C) and dbias (K): partial sums per thread. */
	nw = (size_t)K * (C + 1);
	nthread = conv_threads();
	acc = model_alloc(nthread * nw * sizeof *acc);
	memset(acc, 0, nthread * nw * sizeof *acc);
	#pragma omp parallel for num_threads(nthread) schedule(static)
	for (i = 0; i < N * nb; i++) {
		int		 n = i / nb, p0, len, k, c, p;
		float		*a, s;
		const float	*g, *x;

		a = acc + conv_thread() * nw;
		p0 = (i % nb) * CONV1_BLOCK;
		len = P - p0 < CONV1_BLOCK ? P - p0 : CONV1_BLOCK;
		for (k = 0; k < K; k++) {
			g = dout->data + ((size_t)n * K + k) * P + p0;
			for (c = 0; c <= C; c++) {
				s = 0;
				if (c == C) {
					#pragma omp simd reduction(+:s)
					for (p = 0; p < len; p++)
						s += g[p];
				} else {
					x = inp->data + ((size_t)n * C + c) *
					    P + p0;
					#pragma omp simd reduction(+:s)
					for (p = 0; p < len; p++)
						s += g[p] * x[p];
				}
				a[(size_t)k * (C + 1) + c] += s;
			}
		}
	}
	for (i = 0; i < nthread; i++) {
		for (j = 0; j < nw; j++) {
			if (j % (C + 1) == (size_t)C) {
				if (dbias != NULL)
					dbias->data[j / (C + 1)] +=
					    acc[i * nw + j];
			} else if (dweight != NULL)
				dweight->data[j / (C + 1) * C + j % (C + 1)] +=
				    acc[i * nw + j];
		}
	}
	free(acc);
}
