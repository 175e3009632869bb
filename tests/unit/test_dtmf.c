/*
 * Unit tests for media/dsp DTMF: the in-band generator against spandsp's
 * detector (all 16 digits, levels, twist, timing, queueing), RFC 4733 events
 * turned into tones, the sender's packet sequence for digits detected in
 * generated audio, talk-off, and the SIP INFO bodies. The RFC 4733
 * receiver's edge cases are in test_te_rx.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

#include <spandsp/g711.h>

/* ---- helpers ---- */

/* Level in dBm0 of the component at hz (correlation over n samples). */
static double tone_dbm0(const int16_t *x, size_t n, double hz)
{
	double re = 0.0, im = 0.0;

	for (size_t i = 0; i < n; i++) {
		double w = 2.0 * M_PI * hz * (double)i / DSP_RATE;

		re += x[i] * cos(w);
		im += x[i] * sin(w);
	}
	double a = 2.0 * sqrt(re * re + im * im) / (double)n;

	return a > 0 ? 20.0 * log10(a / 32767.0) + 3.14 : -100.0;
}

static uint32_t rng_state = 12345;

static int16_t noise(int amp)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (int16_t)((int)((rng_state >> 16) % (2u * (unsigned)amp + 1u)) - amp);
}

struct det_log {
	char digits[64];
	int starts, stops;
	int on; /* currently on */
	uint8_t volume;
};

static void det_h(int event, bool on, uint8_t volume, void *arg)
{
	struct det_log *l = arg;

	if (on) {
		assert_false(l->on); /* strictly alternating */
		if (l->starts < (int)sizeof(l->digits) - 1)
			l->digits[l->starts] = (char)dsp_event_to_char(event);
		l->starts++;
		l->volume = volume;
	} else {
		assert_true(l->on);
		l->stops++;
	}
	l->on = on;
}

/* Runs the generator for nblocks blocks of quiet noise; the detector listens. */
static void gen_to_det(struct dtmf_gen *g, struct dtmf_det *d, unsigned nblocks, int16_t *capture,
                       size_t cap_max, size_t *cap_n)
{
	int16_t blk[DSP_BLOCK], out[DSP_BLOCK];

	for (unsigned b = 0; b < nblocks; b++) {
		for (int i = 0; i < DSP_BLOCK; i++)
			blk[i] = noise(3); /* about -70 dBm0 line noise */
		dtmf_gen_block(g, blk, DSP_BLOCK);
		if (capture && *cap_n + DSP_BLOCK <= cap_max) {
			memcpy(capture + *cap_n, blk, sizeof(blk));
			*cap_n += DSP_BLOCK;
		}
		dtmf_det_block(d, blk, out);
	}
}

/* ---- events ---- */

static void test_event_chars(void **state)
{
	const char *all = "0123456789*#ABCD!";

	(void)state;
	for (int i = 0; all[i]; i++) {
		assert_int_equal(dsp_event_from_char(all[i]), i);
		assert_int_equal(dsp_event_to_char(i), all[i]);
	}
	assert_int_equal(dsp_event_from_char('a'), 12);
	assert_int_equal(dsp_event_from_char('E'), -1);
	assert_int_equal(dsp_event_to_char(17), 0);
	assert_int_equal(dsp_event_to_char(-1), 0);
}

/* ---- generator ---- */

