/*
 * ua: the SIP user agent core (RFC 3261 §8, §12, §13, §15), dialogs, and INVITE
 * sessions with 100rel/PRACK (RFC 3262), UPDATE (RFC 3311), session timers
 * (RFC 4028) and INFO (RFC 6086). Other dialog usages (SUBSCRIBE/NOTIFY,
 * REFER) are served by sip/event through the usage hook.
 *
 * struct sip_ua owns one sip_tp and one sip_tsx_layer, dispatches new
 * requests (validation, per-method handlers, 405/501/481 answers, OPTIONS),
 * and owns every dialog and session it creates: a session handle stays valid
 * until its close handler has returned or sip_sess_close() was called on it.
 * Dialogs and sessions copy what they keep out of messages (messages are
 * borrowed for the duration of a handler call only).
 * Runs on the signalling thread's loop; not thread-safe.
 */
#ifndef TANDEM_SIP_UA_H
#define TANDEM_SIP_UA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/sa.h"
#include "sip/msg/msg.h"
#include "sip/transport/tp.h"
#include "sip/tsx/tsx.h"

struct sip_ua;
struct sip_dialog;
struct sip_sess;
struct sip_creq; /* a client request in a dialog (sip_dialog_send) */

#define SIP_UA_MAX_LISTEN 8

struct sip_ua_listen {
	enum sip_transport tp;
	struct sa addr; /* port 0: any (the chosen port is written back) */
};

struct sip_dns;

/* Resolves a host name (not an IP literal) to an address, synchronously
 * (tests, static tables). Returns 0 or an errno. Tried before cfg.dns. */
typedef int(sip_ua_resolve_h)(struct pl host, uint16_t port, enum sip_transport tp, struct sa *out,
                              void *arg);

struct sip_ua_config {
	const char *domain;     /* our domain, for From/Call-ID [the first listen address] */
	const char *user_agent; /* User-Agent and Server value ["Tandem"] */
	struct sip_ua_listen listen[SIP_UA_MAX_LISTEN];
	unsigned nlisten;
	uint32_t t1_ms, t2_ms, t4_ms; /* [500, 4000, 5000] */
	const char *tls_cert, *tls_key, *tls_ca;
	bool tls_no_verify;        /* do not verify servers we connect to (tests) */
	uint32_t session_expires;  /* RFC 4028 interval we ask for / accept up to [1800]; */
	uint32_t min_se;           /* smallest we accept [90]; */
	bool no_session_timer;     /* do not use RFC 4028 */
	sip_ua_resolve_h *resolve; /* hostname hook (may be NULL) */
	void *resolve_arg;
	/* RFC 3263 resolver for host names (sip/dns; owned by the caller, must
	 * outlive the UA). Requests wait for it; its first target is used and
	 * cached per host for a minute. NULL: host names fail with EHOSTUNREACH. */
	struct sip_dns *dns;
	/* Transport limits and marking (zero fields: the transport's defaults;
	 * dscp 0: CS3). The TLS fields above take precedence over tp's. */
	struct sip_tp_config tp;
	unsigned max_tsx; /* transactions at once [10000] */
	/* RFC 6086 Info Packages we receive (Recv-Info), NULL-terminated, e.g.
	 * {"dtmf", NULL}; kept, not copied (static storage). An INFO naming
	 * another package gets 469. NULL: none (legacy INFO without
	 * Info-Package is still delivered). */
	const char *const *info_packages;
};

/* A non-INVITE request outside any dialog (or any method registered by the
 * application). Answer it with sip_ua_reply() (now or later, while stx lives). */
typedef void(sip_ua_req_h)(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg,
                           void *arg);

/* A new INVITE session (incoming INVITE outside a dialog). The application
 * calls sip_sess_set_handlers() and then answers with sip_sess_progress(),
 * sip_sess_answer() or sip_sess_reject(), now or later. */
typedef void(sip_sess_new_h)(struct sip_sess *sess, const struct sip_msg *invite, void *arg);

