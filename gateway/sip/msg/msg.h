/*
 * msg: SIP messages (RFC 3261 §7, §20, §25): decode, typed header access, build.
 *
 * Decoding is zero-copy and lazy, in the manner of Kamailio:
 * - sip_msg_decode() finds the start line, every header's name and value
 *   boundaries (unfolding is done by the value parsers, not by copying), the
 *   body, and eagerly parses only what every layer needs to route the message:
 *   the topmost Via, From, To, Call-ID, CSeq, Content-Length, Max-Forwards.
 * - Every other header is parsed into its typed struct on request, by the
 *   sip_*_decode() functions below, which take one header value (struct pl) and
 *   return slices into it.
 * - One heap allocation per message (struct sip_msg with its header table);
 *   the message holds a reference (core/mem.h) to the receive buffer when the
 *   buffer came from mem_zalloc(), otherwise the caller keeps it alive.
 *
 * Return convention (core/err.h): 0, EBADMSG (malformed), ENODATA (stream
 * framing: incomplete), E2BIG (over a configured limit), ENOMEM.
 * Thread-safety: a message belongs to one thread at a time.
 */
#ifndef TANDEM_SIP_MSG_H
#define TANDEM_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/pl.h"
#include "core/sa.h"
#include "sip/uri/uri.h"

/* ---- methods ---- */

enum sip_method {
	SIP_M_UNKNOWN = 0, /* an extension method: see msg->method */
	SIP_M_INVITE,
	SIP_M_ACK,
	SIP_M_BYE,
	SIP_M_CANCEL,
	SIP_M_REGISTER,
	SIP_M_OPTIONS,
	SIP_M_INFO,
	SIP_M_MESSAGE,
	SIP_M_REFER,
	SIP_M_SUBSCRIBE,
	SIP_M_NOTIFY,
	SIP_M_UPDATE,
	SIP_M_PRACK,
	SIP_M_PUBLISH,
	SIP_M_COUNT
};

enum sip_method sip_method_lookup(struct pl name); /* case-sensitive per RFC 3261 */
const char *sip_method_name(enum sip_method m);

/* ---- header names ---- */

enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_ACCEPT,
	SIP_HDR_ACCEPT_ENCODING,
	SIP_HDR_ACCEPT_LANGUAGE,
	SIP_HDR_ALERT_INFO,
	SIP_HDR_ALLOW,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_CALL_ID,
	SIP_HDR_CALL_INFO,
	SIP_HDR_CONTACT,
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_LANGUAGE,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CSEQ,
	SIP_HDR_DATE,
	SIP_HDR_DIVERSION,
	SIP_HDR_ERROR_INFO,
	SIP_HDR_EVENT,
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM,
	SIP_HDR_HISTORY_INFO,
	SIP_HDR_IN_REPLY_TO,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIME_VERSION,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_MIN_SE,
	SIP_HDR_ORGANIZATION,
	SIP_HDR_P_ASSERTED_IDENTITY,
	SIP_HDR_P_PREFERRED_IDENTITY,
	SIP_HDR_PATH,
	SIP_HDR_PRIORITY,
	SIP_HDR_PRIVACY,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_RACK,
	SIP_HDR_REASON,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_SUB,
	SIP_HDR_REFER_TO,
	SIP_HDR_REFERRED_BY,
	SIP_HDR_REPLACES,
	SIP_HDR_REPLY_TO,
	SIP_HDR_REQUIRE,
	SIP_HDR_RETRY_AFTER,
	SIP_HDR_ROUTE,
	SIP_HDR_RSEQ,
	SIP_HDR_SERVER,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_SIP_ETAG,
	SIP_HDR_SIP_IF_MATCH,
	SIP_HDR_SUBJECT,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_SUPPORTED,
	SIP_HDR_TIMESTAMP,
	SIP_HDR_TO,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_USER_AGENT,
	SIP_HDR_VIA,
	SIP_HDR_WARNING,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_COUNT
};

/* Full or compact name (case-insensitive) -> id; SIP_HDR_OTHER if unknown. */
enum sip_hdr_id sip_hdr_lookup(struct pl name);
/* Canonical full name, e.g. "Call-ID". */
const char *sip_hdr_name(enum sip_hdr_id id);

