/*
 * Painting tools on a label mask: a round brush, strokes, the eraser
 * (painting MASK_VOID), flood fill, and undo/redo.
 *
 * A mask is w x h bytes, row-major, one class index per pixel or MASK_VOID.
 * The brush of radius r covers the pixels whose centre lies within r of the
 * brush centre: (x - cx)^2 + (y - cy)^2 <= r^2, so radius 0 is one pixel.
 * A stroke from (x0, y0) to (x1, y1) stamps the brush at every point of the
 * Bresenham line between them, both ends included.
 *
 * Flood fill replaces the 4-connected region of pixels that hold the same
 * value as the pixel under the cursor.  A void (not labelled) pixel fills
 * the same way: the region is every void pixel 4-connected to it, so on a
 * tile with no label yet a fill labels the whole tile (the quick way to set
 * the background class), and on a partly painted tile it fills the hole
 * bounded by painted pixels and the tile's edge.
 *
 * Undo keeps, per change, the smallest rectangle that holds every changed
 * pixel, with its bytes before and after.  A stroke over a few pixels costs a
 * few bytes; an accepted prediction costs two whole masks.  The stack is
 * bounded in bytes: the oldest changes are dropped first, the newest is
 * always kept.
 */
#include <stdlib.h>
#include <string.h>

#include "ui.h"

struct tools_change {
	int		 x, y, w, h;
	uint8_t		*before;
	uint8_t		*after;
};

struct tools_undo {
	struct tools_change	*c;
	size_t			 n;	/* changes held */
	size_t			 pos;	/* changes applied: undo pops pos-1 */
	size_t			 cap;
	size_t			 bytes;
	size_t			 limit;
};

/* Stamp the round brush at (cx, cy); returns the pixels changed. */
size_t
tools_stamp(uint8_t *mask, int w, int h, int cx, int cy, int r, uint8_t v)
{
	int	x, y, x0, x1, y0, y1, dy;
	size_t	changed = 0;
	long	r2;

	if (r < 0)
		r = 0;
	r2 = (long)r * r;
	y0 = cy - r < 0 ? 0 : cy - r;
	y1 = cy + r >= h ? h - 1 : cy + r;
	x0 = cx - r < 0 ? 0 : cx - r;
	x1 = cx + r >= w ? w - 1 : cx + r;
	for (y = y0; y <= y1; y++) {
		dy = y - cy;
		for (x = x0; x <= x1; x++) {
			if ((long)(x - cx) * (x - cx) + (long)dy * dy > r2)
				continue;
			if (mask[(size_t)y * w + x] != v) {
				mask[(size_t)y * w + x] = v;
				changed++;
			}
		}
	}
	return (changed);
}

/*
 * Stamp the brush along the line from (x0, y0) to (x1, y1), both ends
 * included, stepping one pixel at a time (Bresenham); returns the pixels
 * changed.  Points outside the mask are allowed: only the part of each
 * stamp inside it is painted.
 */
size_t
tools_line(uint8_t *mask, int w, int h, int x0, int y0, int x1, int y1,
    int r, uint8_t v)
{
	int	dx, dy, sx, sy, err, e2;
	size_t	changed = 0;

	dx = abs(x1 - x0);
	dy = -abs(y1 - y0);
	sx = x0 < x1 ? 1 : -1;
	sy = y0 < y1 ? 1 : -1;
	err = dx + dy;
	for (;;) {
		changed += tools_stamp(mask, w, h, x0, y0, r, v);
		if (x0 == x1 && y0 == y1)
			break;
		e2 = 2 * err;
		if (e2 >= dy) {
			err += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			err += dx;
			y0 += sy;
		}
	}
	return (changed);
}

/*
 * Fill the 4-connected region of pixels equal to the one at (x, y) with v;
 * returns the pixels changed (0 if (x, y) is outside or already v).  Scans
 * whole runs of a row at a time with an explicit stack, so memory is
 * bounded by the mask, not by recursion depth.
 */
size_t
tools_fill(uint8_t *mask, int w, int h, int x, int y, uint8_t v)
{
	uint8_t	 old;
	int	*stack, l, rr, yy, i;
	size_t	 n = 0, cap, changed = 0;

	if (x < 0 || y < 0 || x >= w || y >= h)
		return (0);
	old = mask[(size_t)y * w + x];
	if (old == v)
		return (0);

	cap = 64;
	stack = xreallocarray(NULL, cap, 2 * sizeof *stack);
	stack[0] = x;
	stack[1] = y;
	n = 1;
	while (n > 0) {
		n--;
		x = stack[2 * n];
		y = stack[2 * n + 1];
		if (mask[(size_t)y * w + x] != old)
			continue;

		/* Widen to the whole run of old pixels on this row. */
		for (l = x; l > 0 && mask[(size_t)y * w + l - 1] == old; l--)
			;
		for (rr = x; rr < w - 1 && mask[(size_t)y * w + rr + 1] == old;
		    rr++)
			;
		memset(mask + (size_t)y * w + l, v, rr - l + 1);
		changed += rr - l + 1;

		/* Seed the rows above and below once per run there. */
		for (yy = y - 1; yy <= y + 1; yy += 2) {
			if (yy < 0 || yy >= h)
				continue;
			for (i = l; i <= rr; i++) {
				if (mask[(size_t)yy * w + i] != old)
					continue;
				if (i > l &&
				    mask[(size_t)yy * w + i - 1] == old)
					continue;
				if (n == cap) {
					cap *= 2;
					stack = xreallocarray(stack, cap,
					    2 * sizeof *stack);
				}
				stack[2 * n] = i;
				stack[2 * n + 1] = yy;
				n++;
			}
		}
	}
	free(stack);
	return (changed);
}

