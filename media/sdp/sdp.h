/*
 * sdp: Session Description Protocol (RFC 8866) parsing and building, and the
 * offer/answer model (RFC 3264) for the one audio stream a gateway call has.
 *
 * Parsing is zero-copy and bounded: sdp_parse() fills a caller-provided
 * struct sdp_session (embed it, put it on the stack, or mem_zalloc it: it is
 * the only memory involved) with pl slices into the text, which must outlive
 * it. Attribute values are decoded on request (sdp_rtpmap_decode() etc.).
 * Offer/answer state (struct sdp_neg) is embedded in the call; it copies what
 * it must remember between exchanges, never slices of a peer's SDP, and
 * allocates nothing.
 *
 * Errors (core/err.h): EBADMSG malformed, E2BIG over a bound below, ENOSPC
 * output buffer too small, EPROTO an offer/answer step out of order,
 * EMEDIUMTYPE nothing usable in an offer or answer (answer 488 upstream).
 * Thread-safety: pure functions on caller data; a struct sdp_neg belongs to
 * the signalling thread.
 */
#ifndef TANDEM_MEDIA_SDP_H
#define TANDEM_MEDIA_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"
#include "core/sa.h"

/* ---- the parsed session ---- */

enum {
	SDP_MAX_MEDIA = 8,   /* m-lines */
	SDP_MAX_ATTR = 48,   /* a-lines per level (session, each m-line) */
	SDP_MAX_FMT = 32,    /* formats on one m-line */
	SDP_MAX_BW = 4,      /* b-lines per level */
	SDP_MAX_CONN = 4,    /* c-lines per m-line (layered multicast) */
	SDP_MAX_TIME = 4,    /* t-lines */
	SDP_MAX_REPEAT = 4,  /* r-lines per t-line */
	SDP_MAX_CONTACT = 4, /* e-lines, and p-lines */
};

/* Direction bits: what the side that wrote the SDP does. */
enum sdp_dir {
	SDP_INACTIVE = 0,
	SDP_SENDONLY = 1,
	SDP_RECVONLY = 2,
	SDP_SENDRECV = 3,
};

struct sdp_conn {
	struct pl nettype;  /* "IN" */
	struct pl addrtype; /* "IP4", "IP6" */
	struct pl addr;     /* without /ttl and /number */
	struct pl ttl;      /* IP4 multicast "/ttl", or unset */
	struct pl num;      /* "/number of addresses", or unset */
	struct sa sa;       /* set (port 0) when addr is an IP literal of addrtype */
	bool zero;          /* 0.0.0.0 (or ::): the RFC 2543 way of holding */
};

struct sdp_bw {
	struct pl type; /* "AS", "CT", "TIAS", ... */
	uint32_t value;
};

struct sdp_attr {
	struct pl name;
	struct pl value; /* unset (p NULL) for a property attribute ("a=sendonly") */
};

struct sdp_time {
	uint64_t start, stop;
	struct pl repeat[SDP_MAX_REPEAT]; /* r= values as written */
	unsigned nrepeat;
};

struct sdp_origin {
	struct pl user;
	struct pl id; /* sess-id digits */
	uint64_t version;
	struct pl nettype, addrtype, addr;
};

struct sdp_media {
	struct pl media; /* "audio", "video", "image", ... */
	uint16_t port;
	uint32_t nports; /* "/2" after the port; 0 when absent */
	struct pl proto; /* "RTP/AVP", "RTP/SAVP", "udptl", ... */
	struct pl fmt[SDP_MAX_FMT];
	unsigned nfmt;
	struct pl info; /* i= */
	struct pl key;  /* k= (obsolete, kept for round trips) */
	struct sdp_conn conn[SDP_MAX_CONN];
	unsigned nconn;
	struct sdp_bw bw[SDP_MAX_BW];
	unsigned nbw;
	struct sdp_attr attr[SDP_MAX_ATTR];
	unsigned nattr;
};

struct sdp_session {
	struct sdp_origin origin;
	struct pl name; /* s=; may be empty: phones send "s=" */
	struct pl info, uri, zone, key;
	struct pl email[SDP_MAX_CONTACT];
	unsigned nemail;
	struct pl phone[SDP_MAX_CONTACT];
	unsigned nphone;
	bool has_conn;
	struct sdp_conn conn;
	struct sdp_bw bw[SDP_MAX_BW];
	unsigned nbw;
	struct sdp_time time[SDP_MAX_TIME];
	unsigned ntime; /* 0 is accepted: some stacks omit t= */
	struct sdp_attr attr[SDP_MAX_ATTR];
	unsigned nattr;
	struct sdp_media media[SDP_MAX_MEDIA];
	unsigned nmedia;
};