static void test_gen_levels_and_twist(void **state)
{
	struct dtmf_gen g;
	int16_t x[DSP_BLOCK * 10];

	(void)state;
	assert_int_equal(dtmf_gen_init(&g, NULL), 0);
	assert_int_equal(dtmf_gen_digit(&g, 1, DSP_MS(100)), 0);
	memset(x, 0, sizeof(x));
	for (int b = 0; b < 10; b++)
		assert_true(dtmf_gen_block(&g, x + b * DSP_BLOCK, DSP_BLOCK) || b > 5);

	double lo = tone_dbm0(x, DSP_MS(100), 697), hi = tone_dbm0(x, DSP_MS(100), 1209);

	printf("digit 1: 697 Hz %.2f dBm0, 1209 Hz %.2f dBm0, twist %.2f dB\n", lo, hi, hi - lo);
	assert_true(fabs(lo - -10.0) < 0.5);
	assert_true(fabs(hi - -8.0) < 0.5);
	assert_true(fabs((hi - lo) - 2.0) < 0.3);
	/* The other keypad frequencies are absent. */
	assert_true(tone_dbm0(x, DSP_MS(100), 770) < -30.0);
	assert_true(tone_dbm0(x, DSP_MS(100), 1336) < -30.0);
	/* Exactly 100 ms of tone, then nothing written. */
	size_t last = 0;

	for (size_t i = 0; i < ARRAY_SIZE(x); i++)
		if (x[i])
			last = i;
	assert_true(last >= DSP_MS(100) - 2 && last < DSP_MS(100));
	assert_false(dtmf_gen_busy(&g) && g.count);

	/* Configured levels are what comes out; an all-zero cfg is the defaults. */
	struct dtmf_gen_cfg lv = {.low_dbm0 = -13, .high_dbm0 = -11}, zero = {0};

	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(dtmf_gen_init(&g, pass ? &zero : &lv), 0);
		assert_int_equal(dtmf_gen_digit(&g, 12, DSP_MS(100)), 0); /* 'A': 697 + 1633 */
		memset(x, 0, sizeof(x));
		dtmf_gen_block(&g, x, DSP_MS(100));
		assert_true(fabs(tone_dbm0(x, DSP_MS(100), 697) - (pass ? -10 : -13)) < 0.5);
		assert_true(fabs(tone_dbm0(x, DSP_MS(100), 1633) - (pass ? -8 : -11)) < 0.5);
	}
	struct dtmf_gen_cfg bad = {-10, -4, 40, 40, 1000}; /* 6 dB twist */

	assert_int_equal(dtmf_gen_init(&g, &bad), EINVAL);
	bad = (struct dtmf_gen_cfg){.min_on_ms = 10};
	assert_int_equal(dtmf_gen_init(&g, &bad), EINVAL);
	assert_int_equal(dtmf_gen_digit(&g, DSP_EV_FLASH, 800), EINVAL);
}

static void test_gen_roundtrip_all_digits(void **state)
{
	struct dtmf_gen g;
	struct dtmf_det d;
	struct det_log log;

	(void)state;
	memset(&log, 0, sizeof(log));
	assert_int_equal(dtmf_gen_init(&g, NULL), 0);
	dtmf_det_init(&d, det_h, &log);
	for (int ev = 0; ev <= DSP_EV_DTMF_MAX; ev++)
		assert_int_equal(dtmf_gen_digit(&g, ev, DSP_MS(100)), 0);
	gen_to_det(&g, &d, 150, NULL, 0, NULL);
	printf("round trip: \"%s\" (volume reported %u)\n", log.digits, log.volume);
	assert_string_equal(log.digits, "0123456789*#ABCD");
	assert_int_equal(log.stops, 16);
	/* -10 and -8 dBm0 together are about -5.9 dBm0. */
	assert_true(log.volume >= 4 && log.volume <= 8);
	dtmf_det_release(&d);
}

/* Lengths of tone bursts and of the silences between them. */
static void runs(const int16_t *x, size_t n, uint32_t *on, uint32_t *off, int *non, int max)
{
	size_t i = 0;

	*non = 0;
	while (i < n && x[i] == 0)
		i++;
	while (i < n && *non < max) {
		size_t s = i, z = 0;

		/* a tone may cross zero exactly now and then: 4 zeros in a row end it */
		while (i < n && z < 4) {
			z = x[i] ? 0 : z + 1;
			i++;
		}
		if (i >= n && z < 4)
			break; /* still sounding at the end of the capture */
		on[*non] = (uint32_t)(i - z - s);
		s = i - z;
		while (i < n && x[i] == 0)
			i++;
		off[*non] = (uint32_t)(i - s);
		(*non)++;
	}
}

