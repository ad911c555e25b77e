/*
 * Frames to sixel, through libsixel.
 *
 * libsixel's own quantiser (what img2sixel runs) builds its palette with a
 * full-precision histogram and diffuses the error, which costs tens of
 * milliseconds a frame.  A frame here is redrawn on every stroke, so the
 * palette is made in a faster way and libsixel is handed indexed pixels
 * (SIXEL_PIXELFORMAT_PAL8) to encode:
 *
 *  - a histogram of the frame over 5-5-5 bit colour bins, with the sum of
 *    the exact colours in each bin;
 *  - median cut over the occupied bins (split the box with the most pixels
 *    times its widest side at the pixel-weighted median) into at most
 *    SIXEL_COLOURS boxes;
 *  - each box's colour is the mean of its pixels, and every bin maps to the
 *    box it ended in, so mapping a pixel is one table lookup.
 *
 * The error is that of the 15-bit bins plus the box spread; aerial photos
 * come out within a few levels per channel (see tests/e2e/sixel-xterm.sh).
 *
 * Screen safety: the image is cut to a multiple of 6 rows and the final
 * graphics newline ('-') is removed, so the cursor never moves below the
 * image's last band and the screen cannot scroll when the image ends on
 * the row above the last.  Sixel display mode (DECSDM, which would pin
 * images to the top-left corner and never scroll) is left alone: terminals
 * disagree about which of its two states is which, and a scrolling image
 * placed at the cursor behaves the same everywhere.  The cursor is saved
 * before (DECSC), placed at the image's cell, and restored after (DECRC):
 * terminals disagree about where it is left after an image.
 */
#include <stdlib.h>
#include <string.h>

#include <sixel.h>

#include "ui.h"

#define SIXEL_COLOURS	256
#define SIXEL_BINS	32768
/* A frame larger than this is refused (tmux image-sixel.c keeps a limit
 * for the same reason: a bad size must not allocate gigabytes). */
#define SIXEL_MAX_SIDE	8192

struct sixel_box {
	int	 first, n;	/* range in the sorted bin list */
	uint32_t count;		/* pixels */
	int	 lo[3], hi[3];	/* bounds in bin units */
};

struct sixel_enc {
	uint32_t	*count;		/* [SIXEL_BINS] */
	uint32_t	*sum;		/* [SIXEL_BINS][3] */
	uint16_t	*bins;		/* occupied bins */
	uint8_t		*lut;		/* bin -> palette index */
	uint8_t		*idx;		/* indexed pixels */
	size_t		 idxsize;
	unsigned char	 palette[SIXEL_COLOURS * 3];
	int		 ncolours;
	struct buf	*out;
	int		 libsixel;	/* encode with libsixel's encoder */

	/* One band: for each colour, the columns where it is set and the
	 * six-bit value there (column << 6 | value), in column order. */
	uint32_t	*ent;		/* [SIXEL_COLOURS][width] */
	int		 n[SIXEL_COLOURS];
	int		 width;
};

/* Create an encoder; its buffers are reused frame after frame. */
struct sixel_enc *
sixel_enc_new(void)
{
	struct sixel_enc	*se;

	se = xcalloc(1, sizeof *se);
	se->count = xcalloc(SIXEL_BINS, sizeof *se->count);
	se->sum = xcalloc(SIXEL_BINS * 3, sizeof *se->sum);
	se->bins = xcalloc(SIXEL_BINS, sizeof *se->bins);
	se->lut = xcalloc(SIXEL_BINS, 1);
	return (se);
}

/* Free an encoder. */
void
sixel_enc_free(struct sixel_enc *se)
{
	if (se == NULL)
		return;
	free(se->count);
	free(se->sum);
	free(se->bins);
	free(se->lut);
	free(se->idx);
	free(se->ent);
	free(se);
}

/* Encode with libsixel's own encoder (slower; for comparison). */
void
sixel_enc_use_libsixel(struct sixel_enc *se, int on)
{
	se->libsixel = on;
}

/* The 5-5-5 bin of an RGB pixel. */
static inline int
sixel_bin(const uint8_t *p)
{
	return (((p[0] >> 3) << 10) | ((p[1] >> 3) << 5) | (p[2] >> 3));
}

static inline int
sixel_bin_axis(int bin, int axis)
{
	return ((bin >> (10 - 5 * axis)) & 31);
}

/* Recompute a box's bounds and pixel count from its bins. */
static void
sixel_box_shrink(struct sixel_enc *se, struct sixel_box *box)
{
	int	i, a, v;

	box->count = 0;
	for (a = 0; a < 3; a++) {
		box->lo[a] = 31;
		box->hi[a] = 0;
	}
	for (i = box->first; i < box->first + box->n; i++) {
		box->count += se->count[se->bins[i]];
		for (a = 0; a < 3; a++) {
			v = sixel_bin_axis(se->bins[i], a);
			if (v < box->lo[a])
				box->lo[a] = v;
			if (v > box->hi[a])
				box->hi[a] = v;
		}
	}
}

