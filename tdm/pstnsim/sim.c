/*
 * The exchange: libpri NET on each span, subscribers with behaviours, calls
 * placed on command, and the B-channel audio of every call. Why it looks like
 * this:
 * - A call owns its timeslot in the span's chan[] table from SETUP until its
 *   one HANGUP event (tdm/pri guarantees exactly one), which frees both.
 * - Rejections go through tpri_call_hangup() even before any answer: tdm/pri
 *   turns that into CALL PROCEEDING + DISCONNECT with the cause (libpri sends
 *   RELEASE COMPLETE instead for 1, 34, 44, 81, 82; tdm/pri still reports it).
 * - All audio work happens in the span's tick handler (callaudio.c), once
 *   per 20 ms, for every timeslot with a call.
 */
#include "tdm/pstnsim/sim_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "tdm/virtual/virtual.h"

#include <libpri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ev_names[] = {
    [PSIM_EV_LINK] = "link",
    [PSIM_EV_SETUP] = "setup",
    [PSIM_EV_PROCEEDING] = "proceeding",
    [PSIM_EV_ALERTING] = "alerting",
    [PSIM_EV_CONNECT] = "connect",
    [PSIM_EV_DIGITS] = "digits",
    [PSIM_EV_TONE] = "tone",
    [PSIM_EV_DISCONNECT] = "disconnect",
    [PSIM_EV_RECORDED] = "recorded",
    [PSIM_EV_PLAYED] = "played",
};

const char *psim_ev_name(enum psim_ev_type t)
{
	return (unsigned)t < ARRAY_SIZE(ev_names) ? ev_names[t] : "?";
}

static void emit(struct psim *p, struct psim_ev *ev)
{
	if (p->h)
		p->h(ev, p->arg);
}

void psim_call_emit(struct psim_call *c, enum psim_ev_type type, struct psim_ev *ev)
{
	struct psim_ev e = {0};

	if (!ev)
		ev = &e;
	ev->type = type;
	ev->span = c->ps->conf.num;
	ev->call = c->id;
	ev->channel = c->ts;
	ev->outgoing = c->outgoing;
	ev->from = c->from;
	ev->to = c->to;
	ev->behaviour = c->sub ? psim_behaviour_name(c->sub->beh) : NULL;
	emit(c->p, ev);
}

/* ---- calls ---- */

static void call_destroy(void *data)
{
	struct psim_call *c = data;

	tmr_cancel(&c->tmr);
	tmr_cancel(&c->hup);
	tmr_cancel(&c->ivr);
	dtmf_rx_release(&c->rx);
	dtmf_tx_release(&c->tx);
	psim_rec_close(&c->rec);
	mem_deref(c->play);
}

static int call_new(struct psim_call **cp, struct psim_span *ps, int ts, bool outgoing)
{
	struct psim *p = ps->p;
	struct psim_call *c = mem_zalloc(sizeof(*c), call_destroy);

	if (!c)
		return ENOMEM;
	c->p = p;
	c->ps = ps;
	c->ts = ts;
	c->outgoing = outgoing;
	c->id = ++p->next_id;
	tmr_init(&c->tmr);
	tmr_init(&c->hup);
	tmr_init(&c->ivr);
	dtmf_rx_init(&c->rx, psim_call_digits, c);
	dtmf_tx_init(&c->tx);
	psim_tonedet_init(&c->td, p->conf->detect_hz, p->conf->ndetect, TONE_BLOCKS);
	snprintf(c->ctx, sizeof(c->ctx), "span=%u/%d call=%u", ps->conf.num, ts, c->id);
	c->next = p->calls;
	p->calls = c;
	p->ncalls++;
	ps->chan[ts] = c;
	*cp = c;
	return 0;
}

static void call_free(struct psim_call *c)
{
	struct psim *p = c->p;

	for (struct psim_call **pp = &p->calls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			p->ncalls--;
			break;
		}
	}
	if (c->ps->chan[c->ts] == c)
		c->ps->chan[c->ts] = NULL;
	mem_deref(c);
}

