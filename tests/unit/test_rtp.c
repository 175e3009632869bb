/* Unit tests for media/rtp: packets, RTCP, RFC 3550 A.1/A.3/A.8, RTT, latching,
 * timeout, report interval, SRTP (each suite, tamper, replay, SRTCP), sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/sa.h"
#include "media/rtp/rtp.h"
#include "media/rtp/srtp.h"

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

static const uint64_t T0 = 1000000000ull; /* any monotonic origin, microseconds */

/* ---- packets ---------------------------------------------------------------- */

static void test_rtp_round_trip(void **state)
{
	uint8_t buf[256], csrc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ext[4] = {0x10, 0xaa, 0, 0};
	struct rtp_hdr h = {0}, p;
	size_t hl;

	(void)state;
	h.marker = true;
	h.pt = 8;
	h.seq = 0xfffe;
	h.ts = 0xdeadbeef;
	h.ssrc = 0x01020304;
	h.cc = 2;
	h.csrc = csrc;
	h.ext = true;
	h.ext_profile = 0xbede;
	h.ext_data = ext;
	h.ext_len = 4;
	assert_int_equal(rtp_hdr_encode(buf, sizeof(buf), &h, &hl), 0);
	assert_int_equal(hl, 12 + 8 + 4 + 4);
	memset(buf + hl, 0x5a, 160);
	/* add 4 bytes of padding by hand */
	buf[0] |= 0x20;
	memset(buf + hl + 160, 0, 3);
	buf[hl + 163] = 4;
	assert_int_equal(rtp_parse(&p, buf, hl + 164), 0);
	assert_true(p.marker && p.ext && p.padding);
	assert_int_equal(p.pt, 8);
	assert_int_equal(p.seq, 0xfffe);
	assert_int_equal(p.ts, 0xdeadbeef);
	assert_int_equal(p.ssrc, 0x01020304);
	assert_int_equal(p.cc, 2);
	assert_int_equal(rtp_hdr_csrc(&p, 1), 0x05060708);
	assert_int_equal(p.ext_profile, 0xbede);
	assert_int_equal(p.ext_len, 4);
	assert_memory_equal(p.ext_data, ext, 4);
	assert_ptr_equal(p.payload, buf + hl); /* zero-copy */
	assert_int_equal(p.payload_len, 160);
	assert_int_equal(p.pad_len, 4);
	assert_int_equal(rtp_hdr_encode(buf, 20, &h, &hl), ENOSPC);
	h.pt = 200;
	assert_int_equal(rtp_hdr_encode(buf, sizeof(buf), &h, &hl), EINVAL);
}

static void test_rtp_malformed(void **state)
{
	uint8_t b[64];
	struct rtp_hdr p;

	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = 0x80;
	assert_int_equal(rtp_parse(&p, b, 12), 0);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(rtp_parse(&p, b, 11), EBADMSG); /* short */
	assert_int_equal(rtp_parse(&p, NULL, 0), EBADMSG);
	b[0] = 0x40;
	assert_int_equal(rtp_parse(&p, b, 20), EBADMSG); /* version 1 */
	b[0] = 0x83;
	assert_int_equal(rtp_parse(&p, b, 20), EBADMSG); /* 3 CSRC need 24 bytes */
	assert_int_equal(rtp_parse(&p, b, 24), 0);
	b[0] = 0x90;
	assert_int_equal(rtp_parse(&p, b, 14), EBADMSG); /* extension header cut */
	b[14] = 0;
	b[15] = 2; /* 8 bytes of extension */
	assert_int_equal(rtp_parse(&p, b, 23), EBADMSG);
	assert_int_equal(rtp_parse(&p, b, 24), 0);
	b[0] = 0xa0;
	b[19] = 0;
	assert_int_equal(rtp_parse(&p, b, 20), EBADMSG); /* padding count 0 */
	b[19] = 9;
	assert_int_equal(rtp_parse(&p, b, 20), EBADMSG); /* padding into the header */
	b[19] = 8;
	assert_int_equal(rtp_parse(&p, b, 20), 0);
	assert_int_equal(p.payload_len, 0);
	b[1] = 200;
	assert_true(rtp_is_rtcp(b, 20));
	b[1] = 0x80 | 8;
	assert_false(rtp_is_rtcp(b, 20));
}

static void test_rtcp_round_trip(void **state)
{
	uint8_t b[512];
	size_t n, off = 0;
	struct rtcp_sr_info sr = {0x0123456789abcdefull, 1000, 50, 8000};
	struct rtcp_rb rb[2] = {
	    {0xa, 25, -3, 0x1ffff, 77, 0x11112222, 0x3333},
	    {0xb, 255, 0x7fffff, 5, 0, 0, 0},
	};
	uint32_t bye[2] = {0x1234, 0x5678};
	struct rtcp_iter it;
	struct rtcp_pkt k;
	struct rtcp_rb g;
	struct pl cname;

	(void)state;
	assert_int_equal(rtcp_encode_sr(b, sizeof(b), &n, 0x99, &sr, rb, 2), 0);
	off += n;
	assert_int_equal(rtcp_encode_sdes_cname(b + off, sizeof(b) - off, &n, 0x99, "gw@tandem"),
	                 0);
	assert_int_equal(n % 4, 0);
	off += n;
	assert_int_equal(rtcp_encode_bye(b + off, sizeof(b) - off, &n, bye, 2, "hangup"), 0);
	off += n;
	assert_int_equal(rtcp_validate(b, off), 0);

	rtcp_iter_init(&it, b, off);
	assert_int_equal(rtcp_iter_next(&it, &k), 0);
	assert_int_equal(k.pt, RTCP_SR);
	assert_int_equal(k.ssrc, 0x99);
	assert_true(k.sr.ntp == sr.ntp);
	assert_int_equal(k.sr.rtp_ts, 1000);
	assert_int_equal(k.sr.pkts, 50);
	assert_int_equal(k.sr.octets, 8000);
	assert_int_equal(k.nrb, 2);
	assert_int_equal(rtcp_rb_get(&k, 0, &g), 0);
	assert_int_equal(g.ssrc, 0xa);
	assert_int_equal(g.fraction, 25);
	assert_int_equal(g.lost, -3);
	assert_int_equal(g.ext_max, 0x1ffff);
	assert_int_equal(g.jitter, 77);
	assert_int_equal(g.lsr, 0x11112222);
	assert_int_equal(g.dlsr, 0x3333);
	assert_int_equal(rtcp_rb_get(&k, 1, &g), 0);
	assert_int_equal(g.lost, 0x7fffff);
	assert_int_equal(rtcp_rb_get(&k, 2, &g), EINVAL);
	assert_int_equal(rtcp_iter_next(&it, &k), 0);
	assert_int_equal(k.pt, RTCP_SDES);
	assert_int_equal(rtcp_sdes_cname(&k, &cname), 0);
	assert_true(pl_eq(cname, PL("gw@tandem")));
	assert_int_equal(rtcp_iter_next(&it, &k), 0);
	assert_int_equal(k.pt, RTCP_BYE);
	assert_int_equal(k.count, 2);
	assert_int_equal(k.ssrc, 0x1234);
	assert_true(pl_eq(k.reason, PL("hangup")));
	assert_int_equal(rtcp_iter_next(&it, &k), ENOENT);

	/* RR with no blocks is the smallest report */
	assert_int_equal(rtcp_encode_rr(b, sizeof(b), &n, 7, NULL, 0), 0);
	assert_int_equal(n, 8);
	assert_int_equal(rtcp_encode_rr(b, 7, &n, 7, NULL, 0), ENOSPC);
}

