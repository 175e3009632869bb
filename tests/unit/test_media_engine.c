/* Unit tests for media/engine: one worker, channels on a virtual span pair.
 * The test side (this thread) is the signalling loop, the span's clock master
 * and the RTP peer: it puts audio/DTMF on timeslots and RTP on sockets, and
 * checks what comes out the other side, in real time (20 ms ticks). Both spans
 * are opened on the signalling loop; the engine's span (a) gives only its
 * B-channel tick to the worker, so its D-channel (libpri) stays here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pthread.h>
#include <stdatomic.h>
#include <sys/prctl.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/codec/codec.h"
#include "media/dsp/dsp.h"
#include "media/engine/engine.h"
#include "media/rtp/rtp.h"
#include "media/rtp/srtp.h"
#include "tdm/pri/pri.h"
#include "tdm/virtual/virtual.h"

/* Allocation counting on the media thread ("media0"): plain build only (ASan has its
 * own allocator, there the count stays 0 and the test says so). */
static atomic_ulong n_media_alloc;
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
static void count_alloc(void)
{
	char name[16] = "";

	prctl(PR_GET_NAME, name, 0, 0, 0);
	if (!strncmp(name, "media", 5))
		atomic_fetch_add(&n_media_alloc, 1);
}
void *malloc(size_t n)
{
	count_alloc();
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
	count_alloc();
	return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
	count_alloc();
	return __libc_realloc(p, n);
}
#define ALLOC_COUNTED 1
#else
#define ALLOC_COUNTED 0
#endif

#define TE_PT 101
#define NSAMP 4000 /* 0.5 s of samples kept per direction */
#define MAXEV 64

struct fx {
	struct loop *sig;
	struct media_engine *e;
	struct span *a, *b; /* a: the engine's (slave, tick on the worker), b: ours (master) */
	struct media_chan *ch;
	int peer;         /* our RTP socket */
	struct sa eng_sa; /* the engine's RTP address */
	uint32_t ticks;
	/* what the timeslot should carry, per tick: tone, DTMF digit, or idle */
	double ts_freq;
	struct dtmf_gen gen;
	bool gen_on;
	/* what we send as RTP per tick */
	double rtp_freq;
	bool rtp_on;
	uint16_t seq;
	uint32_t rtp_ts;
	double ph_ts, ph_rtp;
	int te_event;         /* >= 0: send telephone-event packets for it */
	struct rtp_srtp srtp; /* the peer's SRTP, when the channel has it */
	unsigned unprotect_fail;
	unsigned te_ticks;
	/* received */
	int16_t tdm_rx[NSAMP];
	unsigned tdm_n;
	int16_t rtp_rx[NSAMP];
	unsigned rtp_n;
	unsigned rtp_pkts, te_pkts, te_ends, rtcp_pkts;
	int te_seen_event;
	dtmf_rx_state_t drx;
	char digits[16];
	unsigned ndigits;
	struct media_ev ev[MAXEV];
	unsigned nev;
	/* PRI on the same spans, on this (signalling) thread */
	struct tpri *tp_a, *tp_b;
	unsigned up_a, up_b, ring_b, answer_a, hangup_a, hangup_b, wrong_thread;
	int cause_a;
	struct tpri_call *call_a;
	pthread_t sig_th;
	unsigned a_ticks; /* span a's tick back on this loop after removal */
};

static void digits_h(void *arg, const char *d, int len)
{
	struct fx *f = arg;

	for (int i = 0; i < len && f->ndigits + 1 < sizeof(f->digits); i++)
		f->digits[f->ndigits++] = d[i];
}

static void ev_h(const struct media_ev *ev, void *arg)
{
	struct fx *f = arg;

	if (f->nev < MAXEV)
		f->ev[f->nev++] = *ev;
	if (ev->type == MEDIA_EV_STOPPED && ev->ch == f->ch)
		f->ch = NULL;
}

