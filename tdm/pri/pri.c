/*
 * libpri glue. Why it looks like this:
 * - pri_check_event() reads exactly one frame through our read callback, so we
 *   read the frame from the span first and hand it over in rxbuf: then we know
 *   when the D-channel is drained, which libpri's return value cannot tell.
 * - libpri keeps its own timer list (gettimeofday based). After every entry
 *   into libpri we re-arm one struct tmr to pri_schedule_next().
 * - Each call ends with exactly one TPRI_EV_HANGUP to the user; libpri may need
 *   one more round (RELEASE / RELEASE COMPLETE) after that, so a call object
 *   lives until both the user was told and libpri let go of its q931_call.
 * - For causes 1, 34, 44, 81 and 82 libpri's hangup sends RELEASE COMPLETE
 *   and frees the call at once, with no event after: tpri_call_hangup() asks
 *   libpri whether the call still exists and reports the HANGUP itself,
 *   deferred to the loop so that the handler is not re-entered.
 * - libpri has no destructor for a struct pri. A freed tpri parks its instance
 *   (callbacks detached, calls destroyed) on a list that stays reachable, so
 *   the memory is kept, not lost; spans are created once per configuration.
 */
#include "tdm/pri/pri.h"
#include "tdm/pri/pri_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "tdm/capture/capture.h"
#include "tdm/span/span.h"

#include <libpri.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* ---- tables ---- */

static const struct {
	const char *name;
	enum tpri_switch sw;
	int libpri;
} switches[] = {
	{ "euroisdn", TPRI_SW_EUROISDN_E1, PRI_SWITCH_EUROISDN_E1 },
	{ "euroisdn_e1", TPRI_SW_EUROISDN_E1, PRI_SWITCH_EUROISDN_E1 },
	{ "euroisdn_t1", TPRI_SW_EUROISDN_T1, PRI_SWITCH_EUROISDN_T1 },
	{ "ni1", TPRI_SW_NI1, PRI_SWITCH_NI1 },
	{ "ni2", TPRI_SW_NI2, PRI_SWITCH_NI2 },
	{ "dms100", TPRI_SW_DMS100, PRI_SWITCH_DMS100 },
	{ "4ess", TPRI_SW_4ESS, PRI_SWITCH_ATT4ESS },
	{ "5ess", TPRI_SW_5ESS, PRI_SWITCH_LUCENT5E },
	{ "qsig", TPRI_SW_QSIG, PRI_SWITCH_QSIG },
};

int tpri_switch_parse(const char *name, enum tpri_switch *sw)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(switches); i++) {
		if (!strcasecmp(name, switches[i].name)) {
			*sw = switches[i].sw;
			return 0;
		}
	}
	return EINVAL;
}

static int switch_libpri(enum tpri_switch sw)
{
	for (size_t i = 0; i < ARRAY_SIZE(switches); i++)
		if (switches[i].sw == sw)
			return switches[i].libpri;
	return -1;
}

const char *tpri_switch_name(enum tpri_switch sw)
{
	for (size_t i = 0; i < ARRAY_SIZE(switches); i++)
		if (switches[i].sw == sw && strcmp(switches[i].name, "euroisdn"))
			return switches[i].name;
	return "?";
}

static const char *const ev_names[] = {
	[TPRI_EV_DCHAN_UP] = "dchan-up",     [TPRI_EV_DCHAN_DOWN] = "dchan-down",
	[TPRI_EV_RING] = "ring",	     [TPRI_EV_PROCEEDING] = "proceeding",
	[TPRI_EV_ALERTING] = "alerting",     [TPRI_EV_PROGRESS] = "progress",
	[TPRI_EV_ANSWER] = "answer",	     [TPRI_EV_HANGUP] = "hangup",
	[TPRI_EV_RESTART] = "restart",	     [TPRI_EV_SETUP_ACK] = "setup-ack",
	[TPRI_EV_DIGITS] = "digits",	     [TPRI_EV_SERVICE] = "service",
};

const char *tpri_ev_name(enum tpri_ev_type t)
{
	return (unsigned)t < ARRAY_SIZE(ev_names) && ev_names[t] ? ev_names[t] : "?";
}

