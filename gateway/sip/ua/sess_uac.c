/*
 * INVITE sessions as UAC (RFC 3261 §13.2): the INVITE, provisional and final
 * responses, the ACK for 2xx (§13.2.2.4, re-sent on every 2xx
 * retransmission), CANCEL, 422 retry (RFC 4028) and re-INVITE with 491 back-off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/ua/ua_int.h"

static void inv_resp(int err, const struct sip_msg *resp, void *arg);

static char *dupstr(const char *s)
{
	return s ? mem_strndup(s, strlen(s)) : NULL;
}

/* The extra headers of an initial INVITE: option tags, session timer, the app's. */
static int invite_send(struct sip_sess *s)
{
	struct sip_connect_copy *cc = s->cc;
	struct sip_ua *ua = s->ua;
	char hdrs[512];
	size_t o = 0;
	struct sip_mb mb = {0};
	int err;

	o += snprintf(hdrs + o, sizeof(hdrs) - o, "%s",
	              cc->require_100rel ? "Require: 100rel\r\nSupported: timer\r\n"
	                                 : "Supported: 100rel, timer\r\n");
	if (cc->se)
		o += snprintf(hdrs + o, sizeof(hdrs) - o, "Session-Expires: %u\r\nMin-SE: %u\r\n",
		              cc->se, cc->min_se);
	o += ua_recv_info_hdr(ua, hdrs + o, sizeof(hdrs) - o);
	err = sip_mb_init(&mb, o + (cc->extra ? strlen(cc->extra) : 0) + 1);
	if (err)
		return err;
	sip_mb_str(&mb, hdrs);
	if (cc->extra)
		sip_mb_str(&mb, cc->extra);
	sip_mb_append(&mb, "", 1);
	err = sip_mb_finish(&mb);
	if (!err)
		err = ua_creq_send(&s->inv, s->dlg, "INVITE", 0, mb.buf, cc->ctype, cc->body,
		                   cc->body_len, inv_resp, s);
	mem_deref(mb.buf);
	return err;
}

/* What a 422 retry needs to send the INVITE again. */
static int cc_alloc(struct sip_connect_copy **ccp, const struct sip_ua *ua,
                    const struct sip_sess_connect_opts *opts)
{
	struct sip_connect_copy *cc = mem_zalloc(sizeof(*cc), NULL);

	if (!cc)
		return ENOMEM;
	cc->extra = dupstr(opts->extra_hdrs);
	cc->ctype = dupstr(opts->ctype ? opts->ctype : "application/sdp");
	if (opts->body && opts->body_len) {
		cc->body = mem_zalloc(opts->body_len + 1, NULL);
		if (cc->body)
			memcpy(cc->body, opts->body, opts->body_len);
		cc->body_len = opts->body_len;
	}
	cc->require_100rel = opts->require_100rel;
	if (!ua->cfg.no_session_timer) {
		cc->se = opts->session_expires ? opts->session_expires : ua->cfg.session_expires;
		cc->min_se = ua->cfg.min_se;
		if (cc->se < cc->min_se)
			cc->se = cc->min_se;
	}
	*ccp = cc; /* the session's destructor frees the parts */
	if ((opts->extra_hdrs && !cc->extra) || !cc->ctype || (cc->body_len && !cc->body))
		return ENOMEM;
	return 0;
}

int sip_sess_connect(struct sip_sess **sessp, struct sip_ua *ua,
                     const struct sip_sess_connect_opts *opts, const struct sip_sess_handlers *h,
                     void *arg)
{
	struct sip_sess *s = NULL;
	char from[300];
	int err;

	if (!sessp || !ua || !opts || !opts->target)
		return EINVAL;
	if (!opts->from)
		snprintf(from, sizeof(from), "<sip:anonymous@%s>", ua->domain);
	err = ua_sess_alloc(&s, ua, true);
	if (err)
		return err;
	sip_sess_set_handlers(s, h, arg);
	err = sip_dialog_alloc_uac(&s->dlg, ua, opts->target, opts->from ? opts->from : from,
	                           opts->to, opts->route, NULL);
	if (err)
		goto out;
	s->dlg->tp_default = opts->tp;
	s->dlg->reqh = ua_sess_dlg_req;
	s->dlg->reqarg = s;
	err = cc_alloc(&s->cc, ua, opts);
	if (!err)
		err = ua_sess_set_local(s, s->cc->ctype, s->cc->body, s->cc->body_len);
	if (err)
		goto out;
	s->offer_out = s->cc->body_len > 0;
	s->state = SIP_SESS_CALLING;
	err = invite_send(s);
	if (err)
		goto out;
	ua->st.sess_out++;
	*sessp = s;
	return 0;
out:
	s->app_closed = true;
	ua_sess_terminate(s, err, 0, NULL);
	return err;
}

