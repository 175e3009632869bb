/*
 * Private to the event module: the structs behind the handles and what the
 * files share. Not a public header.
 */
#ifndef TANDEM_SIP_EVENT_INT_H
#define TANDEM_SIP_EVENT_INT_H

#include "core/loop.h"
#include "sip/event/event.h"

#define EV_REFER_EXPIRES 180 /* seconds an implicit REFER subscription lasts */

struct ev_pkg {
	struct ev_pkg *next;
	char *name;
	struct sip_event_package p;
};

struct sip_events {
	struct sip_ua *ua;
	struct ev_pkg *pkgs;
	struct sip_evsub *subs;
	sip_refer_h *referh;
	void *referarg;
};

/* A NOTIFY waiting for the previous one's transaction (RFC 6665 §4.2.2
 * keeps one outstanding per subscription; the newest state wins). */
struct ev_pending {
	bool set;
	char *ctype, *body;
	size_t len;
};

struct sip_evsub {
	struct sip_evsub *next, *prev;
	struct sip_events *ev;
	struct sip_dialog *dlg; /* reference */
	bool own_dlg;           /* made by our SUBSCRIBE / the peer's (else a session's) */
	bool notifier, refer;
	enum sip_evsub_state state;
	char *package, *id;
	const struct ev_pkg *pkg; /* notifier */
	uint32_t asked;           /* subscriber: the Expires we ask for */
	uint64_t expires_at;      /* loop ms when the subscription lapses */
	struct tmr tmr;           /* subscriber: refresh / guard; notifier: expiry */
	struct tmr tmr_wait;      /* subscriber: 64*T1 for the first NOTIFY after a 2xx */
	struct sip_creq *req;     /* subscriber: our SUBSCRIBE or REFER */
	struct sip_creq *ntf;     /* notifier: the NOTIFY in progress */
	struct ev_pending pend;
	char *reason; /* terminated: the reason we send */
	char *accept, *extra;
	struct sip_evsub_handlers h;
	void *arg;
	bool app_closed, ended;
	bool unsubscribing, final_sent, in_handler, notified, got_2xx;
	bool no_sub; /* REFER sender: asked for Refer-Sub: false */
	unsigned retries_423;
};

/* layer.c */
int ev_sub_alloc(struct sip_evsub **subp, struct sip_events *ev, struct sip_dialog *dlg,
                 bool own_dlg, bool notifier, struct pl package, struct pl id);
/* Ends: handlers told (closed), dialog left, the layer's reference dropped. */
void ev_sub_end(struct sip_evsub *sub, int err, uint16_t code, const char *reason);
/* Frees without telling anyone (refused before it began). */
void ev_sub_drop(struct sip_evsub *sub);
bool ev_event_match(const struct sip_evsub *sub, const struct sip_event *e);
void ev_dlg_req(struct sip_dialog *dlg, struct sip_tsx *stx, const struct sip_msg *msg, void *arg);
uint32_t ev_left_s(const struct sip_evsub *sub);
char *ev_strdup(const char *s);

/* notifier.c */
void ev_subscribe_in(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg, void *arg);
void ev_refresh_in(struct sip_evsub *sub, struct sip_tsx *stx, const struct sip_msg *msg);
void ev_notifier_start(struct sip_evsub *sub, uint32_t expires);
const struct ev_pkg *ev_pkg_find(const struct sip_events *ev, struct pl name);
void ev_allow_events(const struct sip_events *ev, char *buf, size_t n);

/* subscriber.c */
void ev_notify_in(struct sip_evsub *sub, struct sip_tsx *stx, const struct sip_msg *msg);
void ev_subscriber_resp(struct sip_evsub *sub, int err, const struct sip_msg *resp);
/* Subscriber: expiry in expires seconds (refresh timer, or the bound of a REFER's). */
void ev_subscriber_bound(struct sip_evsub *sub, uint32_t expires);

/* refer.c */
bool ev_refer_in(struct sip_events *ev, struct sip_sess *sess, struct sip_tsx *stx,
                 const struct sip_msg *msg);

#endif
