/*
 * Client transactions (§17.1): the INVITE and non-INVITE machines as one
 * table, the ACK for non-2xx finals (§17.1.1.3) and CANCEL (§9.1).
 *
 * The two machines differ in a handful of cells, so one table indexed by
 * [invite][state][event] says what happens; tsx_client_event() runs the
 * actions of a cell in a fixed order. Timer durations depend on the
 * transport and are worked out by retx_next() and end_ms(), not the table.
 */
#include "sip/tsx/tsx_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <string.h>

enum cev {
	CE_1XX, /* provisional response */
	CE_2XX,
	CE_FINAL,   /* 300-699 */
	CE_RETX,    /* timer A or E */
	CE_TIMEOUT, /* timer B or F, or no final 64*T1 after a CANCEL */
	CE_END,     /* timer D, K or M */
	CE_ERR,     /* transport error */
	CE_N
};

enum {
	A_STOP = 1 << 0,   /* stop both timers */
	A_ACK = 1 << 1,    /* build (once) and send the ACK */
	A_RESEND = 1 << 2, /* retransmit the request, re-arm A/E */
	A_PASS = 1 << 3,   /* hand the response to the TU */
	A_CANCEL = 1 << 4, /* send a CANCEL waiting for a provisional */
	A_END = 1 << 5,    /* start D, K or M (terminates at once if zero) */
	A_FAIL = 1 << 6,   /* report the error to the TU */
	A_ABSORB = 1 << 7, /* a retransmitted final: count it */
};

struct cell {
	uint8_t next;
	uint8_t act;
};

/* Unlisted cells: stay and do nothing (e.g. a 1xx after the final). */
/* clang-format off */
static const struct cell ctab[2][TS_N][CE_N] = {
	[0] = { /* non-INVITE, §17.1.2 */
		[TS_TRYING] = {
			[CE_1XX] = { TS_PROCEEDING, A_PASS },
			[CE_2XX] = { TS_COMPLETED, A_STOP | A_PASS | A_END },
			[CE_FINAL] = { TS_COMPLETED, A_STOP | A_PASS | A_END },
			[CE_RETX] = { TS_STAY, A_RESEND },
			[CE_TIMEOUT] = { TS_TERMINATED, A_FAIL },
			[CE_ERR] = { TS_TERMINATED, A_FAIL },
		},
		[TS_PROCEEDING] = {
			[CE_1XX] = { TS_STAY, A_PASS },
			[CE_2XX] = { TS_COMPLETED, A_STOP | A_PASS | A_END },
			[CE_FINAL] = { TS_COMPLETED, A_STOP | A_PASS | A_END },
			[CE_RETX] = { TS_STAY, A_RESEND },
			[CE_TIMEOUT] = { TS_TERMINATED, A_FAIL },
			[CE_ERR] = { TS_TERMINATED, A_FAIL },
		},
		[TS_COMPLETED] = {
			[CE_1XX] = { TS_STAY, A_ABSORB },
			[CE_2XX] = { TS_STAY, A_ABSORB },
			[CE_FINAL] = { TS_STAY, A_ABSORB },
			[CE_END] = { TS_TERMINATED, 0 },
		},
	},
	[1] = { /* INVITE, §17.1.1 and RFC 6026 */
		[TS_CALLING] = {
			[CE_1XX] = { TS_PROCEEDING, A_STOP | A_PASS | A_CANCEL },
			[CE_2XX] = { TS_ACCEPTED, A_STOP | A_PASS | A_END },
			[CE_FINAL] = { TS_COMPLETED, A_STOP | A_ACK | A_PASS | A_END },
			[CE_RETX] = { TS_STAY, A_RESEND },
			[CE_TIMEOUT] = { TS_TERMINATED, A_FAIL },
			[CE_ERR] = { TS_TERMINATED, A_FAIL },
		},
		[TS_PROCEEDING] = {
			[CE_1XX] = { TS_STAY, A_PASS },
			[CE_2XX] = { TS_ACCEPTED, A_STOP | A_PASS | A_END },
			[CE_FINAL] = { TS_COMPLETED, A_STOP | A_ACK | A_PASS | A_END },
			[CE_TIMEOUT] = { TS_TERMINATED, A_FAIL },
			[CE_ERR] = { TS_TERMINATED, A_FAIL },
		},
		[TS_COMPLETED] = {
			[CE_FINAL] = { TS_STAY, A_ACK | A_ABSORB },
			[CE_END] = { TS_TERMINATED, 0 },
		},
		[TS_ACCEPTED] = {
			/* every 2xx goes up: the TU ACKs each, forks included */
			[CE_2XX] = { TS_STAY, A_PASS },
			[CE_END] = { TS_TERMINATED, 0 },
		},
	},
};
/* clang-format on */

