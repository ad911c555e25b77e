/*
 * A progress bar with an estimate of the time left, drawn on stderr when
 * it is a terminal and at most ten times a second.  When stderr is not a
 * terminal nothing is drawn: logs stay clean.
 */
#include <string.h>
#include <unistd.h>

#include "s4lab.h"

/* Format a bar and an estimate into buf, using width columns. */
void
progress_format(char *buf, size_t size, int width, double fraction,
    double eta)
{
	char	 bar[256], tail[64];
	int	 cells, filled, i;

	if (fraction < 0)
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	if (eta >= 0 && eta < 360000)
		snprintf(tail, sizeof tail, " %3d%% ETA %dm%02ds",
		    (int)(fraction * 100), (int)eta / 60, (int)eta % 60);
	else
		snprintf(tail, sizeof tail, " %3d%%", (int)(fraction * 100));
	cells = width - (int)strlen(tail) - 2;
	if (cells > (int)sizeof bar - 1)
		cells = (int)sizeof bar - 1;
	if (cells < 1) {
		snprintf(buf, size, "%s", tail + 1);
		return;
	}
	filled = (int)(fraction * cells + 0.5);
	for (i = 0; i < cells; i++)
		bar[i] = i < filled ? '#' : '-';
	bar[cells] = '\0';
	snprintf(buf, size, "[%s]%s", bar, tail);
}

static void
progress_draw(struct progress *pg)
{
	char	line[128];
	double	elapsed, fraction, eta = -1;

	fraction = pg->total > 0 ? pg->done / pg->total : 0;
	elapsed = now_seconds() - pg->start;
	if (fraction > 0.01 && elapsed > 0.5)
		eta = elapsed * (1 - fraction) / fraction;
	progress_format(line, sizeof line, 50, fraction, eta);
	fprintf(stderr, "\r%-12.12s %s", pg->label, line);
	fflush(stderr);
	pg->last_draw = now_seconds();
}

/* Start a bar for total units of work. */
void
progress_begin(struct progress *pg, const char *label, double total)
{
	memset(pg, 0, sizeof *pg);
	pg->label = label;
	pg->total = total;
	pg->start = now_seconds();
	pg->tty = isatty(STDERR_FILENO);
	if (pg->tty)
		progress_draw(pg);
}

/* Record that done units are finished; redraw if due. */
void
progress_set(struct progress *pg, double done)
{
	pg->done = done;
	if (pg->tty && now_seconds() - pg->last_draw >= 0.1)
		progress_draw(pg);
}

/* Draw the final state and end the line. */
void
progress_end(struct progress *pg)
{
	if (!pg->tty)
		return;
	pg->done = pg->total;
	progress_draw(pg);
	fputc('\n', stderr);
}