static void test_gen_min_timing_and_queue(void **state)
{
	struct dtmf_gen g;
	struct dtmf_det d;
	struct det_log log;
	static int16_t cap[DSP_BLOCK * 60];
	size_t n = 0;
	uint32_t on[16], off[16];
	int k;

	(void)state;
	memset(&log, 0, sizeof(log));
	assert_int_equal(dtmf_gen_init(&g, NULL), 0);
	dtmf_det_init(&d, det_h, &log);
	/* Eight digits arriving at once, each reported as only 10 ms long. */
	for (int i = 0; i < 8; i++)
		assert_int_equal(dtmf_gen_digit(&g, "19283746"[i] - '0', DSP_MS(10)), 0);
	rng_state = 1;
	for (int b = 0; b < 60; b++) {
		int16_t blk[DSP_BLOCK], out[DSP_BLOCK];

		memset(blk, 0, sizeof(blk));
		dtmf_gen_block(&g, blk, DSP_BLOCK);
		memcpy(cap + n, blk, sizeof(blk));
		n += DSP_BLOCK;
		dtmf_det_block(&d, blk, out);
	}
	runs(cap, n, on, off, &k, 16);
	assert_int_equal(k, 8);
	for (int i = 0; i < k; i++) {
		assert_true(on[i] >= DSP_MS(40) - 4 && on[i] <= DSP_MS(40));
		assert_true(off[i] >= DSP_MS(40));
	}
	printf("queued 10 ms digits: tones %u samples, pauses >= %u samples; detected \"%s\"\n",
	       on[0], off[0], log.digits);
	/* spandsp's Q.24 detector accepts 40 ms / 40 ms. */
	assert_string_equal(log.digits, "19283746");
	dtmf_det_release(&d);
}

static void test_gen_open_event_and_cap(void **state)
{
	struct dtmf_gen g;
	struct dtmf_gen_cfg cfg = {.max_on_ms = 200};
	int16_t blk[DSP_BLOCK];
	unsigned toneblocks = 0;

	(void)state;
	assert_int_equal(dtmf_gen_init(&g, &cfg), 0);
	assert_int_equal(dtmf_gen_start(&g, 5), 0);
	/* Open: keeps sounding, capped at max_on (200 ms). */
	for (int b = 0; b < 30; b++) {
		memset(blk, 0, sizeof(blk));
		dtmf_gen_block(&g, blk, DSP_BLOCK);
		if (blk[10] || blk[100])
			toneblocks++;
	}
	assert_int_equal(toneblocks, 10);
	assert_int_equal(dtmf_gen_stop(&g, 5, 800), ENOENT); /* already ended by the cap */
	/* A stop shorter than min_on still gives min_on; a stop for another digit fails. */
	assert_int_equal(dtmf_gen_start(&g, 7), 0);
	assert_int_equal(dtmf_gen_stop(&g, 8, 100), ENOENT);
	assert_int_equal(dtmf_gen_stop(&g, 7, 100), 0);
	int16_t x[DSP_BLOCK * 4] = {0};

	for (int b = 0; b < 4; b++)
		dtmf_gen_block(&g, x + b * DSP_BLOCK, DSP_BLOCK);
	uint32_t on[4], off[4];
	int k;

	runs(x, ARRAY_SIZE(x), on, off, &k, 4);
	assert_int_equal(k, 1);
	assert_true(on[0] >= DSP_MS(40) - 4 && on[0] <= DSP_MS(40));
	/* Queue full. */
	for (int i = 0; i < DTMF_GEN_QLEN; i++)
		assert_int_equal(dtmf_gen_digit(&g, 1, 800), 0);
	assert_int_equal(dtmf_gen_digit(&g, 1, 800), ENOSPC);
	assert_int_equal(g.stats.dropped, 1);
	dtmf_gen_flush(&g);
	assert_false(dtmf_gen_busy(&g));
}

/* ---- RFC 4733 in, tones out ---- */

static void pkt(struct te_rx *rx, int ev, bool e, uint32_t dur, uint32_t ts, bool m)
{
	uint8_t p[4] = {(uint8_t)ev, (uint8_t)((e ? 0x80 : 0) | 10), (uint8_t)(dur >> 8),
	                (uint8_t)dur};

	assert_int_equal(te_rx_packet(rx, p, 4, ts, m), 0);
}

