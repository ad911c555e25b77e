/*
 * Train and predict jobs.
 *
 * A train job reads a snapshot of the project in one read transaction:
 * the labelled tiles of the train split with their masks, the unlabelled
 * tiles, the labelled tiles of the validation split and the list of every
 * tile.  Only JPEG bytes and masks are kept; tiles are decoded when a
 * batch needs them.  Labels committed while the job runs are therefore
 * neither lost nor mixed in: they are simply in the next job's snapshot.
 *
 * It trains for a number of steps (--steps), or, when none is given, for
 * as many as let the whole job fit a time budget (--minutes): the step
 * count is then fixed after a few steps from their measured time, so a
 * run is deterministic for a seed and a thread count only when the steps
 * are given.  The
 * number used is stored with the model.
 *
 * At the end the model, its metrics on the validation split and the
 * predictions of every tile (mask, disagreement score, entropy) are
 * written in one transaction, with the job marked done in the same one: a
 * trainer killed at any moment leaves either all of it or none.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#include <sqlite3.h>

#include "s4lab.h"
#include "model.h"

/* Seconds between progress writes. */
#define TRAIN_PROGRESS_EVERY	2.0
/* Steps timed before the budget fixes the step count. */
#define TRAIN_TIMED_STEPS	5

/* Share of the whole job that each phase takes, for the fraction. */
#define FRAC_LOAD	0.02
#define FRAC_TRAIN	0.80
#define FRAC_VAL	0.03
#define FRAC_PREDICT	0.15

struct ttile {
	int64_t		 id;
	int		 w, h;
	int		 split;
	int		 state;
	unsigned char	*jpeg;
	size_t		 jpeg_len;
	uint8_t		*mask;		/* w * h; NULL: no label */
};

struct snapshot {
	struct ttile	*t;
	size_t		 n;
	size_t		*lab, nlab;	/* labelled, train split */
	size_t		*unl, nunl;	/* unlabelled */
	size_t		*val, nval;	/* labelled, validation split */
	int		 tile;
	int		 classes;
	char		*notes;		/* warnings for the job, or NULL */
};

struct train_params {
	int		 steps;		/* 0: by the time budget */
	double		 minutes;
	int		 max_steps;
	uint64_t	 seed;
	int		 supervised_only;
	int		 width, depth, aux;
	int		 threads;
	int		 batch;		/* labelled and unlabelled per step */
	double		 lr;
	double		 cons_weight;
	double		 rampup;	/* share of the steps */
};

/* The state of a running job, for progress and cancellation. */
struct run {
	struct store	*st;
	struct job	*job;
	double		 start;
	double		 last;
	double		 base;		/* fraction done before this phase */
	const char	*phase;
	const char	*notes;		/* the snapshot's warnings, or NULL */
	double		 eta;		/* if >= 0, the ETA to report */
};

struct pred {
	int64_t		 tile_id;
	unsigned char	*blob;
	size_t		 blob_len;
	double		 score;
	double		 entropy;
};

/* Free a snapshot. */
static void
snapshot_free(struct snapshot *sn)
{
	size_t	i;

	for (i = 0; i < sn->n; i++) {
		free(sn->t[i].jpeg);
		free(sn->t[i].mask);
	}
	free(sn->t);
	free(sn->lab);
	free(sn->unl);
	free(sn->val);
	free(sn->notes);
	memset(sn, 0, sizeof *sn);
}

/* Add a warning to the snapshot's notes (and the debug log). */
static void snapshot_note(struct snapshot *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void
snapshot_note(struct snapshot *sn, const char *fmt, ...)
{
	va_list	 ap;
	char	*note, *s;

	va_start(ap, fmt);
	xvasprintf(&note, fmt, ap);
	va_end(ap);
	log_debug(LOG_TRAIN, "%s", note);
	if (sn->notes == NULL)
		sn->notes = note;
	else {
		xasprintf(&s, "%s; %s", sn->notes, note);
		free(sn->notes);
		free(note);
		sn->notes = s;
	}
}

/* Append a tile from a row (id, w, h, split, state, jpeg, mask). */
static int
snapshot_add(struct snapshot *sn, sqlite3_stmt *stmt, size_t *size,
    char **cause)
{
	struct ttile	*t;
	const void	*blob;
	size_t		 len, i, stale;
	char		*why = NULL;

	if (sn->n == *size) {
		*size = *size == 0 ? 256 : *size * 2;
		sn->t = xreallocarray(sn->t, *size, sizeof *sn->t);
	}
	t = &sn->t[sn->n];
	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(stmt, 0);
	t->w = sqlite3_column_int(stmt, 1);
	t->h = sqlite3_column_int(stmt, 2);
	t->split = sqlite3_column_int(stmt, 3);
	t->state = sqlite3_column_int(stmt, 4);
	if (t->w <= 0 || t->h <= 0 || t->w > 65536 || t->h > 65536)
		return (set_cause(cause, "tile %lld: bad size %dx%d",
		    (long long)t->id, t->w, t->h));
	len = sqlite3_column_bytes(stmt, 5);
	blob = sqlite3_column_blob(stmt, 5);
	if (blob == NULL || len == 0)
		return (set_cause(cause, "tile %lld: no image",
		    (long long)t->id));
	t->jpeg = xmalloc(len);
	memcpy(t->jpeg, blob, len);
	t->jpeg_len = len;
	sn->n++;

	if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) {
		t->mask = xmalloc((size_t)t->w * t->h);
		if (mask_unpack(sqlite3_column_blob(stmt, 6),
		    sqlite3_column_bytes(stmt, 6), t->mask,
		    (size_t)t->w * t->h, &why) != 0) {
			/* One unreadable label must not block training. */
			snapshot_note(sn, "tile %lld: label unreadable (%s), "
			    "skipped", (long long)t->id, why);
			free(why);
			free(t->mask);
			t->mask = NULL;
			return (0);
		}
		stale = 0;
		for (i = 0; i < (size_t)t->w * t->h; i++) {
			if (t->mask[i] != MASK_VOID &&
			    t->mask[i] >= sn->classes) {
				t->mask[i] = MASK_VOID;
				stale++;
			}
		}
		if (stale > 0) {
			snapshot_note(sn, "tile %lld: %zu pixels of classes "
			    "that no longer exist, ignored", (long long)t->id,
			    stale);
		}
	}
	return (0);
}