/*
 * Parses a whole session description. Strict on what RFC 8866 makes
 * mandatory: v=0 first, then o= (six fields) and s=; "x=" with a known type
 * letter and no space before '='; well-formed typed fields (o c b t m);
 * a c= for every m-line with a non-zero port; no NUL or bare CR; singletons
 * (i u c z k per level) once. Unknown type letters reject the description
 * (RFC 8866 §5). Lenient where real phones are sloppy: LF-only line ends, a
 * missing final line end, trailing white space, blank lines, an empty s=,
 * a missing t=, several spaces between fields, lines after s= in any order.
 * Returns 0, EBADMSG or E2BIG; on error *s holds a partial parse.
 */
int sdp_parse(struct sdp_session *s, struct pl text);

/*
 * The same into a new session (mem_zalloc, ~28 kB; release with
 * mem_deref). The text must outlive it. Returns 0, EBADMSG, E2BIG, ENOMEM.
 */
int sdp_decode(struct sdp_session **sp, struct pl text);

/* The c= that applies to m: its first own c=, else the session's; NULL if none. */
const struct sdp_conn *sdp_media_conn(const struct sdp_session *s, const struct sdp_media *m);

/*
 * Iterates over the attributes called name (case-sensitive, as RFC 8866
 * says) at one level: start with *idx = 0; returns true with *value set
 * (unset for a property attribute) and *idx advanced, false at the end.
 */
bool sdp_attr_next(const struct sdp_attr *attr, unsigned nattr, const char *name, unsigned *idx,
                   struct pl *value);
bool sdp_media_attr(const struct sdp_media *m, const char *name, struct pl *value);
bool sdp_session_attr(const struct sdp_session *s, const char *name, struct pl *value);

/* sendrecv/sendonly/recvonly/inactive of m, else of the session, else sendrecv. */
enum sdp_dir sdp_media_dir(const struct sdp_session *s, const struct sdp_media *m);
const char *sdp_dir_name(enum sdp_dir d);

/* a=rtpmap:<pt> <encoding>/<clock>[/<channels>] */
struct sdp_rtpmap {
	uint8_t pt;
	struct pl encoding;
	uint32_t clock;
	uint32_t channels; /* 1 when absent */
};
int sdp_rtpmap_decode(struct pl value, struct sdp_rtpmap *r);
/*
 * The rtpmap for format fmt of m (an RTP m-line): its a=rtpmap, else the
 * static assignment of RFC 3551 for payload types 0-34. Returns 0, ENOENT
 * (dynamic type without rtpmap, unknown static type) or EBADMSG.
 */
int sdp_media_rtpmap(const struct sdp_media *m, struct pl fmt, struct sdp_rtpmap *r);
/* The parameters of a=fmtp:<fmt> <params> on m; false if none. */
bool sdp_media_fmtp(const struct sdp_media *m, struct pl fmt, struct pl *params);
/* a=ptime / a=maxptime of m (else of the session) in ms; 0 when absent or bad. */
uint32_t sdp_media_ptime(const struct sdp_session *s, const struct sdp_media *m, const char *name);

/* RFC 3605: a=rtcp:<port> [IN IP4|IP6 <addr>] */
struct sdp_rtcp {
	uint16_t port;
	bool has_addr;
	struct sa sa; /* port included, when has_addr */
};
int sdp_rtcp_decode(struct pl value, struct sdp_rtcp *r);

/* RFC 4733 event list ("0-15,66,70-72") as a bit set of events 0-255. */
struct sdp_events {
	uint32_t bits[8];
};
int sdp_events_decode(struct pl list, struct sdp_events *ev);
bool sdp_events_has(const struct sdp_events *ev, unsigned event);

/*
 * RFC 4568 a=crypto:<tag> <suite> inline:<key||salt>[|lifetime][|MKI:len]
 * [session-params]. Only the first key-param is described; nkeys counts them
 * all (several keys need MKIs). Strict on tag, suite token, inline: prefix and
 * the lifetime and MKI syntax; the key's length is checked by whoever knows
 * the suite.
 */