/* RFC 4733 in, tones out: the tone lasts as long as the event and is detected once. */
static void test_rx_to_generator(void **state)
{
	struct te_rx rx;
	struct dtmf_gen g;
	struct dtmf_det d;
	struct det_log log;
	static int16_t cap[DSP_BLOCK * 40];
	size_t n = 0;

	(void)state;
	memset(&log, 0, sizeof(log));
	assert_int_equal(dtmf_gen_init(&g, NULL), 0);
	dtmf_det_init(&d, det_h, &log);
	/* Glue as a media worker would do it: te_rx state changes drive the generator. */
	te_rx_init(&rx, NULL, NULL);
	/* 200 ms event, one packet per block, tones made block by block. */
	for (int b = 0; b < 40; b++) {
		int16_t blk[DSP_BLOCK] = {0}, out[DSP_BLOCK];
		uint32_t dur = (uint32_t)(b + 1) * DSP_BLOCK;
		bool was = rx.active;

		if (b < 10) {
			pkt(&rx, 7, false, dur, 4000, b == 0);
		} else if (b < 13) {
			pkt(&rx, 7, true, DSP_MS(200), 4000, false);
		}
		if (!was && rx.active)
			assert_int_equal(dtmf_gen_start(&g, rx.event), 0);
		if (was && !rx.active)
			assert_int_equal(dtmf_gen_stop(&g, rx.end_event, rx.base + rx.dur), 0);
		te_rx_tick(&rx, DSP_BLOCK);
		dtmf_gen_block(&g, blk, DSP_BLOCK);
		memcpy(cap + n, blk, sizeof(blk));
		n += DSP_BLOCK;
		dtmf_det_block(&d, blk, out);
	}
	uint32_t on[4], off[4];
	int k;

	runs(cap, n, on, off, &k, 4);
	assert_int_equal(k, 1);
	printf("RFC 4733 event of 1600 samples -> tone of %u samples\n", on[0]);
	assert_true(on[0] >= DSP_MS(200) - 4 && on[0] <= DSP_MS(200));
	assert_string_equal(log.digits, "7");
	assert_int_equal(log.stops, 1);
	dtmf_det_release(&d);
}

/* ---- RFC 4733 sender ---- */

struct tx_glue {
	struct te_tx *tx;
	int starts, stops;
};

static void tx_det_h(int event, bool on, uint8_t volume, void *arg)
{
	struct tx_glue *gl = arg;

	if (on) {
		assert_int_equal(te_tx_start(gl->tx, event, volume), 0);
		gl->starts++;
	} else {
		te_tx_stop(gl->tx);
		gl->stops++;
	}
}

struct sent {
	struct te_pkt p;
	unsigned tick;
};

struct tx_run {
	struct sent s[128];
	unsigned ns, muted, starts, stops;
	unsigned leak_onset; /* tone samples unmuted in the block where the tone begins */
	unsigned leak_other; /* ... anywhere else */
};

/*
 * A digit of `ms` milliseconds starting `offset` samples into block 5, over
 * quiet line noise, through dtmf_det and te_tx: what was sent, and how many
 * samples of the tone reached unmuted RTP audio.
 */
static void run_tx(struct tx_run *r, unsigned offset, unsigned ms, uint32_t ts0, unsigned la)
{
	struct dtmf_gen g;
	struct dtmf_det d;
	struct te_tx tx;
	struct tx_glue gl = {&tx, 0, 0};
	static int16_t tone[DSP_BLOCK * 80]; /* the tone alone, to find leaks */
	unsigned nb = 15 + (ms + 19) / 20;

	memset(r, 0, sizeof(*r));
	memset(tone, 0, sizeof(tone));
	assert_true(nb * DSP_BLOCK + offset <= ARRAY_SIZE(tone));
	assert_int_equal(dtmf_gen_init(&g, NULL), 0);
	assert_int_equal(dtmf_gen_digit(&g, 5, DSP_MS(ms)), 0);
	dtmf_gen_block(&g, tone + 5 * DSP_BLOCK + offset, DSP_MS(ms) + 10);
	dtmf_det_init(&d, tx_det_h, &gl);
	assert_int_equal(dtmf_det_set_lookahead(&d, la), 0);
	te_tx_init(&tx);
	rng_state = 5;
	for (unsigned b = 0; b < nb; b++) {
		int16_t blk[DSP_BLOCK], out[DSP_BLOCK];
		struct te_pkt p[TE_TX_MAXPKT];

		for (int i = 0; i < DSP_BLOCK; i++)
			blk[i] = (int16_t)(tone[b * DSP_BLOCK + i] + noise(3));
		bool mute = dtmf_det_block(&d, blk, out);

		/* out is block b - la: any tone sample in it should be muted */
		if (b >= la && !mute)
			for (int i = 0; i < DSP_BLOCK; i++)
				if (tone[(b - la) * DSP_BLOCK + i] != 0) {
					if (b - la == 5)
						r->leak_onset++;
					else
						r->leak_other++;
				}
		r->muted += mute;
		unsigned k = te_tx_tick(&tx, ts0 + b * DSP_BLOCK, p);

		for (unsigned i = 0; i < k; i++) {
			assert_true(r->ns < ARRAY_SIZE(r->s));
			r->s[r->ns].p = p[i];
			r->s[r->ns].tick = b;
			r->ns++;
		}
	}
	assert_false(te_tx_busy(&tx));
	r->starts = (unsigned)gl.starts;
	r->stops = (unsigned)gl.stops;
	dtmf_det_release(&d);
}

