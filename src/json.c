/*
 * A small JSON reader: the whole text is parsed into a tree of struct
 * json, which callers walk with json_get and json_at.  Meant for the
 * files s4lab reads (classes, job descriptions, safetensors headers,
 * worker replies), all small, but careful with hostile input: strict
 * RFC 8259 grammar, strings must be valid UTF-8, nesting is bounded,
 * duplicate keys in an object are refused (a reader must not pick one
 * of two meanings), and numbers are parsed independently of the locale.
 *
 * Errors say the line and column; the caller adds the file name.
 */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "s4lab.h"

#define JSON_MAX_DEPTH	128

struct json_parser {
	const unsigned char	*p;
	const unsigned char	*end;
	const unsigned char	*start;
	int			 depth;
	char			*error;
};

static struct json	*json_value(struct json_parser *);

/* Record the first error with its line and column. */
static struct json *
json_error(struct json_parser *jp, const char *fmt, ...)
{
	const unsigned char	*q;
	va_list			 ap;
	char			*msg;
	int			 line = 1, col = 1;

	if (jp->error != NULL)
		return (NULL);
	for (q = jp->start; q < jp->p && q < jp->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&jp->error, "line %d column %d: %s", line, col, msg);
	free(msg);
	return (NULL);
}

/* Skip white space as JSON defines it. */
static void
json_space(struct json_parser *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
	    *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

/* A new node of a type. */
static struct json *
json_new(enum json_type type)
{
	struct json	*j;

	j = xcalloc(1, sizeof *j);
	j->type = type;
	return (j);
}

/* Free a tree; NULL is fine. */
void
json_free(struct json *j)
{
	size_t	i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++)
		json_free(j->items[i]);
	free(j->items);
	free(j->key);
	free(j->string);
	free(j);
}

/* Match a literal word (true, false, null). */
static struct json *
json_word(struct json_parser *jp, const char *word, enum json_type type,
    int value)
{
	size_t		 len = strlen(word);
	struct json	*j;

	if ((size_t)(jp->end - jp->p) < len || memcmp(jp->p, word, len) != 0)
		return (json_error(jp, "unexpected character"));
	jp->p += len;
	j = json_new(type);
	j->boolean = value;
	return (j);
}

/* Four hex digits of a \u escape. */
static int
json_hex4(struct json_parser *jp, unsigned int *cp)
{
	int	i, c;

	*cp = 0;
	if (jp->end - jp->p < 4)
		return (-1);
	for (i = 0; i < 4; i++) {
		c = *jp->p++;
		*cp <<= 4;
		if (c >= '0' && c <= '9')
			*cp |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*cp |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*cp |= c - 'A' + 10;
		else
			return (-1);
	}
	return (0);
}

