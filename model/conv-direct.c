/*
 * Direct 3x3 convolution kernels for CPUs with AVX-512.
 *
 * The network's costly layers are 3x3 convolutions with few channels (16
 * to 64) on large planes, where im2col turns the work into thin matrix
 * products that sgemm runs poorly.  Here the image stays NCHW: a zero
 * border is added once (so the kernels never test bounds) and each kernel
 * slides 16-wide vectors along a row.
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

#ifdef _OPENMP
#include <omp.h>
#endif

#include "model.h"
#include "model-int.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define CD_TARGET	__attribute__((target("avx512f,avx2,fma")))
#define CD_INLINE	static inline __attribute__((always_inline)) CD_TARGET
#define CD_KB		4	/* output channels per forward strip */
#define CD_XB		4	/* vectors of 16 per forward strip */
#define CD_BLOCK	(512 * 1024)	/* bytes of dout per dweight block */

/* A plane with a border of one zero on each side. */
struct cd_pad {
	float	*data;		/* (N, C, H + 2, W + 2) */
	int	 N, C, H, W;
	int	 Wp;		/* W + 2 */
	size_t	 plane;		/* (H + 2) * Wp */
};

/* Copy t (N,C,H,W) into a zero-bordered buffer. */
static void
cd_pad_new(struct cd_pad *pd, const struct tensor *t)
{
	int	 i, y, NC;

	pd->N = t->shape[0]; pd->C = t->shape[1];
	pd->H = t->shape[2]; pd->W = t->shape[3];
	pd->Wp = pd->W + 2;
	pd->plane = (size_t)(pd->H + 2) * pd->Wp;
	NC = pd->N * pd->C;
	/* Over-allocate a vector so masked tails never leave the block. */
	pd->data = model_alloc((NC * pd->plane + 32) * sizeof (float));

	#pragma omp parallel for private(y)
	for (i = 0; i < NC; i++) {
		float		*d = pd->data + i * pd->plane;
		const float	*s = t->data + (size_t)i * pd->H * pd->W;

		memset(d, 0, pd->Wp * sizeof *d);
		for (y = 0; y < pd->H; y++) {
			float *r = d + (size_t)(y + 1) * pd->Wp;

			r[0] = 0;
			memcpy(r + 1, s + (size_t)y * pd->W,
			    pd->W * sizeof *r);
			r[pd->W + 1] = 0;
		}
		memset(d + (size_t)(pd->H + 1) * pd->Wp, 0,
		    pd->Wp * sizeof *d);
	}
	memset(pd->data + NC * pd->plane, 0, 32 * sizeof (float));
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
    const float *w, int C, const float *bias, int add, int n, const int XB)
{
	__m512		 acc[CD_KB][CD_XB], v[CD_XB], wv;
	__mmask16	 m[CD_XB];
	const float	*ic, *r, *wc;
	int		 c, t, j, kb;

	for (j = 0; j < XB; j++)
		m[j] = cd_mask(j, n);
	for (kb = 0; kb < CD_KB; kb++) {
		for (j = 0; j < XB; j++) {
			acc[kb][j] = add ?
			    _mm512_maskz_loadu_ps(m[j], out[kb] + 16 * j) :
			    _mm512_set1_ps(bias[kb]);
		}
	}

	for (c = 0; c < C; c++) {
		ic = in + c * plane;
		wc = w + (size_t)c * 9 * CD_KB;
		for (t = 0; t < 9; t++) {
			r = ic + (t / 3) * Wp + t % 3;
			for (j = 0; j < XB; j++)
				v[j] = _mm512_maskz_loadu_ps(m[j], r + 16 * j);
			for (kb = 0; kb < CD_KB; kb++) {
				wv = _mm512_set1_ps(wc[t * CD_KB + kb]);
				for (j = 0; j < XB; j++)
					acc[kb][j] = _mm512_fmadd_ps(wv, v[j],
					    acc[kb][j]);
			}
		}
	}

	for (kb = 0; kb < CD_KB; kb++)
		for (j = 0; j < XB; j++)
			_mm512_mask_storeu_ps(out[kb] + 16 * j, m[j],
			    acc[kb][j]);
}

