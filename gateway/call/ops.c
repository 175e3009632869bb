/*
 * Call control on the control socket and in the metrics: the "calls",
 * "hangup" and "spans" commands, the "calls" status section, and per-span
 * gauges set before each scrape. Reads the call list and the tpris; changes
 * nothing but what hangup clears.
 */
#include "call/call_int.h"

#include "cause/cause.h"
#include "cdr/cdr.h"
#include "core/log.h"
#include "core/mem.h"
#include "ctl/ctl.h"
#include "metrics/metrics.h"
#include "tdm/span/span.h"

#include <stdio.h>
#include <string.h>

static const char *call_state(const struct call *c)
{
	if (c->done || c->bye_sent || c->pri_cleared)
		return "clearing";
	if (c->answered)
		return "answered";
	return c->alerted ? "alerting" : "setup";
}

static void put_call(struct json_w *w, const struct call *c, uint64_t now)
{
	json_obj_begin(w, NULL);
	json_str(w, "id", c->callid[0] ? c->callid : NULL);
	json_str(w, "dir", cdr_dir_name((enum cdr_dir)c->dir));
	json_str(w, "from", c->calling.digits[0] ? c->calling.digits : NULL);
	json_str(w, "to", c->called.digits[0] ? c->called.digits : NULL);
	json_str(w, "state", call_state(c));
	if (c->span) {
		json_int(w, "span", c->span);
		json_int(w, "chan", c->chan);
	} else {
		json_null(w, "span");
		json_null(w, "chan");
	}
	json_double(w, "duration_s", (double)(now - c->start_mono) / 1000.0);
	json_obj_end(w);
}

static int cmd_calls(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct call_ctl *cc = arg;
	uint64_t now = loop_clock_ms();
	unsigned n = 0;

	(void)req;
	json_arr_begin(w, "calls");
	for (const struct call *c = cc->calls; c; c = c->next, n++)
		put_call(w, c, now);
	json_arr_end(w);
	json_uint(w, "active", n);
	return 0;
}

int call_ctl_hangup(struct call_ctl *cc, const char *id)
{
	struct call *c;

	if (!id || !*id)
		return EINVAL;
	for (c = cc->calls; c; c = c->next)
		if (!strcmp(c->callid, id))
			break;
	if (!c)
		return ENOENT;
	if (c->done)
		return EALREADY;
	LOGN(c->ctx, "hangup from the control socket: cause 16");
	mem_ref(c);
	if (c->dir == CALL_OUT)
		call_out_clear(c, Q850_NORMAL_CLEARING);
	else
		call_in_clear(c, Q850_NORMAL_CLEARING);
	mem_deref(c);
	return 0;
}

static int cmd_hangup(struct ctl_req *req, struct json_w *w, void *arg)
{
	const char *id = ctl_req_str(req, "id");
	int err;

	if (!id) {
		ctl_req_fail(req, "usage: hangup id=CALL-ID (see calls)");
		return EINVAL;
	}
	err = call_ctl_hangup(arg, id);
	if (err == ENOENT)
		ctl_req_fail(req, "no such call");
	else if (err == EALREADY)
		ctl_req_fail(req, "the call is ending already");
	if (!err) {
		json_str(w, "id", id);
		json_int(w, "cause", Q850_NORMAL_CLEARING);
	}
	return err;
}

struct span_counts {
	unsigned busy, idle, oos;
};

static void span_count(const struct tpri *tp, struct span_counts *n)
{
	const struct span *sp = tpri_span(tp);

	memset(n, 0, sizeof(*n));
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		if (!(sp->conf.bchans & (1u << ts)))
			continue;
		switch (tpri_chan_state(tp, ts)) {
		case TPRI_CHAN_BUSY:
			n->busy++;
			break;
		case TPRI_CHAN_IDLE:
			n->idle++;
			break;
		case TPRI_CHAN_NONE:
			break;
		default:
			n->oos++;
			break;
		}
	}
}

static void put_alarms(struct json_w *w, unsigned alarms)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
	    {SPAN_ALARM_RED, "red"},
	    {SPAN_ALARM_YELLOW, "yellow"},
	    {SPAN_ALARM_BLUE, "blue"},
	    {SPAN_ALARM_DCHAN, "dchan"},
	};
	char buf[64] = "";
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if ((alarms & names[i].bit) && n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "," : "",
			                      names[i].name);
	json_str(w, "alarms", n ? buf : "none");
}

