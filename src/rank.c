/*
 * The order in which tiles are offered for labelling.
 *
 * New tiles come first, by the newest model's disagreement (or entropy)
 * highest first; tiles the model has not scored follow by id; then the
 * skipped and the done tiles by id.  A scene (a source image) often holds
 * a run of similar tiles that all score high, and labelling five of them
 * in a row teaches the model less than five from different scenes.  So
 * the scored new tiles are picked greedily: each scene offers its best
 * remaining tile, whose score is lowered by RANK_PENALTY for each of the
 * last RANK_WINDOW picks that came from the same scene, and the highest
 * wins.  A scene whose tiles score far above the rest still comes first;
 * one that scores only slightly higher alternates with the others.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "s4lab.h"

#define RANK_WINDOW	4
#define RANK_PENALTY	0.9

struct rank_scene {
	int64_t		 source_id;
	size_t		*idx;		/* into the sorted new tiles */
	size_t		 n;
	size_t		 next;
};

/* Parse an order name. */
int
rank_order_parse(const char *name)
{
	if (strcmp(name, "disagreement") == 0)
		return (ORDER_DISAGREEMENT);
	if (strcmp(name, "entropy") == 0)
		return (ORDER_ENTROPY);
	if (strcmp(name, "random") == 0)
		return (ORDER_RANDOM);
	if (strcmp(name, "id") == 0)
		return (ORDER_ID);
	return (-1);
}

/* A fixed pseudo-random number in [0, 1) for a tile. */
static double
rank_random(int64_t id)
{
	uint64_t	z = (uint64_t)id + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return ((z >> 11) * (1.0 / 9007199254740992.0));
}

/* New tiles first, by score (highest first, none last), then by id. */
static int
rank_cmp(const void *va, const void *vb)
{
	const struct rank_entry	*a = va, *b = vb;
	int			 ga, gb;

	ga = a->state == TILE_NEW ? 0 : a->state == TILE_SKIPPED ? 1 : 2;
	gb = b->state == TILE_NEW ? 0 : b->state == TILE_SKIPPED ? 1 : 2;
	if (ga != gb)
		return (ga < gb ? -1 : 1);
	if (ga == 0 && isnan(a->score) != isnan(b->score))
		return (isnan(a->score) ? 1 : -1);
	if (ga == 0 && !isnan(a->score) && a->score != b->score)
		return (a->score > b->score ? -1 : 1);
	return (a->tile_id < b->tile_id ? -1 : a->tile_id > b->tile_id);
}

/* Read every tile with the newest model's scores. */
static int
rank_read(struct store *st, int order, struct rank_entry **out,
    size_t *n, char **cause)
{
	sqlite3		*db = store_db(st);
	sqlite3_stmt	*stmt;
	struct rank_entry *e;
	size_t		 size = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT t.id, t.source_id, t.state, "
	    "p.score, p.entropy FROM tiles t LEFT JOIN predictions p ON "
	    "p.tile_id = t.id AND p.model_id = (SELECT max(id) FROM models) "
	    "ORDER BY t.id", -1, &stmt, NULL) != SQLITE_OK)
		return (set_cause(cause, "%s: %s", store_path(st),
		    sqlite3_errmsg(db)));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*n == size) {
			size = size == 0 ? 256 : size * 2;
			*out = xreallocarray(*out, size, sizeof **out);
		}
		e = &(*out)[(*n)++];
		e->tile_id = sqlite3_column_int64(stmt, 0);
		e->source_id = sqlite3_column_int64(stmt, 1);
		e->state = sqlite3_column_int(stmt, 2);
		e->disagreement = e->entropy = NAN;
		if (sqlite3_column_type(stmt, 3) != SQLITE_NULL)
			e->disagreement = sqlite3_column_double(stmt, 3);
		if (sqlite3_column_type(stmt, 4) != SQLITE_NULL)
			e->entropy = sqlite3_column_double(stmt, 4);
		switch (order) {
		case ORDER_DISAGREEMENT:
			e->score = e->disagreement;
			break;
		case ORDER_ENTROPY:
			e->score = e->entropy;
			break;
		case ORDER_RANDOM:
			e->score = rank_random(e->tile_id);
			break;
		default:
			e->score = NAN;
			break;
		}
		e->rank = 0;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return (set_cause(cause, "%s: tiles: %s", store_path(st),
		    sqlite3_errmsg(db)));
	}
	return (0);
}

