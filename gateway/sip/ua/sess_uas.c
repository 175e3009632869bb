/*
 * INVITE sessions as UAS (RFC 3261 §13.3): incoming INVITE, provisional,
 * 2xx retransmitted until the ACK (§13.3.1.4), rejection, CANCEL (§9.2) and
 * incoming re-INVITE (§14.2, 491 on glare).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/ua/ua_int.h"

static void cancel_h(struct sip_tsx *stx, const struct sip_msg *cancel, void *arg)
{
	struct sip_sess *s = arg;
	bool initial = s->state == SIP_SESS_INCOMING || s->state == SIP_SESS_EARLY;

	if (s->stx != stx)
		return;
	ua_reply(s->ua, stx, 487, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
	s->stx = NULL;
	if (initial) {
		ua_prack_stop(s);
		ua_sess_terminate(s, 0, 487, "Request Terminated");
	}
}

static int contact_hdr(struct sip_sess *s, char *buf, size_t n)
{
	return snprintf(buf, n, "Contact: <%s>\r\n", s->dlg->contact ? s->dlg->contact : "");
}

void ua_sess_incoming(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg)
{
	struct sip_sess *s = NULL;
	char contact[96], hdrs[128];
	uint16_t code;
	int err;

	err = ua_contact(ua, msg->tp, sa_af(&msg->src), contact, sizeof(contact));
	if (err)
		snprintf(contact, sizeof(contact), "sip:%s", ua->domain);
	err = ua_sess_alloc(&s, ua, false);
	if (err)
		goto fail;
	err = sip_dialog_alloc_uas(&s->dlg, ua, msg, contact);
	if (err)
		goto fail;
	hdrs[0] = '\0';
	code = ua_st_uas_request(s, msg, hdrs, sizeof(hdrs));
	if (code) {
		ua_reply(ua, stx, code, NULL, s->dlg->ltag, hdrs, NULL, NULL, 0);
		s->app_closed = true;
		ua_sess_terminate(s, 0, code, NULL);
		return;
	}
	s->dlg->reqh = ua_sess_dlg_req;
	s->dlg->reqarg = s;
	ua_dialog_register(s->dlg);
	s->stx = stx;
	s->inv_msg = mem_ref((void *)msg);
	s->inv_cseq = msg->cseq.num;
	s->inv_offer = ua_has_body(msg);
	s->peer_100rel = sip_msg_has_token(msg, SIP_HDR_SUPPORTED, "100rel") ||
	                 sip_msg_has_token(msg, SIP_HDR_REQUIRE, "100rel");
	s->peer_update = sip_msg_has_token(msg, SIP_HDR_ALLOW, "UPDATE");
	s->state = SIP_SESS_INCOMING;
	sip_tsx_set_cancel_handler(stx, cancel_h, s);
	/* no explicit 100: the transaction layer sends one if we take over 200 ms */
	ua->st.sess_in++;
	ua->sessh(s, msg, ua->sessarg);
	return;
fail:
	ua_reply(ua, stx, err == EBADMSG ? 400 : 500, NULL, NULL, NULL, NULL, NULL, 0);
	if (s) {
		s->app_closed = true;
		ua_sess_terminate(s, err, 500, NULL);
	}
}

int sip_sess_progress(struct sip_sess *s, uint16_t code, const char *ctype, const void *body,
                      size_t len, bool reliable)
{
	char extra[160];
	int err;

	if (!s || s->uac || !s->stx || code < 101 || code > 199)
		return EINVAL;
	if (body && len) {
		err = ua_sess_set_local(s, ctype, body, len);
		if (err)
			return err;
	}
	if (reliable && s->peer_100rel)
		err = ua_prack_send_reliable(s, code, ctype, body, len);
	else {
		contact_hdr(s, extra, sizeof(extra));
		err = ua_reply(s->ua, s->stx, code, NULL, s->dlg->ltag, extra, ctype, body, len);
	}
	if (!err)
		s->state = SIP_SESS_EARLY;
	return err;
}

static void rt_2xx(void *arg)
{
	struct sip_sess *s = arg;
	uint64_t now = loop_now(s->ua->loop);

	if (!s->resp2xx || !s->inv_msg)
		return;
	if (now >= s->rt_deadline) {
		LOGN(s->dlg->callid, "ua: no ACK for 2xx within 64*T1");
		s->resp2xx = mem_deref(s->resp2xx);
		ua_sess_bye_close(s, ETIMEDOUT, "no ACK");
		return;
	}
	sip_tp_send_response(s->ua->tp, s->inv_msg, s->resp2xx, s->resp2xx_len);
	s->ua->st.retrans_2xx++;
	s->rt_ms = s->rt_ms * 2 > s->ua->cfg.t2_ms ? s->ua->cfg.t2_ms : s->rt_ms * 2;
	tmr_start(s->ua->loop, &s->tmr_2xx,
	          now + s->rt_ms > s->rt_deadline ? s->rt_deadline - now : s->rt_ms, rt_2xx, s);
}

