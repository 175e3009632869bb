/*
 * The metrics registry and the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * A series renders its label pairs once, when created, so an exposition is
 * string copies plus number formatting; histograms keep per-bucket counts and
 * make them cumulative while rendering.
 */
#include "metrics/metrics.h"
#include "core/err.h"
#include "core/log.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum metric_type { M_COUNTER, M_GAUGE, M_HISTOGRAM };

static const char *const type_name[] = {"counter", "gauge", "histogram"};

struct metric_series {
	struct metric_series *next;
	struct metric *fam;
	char *values[METRICS_MAX_LABELS];
	char *pairs; /* span="1",direction="out" (escaped), "" without labels */
	double v;
	double sum;
	uint64_t count;
	uint64_t buckets[METRICS_MAX_BUCKETS]; /* per bucket, not cumulative */
};

struct metric {
	struct metric *next;
	struct metrics *reg;
	enum metric_type type;
	char *name, *help;
	char *labels[METRICS_MAX_LABELS];
	unsigned nlabels;
	double bounds[METRICS_MAX_BUCKETS];
	unsigned nbounds;
	struct metric_series *series, **stail;
	unsigned nseries, max_series;
};

struct collect {
	metrics_collect_h *h;
	void *arg;
};

struct metrics {
	struct metric *fams, **ftail;
	struct collect *hooks;
	size_t nhooks;
	struct metric_series *refused;
};

const double metrics_buckets_setup[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30};
const unsigned metrics_nbuckets_setup = ARRAY_SIZE(metrics_buckets_setup);
const double metrics_buckets_duration[] = {5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200};
const unsigned metrics_nbuckets_duration = ARRAY_SIZE(metrics_buckets_duration);
const double metrics_buckets_jitter[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16};
const unsigned metrics_nbuckets_jitter = ARRAY_SIZE(metrics_buckets_jitter);

/* ---- a growable text buffer ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* HELP text escapes \ and newline; label values also escape the double quote. */
static void sb_escaped(struct sbuf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_put(b, "\\\\", 2);
		else if (*s == '\n')
			sb_put(b, "\\n", 2);
		else if (*s == '"' && quote)
			sb_put(b, "\\\"", 2);
		else
			sb_put(b, s, 1);
	}
}

/* Go's ParseFloat reads all of these; integers print without an exponent. */
static const char *fmt_value(double v, char *buf, size_t n)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, n, "%.0f", v);
		return buf;
	}
	snprintf(buf, n, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, n, "%.17g", v);
	return buf;
}

/* ---- names ---- */

static bool valid_name(const char *s, bool metric)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	if (!metric && s[0] == '_' && s[1] == '_')
		return false; /* reserved for Prometheus */
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (metric && c == ':')))
			return false;
	}
	return true;
}

static int split_labels(struct metric *f, const char *labels)
{
	const char *s = labels;

	while (s && *s) {
		const char *e = strchr(s, ',');
		size_t l = e ? (size_t)(e - s) : strlen(s);

		if (f->nlabels == METRICS_MAX_LABELS)
			return EINVAL;
		f->labels[f->nlabels] = strndup(s, l);
		if (!f->labels[f->nlabels])
			return ENOMEM;
		if (!valid_name(f->labels[f->nlabels++], false))
			return EINVAL;
		if (f->type == M_HISTOGRAM && !strcmp(f->labels[f->nlabels - 1], "le"))
			return EINVAL;
		for (unsigned i = 0; i + 1 < f->nlabels; i++)
			if (!strcmp(f->labels[i], f->labels[f->nlabels - 1]))
				return EINVAL;
		s = e ? e + 1 : NULL;
		if (e && !*s)
			return EINVAL;
	}
	return 0;
}

/* ---- series ---- */

static void series_free(struct metric_series *s)
{
	for (unsigned i = 0; i < METRICS_MAX_LABELS; i++)
		free(s->values[i]);
	free(s->pairs);
	free(s);
}

static struct metric_series *series_new(struct metric *f, const char *const *values)
{
	struct metric_series *s = calloc(1, sizeof(*s));
	struct sbuf b = {0};

	if (!s)
		return NULL;
	s->fam = f;
	sb_put(&b, "", 0);
	for (unsigned i = 0; i < f->nlabels; i++) {
		s->values[i] = strdup(values[i] ? values[i] : "");
		if (!s->values[i])
			b.err = ENOMEM;
		if (i)
			sb_put(&b, ",", 1);
		sb_str(&b, f->labels[i]);
		sb_put(&b, "=\"", 2);
		sb_escaped(&b, values[i] ? values[i] : "", true);
		sb_put(&b, "\"", 1);
	}
	s->pairs = b.p;
	if (b.err) {
		series_free(s);
		return NULL;
	}
	return s;
}