/* The strip at each width, so that the compiler keeps it in registers. */
static CD_TARGET void
cd_strip1(float *const *o, const float *i, size_t p, int Wp, const float *w,
    int C, const float *b, int add, int n)
{
	cd_strip(o, i, p, Wp, w, C, b, add, n, 1);
}

static CD_TARGET void
cd_strip2(float *const *o, const float *i, size_t p, int Wp, const float *w,
    int C, const float *b, int add, int n)
{
	cd_strip(o, i, p, Wp, w, C, b, add, n, 2);
}

static CD_TARGET void
cd_strip3(float *const *o, const float *i, size_t p, int Wp, const float *w,
    int C, const float *b, int add, int n)
{
	cd_strip(o, i, p, Wp, w, C, b, add, n, 3);
}

static CD_TARGET void
cd_strip4(float *const *o, const float *i, size_t p, int Wp, const float *w,
    int C, const float *b, int add, int n)
{
	cd_strip(o, i, p, Wp, w, C, b, add, n, 4);
}

/*
 * out (N,K,H,W) = (add ? out : bias) + conv3x3(in), with in padded (N,C)
 * and wr the weights as (ceil(K/4), C, 9, 4), zero past K.  bias is
 * ceil(K/4)*4 floats, NULL when adding.
 */
static void
cd_run(struct tensor *out, const struct cd_pad *in, const float *wr,
    const float *bias, int add)
{
	int	 N, K, H, W, C, KB, task, ntask;
	size_t	 wblock;

	N = out->shape[0]; K = out->shape[1];
	H = out->shape[2]; W = out->shape[3];
	C = in->C;
	KB = (K + CD_KB - 1) / CD_KB;
	ntask = N * KB * H;
	wblock = (size_t)C * 9 * CD_KB;

	/* One task: one output row of CD_KB channels of one image. */
	#pragma omp parallel for
	for (task = 0; task < ntask; task++) {
		float		 scratch[CD_KB][CD_XB * 16];
		int		 n, kb, y, x0, i, nv, len;
		float		*o[CD_KB];
		const float	*ip, *b;

		y = task % H;
		kb = (task / H) % KB;
		n = task / (H * KB);
		memset(scratch, 0, sizeof scratch);
		b = bias != NULL ? bias + kb * CD_KB : NULL;
		ip = in->data + (size_t)n * C * in->plane +
		    (size_t)y * in->Wp;
		for (x0 = 0; x0 < W; x0 += CD_XB * 16) {
			len = W - x0 < CD_XB * 16 ? W - x0 : CD_XB * 16;
			nv = (len + 15) / 16;
			for (i = 0; i < CD_KB; i++) {
				int k = kb * CD_KB + i;

				o[i] = k < K ? out->data + (((size_t)n * K +
				    k) * H + y) * W + x0 : scratch[i];
			}
			switch (nv) {
			case 1:
				cd_strip1(o, ip + x0, in->plane, in->Wp,
				    wr + kb * wblock, C, b,
				    add, len);
				break;
			case 2:
				cd_strip2(o, ip + x0, in->plane, in->Wp,
				    wr + kb * wblock, C, b,
				    add, len);
				break;
			case 3:
				cd_strip3(o, ip + x0, in->plane, in->Wp,
				    wr + kb * wblock, C, b,
				    add, len);
				break;
			default:
				cd_strip4(o, ip + x0, in->plane, in->Wp,
				    wr + kb * wblock, C, b,
				    add, len);
				break;
			}
		}
	}
}

/*
 * dweight of one block of rows [y0, y1) of image n: for every input
 * channel c and pair of output channels, 18 vector sums of dout * the
 * shifted input, reduced into acc (K, C, 9).
 */
