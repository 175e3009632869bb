/*
 * rtp: RTP and RTCP (RFC 3550) for one voice stream: packet parse and build,
 * receive statistics (A.1 sequence validation, A.3 loss, A.8 jitter), SR/RR
 * with round-trip time, SDES CNAME, BYE, the report interval (6.3, without
 * timer reconsideration), symmetric RTP latching, an inactivity event, and
 * UDP sockets from a port range with DSCP marking.
 *
 * Ownership and threading: struct rtp_sess is embedded in a media channel and
 * initialised in place; nothing here allocates after rtp_sess_init(), so the
 * per-packet path is allocation-free. A session belongs to one thread (its
 * media worker). Parsers are pure and zero-copy: results point into the
 * caller's buffer, which must outlive them. struct rtp_ports is used by the
 * signalling thread only. Times are monotonic microseconds passed in by the
 * caller (now_us), so the whole module is testable without a clock.
 */
#ifndef TANDEM_MEDIA_RTP_H
#define TANDEM_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"
#include "core/sa.h"

#define RTP_VERSION      2
#define RTP_HDR_SIZE     12   /* fixed header, no CSRC, no extension */
#define RTP_MTU          1500 /* largest datagram we send or accept */
#define RTP_TRAILER_ROOM 144  /* libsrtp may write SRTP_MAX_TRAILER_LEN after a packet */
#define RTP_BUF_SIZE     (RTP_MTU + RTP_TRAILER_ROOM)
#define RTCP_HDR_SIZE    4

/* ---- RTP packets -------------------------------------------------------- */

struct rtp_hdr {
	bool padding, ext, marker;
	uint8_t cc; /* CSRC count */
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *csrc;     /* cc * 4 bytes, network order (rtp_hdr_csrc) */
	uint16_t ext_profile;    /* "defined by profile" word, if ext */
	const uint8_t *ext_data; /* ext_len bytes (a multiple of 4), if ext */
	size_t ext_len;
	const uint8_t *payload; /* after header, before padding */
	size_t payload_len;
	size_t hdr_len;  /* bytes before the payload */
	uint8_t pad_len; /* trailing padding, including the count byte */
};

/* Parses buf (len bytes). 0, or EBADMSG if it is not a well-formed RTP packet
 * (version, CSRC/extension beyond the end, padding count 0 or too long). */
int rtp_parse(struct rtp_hdr *h, const uint8_t *buf, size_t len);
uint32_t rtp_hdr_csrc(const struct rtp_hdr *h, unsigned i);
/* Writes the header described by h (cc, csrc, ext, ext_profile, ext_data,
 * ext_len; padding is ignored) at buf. *lenp = header bytes. ENOSPC, EINVAL. */
int rtp_hdr_encode(uint8_t *buf, size_t size, const struct rtp_hdr *h, size_t *lenp);
/* RFC 5761 demultiplexing: true if the second byte is an RTCP type 192..223. */
bool rtp_is_rtcp(const uint8_t *buf, size_t len);

/* ---- RTCP packets ------------------------------------------------------- */

enum rtcp_type {
	RTCP_SR = 200,
	RTCP_RR = 201,
	RTCP_SDES = 202,
	RTCP_BYE = 203,
	RTCP_APP = 204,
};

enum { RTCP_SDES_END = 0, RTCP_SDES_CNAME = 1 };

struct rtcp_sr_info {
	uint64_t ntp; /* NTP timestamp, 32.32 */
	uint32_t rtp_ts;
	uint32_t pkts;
	uint32_t octets;
};

struct rtcp_rb {
	uint32_t ssrc;
	uint8_t fraction; /* lost fraction, 1/256 units */
	int32_t lost;     /* cumulative, 24-bit signed */
	uint32_t ext_max; /* extended highest sequence received */
	uint32_t jitter;  /* timestamp units */
	uint32_t lsr;     /* middle 32 bits of the last SR's NTP time */
	uint32_t dlsr;    /* delay since last SR, 1/65536 s */
};

