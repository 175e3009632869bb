/*
 * Adaptive jitter buffer, 20 ms frames at 8 kHz.
 *
 * Frames are placed by timestamp on a timeline of frame numbers; the tick
 * plays play_frame and moves on. The "lead" of an arriving packet is how many
 * ticks before its turn it came (negative: too late). Once per window the
 * spread of leads gives the jitter, the jitter gives the target delay, and
 * the largest lead (what a packet with the least network delay sees) is the
 * buffer level: above target + 1 a frame is dropped, below target frames are
 * inserted (concealed). That one rule also absorbs clock drift between the
 * sender and the TDM clock, one frame at a time.
 */
#include "media/jb/jb.h"

#include <string.h>

#include "core/err.h"

#define LATE_RESYNC 3 /* newest packets late in a row: the timeline is behind */
#define INSERT_MAX  3 /* frames inserted at once when the level is low */
#define DROP_MAX    3 /* frames dropped at once when the level is above max */
#define FRAME_MS    20u

static uint32_t clampu(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void win_reset(struct jb *jb)
{
	jb->win_ticks = 0;
	jb->win_any = false;
	jb->win_max = INT32_MIN;
	jb->win_min = INT32_MAX;
}

/* The timeline moved by n frames: express the leads seen so far on the new one,
 * so an adjustment is not mistaken for jitter. */
static void win_shift(struct jb *jb, int32_t n)
{
	if (jb->win_any) {
		jb->win_max += n;
		jb->win_min += n;
	}
}

static void clear_slots(struct jb *jb)
{
	for (unsigned i = 0; i < JB_SLOTS; i++)
		jb->slot[i].frame = 0;
}

int jb_init(struct jb *jb, const struct jb_cfg *cfg)
{
	uint32_t min_ms = cfg && cfg->min_ms ? cfg->min_ms : 40;
	uint32_t max_ms = cfg && cfg->max_ms ? cfg->max_ms : 200;
	uint32_t init_ms = cfg && cfg->init_ms ? cfg->init_ms : min_ms;
	uint32_t min_f = (min_ms + FRAME_MS - 1) / FRAME_MS, max_f = max_ms / FRAME_MS;

	if (!min_f)
		min_f = 1;
	/* room for the largest packet beyond the highest target, so the ring never wraps */
	if (max_f < min_f || max_f > JB_SLOTS - JB_SPAN_MAX / JB_FRAME_TS - 2)
		return EINVAL;
	memset(jb, 0, sizeof(*jb));
	jb->whole = cfg && cfg->whole_frames;
	jb->min_f = min_f;
	jb->max_f = max_f;
	jb->target = clampu((init_ms + FRAME_MS - 1) / FRAME_MS, min_f, max_f);
	jb->st.target = jb->target;
	win_reset(jb);
	plc_init(&jb->plc);
	return 0;
}

void jb_reset(struct jb *jb)
{
	jb->started = false;
	jb->have_src = false;
	jb->ts_off = 0;
	jb->max_frame = 0;
	jb->miss_run = jb->late_run = 0;
	jb->pend_insert = jb->pend_drop = 0;
	clear_slots(jb);
	win_reset(jb);
}

/* A new timeline: this packet plays after the target delay. */
static void prime(struct jb *jb, uint32_t ts)
{
	clear_slots(jb);
	jb->play_ts = ts - jb->target * JB_FRAME_TS;
	jb->play_frame += 2 * JB_SLOTS; /* nothing stored before can match again */
	jb->max_frame = 0;
	jb->miss_run = jb->late_run = 0;
	jb->pend_insert = jb->pend_drop = 0;
	jb->prefetch = jb->target;
	jb->started = true;
	win_reset(jb);
}

/*
 * The newest packet so far: follow the timestamp, unless it contradicts the
 * sequence number (backwards, off the 10 ms grid, or further ahead than the
 * buffer holds). Then the sender's clock jumped: re-base so the packet lands
 * where its sequence number says, and playout continues seamlessly.
 */
static uint32_t newest(struct jb *jb, uint16_t seq, uint32_t t, int16_t sd, uint32_t span)
{
	int32_t tsd = (int32_t)(t - jb->last_ts);
	int32_t grain = jb->whole ? JB_FRAME_TS : JB_GRAIN;

	if (tsd <= 0 || tsd % grain || tsd / JB_FRAME_TS > JB_SLOTS) {
		uint32_t want = jb->last_ts + (uint32_t)sd * jb->last_span;
		jb->ts_off += want - t;
		t = want;
		jb->st.jumps++;
	}
	jb->last_seq = seq;
	jb->last_ts = t;
	jb->last_span = span;
	return t;
}

static void win_add(struct jb *jb, int32_t lead)
{
	jb->win_any = true;
	if (lead > jb->win_max)
		jb->win_max = lead;
	if (lead < jb->win_min)
		jb->win_min = lead;
}

static int32_t floor_div(int32_t a, int32_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Where a piece starting d units after play_ts goes: its frame's lead, its half. */
static int32_t piece_at(int32_t d, unsigned *half)
{
	int32_t lead = floor_div(d, JB_FRAME_TS);

	*half = (unsigned)(d - lead * JB_FRAME_TS) / JB_GRAIN;
	return lead;
}

static bool piece_have(const struct jb *jb, int32_t lead, unsigned bit)
{
	uint64_t f = jb->play_frame + (uint64_t)(int64_t)lead;
	const struct jb_slot *s = &jb->slot[f % JB_SLOTS];

	return s->frame == f + 1 && (s->have & bit) == bit;
}

/* Stores one piece (a whole frame, or a 10 ms half). 0 or EALREADY. */
static int store(struct jb *jb, int32_t lead, unsigned half, const uint8_t *p, size_t len)
{
	uint64_t frame = jb->play_frame + (uint64_t)(int64_t)lead;
	struct jb_slot *s = &jb->slot[frame % JB_SLOTS];
	unsigned bit = jb->whole ? 3u : 1u << half;

	if (s->frame != frame + 1) {
		s->frame = frame + 1;
		s->have = 0;
		s->played = false;
		s->len = JB_PAYLOAD_MAX;
	}
	if ((s->have & bit) == bit)
		return EALREADY;
	if (jb->whole) {
		s->len = (uint16_t)len;
		if (len)
			memcpy(s->data, p, len);
	} else {
		memcpy(s->data + half * JB_GRAIN, p, JB_GRAIN);
	}
	s->have |= (uint8_t)bit;
	if (frame + 1 > jb->max_frame)
		jb->max_frame = frame + 1;
	jb->st.level = (uint32_t)(jb->max_frame - jb->play_frame);
	return 0;
}

/* Every piece of a packet that starts d units after play_ts is already here. */
static bool all_have(const struct jb *jb, int32_t d, uint32_t span)
{
	unsigned half;

	for (uint32_t o = 0; o < span; o += jb->whole ? span : JB_GRAIN) {
		int32_t lead = piece_at(d + (int32_t)o, &half);
		if (lead <= -JB_SLOTS || !piece_have(jb, lead, jb->whole ? 3u : 1u << half))
			return false;
	}
	return true;
}

static int store_all(struct jb *jb, int32_t d, uint32_t span, const uint8_t *p, size_t len)
{
	unsigned half, stored = 0;

	if (jb->whole)
		return store(jb, floor_div(d, JB_FRAME_TS), 0, p, len);
	for (uint32_t o = 0; o < span; o += JB_GRAIN) {
		int32_t lead = piece_at(d + (int32_t)o, &half);
		if (lead >= 0 && store(jb, lead, half, p + o, JB_GRAIN) == 0)
			stored++;
	}
	return stored ? 0 : EALREADY;
}

/* The late path: a copy of what was played, or a packet the timeline has passed.
 * Three new packets late in a row mean the path delay grew: start over. */
static int late(struct jb *jb, uint32_t t, int32_t d, uint32_t span, int16_t sd)
{
	if (all_have(jb, d, span)) {
		jb->st.dup++;
		return EALREADY;
	}
	jb->st.late++;
	win_add(jb, floor_div(d, JB_FRAME_TS));
	if (sd <= 0 || ++jb->late_run < LATE_RESYNC)
		return ETIME;
	jb->st.resyncs++;
	prime(jb, t);
	return 0;
}

int jb_put(struct jb *jb, uint32_t ssrc, uint16_t seq, uint32_t ts, const uint8_t *payload,
           size_t len)
{
	uint32_t t, span = jb->whole ? JB_FRAME_TS : (uint32_t)len;
	int16_t sd;
	int32_t d;
	int err;

	if (len > (jb->whole ? JB_PAYLOAD_MAX : JB_SPAN_MAX))
		return E2BIG;
	if (!jb->whole && (!len || len % JB_GRAIN))
		return EINVAL;
	jb->st.put++;
	if (jb->have_src && ssrc != jb->ssrc) {
		jb_reset(jb);
		jb->st.resets++;
	}
	t = ts + jb->ts_off;
	sd = (int16_t)(seq - jb->last_seq);
	if (!jb->have_src || !jb->started) {
		/* the first packet, or after silence or a stop: a new talkspurt */
		if (!jb->have_src || sd > 0) {
			jb->last_seq = seq;
			jb->last_ts = t;
			jb->last_span = span;
		}
		jb->have_src = true;
		jb->ssrc = ssrc;
		prime(jb, t);
	} else if (sd > 0) {
		t = newest(jb, seq, t, sd, span);
	}
	d = (int32_t)(t - jb->play_ts);
	if (d % (jb->whole ? JB_FRAME_TS : JB_GRAIN)) {
		jb->st.late++; /* an old packet from before a jump */
		return ETIME;
	}
	if (d + (int32_t)span <= 0) {
		err = late(jb, t, d, span, sd);
		if (err)
			return err;
		d = (int32_t)(t - jb->play_ts); /* primed on this packet */
	} else if (sd > 0) {
		jb->late_run = 0;
	}
	if (d + (int32_t)span > JB_SLOTS * JB_FRAME_TS) {
		if (sd <= 0) {
			jb->st.overflow++;
			return ENOSPC;
		}
		jb->st.resyncs++;
		prime(jb, t);
		d = (int32_t)(t - jb->play_ts);
	}
	if (store_all(jb, d, span, payload, len)) {
		jb->st.dup++;
		return EALREADY;
	}
	win_add(jb, floor_div(d, JB_FRAME_TS));
	return 0;
}

/* Once a window: jitter -> target; the level against the target -> drop or insert. */
static void adapt(struct jb *jb)
{
	uint32_t spread, lvl_hi;

	if (!jb->win_any) {
		win_reset(jb);
		return;
	}
	spread = (uint32_t)(jb->win_max - jb->win_min);
	/* Peak hold with a slow decay: one frame per window. */
	if (spread >= jb->jitter)
		jb->jitter = spread;
	else
		jb->jitter = spread > jb->jitter - 1 ? spread : jb->jitter - 1;
	jb->target = clampu(jb->jitter + 1, jb->min_f, jb->max_f);
	lvl_hi = jb->win_max < 0 ? 0 : (uint32_t)jb->win_max;
	if (lvl_hi > jb->max_f + 1)
		jb->pend_drop = clampu(lvl_hi - jb->target, 1, DROP_MAX); /* well over: faster */
	else if (lvl_hi > jb->target + 1)
		jb->pend_drop = 1;
	else if (lvl_hi < jb->target)
		jb->pend_insert = clampu(jb->target - lvl_hi, 1, INSERT_MAX);
	jb->st.target = jb->target;
	jb->st.jitter = jb->jitter;
	win_reset(jb);
}

static void advance(struct jb *jb)
{
	jb->play_ts += JB_FRAME_TS;
	jb->play_frame++;
}

static void tick_end(struct jb *jb)
{
	if (++jb->win_ticks >= JB_WINDOW)
		adapt(jb);
}

static bool slot_ready(const struct jb *jb, uint64_t frame)
{
	const struct jb_slot *s = &jb->slot[frame % JB_SLOTS];

	return s->frame == frame + 1 && s->have == 3 && !s->played;
}

enum jb_verdict jb_get(struct jb *jb, const uint8_t **payload, size_t *len)
{
	struct jb_slot *s;
	bool filling;

	if (!jb->started) {
		jb->st.empty++;
		return JB_EMPTY;
	}
	if (jb->pend_insert) {
		/* Hold the timeline one tick: the delay grows by a frame. */
		jb->pend_insert--;
		jb->st.insert++;
		win_shift(jb, 1);
		tick_end(jb);
		return JB_CONCEAL;
	}
	if (jb->pend_drop && jb->max_frame > jb->play_frame + 1) {
		jb->pend_drop--;
		jb->st.drop++;
		win_shift(jb, -1);
		advance(jb);
	}
	s = &jb->slot[jb->play_frame % JB_SLOTS];
	filling = jb->prefetch > 0;
	if (filling)
		jb->prefetch--;
	if (slot_ready(jb, jb->play_frame)) {
		s->played = true; /* a late copy of it is a duplicate */
		*payload = s->data;
		*len = s->len;
		jb->miss_run = 0;
		jb->st.played++;
		advance(jb);
		tick_end(jb);
		return JB_FRAME;
	}
	if (filling) {
		/* still filling up to the target delay: nothing was due yet */
		jb->st.empty++;
		advance(jb);
		tick_end(jb);
		return JB_EMPTY;
	}
	if (jb->max_frame <= jb->play_frame + 1 && ++jb->miss_run > JB_CONCEAL_MAX) {
		/* Nothing buffered for a while: the sender stopped or went silent. */
		jb->started = false;
		jb->st.empty++;
		return JB_EMPTY;
	}
	jb->st.concealed++;
	advance(jb);
	tick_end(jb);
	return JB_CONCEAL;
}

/*
 * spandsp 0.0.6's plc_fillin() rotates its history with an overlapping
 * memcpy() (normalise_history) on the first missing block: undefined
 * behaviour, and ASan stops on it. Doing the same rotation here with memmove
 * leaves buf_ptr at 0, so spandsp skips its own.
 */
static void plc_normalise(plc_state_t *p)
{
	int16_t tmp[PLC_HISTORY_LEN];
	int n = p->buf_ptr;

	if (p->missing_samples || n <= 0 || n >= PLC_HISTORY_LEN)
		return;
	memcpy(tmp, p->history, sizeof(int16_t) * (size_t)n);
	memmove(p->history, p->history + n, sizeof(int16_t) * (size_t)(PLC_HISTORY_LEN - n));
	memcpy(p->history + PLC_HISTORY_LEN - n, tmp, sizeof(int16_t) * (size_t)n);
	p->buf_ptr = 0;
}

static void conceal(struct jb *jb, int16_t *pcm)
{
	plc_normalise(&jb->plc);
	plc_fillin(&jb->plc, pcm, JB_SAMPLES);
}

enum jb_verdict jb_pull_pcm(struct jb *jb, jb_decode_h *dec, void *arg, int16_t pcm[JB_SAMPLES])
{
	const uint8_t *p = NULL;
	size_t len = 0;
	enum jb_verdict v = jb_get(jb, &p, &len);
	int n;

	switch (v) {
	case JB_FRAME:
		n = dec(arg, p, len, pcm);
		if (n <= 0) {
			conceal(jb, pcm);
			return JB_CONCEAL;
		}
		if (n < JB_SAMPLES)
			memset(pcm + n, 0, (size_t)(JB_SAMPLES - n) * sizeof(*pcm));
		plc_rx(&jb->plc, pcm, JB_SAMPLES);
		return JB_FRAME;
	case JB_CONCEAL:
		conceal(jb, pcm);
		return JB_CONCEAL;
	default:
		memset(pcm, 0, JB_SAMPLES * sizeof(*pcm));
		return JB_EMPTY;
	}
}

const struct jb_stats *jb_stats(const struct jb *jb)
{
	return &jb->st;
}
