/*
 * Tensors and the random number generator.
 *
 * A tensor owns one 64-byte aligned block of floats, so that vector loads
 * of whole rows never straddle a cache line at the start.  model/ does not
 * link src/'s fatal(); running out of memory here prints and aborts.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model-int.h"

/* Allocate size bytes aligned to 64; never returns NULL. */
void *
model_alloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 64;
	size = (size + 63) & ~(size_t)63;
	p = aligned_alloc(64, size);
	if (p == NULL) {
		fprintf(stderr, "s4lab: out of memory (%zu bytes)\n", size);
		abort();
	}
	return (p);
}

/* A new zeroed tensor of ndim dimensions. */
struct tensor *
tensor_new(int ndim, const int *shape)
{
	struct tensor	*t;
	int		 i;

	assert(ndim >= 1 && ndim <= TENSOR_MAXDIM);
	t = model_alloc(sizeof *t);
	memset(t, 0, sizeof *t);
	t->ndim = ndim;
	t->n = 1;
	for (i = 0; i < ndim; i++) {
		assert(shape[i] >= 0);
		t->shape[i] = shape[i];
		t->n *= (size_t)shape[i];
	}
	t->data = model_alloc(t->n * sizeof *t->data);
	memset(t->data, 0, t->n * sizeof *t->data);
	return (t);
}

/* A new zeroed (n, c, h, w) tensor. */
struct tensor *
tensor_new4(int n, int c, int h, int w)
{
	int	shape[4] = { n, c, h, w };

	return (tensor_new(4, shape));
}

/* Free a tensor and its data; NULL is allowed. */
void
tensor_free(struct tensor *t)
{
	if (t == NULL)
		return;
	free(t->data);
	free(t);
}

/* Set every element to zero. */
void
tensor_zero(struct tensor *t)
{
	memset(t->data, 0, t->n * sizeof *t->data);
}

/* Change the shape to (n, c, h, w); the data survive only if the size
 * does not change, and a new block is zeroed. */
void
tensor_resize4(struct tensor *t, int n, int c, int h, int w)
{
	size_t	total;

	total = (size_t)n * c * h * w;
	if (total != t->n) {
		free(t->data);
		t->data = model_alloc(total * sizeof *t->data);
		memset(t->data, 0, total * sizeof *t->data);
		t->n = total;
	}
	t->ndim = 4;
	t->shape[0] = n;
	t->shape[1] = c;
	t->shape[2] = h;
	t->shape[3] = w;
}

/* One step of splitmix64, used only to spread a seed over the state. */
static uint64_t
rng_splitmix(uint64_t *x)
{
	uint64_t	z;

	z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Seed the generator; any seed, zero included, gives a valid state. */
void
rng_seed(struct rng *r, uint64_t seed)
{
	int	i;

	for (i = 0; i < 4; i++)
		r->s[i] = rng_splitmix(&seed);
}

static inline uint64_t
rng_rotl(uint64_t x, int k)
{
	return ((x << k) | (x >> (64 - k)));
}

/* The next 64 bits of xoshiro256**. */
uint64_t
rng_next(struct rng *r)
{
	uint64_t	*s = r->s;
	uint64_t	 result, t;

	result = rng_rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return (result);
}

/* Uniform in [0, 1): the top 24 bits, so every value is exact. */
float
rng_uniform(struct rng *r)
{
	return ((float)(rng_next(r) >> 40) * (1.0f / 16777216.0f));
}

/* Standard normal by Box-Muller; one of the pair is discarded so the
 * stream does not depend on hidden state. */
float
rng_normal(struct rng *r)
{
	double	u1, u2;

	/* u1 in (0, 1], so the logarithm is finite. */
	u1 = ((double)(rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
	u2 = (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
	return ((float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2)));
}