/* ---- typed header values (all slices into the message) ---- */

struct sip_via {
	struct pl transport; /* "UDP", "TCP", "TLS", "SCTP", "WS"... */
	struct pl host;      /* sent-by host; IPv6 with brackets */
	uint16_t port;       /* 0 if absent */
	struct pl params;    /* ";branch=...;rport" including leading ';' */
	struct pl branch;    /* value of branch, empty if none */
	struct pl received;
	struct pl maddr;
	bool rport;         /* rport parameter present */
	uint32_t rport_val; /* its value, 0 if none given */
	struct pl val;      /* the whole via-parm (for msg->via: the first one only) */
};

/* name-addr or addr-spec with parameters: From, To, Contact, Route, ... */
struct sip_addr {
	struct pl display; /* without quotes; may contain escapes */
	struct pl uri_pl;
	struct sip_uri uri;
	struct pl params; /* header parameters after the URI, with leading ';' */
	struct pl tag;    /* value of tag, empty if none */
	bool star;        /* Contact: * */
	struct pl val;
};

struct sip_cseq {
	uint32_t num;
	struct pl method;
	enum sip_method mid;
};

struct sip_ctype {
	struct pl type, subtype; /* "application", "sdp" */
	struct pl params;
};

struct sip_rack {
	uint32_t rseq, cseq;
	struct pl method;
	enum sip_method mid;
};

struct sip_session_expires {
	uint32_t delta;
	struct pl refresher; /* "uac", "uas" or empty */
	struct pl params;
};

struct sip_event {
	struct pl package; /* "refer", "dialog", ... (event-type incl. template) */
	struct pl id;
	struct pl params;
};

struct sip_substate {
	struct pl state; /* "active", "pending", "terminated" */
	struct pl reason;
	uint32_t expires, retry_after;
	bool has_expires, has_retry_after;
	struct pl params;
};

struct sip_reason {
	struct pl protocol; /* "Q.850", "SIP" */
	uint32_t cause;
	bool has_cause;
	struct pl text; /* without quotes */
	struct pl params;
};

struct sip_retry_after {
	uint32_t delta;
	struct pl comment;
	uint32_t duration;
	bool has_duration;
	struct pl params;
};

struct sip_replaces {
	struct pl callid, to_tag, from_tag;
	bool early_only;
	struct pl params;
};

struct sip_timestamp {
	struct pl value, delay;
};

/* ---- the message ---- */

struct sip_hdr {
	struct pl name; /* as written */
	struct pl val;  /* trimmed; may still contain folding (CRLF + WSP) */
	uint16_t id;    /* enum sip_hdr_id */
	int16_t next;   /* next header line with the same id, -1 if none */
};

#ifndef SIP_MAX_HDRS
#define SIP_MAX_HDRS 96
#endif

enum sip_transport {
	SIP_TP_NONE = 0,
	SIP_TP_UDP,
	SIP_TP_TCP,
	SIP_TP_TLS,
};

struct sip_msg {
	const char *buf; /* the whole message text */
	size_t len;
	void *bufref; /* mem reference on the buffer's owner, or NULL */

	bool req;
	/* request line */
	struct pl method;
	enum sip_method mid;
	struct pl ruri_pl;
	struct sip_uri ruri;
	/* status line */
	uint16_t scode;
	struct pl reason;
	struct pl version; /* "SIP/2.0" */

	struct sip_hdr hdr[SIP_MAX_HDRS];
	uint16_t nhdr;
	int16_t first[SIP_HDR_COUNT]; /* first line of each id, -1 if absent */

	struct pl body;

	/* Parsed at decode (valid when the header is present, see has_*). */
	struct sip_via via; /* topmost */
	struct sip_addr from, to;
	struct pl callid;
	struct sip_cseq cseq;
	uint32_t clen;   /* Content-Length, if present */
	uint32_t maxfwd; /* Max-Forwards, if present */
	bool has_clen, has_maxfwd;

	/* Set only on a partial message (sip_msg_decode_ex): the first defect
	 * found, as a reason phrase, and whether a 400 can be built: the top Via
	 * decoded and From, To, Call-ID and CSeq are present (a malformed one is
	 * copied into the response as it came). */
	const char *bad;
	bool answerable;