/* One packet of a compound RTCP packet; pointers into the caller's buffer. */
struct rtcp_pkt {
	uint8_t pt;
	uint8_t count;       /* RC / SC / source count */
	const uint8_t *body; /* after the 4-byte header, padding excluded */
	size_t len;
	uint32_t ssrc;          /* sender (SR/RR/APP), first source (SDES/BYE) */
	struct rtcp_sr_info sr; /* SR only */
	const uint8_t *rb;      /* SR/RR report blocks, 24 bytes each */
	unsigned nrb;
	struct pl reason; /* BYE reason, if any */
};

struct rtcp_iter {
	const uint8_t *p;
	size_t left;
};

void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *buf, size_t len);
/* Next packet: 0, ENOENT at the end, EBADMSG if malformed (then stop). Checks
 * per RFC 3550 A.2: version 2, lengths within the compound, padding only in
 * the last packet, SR/RR/SDES/BYE bodies consistent with their counts. */
int rtcp_iter_next(struct rtcp_iter *it, struct rtcp_pkt *pkt);
/* Whole compound: 0 or EBADMSG (also if empty). */
int rtcp_validate(const uint8_t *buf, size_t len);
int rtcp_rb_get(const struct rtcp_pkt *p, unsigned i, struct rtcp_rb *rb);
/* CNAME of the first SDES chunk: 0 or ENOENT. */
int rtcp_sdes_cname(const struct rtcp_pkt *p, struct pl *cname);

/* Encoders append nothing: each writes one packet at buf and sets *lenp.
 * 0, or ENOSPC if size is too small, EINVAL for bad counts. */
int rtcp_encode_sr(uint8_t *buf, size_t size, size_t *lenp, uint32_t ssrc,
                   const struct rtcp_sr_info *sr, const struct rtcp_rb *rb, unsigned nrb);
int rtcp_encode_rr(uint8_t *buf, size_t size, size_t *lenp, uint32_t ssrc, const struct rtcp_rb *rb,
                   unsigned nrb);
int rtcp_encode_sdes_cname(uint8_t *buf, size_t size, size_t *lenp, uint32_t ssrc,
                           const char *cname);
int rtcp_encode_bye(uint8_t *buf, size_t size, size_t *lenp, const uint32_t *ssrc, unsigned n,
                    const char *reason);

/* NTP helpers: middle 32 bits; 1/65536 s <-> microseconds. */
static inline uint32_t rtcp_ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}
uint64_t rtcp_ntp_from_us(uint64_t wall_us); /* Unix-epoch microseconds -> NTP */

/* ---- receive statistics for one source (RFC 3550 A.1, A.3, A.8) ---------- */

enum rtp_seq_res {
	RTP_SEQ_OK = 0,    /* valid: in order, reordered or duplicate */
	RTP_SEQ_PROBATION, /* new source not yet validated: drop */
	RTP_SEQ_BAD,       /* large jump, not (yet) a restart: drop */
	RTP_SEQ_RESTART,   /* second packet after a jump: source restarted, valid */
};

struct rtp_source {
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles; /* shifted count of wraps */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t probation;
	uint32_t received;
	uint32_t expected_prior;
	uint32_t received_prior;
	uint32_t transit;
	uint32_t jitter16; /* jitter * 16 (A.8 integer form) */
	bool have_transit;
	bool active; /* ssrc known */
};

/* A new source: probation as in A.1 (the first packet is not yet valid). */
void rtp_source_init(struct rtp_source *s, uint32_t ssrc, uint16_t seq);
enum rtp_seq_res rtp_source_update_seq(struct rtp_source *s, uint16_t seq);
/* arrival: arrival time in timestamp units (any origin). */
void rtp_source_update_jitter(struct rtp_source *s, uint32_t rtp_ts, uint32_t arrival);
uint32_t rtp_source_jitter(const struct rtp_source *s);
uint32_t rtp_source_ext_max(const struct rtp_source *s);
int32_t rtp_source_lost(const struct rtp_source *s);
/* Fills rb (ssrc, fraction, lost, ext_max, jitter) and starts a new interval. */
void rtp_source_report(struct rtp_source *s, struct rtcp_rb *rb);

/* ---- session --------------------------------------------------------------- */

