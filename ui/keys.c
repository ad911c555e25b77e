/*
 * The TUI's keys, in one table.  The event loop finds actions here, the
 * `?` screen prints the names and help lines, and tests/unit/test_keys
 * checks that the KEYS list of man/s4lab.1 is exactly keys_mdoc()'s output.
 *
 * Class keys come from the project: a digit, or a key no binding below
 * takes, chooses the class whose own key it is; a digit that is no class's
 * key chooses the class with that index.
 */
#include <curses.h>
#include <string.h>

#include "tui-int.h"

#define CTRL(c)	((c) & 0x1f)

const struct key_binding key_table[] = {
	{ { 'h', KEY_LEFT }, "h Left", "move the cursor 1 pixel left",
	  ACT_LEFT },
	{ { 'l', KEY_RIGHT }, "l Right", "move the cursor 1 pixel right",
	  ACT_RIGHT },
	{ { 'k', KEY_UP }, "k Up", "move the cursor 1 pixel up", ACT_UP },
	{ { 'j', KEY_DOWN }, "j Down", "move the cursor 1 pixel down",
	  ACT_DOWN },
	{ { 'H', KEY_SLEFT }, "H S-Left", "move the cursor 16 pixels left",
	  ACT_LEFT_FAR },
	{ { 'L', KEY_SRIGHT }, "L S-Right", "move the cursor 16 pixels right",
	  ACT_RIGHT_FAR },
	{ { 'K', KEY_SR }, "K S-Up", "move the cursor 16 pixels up",
	  ACT_UP_FAR },
	{ { 'J', KEY_SF }, "J S-Down", "move the cursor 16 pixels down",
	  ACT_DOWN_FAR },
	{ { ' ' }, "Space",
	  "pen down or up: moving it down paints a stroke, "
	  "up saves it", ACT_PEN },
	{ { '\r', '\n', KEY_ENTER }, "Enter",
	  "paint one dab at the cursor and save it", ACT_DAB },
	{ { '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' }, "0-9",
	  "choose the class with this key in the panel, else number",
	  ACT_CLASS },
	{ { 'c', '\t' }, "c Tab", "choose the next class", ACT_CLASS_NEXT },
	{ { 'C', KEY_BTAB }, "C S-Tab", "choose the previous class",
	  ACT_CLASS_PREV },
	{ { 'e' }, "e", "eraser on or off: paint back to not labelled",
	  ACT_ERASER },
	{ { '[' }, "[", "smaller brush", ACT_BRUSH_DOWN },
	{ { ']' }, "]", "bigger brush", ACT_BRUSH_UP },
	{ { 'f' }, "f",
	  "fill the connected region under the cursor and save it",
	  ACT_FILL },
	{ { 'u' }, "u", "undo the last stroke, fill or accept", ACT_UNDO },
	{ { CTRL('r') }, "C-r", "redo", ACT_REDO },
	{ { 'o' }, "o", "show or hide the mask over the tile", ACT_OVERLAY },
	{ { '+', '=' }, "+ =", "more opaque mask", ACT_OPACITY_UP },
	{ { '-' }, "-", "less opaque mask", ACT_OPACITY_DOWN },
	{ { 'z' }, "z", "zoom: fit, 2x, 4x (the view follows the cursor)",
	  ACT_ZOOM },
	{ { 'd' }, "d", "mark the tile done and go to the next", ACT_DONE },
	{ { 's' }, "s", "skip the tile and go to the next", ACT_SKIP },
	{ { 'n', KEY_NPAGE }, "n PgDn", "next tile in the queue", ACT_NEXT },
	{ { 'p', KEY_PPAGE }, "p PgUp", "previous tile in the queue",
	  ACT_PREV },
	{ { 'g' }, "g", "go to a tile by its id", ACT_GOTO },
	{ { 'v' }, "v", "show the label, the prediction, or both", ACT_SHOW },
	{ { 'a' }, "a",
	  "accept the prediction as the label, then correct it",
	  ACT_ACCEPT },
	{ { 't' }, "t", "queue a retrain of the model", ACT_RETRAIN },
	{ { 'O' }, "O",
	  "queue order: disagreement, entropy, random, id", ACT_ORDER },
	{ { CTRL('l') }, "C-l", "redraw the screen", ACT_REDRAW },
	{ { '?', KEY_F(1) }, "? F1", "show the list of keys", ACT_HELP },
	{ { 'q', CTRL('c') }, "q C-c", "save and quit", ACT_QUIT },
	{ { 0 }, NULL, NULL, ACT_NONE }
};