/* Checks the packet sequence of one event; returns its final duration. */
static uint32_t check_sequence(const struct tx_run *r, int event)
{
	unsigned ends = 0, updates = 0;
	uint32_t prev = 0, final = 0;

	for (unsigned i = 0; i < r->ns; i++) {
		uint8_t ev, vol;
		bool e;
		uint16_t dur;

		te_payload_decode(r->s[i].p.payload, &ev, &e, &vol, &dur);
		assert_int_equal(ev, event);
		assert_int_equal(r->s[i].p.ts, r->s[0].p.ts); /* one timestamp throughout */
		assert_int_equal(r->s[i].p.marker, i == 0);   /* marker on the start only */
		assert_true(vol >= 4 && vol <= 8);            /* about -6 dBm0 */
		if (i > 0)
			assert_int_equal(r->s[i].tick, r->s[i - 1].tick + 1); /* one per 20 ms */
		if (!e) {
			assert_int_equal(ends, 0);
			assert_int_equal(dur, prev + DSP_BLOCK); /* growing by ptime */
			updates++;
		} else {
			if (!ends)
				final = dur;
			assert_int_equal(dur, prev + (ends ? 0 : DSP_BLOCK));
			ends++;
		}
		prev = dur;
	}
	assert_true(updates >= 1);
	assert_int_equal(ends, 3); /* three end packets, same final duration */
	assert_int_equal(r->ns, updates + 3);
	return final;
}

static void test_tx_sequence_from_audio(void **state)
{
	static struct tx_run r;
	uint32_t final;

	(void)state;
	run_tx(&r, 70, 100, 0x7FFFFF00u, 1);
	assert_int_equal(r.starts, 1);
	assert_int_equal(r.stops, 1);
	assert_int_equal(r.leak_onset + r.leak_other, 0);
	final = check_sequence(&r, 5);
	printf("sender, 100 ms '5': %u packets, final duration %u samples, %u blocks muted\n", r.ns,
	       final, r.muted);
	assert_true(final >= DSP_MS(100) - DSP_BLOCK && final <= DSP_MS(100) + DSP_BLOCK);
}

/*
 * Every onset position within a block (step 4) and several lengths, with 1 and
 * 2 blocks of look-ahead: the durations sent, and the tone that reaches the
 * RTP audio unmuted (see dsp.h: up to 42 onset samples with 1 block, none with 2).
 */
static void test_tx_onsets_and_lengths(void **state)
{
	static struct tx_run r;
	static const unsigned lens[] = {45, 100, 250, 1000};

	(void)state;
	for (unsigned la = 1; la <= 2; la++) {
		unsigned worst_onset = 0, worst_other = 0, leaky = 0, runs_n = 0;
		int worst_err = 0;

		for (size_t l = 0; l < ARRAY_SIZE(lens); l++)
			for (unsigned off = 0; off < DSP_BLOCK; off += 4) {
				run_tx(&r, off, lens[l], 1000, la);
				assert_int_equal(r.starts, 1);
				assert_int_equal(r.stops, 1);
				uint32_t final = check_sequence(&r, 5);
				int err = (int) final - (int)DSP_MS(lens[l]);

				if (abs(err) > abs(worst_err))
					worst_err = err;
				if (r.leak_onset > worst_onset)
					worst_onset = r.leak_onset;
				if (r.leak_other > worst_other)
					worst_other = r.leak_other;
				leaky += r.leak_onset > 0;
				runs_n++;
			}
		printf("sender, look-ahead %u: %u runs, worst duration error %d samples, "
		       "onset leak in %u runs (worst %u samples), other leak worst %u\n",
		       la, runs_n, worst_err, leaky, worst_onset, worst_other);
		assert_true(abs(worst_err) <= DSP_BLOCK);
		assert_int_equal(worst_other, 0);
		assert_true(worst_onset <= 42);
		if (la == 2)
			assert_int_equal(worst_onset, 0);
	}
	struct dtmf_det d;

	dtmf_det_init(&d, NULL, NULL);
	assert_int_equal(dtmf_det_set_lookahead(&d, 0), EINVAL);
	assert_int_equal(dtmf_det_set_lookahead(&d, 3), EINVAL);
	dtmf_det_release(&d);
}