struct sdp_crypto {
	uint32_t tag;
	struct pl suite;
	struct pl key; /* base64 key||salt */
	struct pl lifetime;
	uint64_t lifetime_pkts; /* 0 when absent */
	bool has_mki;
	uint32_t mki;
	uint32_t mki_len; /* bytes, 1-128 */
	unsigned nkeys;
	struct pl params; /* session parameters, or unset */
};
int sdp_crypto_decode(struct pl value, struct sdp_crypto *c);

/*
 * Writes s as SDP text into buf (CRLF line ends, canonical RFC 8866 order).
 * *lenp gets the length; buf is NUL-terminated when there is room. Returns
 * 0 or ENOSPC.
 */
int sdp_build(char *buf, size_t size, const struct sdp_session *s, size_t *lenp);

/* ---- offer/answer ---- */

enum sdp_codec {
	SDP_CODEC_PCMA = 0,
	SDP_CODEC_PCMU,
	SDP_CODEC_G722,
	SDP_CODEC_TEL_EVENT, /* RFC 4733 telephone-event: listed means DTMF events offered */
	SDP_CODEC_COUNT,
};

enum sdp_srtp {
	SDP_SRTP_OFF = 0,   /* RTP/AVP only; RTP/SAVP m-lines refused */
	SDP_SRTP_OPTIONAL,  /* offer RTP/AVP with a=crypto; accept SAVP, and AVP with or without
	                       crypto */
	SDP_SRTP_MANDATORY, /* offer RTP/SAVP; accept only media with a crypto we use */
};

enum sdp_suite {
	SDP_SUITE_AES_CM_128_HMAC_SHA1_80 = 0,
	SDP_SUITE_AES_CM_128_HMAC_SHA1_32,
	SDP_SUITE_AEAD_AES_128_GCM,
	SDP_SUITE_COUNT,
};

enum {
	SDP_KEY_MAX = 30, /* master key + salt, bytes */
	SDP_HOST_MAX = 256,
};

const char *sdp_codec_name(enum sdp_codec c);
const char *sdp_suite_name(enum sdp_suite s);
/* Master key + salt length of a suite, bytes. */
size_t sdp_suite_keylen(enum sdp_suite s);

/* Our preferences; usually filled from the YAML media section. */
struct sdp_prefs {
	enum sdp_codec codec[SDP_CODEC_COUNT]; /* in order of preference */
	unsigned ncodec;
	enum sdp_srtp srtp;
	enum sdp_suite suite[SDP_SUITE_COUNT]; /* in order of preference */
	unsigned nsuite;
	uint32_t ptime;   /* ms we would like to receive; 0: 20 */
	bool accept_mki;  /* crypto lines with an MKI are usable (the SRTP layer handles MKIs) */
	const char *user; /* o= username and s= (a token, no spaces); NULL: "tandem" */
};

/* The negotiated audio stream: what the media engine is told to do. */
struct sdp_result {
	bool active;    /* an audio stream was negotiated (else: no media) */
	unsigned mline; /* its index */
	enum sdp_codec codec;
	uint8_t pt, rx_pt; /* payload type we send with, and expect */
	uint32_t clock;    /* RTP clock rate */
	uint32_t ptime;    /* ms we send per packet */
	bool dtmf;         /* telephone-event both ways */
	uint8_t dtmf_pt, dtmf_rx_pt;
	struct sa remote;      /* RTP destination; unset when remote_host or held by 0.0.0.0 */
	struct sa remote_rtcp; /* RTCP destination (RFC 3605, else RTP port + 1) */
	char remote_host[SDP_HOST_MAX]; /* c= held a host name: resolve it, then send */
	uint16_t rtp_port, rtcp_port;   /* the peer's, also when remote_host is set */
	enum sdp_dir dir; /* our side: SDP_SENDONLY means we send and do not receive */
	bool srtp;
	enum sdp_suite suite;
	uint8_t key_len;
	uint8_t tx_key[SDP_KEY_MAX]; /* ours */
	uint8_t rx_key[SDP_KEY_MAX]; /* the peer's */
	bool peer_unchanged; /* the peer's o= id and version repeat its previous SDP's (RFC 3264 §8)
	                      */
	bool rx_mki;         /* the peer's packets carry an MKI */
	uint64_t rx_lifetime; /* packets under the peer's key (RFC 4568 lifetime); 0: no limit */
	uint32_t rx_mki_val, rx_mki_len;
};

enum sdp_neg_state {
	SDP_NEG_IDLE = 0,   /* nothing negotiated yet */
	SDP_NEG_OFFER_SENT, /* waiting for the answer to our offer */
	SDP_NEG_DONE,       /* a negotiation completed; result is current */
};

