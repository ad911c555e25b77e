/*
 * Frames to Unicode half blocks: each cell shows two frame pixels, the
 * upper one as the foreground of U+2580 (upper half block) and the lower
 * one as the background.  Colours are 24-bit SGR where the terminal takes
 * them, else the nearest of xterm's 256 (the 6x6x6 cube or the grey ramp).
 *
 * Each row starts with an absolute cursor move and holds exactly fr->w
 * cells, so nothing is written outside the area whatever the terminal
 * does at the right margin; an odd last pixel row is left out.
 */
#include <stdlib.h>
#include <string.h>

#include "ui.h"

#define BLOCKS_UPPER	"\342\226\200"	/* U+2580 in UTF-8 */

/* The levels of xterm's 6x6x6 colour cube. */
static const int blocks_cube[6] = { 0, 95, 135, 175, 215, 255 };

/* Nearest cube level of a channel value. */
static int
blocks_level(int v)
{
	if (v < 48)
		return (0);
	if (v < 115)
		return (1);
	return ((v - 35) / 40);
}

/* The xterm 256-colour index nearest to an RGB colour. */
int
blocks_colour256(const uint8_t *p)
{
	int	r, g, b, cube, grey, gi, dc, dg, avg, j;

	r = blocks_level(p[0]);
	g = blocks_level(p[1]);
	b = blocks_level(p[2]);
	cube = 16 + 36 * r + 6 * g + b;

	avg = (p[0] + p[1] + p[2]) / 3;
	gi = avg > 238 ? 23 : (avg < 8 ? 0 : (avg - 8) / 10);
	grey = 8 + 10 * gi;

	dc = dg = 0;
	for (j = 0; j < 3; j++) {
		int	c = blocks_cube[j == 0 ? r : j == 1 ? g : b];

		dc += (p[j] - c) * (p[j] - c);
		dg += (p[j] - grey) * (p[j] - grey);
	}
	return (dg < dc ? 232 + gi : cube);
}

/* Write a number of 0..255 in decimal. */
static char *
blocks_put(char *p, int v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return (p);
}

/* Append the SGR for one cell's two colours. */
static void
blocks_sgr(struct buf *out, const uint8_t *up, const uint8_t *lo,
    int truecolor)
{
	char	*p;
	int	 j;

	buf_reserve_tail(out, 64);
	p = out->p + out->len;
	if (truecolor) {
		memcpy(p, "\033[38;2", 6);
		p += 6;
		for (j = 0; j < 3; j++) {
			*p++ = ';';
			p = blocks_put(p, up[j]);
		}
		memcpy(p, ";48;2", 5);
		p += 5;
		for (j = 0; j < 3; j++) {
			*p++ = ';';
			p = blocks_put(p, lo[j]);
		}
	} else {
		memcpy(p, "\033[38;5;", 7);
		p = blocks_put(p + 7, blocks_colour256(up));
		memcpy(p, ";48;5;", 6);
		p = blocks_put(p + 6, blocks_colour256(lo));
	}
	*p++ = 'm';
	out->len = (size_t)(p - out->p);
}

/*
 * Append fr as half blocks with its top-left at cell (row, col), 0-based:
 * fr->w columns, fr->h / 2 rows.  The cursor is saved before and restored
 * after, and the attributes reset.
 */
void
blocks_encode(const struct frame *fr, int row, int col, int truecolor,
    struct buf *out)
{
	const uint8_t	*up, *lo;
	int		 y, x, same;

	if (fr->w <= 0 || fr->h < 2)
		return;
	buf_printf(out, "\0337");
	for (y = 0; y + 1 < fr->h; y += 2) {
		buf_printf(out, "\033[%d;%dH", row + y / 2 + 1, col + 1);
		up = fr->rgb + (size_t)y * fr->w * 3;
		lo = up + (size_t)fr->w * 3;
		for (x = 0; x < fr->w; x++, up += 3, lo += 3) {
			same = (x > 0 && memcmp(up - 3, up, 3) == 0 &&
			    memcmp(lo - 3, lo, 3) == 0);
			if (!same)
				blocks_sgr(out, up, lo, truecolor);
			buf_add(out, BLOCKS_UPPER, sizeof BLOCKS_UPPER - 1);
		}
		buf_printf(out, "\033[0m");
	}
	buf_printf(out, "\0338");
}