/* The widest side of a box and its length. */
static int
sixel_box_axis(const struct sixel_box *box, int *len)
{
	int	a, best = 0;

	*len = -1;
	for (a = 0; a < 3; a++) {
		if (box->hi[a] - box->lo[a] > *len) {
			*len = box->hi[a] - box->lo[a];
			best = a;
		}
	}
	return (best);
}

/*
 * Split a box at the pixel-weighted median of its widest side: count its
 * pixels by value on that side, find the median value (below the top, so
 * that neither half is empty) and partition the bins around it.  Returns
 * -1 if the box holds a single bin.
 */
static int
sixel_box_split(struct sixel_enc *se, struct sixel_box *box,
    struct sixel_box *new)
{
	uint32_t	 by[32], half, acc = 0;
	uint16_t	*b = se->bins + box->first, t;
	int		 axis, len, i, j, v;

	if (box->n < 2)
		return (-1);
	axis = sixel_box_axis(box, &len);
	memset(by, 0, sizeof by);
	for (i = 0; i < box->n; i++)
		by[sixel_bin_axis(b[i], axis)] += se->count[b[i]];
	half = box->count / 2;
	for (v = box->lo[axis]; v < box->hi[axis] - 1; v++) {
		acc += by[v];
		if (acc >= half)
			break;
	}

	/* Bins with value <= v first. */
	for (i = 0, j = box->n - 1; i <= j; ) {
		if (sixel_bin_axis(b[i], axis) <= v)
			i++;
		else {
			t = b[i];
			b[i] = b[j];
			b[j--] = t;
		}
	}
	new->first = box->first + i;
	new->n = box->n - i;
	box->n = i;
	sixel_box_shrink(se, box);
	sixel_box_shrink(se, new);
	return (0);
}

/* Build the palette and the bin table for a w x h rectangle of pixels,
 * stride pixels from one row to the next. */
static void
sixel_palette(struct sixel_enc *se, const uint8_t *rgb, int stride, int w,
    int h)
{
	struct sixel_box	 boxes[SIXEL_COLOURS];
	const uint8_t		*p;
	uint64_t		 score, best;
	int			 nbins = 0, nboxes, b, pick, len, k, bin, j, x, y;
	uint64_t		 s[3];
	uint32_t		 c;

	/* Histogram. */
	memset(se->count, 0, SIXEL_BINS * sizeof *se->count);
	memset(se->sum, 0, SIXEL_BINS * 3 * sizeof *se->sum);
	for (y = 0; y < h; y++) {
		p = rgb + (size_t)y * stride * 3;
		for (x = 0; x < w; x++, p += 3) {
			bin = sixel_bin(p);
			se->count[bin]++;
			se->sum[bin * 3] += p[0];
			se->sum[bin * 3 + 1] += p[1];
			se->sum[bin * 3 + 2] += p[2];
		}
	}
	for (bin = 0; bin < SIXEL_BINS; bin++) {
		if (se->count[bin] != 0)
			se->bins[nbins++] = (uint16_t)bin;
	}

	/* Median cut: split the box with most pixels times widest side. */
	boxes[0].first = 0;
	boxes[0].n = nbins;
	sixel_box_shrink(se, &boxes[0]);
	nboxes = 1;
	while (nboxes < SIXEL_COLOURS) {
		pick = -1;
		best = 0;
		for (b = 0; b < nboxes; b++) {
			if (boxes[b].n < 2)
				continue;
			sixel_box_axis(&boxes[b], &len);
			score = (uint64_t)boxes[b].count * (uint64_t)(len + 1);
			if (pick == -1 || score > best) {
				pick = b;
				best = score;
			}
		}
		if (pick == -1)
			break;
		if (sixel_box_split(se, &boxes[pick], &boxes[nboxes]) != 0)
			break;
		nboxes++;
	}

	/* Each box's mean colour; its bins map to it. */
	for (b = 0; b < nboxes; b++) {
		s[0] = s[1] = s[2] = 0;
		c = 0;
		for (k = boxes[b].first; k < boxes[b].first + boxes[b].n;
		    k++) {
			bin = se->bins[k];
			se->lut[bin] = (uint8_t)b;
			c += se->count[bin];
			for (j = 0; j < 3; j++)
				s[j] += se->sum[bin * 3 + j];
		}
		for (j = 0; j < 3; j++) {
			se->palette[b * 3 + j] = c == 0 ? 0 :
			    (uint8_t)((s[j] + c / 2) / c);
		}
	}
	se->ncolours = nboxes;
}