static void test_rtcp_malformed(void **state)
{
	uint8_t b[128] = {0};
	size_t n, n2;
	struct rtcp_rb rb = {0};

	(void)state;
	assert_int_equal(rtcp_validate(b, 0), EBADMSG);
	assert_int_equal(rtcp_encode_rr(b, sizeof(b), &n, 7, &rb, 1), 0);
	assert_int_equal(rtcp_validate(b, n), 0);
	assert_int_equal(rtcp_validate(b, n - 4), EBADMSG); /* length beyond the data */
	assert_int_equal(rtcp_validate(b, n + 2), EBADMSG); /* trailing bytes */
	b[0] = (uint8_t)((b[0] & 0x3f) | 0x40);
	assert_int_equal(rtcp_validate(b, n), EBADMSG); /* version 1 */
	assert_int_equal(rtcp_encode_rr(b, sizeof(b), &n, 7, &rb, 1), 0);
	b[0] = (uint8_t)(b[0] + 1); /* claims 2 report blocks */
	assert_int_equal(rtcp_validate(b, n), EBADMSG);
	/* padding in a packet that is not the last */
	assert_int_equal(rtcp_encode_rr(b, sizeof(b), &n, 7, NULL, 0), 0);
	assert_int_equal(rtcp_encode_rr(b + n, sizeof(b) - n, &n2, 7, NULL, 0), 0);
	b[0] |= 0x20;
	b[n - 1] = 4;
	assert_int_equal(rtcp_validate(b, n + n2), EBADMSG);
	/* SDES item running past the packet */
	assert_int_equal(rtcp_encode_sdes_cname(b, sizeof(b), &n, 7, "abc"), 0);
	b[9] = 40;
	assert_int_equal(rtcp_validate(b, n), EBADMSG);
	/* BYE reason longer than the packet */
	uint32_t s = 1;
	assert_int_equal(rtcp_encode_bye(b, sizeof(b), &n, &s, 1, "x"), 0);
	b[8] = 9;
	assert_int_equal(rtcp_validate(b, n), EBADMSG);
}

/* ---- A.1, A.3, A.8 --------------------------------------------------------- */

static void test_seq_probation_wrap_restart(void **state)
{
	struct rtp_source s;

	(void)state;
	rtp_source_init(&s, 1, 65533);
	assert_int_equal(rtp_source_update_seq(&s, 65533), RTP_SEQ_PROBATION);
	assert_int_equal(rtp_source_update_seq(&s, 65534), RTP_SEQ_OK); /* valid now */
	assert_int_equal(rtp_source_update_seq(&s, 65535), RTP_SEQ_OK);
	assert_int_equal(rtp_source_update_seq(&s, 0), RTP_SEQ_OK); /* wrap */
	assert_int_equal(rtp_source_update_seq(&s, 1), RTP_SEQ_OK);
	assert_int_equal(s.cycles, 65536);
	assert_int_equal(rtp_source_ext_max(&s), 65537);
	assert_int_equal(rtp_source_lost(&s), 0);
	assert_int_equal(rtp_source_update_seq(&s, 65535), RTP_SEQ_OK); /* late, counted */
	assert_int_equal(s.cycles, 65536);
	assert_int_equal(rtp_source_update_seq(&s, 5), RTP_SEQ_OK); /* gap of 3 */
	assert_int_equal(rtp_source_lost(&s), 3 - 1);
	/* a huge jump: dropped, then confirmed by its successor -> restart */
	assert_int_equal(rtp_source_update_seq(&s, 30000), RTP_SEQ_BAD);
	assert_int_equal(rtp_source_update_seq(&s, 30001), RTP_SEQ_RESTART);
	assert_int_equal(s.received, 1);
	assert_int_equal(s.base_seq, 30001);
	assert_int_equal(rtp_source_update_seq(&s, 30002), RTP_SEQ_OK);
	/* a jump not confirmed stays bad */
	assert_int_equal(rtp_source_update_seq(&s, 10), RTP_SEQ_BAD);
	assert_int_equal(rtp_source_update_seq(&s, 30003), RTP_SEQ_OK);
	assert_int_equal(rtp_source_update_seq(&s, 12), RTP_SEQ_BAD);
	/* probation restarts when a packet is out of sequence */
	rtp_source_init(&s, 2, 100);
	assert_int_equal(rtp_source_update_seq(&s, 100), RTP_SEQ_PROBATION);
	assert_int_equal(rtp_source_update_seq(&s, 102), RTP_SEQ_PROBATION);
	assert_int_equal(rtp_source_update_seq(&s, 103), RTP_SEQ_OK);
}

static void test_jitter_known_pattern(void **state)
{
	struct rtp_source s;
	double ref = 0, prev_transit = 0;
	uint32_t arrival = 1000;

	(void)state;
	rtp_source_init(&s, 1, 0);
	/* 20 ms frames; arrivals alternately 150 and 170 units apart (|D| = 10) with a
	 * 60-unit spike every 16th packet. Reference: the floating form of A.8. */
	for (unsigned k = 0; k < 400; k++) {
		uint32_t ts = 5000 + k * 160;
		uint32_t at = arrival + (k % 16 == 15 ? 60 : 0);
		double transit = (double)at - ts;
		if (k)
			ref += (fabs(transit - prev_transit) - ref) / 16;
		prev_transit = transit;
		rtp_source_update_jitter(&s, ts, at);
		arrival += k % 2 ? 150 : 170;
	}
	print_message("jitter %u (reference %.2f)\n", rtp_source_jitter(&s), ref);
	assert_true(fabs(rtp_source_jitter(&s) - ref) <= 1.0);
	assert_true(rtp_source_jitter(&s) > 10);
	/* a constant |D| of 10 gives exactly 10 (A.8's integer form, reported rounded) */
	rtp_source_init(&s, 1, 0);
	for (unsigned k = 0; k < 400; k++)
		rtp_source_update_jitter(&s, k * 160, k * 160 + (k % 2) * 10);
	assert_int_equal(rtp_source_jitter(&s), 10);
	/* constant transit: jitter decays to zero */
	for (unsigned k = 0; k < 400; k++)
		rtp_source_update_jitter(&s, k * 160, 7 + k * 160);
	assert_int_equal(rtp_source_jitter(&s), 0);
}

