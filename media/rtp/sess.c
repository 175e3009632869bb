/*
 * One RTP session: receive statistics, symmetric RTP latching, SR/RR with
 * round-trip time, the report interval and the inactivity event.
 */
#include "media/rtp/rtp.h"

#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/err.h"

#define US 1000000u

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * US + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t ntp_now(const struct rtp_sess *s, uint64_t now_us)
{
	return rtcp_ntp_from_us((uint64_t)((int64_t)now_us + s->wall_off_us));
}

/* xorshift64*: only to spread report times, not for anything secret */
static double rng_unit(struct rtp_sess *s)
{
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

uint64_t rtp_sess_rtcp_interval_us(const struct rtp_sess *s)
{
	/* 6.3.1 with two members, both senders: 5% of the session bandwidth. */
	double rtcp_bw = s->cfg.session_bw * 0.05 / 8.0; /* bytes/s */
	double t = s->avg_rtcp_size * 2.0 / rtcp_bw;
	double tmin = s->initial ? 2.5 : 5.0;

	if (t < tmin)
		t = tmin;
	return (uint64_t)(t * US);
}

static void rtcp_schedule(struct rtp_sess *s, uint64_t now_us)
{
	/* Randomised over [0.5, 1.5] T, compensated by e - 3/2 (6.3.1). */
	double t = (double)rtp_sess_rtcp_interval_us(s) * (0.5 + rng_unit(s)) / 1.21828;

	s->rtcp_next_us = now_us + (uint64_t)t;
}

int rtp_sess_init(struct rtp_sess *s, const struct rtp_sess_cfg *cfg, const struct sa *remote,
                  uint64_t now_us)
{
	struct {
		uint32_t ssrc, ts;
		uint16_t seq;
		uint64_t rng;
	} r;

	if (!cfg || !cfg->clock_rate)
		return EINVAL;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return EIO;
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->cfg.cname = NULL; /* not kept: copied below */
	if (!s->cfg.latch_count)
		s->cfg.latch_count = 5;
	if (!s->cfg.relatch_idle_ms)
		s->cfg.relatch_idle_ms = 2000;
	if (!s->cfg.session_bw)
		s->cfg.session_bw = 64000;
	if (cfg->cname)
		strncpy(s->cname, cfg->cname, sizeof(s->cname) - 1);
	s->ssrc = r.ssrc;
	s->tx_seq = r.seq;
	s->tx_ts_base = r.ts;
	s->rng = r.rng | 1;
	s->wall_off_us = (int64_t)(wall_us() - now_us);
	s->rx_last_us = now_us;
	s->avg_rtcp_size = 28 + 8 + 24 + 12 + strlen(s->cname); /* IP/UDP + RR + SDES */
	s->initial = true;
	rtcp_schedule(s, now_us);
	if (remote)
		s->remote = s->sdp_remote = *remote;
	return 0;
}

void rtp_sess_set_remote(struct rtp_sess *s, const struct sa *remote)
{
	if (remote)
		s->remote = *remote;
	else
		memset(&s->remote, 0, sizeof(s->remote));
	s->sdp_remote = s->remote;
	s->latched = false;
	s->cand_n = 0;
}

const struct sa *rtp_sess_remote(const struct rtp_sess *s)
{
	return &s->remote;
}

static void latch_move(struct rtp_sess *s, const struct sa *from, uint64_t now_us)
{
	if (!s->latched || !sa_eq(&s->remote, from))
		s->events |= RTP_EV_LATCHED;
	s->remote = *from;
	s->latched = true;
	s->latch_last_us = now_us;
	s->cand_n = 0;
}

/*
 * Symmetric RTP. The first packet latches; a packet from the address in the
 * SDP takes the latch at any time (a stranger who got in first loses it as
 * soon as the real phone, not behind NAT, speaks). Otherwise a new address takes
 * over only if the latched one has been silent for relatch_idle_ms, or after
 * latch_count packets in sequence from it carrying the SSRC of the current
 * stream (a phone that moved networks): a stranger spraying packets at the
 * port cannot steal the call while the real phone talks.
 */
static bool latch_check(struct rtp_sess *s, const struct rtp_hdr *h, const struct sa *from,
                        uint64_t now_us)
{
	if (!s->latched) {
		latch_move(s, from, now_us);
		return true;
	}
	if (sa_eq(from, &s->remote)) {
		s->latch_last_us = now_us;
		s->cand_n = 0;
		return true;
	}
	if (sa_eq(from, &s->sdp_remote)) {
		/* the address signalling gave us beats whoever got in first */
		latch_move(s, from, now_us);
		return true;
	}
	if (now_us >= s->latch_last_us &&
	    now_us - s->latch_last_us >= (uint64_t)s->cfg.relatch_idle_ms * 1000u) {
		latch_move(s, from, now_us);
		return true;
	}
	if (s->src.active && h->ssrc != s->src.ssrc)
		return false;
	if (s->cand_n && sa_eq(from, &s->cand) && h->ssrc == s->cand_ssrc &&
	    h->seq == (uint16_t)(s->cand_seq + 1)) {
		s->cand_n++;
	} else {
		s->cand = *from;
		s->cand_ssrc = h->ssrc;
		s->cand_n = 1;
	}
	s->cand_seq = h->seq;
	if (s->cand_n < s->cfg.latch_count)
		return false;
	latch_move(s, from, now_us);
	return true;
}

enum rtp_rx rtp_sess_rx(struct rtp_sess *s, const uint8_t *buf, size_t len, const struct sa *from,
                        uint64_t now_us, struct rtp_hdr *h)
{
	struct rtp_hdr r;
	enum rtp_seq_res res;

	if (rtp_parse(&r, buf, len))
		return RTP_RX_MALFORMED;
	if (s->cfg.latch && from && !latch_check(s, &r, from, now_us))
		return RTP_RX_NOT_LATCHED;
	if (!s->src.active || r.ssrc != s->src.ssrc) {
		if (s->src.active)
			s->events |= RTP_EV_SSRC;
		rtp_source_init(&s->src, r.ssrc, r.seq);
	}
	s->rx_last_us = now_us;
	s->timed_out = false;
	res = rtp_source_update_seq(&s->src, r.seq);
	if (res == RTP_SEQ_PROBATION)
		return RTP_RX_PROBATION;
	if (res == RTP_SEQ_BAD)
		return RTP_RX_BAD_SEQ;
	rtp_source_update_jitter(&s->src, r.ts, (uint32_t)(now_us * s->cfg.clock_rate / US));
	*h = r;
	return RTP_RX_OK;
}

int rtp_sess_tx(struct rtp_sess *s, uint8_t *buf, size_t size, uint8_t pt, bool marker,
                uint32_t ts_samples, size_t payload_len, uint64_t now_us, size_t *lenp)
{
	struct rtp_hdr h;
	size_t hl;
	int err;

	if (size < RTP_HDR_SIZE || payload_len > size - RTP_HDR_SIZE)
		return ENOSPC;
	memset(&h, 0, sizeof(h));
	h.pt = pt;
	h.marker = marker;
	h.seq = s->tx_seq;
	h.ts = s->tx_ts_base + ts_samples;
	h.ssrc = s->ssrc;
	err = rtp_hdr_encode(buf, size, &h, &hl);
	if (err)
		return err;
	s->tx_seq++;
	s->tx_pkts++;
	s->tx_octets += (uint32_t)payload_len;
	s->tx_last_ts = h.ts;
	s->tx_last_us = now_us;
	s->sent_since_report = true;
	*lenp = hl + payload_len;
	return 0;
}

static void on_report_block(struct rtp_sess *s, const struct rtcp_rb *rb, uint64_t now_us)
{
	uint32_t a, rtt;

	if (rb->ssrc != s->ssrc)
		return;
	s->peer_rb = *rb;
	s->have_peer_rb = true;
	if (!rb->lsr)
		return;
	/* RTT = A - LSR - DLSR, all in the middle 32 bits of NTP time (6.4.1). */
	a = rtcp_ntp_mid(ntp_now(s, now_us));
	rtt = a - rb->lsr - rb->dlsr;
	if ((int32_t)rtt < 0) {
		if ((int32_t)rtt < -66) /* more than rounding: a bogus report */
			return;
		rtt = 0;
	}
	s->rtt_us = (uint32_t)(((uint64_t)rtt * US) >> 16);
	s->have_rtt = true;
	s->events |= RTP_EV_RTT;
}

static void on_rtcp_pkt(struct rtp_sess *s, const struct rtcp_pkt *k, uint64_t now_us)
{
	struct rtcp_rb rb;

	switch (k->pt) {
	case RTCP_SR:
		/* Another stream's SR must not feed our LSR (RTT would be wrong). */
		if (!s->src.active || k->ssrc == s->src.ssrc) {
			s->lsr = rtcp_ntp_mid(k->sr.ntp);
			s->lsr_rx_us = now_us;
		}
		/* fall through */
	case RTCP_RR:
		for (unsigned i = 0; i < k->nrb; i++)
			if (rtcp_rb_get(k, i, &rb) == 0)
				on_report_block(s, &rb, now_us);
		break;
	case RTCP_BYE:
		for (unsigned i = 0; i < k->count; i++) {
			const uint8_t *p = k->body + 4u * i;
			uint32_t ssrc = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
			                ((uint32_t)p[2] << 8) | p[3];
			if (s->src.active && ssrc == s->src.ssrc)
				s->events |= RTP_EV_BYE;
		}
		break;
	default:
		break;
	}
}

int rtp_sess_rtcp_rx(struct rtp_sess *s, const uint8_t *buf, size_t len, uint64_t now_us)
{
	struct rtcp_iter it;
	struct rtcp_pkt k;

	if (rtcp_validate(buf, len))
		return EBADMSG;
	rtcp_iter_init(&it, buf, len);
	while (rtcp_iter_next(&it, &k) == 0)
		on_rtcp_pkt(s, &k, now_us);
	s->avg_rtcp_size += ((double)len + 28 - s->avg_rtcp_size) / 16;
	/* a peer that sends no audio (silence suppression) still reports: it is alive */
	s->rx_last_us = now_us;
	return 0;
}

int rtp_sess_rtcp_build(struct rtp_sess *s, uint8_t *buf, size_t size, bool bye, uint64_t now_us,
                        size_t *lenp)
{
	struct rtcp_rb rb;
	unsigned nrb = 0;
	size_t off = 0, n;
	int err;

	/* Report on the remote source only once A.1 has validated it. */
	if (s->src.active && !s->src.probation) {
		rtp_source_report(&s->src, &rb);
		rb.lsr = s->lsr;
		rb.dlsr = s->lsr && now_us > s->lsr_rx_us
		              ? (uint32_t)(((now_us - s->lsr_rx_us) << 16) / US)
		              : 0;
		nrb = 1;
	}
	if (s->sent_since_report) {
		struct rtcp_sr_info sr = {
		    .ntp = ntp_now(s, now_us),
		    /* the RTP time of this instant, extrapolated from the last packet */
		    .rtp_ts = s->tx_last_ts +
		              (uint32_t)((now_us > s->tx_last_us ? now_us - s->tx_last_us : 0) *
		                         s->cfg.clock_rate / US),
		    .pkts = s->tx_pkts,
		    .octets = s->tx_octets,
		};
		err = rtcp_encode_sr(buf, size, &n, s->ssrc, &sr, &rb, nrb);
	} else {
		err = rtcp_encode_rr(buf, size, &n, s->ssrc, &rb, nrb);
	}
	if (err)
		return err;
	off += n;
	err = rtcp_encode_sdes_cname(buf + off, size - off, &n, s->ssrc, s->cname);
	if (err)
		return err;
	off += n;
	if (bye) {
		err = rtcp_encode_bye(buf + off, size - off, &n, &s->ssrc, 1, NULL);
		if (err)
			return err;
		off += n;
	}
	s->sent_since_report = false;
	s->initial = false;
	s->avg_rtcp_size += ((double)off + 28 - s->avg_rtcp_size) / 16;
	rtcp_schedule(s, now_us);
	*lenp = off;
	return 0;
}

unsigned rtp_sess_events(struct rtp_sess *s, uint64_t now_us)
{
	unsigned ev = s->events;

	s->events = 0;
	if (s->cfg.timeout_ms && !s->timed_out && now_us >= s->rx_last_us &&
	    now_us - s->rx_last_us >= (uint64_t)s->cfg.timeout_ms * 1000u) {
		s->timed_out = true;
		ev |= RTP_EV_TIMEOUT;
	}
	if (now_us >= s->rtcp_next_us)
		ev |= RTP_EV_RTCP_DUE;
	return ev;
}
