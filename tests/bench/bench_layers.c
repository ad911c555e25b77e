/*
 * bench_layers: GFLOP/s of the 3x3 convolutions of the default network
 * (model/ARCH.md: 16-32-64-128, 256x256, 6 classes) and the time of its
 * whole forward layer sequence, at a given batch and thread count.
 *
 *	bench_layers [-acrN] [-b batch] [-t threads] [-n reps]
 *
 * -r also times the im2col + sgemm reference kernels; -a uses the AVX2
 * kernels even where AVX-512 is there; -N times the forward pass only;
 * -c counts the process's CPU time instead of wall time (with one
 * thread, a steadier figure on a shared machine).  Each figure is the
 * best of reps runs.  Output is one line per layer, read by layers.sh:
 *	conv C K H fwd-GFLOP/s bwd-GFLOP/s [ref-fwd ref-bwd]
 *	net forward-ms-per-batch
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "model.h"
#include "model-int.h"

/* C K H of each 3x3 convolution, in forward order. */
static const int bench_convs[][3] = {
	{ 3, 16, 256 }, { 16, 16, 256 },
	{ 16, 32, 128 }, { 32, 32, 128 },
	{ 32, 64, 64 }, { 64, 64, 64 },
	{ 64, 128, 32 }, { 128, 128, 32 },
	{ 192, 64, 64 }, { 64, 64, 64 },
	{ 96, 32, 128 }, { 32, 32, 128 },
	{ 48, 16, 256 }, { 16, 16, 256 },
};
#define BENCH_NCONV (sizeof bench_convs / sizeof bench_convs[0])

static int	bench_reps = 5;
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(bench_clock, &ts);
	return (ts.tv_sec + ts.tv_nsec * 1e-9);
}

static void
fill(struct tensor *t, struct rng *r)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		t->data[i] = rng_uniform(r) * 2 - 1;
}

/* Best time of forward and of backward (dinp + dweight) of one layer. */
static void
bench_conv(int N, int C, int K, int H, int ref, double *tf, double *tb)
{
	struct tensor	*inp, *w, *out, *dinp, *dw;
	struct rng	 r;
	double		 t;
	int		 i;

	rng_seed(&r, 1);
	inp = tensor_new4(N, C, H, H); fill(inp, &r);
	w = tensor_new4(K, C, 3, 3); fill(w, &r);
	out = tensor_new4(N, K, H, H);
	dinp = tensor_new4(N, C, H, H);
	dw = tensor_new4(K, C, 3, 3);
	*tf = *tb = 1e30;
	for (i = 0; i < bench_reps; i++) {
		t = now();
		if (ref)
			conv_ref_forward(out, inp, w, NULL);
		else
			conv_forward(out, inp, w, NULL);
		t = now() - t;
		*tf = t < *tf ? t : *tf;
		t = now();
		if (ref)
			conv_ref_backward(dinp, dw, NULL, out, inp, w);
		else
			conv_backward(dinp, dw, NULL, out, inp, w);
		t = now() - t;
		*tb = t < *tb ? t : *tb;
	}
	tensor_free(inp); tensor_free(w); tensor_free(out);
	tensor_free(dinp); tensor_free(dw);
}

/* One block: conv3x3 BN ReLU, with its own weights. */
struct bench_block {
	struct tensor	*w, *gamma, *beta, *rm, *rv, *out;
};

static void
block_new(struct bench_block *b, int N, int C, int K, int H, struct rng *r)
{
	int	shape[1] = { K }, i;

	b->w = tensor_new4(K, C, 3, 3);
	fill(b->w, r);
	b->gamma = tensor_new(1, shape);
	b->beta = tensor_new(1, shape);
	b->rm = tensor_new(1, shape);
	b->rv = tensor_new(1, shape);
	for (i = 0; i < K; i++)
		b->gamma->data[i] = b->rv->data[i] = 1;
	b->out = tensor_new4(N, K, H, H);
}

static void
block_forward(struct bench_block *b, const struct tensor *inp)
{
	conv_forward(b->out, inp, b->w, NULL);
	bn_forward(b->out, b->out, b->gamma, b->beta, b->rm, b->rv, NULL, 0);
	relu_forward(b->out, b->out);
}

static void
block_free(struct bench_block *b)
{
	tensor_free(b->w); tensor_free(b->gamma); tensor_free(b->beta);
	tensor_free(b->rm); tensor_free(b->rv); tensor_free(b->out);
}