static void client_event(struct sip_tsx *tsx, enum cev ev, const struct sip_msg *resp, int err);

static void ctx_log(const struct sip_tsx *tsx, const char *what, int err)
{
	char ctx[80];

	LOGD(tsx_ctx(tsx->req, ctx, sizeof(ctx)), "tsx: client %.*s %s (%d)",
	     PL_ARG(tsx->req->method), what, err);
}

static void retx_handler(void *arg)
{
	client_event(arg, CE_RETX, NULL, 0);
}

static void to_handler(void *arg)
{
	struct sip_tsx *tsx = arg;

	client_event(tsx,
	             tsx->state == TS_COMPLETED || tsx->state == TS_ACCEPTED ? CE_END : CE_TIMEOUT,
	             NULL, ETIMEDOUT);
}

/* A doubles without bound (§17.1.1.2); E doubles up to T2, then stays at T2
 * once a provisional arrived (§17.1.2.2). */
static uint32_t retx_next(const struct sip_tsx *tsx)
{
	const struct sip_tsx_config *c = &tsx->tl->cfg;
	uint32_t n = tsx->retx_ms * 2;

	if (tsx->invite)
		return n;
	if (tsx->state == TS_PROCEEDING)
		return c->t2_ms;
	return n < c->t2_ms ? n : c->t2_ms;
}

/* D, K (zero over reliable transports) and M. */
static uint32_t end_ms(const struct sip_tsx *tsx)
{
	const struct sip_tsx_config *c = &tsx->tl->cfg;

	if (tsx->state == TS_ACCEPTED)
		return 64 * c->t1_ms;
	if (tsx->reliable)
		return 0;
	return tsx->invite ? 64 * c->t1_ms : c->t4_ms;
}

static void pass(struct sip_tsx *tsx, const struct sip_msg *resp, int err)
{
	if (tsx->resph)
		tsx->resph(err, resp, tsx->arg);
}

/* §17.1.1.3: the ACK for a non-2xx, from the INVITE and the response's To. */
static int build_ack(struct sip_tsx *tsx, const struct sip_msg *resp)
{
	const struct sip_msg *r = tsx->req;
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	struct sip_mb mb;
	int err;

	if (!to)
		return EBADMSG;
	err = sip_mb_init(&mb, 512);
	if (err)
		return err;
	sip_mb_printf(&mb, "ACK %.*s SIP/2.0\r\nVia: %.*s\r\n", PL_ARG(r->ruri_pl),
	              PL_ARG(r->via.val));
	for (int i = r->first[SIP_HDR_ROUTE]; i >= 0; i = r->hdr[i].next)
		sip_mb_printf(&mb, "Route: %.*s\r\n", PL_ARG(r->hdr[i].val));
	sip_mb_printf(&mb, "Max-Forwards: 70\r\nFrom: %.*s\r\nTo: %.*s\r\nCall-ID: %.*s\r\n",
	              PL_ARG(sip_msg_hdr(r, SIP_HDR_FROM)->val), PL_ARG(to->val),
	              PL_ARG(r->callid));
	sip_mb_printf(&mb, "CSeq: %u ACK\r\nContent-Length: 0\r\n\r\n", r->cseq.num);
	err = sip_mb_finish(&mb);
	if (err) {
		mem_deref(mb.buf);
		return err;
	}
	tsx->ack = mb.buf;
	tsx->ack_len = mb.len;
	return 0;
}

static void send_ack(struct sip_tsx *tsx, const struct sip_msg *resp, bool again)
{
	int err = 0;

	if (!tsx->ack)
		err = build_ack(tsx, resp);
	if (!err)
		err = tsx_send_req(tsx, tsx->ack, tsx->ack_len);
	if (err)
		ctx_log(tsx, "ACK not sent", err);
	else if (again)
		tsx->tl->st.retrans_tx++;
}