/* ---- libpri's output into our log ---- */

/* libpri prints dumps a piece at a time: collect up to each newline. */
static void log_piece(struct pri *ctrl, const char *s, bool is_err)
{
	struct tpri *tp = ctrl ? pri_get_userdata(ctrl) : NULL;
	struct logbuf *lb;

	if (!tp) {
		if (is_err)
			LOGW("libpri", "%s", s);
		else
			LOGD("libpri", "%s", s);
		return;
	}
	lb = is_err ? &tp->err : &tp->msg;
	for (; *s; s++) {
		if (*s != '\n' && lb->n < sizeof(lb->b) - 1) {
			lb->b[lb->n++] = *s;
			continue;
		}
		lb->b[lb->n] = '\0';
		if (lb->n) {
			if (is_err)
				LOGW(tp->sp->ctx, "libpri: %s", lb->b);
			else
				LOGD(tp->sp->ctx, "libpri: %s", lb->b);
		}
		lb->n = 0;
		if (*s != '\n')
			lb->b[lb->n++] = *s;
	}
}

static void on_pri_message(struct pri *ctrl, char *s)
{
	log_piece(ctrl, s, false);
}

static void on_pri_error(struct pri *ctrl, char *s)
{
	log_piece(ctrl, s, true);
}

static void log_hooks_install(void)
{
	pri_set_message(on_pri_message);
	pri_set_error(on_pri_error);
}

/* ---- parked instances (libpri cannot free them) ---- */

struct parked {
	struct parked *next;
	struct pri *ctrl;
};

static struct parked *parked_head;

static void park(struct pri *ctrl)
{
	struct parked *p = malloc(sizeof(*p));

	if (!p)
		return; /* then it is lost; nothing better to do */
	p->ctrl = ctrl;
	p->next = parked_head;
	parked_head = p;
}

/* ---- I/O callbacks ---- */

static int io_read(struct pri *ctrl, void *buf, int buflen)
{
	struct tpri *tp = pri_get_userdata(ctrl);
	size_t n;

	if (!tp || !tp->rxlen || buflen <= 0)
		return 0;
	n = tp->rxlen < (size_t)buflen ? tp->rxlen : (size_t)buflen;
	memcpy(buf, tp->rx, n);
	tp->rxlen = 0;
	if (tp->cap)
		lapdcap_frame(tp->cap, false, buf, n);
	return (int)n;
}

static int io_write(struct pri *ctrl, void *buf, int buflen)
{
	struct tpri *tp = pri_get_userdata(ctrl);
	int err;

	if (!tp || buflen <= 0)
		return -1;
	if (tp->cap)
		lapdcap_frame(tp->cap, true, buf, (size_t)buflen);
	err = span_dchan_write(tp->sp, buf, (size_t)buflen);
	if (err == ENOTCONN)
		return buflen; /* lost on a dead line, as on a real one; Q.921 recovers */
	if (err) {
		errno = err;
		return -1;
	}
	return buflen;
}

/* ---- timers ---- */

static void tmr_handler(void *arg);
static void handle_event(struct tpri *tp, pri_event *e);

static void resched(struct tpri *tp)
{
	struct timeval *next = pri_schedule_next(tp->ctrl), now;
	int64_t ms;

	if (!next) {
		tmr_cancel(&tp->tmr);
		return;
	}
	gettimeofday(&now, NULL);
	ms = (int64_t)(next->tv_sec - now.tv_sec) * 1000 + (next->tv_usec - now.tv_usec + 999) / 1000;
	if (ms < 0)
		ms = 0;
	tmr_start(tp->sp->loop, &tp->tmr, (uint64_t)ms, tmr_handler, tp);
}

static void tmr_handler(void *arg)
{
	struct tpri *tp = arg;

	/* Each call runs expired timers until one yields an event. */
	for (int i = 0; i < 64; i++) {
		pri_event *e = pri_schedule_run(tp->ctrl);

		if (!e)
			break;
		handle_event(tp, e);
	}
	resched(tp);
}

/* ---- D-channel ---- */

