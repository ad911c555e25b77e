/*
 * tuitool: what tests/e2e/tui-tmux.sh needs from a project without going
 * through the TUI: add JPEG files as tiles, print a tile's stored mask,
 * state, revision and author.  Test-only; not installed.
 *
 *	tuitool add PROJECT FILE.jpg...	one tile per file, ids printed
 *	tuitool mask PROJECT ID		"w h" then one line of hex per row
 *	tuitool info PROJECT ID		"state revision author"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "s4lab.h"

static int
tuitool_add(struct store *st, int argc, char **argv, char **cause)
{
	struct tile	 t;
	unsigned char	*jpeg;
	size_t		 len;
	tjhandle	 tj;
	char		 hash[65];
	int		 i, w, h, sub, cs;
	int64_t		 src;

	if ((tj = tjInitDecompress()) == NULL)
		return (set_cause(cause, "tjInitDecompress"));
	for (i = 0; i < argc; i++) {
		if ((jpeg = read_file(argv[i], &len, 1 << 24, cause)) == NULL)
			return (-1);
		if (tjDecompressHeader3(tj, jpeg, len, &w, &h, &sub,
		    &cs) != 0)
			return (set_cause(cause, "%s: not a JPEG", argv[i]));
		sha256_hex(jpeg, len, hash);
		if ((src = store_source_add(st, argv[i], w, h, hash,
		    cause)) < 0)
			return (-1);
		memset(&t, 0, sizeof t);
		t.source_id = src;
		t.w = w;
		t.h = h;
		t.jpeg = jpeg;
		t.jpeg_len = len;
		if (store_tile_add(st, &t, cause) != 0)
			return (-1);
		printf("%lld\n", (long long)t.id);
		free(jpeg);
	}
	tjDestroy(tj);
	return (0);
}

static int
tuitool_mask(struct store *st, int64_t id, int info, char **cause)
{
	struct tile	 t;
	uint8_t		*mask;
	int		 x, y;

	memset(&t, 0, sizeof t);
	if (store_tile_get(st, id, &t, cause) != 0)
		return (-1);
	if (info) {
		printf("%d %d %s\n", t.state, t.revision,
		    t.author != NULL ? t.author : "-");
		tile_free(&t);
		return (0);
	}
	mask = xmalloc((size_t)t.w * t.h);
	if (store_label_get(st, id, mask, (size_t)t.w * t.h, cause) < 0)
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
		fprintf(stderr, "usage: tuitool add|mask|info PROJECT ...\n");
		return (2);
	}
	if ((st = store_open(argv[2], 0, &cause)) == NULL) {
		fprintf(stderr, "tuitool: %s\n", cause);
		return (1);
	}
	if (strcmp(argv[1], "add") == 0)
		rc = tuitool_add(st, argc - 3, argv + 3, &cause);
	else if (strcmp(argv[1], "mask") == 0)
		rc = tuitool_mask(st, strtoll(argv[3], NULL, 10), 0, &cause);
	else if (strcmp(argv[1], "info") == 0)
		rc = tuitool_mask(st, strtoll(argv[3], NULL, 10), 1, &cause);
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
