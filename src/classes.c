/*
 * Class schemes: the presets, and classes files in two forms.
 *
 * The text form has one class a line, "NAME #rrggbb [KEY]", in index
 * order (the first line is class 0, the background); the name may hold
 * spaces.  "void #rrggbb" says that this colour in a mask means "not
 * labelled".  Blank lines and lines starting with '#' are ignored.
 *
 * The JSON form is an object with a "classes" array of objects, each
 * with "name" (or "title"), "color" (or "colour") as "#rrggbb" or
 * [r, g, b], an optional "key" and an optional "index" (if any class has
 * one, all must, and together they must be 0 to n - 1); and optionally
 * "unlabelled" (or "unlabeled", "void"): an object or an array of
 * objects with a "color", or of colour strings.  A bare array of class
 * objects is read as the "classes" array.
 *
 * Classes without a key get the first free digit; those past the tenth
 * have none (the labelling screen chooses them with c and Tab).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s4lab.h"

/* Keys handed out in order to classes that have none. */
/* Letters are the labelling screen's commands, so class keys are digits. */
static const char classes_keys[] = "0123456789";

/* Largest classes file read. */
#define CLASSES_MAX_FILE	(1024 * 1024)

struct classes_preset {
	const char	*name;
	int		 n;
	struct {
		const char	*name;
		uint32_t	 rgb;
	} c[16];
};

static const struct classes_preset classes_presets[] = {
	{ "xbd", 5, {
		{ "background", 0x000000 },
		{ "no-damage", 0x32c850 },
		{ "minor-damage", 0xf0e132 },
		{ "major-damage", 0xf58c1e },
		{ "destroyed", 0xdc1e1e },
	} },
	/* RescueNet v1.0, in its order. */
	{ "rescuenet", 12, {
		{ "background", 0x000000 },
		{ "debris", 0x8c5a32 },
		{ "water", 0x1e64ff },
		{ "building-no-damage", 0x3cb44b },
		{ "building-minor-damage", 0xffe119 },
		{ "building-major-damage", 0xf58231 },
		{ "building-total-destruction", 0xe6194b },
		{ "vehicle", 0xf032e6 },
		{ "road", 0xa0a0a0 },
		{ "tree", 0x006400 },
		{ "pool", 0x42d4f4 },
		{ "sand", 0xdcc896 },
	} },
};

/* Give every class without a key the first free one. */
static void
classes_assign_keys(struct classes *cl)
{
	const char	*k;
	int		 i, j, used;

	k = classes_keys;
	for (i = 0; i < cl->n; i++) {
		if (cl->c[i].key != '\0')
			continue;
		for (; *k != '\0'; k++) {
			used = 0;
			for (j = 0; j < cl->n; j++)
				used |= (cl->c[j].key == *k);
			if (!used)
				break;
		}
		if (*k == '\0')
			return;	/* more classes than keys: the rest have none */
		cl->c[i].key = *k++;
	}
}

/* Fill cl with a preset by name. */
int
classes_preset(const char *name, struct classes *cl, char **cause)
{
	const struct classes_preset	*p;
	size_t				 i;
	int				 j;

	for (i = 0; i < sizeof classes_presets / sizeof classes_presets[0];
	    i++) {
		p = &classes_presets[i];
		if (strcmp(p->name, name) != 0)
			continue;
		memset(cl, 0, sizeof *cl);
		cl->n = p->n;
		for (j = 0; j < p->n; j++) {
			snprintf(cl->c[j].name, sizeof cl->c[j].name, "%s",
			    p->c[j].name);
			cl->c[j].rgb[0] = p->c[j].rgb >> 16;
			cl->c[j].rgb[1] = (p->c[j].rgb >> 8) & 0xff;
			cl->c[j].rgb[2] = p->c[j].rgb & 0xff;
		}
		classes_assign_keys(cl);
		return (0);
	}
	return (set_cause(cause, "unknown preset \"%s\" (known: xbd, "
	    "rescuenet)", name));
}

/* Index of the class with this colour, MASK_VOID for a void one, -1. */
int
classes_by_rgb(const struct classes *cl, const uint8_t *rgb)
{
	int	i;

	for (i = 0; i < cl->n; i++)
		if (memcmp(cl->c[i].rgb, rgb, 3) == 0)
			return (i);
	for (i = 0; i < cl->nvoid; i++)
		if (memcmp(cl->void_rgb[i], rgb, 3) == 0)
			return (MASK_VOID);
	return (-1);
}

