/*
 * Direct 3x3 convolution kernels for CPUs with AVX-512.
 *
 * The network's costly layers are 3x3 convolutions with few channels (16
 * to 64) on large planes, where im2col turns the work into thin matrix
 * products that sgemm runs poorly.  Here the image stays NCHW and each
 * kernel slides 16-wide vectors along a row.  Each thread copies the rows it
 * works on into a small buffer with a border of zeros, so the kernels
 * never test bounds and the copy is still in cache when they run.
 *
 * - Forward: a strip of up to 64 pixels of one output row for 4 output
 *   channels lives in 16 registers; every input vector loaded serves the 4
 *   channels and every broadcast weight the 4 vectors.
 * - dinp is the same kernel run on the padded dout with the weights
 *   transposed and turned by 180 degrees, adding into dinp.
 * - dweight sums dout * shifted input over pixels: for one input channel
 *   and two output channels, 18 accumulators (9 taps) run along the rows
 *   of a block that stays in cache; each block's sums go to the thread's
 *   own buffer, and the buffers are added in thread order at the end.
 *
 * Every output element is computed by one thread in a fixed order, so the
 * results depend at most on the number of threads (dweight only).  Rows
 * whose width is not a multiple of 16 end in a masked vector.  Without
 * AVX-512 (checked at run time) these functions decline and conv.c's
 * im2col kernels do the work; the rest of the build needs no -march.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model-int.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define CD_TARGET	__attribute__((target("avx512f,avx2,fma")))
#define CD_INLINE	static inline __attribute__((always_inline)) CD_TARGET
#define CD_KB		4	/* output channels per forward strip */
#define CD_XB		4	/* vectors of 16 per forward strip */
#define CD_BLOCK	(512 * 1024)	/* bytes of dout per dweight block */

/*
 * Rows [y0 - 1, y1 + 1) of one image, every channel, with a border of
 * zeros: (C, rows, Wp).  A row's zero on the left sits at CD_OFF, so that
 * pixel 0 of the image starts a cache line and the middle tap's loads
 * never straddle two.
 */
#define CD_OFF		15
struct cd_pad {
	float	*data;
	int	 C, rows, W;
	int	 Wp;		/* W + 2 + CD_OFF, rounded up to 16 */
	size_t	 plane;		/* rows * Wp */
};

static int
cd_pad_stride(int W)
{
	return ((W + 2 + CD_OFF + 15) / 16 * 16);
}

/* The floats a padded block of up to nrow output rows needs. */
static size_t
cd_pad_size(int C, int nrow, int W)
{
	return ((size_t)C * (nrow + 2) * cd_pad_stride(W) + 32);
}

/* Copy rows [y0 - 1, y1 + 1) of image n of t (N,C,H,W) into pd->data,
 * zero outside the image. */
static void
cd_pad_rows(struct cd_pad *pd, const struct tensor *t, int n, int y0,
    int y1)
{
	int	 C, H, W, c, y;
	float	*r;

	C = t->shape[1]; H = t->shape[2]; W = t->shape[3];
	pd->C = C; pd->W = W; pd->Wp = cd_pad_stride(W);
	pd->rows = y1 - y0 + 2;
	pd->plane = (size_t)pd->rows * pd->Wp;
	for (c = 0; c < C; c++) {
		for (y = y0 - 1; y <= y1; y++) {
			r = pd->data + c * pd->plane + (size_t)(y - y0 + 1) *
			    pd->Wp + CD_OFF;
			if (y < 0 || y >= H) {
				memset(r, 0, (W + 2) * sizeof *r);
				continue;
			}
			r[0] = 0;
			memcpy(r + 1, t->data + (((size_t)n * C + c) * H + y) *
			    W, W * sizeof *r);
			r[W + 1] = 0;
		}
	}
	/* Masked tails may read a vector past the last row. */
	memset(pd->data + C * pd->plane, 0, 32 * sizeof (float));
}

/* The mask of the j-th of nv vectors when the strip holds n pixels. */
CD_INLINE __mmask16
cd_mask(int j, int n)
{
	int	left = n - 16 * j;

	return (left >= 16 ? (__mmask16)0xffff :
	    (__mmask16)((1u << left) - 1));
}