/* Best time of the whole inference layer sequence on N tiles. */
static double
bench_net(int N)
{
	struct bench_block	 enc[4][2], dec[3][2];
	struct tensor		*x, *pool[4], *up[3], *cat[3], *head, *hb;
	struct tensor		*aux[4], *auxb[4], *auxup[4], *prob;
	struct rng		 r;
	int32_t			*argmax[4];
	int			 i, j, c, H, rep, shape[1] = { 6 };
	double			 t, best = 1e30;
	const struct tensor	*cur;

	rng_seed(&r, 2);
	x = tensor_new4(N, 3, 256, 256);
	fill(x, &r);
	for (i = 0; i < 4; i++) {
		c = 16 << i; H = 256 >> i;
		block_new(&enc[i][0], N, i == 0 ? 3 : c / 2, c, H, &r);
		block_new(&enc[i][1], N, c, c, H, &r);
		pool[i] = i > 0 ? tensor_new4(N, c / 2, H, H) : NULL;
		argmax[i] = i > 0 ? malloc(pool[i]->n * sizeof (int32_t)) :
		    NULL;
	}
	for (i = 0; i < 3; i++) {
		c = 16 << i; H = 256 >> i;
		block_new(&dec[i][0], N, 3 * c, c, H, &r);
		block_new(&dec[i][1], N, c, c, H, &r);
		up[i] = tensor_new4(N, 2 * c, H, H);
		cat[i] = tensor_new4(N, 3 * c, H, H);
	}
	head = tensor_new4(6, 16, 1, 1); fill(head, &r);
	hb = tensor_new(1, shape);
	prob = tensor_new4(N, 6, 256, 256);
	for (j = 0; j < 4; j++) {
		aux[j] = tensor_new4(6, 128, 1, 1); fill(aux[j], &r);
		auxb[j] = tensor_new4(N, 6, 32, 32);
		auxup[j] = tensor_new4(N, 6, 256, 256);
	}

	for (rep = 0; rep < bench_reps; rep++) {
		t = now();
		/* Encoder. */
		cur = x;
		for (i = 0; i < 4; i++) {
			if (i > 0) {
				maxpool_forward(pool[i], cur, argmax[i]);
				cur = pool[i];
			}
			block_forward(&enc[i][0], cur);
			block_forward(&enc[i][1], enc[i][0].out);
			cur = enc[i][1].out;
		}
		/* Main decoder and head. */
		for (i = 2; i >= 0; i--) {
			upsample2_forward(up[i], cur);
			concat_forward(cat[i], up[i], enc[i][1].out);
			block_forward(&dec[i][0], cat[i]);
			block_forward(&dec[i][1], dec[i][0].out);
			cur = dec[i][1].out;
		}
		conv_forward(prob, cur, head, hb);
		softmax_forward(prob, prob);
		/* Auxiliary decoders on the bottleneck. */
		for (j = 0; j < 4; j++) {
			conv_forward(auxb[j], enc[3][1].out, aux[j], hb);
			bilinear_forward(auxup[j], auxb[j], 8);
			softmax_forward(auxup[j], auxup[j]);
		}
		t = now() - t;
		best = t < best ? t : best;
	}

	for (i = 0; i < 4; i++) {
		block_free(&enc[i][0]); block_free(&enc[i][1]);
		tensor_free(pool[i]); free(argmax[i]);
	}
	for (i = 0; i < 3; i++) {
		block_free(&dec[i][0]); block_free(&dec[i][1]);
		tensor_free(up[i]); tensor_free(cat[i]);
	}
	for (j = 0; j < 4; j++) {
		tensor_free(aux[j]); tensor_free(auxb[j]);
		tensor_free(auxup[j]);
	}
	tensor_free(x); tensor_free(head); tensor_free(hb);
	tensor_free(prob);
	return (best);
}

int
main(int argc, char **argv)
{
	int	 N = 4, threads = 2, ref = 0, convs = 1, ch;
	size_t	 i;
	double	 tf, tb, rf, rb, flops;

	while ((ch = getopt(argc, argv, "ab:cNn:rt:")) != -1) {
		switch (ch) {
		case 'a':
			conv_direct_select(CONV_ISA_AVX2);
			break;
		case 'N':
			convs = 0;
			break;
		case 'c':
			bench_clock = CLOCK_PROCESS_CPUTIME_ID;
			break;
		case 'b':
			N = atoi(optarg);
			break;
		case 'n':
			bench_reps = atoi(optarg);
			break;
		case 'r':
			ref = 1;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_layers [-acrN] "
			    "[-b batch] [-n reps] [-t threads]\n");
			return (2);
		}
	}
	if (N < 1 || threads < 1 || bench_reps < 1)
		return (2);
#ifdef _OPENMP
	omp_set_num_threads(threads);
#endif

	printf("# batch %d, %d threads, best of %d, %s time: conv C K H "
	    "fwd bwd GFLOP/s%s; net ms per forward pass\n", N, threads,
	    bench_reps, bench_clock == CLOCK_MONOTONIC ? "wall" : "CPU",
	    ref ? " (then im2col+sgemm)" : "");
	for (i = 0; convs && i < BENCH_NCONV; i++) {
		const int *s = bench_convs[i];

		flops = 2.0 * N * s[0] * s[1] * 9 * s[2] * s[2];
		bench_conv(N, s[0], s[1], s[2], 0, &tf, &tb);
		printf("conv %d %d %d %.1f %.1f", s[0], s[1], s[2],
		    flops / tf * 1e-9, 2 * flops / tb * 1e-9);
		if (ref) {
			bench_conv(N, s[0], s[1], s[2], 1, &rf, &rb);
			printf(" %.1f %.1f", flops / rf * 1e-9,
			    2 * flops / rb * 1e-9);
		}
		printf("\n");
		fflush(stdout);
	}
	printf("net %.2f\n", bench_net(N) * 1e3);
	return (0);
}