/* Does a mask label any pixel? */
static int
mask_any(const uint8_t *mask, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (mask[i] != MASK_VOID)
			return (1);
	}
	return (0);
}

/* Sort the tiles into the training, unlabelled and validation sets. */
static void
snapshot_index(struct snapshot *sn)
{
	struct ttile	*t;
	size_t		 i;
	int		 labelled;

	sn->lab = xcalloc(sn->n, sizeof *sn->lab);
	sn->unl = xcalloc(sn->n, sizeof *sn->unl);
	sn->val = xcalloc(sn->n, sizeof *sn->val);
	for (i = 0; i < sn->n; i++) {
		t = &sn->t[i];
		labelled = t->mask != NULL &&
		    mask_any(t->mask, (size_t)t->w * t->h);
		if (t->state == TILE_SKIPPED)
			continue;
		if (!labelled)
			sn->unl[sn->nunl++] = i;
		else if (t->split == SPLIT_VAL)
			sn->val[sn->nval++] = i;
		else
			sn->lab[sn->nlab++] = i;
	}
}

/*
 * Read the snapshot in one read transaction.  Masks are read only when
 * with_masks is set (a predict job needs none).
 */
static int
snapshot_read(struct store *st, int with_masks, struct snapshot *sn,
    char **cause)
{
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt = NULL;
	struct classes	 cl;
	size_t		 size = 0;
	int		 rc = -1, step;
	const char	*sql;

	memset(sn, 0, sizeof *sn);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return (set_cause(cause, "%s: %s", store_path(st),
		    sqlite3_errmsg(db)));
	if (store_get_classes(st, &cl, cause) != 0)
		goto out;
	sn->classes = cl.n;
	sn->tile = store_tile_size(st);
	if (sn->classes < 2 || sn->tile < 8) {
		set_cause(cause, "%s: %d classes and tile size %d: nothing "
		    "to train", store_path(st), sn->classes, sn->tile);
		goto out;
	}

	if (with_masks) {
		sql = "SELECT t.id, t.w, t.h, t.split, t.state, t.jpeg, "
		    "(SELECT l.mask FROM labels l WHERE l.tile_id = t.id "
		    "ORDER BY l.revision DESC LIMIT 1) FROM tiles t "
		    "ORDER BY t.id";
	} else {
		sql = "SELECT id, w, h, split, state, jpeg, NULL FROM tiles "
		    "ORDER BY id";
	}
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		set_cause(cause, "%s: %s", store_path(st), sqlite3_errmsg(db));
		goto out;
	}
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (snapshot_add(sn, stmt, &size, cause) != 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		set_cause(cause, "%s: tiles: %s", store_path(st),
		    sqlite3_errmsg(db));
		goto out;
	}
	snapshot_index(sn);
	rc = 0;

out:
	sqlite3_finalize(stmt);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != 0)
		snapshot_free(sn);
	return (rc);
}

/*
 * Decode a tile into rgb (tile x tile x 3, HWC), padded with zeros, and
 * its mask (if any) into mask (tile x tile), padded with MASK_VOID.  The
 * decoder is the one the labelling screen shows tiles with (image.c).
 */
static int
tile_decode(const struct ttile *t, int tile, uint8_t *rgb, uint8_t *mask,
    char **cause)
{
	struct image		img;
	struct image_info	info;
	char			name[64];
	int			y, cw, ch;

	snprintf(name, sizeof name, "tile %lld", (long long)t->id);
	if (image_decode(name, t->jpeg, t->jpeg_len, IMAGE_MAX_PIXELS, &img,
	    &info, cause) != 0)
		return (-1);
	/* Its mask and its place in the scene are the tile's size. */
	if (img.w != t->w || img.h != t->h) {
		set_cause(cause, "tile %lld: the image is %dx%d, the tile "
		    "%dx%d", (long long)t->id, img.w, img.h, t->w, t->h);
		image_free(&img);
		return (-1);
	}

	/* Crop or pad to the network's tile. */
	cw = img.w < tile ? img.w : tile;
	ch = img.h < tile ? img.h : tile;
	memset(rgb, 0, (size_t)tile * tile * 3);
	for (y = 0; y < ch; y++)
		memcpy(rgb + (size_t)y * tile * 3,
		    img.rgb + (size_t)y * img.w * 3, (size_t)cw * 3);
	image_free(&img);
	if (mask != NULL) {
		memset(mask, MASK_VOID, (size_t)tile * tile);
		cw = t->w < cw ? t->w : cw;
		ch = t->h < ch ? t->h : ch;
		for (y = 0; t->mask != NULL && y < ch; y++)
			memcpy(mask + (size_t)y * tile,
			    t->mask + (size_t)y * t->w, cw);
	}
	return (0);
}

