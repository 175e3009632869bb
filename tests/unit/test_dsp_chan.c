/*
 * Unit tests for media/dsp dsp_chan, one channel's DSP wired together, against
 * a simulated phone (RFC 4733 sender/receiver) and a simulated PSTN line
 * (spandsp detector and generator, a 20 ms / 6 dB echo path): digits both
 * ways, SIP INFO digits, DTMF with echo and talk on the line, the echo of
 * our own tones, and the fax tone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

static uint32_t rng = 1;

static double urand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (double)(rng >> 8) / 8388608.0 - 1.0;
}

/* Digits heard by a simulated party, from detector or receiver callbacks. */
struct heard {
	char s[64];
	int n;
	bool on;
};

static void heard_add(struct heard *h, int event)
{
	if (h->n < (int)sizeof(h->s) - 1)
		h->s[h->n++] = (char)dsp_event_to_char(event);
}

static void pstn_det_h(int event, bool on, uint8_t volume, void *arg)
{
	(void)volume;
	if (on)
		heard_add(arg, event);
}

static void phone_rx_h(enum te_rx_act act, int event, uint32_t duration, void *arg)
{
	(void)duration;
	if (act == TE_RX_START)
		heard_add(arg, event);
}

struct sig {
	struct heard digits; /* DSP_CHAN_DIGIT_START */
	int stops, flash, fax;
};

static void chan_h(enum dsp_chan_ev ev, int event, uint32_t duration, void *arg)
{
	struct sig *s = arg;

	switch (ev) {
	case DSP_CHAN_DIGIT_START:
		heard_add(&s->digits, event);
		break;
	case DSP_CHAN_DIGIT_STOP:
		assert_true(duration >= DSP_MS(20));
		s->stops++;
		break;
	case DSP_CHAN_FLASH:
		s->flash++;
		break;
	case DSP_CHAN_FAX_TONE:
		s->fax++;
		break;
	}
}

/*
 * The whole loop for nblocks ticks. The phone presses `phone_digits` (100 ms
 * each, 100 ms apart, from block 10) as RFC 4733 and talks (speech-like noise)
 * when `talk`; the PSTN presses `pstn_digits` in-band from block 20 and echoes
 * what we write (20 ms, -6 dB) when `echo`.
 */
struct world {
	struct dsp_chan c;
	struct sig sig;
	struct te_tx phone_tx;
	struct te_rx phone_rx;
	struct heard phone_heard;
	struct dtmf_gen pstn_gen;
	struct dtmf_det pstn_det;
	struct heard pstn_heard;
	int16_t echo_hist[4 * DSP_BLOCK];
	unsigned echo_delay; /* blocks: 1 (20 ms) by default, up to 3 */
	unsigned leaked;     /* PSTN tone samples in unmuted RTP audio */
};

static void world_init(struct world *w, const struct dsp_chan_cfg *cfg)
{
	memset(w, 0, sizeof(*w));
	assert_int_equal(dsp_chan_init(&w->c, cfg, chan_h, &w->sig), 0);
	w->echo_delay = 1;
	te_tx_init(&w->phone_tx);
	te_rx_init(&w->phone_rx, phone_rx_h, &w->phone_heard);
	assert_int_equal(dtmf_gen_init(&w->pstn_gen, NULL), 0);
	dtmf_det_init(&w->pstn_det, pstn_det_h, &w->pstn_heard);
	rng = 11;
}

static void world_release(struct world *w)
{
	dsp_chan_release(&w->c);
	dtmf_det_release(&w->pstn_det);
}