/* ACK for a 2xx: built once, re-sent as is for retransmissions of the 2xx. */
static int send_ack(struct sip_sess *s, const struct sip_msg *resp, bool with_answer)
{
	char *buf;
	size_t n;
	int err;

	err = ua_dialog_send_ack(s->dlg, resp->cseq.num, with_answer ? s->lctype : NULL,
	                         with_answer ? s->lsdp : NULL, with_answer ? s->lsdp_len : 0, &buf,
	                         &n, &s->ack_hop);
	if (err)
		return err;
	mem_deref(s->ack);
	s->ack = buf; /* NULL while its next hop is being resolved */
	s->ack_len = n;
	s->ack_body = with_answer;
	s->inv_cseq = resp->cseq.num;
	return 0;
}

void ua_sess_uac_ack_retrans(struct sip_sess *s, const struct sip_msg *resp)
{
	if (resp->cseq.num != s->inv_cseq)
		return;
	if (s->ack)
		sip_tsx_send_ack(s->ua->tsx, s->ack, s->ack_len, s->ack_hop.tp, &s->ack_hop.addr);
	else
		send_ack(s, resp, s->ack_body);
}

/* A dialog for another fork's 1xx/2xx: our identity (Call-ID, tag, From),
 * the fork's tag, route set and target; not registered. */
static struct sip_dialog *fork_clone(struct sip_sess *s, const struct sip_msg *resp)
{
	struct sip_dialog *d = NULL;

	if (sip_dialog_alloc_uac(&d, s->ua, s->dlg->rtarget, "x", NULL, NULL, s->dlg->contact))
		return NULL;
	mem_deref(d->callid);
	mem_deref(d->lhdr);
	d->callid = mem_strndup(s->dlg->callid, strlen(s->dlg->callid));
	d->lhdr = mem_strndup(s->dlg->lhdr, strlen(s->dlg->lhdr));
	memcpy(d->ltag, s->dlg->ltag, sizeof(d->ltag));
	d->tp_default = s->dlg->tp_default;
	d->lcseq = resp->cseq.num;
	if (!d->callid || !d->lhdr || sip_dialog_update_uac(d, resp)) {
		mem_deref(d);
		return NULL;
	}
	ua_dialog_unregister(d);
	return d;
}

static bool tag_is(const struct sip_dialog *d, struct pl tag)
{
	return d && d->rtag && pl_eq(tag, pl_make(d->rtag, strlen(d->rtag)));
}

/* A 2xx from another fork than the one we kept (§13.2.2.4): ACK it and BYE it. */
static void fork_2xx(struct sip_sess *s, const struct sip_msg *resp)
{
	struct sip_dialog *d = fork_clone(s, resp);
	struct sip_hop hop;
	char *buf;
	size_t n;

	if (!d)
		return;
	if (!ua_dialog_send_ack(d, resp->cseq.num, NULL, NULL, 0, &buf, &n, &hop))
		mem_deref(buf);
	ua_creq_send(NULL, d, "BYE", 0, NULL, NULL, NULL, 0, NULL, NULL);
	mem_deref(d);
}