/* libsixel's write callback: append to the frame's output. */
static int
sixel_write_cb(char *data, int size, void *priv)
{
	struct sixel_enc	*se = priv;

	buf_add(se->out, data, (size_t)size);
	return (size);
}

/*
 * Drop a graphics newline just before the final ST: it would move the
 * cursor below the image and scroll a screen whose last row it reaches.
 */
static void
sixel_trim(struct buf *out, size_t start)
{
	size_t	len = out->len - start;
	char	*p = out->p + start;

	if (len < 3 || p[len - 2] != '\033' || p[len - 1] != '\\')
		return;
	if (p[len - 3] == '-') {
		p[len - 3] = '\033';
		p[len - 2] = '\\';
		out->len--;
	}
}

/* Append a decimal number. */
static char *
sixel_put_int(char *p, int v)
{
	char	t[12];
	int	n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = t[--n];
	return (p);
}

/* Append count repeats of one sixel character, run-length encoded. */
static char *
sixel_put_run(char *p, int ch, int count)
{
	if (count > 3) {
		*p++ = '!';
		p = sixel_put_int(p, count);
		*p++ = (char)ch;
		return (p);
	}
	while (count-- > 0)
		*p++ = (char)ch;
	return (p);
}

/*
 * Encode one band (six rows from y) of the indexed image.  The columns of
 * each colour are gathered in one pass over the pixels, so the work is
 * proportional to the pixels, not to colours times width.
 */
static void
sixel_band(struct sixel_enc *se, int w, int y, int rows, struct buf *out)
{
	uint8_t		 used[SIXEL_COLOURS];
	const uint8_t	*col;
	uint32_t	*ent, e;
	char		*p;
	int		 nused = 0, x, r, c, k, n, run, cur, first = 1;

	for (x = 0; x < w; x++) {
		col = se->idx + (size_t)y * w + x;
		for (r = 0; r < rows; r++, col += w) {
			c = *col;
			ent = se->ent + (size_t)c * se->width;
			if ((n = se->n[c]) == 0)
				used[nused++] = (uint8_t)c;
			else if ((ent[n - 1] >> 6) == (uint32_t)x) {
				ent[n - 1] |= 1U << r;
				continue;
			}
			ent[n] = ((uint32_t)x << 6) | (1U << r);
			se->n[c] = n + 1;
		}
	}

	for (k = 0; k < nused; k++) {
		c = used[k];
		n = se->n[c];
		ent = se->ent + (size_t)c * se->width;
		/* At most 6 bytes per column plus the colour. */
		buf_reserve_tail(out, (size_t)n * 12 + 16);
		p = out->p + out->len;
		if (!first)
			*p++ = '$';
		first = 0;
		*p++ = '#';
		p = sixel_put_int(p, c);
		x = 0;
		for (r = 0; r < n; r = cur) {
			e = ent[r];
			if ((int)(e >> 6) > x)
				p = sixel_put_run(p, '?', (int)(e >> 6) - x);
			/* Same value in the next columns: one run. */
			for (cur = r + 1; cur < n && ent[cur] == e +
			    ((uint32_t)(cur - r) << 6); cur++)
				;
			run = cur - r;
			p = sixel_put_run(p, 63 + (int)(e & 63), run);
			x = (int)(e >> 6) + run;
		}
		out->len = (size_t)(p - out->p);
		se->n[c] = 0;
	}
}

/* Encode the indexed image with the palette, DCS to ST. */
static void
sixel_body(struct sixel_enc *se, int w, int h, struct buf *out)
{
	int	c, y, j;

	if (se->width < w) {
		se->ent = xreallocarray(se->ent, SIXEL_COLOURS,
		    (size_t)w * sizeof *se->ent);
		se->width = w;
	}
	memset(se->n, 0, sizeof se->n);

	/* P2 = 1: pixels not drawn keep what is under them. */
	buf_printf(out, "\033P0;1;0q\"1;1;%d;%d", w, h);
	for (c = 0; c < se->ncolours; c++) {
		buf_printf(out, "#%d;2", c);
		for (j = 0; j < 3; j++)
			buf_printf(out, ";%d", (se->palette[c * 3 + j] * 100 +
			    127) / 255);
	}
	for (y = 0; y < h; y += 6) {
		if (y > 0)
			buf_add(out, "-", 1);
		sixel_band(se, w, y, h - y < 6 ? h - y : 6, out);
	}
	buf_add(out, "\033\\", 2);
}

