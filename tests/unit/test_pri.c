/*
 * Unit tests for tdm/pri: two libpri ends, network and user side, over a virtual
 * span in one process on one loop. The D-channel comes up, calls are placed,
 * alerted, answered and cleared for each switch type; a D-channel pulled in the
 * middle of a call clears it and the link recovers when the cable is back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "tdm/pri/pri.h"
#include "tdm/span/span.h"
#include "tdm/virtual/virtual.h"

struct side {
	const char *name;
	struct span *sp;
	struct tpri *tp;
	struct tpri_call *call; /* borrowed: valid until its HANGUP event */
	unsigned n[TPRI_EV_RESTART + 1];
	int cause;
	int hangup_channel;
	int ring_channel;
	bool ring_complete;
	struct tpri_number called, calling;
	bool auto_alert; /* proceed, progress and alert on RING */
	int progress;	 /* PRI_PROG_* bits seen in PROGRESS and ALERTING */
	const struct tpri_conf *start; /* on_alarm_start(): PRI's configuration */
	unsigned alarm_not_open;       /* alarm handler calls with the span not open */
};

struct variant {
	const char *name;
	enum tpri_switch sw;
	enum span_type type;
};

struct rig {
	const struct variant *v;
	struct loop *l;
	struct side net, cpe;
};

static void on_event(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct side *s = arg;

	(void)tp;
	s->n[ev->type]++;
	switch (ev->type) {
	case TPRI_EV_RING:
		s->call = ev->call;
		s->called = *ev->called;
		s->calling = *ev->calling;
		s->ring_channel = ev->channel;
		s->ring_complete = ev->complete;
		if (s->auto_alert) {
			if (!ev->channel)
				assert_int_equal(tpri_call_set_channel(ev->call, 1), 0);
			assert_int_equal(tpri_call_proceeding(ev->call, false), 0);
			assert_int_equal(tpri_call_progress(ev->call, true), 0);
			assert_int_equal(tpri_call_alerting(ev->call, true), 0);
		}
		break;
	case TPRI_EV_PROGRESS:
	case TPRI_EV_ALERTING:
		s->progress |= ev->progress;
		break;
	case TPRI_EV_HANGUP:
		assert_ptr_equal(ev->call, s->call);
		s->cause = ev->cause;
		s->hangup_channel = ev->channel;
		s->call = NULL;
		break;
	default:
		break;
	}
}

typedef bool(pred_h)(struct rig *r);

static bool run_until(struct rig *r, pred_h *p, unsigned ms)
{
	uint64_t end = loop_clock_ms() + ms;

	while (!p(r)) {
		if (loop_clock_ms() >= end)
			return false;
		assert_int_equal(loop_run_once(r->l, 10), 0);
	}
	return true;
}

static bool both_up(struct rig *r)
{
	return tpri_dchan_up(r->net.tp) && tpri_dchan_up(r->cpe.tp);
}

static bool both_down(struct rig *r)
{
	return !tpri_dchan_up(r->net.tp) && !tpri_dchan_up(r->cpe.tp);
}

static bool spans_up(struct rig *r)
{
	return span_alarms(r->net.sp) == 0 && span_alarms(r->cpe.sp) == 0;
}

static bool net_ring(struct rig *r)
{
	return r->net.n[TPRI_EV_RING] > 0;
}

static bool cpe_ring(struct rig *r)
{
	return r->cpe.n[TPRI_EV_RING] > 0;
}

static bool net_alerting(struct rig *r)
{
	return r->net.n[TPRI_EV_ALERTING] > 0;
}

static bool cpe_alerting(struct rig *r)
{
	return r->cpe.n[TPRI_EV_ALERTING] > 0;
}

static bool cpe_answer(struct rig *r)
{
	return r->cpe.n[TPRI_EV_ANSWER] > 0;
}

static bool net_answer(struct rig *r)
{
	return r->net.n[TPRI_EV_ANSWER] > 0;
}

static bool both_hung_up(struct rig *r)
{
	return r->net.n[TPRI_EV_HANGUP] && r->cpe.n[TPRI_EV_HANGUP];
}

static bool no_calls(struct rig *r)
{
	return tpri_ncalls(r->net.tp) == 0 && tpri_ncalls(r->cpe.tp) == 0;
}