/* Share of each class in a mask: counts[256] gets the pixel counts. */
void
tools_count(const uint8_t *mask, int w, int h, size_t *counts)
{
	size_t	i, n = (size_t)w * h;

	memset(counts, 0, 256 * sizeof *counts);
	for (i = 0; i < n; i++)
		counts[mask[i]]++;
}

/* A new undo stack holding at most limit bytes of changes (0: 64 MiB). */
struct tools_undo *
tools_undo_new(size_t limit)
{
	struct tools_undo	*u;

	u = xcalloc(1, sizeof *u);
	u->limit = limit == 0 ? 64 << 20 : limit;
	return (u);
}

static void
tools_change_free(struct tools_undo *u, struct tools_change *c)
{
	u->bytes -= 2 * (size_t)c->w * c->h;
	free(c->before);
	free(c->after);
}

/* Forget every change (a new tile). */
void
tools_undo_clear(struct tools_undo *u)
{
	size_t	i;

	for (i = 0; i < u->n; i++)
		tools_change_free(u, &u->c[i]);
	u->n = u->pos = 0;
}

void
tools_undo_free(struct tools_undo *u)
{
	if (u == NULL)
		return;
	tools_undo_clear(u);
	free(u->c);
	free(u);
}

size_t
tools_undo_bytes(const struct tools_undo *u)
{
	return (u->bytes);
}

int
tools_can_undo(const struct tools_undo *u)
{
	return (u->pos > 0);
}

int
tools_can_redo(const struct tools_undo *u)
{
	return (u->pos < u->n);
}

/* Copy a rectangle of a w-wide mask into a packed rw x rh buffer. */
static void
tools_rect_save(uint8_t *dst, const uint8_t *mask, int w, int rx, int ry,
    int rw, int rh)
{
	int	y;

	for (y = 0; y < rh; y++)
		memcpy(dst + (size_t)y * rw, mask + (size_t)(ry + y) * w + rx,
		    rw);
}

/*
 * Put back one side of a change (to: before for undo, after for redo) on
 * the pixels the change changed, and only on those: other pixels in its
 * rectangle may have been changed since by another expert.
 */
static void
tools_rect_load(uint8_t *mask, const struct tools_change *c,
    const uint8_t *to, int w)
{
	const uint8_t	*from = to == c->before ? c->after : c->before;
	size_t		 i;
	int		 x, y;

	for (y = 0; y < c->h; y++) {
		for (x = 0; x < c->w; x++) {
			i = (size_t)y * c->w + x;
			if (from[i] != to[i])
				mask[(size_t)(c->y + y) * w + c->x + x] = to[i];
		}
	}
}

/*
 * Record the change from before to after (both w x h): keeps the bounding
 * rectangle of the differing pixels.  Returns 0 if they are identical
 * (nothing recorded), 1 otherwise.  Drops any changes that were undone, then
 * the oldest ones while over the limit.
 */
int
tools_undo_push(struct tools_undo *u, const uint8_t *before,
    const uint8_t *after, int w, int h)
{
	struct tools_change	*c;
	int			 x, y, minx = w, miny = h, maxx = -1, maxy = -1;
	size_t			 drop;

	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			if (before[(size_t)y * w + x] ==
			    after[(size_t)y * w + x])
				continue;
			if (x < minx)
				minx = x;
			if (x > maxx)
				maxx = x;
			if (y < miny)
				miny = y;
			maxy = y;
		}
	}
	if (maxx < 0)
		return (0);

	while (u->n > u->pos)
		tools_change_free(u, &u->c[--u->n]);
	if (u->n == u->cap) {
		u->cap = u->cap == 0 ? 16 : u->cap * 2;
		u->c = xreallocarray(u->c, u->cap, sizeof *u->c);
	}
	c = &u->c[u->n++];
	c->x = minx;
	c->y = miny;
	c->w = maxx - minx + 1;
	c->h = maxy - miny + 1;
	c->before = xmalloc((size_t)c->w * c->h);
	c->after = xmalloc((size_t)c->w * c->h);
	tools_rect_save(c->before, before, w, c->x, c->y, c->w, c->h);
	tools_rect_save(c->after, after, w, c->x, c->y, c->w, c->h);
	u->bytes += 2 * (size_t)c->w * c->h;
	u->pos = u->n;

	for (drop = 0; drop < u->n - 1 && u->bytes > u->limit; drop++)
		tools_change_free(u, &u->c[drop]);
	if (drop > 0) {
		memmove(u->c, u->c + drop, (u->n - drop) * sizeof *u->c);
		u->n -= drop;
		u->pos = u->n;
	}
	return (1);
}

/* Undo the newest applied change on mask; 0 if there was none. */
int
tools_undo(struct tools_undo *u, uint8_t *mask, int w, int h)
{
	struct tools_change	*c;

	if (u->pos == 0)
		return (0);
	c = &u->c[--u->pos];
	if (c->x + c->w > w || c->y + c->h > h)
		fatalx("tools_undo: change outside a %dx%d mask", w, h);
	tools_rect_load(mask, c, c->before, w);
	return (1);
}

/* Redo the change undone last on mask; 0 if there was none. */
int
tools_redo(struct tools_undo *u, uint8_t *mask, int w, int h)
{
	struct tools_change	*c;

	if (u->pos == u->n)
		return (0);
	c = &u->c[u->pos++];
	if (c->x + c->w > w || c->y + c->h > h)
		fatalx("tools_redo: change outside a %dx%d mask", w, h);
	tools_rect_load(mask, c, c->after, w);
	return (1);
}