/* §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via
 * (so the same branch) and Route as the INVITE; its own non-INVITE
 * transaction whose final response is absorbed. */
static int send_cancel(struct sip_tsx *tsx)
{
	const struct sip_msg *r = tsx->req;
	struct sip_mb mb;
	int err;

	err = sip_mb_init(&mb, 512);
	if (err)
		return err;
	sip_mb_printf(&mb, "CANCEL %.*s SIP/2.0\r\nVia: %.*s\r\n", PL_ARG(r->ruri_pl),
	              PL_ARG(r->via.val));
	for (int i = r->first[SIP_HDR_ROUTE]; i >= 0; i = r->hdr[i].next)
		sip_mb_printf(&mb, "Route: %.*s\r\n", PL_ARG(r->hdr[i].val));
	sip_mb_printf(&mb, "Max-Forwards: 70\r\nFrom: %.*s\r\nTo: %.*s\r\nCall-ID: %.*s\r\n",
	              PL_ARG(sip_msg_hdr(r, SIP_HDR_FROM)->val),
	              PL_ARG(sip_msg_hdr(r, SIP_HDR_TO)->val), PL_ARG(r->callid));
	if (tsx->cancel_sip == 200)
		sip_mb_printf(&mb, "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n");
	else if (tsx->cancel_sip)
		sip_mb_printf(&mb, "Reason: SIP;cause=%u\r\n", tsx->cancel_sip);
	if (tsx->cancel_q850)
		sip_mb_printf(&mb, "Reason: Q.850;cause=%u\r\n", tsx->cancel_q850);
	sip_mb_printf(&mb, "CSeq: %u CANCEL\r\nContent-Length: 0\r\n\r\n", r->cseq.num);
	err = sip_mb_finish(&mb);
	if (!err)
		err =
		    sip_tsx_request(NULL, tsx->tl, mb.buf, mb.len, tsx->tp, &tsx->dst, NULL, NULL);
	mem_deref(mb.buf);
	if (err)
		return err;
	tsx->cancel_sent = true;
	/* §9.1: without a final response in 64*T1 the INVITE is given up */
	return tmr_start(tsx->tl->loop, &tsx->tmr_to, 64 * tsx->tl->cfg.t1_ms, to_handler, tsx);
}

static void resend(struct sip_tsx *tsx)
{
	int err = tsx_send_req(tsx, tsx->req->buf, tsx->req->len);

	if (err) {
		client_event(tsx, CE_ERR, NULL, err);
		return;
	}
	tsx->tl->st.retrans_tx++;
	tsx->retx_ms = retx_next(tsx);
	tmr_start(tsx->tl->loop, &tsx->tmr_retx, tsx->retx_ms, retx_handler, tsx);
}

static void start_end(struct sip_tsx *tsx)
{
	uint32_t ms = end_ms(tsx);

	if (!ms || tmr_start(tsx->tl->loop, &tsx->tmr_to, ms, to_handler, tsx))
		tsx_terminate(tsx);
}

static void client_event(struct sip_tsx *tsx, enum cev ev, const struct sip_msg *resp, int err)
{
	const struct cell *c;

	if (!tsx->tl)
		return;
	c = &ctab[tsx->invite][tsx->state][ev];
	if (!c->next && !c->act)
		return;
	mem_ref(tsx); /* the TU may drop its references from the handler */
	if (c->next)
		tsx->state = c->next;
	if (c->act & A_STOP) {
		tmr_cancel(&tsx->tmr_retx);
		tmr_cancel(&tsx->tmr_to);
	}
	if (c->act & A_ABSORB)
		tsx->tl->st.retrans_rx++;
	if (c->act & A_ACK)
		send_ack(tsx, resp, c->act & A_ABSORB);
	if (c->act & A_RESEND)
		resend(tsx);
	if (c->act & A_PASS)
		pass(tsx, resp, 0);
	if ((c->act & A_CANCEL) && tsx->tl && tsx->cancel_pending && !tsx->cancel_sent) {
		err = send_cancel(tsx);
		if (err)
			ctx_log(tsx, "CANCEL not sent", err);
	}
	if ((c->act & A_END) && tsx->tl)
		start_end(tsx);
	if (c->act & A_FAIL) {
		if (ev == CE_TIMEOUT && tsx->tl)
			tsx->tl->st.timeouts++;
		ctx_log(tsx, "failed", err);
		pass(tsx, NULL, err);
		tsx->resph = NULL;
	}
	if (tsx->state == TS_TERMINATED)
		tsx_terminate(tsx);
	mem_deref(tsx);
}