static void rig_open_span(struct rig *r, struct side *s, enum span_type type, const char *addr,
			  bool net)
{
	struct span_conf c;

	span_conf_default(&c, net ? 1 : 2, type);
	snprintf(c.addr, sizeof(c.addr), "%s", addr);
	/* The exchange listens and gives the clock, as a real network does. */
	c.listen = net;
	c.clock_master = net;
	assert_int_equal(span_virtual_alloc(&s->sp, &c, r->l), 0);
	assert_int_equal(span_open(s->sp), 0);
}

static void rig_start_t309(struct rig *r, const struct variant *v, int t309)
{
	struct tpri_conf conf = { .sw = v->sw, .t200 = 100, .t203 = 2000, .t309 = t309, .debug = getenv("PRIDEBUG") ? atoi(getenv("PRIDEBUG")) : 0 };
	char addr[64];
	static unsigned seq;

	memset(r, 0, sizeof(*r));
	r->v = v;
	r->net.name = "net";
	r->cpe.name = "cpe";
	r->net.auto_alert = true;
	assert_int_equal(loop_alloc(&r->l), 0);
	snprintf(addr, sizeof(addr), "@tandem-test-pri-%d-%u", (int)getpid(), seq++);
	rig_open_span(r, &r->net, v->type, addr, true);
	rig_open_span(r, &r->cpe, v->type, addr, false);
	/* Cable in first, so that neither end's first SABME is lost on a dead line. */
	assert_true(run_until(r, spans_up, 2000));
	conf.node = TPRI_NET;
	assert_int_equal(tpri_alloc(&r->net.tp, r->net.sp, &conf, on_event, &r->net), 0);
	conf.node = TPRI_CPE;
	assert_int_equal(tpri_alloc(&r->cpe.tp, r->cpe.sp, &conf, on_event, &r->cpe), 0);
	assert_true(run_until(r, both_up, 3000));
	assert_int_equal(r->net.n[TPRI_EV_DCHAN_UP], 1);
	assert_int_equal(r->cpe.n[TPRI_EV_DCHAN_UP], 1);
}

static void rig_start(struct rig *r, const struct variant *v)
{
	rig_start_t309(r, v, 0);
}

static void rig_stop(struct rig *r)
{
	mem_deref(r->cpe.tp);
	mem_deref(r->net.tp);
	mem_deref(r->cpe.sp);
	mem_deref(r->net.sp);
	loop_free(r->l);
}

static void reset_counts(struct rig *r)
{
	memset(r->net.n, 0, sizeof(r->net.n));
	memset(r->cpe.n, 0, sizeof(r->cpe.n));
	r->net.progress = r->cpe.progress = 0;
	r->net.cause = r->cpe.cause = -1;
}

/* The user side calls the network, which alerts and answers; the user clears with 16. */
static void call_up(struct rig *r, unsigned channel)
{
	struct tpri_number called = { "5551234", TPRI_TON_NATIONAL, TPRI_NPI_E164, 0 };
	struct tpri_number calling = { "4930123456", TPRI_TON_INTERNATIONAL, TPRI_NPI_E164,
				       PRI_PRES_ALLOWED | PRI_PRES_USER_NUMBER_PASSED_SCREEN };

	reset_counts(r);
	assert_int_equal(tpri_call_place(&r->cpe.call, r->cpe.tp, channel, channel != 0, &called,
					 &calling),
			 0);
	assert_true(tpri_call_outgoing(r->cpe.call));
	assert_int_equal(tpri_ncalls(r->cpe.tp), 1);
	assert_true(run_until(r, net_ring, 2000));
	assert_string_equal(r->net.called.digits, "5551234");
	assert_int_equal(r->net.called.ton, TPRI_TON_NATIONAL);
	assert_int_equal(r->net.called.npi, TPRI_NPI_E164);
	assert_string_equal(r->net.calling.digits, "4930123456");
	assert_int_equal(r->net.calling.ton, TPRI_TON_INTERNATIONAL);
	assert_int_equal(r->net.calling.npi, TPRI_NPI_E164);
	/* Presentation survives; the screening indicator is the switch type's business
	 * (libpri sends "network provided" for DMS-100 and 4ESS). */
	assert_int_equal(r->net.calling.pres & PRI_PRES_RESTRICTION, PRI_PRES_ALLOWED);
	/* Sending Complete is an ETSI information element: EuroISDN only. */
	assert_int_equal(r->net.ring_complete, r->v->sw == TPRI_SW_EUROISDN_E1 ||
						       r->v->sw == TPRI_SW_EUROISDN_T1);
	assert_int_equal(r->net.ring_channel, (int)channel);
	assert_false(tpri_call_outgoing(r->net.call));

	assert_true(run_until(r, cpe_alerting, 2000));
	assert_int_equal(r->cpe.n[TPRI_EV_PROCEEDING], 1);
	/* Ringback is in-band: early media for the SIP side (183/180 with SDP). */
	assert_int_equal(r->cpe.n[TPRI_EV_PROGRESS], 1);
	assert_true(r->cpe.progress & PRI_PROG_INBAND_AVAILABLE);
	assert_int_equal(tpri_call_channel(r->cpe.call), channel ? (int)channel : 1);
	assert_int_equal(tpri_call_answer(r->net.call), 0);
	assert_true(run_until(r, cpe_answer, 2000));
}

