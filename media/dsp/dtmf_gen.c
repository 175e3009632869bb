/*
 * In-band DTMF generator: queued digits -> tone pairs in the blocks written to
 * the B-channel, with Q.23 frequencies and levels and Q.24-safe timing.
 */
#include <string.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

#include <spandsp/dds.h>

static const char ev_chars[] = "0123456789*#ABCD!";

/* Row (low group) and column (high group) of each event 0..15 on the keypad. */
static const uint8_t ev_row[16] = {3, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 0, 1, 2, 3};
static const uint8_t ev_col[16] = {1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 2, 3, 3, 3, 3};
static const float row_hz[4] = {697.0f, 770.0f, 852.0f, 941.0f};
static const float col_hz[4] = {1209.0f, 1336.0f, 1477.0f, 1633.0f};

int dsp_event_from_char(int c)
{
	if (c >= 'a' && c <= 'd')
		c -= 'a' - 'A';
	for (int i = 0; ev_chars[i]; i++)
		if (ev_chars[i] == c)
			return i;
	return -1;
}

int dsp_event_to_char(int ev)
{
	if (ev < 0 || ev > DSP_EV_FLASH)
		return 0;
	return ev_chars[ev];
}

/* Zero fields take the defaults: 0 dBm0 is no sensible DTMF level, nor 0 ms a timing. */
static struct dtmf_gen_cfg with_defaults(const struct dtmf_gen_cfg *cfg)
{
	struct dtmf_gen_cfg c = {0};

	if (cfg)
		c = *cfg;
	c.low_dbm0 = c.low_dbm0 ? c.low_dbm0 : -10;
	c.high_dbm0 = c.high_dbm0 ? c.high_dbm0 : -8;
	c.min_on_ms = c.min_on_ms ? c.min_on_ms : 40;
	c.min_off_ms = c.min_off_ms ? c.min_off_ms : 40;
	c.max_on_ms = c.max_on_ms ? c.max_on_ms : 10000;
	return c;
}

int dtmf_gen_init(struct dtmf_gen *g, const struct dtmf_gen_cfg *cfg)
{
	struct dtmf_gen_cfg c = with_defaults(cfg);

	/* Q.24 receivers take twist within about 4 dB either way. */
	if (c.low_dbm0 < -40 || c.low_dbm0 > 0 || c.high_dbm0 < -40 || c.high_dbm0 > 0 ||
	    c.high_dbm0 - c.low_dbm0 > 4 || c.low_dbm0 - c.high_dbm0 > 4)
		return EINVAL;
	if (c.min_on_ms < 20 || c.min_off_ms < 20 || c.max_on_ms < c.min_on_ms ||
	    c.max_on_ms > 60000)
		return EINVAL;
	memset(g, 0, sizeof(*g));
	g->amp_lo = dds_scaling_dbm0((float)c.low_dbm0);
	g->amp_hi = dds_scaling_dbm0((float)c.high_dbm0);
	g->min_on = DSP_MS(c.min_on_ms);
	g->min_off = DSP_MS(c.min_off_ms);
	g->max_on = DSP_MS(c.max_on_ms);
	return 0;
}

static int push(struct dtmf_gen *g, int event, bool open, uint32_t target)
{
	if (event < 0 || event > DSP_EV_DTMF_MAX)
		return EINVAL; /* flash is signalling, not a tone */
	if (g->count == DTMF_GEN_QLEN) {
		g->stats.dropped++;
		return ENOSPC;
	}
	struct dtmf_gen_ent *e = &g->q[(g->head + g->count) % DTMF_GEN_QLEN];

	e->event = (uint8_t)event;
	e->open = open;
	e->target = target;
	g->count++;
	return 0;
}

int dtmf_gen_start(struct dtmf_gen *g, int event)
{
	return push(g, event, true, 0);
}

int dtmf_gen_stop(struct dtmf_gen *g, int event, uint32_t duration)
{
	for (unsigned i = g->count; i-- > 0;) {
		struct dtmf_gen_ent *e = &g->q[(g->head + i) % DTMF_GEN_QLEN];

		if (e->open && e->event == event) {
			e->open = false;
			e->target = duration;
			return 0;
		}
	}
	return ENOENT;
}

int dtmf_gen_digit(struct dtmf_gen *g, int event, uint32_t duration)
{
	return push(g, event, false, duration);
}

bool dtmf_gen_busy(const struct dtmf_gen *g)
{
	return g->count > 0 || g->gap_left > 0;
}

int dtmf_gen_current(const struct dtmf_gen *g)
{
	return g->playing && g->count ? g->q[g->head].event : -1;
}

void dtmf_gen_flush(struct dtmf_gen *g)
{
	g->count = 0;
	g->playing = false;
	g->gap_left = 0;
}

/* How long the head entry sounds in all: its duration within [min_on, max_on]. */
static uint32_t head_limit(const struct dtmf_gen *g, const struct dtmf_gen_ent *e)
{
	if (e->open)
		return g->max_on;
	if (e->target < g->min_on)
		return g->min_on;
	return e->target < g->max_on ? e->target : g->max_on;
}

static void synth(struct dtmf_gen *g, int16_t *amp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int32_t s = dds_mod(&g->ph_lo, g->rate_lo, g->amp_lo, 0);

		s += dds_mod(&g->ph_hi, g->rate_hi, g->amp_hi, 0);
		amp[i] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
	}
}

bool dtmf_gen_block(struct dtmf_gen *g, int16_t *amp, size_t n)
{
	size_t i = 0;

	if (!dtmf_gen_busy(g))
		return false;
	while (i < n) {
		if (g->gap_left) {
			size_t k = n - i < g->gap_left ? n - i : g->gap_left;

			memset(amp + i, 0, k * sizeof(*amp));
			g->gap_left -= (uint32_t)k;
			i += k;
			continue;
		}
		if (g->count == 0)
			break; /* the rest of the block keeps its audio */
		struct dtmf_gen_ent *e = &g->q[g->head];

		if (!g->playing) {
			g->playing = true;
			g->played = 0;
			g->ph_lo = g->ph_hi = 0;
			g->rate_lo = dds_phase_rate(row_hz[ev_row[e->event]]);
			g->rate_hi = dds_phase_rate(col_hz[ev_col[e->event]]);
		}
		uint32_t limit = head_limit(g, e);

		if (g->played >= limit) {
			g->playing = false;
			g->head = (g->head + 1) % DTMF_GEN_QLEN;
			g->count--;
			g->gap_left = g->min_off;
			g->stats.played++;
			continue;
		}
		size_t k = n - i < limit - g->played ? n - i : limit - g->played;

		synth(g, amp + i, k);
		g->played += (uint32_t)k;
		i += k;
	}
	return true;
}
