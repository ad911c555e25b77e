/*
 * Tile + masks + view -> the RGB frame the renderers encode.
 *
 * The frame is built in two passes.  The first works in tile space: for
 * every tile pixel, the class shown there (the label, else the prediction,
 * else none) and which of its four sides border a different class.  The
 * second walks the frame: each frame pixel maps to one tile pixel through
 * two lookup tables (one per axis, nearest neighbour), and also knows
 * whether it lies on the left, right, top or bottom edge of that tile
 * pixel's block.  A frame pixel is drawn as outline when it is on a side
 * of its tile pixel that borders another class, so class boundaries stay
 * one frame pixel wide whatever the zoom.  Unlabelled (void) pixels show
 * the tile unchanged.  Last, the cursor: a crosshair and the brush circle,
 * each pixel black or white against what is under it.
 *
 * Scale: fit is the largest integer scale at which the tile fits the frame
 * (a fraction when the tile is larger than the frame); zoom 2 and 4
 * multiply it.  The image sits at the frame's top-left corner; frame
 * pixels beyond the tile are COMPOSE_BG.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"

#define COMPOSE_BG	24
#define COMPOSE_PRED	0x40	/* class came from the prediction */
#define COMPOSE_CLASS	0x3f

#define EDGE_L	0x1
#define EDGE_R	0x2
#define EDGE_T	0x4
#define EDGE_B	0x8

/* Per-class colours, premultiplied by alpha (0..256). */
struct compose_ink {
	int	fill[3];
	int	fill_a;
	int	line[3];
	int	line_a;
};

/* The class shown at tile pixel i: label first, then the prediction. */
static uint8_t
compose_class(const struct view *v, size_t i)
{
	int	n = v->cl != NULL ? v->cl->n : 0;

	if ((v->show & SHOW_LABEL) && v->mask != NULL && v->mask[i] < n)
		return (v->mask[i]);
	if ((v->show & SHOW_PRED) && v->pred != NULL && v->pred[i] < n)
		return (v->pred[i] | COMPOSE_PRED);
	return (MASK_VOID);
}

/* Fill cls and edge for the whole tile; returns 0 if nothing is shown. */
static int
compose_classes(const struct view *v, uint8_t *cls, uint8_t *edge)
{
	size_t	 i;
	int	 x, y, c, any = 0;

	for (i = 0; i < (size_t)v->w * v->h; i++) {
		cls[i] = compose_class(v, i);
		if (cls[i] != MASK_VOID)
			any = 1;
	}
	if (!any)
		return (0);
	for (y = 0; y < v->h; y++) {
		for (x = 0; x < v->w; x++) {
			i = (size_t)y * v->w + x;
			edge[i] = 0;
			if (cls[i] == MASK_VOID)
				continue;
			c = cls[i] & COMPOSE_CLASS;
#define DIFFERS(j) (cls[j] == MASK_VOID || (cls[j] & COMPOSE_CLASS) != c)
			if (x > 0 && DIFFERS(i - 1))
				edge[i] |= EDGE_L;
			if (x < v->w - 1 && DIFFERS(i + 1))
				edge[i] |= EDGE_R;
			if (y > 0 && DIFFERS(i - v->w))
				edge[i] |= EDGE_T;
			if (y < v->h - 1 && DIFFERS(i + v->w))
				edge[i] |= EDGE_B;
#undef DIFFERS
		}
	}
	return (1);
}

/*
 * The inks for each class: the fill at the view's opacity (half of it for
 * a prediction shown under a label), the outline at a higher one, darker
 * than a light class colour and lighter than a dark one.
 */
static void
compose_inks(const struct view *v, struct compose_ink *ink)
{
	struct compose_ink	*in;
	const uint8_t		*rgb;
	float			 op;
	int			 c, k, j, a, luma, line;

	op = v->opacity < 0 ? 0 : v->opacity > 1 ? 1 : v->opacity;
	for (c = 0; c < v->cl->n; c++) {
		rgb = v->cl->c[c].rgb;
		luma = (rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) >> 8;
		for (k = 0; k < 2; k++) {
			in = &ink[c | (k ? COMPOSE_PRED : 0)];
			a = (int)lrintf(op * 256);
			if (k && (v->show & SHOW_LABEL))
				a /= 2;
			in->fill_a = a;
			in->line_a = 128 + a / 2;
			for (j = 0; j < 3; j++) {
				in->fill[j] = rgb[j] * a;
				if (luma > 110)
					line = rgb[j] * 6 / 10;
				else
					line = rgb[j] + (255 - rgb[j]) / 2;
				in->line[j] = line * in->line_a;
			}
		}
	}
}