static void call_clear_16(struct rig *r)
{
	assert_int_equal(tpri_call_hangup(r->cpe.call, PRI_CAUSE_NORMAL_CLEARING), 0);
	assert_true(run_until(r, both_hung_up, 2000));
	assert_int_equal(r->net.cause, PRI_CAUSE_NORMAL_CLEARING);
	assert_int_equal(r->cpe.cause, PRI_CAUSE_NORMAL_CLEARING);
	assert_true(run_until(r, no_calls, 2000));
	assert_int_equal(r->net.n[TPRI_EV_HANGUP], 1);
	assert_int_equal(r->cpe.n[TPRI_EV_HANGUP], 1);
}

static void test_call(void **state)
{
	const struct variant *v = *state;
	struct rig r;

	rig_start(&r, v);
	call_up(&r, 1);
	call_clear_16(&r);
	/* A second call, on "any" channel: the network picks timeslot 1. */
	call_up(&r, 0);
	call_clear_16(&r);
	print_message("      %s: D-channel up, 2 calls set up and cleared with cause 16\n", v->name);
	rig_stop(&r);
}

static const struct variant v_euro_e1 = { "EuroISDN E1", TPRI_SW_EUROISDN_E1, SPAN_E1 };
static const struct variant v_euro_t1 = { "EuroISDN T1", TPRI_SW_EUROISDN_T1, SPAN_T1 };
static const struct variant v_ni2 = { "NI2 T1", TPRI_SW_NI2, SPAN_T1 };
static const struct variant v_dms = { "DMS-100 T1", TPRI_SW_DMS100, SPAN_T1 };
static const struct variant v_4ess = { "4ESS T1", TPRI_SW_4ESS, SPAN_T1 };
static const struct variant v_5ess = { "5ESS T1", TPRI_SW_5ESS, SPAN_T1 };
static const struct variant v_qsig = { "QSIG E1", TPRI_SW_QSIG, SPAN_E1 };

/* The network calls the user (a DID call); the network side clears it. */
static void test_call_inbound(void **state)
{
	const struct variant *v = *state;
	struct tpri_number called = { "1001", TPRI_TON_SUBSCRIBER, TPRI_NPI_E164, 0 };
	struct tpri_call *c;
	struct rig r;

	rig_start(&r, v);
	reset_counts(&r);
	r.net.auto_alert = false;
	r.cpe.auto_alert = true;
	assert_int_equal(tpri_call_place(&c, r.net.tp, 5, true, &called, NULL), 0);
	r.net.call = c;
	assert_true(run_until(&r, cpe_ring, 2000));
	assert_int_equal(r.cpe.n[TPRI_EV_RING], 1);
	assert_string_equal(r.cpe.called.digits, "1001");
	assert_int_equal(r.cpe.called.ton, TPRI_TON_SUBSCRIBER);
	assert_int_equal(r.cpe.ring_channel, 5);
	assert_true(run_until(&r, net_alerting, 2000));
	assert_int_equal(r.net.n[TPRI_EV_ALERTING], 1);
	assert_int_equal(tpri_call_answer(r.cpe.call), 0);
	assert_true(run_until(&r, net_answer, 2000));
	assert_int_equal(tpri_call_hangup(r.net.call, PRI_CAUSE_NORMAL_CLEARING), 0);
	assert_true(run_until(&r, both_hung_up, 2000));
	assert_int_equal(r.net.cause, PRI_CAUSE_NORMAL_CLEARING);
	assert_int_equal(r.cpe.cause, PRI_CAUSE_NORMAL_CLEARING);
	assert_int_equal(r.cpe.hangup_channel, 5);
	assert_true(run_until(&r, no_calls, 2000));
	rig_stop(&r);
}

