/*
 * Convolutions, stride 1: 3x3 with padding 1 and 1x1 without.
 *
 * Legend: N batch, C input channels, K output channels, H W spatial,
 * S = k*k taps (9 or 1), P = H*W pixels.
 *
 * This file holds the reference kernels: im2col followed by CBLAS sgemm.
 * They are simple and exact enough to check the fast kernels against.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "model.h"
#include "model-int.h"

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
