/*
 * tests/tools/tiles.h: real scenes cut into square tiles, for the model's
 * tests, benchmarks and learning measurements (tests/data/dubai).
 */
#ifndef TILES_H
#define TILES_H

#include <stdint.h>

#define TILES_CLASSES	5

struct scene {
	int		 w, h;
	uint8_t		*rgb;		/* w * h * 3 */
	uint8_t		*mask;		/* w * h class indices, 255 void */
};

/* Load tests/data/dubai/{images,masks}/NAME.{jpg,png}; -1 on error. */
int	scene_load(const char *dir, const char *name, struct scene *);
void	scene_free(struct scene *);
/* Copy the t x t square at (x, y) into rgb (t*t*3) and mask (t*t). */
void	scene_cut(const struct scene *, int x, int y, int t, uint8_t *rgb,
	    uint8_t *mask);

/* The 16 256px tiles of the benchmarks: the four corners of one image
 * of each of scenes 1, 2, 3 and 5.  rgb gets 16*256*256*3 bytes. */
int	scene_bench_tiles(const char *dir, uint8_t *rgb, uint8_t *mask);

#endif
