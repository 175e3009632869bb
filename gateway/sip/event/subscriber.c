/*
 * Subscriber side (RFC 6665 §4.1): SUBSCRIBE (initial, 423 retry with
 * Min-Expires, refresh before expiry, Expires: 0), NOTIFY in with
 * Subscription-State, the dialog made by the 2xx or by a NOTIFY that
 * overtook it (§4.1.2.4).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/event/event_int.h"

#define DEF_EXPIRES 3600

static struct loop *sub_loop(const struct sip_evsub *sub)
{
	return sip_ua_loop(sub->ev->ua);
}

/* Refresh ahead of expiry: at half for short ones, 32 s before for longer. */
static uint64_t refresh_ms(uint32_t expires)
{
	return expires > 64 ? 1000ull * (expires - 32) : 500ull * expires;
}

static void sub_resp_h(int err, const struct sip_msg *resp, void *arg);

static int subscribe_send(struct sip_evsub *sub, uint32_t expires)
{
	char extra[1024];

	snprintf(extra, sizeof(extra), "Event: %s%s%s\r\nExpires: %u\r\n%s%s%s%s", sub->package,
	         sub->id[0] ? ";id=" : "", sub->id, expires, sub->accept ? "Accept: " : "",
	         sub->accept ? sub->accept : "", sub->accept ? "\r\n" : "",
	         sub->extra ? sub->extra : "");
	sip_creq_detach(sub->req);
	return sip_dialog_send(&sub->req, sub->dlg, "SUBSCRIBE", extra, NULL, NULL, 0, sub_resp_h,
	                       sub);
}

static void refresh_due(void *arg)
{
	struct sip_evsub *sub = arg;

	if (subscribe_send(sub, sub->asked))
		ev_sub_end(sub, EIO, 0, NULL);
}

static void lapsed(void *arg)
{
	struct sip_evsub *sub = arg;

	ev_sub_end(sub, ETIMEDOUT, 0, "timeout");
}

static void schedule_refresh(struct sip_evsub *sub, uint32_t expires)
{
	sub->expires_at = loop_now(sub_loop(sub)) + 1000ull * expires;
	if (sub->refer) /* the implicit subscription is not refreshed: just bounded */
		tmr_start(sub_loop(sub), &sub->tmr, 1000ull * expires + 5000, lapsed, sub);
	else if (!sub->unsubscribing)
		tmr_start(sub_loop(sub), &sub->tmr, refresh_ms(expires), refresh_due, sub);
}

void ev_subscriber_bound(struct sip_evsub *sub, uint32_t expires)
{
	schedule_refresh(sub, expires);
}

/* Unsubscribed (or REFERred) and waiting for the final NOTIFY: not forever. */
static void guard(struct sip_evsub *sub)
{
	tmr_start(sub_loop(sub), &sub->tmr, 64ull * sip_ua_t1(sub->ev->ua), lapsed, sub);
}

/* §4.1.2.4: a 2xx and no NOTIFY within 64*T1: the subscription failed. */
static void no_notify(void *arg)
{
	struct sip_evsub *sub = arg;

	ev_sub_end(sub, ETIMEDOUT, 0, NULL);
}

static bool retry_423(struct sip_evsub *sub, const struct sip_msg *resp)
{
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_MIN_EXPIRES);
	uint32_t min;

	if (!h || sip_u32_decode(&min, h->val) || min <= sub->asked || sub->retries_423 >= 2 ||
	    sub->unsubscribing)
		return false;
	sub->retries_423++;
	sub->asked = min;
	return subscribe_send(sub, min) == 0;
}

/* The final response to our SUBSCRIBE (or REFER: refer.c has its own). */
void ev_subscriber_resp(struct sip_evsub *sub, int err, const struct sip_msg *resp)
{
	uint16_t code = resp ? resp->scode : 0;
	const struct sip_hdr *h;
	uint32_t exp = sub->asked;

	if (!err && code == 423 && retry_423(sub, resp))
		return;
	if (sub->h.response && !sub->app_closed)
		sub->h.response(sub, code, resp, sub->arg);
	if (sub->ended)
		return;
	if (err || code >= 300) {
		/* a failed refresh or unsubscribe ends it too: the notifier may have
		 * forgotten it (481), and an unconfirmed one cannot be kept */
		ev_sub_end(sub, err, code, NULL);
		return;
	}
	if (!sip_dialog_remote_tag(sub->dlg)) {
		if (sip_dialog_update_uac(sub->dlg, resp)) {
			ev_sub_end(sub, EBADMSG, code, NULL);
			return;
		}
		sip_dialog_set_handler(sub->dlg, ev_dlg_req, sub);
		sip_dialog_register(sub->dlg);
	}
	sub->got_2xx = true;
	if (sub->state == SIP_EVSUB_INIT)
		sub->state = SIP_EVSUB_PENDING;
	if (!sub->notified && !sub->unsubscribing)
		tmr_start(sub_loop(sub), &sub->tmr_wait, 64ull * sip_ua_t1(sub->ev->ua), no_notify,
		          sub);
	h = sip_msg_hdr(resp, SIP_HDR_EXPIRES);
	if (h && !sip_u32_decode(&exp, h->val) && exp > sub->asked && sub->asked)
		exp = sub->asked; /* the notifier may only shorten it */
	if (sub->unsubscribing) {
		guard(sub);
		return;
	}
	/* a NOTIFY may have set a shorter expiry already */
	if (!sub->notified || ev_left_s(sub) > exp)
		schedule_refresh(sub, exp);
}

static void sub_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_evsub *sub = arg;

	if (resp && resp->scode < 200)
		return;
	mem_ref(sub);
	ev_subscriber_resp(sub, err, resp);
	mem_deref(sub);
}

