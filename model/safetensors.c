/*
 * safetensors.c: weights on disk.
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes
 * of JSON, then the data area.  The JSON is one object: each key names a
 * tensor {"dtype", "shape", "data_offsets": [begin, end]} whose bytes are
 * data[begin, end), and the optional key "__metadata__" is an object of
 * strings.  The reader trusts nothing: the header must lie inside the
 * file and under ST_MAXHEADER, be UTF-8 JSON with exactly those fields,
 * every tensor F32 with shape product * 4 equal to its byte range, and
 * the ranges, sorted, must tile the data area exactly (no overlap, no
 * hole, no trailing byte).  Nothing is allocated before the numbers it
 * depends on have been checked against the file's size.
 *
 * The JSON parser below reads only this grammar; any other JSON is
 * refused with the byte offset of the fault.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

#define ST_MAXHEADER	(100 * 1024 * 1024)
#define ST_MAXFILE	((uint64_t)1 << 40)
#define ST_MAXSTRING	1024

/* Parser state: the header bytes and where a fault was found. */
struct st_json {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
	char			 err[160];
};

/* One tensor as the header describes it, before its data is read. */
struct st_desc {
	char		 name[128];
	int		 ndim;
	int		 shape[TENSOR_MAXDIM];
	uint64_t	 begin, end;
};

/* Out of memory is fatal in model/ as in src/. */
static void *
st_realloc(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n, size)) == NULL) {
		fprintf(stderr, "safetensors: out of memory\n");
		abort();
	}
	return (p);
}

static char *
st_strdup(const char *s)
{
	char	*t;

	if ((t = strdup(s)) == NULL) {
		fprintf(stderr, "safetensors: out of memory\n");
		abort();
	}
	return (t);
}

static int
st_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	if (cause != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&s, fmt, ap) == -1)
			s = NULL;
		va_end(ap);
		*cause = s;
	}
	return (-1);
}

/* Record the first fault at the current offset; returns -1. */
static int
st_fail(struct st_json *js, const char *fmt, ...)
{
	va_list	ap;
	char	msg[120];

	if (js->err[0] != '\0')
		return (-1);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(js->err, sizeof js->err, "%s at header byte %zu", msg,
	    js->off);
	return (-1);
}

static void
st_space(struct st_json *js)
{
	while (js->off < js->len) {
		switch (js->p[js->off]) {
		case ' ': case '\t': case '\n': case '\r':
			js->off++;
			continue;
		}
		break;
	}
}

/* Expect the character c after optional white space. */
static int
st_expect(struct st_json *js, int c)
{
	st_space(js);
	if (js->off >= js->len)
		return (st_fail(js, "header ends early, expected '%c'", c));
	if (js->p[js->off] != c)
		return (st_fail(js, "expected '%c'", c));
	js->off++;
	return (0);
}

/* Peek at the next non-space character, -1 at the end. */
static int
st_peek(struct st_json *js)
{
	st_space(js);
	if (js->off >= js->len)
		return (-1);
	return (js->p[js->off]);
}

static int
st_hex4(struct st_json *js, unsigned *v)
{
	int	i, c;

	*v = 0;
	if (js->len - js->off < 4)
		return (st_fail(js, "short \\u escape"));
	for (i = 0; i < 4; i++) {
		c = js->p[js->off++];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return (st_fail(js, "bad \\u escape"));
	}
	return (0);
}

/* Append the UTF-8 form of code point cp to out. */
static int
st_put_utf8(struct st_json *js, char *out, size_t *n, size_t size,
    unsigned cp)
{
	unsigned char	b[4];
	size_t		k, i;

	if (cp < 0x80) {
		b[0] = cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		k = 3;
	} else {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		k = 4;
	}
	if (*n + k >= size)
		return (st_fail(js, "string longer than %zu bytes", size - 1));
	for (i = 0; i < k; i++)
		out[(*n)++] = b[i];
	return (0);
}

