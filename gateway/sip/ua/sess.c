/*
 * INVITE sessions, the parts both sides share: lifetime, in-dialog request
 * dispatch, BYE (§15), closing, and offers through re-INVITE or UPDATE.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/ua/ua_int.h"

static void sess_destroy(void *data)
{
	struct sip_sess *s = data;

	tmr_cancel(&s->tmr_2xx);
	tmr_cancel(&s->tmr_rel);
	tmr_cancel(&s->tmr_st);
	ua_creq_detach(s->inv);
	ua_creq_detach(s->upd);
	ua_creq_detach(s->prack);
	ua_creq_detach(s->bye);
	ua_info_stop(s);
	if (s->dlg) {
		s->dlg->reqh = NULL;
		ua_dialog_unregister(s->dlg);
	}
	mem_deref(s->dlg);
	for (size_t i = 0; i < UA_MAX_FORKS; i++)
		mem_deref(s->forks[i]);
	mem_deref(s->inv_msg);
	mem_deref(s->resp2xx);
	mem_deref(s->ack);
	mem_deref(s->lctype);
	mem_deref(s->lsdp);
	mem_deref(s->rel1xx);
	if (s->cc) {
		mem_deref(s->cc->extra);
		mem_deref(s->cc->ctype);
		mem_deref(s->cc->body);
		mem_deref(s->cc);
	}
}

static void list_unlink(struct sip_sess **head, struct sip_sess *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else if (*head == s)
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

static void list_push(struct sip_sess **head, struct sip_sess *s)
{
	s->prev = NULL;
	s->next = *head;
	if (s->next)
		s->next->prev = s;
	*head = s;
}

static void sess_unlink(struct sip_sess *s)
{
	list_unlink(&s->ua->sessions, s);
	s->ua->st.sessions--;
}

int ua_sess_alloc(struct sip_sess **sp, struct sip_ua *ua, bool uac)
{
	struct sip_sess *s = mem_zalloc(sizeof(*s), sess_destroy);

	if (!s)
		return ENOMEM;
	s->ua = ua;
	s->uac = uac;
	tmr_init(&s->tmr_2xx);
	tmr_init(&s->tmr_rel);
	tmr_init(&s->tmr_st);
	list_push(&ua->sessions, s);
	ua->st.sessions++;
	*sp = s;
	return 0;
}

static void sess_free_deferred(void *arg)
{
	struct sip_sess *s = arg;

	list_unlink(&s->ua->zombies, s);
	mem_deref(s);
}

void ua_sess_terminate(struct sip_sess *s, int err, uint16_t code, const char *reason)
{
	bool notify = !s->app_closed && s->h.closed;

	if (s->state == SIP_SESS_CLOSED)
		return;
	if (s->stx) {
		/* a pending INVITE must get a final answer before we forget it */
		ua_reply(s->ua, s->stx, code >= 300 ? code : 500, NULL, s->dlg->ltag, NULL, NULL,
		         NULL, 0);
		s->stx = NULL;
	}
	s->state = SIP_SESS_CLOSED;
	tmr_cancel(&s->tmr_2xx);
	tmr_cancel(&s->tmr_rel);
	tmr_cancel(&s->tmr_st);
	ua_creq_detach(s->inv);
	ua_creq_detach(s->upd);
	ua_creq_detach(s->prack);
	ua_creq_detach(s->bye);
	ua_info_stop(s);
	if (s->dlg) {
		s->dlg->reqh = NULL;
		s->dlg->state = SIP_DLG_TERMINATED;
		ua_dialog_unregister(s->dlg);
	}
	s->ua->st.sess_closed++;
	sess_unlink(s);
	LOGD(s->dlg ? s->dlg->callid : NULL, "ua: session closed err=%d code=%u %s", err, code,
	     reason ? reason : "");
	list_push(&s->ua->zombies, s);
	loop_defer(s->ua->loop, &s->free_defer, sess_free_deferred, s);
	if (notify)
		s->h.closed(s, err, code, reason, s->arg);
}