/* Read one numeric parameter with a default and bounds. */
static int
param_num(const struct job *job, const char *key, double def, double min,
    double max, double *value, char **cause)
{
	int	found;

	*value = def;
	found = job_param(job, key, value, cause);
	if (found < 0)
		return (-1);
	if (*value < min || *value > max) {
		return (set_cause(cause, "job %lld: %s must be in %g..%g",
		    (long long)job->id, key, min, max));
	}
	return (0);
}

/* The job's parameters, with their defaults. */
static int
params_read(const struct job *job, struct train_params *p, char **cause)
{
	double	v[12];

	if (param_num(job, "steps", 0, 0, 1e7, &v[0], cause) != 0 ||
	    param_num(job, "minutes", 8, 0.01, 1e5, &v[1], cause) != 0 ||
	    param_num(job, "max_steps", 3000, 1, 1e7, &v[2], cause) != 0 ||
	    param_num(job, "seed", 1, 0, 9e15, &v[3], cause) != 0 ||
	    param_num(job, "supervised_only", 0, 0, 1, &v[4], cause) != 0 ||
	    param_num(job, "width", 16, 1, 512, &v[5], cause) != 0 ||
	    param_num(job, "depth", 4, 1, 8, &v[6], cause) != 0 ||
	    param_num(job, "aux", 4, 0, 16, &v[7], cause) != 0 ||
	    param_num(job, "threads", 0, 0, 256, &v[8], cause) != 0 ||
	    param_num(job, "batch", 4, 1, 64, &v[9], cause) != 0 ||
	    param_num(job, "lr", 1e-3, 0, 10, &v[10], cause) != 0 ||
	    param_num(job, "cons_weight", 10, 0, 1e6, &v[11], cause) != 0)
		return (-1);
	p->steps = (int)v[0];
	p->minutes = v[1];
	p->max_steps = (int)v[2];
	p->seed = (uint64_t)v[3];
	p->supervised_only = v[4] != 0;
	p->width = (int)v[5];
	p->depth = (int)v[6];
	p->aux = (int)v[7];
	p->threads = (int)v[8];
	p->batch = (int)v[9];
	p->lr = v[10];
	p->cons_weight = v[11];
	p->rampup = 0.4;
	return (0);
}

/* Report progress within a phase; returns 1 if the job was cancelled. */
static int
run_progress(struct run *r, const char *phase, double share, double part,
    int epoch, double loss, int force)
{
	double	 now = now_seconds(), fraction, eta = -1;
	char	*cause = NULL;
	int	 rc;

	if (!force && now - r->last < TRAIN_PROGRESS_EVERY)
		return (job_cancelled(r->st, r->job->id, NULL) == 1);
	r->last = now;
	fraction = r->base + share * part;
	if (r->eta >= 0)
		eta = r->eta;
	else if (fraction > 0.01)
		eta = (now - r->start) * (1 - fraction) / fraction;
	rc = job_progress(r->st, r->job->id, phase, epoch, loss, fraction,
	    eta, &cause);
	if (rc < 0) {
		log_debug(LOG_TRAIN, "job %lld: %s", (long long)r->job->id,
		    cause);
		free(cause);
		return (0);
	}
	return (rc);
}