/* Length of the valid UTF-8 sequence at s (at most left bytes), or 0. */
static size_t
st_utf8_len(const unsigned char *s, size_t left)
{
	unsigned	cp, min;
	size_t		k, i;

	if (s[0] < 0x80)
		return (1);
	if ((s[0] & 0xe0) == 0xc0) {
		k = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		k = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		k = 4; cp = s[0] & 0x07; min = 0x10000;
	} else
		return (0);
	if (k > left)
		return (0);
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (k);
}

/* A JSON string into out (NUL-terminated, at most size - 1 bytes). */
static int
st_string(struct st_json *js, char *out, size_t size)
{
	size_t		n = 0, k;
	unsigned	cp, lo;
	int		c;

	if (st_expect(js, '"') != 0)
		return (-1);
	for (;;) {
		if (js->off >= js->len)
			return (st_fail(js, "unterminated string"));
		c = js->p[js->off];
		if (c == '"') {
			js->off++;
			break;
		}
		if (c < 0x20)
			return (st_fail(js, "control character in string"));
		if (c != '\\') {
			k = st_utf8_len(js->p + js->off, js->len - js->off);
			if (k == 0)
				return (st_fail(js, "header is not UTF-8"));
			if (n + k >= size)
				return (st_fail(js,
				    "string longer than %zu bytes", size - 1));
			memcpy(out + n, js->p + js->off, k);
			n += k;
			js->off += k;
			continue;
		}
		js->off++;
		if (js->off >= js->len)
			return (st_fail(js, "unterminated string"));
		c = js->p[js->off++];
		switch (c) {
		case '"': case '\\': case '/':
			cp = c;
			break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (st_hex4(js, &cp) != 0)
				return (-1);
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return (st_fail(js, "lone low surrogate"));
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (js->len - js->off < 2 ||
				    js->p[js->off] != '\\' ||
				    js->p[js->off + 1] != 'u')
					return (st_fail(js,
					    "lone high surrogate"));
				js->off += 2;
				if (st_hex4(js, &lo) != 0)
					return (-1);
				if (lo < 0xdc00 || lo > 0xdfff)
					return (st_fail(js,
					    "bad surrogate pair"));
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			break;
		default:
			return (st_fail(js, "bad escape '\\%c'", c));
		}
		if (cp == 0)
			return (st_fail(js, "NUL in string"));
		if (st_put_utf8(js, out, &n, size, cp) != 0)
			return (-1);
	}
	out[n] = '\0';
	return (0);
}

/* A non-negative JSON integer that fits in 64 bits. */
static int
st_uint(struct st_json *js, uint64_t *v)
{
	int	c, digits = 0;

	st_space(js);
	*v = 0;
	if (js->off < js->len && js->p[js->off] == '-')
		return (st_fail(js, "negative number"));
	while (js->off < js->len) {
		c = js->p[js->off];
		if (c < '0' || c > '9')
			break;
		if (digits == 1 && *v == 0)
			return (st_fail(js, "number with a leading zero"));
		if (*v > (UINT64_MAX - (c - '0')) / 10)
			return (st_fail(js, "number too large"));
		*v = *v * 10 + (c - '0');
		digits++;
		js->off++;
	}
	if (digits == 0)
		return (st_fail(js, "expected a non-negative integer"));
	if (js->off < js->len) {
		c = js->p[js->off];
		if (c == '.' || c == 'e' || c == 'E')
			return (st_fail(js, "expected an integer"));
	}
	return (0);
}

/* [a, b, ...] of at most max integers; *n gets the count. */
static int
st_uint_array(struct st_json *js, uint64_t *v, int max, int *n)
{
	*n = 0;
	if (st_expect(js, '[') != 0)
		return (-1);
	if (st_peek(js) == ']') {
		js->off++;
		return (0);
	}
	for (;;) {
		if (*n == max)
			return (st_fail(js, "more than %d numbers", max));
		if (st_uint(js, &v[*n]) != 0)
			return (-1);
		(*n)++;
		if (st_peek(js) == ',') {
			js->off++;
			continue;
		}
		return (st_expect(js, ']'));
	}
}

