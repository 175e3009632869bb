/*
 * Server transactions (§17.2): the INVITE machine (Proceeding, Completed,
 * Confirmed, and RFC 6026's Accepted) and the non-INVITE machine (Trying,
 * Proceeding, Completed), CANCEL matching (§9.2) and the 503 at max_tsx.
 *
 * The machines move on three kinds of events: a request matching the
 * transaction (a retransmission or an ACK), a response from the TU, and a
 * timer; each kind has one function below with the states as cases.
 */
#include "sip/tsx/tsx_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

#define TRYING_MS 200 /* §17.2.1: 100 Trying unless the TU answers sooner */

static void srv_log(const struct sip_tsx *tsx, const char *what, int err)
{
	char ctx[80];

	LOGD(tsx_ctx(tsx->req, ctx, sizeof(ctx)), "tsx: server %.*s %s (%d)",
	     PL_ARG(tsx->req->method), what, err);
}

/*
 * §17.2.4: a response that cannot be sent ends the transaction, but only once
 * the TU has given its final response: until then the TU may hold the handle
 * without a reference (tsx.h), and it learns of the failure from its reply.
 */
static void send_failed(struct sip_tsx *tsx, int err)
{
	srv_log(tsx, "transport error", err);
	if (tsx->state != TS_TRYING && tsx->state != TS_PROCEEDING)
		tsx_terminate(tsx);
}

static int resend_last(struct sip_tsx *tsx)
{
	int err = tsx_send_resp(tsx->tl, tsx->req, tsx->resp, tsx->resp_len);

	if (err) {
		send_failed(tsx, err);
		return err;
	}
	tsx->tl->st.retrans_tx++;
	return 0;
}

static int send_trying(struct sip_tsx *tsx);

static void retx_handler(void *arg)
{
	struct sip_tsx *tsx = arg;
	const struct sip_tsx_config *c = &tsx->tl->cfg;

	if (tsx->state == TS_PROCEEDING && !tsx->resp) {
		send_trying(tsx);
		return;
	}
	if (tsx->state != TS_COMPLETED || resend_last(tsx))
		return;
	/* timer G: doubling, capped at T2 */
	tsx->retx_ms = tsx->retx_ms * 2 < c->t2_ms ? tsx->retx_ms * 2 : c->t2_ms;
	tmr_start(tsx->tl->loop, &tsx->tmr_retx, tsx->retx_ms, retx_handler, tsx);
}

/* H, I, J and L: the transaction ends, only H is a failure. */
static void to_handler(void *arg)
{
	struct sip_tsx *tsx = arg;

	if (tsx->state == TS_COMPLETED && tsx->invite) {
		char ctx[80];

		tsx->tl->st.timeouts++;
		LOGI(tsx_ctx(tsx->req, ctx, sizeof(ctx)), "tsx: no ACK for %u (timer H)",
		     tsx->resp_code);
	}
	tsx_terminate(tsx);
}

static void start_to(struct sip_tsx *tsx, uint32_t ms)
{
	if (!ms || tmr_start(tsx->tl->loop, &tsx->tmr_to, ms, to_handler, tsx))
		tsx_terminate(tsx);
}

/* Which response codes the TU may send in each state. */
static bool reply_allowed(const struct sip_tsx *tsx, uint16_t code)
{
	if (code < 100 || code > 699)
		return false;
	switch (tsx->state) {
	case TS_TRYING:
	case TS_PROCEEDING:
		return true;
	case TS_ACCEPTED:
		return code >= 200 && code < 300; /* the TU's 2xx retransmissions */
	default:
		return false;
	}
}

/* The machine's reaction to a response the TU (or the layer) sends. */
static void reply_advance(struct sip_tsx *tsx, uint16_t code)
{
	const struct sip_tsx_config *c = &tsx->tl->cfg;
	struct loop *loop = tsx->tl->loop;

	if (code < 200) {
		if (tsx->state == TS_TRYING)
			tsx->state = TS_PROCEEDING;
		tmr_cancel(&tsx->tmr_retx); /* the 100 Trying timer */
		return;
	}
	if (tsx->state == TS_ACCEPTED)
		return;
	tmr_cancel(&tsx->tmr_retx);
	if (!tsx->invite) {
		tsx->state = TS_COMPLETED;
		start_to(tsx, tsx->reliable ? 0 : 64 * c->t1_ms); /* J */
	} else if (code < 300) {
		tsx->state = TS_ACCEPTED;
		start_to(tsx, 64 * c->t1_ms); /* L */
	} else {
		tsx->state = TS_COMPLETED;
		tsx->retx_ms = c->t1_ms;
		/* G over unreliable transports only, H in any case */
		if (!tsx->reliable)
			tmr_start(loop, &tsx->tmr_retx, tsx->retx_ms, retx_handler, tsx);
		start_to(tsx, 64 * c->t1_ms);
	}
}