static void dchan_handler(struct span *sp, void *arg)
{
	struct tpri *tp = arg;

	for (int i = 0; i < 64; i++) {
		size_t len;
		int err = span_dchan_read(sp, tp->rx, sizeof(tp->rx), &len);
		pri_event *e;

		if (err == EAGAIN || err == ENOTCONN)
			break;
		/* Address, control and FCS at least; libpri reads them unchecked. */
		if (err || len < 3 + SPAN_FCS_LEN)
			continue;
		tp->rxlen = len;
		e = pri_check_event(tp->ctrl);
		tp->rxlen = 0;
		if (e)
			handle_event(tp, e);
	}
	resched(tp);
}

/* ---- calls ---- */

static struct tpri_call *call_find(struct tpri *tp, q931_call *qc)
{
	for (struct tpri_call *c = tp->calls; c; c = c->next)
		if (qc && c->qc == qc)
			return c;
	return NULL;
}

static int call_new(struct tpri_call **cp, struct tpri *tp, q931_call *qc, bool outgoing)
{
	struct tpri_call *c = mem_zalloc(sizeof(*c), NULL);

	if (!c)
		return ENOMEM;
	c->tp = tp;
	c->qc = qc;
	c->outgoing = outgoing;
	c->next = tp->calls;
	tp->calls = c;
	tp->ncalls++;
	*cp = c;
	return 0;
}

static void call_unlink(struct tpri_call *c)
{
	struct tpri *tp = c->tp;

	for (struct tpri_call **pp = &tp->calls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			tp->ncalls--;
			break;
		}
	}
	tpri__call_gone(c);
	loop_defer_cancel(tp->sp->loop, &c->gone);
	c->tp = NULL;
	c->qc = NULL;
	mem_deref(c);
}

static void emit(struct tpri *tp, struct tpri_event *ev)
{
	LOGD(tp->sp->ctx, "event %s channel=%d cause=%d", tpri_ev_name(ev->type), ev->channel,
	     ev->cause);
	if (tp->h)
		tp->h(tp, ev, tp->arg);
}

static void call_report_hangup(struct tpri_call *c, int cause)
{
	struct tpri_event ev = { .type = TPRI_EV_HANGUP, .call = c, .channel = c->channel,
				 .cause = cause };

	if (c->reported)
		return;
	c->reported = true;
	mem_ref(c); /* the handler may hang up, and so unlink, the call */
	emit(c->tp, &ev);
	mem_deref(c);
}

static int chan_of(int libpri_channel)
{
	return libpri_channel > 0 ? (libpri_channel & 0xff) : 0;
}

static void number_from(struct tpri_number *n, const char *digits, int plan, int pres)
{
	size_t l = strnlen(digits, sizeof(n->digits) - 1); /* E.164 needs 15 */

	memcpy(n->digits, digits, l);
	n->digits[l] = '\0';
	n->ton = (uint8_t)((plan >> 4) & 0x7);
	n->npi = (uint8_t)(plan & 0xf);
	n->pres = (uint8_t)(pres < 0 ? 0 : pres);
}

/* Channel choice, glare and overlap receiving are overlap.c's and hunt.c's. */
static void on_ring(struct tpri *tp, pri_event_ring *r)
{
	struct tpri_call *c;

	if (call_new(&c, tp, r->call, false)) {
		pri_hangup(tp->ctrl, r->call, PRI_CAUSE_SWITCH_CONGESTION);
		return;
	}
	tpri__ring(tp, c, r);
}

/*
 * DISCONNECT from the far end: tell the user, answer with RELEASE. The event
 * lives in libpri's struct pri, which the user's handler may overwrite by
 * calling into libpri: what we need of it is copied first.
 */
static void on_hangup_req(struct tpri *tp, const pri_event_hangup *h)
{
	q931_call *qc = h->call;
	int cause = h->cause;
	struct tpri_call *c = call_find(tp, qc);

	if (!c) {
		if (qc)
			pri_hangup(tp->ctrl, qc, cause);
		return;
	}
	mem_ref(c);
	call_report_hangup(c, cause);
	if (c->qc && !c->cleared) {
		c->cleared = true;
		pri_hangup(tp->ctrl, c->qc, cause);
	}
	mem_deref(c);
}