/* Add one metadata pair, refusing a repeated key. */
static int
st_meta_add(struct st_json *js, struct st_file *st, const char *k,
    const char *v)
{
	int	n, i;

	for (n = 0; st->meta_keys[n] != NULL; n++) {
		if (strcmp(st->meta_keys[n], k) == 0)
			return (st_fail(js, "metadata key \"%s\" repeated", k));
	}
	st->meta_keys = st_realloc(st->meta_keys, n + 2, sizeof (char *));
	st->meta_values = st_realloc(st->meta_values, n + 2,
	    sizeof (char *));
	for (i = n; i < n + 2; i++)
		st->meta_keys[i] = st->meta_values[i] = NULL;
	st->meta_keys[n] = st_strdup(k);
	st->meta_values[n] = st_strdup(v);
	return (0);
}

/* "__metadata__": {"key": "value", ...}. */
static int
st_metadata(struct st_json *js, struct st_file *st)
{
	char	k[ST_MAXSTRING], v[ST_MAXSTRING];

	if (st->meta_keys[0] != NULL)
		return (st_fail(js, "__metadata__ repeated"));
	if (st_expect(js, '{') != 0)
		return (-1);
	if (st_peek(js) == '}') {
		js->off++;
		return (0);
	}
	for (;;) {
		if (st_string(js, k, sizeof k) != 0 ||
		    st_expect(js, ':') != 0)
			return (-1);
		if (st_peek(js) != '"')
			return (st_fail(js, "metadata value is not a string"));
		if (st_string(js, v, sizeof v) != 0 ||
		    st_meta_add(js, st, k, v) != 0)
			return (-1);
		if (st_peek(js) == ',') {
			js->off++;
			continue;
		}
		return (st_expect(js, '}'));
	}
}

/* The dtype string: F32 only, others refused by name. */
static int
st_dtype(struct st_json *js, const char *name)
{
	static const char *known[] = { "F64", "F16", "BF16", "I64", "I32",
	    "I16", "I8", "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3",
	    "F8_E5M2", NULL };
	char	dt[32];
	int	i;

	if (st_string(js, dt, sizeof dt) != 0)
		return (-1);
	if (strcmp(dt, "F32") == 0)
		return (0);
	for (i = 0; known[i] != NULL; i++) {
		if (strcmp(dt, known[i]) == 0)
			return (st_fail(js, "tensor \"%s\": dtype %s is not "
			    "supported (F32 only)", name, dt));
	}
	return (st_fail(js, "tensor \"%s\": unknown dtype", name));
}

/* One tensor's description {"dtype", "shape", "data_offsets"}. */
static int
st_tensor(struct st_json *js, struct st_desc *d)
{
	char		key[32];
	uint64_t	v[TENSOR_MAXDIM + 1];
	int		seen = 0, bit, n, i;

	if (st_expect(js, '{') != 0)
		return (-1);
	if (st_peek(js) == '}')
		return (st_fail(js, "tensor \"%s\" is empty", d->name));
	for (;;) {
		if (st_string(js, key, sizeof key) != 0 ||
		    st_expect(js, ':') != 0)
			return (-1);
		if (strcmp(key, "dtype") == 0) {
			bit = 1;
			if (st_dtype(js, d->name) != 0)
				return (-1);
		} else if (strcmp(key, "shape") == 0) {
			bit = 2;
			if (st_uint_array(js, v, TENSOR_MAXDIM + 1, &n) != 0)
				return (-1);
			if (n > TENSOR_MAXDIM)
				return (st_fail(js, "tensor \"%s\" has more "
				    "than %d dimensions", d->name,
				    TENSOR_MAXDIM));
			for (i = 0; i < n; i++) {
				if (v[i] == 0 || v[i] > INT32_MAX)
					return (st_fail(js, "tensor \"%s\": "
					    "dimension %d is %llu", d->name, i,
					    (unsigned long long)v[i]));
				d->shape[i] = v[i];
			}
			d->ndim = n;
		} else if (strcmp(key, "data_offsets") == 0) {
			bit = 4;
			if (st_uint_array(js, v, 3, &n) != 0)
				return (-1);
			if (n != 2)
				return (st_fail(js, "tensor \"%s\": "
				    "data_offsets needs two numbers",
				    d->name));
			d->begin = v[0];
			d->end = v[1];
		} else
			return (st_fail(js, "tensor \"%s\": unknown field "
			    "\"%s\"", d->name, key));
		if (seen & bit)
			return (st_fail(js, "tensor \"%s\": field \"%s\" "
			    "repeated", d->name, key));
		seen |= bit;
		if (st_peek(js) == ',') {
			js->off++;
			continue;
		}
		if (st_expect(js, '}') != 0)
			return (-1);
		break;
	}
	if (seen != 7)
		return (st_fail(js, "tensor \"%s\" lacks dtype, shape or "
		    "data_offsets", d->name));
	return (0);
}