/*
 * One strip: out[kb] (CD_KB row pointers at the strip's first pixel)
 * = (add ? out : bias) + sum over c, taps of w * in.  in points at the
 * padded input's channel 0, the row and column of the strip's top-left
 * tap; w is (C, 9, CD_KB).  XB vectors, n pixels.
 */
CD_INLINE void
cd_strip(float *const *out, const float *in, size_t plane, int Wp,
    const float *w, int C, const float *bias, int add, int n, const int XB,
    const int masked)
{
	__m512		 acc[CD_KB][CD_XB], v[CD_XB], wv;
	__mmask16	 m[CD_XB];
	const float	*ic, *r, *wc;
	int		 c, t, j, kb;

	#pragma GCC unroll 4
	for (j = 0; j < XB; j++)
		m[j] = cd_mask(j, n);
	#pragma GCC unroll 4
	for (kb = 0; kb < CD_KB; kb++) {
		#pragma GCC unroll 4
		for (j = 0; j < XB; j++) {
			acc[kb][j] = add ?
			    _mm512_maskz_loadu_ps(m[j], out[kb] + 16 * j) :
			    _mm512_set1_ps(bias[kb]);
		}
	}

	for (c = 0; c < C; c++) {
		ic = in + c * plane;
		wc = w + (size_t)c * 9 * CD_KB;
		#pragma GCC unroll 9
		for (t = 0; t < 9; t++) {
			r = ic + (t / 3) * Wp + t % 3;
			#pragma GCC unroll 4
			for (j = 0; j < XB; j++)
				v[j] = masked ? _mm512_maskz_loadu_ps(m[j],
				    r + 16 * j) : _mm512_loadu_ps(r + 16 * j);
			#pragma GCC unroll 4
			for (kb = 0; kb < CD_KB; kb++) {
				wv = _mm512_set1_ps(wc[t * CD_KB + kb]);
				#pragma GCC unroll 4
				for (j = 0; j < XB; j++)
					acc[kb][j] = _mm512_fmadd_ps(wv, v[j],
					    acc[kb][j]);
			}
		}
	}

	#pragma GCC unroll 4
	for (kb = 0; kb < CD_KB; kb++)
		#pragma GCC unroll 4
		for (j = 0; j < XB; j++)
			_mm512_mask_storeu_ps(out[kb] + 16 * j, m[j],
			    acc[kb][j]);
}

/* The strip at each width, so that the compiler keeps it in registers;
 * full strips load without masks. */
#define CD_STRIP(name, XB, masked)					\
static CD_TARGET void							\
name(float *const *o, const float *i, size_t p, int Wp, const float *w,	\
    int C, const float *b, int add, int n)				\
{									\
	cd_strip(o, i, p, Wp, w, C, b, add, n, XB, masked);		\
}
CD_STRIP(cd_strip1, 1, 1)
CD_STRIP(cd_strip2, 2, 1)
CD_STRIP(cd_strip3, 3, 1)
CD_STRIP(cd_strip4, 4, 1)
CD_STRIP(cd_strip1f, 1, 0)
CD_STRIP(cd_strip2f, 2, 0)
CD_STRIP(cd_strip4f, 4, 0)

typedef void (*cd_strip_fn)(float *const *, const float *, size_t, int,
    const float *, int, const float *, int, int);

/* The strip function for len pixels. */
static cd_strip_fn
cd_strip_for(int len)
{
	switch (len) {
	case 16:
		return (cd_strip1f);
	case 32:
		return (cd_strip2f);
	case 64:
		return (cd_strip4f);
	}
	switch ((len + 15) / 16) {
	case 1:
		return (cd_strip1);
	case 2:
		return (cd_strip2);
	case 3:
		return (cd_strip3);
	}
	return (cd_strip4);
}

/*
 * out (N,K,H,W) = (add ? out : bias) + conv3x3(inp (N,C,H,W)), with wr
 * the weights as (ceil(K/4), C, 9, 4), zero past K, and bias ceil(K/4)*4
 * floats or NULL when adding.
 */