/*
 * One axis: map each frame coordinate to a tile coordinate (-1 beyond
 * the tile) and flag the first and last frame pixel of each tile pixel.
 */
static void
compose_axis(int n, int tn, int o, float s, int *map, uint8_t *flags,
    uint8_t first, uint8_t last)
{
	int	f, t;

	for (f = 0; f < n; f++) {
		t = o + (int)(f / s);
		map[f] = t < tn ? t : -1;
	}
	for (f = 0; f < n; f++) {
		flags[f] = 0;
		if (map[f] < 0)
			continue;
		if (f == 0 || map[f - 1] != map[f])
			flags[f] |= first;
		if (f == n - 1 || map[f + 1] != map[f])
			flags[f] |= last;
	}
}

/* Work out scale and origin; the pan is clamped to keep the view full. */
static void
compose_place(const struct view *v, struct frame *fr)
{
	float	fit, s;
	int	vis, maxo;

	fit = fminf((float)fr->w / v->w, (float)fr->h / v->h);
	if (fit >= 1)
		fit = floorf(fit);
	s = fit;
	if (v->zoom >= 2)
		s *= v->zoom;
	fr->scale = s;
	fr->ox = fr->oy = 0;
	if (v->zoom < 2)
		return;

	vis = (int)(fr->w / s);
	maxo = v->w - vis > 0 ? v->w - vis : 0;
	fr->ox = v->pan_x < 0 ? 0 : v->pan_x > maxo ? maxo : v->pan_x;
	vis = (int)(fr->h / s);
	maxo = v->h - vis > 0 ? v->h - vis : 0;
	fr->oy = v->pan_y < 0 ? 0 : v->pan_y > maxo ? maxo : v->pan_y;
}

/* Blend one frame row. */
static void
compose_row(uint8_t *out, const uint8_t *src, const uint8_t *crow,
    const uint8_t *erow, const int *xmap, const uint8_t *xflags,
    uint8_t yflags, int n, const struct compose_ink *ink)
{
	const struct compose_ink *in;
	const uint8_t	*p;
	int		 fx, tx, j;
	uint8_t		 c;

	for (fx = 0; fx < n; fx++, out += 3) {
		if ((tx = xmap[fx]) < 0) {
			memset(out, COMPOSE_BG, 3);
			continue;
		}
		p = src + (size_t)tx * 3;
		if (crow == NULL || (c = crow[tx]) == MASK_VOID) {
			out[0] = p[0];
			out[1] = p[1];
			out[2] = p[2];
			continue;
		}
		in = &ink[c];
		if (erow[tx] & (xflags[fx] | yflags)) {
			for (j = 0; j < 3; j++)
				out[j] = (p[j] * (256 - in->line_a) +
				    in->line[j]) >> 8;
		} else {
			for (j = 0; j < 3; j++)
				out[j] = (p[j] * (256 - in->fill_a) +
				    in->fill[j]) >> 8;
		}
	}
}