/* The whole header: { name: tensor | "__metadata__": {...}, ... }. */
static int
st_header(struct st_json *js, struct st_file *st, struct st_desc **descp,
    int *ndesc)
{
	struct st_desc	*desc = NULL, *d;
	char		 name[ST_MAXSTRING];
	int		 n = 0, i;

	*descp = NULL;
	*ndesc = 0;
	if (js->len == 0 || js->p[0] != '{')
		return (st_fail(js, "header is not a JSON object"));
	if (st_expect(js, '{') != 0)
		return (-1);
	if (st_peek(js) == '}')
		js->off++;
	else for (;;) {
		if (st_string(js, name, sizeof name) != 0 ||
		    st_expect(js, ':') != 0)
			goto fail;
		if (strcmp(name, "__metadata__") == 0) {
			if (st_metadata(js, st) != 0)
				goto fail;
		} else {
			if (strlen(name) >= sizeof d->name) {
				st_fail(js, "tensor name longer than %zu bytes",
				    sizeof d->name - 1);
				goto fail;
			}
			for (i = 0; i < n; i++) {
				if (strcmp(desc[i].name, name) == 0) {
					st_fail(js, "tensor \"%s\" repeated",
					    name);
					goto fail;
				}
			}
			desc = st_realloc(desc, n + 1, sizeof *desc);
			d = &desc[n++];
			memset(d, 0, sizeof *d);
			memcpy(d->name, name, strlen(name) + 1);
			if (st_tensor(js, d) != 0)
				goto fail;
		}
		if (st_peek(js) == ',') {
			js->off++;
			continue;
		}
		if (st_expect(js, '}') != 0)
			goto fail;
		break;
	}

	/* Only spaces may pad the header after the object. */
	while (js->off < js->len && js->p[js->off] == ' ')
		js->off++;
	if (js->off != js->len) {
		st_fail(js, "bytes after the header's JSON object");
		goto fail;
	}
	*descp = desc;
	*ndesc = n;
	return (0);

fail:
	free(desc);
	return (-1);
}

static int
st_desc_cmp(const void *a, const void *b)
{
	const struct st_desc	*da = a, *db = b;

	if (da->begin != db->begin)
		return (da->begin < db->begin ? -1 : 1);
	return (da->end < db->end ? -1 : da->end > db->end);
}