static void
cd_run(struct tensor *out, const struct tensor *inp, const float *wr,
    const float *bias, int add)
{
	int	 N, K, H, W, C, KB, rows, nby, ntask;
	size_t	 wblock;

	N = out->shape[0]; K = out->shape[1];
	H = out->shape[2]; W = out->shape[3];
	C = inp->shape[1];
	KB = (K + CD_KB - 1) / CD_KB;
	wblock = (size_t)C * 9 * CD_KB;
	/* Blocks of rows whose padded input stays in L2. */
	rows = CD_BLOCK / ((size_t)C * (W + 2) * sizeof (float)) - 2;
	rows = rows < 1 ? 1 : rows > 8 ? 8 : rows > H ? H : rows;
	nby = (H + rows - 1) / rows;
	ntask = N * nby;

	/*
	 * One task: a block of rows of one image, padded into the thread's
	 * buffer.  Along a row, all the channel blocks of a strip follow
	 * each other while its input (C channels, 3 rows, 66 columns) is in
	 * L1.
	 */
	#pragma omp parallel
	{
		float		 scratch[CD_KB][CD_XB * 16];
		struct cd_pad	 pd;
		int		 task, n, kb, y, y0, y1, x0, i, len;
		float		*o[CD_KB];
		cd_strip_fn	 strip;

		memset(scratch, 0, sizeof scratch);
		pd.data = model_alloc(cd_pad_size(C, rows, W) * sizeof (float));
		/* Each output comes from one task whichever thread runs it,
		 * so a thread held up by others' work may fall behind. */
		#pragma omp for schedule(dynamic)
		for (task = 0; task < ntask; task++) {
			n = task / nby;
			y0 = (task % nby) * rows;
			y1 = y0 + rows < H ? y0 + rows : H;
			cd_pad_rows(&pd, inp, n, y0, y1);
			for (y = y0; y < y1; y++) {
				for (x0 = 0; x0 < W; x0 += CD_XB * 16) {
					len = W - x0 < CD_XB * 16 ? W - x0 :
					    CD_XB * 16;
					strip = cd_strip_for(len);
					for (kb = 0; kb < KB; kb++) {
						for (i = 0; i < CD_KB; i++) {
							int k = kb * CD_KB + i;

							o[i] = k < K ?
							    out->data +
							    (((size_t)n * K +
							    k) * H + y) * W +
							    x0 : scratch[i];
						}
						strip(o, pd.data + (size_t)(y -
						    y0) * pd.Wp + CD_OFF + x0,
						    pd.plane, pd.Wp,
						    wr + kb * wblock, C,
						    bias != NULL ? bias +
						    kb * CD_KB : NULL, add,
						    len);
					}
				}
			}
		}
		free(pd.data);
	}
}

/*
 * dweight of output channels [k, k + DK) and input channel c, over rows
 * [y0, y1) of image n: 9 * DK vector sums of dout * the shifted input,
 * reduced into acc (K, C, 9).  Three channels at once load 12 vectors per
 * 27 FMAs, and nearly fill the 32 registers.
 */