/* Shuffle an index array. */
static void
shuffle(size_t *a, size_t n, struct rng *rng)
{
	size_t	i, j, t;

	for (i = n; i > 1; i--) {
		j = rng_next(rng) % i;
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* A cursor walking an index set in shuffled passes. */
struct cursor {
	size_t		*order;
	size_t		 n;
	size_t		 next;
	int		 pass;
};

/* The next tile of a cursor, reshuffling after each pass. */
static size_t
cursor_next(struct cursor *c, struct rng *rng)
{
	if (c->next == c->n) {
		shuffle(c->order, c->n, rng);
		c->next = 0;
		c->pass++;
	}
	return (c->order[c->next++]);
}

/*
 * Fill a batch of nb tiles (and masks if mask is not NULL).  Flips,
 * rotations and colour jitter are the network's (net_train_step).
 */
static int
batch_fill(const struct snapshot *sn, struct cursor *c, int nb,
    uint8_t *rgb, uint8_t *mask, struct rng *rng, char **cause)
{
	size_t		 npix = (size_t)sn->tile * sn->tile;
	const struct ttile *t;
	int		 i;

	for (i = 0; i < nb; i++) {
		t = &sn->t[cursor_next(c, rng)];
		if (tile_decode(t, sn->tile, rgb + i * npix * 3,
		    mask == NULL ? NULL : mask + i * npix, cause) != 0)
			return (-1);
	}
	return (0);
}

/* The learning rate at a step: short warm-up, then cosine. */
static float
train_lr(const struct train_params *p, int step, int total)
{
	double	lr = p->lr, warm = 10;

	if (total > 0 && total / 10.0 < warm)
		warm = total / 10.0 < 1 ? 1 : total / 10.0;
	if (step < warm)
		lr *= (step + 1) / warm;
	if (total > 0)
		lr *= 0.5 * (1 + cos(M_PI * step / total));
	return ((float)lr);
}

/* The consistency weight at a step: w exp(-5 (1 - t)^2). */
static float
train_wcons(const struct train_params *p, int step, int total)
{
	double	t = 0;

	if (total > 0)
		t = step / (p->rampup * total);
	if (t > 1)
		t = 1;
	return ((float)(p->cons_weight * exp(-5 * (1 - t) * (1 - t))));
}

/*
 * Fix the step count from the time the first steps took, so that the
 * whole job fits the budget: what is left after loading, less the
 * inference of npredict tiles, each taken as an eighth of a step (a step
 * runs eight tiles forward and back, about three times a forward pass;
 * so this errs on the safe side).
 */
static int
train_budget(const struct train_params *p, int step, double start,
    double t0, double t1, size_t npredict)
{
	double	per, left, floor;
	int	total;

	per = (t1 - t0) / step;
	left = p->minutes * 60 - (t1 - start) - npredict * per / 8;
	floor = 0.1 * p->minutes * 60;
	if (left < floor)
		left = floor;
	total = step + (per > 0 ? (int)(left / per) : p->max_steps);
	if (total > p->max_steps)
		total = p->max_steps;
	if (total < step)
		total = step;
	return (total);
}

/* The CCT training loop.  Returns 0, 1 if cancelled, -1. */
static int
train_loop(struct run *r, const struct snapshot *sn,
    const struct train_params *p, struct net *net, int *steps_done,
    double *last_loss, char **cause)
{
	struct adam	 adam = { 0 };
	struct net_losses nl;
	struct rng	 rng;
	struct cursor	 cl, cu;
	size_t		 npix = (size_t)sn->tile * sn->tile;
	uint8_t		*rgb_l, *mask_l, *rgb_u;
	int		 step, total = p->steps, nu, rc = -1, fixed;
	double		 t0 = now_seconds(), loss_avg = NAN, per;

	adam.beta1 = 0.9f;
	adam.beta2 = 0.999f;
	adam.eps = 1e-8f;
	adam.weight_decay = 1e-4f;
	rng_seed(&rng, p->seed ^ 0x9e3779b97f4a7c15ULL);
	cl.order = xcalloc(sn->nlab, sizeof *cl.order);
	memcpy(cl.order, sn->lab, sn->nlab * sizeof *cl.order);
	cl.n = cl.next = sn->nlab;
	cl.pass = 0;
	cu.order = xcalloc(sn->nunl + 1, sizeof *cu.order);
	memcpy(cu.order, sn->unl, sn->nunl * sizeof *cu.order);
	cu.n = cu.next = sn->nunl;
	cu.pass = 0;
	nu = (p->supervised_only || sn->nunl == 0) ? 0 : p->batch;
	rgb_l = xreallocarray(NULL, npix * 3, p->batch);
	mask_l = xreallocarray(NULL, npix, p->batch);
	rgb_u = xreallocarray(NULL, npix * 3, p->batch);

	for (step = 0; total == 0 || step < total; step++) {
		if (batch_fill(sn, &cl, p->batch, rgb_l, mask_l, &rng,
		    cause) != 0)
			goto out;
		if (nu > 0 && batch_fill(sn, &cu, nu, rgb_u, NULL, &rng,
		    cause) != 0)
			goto out;
		adam.lr = train_lr(p, step, total);
		net_train_step(net, &adam, rgb_l, mask_l, p->batch, rgb_u, nu,
		    nu > 0 ? train_wcons(p, step, total) : 0, &nl);
		if (!isfinite(nl.sup) || !isfinite(nl.cons)) {
			set_cause(cause, "training diverged at step %d (loss "
			    "%g)", step, (double)nl.sup);
			goto out;
		}
		loss_avg = isnan(loss_avg) ? nl.sup + nl.cons :
		    0.9 * loss_avg + 0.1 * (nl.sup + nl.cons);
		fixed = total == 0 && step + 1 == TRAIN_TIMED_STEPS;
		if (fixed)
			total = train_budget(p, step + 1, r->start, t0,
			    now_seconds(), sn->n + sn->nval);
		/*
		 * The ETA from the steps left at the measured step time,
		 * plus the inference of every tile as train_budget counts
		 * it: the share of the job done so far says little while
		 * the load and the first steps dominate it.
		 */
		if (total != 0 && step + 1 >= TRAIN_TIMED_STEPS) {
			per = (now_seconds() - t0) / (step + 1);
			r->eta = (total - step - 1) * per +
			    (sn->n + sn->nval) * per / 8;
		}
		if (run_progress(r, "train", FRAC_TRAIN, total == 0 ? 0 :
		    (step + 1.0) / total, cl.pass, loss_avg, step == 0 ||
		    fixed) == 1) {
			rc = 1;
			goto out;
		}
		*steps_done = step + 1;
	}
	rc = 0;

out:
	r->eta = -1;
	*last_loss = loss_avg;
	free(cl.order);
	free(cu.order);
	free(rgb_l);
	free(mask_l);
	free(rgb_u);
	return (rc);
}

/* The index of the largest of n floats spaced by stride. */
static int
argmax_strided(const float *p, int n, size_t stride)
{
	int	k, best = 0;

	for (k = 1; k < n; k++) {
		if (p[k * stride] > p[best * stride])
			best = k;
	}
	return (best);
}

/* Per-class IoU, mIoU and pixel accuracy on the validation tiles, as
 * JSON into *metrics.  Returns 0, 1 if cancelled, -1. */
static int
train_validate(struct run *r, const struct snapshot *sn, struct net *net,
    char **metrics, char **cause)
{
	size_t		 npix = (size_t)sn->tile * sn->tile, i, px;
	int		 c = sn->classes, k, pred, truth, nvalid = 0;
	uint64_t	*conf, correct = 0, total = 0, tp, fp, fn;
	uint8_t		*rgb, *mask;
	float		*prob;
	double		 miou = 0, iou;
	char		*s, *t;
	int		 rc = -1;

	conf = xcalloc((size_t)c * c, sizeof *conf);
	rgb = xmalloc(npix * 3);
	mask = xmalloc(npix);
	prob = xreallocarray(NULL, npix * c, sizeof *prob);
	for (i = 0; i < sn->nval; i++) {
		if (tile_decode(&sn->t[sn->val[i]], sn->tile, rgb, mask,
		    cause) != 0)
			goto out;
		net_infer(net, rgb, 1, prob, NULL, NULL);
		for (px = 0; px < npix; px++) {
			if (mask[px] == MASK_VOID || mask[px] >= c)
				continue;
			pred = argmax_strided(prob + px, c, npix);
			conf[mask[px] * c + pred]++;
		}
		if (run_progress(r, "validate", FRAC_VAL,
		    (i + 1.0) / sn->nval, -1, NAN, 0) == 1) {
			rc = 1;
			goto out;
		}
	}

	/* IoU of each class seen in truth or prediction. */
	xasprintf(&s, "[");
	for (k = 0; k < c; k++) {
		tp = conf[k * c + k];
		fp = fn = 0;
		for (truth = 0; truth < c; truth++) {
			if (truth != k)
				fp += conf[truth * c + k];
		}
		for (pred = 0; pred < c; pred++) {
			if (pred != k)
				fn += conf[k * c + pred];
		}
		correct += tp;
		total += tp + fn;
		if (tp + fp + fn == 0) {
			xasprintf(&t, "%s%snull", s, k ? "," : "");
		} else {
			iou = (double)tp / (tp + fp + fn);
			miou += iou;
			nvalid++;
			xasprintf(&t, "%s%s%.6f", s, k ? "," : "", iou);
		}
		free(s);
		s = t;
	}
	if (total == 0) {
		xasprintf(metrics, "{\"val_tiles\":%zu,\"val_pixels\":0,"
		    "\"miou\":null,\"pixel_accuracy\":null,\"iou\":%s]}",
		    sn->nval, s);
	} else {
		xasprintf(metrics, "{\"val_tiles\":%zu,\"val_pixels\":%llu,"
		    "\"miou\":%.6f,\"pixel_accuracy\":%.6f,\"iou\":%s]}",
		    sn->nval, (unsigned long long)total, miou / nvalid,
		    (double)correct / total, s);
	}
	free(s);
	rc = 0;

out:
	free(conf);
	free(rgb);
	free(mask);
	free(prob);
	return (rc);
}

/* Free predictions. */
static void
preds_free(struct pred *pr, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(pr[i].blob);
	free(pr);
}

/* Predict one tile: the argmax mask (w x h), packed, and its scores. */
static int
predict_tile(const struct snapshot *sn, const struct ttile *t,
    struct net *net, uint8_t *rgb, float *prob, uint8_t *mask,
    struct pred *pr, char **cause)
{
	size_t	 npix = (size_t)sn->tile * sn->tile, px;
	float	 dis, p;
	double	 ent = 0;
	int	 x, y, k, c = sn->classes, w, h;

	if (tile_decode(t, sn->tile, rgb, NULL, cause) != 0)
		return (-1);
	net_infer(net, rgb, 1, prob, NULL, &dis);
	w = t->w < sn->tile ? t->w : sn->tile;
	h = t->h < sn->tile ? t->h : sn->tile;
	memset(mask, MASK_VOID, (size_t)t->w * t->h);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			px = (size_t)y * sn->tile + x;
			mask[(size_t)y * t->w + x] = argmax_strided(prob + px,
			    c, npix);
			for (k = 0; k < c; k++) {
				p = prob[k * npix + px];
				if (p > 0)
					ent -= p * log(p);
			}
		}
	}
	if (!isfinite(dis) || !isfinite(ent)) {
		return (set_cause(cause, "tile %lld: the model predicts "
		    "non-finite scores (disagreement %g, entropy %g)",
		    (long long)t->id, (double)dis, ent));
	}
	pr->tile_id = t->id;
	pr->score = dis;
	pr->entropy = ent / ((double)w * h);
	return (mask_pack(mask, (size_t)t->w * t->h, &pr->blob,
	    &pr->blob_len));
}