/* Takes buf (a mem allocation) in every case. */
static int reply_mem(struct sip_tsx *stx, uint16_t code, char *buf, size_t len)
{
	int err;

	if (!stx->tl) {
		mem_deref(buf);
		return ESRCH;
	}
	if (!stx->server || !reply_allowed(stx, code)) {
		mem_deref(buf);
		return EINVAL;
	}
	mem_deref(stx->resp);
	stx->resp = buf;
	stx->resp_len = len;
	stx->resp_code = code;
	err = tsx_send_resp(stx->tl, stx->req, buf, len);
	if (!err && stx->state == TS_ACCEPTED)
		stx->tl->st.retrans_tx++;
	reply_advance(stx, code);
	if (err)
		send_failed(stx, err);
	return err;
}

int sip_tsx_reply(struct sip_tsx *stx, uint16_t code, const char *buf, size_t len)
{
	char *copy;

	if (!stx || !buf || !len)
		return EINVAL;
	copy = mem_strndup(buf, len);
	if (!copy)
		return ENOMEM;
	return reply_mem(stx, code, copy, len);
}

static int build(struct sip_mb *mb, const struct sip_msg *req, uint16_t code, const char *reason,
                 const char *to_tag, const char *extra_hdrs, const char *ctype, const void *body,
                 size_t body_len)
{
	int err;

	err = sip_msg_build_response(mb, req, code, reason ? reason : sip_reason_phrase(code),
	                             to_tag, true, extra_hdrs, ctype, body, body_len);
	if (!err)
		err = sip_mb_finish(mb);
	if (err)
		mb->buf = mem_deref(mb->buf);
	return err;
}

int sip_tsx_reply_code(struct sip_tsx *stx, uint16_t code, const char *reason, const char *to_tag,
                       const char *extra_hdrs, const char *ctype, const void *body, size_t body_len)
{
	struct sip_mb mb = {0};
	int err;

	if (!stx)
		return EINVAL;
	if (!stx->tl)
		return ESRCH;
	err = build(&mb, stx->req, code, reason, to_tag, extra_hdrs, ctype, body, body_len);
	if (err)
		return err;
	return reply_mem(stx, code, mb.buf, mb.len);
}

static int send_trying(struct sip_tsx *tsx)
{
	return sip_tsx_reply_code(tsx, 100, "Trying", NULL, NULL, NULL, NULL, 0);
}

/* A response outside any transaction: the 503 of an overloaded layer. */
static void reply_stateless(struct sip_tsx_layer *tl, const struct sip_msg *req, uint16_t code,
                            const char *extra)
{
	struct sip_mb mb = {0};
	char tag[16];

	tsx_tag(tag, sizeof(tag));
	if (build(&mb, req, code, NULL, tag, extra, NULL, NULL, 0))
		return;
	tsx_send_resp(tl, req, mb.buf, mb.len);
	mem_deref(mb.buf);
}

/* max_tsx reached: the request is answered and forgotten. */
static void reject(struct sip_tsx_layer *tl, const struct sip_msg *req)
{
	char ra[32];

	snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", tl->cfg.retry_after_s);
	tl->st.rejected++;
	reply_stateless(tl, req, 503, ra);
}

const struct sip_msg *sip_tsx_request_msg(const struct sip_tsx *stx)
{
	return stx && stx->server ? stx->req : NULL;
}

void sip_tsx_set_cancel_handler(struct sip_tsx *stx, sip_tsx_cancel_h *h, void *arg)
{
	if (!stx || !stx->server)
		return;
	stx->cancelh = h;
	stx->cancel_arg = arg;
}

/* ---- requests matching a transaction ---- */

static void on_ack(struct sip_tsx *tsx, const struct sip_msg *ack)
{
	struct sip_tsx_layer *tl = tsx->tl;

	switch (tsx->state) {
	case TS_COMPLETED:
		tsx->state = TS_CONFIRMED;
		tmr_cancel(&tsx->tmr_retx);
		tmr_cancel(&tsx->tmr_to);
		start_to(tsx, tsx->reliable ? 0 : tl->cfg.t4_ms); /* I */
		break;
	case TS_CONFIRMED:
		tl->st.retrans_rx++;
		break;
	case TS_ACCEPTED:
		/* RFC 6026 §8.6: the ACK for the 2xx belongs to the TU */
		if (tl->reqh)
			tl->reqh(NULL, ack, tl->arg);
		break;
	default:
		srv_log(tsx, "ACK before a final response ignored", 0);
		break;
	}
}