/* Busy: the network rejects before answer with cause 17; the caller sees 17. */
static void test_call_busy(void **state)
{
	const struct variant *v = *state;
	struct rig r;
	struct tpri_number called = { "5550000", TPRI_TON_NATIONAL, TPRI_NPI_E164, 0 };

	rig_start(&r, v);
	reset_counts(&r);
	r.net.auto_alert = false;
	assert_int_equal(tpri_call_place(&r.cpe.call, r.cpe.tp, 2, true, &called, NULL), 0);
	assert_true(run_until(&r, net_ring, 2000));
	assert_int_equal(tpri_call_hangup(r.net.call, PRI_CAUSE_USER_BUSY), 0);
	assert_true(run_until(&r, both_hung_up, 2000));
	assert_int_equal(r.cpe.cause, PRI_CAUSE_USER_BUSY);
	assert_int_equal(r.net.cause, PRI_CAUSE_USER_BUSY);
	assert_true(run_until(&r, no_calls, 2000));
	rig_stop(&r);
}

/* The cable is pulled during an answered call, then put back. */
static void test_dchan_drop(void **state)
{
	const struct variant *v = *state;
	struct rig r;
	uint64_t t0, t1;

	/* T309 (libpri default 6 s) keeps active calls over a short outage; 1 s here. */
	rig_start_t309(&r, v, 1000);
	call_up(&r, 3);
	assert_int_equal(tpri_ncalls(r.net.tp), 1);

	t0 = loop_clock_ms();
	span_close(r.cpe.sp); /* both sockets go: red on the network's span */
	assert_true(run_until(&r, both_down, 5000));
	t1 = loop_clock_ms();
	assert_true(run_until(&r, both_hung_up, 8000));
	print_message("      %s: both D-channels down after %llu ms, call cleared %llu ms later: "
		      "network cause %d (%s), user cause %d (%s)\n",
		      v->name, (unsigned long long)(t1 - t0),
		      (unsigned long long)(loop_clock_ms() - t1), r.net.cause,
		      pri_cause2str(r.net.cause), r.cpe.cause, pri_cause2str(r.cpe.cause));
	assert_int_equal(r.net.cause, PRI_CAUSE_DESTINATION_OUT_OF_ORDER);
	assert_int_equal(r.cpe.cause, PRI_CAUSE_DESTINATION_OUT_OF_ORDER);
	assert_true(span_alarms(r.net.sp) & SPAN_ALARM_RED);
	assert_true(r.net.cause > 0);
	assert_true(r.cpe.cause > 0);
	assert_true(run_until(&r, no_calls, 2000));
	/* No call can be placed while the link is down. */
	{
		struct tpri_number called = { "1", 0, 0, 0 };
		struct tpri_call *x;

		assert_int_equal(tpri_call_place(&x, r.cpe.tp, 1, true, &called, NULL), ENOTCONN);
	}

	/* Cable back: the link and calls recover by themselves. */
	assert_int_equal(span_open(r.cpe.sp), 0);
	t0 = loop_clock_ms();
	assert_true(run_until(&r, both_up, 5000));
	print_message("      %s: link up again %llu ms after reconnect\n", v->name,
		      (unsigned long long)(loop_clock_ms() - t0));
	assert_int_equal(span_alarms(r.net.sp), 0);
	call_up(&r, 3);
	call_clear_16(&r);
	rig_stop(&r);
}