uint16_t sip_sipfrag_status(struct pl body)
{
	uint32_t code;

	if (body.l < 11 || memcmp(body.p, "SIP/2.0 ", 8))
		return 0;
	if (pl_u32(pl_make(body.p + 8, 3), &code) || code < 100 || code > 699)
		return 0;
	if (body.l > 11 && body.p[11] != ' ' && body.p[11] != '\r' && body.p[11] != '\n')
		return 0;
	return (uint16_t)code;
}

/* The dialog of a NOTIFY that came before the 2xx (§4.1.2.4). */
static int early_dialog(struct sip_evsub *sub, const struct sip_msg *msg)
{
	int err = sip_dialog_update_uac_req(sub->dlg, msg);

	if (err)
		return err;
	sip_dialog_set_handler(sub->dlg, ev_dlg_req, sub);
	sip_dialog_register(sub->dlg);
	return 0;
}

static void deliver(struct sip_evsub *sub, const struct sip_substate *ss, const struct sip_msg *msg,
                    uint16_t *code)
{
	if (sub->refer && sub->h.sipfrag && !sub->app_closed && msg->body.l) {
		uint16_t st = sip_sipfrag_status(msg->body);
		if (st)
			sub->h.sipfrag(sub, st, sub->arg);
	}
	if (!sub->ended && sub->h.notify && !sub->app_closed)
		*code = sub->h.notify(sub, ss, msg, sub->arg);
}

void ev_notify_in(struct sip_evsub *sub, struct sip_tsx *stx, const struct sip_msg *msg)
{
	const struct sip_hdr *sh = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	const struct sip_hdr *eh = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct sip_substate ss;
	struct sip_event e;
	uint16_t code = 200;
	char reason[32];

	if (!eh || sip_event_decode(&e, eh->val) || !ev_event_match(sub, &e)) {
		/* §4.1.3: a NOTIFY matching no subscription of ours */
		if (sip_dialog_remote_tag(sub->dlg))
			sip_dialog_reply(sub->dlg, stx, 481, NULL, NULL, NULL, NULL, 0);
		else
			sip_ua_reply(sub->ev->ua, stx, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (!sh || sip_substate_decode(&ss, sh->val)) {
		sip_dialog_reply(sub->dlg, stx, 400, "Missing or Bad Subscription-State", NULL,
		                 NULL, NULL, 0);
		return;
	}
	if (!sip_dialog_remote_tag(sub->dlg) && early_dialog(sub, msg)) {
		sip_ua_reply(sub->ev->ua, stx, 400, NULL, NULL, NULL, NULL, 0);
		return;
	}
	sub->notified = true;
	tmr_cancel(&sub->tmr_wait);
	if (pl_caseeq_str(ss.state, "active"))
		sub->state = SIP_EVSUB_ACTIVE;
	else if (pl_caseeq_str(ss.state, "pending"))
		sub->state = SIP_EVSUB_PENDING;
	deliver(sub, &ss, msg, &code);
	if (code < 200 || code > 699)
		code = 500;
	sip_dialog_reply(sub->dlg, stx, code, NULL, NULL, NULL, NULL, 0);
	if (sub->ended)
		return;
	if (pl_caseeq_str(ss.state, "terminated")) {
		pl_strcpy(ss.reason, reason, sizeof(reason));
		ev_sub_end(sub, 0, 0, ss.reason.l ? reason : NULL);
		return;
	}
	/* the notifier may shorten the subscription (§4.1.3) */
	if (ss.has_expires && !sub->unsubscribing &&
	    (!tmr_running(&sub->tmr) || ss.expires < ev_left_s(sub)))
		schedule_refresh(sub, ss.expires);
}

int sip_evsub_subscribe(struct sip_evsub **subp, struct sip_events *ev,
                        const struct sip_evsub_opts *o, const struct sip_evsub_handlers *h,
                        void *arg)
{
	struct sip_dialog *dlg = NULL;
	struct sip_evsub *sub = NULL;
	char from[300];
	int err;

	if (!subp || !ev || !o || !o->target || !o->package)
		return EINVAL;
	if (!o->from)
		snprintf(from, sizeof(from), "<sip:anonymous@%s>", sip_ua_domain(ev->ua));
	err = sip_dialog_alloc_uac(&dlg, ev->ua, o->target, o->from ? o->from : from, o->to,
	                           o->route, NULL);
	if (err)
		return err;
	err = ev_sub_alloc(&sub, ev, dlg, true, false, pl_make(o->package, strlen(o->package)),
	                   o->id ? pl_make(o->id, strlen(o->id)) : PL(""));
	mem_deref(dlg);
	if (err)
		return err;
	sip_evsub_set_handlers(sub, h, arg);
	sub->asked = o->expires ? o->expires : DEF_EXPIRES;
	sub->accept = ev_strdup(o->accept);
	sub->extra = ev_strdup(o->extra_hdrs);
	if ((o->accept && !sub->accept) || (o->extra_hdrs && !sub->extra))
		err = ENOMEM;
	if (!err)
		err = subscribe_send(sub, sub->asked);
	if (err) {
		sub->app_closed = true;
		ev_sub_drop(sub);
		return err;
	}
	*subp = sub;
	return 0;
}

int sip_evsub_unsubscribe(struct sip_evsub *sub)
{
	int err;

	if (!sub || sub->notifier || sub->ended || sub->refer)
		return EINVAL;
	sub->unsubscribing = true;
	tmr_cancel(&sub->tmr);
	err = subscribe_send(sub, 0);
	if (!err)
		guard(sub);
	return err;
}
