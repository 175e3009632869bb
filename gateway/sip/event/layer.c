/*
 * The event layer: subscription objects and their lifetime, and the routing
 * of SUBSCRIBE/NOTIFY/REFER to them (RFC 6665 §4, RFC 5057 usages): by the
 * subscription's own dialog, or through the UA's usage hook for session
 * dialogs and for NOTIFYs that overtake their SUBSCRIBE's 2xx (§4.1.2.4).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/event/event_int.h"

char *ev_strdup(const char *s)
{
	return s ? mem_strndup(s, strlen(s)) : NULL;
}

static void pend_clear(struct ev_pending *p)
{
	p->ctype = mem_deref(p->ctype);
	p->body = mem_deref(p->body);
	p->len = 0;
	p->set = false;
}

static void sub_destroy(void *data)
{
	struct sip_evsub *sub = data;

	tmr_cancel(&sub->tmr);
	tmr_cancel(&sub->tmr_wait);
	sip_creq_detach(sub->req);
	sip_creq_detach(sub->ntf);
	pend_clear(&sub->pend);
	if (sub->dlg && sub->own_dlg) {
		sip_dialog_set_handler(sub->dlg, NULL, NULL);
		sip_dialog_unregister(sub->dlg);
	}
	mem_deref(sub->dlg);
	mem_deref(sub->package);
	mem_deref(sub->id);
	mem_deref(sub->reason);
	mem_deref(sub->accept);
	mem_deref(sub->extra);
}

static void sub_unlink(struct sip_evsub *sub)
{
	if (sub->prev)
		sub->prev->next = sub->next;
	else if (sub->ev->subs == sub)
		sub->ev->subs = sub->next;
	if (sub->next)
		sub->next->prev = sub->prev;
	sub->next = sub->prev = NULL;
}

int ev_sub_alloc(struct sip_evsub **subp, struct sip_events *ev, struct sip_dialog *dlg,
                 bool own_dlg, bool notifier, struct pl package, struct pl id)
{
	struct sip_evsub *sub = mem_zalloc(sizeof(*sub), sub_destroy);

	if (!sub)
		return ENOMEM;
	tmr_init(&sub->tmr);
	tmr_init(&sub->tmr_wait);
	sub->ev = ev;
	sub->dlg = mem_ref(dlg);
	sub->own_dlg = own_dlg;
	sub->notifier = notifier;
	sub->package = mem_strndup(package.p ? package.p : "", package.l);
	sub->id = mem_strndup(id.p ? id.p : "", id.l);
	if (!sub->package || !sub->id) {
		mem_deref(sub);
		return ENOMEM;
	}
	sub->next = ev->subs;
	if (sub->next)
		sub->next->prev = sub;
	ev->subs = sub;
	*subp = sub;
	return 0;
}

/* Stops everything the subscription does; the object stays for the caller. */
static void sub_stop(struct sip_evsub *sub)
{
	sub->ended = true;
	sub->state = SIP_EVSUB_TERMINATED;
	tmr_cancel(&sub->tmr);
	tmr_cancel(&sub->tmr_wait);
	sip_creq_detach(sub->req);
	sip_creq_detach(sub->ntf);
	pend_clear(&sub->pend);
	if (sub->own_dlg) {
		sip_dialog_set_handler(sub->dlg, NULL, NULL);
		sip_dialog_unregister(sub->dlg);
	}
	sub_unlink(sub);
}

void ev_sub_end(struct sip_evsub *sub, int err, uint16_t code, const char *reason)
{
	if (sub->ended)
		return;
	sub_stop(sub);
	LOGD(sip_dialog_callid(sub->dlg), "event: %s subscription %s;id=%s over: err=%d code=%u %s",
	     sub->notifier ? "notifier" : "subscriber", sub->package, sub->id, err, code,
	     reason ? reason : "");
	if (!sub->app_closed && sub->h.closed)
		sub->h.closed(sub, err, code, reason, sub->arg);
	mem_deref(sub);
}

void ev_sub_drop(struct sip_evsub *sub)
{
	if (sub->ended)
		return;
	sub_stop(sub);
	mem_deref(sub);
}