struct psim_call *psim_call_find(const struct psim *p, unsigned id)
{
	for (struct psim_call *c = p->calls; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void call_ended(struct psim_call *c, int cause)
{
	struct psim_ev e = {.cause = cause};

	psim_call_rec_done(c); /* before the disconnect: a test waiting for that finds the file whole */

	LOGI(c->ctx, "cleared: cause %d (%s)", cause, pri_cause2str(cause));
	if (c->tc)
		tpri_call_set_arg(c->tc, NULL);
	c->tc = NULL;
	psim_call_emit(c, PSIM_EV_DISCONNECT, &e);
	call_free(c);
}

/* Every clearing we start: its end comes back as TPRI_EV_HANGUP. */
static int call_clear(struct psim_call *c, int cause)
{
	return c->tc ? tpri_call_hangup(c->tc, cause) : ENOENT;
}

static void hangup_tmr(void *arg)
{
	struct psim_call *c = arg;

	int cause = c->answered ? PRI_CAUSE_NORMAL_CLEARING
	            : c->sub    ? c->sub->cause
	                        : PRI_CAUSE_NO_ANSWER;

	LOGI(c->ctx, "clearing with cause %d", cause);
	call_clear(c, cause);
}

static void media_start(struct psim_call *c, enum cmode mode, double hz, double dbm0)
{
	c->answered = true;
	c->mode = mode;
	psim_tonegen_init(&c->tone, hz, dbm0);
}

static void answer_tmr(void *arg)
{
	struct psim_call *c = arg;
	const struct psim_sub *s = c->sub;

	if (!c->tc || tpri_call_answer(c->tc))
		return;
	LOGI(c->ctx, "answered (%s)", psim_behaviour_name(s->beh));
	media_start(c,
	            s->beh == PSIM_ECHO  ? M_ECHO
	            : s->beh == PSIM_IVR ? M_IVR
	                                 : M_TONE,
	            s->tone_hz, s->tone_dbm0);
	psim_call_emit(c, PSIM_EV_CONNECT, NULL);
	if (s->hangup_ms)
		tmr_start(c->p->l, &c->hup, s->hangup_ms, hangup_tmr, c);
}

static void ringback_start(struct psim_call *c)
{
	bool nanp = !strcmp(c->p->conf->numbering.cc, "1");

	if (!c->p->conf->ringback)
		return;
	/* NANP: 440 + 480 Hz, 2 s on 4 s off; elsewhere 425 Hz, 1 s on 4 s off. */
	psim_tonegen_init(&c->rb[0], nanp ? 440 : 425, -19);
	psim_tonegen_init(&c->rb[1], nanp ? 480 : 0, -19);
	c->mode = M_RINGBACK;
	c->ticks = 0;
}

/* Rings, then does what the subscriber does. */
static void sub_start(struct psim_call *c)
{
	const struct psim_sub *s = c->sub;

	if (s->beh == PSIM_BUSY || s->beh == PSIM_REJECT) {
		LOGI(c->ctx, "%s: clearing with cause %d", s->number, s->cause);
		call_clear(c, s->cause);
		return;
	}
	if (tpri_call_proceeding(c->tc, false) == 0)
		psim_call_emit(c, PSIM_EV_PROCEEDING, NULL);
	if (tpri_call_alerting(c->tc, c->p->conf->ringback) == 0) {
		psim_call_emit(c, PSIM_EV_ALERTING, NULL);
		ringback_start(c);
	}
	if (s->beh == PSIM_NOANSWER)
		tmr_start(c->p->l, &c->hup, s->timeout_ms, hangup_tmr, c);
	else
		tmr_start(c->p->l, &c->tmr, s->answer_ms, answer_tmr, c);
}

static int pick_channel(const struct psim_span *ps, bool descending)
{
	unsigned n = span_type_nslots(ps->conf.type);

	for (unsigned i = 1; i <= n; i++) {
		unsigned ts = descending ? n + 1 - i : i;

		if (span_is_bchan(ps->sp, ts) && !ps->chan[ts])
			return (int)ts;
	}
	return 0;
}

static void on_ring(struct psim_span *ps, const struct tpri_event *ev)
{
	struct psim *p = ps->p;
	int ts = ev->channel, cause = 0;
	struct psim_call *c;
	char from[PSIM_NUM_MAX] = "", to[PSIM_NUM_MAX] = "";

	if (ts && (!span_is_bchan(ps->sp, (unsigned)ts) || ps->chan[ts]))
		cause = PRI_CAUSE_REQUESTED_CHAN_UNAVAIL;
	else if (!ts && !(ts = pick_channel(ps, false)))
		cause = PRI_CAUSE_SWITCH_CONGESTION;
	if (cause || psim_e164_from_q931(&p->conf->numbering, ev->called, to, sizeof(to)) ||
	    call_new(&c, ps, ts, false)) {
		LOGW(ps->sp->ctx, "SETUP for %s refused: cause %d", ev->called->digits,
		     cause ? cause : PRI_CAUSE_INVALID_NUMBER_FORMAT);
		tpri_call_hangup(ev->call, cause ? cause : PRI_CAUSE_INVALID_NUMBER_FORMAT);
		return;
	}
	if (ev->calling->digits[0])
		psim_e164_from_q931(&p->conf->numbering, ev->calling, from, sizeof(from));
	snprintf(c->from, sizeof(c->from), "%s", from);
	snprintf(c->to, sizeof(c->to), "%s", to);
	c->tc = ev->call;
	tpri_call_set_arg(ev->call, c);
	if (!ev->channel)
		tpri_call_set_channel(ev->call, (unsigned)ts);
	c->sub = psim_conf_find(p->conf, to);
	LOGI(c->ctx, "SETUP from %s to %s: %s", from[0] ? from : "(none)", to,
	     c->sub ? psim_behaviour_name(c->sub->beh) : "no such number");
	psim_call_emit(c, PSIM_EV_SETUP, NULL);
	if (!c->sub) {
		call_clear(c, p->conf->unknown_cause);
		return;
	}
	sub_start(c);
}

static void on_call_event(const struct tpri_event *ev)
{
	struct psim_call *c = tpri_call_arg(ev->call);

	if (!c)
		return;
	switch (ev->type) {
	case TPRI_EV_PROCEEDING:
		psim_call_emit(c, PSIM_EV_PROCEEDING, NULL);
		break;
	case TPRI_EV_ALERTING:
		psim_call_emit(c, PSIM_EV_ALERTING, NULL);
		break;
	case TPRI_EV_ANSWER:
		LOGI(c->ctx, "answered by the user side");
		tmr_cancel(&c->hup); /* psim_call_timeout() */
		media_start(c, M_TONE, c->hz, c->dbm0);
		psim_call_emit(c, PSIM_EV_CONNECT, NULL);
		break;
	case TPRI_EV_HANGUP:
		call_ended(c, ev->cause);
		break;
	default:
		break;
	}
}

static void on_tpri(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct psim_span *ps = arg;

	(void)tp;
	switch (ev->type) {
	case TPRI_EV_DCHAN_UP:
	case TPRI_EV_DCHAN_DOWN: {
		struct psim_ev e = {
		    .type = PSIM_EV_LINK, .span = ps->conf.num, .up = ev->type == TPRI_EV_DCHAN_UP};

		emit(ps->p, &e);
		break;
	}
	case TPRI_EV_RING:
		on_ring(ps, ev);
		break;
	case TPRI_EV_RESTART:
		break;
	default:
		on_call_event(ev);
		break;
	}
}

/* ---- spans ---- */

static void pspan_destroy(void *data)
{
	struct psim_span *ps = data;

	if (ps->sp) {
		span_set_tick_handler(ps->sp, NULL, NULL);
		span_set_alarm_handler(ps->sp, NULL, NULL);
	}
	ps->tp = mem_deref(ps->tp);
	ps->sp = mem_deref(ps->sp);
}

static int pspan_start_pri(struct psim_span *ps)
{
	const char *dbg = getenv("PRIDEBUG"); /* libpri PRI_DEBUG_* bits, for debugging */
	struct tpri_conf tc = {
	    .node = TPRI_NET, .sw = ps->conf.sw, .debug = dbg ? (int)strtol(dbg, NULL, 0) : 0};
	int err;

	if (ps->tp)
		return 0;
	err = tpri_alloc(&ps->tp, ps->sp, &tc, on_tpri, ps);
	if (err)
		LOGE(ps->sp->ctx, "cannot start PRI: %s", strerror(err));
	return err;
}

/* The cable is gone: every call on the span is over (as the peer forgot them too). */
static void pspan_down(struct psim_span *ps)
{
	for (unsigned ts = 0; ts <= SPAN_MAX_TS; ts++) {
		struct psim_call *c = ps->chan[ts];

		if (c) {
			c->tc = NULL; /* tpri_destroy frees it, with no event */
			call_ended(c, PRI_CAUSE_NETWORK_OUT_OF_ORDER);
		}
	}
	if (ps->tp) {
		struct psim_ev e = {.type = PSIM_EV_LINK, .span = ps->conf.num};

		ps->tp = mem_deref(ps->tp);
		emit(ps->p, &e);
	}
}

static void alarm_handler(struct span *sp, unsigned alarms, void *arg)
{
	struct psim_span *ps = arg;
	char buf[48];

	LOGI(sp->ctx, "alarms: %s", span_alarm_str(alarms, buf, sizeof(buf)));
	/*
	 * A fresh libpri per connection: one left over from the last peer sits
	 * in "awaiting establishment" and its next SABME (after T200) would
	 * reset the new peer's link and clear its first calls. So PRI stops
	 * with the cable (calls cleared with 38) and starts when it is back.
	 */
	if (alarms & SPAN_ALARM_RED)
		pspan_down(ps);
	else if (!alarms)
		pspan_start_pri(ps);
}

int psim_span_add(struct psim *p, struct span *sp, const struct psim_span_conf *sc)
{
	struct psim_span *ps;

	if (!p || !sp || !sc || p->nspans >= PSIM_MAX_SPANS)
		return EINVAL;
	ps = mem_zalloc(sizeof(*ps), pspan_destroy);
	if (!ps)
		return ENOMEM;
	ps->p = p;
	ps->sp = mem_ref(sp);
	ps->conf = *sc;
	ps->conf.type = sp->conf.type;
	span_set_tick_handler(sp, psim_tick_handler, ps);
	span_set_alarm_handler(sp, alarm_handler, ps);
	/* Already up: that may have been told before the handler was ours. */
	if (sp->open && !span_alarms(sp) && pspan_start_pri(ps)) {
		mem_deref(ps);
		return EIO;
	}
	p->spans[p->nspans++] = ps;
	return 0;
}

static struct psim_span *span_find(const struct psim *p, unsigned num)
{
	for (size_t i = 0; i < p->nspans; i++)
		if (p->spans[i]->conf.num == num)
			return p->spans[i];
	return NULL;
}

bool psim_span_up(const struct psim *p, unsigned num)
{
	struct psim_span *ps = span_find(p, num);

	return ps && tpri_dchan_up(ps->tp);
}

static void psim_destroy(void *data)
{
	struct psim *p = data;

	while (p->calls) {
		struct psim_call *c = p->calls;

		p->calls = c->next;
		mem_deref(c);
	}
	for (size_t i = 0; i < p->nspans; i++)
		mem_deref(p->spans[i]);
	mem_deref(p->conf);
}

static int open_span(struct psim *p, const struct psim_span_conf *sc)
{
	struct span_conf c;
	struct span *sp;
	int err;

	span_conf_default(&c, sc->num, sc->type);
	snprintf(c.addr, sizeof(c.addr), "%s", sc->addr);
	c.listen = sc->listen;
	c.clock_master = sc->clock_master;
	err = span_virtual_alloc(&sp, &c, p->l);
	if (err)
		return err;
	err = span_open(sp);
	if (!err)
		err = psim_span_add(p, sp, sc);
	mem_deref(sp);
	if (err)
		LOGE(NULL, "span %u at %s: %s", sc->num, sc->addr, strerror(err));
	return err;
}

int psim_alloc(struct psim **pp, struct loop *l, struct psim_conf *conf, psim_ev_h *h, void *arg)
{
	struct psim *p;
	int err = 0;

	if (!pp || !l || !conf)
		return EINVAL;
	p = mem_zalloc(sizeof(*p), psim_destroy);
	if (!p)
		return ENOMEM;
	p->l = l;
	p->conf = mem_ref(conf);
	p->h = h;
	p->arg = arg;
	for (size_t i = 0; i < conf->nspans && !err; i++)
		err = open_span(p, &conf->spans[i]);
	if (err) {
		mem_deref(p);
		return err;
	}
	*pp = p;
	return 0;
}

/* ---- commands ---- */

int psim_call(struct psim *p, unsigned span, const char *from, const char *to, double tone_hz,
              unsigned *idp)
{
	struct psim_span *ps = span_find(p, span);
	struct tpri_number called, calling;
	struct psim_call *c;
	int ts, err;

	if (!ps)
		return ENOENT;
	if (!to || psim_q931_from_e164(&p->conf->numbering, ps->conf.numfmt, to, &called))
		return EINVAL;
	if (from && from[0] &&
	    psim_q931_from_e164(&p->conf->numbering, ps->conf.numfmt, from, &calling))
		return EINVAL;
	if (!ps->tp || !tpri_dchan_up(ps->tp))
		return ENOTCONN;
	/* Descending, as networks hunt, so that a user side hunting upwards rarely collides. */
	if (!(ts = pick_channel(ps, true)))
		return EBUSY;
	err = call_new(&c, ps, ts, true);
	if (err)
		return err;
	snprintf(c->from, sizeof(c->from), "%s", from ? from : "");
	snprintf(c->to, sizeof(c->to), "%s", to);
	c->hz = tone_hz < 0 ? p->conf->did_tone_hz : tone_hz;
	c->dbm0 = p->conf->did_tone_dbm0;
	err = tpri_call_place(&c->tc, ps->tp, (unsigned)ts, true, &called,
	                      from && from[0] ? &calling : NULL);
	if (err) {
		call_free(c);
		return err;
	}
	tpri_call_set_arg(c->tc, c);
	LOGI(c->ctx, "placing a call from %s to %s", c->from[0] ? c->from : "(none)", to);
	psim_call_emit(c, PSIM_EV_SETUP, NULL);
	if (idp)
		*idp = c->id;
	return 0;
}

int psim_call_timeout(struct psim *p, unsigned id, uint32_t ms)
{
	struct psim_call *c = psim_call_find(p, id);

	if (!c || !c->outgoing || !c->tc)
		return ENOENT;
	if (c->answered)
		return EALREADY;
	return tmr_start(p->l, &c->hup, ms, hangup_tmr, c);
}

int psim_hangup(struct psim *p, unsigned id, int cause)
{
	struct psim_call *c = psim_call_find(p, id);

	if (!c || !c->tc)
		return ENOENT;
	return call_clear(c, cause > 0 ? cause : PRI_CAUSE_NORMAL_CLEARING);
}

size_t psim_list(const struct psim *p, struct psim_call_info *out, size_t max)
{
	size_t n = 0;

	for (const struct psim_call *c = p->calls; c && n < max; c = c->next, n++) {
		struct psim_call_info *i = &out[n];

		memset(i, 0, sizeof(*i));
		i->id = c->id;
		i->span = c->ps->conf.num;
		i->channel = c->ts;
		i->outgoing = c->outgoing;
		i->answered = c->answered;
		memcpy(i->from, c->from, sizeof(i->from));
		memcpy(i->to, c->to, sizeof(i->to));
		i->behaviour = c->sub ? psim_behaviour_name(c->sub->beh) : NULL;
	}
	return n;
}

unsigned psim_ncalls(const struct psim *p)
{
	return p->ncalls;
}