/* What a re-offer must repeat of an m-line we do not serve (RFC 3264 §8). */
struct sdp_mline {
	char media[16];
	char proto[24];
	char fmt[16];
};

struct sdp_neg {
	const struct sdp_prefs *prefs; /* not owned: outlives the neg */
	const char *ctx;               /* log context ("call=..."), may be NULL; not owned */
	struct sa local;               /* our RTP address and port */
	struct sa local_alt;           /* optional, the other address family, same port */
	uint16_t rtcp_port; /* set after init if not RTP port + 1: we then write a=rtcp */
	uint64_t sess_id, version;
	uint32_t body_hash;
	bool sent; /* an SDP of ours went out: later ones compare against it */
	enum sdp_neg_state state;
	enum sdp_neg_state prev_state; /* for sdp_neg_rollback() */
	bool hold;                     /* we hold the peer */
	bool peer_hold;                /* the peer's last offer did not want to receive */
	bool have_keys;
	bool peer_seen; /* peer_id/peer_version hold the peer's last o= */
	uint64_t peer_id, peer_version;
	uint8_t key[SDP_SUITE_COUNT][SDP_KEY_MAX];
	/* our last offer, to check the answer against */
	bool offer_srtp; /* crypto lines were in it */
	bool offer_savp; /* its proto was RTP/SAVP */
	uint32_t offer_ptime;
	enum sdp_dir offer_dir;
	/* the session's m-lines: a re-offer keeps them in order */
	struct sdp_mline mline[SDP_MAX_MEDIA];
	unsigned nmline;
	unsigned audio;  /* index of our audio m-line in mline[] */
	bool audio_savp; /* its proto is RTP/SAVP */
	struct sdp_result res;
};

/*
 * Starts a negotiation. local: our RTP address and port (IPv4 or IPv6),
 * local_alt: NULL or an address of the other family (offers with that family
 * in c= get it). sess_id: the o= session id (e.g. from the clock).
 */
void sdp_neg_init(struct sdp_neg *n, const struct sdp_prefs *p, const struct sa *local,
                  const struct sa *local_alt, uint64_t sess_id);

/*
 * Writes our offer (initial or re-offer; also the offer in a 200 when the
 * INVITE had none). The o= version goes up by one only when the body differs
 * from the last SDP we sent. SRTP keys come from OpenSSL's CSPRNG, once.
 * Returns 0, EINVAL (no audio codec in the preferences, no local address),
 * ENOSPC, EIO (no random bytes).
 */
int sdp_neg_offer(struct sdp_neg *n, char *buf, size_t size, size_t *lenp);

/*
 * Answers a received offer: one m-line per offered m-line; the first usable
 * audio stream is accepted (codec by our preference, the offerer's payload
 * type numbers, telephone-event at the codec's rate, direction per RFC 3264
 * §6.1), everything else gets port 0. Returns 0, E2BIG (an m-line whose media, proto or
 * format is too long to keep for re-offers: 488), EMEDIUMTYPE (nothing usable:
 * 488, and the previous result stays), EPROTO (our own offer is pending:
 * glare, 491), ENOSPC, EIO.
 */
int sdp_neg_answer(struct sdp_neg *n, const struct sdp_session *offer, char *buf, size_t size,
                   size_t *lenp);

/*
 * Applies the answer to our offer (in the 200, or in the ACK for a delayed
 * offer). Returns 0, EPROTO (no offer pending), EBADMSG (the answer does not
 * match the offer: m-line count or types, a codec we did not offer),
 * EMEDIUMTYPE (audio refused, no codec, SRTP required but no crypto). On
 * error the previous result stays and no offer is pending any more.
 */
int sdp_neg_process_answer(struct sdp_neg *n, const struct sdp_session *answer);

/* Forgets a pending offer of ours (re-INVITE failed, 491). */
void sdp_neg_rollback(struct sdp_neg *n);

/*
 * Puts the peer on hold or resumes (takes effect with the next offer):
 * sendonly, or inactive when the peer holds us too (RFC 3264 §8.4).
 */
void sdp_neg_hold(struct sdp_neg *n, bool hold);

static inline const struct sdp_result *sdp_neg_result(const struct sdp_neg *n)
{
	return &n->res;
}

/* The SIP status for an error of the functions above: 488, 400, 491 or 500. */
uint16_t sdp_neg_status(int err);

#endif