/* A short outage (shorter than T309) leaves an answered call standing. */
static void test_dchan_blip(void **state)
{
	const struct variant *v = *state;
	struct rig r;

	rig_start_t309(&r, v, 4000);
	call_up(&r, 7);
	span_close(r.cpe.sp);
	assert_true(run_until(&r, both_down, 5000));
	assert_int_equal(span_open(r.cpe.sp), 0);
	assert_true(run_until(&r, both_up, 3000));
	/* Give T309 time to have fired, had it not been stopped. */
	run_until(&r, both_hung_up, 4500);
	assert_int_equal(r.net.n[TPRI_EV_HANGUP] + r.cpe.n[TPRI_EV_HANGUP], 0);
	assert_int_equal(tpri_ncalls(r.net.tp), 1);
	assert_int_equal(tpri_ncalls(r.cpe.tp), 1);
	/* ... and it still clears normally. */
	call_clear_16(&r);
	rig_stop(&r);
}

static bool link_flapped(struct rig *r)
{
	return r->net.n[TPRI_EV_DCHAN_DOWN] || r->cpe.n[TPRI_EV_DCHAN_DOWN] ||
	       r->net.n[TPRI_EV_DCHAN_UP] > 1 || r->cpe.n[TPRI_EV_DCHAN_UP] > 1;
}

/* PRI starts when the cable is in, as pstnsim and tandemd start it. */
static void on_alarm_start(struct span *sp, unsigned alarms, void *arg)
{
	struct side *s = arg;

	/* Never from inside span_open(): the span must be able to send already. */
	if (!sp->open)
		s->alarm_not_open++;
	if (!alarms && !s->tp)
		assert_int_equal(tpri_alloc(&s->tp, sp, s->start, on_event, s), 0);
}

static void side_open_alarm_started(struct rig *r, struct side *s, const char *addr, bool net,
				    const struct tpri_conf *conf)
{
	struct span_conf c;

	span_conf_default(&c, net ? 1 : 2, r->v->type);
	snprintf(c.addr, sizeof(c.addr), "%s", addr);
	c.listen = net;
	c.clock_master = net;
	s->start = conf;
	assert_int_equal(span_virtual_alloc(&s->sp, &c, r->l), 0);
	span_set_alarm_handler(s->sp, on_alarm_start, s);
	assert_int_equal(span_open(s->sp), 0);
}

/*
 * Both ends start PRI from their alarm handler. The connecting end comes up
 * inside span_open(): its first SABME must not be lost there (the link would
 * then wait T200, and the repeated SABME would reset it under the first call).
 */
static void test_pri_started_on_alarm(void **state)
{
	const struct variant *v = *state;
	struct tpri_conf nc = { .node = TPRI_NET, .sw = v->sw, .t200 = 1000 };
	struct tpri_conf cc = { .node = TPRI_CPE, .sw = v->sw, .t200 = 1000 };
	struct rig r;
	char addr[64];
	uint64_t t0, ms;
	static unsigned seq;

	memset(&r, 0, sizeof(r));
	r.v = v;
	r.net.name = "net";
	r.cpe.name = "cpe";
	r.net.auto_alert = true;
	assert_int_equal(loop_alloc(&r.l), 0);
	snprintf(addr, sizeof(addr), "@tandem-test-pri-alarm-%d-%u", (int)getpid(), seq++);
	t0 = loop_clock_ms();
	side_open_alarm_started(&r, &r.net, addr, true, &nc);
	side_open_alarm_started(&r, &r.cpe, addr, false, &cc);
	assert_true(run_until(&r, both_up, 3000));
	ms = loop_clock_ms() - t0;
	print_message("      %s: link up %llu ms after span_open() (T200 1000 ms)\n", v->name,
		      (unsigned long long)ms);
	assert_int_equal(r.net.alarm_not_open + r.cpe.alarm_not_open, 0);
	assert_true(ms < 300);
	/* No SABME repeated after T200 resets the link under a call. */
	run_until(&r, link_flapped, 1200);
	assert_false(link_flapped(&r));
	assert_int_equal(r.net.n[TPRI_EV_DCHAN_UP], 1);
	assert_int_equal(r.cpe.n[TPRI_EV_DCHAN_UP], 1);
	call_up(&r, 1);
	call_clear_16(&r);
	rig_stop(&r);
}

/* Every B-channel busy at once, cleared from both sides, several rounds. */
struct many {
	struct tpri_call *cpe[SPAN_MAX_TS + 1];
	struct tpri_call *net[SPAN_MAX_TS + 1];
	unsigned answered, hangups_net, hangups_cpe, rings;
};