/* The binding of a curses key code, or NULL. */
const struct key_binding *
keys_find(int key)
{
	const struct key_binding	*kb;
	int				 i;

	if (key == 0)
		return (NULL);
	for (kb = key_table; kb->name != NULL; kb++) {
		for (i = 0; i < KEYS_MAX && kb->keys[i] != 0; i++) {
			if (kb->keys[i] == key)
				return (kb);
		}
	}
	return (NULL);
}

/* One key name as an mdoc word: escape what mdoc would read otherwise. */
static void
keys_mdoc_word(FILE *f, const char *w, size_t len)
{
	size_t	i;

	fputs("Ic ", f);
	if (len == 1 && strchr("[](){}.,;:?!|", w[0]) != NULL)
		fputs("\\&", f);
	for (i = 0; i < len; i++) {
		if (w[i] == '-' && len == 1)
			fputs("\\-", f);
		else if (w[i] == '\\')
			fputs("\\e", f);
		else
			fputc(w[i], f);
	}
}

/* Print the KEYS list body for s4lab(1): one .It per binding. */
void
keys_mdoc(FILE *f)
{
	const struct key_binding	*kb;
	const char			*p, *sp;

	for (kb = key_table; kb->name != NULL; kb++) {
		fputs(".It ", f);
		for (p = kb->name; *p != '\0'; p = sp + 1) {
			if (p != kb->name)
				fputs(" , ", f);
			if ((sp = strchr(p, ' ')) == NULL)
				sp = p + strlen(p);
			keys_mdoc_word(f, p, sp - p);
			if (*sp == '\0')
				break;
		}
		fprintf(f, "\n%c%s.\n", kb->help[0] - 'a' + 'A',
		    kb->help + 1);
	}
}

/* Read a decimal number; returns its end or NULL. */
static const char *
keys_number(const char *p, const char *end, int *v)
{
	int	n = 0, digits = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (n > 100000)
			return (NULL);
		n = n * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0)
		return (NULL);
	*v = n;
	return (p);
}

/*
 * Parse an SGR mouse report after "ESC [": "<b;x;yM" (press or motion) or
 * "<b;x;ym" (release).  Bit 32 of b is motion, 64 the wheel; bits 4, 8
 * and 16 are modifiers and are ignored.
 */
int
keys_parse_mouse(const char *buf, size_t len, struct tui_mouse *m)
{
	const char	*p = buf, *end = buf + len;
	int		 b, x, y;

	if (len == 0)
		return (0);
	if (*p++ != '<')
		return (-1);
	if (p == end || (p = keys_number(p, end, &b)) == NULL)
		return (p == end ? 0 : -1);
	if (p == end)
		return (0);
	if (*p++ != ';')
		return (-1);
	if (p == end || (p = keys_number(p, end, &x)) == NULL)
		return (p == end ? 0 : -1);
	if (p == end)
		return (0);
	if (*p++ != ';')
		return (-1);
	if (p == end || (p = keys_number(p, end, &y)) == NULL)
		return (p == end ? 0 : -1);
	if (p == end)
		return (0);
	if (*p != 'M' && *p != 'm')
		return (-1);
	if (x < 1 || y < 1)
		return (-1);
	m->release = *p == 'm';
	m->motion = (b & 32) != 0;
	m->button = b & ~(4 | 8 | 16 | 32);
	m->x = x - 1;
	m->y = y - 1;
	return (p + 1 - buf);
}