int ua_sess_send_2xx(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *req,
                     const char *extra)
{
	struct sip_mb mb = {0};
	char hdrs[768];
	size_t o;
	int err;

	o = contact_hdr(s, hdrs, sizeof(hdrs));
	o += snprintf(hdrs + o, sizeof(hdrs) - o, "Supported: 100rel, timer\r\nAllow: %s\r\n",
	              s->ua->allow);
	if (o < sizeof(hdrs))
		o += ua_recv_info_hdr(s->ua, hdrs + o, sizeof(hdrs) - o);
	if (o < sizeof(hdrs))
		ua_st_resp_hdrs(s, hdrs + o, sizeof(hdrs) - o);
	o = strlen(hdrs);
	if (extra)
		snprintf(hdrs + o, sizeof(hdrs) - o, "%s", extra);
	err = ua_build_response(s->ua, &mb, req, 200, NULL, s->dlg->ltag, hdrs, s->lctype, s->lsdp,
	                        s->lsdp_len);
	if (err)
		return err;
	err = sip_tsx_reply(stx, 200, mb.buf, mb.len);
	if (err) {
		mem_deref(mb.buf);
		return err;
	}
	if (s->stx == stx)
		s->stx = NULL;
	mem_deref(s->resp2xx);
	s->resp2xx = mb.buf;
	s->resp2xx_len = mb.len;
	s->rt_ms = s->ua->cfg.t1_ms;
	s->rt_deadline = loop_now(s->ua->loop) + 64ull * s->ua->cfg.t1_ms;
	tmr_start(s->ua->loop, &s->tmr_2xx, s->rt_ms, rt_2xx, s);
	return 0;
}

int sip_sess_answer(struct sip_sess *s, const char *ctype, const void *body, size_t len)
{
	int err;

	if (!s || s->uac || !s->stx || s->state == SIP_SESS_CLOSED)
		return EINVAL;
	if (body && len) {
		err = ua_sess_set_local(s, ctype, body, len);
		if (err)
			return err;
	}
	ua_prack_stop(s);
	err = ua_sess_send_2xx(s, s->stx, s->inv_msg, NULL);
	if (err)
		return err;
	s->state = SIP_SESS_ANSWERED;
	return 0;
}

int sip_sess_reject(struct sip_sess *s, uint16_t code, const char *reason, const char *extra_hdrs)
{
	bool initial;

	if (!s || s->uac || !s->stx || code < 300 || code > 699)
		return EINVAL;
	initial = s->state == SIP_SESS_INCOMING || s->state == SIP_SESS_EARLY;
	ua_reply(s->ua, s->stx, code, reason, s->dlg->ltag, extra_hdrs, NULL, NULL, 0);
	s->stx = NULL;
	if (initial) {
		ua_prack_stop(s);
		s->app_closed = true;
		s->ua->st.sess_failed++;
		ua_sess_terminate(s, 0, code, reason);
	}
	return 0;
}

void ua_sess_ack(struct sip_sess *s, const struct sip_msg *msg)
{
	bool first = s->state == SIP_SESS_ANSWERED;

	if (!s->resp2xx || msg->cseq.num != s->inv_cseq)
		return;
	tmr_cancel(&s->tmr_2xx);
	s->resp2xx = mem_deref(s->resp2xx);
	s->inv_msg = mem_deref(s->inv_msg);
	s->ua->st.acks_rx++;
	if (first) {
		s->state = SIP_SESS_ESTABLISHED;
		s->ua->st.sess_ok++;
	}
	ua_st_start(s);
	/* our 2xx carried the offer: the ACK carries the answer */
	if (!s->inv_offer && ua_has_body(msg) && s->h.answer && !s->app_closed)
		s->h.answer(s, 0, msg, s->arg);
	if (first && s->state == SIP_SESS_ESTABLISHED && s->h.established && !s->app_closed)
		s->h.established(s, msg, s->arg);
}

void ua_sess_reinvite_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg)
{
	const char *ctype = NULL;
	struct pl answer = PL_INIT;
	char hdrs[128];
	uint16_t code;

	s->ua->st.reinvite_rx++;
	if (ua_creq_pending(s->inv) || ua_creq_pending(s->upd) || s->stx || s->resp2xx ||
	    s->offer_out || s->state != SIP_SESS_ESTABLISHED) {
		ua_reply(s->ua, stx, 491, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
		return;
	}
	hdrs[0] = '\0';
	code = ua_st_uas_request(s, msg, hdrs, sizeof(hdrs));
	if (code) {
		ua_reply(s->ua, stx, code, NULL, s->dlg->ltag, hdrs, NULL, NULL, 0);
		return;
	}
	sip_dialog_refresh_target(s->dlg, msg);
	s->inv_offer = ua_has_body(msg);
	if (s->inv_offer && s->h.offer && !s->app_closed) {
		code = s->h.offer(s, msg, &ctype, &answer, s->arg);
		if (s->state == SIP_SESS_CLOSED) /* closed from the handler */
			code = 481;
		if (code >= 300) {
			ua_reply(s->ua, stx, code, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
			return;
		}
		ua_sess_set_local(s, ctype, answer.p, answer.l);
	}
	mem_deref(s->inv_msg);
	s->inv_msg = mem_ref((void *)msg);
	s->inv_cseq = msg->cseq.num;
	if (ua_sess_send_2xx(s, stx, msg, NULL))
		ua_reply(s->ua, stx, 500, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
}