	/* Where it came from; filled by the transport layer, unused by the parser. */
	enum sip_transport tp;
	struct sa src, dst;
	void *conn; /* transport connection (stream), mem reference */
};

/* Decode limits; zero fields mean the defaults in brackets. */
struct sip_limits {
	size_t max_msg;     /* whole message [65535] */
	size_t max_hdr_len; /* header section [16384] */
	size_t max_body;    /* [32768] */
};

/*
 * Decodes one complete message from buf/len. For datagrams (stream == false)
 * the datagram end frames the body: with Content-Length larger than what is
 * there the message is malformed; with less, the rest is ignored. For
 * streams the caller first frames with sip_msg_frame() (Content-Length is
 * then mandatory, RFC 3261 §18.3).
 * EBADMSG also covers what a UAS answers with 400: a malformed request line,
 * header line, Via, From, To, Call-ID, CSeq, Max-Forwards or Content-Length
 * (see sip_msg_decode_ex() to get the message anyway). Line ends are CRLF;
 * a bare LF is tolerated. A datagram may lack the blank line ending the
 * header section (the header section then ends the datagram).
 * bufref: a mem_zalloc'ed owner of buf to reference (may be NULL).
 * The decoded message is mem-allocated: release it with mem_deref(), which
 * also drops the references on bufref and conn.
 */
int sip_msg_decode(struct sip_msg **msgp, const char *buf, size_t len, bool stream, void *bufref,
                   const struct sip_limits *lim);

/*
 * Same as sip_msg_decode(); in addition, on EBADMSG, or E2BIG for too many
 * header lines or a datagram's header section or body over the limits, for
 * something that is recognisably a request, *partialp receives the partially
 * decoded message (msg->bad says what is wrong, msg->answerable whether a
 * response can be built, see above) so that sip_msg_check() can pick the
 * status (400, 513...) and it can be sent; otherwise *partialp is set to
 * NULL. partialp may be NULL.
 */
int sip_msg_decode_ex(struct sip_msg **msgp, struct sip_msg **partialp, const char *buf, size_t len,
                      bool stream, void *bufref, const struct sip_limits *lim);

/*
 * Stream framing (TCP/TLS): finds where the first message in buf ends.
 * Skips leading CRLFs (keepalives; *skip says how many bytes, and is set
 * whatever the result, so that the caller can drop them). The message is
 * then buf + *skip, *msglen bytes (headers + Content-Length body).
 * Returns 0 with *msglen set; ENODATA if more bytes are needed; EBADMSG if
 * the header section cannot be a SIP message or has no valid Content-Length
 * (close the connection); E2BIG if over a limit.
 */
int sip_msg_frame(const char *buf, size_t len, const struct sip_limits *lim, size_t *skip,
                  size_t *msglen);

/* Header access */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id);
/* First line by name (case-insensitive): a known name (full or compact) goes
 * through the table, any other is searched among the unknown lines. */
const struct sip_hdr *sip_msg_hdr_name(const struct sip_msg *msg, const char *name);
unsigned sip_msg_hdr_count(const struct sip_msg *msg, enum sip_hdr_id id);

/*
 * Iterates over the comma-separated values of every line with this id, in
 * order, honouring quoted strings (with \-escapes) and <...>; empty elements
 * are skipped, values are trimmed. Only for list-valued headers (Via,
 * Contact, Route, Require, Accept...): challenge/credential headers and Date
 * contain commas of their own, read them with sip_msg_hdr(). Known ids only.
 * Initialise with `struct sip_hdr_iter it = SIP_HDR_ITER_INIT;`.
 * Returns true with *val set, false at the end.
 */
struct sip_hdr_iter {
	int16_t idx;
	struct pl rest;
	bool started;
};
#define SIP_HDR_ITER_INIT                                                                          \
	{                                                                                          \
		-1, {NULL, 0}, false                                                               \
	}
bool sip_msg_hdr_next(const struct sip_msg *msg, enum sip_hdr_id id, struct sip_hdr_iter *it,
                      struct pl *val);

/* True if any Require/Supported/... token list of msg contains token. */
bool sip_msg_has_token(const struct sip_msg *msg, enum sip_hdr_id id, const char *token);

