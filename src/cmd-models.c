/*
 * s4lab models: the model versions with their validation metrics.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s4lab.h"

static int	cmd_models_exec(int, char **);

static const char *cmd_models_options[] = { NULL };

const struct cmd_entry cmd_models_entry = {
	"models", "PROJECT", "list model versions and their metrics",
	cmd_models_options, cmd_models_exec
};

/* The text after "key": in a JSON object, or NULL. */
static const char *
models_field(const char *json, const char *key)
{
	char		*pat;
	const char	*p;

	xasprintf(&pat, "\"%s\":", key);
	p = strstr(json, pat);
	if (p != NULL)
		p += strlen(pat);
	free(pat);
	return (p);
}

/* A number field as text ("-" if absent or null). */
static void
models_num(const char *json, const char *key, char *buf, size_t size)
{
	const char	*p = models_field(json, key);
	char		*end;
	double		 v;

	snprintf(buf, size, "-");
	if (p == NULL)
		return;
	v = strtod(p, &end);
	if (end != p && isfinite(v))
		snprintf(buf, size, "%.4f", v);
}

/* The per-class IoU list as "name=0.52 ...", names from the classes. */
static void
models_iou(const char *json, const struct classes *cl)
{
	const char	*p = models_field(json, "iou");
	char		*end, *name;
	double		 v;
	int		 k;

	if (p == NULL || *p++ != '[')
		return;
	for (k = 0; *p != '\0' && *p != ']'; k++) {
		name = clean_text(k < cl->n ? cl->c[k].name : "?");
		if (strncmp(p, "null", 4) == 0) {
			p += 4;
		} else {
			v = strtod(p, &end);
			if (end == p) {
				free(name);
				return;
			}
			printf(" %s=%.3f", name, v);
			p = end;
		}
		free(name);
		if (*p == ',')
			p++;
	}
}

static int
cmd_models_exec(int argc, char **argv)
{
	struct store	*st;
	struct model	*m;
	struct classes	 cl;
	size_t		 n, i;
	char		*cause = NULL, when[32], miou[16], acc[16];
	time_t		 t;

	if (getopt_long(argc, argv, "", NULL, NULL) != -1 ||
	    argc - optind != 1) {
		cmd_usage(&cmd_models_entry, stderr);
		return (EXIT_USAGE);
	}
	if ((st = store_open(argv[optind], STORE_READONLY, &cause)) == NULL)
		goto fail;
	if (store_get_classes(st, &cl, &cause) != 0)
		goto fail;
	if (model_list(st, &m, &n, &cause) != 0)
		goto fail;
	printf("%-5s %-16s %-5s %-7s %-7s %s\n", "MODEL", "CREATED", "JOB",
	    "MIOU", "PIXACC", "IOU");
	for (i = 0; i < n; i++) {
		t = m[i].created;
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime(&t));
		models_num(m[i].metrics, "miou", miou, sizeof miou);
		models_num(m[i].metrics, "pixel_accuracy", acc, sizeof acc);
		printf("%-5lld %-16s %-5lld %-7s %-7s", (long long)m[i].id,
		    when, (long long)m[i].job_id, miou, acc);
		models_iou(m[i].metrics, &cl);
		putchar('\n');
		model_clear(&m[i]);
	}
	free(m);
	store_close(st);
	return (EXIT_OK);

fail:
	fprintf(stderr, "%s: %s\n", cmd_prefix, cause);
	free(cause);
	if (st != NULL)
		store_close(st);
	return (EXIT_FAIL);
}
