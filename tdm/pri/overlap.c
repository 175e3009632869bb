/*
 * SETUP with every option, overlap sending and overlap receiving.
 *
 * - libpri sends Sending Complete from pri_sr_set_called(complete) only when
 *   its overlapdial flag is on (and always, flag off, on EuroISDN): the flag
 *   is switched on just for the pri_setup() of an overlap call, so the other
 *   calls keep libpri's usual SETUP.
 * - libpri has no T302: it reports SETUP (RING) and each INFORMATION in the
 *   overlap receiving state (INFO_RECEIVED, the new digits only) and leaves
 *   the timing to us, as chan_dahdi and FreeTDM time it themselves.
 * - libpri's event lives in its struct pri and any call into libpri may
 *   overwrite it: what we need is copied before.
 */
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "tdm/pri/pri.h"
#include "tdm/pri/pri_int.h"
#include "tdm/span/span.h"

#include <stdio.h>
#include <string.h>

#define T302_DEFAULT_MS 15000

void tpri_set_digits_handler(struct tpri *tp, tpri_digits_h *h, void *arg)
{
	if (!tp)
		return;
	tp->digitsh = h;
	tp->digits_arg = arg;
}

void tpri__call_gone(struct tpri_call *c)
{
	tmr_cancel(&c->t302);
	c->collecting = false;
}

static int chan_req(int libpri_channel)
{
	int ch = libpri_channel > 0 ? (libpri_channel & 0xff) : 0;

	return ch == 0xff ? 0 : ch; /* 0xff: any */
}

/* Digits truncated to what a tpri_number holds (snprintf would warn of it). */
static void copy_digits(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);

	memcpy(dst, src, l);
	dst[l] = '\0';
}

/* Only EuroISDN carries Sending Complete: elsewhere a SETUP is en bloc. */
static bool has_sending_complete(enum tpri_switch sw)
{
	return sw == TPRI_SW_EUROISDN_E1 || sw == TPRI_SW_EUROISDN_T1;
}

static void ring_emit(struct tpri_call *c, bool complete, bool proceed)
{
	struct tpri_event ev = {.type = TPRI_EV_RING,
	                        .call = c,
	                        .channel = c->requested,
	                        .complete = complete,
	                        .called = &c->called,
	                        .calling = &c->calling,
	                        .redirecting = &c->redirecting,
	                        .redirect_reason = c->redirect_reason};

	/*
	 * A complete number gets CALL PROCEEDING at once: when the far end clears
	 * an incoming call nobody answered yet, libpri answers RELEASE COMPLETE
	 * by itself and tells us nothing, and keeps its q931_call (seen with
	 * libpri 1.6.0): the call and its channel would stay held for ever.
	 */
	if (proceed && !c->responded && !tpri_call_proceeding(c, false))
		c->responded = true;
	c->rung = true;
	tpri__emit(c->tp, &ev);
}

/* Clears a call the user has not been told about (no HANGUP event for it). */
static void clear_unseen(struct tpri_call *c, int cause)
{
	LOGI(c->tp->sp->ctx, "called number '%s' refused: cause %d (%s)", c->called.digits, cause,
	     pri_cause2str(cause));
	tpri__call_gone(c);
	tpri_call_hangup(c, cause);
	c->reported = true;
}

static void t302_handler(void *arg);

/* Asks the digits handler about the number so far and acts on the answer. */
static void decide(struct tpri_call *c, bool sending_complete, bool timeout)
{
	struct tpri *tp = c->tp;
	enum tpri_digits d = tp->digitsh(tp, c, &c->called, timeout, tp->digits_arg);
	int t302 = tp->conf.t302 > 0 ? tp->conf.t302 : T302_DEFAULT_MS;

	if (!c->tp || c->reported || c->cleared)
		return; /* the handler cleared it */
	switch (d) {
	case TPRI_DIGITS_COMPLETE:
		tpri__call_gone(c);
		ring_emit(c, true, true);
		return;
	case TPRI_DIGITS_NOMATCH:
		clear_unseen(c, PRI_CAUSE_UNALLOCATED);
		return;
	default:
		break;
	}
	if (sending_complete || timeout) {
		clear_unseen(c, PRI_CAUSE_INVALID_NUMBER_FORMAT); /* 28: address incomplete */
		return;
	}
	if (!c->collecting) {
		if (pri_need_more_info(tp->ctrl, c->qc, c->channel, 0)) {
			clear_unseen(c, PRI_CAUSE_NORMAL_TEMPORARY_FAILURE);
			return;
		}
		c->collecting = true;
		c->responded = true;
	}
	tmr_start(tp->sp->loop, &c->t302, (uint64_t)t302, t302_handler, c);
}