/* Predict every tile of the snapshot.  Returns 0, 1 if cancelled, -1. */
static int
predict_all(struct run *r, const struct snapshot *sn, struct net *net,
    double share, struct pred **out, char **cause)
{
	size_t		 npix = (size_t)sn->tile * sn->tile, i, maxpix = 0;
	struct pred	*pr;
	uint8_t		*rgb, *mask;
	float		*prob;
	int		 rc = -1;

	for (i = 0; i < sn->n; i++) {
		if ((size_t)sn->t[i].w * sn->t[i].h > maxpix)
			maxpix = (size_t)sn->t[i].w * sn->t[i].h;
	}
	pr = xcalloc(sn->n, sizeof *pr);
	rgb = xmalloc(npix * 3);
	mask = xmalloc(maxpix);
	prob = xreallocarray(NULL, npix * sn->classes, sizeof *prob);
	for (i = 0; i < sn->n; i++) {
		if (predict_tile(sn, &sn->t[i], net, rgb, prob, mask, &pr[i],
		    cause) != 0)
			goto out;
		if (run_progress(r, "predict", share, (i + 1.0) / sn->n, -1,
		    NAN, 0) == 1) {
			rc = 1;
			goto out;
		}
	}
	rc = 0;

out:
	free(rgb);
	free(mask);
	free(prob);
	if (rc != 0)
		preds_free(pr, sn->n);
	else
		*out = pr;
	return (rc);
}