static void test_tx_long_event_and_overlap(void **state)
{
	struct te_tx tx;
	struct te_pkt p[TE_TX_MAXPKT];
	uint32_t ts = 1000;
	unsigned k, seg_end = 0, tick_split = 0;
	uint8_t ev, vol;
	bool e;
	uint16_t dur;

	(void)state;
	te_tx_init(&tx);
	assert_int_equal(te_tx_start(&tx, 16, 70), 0); /* flash; volume clamped */
	assert_int_equal(te_tx_start(&tx, 17, 0), EINVAL);
	/* 420 blocks = 67200 samples: one segment boundary. */
	for (unsigned b = 0; b < 420; b++, ts += DSP_BLOCK) {
		k = te_tx_tick(&tx, ts, p);
		for (unsigned i = 0; i < k; i++) {
			te_payload_decode(p[i].payload, &ev, &e, &vol, &dur);
			assert_int_equal(vol, 63);
			assert_false(e);
			if (dur == 0xFFFF) {
				assert_int_equal(p[i].ts, 1000);
				seg_end++;
				if (!tick_split)
					tick_split = b;
			}
		}
	}
	assert_int_equal(seg_end, 3); /* the segment's final packet, three times */
	assert_int_equal(tick_split, 409);
	assert_int_equal(tx.seg_ts, 1000 + 0xFFFF);
	assert_int_equal(tx.seg_dur, 420 * DSP_BLOCK - 0xFFFF);

	/* Stop, and a new digit one block later: the end copies interleave. */
	te_tx_stop(&tx);
	k = te_tx_tick(&tx, ts, p);
	ts += DSP_BLOCK;
	assert_int_equal(k, 1);
	te_payload_decode(p[0].payload, &ev, &e, &vol, &dur);
	assert_true(e);
	assert_int_equal(dur, 421 * DSP_BLOCK - 0xFFFF);
	assert_int_equal(te_tx_start(&tx, 9, 10), 0);
	k = te_tx_tick(&tx, ts, p);
	assert_int_equal(k, 2);
	te_payload_decode(p[0].payload, &ev, &e, &vol, &dur);
	assert_true(e && ev == 16 && !p[0].marker);
	te_payload_decode(p[1].payload, &ev, &e, &vol, &dur);
	assert_true(!e && ev == 9 && p[1].marker && dur == DSP_BLOCK && p[1].ts == ts);
	k = te_tx_tick(&tx, ts + DSP_BLOCK, p);
	assert_int_equal(k, 2);
	k = te_tx_tick(&tx, ts + 2 * DSP_BLOCK, p);
	assert_int_equal(k, 1);
	te_payload_decode(p[0].payload, &ev, &e, &vol, &dur);
	assert_true(ev == 9 && dur == 3 * DSP_BLOCK);
	/* A start replacing an open digit ends it first (its ends are owed). */
	assert_int_equal(te_tx_start(&tx, 3, 10), 0);
	k = te_tx_tick(&tx, ts + 3 * DSP_BLOCK, p);
	assert_int_equal(k, 2);
	te_payload_decode(p[0].payload, &ev, &e, &vol, &dur);
	assert_true(ev == 9 && e && dur == 4 * DSP_BLOCK);
	/* Start and stop before any tick: one packet with marker and E, then 2 copies. */
	te_tx_init(&tx);
	te_tx_start(&tx, 1, 10);
	te_tx_stop(&tx);
	unsigned total = 0;

	for (int b = 0; b < 5; b++) {
		k = te_tx_tick(&tx, 500, p);
		for (unsigned i = 0; i < k; i++) {
			te_payload_decode(p[i].payload, &ev, &e, &vol, &dur);
			assert_true(e && dur == DSP_BLOCK);
			assert_int_equal(p[i].marker, total == 0);
			total++;
		}
	}
	assert_int_equal(total, 3);
}

/* Silence is not given to dtmf_rx once it has seen a few quiet blocks; digits after
 * a long silence, and the same digit twice with a pause, are still heard. */
