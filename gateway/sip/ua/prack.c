/*
 * Reliable provisional responses (RFC 3262): as UAS, RSeq numbering and
 * retransmission until PRACK (T1 doubling, 64*T1 limit); as UAC, PRACK with
 * RAck for each new reliable 1xx, in RSeq order.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/ua/ua_int.h"

void ua_prack_stop(struct sip_sess *s)
{
	tmr_cancel(&s->tmr_rel);
	s->rel1xx = mem_deref(s->rel1xx);
	s->rel1xx_len = 0;
}

static void rel_retrans(void *arg)
{
	struct sip_sess *s = arg;
	uint64_t now = loop_now(s->ua->loop);

	if (!s->rel1xx || !s->stx)
		return;
	if (now >= s->rel_deadline) {
		/* §3: no PRACK within 64*T1: reject the INVITE with a 5xx */
		LOGN(s->dlg->callid, "ua: no PRACK for reliable %u", s->rel1xx_code);
		ua_prack_stop(s);
		ua_sess_terminate(s, ETIMEDOUT, 504, "no PRACK");
		return;
	}
	sip_tsx_reply(s->stx, s->rel1xx_code, s->rel1xx, s->rel1xx_len);
	s->rel_ms *= 2;
	tmr_start(s->ua->loop, &s->tmr_rel,
	          now + s->rel_ms > s->rel_deadline ? s->rel_deadline - now : s->rel_ms,
	          rel_retrans, s);
}

int ua_prack_send_reliable(struct sip_sess *s, uint16_t code, const char *ctype, const void *body,
                           size_t len)
{
	struct sip_mb mb = {0};
	char extra[256];
	uint32_t rseq;
	int err;

	/* §3: one unacknowledged reliable provisional at a time */
	if (s->rel1xx)
		return EBUSY;
	rseq = s->rseq_tx ? s->rseq_tx + 1 : 1u + arc4random_uniform(1u << 30);
	snprintf(extra, sizeof(extra), "Contact: <%s>\r\nRequire: 100rel\r\nRSeq: %u\r\n",
	         s->dlg->contact ? s->dlg->contact : "", rseq);
	err = ua_build_response(s->ua, &mb, s->inv_msg, code, NULL, s->dlg->ltag, extra, ctype,
	                        body, len);
	if (err)
		return err;
	err = sip_tsx_reply(s->stx, code, mb.buf, mb.len);
	if (err) {
		mem_deref(mb.buf);
		return err;
	}
	s->rseq_tx = rseq;
	if (!s->inv_offer && body && len && !s->early_offer_done) {
		/* the INVITE had no offer: this 1xx makes it, the PRACK answers */
		s->offer_out = true;
		s->early_offer_done = true;
	}
	s->rel1xx = mb.buf;
	s->rel1xx_len = mb.len;
	s->rel1xx_code = code;
	s->rel_ms = s->ua->cfg.t1_ms;
	s->rel_deadline = loop_now(s->ua->loop) + 64ull * s->ua->cfg.t1_ms;
	tmr_start(s->ua->loop, &s->tmr_rel, s->rel_ms, rel_retrans, s);
	return 0;
}

void ua_prack_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_RACK);
	const char *ctype = NULL;
	struct pl answer = PL_INIT;
	struct sip_rack rack;

	s->ua->st.prack_rx++;
	if (!h || sip_rack_decode(&rack, h->val) || !s->rel1xx || rack.rseq != s->rseq_tx ||
	    rack.cseq != s->inv_cseq || rack.mid != SIP_M_INVITE) {
		ua_reply(s->ua, stx, 481, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
		return;
	}
	ua_prack_stop(s);
	if (ua_has_body(msg) && s->offer_out) {
		/* the answer to the offer our reliable 1xx carried */
		s->offer_out = false;
		if (s->h.answer && !s->app_closed)
			s->h.answer(s, 0, msg, s->arg);
	} else if (ua_has_body(msg) && s->h.offer && !s->app_closed) {
		/* RFC 3262 §5: a PRACK may carry a new offer, answered in its 200 */
		uint16_t code = s->h.offer(s, msg, &ctype, &answer, s->arg);
		if (s->state == SIP_SESS_CLOSED) /* closed from the handler */
			code = 481;
		if (code >= 300) {
			ua_reply(s->ua, stx, code, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
			return;
		}
		ua_sess_set_local(s, ctype, answer.p, answer.l);
		ua_reply(s->ua, stx, 200, NULL, s->dlg->ltag, NULL, s->lctype, s->lsdp,
		         s->lsdp_len);
		return;
	}
	ua_reply(s->ua, stx, 200, NULL, s->dlg->ltag, NULL, NULL, NULL, 0);
}

void ua_prack_uac_1xx(struct sip_sess *s, struct sip_dialog *dlg, uint32_t *rseq_rx,
                      const struct sip_msg *resp)
{
	const struct sip_hdr *h;
	char extra[96];
	uint32_t rseq;

	if (resp->scode == 100 || !sip_msg_has_token(resp, SIP_HDR_REQUIRE, "100rel"))
		return;
	h = sip_msg_hdr(resp, SIP_HDR_RSEQ);
	if (!h || sip_u32_decode(&rseq, h->val))
		return;
	/* retransmissions and out-of-order ones are not acknowledged again */
	if (*rseq_rx && rseq != *rseq_rx + 1)
		return;
	*rseq_rx = rseq;
	snprintf(extra, sizeof(extra), "RAck: %u %u INVITE\r\n", rseq, resp->cseq.num);
	/* delayed offer answered early: the 1xx carries the offer, our PRACK the answer */
	if (ua_has_body(resp) && !s->offer_out && !s->early_offer_done && s->h.offer &&
	    !s->app_closed) {
		const char *ctype = NULL;
		struct pl answer = PL_INIT;
		if (s->h.offer(s, resp, &ctype, &answer, s->arg) == 0 &&
		    ua_sess_set_local(s, ctype, answer.p, answer.l) == 0 && s->lsdp_len) {
			s->early_offer_done = true;
			if (ua_creq_send(&s->prack, dlg, "PRACK", 0, extra, s->lctype, s->lsdp,
			                 s->lsdp_len, NULL, NULL) == 0)
				s->ua->st.prack_tx++;
			return;
		}
	}
	if (ua_creq_send(&s->prack, dlg, "PRACK", 0, extra, NULL, NULL, 0, NULL, NULL) == 0)
		s->ua->st.prack_tx++;
}