/* Store predictions of a model, replacing older models' ones. */
static int
preds_store(struct store *st, int64_t model_id, const struct pred *pr,
    size_t n, char **cause)
{
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;
	size_t		 i;

	if (sqlite3_prepare_v2(db, "DELETE FROM predictions WHERE "
	    "model_id < ?", -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(stmt, 1, model_id);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(stmt);

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO predictions "
	    "(tile_id, model_id, mask, score, entropy) VALUES "
	    "(?, ?, ?, ?, ?)", -1, &stmt, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(stmt, 1, pr[i].tile_id);
		sqlite3_bind_int64(stmt, 2, model_id);
		sqlite3_bind_blob(stmt, 3, pr[i].blob, pr[i].blob_len,
		    SQLITE_STATIC);
		sqlite3_bind_double(stmt, 4, pr[i].score);
		sqlite3_bind_double(stmt, 5, pr[i].entropy);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return (0);

fail:
	set_cause(cause, "%s: predictions: %s", store_path(st),
	    sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	return (-1);
}

/* The weights of a network as safetensors bytes, through a temporary
 * file (st_write writes files only). */
static int
net_to_blob(const struct net *net, unsigned char **blob, size_t *len,
    char **cause)
{
	char		 dir[] = "/tmp/s4lab-XXXXXX", *path;
	const char	*tmpdir = getenv("TMPDIR");
	char		*tmpl;
	int		 rc;

	if (tmpdir != NULL && *tmpdir != '\0')
		xasprintf(&tmpl, "%s/s4lab-XXXXXX", tmpdir);
	else
		tmpl = xstrdup(dir);
	if (mkdtemp(tmpl) == NULL) {
		rc = set_cause(cause, "%s: %s", tmpl, strerror(errno));
		free(tmpl);
		return (rc);
	}
	xasprintf(&path, "%s/model.safetensors", tmpl);
	rc = net_save(net, path, cause);
	if (rc == 0) {
		*blob = read_file(path, len, (size_t)1 << 31, cause);
		if (*blob == NULL)
			rc = -1;
	}
	unlink(path);
	rmdir(tmpl);
	free(path);
	free(tmpl);
	return (rc);
}

/* A network from a safetensors blob, through a temporary file. */
static struct net *
net_from_blob(const unsigned char *blob, size_t len, int64_t model_id,
    char **cause)
{
	const char	*tmpdir = getenv("TMPDIR");
	char		*tmpl, *path, *why = NULL;
	struct net	*net = NULL;
	FILE		*f;
	size_t		 plen;

	xasprintf(&tmpl, "%s/s4lab-XXXXXX", tmpdir != NULL &&
	    *tmpdir != '\0' ? tmpdir : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		set_cause(cause, "%s: %s", tmpl, strerror(errno));
		free(tmpl);
		return (NULL);
	}
	xasprintf(&path, "%s/model.safetensors", tmpl);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(blob, 1, len, f) != len || fclose(f) != 0) {
		set_cause(cause, "%s: %s", path, strerror(errno));
	} else if (net_load(&net, path, &why) != 0) {
		/* The temporary file's name means nothing to the reader. */
		plen = strlen(path);
		if (strncmp(why, path, plen) == 0 &&
		    strncmp(why + plen, ": ", 2) == 0)
			set_cause(cause, "model %lld: weights refused: %s",
			    (long long)model_id, why + plen + 2);
		else
			set_cause(cause, "model %lld: weights refused: %s",
			    (long long)model_id, why);
		free(why);
		net = NULL;
	}
	unlink(path);
	rmdir(tmpl);
	free(path);
	free(tmpl);
	return (net);
}

/* The model's configuration as JSON. */
static char *
train_config_json(const struct net_config *cfg, const struct train_params *p,
    const struct snapshot *sn, int steps, double loss)
{
	char	*s;

	xasprintf(&s, "{\"classes\":%d,\"width\":%d,\"depth\":%d,\"aux\":%d,"
	    "\"tile\":%d,\"seed\":%llu,\"steps\":%d,\"threads\":%d,"
	    "\"batch\":%d,\"lr\":%g,\"cons_weight\":%g,"
	    "\"supervised_only\":%s,\"labelled\":%zu,\"unlabelled\":%zu,"
	    "\"final_loss\":%.6f}", cfg->classes, cfg->width, cfg->depth,
	    cfg->aux, cfg->tile, (unsigned long long)p->seed, steps,
	    p->threads, p->batch, p->lr, p->cons_weight,
	    p->supervised_only ? "true" : "false", sn->nlab,
	    p->supervised_only ? (size_t)0 : sn->nunl,
	    isfinite(loss) ? loss : -1.0);
	return (s);
}

/* A number from the metrics we wrote, NaN if null or absent. */
static double
metric(const char *metrics, const char *key)
{
	const char	*p;
	char		*pat, *end;
	double		 v;

	xasprintf(&pat, "\"%s\":", key);
	p = strstr(metrics, pat);
	free(pat);
	if (p == NULL)
		return (NAN);
	p = strchr(p, ':') + 1;
	v = strtod(p, &end);
	return (end == p ? NAN : v);
}

/* The job's closing message: the model and its metrics. */
static char *
train_summary(int64_t model_id, const char *metrics, size_t ntiles,
    const char *notes)
{
	char	*msg, *s;
	double	 miou = metric(metrics, "miou");
	double	 acc = metric(metrics, "pixel_accuracy");

	if (isnan(miou)) {
		xasprintf(&msg, "model %lld: no labelled validation tile; "
		    "%zu tiles predicted", (long long)model_id, ntiles);
	} else {
		xasprintf(&msg, "model %lld: mIoU %.3f, pixel accuracy %.3f; "
		    "%zu tiles predicted", (long long)model_id, miou, acc,
		    ntiles);
	}
	if (notes != NULL) {
		xasprintf(&s, "%s; warning: %s", msg, notes);
		free(msg);
		msg = s;
	}
	return (msg);
}

/*
 * Is the job cancelled?  Read inside the store transaction: a cancel
 * asked before it began is seen; one asked after waits for the commit
 * (BEGIN IMMEDIATE) and finds the job ended.  -1 with a cause on error.
 */
static int
store_cancelled(struct run *r, char **cause)
{
	int	c;

	if ((c = job_cancelled(r->st, r->job->id, cause)) != 0)
		store_rollback(r->st);
	if (c == 1)
		log_debug(LOG_TRAIN, "job %lld: cancelled before its store",
		    (long long)r->job->id);
	return (c);
}

/* Insert the model, its predictions and the job's end in one
 * transaction.  Returns the model id, 0 if the job was cancelled (and
 * nothing stored), or -1. */
static int64_t
train_store(struct run *r, const char *config, const unsigned char *blob,
    size_t len, const char *metrics, const struct pred *pr, size_t n,
    char **cause)
{
	struct store	*st = r->st;
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;
	int64_t		 model_id;
	char		*msg;

	if (store_begin(st, cause) != 0)
		return (-1);
	switch (store_cancelled(r, cause)) {
	case 1:
		return (0);
	case -1:
		return (-1);
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO models (created, job_id, "
	    "config, weights, metrics) VALUES (?, ?, ?, ?, ?)", -1, &stmt,
	    NULL) != SQLITE_OK) {
		set_cause(cause, "%s: models: %s", store_path(st),
		    sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_bind_int64(stmt, 1, now_unix());
	sqlite3_bind_int64(stmt, 2, r->job->id);
	sqlite3_bind_text(stmt, 3, config, -1, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 4, blob, len, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, metrics, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		set_cause(cause, "%s: models: %s", store_path(st),
		    sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		goto fail;
	}
	sqlite3_finalize(stmt);
	model_id = sqlite3_last_insert_rowid(db);

	if (preds_store(st, model_id, pr, n, cause) != 0)
		goto fail;
	msg = train_summary(model_id, metrics, n, r->notes);
	if (job_finish(st, r->job->id, model_id, msg, cause) != 0) {
		free(msg);
		goto fail;
	}
	free(msg);
	if (store_commit(st, cause) != 0)
		return (-1);
	return (model_id);

fail:
	store_rollback(st);
	return (-1);
}

/* A new network for the snapshot and parameters. */
static struct net *
train_net(const struct snapshot *sn, const struct train_params *p,
    char **cause)
{
	struct net_config	cfg;
	int			k;

	net_config_default(&cfg, sn->classes);
	cfg.width = p->width;
	cfg.depth = p->depth;
	cfg.aux = p->aux;
	for (k = 0; k < cfg.aux && k < 16; k++)
		cfg.perturb[k] = k % NET_NPERTURB;
	cfg.tile = sn->tile;
	cfg.seed = p->seed;
	if (p->threads > 0)
		cfg.threads = p->threads;
	if (sn->tile % (1 << (cfg.depth - 1)) != 0) {
		set_cause(cause, "tile size %d is not a multiple of %d (depth "
		    "%d)", sn->tile, 1 << (cfg.depth - 1), cfg.depth);
		return (NULL);
	}
	return (net_new(&cfg));
}

/* Set the threads the model's kernels use. */
static void
train_threads(int threads)
{
#ifdef _OPENMP
	if (threads > 0)
		omp_set_num_threads(threads);
#endif
}

/* Train, validate, predict and store. */
int
train_job(struct store *st, struct job *job, char **cause)
{
	struct run		 r;
	struct snapshot		 sn;
	struct train_params	 p;
	struct net		*net = NULL;
	struct pred		*pr = NULL;
	unsigned char		*blob = NULL;
	size_t			 len;
	char			*metrics = NULL, *config = NULL;
	int			 rc = -1, steps = 0;
	double			 loss = NAN, t;
	int64_t			 model_id;

	memset(&r, 0, sizeof r);
	r.eta = -1;
	r.st = st;
	r.job = job;
	r.start = now_seconds();
	if (params_read(job, &p, cause) != 0)
		return (-1);
	train_threads(p.threads);
	run_progress(&r, "load", 0, 0, -1, NAN, 1);
	if (snapshot_read(st, 1, &sn, cause) != 0)
		return (-1);
	r.notes = sn.notes;
	if (sn.nlab == 0) {
		set_cause(cause, "%s: no labelled tile in the train split%s%s",
		    store_path(st), sn.notes != NULL ? "; " : "",
		    sn.notes != NULL ? sn.notes : "");
		goto out;
	}
	log_debug(LOG_TRAIN, "job %lld: %zu labelled, %zu unlabelled, %zu "
	    "validation tiles", (long long)job->id, sn.nlab, sn.nunl, sn.nval);
	if ((net = train_net(&sn, &p, cause)) == NULL)
		goto out;

	r.base = FRAC_LOAD;
	t = now_seconds();
	if ((rc = train_loop(&r, &sn, &p, net, &steps, &loss, cause)) != 0)
		goto out;
	log_debug(LOG_TRAIN, "job %lld: %d steps in %.1f s", (long long)job->id,
	    steps, now_seconds() - t);
	r.base += FRAC_TRAIN;
	if ((rc = train_validate(&r, &sn, net, &metrics, cause)) != 0)
		goto out;
	r.base += FRAC_VAL;
	t = now_seconds();
	if ((rc = predict_all(&r, &sn, net, FRAC_PREDICT, &pr, cause)) != 0)
		goto out;
	log_debug(LOG_TRAIN, "job %lld: %zu tiles predicted in %.1f s",
	    (long long)job->id, sn.n, now_seconds() - t);
	if ((rc = run_progress(&r, "store", 0, 0, -1, loss, 1)) != 0)
		goto out;

	rc = -1;
	if (net_to_blob(net, &blob, &len, cause) != 0)
		goto out;
	config = train_config_json(net_config(net), &p, &sn, steps, loss);
	model_id = train_store(&r, config, blob, len, metrics, pr, sn.n,
	    cause);
	if (model_id < 0)
		goto out;
	if (model_id == 0) {
		rc = 1;
		goto out;
	}
	job->model_id = model_id;
	rc = 0;

out:
	if (pr != NULL)
		preds_free(pr, sn.n);
	free(blob);
	free(config);
	free(metrics);
	if (net != NULL)
		net_free(net);
	snapshot_free(&sn);
	return (rc);
}

/* Store a predict job's predictions and end it, in one transaction;
 * refuses if a newer model landed meanwhile.  1 if cancelled. */
static int
predict_store(struct run *r, int64_t model_id, const struct pred *pr,
    size_t n, char **cause)
{
	struct store	*st = r->st;
	char		*msg;
	int		 rc = -1;

	if (store_begin(st, cause) != 0)
		return (-1);
	switch (store_cancelled(r, cause)) {
	case 1:
		return (1);
	case -1:
		return (-1);
	}
	if (model_newest(st) != model_id) {
		set_cause(cause, "model %lld was replaced by a newer one "
		    "while predicting", (long long)model_id);
		goto out;
	}
	if (preds_store(st, model_id, pr, n, cause) != 0)
		goto out;
	xasprintf(&msg, "%zu tiles predicted with model %lld", n,
	    (long long)model_id);
	rc = job_finish(st, r->job->id, model_id, msg, cause);
	free(msg);
	if (rc == 0)
		return (store_commit(st, cause));

out:
	store_rollback(st);
	return (-1);
}

/* Predict every tile with the newest model. */
int
predict_job(struct store *st, struct job *job, char **cause)
{
	struct run	 r;
	struct snapshot	 sn;
	struct net	*net = NULL;
	struct pred	*pr = NULL;
	unsigned char	*blob = NULL;
	size_t		 len;
	double		 threads = 0;
	int64_t		 model_id;
	int		 rc = -1;

	memset(&r, 0, sizeof r);
	r.eta = -1;
	r.st = st;
	r.job = job;
	r.start = now_seconds();
	if (job_param(job, "threads", &threads, cause) < 0)
		return (-1);
	train_threads((int)threads);
	run_progress(&r, "load", 0, 0, -1, NAN, 1);
	if ((model_id = model_newest(st)) == 0)
		return (set_cause(cause, "%s: no model yet", store_path(st)));
	if (model_weights(st, model_id, &blob, &len, cause) != 0)
		return (-1);
	net = net_from_blob(blob, len, model_id, cause);
	free(blob);
	if (net == NULL)
		return (-1);
	if (snapshot_read(st, 0, &sn, cause) != 0)
		goto out;
	if (net_config(net)->tile != sn.tile ||
	    net_config(net)->classes != sn.classes) {
		set_cause(cause, "model %lld is for %dpx tiles and %d classes, "
		    "the project has %d and %d", (long long)model_id,
		    net_config(net)->tile, net_config(net)->classes, sn.tile,
		    sn.classes);
		goto out;
	}
	r.base = FRAC_LOAD;
	if ((rc = predict_all(&r, &sn, net, 1 - FRAC_LOAD, &pr, cause)) != 0)
		goto out;
	rc = predict_store(&r, model_id, pr, sn.n, cause);
	job->model_id = model_id;

out:
	if (pr != NULL)
		preds_free(pr, sn.n);
	snapshot_free(&sn);
	net_free(net);
	return (rc);
}