struct rtp_sess_cfg {
	uint32_t clock_rate;      /* 8000 */
	uint32_t timeout_ms;      /* no RTP nor RTCP for this long -> RTP_EV_TIMEOUT; 0: off */
	uint32_t latch_count;     /* packets in sequence, same SSRC, to move the latch; 0: 5 */
	uint32_t relatch_idle_ms; /* latched source silent this long: move at once; 0: 2000 */
	uint32_t session_bw;      /* bits/s, for the RTCP interval; 0: 64000 */
	bool latch;               /* symmetric RTP */
	const char *cname;        /* copied, truncated to 63 bytes */
};

enum rtp_event {
	RTP_EV_TIMEOUT = 1 << 0,  /* no RTP nor RTCP for timeout_ms (once until RTP resumes) */
	RTP_EV_RTCP_DUE = 1 << 1, /* time to send a report: rtp_sess_rtcp_build() */
	RTP_EV_BYE = 1 << 2,      /* the remote source sent BYE */
	RTP_EV_LATCHED = 1 << 3,  /* remote address learned or moved: rtp_sess_remote() */
	RTP_EV_RTT = 1 << 4,      /* a new round-trip time: s->rtt_us */
	RTP_EV_SSRC = 1 << 5,     /* the remote SSRC changed */
};

enum rtp_rx {
	RTP_RX_OK = 0,      /* deliver the payload */
	RTP_RX_MALFORMED,   /* not RTP */
	RTP_RX_PROBATION,   /* source not yet validated (A.1): drop */
	RTP_RX_BAD_SEQ,     /* sequence jump: drop */
	RTP_RX_NOT_LATCHED, /* from another address than the latched one: drop */
	RTP_RX_RTCP,        /* rtp_sess_recv(): it was RTCP, and has been processed */
};

struct rtp_sess {
	struct rtp_sess_cfg cfg;
	char cname[64];
	uint32_t ssrc; /* ours, random */
	uint16_t tx_seq;
	uint32_t tx_ts_base;
	/* sender state */
	uint32_t tx_pkts, tx_octets;
	uint32_t tx_last_ts;
	uint64_t tx_last_us;
	bool sent_since_report;
	/* the remote source */
	struct rtp_source src;
	uint32_t lsr;           /* from the last SR received (0: none) */
	uint64_t lsr_rx_us;     /* when it arrived */
	uint64_t rx_last_us;    /* last valid RTP */
	struct rtcp_rb peer_rb; /* the last report the peer sent about us */
	bool have_peer_rb;
	uint32_t rtt_us;
	bool have_rtt;
	/* symmetric RTP */
	struct sa remote;     /* where we send RTP */
	struct sa sdp_remote; /* what signalling said; always allowed to take the latch */
	bool latched;
	uint64_t latch_last_us; /* last packet from the latched address */
	struct sa cand;         /* a new address trying to take over */
	uint32_t cand_ssrc;
	uint16_t cand_seq;
	uint32_t cand_n;
	/* RTCP scheduling */
	uint64_t rtcp_next_us;
	double avg_rtcp_size;
	bool initial;
	uint64_t rng;
	int64_t wall_off_us; /* wall clock - monotonic, for SR NTP times */
	/* events */
	unsigned events;
	bool timed_out;
};

/* Initialises s in place (random SSRC, sequence and timestamp base from the
 * CSPRNG). remote: from SDP, may be NULL. 0 or EINVAL (clock_rate 0), EIO (rng). */
int rtp_sess_init(struct rtp_sess *s, const struct rtp_sess_cfg *cfg, const struct sa *remote,
                  uint64_t now_us);
/* Re-point (re-INVITE): sets the remote and drops the latch. */
void rtp_sess_set_remote(struct rtp_sess *s, const struct sa *remote);
const struct sa *rtp_sess_remote(const struct rtp_sess *s);

/* A received (already SRTP-unprotected) RTP packet from `from`. On RTP_RX_OK
 * *h describes it (payload pointing into buf). Updates statistics only for
 * packets that pass latching. */
enum rtp_rx rtp_sess_rx(struct rtp_sess *s, const uint8_t *buf, size_t len, const struct sa *from,
                        uint64_t now_us, struct rtp_hdr *h);

/* Writes the 12-byte header for a packet whose payload_len bytes the caller
 * has put at buf + RTP_HDR_SIZE; ts = base + ts_samples. *lenp: packet size. */