static void send_rtp(struct fx *f, uint8_t pt, bool marker, uint32_t ts, const uint8_t *pl,
                     size_t len)
{
	struct rtp_hdr h = {
	    .pt = pt, .marker = marker, .seq = f->seq++, .ts = ts, .ssrc = 0x1234abcd};
	uint8_t buf[256 + RTP_SRTP_TRAILER];
	size_t hl, n;

	assert_int_equal(rtp_hdr_encode(buf, sizeof(buf), &h, &hl), 0);
	memcpy(buf + hl, pl, len);
	n = hl + len;
	if (f->srtp.on)
		assert_int_equal(rtp_srtp_protect(&f->srtp, buf, &n, sizeof(buf)), 0);
	len = n - hl;
	assert_int_equal(sendto(f->peer, buf, hl + len, 0, &f->eng_sa.u.sa, f->eng_sa.len),
	                 (ssize_t)(hl + len));
}

static void tone(double *ph, double freq, int16_t *pcm, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		pcm[i] = (int16_t)(8000.0 * sin(*ph));
		*ph += 2 * M_PI * freq / 8000.0;
	}
}

static void peer_tick(struct fx *f)
{
	int16_t pcm[160];
	uint8_t pl[160];

	if (f->rtp_on) {
		if (f->rtp_freq > 0)
			tone(&f->ph_rtp, f->rtp_freq, pcm, 160);
		else
			memset(pcm, 0, sizeof(pcm));
		codec_g711_encode(CODEC_ULAW, pl, pcm, 160);
		send_rtp(f, 0, f->seq == 0, f->rtp_ts, pl, 160);
	}
	if (f->te_event >= 0) {
		/* 100 ms digit: start (marker), updates, then the end packet three times */
		bool end = f->te_ticks >= 5;
		uint16_t dur = (uint16_t)(160 * (f->te_ticks < 5 ? f->te_ticks + 1 : 5));
		uint8_t te[4] = {(uint8_t)f->te_event, (uint8_t)((end ? 0x80 : 0) | 10),
		                 (uint8_t)(dur >> 8), (uint8_t)dur};

		send_rtp(f, TE_PT, f->te_ticks == 0, 80000, te, 4);
		if (++f->te_ticks >= 8)
			f->te_event = -1;
	}
	f->rtp_ts += 160;
}