static void test_rr_loss_fraction(void **state)
{
	struct rtp_source s;
	struct rtcp_rb rb;
	uint16_t seq = 65500;

	(void)state;
	rtp_source_init(&s, 9, seq);
	rtp_source_update_seq(&s, seq++);
	rtp_source_update_seq(&s, seq++); /* valid from here: base */
	rtp_source_report(&s, &rb);       /* interval start */
	/* 100 packets expected, 10 missing (across the wrap) */
	for (unsigned k = 0; k < 100; k++, seq++)
		if (k % 10 != 3)
			rtp_source_update_seq(&s, seq);
	rtp_source_report(&s, &rb);
	assert_int_equal(rb.ssrc, 9);
	assert_int_equal(rb.fraction, 10 * 256 / 100); /* 25: 1/256 units, truncated */
	assert_int_equal(rb.lost, 10);
	assert_int_equal(rb.ext_max, 65536 + (uint16_t)(seq - 1));
	for (unsigned k = 0; k < 50; k++, seq++)
		rtp_source_update_seq(&s, seq);
	rtp_source_report(&s, &rb);
	assert_int_equal(rb.fraction, 0);
	assert_int_equal(rb.lost, 10); /* cumulative */
	/* duplicates make the interval's loss negative: fraction 0 */
	for (unsigned k = 0; k < 5; k++)
		rtp_source_update_seq(&s, (uint16_t)(seq - 1));
	rtp_source_report(&s, &rb);
	assert_int_equal(rb.fraction, 0);
	assert_int_equal(rb.lost, 5);
}

/* ---- session ------------------------------------------------------------------ */

static struct rtp_sess sa_, sb_;

static void sess_init(struct rtp_sess *s, bool latch, uint32_t timeout_ms)
{
	struct rtp_sess_cfg cfg = {
	    .clock_rate = 8000,
	    .timeout_ms = timeout_ms,
	    .latch = latch,
	    .latch_count = 4,
	    .relatch_idle_ms = 1000,
	    .cname = "test@tandem",
	};
	struct sa r;

	assert_int_equal(sa_set_str(&r, "192.0.2.1", 4000), 0);
	assert_int_equal(rtp_sess_init(s, &cfg, &r, T0), 0);
}

static size_t mkpkt(uint8_t *b, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
	struct rtp_hdr h = {.pt = 0, .seq = seq, .ts = ts, .ssrc = ssrc};
	size_t hl;

	assert_int_equal(rtp_hdr_encode(b, 200, &h, &hl), 0);
	memset(b + hl, 0xff, 160);
	return hl + 160;
}

static void test_rtt(void **state)
{
	uint8_t b[RTP_BUF_SIZE], pkt[200];
	size_t n;
	uint64_t t = T0;
	struct rtp_hdr h;
	struct rtcp_iter it;
	struct rtcp_pkt k;

	(void)state;
	sess_init(&sa_, false, 0);
	sess_init(&sb_, false, 0);
	/* A sends RTP to B, so A's report is an SR */
	for (unsigned i = 0; i < 10; i++, t += 20000) {
		assert_int_equal(
		    rtp_sess_tx(&sa_, pkt, sizeof(pkt), 0, i == 0, i * 160, 160, t, &n), 0);
		enum rtp_rx v = rtp_sess_rx(&sb_, pkt, n, NULL, t + 30000, &h);
		assert_int_equal(v, i == 0 ? RTP_RX_PROBATION : RTP_RX_OK);
	}
	assert_int_equal(rtp_sess_rtcp_build(&sa_, b, sizeof(b), false, t, &n), 0);
	rtcp_iter_init(&it, b, n);
	assert_int_equal(rtcp_iter_next(&it, &k), 0);
	assert_int_equal(k.pt, RTCP_SR);
	assert_int_equal(k.sr.pkts, 10);
	assert_int_equal(k.sr.octets, 1600);
	/* one way 50 ms, B holds it 200 ms, 50 ms back: RTT 100 ms */
	assert_int_equal(rtp_sess_rtcp_rx(&sb_, b, n, t + 50000), 0);
	assert_int_equal(rtp_sess_rtcp_build(&sb_, b, sizeof(b), false, t + 250000, &n), 0);
	rtcp_iter_init(&it, b, n);
	assert_int_equal(rtcp_iter_next(&it, &k), 0);
	assert_int_equal(k.pt, RTCP_RR); /* B sent nothing */
	assert_int_equal(k.nrb, 1);
	struct rtcp_rb rb;
	assert_int_equal(rtcp_rb_get(&k, 0, &rb), 0);
	assert_int_equal(rb.ssrc, sa_.ssrc);
	assert_int_equal(rb.lost, 0);
	assert_true(abs((int)rb.dlsr - (200 * 65536 / 1000)) <= 1);
	rtp_sess_events(&sa_, t);
	assert_int_equal(rtp_sess_rtcp_rx(&sa_, b, n, t + 300000), 0);
	assert_true(rtp_sess_events(&sa_, t + 300000) & RTP_EV_RTT);
	print_message("rtt %u us\n", sa_.rtt_us);
	assert_true(sa_.have_rtt);
	assert_true(abs((int)sa_.rtt_us - 100000) <= 100);
}

