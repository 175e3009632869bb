/* Unit tests for media/codec: G.711 tables against ITU values and an independent
 * transcription of G.191, A<->u consistency, G.722 tone in -> same tone out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

#include "media/codec/codec.h"

/* ITU-T G.191 g711.c, transcribed separately from the table generator. */
static uint8_t ref_alaw(int x)
{
	int ix = x < 0 ? (~x) >> 4 : x >> 4;

	if (ix > 15) {
		int iexp = 1;
		while (ix > 16 + 15) {
			ix >>= 1;
			iexp++;
		}
		ix -= 16;
		ix += iexp << 4;
	}
	if (x >= 0)
		ix |= 0x80;
	return (uint8_t)(ix ^ 0x55);
}

static uint8_t ref_ulaw(int x)
{
	int absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33;
	int i, segno = 1;

	if (absno > 0x1fff)
		absno = 0x1fff;
	for (i = absno >> 6; i; i >>= 1)
		segno++;
	return (uint8_t)(((8 - segno) << 4) | (15 - ((absno >> segno) & 15)) | (x >= 0 ? 0x80 : 0));
}

static void test_itu_points(void **state)
{
	(void)state;
	/* G.711 Table 2 (u-law): codes 0xFF/0x7F are +0/-0, 0x80/0x00 are +-8031 in
	 * 14-bit units (32124 in 16-bit). Table 1 (A-law): 0xD5/0x55 are +-1 in 12-bit
	 * units (+-8), 0xAA/0x2A are +-4032 in 13-bit units (+-32256). */
	assert_int_equal(codec_ulaw2lin(0xff), 0);
	assert_int_equal(codec_ulaw2lin(0x7f), 0);
	assert_int_equal(codec_ulaw2lin(0x80), 8031 * 4);
	assert_int_equal(codec_ulaw2lin(0x00), -8031 * 4);
	assert_int_equal(codec_alaw2lin(0xd5), 8);
	assert_int_equal(codec_alaw2lin(0x55), -8);
	assert_int_equal(codec_alaw2lin(0xaa), 4032 * 8);
	assert_int_equal(codec_alaw2lin(0x2a), -4032 * 8);
	assert_int_equal(codec_lin2ulaw(0), 0xff);
	assert_int_equal(codec_lin2ulaw(-1), 0x7f);
	assert_int_equal(codec_lin2alaw(0), 0xd5);
	assert_int_equal(codec_lin2alaw(-1), 0x55);
	assert_int_equal(codec_lin2ulaw(32767), 0x80);
	assert_int_equal(codec_lin2ulaw(-32768), 0x00);
	assert_int_equal(codec_lin2alaw(32767), 0xaa);
	assert_int_equal(codec_lin2alaw(-32768), 0x2a);
}

static void test_g711_vs_reference(void **state)
{
	(void)state;
	for (int x = -32768; x <= 32767; x++) {
		assert_int_equal(codec_lin2ulaw((int16_t)x), ref_ulaw(x));
		assert_int_equal(codec_lin2alaw((int16_t)x), ref_alaw(x));
		/* spandsp's A-law encoder also follows G.191 */
		assert_int_equal(codec_lin2alaw((int16_t)x), linear_to_alaw(x));
	}
	for (int c = 0; c < 256; c++) {
		assert_int_equal(codec_ulaw2lin((uint8_t)c), ulaw_to_linear((uint8_t)c));
		assert_int_equal(codec_alaw2lin((uint8_t)c), alaw_to_linear((uint8_t)c));
	}
}

/* Quantisation error stays within half a step: |e| <= (|x| + 132) / 32 for u-law,
 * max(8, |x| / 32) for A-law, over the range that does not clip. */
static void test_g711_round_trip(void **state)
{
	int max_u = 0, max_a = 0, prev_u = -40000, prev_a = -40000;

	(void)state;
	for (int x = -32124; x <= 32124; x++) {
		int du = codec_ulaw2lin(codec_lin2ulaw((int16_t)x));
		int eu = abs(du - x);
		assert_true(eu <= (abs(x) + 132) / 32 + 1);
		assert_true(du >= prev_u); /* monotonic */
		prev_u = du;
		if (eu > max_u)
			max_u = eu;
	}
	for (int x = -32256; x <= 32256; x++) {
		int da = codec_alaw2lin(codec_lin2alaw((int16_t)x));
		int ea = abs(da - x);
		int bound = abs(x) / 32 > 8 ? abs(x) / 32 : 8;
		assert_true(ea <= bound + 1);
		assert_true(da >= prev_a);
		prev_a = da;
		if (ea > max_a)
			max_a = ea;
	}
	/* the largest error is half the top segment's step */
	assert_int_equal(max_u, 512);
	assert_int_equal(max_a, 512);
	/* every code word decodes and re-encodes to itself (except u-law's -0) */
	for (int c = 0; c < 256; c++) {
		if (c != 0x7f)
			assert_int_equal(codec_lin2ulaw(codec_ulaw2lin((uint8_t)c)), c);
		assert_int_equal(codec_lin2alaw(codec_alaw2lin((uint8_t)c)), c);
	}
}

