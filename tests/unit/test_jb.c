/* Unit tests for media/jb: a simulated sender and network against the 20 ms tick,
 * one test per disturbance. Payloads carry the sender's frame number, so the
 * tests check exactly what was played, in which order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/codec/codec.h"
#include "media/jb/jb.h"

/* Allocation counting for the "nothing allocates per packet" tests: in the
 * plain build every malloc/calloc/realloc of the process goes through here to
 * glibc. ASan has its own allocator, so there the count stays 0 and those
 * tests check nothing (they say so). */
#if !defined(__SANITIZE_ADDRESS__)
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
static unsigned long n_alloc;
void *malloc(size_t n)
{
	n_alloc++;
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
	n_alloc++;
	return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
	n_alloc++;
	return __libc_realloc(p, n);
}
#define ALLOCS() n_alloc
#else
#define ALLOCS() 0ul
#endif

struct pk {
	double at; /* arrival, in ticks */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	uint32_t id; /* frame number at the sender */
};

struct run {
	unsigned frames, conceal, empty;
	uint32_t last_id;
	bool any;
	bool in_order; /* ids strictly increasing */
	unsigned max_level, min_level_after;
};

static int cmp_at(const void *a, const void *b)
{
	const struct pk *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A steady sender: frame k sent at k * period ticks, delayed by `delay`. */
static struct pk *stream(unsigned n, double period, double delay, uint32_t ssrc, uint16_t seq0,
                         uint32_t ts0)
{
	struct pk *p = calloc(n, sizeof(*p));

	assert_non_null(p);
	for (unsigned k = 0; k < n; k++) {
		p[k].at = k * period + delay;
		p[k].ssrc = ssrc;
		p[k].seq = (uint16_t)(seq0 + k);
		p[k].ts = ts0 + k * JB_FRAME_TS;
		p[k].id = k;
	}
	return p;
}

static void run_sim(struct jb *jb, struct pk *p, unsigned n, unsigned ticks, struct run *r)
{
	unsigned i = 0;

	qsort(p, n, sizeof(*p), cmp_at);
	memset(r, 0, sizeof(*r));
	r->in_order = true;
	r->min_level_after = ~0u;
	for (unsigned t = 0; t < ticks; t++) {
		for (; i < n && p[i].at <= t; i++) {
			uint8_t pl[160];
			memset(pl, 0, sizeof(pl));
			memcpy(pl, &p[i].id, sizeof(p[i].id));
			(void)jb_put(jb, p[i].ssrc, p[i].seq, p[i].ts, pl, sizeof(pl));
		}
		const uint8_t *d;
		size_t len;
		switch (jb_get(jb, &d, &len)) {
		case JB_FRAME: {
			uint32_t id;
			assert_int_equal(len, 160);
			memcpy(&id, d, sizeof(id));
			if (r->any && id <= r->last_id)
				r->in_order = false;
			r->any = true;
			r->last_id = id;
			r->frames++;
			break;
		}
		case JB_CONCEAL:
			r->conceal++;
			break;
		default:
			r->empty++;
			break;
		}
		if (jb_stats(jb)->level > r->max_level)
			r->max_level = jb_stats(jb)->level;
		if (t > ticks / 10 && jb_stats(jb)->level < r->min_level_after)
			r->min_level_after = jb_stats(jb)->level;
	}
}

static struct jb jb; /* large: keep it off the stack */

static void init_jb(uint32_t min_ms, uint32_t max_ms)
{
	struct jb_cfg cfg = {.min_ms = min_ms, .max_ms = max_ms};

	assert_int_equal(jb_init(&jb, &cfg), 0);
}

static void test_config(void **state)
{
	struct jb_cfg bad = {.min_ms = 200, .max_ms = 100}, big = {.min_ms = 20, .max_ms = 5000};

	(void)state;
	assert_int_equal(jb_init(&jb, &bad), EINVAL);
	assert_int_equal(jb_init(&jb, &big), EINVAL);
	big.max_ms = 1080;
	assert_int_equal(jb_init(&jb, &big), 0);
	big.max_ms = 1100;
	assert_int_equal(jb_init(&jb, &big), EINVAL);
	assert_int_equal(jb_init(&jb, NULL), 0);
	assert_int_equal(jb_stats(&jb)->target, 2); /* 40 ms default */
	const uint8_t *d;
	size_t len;
	assert_int_equal(jb_get(&jb, &d, &len), JB_EMPTY);
	static uint8_t huge[JB_SPAN_MAX + JB_GRAIN];
	assert_int_equal(jb_put(&jb, 1, 1, 0, huge, sizeof(huge)), E2BIG);
	assert_int_equal(jb_put(&jb, 1, 1, 0, huge, 161), EINVAL); /* not 10 ms steps */
	assert_int_equal(jb_put(&jb, 1, 1, 0, huge, 0), EINVAL);
	struct jb_cfg whole = {.whole_frames = true};
	assert_int_equal(jb_init(&jb, &whole), 0);
	assert_int_equal(jb_put(&jb, 1, 1, 0, huge, JB_PAYLOAD_MAX + 1), E2BIG);
	assert_int_equal(jb_put(&jb, 1, 1, 0, huge, 33), 0); /* opaque frames: any size */
}

static void test_in_order(void **state)
{
	struct pk *p = stream(500, 1, 0.5, 0x1234, 65000, 0xfffff000u); /* seq and ts wrap */
	struct run r;

	(void)state;
	init_jb(60, 200);
	run_sim(&jb, p, 500, 500, &r);
	/* 3 frames of delay, then every frame once, in order, nothing concealed */
	assert_true(r.in_order);
	assert_int_equal(r.conceal, 0);
	assert_int_equal(r.empty, 1 + 3); /* before the first packet, then 60 ms */
	assert_int_equal(r.frames, 500 - 4);
	assert_int_equal(jb_stats(&jb)->late, 0);
	assert_int_equal(jb_stats(&jb)->drop + jb_stats(&jb)->insert, 0);
	free(p);
}

static void test_reorder(void **state)
{
	struct pk *p = stream(600, 1, 0.5, 7, 100, 5000);
	struct run r;

	(void)state;
	/* swap every 5th pair, and delay every 50th packet by 1.5 frames */
	for (unsigned k = 10; k + 1 < 600; k += 5) {
		double a = p[k].at;
		p[k].at = p[k + 1].at;
		p[k + 1].at = a;
	}
	for (unsigned k = 20; k < 600; k += 50)
		p[k].at += 1.5;
	init_jb(60, 200);
	run_sim(&jb, p, 600, 600, &r);
	assert_true(r.in_order);
	assert_int_equal(r.conceal, 0);
	assert_int_equal(jb_stats(&jb)->late, 0);
	assert_int_equal(r.frames + r.empty, 600);
	free(p);
}

static void test_duplicates(void **state)
{
	struct pk *p = stream(400, 1, 0.5, 7, 100, 5000);
	struct pk *all = calloc(600, sizeof(*all));
	unsigned n = 400;
	struct run r;

	(void)state;
	assert_non_null(all);
	memcpy(all, p, 400 * sizeof(*p));
	/* every 4th packet twice: once right behind, once after it has been played */
	for (unsigned k = 8; k < 390; k += 4) {
		all[n] = p[k];
		all[n++].at += 0.1;
		all[n] = p[k];
		all[n++].at += 6;
	}
	init_jb(40, 200);
	run_sim(&jb, all, n, 400, &r);
	assert_true(r.in_order);
	assert_int_equal(r.conceal, 0);
	assert_int_equal(jb_stats(&jb)->dup, n - 400);
	assert_int_equal(jb_stats(&jb)->late, 0);
	assert_int_equal(r.frames + r.empty, 400);
	free(p);
	free(all);
}

static void test_loss(void **state)
{
	struct pk *p = stream(300, 1, 0.5, 7, 100, 5000);
	struct run r;

	(void)state;
	p[100].at = 1e9; /* never arrives (beyond the run) */
	p[150].at = 1e9;
	init_jb(40, 200);
	run_sim(&jb, p, 300, 300, &r);
	assert_true(r.in_order);
	assert_int_equal(r.conceal, 2);
	assert_int_equal(jb_stats(&jb)->concealed, 2);
	assert_int_equal(r.empty, 3);
	assert_int_equal(r.frames, 300 - 3 - 2);
	free(p);
}

static void test_burst_loss(void **state)
{
	struct pk *p = stream(300, 1, 0.5, 7, 100, 5000);
	struct run r;

	(void)state;
	for (unsigned k = 100; k < 108; k++)
		p[k].at = 1e9;
	init_jb(40, 200);
	run_sim(&jb, p, 300, 300, &r);
	assert_true(r.in_order);
	/* 8 concealed frames; the stream goes on with no resync and no late drop */
	assert_int_equal(r.conceal, 8);
	assert_int_equal(jb_stats(&jb)->late, 0);
	assert_int_equal(jb_stats(&jb)->resyncs, 0);
	assert_int_equal(r.empty, 3);
	assert_int_equal(r.frames, 300 - 3 - 8);
	free(p);
}

static void test_long_gap_goes_quiet(void **state)
{
	struct pk *p = stream(300, 1, 0.5, 7, 100, 5000);
	struct run r;

	(void)state;
	/* 1 s with nothing (sender stopped), then the stream resumes */
	for (unsigned k = 100; k < 300; k++)
		p[k].at += 50;
	init_jb(40, 200);
	run_sim(&jb, p, 300, 400, &r);
	assert_true(r.in_order);
	/* concealed for a while, then quiet: at the gap and again when the stream ends */
	assert_int_equal(r.conceal, 2 * JB_CONCEAL_MAX);
	assert_int_equal(r.frames, 300);
	assert_int_equal(jb_stats(&jb)->resyncs, 0);
	free(p);
}

static void test_ts_jump(void **state)
{
	struct pk *p = stream(400, 1, 0.5, 7, 100, 5000);
	struct run r;

	(void)state;
	for (unsigned k = 150; k < 400; k++)
		p[k].ts += 12345678; /* forward, off the 160 grid */
	for (unsigned k = 300; k < 400; k++)
		p[k].ts -= 40000000; /* and backwards */
	init_jb(40, 200);
	run_sim(&jb, p, 400, 400, &r);
	assert_true(r.in_order);
	assert_int_equal(jb_stats(&jb)->jumps, 2);
	assert_int_equal(r.conceal, 0);
	assert_int_equal(jb_stats(&jb)->late, 0);
	assert_int_equal(r.empty, 3);
	assert_int_equal(r.frames, 400 - 3);
	free(p);
}

static void test_ssrc_change(void **state)
{
	struct pk *p = stream(400, 1, 0.5, 7, 100, 5000);
	struct run r;

	(void)state;
	for (unsigned k = 200; k < 400; k++) {
		p[k].ssrc = 99;
		p[k].seq = (uint16_t)(p[k].seq + 30000);
		p[k].ts += 777777;
	}
	init_jb(40, 200);
	run_sim(&jb, p, 400, 400, &r);
	assert_int_equal(jb_stats(&jb)->resets, 1);
	assert_int_equal(jb_stats(&jb)->late, 0);
	/* the new stream is primed afresh: at most the target delay of silence/conceal */
	assert_true(r.frames >= 400 - 2 - 2 - 2);
	assert_true(r.conceal + r.empty <= 6);
	assert_true(r.in_order);
	free(p);
}

/* Sender clock off by ppm parts per million against the tick, 10 minutes, with jitter. */
static void drift(long ppm)
{
	const unsigned ticks = 10 * 60 * 50;
	double period = 1.0 / (1.0 + ppm / 1e6);
	unsigned n = (unsigned)(ticks / period);
	struct pk *p = stream(n, period, 0.3, 42, 1, 0);
	struct run r;

	srand(1);
	for (unsigned k = 0; k < n; k++)
		p[k].at += (rand() % 100) / 100.0; /* up to one frame of jitter */
	init_jb(40, 200);
	run_sim(&jb, p, n, ticks, &r);
	const struct jb_stats *st = jb_stats(&jb);
	/* about |ppm| * ticks / 1e6 frames adjusted, in the right direction */
	double need = fabs((double)ppm) * ticks / 1e6;
	uint64_t adj = ppm > 0 ? st->drop : st->insert;
	uint64_t wrong = ppm > 0 ? st->insert : st->drop;
	print_message(
	    "drift %+ld ppm: drop %lu insert %lu late %lu conceal %u level %u..%u target %u\n", ppm,
	    (unsigned long)st->drop, (unsigned long)st->insert, (unsigned long)st->late, r.conceal,
	    r.min_level_after, r.max_level, st->target);
	assert_true(adj >= need * 0.9 && adj <= need * 1.1 + 3);
	assert_true(wrong <= 3);
	assert_true(r.in_order);
	/* the level stays within the configured bounds (40..200 ms) all along */
	assert_true(r.max_level <= 200 / 20);
	assert_true(r.min_level_after >= 1);
	assert_true(st->late <= 2);
	assert_int_equal(st->resyncs, 0);
	free(p);
}

static void test_drift_fast(void **state)
{
	(void)state;
	drift(5000);
}

static void test_drift_slow(void **state)
{
	(void)state;
	drift(-5000);
}

static void test_adapts_to_jitter(void **state)
{
	const unsigned n = 3000;
	struct pk *p = stream(n, 1, 0.5, 5, 1, 0);
	struct run r;

	(void)state;
	srand(2);
	for (unsigned k = 0; k < n; k++)
		p[k].at += rand() % 5; /* 0..80 ms of jitter */
	init_jb(40, 300);
	run_sim(&jb, p, n, n, &r);
	const struct jb_stats *st = jb_stats(&jb);
	print_message("jitter: target %u jitter %u late %lu conceal %u\n", st->target, st->jitter,
	              (unsigned long)st->late, r.conceal);
	assert_true(st->target >= 4 && st->target <= 7);
	/* losses only while it learns: under 1% */
	assert_true(st->late < n / 100);
	assert_true(r.in_order);
	free(p);
}

static void test_target_capped_at_max(void **state)
{
	const unsigned n = 2000;
	struct pk *p = stream(n, 1, 0.5, 5, 1, 0);
	struct run r;

	(void)state;
	srand(3);
	for (unsigned k = 0; k < n; k++)
		p[k].at += rand() % 12; /* up to 220 ms of jitter, more than max allows */
	init_jb(40, 100);
	run_sim(&jb, p, n, n, &r);
	const struct jb_stats *st = jb_stats(&jb);
	print_message("capped: target %u jitter %u late %lu resyncs %lu drop %lu level max %u\n",
	              st->target, st->jitter, (unsigned long)st->late, (unsigned long)st->resyncs,
	              (unsigned long)st->drop, r.max_level);
	assert_int_equal(st->target, 100 / 20);
	assert_true(st->jitter > 5);
	assert_true(st->late > 0); /* the price of the cap: late packets are lost */
	assert_true(r.in_order);
	free(p);
}

/*
 * Packets of other lengths than 20 ms: a byte stream where sample n is n % 251,
 * sent as packets of `grains` x 10 ms; lose packet `lose` (or none: -1), swap
 * packet pairs every `swap_every` (0: never). Checks that every frame played
 * continues the stream exactly where the timeline says.
 */
static void ptime_run(unsigned grains, int lose, unsigned swap_every, unsigned *frames,
                      unsigned *conceal)
{
	const unsigned span = grains * JB_GRAIN, npk = 400 * 2 / grains;
	struct pk *p = calloc(npk, sizeof(*p));
	unsigned i = 0;
	bool synced = false;
	uint32_t expect = 0;

	assert_non_null(p);
	for (unsigned k = 0; k < npk; k++) {
		p[k].at = k * grains / 2.0 + 0.3;
		p[k].ssrc = 1;
		p[k].seq = (uint16_t)(500 + k);
		p[k].ts = 7000 + k * span;
		p[k].id = k;
		if ((int)k == lose)
			p[k].at = 1e9;
	}
	for (unsigned k = 10; swap_every && k + 1 < npk; k += swap_every) {
		double a = p[k].at;
		p[k].at = p[k + 1].at + 0.1;
		p[k + 1].at = a;
	}
	qsort(p, npk, sizeof(*p), cmp_at);
	init_jb(60, 200);
	*frames = *conceal = 0;
	for (unsigned t = 0; t < 400; t++) {
		uint8_t buf[JB_SPAN_MAX];
		for (; i < npk && p[i].at <= t; i++) {
			for (unsigned b = 0; b < span; b++)
				buf[b] = (uint8_t)((p[i].id * span + b) % 251);
			assert_true(jb_put(&jb, 1, p[i].seq, p[i].ts, buf, span) == 0);
		}
		const uint8_t *d;
		size_t len;
		uint64_t ins = jb_stats(&jb)->insert, drop = jb_stats(&jb)->drop;
		enum jb_verdict v = jb_get(&jb, &d, &len);
		/* the timeline skips a frame on a drop, stands still on an insert */
		if (synced)
			expect += 160 * (uint32_t)(jb_stats(&jb)->drop - drop) -
			          160 * (uint32_t)(jb_stats(&jb)->insert - ins);
		if (v == JB_FRAME) {
			assert_int_equal(len, 160);
			if (!synced) {
				assert_int_equal(d[0], 0); /* the stream's first sample */
				synced = true;
			}
			for (unsigned b = 0; b < 160; b++)
				assert_int_equal(d[b], (expect + b) % 251);
			(*frames)++;
		} else if (v == JB_CONCEAL) {
			(*conceal)++;
		}
		if (synced)
			expect += 160;
	}
	assert_int_equal(jb_stats(&jb)->late, 0);
	*conceal = (unsigned)jb_stats(&jb)->concealed; /* losses, not adaptation inserts */
	free(p);
}

static void test_ptime_10_30_60(void **state)
{
	unsigned f, c;

	(void)state;
	ptime_run(1, -1, 0, &f, &c); /* 10 ms packets: two make a frame */
	assert_int_equal(c, 0);
	assert_true(f >= 390);
	ptime_run(3, -1, 0, &f, &c); /* 30 ms: frames straddle packets */
	assert_int_equal(c, 0);
	assert_true(f >= 390);
	ptime_run(6, -1, 7, &f, &c); /* 60 ms, with reordering */
	assert_int_equal(c, 0);
	assert_true(f >= 385);
	/* a lost 30 ms packet spoils the two frames it touches */
	ptime_run(3, 41, 0, &f, &c);
	assert_int_equal(c, 2);
	ptime_run(3, 40, 0, &f, &c); /* one starting on a frame: one full, one half */
	assert_int_equal(c, 2);
	ptime_run(1, 41, 0, &f, &c); /* a lost 10 ms half */
	assert_int_equal(c, 1);
}

static int dec_calls;
static int fake_dec(void *arg, const uint8_t *p, size_t len, int16_t *pcm)
{
	(void)arg;
	dec_calls++;
	codec_g711_decode(CODEC_ULAW, pcm, p, len);
	return (int)len;
}

static void test_pull_pcm_plc(void **state)
{
	uint8_t pl[160];
	int16_t pcm[JB_SAMPLES];
	double e_frame = 0, e_plc = 0;

	(void)state;
	init_jb(40, 200);
	/* a 500 Hz tone; frame 30 lost */
	for (unsigned k = 0; k < 60; k++) {
		for (unsigned i = 0; i < 160; i++)
			pl[i] = codec_lin2ulaw(
			    (int16_t)(8000 * sin(2 * M_PI * 500 * (k * 160 + i) / 8000.0)));
		if (k != 30)
			assert_int_equal(jb_put(&jb, 3, (uint16_t)k, k * 160, pl, 160), 0);
		enum jb_verdict v = jb_pull_pcm(&jb, fake_dec, NULL, pcm);
		double e = 0;
		for (unsigned i = 0; i < JB_SAMPLES; i++)
			e += (double)pcm[i] * pcm[i];
		if (k < 2) {
			assert_int_equal(v, JB_EMPTY);
			assert_true(e == 0);
		} else if (k == 32) {
			assert_int_equal(v, JB_CONCEAL);
			e_plc = e;
		} else {
			assert_int_equal(v, JB_FRAME);
			e_frame = e;
		}
	}
	assert_int_equal(dec_calls, 57);
	/* the PLC filled in the tone from history, not silence */
	assert_true(e_plc > e_frame * 0.5);
}

/* Nothing allocates after jb_init(): no malloc/calloc/realloc call over a
 * minute of ticks with loss, reorder and PLC (plain build). */
static void test_no_alloc(void **state)
{
	uint8_t pl[160];
	int16_t pcm[JB_SAMPLES];

	(void)state;
	memset(pl, 0x55, sizeof(pl));
	init_jb(40, 200);
	unsigned long before = ALLOCS();
	for (unsigned k = 0; k < 3000; k++) {
		unsigned f = k % 7 == 3 ? k + 1 : k % 7 == 4 ? k - 1 : k; /* swapped pairs */
		if (k % 13 != 5)
			(void)jb_put(&jb, 9, (uint16_t)f, f * 160, pl, sizeof(pl));
		(void)jb_pull_pcm(&jb, codec_ulaw_jb_decode, NULL, pcm);
	}
	assert_int_equal(ALLOCS() - before, 0);
	assert_true(jb_stats(&jb)->concealed > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_reorder),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_loss),
	    cmocka_unit_test(test_burst_loss),
	    cmocka_unit_test(test_long_gap_goes_quiet),
	    cmocka_unit_test(test_ts_jump),
	    cmocka_unit_test(test_ssrc_change),
	    cmocka_unit_test(test_drift_fast),
	    cmocka_unit_test(test_drift_slow),
	    cmocka_unit_test(test_adapts_to_jitter),
	    cmocka_unit_test(test_target_capped_at_max),
	    cmocka_unit_test(test_ptime_10_30_60),
	    cmocka_unit_test(test_pull_pcm_plc),
	    cmocka_unit_test(test_no_alloc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
