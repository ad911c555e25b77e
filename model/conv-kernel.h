/*
 * The direct 3x3 convolution kernels, written once for a vector width and
 * included by conv-direct.c for each instruction set, which defines:
 *
 * CK(name)	the function's name for this instruction set
 * CK_TARGET	the target attribute; CK_INLINE, an inlined helper's
 * CK_VL	floats per vector; CK_XB vectors per forward strip (4 or 2)
 * CK_DK	output channels per dweight pass (3 or 1)
 * CK_VEC, CK_MASK	the vector and lane-mask types
 * CK_MASKN(n)	the mask of the first min(n, CK_VL) lanes
 * CK_LOAD, CK_LOADM(m, p), CK_STOREM(p, m, v), CK_SET1, CK_ZERO,
 * CK_FMA(a, b, c) = a * b + c, CK_HSUM(v) the sum of the lanes.
 *
 * Masked loads read nothing from the lanes they leave out.
 */

/* The mask of the j-th of nv vectors when the strip holds n pixels. */
CK_INLINE CK_MASK
CK(cd_mask)(int j, int n)
{
	return (CK_MASKN(n - CK_VL * j));
}

/*
 * One strip: out[kb] (CD_KB row pointers at the strip's first pixel)
 * = (add ? out : bias) + sum over c, taps of w * in.  in points at the
 * padded input's channel 0, the row and column of the strip's top-left
 * tap; w is (C, 9, CD_KB).  XB vectors, n pixels.
 */
CK_INLINE void
CK(cd_strip)(float *const *out, const float *in, size_t plane, int Wp,
    const float *w, int C, const float *bias, int add, int n, const int XB,
    const int masked)
{
	CK_VEC		 acc[CD_KB][CK_XB], v[CK_XB], wv;
	CK_MASK	 m[CK_XB];
	const float	*ic, *r, *wc;
	int		 c, t, j, kb;

	#pragma GCC unroll 4
	for (j = 0; j < XB; j++)
		m[j] = CK(cd_mask)(j, n);
	#pragma GCC unroll 4
	for (kb = 0; kb < CD_KB; kb++) {
		#pragma GCC unroll 4
		for (j = 0; j < XB; j++) {
			acc[kb][j] = add ?
			    CK_LOADM(m[j], out[kb] + CK_VL * j) :
			    CK_SET1(bias[kb]);
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
				v[j] = masked ? CK_LOADM(m[j],
				    r + CK_VL * j) : CK_LOAD(r + CK_VL * j);
			#pragma GCC unroll 4
			for (kb = 0; kb < CD_KB; kb++) {
				wv = CK_SET1(wc[t * CD_KB + kb]);
				#pragma GCC unroll 4
				for (j = 0; j < XB; j++)
					acc[kb][j] = CK_FMA(wv, v[j],
					    acc[kb][j]);
			}
		}
	}

	#pragma GCC unroll 4
	for (kb = 0; kb < CD_KB; kb++)
		#pragma GCC unroll 4
		for (j = 0; j < XB; j++)
			CK_STOREM(out[kb] + CK_VL * j, m[j],
			    acc[kb][j]);
}

/* The strip at each width, so that the compiler keeps it in registers;
 * full strips load without masks. */
#define CK_STRIP(name, XB, masked)					\
static CK_TARGET void							\
name(float *const *o, const float *i, size_t p, int Wp, const float *w,	\
    int C, const float *b, int add, int n)				\
{									\
	CK(cd_strip)(o, i, p, Wp, w, C, b, add, n, XB, masked);		\
}
CK_STRIP(CK(cd_strip1), 1, 1)
CK_STRIP(CK(cd_strip2), 2, 1)
CK_STRIP(CK(cd_strip1f), 1, 0)
CK_STRIP(CK(cd_strip2f), 2, 0)
#if CK_XB == 4
CK_STRIP(CK(cd_strip3), 3, 1)
CK_STRIP(CK(cd_strip4), 4, 1)
CK_STRIP(CK(cd_strip4f), 4, 0)
#endif
#undef CK_STRIP

/* The strip function for len pixels. */
static cd_strip_fn
CK(cd_strip_for)(int len)
{
	if (len == CK_VL)
		return (CK(cd_strip1f));
	if (len == 2 * CK_VL)
		return (CK(cd_strip2f));
#if CK_XB == 4
	if (len == 4 * CK_VL)
		return (CK(cd_strip4f));
	if (len > 3 * CK_VL)
		return (CK(cd_strip4));
	if (len > 2 * CK_VL)
		return (CK(cd_strip3));
#endif
	if (len > CK_VL)
		return (CK(cd_strip2));
	return (CK(cd_strip1));
}

/*
 * out (N,K,H,W) = (add ? out : bias) + conv3x3(inp (N,C,H,W)), with wr
 * the weights as (ceil(K/4), C, 9, 4), zero past K, and bias ceil(K/4)*4
 * floats or NULL when adding.
 */