/* Typed decoders of one header value. 0 or EBADMSG. */
int sip_via_decode(struct sip_via *via, struct pl val);
int sip_addr_decode(struct sip_addr *addr, struct pl val);
int sip_cseq_decode(struct sip_cseq *cseq, struct pl val);
int sip_u32_decode(uint32_t *v, struct pl val); /* Expires, Max-Forwards, RSeq, Min-SE... */
int sip_ctype_decode(struct sip_ctype *ct, struct pl val);
int sip_rack_decode(struct sip_rack *rack, struct pl val);
int sip_session_expires_decode(struct sip_session_expires *se, struct pl val);
int sip_event_decode(struct sip_event *ev, struct pl val);
int sip_substate_decode(struct sip_substate *ss, struct pl val);
int sip_reason_decode(struct sip_reason *r, struct pl val);
int sip_retry_after_decode(struct sip_retry_after *ra, struct pl val);
int sip_replaces_decode(struct sip_replaces *rp, struct pl val);
int sip_timestamp_decode(struct sip_timestamp *ts, struct pl val);
/* A token of a token list (Require, Allow, Privacy...): checks token syntax. */
int sip_token_decode(struct pl *tok, struct pl val);

/* Message validation as a UAS (RFC 3261 §8.2, RFC 4475, RFC 5118).
 * Fills *code (400, 401, 406, 415, 416, 420, 501, 405, 505, 513...) and a
 * static reason phrase; returns true if the request may be processed.
 * Works on partial messages from sip_msg_decode_ex() (always false).
 * For responses: returns false with *code = 0 when it must be dropped.
 * A malformed request with a method we do not know gets 501, not 400: the
 * UAS inspects the method first (§8.2.1, RFC 4475 §3.1.2.18).
 * opts may be NULL (syntax only); NULL/0 fields skip their check. */
struct sip_check_opts {
	const char *const *supported; /* option tags we support (NULL-terminated), 420 */
	const char *const *accept;    /* body media types accepted, e.g. "application/sdp", 415 */
	const char *const *produce;   /* media types our INVITE/UPDATE answers carry, 406 */
	const char *const *auth_schemes; /* e.g. "Digest": others get 401/407 */
	uint32_t allowed_methods;        /* bit (1 << enum sip_method), 405/501; 0: any */
	size_t max_msg;                  /* for 513 */
};
bool sip_msg_check(const struct sip_msg *msg, const struct sip_check_opts *opts, uint16_t *code,
                   const char **reason);

/* Reason phrase for a status code ("Not Found"), or "Unknown". */
const char *sip_reason_phrase(uint16_t code);

/* ---- building ---- */

/*
 * A growable output buffer for building messages. sip_mb_printf() and the
 * helpers below append; on ENOMEM the buffer is marked failed and the error
 * is returned by sip_mb_finish(). One allocation per message built in the
 * common case.
 */
struct sip_mb {
	char *buf; /* mem_zalloc'ed */
	size_t len, cap;
	int err;
};

int sip_mb_init(struct sip_mb *mb, size_t hint);
void sip_mb_append(struct sip_mb *mb, const char *s, size_t n);
void sip_mb_pl(struct sip_mb *mb, struct pl pl);
void sip_mb_str(struct sip_mb *mb, const char *s);
void sip_mb_printf(struct sip_mb *mb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends "Content-Length: N\r\n\r\n" and the body. */
void sip_mb_body(struct sip_mb *mb, const char *ctype, const void *body, size_t n);
/* Returns 0 or the first error; the buffer stays owned by mb (mem_deref(mb->buf)). */
int sip_mb_finish(struct sip_mb *mb);

/*
 * Builds a response to req (RFC 3261 §8.2.6): copies Via (all), From, To
 * (adding to_tag when given and To has none), Call-ID, CSeq, Record-Route
 * for 18x/2xx of dialog-creating requests when rr is true. extra_hdrs is
 * raw header text ending in CRLF (may be NULL); body may be NULL.
 */
int sip_msg_build_response(struct sip_mb *mb, const struct sip_msg *req, uint16_t code,
                           const char *reason, const char *to_tag, bool rr, const char *extra_hdrs,
                           const char *ctype, const void *body, size_t body_len);

#endif