static void t302_handler(void *arg)
{
	struct tpri_call *c = arg;
	struct tpri *tp = c->tp;

	if (!tp || !c->collecting)
		return;
	LOGI(tp->sp->ctx, "T302 expired with called number '%s'", c->called.digits);
	mem_ref(c);
	decide(c, false, true);
	mem_deref(c);
	tpri__resched(tp);
}

static int redirecting_pres(const struct pri_subcommands *sc)
{
	for (int i = 0; sc && i < sc->counter_subcmd && i < PRI_MAX_SUBCOMMANDS; i++)
		if (sc->subcmd[i].cmd == PRI_SUBCMD_REDIRECTING)
			return sc->subcmd[i].u.redirecting.from.number.presentation;
	return 0;
}

void tpri__ring(struct tpri *tp, struct tpri_call *c, const pri_event_ring *r)
{
	bool complete = r->complete != 0, flexible = r->flexible != 0;

	tmr_init(&c->t302);
	c->requested = chan_req(r->channel);
	tpri__number_from(&c->called, r->callednum, r->calledplan, 0);
	tpri__number_from(&c->calling, r->callingnum, r->callingplan, r->callingpres);
	if (r->redirectingnum[0])
		tpri__number_from(&c->redirecting, r->redirectingnum, r->callingplanrdnis,
		                  redirecting_pres(r->subcmds));
	c->redirect_reason = r->redirectingnum[0] ? r->redirectingreason : 0;
	if (!tpri__ring_channel(tp, c, c->requested, flexible))
		return;
	if (!tp->digitsh) {
		ring_emit(c, complete, complete || !has_sending_complete(tp->conf.sw));
		return;
	}
	mem_ref(c);
	decide(c, complete, false);
	mem_deref(c);
}

static void on_info(struct tpri *tp, const pri_event_ring *r)
{
	struct tpri_call *c = tpri__call_find(tp, r->call);
	char digits[TPRI_NUM_MAX];
	bool complete = r->complete != 0;
	size_t have;

	if (!c || c->reported)
		return;
	copy_digits(digits, sizeof(digits), r->callednum);
	if (!c->collecting) {
		struct tpri_event ev = {
		    .type = TPRI_EV_DIGITS, .call = c, .channel = c->channel, .digits = digits};

		tpri__emit(tp, &ev);
		return;
	}
	have = strlen(c->called.digits);
	if (have + strlen(digits) >= sizeof(c->called.digits)) {
		clear_unseen(c, PRI_CAUSE_INVALID_NUMBER_FORMAT);
		return;
	}
	memcpy(c->called.digits + have, digits, strlen(digits) + 1);
	mem_ref(c);
	decide(c, complete, false);
	mem_deref(c);
}

static void on_keypad(struct tpri *tp, const pri_event_keypad_digit *k)
{
	struct tpri_call *c = tpri__call_find(tp, k->call);
	char digits[TPRI_NUM_MAX];
	struct tpri_event ev = {.type = TPRI_EV_DIGITS, .call = c, .digits = digits};

	if (!c || c->reported)
		return;
	copy_digits(digits, sizeof(digits), k->digits);
	ev.channel = c->channel;
	tpri__emit(tp, &ev);
}

static void on_setup_ack(struct tpri *tp, const pri_event_setup_ack *a)
{
	struct tpri_call *c = tpri__call_find(tp, a->call);
	struct tpri_event ev = {.type = TPRI_EV_SETUP_ACK, .call = c};
	int ch = chan_req(a->channel);

	if (!c || c->reported)
		return;
	if (ch)
		c->channel = ch;
	c->responded = true;
	ev.channel = c->channel;
	tpri__emit(tp, &ev);
}

bool tpri__overlap_event(struct tpri *tp, pri_event *e)
{
	switch (e->e) {
	case PRI_EVENT_INFO_RECEIVED:
		on_info(tp, &e->ring);
		return true;
	case PRI_EVENT_KEYPAD_DIGIT:
		on_keypad(tp, &e->digit);
		return true;
	case PRI_EVENT_SETUP_ACK:
		on_setup_ack(tp, &e->setup_ack);
		return true;
	default:
		return false;
	}
}

/* ---- outgoing ---- */

/* Copies of the strings libpri keeps pointers to until pri_setup(). */
struct sr_strings {
	char called[TPRI_NUM_MAX], calling[TPRI_NUM_MAX], redir[TPRI_NUM_MAX];
};

