/*
 * Notifier side (RFC 6665 §4.2): SUBSCRIBE in (489, 423, Expires
 * negotiation), the dialog it creates, NOTIFY with Subscription-State, one
 * NOTIFY transaction at a time (§4.2.2), expiry and unsubscribe.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/event/event_int.h"

#define DEF_MIN_EXPIRES 60
#define DEF_MAX_EXPIRES 3600

const struct ev_pkg *ev_pkg_find(const struct sip_events *ev, struct pl name)
{
	for (const struct ev_pkg *p = ev->pkgs; p; p = p->next)
		if (pl_eq(name, pl_make(p->name, strlen(p->name))))
			return p;
	return NULL;
}

void ev_allow_events(const struct sip_events *ev, char *buf, size_t n)
{
	size_t o = (size_t)snprintf(buf, n, "Allow-Events:");

	for (const struct ev_pkg *p = ev->pkgs; p && o < n; p = p->next)
		o += (size_t)snprintf(buf + o, n - o, "%s %s", p == ev->pkgs ? "" : ",", p->name);
	if (ev->referh && o < n)
		o += (size_t)snprintf(buf + o, n - o, "%s refer", ev->pkgs ? "," : "");
	if (o < n)
		snprintf(buf + o, n - o, "\r\n");
}

int sip_event_register(struct sip_events *ev, const struct sip_event_package *pkg)
{
	struct ev_pkg *p;

	if (!ev || !pkg || !pkg->name || !pkg->subscribe || !strcmp(pkg->name, "refer"))
		return EINVAL;
	p = (struct ev_pkg *)ev_pkg_find(ev, pl_make(pkg->name, strlen(pkg->name)));
	if (!p) {
		p = mem_zalloc(sizeof(*p), NULL);
		if (!p)
			return ENOMEM;
		p->name = ev_strdup(pkg->name);
		if (!p->name) {
			mem_deref(p);
			return ENOMEM;
		}
		p->next = ev->pkgs;
		ev->pkgs = p;
	}
	p->p = *pkg;
	p->p.name = p->name;
	if (!p->p.min_expires)
		p->p.min_expires = DEF_MIN_EXPIRES;
	if (!p->p.max_expires)
		p->p.max_expires = DEF_MAX_EXPIRES;
	if (!p->p.default_expires)
		p->p.default_expires = p->p.max_expires;
	return 0;
}

/* ---- NOTIFY ---- */

static int notify_send(struct sip_evsub *sub, const char *ctype, const void *body, size_t len);

static void notify_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_evsub *sub = arg;
	uint16_t code = resp ? resp->scode : 0;

	if (resp && code < 200)
		return;
	if (err || code >= 300) {
		/* §4.2.2: 481 or a timeout removes the subscription; so does any failure here */
		LOGN(sip_dialog_callid(sub->dlg), "event: NOTIFY failed: err=%d code=%u", err,
		     code);
		ev_sub_end(sub, err, code, NULL);
		return;
	}
	if (sub->final_sent) {
		ev_sub_end(sub, 0, 0, sub->reason);
		return;
	}
	if (sub->pend.set) {
		char *ct = sub->pend.ctype, *b = sub->pend.body;
		size_t n = sub->pend.len;
		sub->pend.ctype = sub->pend.body = NULL;
		sub->pend.set = false;
		if (notify_send(sub, ct, b, n))
			ev_sub_end(sub, EIO, 0, NULL);
		mem_deref(ct);
		mem_deref(b);
	}
}

static const char *state_name(enum sip_evsub_state st)
{
	return st == SIP_EVSUB_PENDING      ? "pending"
	       : st == SIP_EVSUB_TERMINATED ? "terminated"
	                                    : "active";
}

static int notify_send(struct sip_evsub *sub, const char *ctype, const void *body, size_t len)
{
	char extra[512];
	size_t o;

	o = (size_t)snprintf(extra, sizeof(extra), "Event: %s%s%s\r\nSubscription-State: %s",
	                     sub->package, sub->id[0] ? ";id=" : "", sub->id,
	                     state_name(sub->state));
	if (sub->state == SIP_EVSUB_TERMINATED)
		snprintf(extra + o, sizeof(extra) - o, ";reason=%s\r\n",
		         sub->reason ? sub->reason : "noresource");
	else
		snprintf(extra + o, sizeof(extra) - o, ";expires=%u\r\n", ev_left_s(sub));
	if (sub->state == SIP_EVSUB_TERMINATED)
		sub->final_sent = true;
	return sip_dialog_send(&sub->ntf, sub->dlg, "NOTIFY", extra, ctype, body, len, notify_resp,
	                       sub);
}

