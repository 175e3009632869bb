/*
 * Unit tests for media/dsp echo cancelling: speexdsp against a synthetic echo
 * path (20 ms delay, 6 dB loss, line noise), ERLE measured after convergence;
 * the 2100 Hz answer tone (with and without phase reversals, either direction)
 * turns cancelling off for good; other tones and noise do not.
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

#define ECHO_DELAY DSP_BLOCK /* 20 ms */
#define ECHO_GAIN  0.5       /* 6 dB */

static uint32_t rng = 1;

/* Uniform in [-1, 1). */
static double urand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (double)(rng >> 8) / 8388608.0 - 1.0;
}

/* The far-end signal (what we write to the B-channel) and the line. */
struct path {
	int16_t hist[ECHO_DELAY + DSP_BLOCK];
	double ar1, ar2; /* speech-like colouring */
	bool speechlike;
	unsigned n;
};

static void far_block(struct path *p, int16_t out[DSP_BLOCK])
{
	for (int i = 0; i < DSP_BLOCK; i++, p->n++) {
		double x;

		if (p->speechlike) {
			/* Two-pole resonance near 500 Hz and a 3 Hz syllabic envelope. */
			double e = urand() * 6000.0;
			double y = e + 1.6 * p->ar1 - 0.8 * p->ar2;

			p->ar2 = p->ar1;
			p->ar1 = y;
			double env = 0.5 + 0.5 * sin(2.0 * M_PI * 3.0 * p->n / DSP_RATE);

			x = y * 0.35 * env;
		} else {
			x = urand() * 5000.0; /* about -15 dBm0 */
		}
		out[i] = (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
	}
}

/* rec = far delayed by ECHO_DELAY, times ECHO_GAIN, plus line noise (about -60 dBm0). */
static void echo_block(struct path *p, const int16_t play[DSP_BLOCK], int16_t rec[DSP_BLOCK])
{
	memcpy(p->hist + ECHO_DELAY, play, DSP_BLOCK * sizeof(int16_t));
	for (int i = 0; i < DSP_BLOCK; i++)
		rec[i] = (int16_t)lrint(p->hist[i] * ECHO_GAIN + urand() * 30.0);
	memmove(p->hist, p->hist + DSP_BLOCK, ECHO_DELAY * sizeof(int16_t));
}

static double energy(const int16_t *x, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return s;
}

/* Runs seconds of far-end signal; returns ERLE in dB over the last 2 s. */
static double run_erle(bool speechlike, double seconds, double *first_s_erle)
{
	struct ec ec;
	struct path p;
	double ein = 0, eout = 0, ein1 = 0, eout1 = 0;
	unsigned blocks = (unsigned)(seconds * 50);

	memset(&p, 0, sizeof(p));
	p.speechlike = speechlike;
	rng = 7;
	assert_int_equal(ec_init(&ec, NULL), 0);
	for (unsigned b = 0; b < blocks; b++) {
		int16_t play[DSP_BLOCK], rec[DSP_BLOCK], out[DSP_BLOCK];

		far_block(&p, play);
		echo_block(&p, play, rec);
		assert_int_equal(ec_block(&ec, rec, play, out), EC_EV_NONE);
		if (b >= blocks - 100) {
			ein += energy(rec, DSP_BLOCK);
			eout += energy(out, DSP_BLOCK);
		}
		if (b < 50) {
			ein1 += energy(rec, DSP_BLOCK);
			eout1 += energy(out, DSP_BLOCK);
		}
	}
	assert_true(ec_enabled(&ec));
	ec_release(&ec);
	*first_s_erle = 10.0 * log10(ein1 / (eout1 + 1.0));
	return 10.0 * log10(ein / (eout + 1.0));
}

static void test_erle_white_noise(void **state)
{
	double first, erle;

	(void)state;
	erle = run_erle(false, 10.0, &first);
	printf("ERLE white noise: %.1f dB after 8-10 s (first second %.1f dB)\n", erle, first);
	assert_true(erle > 15.0);
}

static void test_erle_speechlike(void **state)
{
	double first, erle;

	(void)state;
	erle = run_erle(true, 10.0, &first);
	printf("ERLE speech-like: %.1f dB after 8-10 s (first second %.1f dB)\n", erle, first);
	assert_true(erle > 15.0);
}

/* Tone of hz at about -12 dBm0; reversal_ms > 0 flips its phase that often. */
struct tone {
	double hz, phase;
	unsigned reversal, n;
};

static void tone_block(struct tone *t, int16_t *x)
{
	for (int i = 0; i < DSP_BLOCK; i++, t->n++) {
		if (t->reversal && t->n && t->n % t->reversal == 0)
			t->phase += M_PI;
		x[i] =
		    (int16_t)lrint(6000.0 * sin(2.0 * M_PI * t->hz * t->n / DSP_RATE + t->phase));
	}
}

/*
 * Converges on noise for 2 s, then a tone of hz in the direction given
 * (play: towards the PSTN; otherwise from it) for 2 s. Returns the block
 * (counted from the tone's start) at which EC_EV_TONE came, or -1.
 */
static int run_tone(double hz, unsigned reversal_ms, bool in_play, const struct ec_cfg *cfg)
{
	struct ec ec;
	struct path p;
	struct tone t = {hz, 0, DSP_MS(reversal_ms), 0};
	int at = -1, events = 0;

	memset(&p, 0, sizeof(p));
	rng = 3;
	assert_int_equal(ec_init(&ec, cfg), 0);
	for (int b = 0; b < 200; b++) {
		int16_t play[DSP_BLOCK], rec[DSP_BLOCK], out[DSP_BLOCK];
		bool tone_on = b >= 100;

		if (tone_on && in_play)
			tone_block(&t, play);
		else
			far_block(&p, play);
		echo_block(&p, play, rec);
		if (tone_on && !in_play)
			tone_block(&t, rec);
		enum ec_event ev = ec_block(&ec, rec, play, out);

		if (ev == EC_EV_TONE) {
			events++;
			at = b - 100;
			assert_true(tone_on);
		}
		if (at >= 0) {
			/* Off for good: the audio passes untouched, also in place. */
			assert_false(ec_enabled(&ec));
			assert_memory_equal(out, rec, sizeof(rec));
			int16_t copy[DSP_BLOCK];

			memcpy(copy, rec, sizeof(copy));
			ec_block(&ec, rec, play, rec);
			assert_memory_equal(copy, rec, sizeof(rec));
		}
	}
	assert_true(events <= 1);
	ec_release(&ec);
	return at;
}

static void test_2100_disables(void **state)
{
	int a, b, c;

	(void)state;
	a = run_tone(2100, 0, true, NULL);    /* CED/ANS from the IP side */
	b = run_tone(2100, 450, false, NULL); /* ANS/PR from the PSTN */
	c = run_tone(2100, 0, false, NULL);
	printf("2100 Hz detected after %d ms (towards PSTN), %d ms (ANS/PR from PSTN), %d ms\n",
	       a * 20, b * 20, c * 20);
	assert_true(a >= 0 && a * 20 <= 1000);
	assert_true(b >= 0 && b * 20 <= 1000);
	assert_true(c >= 0 && c * 20 <= 1000);
}

static void test_other_tones_keep_ec(void **state)
{
	struct ec_cfg off = {64, true};

	(void)state;
	assert_int_equal(run_tone(1000, 0, true, NULL), -1);
	assert_int_equal(run_tone(1800, 0, false, NULL), -1);
	assert_int_equal(run_tone(2100, 0, true, &off), -1); /* detection turned off */
}

static void test_init_args(void **state)
{
	struct ec ec;
	struct ec_cfg c = {4, false};

	(void)state;
	assert_int_equal(ec_init(&ec, &c), EINVAL);
	c.tail_ms = 1000;
	assert_int_equal(ec_init(&ec, &c), EINVAL);
	c.tail_ms = 128;
	assert_int_equal(ec_init(&ec, &c), 0);
	assert_int_equal(ec.tail, 1024);
	ec_disable(&ec);
	assert_false(ec_enabled(&ec));
	ec_release(&ec);
	ec_release(&ec); /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_erle_white_noise), cmocka_unit_test(test_erle_speechlike),
	    cmocka_unit_test(test_2100_disables),    cmocka_unit_test(test_other_tones_keep_ec),
	    cmocka_unit_test(test_init_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