/*
 * HANGUP: RELEASE received, or libpri cleared the call itself (timers, link
 * loss); libpri wants one pri_hangup() to free it. HANGUP_ACK: our clearing is
 * complete and libpri freed the call already.
 */
static void on_hangup(struct tpri *tp, const pri_event_hangup *h, bool ack)
{
	q931_call *qc = h->call;
	int cause = h->cause;
	struct tpri_call *c = call_find(tp, qc);

	if (!ack && qc)
		pri_hangup(tp->ctrl, qc, cause);
	if (!c)
		return;
	c->qc = NULL;
	mem_ref(c);
	call_report_hangup(c, cause);
	if (c->tp)
		call_unlink(c);
	mem_deref(c);
}

static void call_event(struct tpri *tp, enum tpri_ev_type type, q931_call *qc, int channel,
		       int progress)
{
	struct tpri_call *c = call_find(tp, qc);
	struct tpri_event ev = { .type = type, .call = c, .progress = progress };

	if (!c || c->reported)
		return;
	if (chan_of(channel))
		c->channel = chan_of(channel);
	if (c->outgoing)
		c->responded = true; /* the channel is settled: no more glare (hunt.c) */
	ev.channel = c->channel;
	emit(tp, &ev);
}

static void link_event(struct tpri *tp, bool up)
{
	struct tpri_event ev = { .type = up ? TPRI_EV_DCHAN_UP : TPRI_EV_DCHAN_DOWN };

	tp->up = up;
	LOGI(tp->sp->ctx, "D-channel %s", up ? "up" : "down");
	emit(tp, &ev);
}

static void handle_event(struct tpri *tp, pri_event *e)
{
	switch (e->e) {
	case PRI_EVENT_DCHAN_UP:
		link_event(tp, true);
		tpri__link_up(tp);
		break;
	case PRI_EVENT_DCHAN_DOWN:
		link_event(tp, false);
		break;
	case PRI_EVENT_RING:
		on_ring(tp, &e->ring);
		break;
	case PRI_EVENT_PROCEEDING:
		call_event(tp, TPRI_EV_PROCEEDING, e->proceeding.call, e->proceeding.channel, 0);
		break;
	case PRI_EVENT_PROGRESS:
		call_event(tp, TPRI_EV_PROGRESS, e->proceeding.call, e->proceeding.channel,
			   e->proceeding.progressmask);
		break;
	case PRI_EVENT_RINGING:
		call_event(tp, TPRI_EV_ALERTING, e->ringing.call, e->ringing.channel,
			   e->ringing.progressmask);
		break;
	case PRI_EVENT_ANSWER:
		call_event(tp, TPRI_EV_ANSWER, e->answer.call, e->answer.channel, 0);
		break;
	case PRI_EVENT_HANGUP_REQ:
		on_hangup_req(tp, &e->hangup);
		break;
	case PRI_EVENT_HANGUP:
		on_hangup(tp, &e->hangup, false);
		break;
	case PRI_EVENT_HANGUP_ACK:
		on_hangup(tp, &e->hangup, true);
		break;
	case PRI_EVENT_RESTART: {
		struct tpri_event ev = { .type = TPRI_EV_RESTART,
					 .channel = chan_of(e->restart.channel) };
		tpri__restart_rx(tp, ev.channel);
		emit(tp, &ev);
		break;
	}
	case PRI_EVENT_CONFIG_ERR:
		LOGW(tp->sp->ctx, "libpri configuration error: %s", e->err.err);
		break;
	default:
		if (!tpri__event(tp, e))
			LOGD(tp->sp->ctx, "libpri event %s ignored", pri_event2str(e->e));
		break;
	}
}

/* ---- the tpri ---- */