int sip_ua_alloc(struct sip_ua **uap, struct loop *loop, const struct sip_ua_config *cfg);
/* Ends every session without signalling and frees the UA. */
void sip_ua_free(struct sip_ua *ua);

/* Registers the handler for a method (not INVITE/ACK/CANCEL/BYE/PRACK/UPDATE,
 * which sessions own). OPTIONS is answered by default unless registered. */
int sip_ua_set_handler(struct sip_ua *ua, enum sip_method m, sip_ua_req_h *h, void *arg);
void sip_ua_set_sess_handler(struct sip_ua *ua, sip_sess_new_h *h, void *arg);

/*
 * Dialog usages other than the INVITE session (RFC 5057), served by a layer
 * above the UA (sip/event): the hook sees
 * - SUBSCRIBE, NOTIFY and REFER inside a session's dialog (dlg and sess set),
 * - in-dialog requests (To tag) that match no dialog of the table (dlg and
 *   sess NULL), e.g. a NOTIFY that overtook the 2xx of its SUBSCRIBE
 *   (RFC 6665 §4.1.2.4).
 * It returns true if it answered (or will answer) the request; otherwise the
 * UA answers 481 (no dialog) or 405. One hook per UA; h NULL removes it. The
 * hook's owner is freed before the UA.
 */
typedef bool(sip_ua_usage_h)(struct sip_ua *ua, struct sip_dialog *dlg, struct sip_sess *sess,
                             struct sip_tsx *stx, const struct sip_msg *msg, void *arg);
void sip_ua_set_usage_handler(struct sip_ua *ua, sip_ua_usage_h *h, void *arg);

/* Answers a request (To tag added for non-100 responses when the request has
 * none, Server header added). extra_hdrs: raw lines ending in CRLF or NULL. */
int sip_ua_reply(struct sip_ua *ua, struct sip_tsx *stx, uint16_t code, const char *reason,
                 const char *extra_hdrs, const char *ctype, const void *body, size_t len);

/* Digest credentials for a realm (NULL realm: any realm). Copied. */
int sip_ua_set_credentials(struct sip_ua *ua, const char *realm, const char *user,
                           const char *password);

/* The Allow value of our responses ("INVITE, ACK, ..."), and our domain. */
const char *sip_ua_allow(const struct sip_ua *ua);
const char *sip_ua_domain(const struct sip_ua *ua);
/* T1 in milliseconds (timers of layers above: 64*T1 waits). */
uint32_t sip_ua_t1(const struct sip_ua *ua);
struct sip_tp *sip_ua_tp(struct sip_ua *ua);
struct sip_tsx_layer *sip_ua_tsx(struct sip_ua *ua);
struct loop *sip_ua_loop(struct sip_ua *ua);
/* Local address of a listener of transport t and family af. */
int sip_ua_local(struct sip_ua *ua, enum sip_transport t, int af, struct sa *local);

struct sip_ua_stats {
	uint64_t sess_in, sess_out, sess_ok, sess_failed, sess_closed, bye_rx, bye_tx, acks_rx,
	    retrans_2xx, prack_rx, prack_tx, update_rx, reinvite_rx, st_refresh, st_expired,
	    reply_481, reply_405, reply_501, reply_check;
	uint64_t failover; /* requests moved to the next DNS target (RFC 3263 §4.3) */
	unsigned sessions, dialogs;
};
void sip_ua_stats(const struct sip_ua *ua, struct sip_ua_stats *st);

/* Random token of n-1 characters from [0-9a-z] (tags, Call-IDs). */
void sip_ua_token(char *buf, size_t n);

/* ---- next hop ---- */

struct sip_hop {
	enum sip_transport tp;
	struct pl host;   /* slice into the dialog's strings */
	uint16_t port;    /* 0: default */
	bool secure;      /* sips */
	bool tp_explicit; /* transport parameter, sips, or the dialog's transport */
	struct sa addr;   /* set when resolved */
};