static void sr_fill(struct pri_sr *sr, struct sr_strings *st, const struct tpri *tp,
                    const struct tpri_setup *s, unsigned channel)
{
	snprintf(st->called, sizeof(st->called), "%s", s->called->digits);
	pri_sr_set_channel(sr, (int)channel, s->exclusive, tp->conf.node == TPRI_NET ? 0 : 1);
	pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH,
	                  tp->sp->conf.law == SPAN_ALAW ? PRI_LAYER_1_ALAW : PRI_LAYER_1_ULAW);
	pri_sr_set_called(sr, st->called, tpri__plan_of(s->called), !s->overlap);
	if (s->calling && s->calling->digits[0]) {
		snprintf(st->calling, sizeof(st->calling), "%s", s->calling->digits);
		pri_sr_set_caller(sr, st->calling, NULL, tpri__plan_of(s->calling),
		                  s->calling->pres);
	}
	if (s->redirecting && s->redirecting->digits[0]) {
		snprintf(st->redir, sizeof(st->redir), "%s", s->redirecting->digits);
		pri_sr_set_redirecting(sr, st->redir, tpri__plan_of(s->redirecting),
		                       s->redirecting->pres, s->redirect_reason);
	}
}

/* The channel to ask for: the one wanted if free, else another unless exclusive. */
static int pick_channel(struct tpri *tp, const struct tpri_setup *s, unsigned *ch)
{
	if (s->channel && tpri_chan_state(tp, s->channel) == TPRI_CHAN_IDLE) {
		*ch = s->channel;
		return 0;
	}
	if (s->channel && s->exclusive)
		return EBUSY;
	/* The user may leave the choice to the network; the network must choose. */
	if (!s->channel && tp->conf.node == TPRI_CPE) {
		*ch = 0;
		return 0;
	}
	return tpri_hunt(tp, (enum tpri_hunt)tp->conf.hunt, ch);
}

int tpri_call_setup(struct tpri_call **callp, struct tpri *tp, const struct tpri_setup *s)
{
	struct sr_strings st;
	struct tpri_call *c;
	struct pri_sr *sr = NULL;
	q931_call *qc = NULL;
	unsigned channel;
	int err;

	if (!callp || !tp || !s || !s->called || (!s->called->digits[0] && !s->overlap) ||
	    s->channel > SPAN_MAX_TS || (s->channel && !span_is_bchan(tp->sp, s->channel)))
		return EINVAL;
	if (!tp->up)
		return ENOTCONN;
	err = pick_channel(tp, s, &channel);
	if (err)
		return err;
	qc = pri_new_call(tp->ctrl);
	sr = pri_sr_new();
	if (!qc || !sr) {
		err = ENOMEM;
		goto out;
	}
	sr_fill(sr, &st, tp, s, channel);
	if (s->overlap)
		pri_set_overlapdial(tp->ctrl, 1);
	err = pri_setup(tp->ctrl, qc, sr) ? EIO : 0;
	if (s->overlap)
		pri_set_overlapdial(tp->ctrl, 0);
	if (err)
		goto out;
	err = tpri__call_new(&c, tp, qc, true);
	if (err) {
		pri_hangup(tp->ctrl, qc, PRI_CAUSE_NORMAL_TEMPORARY_FAILURE);
		qc = NULL; /* libpri clears it */
		goto out;
	}
	qc = NULL;
	tmr_init(&c->t302);
	c->channel = (int)channel;
	*callp = c;
out:
	if (qc)
		pri_destroycall(tp->ctrl, qc);
	if (sr)
		pri_sr_free(sr);
	tpri__resched(tp);
	return err;
}

int tpri_call_info(struct tpri_call *c, const char *digits)
{
	int err = 0;

	if (!c || !digits)
		return EINVAL;
	if (!c->tp || !c->qc || c->cleared || c->reported || !c->outgoing)
		return ENOTCONN;
	for (const char *d = digits; *d && !err; d++)
		err = pri_information(c->tp->ctrl, c->qc, *d) ? EIO : 0;
	tpri__resched(c->tp);
	return err;
}

int tpri_call_setup_ack(struct tpri_call *c)
{
	int err;

	if (!c)
		return EINVAL;
	if (!c->tp || !c->qc || c->cleared || c->reported || c->outgoing || c->responded)
		return ENOTCONN;
	err = pri_need_more_info(c->tp->ctrl, c->qc, c->channel, 0) ? EIO : 0;
	if (!err)
		c->responded = true;
	tpri__resched(c->tp);
	return err;
}