void ua_sess_free_all(struct sip_ua *ua)
{
	while (ua->sessions) {
		struct sip_sess *s = ua->sessions;
		s->app_closed = true;
		s->stx = NULL;
		s->state = SIP_SESS_CLOSED;
		sess_unlink(s);
		mem_deref(s);
	}
	while (ua->zombies) {
		struct sip_sess *s = ua->zombies;
		list_unlink(&ua->zombies, s);
		loop_defer_cancel(ua->loop, &s->free_defer);
		mem_deref(s);
	}
}

bool ua_has_body(const struct sip_msg *msg)
{
	return msg->body.l > 0;
}

int ua_sess_set_local(struct sip_sess *s, const char *ctype, const void *body, size_t len)
{
	char *b = NULL, *c = NULL;

	if (body && len) {
		b = mem_zalloc(len + 1, NULL);
		c = mem_strndup(ctype ? ctype : "application/sdp",
		                strlen(ctype ? ctype : "application/sdp"));
		if (!b || !c) {
			mem_deref(b);
			mem_deref(c);
			return ENOMEM;
		}
		memcpy(b, body, len);
	}
	mem_deref(s->lsdp);
	mem_deref(s->lctype);
	s->lsdp = b;
	s->lctype = c;
	s->lsdp_len = b ? len : 0;
	return 0;
}

static void send_bye(struct sip_sess *s, const char *reason_hdr)
{
	if (!s->dlg || !s->dlg->rtag)
		return;
	if (ua_creq_send(NULL, s->dlg, "BYE", 0, reason_hdr, NULL, NULL, 0, NULL, NULL) == 0)
		s->ua->st.bye_tx++;
}