/*
 * Picks the next hop from a URI (RFC 3263 §4.1): maddr, then the host;
 * transport param (sips -> TLS; else UDP); port or 5060/5061. Resolves IP
 * literals, and host names through the UA's hook or its cache of cfg.dns
 * answers; otherwise EHOSTUNREACH with the rest of *hop filled (ua may be NULL).
 */
int sip_hop_from_uri(struct sip_hop *hop, struct sip_ua *ua, struct pl uri);

/* ---- dialogs (RFC 3261 §12) ---- */

enum sip_dialog_state {
	SIP_DLG_INIT = 0, /* UAC: request sent, no To tag yet */
	SIP_DLG_EARLY,
	SIP_DLG_CONFIRMED,
	SIP_DLG_TERMINATED,
};

/* Requests for a dialog go to its owner (a session, a subscription). stx is
 * NULL for an ACK. The UA has already checked the CSeq (§12.2.2). */
typedef void(sip_dialog_req_h)(struct sip_dialog *dlg, struct sip_tsx *stx,
                               const struct sip_msg *msg, void *arg);

/*
 * UAC, before any response: a dialog-to-be with a fresh Call-ID and From tag.
 * target: Request-URI; from/to: header values without tag (to NULL: <target>);
 * route: outbound proxy URI (loose routing assumed) or NULL; contact: our
 * Contact URI (NULL: derived from the transport when sending).
 * ua may be NULL (building only; for tests).
 */
int sip_dialog_alloc_uac(struct sip_dialog **dlgp, struct sip_ua *ua, const char *target,
                         const char *from, const char *to, const char *route, const char *contact);

/* UAS: from a dialog-creating request; local tag generated, route set from
 * Record-Route in order, remote target from Contact, remote CSeq. contact
 * NULL: our address on the request's transport (when ua is set). */
int sip_dialog_alloc_uas(struct sip_dialog **dlgp, struct sip_ua *ua, const struct sip_msg *req,
                         const char *contact);

/*
 * UAC: a 1xx (with To tag) or 2xx arrived: sets the remote tag, route set
 * (Record-Route reversed) and remote target (Contact); EARLY or CONFIRMED.
 * A 2xx recomputes the route set (§13.2.2.4). EPROTO if the tag differs from
 * a confirmed dialog's (a fork). EBADMSG: bad Contact/Record-Route.
 */
int sip_dialog_update_uac(struct sip_dialog *dlg, const struct sip_msg *resp);

/* Target refresh (§12.2): remote target from the Contact of msg, if any. */
int sip_dialog_refresh_target(struct sip_dialog *dlg, const struct sip_msg *msg);

/* Whether msg (a request) belongs to this dialog: Call-ID, To tag = local, From tag = remote. */
bool sip_dialog_match_req(const struct sip_dialog *dlg, const struct sip_msg *msg);

/* §12.2.2: a request's CSeq must be higher than the last remote one (except
 * ACK and CANCEL); if so it is remembered. Returns false: answer 500. */
bool sip_dialog_check_cseq(struct sip_dialog *dlg, const struct sip_msg *req);

/* Next local CSeq (increments), as §12.2.1.1 requires for every new request. */
uint32_t sip_dialog_next_cseq(struct sip_dialog *dlg);

/*
 * Builds an in-dialog request (§12.2.1.1) into mb: Request-URI and Route
 * per loose/strict routing, Via with the given transport, sent-by and
 * branch (;rport), From/To with tags, Call-ID, CSeq (cseq, method), Contact,
 * Max-Forwards 70, extra_hdrs (raw lines), body. hop receives the next hop
 * (first Route or remote target) without resolution when hop != NULL.
 */
int sip_dialog_encode(const struct sip_dialog *dlg, struct sip_mb *mb, const char *method,
                      uint32_t cseq, const char *sent_by, enum sip_transport via_tp,
                      const char *branch, const char *extra_hdrs, const char *ctype,
                      const void *body, size_t len);

/* The next-hop URI text of a request built now: first Route if loose, the
 * strict first route, or the remote target. */
struct pl sip_dialog_next_hop_uri(const struct sip_dialog *dlg);