static void test_latching(void **state)
{
	struct sa p1, p2, p3;
	uint8_t b[200];
	struct rtp_hdr h;
	uint64_t t = T0;
	uint16_t seq = 10, aseq = 5000;
	size_t n;

	(void)state;
	sa_set_str(&p1, "198.51.100.7", 30000);
	sa_set_str(&p2, "203.0.113.9", 40000);
	sa_set_str(&p3, "2001:db8::3", 50000);
	sess_init(&sa_, true, 0);
	rtp_sess_events(&sa_, t);
	/* the first packet latches, though it is not the SDP address */
	n = mkpkt(b, 0xaaaa, seq++, 0);
	assert_int_equal(rtp_sess_rx(&sa_, b, n, &p1, t, &h), RTP_RX_PROBATION);
	assert_true(rtp_sess_events(&sa_, t) & RTP_EV_LATCHED);
	assert_true(sa_eq(rtp_sess_remote(&sa_), &p1));
	n = mkpkt(b, 0xaaaa, seq++, 160);
	assert_int_equal(rtp_sess_rx(&sa_, b, n, &p1, t, &h), RTP_RX_OK);
	/* a stranger with another SSRC gets nowhere, however many packets */
	for (unsigned i = 0; i < 20; i++) {
		n = mkpkt(b, 0xbbbb, aseq++, 0);
		assert_int_equal(rtp_sess_rx(&sa_, b, n, &p2, t + i, &h), RTP_RX_NOT_LATCHED);
	}
	/* nor with our SSRC while the phone keeps talking in between */
	for (unsigned i = 0; i < 20; i++) {
		t += 20000;
		n = mkpkt(b, 0xaaaa, aseq++, 0);
		assert_int_equal(rtp_sess_rx(&sa_, b, n, &p2, t, &h), RTP_RX_NOT_LATCHED);
		n = mkpkt(b, 0xaaaa, seq++, 0);
		assert_int_equal(rtp_sess_rx(&sa_, b, n, &p1, t, &h), RTP_RX_OK);
	}
	/* nor out of sequence */
	for (unsigned i = 0; i < 10; i++) {
		n = mkpkt(b, 0xaaaa, (uint16_t)(aseq + 2 * i), 0);
		assert_int_equal(rtp_sess_rx(&sa_, b, n, &p2, t, &h), RTP_RX_NOT_LATCHED);
	}
	assert_true(sa_eq(rtp_sess_remote(&sa_), &p1));
	assert_false(rtp_sess_events(&sa_, t) & RTP_EV_LATCHED);
	/* the phone moves: 4 packets in sequence with its SSRC from the new address */
	for (unsigned i = 0; i < 3; i++) {
		n = mkpkt(b, 0xaaaa, seq++, 0);
		assert_int_equal(rtp_sess_rx(&sa_, b, n, &p2, t, &h), RTP_RX_NOT_LATCHED);
	}
	n = mkpkt(b, 0xaaaa, seq++, 0);
	assert_int_equal(rtp_sess_rx(&sa_, b, n, &p2, t, &h), RTP_RX_OK);
	assert_true(sa_eq(rtp_sess_remote(&sa_), &p2));
	assert_true(rtp_sess_events(&sa_, t) & RTP_EV_LATCHED);
	/* p2 silent for relatch_idle_ms: anyone may take over at once (new SSRC too) */
	n = mkpkt(b, 0xcccc, 1, 0);
	assert_int_equal(rtp_sess_rx(&sa_, b, n, &p3, t + 999000, &h), RTP_RX_NOT_LATCHED);
	assert_int_equal(rtp_sess_rx(&sa_, b, n, &p3, t + 1000000, &h), RTP_RX_PROBATION);
	assert_true(sa_eq(rtp_sess_remote(&sa_), &p3));
	assert_true(rtp_sess_events(&sa_, t) & (RTP_EV_LATCHED | RTP_EV_SSRC));
	/* re-pointing by signalling drops the latch */
	rtp_sess_set_remote(&sa_, &p1);
	assert_false(sa_.latched);
	/* a stranger who gets in first loses the latch to the SDP address at once */
	n = mkpkt(b, 0xdddd, 1, 0);
	assert_int_equal(rtp_sess_rx(&sa_, b, n, &p2, t, &h), RTP_RX_PROBATION);
	assert_true(sa_eq(rtp_sess_remote(&sa_), &p2));
	n = mkpkt(b, 0xaaaa, 1, 0);
	assert_int_equal(rtp_sess_rx(&sa_, b, n, &p1, t, &h), RTP_RX_PROBATION);
	assert_true(sa_eq(rtp_sess_remote(&sa_), &p1));
	n = mkpkt(b, 0xdddd, 2, 0);
	assert_int_equal(rtp_sess_rx(&sa_, b, n, &p2, t, &h), RTP_RX_NOT_LATCHED);
}

static void test_timeout_and_bye(void **state)
{
	uint8_t b[RTP_BUF_SIZE];
	struct rtp_hdr h;
	size_t n;
	uint32_t ssrc;

	(void)state;
	sess_init(&sa_, false, 1000);
	assert_false(rtp_sess_events(&sa_, T0 + 999999) & RTP_EV_TIMEOUT);
	assert_true(rtp_sess_events(&sa_, T0 + 1000000) & RTP_EV_TIMEOUT);
	assert_false(rtp_sess_events(&sa_, T0 + 1500000) & RTP_EV_TIMEOUT); /* once */
	n = mkpkt(b, 0x77, 1, 0);
	rtp_sess_rx(&sa_, b, n, NULL, T0 + 2000000, &h);
	assert_false(rtp_sess_events(&sa_, T0 + 2999999) & RTP_EV_TIMEOUT);
	assert_true(rtp_sess_events(&sa_, T0 + 3000000) & RTP_EV_TIMEOUT); /* re-armed */
	/* BYE from the remote source */
	n = mkpkt(b, 0x77, 2, 160);
	rtp_sess_rx(&sa_, b, n, NULL, T0 + 3000000, &h);
	sess_init(&sb_, false, 0);
	ssrc = 0x77;
	uint8_t r[64];
	size_t rl, bl;
	assert_int_equal(rtcp_encode_rr(r, sizeof(r), &rl, ssrc, NULL, 0), 0);
	assert_int_equal(rtcp_encode_bye(r + rl, sizeof(r) - rl, &bl, &ssrc, 1, NULL), 0);
	rtp_sess_events(&sa_, T0);
	assert_int_equal(rtp_sess_rtcp_rx(&sa_, r, rl + bl, T0 + 3000000), 0);
	assert_true(rtp_sess_events(&sa_, T0 + 3000000) & RTP_EV_BYE);
	assert_int_equal(rtp_sess_rtcp_rx(&sa_, r, rl + bl - 1, T0), EBADMSG);
	/* our own BYE in a compound */
	assert_int_equal(rtp_sess_rtcp_build(&sb_, b, sizeof(b), true, T0, &n), 0);
	struct rtcp_iter it;
	struct rtcp_pkt k;
	unsigned types = 0;
	rtcp_iter_init(&it, b, n);
	while (rtcp_iter_next(&it, &k) == 0)
		types = types * 1000 + k.pt;
	assert_int_equal(types, (RTCP_RR * 1000 + RTCP_SDES) * 1000 + RTCP_BYE);
}

static void test_rtcp_interval(void **state)
{
	uint8_t b[RTP_BUF_SIZE];
	size_t n;
	uint64_t lo = UINT64_MAX, hi = 0;

	(void)state;
	for (unsigned i = 0; i < 50; i++) {
		sess_init(&sa_, false, 0);
		uint64_t first = sa_.rtcp_next_us - T0;
		/* initial: half the 5 s minimum, spread over [0.5, 1.5] / 1.21828 */
		assert_true(first >= 2500000 * 0.5 / 1.21828 - 1);
		assert_true(first <= 2500000 * 1.5 / 1.21828 + 1);
		assert_false(rtp_sess_events(&sa_, T0 + first - 1) & RTP_EV_RTCP_DUE);
		assert_true(rtp_sess_events(&sa_, T0 + first) & RTP_EV_RTCP_DUE);
		assert_int_equal(rtp_sess_rtcp_build(&sa_, b, sizeof(b), false, T0 + first, &n), 0);
		uint64_t next = sa_.rtcp_next_us - (T0 + first);
		if (next < lo)
			lo = next;
		if (next > hi)
			hi = next;
	}
	assert_int_equal(rtp_sess_rtcp_interval_us(&sa_), 5000000);
	assert_true(lo >= 5000000 * 0.5 / 1.21828 - 1 && hi <= 5000000 * 1.5 / 1.21828 + 1);
	assert_true(hi - lo > 1000000); /* randomised */
}