/* Group the first n (sorted) entries by scene. */
static struct rank_scene *
rank_scenes(const struct rank_entry *e, size_t n, size_t *nscenes)
{
	struct rank_scene	*sc = NULL;
	size_t			 i, j;

	*nscenes = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < *nscenes; j++) {
			if (sc[j].source_id == e[i].source_id)
				break;
		}
		if (j == *nscenes) {
			sc = xreallocarray(sc, ++*nscenes, sizeof *sc);
			memset(&sc[j], 0, sizeof sc[j]);
			sc[j].source_id = e[i].source_id;
			sc[j].idx = xcalloc(n, sizeof *sc[j].idx);
		}
		sc[j].idx[sc[j].n++] = i;
	}
	return (sc);
}

/* The scene whose best remaining tile wins after the penalty. */
static size_t
rank_pick(const struct rank_entry *e, struct rank_scene *sc, size_t ns,
    const size_t *recent, size_t nrecent)
{
	size_t	 j, k, best = ns, count;
	double	 eff, best_eff = 0;

	for (j = 0; j < ns; j++) {
		if (sc[j].next == sc[j].n)
			continue;
		count = 0;
		for (k = 0; k < nrecent; k++)
			count += recent[k] == j;
		eff = e[sc[j].idx[sc[j].next]].score * pow(RANK_PENALTY,
		    count);
		if (best == ns || eff > best_eff || (eff == best_eff &&
		    sc[j].idx[sc[j].next] < sc[best].idx[sc[best].next])) {
			best = j;
			best_eff = eff;
		}
	}
	return (best);
}

/* Reorder the first n (sorted, scored) entries for scene diversity. */
static void
rank_diversify(struct rank_entry *e, size_t n)
{
	struct rank_scene	*sc;
	struct rank_entry	*out;
	size_t			 ns, i, j, recent[RANK_WINDOW], nrecent = 0;

	sc = rank_scenes(e, n, &ns);
	out = xcalloc(n, sizeof *out);
	for (i = 0; i < n; i++) {
		j = rank_pick(e, sc, ns, recent, nrecent);
		out[i] = e[sc[j].idx[sc[j].next++]];
		if (nrecent == RANK_WINDOW) {
			memmove(recent, recent + 1,
			    (RANK_WINDOW - 1) * sizeof *recent);
			nrecent--;
		}
		recent[nrecent++] = j;
	}
	memcpy(e, out, n * sizeof *e);
	free(out);
	for (j = 0; j < ns; j++)
		free(sc[j].idx);
	free(sc);
}

/* Every tile in offering order. */
int
rank_queue(struct store *st, int order, struct rank_entry **out, size_t *n,
    char **cause)
{
	struct rank_entry	*e;
	size_t			 i, nscored = 0;

	if (rank_read(st, order, out, n, cause) != 0)
		return (-1);
	e = *out;
	qsort(e, *n, sizeof *e, rank_cmp);
	while (nscored < *n && e[nscored].state == TILE_NEW &&
	    !isnan(e[nscored].score))
		nscored++;
	if (order == ORDER_DISAGREEMENT || order == ORDER_ENTROPY)
		rank_diversify(e, nscored);
	for (i = 0; i < *n && e[i].state == TILE_NEW; i++)
		e[i].rank = (int)i + 1;
	return (0);
}

/* The entry of a tile, or NULL. */
const struct rank_entry *
rank_find(const struct rank_entry *e, size_t n, int64_t tile_id)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (e[i].tile_id == tile_id)
			return (&e[i]);
	}
	return (NULL);
}