static bool series_match(const struct metric_series *s, const char *const *values)
{
	for (unsigned i = 0; i < s->fam->nlabels; i++)
		if (strcmp(s->values[i], values[i] ? values[i] : ""))
			return false;
	return true;
}

struct metric_series *metric_get(struct metric *f, const char *const *values)
{
	struct metric_series *s;

	if (!f)
		return NULL;
	if (f->nlabels == 0)
		return f->series;
	if (!values)
		return NULL;
	for (s = f->series; s; s = s->next)
		if (series_match(s, values))
			return s;
	if (f->nseries >= f->max_series) {
		if (!f->reg->refused || f->reg->refused->v == 0)
			LOGW("metrics", "%s: more than %u series, refusing new label values",
			     f->name, f->max_series);
		metric_inc(f->reg->refused);
		return NULL;
	}
	s = series_new(f, values);
	if (!s)
		return NULL;
	*f->stail = s;
	f->stail = &s->next;
	f->nseries++;
	return s;
}

void metric_remove(struct metric *f, const char *const *values)
{
	struct metric_series **pp;

	if (!f || !values || f->nlabels == 0)
		return;
	for (pp = &f->series; *pp; pp = &(*pp)->next) {
		struct metric_series *s = *pp;

		if (!series_match(s, values))
			continue;
		*pp = s->next;
		if (f->stail == &s->next)
			f->stail = pp;
		f->nseries--;
		series_free(s);
		return;
	}
}

void metric_inc(struct metric_series *s)
{
	metric_add(s, 1);
}

void metric_add(struct metric_series *s, double v)
{
	if (!s || s->fam->type == M_HISTOGRAM)
		return;
	if (s->fam->type == M_COUNTER && !(v >= 0))
		return; /* a counter only goes up (NaN fails the test too) */
	s->v += v;
}

void metric_set(struct metric_series *s, double v)
{
	if (s && s->fam->type == M_GAUGE)
		s->v = v;
}

void metric_observe(struct metric_series *s, double v)
{
	unsigned i;

	if (!s || s->fam->type != M_HISTOGRAM || isnan(v))
		return;
	for (i = 0; i < s->fam->nbounds && v > s->fam->bounds[i]; i++)
		;
	if (i < s->fam->nbounds)
		s->buckets[i]++;
	s->sum += v;
	s->count++;
}

double metric_value(const struct metric_series *s)
{
	if (!s)
		return 0;
	return s->fam->type == M_HISTOGRAM ? (double)s->count : s->v;
}

/* ---- families ---- */

static void family_free(struct metric *f)
{
	while (f->series) {
		struct metric_series *s = f->series;
		f->series = s->next;
		series_free(s);
	}
	for (unsigned i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f);
}

static int family_add(struct metrics *m, struct metric **fp, enum metric_type type,
                      const char *name, const char *help, const char *labels)
{
	struct metric *f;
	int err;

	if (!m || !valid_name(name, true))
		return EINVAL;
	for (f = m->fams; f; f = f->next)
		if (!strcmp(f->name, name))
			return EEXIST;
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->reg = m;
	f->type = type;
	f->max_series = METRICS_MAX_SERIES;
	f->stail = &f->series;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	err = f->name && f->help ? split_labels(f, labels) : ENOMEM;
	if (!err && f->nlabels == 0) {
		f->series = series_new(f, NULL);
		if (!f->series)
			err = ENOMEM;
		else
			f->stail = &f->series->next;
		f->nseries = 1;
	}
	if (err) {
		family_free(f);
		return err;
	}
	*m->ftail = f;
	m->ftail = &f->next;
	if (fp)
		*fp = f;
	return 0;
}

int metrics_counter(struct metrics *m, struct metric **fp, const char *name, const char *help,
                    const char *labels)
{
	return family_add(m, fp, M_COUNTER, name, help, labels);
}

int metrics_gauge(struct metrics *m, struct metric **fp, const char *name, const char *help,
                  const char *labels)
{
	return family_add(m, fp, M_GAUGE, name, help, labels);
}