/* Encode the indexed image with libsixel. */
static int
sixel_body_libsixel(struct sixel_enc *se, int w, int h, struct buf *out)
{
	sixel_output_t	*so = NULL;
	sixel_dither_t	*sd = NULL;
	int		 ret = -1;

	if (sixel_output_new(&so, sixel_write_cb, se, NULL) != SIXEL_OK)
		goto out;
	if (sixel_dither_new(&sd, se->ncolours, NULL) != SIXEL_OK)
		goto out;
	sixel_dither_set_palette(sd, se->palette);
	sixel_dither_set_pixelformat(sd, SIXEL_PIXELFORMAT_PAL8);
	se->out = out;
	if (SIXEL_FAILED(sixel_encode(se->idx, w, h, 0, sd, so)))
		goto out;
	ret = 0;
out:
	if (sd != NULL)
		sixel_dither_unref(sd);
	if (so != NULL)
		sixel_output_unref(so);
	se->out = NULL;
	return (ret);
}

/*
 * Append the w x h rectangle of fr at (x, y) as a sixel image placed at
 * cell (row, col), 0-based.  h is a multiple of 6.  Returns -1 if it
 * cannot be encoded; out then holds nothing new.
 */
static int
sixel_enc_rect(struct sixel_enc *se, const struct frame *fr, int x, int y,
    int w, int h, int row, int col, struct buf *out)
{
	const uint8_t	*p, *rgb;
	size_t		 npx, start = out->len, body;
	uint8_t		*q;
	int		 i, j;

	if (w <= 0 || h <= 0 || w > SIXEL_MAX_SIDE || h > SIXEL_MAX_SIDE ||
	    x < 0 || y < 0 || x + w > fr->w || y + h > fr->h || h % 6 != 0)
		return (-1);
	npx = (size_t)w * h;
	rgb = fr->rgb + ((size_t)y * fr->w + x) * 3;

	/* Quantise. */
	sixel_palette(se, rgb, fr->w, w, h);
	if (se->idxsize < npx) {
		se->idx = xreallocarray(se->idx, npx, 1);
		se->idxsize = npx;
	}
	q = se->idx;
	for (j = 0; j < h; j++) {
		p = rgb + (size_t)j * fr->w * 3;
		for (i = 0; i < w; i++, p += 3)
			*q++ = se->lut[sixel_bin(p)];
	}

	/* Encode between the cursor moves. */
	buf_printf(out, "\0337\033[%d;%dH", row + 1, col + 1);
	body = out->len;
	if (se->libsixel) {
		if (sixel_body_libsixel(se, w, h, out) != 0) {
			out->len = start;
			return (-1);
		}
	} else
		sixel_body(se, w, h, out);
	sixel_trim(out, body);
	buf_printf(out, "\0338");
	log_debug(LOG_SIXEL, "%dx%d at %d,%d: %d colours, %zu bytes", w, h,
	    row, col, se->ncolours, out->len - start);
	return (0);
}

/*
 * Append the sixel image of fr, placed at cell (row, col) (0-based), to
 * out.  Returns -1 if it cannot be encoded; out then holds nothing new.
 */
int
sixel_enc_frame(struct sixel_enc *se, const struct frame *fr, int row,
    int col, struct buf *out)
{
	return (sixel_enc_rect(se, fr, 0, 0, fr->w, fr->h - fr->h % 6, row,
	    col, out));
}

/*
 * Append only the part of fr's image (as sixel_enc_frame draws it at cell
 * (row, col)) that covers frame pixels x0..x1-1, y0..y1-1, for a redraw
 * after a small change.  The part starts on a cell boundary, since an
 * image can only be placed at a cell, and its height is a multiple of 6
 * that ends within the whole image: at the bottom it starts a cell or a
 * few higher instead.  Returns -1 if there is nothing to draw.
 */
int
sixel_enc_region(struct sixel_enc *se, const struct frame *fr, int row,
    int col, int cell_w, int cell_h, int x0, int y0, int x1, int y1,
    struct buf *out)
{
	int	h6 = fr->h - fr->h % 6, xs, ys, h;

	if (cell_w <= 0 || cell_h <= 0)
		return (-1);
	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > fr->w ? fr->w : x1;
	y1 = y1 > h6 ? h6 : y1;
	if (x0 >= x1 || y0 >= y1)
		return (-1);
	xs = x0 - x0 % cell_w;
	ys = y0 - y0 % cell_h;
	h = (y1 - ys + 5) / 6 * 6;
	if (ys + h > h6) {
		/* Up a cell at a time until the rest is whole bands. */
		while (ys > 0 && (h6 - ys) % 6 != 0)
			ys -= cell_h;
		if (ys < 0)
			ys = 0;
		h = h6 - ys;
		h -= h % 6;
	}
	return (sixel_enc_rect(se, fr, xs, ys, x1 - xs, h, row + ys / cell_h,
	    col + xs / cell_w, out));
}
