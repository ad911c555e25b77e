/*
 * mkproject: synthetic projects and label commits for the trainer's
 * end-to-end tests.
 *   mkproject new PATH TILE NLAB NVAL NUNL
 *   mkproject label PATH TILE_ID CLASS
 */
#include <stdlib.h>
#include <string.h>

#include "s4lab.h"
#include "synth.h"

int
main(int argc, char **argv)
{
	struct store	*st;
	char		*cause = NULL;

	if (argc == 7 && strcmp(argv[1], "new") == 0) {
		synth_project(argv[2], atoi(argv[3]), atoi(argv[4]),
		    atoi(argv[5]), atoi(argv[6]));
		return (0);
	}
	if (argc == 5 && strcmp(argv[1], "label") == 0) {
		if ((st = store_open(argv[2], 0, &cause)) == NULL)
			fatalx("%s", cause);
		synth_label(st, strtoll(argv[3], NULL, 10), atoi(argv[4]));
		store_close(st);
		return (0);
	}
	fprintf(stderr, "usage: mkproject new PATH TILE NLAB NVAL NUNL\n"
	    "       mkproject label PATH TILE_ID CLASS\n");
	return (2);
}