void tsx_client_recv(struct sip_tsx *tsx, const struct sip_msg *resp)
{
	enum cev ev = resp->scode < 200 ? CE_1XX : resp->scode < 300 ? CE_2XX : CE_FINAL;

	client_event(tsx, ev, resp, 0);
}

void tsx_client_err(struct sip_tsx *tsx, int err)
{
	client_event(tsx, CE_ERR, NULL, err);
}

int sip_tsx_request(struct sip_tsx **ctxp, struct sip_tsx_layer *tl, const char *buf, size_t len,
                    enum sip_transport t, const struct sa *dst, sip_tsx_resp_h *resph, void *arg)
{
	struct sip_tsx *tsx = NULL;
	struct sip_msg *req = NULL;
	char *copy;
	int err;

	if (!tl || !buf || !len || !dst)
		return EINVAL;
	copy = mem_strndup(buf, len);
	if (!copy)
		return ENOMEM;
	err = sip_msg_decode(&req, copy, len, false, copy, NULL);
	mem_deref(copy);
	if (err)
		return err;
	if (!req->req || req->mid == SIP_M_ACK || !tsx_has_cookie(req->via.branch) ||
	    !req->callid.l || !sip_msg_hdr(req, SIP_HDR_FROM) || !sip_msg_hdr(req, SIP_HDR_TO)) {
		err = EINVAL;
		goto out;
	}
	/* a reused branch would steal the other transaction's responses */
	if (tsx_find_client(tl, req)) {
		err = EEXIST;
		goto out;
	}
	err = tsx_alloc(&tsx, tl, req, false);
	if (err)
		goto out;
	tsx->tp = t;
	tsx->dst = *dst;
	tsx->reliable = sip_tp_reliable(t);
	tsx->resph = resph;
	tsx->arg = arg;
	tsx->state = tsx->invite ? TS_CALLING : TS_TRYING;
	err = tsx_send_req(tsx, req->buf, req->len);
	if (err)
		goto out;
	tsx->retx_ms = tl->cfg.t1_ms;
	if (!tsx->reliable)
		err = tmr_start(tl->loop, &tsx->tmr_retx, tsx->retx_ms, retx_handler, tsx);
	if (!err)
		err = tmr_start(tl->loop, &tsx->tmr_to, 64 * tl->cfg.t1_ms, to_handler, tsx);
	if (err)
		goto out;
	tsx_link(tsx);
	if (ctxp)
		*ctxp = tsx;
	tsx = NULL;
out:
	mem_deref(tsx);
	mem_deref(req);
	return err;
}

int sip_tsx_cancel(struct sip_tsx *ctx)
{
	return sip_tsx_cancel_reason(ctx, 0, 0);
}

int sip_tsx_cancel_reason(struct sip_tsx *ctx, uint16_t sip_cause, uint8_t q850_cause)
{
	if (!ctx || ctx->server)
		return EINVAL;
	if (!ctx->tl)
		return ESRCH;
	if (!ctx->invite)
		return EINVAL;
	if (ctx->state != TS_CALLING && ctx->state != TS_PROCEEDING)
		return EALREADY;
	if (ctx->cancel_pending)
		return EALREADY;
	ctx->cancel_pending = true;
	ctx->cancel_sip = sip_cause;
	ctx->cancel_q850 = q850_cause;
	/* §9.1: not before a provisional, which tells us the request got there */
	if (ctx->state == TS_CALLING)
		return 0;
	return send_cancel(ctx);
}

void sip_tsx_abandon(struct sip_tsx *ctx)
{
	if (ctx && !ctx->server)
		ctx->resph = NULL;
}
