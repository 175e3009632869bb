/*
 * Session timers (RFC 4028): Session-Expires/Min-SE negotiation, 422, the
 * refresher's re-INVITE or UPDATE at half the interval, and BYE on expiry.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/ua/ua_int.h"

uint16_t sip_sess_timer_negotiate(uint32_t req_se, const char *req_refresher, uint32_t req_min_se,
                                  bool uac_supports, uint32_t our_se, uint32_t our_min_se,
                                  uint32_t *interval, bool *uas_refreshes, uint32_t *min_se)
{
	uint32_t floor = our_min_se > req_min_se ? our_min_se : req_min_se;
	uint32_t iv;

	*min_se = floor;
	if (req_se && req_se < our_min_se)
		return 422; /* §8.1: too small for us; the 422 carries our Min-SE */
	if (!req_se) {
		/* §9: the UAS may still ask for a timer; without UAC support it refreshes */
		*interval = our_se ? (our_se < floor ? floor : our_se) : 0;
		*uas_refreshes = *interval && !uac_supports;
		return 0;
	}
	/* §9: the UAS may lower the interval, never below either Min-SE */
	iv = req_se;
	if (our_se && our_se < iv)
		iv = our_se;
	if (iv < floor)
		iv = floor;
	*interval = iv;
	if (!uac_supports)
		*uas_refreshes = true;
	else if (req_refresher && !strcmp(req_refresher, "uas"))
		*uas_refreshes = true;
	else if (req_refresher && !strcmp(req_refresher, "uac"))
		*uas_refreshes = false;
	else
		*uas_refreshes = false;
	return 0;
}

uint64_t sip_sess_timer_refresh_ms(uint32_t interval)
{
	return (uint64_t)interval * 1000 / 2;
}

uint64_t sip_sess_timer_expire_ms(uint32_t interval)
{
	uint32_t margin = interval / 3 < 32 ? interval / 3 : 32;

	return (uint64_t)(interval - margin) * 1000;
}

uint16_t ua_st_uas_request(struct sip_sess *s, const struct sip_msg *req, char *hdrs, size_t n)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_SESSION_EXPIRES);
	const struct sip_hdr *hm = sip_msg_hdr(req, SIP_HDR_MIN_SE);
	struct sip_session_expires se = {0};
	uint32_t req_min = 0, iv = 0, min_se = 0;
	char refresher[8] = "";
	bool uas_ref = false;
	uint16_t code;

	if (s->ua->cfg.no_session_timer) {
		s->se = 0;
		return 0;
	}
	if ((h && sip_session_expires_decode(&se, h->val)) ||
	    (hm && sip_u32_decode(&req_min, hm->val)))
		return 400;
	pl_strcpy(se.refresher, refresher, sizeof(refresher));
	code = sip_sess_timer_negotiate(h ? se.delta : 0, refresher, req_min,
	                                sip_msg_has_token(req, SIP_HDR_SUPPORTED, "timer") ||
	                                    sip_msg_has_token(req, SIP_HDR_REQUIRE, "timer"),
	                                s->ua->cfg.session_expires, s->ua->cfg.min_se, &iv,
	                                &uas_ref, &min_se);
	if (code) {
		snprintf(hdrs, n, "Min-SE: %u\r\n", min_se);
		return code;
	}
	s->se = iv;
	s->we_refresh = uas_ref;
	return 0;
}

void ua_st_resp_hdrs(struct sip_sess *s, char *buf, size_t n)
{
	if (!s->se) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, n, "Session-Expires: %u;refresher=%s\r\n%s", s->se,
	         s->we_refresh ? "uas" : "uac", s->we_refresh ? "" : "Require: timer\r\n");
}

void ua_st_uac_response(struct sip_sess *s, const struct sip_msg *resp)
{
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_SESSION_EXPIRES);
	struct sip_session_expires se;

	if (s->ua->cfg.no_session_timer || !h || sip_session_expires_decode(&se, h->val)) {
		s->se = 0;
		return;
	}
	s->se = se.delta;
	/* we sent the request: "uac" (or no choice written) means us */
	s->we_refresh = !pl_caseeq_str(se.refresher, "uas");
}

void ua_st_refresh_hdrs(struct sip_sess *s, char *buf, size_t n)
{
	if (s->ua->cfg.no_session_timer) {
		buf[0] = '\0';
		return;
	}
	if (!s->se) {
		snprintf(buf, n, "Supported: timer\r\n");
		return;
	}
	snprintf(buf, n, "Session-Expires: %u;refresher=%s\r\nSupported: timer\r\n", s->se,
	         s->we_refresh ? "uac" : "uas");
}

static void st_expire(void *arg)
{
	struct sip_sess *s = arg;

	s->ua->st.st_expired++;
	LOGN(s->dlg->callid, "ua: session timer expired (%u s)", s->se);
	ua_sess_bye_close(s, ETIMEDOUT, "session timer expired");
}

static void st_refresh(void *arg)
{
	struct sip_sess *s = arg;
	int err;

	if (ua_creq_pending(s->inv) || ua_creq_pending(s->upd) || s->stx || s->resp2xx ||
	    s->offer_out) {
		tmr_start(s->ua->loop, &s->tmr_st, 1000, st_refresh, s);
		return;
	}
	s->ua->st.st_refresh++;
	if (s->peer_update) {
		err = ua_update_send(s, false);
	} else {
		s->offer_out = s->lsdp_len > 0;
		err = ua_sess_reinvite(s);
		if (err)
			s->offer_out = false;
	}
	if (err)
		ua_sess_bye_close(s, err, "session refresh failed");
}

void ua_st_start(struct sip_sess *s)
{
	tmr_cancel(&s->tmr_st);
	if (!s->se || s->state != SIP_SESS_ESTABLISHED)
		return;
	if (s->we_refresh)
		tmr_start(s->ua->loop, &s->tmr_st, sip_sess_timer_refresh_ms(s->se), st_refresh, s);
	else
		tmr_start(s->ua->loop, &s->tmr_st, sip_sess_timer_expire_ms(s->se), st_expire, s);
}

void ua_st_stop(struct sip_sess *s)
{
	tmr_cancel(&s->tmr_st);
}
