/* Synthetic projects for the jobs and trainer tests (see synth.h). */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <turbojpeg.h>

#include "s4lab.h"
#include "synth.h"

/* A tiny deterministic generator. */
static uint32_t
synth_rand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (*s >> 8);
}

/* Draw tile i into rgb and its truth into mask. */
static void
synth_draw(int i, int tile, uint8_t *rgb, uint8_t *mask)
{
	uint32_t	 s = 12345u + (uint32_t)i * 7919u;
	int		 x, y, sx, sy, side, band, k;
	uint8_t		*p;

	side = tile / 4 + (int)(synth_rand(&s) % (tile / 4));
	sx = (int)(synth_rand(&s) % (tile - side));
	sy = (int)(synth_rand(&s) % (tile - side));
	band = (int)(synth_rand(&s) % (tile / 2));
	for (y = 0; y < tile; y++) {
		for (x = 0; x < tile; x++) {
			p = rgb + ((size_t)y * tile + x) * 3;
			k = 0;
			p[0] = 90 + synth_rand(&s) % 30;
			p[1] = 100 + synth_rand(&s) % 30;
			p[2] = 80 + synth_rand(&s) % 30;
			if (y >= band && y < band + tile / 6) {
				k = 2;
				p[0] = 20;
				p[1] = 40 + synth_rand(&s) % 20;
				p[2] = 160 + synth_rand(&s) % 40;
			}
			if (x >= sx && x < sx + side && y >= sy &&
			    y < sy + side) {
				k = 1;
				p[0] = p[1] = p[2] = 220 + synth_rand(&s) % 30;
			}
			mask[(size_t)y * tile + x] = k;
		}
	}
}

/* Commit a label of one class over a whole tile. */
void
synth_label(struct store *st, int64_t id, int k)
{
	struct tile	 t;
	uint8_t		*mask;
	char		*cause = NULL;

	if (store_tile_get(st, id, &t, &cause) != 0)
		fatalx("%s", cause);
	mask = xmalloc((size_t)t.w * t.h);
	memset(mask, k, (size_t)t.w * t.h);
	if (store_label_put(st, id, mask, (size_t)t.w * t.h, "synth", NULL,
	    &cause) != 0)
		fatalx("%s", cause);
	free(mask);
	tile_free(&t);
}

/* Create a project of synthetic tiles. */
void
synth_project(const char *path, int tile, int nlab, int nval, int nunl)
{
	struct store	*st;
	struct classes	 cl;
	struct tile	 t;
	tjhandle	 tj;
	uint8_t		*rgb, *mask;
	unsigned char	*jpeg = NULL;
	unsigned long	 jlen = 0;
	char		*cause = NULL, hash[65], num[16], *sql;
	int64_t		 src[3];
	int		 i, n = nlab + nval + nunl;

	if ((st = store_open(path, STORE_CREATE | STORE_MUSTNEW,
	    &cause)) == NULL)
		fatalx("%s", cause);
	memset(&cl, 0, sizeof cl);
	cl.n = 3;
	strcpy(cl.c[0].name, "background");
	strcpy(cl.c[1].name, "building");
	cl.c[1].rgb[0] = 255;
	strcpy(cl.c[2].name, "water");
	cl.c[2].rgb[2] = 255;
	snprintf(num, sizeof num, "%d", tile);
	if (store_set_classes(st, &cl, &cause) != 0 ||
	    store_set_setting(st, "tile_size", num, &cause) != 0)
		fatalx("%s", cause);
	for (i = 0; i < 3; i++) {
		snprintf(num, sizeof num, "scene%d", i);
		sha256_hex(num, strlen(num), hash);
		if ((src[i] = store_source_add(st, num, tile * 8, tile * 8,
		    hash, &cause)) <= 0)
			fatalx("%s", cause);
	}

	tj = tjInitCompress();
	rgb = xmalloc((size_t)tile * tile * 3);
	mask = xmalloc((size_t)tile * tile);
	for (i = 0; i < n; i++) {
		synth_draw(i, tile, rgb, mask);
		if (tjCompress2(tj, rgb, tile, 0, tile, TJPF_RGB, &jpeg, &jlen,
		    TJSAMP_444, 95, 0) != 0)
			fatalx("tjCompress2: %s", tjGetErrorStr());
		memset(&t, 0, sizeof t);
		t.source_id = src[i % 3];
		t.x = (i / 3) * tile;
		t.w = t.h = tile;
		t.jpeg = jpeg;
		t.jpeg_len = jlen;
		if (store_tile_add(st, &t, &cause) != 0 || t.id <= 0)
			fatalx("tile %d: %s", i, cause);
		xasprintf(&sql, "UPDATE tiles SET split = %d, state = %d "
		    "WHERE id = %lld", i >= nlab && i < nlab + nval ?
		    SPLIT_VAL : SPLIT_TRAIN, i < nlab + nval ? TILE_DONE :
		    TILE_NEW, (long long)t.id);
		if (sqlite3_exec(store_db(st), sql, NULL, NULL, NULL) !=
		    SQLITE_OK)
			fatalx("%s", sqlite3_errmsg(store_db(st)));
		free(sql);
		if (i < nlab + nval && store_label_put(st, t.id, mask,
		    (size_t)tile * tile, "synth", "import", &cause) != 0)
			fatalx("%s", cause);
	}
	tjFree(jpeg);
	tjDestroy(tj);
	free(rgb);
	free(mask);
	store_close(st);
}
