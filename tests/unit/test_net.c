/* Unit tests for model/net.c: shapes, probabilities, weights on disk,
 * determinism, gradients against finite differences, and overfitting a
 * few real tiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include "model.h"
#include "tiles.h"

#define DUBAI	S4LAB_SRCDIR "/tests/data/dubai"

static void
small_config(struct net_config *cfg, int tile)
{
	net_config_default(cfg, 5);
	cfg->width = 4;
	cfg->depth = 3;
	cfg->tile = tile;
	cfg->threads = 1;
	cfg->seed = 7;
}

static uint8_t *
random_bytes(size_t n, uint64_t seed, int mod)
{
	struct rng	 r;
	uint8_t		*b = malloc(n);
	size_t		 i;

	rng_seed(&r, seed);
	for (i = 0; i < n; i++)
		b[i] = rng_next(&r) % mod;
	return (b);
}

static void
shapes_follow_the_config(void **state)
{
	struct net_config	 cfg;
	struct net		*net;
	const struct tensor	*t;

	small_config(&cfg, 32);
	net = net_new(&cfg);
	assert_non_null(net);
	t = net_tensor(net, "enc.0.conv1.weight", 0);
	assert_int_equal(t->ndim, 4);
	assert_int_equal(t->shape[0], 4);
	assert_int_equal(t->shape[1], 3);
	t = net_tensor(net, "enc.2.bn2.running_var", 0);
	assert_int_equal(t->shape[0], 16);
	assert_true(t->data[0] == 1.0f);
	assert_null(net_tensor(net, "enc.2.bn2.running_var", 1));
	t = net_tensor(net, "dec.1.conv1.weight", 0);
	assert_int_equal(t->shape[0], 8);
	assert_int_equal(t->shape[1], 16 + 8);
	t = net_tensor(net, "dec.0.conv2.weight", 0);
	assert_int_equal(t->shape[1], 4);
	t = net_tensor(net, "head.weight", 0);
	assert_int_equal(t->shape[0], 5);
	assert_int_equal(t->shape[1], 4);
	t = net_tensor(net, "aux.3.weight", 0);
	assert_int_equal(t->shape[1], 16);
	assert_null(net_tensor(net, "aux.4.weight", 0));
	assert_null(net_tensor(net, "dec.2.conv1.weight", 0));
	assert_true(net_flops(net) > 0);
	net_free(net);

	/* Bad configurations are refused, not built. */
	small_config(&cfg, 30);
	assert_null(net_new(&cfg));
	small_config(&cfg, 32);
	cfg.classes = 1;
	assert_null(net_new(&cfg));
}

static void
default_net_has_the_peer_size(void **state)
{
	struct net_config	 cfg;
	struct net		*net;

	/* PEERS.md: 2.68 GMAC forward per 256px tile, all decoders. */
	net_config_default(&cfg, 6);
	net = net_new(&cfg);
	assert_true(fabs(net_flops(net) / 2 / 1e9 - 2.68) < 0.03);
	net_free(net);
}

static void
infer_gives_probabilities(void **state)
{
	struct net_config	 cfg;
	struct net		*net;
	uint8_t			*rgb;
	float			*pm, *pa, dis[3], s;
	size_t			 P = 32 * 32, p;
	int			 i, k, c;

	small_config(&cfg, 32);
	net = net_new(&cfg);
	rgb = random_bytes(3 * 3 * P, 1, 256);
	pm = malloc(3 * 5 * P * sizeof *pm);
	pa = malloc(3 * 4 * 5 * P * sizeof *pa);
	net_infer(net, rgb, 3, pm, pa, dis);
	for (i = 0; i < 3; i++) {
		assert_true(dis[i] >= 0 && dis[i] < 1);
		for (p = 0; p < P; p++) {
			s = 0;
			for (c = 0; c < 5; c++)
				s += pm[(i * 5 + c) * P + p];
			assert_true(fabsf(s - 1) < 1e-5f);
			for (k = 0; k < 4; k++) {
				s = 0;
				for (c = 0; c < 5; c++)
					s += pa[((i * 4 + k) * 5 + c) * P + p];
				assert_true(fabsf(s - 1) < 1e-5f);
			}
		}
	}
	/* Aux decoders start from different weights: they disagree. */
	assert_true(dis[0] > 0);
	free(rgb);
	free(pm);
	free(pa);
	net_free(net);
}