static void world_run(struct world *w, unsigned nblocks, const char *phone_digits,
                      const char *pstn_digits, bool talk, bool echo)
{
	uint32_t ts = 160000;
	double ar1 = 0, ar2 = 0;

	for (unsigned b = 0; b < nblocks; b++, ts += DSP_BLOCK) {
		int16_t blk[DSP_BLOCK], rd[DSP_BLOCK], out[DSP_BLOCK], tone[DSP_BLOCK] = {0};
		struct te_pkt p[TE_TX_MAXPKT];
		unsigned k;

		/* Phone: keys as RFC 4733, 5 blocks on, 5 off. */
		if (phone_digits && b >= 10 && (b - 10) / 10 < strlen(phone_digits)) {
			unsigned i = (b - 10) / 10, ph = (b - 10) % 10;

			if (ph == 0)
				te_tx_start(&w->phone_tx, dsp_event_from_char(phone_digits[i]), 10);
			else if (ph == 5)
				te_tx_stop(&w->phone_tx);
		}
		k = te_tx_tick(&w->phone_tx, ts, p);
		for (unsigned i = 0; i < k; i++)
			assert_int_equal(
			    dsp_chan_te_packet(&w->c, p[i].payload, 4, p[i].ts, p[i].marker), 0);
		/* Phone audio towards the PSTN. */
		for (int i = 0; i < DSP_BLOCK; i++) {
			double y = urand() * 6000.0 + 1.6 * ar1 - 0.8 * ar2;

			ar2 = ar1;
			ar1 = y;
			blk[i] = talk ? (int16_t)(y * 0.3) : 0;
		}
		dsp_chan_to_pstn(&w->c, blk);
		dtmf_det_block(&w->pstn_det, blk, out); /* the PSTN party listens */
		/* PSTN: echo of what we wrote, plus its own keys. */
		memcpy(w->echo_hist + w->echo_delay * DSP_BLOCK, blk, sizeof(blk));
		if (pstn_digits && b == 20)
			for (const char *d = pstn_digits; *d; d++)
				assert_int_equal(
				    dtmf_gen_digit(&w->pstn_gen, dsp_event_from_char(*d), 800), 0);
		dtmf_gen_block(&w->pstn_gen, tone, DSP_BLOCK);
		for (int i = 0; i < DSP_BLOCK; i++) {
			double v = (echo ? 0.5 * w->echo_hist[i] : 0.0) + tone[i] + urand() * 20.0;

			rd[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		}
		memmove(w->echo_hist, w->echo_hist + DSP_BLOCK,
		        w->echo_delay * DSP_BLOCK * sizeof(int16_t));
		bool mute = dsp_chan_from_pstn(&w->c, rd, ts, out, p, &k);

		(void)mute;
		for (unsigned i = 0; i < k; i++)
			assert_int_equal(
			    te_rx_packet(&w->phone_rx, p[i].payload, 4, p[i].ts, p[i].marker), 0);
		te_rx_tick(&w->phone_rx, DSP_BLOCK);
	}
}

static void test_phone_to_pstn(void **state)
{
	static struct world w;

	(void)state;
	world_init(&w, NULL);
	world_run(&w, 120, "159#*0D", NULL, false, false);
	printf("phone -> PSTN: sent \"159#*0D\", the PSTN heard \"%s\"\n", w.pstn_heard.s);
	assert_string_equal(w.pstn_heard.s, "159#*0D");
	assert_string_equal(w.phone_heard.s, ""); /* nothing came back */
	assert_int_equal(w.sig.digits.n, 0);
	/* SIP INFO digits, and a flash event for signalling. */
	assert_int_equal(dsp_chan_digit(&w.c, 11, 0), 0);
	assert_int_equal(dsp_chan_digit(&w.c, 4, 250), 0);
	assert_int_equal(dsp_chan_digit(&w.c, DSP_EV_FLASH, 0), EINVAL);
	assert_int_equal(dsp_chan_digit(&w.c, 4, DTMF_INFO_MAX_MS + 1), EINVAL);
	uint8_t flash[4] = {16, 0x8a, 0x03, 0x20};

	assert_int_equal(dsp_chan_te_packet(&w.c, flash, 4, 999999, true), 0);
	world_run(&w, 40, NULL, NULL, false, false);
	assert_string_equal(w.pstn_heard.s, "159#*0D#4");
	assert_int_equal(w.sig.flash, 1);
	world_release(&w);
}

static void test_pstn_to_phone(void **state)
{
	static struct world w;

	(void)state;
	world_init(&w, NULL);
	world_run(&w, 150, NULL, "2468ABC", false, false);
	printf("PSTN -> phone: pressed \"2468ABC\", the phone got \"%s\" over RFC 4733\n",
	       w.phone_heard.s);
	assert_string_equal(w.phone_heard.s, "2468ABC");
	assert_string_equal(w.sig.digits.s, "2468ABC");
	assert_int_equal(w.sig.stops, 7);
	world_release(&w);
}

/* Both ways at once, the phone talking, the line echoing: nothing lost, nothing doubled. */
static void test_both_ways_with_echo_and_talk(void **state)
{
	static struct world w;

	(void)state;
	world_init(&w, NULL);
	world_run(&w, 150, NULL, NULL, true, true); /* 3 s of talk: the canceller converges */
	world_run(&w, 150, "7319", "2580", true, true);
	printf("with echo and talk: PSTN heard \"%s\", phone got \"%s\", signalling \"%s\"\n",
	       w.pstn_heard.s, w.phone_heard.s, w.sig.digits.s);
	assert_string_equal(w.pstn_heard.s, "7319");
	/* Our own tones echoed back must not be taken for the PSTN's digits. */
	assert_string_equal(w.phone_heard.s, "2580");
	assert_string_equal(w.sig.digits.s, "2580");
	assert_int_equal(w.sig.fax, 0);
	world_release(&w);
}

/*
 * The phone keys before it ever talked: the canceller has not converged, so
 * our own tones come back through the hybrid at -6 dB. They must not be sent
 * back to the phone as its digits; with cancelling off as well.
 */
static void test_own_tone_echo_unconverged(void **state)
{
	static struct world w;
	struct dsp_chan_cfg off = {.ec_off = true};

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		world_init(&w, pass ? &off : NULL);
		world_run(&w, 120, "123456", NULL, false, true);
		printf("own-tone echo (%s): PSTN heard \"%s\", phone got back \"%s\"\n",
		       pass ? "no EC" : "EC unconverged", w.pstn_heard.s, w.phone_heard.s);
		assert_string_equal(w.pstn_heard.s, "123456");
		assert_string_equal(w.phone_heard.s, "");
		assert_int_equal(w.sig.digits.n, 0);
		/* ... while a PSTN digit right after them still gets through. */
		world_run(&w, 80, NULL, "7", false, true);
		assert_string_equal(w.phone_heard.s, "7");
		world_release(&w);
	}
}