/* Check each range against its shape, then that the ranges tile data. */
static int
st_check_ranges(struct st_desc *desc, int n, uint64_t datalen,
    const char *path, char **cause)
{
	uint64_t	bytes, at = 0;
	int		i, j;

	for (i = 0; i < n; i++) {
		struct st_desc	*d = &desc[i];

		if (d->end < d->begin)
			return (st_cause(cause, "%s: tensor \"%s\": "
			    "data_offsets reversed (%llu > %llu)", path,
			    d->name, (unsigned long long)d->begin,
			    (unsigned long long)d->end));
		if (d->end > datalen)
			return (st_cause(cause, "%s: tensor \"%s\": "
			    "data_offsets end %llu past the data (%llu "
			    "bytes)", path, d->name, (unsigned long long)d->end,
			    (unsigned long long)datalen));
		/* Each dimension is below 2^31: check every product. */
		bytes = 4;
		for (j = 0; j < d->ndim; j++) {
			if ((uint64_t)d->shape[j] > datalen / bytes) {
				bytes = UINT64_MAX;
				break;
			}
			bytes *= (uint64_t)d->shape[j];
		}
		if (bytes != d->end - d->begin)
			return (st_cause(cause, "%s: tensor \"%s\": shape "
			    "needs %s%llu bytes but data_offsets span %llu",
			    path, d->name,
			    bytes == UINT64_MAX ? "more than " : "",
			    (unsigned long long)(bytes == UINT64_MAX ?
			    datalen : bytes),
			    (unsigned long long)(d->end - d->begin)));
	}

	if (n > 1)
		qsort(desc, n, sizeof *desc, st_desc_cmp);
	for (i = 0; i < n; i++) {
		if (desc[i].begin < at)
			return (st_cause(cause, "%s: tensors \"%s\" and \"%s\" "
			    "overlap", path, desc[i - 1].name, desc[i].name));
		if (desc[i].begin > at)
			return (st_cause(cause, "%s: hole in the data before "
			    "tensor \"%s\" (bytes %llu to %llu unused)", path,
			    desc[i].name, (unsigned long long)at,
			    (unsigned long long)desc[i].begin));
		at = desc[i].end;
	}
	if (at != datalen)
		return (st_cause(cause, "%s: %llu trailing bytes after the "
		    "last tensor", path, (unsigned long long)(datalen - at)));
	return (0);
}

static uint32_t
st_le32(const unsigned char *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

static void
st_init(struct st_file *st)
{
	memset(st, 0, sizeof *st);
	st->meta_keys = st_realloc(NULL, 1, sizeof (char *));
	st->meta_values = st_realloc(NULL, 1, sizeof (char *));
	st->meta_keys[0] = st->meta_values[0] = NULL;
}

int
st_parse(const unsigned char *buf, size_t len, const char *path,
    struct st_file *st, char **cause)
{
	struct st_json	 js;
	struct st_desc	*desc = NULL;
	uint64_t	 hlen, datalen;
	const unsigned char *data;
	size_t		 k;
	int		 n, i;
	uint32_t	 u;

	st_init(st);
	if (len < 8) {
		st_cause(cause, "%s: too short for a safetensors file (%zu "
		    "bytes)", path, len);
		goto fail;
	}
	hlen = 0;
	for (i = 7; i >= 0; i--)
		hlen = hlen << 8 | buf[i];
	if (hlen > ST_MAXHEADER) {
		st_cause(cause, "%s: header length %llu over the limit of %d "
		    "bytes", path, (unsigned long long)hlen, ST_MAXHEADER);
		goto fail;
	}
	if (hlen > len - 8) {
		st_cause(cause, "%s: header length %llu past the end of the "
		    "file (%zu bytes)", path, (unsigned long long)hlen, len);
		goto fail;
	}

	memset(&js, 0, sizeof js);
	js.p = buf + 8;
	js.len = hlen;
	if (st_header(&js, st, &desc, &n) != 0) {
		st_cause(cause, "%s: bad header: %s", path, js.err);
		goto fail;
	}
	datalen = len - 8 - hlen;
	data = buf + 8 + hlen;
	if (st_check_ranges(desc, n, datalen, path, cause) != 0)
		goto fail;

	/* Every number is checked: now the tensors can be made. */
	st->e = st_realloc(NULL, n > 0 ? n : 1, sizeof *st->e);
	memset(st->e, 0, (n > 0 ? n : 1) * sizeof *st->e);
	for (i = 0; i < n; i++) {
		struct st_desc	*d = &desc[i];
		int		 one = 1;

		snprintf(st->e[i].name, sizeof st->e[i].name, "%s",
		    d->name);
		if (d->ndim == 0)
			st->e[i].t = tensor_new(1, &one);
		else
			st->e[i].t = tensor_new(d->ndim, d->shape);
		st->n++;
		for (k = 0; k < st->e[i].t->n; k++) {
			u = st_le32(data + d->begin + 4 * k);
			memcpy(&st->e[i].t->data[k], &u, 4);
		}
	}
	free(desc);
	return (0);

fail:
	free(desc);
	st_free(st);
	return (-1);
}

int
st_read(const char *path, struct st_file *st, char **cause)
{
	struct stat	 sb;
	unsigned char	*buf;
	size_t		 got;
	ssize_t		 r;
	int		 fd, rc;

	memset(st, 0, sizeof *st);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (st_cause(cause, "%s: %s", path, strerror(errno)));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return (st_cause(cause, "%s: not a regular file", path));
	}
	if ((uint64_t)sb.st_size > ST_MAXFILE) {
		close(fd);
		return (st_cause(cause, "%s: file too large", path));
	}
	if ((buf = malloc(sb.st_size > 0 ? sb.st_size : 1)) == NULL) {
		close(fd);
		return (st_cause(cause, "%s: out of memory", path));
	}
	for (got = 0; got < (size_t)sb.st_size; got += r) {
		r = read(fd, buf + got, sb.st_size - got);
		if (r == -1 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0) {
			free(buf);
			close(fd);
			return (st_cause(cause, "%s: %s", path, r == 0 ?
			    "file shrank while read" : strerror(errno)));
		}
	}
	close(fd);
	rc = st_parse(buf, got, path, st, cause);
	free(buf);
	return (rc);
}

