/*
 * B-channel state, hunting, span groups, and the channel of a SETUP received.
 *
 * libpri does not track B-channels: which one is free is ours to know. A
 * channel is busy while a tpri_call holds it (until libpri let go of the
 * call, i.e. after RELEASE/RELEASE COMPLETE), restarting between RESTART and
 * its acknowledgement, out of service when we or the far end said so
 * (SERVICE) or when RESTART was never acknowledged.
 *
 * Glare (Q.931 5.7): both ends pick the same idle channel and their SETUPs
 * cross. The network's call wins. So the network side, seeing the user's
 * SETUP for a channel its own call holds, moves the user's call to another
 * channel if the user said "preferred" (cause 34 if none is left) and
 * clears it with cause 44 if "exclusive"; the user side gives the channel
 * to the network's call and lets its own wait for the network's answer.
 */
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "tdm/pri/pri.h"
#include "tdm/pri/pri_int.h"
#include "tdm/span/span.h"

#include <string.h>

#define GROUP_MAX 32

struct tpri_group {
	enum tpri_hunt order;
	struct tpri *tp[GROUP_MAX];
	unsigned n;
	unsigned rr_pos; /* round robin: last position taken, span * 32 + ts */
};

static struct tpri_call *holder(const struct tpri *tp, unsigned ts, const struct tpri_call * not )
{
	for (struct tpri_call *c = tp->calls; c; c = c->next)
		if (c != not &&c->channel == (int)ts)
			return c;
	return NULL;
}

enum tpri_chan_state tpri_chan_state(const struct tpri *tp, unsigned ts)
{
	uint32_t bit;

	if (!tp || !ts || ts > SPAN_MAX_TS || !span_is_bchan(tp->sp, ts))
		return TPRI_CHAN_NONE;
	bit = 1u << ts;
	if (holder(tp, ts, NULL))
		return TPRI_CHAN_BUSY;
	if ((tp->oos_local | tp->oos_remote | tp->failed) & bit)
		return TPRI_CHAN_OOS;
	if (tp->restarting & bit)
		return TPRI_CHAN_RESTARTING;
	return TPRI_CHAN_IDLE;
}

/* The i-th timeslot to try of n, in that order; rr_last: round robin's start. */
static unsigned nth_ts(enum tpri_hunt order, unsigned i, unsigned n, unsigned rr_last)
{
	switch (order) {
	case TPRI_HUNT_DESC:
		return n - i;
	case TPRI_HUNT_RR:
		return (rr_last + i) % n + 1;
	default:
		return i + 1;
	}
}

int tpri_hunt(struct tpri *tp, enum tpri_hunt order, unsigned *ts)
{
	unsigned n;

	if (!tp || !ts)
		return EINVAL;
	n = span_type_nslots(tp->sp->conf.type);
	for (unsigned i = 0; i < n; i++) {
		unsigned t = nth_ts(order, i, n, tp->rr_last);

		if (tpri_chan_state(tp, t) == TPRI_CHAN_IDLE) {
			tp->rr_last = t;
			*ts = t;
			return 0;
		}
	}
	return ENOSPC;
}

/* ---- the channel of a SETUP received ---- */

static bool reject(struct tpri_call *c, int requested, int cause)
{
	LOGI(c->tp->sp->ctx, "SETUP for channel %d rejected: cause %d (%s)", requested, cause,
	     pri_cause2str(cause));
	tpri_call_hangup(c, cause);
	c->reported = true; /* the user never heard of it: no HANGUP event either */
	return false;
}

bool tpri__ring_channel(struct tpri *tp, struct tpri_call *c, int requested, bool flexible)
{
	unsigned ts;

	if (requested > 0) {
		enum tpri_chan_state st = tpri_chan_state(tp, (unsigned)requested);
		struct tpri_call *o;

		if (st == TPRI_CHAN_IDLE) {
			c->channel = requested;
			return true;
		}
		o = st == TPRI_CHAN_BUSY ? holder(tp, (unsigned)requested, c) : NULL;
		if (o && o->outgoing && !o->responded && tp->conf.node == TPRI_CPE) {
			/* Glare, user side: the network's call takes the channel. */
			LOGI(tp->sp->ctx, "glare on channel %d: the network's call wins",
			     requested);
			o->channel = 0;
			c->channel = requested;
			return true;
		}
		if (o && o->outgoing && !o->responded)
			LOGI(tp->sp->ctx, "glare on channel %d: ours wins, the user's is %s",
			     requested, flexible ? "moved" : "refused");
		if (!flexible)
			return reject(c, requested,
			              st == TPRI_CHAN_NONE ? PRI_CAUSE_IDENTIFIED_CHANNEL_NOTEXIST
			                                   : PRI_CAUSE_REQUESTED_CHAN_UNAVAIL);
	}
	if (tpri_hunt(tp, (enum tpri_hunt)tp->conf.hunt, &ts))
		return reject(c, requested, PRI_CAUSE_NORMAL_CIRCUIT_CONGESTION);
	c->channel = (int)ts;
	return true;
}

/* ---- groups ---- */

static void group_destroy(void *data)
{
	struct tpri_group *g = data;

	for (unsigned i = 0; i < g->n; i++)
		mem_deref(g->tp[i]);
}

int tpri_group_alloc(struct tpri_group **gp, enum tpri_hunt order)
{
	struct tpri_group *g;

	if (!gp || order > TPRI_HUNT_RR)
		return EINVAL;
	g = mem_zalloc(sizeof(*g), group_destroy);
	if (!g)
		return ENOMEM;
	g->order = order;
	g->rr_pos = GROUP_MAX * 32 - 1; /* so that the first round robin pick is span 0, ts 1 */
	*gp = g;
	return 0;
}

int tpri_group_add(struct tpri_group *g, struct tpri *tp)
{
	if (!g || !tp)
		return EINVAL;
	if (g->n == GROUP_MAX)
		return ENOSPC;
	g->tp[g->n++] = mem_ref(tp);
	return 0;
}

static bool take(struct tpri_group *g, unsigned i, unsigned t, struct tpri **tpp, unsigned *ts)
{
	if (!tpri_dchan_up(g->tp[i]) || tpri_chan_state(g->tp[i], t) != TPRI_CHAN_IDLE)
		return false;
	g->rr_pos = i * 32 + t;
	*tpp = g->tp[i];
	*ts = t;
	return true;
}

int tpri_group_hunt(struct tpri_group *g, struct tpri **tpp, unsigned *ts)
{
	unsigned total;

	if (!g || !tpp || !ts)
		return EINVAL;
	/* Positions span * 32 + ts, walked up, down, or up from after the last one taken. */
	total = g->n * 32;
	for (unsigned k = 0; k < total; k++) {
		unsigned pos;

		switch (g->order) {
		case TPRI_HUNT_DESC:
			pos = total - 1 - k;
			break;
		case TPRI_HUNT_RR:
			pos = (g->rr_pos + 1 + k) % total;
			break;
		default:
			pos = k;
			break;
		}
		if (pos % 32 && take(g, pos / 32, pos % 32, tpp, ts))
			return 0;
	}
	return ENOSPC;
}

int tpri_group_call(struct tpri_call **callp, struct tpri_group *g, const struct tpri_setup *s)
{
	struct tpri_setup hs;
	struct tpri *tp;
	unsigned ts;
	int err;

	if (!callp || !g || !s)
		return EINVAL;
	err = tpri_group_hunt(g, &tp, &ts);
	if (err)
		return err;
	hs = *s;
	hs.channel = ts;
	return tpri_call_setup(callp, tp, &hs);
}