/* The early dialog of a 1xx's To tag: ours, a known fork's, or a new fork's. */
static struct sip_dialog *early_dialog(struct sip_sess *s, const struct sip_msg *resp,
                                       uint32_t **rseqp)
{
	size_t i, free_slot = UA_MAX_FORKS;

	if (!s->dlg->rtag || tag_is(s->dlg, resp->to.tag)) {
		*rseqp = &s->rseq_rx;
		return sip_dialog_update_uac(s->dlg, resp) ? NULL : s->dlg;
	}
	for (i = 0; i < UA_MAX_FORKS; i++) {
		if (tag_is(s->forks[i], resp->to.tag)) {
			*rseqp = &s->fork_rseq[i];
			return sip_dialog_update_uac(s->forks[i], resp) ? NULL : s->forks[i];
		}
		if (!s->forks[i] && free_slot == UA_MAX_FORKS)
			free_slot = i;
	}
	if (free_slot == UA_MAX_FORKS)
		return NULL;
	s->forks[free_slot] = fork_clone(s, resp);
	s->fork_rseq[free_slot] = 0;
	*rseqp = &s->fork_rseq[free_slot];
	return s->forks[free_slot];
}

/* The 2xx comes from a fork whose early dialog we keep apart: it becomes the
 * session's dialog, and the one we had joins the forks. */
static void adopt_fork(struct sip_sess *s, const struct sip_msg *resp)
{
	for (size_t i = 0; i < UA_MAX_FORKS; i++) {
		struct sip_dialog *d = s->forks[i];
		uint32_t rs = s->fork_rseq[i];
		if (!tag_is(d, resp->to.tag))
			continue;
		s->dlg->reqh = NULL;
		ua_dialog_unregister(s->dlg);
		s->forks[i] = s->dlg;
		s->fork_rseq[i] = s->rseq_rx;
		s->dlg = d;
		s->rseq_rx = rs;
		d->reqh = ua_sess_dlg_req;
		d->reqarg = s;
		ua_dialog_register(d);
		return;
	}
}

static void initial_2xx(struct sip_sess *s, const struct sip_msg *resp)
{
	const char *actype = NULL;
	struct pl answer = PL_INIT;
	bool was_offer = s->offer_out;
	int err;

	if (s->dlg->state == SIP_DLG_CONFIRMED || s->state == SIP_SESS_CLOSED) {
		if (s->dlg->rtag &&
		    pl_eq(resp->to.tag, pl_make(s->dlg->rtag, strlen(s->dlg->rtag))))
			ua_sess_uac_ack_retrans(s, resp);
		else
			fork_2xx(s, resp);
		return;
	}
	if (s->dlg->rtag && !tag_is(s->dlg, resp->to.tag))
		adopt_fork(s, resp);
	err = sip_dialog_update_uac(s->dlg, resp);
	if (err == EPROTO) {
		fork_2xx(s, resp);
		return;
	}
	if (err) {
		ua_sess_terminate(s, err, resp->scode, "bad 2xx");
		return;
	}
	ua_prack_stop(s);
	/* delayed offer: the 2xx carries the offer and our ACK the answer (unless
	 * that exchange already happened in a reliable 1xx and its PRACK) */
	bool ack_answer = !was_offer && !s->early_offer_done;
	if (ack_answer && ua_has_body(resp) && s->h.offer && !s->app_closed) {
		if (s->h.offer(s, resp, &actype, &answer, s->arg) == 0)
			ua_sess_set_local(s, actype, answer.p, answer.l);
	}
	err = send_ack(s, resp, ack_answer);
	if (err) {
		LOGW(s->dlg->callid, "ua: ACK failed: %d", err);
		ua_sess_bye_close(s, err, "ACK failed");
		return;
	}
	s->offer_out = false;
	s->peer_update = sip_msg_has_token(resp, SIP_HDR_ALLOW, "UPDATE");
	if (s->state == SIP_SESS_CLOSING) {
		ua_sess_bye_close(s, 0, NULL);
		return;
	}
	s->state = SIP_SESS_ESTABLISHED;
	s->ua->st.sess_ok++;
	ua_st_uac_response(s, resp);
	ua_st_start(s);
	if (was_offer && s->h.answer)
		s->h.answer(s, resp->scode, resp, s->arg);
	if (s->state == SIP_SESS_ESTABLISHED && s->h.established)
		s->h.established(s, resp, s->arg);
}

static void initial_1xx(struct sip_sess *s, const struct sip_msg *resp)
{
	if (resp->to.tag.l && s->state != SIP_SESS_CLOSING) {
		uint32_t *rseq = NULL;
		struct sip_dialog *d = early_dialog(s, resp, &rseq);
		if (d && s->state == SIP_SESS_CALLING)
			s->state = SIP_SESS_EARLY;
		if (d)
			ua_prack_uac_1xx(s, d, rseq, resp);
	}
	if (!s->app_closed && s->state != SIP_SESS_CLOSED && s->h.progress)
		s->h.progress(s, resp->scode, resp, s->arg);
}