/* Set frame pixel (x, y) to black or white, whichever stands out. */
static void
compose_mark(struct frame *fr, int x, int y)
{
	uint8_t	*p;
	int	 luma;

	if (x < 0 || y < 0 || x >= fr->w || y >= fr->h)
		return;
	p = fr->rgb + ((size_t)y * fr->w + x) * 3;
	luma = (p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8;
	memset(p, luma > 127 ? 0 : 255, 3);
}

/*
 * The cursor: the brush circle (radius brush + 1/2 tile pixels, the edge
 * of the disc the brush paints) and four crosshair arms outside it.
 */
static void
compose_cursor(const struct view *v, struct frame *fr)
{
	int	cx, cy, r, x, y, err, i, arm;

	if (v->cur_x < 0 || v->cur_y < 0 || v->cur_x >= v->w ||
	    v->cur_y >= v->h)
		return;
	cx = (int)((v->cur_x - fr->ox + 0.5f) * fr->scale);
	cy = (int)((v->cur_y - fr->oy + 0.5f) * fr->scale);
	r = (int)lrintf((v->brush + 0.5f) * fr->scale);
	if (r < 1)
		r = 1;

	/* Midpoint circle, eight octants at once. */
	x = r;
	y = 0;
	err = 1 - r;
	while (x >= y) {
		compose_mark(fr, cx + x, cy + y);
		compose_mark(fr, cx + y, cy + x);
		if (y != 0) {
			compose_mark(fr, cx + x, cy - y);
			compose_mark(fr, cx - y, cy + x);
		}
		if (x != y) {
			compose_mark(fr, cx - x, cy + y);
			compose_mark(fr, cx + y, cy - x);
		}
		if (x != y && y != 0) {
			compose_mark(fr, cx - x, cy - y);
			compose_mark(fr, cx - y, cy - x);
		}
		y++;
		if (err < 0)
			err += 2 * y + 1;
		else {
			x--;
			err += 2 * (y - x) + 1;
		}
	}

	/* Crosshair arms, from just outside the circle. */
	arm = 6;
	for (i = r + 2; i < r + 2 + arm; i++) {
		compose_mark(fr, cx - i, cy);
		compose_mark(fr, cx + i, cy);
		compose_mark(fr, cx, cy - i);
		compose_mark(fr, cx, cy + i);
	}
}

/* Draw v into fr at fr->w x fr->h. */
void
compose(const struct view *v, struct frame *fr)
{
	struct compose_ink	 ink[2 * COMPOSE_PRED];
	uint8_t			*cls = NULL, *edge = NULL, *xflags, *yflags;
	int			*xmap, *ymap, fy, shown = 0;
	size_t			 rowlen;

	if (fr->w <= 0 || fr->h <= 0)
		fatalx("compose: frame of %dx%d", fr->w, fr->h);
	rowlen = (size_t)fr->w * 3;
	fr->rgb = xreallocarray(fr->rgb, fr->h, rowlen);
	if (v->rgb == NULL || v->w <= 0 || v->h <= 0) {
		memset(fr->rgb, COMPOSE_BG, rowlen * fr->h);
		fr->scale = 1;
		fr->ox = fr->oy = 0;
		return;
	}
	compose_place(v, fr);

	/* Tile space: classes and their boundaries. */
	if ((v->show & (SHOW_LABEL|SHOW_PRED)) && v->cl != NULL) {
		cls = xmalloc((size_t)v->w * v->h);
		edge = xmalloc((size_t)v->w * v->h);
		shown = compose_classes(v, cls, edge);
		if (shown)
			compose_inks(v, ink);
	}

	/* Frame space. */
	xmap = xreallocarray(NULL, fr->w, sizeof *xmap);
	ymap = xreallocarray(NULL, fr->h, sizeof *ymap);
	xflags = xmalloc(fr->w);
	yflags = xmalloc(fr->h);
	compose_axis(fr->w, v->w, fr->ox, fr->scale, xmap, xflags, EDGE_L,
	    EDGE_R);
	compose_axis(fr->h, v->h, fr->oy, fr->scale, ymap, yflags, EDGE_T,
	    EDGE_B);
	for (fy = 0; fy < fr->h; fy++) {
		uint8_t	*out = fr->rgb + rowlen * fy;
		size_t	 off = (size_t)ymap[fy] * v->w;

		if (ymap[fy] < 0) {
			memset(out, COMPOSE_BG, rowlen);
			continue;
		}
		if (fy > 0 && ymap[fy] == ymap[fy - 1] &&
		    yflags[fy] == yflags[fy - 1]) {
			memcpy(out, out - rowlen, rowlen);
			continue;
		}
		compose_row(out, v->rgb + off * 3, shown ? cls + off : NULL,
		    shown ? edge + off : NULL, xmap, xflags, yflags[fy],
		    fr->w, ink);
	}
	free(xmap);
	free(ymap);
	free(xflags);
	free(yflags);
	free(cls);
	free(edge);

	compose_cursor(v, fr);
}

/* Map frame pixel (fx, fy) to the tile pixel it shows; -1 if none. */
int
compose_to_tile(const struct frame *fr, const struct view *v, int fx,
    int fy, int *tx, int *ty)
{
	int	x, y;

	if (fx < 0 || fy < 0 || fx >= fr->w || fy >= fr->h || fr->scale <= 0)
		return (-1);
	x = fr->ox + (int)(fx / fr->scale);
	y = fr->oy + (int)(fy / fr->scale);
	if (x < 0 || y < 0 || x >= v->w || y >= v->h)
		return (-1);
	*tx = x;
	*ty = y;
	return (0);
}

/* Free the frame's pixels. */
void
frame_free(struct frame *fr)
{
	free(fr->rgb);
	fr->rgb = NULL;
}
