/*
 * The span front end: checks arguments once so backends need not, keeps the
 * alarm state, and routes calls through the backend's ops table.
 */
#include "tdm/span/span.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned span_type_nslots(enum span_type type)
{
	return type == SPAN_T1 ? 24 : 31;
}

void span_conf_default(struct span_conf *c, unsigned num, enum span_type type)
{
	memset(c, 0, sizeof(*c));
	c->num = num;
	c->first_chan = 1;
	c->type = type;
	if (type == SPAN_T1) {
		c->framing = SPAN_FRAMING_ESF;
		c->coding = SPAN_CODING_B8ZS;
		for (unsigned ts = 1; ts <= 23; ts++)
			c->bchans |= 1u << ts;
		c->dchan = 24;
		c->law = SPAN_ULAW;
	} else {
		c->framing = SPAN_FRAMING_CCS;
		c->coding = SPAN_CODING_HDB3;
		c->crc4 = true;
		for (unsigned ts = 1; ts <= 31; ts++)
			if (ts != 16)
				c->bchans |= 1u << ts;
		c->dchan = 16;
		c->law = SPAN_ALAW;
	}
}

/* ---- system.conf ---- */

struct name_val {
	const char *name;
	int val;
};

static const struct name_val framings[] = {
	{ "ccs", SPAN_FRAMING_CCS }, { "cas", SPAN_FRAMING_CAS },
	{ "d4", SPAN_FRAMING_D4 },   { "sf", SPAN_FRAMING_D4 },
	{ "esf", SPAN_FRAMING_ESF },
};

static const struct name_val codings[] = {
	{ "hdb3", SPAN_CODING_HDB3 },
	{ "ami", SPAN_CODING_AMI },
	{ "b8zs", SPAN_CODING_B8ZS },
};

static int lookup(const struct name_val *t, size_t n, const char *s, int *val)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(t[i].name, s)) {
			*val = t[i].val;
			return 0;
		}
	}
	return EINVAL;
}

/* Parses "a-b,c,d-e" calling fn for every number; numbers must lie in 1..max. */
static int ranges_each(const char *s, unsigned max, int (*fn)(unsigned v, void *arg), void *arg)
{
	const char *p = s;
	int err;

	if (!*p)
		return EINVAL;
	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;

		if (end == p || a < 1 || a > max)
			return EINVAL;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtoul(++p, &end, 10);
			if (end == p || b < a || b > max)
				return EINVAL;
			p = end;
		}
		for (unsigned long v = a; v <= b; v++) {
			err = fn((unsigned)v, arg);
			if (err)
				return err;
		}
		if (*p == ',')
			p++;
		else if (*p)
			return EINVAL;
	}
	return 0;
}

static int add_bit(unsigned v, void *arg)
{
	*(uint32_t *)arg |= 1u << v;
	return 0;
}

int span_ts_ranges(const char *s, uint32_t *mask)
{
	uint32_t m = 0;
	int err = ranges_each(s, SPAN_MAX_TS, add_bit, &m);

	if (err)
		return err;
	*mask = m;
	return 0;
}

/* span=num,timing,lbo,framing,coding[,crc4][,yellow] */
static int parse_span_line(struct span_conf *c, char *val)
{
	char *f[8];
	unsigned nf = 0;
	int fr, co;

	for (char *tok = strtok(val, ","); tok && nf < ARRAY_SIZE(f); tok = strtok(NULL, ","))
		f[nf++] = tok;
	if (nf < 5 || atoi(f[0]) < 1)
		return EINVAL;
	if (lookup(framings, ARRAY_SIZE(framings), f[3], &fr) ||
	    lookup(codings, ARRAY_SIZE(codings), f[4], &co))
		return EINVAL;
	span_conf_default(c, (unsigned)atoi(f[0]),
			  fr == SPAN_FRAMING_CCS || fr == SPAN_FRAMING_CAS ? SPAN_E1 : SPAN_T1);
	c->timing = (unsigned)atoi(f[1]);
	c->framing = fr;
	c->coding = co;
	c->crc4 = false;
	for (unsigned i = 5; i < nf; i++)
		if (!strcasecmp(f[i], "crc4"))
			c->crc4 = true;
	/* Channels come from bchan=/dchan= lines, as dahdi_cfg expects. */
	c->bchans = 0;
	c->dchan = 0;
	return 0;
}

struct chan_ctx {
	struct span_conf *spans;
	size_t n;
	const char *key;
	uint32_t lawseen; /* spans whose law a line already set */
};

