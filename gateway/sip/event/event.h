/*
 * event: SIP-specific event notification (RFC 6665) and REFER (RFC 3515,
 * RFC 4488) on top of the UA's dialogs.
 *
 * struct sip_events is the event layer of one UA: it registers the SUBSCRIBE
 * handler and the UA's usage hook (sip_ua_set_usage_handler), so that
 * SUBSCRIBE/NOTIFY/REFER inside sessions and NOTIFYs that overtake their
 * SUBSCRIBE's 2xx reach it. It owns every subscription (struct sip_evsub),
 * either side:
 * - subscriber: sip_evsub_subscribe() creates a dialog with SUBSCRIBE,
 *   retries once on 423 with Min-Expires, refreshes before expiry, reports
 *   NOTIFYs, and unsubscribes with Expires: 0;
 * - notifier: for packages the application registered
 *   (sip_event_register()); others get 489 with Allow-Events. Expires below
 *   the package minimum gets 423 with Min-Expires; above its maximum is
 *   lowered. The notifier sends NOTIFY with Subscription-State
 *   active/pending;expires=N or terminated;reason=R, ends the subscription
 *   at expiry (reason=timeout) and on Expires: 0.
 * - REFER inside a session: the recipient's application accepts (202) or
 *   refuses; the layer sends the implicit subscription's NOTIFYs with
 *   message/sipfrag bodies ("SIP/2.0 100 Trying", then the final status the
 *   application reports), Refer-Sub: false honoured (no subscription); the
 *   sender (sip_refer_send) hears the sipfrag status codes.
 *
 * A subscription handle stays valid until its closed handler has returned
 * or sip_evsub_close() was called on it. Messages are borrowed for the
 * duration of a handler call. Free the layer before its UA.
 * Limits: one subscription per SUBSCRIBE-created dialog (a forked SUBSCRIBE
 * keeps the first NOTIFY's dialog; NOTIFYs from other forks get 481);
 * REFER outside a dialog is not served (405, unless the application
 * registers a REFER handler with sip_ua_set_handler).
 * Runs on the signalling thread's loop; not thread-safe.
 */
#ifndef TANDEM_SIP_EVENT_H
#define TANDEM_SIP_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/msg/msg.h"
#include "sip/ua/ua.h"

struct sip_events;
struct sip_evsub;

enum sip_evsub_state {
	SIP_EVSUB_INIT = 0, /* subscriber: SUBSCRIBE sent, no 2xx/NOTIFY yet */
	SIP_EVSUB_PENDING,
	SIP_EVSUB_ACTIVE,
	SIP_EVSUB_TERMINATED,
};

/*
 * Per-subscription handlers (any may be NULL). msg is borrowed.
 * - response (subscriber): the final response to our SUBSCRIBE/REFER
 *   (every one, refreshes included); resp is NULL on timeout/transport error.
 * - notify (subscriber): a NOTIFY with its Subscription-State; return the
 *   status to answer (200; 415 for a body refused...). Without it: 200.
 * - sipfrag (REFER sender): the status line of each NOTIFY's message/sipfrag
 *   body (100, 180, 200, 486...).
 * - closed (either side): the subscription is over: err (ETIMEDOUT, a
 *   transport error, 0), code (a failure status of SUBSCRIBE/REFER/NOTIFY,
 *   e.g. 489, 481, or 0), reason (the Subscription-State reason: "timeout",
 *   "noresource", "rejected", "deactivated"..., or NULL). Invalid afterwards.
 */
struct sip_evsub_handlers {
	void (*response)(struct sip_evsub *sub, uint16_t code, const struct sip_msg *resp,
	                 void *arg);
	uint16_t (*notify)(struct sip_evsub *sub, const struct sip_substate *ss,
	                   const struct sip_msg *msg, void *arg);
	void (*sipfrag)(struct sip_evsub *sub, uint16_t code, void *arg);
	void (*closed)(struct sip_evsub *sub, int err, uint16_t code, const char *reason,
	               void *arg);
};

int sip_event_alloc(struct sip_events **evp, struct sip_ua *ua);
/* Ends every subscription without signalling; before sip_ua_free(). */
void sip_event_free(struct sip_events *ev);

/* ---- notifier ---- */

/*
 * A package we serve. subscribe: a new subscription (initial == true) or a
 * refresh; return 200 (active), 202 (pending) or a status >= 300 to refuse.
 * The handler may call sip_evsub_set_handlers(). After the 2xx has gone out
 * the layer calls notify_now, which sends the NOTIFY that RFC 6665 §4.2.1.2
 * requires (sip_evsub_notify() with the current state body); without it
 * the layer sends one without body. On unsubscribe (Expires: 0) and on
 * expiry notify_now is called with the state already TERMINATED: its
 * NOTIFY is the final one. A subscription refused by subscribe (>= 300)
 * is freed when the handler returns, without a closed call.
 */
struct sip_event_package {
	const char *name;         /* "dialog", "presence", "message-summary"... (copied) */
	uint32_t min_expires;     /* 423 below this [60]; 1 for tests */
	uint32_t max_expires;     /* lowered to this [3600] */
	uint32_t default_expires; /* when SUBSCRIBE has no Expires [3600] */
	uint16_t (*subscribe)(struct sip_evsub *sub, const struct sip_msg *msg, bool initial,
	                      void *arg);
	void (*notify_now)(struct sip_evsub *sub, void *arg);
	void *arg;
};

