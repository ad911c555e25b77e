/*
 * bench_net: the default network at 256px on real tiles: a CCT training
 * step (4 labelled + 4 unlabelled tiles) in ms, inference of all decoders
 * with the disagreement score in tiles/s, the GFLOP/s both achieve, and
 * peak memory.  Prints one line of key=value figures for run.sh.
 *
 *   bench_net [-t threads] [-s steps] [-i tiles] DUBAIDIR
 */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "tiles.h"

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Convolution FLOPs of one tile, by part: 0 encoder, 1 decoder and head,
 * 2 auxiliary decoders. */
static void
part_flops(const struct net *net, double f[3])
{
	const struct net_config	*cfg = net_config(net);
	const struct tensor	*t;
	const char		*name;
	double			 side;
	int			 i, part;

	f[0] = f[1] = f[2] = 0;
	for (i = 0; i < net_nparams(net); i++) {
		name = net_param_name(net, i);
		t = net_tensor(net, name, 0);
		if (t->ndim != 4)
			continue;
		if (strncmp(name, "enc.", 4) == 0) {
			part = 0;
			side = cfg->tile >> atoi(name + 4);
		} else if (strncmp(name, "dec.", 4) == 0) {
			part = 1;
			side = cfg->tile >> atoi(name + 4);
		} else if (strncmp(name, "head", 4) == 0) {
			part = 1;
			side = cfg->tile;
		} else {
			part = 2;
			side = cfg->tile >> (cfg->depth - 1);
		}
		f[part] += 2.0 * t->n * side * side;
	}
}

int
main(int argc, char **argv)
{
	struct net_config	 cfg;
	struct net		*net;
	struct adam		 adam = {
				    1e-3f, 0.9f, 0.999f, 1e-8f, 1e-4f, 0 };
	struct net_losses	 l;
	struct rusage		 ru;
	enum { T = 256 };
	uint8_t			*rgb, *mask;
	float			*prob, *dis;
	double			 f[3], t0, step, fstep, inf;
	size_t			 P = T * T;
	int			 threads = 2, steps = 3, ntiles = 16, ch, i;

	while ((ch = getopt(argc, argv, "t:s:i:")) != -1) {
		switch (ch) {
		case 't': threads = atoi(optarg); break;
		case 's': steps = atoi(optarg); break;
		case 'i': ntiles = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench_net [-t threads] "
			    "[-s steps] [-i tiles] dubaidir\n");
			return (2);
		}
	}
	if (optind + 1 != argc || steps < 1 || ntiles < 1)
		return (2);

	/* 16 real tiles: four from each of four scenes. */
	rgb = malloc(16 * P * 3);
	mask = malloc(16 * P);
	if (scene_bench_tiles(argv[optind], rgb, mask) != 0)
		return (1);
	for (i = 0; i < (int)(16 * P); i++)
		mask[i] = mask[i] == 255 ? 255 : mask[i] % 6;

	net_config_default(&cfg, 6);
	cfg.threads = threads;
	net = net_new(&cfg);
	part_flops(net, f);

	/* Training: one step to size the buffers, then the timed ones. */
	net_train_step(net, &adam, rgb, mask, 4, rgb + 4 * P * 3, 4, 1, &l);
	t0 = now();
	for (i = 0; i < steps; i++)
		net_train_step(net, &adam, rgb + (i % 2) * 8 * P * 3,
		    mask + (i % 2) * 8 * P, 4, rgb + ((i % 2) * 8 + 4) * P * 3,
		    4, 1, &l);
	step = (now() - t0) / steps;
	/* Labelled: forward and backward (2x) of encoder and decoder;
	 * unlabelled: their forward, aux forward and backward, encoder
	 * backward. */
	fstep = 4 * 3 * (f[0] + f[1]) + 4 * (3 * f[0] + f[1] + 3 * f[2]);

	/* Inference, one tile at a time, as the trainer scores tiles. */
	net_free(net);
	net = net_new(&cfg);
	prob = malloc(6 * P * sizeof *prob);
	dis = malloc(sizeof *dis);
	net_infer(net, rgb, 1, prob, NULL, dis);
	t0 = now();
	for (i = 0; i < ntiles; i++)
		net_infer(net, rgb + (i % 16) * P * 3, 1, prob, NULL, dis);
	inf = ntiles / (now() - t0);

	getrusage(RUSAGE_SELF, &ru);
	printf("train_ms=%.1f train_gflops=%.1f infer_tiles_s=%.2f "
	    "infer_gflops=%.1f peak_rss_mb=%.0f loss=%.3f\n", step * 1000,
	    fstep / step / 1e9, inf, inf * (f[0] + f[1] + f[2]) / 1e9,
	    ru.ru_maxrss / 1024.0, l.sup);
	free(prob);
	free(dis);
	free(rgb);
	free(mask);
	net_free(net);
	return (0);
}