/* Train a few steps so that BN statistics and weights move. */
static void
train_some(struct net *net, int steps)
{
	struct adam		 adam = {
				    1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, 0 };
	struct net_losses	 l;
	size_t			 P = (size_t)net_config(net)->tile *
				     net_config(net)->tile;
	uint8_t			*rgb, *mask, *rgbu;
	int			 i;

	rgb = random_bytes(2 * 3 * P, 2, 256);
	mask = random_bytes(2 * P, 3, 6);	/* 5 = ignored here: 255? */
	for (i = 0; i < (int)(2 * P); i++)
		mask[i] = mask[i] == 5 ? 255 : mask[i];
	rgbu = random_bytes(3 * 3 * P, 4, 256);
	for (i = 0; i < steps; i++) {
		net_train_step(net, &adam, rgb, mask, 2, rgbu, 3, 0.5f, &l);
		assert_true(isfinite(l.sup) && l.sup > 0);
		assert_true(isfinite(l.cons) && l.cons > 0);
	}
	assert_int_equal(adam.t, steps);
	free(rgb);
	free(mask);
	free(rgbu);
}

static void
save_and_load_round_trip(void **state)
{
	struct net_config	 cfg;
	struct net		*net, *back;
	const struct tensor	*a, *b;
	char			 dir[] = "/tmp/s4lab-net-XXXXXX", path[256];
	char			*cause = NULL;
	uint8_t			*rgb;
	float			*p1, *p2, d1[2], d2[2];
	size_t			 P = 32 * 32;

	small_config(&cfg, 32);
	net = net_new(&cfg);
	train_some(net, 2);
	a = net_tensor(net, "enc.1.bn1.running_mean", 0);
	assert_true(a->data[0] != 0);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/m.safetensors", dir);
	assert_int_equal(net_save(net, path, &cause), 0);
	assert_int_equal(net_load(&back, path, &cause), 0);
	assert_int_equal(net_config(back)->width, 4);
	assert_int_equal(net_config(back)->depth, 3);
	assert_int_equal(net_config(back)->tile, 32);
	b = net_tensor(back, "enc.1.bn1.running_mean", 0);
	assert_memory_equal(a->data, b->data, a->n * sizeof *a->data);

	rgb = random_bytes(2 * 3 * P, 9, 256);
	p1 = malloc(2 * 5 * P * sizeof *p1);
	p2 = malloc(2 * 5 * P * sizeof *p2);
	net_infer(net, rgb, 2, p1, NULL, d1);
	net_infer(back, rgb, 2, p2, NULL, d2);
	assert_memory_equal(p1, p2, 2 * 5 * P * sizeof *p1);
	assert_memory_equal(d1, d2, sizeof d1);
	net_free(back);

	/* Weights of another kind of file are refused by name. */
	assert_int_equal(net_load(&back, S4LAB_SRCDIR
	    "/tests/data/cases/C25-valid.safetensors", &cause), -1);
	assert_non_null(strstr(cause, "not s4lab weights"));
	free(cause);
	assert_null(back);

	unlink(path);
	rmdir(dir);
	free(rgb);
	free(p1);
	free(p2);
	net_free(net);
}

static void
training_is_deterministic(void **state)
{
	struct net_config	 cfg;
	struct net		*n1, *n2;
	const struct tensor	*a, *b;
	const char		*names[] = { "enc.0.conv1.weight",
				    "dec.0.bn2.running_var", "aux.1.weight",
				    "head.bias", NULL };
	int			 i;

	small_config(&cfg, 32);
	n1 = net_new(&cfg);
	n2 = net_new(&cfg);
	train_some(n1, 3);
	train_some(n2, 3);
	for (i = 0; names[i] != NULL; i++) {
		a = net_tensor(n1, names[i], 0);
		b = net_tensor(n2, names[i], 0);
		assert_memory_equal(a->data, b->data, a->n * sizeof *a->data);
	}
	net_free(n1);
	net_free(n2);
}

/*
 * The gradients of one step against central differences of its loss.
 * With lr 0 a step leaves the weights alone; BN in training mode uses
 * batch statistics, so the running ones do not matter.  The supervised
 * pass checks every trained tensor of the encoder and main decoder; the
 * consistency pass (no perturbation) the auxiliary decoders, whose
 * weights do not move the fixed target.
 */
static double
step_loss(struct net *net, const uint8_t *rgb, const uint8_t *mask,
    int sup)
{
	struct adam		 adam = { 0, 0.9f, 0.999f, 1e-8f, 0, 0 };
	struct net_losses	 l;

	if (sup) {
		net_train_step(net, &adam, rgb, mask, 2, NULL, 0, 0, &l);
		return (l.sup);
	}
	net_train_step(net, &adam, NULL, NULL, 0, rgb, 2, 1.0f, &l);
	return (l.cons);
}