static struct many g_many;

static void many_event(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct side *s = arg;

	(void)tp;
	switch (ev->type) {
	case TPRI_EV_RING:
		g_many.rings++;
		assert_true(ev->channel > 0);
		g_many.net[ev->channel] = ev->call;
		assert_int_equal(tpri_call_alerting(ev->call, false), 0);
		assert_int_equal(tpri_call_answer(ev->call), 0);
		break;
	case TPRI_EV_ANSWER:
		g_many.answered++;
		break;
	case TPRI_EV_HANGUP:
		assert_int_equal(ev->cause, PRI_CAUSE_NORMAL_CLEARING);
		if (!strcmp(s->name, "net")) {
			assert_ptr_equal(g_many.net[ev->channel], ev->call);
			g_many.net[ev->channel] = NULL;
			g_many.hangups_net++;
		} else {
			assert_ptr_equal(g_many.cpe[ev->channel], ev->call);
			g_many.cpe[ev->channel] = NULL;
			g_many.hangups_cpe++;
		}
		break;
	default:
		s->n[ev->type]++;
		break;
	}
}

static unsigned many_target;

static bool many_answered(struct rig *r)
{
	(void)r;
	return g_many.answered == many_target;
}

static bool many_cleared(struct rig *r)
{
	return g_many.hangups_net == many_target && g_many.hangups_cpe == many_target &&
	       no_calls(r);
}

static void test_many_calls(void **state)
{
	const struct variant *v = *state;
	struct tpri_number called = { "5551234", TPRI_TON_NATIONAL, TPRI_NPI_E164, 0 };
	struct rig r;
	unsigned nb = 0, rounds = 10;
	uint64_t t0;

	rig_start(&r, v);
	r.net.tp = mem_deref(r.net.tp);
	r.cpe.tp = mem_deref(r.cpe.tp);
	/* Fresh ends with the stress handler (the parked ones stay parked). */
	{
		struct tpri_conf conf = { .sw = v->sw, .node = TPRI_NET };
		assert_int_equal(tpri_alloc(&r.net.tp, r.net.sp, &conf, many_event, &r.net), 0);
		conf.node = TPRI_CPE;
		assert_int_equal(tpri_alloc(&r.cpe.tp, r.cpe.sp, &conf, many_event, &r.cpe), 0);
	}
	assert_true(run_until(&r, both_up, 3000));
	t0 = loop_clock_ms();
	for (unsigned round = 0; round < rounds; round++) {
		memset(&g_many, 0, sizeof(g_many));
		nb = 0;
		for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
			if (!span_is_bchan(r.cpe.sp, ts))
				continue;
			assert_int_equal(tpri_call_place(&g_many.cpe[ts], r.cpe.tp, ts, true, &called,
							 NULL),
					 0);
			nb++;
		}
		many_target = nb;
		assert_true(run_until(&r, many_answered, 5000));
		assert_int_equal(tpri_ncalls(r.net.tp), nb);
		/* Odd timeslots cleared by the user side, even ones by the network. */
		for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
			if (!span_is_bchan(r.cpe.sp, ts))
				continue;
			if (ts & 1)
				assert_int_equal(tpri_call_hangup(g_many.cpe[ts], 16), 0);
			else
				assert_int_equal(tpri_call_hangup(g_many.net[ts], 16), 0);
		}
		assert_true(run_until(&r, many_cleared, 5000));
	}
	print_message("      %s: %u rounds of %u simultaneous calls (%u calls) in %llu ms\n",
		      v->name, rounds, nb, rounds * nb,
		      (unsigned long long)(loop_clock_ms() - t0));
	rig_stop(&r);
}

/*
 * The D-channel of a call in a pcap file that tshark decodes: message types in
 * order, the numbers, the cause, and not one malformed frame.
 */