/*
 * Builds with a fresh CSeq and sends a request in the dialog through the
 * transaction layer to the resolved next hop. resph may be NULL. ACK is
 * sent stateless (sip_tsx_send_ack) with cseq from the INVITE: use
 * sip_dialog_send_ack().
 */
int sip_dialog_request(struct sip_dialog *dlg, const char *method, const char *extra_hdrs,
                       const char *ctype, const void *body, size_t len, sip_tsx_resp_h *resph,
                       void *arg, struct sip_tsx **ctxp);

/*
 * Owners other than sessions (sip/event): a dialog is a mem object; whoever
 * holds a reference keeps it alive (the destructor unregisters it).
 * - set_handler: in-dialog requests go to h(arg) once the dialog is registered.
 * - register: enters the UA's dialog table (needs the remote tag), so that
 *   in-dialog requests reach the owner; unregister leaves it (idempotent).
 * - confirm: EARLY -> CONFIRMED (a UAS dialog made by SUBSCRIBE/REFER is
 *   confirmed by its 2xx).
 * - update_uac_req: a UAC dialog-to-be completed by a request from the far
 *   end (the NOTIFY that overtook the 2xx of a SUBSCRIBE, RFC 6665 §4.1.2.4):
 *   remote tag from From, target from Contact, route set from Record-Route
 *   in order (as a UAS builds it), remote CSeq; CONFIRMED. EALREADY if the
 *   dialog already has a remote tag.
 */
void sip_dialog_set_handler(struct sip_dialog *dlg, sip_dialog_req_h *h, void *arg);
void sip_dialog_register(struct sip_dialog *dlg);
void sip_dialog_unregister(struct sip_dialog *dlg);
void sip_dialog_confirm(struct sip_dialog *dlg);
int sip_dialog_update_uac_req(struct sip_dialog *dlg, const struct sip_msg *req);

/* Answers a request in the dialog: To tag = our tag, Server, and for a 2xx
 * to SUBSCRIBE/NOTIFY/REFER/INVITE/UPDATE our Contact. */
int sip_dialog_reply(struct sip_dialog *dlg, struct sip_tsx *stx, uint16_t code,
                     const char *reason, const char *extra_hdrs, const char *ctype,
                     const void *body, size_t len);

/*
 * Sends a request in the dialog (fresh CSeq; digest challenges answered;
 * waits for DNS when needed), like sip_dialog_request(), with a handle:
 * *crp (may be NULL) is set, and cleared by the UA once the request is over
 * (before resph hears the final outcome). sip_creq_detach() forgets a
 * pending request: no more handler calls. Also for requests outside any
 * dialog: a UAC dialog-to-be from sip_dialog_alloc_uac() (MESSAGE, a first
 * SUBSCRIBE).
 */
int sip_dialog_send(struct sip_creq **crp, struct sip_dialog *dlg, const char *method,
                    const char *extra_hdrs, const char *ctype, const void *body, size_t len,
                    sip_tsx_resp_h *resph, void *arg);
void sip_creq_detach(struct sip_creq *cr);
/* The CSeq number a request carries (e.g. for REFER's event id). */
uint32_t sip_creq_cseq(const struct sip_creq *cr);

struct sip_ua *sip_dialog_ua(const struct sip_dialog *dlg);
enum sip_dialog_state sip_dialog_state(const struct sip_dialog *dlg);
const char *sip_dialog_callid(const struct sip_dialog *dlg);
const char *sip_dialog_local_tag(const struct sip_dialog *dlg);
const char *sip_dialog_remote_tag(const struct sip_dialog *dlg);
const char *sip_dialog_remote_target(const struct sip_dialog *dlg);
uint32_t sip_dialog_local_cseq(const struct sip_dialog *dlg);
uint32_t sip_dialog_remote_cseq(const struct sip_dialog *dlg);
/* Route set entry i (the whole value, e.g. "<sip:p1.example.com;lr>"), NULL past the end. */
const char *sip_dialog_route(const struct sip_dialog *dlg, unsigned i);
unsigned sip_dialog_route_count(const struct sip_dialog *dlg);