static void peer_read(struct fx *f)
{
	uint8_t buf[2048];
	ssize_t n;
	struct rtp_hdr h;

	while ((n = recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		size_t len = (size_t)n;

		if (rtp_is_rtcp(buf, (size_t)n)) {
			f->rtcp_pkts++;
			continue;
		}
		if (f->srtp.on && rtp_srtp_unprotect(&f->srtp, buf, &len)) {
			f->unprotect_fail++;
			continue;
		}
		if (rtp_parse(&h, buf, len))
			continue;
		if (h.pt == 0 && h.payload_len == 160) {
			f->rtp_pkts++;
			if (f->rtp_n + 160 > NSAMP)
				f->rtp_n = 0; /* keep the newest */
			codec_g711_decode(CODEC_ULAW, f->rtp_rx + f->rtp_n, h.payload, 160);
			f->rtp_n += 160;
		} else if (h.pt == TE_PT && h.payload_len == 4) {
			f->te_pkts++;
			f->te_seen_event = h.payload[0];
			if (h.payload[1] & 0x80)
				f->te_ends++;
		}
	}
}

/* Master tick of span b: read what the worker wrote, write the next block. */
static void b_tick(struct span *sp, uint32_t tick, void *arg)
{
	struct fx *f = arg;
	uint8_t blk[SPAN_BLOCK];
	int16_t pcm[160];

	(void)tick;
	f->ticks++;
	assert_int_equal(span_bchan_read(sp, 1, blk), 0);
	codec_g711_decode(CODEC_ALAW, pcm, blk, 160);
	dtmf_rx(&f->drx, pcm, 160);
	if (f->tdm_n + 160 > NSAMP)
		f->tdm_n = 0;
	memcpy(f->tdm_rx + f->tdm_n, pcm, sizeof(pcm));
	f->tdm_n += 160;

	memset(pcm, 0, sizeof(pcm));
	if (f->ts_freq > 0)
		tone(&f->ph_ts, f->ts_freq, pcm, 160);
	if (f->gen_on)
		dtmf_gen_block(&f->gen, pcm, 160);
	codec_g711_encode(CODEC_ALAW, blk, pcm, 160);
	assert_int_equal(span_bchan_write(sp, 1, blk), 0);
	peer_tick(f);
	peer_read(f);
}

static int udp_local(struct sa *sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(sa_set_str(sa, "127.0.0.1", 0), 0);
	assert_int_equal(bind(fd, &sa->u.sa, sa->len), 0);
	sa->len = sizeof(sa->u);
	assert_int_equal(getsockname(fd, &sa->u.sa, &sa->len), 0);
	return fd;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct media_engine_cfg ec = {.workers = 1, .queue_len = 64};
	struct span_conf ca, cb;

	assert_non_null(f);
	f->te_event = -1;
	assert_int_equal(loop_alloc(&f->sig), 0);
	assert_int_equal(media_engine_alloc(&f->e, &ec, f->sig, ev_h, f), 0);
	span_conf_default(&ca, 1, SPAN_E1);
	cb = ca;
	cb.clock_master = true;
	assert_int_equal(span_virtual_alloc(&f->a, &ca, f->sig), 0);
	assert_int_equal(span_virtual_alloc(&f->b, &cb, f->sig), 0);
	assert_int_equal(span_virtual_pair(f->a, f->b), 0);
	span_set_tick_handler(f->b, b_tick, f);
	dtmf_rx_init(&f->drx, digits_h, f);
	assert_int_equal(dtmf_gen_init(&f->gen, NULL), 0);
	assert_int_equal(media_engine_add_span(f->e, 0, f->a), EINVAL); /* not open yet */
	assert_int_equal(span_open(f->a), 0);
	assert_int_equal(span_open(f->b), 0);
	assert_int_equal(media_engine_start(f->e), 0);
	/* Given while the engine runs, open and up: the worker takes the tick. */
	assert_int_equal(media_engine_add_span(f->e, 0, f->a), 0);
	assert_int_equal(media_engine_add_span(f->e, 0, f->a), EINVAL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	f->e = mem_deref(f->e);
	f->tp_a = mem_deref(f->tp_a);
	f->tp_b = mem_deref(f->tp_b);
	f->a = mem_deref(f->a);
	f->b = mem_deref(f->b);
	if (f->peer > 0)
		close(f->peer);
	rtp_srtp_stop(&f->srtp);
	dtmf_rx_release(&f->drx);
	loop_free(f->sig);
	free(f);
	return 0;
}

static void chan_open_p(struct fx *f, uint32_t timeout_ms, struct media_chan_params *extra);

static void chan_open(struct fx *f, uint32_t timeout_ms)
{
	chan_open_p(f, timeout_ms, NULL);
}

static void chan_open_p(struct fx *f, uint32_t timeout_ms, struct media_chan_params *extra)
{
	struct media_chan_params p = {.span = f->a,
	                              .ts = 1,
	                              .rtcp_fd = -1,
	                              .codec = MEDIA_PCMU,
	                              .pt = 0,
	                              .rx_pt = 0,
	                              .te = true,
	                              .te_pt = TE_PT,
	                              .te_rx_pt = TE_PT,
	                              .timeout_ms = timeout_ms,
	                              .latch = true,
	                              .ctx = "test"};
	struct sa peer_sa;

	f->peer = udp_local(&peer_sa);
	p.rtp_fd = udp_local(&f->eng_sa);
	p.remote = peer_sa;
	if (extra) {
		p.srtp = extra->srtp;
		p.tx_key = extra->tx_key;
		p.rx_key = extra->rx_key;
		p.te = extra->te;
		p.dtmf_mode = extra->dtmf_mode;
	}
	assert_int_equal(media_chan_start(&f->ch, f->e, &p), 0);
}

static void run_ticks(struct fx *f, uint32_t n)
{
	uint32_t end = f->ticks + n;
	uint64_t t0 = loop_clock_ms();

	while (f->ticks < end && loop_clock_ms() - t0 < n * 20u + 2000u)
		assert_int_equal(loop_run_once(f->sig, 50), 0);
	assert_true(f->ticks >= end);
}

static const struct media_ev *find_ev(struct fx *f, enum media_ev_type t)
{
	for (unsigned i = 0; i < f->nev; i++)
		if (f->ev[i].type == t)
			return &f->ev[i];
	return NULL;
}

static void stop_chan(struct fx *f, struct media_chan_stats *st)
{
	const struct media_ev *ev;
	uint64_t t0 = loop_clock_ms();

	assert_int_equal(media_chan_stop(f->ch), 0);
	assert_int_equal(media_chan_stop(f->ch), EALREADY);
	while (f->ch && loop_clock_ms() - t0 < 2000)
		assert_int_equal(loop_run_once(f->sig, 50), 0);
	ev = find_ev(f, MEDIA_EV_STOPPED);
	assert_non_null(ev);
	*st = ev->stats;
}

/* Frequency by zero crossings, and RMS, over the last n samples of buf. */
static void measure(const int16_t *buf, unsigned len, unsigned n, double *freq, double *rms)
{
	const int16_t *x = buf + len - n;
	unsigned zc = 0;
	double e = 0;

	for (unsigned i = 0; i < n; i++) {
		e += (double)x[i] * x[i];
		if (i && ((x[i - 1] < 0) != (x[i] < 0)))
			zc++;
	}
	*freq = zc / 2.0 / (n / 8000.0);
	*rms = sqrt(e / n);
}

/* 1 kHz on the timeslot -> G.711 u-law RTP at 1 kHz; 1 kHz RTP -> the timeslot. Stop
 * gives the statistics of both directions. */
static void test_tone_both_ways(void **state)
{
	struct fx *f = *state;
	struct media_chan_stats st;
	double freq, rms;

	chan_open(f, 0);
	f->ts_freq = 1000;
	f->rtp_on = true;
	f->rtp_freq = 1000;
	run_ticks(f, 40);
	assert_true(f->rtp_pkts >= 30);
	assert_true(f->rtp_n >= 800);
	measure(f->rtp_rx, f->rtp_n, 800, &freq, &rms);
	print_message("timeslot -> RTP: %.1f Hz, rms %.0f, %u packets\n", freq, rms, f->rtp_pkts);
	assert_true(fabs(freq - 1000) < 20);
	assert_true(rms > 4000 && rms < 7000); /* 8000 peak: 5657 rms */
	measure(f->tdm_rx, f->tdm_n, 800, &freq, &rms);
	print_message("RTP -> timeslot: %.1f Hz, rms %.0f\n", freq, rms);
	assert_true(fabs(freq - 1000) < 20);
	assert_true(rms > 4000 && rms < 7000);
	stop_chan(f, &st);
	print_message("stats: ticks %u tx %u rx %u jb played %llu concealed %llu lost %d\n",
	              st.ticks, st.rtp_tx, st.rtp_rx, (unsigned long long)st.jb.played,
	              (unsigned long long)st.jb.concealed, st.lost);
	assert_true(st.ticks >= 35);
	assert_int_equal(st.rtp_tx, st.ticks);
	assert_true(st.rtp_rx >= 35 && st.rtp_rx <= 41);
	assert_true(st.jb.played >= 25);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.rx_bad, 0);
	assert_int_equal(st.tx_err, 0);
	assert_non_null(find_ev(f, MEDIA_EV_STOPPED));
}

/* RFC 4733 digit in -> in-band DTMF on the timeslot, heard by spandsp's detector. */
static void test_rfc4733_to_inband(void **state)
{
	struct fx *f = *state;
	struct media_chan_stats st;

	chan_open(f, 0);
	f->rtp_on = true; /* silence */
	run_ticks(f, 5);
	f->te_event = 5;
	run_ticks(f, 25);
	print_message("digits on the timeslot: \"%s\"\n", f->digits);
	assert_string_equal(f->digits, "5");
	stop_chan(f, &st);
	assert_int_equal(st.te_rx, 8);
}

/* In-band '7' on the timeslot -> RFC 4733 packets (event 7, ends), a DIGIT event, and
 * the tone muted from the audio. */
static void test_inband_to_rfc4733(void **state)
{
	struct fx *f = *state;
	const struct media_ev *ev;
	struct media_chan_stats st;
	double freq, rms;

	chan_open(f, 0);
	f->rtp_on = true;
	run_ticks(f, 5);
	assert_int_equal(dtmf_gen_digit(&f->gen, 7, 120 * 8), 0);
	f->gen_on = true;
	f->rtp_n = 0;
	run_ticks(f, 20);
	print_message("telephone-event packets: %u (ends %u), event %d\n", f->te_pkts, f->te_ends,
	              f->te_seen_event);
	assert_true(f->te_pkts >= 6);
	assert_int_equal(f->te_ends, 3);
	assert_int_equal(f->te_seen_event, 7);
	ev = find_ev(f, MEDIA_EV_DIGIT_START);
	assert_non_null(ev);
	assert_int_equal(ev->event, 7);
	ev = find_ev(f, MEDIA_EV_DIGIT_STOP);
	assert_non_null(ev);
	assert_int_equal(ev->event, 7);
	assert_true(ev->duration >= 80 * 8 && ev->duration <= 160 * 8);
	/* muted: what went out as audio carries (almost) no tone energy */
	measure(f->rtp_rx, f->rtp_n, f->rtp_n, &freq, &rms);
	print_message("audio rms while the digit played: %.0f\n", rms);
	assert_true(rms < 300);
	stop_chan(f, &st);
	assert_int_equal(st.digits_rx, 1);
	assert_true(st.te_tx >= 6);
}

/* No RTP at all: a TIMEOUT event within the configured time (+ a tick or two). */
static void test_rtp_timeout(void **state)
{
	struct fx *f = *state;
	struct media_chan_stats st;
	const struct media_ev *ev;

	chan_open(f, 200);
	run_ticks(f, 8);
	assert_null(find_ev(f, MEDIA_EV_TIMEOUT));
	run_ticks(f, 10);
	ev = find_ev(f, MEDIA_EV_TIMEOUT);
	assert_non_null(ev);
	assert_ptr_equal(ev->ch, f->ch);
	stop_chan(f, &st);
	assert_int_equal(st.rtp_rx, 0);
	assert_true(st.rtp_tx > 0);
}

/* Commands: INFO digit played in-band; EC toggle accepted; a second channel on a busy
 * timeslot refused; bad digits refused. */
static void test_commands(void **state)
{
	struct fx *f = *state;
	struct media_chan *c2 = NULL;
	struct media_chan_params p = {.span = f->a, .ts = 1, .rtp_fd = 99, .rtcp_fd = -1};
	struct media_chan_stats st;

	chan_open(f, 0);
	assert_int_equal(media_chan_start(&c2, f->e, &p), EBUSY);
	p.ts = 16; /* the D-channel */
	assert_int_equal(media_chan_start(&c2, f->e, &p), EINVAL);
	assert_int_equal(media_chan_dtmf(f->ch, 17, 100), EINVAL);
	assert_int_equal(media_chan_ec(f->ch, false), 0);
	assert_int_equal(media_chan_dtmf(f->ch, 11, 100), 0); /* '#' */
	run_ticks(f, 20);
	assert_string_equal(f->digits, "#");
	stop_chan(f, &st);
}

/* SRTP (AES_CM_128_HMAC_SHA1_80) both ways: the tone survives protect/unprotect. */
static void test_srtp_tone(void **state)
{
	struct fx *f = *state;
	struct media_chan_params x = {.srtp = true};
	struct media_chan_stats st;
	double freq, rms;

	assert_int_equal(rtp_srtp_global_init(), 0);
	assert_int_equal(rtp_sdes_key_gen(&x.tx_key, RTP_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	assert_int_equal(rtp_sdes_key_gen(&x.rx_key, RTP_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	assert_int_equal(rtp_srtp_start(&f->srtp, &x.rx_key, &x.tx_key), 0);
	chan_open_p(f, 0, &x);
	f->ts_freq = 1000;
	f->rtp_on = true;
	f->rtp_freq = 1000;
	run_ticks(f, 30);
	assert_int_equal(f->unprotect_fail, 0);
	assert_true(f->rtp_pkts >= 20);
	measure(f->rtp_rx, f->rtp_n, 800, &freq, &rms);
	assert_true(fabs(freq - 1000) < 20 && rms > 4000);
	measure(f->tdm_rx, f->tdm_n, 800, &freq, &rms);
	assert_true(fabs(freq - 1000) < 20 && rms > 4000);
	stop_chan(f, &st);
	assert_int_equal(st.rx_bad, 0);
	assert_true(st.rtp_rx >= 25);
}

/* No telephone-event negotiated: an in-band digit stays in the audio (not muted, no
 * RFC 4733), so the far end still gets it. */
static void test_no_te_keeps_inband(void **state)
{
	struct fx *f = *state;
	struct media_chan_params x = {.te = false, .dtmf_mode = MEDIA_DTMF_RFC4733};
	struct media_chan_stats st;
	double freq, rms;

	chan_open_p(f, 0, &x);
	f->rtp_on = true;
	run_ticks(f, 5);
	assert_int_equal(dtmf_gen_digit(&f->gen, 7, 120 * 8), 0);
	f->gen_on = true;
	f->rtp_n = 0;
	run_ticks(f, 20);
	measure(f->rtp_rx, f->rtp_n, f->rtp_n, &freq, &rms);
	print_message("audio rms with the digit left in: %.0f\n", rms);
	assert_true(rms > 500);
	assert_int_equal(f->te_pkts, 0);
	assert_null(find_ev(f, MEDIA_EV_DIGIT_START));
	stop_chan(f, &st);
}

/* Re-INVITE: after repoint, RTP goes to the new address and not to the old one. */
static void test_repoint(void **state)
{
	struct fx *f = *state;
	struct media_chan_stats st;
	struct sa new_sa;
	int fd2 = udp_local(&new_sa);
	unsigned before;
	uint8_t buf[512];
	unsigned got = 0;

	chan_open(f, 0);
	run_ticks(f, 10);
	assert_true(f->rtp_pkts >= 5);
	assert_int_equal(media_chan_repoint(f->ch, &new_sa, NULL, 0), 0);
	run_ticks(f, 3);
	before = f->rtp_pkts;
	run_ticks(f, 10);
	assert_int_equal(f->rtp_pkts, before); /* nothing more at the old address */
	while (recv(fd2, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	assert_true(got >= 9);
	stop_chan(f, &st);
	close(fd2);
}

/*
 * Symmetric RTP with the connected twin socket: the phone's packets come from
 * another address than its SDP said (a NAT). They reach the engine through the
 * bound socket (the twin only takes the SDP address's), the latch moves, the
 * twin is re-connected and the audio goes back to where it came from, both
 * ways. Then the SDP address sends again and takes the latch back.
 */
static void test_nat_latch(void **state)
{
	struct fx *f = *state;
	struct media_chan_stats st;
	struct sa nat_sa;
	int sdp_fd, nat_fd = udp_local(&nat_sa);
	double freq, rms;
	uint8_t buf[512];
	unsigned stray = 0, before;

	chan_open(f, 0);
	sdp_fd = f->peer;
	f->peer = nat_fd; /* the test now sends and reads here */
	f->ts_freq = 1000;
	f->rtp_on = true;
	f->rtp_freq = 1000;
	run_ticks(f, 40);
	assert_true(f->rtp_pkts >= 25);
	measure(f->rtp_rx, f->rtp_n, 800, &freq, &rms);
	print_message("behind the NAT: timeslot -> RTP %.1f Hz rms %.0f, %u packets\n", freq, rms,
	              f->rtp_pkts);
	assert_true(fabs(freq - 1000) < 20);
	measure(f->tdm_rx, f->tdm_n, 800, &freq, &rms);
	assert_true(fabs(freq - 1000) < 20);
	assert_true(rms > 4000);
	while (recv(sdp_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		stray++;
	/* before the first packet came back, the engine sent to the SDP address */
	assert_true(stray <= 5);

	/* the SDP address speaks: it takes the latch at once */
	f->peer = sdp_fd;
	before = f->rtp_pkts;
	run_ticks(f, 20);
	assert_true(f->rtp_pkts - before >= 15);
	stop_chan(f, &st);
	assert_int_equal(st.tx_err, 0);
	assert_int_equal(st.rx_bad, 0);
	close(nat_fd);
}

/*
 * A flood at the channel's port from a stranger: the worker reads at most
 * MW_STRAY_MAX (16) of its datagrams a tick, the call's audio goes on, and the
 * latch stays with the phone.
 */
static void test_stray_flood(void **state)
{
	struct fx *f = *state;
	struct media_chan_stats st;
	struct sa x_sa;
	int x = udp_local(&x_sa), big = 1 << 20;
	uint8_t buf[RTP_HDR_SIZE + 160];
	unsigned sent = 0, t0, before;
	size_t hl;

	chan_open(f, 0);
	f->rtp_on = true;
	f->rtp_freq = 1000;
	run_ticks(f, 10);
	assert_int_equal(setsockopt(x, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)), 0);
	memset(buf, 0xd5, sizeof(buf));
	for (unsigned i = 0; i < 2000; i++) {
		struct rtp_hdr h = {.pt = 8, .seq = (uint16_t)i, .ts = i * 160, .ssrc = 0x66666666};

		assert_int_equal(rtp_hdr_encode(buf, sizeof(buf), &h, &hl), 0);
		if (sendto(x, buf, sizeof(buf), MSG_DONTWAIT, &f->eng_sa.u.sa, f->eng_sa.len) > 0)
			sent++;
	}
	t0 = f->ticks;
	before = f->rtp_pkts;
	run_ticks(f, 3);
	stop_chan(f, &st);
	print_message("flood: %u sent, %u read as strays in %u ticks; audio packets back %u\n",
	              sent, st.rx_bad, f->ticks - t0, f->rtp_pkts - before);
	assert_true(sent >= 1000);
	assert_true(st.rx_bad > 0);
	assert_true(st.rx_bad <= 16u * (f->ticks - t0 + 2));
	assert_true(f->rtp_pkts - before >= 2); /* still sending to the phone */
	assert_int_equal(st.tx_err, 0);
	close(x);
}

/* Nothing is allocated on the media thread while channels run: audio both ways, an
 * RFC 4733 digit in, an in-band digit out. */
static void test_no_alloc_per_block(void **state)
{
	struct fx *f = *state;
	struct media_chan_stats st;
	unsigned long a0, a1;

	chan_open(f, 0);
	f->ts_freq = 1000;
	f->rtp_on = true;
	run_ticks(f, 10);
	a0 = atomic_load(&n_media_alloc);
	f->te_event = 3;
	run_ticks(f, 15);
	f->ts_freq = 0;
	assert_int_equal(dtmf_gen_digit(&f->gen, 9, 100 * 8), 0);
	f->gen_on = true;
	run_ticks(f, 25);
	a1 = atomic_load(&n_media_alloc);
	stop_chan(f, &st);
	assert_true(f->te_pkts >= 3);
	assert_int_equal(st.te_rx, 8);
	if (!ALLOC_COUNTED)
		print_message("(ASan build: allocations not counted)\n");
	else
		print_message("media thread allocations over 50 ticks: %lu (%lu before)\n", a1 - a0,
		              a0);
	assert_int_equal(a1 - a0, 0);
}

/* ---- PRI on the signalling loop while the worker carries the audio ---- */

static void pri_h(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct fx *f = arg;
	bool is_a = tp == f->tp_a;

	if (!pthread_equal(pthread_self(), f->sig_th))
		f->wrong_thread++;
	switch (ev->type) {
	case TPRI_EV_DCHAN_UP:
		is_a ? f->up_a++ : f->up_b++;
		break;
	case TPRI_EV_RING:
		f->ring_b++;
		assert_int_equal(tpri_call_alerting(ev->call, true), 0);
		assert_int_equal(tpri_call_answer(ev->call), 0);
		break;
	case TPRI_EV_ANSWER:
		f->answer_a++;
		break;
	case TPRI_EV_HANGUP:
		if (is_a) {
			f->hangup_a++;
			f->cause_a = ev->cause;
		} else {
			f->hangup_b++;
		}
		break;
	default:
		break;
	}
}

static void run_until(struct fx *f, const unsigned *v, unsigned want)
{
	uint64_t t0 = loop_clock_ms();

	while (*v < want && loop_clock_ms() - t0 < 3000)
		assert_int_equal(loop_run_once(f->sig, 20), 0);
	assert_true(*v >= want);
}

/* libpri on both spans' D-channels (this thread) brings the link up and a call through
 * SETUP ... CONNECT ... RELEASE while the worker carries a 1 kHz tone both ways on the
 * call's timeslot of the same span. */
static void test_pri_and_audio(void **state)
{
	struct fx *f = *state;
	struct tpri_conf cpe = {.node = TPRI_CPE, .sw = TPRI_SW_EUROISDN_E1, .t200 = 200};
	struct tpri_conf net = {.node = TPRI_NET, .sw = TPRI_SW_EUROISDN_E1, .t200 = 200};
	struct tpri_number called = {.digits = "5551234", .ton = TPRI_TON_NATIONAL,
	                             .npi = TPRI_NPI_E164};
	struct media_chan_stats st;
	double freq, rms;

	f->sig_th = pthread_self();
	assert_int_equal(tpri_alloc(&f->tp_a, f->a, &cpe, pri_h, f), 0);
	assert_int_equal(tpri_alloc(&f->tp_b, f->b, &net, pri_h, f), 0);
	run_until(f, &f->up_a, 1);
	run_until(f, &f->up_b, 1);
	assert_int_equal(tpri_call_place(&f->call_a, f->tp_a, 1, true, &called, NULL), 0);
	chan_open(f, 0);
	f->ts_freq = 1000;
	f->rtp_on = true;
	f->rtp_freq = 1000;
	run_until(f, &f->answer_a, 1);
	assert_int_equal(f->ring_b, 1);
	run_ticks(f, 30);
	measure(f->rtp_rx, f->rtp_n, 800, &freq, &rms);
	print_message("during the call: timeslot -> RTP %.1f Hz rms %.0f\n", freq, rms);
	assert_true(fabs(freq - 1000) < 20 && rms > 4000 && rms < 7000);
	measure(f->tdm_rx, f->tdm_n, 800, &freq, &rms);
	print_message("during the call: RTP -> timeslot %.1f Hz rms %.0f\n", freq, rms);
	assert_true(fabs(freq - 1000) < 20 && rms > 4000 && rms < 7000);
	assert_int_equal(tpri_call_hangup(f->call_a, 16), 0);
	run_until(f, &f->hangup_a, 1);
	run_until(f, &f->hangup_b, 1);
	assert_int_equal(f->cause_a, 16);
	assert_int_equal(f->wrong_thread, 0);
	assert_true(tpri_dchan_up(f->tp_a) && tpri_dchan_up(f->tp_b));
	stop_chan(f, &st);
	assert_true(st.rtp_rx >= 25);
}

static void a_tick(struct span *sp, uint32_t tick, void *arg)
{
	struct fx *f = arg;

	(void)sp;
	(void)tick;
	if (pthread_equal(pthread_self(), f->sig_th))
		f->a_ticks++;
	else
		f->wrong_thread++;
}

/* Removal: refused while a channel runs; then SPAN_REMOVED, after which the span ticks on
 * the signalling loop again and takes no channel; and it can be given back. */
static void test_remove_span(void **state)
{
	struct fx *f = *state;
	struct media_chan_stats st;
	struct media_chan_params p = {.span = f->a, .ts = 2, .rtp_fd = 99, .rtcp_fd = -1};
	struct media_chan *c2 = NULL;
	const struct media_ev *ev;
	uint64_t t0;

	f->sig_th = pthread_self();
	chan_open(f, 0);
	run_ticks(f, 5);
	assert_int_equal(media_engine_remove_span(f->e, f->a), EBUSY);
	stop_chan(f, &st);
	assert_int_equal(media_engine_remove_span(f->e, f->a), 0);
	assert_int_equal(media_engine_remove_span(f->e, f->a), ENOENT);
	assert_int_equal(media_chan_start(&c2, f->e, &p), EINVAL);
	t0 = loop_clock_ms();
	while (!find_ev(f, MEDIA_EV_SPAN_REMOVED) && loop_clock_ms() - t0 < 2000)
		assert_int_equal(loop_run_once(f->sig, 20), 0);
	ev = find_ev(f, MEDIA_EV_SPAN_REMOVED);
	assert_non_null(ev);
	assert_ptr_equal(ev->span, f->a);
	assert_ptr_equal(f->a->bloop, f->sig);
	span_set_tick_handler(f->a, a_tick, f);
	run_ticks(f, 10);
	print_message("span ticks on the signalling loop after removal: %u\n", f->a_ticks);
	assert_true(f->a_ticks >= 8);
	assert_int_equal(f->wrong_thread, 0);
	/* given again: the worker carries audio on it again */
	span_set_tick_handler(f->a, NULL, NULL);
	assert_int_equal(media_engine_add_span(f->e, 0, f->a), 0);
	f->nev = 0;
	if (f->peer > 0)
		close(f->peer);
	chan_open(f, 0);
	f->rtp_on = true;
	f->rtp_pkts = 0;
	run_ticks(f, 15);
	assert_true(f->rtp_pkts >= 10);
	stop_chan(f, &st);
	assert_true(st.rtp_rx >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tone_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rfc4733_to_inband, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inband_to_rfc4733, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rtp_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_srtp_tone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repoint, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nat_latch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stray_flood, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_te_keeps_inband, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_alloc_per_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pri_and_audio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_span, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