static int cmd_spans(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct call_ctl *cc = arg;

	(void)req;
	json_arr_begin(w, "spans");
	for (unsigned i = 0; i < cc->nspans; i++) {
		const struct tpri *tp = cc->spans[i].tp;
		const struct span *sp = tpri_span(tp);
		struct span_counts n;

		span_count(tp, &n);
		json_obj_begin(w, NULL);
		json_uint(w, "span", sp->conf.num);
		json_str(w, "type", sp->conf.type == SPAN_T1 ? "T1" : "E1");
		json_uint(w, "group", cc->spans[i].group);
		json_str(w, "dchan", tpri_dchan_up(tp) ? "up" : "down");
		put_alarms(w, sp->alarms);
		json_uint(w, "busy", n.busy);
		json_uint(w, "idle", n.idle);
		json_uint(w, "oos", n.oos);
		json_obj_end(w);
	}
	json_arr_end(w);
	return 0;
}

static void status_calls(struct json_w *w, void *arg)
{
	const struct call_ctl *cc = arg;
	const struct call_ctl_stats *st = &cc->st;

	json_uint(w, "active", st->active);
	json_uint(w, "out", st->out_calls);
	json_uint(w, "out_answered", st->out_answered);
	json_uint(w, "out_failed", st->out_failed);
	json_uint(w, "in", st->in_calls);
	json_uint(w, "in_answered", st->in_answered);
	json_uint(w, "in_failed", st->in_failed);
	json_uint(w, "no_route", st->no_route);
	json_uint(w, "auth_failed", st->auth_failed);
	json_uint(w, "spans", cc->nspans);
}

int call_ctl_ops_register(struct call_ctl *cc, struct ctl *ctl)
{
	int err =
	    ctl_register(ctl, "calls", cmd_calls, cc,
	                 "active calls: id, direction, numbers, state, span/channel, duration");

	if (!err)
		err = ctl_register(ctl, "hangup", cmd_hangup, cc,
		                   "hangup id=CALL-ID: clear a call on both sides (cause 16)");
	if (!err)
		err = ctl_register(ctl, "spans", cmd_spans, cc,
		                   "spans: type, D-channel, alarms, busy and idle B-channels");
	if (!err)
		err = ctl_status_register(ctl, "calls", status_calls, cc);
	return err;
}

/* ---- per-span gauges ---- */

struct span_gauges {
	struct metric *dchan, *busy, *idle, *alarms;
};

static void collect_spans(struct metrics *m, void *arg)
{
	struct call_ctl *cc = arg;
	struct span_gauges *g = cc->gauges;

	(void)m;
	for (unsigned i = 0; g && i < cc->nspans; i++) {
		const struct tpri *tp = cc->spans[i].tp;
		struct span_counts n;
		char num[16];

		snprintf(num, sizeof(num), "%u", tpri_span(tp)->conf.num);
		span_count(tp, &n);
		metric_set(metric_get(g->dchan, METRIC_LABELS(num)), tpri_dchan_up(tp) ? 1 : 0);
		metric_set(metric_get(g->busy, METRIC_LABELS(num)), n.busy);
		metric_set(metric_get(g->idle, METRIC_LABELS(num)), n.idle);
		metric_set(metric_get(g->alarms, METRIC_LABELS(num)), tpri_span(tp)->alarms);
	}
}

int call_ctl_metrics_register(struct call_ctl *cc, struct metrics *m)
{
	struct span_gauges *g;
	int err;

	if (cc->gauges)
		return EALREADY;
	g = mem_zalloc(sizeof(*g), NULL);
	if (!g)
		return ENOMEM;
	err = metrics_gauge(m, &g->dchan, "tandem_span_dchan_up", "D-channel link up (1) or down.",
	                    "span");
	if (!err)
		err = metrics_gauge(m, &g->busy, "tandem_span_channels_busy",
		                    "B-channels holding a call.", "span");
	if (!err)
		err = metrics_gauge(m, &g->idle, "tandem_span_channels_idle",
		                    "B-channels free for a call.", "span");
	if (!err)
		err = metrics_gauge(m, &g->alarms, "tandem_span_alarms",
		                    "Alarm bits: 1 red, 2 yellow, 4 blue, 8 D-channel carrier.",
		                    "span");
	if (!err)
		err = metrics_on_collect(m, collect_spans, cc);
	if (err) {
		mem_deref(g);
		return err;
	}
	cc->gauges = g;
	return 0;
}