static int pend_set(struct sip_evsub *sub, const char *ctype, const void *body, size_t len)
{
	char *ct = ev_strdup(ctype), *b = NULL;

	if (body && len) {
		b = mem_zalloc(len + 1, NULL);
		if (b)
			memcpy(b, body, len);
	}
	if ((ctype && !ct) || (body && len && !b)) {
		mem_deref(ct);
		mem_deref(b);
		return ENOMEM;
	}
	mem_deref(sub->pend.ctype);
	mem_deref(sub->pend.body);
	sub->pend.ctype = ct;
	sub->pend.body = b;
	sub->pend.len = b ? len : 0;
	sub->pend.set = true;
	return 0;
}

int sip_evsub_notify(struct sip_evsub *sub, const char *ctype, const void *body, size_t len)
{
	if (!sub || !sub->notifier || sub->ended || sub->final_sent)
		return EINVAL;
	if (body && len && !ctype)
		return EINVAL;
	/* one NOTIFY transaction at a time; inside the subscribe/refer handler
	 * the 2xx has not gone out yet: wait for both */
	if (sub->ntf || sub->in_handler)
		return pend_set(sub, ctype, body, len);
	return notify_send(sub, ctype, body, len);
}

void sip_evsub_set_state(struct sip_evsub *sub, enum sip_evsub_state st)
{
	if (sub && sub->notifier && !sub->ended && sub->state != SIP_EVSUB_TERMINATED &&
	    (st == SIP_EVSUB_ACTIVE || st == SIP_EVSUB_PENDING))
		sub->state = st;
}

int sip_evsub_terminate(struct sip_evsub *sub, const char *reason, const char *ctype,
                        const void *body, size_t len)
{
	char *r;

	if (!sub || !sub->notifier || sub->ended || sub->final_sent)
		return EINVAL;
	r = ev_strdup(reason ? reason : "noresource");
	if (!r)
		return ENOMEM;
	mem_deref(sub->reason);
	sub->reason = r;
	sub->state = SIP_EVSUB_TERMINATED;
	tmr_cancel(&sub->tmr);
	return sip_evsub_notify(sub, ctype, body, len);
}

/* The NOTIFY a change of state calls for: the package's own, or an empty one. */
static void notify_now(struct sip_evsub *sub)
{
	bool had = sub->ntf || sub->pend.set || sub->final_sent;

	if (sub->final_sent || sub->ended)
		return;
	if (sub->pkg && sub->pkg->p.notify_now) {
		sub->pkg->p.notify_now(sub, sub->pkg->p.arg);
		if (sub->ended || sub->pend.set || sub->final_sent || (!had && sub->ntf))
			return;
	}
	if (sip_evsub_notify(sub, NULL, NULL, 0))
		ev_sub_end(sub, EIO, 0, NULL);
}

static void expired(void *arg)
{
	struct sip_evsub *sub = arg;

	sub->state = SIP_EVSUB_TERMINATED;
	mem_deref(sub->reason);
	sub->reason = ev_strdup("timeout");
	mem_ref(sub);
	notify_now(sub);
	mem_deref(sub);
}

void ev_notifier_start(struct sip_evsub *sub, uint32_t expires)
{
	struct loop *l = sip_ua_loop(sub->ev->ua);

	sub->expires_at = loop_now(l) + 1000ull * expires;
	tmr_start(l, &sub->tmr, 1000ull * expires, expired, sub);
}

/* ---- SUBSCRIBE ---- */

/* Expires of a SUBSCRIBE against the package: 0 and *exp, or the status to answer. */
static uint16_t expires_check(const struct ev_pkg *p, const struct sip_msg *msg, uint32_t *exp)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_EXPIRES);
	uint32_t v = p->p.default_expires;

	if (h && sip_u32_decode(&v, h->val))
		return 400;
	if (v && v < p->p.min_expires)
		return 423;
	*exp = v > p->p.max_expires ? p->p.max_expires : v;
	return 0;
}

static void reply_423(struct sip_ua *ua, struct sip_dialog *dlg, struct sip_tsx *stx,
                      const struct ev_pkg *p)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "Min-Expires: %u\r\n", p->p.min_expires);
	if (dlg)
		sip_dialog_reply(dlg, stx, 423, NULL, extra, NULL, NULL, 0);
	else
		sip_ua_reply(ua, stx, 423, NULL, extra, NULL, NULL, 0);
}