static void
check_grad(struct net *net, const char *name, const uint8_t *rgb,
    const uint8_t *mask, int sup)
{
	struct tensor		*t;
	const struct tensor	*g;
	float			*grad, keep, h = 1e-3f;
	double			 lp, lm, fd, err;
	size_t			 j, best;
	int			 tries, bad = 0;

	step_loss(net, rgb, mask, sup);
	t = (struct tensor *)net_tensor(net, name, 0);
	g = net_tensor(net, name, 1);
	grad = malloc(g->n * sizeof *grad);
	memcpy(grad, g->data, g->n * sizeof *grad);

	/* The three largest entries, where float differences are clean. */
	for (tries = 0; tries < 3; tries++) {
		best = 0;
		for (j = 0; j < g->n; j++) {
			if (fabsf(grad[j]) > fabsf(grad[best]))
				best = j;
		}
		keep = t->data[best];
		t->data[best] = keep + h;
		lp = step_loss(net, rgb, mask, sup);
		t->data[best] = keep - h;
		lm = step_loss(net, rgb, mask, sup);
		t->data[best] = keep;
		fd = (lp - lm) / (2 * h);
		err = fabs(fd - grad[best]) / fmax(fabs(fd), 1e-3);
		if (err > 0.05) {
			print_message("%s[%zu]: analytic %g, differences %g\n",
			    name, best, grad[best], fd);
			bad++;
		}
		grad[best] = 0;
	}
	/* A ReLU or max-pool kink can sit within h of one entry; a wrong
	 * backward pass misses them all. */
	if (bad > 1)
		fail_msg("%s: %d of 3 gradients off", name, bad);
	free(grad);
}

static void
gradients_match_differences(void **state)
{
	struct net_config	 cfg;
	struct net		*net;
	uint8_t			*rgb, *mask;
	const char		*sup[] = { "enc.0.conv1.weight",
				    "enc.0.bn1.bias",
				    "enc.1.conv2.weight", "enc.1.bn2.weight",
				    "dec.0.conv1.weight", "dec.0.bn2.bias",
				    "head.weight", "head.bias", NULL };
	const char		*aux[] = { "aux.0.weight", "aux.1.bias", NULL };
	int			 i;

	net_config_default(&cfg, 3);
	cfg.width = 3;
	cfg.depth = 2;
	cfg.aux = 2;
	cfg.tile = 8;
	cfg.threads = 1;
	cfg.augment = 0;
	cfg.clip = 0;
	cfg.perturb[0] = cfg.perturb[1] = NET_PERTURB_NONE;
	net = net_new(&cfg);
	rgb = random_bytes(2 * 3 * 64, 5, 256);
	mask = random_bytes(2 * 64, 6, 3);
	for (i = 0; sup[i] != NULL; i++)
		check_grad(net, sup[i], rgb, mask, 1);
	for (i = 0; aux[i] != NULL; i++)
		check_grad(net, aux[i], rgb, mask, 0);
	free(rgb);
	free(mask);
	net_free(net);
}

/* Four 64px crops of real tiles learnt to near-perfect accuracy. */
static void
overfits_real_tiles(void **state)
{
	struct net_config	 cfg;
	struct net		*net;
	struct scene		 sc;
	struct adam		 adam = { 1e-2f, 0.9f, 0.999f, 1e-8f, 0, 0 };
	struct net_losses	 l;
	enum { T = 64, N = 4 };
	uint8_t			 rgb[N * T * T * 3], mask[N * T * T];
	float			*prob, best, v;
	size_t			 P = T * T, p, good = 0, total = 0;
	int			 i, c, arg, step;

	assert_int_equal(scene_load(DUBAI, "tile1_image_part_003", &sc), 0);
	for (i = 0; i < N; i++)
		scene_cut(&sc, 100 + 150 * i, 200 + 60 * i, T, rgb + i * P * 3,
		    mask + i * P);
	scene_free(&sc);

	net_config_default(&cfg, TILES_CLASSES);
	cfg.width = 8;
	cfg.depth = 3;
	cfg.tile = T;
	cfg.threads = 2;
	cfg.augment = 0;
	net = net_new(&cfg);
	for (step = 0; step < 150; step++)
		net_train_step(net, &adam, rgb, mask, N, NULL, 0, 0, &l);

	prob = malloc(N * TILES_CLASSES * P * sizeof *prob);
	net_infer(net, rgb, N, prob, NULL, NULL);
	for (i = 0; i < N; i++) {
		for (p = 0; p < P; p++) {
			if (mask[i * P + p] == 255)
				continue;
			arg = 0;
			best = -1;
			for (c = 0; c < TILES_CLASSES; c++) {
				v = prob[(i * TILES_CLASSES + c) * P + p];
				if (v > best) {
					best = v;
					arg = c;
				}
			}
			good += arg == mask[i * P + p];
			total++;
		}
	}
	print_message("overfit: loss %.4f, pixel accuracy %.4f on %zu px\n",
	    l.sup, (double)good / total, total);
	assert_true(total > P);
	assert_true((double)good / total > 0.95);
	free(prob);
	net_free(net);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shapes_follow_the_config),
		cmocka_unit_test(default_net_has_the_peer_size),
		cmocka_unit_test(infer_gives_probabilities),
		cmocka_unit_test(save_and_load_round_trip),
		cmocka_unit_test(training_is_deterministic),
		cmocka_unit_test(gradients_match_differences),
		cmocka_unit_test(overfits_real_tiles),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
