/*
 * learn: how much the consistency loss helps, measured on real tiles.
 *
 * Training tiles: the 256px grid tiles of scenes 1, 2 and 3 of
 * tests/data/dubai (108 tiles); NLAB of them, drawn with the seed, keep
 * their masks and the rest are unlabelled.  Validation: 36 tiles of
 * scene 5, another part of the city.  The network is the default one
 * (width 16 unless -W, depth 4, 4 auxiliary decoders), trained for STEPS
 * steps of 4 labelled (+ 4 unlabelled with -c) tiles, AdamW with a
 * cosine learning rate from 3e-3, the consistency weight ramped up as
 * ARCH.md says over the first 40% of the steps.
 *
 *   learn [-c] [-l NLAB] [-n STEPS] [-S SEED] [-t THREADS] [-W WIDTH]
 *	[-w WMAX] DIR
 *
 * Prints one line: the mode, mIoU, pixel accuracy and per-class IoU of
 * the main decoder on the validation tiles, and the same for the
 * majority class of the labelled pixels.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "tiles.h"

#define T	256
#define K	TILES_CLASSES

struct set {
	int	 n;
	uint8_t	*rgb, *mask;
};

static void
set_add(struct set *s, const struct scene *sc, int x, int y)
{
	size_t	P = (size_t)T * T;

	s->rgb = realloc(s->rgb, (s->n + 1) * P * 3);
	s->mask = realloc(s->mask, (s->n + 1) * P);
	scene_cut(sc, x, y, T, s->rgb + s->n * P * 3, s->mask + s->n * P);
	s->n++;
}

/* Grid tiles of scenes `which` (step `stride` pixels between tiles). */
static int
load_scenes(const char *dir, const char *which, int stride, struct set *s)
{
	struct scene	 sc;
	char		 name[64];
	int		 i, x, y;

	for (; *which != '\0'; which++) {
		for (i = 1; i <= 9; i++) {
			snprintf(name, sizeof name, "tile%c_image_part_%03d",
			    *which, i);
			if (scene_load(dir, name, &sc) != 0)
				return (-1);
			for (y = 0; y + T <= sc.h; y += stride)
				for (x = 0; x + T <= sc.w; x += stride)
					set_add(s, &sc, x, y);
			scene_free(&sc);
		}
	}
	return (0);
}

/* Per-class IoU from a confusion matrix; returns mIoU over classes that
 * occur in the truth or the prediction. */
static double
miou(const double conf[K][K], double iou[K], double *acc)
{
	double	tp, fp, fn, sum = 0, all = 0, right = 0;
	int	c, d, n = 0;

	for (c = 0; c < K; c++) {
		tp = conf[c][c];
		fp = fn = 0;
		for (d = 0; d < K; d++) {
			if (d == c)
				continue;
			fn += conf[c][d];
			fp += conf[d][c];
		}
		all += tp + fn;
		right += tp;
		iou[c] = tp + fp + fn > 0 ? tp / (tp + fp + fn) : NAN;
		if (tp + fp + fn > 0) {
			sum += iou[c];
			n++;
		}
	}
	*acc = all > 0 ? right / all : 0;
	return (n > 0 ? sum / n : 0);
}