static CD_TARGET void
cd_dweight_block(float *acc, const struct cd_pad *in, const float *dout,
    int K, int n, int y0, int y1)
{
	__m512		 s0[9], s1[9], g0, g1, v;
	__mmask16	 m;
	const float	*ir, *gr0, *gr1;
	int		 C, H, W, c, k, t, y, x;

	C = in->C; H = in->H; W = in->W;
	for (c = 0; c < C; c++) {
		for (k = 0; k < K; k += 2) {
			for (t = 0; t < 9; t++)
				s0[t] = s1[t] = _mm512_setzero_ps();
			for (y = y0; y < y1; y++) {
				ir = in->data + ((size_t)n * C + c) *
				    in->plane + (size_t)y * in->Wp;
				gr0 = dout + (((size_t)n * K + k) * H + y) * W;
				gr1 = k + 1 < K ? gr0 + (size_t)H * W : gr0;
				for (x = 0; x < W; x += 16) {
					m = W - x >= 16 ? (__mmask16)0xffff :
					    (__mmask16)((1u << (W - x)) - 1);
					g0 = _mm512_maskz_loadu_ps(m, gr0 + x);
					g1 = _mm512_maskz_loadu_ps(m, gr1 + x);
					for (t = 0; t < 9; t++) {
						v = _mm512_maskz_loadu_ps(m,
						    ir + (t / 3) * in->Wp +
						    t % 3 + x);
						s0[t] = _mm512_fmadd_ps(g0, v,
						    s0[t]);
						s1[t] = _mm512_fmadd_ps(g1, v,
						    s1[t]);
					}
				}
			}
			for (t = 0; t < 9; t++) {
				acc[((size_t)k * C + c) * 9 + t] +=
				    _mm512_reduce_add_ps(s0[t]);
				if (k + 1 < K)
					acc[((size_t)(k + 1) * C + c) * 9 +
					    t] += _mm512_reduce_add_ps(s1[t]);
			}
		}
	}
}

/* dweight (K,C,3,3) += sum over images and pixels, split into blocks of
 * rows that threads take in a fixed order. */
static void
cd_dweight(struct tensor *dweight, const struct cd_pad *in,
    const struct tensor *dout)
{
	int	 N, K, H, W, C, rows, nby, nblock, nthread, i;
	size_t	 nw;
	float	*acc;

	N = dout->shape[0]; K = dout->shape[1];
	H = dout->shape[2]; W = dout->shape[3];
	C = in->C;
	nw = (size_t)K * C * 9;
	rows = CD_BLOCK / ((size_t)K * W * sizeof (float));
	rows = rows < 1 ? 1 : rows > H ? H : rows;
	nby = (H + rows - 1) / rows;
	nblock = N * nby;
#ifdef _OPENMP
	nthread = omp_get_max_threads();
#else
	nthread = 1;
#endif
	if (nthread > nblock)
		nthread = nblock;
	acc = model_alloc(nthread * nw * sizeof *acc);
	memset(acc, 0, nthread * nw * sizeof *acc);

	#pragma omp parallel for num_threads(nthread) schedule(static)
	for (i = 0; i < nblock; i++) {
		int	tid = 0, y0, y1;

#ifdef _OPENMP
		tid = omp_get_thread_num();
#endif
		y0 = (i % nby) * rows;
		y1 = y0 + rows < H ? y0 + rows : H;
		cd_dweight_block(acc + tid * nw, in, dout->data, K, i / nby,
		    y0, y1);
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
	struct cd_pad	 pd;
	float		*wr, *b;
	int		 K, k;

	if (weight->shape[3] != 3 || !cd_supported())
		return (-1);
	K = weight->shape[0];
	cd_pad_new(&pd, inp);
	wr = cd_weights(weight, 0);
	b = model_alloc(((K + CD_KB - 1) / CD_KB) * CD_KB * sizeof *b);
	for (k = 0; k < ((K + CD_KB - 1) / CD_KB) * CD_KB; k++)
		b[k] = bias != NULL && k < K ? bias->data[k] : 0;
	cd_run(out, &pd, wr, b, 0);
	free(b);
	free(wr);
	free(pd.data);
	return (0);
}

/* The gradients of conv_direct_forward, added; -1 if not handled. */
int
conv_direct_backward(struct tensor *dinp, struct tensor *dweight,
    struct tensor *dbias, const struct tensor *dout,
    const struct tensor *inp, const struct tensor *weight)
{
	struct cd_pad	 pd;
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
		cd_pad_new(&pd, inp);
		cd_dweight(dweight, &pd, dout);
		free(pd.data);
	}

	/* dinp: the forward kernel on padded dout, turned weights. */
	if (dinp != NULL) {
		cd_pad_new(&pd, dout);
		wr = cd_weights(weight, 1);
		cd_run(dinp, &pd, wr, NULL, 1);
		free(wr);
		free(pd.data);
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