/* Grow a string buffer and append formatted text. */
static void
st_append(char **s, size_t *len, size_t *size, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*s + *len, *size - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (*len + n < *size) {
			*len += n;
			return;
		}
		*size = (*size + n) * 2;
		if ((*s = realloc(*s, *size)) == NULL)
			abort();
	}
}

/* Append a JSON string (names and metadata are plain UTF-8). */
static void
st_append_string(char **s, size_t *len, size_t *size, const char *v)
{
	const unsigned char	*p;

	st_append(s, len, size, "\"");
	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			st_append(s, len, size, "\\%c", *p);
		else if (*p < 0x20)
			st_append(s, len, size, "\\u%04x", *p);
		else
			st_append(s, len, size, "%c", *p);
	}
	st_append(s, len, size, "\"");
}

/* The header JSON, padded with spaces to a multiple of 8 bytes. */
static char *
st_make_header(const struct st_file *st, size_t *hlen)
{
	char		*s;
	size_t		 len = 0, size = 256;
	uint64_t	 at = 0, bytes;
	int		 i, j;

	if ((s = malloc(size)) == NULL)
		abort();
	st_append(&s, &len, &size, "{");
	if (st->meta_keys != NULL && st->meta_keys[0] != NULL) {
		st_append(&s, &len, &size, "\"__metadata__\":{");
		for (i = 0; st->meta_keys[i] != NULL; i++) {
			if (i > 0)
				st_append(&s, &len, &size, ",");
			st_append_string(&s, &len, &size, st->meta_keys[i]);
			st_append(&s, &len, &size, ":");
			st_append_string(&s, &len, &size, st->meta_values[i]);
		}
		st_append(&s, &len, &size, "}");
	}
	for (i = 0; i < st->n; i++) {
		const struct tensor	*t = st->e[i].t;

		if (i > 0 || (st->meta_keys != NULL &&
		    st->meta_keys[0] != NULL))
			st_append(&s, &len, &size, ",");
		st_append_string(&s, &len, &size, st->e[i].name);
		st_append(&s, &len, &size, ":{\"dtype\":\"F32\",\"shape\":[");
		for (j = 0; j < t->ndim; j++)
			st_append(&s, &len, &size, "%s%d", j > 0 ? "," : "",
			    t->shape[j]);
		bytes = 4 * (uint64_t)t->n;
		st_append(&s, &len, &size, "],\"data_offsets\":[%llu,%llu]}",
		    (unsigned long long)at, (unsigned long long)(at + bytes));
		at += bytes;
	}
	st_append(&s, &len, &size, "}");
	while (len % 8 != 0)
		st_append(&s, &len, &size, " ");
	*hlen = len;
	return (s);
}