/* ---- INVITE sessions ---- */

enum sip_sess_state {
	SIP_SESS_CALLING = 0, /* UAC: INVITE sent */
	SIP_SESS_INCOMING,    /* UAS: INVITE received, no final response yet */
	SIP_SESS_EARLY,       /* 1xx with To tag exchanged */
	SIP_SESS_ANSWERED,    /* UAS: 2xx sent, waiting for ACK */
	SIP_SESS_ESTABLISHED,
	SIP_SESS_CLOSING,
	SIP_SESS_CLOSED,
};

/*
 * Session handlers (any may be NULL). msg is borrowed.
 * - progress: UAC got a 1xx (code; body may be empty).
 * - established: UAC got the 2xx (ACK already sent) / UAS got the ACK.
 * - offer: a re-INVITE or UPDATE (or an INVITE without body's ACK) carries
 *   an offer: return 0 and point *ctype and *answer at the answer (copied before
 *   the handler's caller returns), or a SIP status (488...) to reject it.
 * - answer: an answer to our offer arrived (2xx of re-INVITE/UPDATE, ACK of a
 *   delayed-offer INVITE, 2xx of INVITE after 1xx...). code is the status
 *   (0 for ACK); failures of a re-INVITE/UPDATE come with code >= 300.
 * - closed: the session is over: err (ETIMEDOUT, ECONNREFUSED... or 0) and
 *   code (the final status of a failed INVITE, 487 when cancelled, 0 when
 *   BYE'd), reason text. The handle is invalid after this returns.
 * - info: an INFO (RFC 6086) in the dialog: package is the Info-Package value
 *   (empty for legacy INFO, e.g. application/dtmf-relay); msg->body and its
 *   Content-Type. Return 200 to accept, 415 for a body type refused (the
 *   UA adds Accept), or another status. Without the handler INFO gets 200
 *   when it has no body, else 415. An Info-Package not in cfg.info_packages
 *   gets 469 with Recv-Info before the handler is asked.
 * - info_resp: the outcome of an INFO we sent (sip_sess_info): the final
 *   status, or err (ETIMEDOUT...) with code 0.
 */
struct sip_sess_handlers {
	void (*progress)(struct sip_sess *s, uint16_t code, const struct sip_msg *resp, void *arg);
	void (*established)(struct sip_sess *s, const struct sip_msg *msg, void *arg);
	uint16_t (*offer)(struct sip_sess *s, const struct sip_msg *msg, const char **ctype,
	                  struct pl *answer, void *arg);
	void (*answer)(struct sip_sess *s, uint16_t code, const struct sip_msg *msg, void *arg);
	void (*closed)(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg);
	uint16_t (*info)(struct sip_sess *s, struct pl package, const struct sip_msg *msg,
	                 void *arg);
	void (*info_resp)(struct sip_sess *s, int err, uint16_t code, void *arg);
	/* UAC: the INVITE got a 3xx (resp has its Contacts); closed follows at once.
	 * Following it is the application's call: a new sip_sess_connect(). */
	void (*redirect)(struct sip_sess *s, uint16_t code, const struct sip_msg *resp, void *arg);
};

struct sip_sess_connect_opts {
	const char *target;     /* Request-URI (required) */
	const char *from;       /* From value without tag [<sip:anonymous@domain>] */
	const char *to;         /* To value [<target>] */
	const char *route;      /* outbound proxy URI, or NULL */
	enum sip_transport tp;  /* forces a transport (NONE: from the URI) */
	const char *extra_hdrs; /* raw lines ending in CRLF */
	const char *ctype;      /* ["application/sdp"] */
	const void *body;       /* NULL: delayed offer (the offer comes in the 2xx) */
	size_t body_len;
	bool require_100rel;      /* Require: 100rel (else Supported) */
	uint32_t session_expires; /* 0: the UA default */
};

int sip_sess_connect(struct sip_sess **sessp, struct sip_ua *ua,
                     const struct sip_sess_connect_opts *opts, const struct sip_sess_handlers *h,
                     void *arg);