CD_INLINE void
cd_dweight_part(float *acc, const struct cd_pad *in, const float *dout,
    int K, int H, int n, int y0, int y1, int c, int k, const int DK)
{
	__m512		 s[3][9], g[3], v;
	__mmask16	 m;
	const float	*ir, *gr;
	int		 C, W, t, y, x, d;

	C = in->C; W = in->W;
	#pragma GCC unroll 3
	for (d = 0; d < DK; d++) {
		#pragma GCC unroll 9
		for (t = 0; t < 9; t++)
			s[d][t] = _mm512_setzero_ps();
	}
	for (y = y0; y < y1; y++) {
		ir = in->data + c * in->plane + (size_t)(y - y0) * in->Wp +
		    CD_OFF;
		gr = dout + (((size_t)n * K + k) * H + y) * W;
		for (x = 0; x < W; x += 16) {
			m = W - x >= 16 ? (__mmask16)0xffff :
			    (__mmask16)((1u << (W - x)) - 1);
			#pragma GCC unroll 3
			for (d = 0; d < DK; d++)
				g[d] = _mm512_maskz_loadu_ps(m,
				    gr + (size_t)d * H * W + x);
			#pragma GCC unroll 9
			for (t = 0; t < 9; t++) {
				v = _mm512_maskz_loadu_ps(m, ir +
				    (t / 3) * in->Wp + t % 3 + x);
				#pragma GCC unroll 3
				for (d = 0; d < DK; d++)
					s[d][t] = _mm512_fmadd_ps(g[d], v,
					    s[d][t]);
			}
		}
	}
	#pragma GCC unroll 3
	for (d = 0; d < DK; d++) {
		#pragma GCC unroll 9
		for (t = 0; t < 9; t++)
			acc[((size_t)(k + d) * C + c) * 9 + t] +=
			    _mm512_reduce_add_ps(s[d][t]);
	}
}

#define CD_DWEIGHT(name, DK)						\
static CD_TARGET void							\
name(float *acc, const struct cd_pad *in, const float *dout, int K,	\
    int H, int n, int y0, int y1, int c, int k)				\
{									\
	cd_dweight_part(acc, in, dout, K, H, n, y0, y1, c, k, DK);	\
}
CD_DWEIGHT(cd_dweight1, 1)
CD_DWEIGHT(cd_dweight2, 2)
CD_DWEIGHT(cd_dweight3, 3)

/* dweight of one block of rows [y0, y1) of image n, every channel pair,
 * output channels three at a time. */
static void
cd_dweight_block(float *acc, const struct cd_pad *in, const float *dout,
    int K, int H, int n, int y0, int y1)
{
	int	c, k;

	for (c = 0; c < in->C; c++) {
		for (k = 0; k + 3 <= K; k += 3)
			cd_dweight3(acc, in, dout, K, H, n, y0, y1, c, k);
		if (K - k == 2)
			cd_dweight2(acc, in, dout, K, H, n, y0, y1, c, k);
		else if (K - k == 1)
			cd_dweight1(acc, in, dout, K, H, n, y0, y1, c, k);
	}
}

/* dweight (K,C,3,3) += sum over images and pixels of dout (N,K,H,W) and
 * inp (N,C,H,W), split into blocks of rows that threads take in a fixed
 * order, each block's dout staying in L2 while every channel of its
 * input passes. */
static void
cd_dweight(struct tensor *dweight, const struct tensor *inp,
    const struct tensor *dout)
{
	int	 N, K, H, W, C, rows, nby, nblock, nthread, i;
	size_t	 nw;
	float	*acc;

	N = dout->shape[0]; K = dout->shape[1];
	H = dout->shape[2]; W = dout->shape[3];
	C = inp->shape[1];
	nw = (size_t)K * C * 9;
	rows = CD_BLOCK / ((size_t)K * W * sizeof (float));
	rows = rows < 1 ? 1 : rows > H ? H : rows;
	nby = (H + rows - 1) / rows;
	nblock = N * nby;
	nthread = conv_threads();
	if (nthread > nblock)
		nthread = nblock;
	acc = model_alloc(nthread * nw * sizeof *acc);
	memset(acc, 0, nthread * nw * sizeof *acc);

	#pragma omp parallel num_threads(nthread)
	{
		struct cd_pad	 pd;
		int		 tid = conv_thread(), y0, y1, b;

		pd.data = model_alloc(cd_pad_size(C, rows, W) * sizeof (float));
		#pragma omp for schedule(static)
		for (b = 0; b < nblock; b++) {
			y0 = (b % nby) * rows;
			y1 = y0 + rows < H ? y0 + rows : H;
			cd_pad_rows(&pd, inp, b / nby, y0, y1);
			cd_dweight_block(acc + tid * nw, &pd, dout->data, K, H,
			    b / nby, y0, y1);
		}
		free(pd.data);
	}

	/* Thread sums in thread order. */
	for (i = 0; i < nthread; i++) {
		size_t j;

		for (j = 0; j < nw; j++)
			dweight->data[j] += acc[i * nw + j];
	}
	free(acc);
}