/* Registers (or replaces) a package; EINVAL without name or subscribe. The
 * names appear in Allow-Events of 489s. */
int sip_event_register(struct sip_events *ev, const struct sip_event_package *pkg);

/*
 * Sends a NOTIFY with the subscription's state (active/pending;expires=N
 * left, or terminated;reason=R after sip_evsub_terminate), and the body.
 */
int sip_evsub_notify(struct sip_evsub *sub, const char *ctype, const void *body, size_t len);
/* Notifier: active (after a 202) or pending; the next NOTIFY says so. */
void sip_evsub_set_state(struct sip_evsub *sub, enum sip_evsub_state st);
/*
 * Notifier: ends the subscription with a final NOTIFY (terminated;reason=
 * reason ["noresource"], with the body if any); closed follows when the
 * NOTIFY's transaction is over.
 */
int sip_evsub_terminate(struct sip_evsub *sub, const char *reason, const char *ctype,
                        const void *body, size_t len);

/* ---- subscriber ---- */

struct sip_evsub_opts {
	const char *target;     /* Request-URI (required) */
	const char *from;       /* From value without tag [<sip:anonymous@domain>] */
	const char *to;         /* To value [<target>] */
	const char *route;      /* outbound proxy URI, or NULL */
	const char *package;    /* Event package (required) */
	const char *id;         /* Event id, or NULL */
	uint32_t expires;       /* asked for [3600] */
	const char *accept;     /* Accept value, or NULL */
	const char *extra_hdrs; /* raw lines ending in CRLF */
};

int sip_evsub_subscribe(struct sip_evsub **subp, struct sip_events *ev,
                        const struct sip_evsub_opts *o, const struct sip_evsub_handlers *h,
                        void *arg);
/* SUBSCRIBE with Expires: 0; closed follows the final NOTIFY (or the
 * request's failure, or 64*T1 without NOTIFY). */
int sip_evsub_unsubscribe(struct sip_evsub *sub);

/* ---- both ---- */

/* Forgets the subscription without signalling; no handler is called. */
void sip_evsub_close(struct sip_evsub *sub);
void sip_evsub_set_handlers(struct sip_evsub *sub, const struct sip_evsub_handlers *h, void *arg);
enum sip_evsub_state sip_evsub_state(const struct sip_evsub *sub);
const char *sip_evsub_package(const struct sip_evsub *sub);
const char *sip_evsub_id(const struct sip_evsub *sub); /* "" if none */
/* Seconds the subscription has left (as last granted). */
uint32_t sip_evsub_expires(const struct sip_evsub *sub);
struct sip_dialog *sip_evsub_dialog(const struct sip_evsub *sub);
void *sip_evsub_arg(const struct sip_evsub *sub);

/* ---- REFER (RFC 3515, RFC 4488) ---- */

struct sip_refer_to {
	struct sip_addr addr;     /* Refer-To, decoded (slices into the REFER) */
	bool has_replaces;        /* the URI carried ?Replaces=... */
	struct sip_replaces repl; /* slices into replaces_buf */
	char replaces_buf[512];   /* the unescaped Replaces value */
};

/*
 * A REFER arrived in a session's dialog. sub is the implicit subscription
 * (NULL when the REFER said Refer-Sub: false and we honour it). Return 202
 * to accept (the layer answers 202 and sends NOTIFY "SIP/2.0 100 Trying";
 * then report the outcome with sip_refer_notify()), or a status >= 300.
 */
typedef uint16_t(sip_refer_h)(struct sip_sess *sess, struct sip_evsub *sub,
                              const struct sip_refer_to *rt, const struct sip_msg *msg, void *arg);
void sip_event_set_refer_handler(struct sip_events *ev, sip_refer_h *h, void *arg);

/*
 * Recipient: reports the referred request's progress: code < 200 sends an
 * active NOTIFY, >= 200 the final one (terminated;reason=noresource) with
 * body "SIP/2.0 code reason". Called from inside the refer handler, the
 * NOTIFY waits until the 202 and the 100 Trying have gone out.
 */
int sip_refer_notify(struct sip_evsub *sub, uint16_t code, const char *reason);

/*
 * Sender: REFER in the session's dialog to refer_to (a URI or name-addr;
 * put into <> when bare). extra_hdrs: e.g. Referred-By. no_sub: asks for
 * Refer-Sub: false (RFC 4488). The REFER's final response goes to the
 * response handler; NOTIFY sipfrag statuses to sipfrag; closed ends it
 * (after the final NOTIFY; right after the 2xx when the recipient accepted
 * Refer-Sub: false; on a failure response with its code).
 */
int sip_refer_send(struct sip_evsub **subp, struct sip_events *ev, struct sip_sess *sess,
                   const char *refer_to, const char *extra_hdrs, bool no_sub,
                   const struct sip_evsub_handlers *h, void *arg);

/* Parses a message/sipfrag body's status line ("SIP/2.0 180 Ringing"): the
 * code, or 0 if it is not one. */
uint16_t sip_sipfrag_status(struct pl body);

/* Decodes a REFER's Refer-To (and an embedded ?Replaces=); 0 or EBADMSG. */
int sip_refer_to_decode(struct sip_refer_to *rt, struct pl val);

#endif