/* ---- SRTP ----------------------------------------------------------------- */

static void srtp_suite(enum rtp_srtp_suite suite, size_t tag, size_t rtcp_trailer)
{
	struct rtp_sdes_key ka, kb, kd;
	struct rtp_srtp a = {0}, b = {0};
	char b64[RTP_SRTP_B64_MAX];
	uint8_t pkt[RTP_BUF_SIZE], orig[200];
	size_t n, n0;

	assert_int_equal(rtp_sdes_key_gen(&ka, suite), 0);
	assert_int_equal(rtp_sdes_key_gen(&kb, suite), 0);
	assert_int_equal(ka.len, rtp_srtp_key_len(suite));
	assert_memory_not_equal(ka.key, kb.key, ka.len);
	/* through the SDP text and back */
	assert_int_equal(rtp_sdes_key_b64(&ka, b64, sizeof(b64)), 0);
	assert_int_equal(strlen(b64), 40);
	assert_int_equal(rtp_sdes_key_from_b64(&kd, suite, pl_make(b64, strlen(b64))), 0);
	assert_int_equal(kd.len, ka.len);
	assert_memory_equal(kd.key, ka.key, ka.len);

	assert_int_equal(rtp_srtp_start(&a, &ka, &kb), 0);
	assert_int_equal(rtp_srtp_start(&b, &kb, &ka), 0);
	n0 = n = mkpkt(pkt, 0x1234, 77, 1000);
	memcpy(orig, pkt, n);
	assert_int_equal(rtp_srtp_protect(&a, pkt, &n, sizeof(pkt)), 0);
	assert_int_equal(n, n0 + tag);
	assert_memory_not_equal(pkt + 12, orig + 12, 16); /* payload encrypted */
	assert_memory_equal(pkt, orig, 12);               /* header in clear */
	uint8_t copy[RTP_BUF_SIZE];
	size_t cn = n;
	memcpy(copy, pkt, n);
	assert_int_equal(rtp_srtp_unprotect(&b, pkt, &n), 0);
	assert_int_equal(n, n0);
	assert_memory_equal(pkt, orig, n0);
	/* replay */
	n = cn;
	memcpy(pkt, copy, cn);
	assert_int_equal(rtp_srtp_unprotect(&b, pkt, &n), EALREADY);
	/* tamper: one bit of payload, of header, of tag */
	size_t where[3] = {40, 3, cn - 1};
	for (unsigned i = 0; i < 3; i++) {
		n = mkpkt(pkt, 0x1234, (uint16_t)(78 + i), 1000);
		assert_int_equal(rtp_srtp_protect(&a, pkt, &n, sizeof(pkt)), 0);
		pkt[where[i] < n ? where[i] : n - 1] ^= 0x01;
		assert_int_equal(rtp_srtp_unprotect(&b, pkt, &n), EBADMSG);
	}
	/* the wrong key */
	struct rtp_srtp c = {0};
	assert_int_equal(rtp_srtp_start(&c, &kb, &kb), 0);
	n = mkpkt(pkt, 0x1234, 90, 1000);
	assert_int_equal(rtp_srtp_protect(&a, pkt, &n, sizeof(pkt)), 0);
	assert_int_equal(rtp_srtp_unprotect(&c, pkt, &n), EBADMSG);
	rtp_srtp_stop(&c);
	/* no room for the tag */
	n = mkpkt(pkt, 0x1234, 91, 1000);
	assert_int_equal(rtp_srtp_protect(&a, pkt, &n, n + 4), ENOSPC);

	/* SRTCP: a compound report, round trip and tamper */
	struct rtcp_rb rb = {.ssrc = 1, .fraction = 3};
	size_t l1, l2;
	assert_int_equal(rtcp_encode_rr(pkt, sizeof(pkt), &l1, 0x1234, &rb, 1), 0);
	assert_int_equal(rtcp_encode_sdes_cname(pkt + l1, sizeof(pkt) - l1, &l2, 0x1234, "x@y"), 0);
	n0 = n = l1 + l2;
	memcpy(orig, pkt, n);
	assert_int_equal(rtp_srtp_protect_rtcp(&a, pkt, &n, sizeof(pkt)), 0);
	assert_int_equal(n, n0 + rtcp_trailer);
	memcpy(copy, pkt, n);
	cn = n;
	assert_int_equal(rtp_srtp_unprotect_rtcp(&b, pkt, &n), 0);
	assert_int_equal(n, n0);
	assert_memory_equal(pkt, orig, n0);
	assert_int_equal(rtcp_validate(pkt, n), 0);
	memcpy(pkt, copy, cn);
	n = cn;
	assert_int_equal(rtp_srtp_unprotect_rtcp(&b, pkt, &n), EALREADY); /* replayed */
	memcpy(pkt, orig, n0);
	n = n0;
	assert_int_equal(rtp_srtp_protect_rtcp(&a, pkt, &n, sizeof(pkt)), 0);
	pkt[10] ^= 0x80;
	assert_int_equal(rtp_srtp_unprotect_rtcp(&b, pkt, &n), EBADMSG);
	rtp_srtp_stop(&a);
	rtp_srtp_stop(&b);
	assert_int_equal(rtp_srtp_protect(&a, pkt, &n, sizeof(pkt)), EINVAL);
}

static void test_srtp_80(void **state)
{
	(void)state;
	srtp_suite(RTP_SRTP_AES_CM_128_HMAC_SHA1_80, 10, 4 + 10);
}

static void test_srtp_32(void **state)
{
	(void)state;
	/* 32-bit tag on RTP, but SRTCP keeps 80 bits (RFC 4568 6.2.2) */
	srtp_suite(RTP_SRTP_AES_CM_128_HMAC_SHA1_32, 4, 4 + 10);
}

static void test_srtp_gcm(void **state)
{
	(void)state;
	srtp_suite(RTP_SRTP_AEAD_AES_128_GCM, 16, 4 + 16);
}

