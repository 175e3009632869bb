/*
 * Link life: RESTART at start-up and on demand, RESTART received, SERVICE.
 *
 * - libpri answers a RESTART by itself (RESTART ACKNOWLEDGE, then the
 *   RESTART event) but leaves the calls on the channel alone: clearing them
 *   is ours, as chan_dahdi does (pri_destroycall, cause 41 to the user).
 * - libpri's own T316 is off unless set, and then gives no failure event:
 *   we time RESTART ACKNOWLEDGE ourselves, resend up to n316 times, then
 *   mark the channel out of service (hunting skips it) until a RESTART or
 *   RESTART ACKNOWLEDGE for it comes.
 * - SERVICE (AT&T maintenance for 4ESS/5ESS, the national variant for NI2)
 *   goes through pri_maintenance_service(); libpri acknowledges a SERVICE
 *   received once pri_set_service_message_support() is on.
 */
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "tdm/pri/pri.h"
#include "tdm/pri/pri_int.h"
#include "tdm/span/span.h"

#define T316_DEFAULT_MS 120000
#define N316_DEFAULT    2

/* libpri's change status values (pri_q931.h). */
enum {
	CHANGE_IN_SERVICE = 0,
	CHANGE_OUT_OF_SERVICE = 2,
};

bool tpri_switch_has_service(enum tpri_switch sw)
{
	return sw == TPRI_SW_NI2 || sw == TPRI_SW_4ESS || sw == TPRI_SW_5ESS;
}

static uint32_t all_bchans(const struct tpri *tp)
{
	return tp->sp->conf.bchans & ~1u;
}

void tpri__features_init(struct tpri *tp)
{
	tmr_init(&tp->t316);
	if (tp->conf.service && tpri_switch_has_service(tp->conf.sw))
		pri_set_service_message_support(tp->ctrl, 1);
}

void tpri__features_close(struct tpri *tp)
{
	tmr_cancel(&tp->t316);
}

/* Clears our calls on ts (0: all) at once: the channel is being restarted. */
static void clear_calls_on(struct tpri *tp, unsigned ts)
{
	struct tpri_call *c = tp->calls;

	while (c) {
		if (ts && c->channel != (int)ts) {
			c = c->next;
			continue;
		}
		mem_ref(c);
		if (c->qc)
			pri_destroycall(tp->ctrl, c->qc);
		c->qc = NULL;
		if (c->rung || c->outgoing)
			tpri__call_report_hangup(c, PRI_CAUSE_NORMAL_TEMPORARY_FAILURE);
		if (c->tp)
			tpri__call_unlink(c);
		mem_deref(c);
		c = tp->calls; /* the list changed under us */
	}
}

void tpri__restart_rx(struct tpri *tp, int channel)
{
	uint32_t bits = channel > 0 && channel <= SPAN_MAX_TS ? 1u << channel : all_bchans(tp);

	LOGI(tp->sp->ctx, "RESTART received for channel %d", channel);
	clear_calls_on(tp, channel > 0 ? (unsigned)channel : 0);
	/* The far end has the channel idle: whatever our RESTART did, it is usable. */
	tp->failed &= ~bits;
	tp->restarting &= ~bits;
}

static void t316_handler(void *arg);

static void t316_start(struct tpri *tp)
{
	int ms = tp->conf.t316 > 0 ? tp->conf.t316 : T316_DEFAULT_MS;

	if (!tmr_running(&tp->t316))
		tmr_start(tp->sp->loop, &tp->t316, (uint64_t)ms, t316_handler, tp);
}

static int send_restart(struct tpri *tp, unsigned ts)
{
	if (pri_reset(tp->ctrl, (int)ts))
		return EIO;
	tp->restarting |= 1u << ts;
	tp->restart_tries[ts]++;
	t316_start(tp);
	return 0;
}

static void t316_handler(void *arg)
{
	struct tpri *tp = arg;
	int n316 = tp->conf.n316 > 0 ? tp->conf.n316 : N316_DEFAULT;

	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		if (!(tp->restarting & (1u << ts)))
			continue;
		if (tp->up && tp->restart_tries[ts] < n316) {
			send_restart(tp, ts);
			continue;
		}
		LOGW(tp->sp->ctx,
		     "RESTART of channel %u not acknowledged after %u tries: "
		     "out of service",
		     ts, tp->restart_tries[ts]);
		tp->restarting &= ~(1u << ts);
		tp->failed |= 1u << ts;
		tp->restart_tries[ts] = 0;
	}
	if (tp->restarting)
		t316_start(tp);
	tpri__resched(tp);
}

