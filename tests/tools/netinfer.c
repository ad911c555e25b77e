/*
 * netinfer: the C side of the PyTorch parity test (tests/e2e/torch-
 * parity.sh).
 *
 *   netinfer random OUT CLASSES WIDTH DEPTH AUX TILE SEED
 *	random weights, with BN scales, shifts and running statistics far
 *	from their initial values, saved as safetensors;
 *   netinfer tiles DUBAIDIR T N RGB MASK
 *	N real T x T tiles (HWC bytes) and their masks, as raw files;
 *   netinfer bench-tiles DUBAIDIR RGB MASK
 *	the 16 tiles of the benchmarks (scene_bench_tiles), as raw files;
 *   netinfer infer WEIGHTS RGB N OUT
 *	net_infer on the tiles: OUT holds "main" (N,C,T,T), "aux.K"
 *	(N,C,T,T) and "disagreement" (N);
 *   netinfer train WEIGHTS RGB MASK N OUT
 *	one training step, no augmentation, no perturbation, no clipping,
 *	on tiles 0..N/2-1 labelled and N/2..N-1 unlabelled, w_cons 1, AdamW
 *	lr 1e-3 wd 1e-2: OUT holds "loss" (sup, cons), "grad.NAME" for
 *	every trained tensor and "after.NAME" for every tensor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tiles.h"

static void
usage(void)
{
	fprintf(stderr, "usage: netinfer random|tiles|infer|train ...\n");
	exit(2);
}

static uint8_t *
slurp(const char *path, size_t want)
{
	FILE	*f;
	uint8_t	*b = malloc(want);

	if ((f = fopen(path, "rb")) == NULL || fread(b, 1, want, f) != want) {
		fprintf(stderr, "%s: cannot read %zu bytes\n", path, want);
		exit(1);
	}
	fclose(f);
	return (b);
}

static void
spill(const char *path, const void *b, size_t len)
{
	FILE	*f;

	if ((f = fopen(path, "wb")) == NULL || fwrite(b, 1, len, f) != len ||
	    fclose(f) != 0) {
		fprintf(stderr, "%s: cannot write\n", path);
		exit(1);
	}
}

static struct net *
load(const char *path)
{
	struct net	*net;
	char		*cause = NULL;

	if (net_load(&net, path, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		exit(1);
	}
	return (net);
}

/* Every tensor: a value in [lo, hi). */
static void
fill(const struct tensor *t, struct rng *r, float lo, float hi)
{
	size_t	j;

	for (j = 0; j < t->n; j++)
		t->data[j] = lo + (hi - lo) * rng_uniform(r);
}

static int
cmd_random(int argc, char **argv)
{
	struct net_config	 cfg;
	struct net		*net;
	struct rng		 r;
	char			 name[64], *cause = NULL;
	const char		*kind[] = { "weight", "bias", "running_mean",
				    "running_var" };
	float			 lo[] = { 0.5f, -0.3f, -0.5f, 0.3f };
	float			 hi[] = { 1.5f, 0.3f, 0.5f, 2.0f };
	int			 i, j, b, k;

	if (argc != 8)
		usage();
	net_config_default(&cfg, atoi(argv[2]));
	cfg.width = atoi(argv[3]);
	cfg.depth = atoi(argv[4]);
	cfg.aux = atoi(argv[5]);
	cfg.tile = atoi(argv[6]);
	cfg.seed = strtoull(argv[7], NULL, 10);
	if ((net = net_new(&cfg)) == NULL) {
		fprintf(stderr, "bad configuration\n");
		return (1);
	}
	rng_seed(&r, cfg.seed + 99);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < cfg.depth; j++) {
			for (b = 1; b <= 2; b++) {
				for (k = 0; k < 4; k++) {
					snprintf(name, sizeof name,
					    "%s.%d.bn%d.%s", i ? "dec" : "enc",
					    j, b, kind[k]);
					if (net_tensor(net, name, 0) != NULL)
						fill(net_tensor(net, name, 0),
						    &r, lo[k], hi[k]);
				}
			}
		}
	}
	fill(net_tensor(net, "head.bias", 0), &r, -0.2f, 0.2f);
	for (k = 0; k < cfg.aux; k++) {
		snprintf(name, sizeof name, "aux.%d.bias", k);
		fill(net_tensor(net, name, 0), &r, -0.2f, 0.2f);
	}
	if (net_save(net, argv[1], &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return (1);
	}
	net_free(net);
	return (0);
}

static int
cmd_tiles(int argc, char **argv)
{
	const char	*names[] = { "tile1_image_part_003",
			    "tile2_image_part_005", "tile3_image_part_007",
			    "tile5_image_part_002" };
	struct scene	 sc;
	uint8_t		*rgb, *mask;
	int		 T, n, i;

	if (argc != 6)
		usage();
	T = atoi(argv[2]);
	n = atoi(argv[3]);
	if (T < 1 || T > 500 || n < 1 || n > 4)
		usage();
	rgb = malloc((size_t)n * T * T * 3);
	mask = malloc((size_t)n * T * T);
	for (i = 0; i < n; i++) {
		if (scene_load(argv[1], names[i], &sc) != 0)
			return (1);
		scene_cut(&sc, 0, 0, T, rgb + (size_t)i * T * T * 3,
		    mask + (size_t)i * T * T);
		scene_free(&sc);
	}
	spill(argv[4], rgb, (size_t)n * T * T * 3);
	spill(argv[5], mask, (size_t)n * T * T);
	free(rgb);
	free(mask);
	return (0);
}

