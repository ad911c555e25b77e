/*
 * tuitool: what tests/e2e/tui-tmux.sh reads from a project without going
 * through the TUI: a tile's stored mask, state, revision and author.
 * Test-only; not installed.
 *
 *	tuitool mask PROJECT ID		"w h" then one line of hex per row
 *	tuitool pred PROJECT ID		the same for the newest prediction
 *	tuitool info PROJECT ID		"state revision author"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s4lab.h"

static int
tuitool_mask(struct store *st, int64_t id, int what, char **cause)
{
	struct tile	 t;
	uint8_t		*mask;
	int		 x, y;

	memset(&t, 0, sizeof t);
	if (store_tile_get(st, id, &t, cause) != 0)
		return (-1);
	if (what == 1) {
		printf("%d %d %s\n", t.state, t.revision,
		    t.author != NULL ? t.author : "-");
		tile_free(&t);
		return (0);
	}
	mask = xmalloc((size_t)t.w * t.h);
	if (what == 2) {
		if (model_prediction(st, id, mask, (size_t)t.w * t.h, NULL,
		    NULL, cause) != 1)
			return (set_cause(cause, "tile %lld: no prediction",
			    (long long)id));
	} else if (store_label_get(st, id, mask, (size_t)t.w * t.h,
	    cause) < 0)
		return (-1);
	printf("%d %d\n", t.w, t.h);
	for (y = 0; y < t.h; y++) {
		for (x = 0; x < t.w; x++)
			printf("%02x", mask[(size_t)y * t.w + x]);
		putchar('\n');
	}
	free(mask);
	tile_free(&t);
	return (0);
}

int
main(int argc, char **argv)
{
	struct store	*st;
	char		*cause = NULL;
	int		 rc;

	if (argc < 4) {
		fprintf(stderr, "usage: tuitool mask|info|pred PROJECT ID\n");
		return (2);
	}
	if ((st = store_open(argv[2], 0, &cause)) == NULL) {
		fprintf(stderr, "tuitool: %s\n", cause);
		return (1);
	}
	if (strcmp(argv[1], "mask") == 0)
		rc = tuitool_mask(st, strtoll(argv[3], NULL, 10), 0, &cause);
	else if (strcmp(argv[1], "info") == 0)
		rc = tuitool_mask(st, strtoll(argv[3], NULL, 10), 1, &cause);
	else if (strcmp(argv[1], "pred") == 0)
		rc = tuitool_mask(st, strtoll(argv[3], NULL, 10), 2, &cause);
	else
		rc = set_cause(&cause, "unknown command %s", argv[1]);
	store_close(st);
	if (rc != 0) {
		fprintf(stderr, "tuitool: %s\n", cause);
		free(cause);
		return (1);
	}
	return (0);
}