int metrics_histogram(struct metrics *m, struct metric **fp, const char *name, const char *help,
                      const char *labels, const double *bounds, unsigned nbounds)
{
	struct metric *f;
	int err;

	if (!bounds || nbounds == 0 || nbounds > METRICS_MAX_BUCKETS)
		return EINVAL;
	for (unsigned i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
			return EINVAL;
	err = family_add(m, &f, M_HISTOGRAM, name, help, labels);
	if (err)
		return err;
	memcpy(f->bounds, bounds, nbounds * sizeof(*bounds));
	f->nbounds = nbounds;
	if (fp)
		*fp = f;
	return 0;
}

void metric_set_max_series(struct metric *f, unsigned max)
{
	if (f && f->nlabels)
		f->max_series = max;
}

int metrics_alloc(struct metrics **mp)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct metric *f;
	int err;

	if (!m)
		return ENOMEM;
	m->ftail = &m->fams;
	err = metrics_counter(m, &f, "tandem_metrics_series_refused_total",
	                      "Label sets refused because a family reached its series cap.", NULL);
	if (err) {
		metrics_free(m);
		return err;
	}
	m->refused = f->series;
	err = metrics_gauge(m, &f, "tandem_build_info", "Tandem's version, as a label.", "version");
	if (!err)
		metric_set(metric_get(f, METRIC_LABELS(TANDEM_VERSION)), 1);
	if (!err)
		err = metrics_gauge(m, &f, "process_start_time_seconds",
		                    "Start time of the process since the Unix epoch in seconds.",
		                    NULL);
	if (err) {
		metrics_free(m);
		return err;
	}
	metric_set(f->series, (double)time(NULL));
	*mp = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	while (m->fams) {
		struct metric *f = m->fams;
		m->fams = f->next;
		family_free(f);
	}
	free(m->hooks);
	free(m);
}

int metrics_on_collect(struct metrics *m, metrics_collect_h *h, void *arg)
{
	struct collect *c = realloc(m->hooks, (m->nhooks + 1) * sizeof(*c));

	if (!c)
		return ENOMEM;
	m->hooks = c;
	m->hooks[m->nhooks++] = (struct collect){h, arg};
	return 0;
}

/* ---- exposition ---- */

/* name{pairs[,extra]} value\n */
static void sample(struct sbuf *b, const char *name, const char *suffix, const char *pairs,
                   const char *extra, double v)
{
	char num[40];
	bool braces = *pairs || extra;

	sb_str(b, name);
	sb_str(b, suffix);
	if (braces) {
		sb_put(b, "{", 1);
		sb_str(b, pairs);
		if (*pairs && extra)
			sb_put(b, ",", 1);
		if (extra)
			sb_str(b, extra);
		sb_put(b, "}", 1);
	}
	sb_put(b, " ", 1);
	sb_str(b, fmt_value(v, num, sizeof(num)));
	sb_put(b, "\n", 1);
}

static void render_histogram(struct sbuf *b, const struct metric *f, const struct metric_series *s)
{
	char le[48], num[40];
	uint64_t cum = 0;

	for (unsigned i = 0; i < f->nbounds; i++) {
		cum += s->buckets[i];
		snprintf(le, sizeof(le), "le=\"%s\"", fmt_value(f->bounds[i], num, sizeof(num)));
		sample(b, f->name, "_bucket", s->pairs, le, (double)cum);
	}
	sample(b, f->name, "_bucket", s->pairs, "le=\"+Inf\"", (double)s->count);
	sample(b, f->name, "_sum", s->pairs, NULL, s->sum);
	sample(b, f->name, "_count", s->pairs, NULL, (double)s->count);
}

int metrics_render(struct metrics *m, char **textp, size_t *lenp)
{
	struct sbuf b = {0};

	for (size_t i = 0; i < m->nhooks; i++)
		m->hooks[i].h(m, m->hooks[i].arg);
	sb_put(&b, "", 0);
	for (const struct metric *f = m->fams; f; f = f->next) {
		if (!f->series)
			continue; /* as client libraries do: no samples, no family */
		sb_str(&b, "# HELP ");
		sb_str(&b, f->name);
		sb_put(&b, " ", 1);
		sb_escaped(&b, f->help, false);
		sb_str(&b, "\n# TYPE ");
		sb_str(&b, f->name);
		sb_put(&b, " ", 1);
		sb_str(&b, type_name[f->type]);
		sb_put(&b, "\n", 1);
		for (const struct metric_series *s = f->series; s; s = s->next) {
			if (f->type == M_HISTOGRAM)
				render_histogram(&b, f, s);
			else
				sample(&b, f->name, "", s->pairs, NULL, s->v);
		}
	}
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*textp = b.p;
	*lenp = b.len;
	return 0;
}