static int
st_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 r;

	while (len > 0) {
		r = write(fd, p, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		len -= r;
	}
	return (0);
}

/* Write the tensors' floats little-endian, a block at a time. */
static int
st_write_data(int fd, const struct st_file *st)
{
	unsigned char	 buf[16384];
	size_t		 k, used;
	uint32_t	 u;
	int		 i;

	for (i = 0; i < st->n; i++) {
		const struct tensor	*t = st->e[i].t;

		used = 0;
		for (k = 0; k < t->n; k++) {
			memcpy(&u, &t->data[k], 4);
			buf[used++] = u;
			buf[used++] = u >> 8;
			buf[used++] = u >> 16;
			buf[used++] = u >> 24;
			if (used == sizeof buf) {
				if (st_write_all(fd, buf, used) != 0)
					return (-1);
				used = 0;
			}
		}
		if (used > 0 && st_write_all(fd, buf, used) != 0)
			return (-1);
	}
	return (0);
}

int
st_write(const char *path, const struct st_file *st, char **cause)
{
	unsigned char	 lenbuf[8];
	char		*hdr, *tmp = NULL;
	size_t		 hlen;
	int		 fd = -1, i, rc = -1, saved;

	for (i = 0; i < st->n; i++) {
		if (strlen(st->e[i].name) == 0 ||
		    strcmp(st->e[i].name, "__metadata__") == 0)
			return (st_cause(cause, "%s: bad tensor name \"%s\"",
			    path, st->e[i].name));
	}
	hdr = st_make_header(st, &hlen);
	for (i = 0; i < 8; i++)
		lenbuf[i] = (uint64_t)hlen >> (8 * i);

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) == -1) {
		tmp = NULL;
		st_cause(cause, "%s: out of memory", path);
		goto out;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		st_cause(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (st_write_all(fd, lenbuf, 8) != 0 ||
	    st_write_all(fd, hdr, hlen) != 0 ||
	    st_write_data(fd, st) != 0 || fsync(fd) != 0) {
		saved = errno;
		st_cause(cause, "%s: write: %s", tmp, strerror(saved));
		goto out;
	}
	if (fchmod(fd, 0644) != 0 || close(fd) != 0) {
		fd = -1;
		st_cause(cause, "%s: close: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		st_cause(cause, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	rc = 0;

out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(hdr);
	return (rc);
}

struct tensor *
st_find(const struct st_file *st, const char *name)
{
	int	i;

	for (i = 0; i < st->n; i++) {
		if (strcmp(st->e[i].name, name) == 0)
			return (st->e[i].t);
	}
	return (NULL);
}

const char *
st_meta(const struct st_file *st, const char *key)
{
	int	i;

	if (st->meta_keys == NULL)
		return (NULL);
	for (i = 0; st->meta_keys[i] != NULL; i++) {
		if (strcmp(st->meta_keys[i], key) == 0)
			return (st->meta_values[i]);
	}
	return (NULL);
}

void
st_free(struct st_file *st)
{
	int	i;

	for (i = 0; i < st->n; i++)
		tensor_free(st->e[i].t);
	free(st->e);
	if (st->meta_keys != NULL) {
		for (i = 0; st->meta_keys[i] != NULL; i++) {
			free(st->meta_keys[i]);
			free(st->meta_values[i]);
		}
	}
	free(st->meta_keys);
	free(st->meta_values);
	memset(st, 0, sizeof *st);
}