/* Parse exactly "#rrggbb"; 0 or -1. */
static int
classes_parse_rgb(const char *s, uint8_t *rgb)
{
	unsigned int	v[3];

	if (s[0] != '#' || strlen(s) != 7 ||
	    strspn(s + 1, "0123456789abcdefABCDEF") != 6 ||
	    sscanf(s + 1, "%2x%2x%2x", &v[0], &v[1], &v[2]) != 3)
		return (-1);
	rgb[0] = v[0];
	rgb[1] = v[1];
	rgb[2] = v[2];
	return (0);
}

/* Check a class name: not empty, fits, UTF-8, no control characters. */
static const char *
classes_bad_name(const char *name)
{
	const unsigned char	*u, *end;
	size_t			 n;

	if (*name == '\0')
		return ("empty class name");
	if (strlen(name) >= sizeof ((struct classdef *)0)->name)
		return ("class name longer than 63 bytes");
	end = (const unsigned char *)name + strlen(name);
	for (u = (const unsigned char *)name; *u != '\0'; u += n) {
		if (*u < 0x20 || *u == 0x7f)
			return ("control character in a class name");
		if ((n = json_utf8_valid(u, end)) == 0)
			return ("class name is not UTF-8 text; save the "
			    "classes file as UTF-8");
		if (n == 2 && u[0] == 0xc2 && u[1] < 0xa0)
			return ("control character in a class name");
	}
	return (NULL);
}

/* Check a key: one digit (every letter is a command in `label`). */
static int
classes_bad_key(const char *key)
{
	return (strlen(key) != 1 || !isdigit((unsigned char)key[0]));
}

/*
 * Check a new class against those before it: names, colours and keys
 * each unique, and no void colour is a class colour.
 */
static int
classes_clash(const struct classes *cl, const struct classdef *cd,
    char **why)
{
	int	j;

	for (j = 0; j < cl->n; j++) {
		if (strcmp(cd->name, cl->c[j].name) == 0)
			return (set_cause(why, "class \"%s\" appears twice",
			    cd->name));
		if (memcmp(cd->rgb, cl->c[j].rgb, 3) == 0)
			return (set_cause(why, "classes \"%s\" and \"%s\" "
			    "have the same colour", cl->c[j].name, cd->name));
		if (cd->key != '\0' && cd->key == cl->c[j].key)
			return (set_cause(why, "classes \"%s\" and \"%s\" "
			    "have the same key '%c'", cl->c[j].name, cd->name,
			    cd->key));
	}
	for (j = 0; j < cl->nvoid; j++)
		if (memcmp(cd->rgb, cl->void_rgb[j], 3) == 0)
			return (set_cause(why, "class \"%s\" has a void "
			    "colour, #%02x%02x%02x", cd->name, cd->rgb[0],
			    cd->rgb[1], cd->rgb[2]));
	return (0);
}

/* Add a void colour. */
static int
classes_add_void(struct classes *cl, const uint8_t *rgb, char **why)
{
	int	i;

	for (i = 0; i < cl->nvoid; i++)
		if (memcmp(cl->void_rgb[i], rgb, 3) == 0)
			return (0);
	for (i = 0; i < cl->n; i++)
		if (memcmp(cl->c[i].rgb, rgb, 3) == 0)
			return (set_cause(why, "void colour #%02x%02x%02x is "
			    "also the colour of class \"%s\"", rgb[0],
			    rgb[1], rgb[2], cl->c[i].name));
	if (cl->nvoid == MAX_VOID_COLOURS)
		return (set_cause(why, "more than %d void colours",
		    MAX_VOID_COLOURS));
	memcpy(cl->void_rgb[cl->nvoid++], rgb, 3);
	return (0);
}

/* Add a class at the end. */
static int
classes_add(struct classes *cl, const char *name, const uint8_t *rgb,
    const char *key, char **why)
{
	struct classdef	 cd;
	const char	*bad;

	if (cl->n == MAX_CLASSES)
		return (set_cause(why, "more than %d classes", MAX_CLASSES));
	if ((bad = classes_bad_name(name)) != NULL)
		return (set_cause(why, "%s", bad));
	if (key != NULL && classes_bad_key(key))
		return (set_cause(why, "key \"%s\" is not one digit (letters "
		    "are commands of the labelling screen)", key));
	memset(&cd, 0, sizeof cd);
	snprintf(cd.name, sizeof cd.name, "%s", name);
	memcpy(cd.rgb, rgb, 3);
	cd.key = key != NULL ? key[0] : '\0';
	if (classes_clash(cl, &cd, why) != 0)
		return (-1);
	cl->c[cl->n++] = cd;
	return (0);
}

/*
 * One line of the text form, NUL-terminated, without its newline.  The
 * colour is the first word that looks like one; the name is everything
 * before it, the key the word after it.
 */
