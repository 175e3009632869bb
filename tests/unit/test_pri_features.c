/*
 * Unit tests for the PRI features of tdm/pri (hunt.c, overlap.c, service.c):
 * two libpri ends, network and user side, over virtual span pairs on one loop,
 * as in test_pri.c. B-channel hunting over a span group, exclusive and
 * preferred channels, channels out of service skipped, glare, overlap
 * receiving and sending with T302, redirecting number and presentation,
 * RESTART at start-up and received during a call, SERVICE.
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

#define NEV      (TPRI_EV_SERVICE + 1)
#define MAXCALLS 64

struct side {
	const char *name;
	struct span *sp;
	struct tpri *tp;
	unsigned n[NEV];
	bool auto_alert;             /* PROCEEDING + ALERTING on RING */
	struct tpri_call *ring_call; /* last RING */
	int ring_req;                /* channel the last SETUP asked for */
	int ring_chan;               /* channel it was given */
	struct tpri_number called, calling, redirecting;
	int redirect_reason;
	bool ring_complete;
	int cause;              /* last HANGUP */
	struct tpri_call *hung; /* last HANGUP's call */
	int restart_chans[SPAN_MAX_TS + 1];
	int service_chan;
	bool service_in;
	struct tpri_call *acked; /* last SETUP ACK */
	uint64_t t_hangup;
};

struct rig {
	struct loop *l;
	struct side net[2], cpe[2];
	unsigned npairs;
};