int tpri_chan_restart(struct tpri *tp, unsigned ts)
{
	int err = 0;

	if (!tp || ts > SPAN_MAX_TS || (ts && !span_is_bchan(tp->sp, ts)))
		return EINVAL;
	if (!tp->up)
		return ENOTCONN;
	if (ts) {
		clear_calls_on(tp, ts);
		tp->restart_tries[ts] = 0;
		err = send_restart(tp, ts);
	} else {
		for (unsigned t = 1; t <= SPAN_MAX_TS && !err; t++) {
			if (tpri_chan_state(tp, t) != TPRI_CHAN_IDLE)
				continue;
			tp->restart_tries[t] = 0;
			err = send_restart(tp, t);
		}
	}
	tpri__resched(tp);
	return err;
}

void tpri__link_up(struct tpri *tp)
{
	if (tp->was_up) {
		/* Channels whose RESTART went unanswered get another chance. */
		for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
			if (!(tp->failed & (1u << ts)) || tpri_chan_state(tp, ts) == TPRI_CHAN_BUSY)
				continue;
			tp->failed &= ~(1u << ts);
			tp->restart_tries[ts] = 0;
			send_restart(tp, ts);
		}
		return;
	}
	tp->was_up = true;
	if (tp->conf.restart_on_up) {
		LOGI(tp->sp->ctx, "RESTART of every idle B-channel");
		tpri_chan_restart(tp, 0);
	}
}

static void on_restart_ack(struct tpri *tp, int channel)
{
	int ts = channel > 0 ? (channel & 0xff) : 0;
	uint32_t bits = ts > 0 && ts <= SPAN_MAX_TS ? 1u << ts : all_bchans(tp);

	LOGD(tp->sp->ctx, "RESTART ACKNOWLEDGE for channel %d", ts);
	tp->restarting &= ~bits;
	tp->failed &= ~bits;
	if (ts > 0 && ts <= SPAN_MAX_TS)
		tp->restart_tries[ts] = 0;
	if (!tp->restarting)
		tmr_cancel(&tp->t316);
}

int tpri_chan_service(struct tpri *tp, unsigned ts, bool in_service)
{
	uint32_t bits;

	if (!tp || ts > SPAN_MAX_TS || (ts && !span_is_bchan(tp->sp, ts)))
		return EINVAL;
	bits = ts ? 1u << ts : all_bchans(tp);
	if (in_service)
		tp->oos_local &= ~bits;
	else
		tp->oos_local |= bits;
	LOGI(tp->sp->ctx, "channel %u %s service", ts, in_service ? "back in" : "out of");
	if (!tp->conf.service || !tpri_switch_has_service(tp->conf.sw))
		return 0;
	if (!tp->up)
		return ENOTCONN;
	if (pri_maintenance_service(tp->ctrl, 0, ts ? (int)ts : -1,
	                            in_service ? CHANGE_IN_SERVICE : CHANGE_OUT_OF_SERVICE))
		return EIO;
	tpri__resched(tp);
	return 0;
}

static void on_service(struct tpri *tp, int channel, int status)
{
	int ts = channel > 0 ? (channel & 0xff) : 0;
	uint32_t bits = ts > 0 && ts <= SPAN_MAX_TS ? 1u << ts : all_bchans(tp);
	struct tpri_event ev = {
	    .type = TPRI_EV_SERVICE, .channel = ts, .in_service = status == CHANGE_IN_SERVICE};

	if (ts == 0xff)
		ev.channel = 0;
	if (ev.in_service)
		tp->oos_remote &= ~bits;
	else
		tp->oos_remote |= bits;
	LOGI(tp->sp->ctx, "far end put channel %d %s service", ev.channel,
	     ev.in_service ? "in" : "out of");
	tpri__emit(tp, &ev);
}

bool tpri__event(struct tpri *tp, pri_event *e)
{
	if (tpri__overlap_event(tp, e))
		return true;
	switch (e->e) {
	case PRI_EVENT_RESTART_ACK:
		on_restart_ack(tp, e->restartack.channel);
		return true;
	case PRI_EVENT_SERVICE:
		on_service(tp, e->service.channel, e->service.changestatus);
		return true;
	case PRI_EVENT_SERVICE_ACK:
		LOGD(tp->sp->ctx, "SERVICE ACKNOWLEDGE for channel %d: status %d",
		     e->service_ack.channel, e->service_ack.changestatus);
		return true;
	default:
		return false;
	}
}