static void
report(const char *what, const double conf[K][K])
{
	double	iou[K], acc, m;
	int	c;

	m = miou(conf, iou, &acc);
	printf("%s miou=%.4f acc=%.4f iou=", what, m, acc);
	for (c = 0; c < K; c++)
		printf("%s%.3f", c ? "," : "", iou[c]);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct net_config	 cfg;
	struct net		*net;
	struct set		 train = { 0 }, val = { 0 };
	struct adam		 adam = { 0, 0.9f, 0.999f, 1e-8f, 1e-4f, 0 };
	struct net_losses	 l;
	struct rng		 r;
	size_t			 P = (size_t)T * T, p;
	double			 conf[K][K], base[K][K], t0, px[K], ramp;
	float			*prob, best, w, wmax = 30, lr = 3e-3f;
	uint8_t			*bl, *bm, *bu;
	int			*order, nlab = 32, steps = 300, threads = 2;
	int			 cons = 0, ch, i, j, s, c, arg, major;
	int			 width = 16;
	uint64_t		 seed = 1;

	while ((ch = getopt(argc, argv, "cl:n:S:t:W:w:")) != -1) {
		switch (ch) {
		case 'c': cons = 1; break;
		case 'l': nlab = atoi(optarg); break;
		case 'n': steps = atoi(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 't': threads = atoi(optarg); break;
		case 'W': width = atoi(optarg); break;
		case 'w': wmax = atof(optarg); break;
		default:
			fprintf(stderr, "usage: learn [-c] [-l nlab] "
			    "[-n steps] [-S seed] [-t threads] [-W width] "
			    "[-w wmax] dir\n");
			return (2);
		}
	}
	if (optind + 1 != argc)
		return (2);
	if (load_scenes(argv[optind], "123", T, &train) != 0 ||
	    load_scenes(argv[optind], "5", 2 * T, &val) != 0)
		return (1);
	if (nlab < 1 || nlab >= train.n)
		return (2);

	/* The labelled tiles: the first nlab of a seeded shuffle. */
	rng_seed(&r, seed);
	order = malloc(train.n * sizeof *order);
	for (i = 0; i < train.n; i++)
		order[i] = i;
	for (i = train.n - 1; i > 0; i--) {
		j = rng_next(&r) % (i + 1);
		c = order[i]; order[i] = order[j]; order[j] = c;
	}

	/* The majority class of the labelled pixels, as a baseline. */
	memset(px, 0, sizeof px);
	for (i = 0; i < nlab; i++)
		for (p = 0; p < P; p++)
			if (train.mask[order[i] * P + p] < K)
				px[train.mask[order[i] * P + p]]++;
	major = 0;
	for (c = 1; c < K; c++)
		major = px[c] > px[major] ? c : major;

	net_config_default(&cfg, K);
	cfg.threads = threads;
	cfg.seed = seed;
	cfg.width = width;
	net = net_new(&cfg);
	bl = malloc(4 * P * 3);
	bm = malloc(4 * P);
	bu = malloc(4 * P * 3);
	t0 = time(NULL);
	for (s = 0; s < steps; s++) {
		for (i = 0; i < 4; i++) {
			j = order[rng_next(&r) % nlab];
			memcpy(bl + i * P * 3, train.rgb + j * P * 3, P * 3);
			memcpy(bm + i * P, train.mask + j * P, P);
			j = order[nlab + rng_next(&r) % (train.n - nlab)];
			memcpy(bu + i * P * 3, train.rgb + j * P * 3, P * 3);
		}
		adam.lr = lr * 0.5f * (1 + cosf(M_PI * s / steps));
		ramp = fmin(1.0, s / (0.4 * steps));
		w = cons ? wmax * exp(-5 * (1 - ramp) * (1 - ramp)) : 0;
		net_train_step(net, &adam, bl, bm, 4, bu, cons ? 4 : 0, w, &l);
		if (s % 25 == 0 || s == steps - 1)
			fprintf(stderr, "step %d/%d sup %.4f cons %.5f w %.2f "
			    "%.0fs\n", s, steps, l.sup, l.cons, w,
			    difftime(time(NULL), t0));
	}

	/* Validation: the main decoder's argmax against the masks. */
	memset(conf, 0, sizeof conf);
	memset(base, 0, sizeof base);
	prob = malloc(K * P * sizeof *prob);
	for (i = 0; i < val.n; i++) {
		net_infer(net, val.rgb + i * P * 3, 1, prob, NULL, NULL);
		for (p = 0; p < P; p++) {
			c = val.mask[i * P + p];
			if (c >= K)
				continue;
			arg = 0;
			best = prob[p];
			for (j = 1; j < K; j++) {
				if (prob[j * P + p] > best) {
					best = prob[j * P + p];
					arg = j;
				}
			}
			conf[c][arg]++;
			base[c][major]++;
		}
	}
	printf("# %s: %d labelled + %d unlabelled train tiles (scenes 1-3), "
	    "%d validation tiles (scene 5), width %d, %d steps, w_max %g, "
	    "seed %llu, %.0fs\n", cons ? "cct" : "supervised", nlab,
	    train.n - nlab, val.n, width, steps, cons ? wmax : 0,
	    (unsigned long long)seed, difftime(time(NULL), t0));
	report(cons ? "cct" : "supervised", conf);
	report("majority", base);
	free(prob);
	free(order);
	free(bl);
	free(bm);
	free(bu);
	free(train.rgb);
	free(train.mask);
	free(val.rgb);
	free(val.mask);
	net_free(net);
	return (0);
}