static int
classes_text_line(struct classes *cl, char *line, char **why)
{
	char		*p, *word, *colour = NULL, *key = NULL, *rest;
	uint8_t		 rgb[3];
	size_t		 len;

	for (p = line; *p == ' ' || *p == '\t'; p++)
		/* nothing */;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
	    p[len - 1] == '\r'))
		p[--len] = '\0';
	if (*p == '\0' || *p == '#')
		return (0);

	for (word = p; *word != '\0'; word++) {
		if (*word != '#' || word == p ||
		    (word[-1] != ' ' && word[-1] != '\t'))
			continue;
		if (strspn(word + 1, "0123456789abcdefABCDEF") == 6 &&
		    (word[7] == '\0' || word[7] == ' ' || word[7] == '\t')) {
			colour = word;
			break;
		}
	}
	if (colour == NULL)
		return (set_cause(why, "no colour (#rrggbb) after the name"));
	rest = colour + 7;
	if (*rest != '\0')
		*rest++ = '\0';
	for (len = colour - p; len > 0 && (p[len - 1] == ' ' ||
	    p[len - 1] == '\t'); len--)
		p[len - 1] = '\0';
	if (classes_parse_rgb(colour, rgb) != 0)
		return (set_cause(why, "bad colour \"%s\"", colour));

	rest += strspn(rest, " \t");
	if (*rest != '\0') {
		key = rest;
		rest += strcspn(rest, " \t");
		if (*rest != '\0')
			*rest++ = '\0';
		rest += strspn(rest, " \t");
		if (*rest != '\0')
			return (set_cause(why, "unexpected \"%s\" after the "
			    "key", rest));
	}
	if (strcasecmp(p, "void") == 0) {
		if (key != NULL)
			return (set_cause(why, "a void colour has no key"));
		return (classes_add_void(cl, rgb, why));
	}
	return (classes_add(cl, p, rgb, key, why));
}

/* The text form: errors name the line. */
static int
classes_read_text(char *text, struct classes *cl, char **why)
{
	char	*line, *next, *msg = NULL;
	int	 n = 0;

	for (line = text; line != NULL; line = next) {
		n++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (classes_text_line(cl, line, &msg) != 0) {
			set_cause(why, "line %d: %s", n, msg);
			free(msg);
			return (-1);
		}
	}
	return (0);
}

/* A JSON colour: "#rrggbb" or [r, g, b]. */
static int
classes_json_rgb(const struct json *v, uint8_t *rgb)
{
	const struct json	*c;
	size_t			 i;

	if (v == NULL)
		return (-1);
	if (v->type == JSON_STRING)
		return (classes_parse_rgb(v->string, rgb));
	if (v->type != JSON_ARRAY || v->n != 3)
		return (-1);
	for (i = 0; i < 3; i++) {
		c = json_at(v, i);
		if (c->type != JSON_NUMBER || !c->is_integer ||
		    c->integer < 0 || c->integer > 255)
			return (-1);
		rgb[i] = c->integer;
	}
	return (0);
}

/* The colour member of a JSON object ("color" or "colour"). */
static const struct json *
classes_json_colour(const struct json *o)
{
	const struct json	*v;

	if ((v = json_get(o, "color")) == NULL)
		v = json_get(o, "colour");
	return (v);
}

/* One item of "unlabelled": an object with a colour, or a colour. */
static int
classes_json_void_item(const struct json *item, struct classes *cl,
    char **why)
{
	uint8_t		 rgb[3];
	int64_t		 index;

	if (item->type == JSON_OBJECT && json_get_int(item, "index",
	    &index) == 0 && index != MASK_VOID)
		return (set_cause(why, "unlabelled index %jd: only %d means "
		    "not labelled", (intmax_t)index, MASK_VOID));
	if (classes_json_rgb(item->type == JSON_OBJECT ?
	    classes_json_colour(item) : item, rgb) != 0)
		return (set_cause(why, "unlabelled colour is missing or not "
		    "#rrggbb"));
	return (classes_add_void(cl, rgb, why));
}

/* The "unlabelled" member: one item, or an array of them. */
static int
classes_json_void(const struct json *v, struct classes *cl, char **why)
{
	size_t	i;

	if (v->type != JSON_ARRAY)
		return (classes_json_void_item(v, cl, why));
	for (i = 0; i < v->n; i++)
		if (classes_json_void_item(json_at(v, i), cl, why) != 0)
			return (-1);
	return (0);
}