static void test_det_quiet_gate(void **state)
{
	struct dtmf_gen g;
	struct dtmf_det d;
	struct det_log log;

	(void)state;
	memset(&log, 0, sizeof(log));
	assert_int_equal(dtmf_gen_init(&g, NULL), 0);
	dtmf_det_init(&d, det_h, &log);
	gen_to_det(&g, &d, 100, NULL, 0, NULL); /* 2 s of line noise */
	assert_true(d.skipped >= 100 - 4);
	assert_int_equal(dtmf_gen_digit(&g, 5, DSP_MS(80)), 0);
	gen_to_det(&g, &d, 50, NULL, 0, NULL);
	assert_int_equal(dtmf_gen_digit(&g, 5, DSP_MS(80)), 0);
	gen_to_det(&g, &d, 50, NULL, 0, NULL);
	assert_string_equal(log.digits, "55");
	assert_int_equal(log.stops, 2);
	/* while a digit sounds every block goes to dtmf_rx */
	uint32_t skipped = d.skipped;

	assert_int_equal(dtmf_gen_digit(&g, 9, DSP_MS(200)), 0);
	gen_to_det(&g, &d, 8, NULL, 0, NULL);
	assert_int_equal(d.skipped, skipped);
	dtmf_det_release(&d);
}

/* Line noise and speech-like noise: no digit, and few blocks muted. */
static void test_det_talk_off(void **state)
{
	struct dtmf_det d;
	struct det_log log;
	unsigned muted = 0, nblocks = 1500;
	double lp = 0;

	(void)state;
	memset(&log, 0, sizeof(log));
	dtmf_det_init(&d, det_h, &log);
	rng_state = 99;
	for (unsigned b = 0; b < nblocks; b++) {
		int16_t blk[DSP_BLOCK], out[DSP_BLOCK];
		/* low-passed noise with a syllabic envelope (4 Hz) */
		double env = 0.55 + 0.45 * sin(2.0 * M_PI * 4.0 * b / 50.0);

		for (int i = 0; i < DSP_BLOCK; i++) {
			lp = 0.8 * lp + 0.2 * noise(12000);
			blk[i] = (int16_t)(lp * env);
		}
		muted += dtmf_det_block(&d, blk, out);
	}
	printf("talk-off: %u digits, %u of %u blocks muted\n", (unsigned)log.starts, muted,
	       nblocks);
	assert_int_equal(log.starts, 0);
	assert_true(muted * 50 < nblocks); /* under 2% */
	dtmf_det_release(&d);
}

/*
 * Talk-off on real audio: the A-law recording SIPp ships (about 7 s, 30 ms
 * packets), decoded and re-blocked to 20 ms. Skipped when it is not installed.
 */
static void test_det_talk_off_recording(void **state)
{
	static uint8_t buf[128 * 1024];
	static int16_t pcm[64 * 1024];
	FILE *f = fopen("/usr/share/sip-tester/g711a.pcap", "rb");
	size_t n, o = 24, np = 0;
	struct dtmf_det d;
	struct det_log log;
	unsigned muted = 0, blocks = 0;

	(void)state;
	if (!f)
		skip();
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (o + 16 <= n) {
		size_t incl =
		    (size_t)buf[o + 8] | (size_t)buf[o + 9] << 8 | (size_t)buf[o + 10] << 16;
		const uint8_t *p = buf + o + 16;

		o += 16 + incl;
		if (o > n || incl < 14 + 20 + 8 + 12)
			break;
		size_t ihl = (size_t)(p[14] & 15) * 4, hl = 14 + ihl + 8 + 12;

		for (size_t i = hl; i < incl && np < ARRAY_SIZE(pcm); i++)
			pcm[np++] = alaw_to_linear(p[i]);
	}
	assert_true(np > DSP_RATE * 5); /* the recording is there and decoded */
	memset(&log, 0, sizeof(log));
	dtmf_det_init(&d, det_h, &log);
	for (size_t i = 0; i + DSP_BLOCK <= np; i += DSP_BLOCK, blocks++) {
		int16_t out[DSP_BLOCK];

		muted += dtmf_det_block(&d, pcm + i, out);
	}
	printf("talk-off on SIPp's g711a.pcap: %u digits, %u of %u blocks muted\n",
	       (unsigned)log.starts, muted, blocks);
	assert_int_equal(log.starts, 0);
	assert_true(muted * 20 < blocks); /* under 5% */
	dtmf_det_release(&d);
}

/* ---- SIP INFO ---- */