/* RFC 4568 |MKI:LEN: the MKI travels after the payload, before the tag. */
static void test_srtp_mki(void **state)
{
	struct rtp_sdes_key k1, k2, k3;
	struct rtp_srtp a = {0}, b = {0}, c = {0};
	uint8_t pkt[RTP_BUF_SIZE];
	size_t n, n0;

	(void)state;
	assert_int_equal(rtp_sdes_key_gen(&k1, RTP_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	assert_int_equal(rtp_sdes_key_gen(&k2, RTP_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	k1.mki = 0x0102;
	k1.mki_len = 2;
	assert_int_equal(rtp_srtp_start(&a, &k1, &k2), 0);
	assert_int_equal(rtp_srtp_start(&b, &k2, &k1), 0);
	n0 = n = mkpkt(pkt, 0x42, 1, 0);
	assert_int_equal(rtp_srtp_protect(&a, pkt, &n, sizeof(pkt)), 0);
	assert_int_equal(n, n0 + 2 + 10);
	assert_int_equal(pkt[n0], 0x01); /* MKI on the wire */
	assert_int_equal(pkt[n0 + 1], 0x02);
	assert_int_equal(rtp_srtp_unprotect(&b, pkt, &n), 0);
	assert_int_equal(n, n0);
	/* RTCP too: E-bit and index, then MKI, then tag */
	assert_int_equal(rtcp_encode_rr(pkt, sizeof(pkt), &n, 0x42, NULL, 0), 0);
	n0 = n;
	assert_int_equal(rtp_srtp_protect_rtcp(&a, pkt, &n, sizeof(pkt)), 0);
	assert_int_equal(n, n0 + 4 + 2 + 10);
	assert_int_equal(rtp_srtp_unprotect_rtcp(&b, pkt, &n), 0);
	assert_int_equal(n, n0);
	/* a receiver expecting another MKI refuses the packet */
	k3 = k1;
	k3.mki = 0x0103;
	assert_int_equal(rtp_srtp_start(&c, &k2, &k3), 0);
	n = mkpkt(pkt, 0x42, 2, 160);
	assert_int_equal(rtp_srtp_protect(&a, pkt, &n, sizeof(pkt)), 0);
	assert_int_equal(rtp_srtp_unprotect(&c, pkt, &n), EBADMSG);
	k3.mki_len = RTP_SRTP_MKI_MAX + 1;
	assert_int_equal(rtp_srtp_start(&c, &k2, &k3), EINVAL);
	rtp_srtp_stop(&a);
	rtp_srtp_stop(&b);
	rtp_srtp_stop(&c);
}

static void test_sdes_keys(void **state)
{
	struct rtp_sdes_key k;
	enum rtp_srtp_suite s;
	/* RFC 4568 section 4's example key */
	const char *ex = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

	(void)state;
	assert_int_equal(rtp_srtp_suite_parse(PL("AES_CM_128_HMAC_SHA1_32"), &s), 0);
	assert_int_equal(s, RTP_SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(rtp_srtp_suite_parse(PL("AEAD_AES_128_GCM"), &s), 0);
	assert_int_equal(s, RTP_SRTP_AEAD_AES_128_GCM);
	assert_int_equal(rtp_srtp_suite_parse(PL("F8_128_HMAC_SHA1_80"), &s), ENOENT);
	assert_string_equal(rtp_srtp_suite_name(RTP_SRTP_AES_CM_128_HMAC_SHA1_80),
	                    "AES_CM_128_HMAC_SHA1_80");
	assert_int_equal(
	    rtp_sdes_key_from_b64(&k, RTP_SRTP_AES_CM_128_HMAC_SHA1_80, pl_make(ex, strlen(ex))),
	    0);
	assert_int_equal(k.len, 30);
	assert_int_equal(k.key[0], 0x3d); /* 'P','S' -> 0x3d 0x2d ... */
	assert_int_equal(k.key[1], 0x2d);
	/* 30 bytes is the wrong size for GCM (28) */
	assert_int_equal(
	    rtp_sdes_key_from_b64(&k, RTP_SRTP_AEAD_AES_128_GCM, pl_make(ex, strlen(ex))), EBADMSG);
	assert_int_equal(rtp_sdes_key_from_b64(&k, RTP_SRTP_AES_CM_128_HMAC_SHA1_80, PL("abc")),
	                 EBADMSG);
	assert_int_equal(rtp_sdes_key_from_b64(&k, RTP_SRTP_AES_CM_128_HMAC_SHA1_80,
	                                       PL("PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaV!R")),
	                 EBADMSG);
	/* GCM keys: 28 bytes, 38 characters unpadded or 40 with "==" */
	struct rtp_sdes_key g, g2;
	char b64[RTP_SRTP_B64_MAX];
	assert_int_equal(rtp_sdes_key_gen(&g, RTP_SRTP_AEAD_AES_128_GCM), 0);
	assert_int_equal(rtp_sdes_key_b64(&g, b64, sizeof(b64)), 0);
	assert_int_equal(strlen(b64), 40);
	assert_int_equal(rtp_sdes_key_from_b64(&g2, g.suite, pl_make(b64, 38)), 0);
	assert_memory_equal(g.key, g2.key, 28);
	struct rtp_srtp x = {0};
	assert_int_equal(rtp_srtp_start(&x, &g, &k), EINVAL); /* suites differ */
	/* raw bytes, as media/sdp hands them over */
	assert_int_equal(rtp_sdes_key_set(&g2, RTP_SRTP_AEAD_AES_128_GCM, g.key, 28), 0);
	assert_memory_equal(g2.key, g.key, 28);
	assert_int_equal(rtp_sdes_key_set(&g2, RTP_SRTP_AEAD_AES_128_GCM, g.key, 30), EINVAL);
	assert_int_equal(rtp_srtp_start(&x, &g, &g2), 0);
	rtp_srtp_stop(&x);
}

/* ---- sockets -------------------------------------------------------------- */

static void test_sockets(void **state)
{
	struct rtp_ports ports;
	struct rtp_socks s[4];
	struct sa lo, lo6;
	uint16_t base = (uint16_t)(41000 + (getpid() % 2000) * 4);
	int tos = 0;
	socklen_t tl = sizeof(tos);

	(void)state;
	assert_int_equal(rtp_ports_init(&ports, 10, 10), EINVAL);
	assert_int_equal(rtp_ports_init(&ports, (uint16_t)(base - 1), (uint16_t)(base + 4)), 0);
	assert_int_equal(ports.min, base);
	assert_int_equal(ports.max, base + 3);
	sa_set_str(&lo, "127.0.0.1", 0);
	sa_set_str(&lo6, "::1", 0);
	assert_int_equal(rtp_socks_open(&s[0], &ports, &lo, RTP_DSCP_EF), 0);
	assert_int_equal(sa_port(&s[0].laddr) % 2, 0);
	assert_int_equal(getsockopt(s[0].rtp_fd, IPPROTO_IP, IP_TOS, &tos, &tl), 0);
	assert_int_equal(tos, 46 << 2);
	struct sa bound;
	bound.len = sizeof(bound.u);
	assert_int_equal(getsockname(s[0].rtcp_fd, &bound.u.sa, &bound.len), 0);
	assert_int_equal(sa_port(&bound), sa_port(&s[0].laddr) + 1);
	assert_int_equal(rtp_socks_open(&s[1], &ports, &lo, 34), 0);
	assert_int_not_equal(sa_port(&s[1].laddr), sa_port(&s[0].laddr));
	assert_int_equal(rtp_socks_open(&s[2], &ports, &lo, 0), EADDRINUSE); /* range full */
	/* a pair freed is reused */
	rtp_socks_close(&s[0]);
	assert_int_equal(s[0].rtp_fd, -1);
	assert_int_equal(rtp_socks_open(&s[2], &ports, &lo, 0), 0);
	rtp_socks_close(&s[1]);
	rtp_socks_close(&s[2]);
	struct sa bad = {0};
	assert_int_equal(rtp_socks_open(&s[3], &ports, &bad, 0), EINVAL);
	(void)lo6;
}

static int udp_any(struct sa *sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	sa_set_str(sa, "127.0.0.1", 0);
	assert_int_equal(bind(fd, &sa->u.sa, sa->len), 0);
	sa->len = sizeof(sa->u);
	assert_int_equal(getsockname(fd, &sa->u.sa, &sa->len), 0);
	return fd;
}

/* The connected twin: the peer's datagrams reach it, anyone else's the bound socket;
 * it sends from the same port, keeps the marking, follows a new peer, and the
 * port stays taken for rtp_socks_open's plain binds. */
static void test_socket_twin(void **state)
{
	struct rtp_ports ports;
	struct rtp_socks s, s2;
	struct sa lo, peer_sa, other_sa, from;
	uint16_t base = (uint16_t)(43000 + (getpid() % 2000) * 4);
	int peer = udp_any(&peer_sa), other = udp_any(&other_sa), twin = -1, tos = 0;
	socklen_t tl = sizeof(tos);
	char buf[16];

	(void)state;
	sa_set_str(&lo, "127.0.0.1", 0);
	assert_int_equal(rtp_ports_init(&ports, base, (uint16_t)(base + 1)), 0);
	assert_int_equal(rtp_socks_open(&s, &ports, &lo, RTP_DSCP_EF), 0);
	assert_int_equal(rtp_sock_twin(s.rtp_fd, &peer_sa, &twin), 0);
	assert_int_equal(getsockopt(twin, IPPROTO_IP, IP_TOS, &tos, &tl), 0);
	assert_int_equal(tos, RTP_DSCP_EF << 2);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(sendto(peer, "p", 1, 0, &s.laddr.u.sa, s.laddr.len), 1);
		assert_int_equal(sendto(other, "o", 1, 0, &s.laddr.u.sa, s.laddr.len), 1);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(recv(twin, buf, sizeof(buf), 0), 1);
		assert_int_equal(buf[0], 'p');
		assert_int_equal(recv(s.rtp_fd, buf, sizeof(buf), 0), 1);
		assert_int_equal(buf[0], 'o');
	}
	assert_true(recv(twin, buf, sizeof(buf), MSG_DONTWAIT) < 0);
	assert_true(recv(s.rtp_fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);
	/* sends from the RTP port */
	assert_int_equal(send(twin, "t", 1, 0), 1);
	from.len = sizeof(from.u);
	assert_int_equal(recvfrom(peer, buf, sizeof(buf), 0, &from.u.sa, &from.len), 1);
	assert_true(sa_eq(&from, &s.laddr));
	/* another peer */
	assert_int_equal(rtp_sock_twin_peer(twin, &other_sa), 0);
	assert_int_equal(sendto(other, "o", 1, 0, &s.laddr.u.sa, s.laddr.len), 1);
	assert_int_equal(sendto(peer, "p", 1, 0, &s.laddr.u.sa, s.laddr.len), 1);
	assert_int_equal(recv(twin, buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], 'o');
	assert_int_equal(recv(s.rtp_fd, buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], 'p');
	/* the range has this one pair: still taken */
	assert_int_equal(rtp_socks_open(&s2, &ports, &lo, 0), EADDRINUSE);
	close(twin);
	rtp_socks_close(&s);
	assert_int_equal(rtp_socks_open(&s2, &ports, &lo, 0), 0);
	rtp_socks_close(&s2);
	close(peer);
	close(other);
}

static void test_sockets_v6_and_io(void **state)
{
	struct rtp_ports ports;
	struct rtp_socks a, b;
	struct sa lo6;
	uint16_t base = (uint16_t)(45000 + (getpid() % 2000) * 4);
	int tc = 0;
	socklen_t tl = sizeof(tc);
	uint8_t pkt[RTP_BUF_SIZE];
	struct rtp_hdr h;
	struct rtp_sdes_key k1, k2;
	struct rtp_srtp ea = {0}, eb = {0};

	(void)state;
	assert_int_equal(rtp_ports_init(&ports, base, (uint16_t)(base + 3)), 0);
	sa_set_str(&lo6, "::1", 0);
	if (rtp_socks_open(&a, &ports, &lo6, RTP_DSCP_EF) != 0) {
		print_message("no IPv6 loopback: skipped\n");
		return;
	}
	assert_int_equal(getsockopt(a.rtp_fd, IPPROTO_IPV6, IPV6_TCLASS, &tc, &tl), 0);
	assert_int_equal(tc, 46 << 2);
	assert_int_equal(rtp_socks_open(&b, &ports, &lo6, RTP_DSCP_EF), 0);
	/* SRTP from a to b through the kernel, with the session's own buffers */
	sess_init(&sa_, true, 0);
	sess_init(&sb_, true, 0);
	rtp_sess_set_remote(&sa_, &b.laddr);
	assert_int_equal(rtp_sdes_key_gen(&k1, RTP_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	assert_int_equal(rtp_sdes_key_gen(&k2, RTP_SRTP_AES_CM_128_HMAC_SHA1_80), 0);
	assert_int_equal(rtp_srtp_start(&ea, &k1, &k2), 0);
	assert_int_equal(rtp_srtp_start(&eb, &k2, &k1), 0);
	enum rtp_rx v = RTP_RX_MALFORMED;
	static uint8_t rbuf[RTP_BUF_SIZE];
	assert_int_equal(rtp_sess_recv(&sb_, &eb, b.rtp_fd, rbuf, T0, &h, &v), EAGAIN);
	for (unsigned i = 0; i < 3; i++) {
		memset(pkt, 0xd5, 160);
		assert_int_equal(
		    rtp_sess_send(&sa_, &ea, a.rtp_fd, 8, i == 0, i * 160, pkt, 160, T0), 0);
		int err = EAGAIN;
		for (unsigned tries = 0; tries < 1000 && err == EAGAIN; tries++) {
			err = rtp_sess_recv(&sb_, &eb, b.rtp_fd, rbuf, T0, &h, &v);
			if (err == EAGAIN)
				usleep(1000);
		}
		assert_int_equal(err, 0);
		assert_int_equal(v, i == 0 ? RTP_RX_PROBATION : RTP_RX_OK);
		assert_true(sa_eq(rtp_sess_remote(&sb_), &a.laddr)); /* latched */
	}
	assert_int_equal(h.pt, 8);
	assert_int_equal(h.payload_len, 160);
	assert_int_equal(h.payload[0], 0xd5);
	assert_int_equal(sb_.src.received, 2);
	/* SRTCP the same way, onto b's RTP port (RFC 5761 mux) */
	assert_int_equal(rtp_sess_send_rtcp(&sa_, &ea, a.rtp_fd, &b.laddr, true, T0), 0);
	int err = EAGAIN;
	for (unsigned tries = 0; tries < 1000 && err == EAGAIN; tries++) {
		err = rtp_sess_recv(&sb_, &eb, b.rtp_fd, rbuf, T0, &h, &v);
		if (err == EAGAIN)
			usleep(1000);
	}
	assert_int_equal(err, 0);
	assert_int_equal(v, RTP_RX_RTCP);
	assert_true(rtp_sess_events(&sb_, T0) & RTP_EV_BYE);
	assert_int_not_equal(sb_.lsr, 0); /* it was an SR */
	/* a packet under the wrong key is refused */
	struct rtp_srtp ec = {0};
	assert_int_equal(rtp_srtp_start(&ec, &k2, &k2), 0);
	assert_int_equal(rtp_sess_send(&sa_, &ec, a.rtp_fd, 8, false, 480, pkt, 160, T0), 0);
	err = EAGAIN;
	for (unsigned tries = 0; tries < 1000 && err == EAGAIN; tries++) {
		err = rtp_sess_recv(&sb_, &eb, b.rtp_fd, rbuf, T0, &h, &v);
		if (err == EAGAIN)
			usleep(1000);
	}
	assert_int_equal(err, EBADMSG);
	rtp_srtp_stop(&ec);
	rtp_srtp_stop(&ea);
	rtp_srtp_stop(&eb);
	rtp_socks_close(&a);
	rtp_socks_close(&b);
}

/* Allocations made by a thousand packets (RTP + the RTCP due meanwhile) through
 * SRTP with suite (or none: -1), the session and RTCP, after a warm-up pass. */
static unsigned long allocs_per_1000(int suite)
{
	struct rtp_sdes_key k1, k2;
	struct rtp_srtp ea = {0}, eb = {0};
	uint8_t pl[160];
	struct rtp_hdr h;
	struct sa from;
	size_t n;
	uint64_t t = T0;
	unsigned long used = 0;
	static uint8_t tx_buf[RTP_BUF_SIZE], rx_buf[RTP_BUF_SIZE], rtcp_buf[RTP_BUF_SIZE];

	memset(pl, 0x55, sizeof(pl));
	sa_set_str(&from, "192.0.2.5", 5000);
	sess_init(&sa_, true, 1000);
	sess_init(&sb_, true, 1000);
	if (suite >= 0) {
		assert_int_equal(rtp_sdes_key_gen(&k1, (enum rtp_srtp_suite)suite), 0);
		assert_int_equal(rtp_sdes_key_gen(&k2, (enum rtp_srtp_suite)suite), 0);
		assert_int_equal(rtp_srtp_start(&ea, &k1, &k2), 0);
		assert_int_equal(rtp_srtp_start(&eb, &k2, &k1), 0);
	}
	for (unsigned pass = 0; pass < 2; pass++) {
		unsigned long before = ALLOCS();
		for (unsigned i = 0; i < 1000; i++, t += 20000) {
			memcpy(tx_buf + RTP_HDR_SIZE, pl, sizeof(pl));
			assert_int_equal(rtp_sess_tx(&sa_, tx_buf, RTP_MTU, 0, false,
			                             (pass * 1000 + i) * 160, 160, t, &n),
			                 0);
			if (ea.on)
				assert_int_equal(
				    rtp_srtp_protect(&ea, tx_buf, &n, sizeof(tx_buf)), 0);
			memcpy(rx_buf, tx_buf, n);
			if (eb.on)
				assert_int_equal(rtp_srtp_unprotect(&eb, rx_buf, &n), 0);
			(void)rtp_sess_rx(&sb_, rx_buf, n, &from, t, &h);
			if (!(rtp_sess_events(&sa_, t) & RTP_EV_RTCP_DUE))
				continue;
			assert_int_equal(
			    rtp_sess_rtcp_build(&sa_, rtcp_buf, RTP_MTU, false, t, &n), 0);
			if (ea.on)
				assert_int_equal(rtp_srtp_protect_rtcp(&ea, rtcp_buf, &n,
				                                       sizeof(rtcp_buf)),
				                 0);
			if (eb.on)
				assert_int_equal(rtp_srtp_unprotect_rtcp(&eb, rtcp_buf, &n), 0);
			assert_int_equal(rtp_sess_rtcp_rx(&sb_, rtcp_buf, n, t), 0);
		}
		used = ALLOCS() - before; /* the first pass may warm up lazy state */
	}
	assert_int_equal(sb_.src.received, 1999);
	rtp_srtp_stop(&ea);
	rtp_srtp_stop(&eb);
	return used;
}

/* The per-packet path of this module allocates nothing (plain build: every
 * malloc/calloc/realloc is counted). libsrtp2 is another matter: Debian builds
 * it on NSS, whose PK11_Encrypt allocates per packet; this test records how
 * much, so a change of crypto backend shows up here. */
static void test_no_alloc_per_packet(void **state)
{
	(void)state;
	assert_int_equal(allocs_per_1000(-1), 0);
	for (int s = 0; s < RTP_SRTP_NSUITES; s++)
		print_message("%s: %lu allocations per 1000 packets (libsrtp2)\n",
		              rtp_srtp_suite_name((enum rtp_srtp_suite)s), allocs_per_1000(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rtp_round_trip),
	    cmocka_unit_test(test_rtp_malformed),
	    cmocka_unit_test(test_rtcp_round_trip),
	    cmocka_unit_test(test_rtcp_malformed),
	    cmocka_unit_test(test_seq_probation_wrap_restart),
	    cmocka_unit_test(test_jitter_known_pattern),
	    cmocka_unit_test(test_rr_loss_fraction),
	    cmocka_unit_test(test_rtt),
	    cmocka_unit_test(test_latching),
	    cmocka_unit_test(test_timeout_and_bye),
	    cmocka_unit_test(test_rtcp_interval),
	    cmocka_unit_test(test_srtp_80),
	    cmocka_unit_test(test_srtp_32),
	    cmocka_unit_test(test_srtp_gcm),
	    cmocka_unit_test(test_srtp_mki),
	    cmocka_unit_test(test_sdes_keys),
	    cmocka_unit_test(test_sockets),
	    cmocka_unit_test(test_socket_twin),
	    cmocka_unit_test(test_sockets_v6_and_io),
	    cmocka_unit_test(test_no_alloc_per_packet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