void sip_sess_set_handlers(struct sip_sess *s, const struct sip_sess_handlers *h, void *arg);

/* UAS. progress: 101-199 (reliable: 100rel, RSeq, retransmitted until PRACK;
 * only if the UAC supports it). answer: 2xx retransmitted until ACK
 * (64*T1 without ACK -> BYE and closed(ETIMEDOUT)). reject: >= 300. */
int sip_sess_progress(struct sip_sess *s, uint16_t code, const char *ctype, const void *body,
                      size_t len, bool reliable);
int sip_sess_answer(struct sip_sess *s, const char *ctype, const void *body, size_t len);
int sip_sess_reject(struct sip_sess *s, uint16_t code, const char *reason, const char *extra_hdrs);

/* Offer in a re-INVITE (use_update false) or an UPDATE (RFC 3311). The
 * answer arrives through the answer handler. EBUSY if an offer is pending. */
int sip_sess_modify(struct sip_sess *s, bool use_update, const char *ctype, const void *body,
                    size_t len);

/*
 * Ends the session in whatever state: CANCEL (UAC early), reject with code
 * (UAS before answer; code 0 -> 486... use sip_sess_reject for a choice),
 * BYE (established). No handler is called afterwards; the handle is invalid.
 */
void sip_sess_close(struct sip_sess *s, uint16_t code);
/* The same with Reason (RFC 3326) on a CANCEL: sip_cause 200 for the losing forks
 * ("Call completed elsewhere"), q850_cause when the PSTN caller gave up; 0: none. */
void sip_sess_close_reason(struct sip_sess *s, uint16_t code, uint16_t sip_cause,
                           uint8_t q850_cause);

/*
 * Hangs up an established (or answered) session with BYE (reason_hdr: raw
 * lines such as a Reason header, or NULL) and reports the BYE's outcome
 * through the closed handler: err 0 and code = the BYE's final status, or
 * err ETIMEDOUT/transport error. EINVAL in other states (use sip_sess_close).
 */
int sip_sess_bye(struct sip_sess *s, const char *reason_hdr);

/*
 * Sends INFO (RFC 6086) in an early or established session: package NULL for
 * legacy INFO (no Info-Package header, e.g. application/dtmf-relay), else the
 * Info-Package value. At most SIP_SESS_MAX_INFO outstanding (EBUSY); the
 * outcome goes to the info_resp handler.
 */
#define SIP_SESS_MAX_INFO 4
int sip_sess_info(struct sip_sess *s, const char *package, const char *ctype, const void *body,
                  size_t len);

enum sip_sess_state sip_sess_state(const struct sip_sess *s);
struct sip_dialog *sip_sess_dialog(const struct sip_sess *s);
const char *sip_sess_callid(const struct sip_sess *s);
void *sip_sess_arg(const struct sip_sess *s);
/* Negotiated session interval (0: no session timer) and whether we refresh. */
uint32_t sip_sess_interval(const struct sip_sess *s, bool *we_refresh);

/* ---- pure helpers (exposed for tests) ---- */

/*
 * RFC 4028 §9 at a UAS: from the request's Session-Expires/Min-SE (0 when
 * absent) and whether the UAC said Supported: timer, our max interval and
 * our Min-SE. Returns 0 and *interval (0: no timer) and *uas_refreshes;
 * or 422 with *min_se set to what the 422 must carry.
 */
uint16_t sip_sess_timer_negotiate(uint32_t req_se, const char *req_refresher, uint32_t req_min_se,
                                  bool uac_supports, uint32_t our_se, uint32_t our_min_se,
                                  uint32_t *interval, bool *uas_refreshes, uint32_t *min_se);

/* When the refresher refreshes (half the interval) and when the other side
 * gives up (interval - min(32, interval/3)), in milliseconds. */
uint64_t sip_sess_timer_refresh_ms(uint32_t interval);
uint64_t sip_sess_timer_expire_ms(uint32_t interval);

#endif