static bool retry_422(struct sip_sess *s, const struct sip_msg *resp)
{
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_MIN_SE);
	uint32_t min_se;

	if (!h || sip_u32_decode(&min_se, h->val) || !s->cc || s->cc->retries >= 2 ||
	    min_se <= s->cc->se)
		return false;
	s->cc->se = min_se;
	s->cc->min_se = min_se;
	s->cc->retries++;
	return invite_send(s) == 0;
}

static void initial_final(struct sip_sess *s, int err, const struct sip_msg *resp)
{
	uint16_t code = resp ? resp->scode : 0;

	if (code == 422 && s->state != SIP_SESS_CLOSING && retry_422(s, resp))
		return;
	if (code >= 300 && code < 400 && s->h.redirect && !s->app_closed)
		s->h.redirect(s, code, resp, s->arg);
	s->ua->st.sess_failed++;
	ua_sess_terminate(s, err, code, resp ? sip_reason_phrase(code) : NULL);
}

static void reinvite_resp(struct sip_sess *s, int err, const struct sip_msg *resp);

static void inv_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct sip_sess *s = arg;

	if (s->state == SIP_SESS_CLOSED)
		return;
	if (s->reinvite) {
		reinvite_resp(s, err, resp);
		return;
	}
	if (err || resp->scode >= 300)
		initial_final(s, err, resp);
	else if (resp->scode >= 200)
		initial_2xx(s, resp);
	else
		initial_1xx(s, resp);
}

/* ---- re-INVITE ---- */

static void reinvite_retry(void *arg)
{
	struct sip_sess *s = arg;

	if (s->state == SIP_SESS_ESTABLISHED && !ua_creq_pending(s->inv) && !s->stx &&
	    ua_sess_reinvite(s))
		ua_sess_bye_close(s, EIO, "re-INVITE failed");
}

static void reinvite_resp(struct sip_sess *s, int err, const struct sip_msg *resp)
{
	uint16_t code = resp ? resp->scode : 408;

	if (resp && code < 200)
		return;
	if (resp && code < 300) {
		sip_dialog_refresh_target(s->dlg, resp);
		if (resp->cseq.num == s->inv_cseq) {
			ua_sess_uac_ack_retrans(s, resp);
			return;
		}
		send_ack(s, resp, false);
		ua_st_uac_response(s, resp);
		ua_st_start(s);
		s->reinvite = s->inv != NULL;
		if (s->offer_out) {
			s->offer_out = false;
			if (s->h.answer && !s->app_closed)
				s->h.answer(s, code, resp, s->arg);
		}
		return;
	}
	s->reinvite = false;
	if (code == 491) {
		/* §14.1: we own the Call-ID as UAC: 2.1-4 s, else 0-2 s */
		uint64_t ms = s->uac ? 2100 + arc4random_uniform(1900) : arc4random_uniform(2000);
		tmr_start(s->ua->loop, &s->tmr_rel, ms, reinvite_retry, s);
		return;
	}
	s->offer_out = false;
	if (code == 481 || code == 408 || err) {
		ua_sess_bye_close(s, err ? err : ETIMEDOUT, "re-INVITE failed");
		return;
	}
	if (s->h.answer && !s->app_closed)
		s->h.answer(s, code, resp, s->arg);
}

int ua_sess_reinvite(struct sip_sess *s)
{
	char hdrs[256];

	hdrs[0] = '\0';
	ua_st_refresh_hdrs(s, hdrs, sizeof(hdrs));
	s->reinvite = true;
	/* the previous INVITE's lingering request keeps its own slot; start a new one */
	if (s->inv)
		ua_creq_detach(s->inv);
	mem_deref(s->ack);
	s->ack = NULL;
	int err = ua_creq_send(&s->inv, s->dlg, "INVITE", 0, hdrs, s->lctype, s->lsdp, s->lsdp_len,
	                       inv_resp, s);
	if (err)
		s->reinvite = false;
	return err;
}