void sip_evsub_close(struct sip_evsub *sub)
{
	if (!sub || sub->ended)
		return;
	sub->app_closed = true;
	ev_sub_drop(sub);
}

/* Event package and id of msg match the subscription's (RFC 6665 §8.2.1:
 * tokens compared byte by byte; a REFER's NOTIFY may omit an id, RFC 3515 §2.4.4). */
bool ev_event_match(const struct sip_evsub *sub, const struct sip_event *e)
{
	struct pl id = pl_isset(e->id) ? e->id : PL("");

	if (!pl_eq(e->package, pl_make(sub->package, strlen(sub->package))))
		return false;
	if (pl_eq(id, pl_make(sub->id, strlen(sub->id))))
		return true;
	return sub->refer && !id.l;
}

uint32_t ev_left_s(const struct sip_evsub *sub)
{
	uint64_t now = loop_now(sip_ua_loop(sub->ev->ua));

	if (sub->expires_at <= now)
		return 0;
	return (uint32_t)((sub->expires_at - now + 999) / 1000);
}

/* ---- routing ---- */

static void reply_allow(struct sip_dialog *dlg, struct sip_tsx *stx, uint16_t code)
{
	char extra[256];

	snprintf(extra, sizeof(extra), "Allow: %s\r\n", sip_ua_allow(sip_dialog_ua(dlg)));
	sip_dialog_reply(dlg, stx, code, NULL, extra, NULL, NULL, 0);
}

/* Requests in a dialog a SUBSCRIBE made (ours or the peer's). */
void ev_dlg_req(struct sip_dialog *dlg, struct sip_tsx *stx, const struct sip_msg *msg, void *arg)
{
	struct sip_evsub *sub = arg;

	if (!stx)
		return;
	mem_ref(sub);
	if (msg->mid == SIP_M_SUBSCRIBE && sub->notifier)
		ev_refresh_in(sub, stx, msg);
	else if (msg->mid == SIP_M_NOTIFY && !sub->notifier)
		ev_notify_in(sub, stx, msg);
	else if (msg->mid == SIP_M_OPTIONS)
		sip_dialog_reply(dlg, stx, 200, NULL, NULL, NULL, NULL, 0);
	else if (msg->mid == SIP_M_SUBSCRIBE || msg->mid == SIP_M_NOTIFY || msg->mid == SIP_M_BYE)
		/* no such usage in this dialog (RFC 5057 §5.6: BYE has no invite usage here) */
		sip_dialog_reply(dlg, stx, 481, NULL, NULL, NULL, NULL, 0);
	else
		reply_allow(dlg, stx, 405);
	mem_deref(sub);
}

static struct sip_evsub *find_in_dialog(struct sip_events *ev, const struct sip_dialog *dlg,
                                        bool notifier, const struct sip_event *e)
{
	for (struct sip_evsub *s = ev->subs; s; s = s->next)
		if (s->dlg == dlg && s->notifier == notifier && ev_event_match(s, e))
			return s;
	return NULL;
}

/* A NOTIFY before the 2xx: a subscriber still without remote tag, same
 * Call-ID, our tag in To (§4.1.2.4). */
static struct sip_evsub *find_early(struct sip_events *ev, const struct sip_msg *msg,
                                    const struct sip_event *e)
{
	for (struct sip_evsub *s = ev->subs; s; s = s->next) {
		const char *cid = sip_dialog_callid(s->dlg), *lt = sip_dialog_local_tag(s->dlg);
		if (s->notifier || !s->own_dlg || sip_dialog_remote_tag(s->dlg))
			continue;
		if (pl_eq(msg->callid, pl_make(cid, strlen(cid))) &&
		    pl_eq(msg->to.tag, pl_make(lt, strlen(lt))) && ev_event_match(s, e))
			return s;
	}
	return NULL;
}

static bool usage_h(struct sip_ua *ua, struct sip_dialog *dlg, struct sip_sess *sess,
                    struct sip_tsx *stx, const struct sip_msg *msg, void *arg)
{
	struct sip_events *ev = arg;
	const struct sip_hdr *eh = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct sip_event e;
	struct sip_evsub *sub;