static void on_event(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct side *s = arg;

	(void)tp;
	assert_true(ev->type < NEV);
	s->n[ev->type]++;
	switch (ev->type) {
	case TPRI_EV_RING:
		s->ring_call = ev->call;
		s->ring_req = ev->channel;
		s->ring_chan = tpri_call_channel(ev->call);
		s->called = *ev->called;
		s->calling = *ev->calling;
		s->redirecting = *ev->redirecting;
		s->redirect_reason = ev->redirect_reason;
		s->ring_complete = ev->complete;
		if (s->auto_alert) {
			assert_int_equal(tpri_call_proceeding(ev->call, false), 0);
			assert_int_equal(tpri_call_alerting(ev->call, true), 0);
		}
		break;
	case TPRI_EV_HANGUP:
		s->cause = ev->cause;
		s->hung = ev->call;
		s->t_hangup = loop_clock_ms();
		break;
	case TPRI_EV_RESTART:
		if (ev->channel >= 0 && ev->channel <= SPAN_MAX_TS)
			s->restart_chans[ev->channel]++;
		break;
	case TPRI_EV_SERVICE:
		s->service_chan = ev->channel;
		s->service_in = ev->in_service;
		break;
	case TPRI_EV_SETUP_ACK:
		s->acked = ev->call;
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

static void run_for(struct rig *r, unsigned ms)
{
	uint64_t end = loop_clock_ms() + ms;

	while (loop_clock_ms() < end)
		assert_int_equal(loop_run_once(r->l, 10), 0);
}

static bool all_up(struct rig *r)
{
	for (unsigned i = 0; i < r->npairs; i++)
		if (!tpri_dchan_up(r->net[i].tp) || !tpri_dchan_up(r->cpe[i].tp))
			return false;
	return true;
}

static bool spans_up(struct rig *r)
{
	for (unsigned i = 0; i < r->npairs; i++)
		if (span_alarms(r->net[i].sp) || span_alarms(r->cpe[i].sp))
			return false;
	return true;
}

static bool no_calls(struct rig *r)
{
	for (unsigned i = 0; i < r->npairs; i++)
		if (tpri_ncalls(r->net[i].tp) || tpri_ncalls(r->cpe[i].tp))
			return false;
	return true;
}

static void open_span(struct rig *r, struct side *s, enum span_type type, const char *addr,
                      unsigned num, bool net)
{
	struct span_conf c;

	span_conf_default(&c, num, type);
	snprintf(c.addr, sizeof(c.addr), "%s", addr);
	c.listen = net;
	c.clock_master = net;
	assert_int_equal(span_virtual_alloc(&s->sp, &c, r->l), 0);
	assert_int_equal(span_open(s->sp), 0);
}

/* npairs network/user span pairs; netc/cpec: the features of each side. */
static void rig_start(struct rig *r, unsigned npairs, enum tpri_switch sw, enum span_type type,
                      const struct tpri_conf *netc, const struct tpri_conf *cpec)
{
	static unsigned seq;
	char addr[64];

	memset(r, 0, sizeof(*r));
	r->npairs = npairs;
	assert_int_equal(loop_alloc(&r->l), 0);
	for (unsigned i = 0; i < npairs; i++) {
		snprintf(addr, sizeof(addr), "@tandem-test-prif-%d-%u", (int)getpid(), seq++);
		r->net[i].name = "net";
		r->cpe[i].name = "cpe";
		open_span(r, &r->net[i], type, addr, 1 + 2 * i, true);
		open_span(r, &r->cpe[i], type, addr, 2 + 2 * i, false);
	}
	assert_true(run_until(r, spans_up, 2000));
	for (unsigned i = 0; i < npairs; i++) {
		struct tpri_conf nc = *netc, cc = *cpec;

		nc.node = TPRI_NET;
		cc.node = TPRI_CPE;
		nc.sw = cc.sw = sw;
		nc.t200 = cc.t200 = 100;
		nc.t203 = cc.t203 = 2000;
		nc.debug = cc.debug = getenv("PRIDEBUG") ? atoi(getenv("PRIDEBUG")) : 0;
		assert_int_equal(tpri_alloc(&r->net[i].tp, r->net[i].sp, &nc, on_event, &r->net[i]),
		                 0);
		assert_int_equal(tpri_alloc(&r->cpe[i].tp, r->cpe[i].sp, &cc, on_event, &r->cpe[i]),
		                 0);
	}
	assert_true(run_until(r, all_up, 3000));
}

static void rig_start1(struct rig *r, enum tpri_switch sw, enum span_type type)
{
	struct tpri_conf c = {0};

	rig_start(r, 1, sw, type, &c, &c);
}

static void rig_stop(struct rig *r)
{
	for (unsigned i = 0; i < r->npairs; i++) {
		mem_deref(r->cpe[i].tp);
		mem_deref(r->net[i].tp);
		mem_deref(r->cpe[i].sp);
		mem_deref(r->net[i].sp);
	}
	loop_free(r->l);
}

static void reset(struct side *s)
{
	memset(s->n, 0, sizeof(s->n));
	s->cause = -1;
	s->hung = NULL;
	s->ring_call = NULL;
	s->acked = NULL;
}

static const struct tpri_number called_7 = {"5551234", TPRI_TON_NATIONAL, TPRI_NPI_E164, 0};

static struct tpri_call *place(struct tpri *tp, unsigned ch, bool exclusive)
{
	struct tpri_setup s = {.channel = ch, .exclusive = exclusive, .called = &called_7};
	struct tpri_call *c;

	assert_int_equal(tpri_call_setup(&c, tp, &s), 0);
	return c;
}

static bool net0_ring(struct rig *r)
{
	return r->net[0].n[TPRI_EV_RING] > 0;
}

static bool cpe0_ring(struct rig *r)
{
	return r->cpe[0].n[TPRI_EV_RING] > 0;
}

static bool cpe0_hangup(struct rig *r)
{
	return r->cpe[0].n[TPRI_EV_HANGUP] > 0;
}

static bool net0_hangup(struct rig *r)
{
	return r->net[0].n[TPRI_EV_HANGUP] > 0;
}

static bool cpe0_alerting(struct rig *r)
{
	return r->cpe[0].n[TPRI_EV_ALERTING] > 0;
}

static bool net0_alerting(struct rig *r)
{
	return r->net[0].n[TPRI_EV_ALERTING] > 0;
}

static void clear_all(struct rig *r, struct tpri_call **calls, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(tpri_call_hangup(calls[i], PRI_CAUSE_NORMAL_CLEARING), 0);
	assert_true(run_until(r, no_calls, 3000));
}

/* ---- hunting ---- */

static unsigned g_target;

static bool net_rings_target(struct rig *r)
{
	return r->net[0].n[TPRI_EV_RING] + r->net[1].n[TPRI_EV_RING] >= g_target;
}

static bool cpe0_down(struct rig *r)
{
	return !tpri_dchan_up(r->cpe[0].tp);
}

/* Two E1 spans in a group: ascending fills span 1 then goes on to span 2. */
static void test_hunt_ascending(void **state)
{
	struct tpri_setup s = {.called = &called_7};
	struct tpri_call *calls[MAXCALLS];
	struct tpri_group *g;
	struct rig r;
	unsigned n = 0;

	struct tpri_conf c = {0};

	(void)state;
	rig_start(&r, 2, TPRI_SW_EUROISDN_E1, SPAN_E1, &c, &c);
	assert_int_equal(tpri_group_alloc(&g, TPRI_HUNT_ASC), 0);
	assert_int_equal(tpri_group_add(g, r.cpe[0].tp), 0);
	assert_int_equal(tpri_group_add(g, r.cpe[1].tp), 0);
	for (unsigned i = 0; i < 31; i++) {
		assert_int_equal(tpri_group_call(&calls[n], g, &s), 0);
		n++;
	}
	/* Timeslots 1-15, 17-31 of span 1 (16 is the D-channel), then 1 of span 2. */
	assert_int_equal(tpri_call_channel(calls[0]), 1);
	assert_int_equal(tpri_call_channel(calls[15]), 17);
	assert_int_equal(tpri_call_channel(calls[29]), 31);
	assert_int_equal(tpri_call_channel(calls[30]), 1);
	assert_int_equal(tpri_ncalls(r.cpe[0].tp), 30);
	assert_int_equal(tpri_ncalls(r.cpe[1].tp), 1);
	g_target = 31;
	assert_true(run_until(&r, net_rings_target, 3000));
	/* The far end was asked for, and gave, the channels hunted. */
	assert_int_equal(r.net[1].ring_req, 1);
	assert_int_equal(r.net[1].ring_chan, 1);
	assert_int_equal(r.net[0].ring_chan, 31);
	clear_all(&r, calls, n);
	/* A span whose link is down is skipped: span 1's cable pulled, span 2 gets the call. */
	span_close(r.cpe[0].sp);
	assert_true(run_until(&r, cpe0_down, 5000));
	assert_int_equal(tpri_group_call(&calls[0], g, &s), 0);
	assert_int_equal(tpri_ncalls(r.cpe[1].tp), 1);
	assert_int_equal(tpri_call_channel(calls[0]), 1);
	clear_all(&r, calls, 1);
	print_message("      ascending over 2 E1 spans: 31 calls on span 1 ts 1..31 then span 2 "
	              "ts 1; span 1 down: span 2\n");
	mem_deref(g);
	rig_stop(&r);
}

static void test_hunt_descending_rr(void **state)
{
	struct tpri_setup s = {.called = &called_7};
	struct tpri_call *calls[4];
	struct tpri_group *g;
	struct rig r;
	struct tpri_conf c = {0};
	int got[6];

	(void)state;
	rig_start(&r, 2, TPRI_SW_EUROISDN_E1, SPAN_E1, &c, &c);
	/* Descending: the last span's highest timeslots first. */
	assert_int_equal(tpri_group_alloc(&g, TPRI_HUNT_DESC), 0);
	assert_int_equal(tpri_group_add(g, r.cpe[0].tp), 0);
	assert_int_equal(tpri_group_add(g, r.cpe[1].tp), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(tpri_group_call(&calls[i], g, &s), 0);
	assert_int_equal(tpri_ncalls(r.cpe[1].tp), 3);
	assert_int_equal(tpri_call_channel(calls[0]), 31);
	assert_int_equal(tpri_call_channel(calls[1]), 30);
	assert_int_equal(tpri_call_channel(calls[2]), 29);
	clear_all(&r, calls, 3);
	g = mem_deref(g);

	/* Round robin, one call at a time: each takes the next channel, not the first. */
	assert_int_equal(tpri_group_alloc(&g, TPRI_HUNT_RR), 0);
	assert_int_equal(tpri_group_add(g, r.cpe[0].tp), 0);
	assert_int_equal(tpri_group_add(g, r.cpe[1].tp), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(tpri_group_call(&calls[0], g, &s), 0);
		got[i] = tpri_call_channel(calls[0]);
		assert_int_equal(tpri_ncalls(r.cpe[0].tp), 1);
		clear_all(&r, calls, 1);
	}
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 3);
	/* ... while ascending takes timeslot 1 every time. */
	g = mem_deref(g);
	assert_int_equal(tpri_group_alloc(&g, TPRI_HUNT_ASC), 0);
	assert_int_equal(tpri_group_add(g, r.cpe[0].tp), 0);
	for (unsigned i = 3; i < 6; i++) {
		assert_int_equal(tpri_group_call(&calls[0], g, &s), 0);
		got[i] = tpri_call_channel(calls[0]);
		clear_all(&r, calls, 1);
	}
	assert_int_equal(got[3], 1);
	assert_int_equal(got[5], 1);
	print_message("      descending: span 2 ts 31, 30, 29; round robin: ts %d, %d, %d; "
	              "ascending: ts %d, %d, %d\n",
	              got[0], got[1], got[2], got[3], got[4], got[5]);
	mem_deref(g);
	rig_stop(&r);
}

/* Out of service on the far end: preferred is moved, exclusive refused (44). */
static void test_exclusive_preferred_oos(void **state)
{
	struct tpri_call *c;
	struct rig r;
	unsigned ts;

	(void)state;
	rig_start1(&r, TPRI_SW_EUROISDN_E1, SPAN_E1);
	r.net[0].auto_alert = true;
	/* Local maintenance, no SERVICE message on EuroISDN: only the network knows. */
	assert_int_equal(tpri_chan_service(r.net[0].tp, 2, false), 0);
	assert_int_equal(tpri_chan_state(r.net[0].tp, 2), TPRI_CHAN_OOS);
	assert_int_equal(tpri_hunt(r.net[0].tp, TPRI_HUNT_ASC, &ts), 0);
	assert_int_equal(tpri_hunt(r.net[0].tp, TPRI_HUNT_ASC, &ts), 0);
	assert_int_equal(ts, 1);

	reset(&r.net[0]);
	reset(&r.cpe[0]);
	c = place(r.cpe[0].tp, 2, false);
	assert_true(run_until(&r, cpe0_alerting, 2000));
	assert_int_equal(r.net[0].ring_req, 2);
	assert_int_equal(r.net[0].ring_chan, 1);
	assert_int_equal(tpri_call_channel(c), 1); /* moved by CALL PROCEEDING */
	clear_all(&r, &c, 1);

	reset(&r.net[0]);
	reset(&r.cpe[0]);
	c = place(r.cpe[0].tp, 2, true);
	assert_true(run_until(&r, cpe0_hangup, 2000));
	assert_int_equal(r.cpe[0].cause, PRI_CAUSE_REQUESTED_CHAN_UNAVAIL);
	assert_int_equal(r.net[0].n[TPRI_EV_RING], 0);
	assert_int_equal(r.net[0].n[TPRI_EV_HANGUP], 0);
	assert_true(run_until(&r, no_calls, 2000));

	/* The other way: the network's preferred channel is out of service at the user's. */
	assert_int_equal(tpri_chan_service(r.cpe[0].tp, 6, false), 0);
	r.cpe[0].auto_alert = true;
	reset(&r.net[0]);
	reset(&r.cpe[0]);
	c = place(r.net[0].tp, 6, false);
	assert_true(run_until(&r, net0_alerting, 2000));
	assert_int_equal(r.cpe[0].ring_req, 6);
	assert_int_equal(r.cpe[0].ring_chan, 1);
	assert_int_equal(tpri_call_channel(c), 1);
	clear_all(&r, &c, 1);
	assert_int_equal(tpri_chan_service(r.cpe[0].tp, 6, true), 0);

	/* Our own side refuses at once what it knows to be busy or out of service. */
	assert_int_equal(tpri_chan_service(r.cpe[0].tp, 3, false), 0);
	{
		struct tpri_setup s = {.channel = 3, .exclusive = true, .called = &called_7};

		assert_int_equal(tpri_call_setup(&c, r.cpe[0].tp, &s), EBUSY);
	}
	assert_int_equal(tpri_chan_service(r.net[0].tp, 2, true), 0);
	assert_int_equal(tpri_chan_state(r.net[0].tp, 2), TPRI_CHAN_IDLE);
	rig_stop(&r);
}

/* ---- glare ---- */

static void glare_last(bool cpe_exclusive, int want_cause)
{
	struct tpri_call *cc, *nc;
	struct rig r;
	int cause;

	rig_start1(&r, TPRI_SW_EUROISDN_E1, SPAN_E1);
	r.cpe[0].auto_alert = true;
	/* Timeslot 31 is the last one free on both ends. */
	for (unsigned ts = 1; ts < 31; ts++) {
		if (ts == 16)
			continue;
		assert_int_equal(tpri_chan_service(r.net[0].tp, ts, false), 0);
		assert_int_equal(tpri_chan_service(r.cpe[0].tp, ts, false), 0);
	}
	reset(&r.net[0]);
	reset(&r.cpe[0]);
	/* Both SETUPs leave before either end reads the other's. */
	cc = place(r.cpe[0].tp, 31, cpe_exclusive);
	nc = place(r.net[0].tp, 31, true);
	assert_true(run_until(&r, cpe0_hangup, 2000));
	assert_true(run_until(&r, net0_alerting, 2000));
	/* The network's call has the channel; the user's is cleared. */
	assert_ptr_equal(r.cpe[0].hung, cc);
	cause = r.cpe[0].cause;
	assert_int_equal(cause, want_cause);
	assert_int_equal(r.cpe[0].n[TPRI_EV_RING], 1);
	assert_int_equal(r.cpe[0].ring_chan, 31);
	assert_int_equal(r.net[0].n[TPRI_EV_RING], 0);
	assert_int_equal(tpri_call_channel(nc), 31);
	assert_int_equal(tpri_call_answer(r.cpe[0].ring_call), 0);
	run_for(&r, 100);
	assert_int_equal(r.net[0].n[TPRI_EV_ANSWER], 1);
	assert_int_equal(tpri_call_hangup(nc, PRI_CAUSE_NORMAL_CLEARING), 0);
	assert_true(run_until(&r, no_calls, 2000));
	print_message("      glare on the last channel, user %s: network's call on ts 31, "
	              "user's cleared with %d (%s)\n",
	              cpe_exclusive ? "exclusive" : "preferred", cause, pri_cause2str(cause));
	rig_stop(&r);
}

static void test_glare_last_preferred(void **state)
{
	(void)state;
	glare_last(false, PRI_CAUSE_NORMAL_CIRCUIT_CONGESTION);
}

static void test_glare_last_exclusive(void **state)
{
	(void)state;
	glare_last(true, PRI_CAUSE_REQUESTED_CHAN_UNAVAIL);
}

static bool glare_both(struct rig *r)
{
	return r->cpe[0].n[TPRI_EV_ALERTING] && r->net[0].n[TPRI_EV_ALERTING];
}

/* Same channel, others free: the user's preferred call is moved, both go through. */
static void test_glare_same_channel(void **state)
{
	struct tpri_call *cc, *nc;
	struct rig r;

	(void)state;
	rig_start1(&r, TPRI_SW_EUROISDN_E1, SPAN_E1);
	r.cpe[0].auto_alert = true;
	r.net[0].auto_alert = true;
	reset(&r.net[0]);
	reset(&r.cpe[0]);
	cc = place(r.cpe[0].tp, 5, false);
	nc = place(r.net[0].tp, 5, true);
	assert_true(run_until(&r, glare_both, 2000));
	assert_int_equal(tpri_call_channel(nc), 5);
	assert_int_equal(r.cpe[0].ring_chan, 5);
	assert_int_equal(r.net[0].ring_req, 5);
	assert_int_equal(r.net[0].ring_chan, 1); /* the network's hunting: ascending */
	assert_int_equal(tpri_call_channel(cc), 1);
	assert_int_equal(r.cpe[0].n[TPRI_EV_HANGUP] + r.net[0].n[TPRI_EV_HANGUP], 0);
	{
		struct tpri_call *all[2] = {cc, nc};

		clear_all(&r, all, 2);
	}
	print_message("      glare on ts 5: network's call kept ts 5, user's moved to ts %d\n",
	              r.net[0].ring_chan);
	rig_stop(&r);
}

/* ---- overlap ---- */

static unsigned g_asks, g_timeouts;

/* A dial plan: 9... and 550... unknown, 7 digits complete, 4 or more when T302 runs out. */
static enum tpri_digits plan(struct tpri *tp, struct tpri_call *c, const struct tpri_number *n,
                             bool timeout, void *arg)
{
	size_t l = strlen(n->digits);

	(void)tp;
	(void)c;
	(void)arg;
	g_asks++;
	g_timeouts += timeout;
	if (n->digits[0] == '9' || !strncmp(n->digits, "550", 3))
		return TPRI_DIGITS_NOMATCH;
	if (l >= 7 || (timeout && l >= 4))
		return TPRI_DIGITS_COMPLETE;
	return TPRI_DIGITS_INCOMPLETE;
}

static struct tpri_call *place_overlap(struct rig *r, const char *first)
{
	struct tpri_number called = {"", TPRI_TON_UNKNOWN, TPRI_NPI_E164, 0};
	struct tpri_setup s = {.channel = 1, .called = &called, .overlap = true};
	struct tpri_call *c;

	snprintf(called.digits, sizeof(called.digits), "%s", first);
	reset(&r->net[0]);
	reset(&r->cpe[0]);
	g_asks = g_timeouts = 0;
	assert_int_equal(tpri_call_setup(&c, r->cpe[0].tp, &s), 0);
	return c;
}

static bool cpe0_acked(struct rig *r)
{
	return r->cpe[0].acked != NULL;
}

static bool net0_acked(struct rig *r)
{
	return r->net[0].acked != NULL;
}

static void overlap_rig(struct rig *r, enum tpri_switch sw, enum span_type type)
{
	struct tpri_conf nc = {.t302 = 400}, cc = {0};

	rig_start(r, 1, sw, type, &nc, &cc);
	r->net[0].auto_alert = true;
	tpri_set_digits_handler(r->net[0].tp, plan, NULL);
}

static void test_overlap_complete(void **state)
{
	const enum tpri_switch *sw = *state;
	struct tpri_call *c;
	struct rig r;

	overlap_rig(&r, *sw, *sw == TPRI_SW_EUROISDN_E1 ? SPAN_E1 : SPAN_T1);
	c = place_overlap(&r, "55");
	assert_true(run_until(&r, cpe0_acked, 2000));
	assert_ptr_equal(r.cpe[0].acked, c);
	assert_int_equal(r.net[0].n[TPRI_EV_RING], 0);
	assert_int_equal(tpri_call_info(c, "512"), 0);
	run_for(&r, 100);
	assert_int_equal(r.net[0].n[TPRI_EV_RING], 0);
	assert_int_equal(tpri_call_info(c, "34"), 0);
	assert_true(run_until(&r, cpe0_alerting, 2000));
	assert_int_equal(r.net[0].n[TPRI_EV_RING], 1);
	assert_string_equal(r.net[0].called.digits, "5551234");
	assert_true(r.net[0].ring_complete);
	assert_int_equal(r.net[0].ring_chan, 1);
	/* One question for the SETUP, one per INFORMATION (a digit each), none timed out. */
	assert_int_equal(g_asks, 6);
	assert_int_equal(g_timeouts, 0);
	assert_int_equal(tpri_call_answer(r.net[0].ring_call), 0);
	run_for(&r, 100);
	assert_int_equal(r.cpe[0].n[TPRI_EV_ANSWER], 1);
	clear_all(&r, &c, 1);
	print_message("      %s: SETUP '55' + INFORMATION x5 -> SETUP ACK, RING '5551234' after "
	              "%u questions\n",
	              tpri_switch_name(*sw), g_asks);
	rig_stop(&r);
}

static void test_overlap_refused(void **state)
{
	struct tpri_call *c;
	struct rig r;
	uint64_t t0;

	(void)state;
	overlap_rig(&r, TPRI_SW_EUROISDN_E1, SPAN_E1);

	/* No match on the SETUP: cause 1 at once, no SETUP ACK. */
	c = place_overlap(&r, "9");
	assert_true(run_until(&r, cpe0_hangup, 2000));
	assert_ptr_equal(r.cpe[0].hung, c);
	assert_int_equal(r.cpe[0].cause, PRI_CAUSE_UNALLOCATED);
	assert_int_equal(r.cpe[0].n[TPRI_EV_SETUP_ACK], 0);
	assert_true(run_until(&r, no_calls, 2000));

	/* No match after an INFORMATION: cause 1; the network's user never hears of it. */
	c = place_overlap(&r, "55");
	assert_true(run_until(&r, cpe0_acked, 2000));
	assert_int_equal(tpri_call_info(c, "0"), 0);
	assert_true(run_until(&r, cpe0_hangup, 2000));
	assert_int_equal(r.cpe[0].cause, PRI_CAUSE_UNALLOCATED);
	assert_true(run_until(&r, no_calls, 2000));
	assert_int_equal(r.net[0].n[TPRI_EV_RING] + r.net[0].n[TPRI_EV_HANGUP], 0);

	/* T302 expiry with too few digits: 28 (invalid number format / address incomplete). */
	c = place_overlap(&r, "55");
	t0 = loop_clock_ms();
	assert_true(run_until(&r, cpe0_hangup, 3000));
	assert_int_equal(r.cpe[0].cause, PRI_CAUSE_INVALID_NUMBER_FORMAT);
	assert_true(r.cpe[0].t_hangup - t0 >= 400);
	assert_int_equal(g_timeouts, 1);
	assert_true(run_until(&r, no_calls, 2000));
	print_message("      no match -> cause 1; T302 (400 ms) -> cause 28 after %llu ms\n",
	              (unsigned long long)(r.cpe[0].t_hangup - t0));

	/* T302 expiry with enough digits for the plan: the call goes on. */
	c = place_overlap(&r, "5551");
	t0 = loop_clock_ms();
	assert_true(run_until(&r, cpe0_alerting, 3000));
	assert_true(loop_clock_ms() - t0 >= 400);
	assert_string_equal(r.net[0].called.digits, "5551");
	assert_int_equal(g_timeouts, 1);
	clear_all(&r, &c, 1);

	/* Sending Complete with an incomplete number (en-bloc EuroISDN SETUP): 28 at once. */
	reset(&r.cpe[0]);
	reset(&r.net[0]);
	{
		struct tpri_number shortn = {"555", TPRI_TON_UNKNOWN, TPRI_NPI_E164, 0};
		struct tpri_setup s = {.channel = 1, .called = &shortn};

		assert_int_equal(tpri_call_setup(&c, r.cpe[0].tp, &s), 0);
	}
	t0 = loop_clock_ms();
	assert_true(run_until(&r, cpe0_hangup, 2000));
	assert_int_equal(r.cpe[0].cause, PRI_CAUSE_INVALID_NUMBER_FORMAT);
	assert_true(r.cpe[0].t_hangup - t0 < 300);
	assert_int_equal(r.cpe[0].n[TPRI_EV_SETUP_ACK], 0);
	assert_true(run_until(&r, no_calls, 2000));
	rig_stop(&r);
}

/* Without a digits handler: RING incomplete, SETUP ACK by hand, digits as DIGITS events. */
static char g_digits[TPRI_NUM_MAX];

static void digits_event(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	if (ev->type == TPRI_EV_DIGITS)
		strncat(g_digits, ev->digits, sizeof(g_digits) - strlen(g_digits) - 1);
	on_event(tp, ev, arg);
}

static bool three_digits(struct rig *r)
{
	(void)r;
	return strlen(g_digits) >= 3;
}

static void test_overlap_no_handler(void **state)
{
	struct tpri_conf c = {0};
	struct tpri_call *call;
	struct rig r;

	(void)state;
	rig_start1(&r, TPRI_SW_EUROISDN_E1, SPAN_E1);
	r.net[0].tp = mem_deref(r.net[0].tp);
	c.node = TPRI_NET;
	c.sw = TPRI_SW_EUROISDN_E1;
	assert_int_equal(tpri_alloc(&r.net[0].tp, r.net[0].sp, &c, digits_event, &r.net[0]), 0);
	assert_true(run_until(&r, all_up, 3000));
	g_digits[0] = '\0';
	call = place_overlap(&r, "55");
	assert_true(run_until(&r, net0_ring, 2000));
	assert_false(r.net[0].ring_complete);
	assert_string_equal(r.net[0].called.digits, "55");
	assert_int_equal(tpri_call_setup_ack(r.net[0].ring_call), 0);
	assert_true(run_until(&r, cpe0_acked, 2000));
	assert_int_equal(tpri_call_info(call, "123"), 0);
	assert_true(run_until(&r, three_digits, 2000));
	assert_string_equal(g_digits, "123");
	assert_int_equal(r.net[0].n[TPRI_EV_DIGITS], 3);
	assert_int_equal(tpri_call_proceeding(r.net[0].ring_call, false), 0);
	clear_all(&r, &call, 1);
	rig_stop(&r);
}

/* The gateway side receiving overlap: the network sends the digits. */
static void test_overlap_to_user(void **state)
{
	struct tpri_conf nc = {0}, cc = {.t302 = 400};
	struct tpri_number called = {"55", TPRI_TON_UNKNOWN, TPRI_NPI_E164, 0};
	struct tpri_setup s = {.channel = 9, .exclusive = true, .called = &called, .overlap = true};
	struct tpri_call *c;
	struct rig r;

	(void)state;
	rig_start(&r, 1, TPRI_SW_EUROISDN_E1, SPAN_E1, &nc, &cc);
	r.cpe[0].auto_alert = true;
	tpri_set_digits_handler(r.cpe[0].tp, plan, NULL);
	reset(&r.net[0]);
	reset(&r.cpe[0]);
	assert_int_equal(tpri_call_setup(&c, r.net[0].tp, &s), 0);
	assert_true(run_until(&r, net0_acked, 2000));
	assert_int_equal(tpri_call_info(c, "51234"), 0);
	assert_true(run_until(&r, net0_alerting, 2000));
	assert_string_equal(r.cpe[0].called.digits, "5551234");
	assert_int_equal(r.cpe[0].ring_chan, 9);
	clear_all(&r, &c, 1);
	rig_stop(&r);
}

/*
 * A SETUP nobody has answered yet, cleared by the caller: libpri would forget
 * it without an event; the automatic CALL PROCEEDING keeps both ends clean.
 */
static void test_unanswered_cleared(void **state)
{
	const enum tpri_switch *sw = *state;
	struct tpri_call *c;
	struct rig r;

	rig_start1(&r, *sw, *sw == TPRI_SW_EUROISDN_E1 ? SPAN_E1 : SPAN_T1);
	reset(&r.net[0]);
	reset(&r.cpe[0]);
	c = place(r.cpe[0].tp, 4, true);
	assert_true(run_until(&r, net0_ring, 2000));
	assert_int_equal(tpri_call_hangup(c, PRI_CAUSE_NORMAL_CLEARING), 0);
	assert_true(run_until(&r, no_calls, 2000));
	assert_int_equal(r.net[0].n[TPRI_EV_HANGUP], 1);
	assert_int_equal(r.net[0].cause, PRI_CAUSE_NORMAL_CLEARING);
	assert_int_equal(tpri_chan_state(r.net[0].tp, 4), TPRI_CHAN_IDLE);
	rig_stop(&r);
}

/* ---- numbers ---- */

static void check_numbers(struct side *s, const struct tpri_number *calling,
                          const struct tpri_number *redir)
{
	assert_string_equal(s->calling.digits, calling->digits);
	assert_int_equal(tpri_number_pres(&s->calling), tpri_number_pres(calling));
	assert_int_equal(s->calling.ton, calling->ton);
	assert_string_equal(s->redirecting.digits, redir->digits);
	assert_int_equal(s->redirecting.ton, redir->ton);
	assert_int_equal(s->redirecting.npi, redir->npi);
	assert_int_equal(tpri_number_pres(&s->redirecting), tpri_number_pres(redir));
	assert_int_equal(s->redirect_reason, PRI_REDIR_FORWARD_ON_BUSY);
}

static void numbers_one_way(struct rig *r, struct side *from, struct side *to)
{
	struct tpri_number calling = {
	    "4930123456", TPRI_TON_INTERNATIONAL, TPRI_NPI_E164,
	    tpri_pres_octet(TPRI_PRES_RESTRICTED, TPRI_SCREEN_USER_PASSED)};
	struct tpri_number redir = {"4930999", TPRI_TON_NATIONAL, TPRI_NPI_E164,
	                            tpri_pres_octet(TPRI_PRES_RESTRICTED, TPRI_SCREEN_USER_PASSED)};
	struct tpri_setup s = {.channel = 7,
	                       .exclusive = true,
	                       .called = &called_7,
	                       .calling = &calling,
	                       .redirecting = &redir,
	                       .redirect_reason = PRI_REDIR_FORWARD_ON_BUSY};
	struct tpri_call *c;

	reset(&r->net[0]);
	reset(&r->cpe[0]);
	assert_int_equal(tpri_call_setup(&c, from->tp, &s), 0);
	assert_true(run_until(r, to == &r->net[0] ? net0_ring : cpe0_ring, 2000));
	check_numbers(to, &calling, &redir);
	print_message("      %s -> %s: calling %s pres %d screen %d, redirecting %s reason %d "
	              "pres %d\n",
	              from->name, to->name, to->calling.digits, tpri_number_pres(&to->calling),
	              tpri_number_screen(&to->calling), to->redirecting.digits, to->redirect_reason,
	              tpri_number_pres(&to->redirecting));
	clear_all(r, &c, 1);
}

static void test_redirecting_presentation(void **state)
{
	const enum tpri_switch *sw = *state;
	struct rig r;

	rig_start1(&r, *sw, *sw == TPRI_SW_EUROISDN_E1 ? SPAN_E1 : SPAN_T1);
	/* Answer at once: libpri forgets an unanswered call the far end clears. */
	r.net[0].auto_alert = r.cpe[0].auto_alert = true;
	print_message("      %s:\n", tpri_switch_name(*sw));
	numbers_one_way(&r, &r.cpe[0], &r.net[0]);
	/* The user side's screening passes through; EuroISDN keeps "user provided, passed". */
	if (*sw == TPRI_SW_EUROISDN_E1)
		assert_int_equal(tpri_number_screen(&r.net[0].calling), TPRI_SCREEN_USER_PASSED);
	numbers_one_way(&r, &r.net[0], &r.cpe[0]);
	rig_stop(&r);
}

/* ---- RESTART ---- */

static bool restarts_done(struct rig *r)
{
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++)
		if (tpri_chan_state(r->net[0].tp, ts) == TPRI_CHAN_RESTARTING)
			return false;
	return true;
}

static void test_restart_startup(void **state)
{
	struct tpri_conf nc = {.restart_on_up = true}, cc = {0};
	struct tpri_call *c;
	struct rig r;
	unsigned nrestart = 0, nrestarting = 0;

	(void)state;
	rig_start(&r, 1, TPRI_SW_EUROISDN_E1, SPAN_E1, &nc, &cc);
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++)
		nrestarting += tpri_chan_state(r.net[0].tp, ts) == TPRI_CHAN_RESTARTING;
	assert_true(run_until(&r, restarts_done, 3000));
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		nrestart += r.cpe[0].restart_chans[ts];
		assert_int_equal(r.cpe[0].restart_chans[ts], ts == 16 ? 0 : 1);
		assert_int_equal(tpri_chan_state(r.net[0].tp, ts),
		                 ts == 16 ? TPRI_CHAN_NONE : TPRI_CHAN_IDLE);
	}
	assert_int_equal(nrestart, 30);
	assert_int_equal(r.net[0].n[TPRI_EV_RESTART], 0);
	print_message("      link up: %u channels restarting, %u RESTARTs seen by the user side, "
	              "all acknowledged\n",
	              nrestarting, nrestart);

	/* A RESTART of a channel in use clears its call on both ends (41). */
	r.net[0].auto_alert = true;
	reset(&r.net[0]);
	reset(&r.cpe[0]);
	c = place(r.cpe[0].tp, 3, true);
	assert_true(run_until(&r, cpe0_alerting, 2000));
	assert_int_equal(tpri_chan_restart(r.net[0].tp, 3), 0);
	assert_true(run_until(&r, cpe0_hangup, 2000));
	assert_true(net0_hangup(&r));
	assert_ptr_equal(r.cpe[0].hung, c);
	assert_int_equal(r.cpe[0].cause, PRI_CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_int_equal(r.net[0].cause, PRI_CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_int_equal(r.cpe[0].restart_chans[3], 2);
	assert_true(run_until(&r, no_calls, 2000));
	assert_true(run_until(&r, restarts_done, 2000));
	/* ... and the channel is usable again. */
	c = place(r.cpe[0].tp, 3, true);
	assert_true(run_until(&r, cpe0_alerting, 2000));
	clear_all(&r, &c, 1);
	rig_stop(&r);
}

/* RESTART lost on a pulled cable: T316 x N316, out of service, RESTART again on reconnect. */
static bool ts4_failed(struct rig *r)
{
	return tpri_chan_state(r->net[0].tp, 4) == TPRI_CHAN_OOS;
}

static bool ts4_back(struct rig *r)
{
	return tpri_dchan_up(r->net[0].tp) && tpri_dchan_up(r->cpe[0].tp) &&
	       tpri_chan_state(r->net[0].tp, 4) == TPRI_CHAN_IDLE;
}

static void test_restart_failure(void **state)
{
	struct tpri_conf nc = {.t316 = 300, .n316 = 2}, cc = {0};
	struct rig r;
	uint64_t t0;
	unsigned ts;

	(void)state;
	rig_start(&r, 1, TPRI_SW_EUROISDN_E1, SPAN_E1, &nc, &cc);
	assert_int_equal(tpri_chan_restart(r.net[0].tp, 4), 0);
	assert_int_equal(tpri_chan_state(r.net[0].tp, 4), TPRI_CHAN_RESTARTING);
	span_close(r.cpe[0].sp); /* the RESTART never reaches the user side */
	t0 = loop_clock_ms();
	assert_true(run_until(&r, ts4_failed, 3000));
	print_message("      RESTART unanswered: channel 4 out of service after %llu ms\n",
	              (unsigned long long)(loop_clock_ms() - t0));
	assert_true(loop_clock_ms() - t0 >= 300);
	/* Hunting skips it: descending from 31 is unaffected, ascending goes 1, 2, 3, 5. */
	for (unsigned i = 1; i <= 3; i++)
		assert_int_equal(tpri_chan_service(r.net[0].tp, i, false), 0);
	assert_int_equal(tpri_hunt(r.net[0].tp, TPRI_HUNT_ASC, &ts), 0);
	assert_int_equal(ts, 5);
	for (unsigned i = 1; i <= 3; i++)
		assert_int_equal(tpri_chan_service(r.net[0].tp, i, true), 0);
	reset(&r.cpe[0]);
	memset(r.cpe[0].restart_chans, 0, sizeof(r.cpe[0].restart_chans));
	assert_int_equal(span_open(r.cpe[0].sp), 0);
	assert_true(run_until(&r, ts4_back, 5000));
	assert_true(r.cpe[0].restart_chans[4] >= 1);
	rig_stop(&r);
}

/* ---- SERVICE ---- */

static bool cpe0_service(struct rig *r)
{
	return r->cpe[0].n[TPRI_EV_SERVICE] > 0;
}

static bool net0_service(struct rig *r)
{
	return r->net[0].n[TPRI_EV_SERVICE] > 0;
}

static void test_service(void **state)
{
	const enum tpri_switch *sw = *state;
	struct tpri_conf c = {.service = true};
	struct tpri_call *call;
	struct rig r;
	unsigned ts;

	rig_start(&r, 1, *sw, SPAN_T1, &c, &c);
	assert_true(tpri_switch_has_service(*sw));
	r.net[0].auto_alert = true;
	reset(&r.cpe[0]);
	assert_int_equal(tpri_chan_service(r.net[0].tp, 1, false), 0);
	assert_true(run_until(&r, cpe0_service, 2000));
	assert_int_equal(r.cpe[0].service_chan, 1);
	assert_false(r.cpe[0].service_in);
	assert_int_equal(tpri_chan_state(r.cpe[0].tp, 1), TPRI_CHAN_OOS);
	/* The user side's hunting skips it. */
	assert_int_equal(tpri_hunt(r.cpe[0].tp, TPRI_HUNT_ASC, &ts), 0);
	assert_int_equal(ts, 2);
	reset(&r.net[0]);
	call = place(r.cpe[0].tp, ts, false);
	assert_true(run_until(&r, cpe0_alerting, 2000));
	assert_int_equal(tpri_call_channel(call), 2);
	clear_all(&r, &call, 1);

	/* Back in service. */
	reset(&r.cpe[0]);
	assert_int_equal(tpri_chan_service(r.net[0].tp, 1, true), 0);
	assert_true(run_until(&r, cpe0_service, 2000));
	assert_true(r.cpe[0].service_in);
	assert_int_equal(tpri_chan_state(r.cpe[0].tp, 1), TPRI_CHAN_IDLE);

	/* And the other way. */
	reset(&r.net[0]);
	assert_int_equal(tpri_chan_service(r.cpe[0].tp, 5, false), 0);
	assert_true(run_until(&r, net0_service, 2000));
	assert_int_equal(r.net[0].service_chan, 5);
	assert_false(r.net[0].service_in);
	assert_int_equal(tpri_chan_state(r.net[0].tp, 5), TPRI_CHAN_OOS);
	print_message("      %s: SERVICE out of service both ways, channel skipped, back in "
	              "service\n",
	              tpri_switch_name(*sw));
	rig_stop(&r);
}

static const enum tpri_switch sw_euro = TPRI_SW_EUROISDN_E1, sw_ni2 = TPRI_SW_NI2,
                              sw_4ess = TPRI_SW_4ESS, sw_5ess = TPRI_SW_5ESS,
                              sw_dms = TPRI_SW_DMS100, sw_qsig = TPRI_SW_QSIG;

#define SW_TEST(fn, v) cmocka_unit_test_prestate(fn, (void *)&(v))

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hunt_ascending),
	    cmocka_unit_test(test_hunt_descending_rr),
	    cmocka_unit_test(test_exclusive_preferred_oos),
	    cmocka_unit_test(test_glare_last_preferred),
	    cmocka_unit_test(test_glare_last_exclusive),
	    cmocka_unit_test(test_glare_same_channel),
	    SW_TEST(test_overlap_complete, sw_euro),
	    SW_TEST(test_overlap_complete, sw_ni2),
	    cmocka_unit_test(test_overlap_refused),
	    cmocka_unit_test(test_overlap_no_handler),
	    cmocka_unit_test(test_overlap_to_user),
	    SW_TEST(test_unanswered_cleared, sw_euro),
	    SW_TEST(test_unanswered_cleared, sw_ni2),
	    SW_TEST(test_redirecting_presentation, sw_euro),
	    SW_TEST(test_redirecting_presentation, sw_ni2),
	    SW_TEST(test_redirecting_presentation, sw_dms),
	    SW_TEST(test_redirecting_presentation, sw_qsig),
	    cmocka_unit_test(test_restart_startup),
	    cmocka_unit_test(test_restart_failure),
	    SW_TEST(test_service, sw_ni2),
	    SW_TEST(test_service, sw_4ess),
	    SW_TEST(test_service, sw_5ess),
	};

	if (getenv("TESTFILTER"))
		cmocka_set_test_filter(getenv("TESTFILTER"));
	log_init("test_pri_features", false, getenv("PRIDEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