static int seg_step_u(int v)
{
	int m = abs(v) + 132, s = 0;
	while (m >= 256 && s < 7) {
		m >>= 1;
		s++;
	}
	return 8 << s;
}

static void test_transcode(void **state)
{
	uint8_t buf[256], back[256];

	(void)state;
	for (int c = 0; c < 256; c++) {
		uint8_t u = codec_a2u[c], a = codec_u2a[c];
		int la = codec_alaw2lin((uint8_t)c), lu = codec_ulaw2lin(u);
		/* the G.711 tables, as spandsp carries them */
		assert_int_equal(u, alaw_to_ulaw((uint8_t)c));
		assert_int_equal(a, ulaw_to_alaw((uint8_t)c));
		/* same sign, value within one u-law step */
		assert_true((la > 0) == (lu > 0) || lu == 0);
		assert_true(abs(lu - la) <= seg_step_u(la));
		int l2 = codec_ulaw2lin((uint8_t)c), l3 = codec_alaw2lin(a);
		assert_true(abs(l3 - l2) <= 2 * seg_step_u(l2) + 16);
		buf[c] = (uint8_t)c;
	}
	/* block form, in place, and A -> u -> A returns the A-law code (G.711 tables) */
	codec_g711_transcode(CODEC_ALAW, back, buf, 256);
	codec_g711_transcode(CODEC_ULAW, back, back, 256);
	for (int c = 0; c < 256; c++)
		assert_int_equal(back[c], codec_u2a[codec_a2u[c]]);
	unsigned same = 0;
	for (int c = 0; c < 256; c++)
		same += back[c] == c;
	assert_true(same >= 200); /* mostly transparent */
}

static double goertzel(const int16_t *x, size_t n, double f, double fs)
{
	double coeff = 2 * cos(2 * M_PI * f / fs), s1 = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		double s = x[i] + coeff * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / ((double)n * n);
}

static void tone_through_g722(bool eight_k)
{
	const double fs = eight_k ? 8000 : 16000;
	const size_t n = (size_t)fs; /* one second */
	int16_t *in = calloc(n, sizeof(*in)), *out = calloc(n, sizeof(*out));
	uint8_t *code = calloc(n, 1);
	struct codec_g722 c;
	size_t nb = 0, ns = 0, blk = (size_t)(fs / 50); /* 20 ms blocks */

	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(code);
	assert_int_equal(codec_g722_init(&c, eight_k), 0);
	for (size_t i = 0; i < n; i++)
		in[i] = (int16_t)(10000 * sin(2 * M_PI * 1000 * (double)i / fs));
	for (size_t i = 0; i < n; i += blk) {
		size_t b = codec_g722_encode(&c, code + nb, in + i, blk);
		assert_int_equal(b, eight_k ? blk : blk / 2); /* 64 kbit/s: 160 bytes / 20 ms */
		size_t s = codec_g722_decode(&c, out + ns, code + nb, b);
		assert_int_equal(s, blk);
		nb += b;
		ns += s;
	}
	assert_int_equal(ns, n);
	/* skip the codec's start-up, then measure */
	const int16_t *m = out + n / 10;
	size_t mn = n - n / 10;
	double p1k = goertzel(m, mn, 1000, fs), pin = goertzel(in, n, 1000, fs);
	double other[] = {500, 1500, 2000, 3000, 700, 1300};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_true(p1k > 1000 * goertzel(m, mn, other[i], fs)); /* > 30 dB above */
	/* level kept within 1 dB */
	assert_true(p1k > pin * 0.79 && p1k < pin * 1.26);
	free(in);
	free(out);
	free(code);
}

static void test_g722_tone_16k(void **state)
{
	(void)state;
	tone_through_g722(false);
}

static void test_g722_tone_8k(void **state)
{
	(void)state;
	tone_through_g722(true);
}

static void test_jb_adapters(void **state)
{
	uint8_t u[160], a[160];
	int16_t pcm[160];
	struct codec_g722 g;

	(void)state;
	for (int i = 0; i < 160; i++) {
		u[i] = codec_lin2ulaw((int16_t)(i * 100));
		a[i] = codec_lin2alaw((int16_t)(-i * 100));
	}
	assert_int_equal(codec_ulaw_jb_decode(NULL, u, 160, pcm), 160);
	assert_int_equal(pcm[100], codec_ulaw2lin(u[100]));
	assert_int_equal(codec_alaw_jb_decode(NULL, a, 400, pcm), 160); /* clamped */
	assert_int_equal(pcm[7], codec_alaw2lin(a[7]));
	assert_int_equal(codec_g722_init(&g, false), 0);
	assert_int_equal(codec_g722_jb_decode(&g, u, 160, pcm), -1); /* needs 8 kHz */
	assert_int_equal(codec_g722_init(&g, true), 0);
	assert_int_equal(codec_g722_jb_decode(&g, u, 160, pcm), 160);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_itu_points),      cmocka_unit_test(test_g711_vs_reference),
	    cmocka_unit_test(test_g711_round_trip), cmocka_unit_test(test_transcode),
	    cmocka_unit_test(test_g722_tone_16k),   cmocka_unit_test(test_g722_tone_8k),
	    cmocka_unit_test(test_jb_adapters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