static void on_retransmission(struct sip_tsx *tsx)
{
	tsx->tl->st.retrans_rx++;
	switch (tsx->state) {
	case TS_PROCEEDING:
		/* the client retransmits after T1 > 200 ms: no 100 was due before */
		if (tsx->resp)
			resend_last(tsx);
		else if (tsx->invite)
			send_trying(tsx);
		break;
	case TS_COMPLETED:
		resend_last(tsx);
		break;
	default:
		/* Trying: nothing to resend yet; Confirmed and Accepted absorb */
		break;
	}
}

/* ---- new requests ---- */

static int new_server(struct sip_tsx **tp, struct sip_tsx_layer *tl, struct sip_msg *msg)
{
	struct sip_tsx *tsx;
	int err;

	err = tsx_alloc(&tsx, tl, msg, true);
	if (err)
		return err;
	tsx->tp = msg->tp;
	tsx->dst = msg->src;
	tsx->reliable = sip_tp_reliable(msg->tp);
	tsx->state = tsx->invite ? TS_PROCEEDING : TS_TRYING;
	if (tsx->invite) {
		err = tmr_start(tl->loop, &tsx->tmr_retx, TRYING_MS, retx_handler, tsx);
		if (err) {
			mem_deref(tsx);
			return err;
		}
	}
	tsx_link(tsx);
	*tp = tsx;
	return 0;
}

/* §9.2: answer the CANCEL, then let the TU end the INVITE with 487. */
static void on_cancel(struct sip_tsx_layer *tl, struct sip_msg *msg)
{
	struct sip_tsx *inv = tsx_find_server(tl, msg, TM_CANCEL);
	struct sip_tsx *ctsx;
	char tag[64];

	/* cancelling frees resources: a matched CANCEL passes even at max_tsx */
	if (!inv && tl->st.active >= tl->cfg.max_tsx) {
		reject(tl, msg);
		return;
	}
	if (new_server(&ctsx, tl, msg))
		return;
	if (!inv) {
		tsx_tag(tag, sizeof(tag));
		sip_tsx_reply_code(ctsx, 481, NULL, tag, NULL, NULL, NULL, 0);
		return;
	}
	/* §9.2: the To tag of the 200 should be the one of the INVITE's responses */
	tsx_resp_totag(inv, tag, sizeof(tag));
	if (!tag[0])
		tsx_tag(tag, sizeof(tag));
	sip_tsx_reply_code(ctsx, 200, NULL, tag, NULL, NULL, NULL, 0);
	if (!inv->invite || inv->state != TS_PROCEEDING)
		return; /* a final response went out already: no effect */
	if (!inv->cancelh) {
		sip_tsx_reply_code(inv, 487, NULL, tag, NULL, NULL, NULL, 0);
		return;
	}
	mem_ref(inv);
	inv->cancelh(inv, msg, inv->cancel_arg);
	mem_deref(inv);
}

static void on_new(struct sip_tsx_layer *tl, struct sip_msg *msg)
{
	struct sip_tsx *tsx;
	char tag[16];

	/* Requests in a dialog (a To tag: BYE, re-INVITE...) end or keep calls that hold
	 * resources already: refusing them at the limit would leave those calls up. They
	 * get room up to twice the limit, so that a flood of them stays bounded too. */
	if (tl->st.active >= (msg->to.tag.l ? 2 * tl->cfg.max_tsx : tl->cfg.max_tsx)) {
		reject(tl, msg);
		return;
	}
	if (new_server(&tsx, tl, msg))
		return;
	if (!tl->reqh) {
		tsx_tag(tag, sizeof(tag));
		sip_tsx_reply_code(tsx, 501, NULL, tag, NULL, NULL, NULL, 0);
		return;
	}
	mem_ref(tsx);
	tl->reqh(tsx, msg, tl->arg);
	mem_deref(tsx);
}

void tsx_server_recv(struct sip_tsx_layer *tl, struct sip_msg *msg)
{
	struct sip_tsx *tsx;

	if (msg->mid == SIP_M_ACK) {
		tsx = tsx_find_server(tl, msg, TM_ACK);
		if (tsx)
			on_ack(tsx, msg);
		else if (tl->reqh)
			tl->reqh(NULL, msg, tl->arg); /* an ACK for a 2xx */
		return;
	}
	tsx = tsx_find_server(tl, msg, TM_SAME);
	if (tsx)
		on_retransmission(tsx);
	else if (msg->mid == SIP_M_CANCEL)
		on_cancel(tl, msg);
	else
		on_new(tl, msg);
}
