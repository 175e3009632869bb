/*
 * UPDATE (RFC 3311): offers and session refreshes inside early or confirmed
 * dialogs, in both directions, with 491 on crossing offers.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/ua/ua_int.h"

void ua_update_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg)
{
	const char *ctype = NULL;
	struct pl answer = PL_INIT;
	char hdrs[256], contact[512];
	bool offer = ua_has_body(msg);
	uint16_t code;

	s->ua->st.update_rx++;
	if (offer && (s->offer_out || ua_creq_pending(s->upd))) {
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
	if (offer && s->h.offer && !s->app_closed) {
		code = s->h.offer(s, msg, &ctype, &answer, s->arg);
		if (s->state == SIP_SESS_CLOSED) /* closed from the handler */
			code = 481;
		if (code >= 300) {
			ua_reply(s->ua, stx, code, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
			return;
		}
		ua_sess_set_local(s, ctype, answer.p, answer.l);
	}
	snprintf(contact, sizeof(contact), "Contact: <%s>\r\n",
	         s->dlg->contact ? s->dlg->contact : "");
	ua_st_resp_hdrs(s, hdrs, sizeof(hdrs));
	size_t o = strlen(contact);
	snprintf(contact + o, sizeof(contact) - o, "%s", hdrs);
	ua_reply(s->ua, stx, 200, NULL, s->dlg->ltag, contact, offer ? s->lctype : NULL,
	         offer ? s->lsdp : NULL, offer ? s->lsdp_len : 0);
	if (s->state == SIP_SESS_ESTABLISHED)
		ua_st_start(s);
}

static void upd_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sess *s = arg;
	uint16_t code = resp ? resp->scode : 408;
	bool had_offer = s->offer_out;

	if (resp && code < 200)
		return;
	s->offer_out = false;
	if (resp && code < 300) {
		sip_dialog_refresh_target(s->dlg, resp);
		ua_st_uac_response(s, resp);
		ua_st_start(s);
	} else if (code == 481 || code == 408 || err) {
		ua_sess_bye_close(s, err ? err : ETIMEDOUT, "UPDATE failed");
		return;
	}
	if (had_offer && s->h.answer && !s->app_closed)
		s->h.answer(s, code, resp, s->arg);
}

int ua_update_send(struct sip_sess *s, bool with_offer)
{
	char hdrs[256];

	hdrs[0] = '\0';
	ua_st_refresh_hdrs(s, hdrs, sizeof(hdrs));
	return ua_creq_send(&s->upd, s->dlg, "UPDATE", 0, hdrs, with_offer ? s->lctype : NULL,
	                    with_offer ? s->lsdp : NULL, with_offer ? s->lsdp_len : 0, upd_resp, s);
}