/* SIP INFO digits queued back to back (40 ms tone, 40 ms pause), echo 60 ms late. */
static void test_own_tone_echo_queued(void **state)
{
	static struct world w;

	(void)state;
	world_init(&w, NULL);
	w.echo_delay = 3;
	for (const char *d = "3141592"; *d; d++)
		assert_int_equal(dsp_chan_digit(&w.c, dsp_event_from_char(*d), 40), 0);
	world_run(&w, 60, NULL, NULL, false, true);
	printf("queued INFO digits, echo 60 ms: PSTN heard \"%s\", phone got back \"%s\", "
	       "%u swallowed as own echo\n",
	       w.pstn_heard.s, w.phone_heard.s, w.c.stats.own_echo);
	assert_string_equal(w.pstn_heard.s, "3141592");
	assert_string_equal(w.phone_heard.s, "");
	world_release(&w);
}

static void test_fax_tone(void **state)
{
	static struct world w;
	struct te_pkt p[TE_TX_MAXPKT];
	unsigned k;

	(void)state;
	world_init(&w, NULL);
	for (unsigned b = 0; b < 100; b++) {
		int16_t blk[DSP_BLOCK] = {0}, rd[DSP_BLOCK], out[DSP_BLOCK];

		dsp_chan_to_pstn(&w.c, blk);
		for (int i = 0; i < DSP_BLOCK; i++)
			rd[i] = (int16_t)lrint(
			    6000.0 * sin(2.0 * M_PI * 2100.0 * (b * DSP_BLOCK + i) / DSP_RATE));
		dsp_chan_from_pstn(&w.c, rd, b * DSP_BLOCK, out, p, &k);
	}
	assert_int_equal(w.sig.fax, 1);
	assert_false(ec_enabled(w.c.ec));
	/* Modem mode: DTMF-like audio passes untouched, one block late, never muted. */
	unsigned muted = 0, same = 0;
	int16_t prev[DSP_BLOCK] = {0};

	assert_int_equal(dtmf_gen_digit(&w.pstn_gen, 5, 4000), 0);
	for (unsigned b = 0; b < 40; b++) {
		int16_t blk[DSP_BLOCK] = {0}, rd[DSP_BLOCK] = {0}, out[DSP_BLOCK];

		dsp_chan_to_pstn(&w.c, blk);
		dtmf_gen_block(&w.pstn_gen, rd, DSP_BLOCK);
		muted += dsp_chan_from_pstn(&w.c, rd, b * DSP_BLOCK, out, p, &k);
		assert_int_equal(k, 0);
		same += b > 0 && memcmp(out, prev, sizeof(out)) == 0;
		memcpy(prev, rd, sizeof(prev));
	}
	assert_int_equal(muted, 0);
	assert_int_equal(same, 39);
	assert_int_equal(w.sig.digits.n, 0);
	world_release(&w);

	struct dsp_chan_cfg cfg = {.ec_off = true, .det_lookahead = 2};

	world_init(&w, &cfg);
	world_run(&w, 100, NULL, "9", false, false);
	assert_string_equal(w.phone_heard.s, "9");
	world_release(&w);
	cfg.det_lookahead = 3;
	assert_int_equal(dsp_chan_init(&w.c, &cfg, NULL, NULL), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_phone_to_pstn),
	    cmocka_unit_test(test_pstn_to_phone),
	    cmocka_unit_test(test_both_ways_with_echo_and_talk),
	    cmocka_unit_test(test_own_tone_echo_unconverged),
	    cmocka_unit_test(test_own_tone_echo_queued),
	    cmocka_unit_test(test_fax_tone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