static void test_capture(void **state)
{
	const struct variant *v = *state;
	char dir[] = "/tmp/tandem-test-cap-XXXXXX", path[64], cmd[256], line[256];
	static const char *const want[] = { "0x05", "0x02", "0x03", "0x01", "0x07",
					    "0x0f", "0x45", "0x4d", "0x5a" };
	unsigned nmsg = 0, nmal = 0, nbad = 0;
	int rc;
	bool called_seen = false, cause_seen = false;
	struct rig r;
	FILE *p;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dchan.pcap", dir);
	rig_start(&r, v);
	assert_int_equal(tpri_capture_start(r.cpe.tp, path), 0);
	call_up(&r, 1);
	call_clear_16(&r);
	tpri_capture_stop(r.cpe.tp);
	rig_stop(&r);

	if (access("/usr/bin/tshark", X_OK)) {
		unlink(path);
		rmdir(dir);
		skip(); /* packaging/deps.sh installs it */
	}
	/* Q.931 messages only (RR frames carry none), as "type,called digits,cause". */
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/tshark -n -r %s -Y q931 -T fields -E separator=, -e q931.message_type "
		 "-e q931.called_party_number.digits -e q931.cause_value 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (nmsg < ARRAY_SIZE(want) && !strncmp(line, want[nmsg], 4)) {
			called_seen |= !strcmp(line, "0x05,5551234,");
			cause_seen |= !strcmp(line, "0x45,,16");
			nmsg++;
		} else {
			print_message("unexpected tshark line %u: %s\n", nmsg, line);
			nbad++;
		}
	}
	rc = pclose(p);
	snprintf(cmd, sizeof(cmd), "/usr/bin/tshark -n -r %s -Y _ws.malformed 2>/dev/null", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		nmal++;
	rc |= pclose(p);
	unlink(path);
	rmdir(dir);
	print_message("      %s: tshark decoded %u Q.931 messages (SETUP ... RELEASE COMPLETE), "
		      "%u malformed\n",
		      v->name, nmsg, nmal);
	assert_int_equal(rc, 0);
	assert_int_equal(nbad, 0);
	assert_int_equal(nmsg, ARRAY_SIZE(want));
	assert_true(called_seen);
	assert_true(cause_seen);
	assert_int_equal(nmal, 0);
}

static void test_switch_names(void **state)
{
	enum tpri_switch sw;

	(void)state;
	assert_int_equal(tpri_switch_parse("euroisdn", &sw), 0);
	assert_int_equal(sw, TPRI_SW_EUROISDN_E1);
	assert_int_equal(tpri_switch_parse("NI2", &sw), 0);
	assert_int_equal(sw, TPRI_SW_NI2);
	assert_int_equal(tpri_switch_parse("5ess", &sw), 0);
	assert_int_equal(sw, TPRI_SW_5ESS);
	assert_int_equal(tpri_switch_parse("qsig", &sw), 0);
	assert_int_equal(sw, TPRI_SW_QSIG);
	assert_int_equal(tpri_switch_parse("gr303", &sw), EINVAL);
	assert_string_equal(tpri_switch_name(TPRI_SW_EUROISDN_E1), "euroisdn_e1");
	assert_string_equal(tpri_switch_name(TPRI_SW_4ESS), "4ess");
}

#define CALL_TEST(fn, v) cmocka_unit_test_prestate(fn, (void *)&(v))

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_names),
		CALL_TEST(test_call, v_euro_e1),
		CALL_TEST(test_call, v_euro_t1),
		CALL_TEST(test_call, v_ni2),
		CALL_TEST(test_call, v_dms),
		CALL_TEST(test_call, v_4ess),
		CALL_TEST(test_call, v_5ess),
		CALL_TEST(test_call, v_qsig),
		CALL_TEST(test_call_inbound, v_euro_e1),
		CALL_TEST(test_call_inbound, v_ni2),
		CALL_TEST(test_call_busy, v_euro_e1),
		CALL_TEST(test_call_busy, v_ni2),
		CALL_TEST(test_dchan_drop, v_euro_e1),
		CALL_TEST(test_dchan_drop, v_ni2),
		CALL_TEST(test_dchan_blip, v_euro_e1),
		CALL_TEST(test_pri_started_on_alarm, v_euro_e1),
		CALL_TEST(test_pri_started_on_alarm, v_ni2),
		CALL_TEST(test_many_calls, v_euro_e1),
		CALL_TEST(test_many_calls, v_ni2),
		CALL_TEST(test_capture, v_euro_e1),
		CALL_TEST(test_capture, v_ni2),
	};

	log_init("test_pri", false, getenv("PRIDEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