	if (msg->mid == SIP_M_REFER)
		return dlg && sess ? ev_refer_in(ev, sess, stx, msg) : false;
	if (msg->mid != SIP_M_NOTIFY && msg->mid != SIP_M_SUBSCRIBE)
		return false;
	if (!eh || sip_event_decode(&e, eh->val)) {
		if (!dlg)
			return false;
		sip_ua_reply(ua, stx, 400, "Missing or Bad Event", NULL, NULL, NULL, 0);
		return true;
	}
	if (!dlg) {
		sub = msg->mid == SIP_M_NOTIFY ? find_early(ev, msg, &e) : NULL;
		if (!sub)
			return false;
		mem_ref(sub);
		ev_notify_in(sub, stx, msg);
		mem_deref(sub);
		return true;
	}
	sub = find_in_dialog(ev, dlg, msg->mid == SIP_M_SUBSCRIBE, &e);
	if (!sub) {
		/* new subscriptions are not taken inside INVITE dialogs */
		sip_dialog_reply(dlg, stx, msg->mid == SIP_M_NOTIFY ? 481 : 403, NULL, NULL, NULL,
		                 NULL, 0);
		return true;
	}
	mem_ref(sub);
	if (msg->mid == SIP_M_NOTIFY)
		ev_notify_in(sub, stx, msg);
	else
		ev_refresh_in(sub, stx, msg);
	mem_deref(sub);
	return true;
}

/* NOTIFY outside any dialog (no To tag): never part of a subscription. */
static void notify_nodlg(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg,
                         void *arg)
{
	sip_ua_reply(ua, stx, 481, NULL, NULL, NULL, NULL, 0);
}

static void ev_destroy(void *data)
{
	struct sip_events *ev = data;

	while (ev->subs) {
		ev->subs->app_closed = true;
		ev_sub_drop(ev->subs);
	}
	while (ev->pkgs) {
		struct ev_pkg *p = ev->pkgs;
		ev->pkgs = p->next;
		mem_deref(p->name);
		mem_deref(p);
	}
	sip_ua_set_usage_handler(ev->ua, NULL, NULL);
	sip_ua_set_handler(ev->ua, SIP_M_SUBSCRIBE, NULL, NULL);
	sip_ua_set_handler(ev->ua, SIP_M_NOTIFY, NULL, NULL);
}

int sip_event_alloc(struct sip_events **evp, struct sip_ua *ua)
{
	struct sip_events *ev;

	if (!evp || !ua)
		return EINVAL;
	ev = mem_zalloc(sizeof(*ev), ev_destroy);
	if (!ev)
		return ENOMEM;
	ev->ua = ua;
	sip_ua_set_usage_handler(ua, usage_h, ev);
	sip_ua_set_handler(ua, SIP_M_SUBSCRIBE, ev_subscribe_in, ev);
	sip_ua_set_handler(ua, SIP_M_NOTIFY, notify_nodlg, ev);
	*evp = ev;
	return 0;
}

void sip_event_free(struct sip_events *ev)
{
	mem_deref(ev);
}

void sip_event_set_refer_handler(struct sip_events *ev, sip_refer_h *h, void *arg)
{
	ev->referh = h;
	ev->referarg = arg;
}

void sip_evsub_set_handlers(struct sip_evsub *sub, const struct sip_evsub_handlers *h, void *arg)
{
	if (h)
		sub->h = *h;
	else
		memset(&sub->h, 0, sizeof(sub->h));
	sub->arg = arg;
}

enum sip_evsub_state sip_evsub_state(const struct sip_evsub *sub)
{
	return sub->state;
}

const char *sip_evsub_package(const struct sip_evsub *sub)
{
	return sub->package;
}

const char *sip_evsub_id(const struct sip_evsub *sub)
{
	return sub->id;
}

uint32_t sip_evsub_expires(const struct sip_evsub *sub)
{
	return ev_left_s(sub);
}

struct sip_dialog *sip_evsub_dialog(const struct sip_evsub *sub)
{
	return sub->dlg;
}

void *sip_evsub_arg(const struct sip_evsub *sub)
{
	return sub->arg;
}
