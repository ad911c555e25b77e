/*
 * Direct 3x3 convolution kernels for CPUs with AVX-512 or AVX2.
 *
 * The network's costly layers are 3x3 convolutions with few channels (16
 * to 64) on large planes, where im2col turns the work into thin matrix
 * products that sgemm runs poorly.  Here the image stays NCHW and each
 * kernel slides vectors along a row.  Each thread copies the rows it
 * works on into a small buffer with a border of zeros, so the kernels
 * never test bounds and the copy is still in cache when they run.
 *
 * - Forward: a strip of 4 vectors of one output row (2 with AVX2) for 4
 *   output channels lives in registers; every input vector loaded serves
 *   the 4 channels and every broadcast weight all the strip's vectors.
 * - dinp is the same kernel run on the padded dout with the weights
 *   transposed and turned by 180 degrees, adding into dinp.
 * - dweight sums dout * shifted input over pixels: for one input channel
 *   and three output channels (one with AVX2), 9 accumulators per channel
 *   run along the rows of a block that stays in cache; each block's sums
 *   go to the thread's own buffer, added in thread order at the end.
 *
 * Every output element is computed by one thread in a fixed order, so the
 * results depend at most on the number of threads (dweight only).  Rows
 * whose width is not a multiple of the vector end in a masked one.  The
 * kernels are written once (conv-kernel.h) and built for each instruction
 * set with target attributes, chosen at run time; without AVX2 these
 * functions decline and conv.c's im2col kernels do the work.  The build
 * needs no -march.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model-int.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define CD_KB		4	/* output channels per forward strip */
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

/*
 * The calling thread's buffer of at least n floats.  Threads keep theirs
 * from call to call (OpenMP's threads live on), since fresh pages for a
 * megabyte at every layer cost more than the work in them; a thread that
 * ends frees its own.
 */
struct cd_buf {
	float	*data;
	size_t	 size;
};
static pthread_key_t		 cd_buf_key;
static pthread_once_t		 cd_buf_once = PTHREAD_ONCE_INIT;
/* The same pointer, where leak checkers look for it while the thread
 * lives (they do not read the key's slots). */
static _Thread_local struct cd_buf *cd_buf_mine;

static void
cd_buf_free(void *p)
{
	struct cd_buf	*b = p;

	free(b->data);
	free(b);
}

static void
cd_buf_init(void)
{
	if (pthread_key_create(&cd_buf_key, cd_buf_free) != 0)
		abort();
}

static float *
cd_buffer(size_t n)
{
	struct cd_buf	*b;

	pthread_once(&cd_buf_once, cd_buf_init);
	b = cd_buf_mine;
	if (b == NULL) {
		b = model_alloc(sizeof *b);
		b->data = NULL;
		b->size = 0;
		if (pthread_setspecific(cd_buf_key, b) != 0)
			abort();
		cd_buf_mine = b;
	}
	if (n > b->size) {
		free(b->data);
		b->data = model_alloc(n * sizeof *b->data);
		b->size = n;
	}
	return (b->data);
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

typedef void (*cd_strip_fn)(float *const *, const float *, size_t, int,
    const float *, int, const float *, int, int);

#define CK_PASTE2(a, b)	a ## _ ## b
#define CK_PASTE(a, b)	CK_PASTE2(a, b)
#define CK(name)	CK_PASTE(name, CK_ISA)

/* AVX-512: 16 floats, 32 registers, mask registers. */
#define CK_ISA		avx512
#define CK_TARGET	__attribute__((target("avx512f,avx2,fma")))
#define CK_INLINE	static inline __attribute__((always_inline)) CK_TARGET
#define CK_VL		16
#define CK_XB		4
#define CK_DK		3
#define CK_VEC		__m512
#define CK_MASK		__mmask16
#define CK_MASKN(n)	((n) >= 16 ? (__mmask16)0xffff :		\
			    (__mmask16)((1u << (n)) - 1))
#define CK_LOAD		_mm512_loadu_ps
#define CK_LOADM(m, p)	_mm512_maskz_loadu_ps((m), (p))
#define CK_STOREM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define CK_SET1		_mm512_set1_ps
#define CK_ZERO		_mm512_setzero_ps
#define CK_FMA		_mm512_fmadd_ps
#define CK_HSUM		_mm512_reduce_add_ps
#include "conv-kernel.h"
#undef CK_ISA
#undef CK_TARGET
#undef CK_INLINE
#undef CK_VL
#undef CK_XB
#undef CK_DK
#undef CK_VEC
#undef CK_MASK
#undef CK_MASKN
#undef CK_LOAD
#undef CK_LOADM
#undef CK_STOREM
#undef CK_SET1
#undef CK_ZERO
#undef CK_FMA
#undef CK_HSUM