int rtp_sess_tx(struct rtp_sess *s, uint8_t *buf, size_t size, uint8_t pt, bool marker,
                uint32_t ts_samples, size_t payload_len, uint64_t now_us, size_t *lenp);

/* A received (already unprotected) RTCP compound packet. 0 or EBADMSG. */
int rtp_sess_rtcp_rx(struct rtp_sess *s, const uint8_t *buf, size_t len, uint64_t now_us);
/* Builds SR (if we sent since the last report) or RR, SDES CNAME, and BYE if
 * bye: the compound to send. Reschedules the next report. 0 or ENOSPC. */
int rtp_sess_rtcp_build(struct rtp_sess *s, uint8_t *buf, size_t size, bool bye, uint64_t now_us,
                        size_t *lenp);
/* Returns and clears pending events (also checks the timeout and RTCP timer). */
unsigned rtp_sess_events(struct rtp_sess *s, uint64_t now_us);
/* The deterministic part of the RTCP interval (6.3.1), microseconds. */
uint64_t rtp_sess_rtcp_interval_us(const struct rtp_sess *s);

/* ---- socket I/O for one session (the media worker batches its own) -------- */

struct rtp_srtp; /* media/rtp/srtp.h */

/* Reads one datagram from fd into buf (RTP_BUF_SIZE bytes), SRTP-unprotects it
 * when srtp is started, and hands it to rtp_sess_rx() or, if it is RTCP (its own
 * socket or RFC 5761 mux), to rtp_sess_rtcp_rx() with *v = RTP_RX_RTCP. *h points
 * into buf. 0 with *v set; EAGAIN when nothing is queued; EBADMSG (SRTP
 * authentication, malformed RTCP), EALREADY (SRTP replay), or an errno from
 * recvfrom. */
int rtp_sess_recv(struct rtp_sess *s, struct rtp_srtp *srtp, int fd, uint8_t buf[RTP_BUF_SIZE],
                  uint64_t now_us, struct rtp_hdr *h, enum rtp_rx *v);
/* Builds one packet, protects it, sends it to rtp_sess_remote(). */
int rtp_sess_send(struct rtp_sess *s, struct rtp_srtp *srtp, int fd, uint8_t pt, bool marker,
                  uint32_t ts_samples, const uint8_t *payload, size_t len, uint64_t now_us);
/* Builds the RTCP compound, protects it, sends it to dst. */
int rtp_sess_send_rtcp(struct rtp_sess *s, struct rtp_srtp *srtp, int fd, const struct sa *dst,
                       bool bye, uint64_t now_us);

/* ---- sockets ------------------------------------------------------------ */

#define RTP_DSCP_EF 46

struct rtp_ports {
	uint16_t min, max; /* min even, max odd after init */
	uint16_t next;
};

struct rtp_socks {
	int rtp_fd, rtcp_fd;
	struct sa laddr; /* with the RTP port */
};

/* Range [min, max]; at least one even/odd pair. 0 or EINVAL. */
int rtp_ports_init(struct rtp_ports *p, uint16_t min, uint16_t max);
/* Binds an even RTP and the next odd RTCP port from the range on laddr's
 * address, non-blocking, close-on-exec, marked with dscp (0..63). Ports are
 * tried in rotation. 0, EADDRINUSE if every pair is taken, or an errno. */
int rtp_socks_open(struct rtp_socks *ss, struct rtp_ports *p, const struct sa *laddr, uint8_t dscp);
void rtp_socks_close(struct rtp_socks *ss);
/* IP_TOS (IPv4) or IPV6_TCLASS (IPv6, plus IP_TOS for mapped IPv4). */
int rtp_sock_set_dscp(int fd, int af, uint8_t dscp);
/*
 * A connected twin of the bound UDP socket fd: same local address and port, same
 * marking, connected to peer. The kernel then gives the twin the peer's datagrams
 * and fd everyone else's (a connected socket is the better match), and a send on
 * the twin skips the route lookup of an unconnected sendto. SO_REUSEPORT is set
 * on fd only after its bind and on the twin, so a plain bind (rtp_socks_open's)
 * still finds the port taken. rtp_sock_twin_peer() re-connects it (another peer).
 */
int rtp_sock_twin(int fd, const struct sa *peer, int *twinp);
int rtp_sock_twin_peer(int twin, const struct sa *peer);

#endif