/* Append code point cp as UTF-8. */
static size_t
json_utf8(unsigned char *o, unsigned int cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return (1);
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | (cp >> 6);
		o[1] = 0x80 | (cp & 0x3f);
		return (2);
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | (cp >> 12);
		o[1] = 0x80 | ((cp >> 6) & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return (3);
	}
	o[0] = 0xf0 | (cp >> 18);
	o[1] = 0x80 | ((cp >> 12) & 0x3f);
	o[2] = 0x80 | ((cp >> 6) & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return (4);
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
size_t
json_utf8_valid(const unsigned char *p, const unsigned char *end)
{
	size_t		n, i;
	unsigned int	cp, min;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else
		return (0);
	if ((size_t)(end - p) < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (n);
}

/* A \u escape (the backslash and u already read), maybe a pair. */
static int
json_escape_u(struct json_parser *jp, unsigned int *cp)
{
	unsigned int	lo;

	if (json_hex4(jp, cp) != 0)
		return (-1);
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return (-1);
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		if (jp->end - jp->p < 6 || jp->p[0] != '\\' || jp->p[1] != 'u')
			return (-1);
		jp->p += 2;
		if (json_hex4(jp, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return (-1);
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return (*cp == 0 ? -1 : 0);
}

/*
 * A string, the opening quote at jp->p.  The result is NUL-terminated;
 * \u0000 is refused so that C string functions see the whole value.
 */
static char *
json_string_raw(struct json_parser *jp, size_t *lenp)
{
	const unsigned char	*q;
	unsigned char		*out, *o;
	unsigned int		 cp;
	size_t			 n;
	int			 c;

	jp->p++;
	/* Escapes only shrink, so the raw length bounds the output. */
	for (q = jp->p; q < jp->end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < jp->end)
			q++;
	o = out = xmalloc(q - jp->p + 1);
	for (;;) {
		if (jp->p >= jp->end) {
			json_error(jp, "unterminated string");
			goto fail;
		}
		c = *jp->p;
		if (c == '"')
			break;
		if (c < 0x20) {
			json_error(jp, "control character in a string");
			goto fail;
		}
		if (c != '\\') {
			if ((n = json_utf8_valid(jp->p, jp->end)) == 0) {
				json_error(jp, "invalid UTF-8 in a string");
				goto fail;
			}
			memcpy(o, jp->p, n);
			o += n;
			jp->p += n;
			continue;
		}
		if (++jp->p >= jp->end) {
			json_error(jp, "unterminated string");
			goto fail;
		}
		switch (c = *jp->p++) {
		case '"':
		case '\\':
		case '/':
			*o++ = c;
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (json_escape_u(jp, &cp) != 0) {
				json_error(jp, "bad \\u escape");
				goto fail;
			}
			o += json_utf8(o, cp);
			break;
		default:
			json_error(jp, "bad escape \\%c", c >= 0x20 &&
			    c < 0x7f ? c : '?');
			goto fail;
		}
	}
	jp->p++;
	*o = '\0';
	*lenp = o - out;
	return ((char *)out);

fail:
	free(out);
	return (NULL);
}

/* A number, checked against the JSON grammar before conversion. */
static struct json *
json_number(struct json_parser *jp)
{
	static locale_t		 c_locale;
	const unsigned char	*s = jp->p;
	struct json		*j;
	char			 buf[64];
	int			 integer = 1;

	if (jp->p < jp->end && *jp->p == '-')
		jp->p++;
	if (jp->p < jp->end && *jp->p == '0')
		jp->p++;
	else if (jp->p < jp->end && *jp->p >= '1' && *jp->p <= '9') {
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	} else
		return (json_error(jp, "bad number"));
	if (jp->p < jp->end && *jp->p == '.') {
		integer = 0;
		if (++jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			return (json_error(jp, "bad number"));
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		integer = 0;
		jp->p++;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			return (json_error(jp, "bad number"));
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	}
	if ((size_t)(jp->p - s) >= sizeof buf)
		return (json_error(jp, "number too long"));
	memcpy(buf, s, jp->p - s);
	buf[jp->p - s] = '\0';

	if (c_locale == (locale_t)0 &&
	    (c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) ==
	    (locale_t)0)
		fatal("newlocale");
	j = json_new(JSON_NUMBER);
	j->number = strtod_l(buf, NULL, c_locale);
	if (integer) {
		errno = 0;
		j->integer = strtoll(buf, NULL, 10);
		j->is_integer = (errno == 0);
	}
	return (j);
}

/* Check an object for duplicate keys: sort a copy of the members. */
static int
json_key_cmp(const void *a, const void *b)
{
	const struct json	*ja = *(struct json * const *)a;
	const struct json	*jb = *(struct json * const *)b;

	return (strcmp(ja->key, jb->key));
}

static const char *
json_duplicate(const struct json *j)
{
	struct json	**sorted;
	const char	 *dup = NULL;
	size_t		  i;

	if (j->n < 2)
		return (NULL);
	sorted = xreallocarray(NULL, j->n, sizeof *sorted);
	memcpy(sorted, j->items, j->n * sizeof *sorted);
	qsort(sorted, j->n, sizeof *sorted, json_key_cmp);
	for (i = 1; i < j->n && dup == NULL; i++)
		if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0)
			dup = sorted[i]->key;
	free(sorted);
	return (dup);
}

/* Append an item to an array or object. */
static void
json_append(struct json *j, struct json *item, size_t *size)
{
	if (j->n == *size) {
		*size = *size == 0 ? 8 : *size * 2;
		j->items = xreallocarray(j->items, *size, sizeof *j->items);
	}
	j->items[j->n++] = item;
}

/* An array or object, the bracket at jp->p. */
static struct json *
json_container(struct json_parser *jp, int object)
{
	struct json	*j, *item;
	const char	*dup;
	char		*key = NULL;
	size_t		 size = 0, len;
	int		 close = object ? '}' : ']';

	if (++jp->depth > JSON_MAX_DEPTH)
		return (json_error(jp, "nested deeper than %d",
		    JSON_MAX_DEPTH));
	jp->p++;
	j = json_new(object ? JSON_OBJECT : JSON_ARRAY);
	json_space(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		jp->depth--;
		return (j);
	}
	for (;;) {
		json_space(jp);
		if (object) {
			if (jp->p >= jp->end || *jp->p != '"') {
				json_error(jp, "expected a key");
				goto fail;
			}
			if ((key = json_string_raw(jp, &len)) == NULL)
				goto fail;
			json_space(jp);
			if (jp->p >= jp->end || *jp->p != ':') {
				json_error(jp, "expected ':'");
				goto fail;
			}
			jp->p++;
		}
		if ((item = json_value(jp)) == NULL)
			goto fail;
		item->key = key;
		key = NULL;
		json_append(j, item, &size);
		json_space(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			continue;
		}
		if (jp->p < jp->end && *jp->p == close) {
			jp->p++;
			break;
		}
		json_error(jp, "expected ',' or '%c'", close);
		goto fail;
	}
	if (object && (dup = json_duplicate(j)) != NULL) {
		json_error(jp, "duplicate key \"%s\"", dup);
		goto fail;
	}
	jp->depth--;
	return (j);

fail:
	free(key);
	json_free(j);
	return (NULL);
}

/* Any value. */
static struct json *
json_value(struct json_parser *jp)
{
	struct json	*j;
	char		*s;
	size_t		 len;

	json_space(jp);
	if (jp->p >= jp->end)
		return (json_error(jp, "unexpected end of text"));
	switch (*jp->p) {
	case '{':
		return (json_container(jp, 1));
	case '[':
		return (json_container(jp, 0));
	case '"':
		if ((s = json_string_raw(jp, &len)) == NULL)
			return (NULL);
		j = json_new(JSON_STRING);
		j->string = s;
		j->len = len;
		return (j);
	case 't':
		return (json_word(jp, "true", JSON_BOOL, 1));
	case 'f':
		return (json_word(jp, "false", JSON_BOOL, 0));
	case 'n':
		return (json_word(jp, "null", JSON_NULL, 0));
	default:
		if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9'))
			return (json_number(jp));
		return (json_error(jp, "unexpected character"));
	}
}

/*
 * Parse len bytes of JSON text (one value, white space around it).
 * Returns the tree, or NULL with a cause naming the line and column.
 */
struct json *
json_parse(const char *text, size_t len, char **cause)
{
	struct json_parser	 jp;
	struct json		*j;

	memset(&jp, 0, sizeof jp);
	jp.start = jp.p = (const unsigned char *)text;
	jp.end = jp.p + len;
	/* A byte order mark is not JSON, but editors write one. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		jp.p += 3;
	j = json_value(&jp);
	if (j != NULL) {
		json_space(&jp);
		if (jp.p != jp.end) {
			json_error(&jp, "text after the end of the value");
			json_free(j);
			j = NULL;
		}
	}
	if (j == NULL) {
		if (cause != NULL)
			*cause = jp.error;
		else
			free(jp.error);
	}
	return (j);
}

/* An object's member by key, or NULL (also when j is not an object). */
const struct json *
json_get(const struct json *j, const char *key)
{
	size_t	i;

	if (j == NULL || j->type != JSON_OBJECT)
		return (NULL);
	for (i = 0; i < j->n; i++)
		if (strcmp(j->items[i]->key, key) == 0)
			return (j->items[i]);
	return (NULL);
}

/* An array's (or object's) i-th item, or NULL. */
const struct json *
json_at(const struct json *j, size_t i)
{
	if (j == NULL || (j->type != JSON_ARRAY && j->type != JSON_OBJECT) ||
	    i >= j->n)
		return (NULL);
	return (j->items[i]);
}

/* A member's string value, or NULL if missing or not a string. */
const char *
json_get_string(const struct json *j, const char *key)
{
	const struct json	*v = json_get(j, key);

	if (v == NULL || v->type != JSON_STRING)
		return (NULL);
	return (v->string);
}

/* A member's integer value; 0, or -1 if missing or not an integer. */
int
json_get_int(const struct json *j, const char *key, int64_t *out)
{
	const struct json	*v = json_get(j, key);

	if (v == NULL || v->type != JSON_NUMBER || !v->is_integer)
		return (-1);
	*out = v->integer;
	return (0);
}

/* Write s as a JSON string, quotes included, escaping what must be. */
void
json_write_string(FILE *f, const char *s)
{
	const unsigned char	*u = (const unsigned char *)s, *end;
	size_t			 n;

	end = u + strlen(s);
	fputc('"', f);
	for (; *u != '\0'; u++) {
		if (*u >= 0x80) {
			/* Bytes that are not UTF-8 (a file name's) are
			 * written as U+FFFD, so the output stays JSON. */
			if ((n = json_utf8_valid(u, end)) == 0)
				fputs("\\ufffd", f);
			else {
				fwrite(u, 1, n, f);
				u += n - 1;
			}
		} else if (*u == '"' || *u == '\\')
			fprintf(f, "\\%c", *u);
		else if (*u == '\n')
			fputs("\\n", f);
		else if (*u == '\t')
			fputs("\\t", f);
		else if (*u < 0x20 || *u == 0x7f)
			fprintf(f, "\\u%04x", *u);
		else
			fputc(*u, f);
	}
	fputc('"', f);
}