/* Asks the package; answers; sends the first NOTIFY. Returns false if refused. */
static bool accept_sub(struct sip_evsub *sub, struct sip_tsx *stx, const struct sip_msg *msg,
                       uint32_t expires, bool initial)
{
	char extra[64];
	uint16_t code;

	sub->in_handler = true;
	code = sub->pkg->p.subscribe(sub, msg, initial, sub->pkg->p.arg);
	sub->in_handler = false;
	if (sub->ended)
		code = code >= 300 ? code : 481;
	if (code < 200 || code > 699)
		code = 500;
	if (code >= 300) {
		sip_dialog_reply(sub->dlg, stx, code, NULL, NULL, NULL, NULL, 0);
		return false;
	}
	/* terminated stays so: an unsubscribe, or the handler ended it at once */
	if (sub->state != SIP_EVSUB_TERMINATED)
		sub->state = code == 202 ? SIP_EVSUB_PENDING : SIP_EVSUB_ACTIVE;
	snprintf(extra, sizeof(extra), "Expires: %u\r\n", expires);
	sip_dialog_reply(sub->dlg, stx, code, NULL, extra, NULL, NULL, 0);
	if (expires == 0) { /* a fetch or an unsubscribe: the final NOTIFY now */
		tmr_cancel(&sub->tmr);
		sub->state = SIP_EVSUB_TERMINATED;
		mem_deref(sub->reason);
		sub->reason = ev_strdup("timeout");
	} else if (sub->state != SIP_EVSUB_TERMINATED) {
		ev_notifier_start(sub, expires);
	}
	if (sub->pend.set && !sub->ntf) { /* sent from inside the handler */
		struct ev_pending pd = sub->pend;
		memset(&sub->pend, 0, sizeof(sub->pend));
		if (notify_send(sub, pd.ctype, pd.body, pd.len))
			ev_sub_end(sub, EIO, 0, NULL);
		mem_deref(pd.ctype);
		mem_deref(pd.body);
		return true;
	}
	notify_now(sub);
	return true;
}

void ev_subscribe_in(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg, void *arg)
{
	struct sip_events *ev = arg;
	const struct sip_hdr *eh = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct sip_dialog *dlg = NULL;
	struct sip_evsub *sub = NULL;
	const struct ev_pkg *p;
	struct sip_event e;
	char extra[512];
	uint32_t expires = 0;
	uint16_t code;
	int err;

	if (!eh || sip_event_decode(&e, eh->val)) {
		sip_ua_reply(ua, stx, 400, "Missing or Bad Event", NULL, NULL, NULL, 0);
		return;
	}
	p = ev_pkg_find(ev, e.package);
	if (!p) {
		ev_allow_events(ev, extra, sizeof(extra));
		sip_ua_reply(ua, stx, 489, NULL, extra, NULL, NULL, 0);
		return;
	}
	code = expires_check(p, msg, &expires);
	if (code == 423) {
		reply_423(ua, NULL, stx, p);
		return;
	}
	if (code) {
		sip_ua_reply(ua, stx, code, "Bad Expires", NULL, NULL, NULL, 0);
		return;
	}
	err = sip_dialog_alloc_uas(&dlg, ua, msg, NULL);
	if (!err)
		err = ev_sub_alloc(&sub, ev, dlg, true, true, e.package, e.id);
	mem_deref(dlg); /* the subscription holds it */
	if (err) {
		sip_ua_reply(ua, stx, err == EBADMSG ? 400 : 500, NULL, NULL, NULL, NULL, 0);
		return;
	}
	sub->pkg = p;
	sip_dialog_confirm(sub->dlg);
	sip_dialog_set_handler(sub->dlg, ev_dlg_req, sub);
	sip_dialog_register(sub->dlg);
	mem_ref(sub);
	if (!accept_sub(sub, stx, msg, expires, true))
		ev_sub_drop(sub);
	mem_deref(sub);
}

void ev_refresh_in(struct sip_evsub *sub, struct sip_tsx *stx, const struct sip_msg *msg)
{
	const struct sip_hdr *eh = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct sip_event e;
	uint32_t expires = 0;
	uint16_t code;

	if (!eh || sip_event_decode(&e, eh->val)) {
		sip_dialog_reply(sub->dlg, stx, 400, "Missing or Bad Event", NULL, NULL, NULL, 0);
		return;
	}
	if (!ev_event_match(sub, &e) || sub->final_sent || sub->ended) {
		sip_dialog_reply(sub->dlg, stx, ev_pkg_find(sub->ev, e.package) ? 481 : 489, NULL,
		                 NULL, NULL, NULL, 0);
		return;
	}
	if (sub->refer) { /* a refresh of REFER's implicit subscription: keep our duration */
		char extra[64];
		snprintf(extra, sizeof(extra), "Expires: %u\r\n", ev_left_s(sub));
		sip_dialog_reply(sub->dlg, stx, 200, NULL, extra, NULL, NULL, 0);
		return;
	}
	code = expires_check(sub->pkg, msg, &expires);
	if (code == 423) {
		reply_423(NULL, sub->dlg, stx, sub->pkg);
		return;
	}
	if (code) {
		sip_dialog_reply(sub->dlg, stx, code, "Bad Expires", NULL, NULL, NULL, 0);
		return;
	}
	if (expires == 0) { /* unsubscribe (§4.2.1.3) */
		sub->state = SIP_EVSUB_TERMINATED;
		mem_deref(sub->reason);
		sub->reason = ev_strdup("timeout");
	}
	accept_sub(sub, stx, msg, expires, false);
}