static void tpri_destroy(void *data)
{
	struct tpri *tp = data;

	tmr_cancel(&tp->tmr);
	tpri__features_close(tp);
	if (tp->sp)
		span_set_dchan_handler(tp->sp, NULL, NULL);
	while (tp->calls) {
		struct tpri_call *c = tp->calls;

		if (c->qc)
			pri_destroycall(tp->ctrl, c->qc);
		call_unlink(c);
	}
	if (tp->ctrl) {
		pri_set_userdata(tp->ctrl, NULL);
		park(tp->ctrl);
	}
	tp->sp = mem_deref(tp->sp);
	tp->cap = mem_deref(tp->cap);
}

static void set_timer(struct pri *ctrl, int timer, int value)
{
	if (value > 0)
		pri_set_timer(ctrl, timer, value);
}

int tpri_alloc(struct tpri **tpp, struct span *sp, const struct tpri_conf *conf, tpri_event_h *h,
	       void *arg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct tpri *tp;
	int sw;

	if (!tpp || !sp || !conf || (conf->node != TPRI_NET && conf->node != TPRI_CPE))
		return EINVAL;
	sw = switch_libpri(conf->sw);
	if (sw < 0 || !sp->conf.dchan)
		return EINVAL;
	pthread_once(&once, log_hooks_install);
	tp = mem_zalloc(sizeof(*tp), tpri_destroy);
	if (!tp)
		return ENOMEM;
	tp->sp = mem_ref(sp);
	tp->conf = *conf;
	tp->h = h;
	tp->arg = arg;
	tmr_init(&tp->tmr);
	/* libpri sends SABME from inside pri_new_cb: the span must reach us already. */
	tp->ctrl = pri_new_cb(-1, conf->node == TPRI_NET ? PRI_NETWORK : PRI_CPE, sw, io_read,
			      io_write, tp);
	if (!tp->ctrl) {
		mem_deref(tp);
		return ENOMEM;
	}
	pri_set_debug(tp->ctrl, conf->debug);
	set_timer(tp->ctrl, PRI_TIMER_T200, conf->t200);
	set_timer(tp->ctrl, PRI_TIMER_T203, conf->t203);
	set_timer(tp->ctrl, PRI_TIMER_N200, conf->n200);
	set_timer(tp->ctrl, PRI_TIMER_T309, conf->t309);
	tpri__features_init(tp);
	span_set_dchan_handler(sp, dchan_handler, tp);
	LOGI(sp->ctx, "PRI %s %s", conf->node == TPRI_NET ? "network" : "user",
	     tpri_switch_name(conf->sw));
	resched(tp);
	*tpp = tp;
	return 0;
}

int tpri_capture_start(struct tpri *tp, const char *path)
{
	struct lapdcap *c;
	int err;

	if (!tp || !path)
		return EINVAL;
	err = lapdcap_open(&c, path, tp->conf.node == TPRI_NET);
	if (err)
		return err;
	mem_deref(tp->cap);
	tp->cap = c;
	LOGI(tp->sp->ctx, "D-channel capture to %s", path);
	return 0;
}

void tpri_capture_stop(struct tpri *tp)
{
	if (tp)
		tp->cap = mem_deref(tp->cap);
}

bool tpri_dchan_up(const struct tpri *tp)
{
	return tp && tp->up;
}

struct span *tpri_span(const struct tpri *tp)
{
	return tp->sp;
}

unsigned tpri_ncalls(const struct tpri *tp)
{
	return tp->ncalls;
}

static int plan_of(const struct tpri_number *n)
{
	return ((n->ton & 0x7) << 4) | (n->npi & 0xf);
}

int tpri_call_place(struct tpri_call **callp, struct tpri *tp, unsigned channel, bool exclusive,
		    const struct tpri_number *called, const struct tpri_number *calling)
{
	struct tpri_setup s = { .channel = channel, .exclusive = exclusive, .called = called,
				.calling = calling };

	return tpri_call_setup(callp, tp, &s);
}

static int call_ok(const struct tpri_call *c)
{
	if (!c)
		return EINVAL;
	if (!c->tp || !c->qc || c->cleared || c->reported)
		return ENOTCONN;
	return 0;
}

/* fn is one of libpri's answers that take (ctrl, call, channel, flag). */
static int call_answer_msg(struct tpri_call *c, int (*fn)(struct pri *, q931_call *, int, int),
			   int flag)
{
	int err = call_ok(c);

	if (err)
		return err;
	err = fn(c->tp->ctrl, c->qc, c->channel, flag) ? EIO : 0;
	if (!err)
		c->responded = true;
	resched(c->tp);
	return err;
}