static void
CK(cd_run)(struct tensor *out, const struct tensor *inp, const float *wr,
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
		float		 scratch[CD_KB][CK_XB * CK_VL];
		struct cd_pad	 pd;
		int		 task, n, kb, y, y0, y1, x0, i, len;
		float		*o[CD_KB];
		cd_strip_fn	 strip;

		memset(scratch, 0, sizeof scratch);
		pd.data = cd_buffer(cd_pad_size(C, rows, W));
		/* Each output comes from one task whichever thread runs it,
		 * so a thread held up by others' work may fall behind. */
		#pragma omp for schedule(dynamic)
		for (task = 0; task < ntask; task++) {
			n = task / nby;
			y0 = (task % nby) * rows;
			y1 = y0 + rows < H ? y0 + rows : H;
			cd_pad_rows(&pd, inp, n, y0, y1);
			for (y = y0; y < y1; y++) {
				for (x0 = 0; x0 < W; x0 += CK_XB * CK_VL) {
					len = W - x0 < CK_XB * CK_VL ? W - x0 :
					    CK_XB * CK_VL;
					strip = CK(cd_strip_for)(len);
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
	}
}

/*
 * dweight of output channels [k, k + DK) and input channel c, over rows
 * [y0, y1) of image n: 9 * DK vector sums of dout * the shifted input,
 * reduced into acc (K, C, 9).  With AVX-512, three channels at once load
 * 12 vectors per 27 FMAs, and nearly fill the 32 registers; AVX2's 16
 * registers hold one channel's 9 sums.
 */
CK_INLINE void
CK(cd_dweight_part)(float *acc, const struct cd_pad *in, const float *dout,
    int K, int H, int n, int y0, int y1, int c, int k, const int DK)
{
	CK_VEC		 s[CK_DK][9], g[CK_DK], v;
	CK_MASK	 m;
	const float	*ir, *gr;
	int		 C, W, t, y, x, d;

	C = in->C; W = in->W;
	#pragma GCC unroll 3
	for (d = 0; d < DK; d++) {
		#pragma GCC unroll 9
		for (t = 0; t < 9; t++)
			s[d][t] = CK_ZERO();
	}
	for (y = y0; y < y1; y++) {
		ir = in->data + c * in->plane + (size_t)(y - y0) * in->Wp +
		    CD_OFF;
		gr = dout + (((size_t)n * K + k) * H + y) * W;
		for (x = 0; x < W; x += CK_VL) {
			m = CK_MASKN(W - x);
			#pragma GCC unroll 3
			for (d = 0; d < DK; d++)
				g[d] = CK_LOADM(m,
				    gr + (size_t)d * H * W + x);
			#pragma GCC unroll 9
			for (t = 0; t < 9; t++) {
				v = CK_LOADM(m, ir +
				    (t / 3) * in->Wp + t % 3 + x);
				#pragma GCC unroll 3
				for (d = 0; d < DK; d++)
					s[d][t] = CK_FMA(g[d], v,
					    s[d][t]);
			}
		}
	}
	#pragma GCC unroll 3
	for (d = 0; d < DK; d++) {
		#pragma GCC unroll 9
		for (t = 0; t < 9; t++)
			acc[((size_t)(k + d) * C + c) * 9 + t] +=
			    CK_HSUM(s[d][t]);
	}
}

#define CK_DWEIGHT(name, DK)						\
static CK_TARGET void							\
name(float *acc, const struct cd_pad *in, const float *dout, int K,	\
    int H, int n, int y0, int y1, int c, int k)				\
{									\
	CK(cd_dweight_part)(acc, in, dout, K, H, n, y0, y1, c, k, DK);	\
}
CK_DWEIGHT(CK(cd_dweight1), 1)
#if CK_DK == 3
CK_DWEIGHT(CK(cd_dweight2), 2)
CK_DWEIGHT(CK(cd_dweight3), 3)
#endif
#undef CK_DWEIGHT

/* dweight of one block of rows [y0, y1) of image n, every pair of
 * channels, output channels CK_DK at a time. */
static void
CK(cd_dweight_block)(float *acc, const struct cd_pad *in, const float *dout,
    int K, int H, int n, int y0, int y1)
{
	int	c, k;

	for (c = 0; c < in->C; c++) {
#if CK_DK == 3
		for (k = 0; k + 3 <= K; k += 3)
			CK(cd_dweight3)(acc, in, dout, K, H, n, y0, y1, c, k);
		if (K - k == 2)
			CK(cd_dweight2)(acc, in, dout, K, H, n, y0, y1, c, k);
		else if (K - k == 1)
#else
		for (k = 0; k < K; k++)
#endif
			CK(cd_dweight1)(acc, in, dout, K, H, n, y0, y1, c, k);
	}
}

/* dweight (K,C,3,3) += sum over images and pixels of dout (N,K,H,W) and
 * inp (N,C,H,W), split into blocks of rows that threads take in a fixed
 * order, each block's dout staying in L2 while every channel of its
 * input passes. */
static void
CK(cd_dweight)(struct tensor *dweight, const struct tensor *inp,
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

		pd.data = cd_buffer(cd_pad_size(C, rows, W));
		#pragma omp for schedule(static)
		for (b = 0; b < nblock; b++) {
			y0 = (b % nby) * rows;
			y1 = y0 + rows < H ? y0 + rows : H;
			cd_pad_rows(&pd, inp, b / nby, y0, y1);
			CK(cd_dweight_block)(acc + tid * nw, &pd, dout->data,
			    K, H, b / nby, y0, y1);
		}
	}

	/* Thread sums in thread order. */
	for (i = 0; i < nthread; i++) {
		size_t j;

		for (j = 0; j < nw; j++)
			dweight->data[j] += acc[i * nw + j];
	}
	free(acc);
}