/* AVX2: 8 floats, 16 registers, masks as vectors of all-ones lanes. */
static const int32_t cd_avx2_lanes[16] = {
	-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0
};

static inline __attribute__((always_inline, target("avx2,fma"))) __m256i
cd_avx2_mask(int n)
{
	n = n > 8 ? 8 : n;
	return (_mm256_loadu_si256((const __m256i *)(cd_avx2_lanes + 8 -
	    n)));
}

static inline __attribute__((always_inline, target("avx2,fma"))) float
cd_avx2_hsum(__m256 v)
{
	__m128	s;

	s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return (_mm_cvtss_f32(s));
}

#define CK_ISA		avx2
#define CK_TARGET	__attribute__((target("avx2,fma")))
#define CK_INLINE	static inline __attribute__((always_inline)) CK_TARGET
#define CK_VL		8
#define CK_XB		2
#define CK_DK		1
#define CK_VEC		__m256
#define CK_MASK		__m256i
#define CK_MASKN(n)	cd_avx2_mask(n)
#define CK_LOAD		_mm256_loadu_ps
#define CK_LOADM(m, p)	_mm256_maskload_ps((p), (m))
#define CK_STOREM(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define CK_SET1		_mm256_set1_ps
#define CK_ZERO		_mm256_setzero_ps
#define CK_FMA		_mm256_fmadd_ps
#define CK_HSUM		cd_avx2_hsum
#include "conv-kernel.h"

/*
 * Which kernels this CPU runs, asked once: CONV_ISA_AVX512,
 * CONV_ISA_AVX2 or CONV_ISA_NONE (then conv.c's).  S4LAB_CONV=avx2 or
 * S4LAB_CONV=ref in the environment asks for less, to test or measure the
 * others.
 */
static int	cd_chosen = -1;

static int
cd_isa(void)
{
	static int	 isa = -1;
	const char	*env;

	if (cd_chosen != -1)
		return (cd_chosen);
	if (isa != -1)
		return (isa);
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		isa = CONV_ISA_AVX512;
	else if (__builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("fma"))
		isa = CONV_ISA_AVX2;
	else
		isa = CONV_ISA_NONE;
	env = getenv("S4LAB_CONV");
	if (env != NULL && strcmp(env, "ref") == 0)
		isa = CONV_ISA_NONE;
	else if (env != NULL && strcmp(env, "avx2") == 0 && isa > CONV_ISA_AVX2)
		isa = CONV_ISA_AVX2;
	return (isa);
}

/* Use the kernels of level isa (CONV_ISA_*) or the best below it that
 * this CPU runs; -1 goes back to the default.  Returns the level used. */
int
conv_direct_select(int isa)
{
	cd_chosen = -1;
	if (isa >= 0 && isa < cd_isa())
		cd_chosen = isa;
	return (cd_isa());
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

	if (weight->shape[3] != 3 || cd_isa() == CONV_ISA_NONE)
		return (-1);
	K = weight->shape[0];
	wr = cd_weights(weight, 0);
	b = model_alloc(((K + CD_KB - 1) / CD_KB) * CD_KB * sizeof *b);
	for (k = 0; k < ((K + CD_KB - 1) / CD_KB) * CD_KB; k++)
		b[k] = bias != NULL && k < K ? bias->data[k] : 0;
	if (cd_isa() == CONV_ISA_AVX512)
		cd_run_avx512(out, inp, wr, b, 0);
	else
		cd_run_avx2(out, inp, wr, b, 0);
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

	if (weight->shape[3] != 3 || cd_isa() == CONV_ISA_NONE)
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
		if (cd_isa() == CONV_ISA_AVX512)
			cd_dweight_avx512(dweight, inp, dout);
		else
			cd_dweight_avx2(dweight, inp, dout);
	}

	/* dinp: the forward kernel on padded dout, turned weights. */
	if (dinp != NULL) {
		wr = cd_weights(weight, 1);
		if (cd_isa() == CONV_ISA_AVX512)
			cd_run_avx512(dinp, dout, wr, NULL, 1);
		else
			cd_run_avx2(dinp, dout, wr, NULL, 1);
		free(wr);
	}
	return (0);
}

#else /* !x86_64 */

int
conv_direct_select(int isa)
{
	return (CONV_ISA_NONE);
}

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