static int chan_apply(unsigned chan, void *arg)
{
	struct chan_ctx *cx = arg;
	unsigned base = 0;

	for (size_t i = 0; i < cx->n; i++) {
		struct span_conf *c = &cx->spans[i];
		unsigned ns = span_type_nslots(c->type);

		if (chan > base + ns) {
			base += ns;
			continue;
		}
		unsigned ts = chan - base;
		if (!strcmp(cx->key, "bchan"))
			c->bchans |= 1u << ts;
		else if (!strcmp(cx->key, "dchan") || !strcmp(cx->key, "hardhdlc"))
			c->dchan = ts;
		else if (!strcmp(cx->key, "alaw"))
			c->law = SPAN_ALAW;
		else if (!strcmp(cx->key, "mulaw"))
			c->law = SPAN_ULAW;
		return 0;
	}
	return ERANGE;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int sort_by_num(const void *a, const void *b)
{
	const struct span_conf *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

/* pass 0: span= lines; pass 1: channel lines (they need every span's size). */
static int parse_pass(int pass, struct span_conf *out, size_t max, size_t *n, char *text,
		      unsigned *errline)
{
	unsigned line = 0;
	char *save = NULL;
	int err = 0;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(l, '#'), *eq, *key, *val;

		line++;
		if (hash)
			*hash = '\0';
		l = trim(l);
		if (!*l)
			continue;
		eq = strchr(l, '=');
		if (!eq) {
			err = EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(l);
		val = trim(eq + 1);
		if (pass == 0 && !strcmp(key, "span")) {
			if (*n == max) {
				err = ERANGE;
				break;
			}
			err = parse_span_line(&out[*n], val);
			if (err)
				break;
			(*n)++;
		} else if (pass == 1 && (!strcmp(key, "bchan") || !strcmp(key, "dchan") ||
					 !strcmp(key, "hardhdlc") || !strcmp(key, "alaw") ||
					 !strcmp(key, "mulaw"))) {
			struct chan_ctx cx = { out, *n, key, 0 };

			err = ranges_each(val, 62 * 32, chan_apply, &cx);
			if (err)
				break;
		}
		/* Other keys (loadzone, echocanceller, ...) are not the span's business. */
	}
	if (err && errline)
		*errline = line;
	return err;
}

int span_conf_parse(struct span_conf *out, size_t max, size_t *n, const char *text,
		    unsigned *errline)
{
	size_t cnt = 0;
	char *copy;
	int err;

	if (!out || !n || !text)
		return EINVAL;
	/* Each pass cuts its own copy: strtok writes into the text. */
	for (int pass = 0; pass < 2; pass++) {
		copy = strdup(text);
		if (!copy)
			return ENOMEM;
		err = parse_pass(pass, out, max, &cnt, copy, errline);
		free(copy);
		if (err)
			return err;
		if (pass == 0) {
			unsigned base = 0;

			qsort(out, cnt, sizeof(*out), sort_by_num);
			for (size_t i = 0; i < cnt; i++) {
				out[i].first_chan = base + 1;
				base += span_type_nslots(out[i].type);
			}
		}
	}
	*n = cnt;
	return 0;
}

/* ---- the span ---- */

static void span_destroy(void *data)
{
	struct span *sp = data;

	/* Nobody holds it any more, so no thread ticks it; that loop may be gone: not touched. */
	if (sp->bloop && sp->bloop != sp->loop) {
		LOGW(sp->ctx, "span freed with its B-channels on another loop");
		sp->bloop = NULL;
	}
	span_close(sp);
	loop_defer_cancel(sp->loop, &sp->alarm_defer);
	sp->be = mem_deref(sp->be);
}

int span_alloc(struct span **spp, const struct span_conf *conf, const struct span_ops *ops,
	       struct loop *loop)
{
	struct span *sp;
	unsigned ns;

	if (!spp || !conf || !ops || !loop || !ops->open || !ops->close)
		return EINVAL;
	ns = span_type_nslots(conf->type);
	if (conf->dchan > ns || (conf->bchans & ~(((2u << ns) - 1) & ~1u)) ||
	    (conf->dchan && (conf->bchans & (1u << conf->dchan))))
		return EINVAL;
	sp = mem_zalloc(sizeof(*sp), span_destroy);
	if (!sp)
		return ENOMEM;
	sp->conf = *conf;
	sp->ops = ops;
	sp->loop = loop;
	sp->bloop = loop;
	snprintf(sp->ctx, sizeof(sp->ctx), "span=%u", conf->num);
	*spp = sp;
	return 0;
}

int span_open(struct span *sp)
{
	int err;

	if (!sp)
		return EINVAL;
	if (sp->open)
		return 0;
	/*
	 * A backend may find the span up in here (a connecting virtual span
	 * does): the handler hears it from the loop, once the span is open,
	 * so that it can send at once (a SABME lost here costs T200).
	 */
	sp->opening = true;
	err = sp->ops->open(sp);
	sp->opening = false;
	if (err) {
		loop_defer_cancel(sp->loop, &sp->alarm_defer);
		LOGW(sp->ctx, "%s span open failed: %s", sp->ops->name, strerror(err));
		return err;
	}
	sp->open = true;
	/* Opened on its own B loop (or one whose thread is not running yet): tick there. */
	if (sp->bloop && sp->ops->bchan_attach) {
		err = sp->ops->bchan_attach(sp);
		if (err) {
			span_close(sp);
			return err;
		}
	}
	return 0;
}

void span_close(struct span *sp)
{
	if (!sp || !sp->open)
		return;
	if (sp->bloop && sp->bloop != sp->loop) {
		LOGE(sp->ctx, "span close refused: B-channels still on another loop");
		return;
	}
	if (sp->bloop && sp->ops->bchan_detach)
		sp->ops->bchan_detach(sp);
	loop_defer_cancel(sp->loop, &sp->alarm_defer);
	sp->ops->close(sp);
	sp->open = false;
}

void span_bchan_detach(struct span *sp)
{
	if (!sp || !sp->bloop)
		return;
	if (sp->open && sp->ops->bchan_detach)
		sp->ops->bchan_detach(sp);
	sp->bloop = NULL;
}

int span_bchan_attach(struct span *sp, struct loop *loop)
{
	int err = 0;

	if (!sp || !loop || sp->bloop)
		return EINVAL;
	sp->bloop = loop;
	if (sp->open && sp->ops->bchan_attach)
		err = sp->ops->bchan_attach(sp);
	if (err)
		sp->bloop = NULL;
	return err;
}

int span_set_bchan_loop(struct span *sp, struct loop *loop)
{
	if (!sp || !loop)
		return EINVAL;
	if (sp->bloop == loop)
		return 0;
	span_bchan_detach(sp);
	return span_bchan_attach(sp, loop);
}

void span_set_dchan_handler(struct span *sp, span_dchan_h *h, void *arg)
{
	bool had = sp->dchanh != NULL;

	sp->dchanh = h;
	sp->dchan_arg = arg;
	if (sp->open && had != (h != NULL) && sp->ops->dchan_watch)
		sp->ops->dchan_watch(sp, h != NULL);
}

void span_set_tick_handler(struct span *sp, span_tick_h *h, void *arg)
{
	sp->tickh = h;
	sp->tick_arg = arg;
}

void span_set_alarm_handler(struct span *sp, span_alarm_h *h, void *arg)
{
	sp->alarmh = h;
	sp->alarm_arg = arg;
}

int span_dchan_read(struct span *sp, void *buf, size_t size, size_t *lenp)
{
	if (!sp || !buf || !lenp)
		return EINVAL;
	if (!sp->open)
		return ENOTCONN;
	return sp->ops->dchan_read(sp, buf, size, lenp);
}

int span_dchan_write(struct span *sp, const void *buf, size_t len)
{
	if (!sp || !buf || len < SPAN_FCS_LEN + 1 || len > SPAN_DFRAME_MAX)
		return EINVAL;
	if (!sp->open)
		return ENOTCONN;
	return sp->ops->dchan_write(sp, buf, len);
}

bool span_is_bchan(const struct span *sp, unsigned ts)
{
	return ts >= 1 && ts <= SPAN_MAX_TS && (sp->conf.bchans & (1u << ts));
}

int span_bchan_read(struct span *sp, unsigned ts, uint8_t *block)
{
	if (!sp || !block || !span_is_bchan(sp, ts))
		return EINVAL;
	if (!sp->open)
		return ENOTCONN;
	return sp->ops->bchan_read(sp, ts, block);
}

int span_bchan_write(struct span *sp, unsigned ts, const uint8_t *block)
{
	if (!sp || !block || !span_is_bchan(sp, ts))
		return EINVAL;
	if (!sp->open)
		return ENOTCONN;
	return sp->ops->bchan_write(sp, ts, block);
}

int span_ec_set(struct span *sp, unsigned ts, unsigned taps)
{
	if (!sp || !span_is_bchan(sp, ts))
		return EINVAL;
	if (!sp->ops->ec_set)
		return ENOTSUP;
	return sp->ops->ec_set(sp, ts, taps);
}

unsigned span_alarms(const struct span *sp)
{
	return sp->alarms;
}

uint8_t span_idle_byte(const struct span *sp)
{
	return sp->conf.law == SPAN_ALAW ? 0xD5 : 0xFF;
}

const char *span_alarm_str(unsigned alarms, char *buf, size_t size)
{
	static const struct name_val names[] = {
		{ "red", SPAN_ALARM_RED },
		{ "yellow", SPAN_ALARM_YELLOW },
		{ "blue", SPAN_ALARM_BLUE },
		{ "dchan", SPAN_ALARM_DCHAN },
	};
	size_t off = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (!alarms) {
		snprintf(buf, size, "ok");
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(alarms & (unsigned)names[i].val) || off >= size)
			continue;
		off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? "|" : "",
					names[i].name);
	}
	return buf;
}

static void alarm_deferred(void *arg)
{
	struct span *sp = arg;

	if (sp->open && sp->alarmh)
		sp->alarmh(sp, sp->alarms, sp->alarm_arg);
}

void span_report_alarms(struct span *sp, unsigned alarms)
{
	char a[48], b[48];

	if (alarms == sp->alarms)
		return;
	LOGN(sp->ctx, "alarms %s -> %s", span_alarm_str(sp->alarms, a, sizeof(a)),
	     span_alarm_str(alarms, b, sizeof(b)));
	sp->alarms = alarms;
	/* Later changes join a queued report: an older set is never told after a newer one. */
	if (sp->opening || sp->alarm_defer.queued) {
		loop_defer(sp->loop, &sp->alarm_defer, alarm_deferred, sp);
		return;
	}
	if (sp->alarmh)
		sp->alarmh(sp, alarms, sp->alarm_arg);
}