int tpri_call_set_channel(struct tpri_call *c, unsigned ts)
{
	int err = call_ok(c);

	if (err)
		return err;
	if (!span_is_bchan(c->tp->sp, ts))
		return EINVAL;
	c->channel = (int)ts;
	return 0;
}

int tpri_call_proceeding(struct tpri_call *c, bool inband)
{
	return call_answer_msg(c, pri_proceeding, inband);
}

int tpri_call_alerting(struct tpri_call *c, bool inband)
{
	return call_answer_msg(c, pri_acknowledge, inband);
}

int tpri_call_progress(struct tpri_call *c, bool inband)
{
	return call_answer_msg(c, pri_progress, inband);
}

int tpri_call_answer(struct tpri_call *c)
{
	return call_answer_msg(c, pri_answer, 0);
}

/* Not in libpri.h, but exported by libpri (1.4.11 and later). */
int q931_is_call_valid(struct pri *ctrl, q931_call *call);

/* libpri freed the call without an event to come: report it from the loop. */
static void call_gone_deferred(void *arg)
{
	struct tpri_call *c = arg;

	mem_ref(c);
	call_report_hangup(c, c->gone_cause);
	if (c->tp)
		call_unlink(c);
	mem_deref(c);
}

int tpri_call_hangup(struct tpri_call *c, int cause)
{
	struct tpri *tp;
	int err = call_ok(c);

	if (err)
		return err == ENOTCONN ? 0 : err; /* already on its way out */
	tp = c->tp;
	/*
	 * libpri sends DISCONNECT only for a call it considers alive, which an
	 * incoming call becomes with our first answer: reject through CALL
	 * PROCEEDING then DISCONNECT, which Q.931 allows for any cause.
	 */
	if (!c->outgoing && !c->responded && pri_proceeding(tp->ctrl, c->qc, c->channel, 0) == 0)
		c->responded = true;
	c->cleared = true;
	cause = cause > 0 ? cause : PRI_CAUSE_NORMAL_CLEARING;
	err = pri_hangup(tp->ctrl, c->qc, cause) ? EIO : 0;
	/*
	 * For causes 1, 34, 44, 81, 82 libpri answers with RELEASE COMPLETE at
	 * once and frees the call: no event will ever come for it.
	 */
	if (!err && !q931_is_call_valid(tp->ctrl, c->qc)) {
		c->qc = NULL;
		c->gone_cause = cause;
		loop_defer(tp->sp->loop, &c->gone, call_gone_deferred, c);
	}
	resched(tp);
	return err;
}

int tpri_call_channel(const struct tpri_call *c)
{
	return c->channel;
}

bool tpri_call_outgoing(const struct tpri_call *c)
{
	return c->outgoing;
}

void tpri_call_set_arg(struct tpri_call *c, void *arg)
{
	c->arg = arg;
}

void *tpri_call_arg(const struct tpri_call *c)
{
	return c->arg;
}

/* ---- for the feature files (pri_int.h) ---- */

int tpri__call_new(struct tpri_call **cp, struct tpri *tp, q931_call *qc, bool outgoing)
{
	return call_new(cp, tp, qc, outgoing);
}

struct tpri_call *tpri__call_find(struct tpri *tp, q931_call *qc)
{
	return call_find(tp, qc);
}

void tpri__call_unlink(struct tpri_call *c)
{
	call_unlink(c);
}

void tpri__call_report_hangup(struct tpri_call *c, int cause)
{
	call_report_hangup(c, cause);
}

void tpri__emit(struct tpri *tp, struct tpri_event *ev)
{
	emit(tp, ev);
}

void tpri__resched(struct tpri *tp)
{
	resched(tp);
}

void tpri__number_from(struct tpri_number *n, const char *digits, int plan, int pres)
{
	number_from(n, digits, plan, pres);
}

int tpri__plan_of(const struct tpri_number *n)
{
	return plan_of(n);
}