/* Can this CPU run the kernels? Asked once. */
static int
cd_supported(void)
{
	static int	supported = -1;

	if (supported == -1) {
		__builtin_cpu_init();
		supported = __builtin_cpu_supports("avx512f") &&
		    getenv("S4LAB_NO_AVX512") == NULL;
	}
	return (supported);
}

/* Reorder weight (K,C,3,3) as (ceil(K/4), C, 9, 4) for forward, or,
 * transposed and turned, as (ceil(C/4), K, 9, 4) for dinp. */
static float *
cd_weights(const struct tensor *weight, int transpose)
{
	int	 K, C, O, I, OB, o, i, t, src;
	float	*wr;
	size_t	 size;

	K = weight->shape[0]; C = weight->shape[1];
	O = transpose ? C : K;
	I = transpose ? K : C;
	OB = (O + CD_KB - 1) / CD_KB;
	size = (size_t)OB * I * 9 * CD_KB;
	wr = model_alloc(size * sizeof *wr);
	memset(wr, 0, size * sizeof *wr);
	for (o = 0; o < O; o++) {
		for (i = 0; i < I; i++) {
			for (t = 0; t < 9; t++) {
				src = transpose ?
				    ((i * C + o) * 9 + 8 - t) :
				    ((o * C + i) * 9 + t);
				wr[(((size_t)(o / CD_KB) * I + i) * 9 + t) *
				    CD_KB + o % CD_KB] = weight->data[src];
			}
		}
	}
	return (wr);
}

/* out = conv3x3(inp, weight) + bias; 0, or -1 if not handled here. */
int
conv_direct_forward(struct tensor *out, const struct tensor *inp,
    const struct tensor *weight, const struct tensor *bias)
{
	float		*wr, *b;
	int		 K, k;

	if (weight->shape[3] != 3 || !cd_supported())
		return (-1);
	K = weight->shape[0];
	wr = cd_weights(weight, 0);
	b = model_alloc(((K + CD_KB - 1) / CD_KB) * CD_KB * sizeof *b);
	for (k = 0; k < ((K + CD_KB - 1) / CD_KB) * CD_KB; k++)
		b[k] = bias != NULL && k < K ? bias->data[k] : 0;
	cd_run(out, inp, wr, b, 0);
	free(b);
	free(wr);
	return (0);
}

/* The gradients of conv_direct_forward, added; -1 if not handled. */
int
conv_direct_backward(struct tensor *dinp, struct tensor *dweight,
    struct tensor *dbias, const struct tensor *dout,
    const struct tensor *inp, const struct tensor *weight)
{
	float		*wr;
	int		 N, K, P, n, k, p;
	double		 sum;

	if (weight->shape[3] != 3 || !cd_supported())
		return (-1);
	N = dout->shape[0]; K = dout->shape[1];
	P = dout->shape[2] * dout->shape[3];

	/* dbias (K): sums over images and pixels. */
	if (dbias != NULL) {
		for (k = 0; k < K; k++) {
			sum = 0;
			for (n = 0; n < N; n++)
				for (p = 0; p < P; p++)
					sum += dout->data[((size_t)n * K + k) *
					    P + p];
			dbias->data[k] += (float)sum;
		}
	}

	/* dweight: from the padded input. */
	if (dweight != NULL) {
		cd_dweight(dweight, inp, dout);
	}

	/* dinp: the forward kernel on padded dout, turned weights. */
	if (dinp != NULL) {
		wr = cd_weights(weight, 1);
		cd_run(dinp, dout, wr, NULL, 1);
		free(wr);
	}
	return (0);
}

#else /* !x86_64 */

int
conv_direct_forward(struct tensor *out, const struct tensor *inp,
    const struct tensor *weight, const struct tensor *bias)
{
	return (-1);
}

int
conv_direct_backward(struct tensor *dinp, struct tensor *dweight,
    struct tensor *dbias, const struct tensor *dout,
    const struct tensor *inp, const struct tensor *weight)
{
	return (-1);
}

#endif