/* One class object of the JSON form, added at index i of cl. */
static int
classes_json_class(const struct json *o, struct classes *cl, char **why)
{
	const struct json	*v;
	const char		*name, *key = NULL;
	uint8_t			 rgb[3];

	if (o->type != JSON_OBJECT)
		return (set_cause(why, "not an object"));
	if ((name = json_get_string(o, "name")) == NULL &&
	    (name = json_get_string(o, "title")) == NULL)
		return (set_cause(why, "no \"name\" string"));
	if (classes_json_rgb(classes_json_colour(o), rgb) != 0)
		return (set_cause(why, "\"%s\": \"color\" is missing or not "
		    "#rrggbb", name));
	if ((v = json_get(o, "key")) != NULL && v->type != JSON_NULL) {
		if ((key = json_get_string(o, "key")) == NULL)
			return (set_cause(why, "\"%s\": \"key\" is not a "
			    "string", name));
	}
	if (classes_add(cl, name, rgb, key, why) != 0)
		return (-1);
	return (0);
}

/*
 * The class objects, placed by their "index" members when they have
 * them: all or none must, and the indices must be 0 to n - 1.
 */
static int
classes_json_classes(const struct json *a, struct classes *cl, char **why)
{
	const struct json	*o, *order[MAX_CLASSES];
	int64_t			 index;
	size_t			 i, with = 0;
	char			*msg = NULL;

	if (a->n > MAX_CLASSES)
		return (set_cause(why, "more than %d classes", MAX_CLASSES));
	memset(order, 0, sizeof order);
	for (i = 0; i < a->n; i++) {
		o = json_at(a, i);
		order[i] = o;
		if (json_get(o, "index") == NULL)
			continue;
		with++;
		if (json_get_int(o, "index", &index) != 0 || index < 0 ||
		    (uint64_t)index >= a->n)
			return (set_cause(why, "class %zu: \"index\" is not "
			    "an integer from 0 to %zu", i, a->n - 1));
	}
	if (with != 0 && with != a->n)
		return (set_cause(why, "some classes have an \"index\" and "
		    "some not"));
	if (with != 0) {
		memset(order, 0, sizeof order);
		for (i = 0; i < a->n; i++) {
			o = json_at(a, i);
			json_get_int(o, "index", &index);
			if (order[index] != NULL)
				return (set_cause(why, "index %jd appears "
				    "twice", (intmax_t)index));
			order[index] = o;
		}
	}
	for (i = 0; i < a->n; i++) {
		if (classes_json_class(order[i], cl, &msg) != 0) {
			set_cause(why, "class %zu: %s", i, msg);
			free(msg);
			return (-1);
		}
	}
	return (0);
}

/* The JSON form. */
static int
classes_read_json(const char *text, size_t len, struct classes *cl,
    char **why)
{
	struct json		*j;
	const struct json	*a, *v;
	int			 rc = -1;

	if ((j = json_parse(text, len, why)) == NULL)
		return (-1);
	a = j->type == JSON_ARRAY ? j : json_get(j, "classes");
	if (a == NULL || a->type != JSON_ARRAY) {
		set_cause(why, "no \"classes\" array");
		goto out;
	}
	if (classes_json_classes(a, cl, why) != 0)
		goto out;
	if ((v = json_get(j, "unlabelled")) == NULL &&
	    (v = json_get(j, "unlabeled")) == NULL)
		v = json_get(j, "void");
	if (v != NULL && classes_json_void(v, cl, why) != 0)
		goto out;
	rc = 0;
out:
	json_free(j);
	return (rc);
}

/*
 * Read a classes file, text or JSON (by its first character).  Errors
 * name the file, and the line for the text form.
 */
int
classes_read(const char *path, struct classes *cl, char **cause)
{
	unsigned char	*text;
	const char	*p;
	size_t		 len;
	char		*body, *why = NULL;
	int		 rc;

	memset(cl, 0, sizeof *cl);
	if ((text = read_file(path, &len, CLASSES_MAX_FILE, cause)) == NULL)
		return (-1);
	body = (char *)text;
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
		body += 3;
	p = body + strspn(body, " \t\r\n");
	if (*p == '{' || *p == '[')
		rc = classes_read_json((const char *)text, len, cl, &why);
	else if (memchr(text, '\0', len) != NULL)
		rc = set_cause(&why, "NUL byte in the file");
	else
		rc = classes_read_text(body, cl, &why);
	if (rc == 0 && cl->n == 0)
		rc = set_cause(&why, "no classes");
	free(text);
	if (rc != 0) {
		set_cause(cause, "%s: %s", path, why);
		free(why);
		memset(cl, 0, sizeof *cl);
		return (-1);
	}
	classes_assign_keys(cl);
	return (0);
}