static int
cmd_bench_tiles(int argc, char **argv)
{
	size_t	 P = 256 * 256;
	uint8_t	*rgb, *mask;

	if (argc != 4)
		usage();
	rgb = malloc(16 * P * 3);
	mask = malloc(16 * P);
	if (scene_bench_tiles(argv[1], rgb, mask) != 0)
		return (1);
	spill(argv[2], rgb, 16 * P * 3);
	spill(argv[3], mask, 16 * P);
	free(rgb);
	free(mask);
	return (0);
}

/* Save entries; the tensors are freed. */
static int
save(const char *path, struct st_entry *e, int n)
{
	struct st_file	 st;
	char		*cause = NULL, *none[] = { NULL };
	int		 i, rc;

	st.n = n;
	st.e = e;
	st.meta_keys = st.meta_values = none;
	if ((rc = st_write(path, &st, &cause)) != 0)
		fprintf(stderr, "%s\n", cause);
	for (i = 0; i < n; i++)
		tensor_free(e[i].t);
	return (rc != 0);
}

static int
cmd_infer(int argc, char **argv)
{
	const struct net_config	*cfg;
	struct net		*net;
	struct st_entry		 e[18];
	uint8_t			*rgb;
	float			*pa;
	size_t			 per;
	int			 n, k, i, T, C, one[1];

	if (argc != 5)
		usage();
	net = load(argv[1]);
	cfg = net_config(net);
	n = atoi(argv[3]);
	T = cfg->tile;
	C = cfg->classes;
	per = (size_t)C * T * T;
	rgb = slurp(argv[2], (size_t)n * T * T * 3);
	snprintf(e[0].name, sizeof e[0].name, "main");
	e[0].t = tensor_new4(n, C, T, T);
	snprintf(e[1].name, sizeof e[1].name, "disagreement");
	one[0] = n;
	e[1].t = tensor_new(1, one);
	pa = malloc((size_t)n * cfg->aux * per * sizeof *pa);
	net_infer(net, rgb, n, e[0].t->data, pa, e[1].t->data);
	for (k = 0; k < cfg->aux; k++) {
		snprintf(e[2 + k].name, sizeof e[2 + k].name, "aux.%d", k);
		e[2 + k].t = tensor_new4(n, C, T, T);
		for (i = 0; i < n; i++)
			memcpy(e[2 + k].t->data + i * per,
			    pa + ((size_t)i * cfg->aux + k) * per,
			    per * sizeof *pa);
	}
	free(pa);
	free(rgb);
	k = cfg->aux;
	net_free(net);
	return (save(argv[4], e, 2 + k));
}

static int
cmd_train(int argc, char **argv)
{
	struct net_config	 cfg;
	struct net		*net;
	struct adam		 adam = {
				    1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, 0 };
	struct net_losses	 l;
	struct st_entry		*e;
	const struct tensor	*t;
	char			*cause = NULL;
	uint8_t			*rgb, *mask;
	size_t			 P;
	int			 n, nl, i, k, ne = 0, two[1] = { 2 };

	if (argc != 6)
		usage();
	net = load(argv[1]);
	cfg = *net_config(net);
	net_free(net);
	cfg.augment = 0;
	cfg.clip = 0;
	for (k = 0; k < 16; k++)
		cfg.perturb[k] = NET_PERTURB_NONE;
	net = net_new(&cfg);
	if (net_read_weights(net, argv[1], &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return (1);
	}
	n = atoi(argv[4]);
	nl = n / 2;
	P = (size_t)cfg.tile * cfg.tile;
	rgb = slurp(argv[2], n * P * 3);
	mask = slurp(argv[3], n * P);
	net_train_step(net, &adam, rgb, mask, nl, rgb + nl * P * 3, n - nl,
	    1.0f, &l);

	e = calloc(1000, sizeof *e);
	snprintf(e[ne].name, sizeof e[ne].name, "loss");
	e[ne].t = tensor_new(1, two);
	e[ne].t->data[0] = l.sup;
	e[ne].t->data[1] = l.cons;
	ne++;
	for (i = 0; i < net_nparams(net); i++) {
		const char	*pn = net_param_name(net, i);

		t = net_tensor(net, pn, 0);
		snprintf(e[ne].name, sizeof e[ne].name, "after.%s", pn);
		e[ne].t = tensor_new(t->ndim, t->shape);
		memcpy(e[ne].t->data, t->data, t->n * sizeof *t->data);
		ne++;
		if ((t = net_tensor(net, pn, 1)) == NULL)
			continue;
		snprintf(e[ne].name, sizeof e[ne].name, "grad.%s", pn);
		e[ne].t = tensor_new(t->ndim, t->shape);
		memcpy(e[ne].t->data, t->data, t->n * sizeof *t->data);
		ne++;
	}
	free(rgb);
	free(mask);
	net_free(net);
	k = save(argv[5], e, ne);
	free(e);
	return (k);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "random") == 0)
		return (cmd_random(argc - 1, argv + 1));
	if (strcmp(argv[1], "tiles") == 0)
		return (cmd_tiles(argc - 1, argv + 1));
	if (strcmp(argv[1], "bench-tiles") == 0)
		return (cmd_bench_tiles(argc - 1, argv + 1));
	if (strcmp(argv[1], "infer") == 0)
		return (cmd_infer(argc - 1, argv + 1));
	if (strcmp(argv[1], "train") == 0)
		return (cmd_train(argc - 1, argv + 1));
	usage();
}