static void bye_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg)
{
	s->ua->st.bye_rx++;
	ua_reply(s->ua, stx, 200, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
	if (s->stx) { /* BYE before our final answer (§15.1.2): the INVITE gets 487 */
		ua_reply(s->ua, s->stx, 487, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
		s->stx = NULL;
	}
	ua_sess_terminate(s, 0, 0, "BYE");
}

void ua_sess_dlg_req(struct sip_dialog *dlg, struct sip_tsx *stx, const struct sip_msg *msg,
                     void *arg)
{
	struct sip_sess *s = arg;
	struct sip_ua *ua = s->ua;

	if (!stx) {
		if (msg->mid == SIP_M_ACK)
			ua_sess_ack(s, msg);
		return;
	}
	switch (msg->mid) {
	case SIP_M_BYE:
		bye_in(s, stx, msg);
		return;
	case SIP_M_INVITE:
		ua_sess_reinvite_in(s, stx, msg);
		return;
	case SIP_M_UPDATE:
		ua_update_in(s, stx, msg);
		return;
	case SIP_M_PRACK:
		ua_prack_in(s, stx, msg);
		return;
	case SIP_M_ACK:
		return;
	case SIP_M_OPTIONS:
		ua_reply(ua, stx, 200, NULL, dlg->ltag, NULL, NULL, NULL, 0);
		return;
	case SIP_M_INFO:
		ua_info_in(s, stx, msg);
		return;
	case SIP_M_REFER:
	case SIP_M_NOTIFY:
	case SIP_M_SUBSCRIBE:
		/* other usages of the session's dialog (RFC 5057): sip/event */
		if (ua->usageh && ua->usageh(ua, dlg, s, stx, msg, ua->usagearg))
			return;
		break;
	default:
		break;
	}
	if (msg->mid < SIP_M_COUNT && msg->mid != SIP_M_UNKNOWN && ua->mh[msg->mid].h) {
		ua->mh[msg->mid].h(ua, stx, msg, ua->mh[msg->mid].arg);
		return;
	}
	char extra[200];
	snprintf(extra, sizeof(extra), "Allow: %s\r\n", ua->allow);
	ua_reply(ua, stx, msg->mid == SIP_M_UNKNOWN ? 501 : 405, NULL, dlg->ltag, extra, NULL, NULL,
	         0);
}

void sip_sess_close(struct sip_sess *s, uint16_t code)
{
	sip_sess_close_reason(s, code, 0, 0);
}

void sip_sess_close_reason(struct sip_sess *s, uint16_t code, uint16_t sip_cause,
                           uint8_t q850_cause)
{
	if (!s || s->state == SIP_SESS_CLOSED)
		return;
	s->app_closed = true;
	switch (s->state) {
	case SIP_SESS_CALLING:
	case SIP_SESS_EARLY:
		if (s->uac) {
			/* CANCEL goes once a provisional came; a racing 2xx gets ACK+BYE */
			s->state = SIP_SESS_CLOSING;
			if (ua_creq_cancel(s->inv, sip_cause, q850_cause) != 0)
				ua_sess_terminate(s, 0, 0, NULL);
			return;
		}
		/* UAS early is like incoming */
		/* fall through */
	case SIP_SESS_INCOMING:
		if (s->stx) {
			ua_reply(s->ua, s->stx, code >= 300 ? code : 603, NULL, s->dlg->ltag, NULL,
			         NULL, NULL, 0);
			s->stx = NULL;
		}
		ua_sess_terminate(s, 0, code, NULL);
		return;
	case SIP_SESS_ANSWERED:
	case SIP_SESS_ESTABLISHED:
		send_bye(s, NULL);
		ua_sess_terminate(s, 0, 0, NULL);
		return;
	default:
		return;
	}
}

static void bye_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sess *s = arg;

	if (resp && resp->scode < 200)
		return;
	ua_sess_terminate(s, err, resp ? resp->scode : 0, "BYE");
}

int sip_sess_bye(struct sip_sess *s, const char *reason_hdr)
{
	int err;

	if (!s || (s->state != SIP_SESS_ESTABLISHED && s->state != SIP_SESS_ANSWERED))
		return EINVAL;
	tmr_cancel(&s->tmr_st);
	tmr_cancel(&s->tmr_2xx);
	err = ua_creq_send(&s->bye, s->dlg, "BYE", 0, reason_hdr, NULL, NULL, 0, bye_resp, s);
	if (err)
		return err;
	s->ua->st.bye_tx++;
	s->state = SIP_SESS_CLOSING;
	return 0;
}

/* BYE and close, for timeouts and failed refreshes. */
void ua_sess_bye_close(struct sip_sess *s, int err, const char *why)
{
	send_bye(s, NULL);
	ua_sess_terminate(s, err, 0, why);
}

int sip_sess_modify(struct sip_sess *s, bool use_update, const char *ctype, const void *body,
                    size_t len)
{
	int err;

	if (!s || s->state == SIP_SESS_CLOSED || s->state == SIP_SESS_CLOSING)
		return EINVAL;
	if (ua_creq_pending(s->inv) || ua_creq_pending(s->upd) || s->offer_out || s->stx)
		return EBUSY;
	if ((!use_update && s->state != SIP_SESS_ESTABLISHED) || !s->dlg->rtag)
		return EINVAL;
	err = ua_sess_set_local(s, ctype, body, len);
	if (err)
		return err;
	s->offer_out = body && len;
	err = use_update ? ua_update_send(s, s->offer_out) : ua_sess_reinvite(s);
	if (err)
		s->offer_out = false;
	return err;
}

void sip_sess_set_handlers(struct sip_sess *s, const struct sip_sess_handlers *h, void *arg)
{
	if (h)
		s->h = *h;
	else
		memset(&s->h, 0, sizeof(s->h));
	s->arg = arg;
}

enum sip_sess_state sip_sess_state(const struct sip_sess *s)
{
	return s->state;
}

struct sip_dialog *sip_sess_dialog(const struct sip_sess *s)
{
	return s->dlg;
}

const char *sip_sess_callid(const struct sip_sess *s)
{
	return s->dlg ? s->dlg->callid : NULL;
}

void *sip_sess_arg(const struct sip_sess *s)
{
	return s->arg;
}

uint32_t sip_sess_interval(const struct sip_sess *s, bool *we_refresh)
{
	if (we_refresh)
		*we_refresh = s->we_refresh;
	return s->se;
}