static void test_info_roundtrip(void **state)
{
	char buf[64];
	size_t len;
	int ev;
	uint32_t ms;

	(void)state;
	for (int e = 0; e <= DSP_EV_FLASH; e++) {
		assert_int_equal(dtmf_info_relay_build(buf, sizeof(buf), &len, e, 160 + e), 0);
		assert_int_equal(len, strlen(buf));
		assert_int_equal(dtmf_info_relay_parse(pl_make(buf, len), &ev, &ms), 0);
		assert_int_equal(ev, e);
		assert_int_equal(ms, 160 + e);
		assert_int_equal(dtmf_info_dtmf_build(buf, sizeof(buf), &len, e), 0);
		assert_int_equal(len, 1);
		assert_int_equal(dtmf_info_dtmf_parse(pl_make(buf, len), &ev), 0);
		assert_int_equal(ev, e);
	}
	assert_int_equal(dtmf_info_relay_build(buf, sizeof(buf), &len, 5, 160), 0);
	assert_string_equal(buf, "Signal=5\r\nDuration=160\r\n");
	assert_int_equal(dtmf_info_relay_build(buf, 10, &len, 5, 160), ENOSPC);
	assert_int_equal(dtmf_info_relay_build(buf, sizeof(buf), &len, 17, 160), EINVAL);
	assert_int_equal(dtmf_info_dtmf_build(buf, 1, &len, 5), ENOSPC);
}

static void test_info_parse_variants(void **state)
{
	int ev = -7;
	uint32_t ms = 7;

	(void)state;
	assert_int_equal(dtmf_info_relay_parse(PL("signal = #\nduration= 250\n"), &ev, &ms), 0);
	assert_int_equal(ev, 11);
	assert_int_equal(ms, 250);
	assert_int_equal(dtmf_info_relay_parse(PL("Signal=10\r\n"), &ev, &ms), 0);
	assert_int_equal(ev, 10);
	assert_int_equal(ms, 0);
	assert_int_equal(dtmf_info_relay_parse(PL("X-Foo=bar\r\nSignal=d\r\n\r\n"), &ev, &ms), 0);
	assert_int_equal(ev, 15);
	ev = -7;
	ms = 7;
	static const char *const bad[] = {
	    "",
	    "Duration=160\r\n",
	    "Signal=\r\n",
	    "Signal=55\r\n",
	    "Signal=17\r\n",
	    "Signal=5\r\nDuration=abc\r\n",
	    "Signal=5\r\nDuration=99999999\r\n",
	    "Signal=5\r\nSignal=6\r\n",
	    "Signal 5\r\n",
	    "Signal=E\r\n",
	    "Signal=5\r\nDuration=100\r\nDuration=200\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(dtmf_info_relay_parse(pl_make(bad[i], strlen(bad[i])), &ev, &ms),
		                 EBADMSG);
	assert_int_equal(dtmf_info_relay_parse(pl_make(NULL, 0), &ev, &ms), EBADMSG);
	assert_int_equal(ev, -7); /* outputs untouched on error */
	assert_int_equal(ms, 7);
	assert_int_equal(dtmf_info_dtmf_parse(PL(" 7\r\n"), &ev), 0);
	assert_int_equal(ev, 7);
	assert_int_equal(dtmf_info_dtmf_parse(PL("77"), &ev), EBADMSG);
	assert_int_equal(dtmf_info_dtmf_parse(PL(""), &ev), EBADMSG);
	assert_int_equal(dtmf_info_dtmf_parse(PL("x"), &ev), EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_event_chars),
	    cmocka_unit_test(test_gen_levels_and_twist),
	    cmocka_unit_test(test_gen_roundtrip_all_digits),
	    cmocka_unit_test(test_gen_min_timing_and_queue),
	    cmocka_unit_test(test_gen_open_event_and_cap),
	    cmocka_unit_test(test_rx_to_generator),
	    cmocka_unit_test(test_tx_sequence_from_audio),
	    cmocka_unit_test(test_tx_onsets_and_lengths),
	    cmocka_unit_test(test_tx_long_event_and_overlap),
	    cmocka_unit_test(test_det_quiet_gate),
	    cmocka_unit_test(test_det_talk_off),
	    cmocka_unit_test(test_det_talk_off_recording),
	    cmocka_unit_test(test_info_roundtrip),
	    cmocka_unit_test(test_info_parse_variants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
