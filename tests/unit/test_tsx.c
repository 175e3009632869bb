/*
 * Unit tests for gateway/sip/tsx: the four machines of RFC 3261 §17 with
 * RFC 6026, CANCEL (§9), RFC 2543 matching and max_tsx, without sockets:
 * messages are fed with sip_tsx_layer_recv(), what the layer sends is
 * captured by the sender hook, and time is a real loop with a short T1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "sip/msg/msg.h"
#include "sip/tsx/tsx.h"

#define MAXOUT 128

struct out {
	char *text;
	size_t len;
	uint64_t t;
	bool resp; /* a response (sent with a request to route it) */
	enum sip_transport tp;
};

struct fx {
	struct loop *loop;
	struct sip_tsx_layer *tl;
	struct out out[MAXOUT];
	unsigned nout;
	int send_err;        /* injected transport error */
	unsigned fail_after; /* sends that succeed before send_err applies */
	/* server side TU */
	unsigned nreq, nack;
	struct sip_tsx *stx;
	uint16_t auto_code; /* answer in the request handler */
	bool set_cancelh;
	unsigned ncancel;
	struct sip_tsx *cancelled;
	uint16_t cancel_reply; /* answer the INVITE with this from the cancel handler */
	/* client side TU */
	unsigned nresp, nerr;
	uint16_t codes[32];
	int err;
};

static struct fx F;

static void on_cancel(struct sip_tsx *stx, const struct sip_msg *cancel, void *arg);

/* ---- plumbing ---- */

static int sender(const struct sip_msg *req, enum sip_transport t, const struct sa *dst,
                  const char *buf, size_t len, void *arg)
{
	struct fx *fx = arg;
	struct out *o;

	(void)dst;
	if (fx->send_err && fx->nout >= fx->fail_after)
		return fx->send_err;
	assert_true(fx->nout < MAXOUT);
	o = &fx->out[fx->nout++];
	o->text = malloc(len + 1);
	assert_non_null(o->text);
	memcpy(o->text, buf, len);
	o->text[len] = '\0';
	o->len = len;
	o->t = loop_clock_ms();
	o->resp = req != NULL;
	o->tp = t;
	return 0;
}

static void on_req(struct sip_tsx *stx, const struct sip_msg *msg, void *arg)
{
	struct fx *fx = arg;

	if (!stx) {
		assert_int_equal(msg->mid, SIP_M_ACK);
		fx->nack++;
		return;
	}
	assert_ptr_equal(sip_tsx_request_msg(stx), msg);
	fx->nreq++;
	fx->stx = stx;
	if (fx->set_cancelh)
		sip_tsx_set_cancel_handler(stx, on_cancel, fx);
	if (fx->auto_code)
		assert_int_equal(
		    sip_tsx_reply_code(stx, fx->auto_code, NULL, "srv1", NULL, NULL, NULL, 0), 0);
}

static void on_cancel(struct sip_tsx *stx, const struct sip_msg *cancel, void *arg)
{
	struct fx *fx = arg;

	assert_int_equal(cancel->mid, SIP_M_CANCEL);
	fx->ncancel++;
	fx->cancelled = stx;
	if (fx->cancel_reply)
		assert_int_equal(
		    sip_tsx_reply_code(stx, fx->cancel_reply, NULL, "srv1", NULL, NULL, NULL, 0),
		    0);
}

static void on_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct fx *fx = arg;

	if (err) {
		assert_null(resp);
		fx->nerr++;
		fx->err = err;
		return;
	}
	if (fx->nresp < 32)
		fx->codes[fx->nresp] = resp->scode;
	fx->nresp++;
}

static void fx_setup(uint32_t t1, uint32_t t2, uint32_t t4, unsigned max_tsx)
{
	struct sip_tsx_config cfg = {.t1_ms = t1, .t2_ms = t2, .t4_ms = t4, .max_tsx = max_tsx};

	memset(&F, 0, sizeof(F));
	assert_int_equal(loop_alloc(&F.loop), 0);
	assert_int_equal(sip_tsx_layer_alloc(&F.tl, F.loop, NULL, &cfg, on_req, &F), 0);
	sip_tsx_layer_set_sender(F.tl, sender, &F);
}

static void fx_teardown(void)
{
	sip_tsx_layer_free(F.tl);
	loop_free(F.loop);
	for (unsigned i = 0; i < F.nout; i++)
		free(F.out[i].text);
}

static void run_ms(uint64_t ms)
{
	uint64_t end = loop_clock_ms() + ms;

	for (uint64_t now = loop_clock_ms(); now < end; now = loop_clock_ms())
		assert_int_equal(loop_run_once(F.loop, (int)(end - now)), 0);
}

/* Runs until *counter changes or max_ms passed; returns the elapsed time. */
static uint64_t run_until(const unsigned *counter, uint64_t max_ms)
{
	uint64_t start = loop_clock_ms(), end = start + max_ms;
	unsigned v = *counter;

	for (uint64_t now = start; *counter == v && now < end; now = loop_clock_ms())
		assert_int_equal(loop_run_once(F.loop, (int)(end - now)), 0);
	return loop_clock_ms() - start;
}

static struct sip_tsx_stats stats(void)
{
	struct sip_tsx_stats st;

	sip_tsx_stats(F.tl, &st);
	return st;
}

/* Decodes text and hands it to the layer as if received over t. */
static void feed(enum sip_transport t, const char *text)
{
	size_t len = strlen(text);
	char *buf = mem_strndup(text, len);
	struct sip_msg *msg = NULL;

	assert_non_null(buf);
	assert_int_equal(sip_msg_decode(&msg, buf, len, false, buf, NULL), 0);
	mem_deref(buf);
	msg->tp = t;
	assert_int_equal(sa_set_str(&msg->src, "127.0.0.1", 5070), 0);
	assert_int_equal(sa_set_str(&msg->dst, "127.0.0.1", 5060), 0);
	sip_tsx_layer_recv(F.tl, msg);
	mem_deref(msg);
}

static struct sip_msg *out_msg(unsigned i)
{
	struct sip_msg *msg = NULL;

	assert_true(i < F.nout);
	assert_int_equal(sip_msg_decode(&msg, F.out[i].text, F.out[i].len, false, NULL, NULL), 0);
	return msg;
}

static uint16_t out_code(unsigned i)
{
	struct sip_msg *m = out_msg(i);
	uint16_t c = m->req ? 0 : m->scode;

	mem_deref(m);
	return c;
}

/* ---- message texts ---- */

/* A request from the peer 127.0.0.1:5070. via_params: ";branch=..." or "". */
static void req_text(char *buf, size_t n, const char *method, const char *via_params,
                     const char *to_tag, unsigned cseq, const char *cseq_method)
{
	snprintf(buf, n,
	         "%s sip:bob@127.0.0.1 SIP/2.0\r\n"
	         "Via: SIP/2.0/UDP 127.0.0.1:5070%s\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
	         "To: <sip:bob@127.0.0.1>%s%s\r\n"
	         "Call-ID: call-1@127.0.0.1\r\n"
	         "CSeq: %u %s\r\n"
	         "Content-Length: 0\r\n\r\n",
	         method, via_params, to_tag ? ";tag=" : "", to_tag ? to_tag : "", cseq,
	         cseq_method ? cseq_method : method);
}

static void feed_req(enum sip_transport t, const char *method, const char *via_params,
                     const char *to_tag, unsigned cseq, const char *cseq_method)
{
	char buf[1024];

	req_text(buf, sizeof(buf), method, via_params, to_tag, cseq, cseq_method);
	feed(t, buf);
}

static const char *our_branch = "z9hG4bKclient1";
static struct sa peer;

/* Starts a client transaction for method (with a Route, so the ACK and the
 * CANCEL can be checked for it). */
static int client_req(struct sip_tsx **ctxp, enum sip_transport t, const char *method)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "%s sip:bob@127.0.0.1:5070 SIP/2.0\r\n"
	         "Via: SIP/2.0/%s 127.0.0.1:5060;branch=%s\r\n"
	         "Route: <sip:proxy.example.com;lr>\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:alice@127.0.0.1>;tag=c1\r\n"
	         "To: <sip:bob@127.0.0.1>\r\n"
	         "Call-ID: out-1@127.0.0.1\r\n"
	         "CSeq: 7 %s\r\n"
	         "Content-Length: 0\r\n\r\n",
	         method, t == SIP_TP_UDP ? "UDP" : "TCP", our_branch, method);
	assert_int_equal(sa_set_str(&peer, "127.0.0.1", 5070), 0);
	return sip_tsx_request(ctxp, F.tl, buf, strlen(buf), t, &peer, on_resp, &F);
}

static void feed_resp(enum sip_transport t, uint16_t code, const char *cseq_method,
                      const char *to_tag)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "SIP/2.0 %u Whatever\r\n"
	         "Via: SIP/2.0/%s 127.0.0.1:5060;branch=%s\r\n"
	         "From: <sip:alice@127.0.0.1>;tag=c1\r\n"
	         "To: <sip:bob@127.0.0.1>%s%s\r\n"
	         "Call-ID: out-1@127.0.0.1\r\n"
	         "CSeq: 7 %s\r\n"
	         "Content-Length: 0\r\n\r\n",
	         code, t == SIP_TP_UDP ? "UDP" : "TCP", our_branch, to_tag ? ";tag=" : "",
	         to_tag ? to_tag : "", cseq_method);
	feed(t, buf);
}

/* Checks that send intervals double from t1 (capped at cap, 0: none). */
static void check_intervals(unsigned first, unsigned n, uint32_t t1, uint32_t cap)
{
	uint64_t want = t1;

	for (unsigned i = first + 1; i < first + n; i++) {
		uint64_t got = F.out[i].t - F.out[i - 1].t;

		/* timers never fire early; late by a loop round at most */
		assert_true(got + 1 >= want);
		assert_true(got <= want + want / 2 + 25);
		want *= 2;
		if (cap && want > cap)
			want = cap;
	}
}

/* ---- INVITE client ---- */

static void test_ict_udp_retransmit_timer_b(void **state)
{
	(void)state;
	fx_setup(20, 80, 50, 0);
	assert_int_equal(client_req(NULL, SIP_TP_UDP, "INVITE"), 0);
	uint64_t took = run_until(&F.nerr, 3000);
	assert_int_equal(F.nerr, 1);
	assert_int_equal(F.err, ETIMEDOUT);
	/* timer B = 64*T1 = 1280 ms: sent at 0, 20, 60, 140, 300, 620, 1260 */
	assert_true(took >= 1280 && took < 1500);
	/* the last one is 20 ms before B: a loaded machine may lose it */
	assert_true(F.nout == 7 || F.nout == 6);
	/* A doubles past T2 (§17.1.1.2: only E and G are capped) */
	check_intervals(0, F.nout, 20, 0);
	struct sip_tsx_stats st = stats();
	assert_int_equal(st.retrans_tx, F.nout - 1);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.active, 0);
	run_ms(50);
	assert_int_equal(st.retrans_tx + 1, F.nout);
	assert_int_equal(F.nerr, 1);
	fx_teardown();
}

static void test_ict_tcp_no_retransmit(void **state)
{
	(void)state;
	fx_setup(10, 40, 50, 0);
	assert_int_equal(client_req(NULL, SIP_TP_TCP, "INVITE"), 0);
	run_ms(300);
	assert_int_equal(F.nout, 1);
	assert_int_equal(F.nerr, 0);
	uint64_t took = run_until(&F.nerr, 1000);
	assert_int_equal(F.err, ETIMEDOUT);
	assert_true(took >= 300); /* B still runs at 640 ms over TCP */
	assert_int_equal(F.nout, 1);
	fx_teardown();
}

static void test_ict_non2xx_ack(void **state)
{
	struct sip_msg *ack;

	(void)state;
	fx_setup(10, 40, 50, 0);
	assert_int_equal(client_req(NULL, SIP_TP_UDP, "INVITE"), 0);
	feed_resp(SIP_TP_UDP, 180, "INVITE", "b1");
	assert_int_equal(F.nresp, 1);
	assert_int_equal(F.codes[0], 180);
	run_ms(100); /* Proceeding: no more retransmissions */
	assert_int_equal(F.nout, 1);
	feed_resp(SIP_TP_UDP, 486, "INVITE", "b1");
	assert_int_equal(F.nresp, 2);
	assert_int_equal(F.codes[1], 486);
	assert_int_equal(F.nout, 2);
	ack = out_msg(1);
	assert_true(ack->req);
	assert_int_equal(ack->mid, SIP_M_ACK);
	assert_true(pl_eq(ack->ruri_pl, PL("sip:bob@127.0.0.1:5070")));
	assert_true(pl_eq(ack->via.branch, pl_make(our_branch, strlen(our_branch))));
	assert_int_equal(sip_msg_hdr_count(ack, SIP_HDR_VIA), 1);
	assert_int_equal(ack->cseq.num, 7);
	assert_int_equal(ack->cseq.mid, SIP_M_ACK);
	assert_true(pl_eq(ack->to.tag, PL("b1")));
	assert_true(pl_eq(ack->from.tag, PL("c1")));
	assert_true(pl_eq(ack->callid, PL("out-1@127.0.0.1")));
	assert_non_null(sip_msg_hdr(ack, SIP_HDR_ROUTE));
	mem_deref(ack);
	/* the retransmitted final is absorbed and ACKed again */
	feed_resp(SIP_TP_UDP, 486, "INVITE", "b1");
	assert_int_equal(F.nresp, 2);
	assert_int_equal(F.nout, 3);
	assert_string_equal(F.out[2].text, F.out[1].text);
	assert_int_equal(stats().retrans_rx, 1);
	assert_int_equal(stats().active, 1);
	run_ms(700); /* timer D = 64*T1 over UDP */
	assert_int_equal(stats().active, 0);
	fx_teardown();
}

static void test_ict_2xx_accepted(void **state)
{
	(void)state;
	fx_setup(10, 40, 50, 0);
	assert_int_equal(client_req(NULL, SIP_TP_TCP, "INVITE"), 0);
	feed_resp(SIP_TP_TCP, 200, "INVITE", "b1");
	feed_resp(SIP_TP_TCP, 200, "INVITE", "b1");
	feed_resp(SIP_TP_TCP, 200, "INVITE", "b2"); /* a forked 2xx */
	assert_int_equal(F.nresp, 3);
	assert_int_equal(F.codes[2], 200);
	assert_int_equal(F.nout, 1);                /* the ACK for a 2xx is the TU's */
	feed_resp(SIP_TP_TCP, 486, "INVITE", "b1"); /* ignored in Accepted */
	assert_int_equal(F.nresp, 3);
	assert_int_equal(stats().active, 1);
	run_ms(300);
	feed_resp(SIP_TP_TCP, 200, "INVITE", "b1");
	assert_int_equal(F.nresp, 4);
	run_ms(400); /* timer M = 64*T1 */
	assert_int_equal(stats().active, 0);
	feed_resp(SIP_TP_TCP, 200, "INVITE", "b1"); /* stray: dropped */
	assert_int_equal(F.nresp, 4);
	fx_teardown();
}

/* ---- non-INVITE client ---- */

static void test_nict_timer_e_f(void **state)
{
	(void)state;
	fx_setup(10, 40, 50, 0);
	assert_int_equal(client_req(NULL, SIP_TP_UDP, "OPTIONS"), 0);
	uint64_t took = run_until(&F.nerr, 2000);
	assert_int_equal(F.err, ETIMEDOUT);
	assert_true(took >= 640 && took < 900); /* F = 64*T1 */
	/* 0, 10, 30, 70 then every T2 = 40 until 640 */
	assert_true(F.nout >= 13 && F.nout <= 18);
	check_intervals(0, 6, 10, 40);
	for (unsigned i = 4; i < F.nout; i++)
		assert_true(F.out[i].t - F.out[i - 1].t <= 80);
	fx_teardown();
}

static void test_nict_proceeding_t2_and_k(void **state)
{
	(void)state;
	fx_setup(10, 40, 60, 0);
	assert_int_equal(client_req(NULL, SIP_TP_UDP, "OPTIONS"), 0);
	run_ms(5);
	/* On a loaded machine Trying may already have retransmitted: count from here. */
	unsigned first = F.nout;
	feed_resp(SIP_TP_UDP, 100, "OPTIONS", NULL);
	assert_int_equal(F.nresp, 1);
	run_ms(150);
	/* E fires once more as armed in Trying, then every T2 in Proceeding (§17.1.2.2) */
	assert_true(F.nout >= first + 3);
	for (unsigned i = first + 1; i < F.nout; i++)
		assert_true(F.out[i].t - F.out[i - 1].t >= 39);
	feed_resp(SIP_TP_UDP, 200, "OPTIONS", "b1");
	assert_int_equal(F.nresp, 2);
	unsigned sent = F.nout;
	feed_resp(SIP_TP_UDP, 200, "OPTIONS", "b1"); /* Completed absorbs */
	assert_int_equal(F.nresp, 2);
	assert_int_equal(stats().retrans_rx, 1);
	run_ms(30);
	assert_int_equal(stats().active, 1); /* K = T4 = 60 ms */
	run_ms(70);
	assert_int_equal(stats().active, 0);
	assert_int_equal(F.nout, sent);
	fx_teardown();
}

static void test_nict_tcp_k_zero(void **state)
{
	(void)state;
	fx_setup(10, 40, 60, 0);
	assert_int_equal(client_req(NULL, SIP_TP_TCP, "OPTIONS"), 0);
	run_ms(100);
	assert_int_equal(F.nout, 1);
	feed_resp(SIP_TP_TCP, 404, "OPTIONS", "b1");
	assert_int_equal(F.nresp, 1);
	assert_int_equal(stats().active, 0); /* K is zero over TCP */
	fx_teardown();
}

static void test_client_transport_errors(void **state)
{
	struct sa other;

	(void)state;
	fx_setup(10, 40, 50, 0);
	/* first send fails: an error return, never a handler call */
	F.send_err = ENETUNREACH;
	assert_int_equal(client_req(NULL, SIP_TP_UDP, "OPTIONS"), ENETUNREACH);
	assert_int_equal(stats().active, 0);
	/* a retransmission fails: err on the transaction */
	F.send_err = EHOSTUNREACH;
	F.fail_after = 1;
	assert_int_equal(client_req(NULL, SIP_TP_UDP, "INVITE"), 0);
	run_until(&F.nerr, 200);
	assert_int_equal(F.nerr, 1);
	assert_int_equal(F.err, EHOSTUNREACH);
	assert_int_equal(stats().active, 0);
	/* the transport's error handler for a connection */
	F.send_err = 0;
	assert_int_equal(client_req(NULL, SIP_TP_TCP, "INVITE"), 0);
	assert_int_equal(sa_set_str(&other, "127.0.0.2", 5070), 0);
	sip_tsx_layer_tp_err(F.tl, SIP_TP_TCP, &other, ECONNRESET);
	assert_int_equal(F.nerr, 1); /* another peer: not this one */
	sip_tsx_layer_tp_err(F.tl, SIP_TP_TCP, &peer, ECONNRESET);
	assert_int_equal(F.nerr, 2);
	assert_int_equal(F.err, ECONNRESET);
	assert_int_equal(stats().active, 0);
	run_ms(50);
	assert_int_equal(F.nerr, 2);
	fx_teardown();
}

static void test_client_cancel(void **state)
{
	struct sip_tsx *ctx = NULL;
	struct sip_msg *c;

	(void)state;
	fx_setup(10, 40, 50, 0);
	assert_int_equal(client_req(&ctx, SIP_TP_TCP, "INVITE"), 0);
	assert_non_null(ctx);
	assert_int_equal(client_req(NULL, SIP_TP_TCP, "INVITE"), EEXIST); /* same branch */
	assert_int_equal(sip_tsx_cancel(ctx), 0);
	assert_int_equal(sip_tsx_cancel(ctx), EALREADY);
	assert_int_equal(F.nout, 1); /* §9.1: not before a provisional */
	feed_resp(SIP_TP_TCP, 180, "INVITE", "b1");
	assert_int_equal(F.nout, 2);
	c = out_msg(1);
	assert_int_equal(c->mid, SIP_M_CANCEL);
	assert_int_equal(c->cseq.num, 7);
	assert_int_equal(c->cseq.mid, SIP_M_CANCEL);
	assert_true(pl_eq(c->via.branch, pl_make(our_branch, strlen(our_branch))));
	assert_true(pl_eq(c->ruri_pl, PL("sip:bob@127.0.0.1:5070")));
	assert_int_equal(c->to.tag.l, 0);
	assert_non_null(sip_msg_hdr(c, SIP_HDR_ROUTE));
	mem_deref(c);
	assert_int_equal(stats().active, 2);
	feed_resp(SIP_TP_TCP, 200, "CANCEL", "b1"); /* the CANCEL's: absorbed */
	assert_int_equal(F.nresp, 1);
	feed_resp(SIP_TP_TCP, 487, "INVITE", "b1");
	assert_int_equal(F.nresp, 2);
	assert_int_equal(F.codes[1], 487);
	assert_int_equal(F.nout, 3);
	assert_int_equal(out_code(2), 0); /* the ACK */
	assert_int_equal(stats().active, 0);

	/* a CANCEL that gets no final response for the INVITE: 64*T1 */
	assert_int_equal(client_req(&ctx, SIP_TP_TCP, "INVITE"), 0);
	mem_ref(ctx);
	feed_resp(SIP_TP_TCP, 183, "INVITE", "b1");
	assert_int_equal(sip_tsx_cancel(ctx), 0);
	assert_int_equal(F.nout, 5);
	run_until(&F.nerr, 1000);
	assert_int_equal(F.err, ETIMEDOUT);
	assert_int_equal(sip_tsx_cancel(ctx), ESRCH); /* kept by our reference */
	mem_deref(ctx);
	fx_teardown();
}

/* ---- INVITE server ---- */

static void test_ist_trying_g_h_ack(void **state)
{
	struct sip_tsx *stx;

	(void)state;
	fx_setup(10, 40, 50, 0);
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	assert_int_equal(F.nreq, 1);
	stx = F.stx;
	run_ms(150);
	assert_int_equal(F.nout, 0);
	run_ms(100); /* §17.2.1: 100 Trying after 200 ms */
	assert_int_equal(F.nout, 1);
	assert_int_equal(out_code(0), 100);
	assert_true(F.out[0].resp);
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	assert_int_equal(F.nreq, 1);
	assert_int_equal(F.nout, 2);
	assert_string_equal(F.out[1].text, F.out[0].text);
	assert_int_equal(sip_tsx_reply_code(stx, 486, NULL, "srv1", NULL, NULL, NULL, 0), 0);
	assert_int_equal(F.nout, 3);
	assert_int_equal(out_code(2), 486);
	assert_int_equal(sip_tsx_reply_code(stx, 603, NULL, "srv1", NULL, NULL, NULL, 0), EINVAL);
	run_ms(170); /* G: 10, 20, 40, then T2 = 40 */
	assert_true(F.nout >= 7);
	check_intervals(2, 6, 10, 40);
	for (unsigned i = 3; i < F.nout; i++)
		assert_string_equal(F.out[i].text, F.out[2].text);
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL); /* resend */
	unsigned n = F.nout;
	assert_string_equal(F.out[n - 1].text, F.out[2].text);
	feed_req(SIP_TP_UDP, "ACK", ";branch=z9hG4bKinv1", "srv1", 1, NULL);
	assert_int_equal(F.nack, 0); /* the ACK for a non-2xx is absorbed */
	run_ms(30);
	assert_int_equal(F.nout, n); /* Confirmed: G stopped */
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	feed_req(SIP_TP_UDP, "ACK", ";branch=z9hG4bKinv1", "srv1", 1, NULL);
	assert_int_equal(F.nout, n);
	assert_int_equal(F.nreq, 1);
	assert_int_equal(stats().active, 1);
	run_ms(60); /* I = T4 = 50 ms */
	assert_int_equal(stats().active, 0);

	/* timer H: no ACK ever */
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv2", NULL, 2, NULL);
	assert_int_equal(sip_tsx_reply_code(F.stx, 480, NULL, "srv2", NULL, NULL, NULL, 0), 0);
	run_ms(600);
	assert_int_equal(stats().active, 1);
	assert_int_equal(stats().timeouts, 0);
	run_ms(100);
	assert_int_equal(stats().active, 0);
	assert_int_equal(stats().timeouts, 1);
	fx_teardown();
}

static void test_ist_tu_answers_fast_tcp(void **state)
{
	(void)state;
	fx_setup(10, 40, 50, 0);
	F.auto_code = 180;
	feed_req(SIP_TP_TCP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	run_ms(250);
	assert_int_equal(F.nout, 1); /* no 100: the TU answered within 200 ms */
	assert_int_equal(out_code(0), 180);
	assert_int_equal(sip_tsx_reply_code(F.stx, 500, NULL, "srv1", NULL, NULL, NULL, 0), 0);
	run_ms(100);
	assert_int_equal(F.nout, 2); /* no G over TCP */
	feed_req(SIP_TP_TCP, "ACK", ";branch=z9hG4bKinv1", "srv1", 1, NULL);
	assert_int_equal(stats().active, 0); /* I is zero over TCP */
	fx_teardown();
}

static void test_ist_accepted(void **state)
{
	struct sip_tsx *stx;

	(void)state;
	fx_setup(10, 40, 50, 0);
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	stx = mem_ref(F.stx);
	assert_int_equal(sip_tsx_reply_code(stx, 200, NULL, "srv1", NULL, NULL, NULL, 0), 0);
	assert_int_equal(F.nout, 1);
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	assert_int_equal(F.nout, 1); /* absorbed: 2xx retransmission is the TU's */
	assert_int_equal(F.nreq, 1);
	assert_int_equal(sip_tsx_reply_code(stx, 200, NULL, "srv1", NULL, NULL, NULL, 0), 0);
	assert_int_equal(F.nout, 2);
	assert_int_equal(sip_tsx_reply_code(stx, 486, NULL, "srv1", NULL, NULL, NULL, 0), EINVAL);
	/* ACK for the 2xx: a new branch, matching nothing */
	feed_req(SIP_TP_UDP, "ACK", ";branch=z9hG4bKack1", "srv1", 1, NULL);
	assert_int_equal(F.nack, 1);
	/* an ACK that does match the transaction in Accepted goes up too */
	feed_req(SIP_TP_UDP, "ACK", ";branch=z9hG4bKinv1", "srv1", 1, NULL);
	assert_int_equal(F.nack, 2);
	run_ms(600);
	assert_int_equal(stats().active, 1);
	run_ms(100); /* L = 64*T1 */
	assert_int_equal(stats().active, 0);
	assert_int_equal(sip_tsx_reply_code(stx, 200, NULL, "srv1", NULL, NULL, NULL, 0), ESRCH);
	mem_deref(stx);
	fx_teardown();
}

static void test_server_transport_errors(void **state)
{
	struct sip_tsx *stx;

	(void)state;
	fx_setup(10, 40, 50, 0);
	F.send_err = ECONNRESET;
	feed_req(SIP_TP_TCP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	stx = F.stx;
	run_ms(250); /* the 100 Trying fails */
	assert_int_equal(F.nout, 0);
	/* before the final the transaction stays for the TU, which sees the error */
	assert_int_equal(stats().active, 1);
	assert_int_equal(sip_tsx_reply_code(stx, 180, NULL, "s", NULL, NULL, NULL, 0), ECONNRESET);
	assert_int_equal(stats().active, 1);
	F.send_err = 0;
	assert_int_equal(sip_tsx_reply_code(stx, 183, NULL, "s", NULL, NULL, NULL, 0), 0);
	assert_int_equal(F.nout, 1);
	/* a final that cannot be sent ends it (§17.2.4) */
	mem_ref(stx);
	F.send_err = EPIPE;
	assert_int_equal(sip_tsx_reply_code(stx, 486, NULL, "s", NULL, NULL, NULL, 0), EPIPE);
	assert_int_equal(stats().active, 0);
	assert_int_equal(sip_tsx_reply_code(stx, 486, NULL, "s", NULL, NULL, NULL, 0), ESRCH);
	mem_deref(stx);
	fx_teardown();
}

/* ---- non-INVITE server ---- */

static void test_nist_retransmit_and_j(void **state)
{
	(void)state;
	fx_setup(10, 40, 50, 0);
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKopt1", NULL, 1, NULL);
	assert_int_equal(F.nreq, 1);
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKopt1", NULL, 1, NULL);
	assert_int_equal(F.nreq, 1);
	run_ms(250);
	assert_int_equal(F.nout, 0); /* Trying: nothing to resend, no 100 for non-INVITE */
	assert_int_equal(sip_tsx_reply_code(F.stx, 200, NULL, "srv1", NULL, NULL, NULL, 0), 0);
	assert_int_equal(F.nout, 1);
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKopt1", NULL, 1, NULL);
	assert_int_equal(F.nout, 2);
	assert_string_equal(F.out[1].text, F.out[0].text);
	assert_int_equal(F.nreq, 1);
	assert_int_equal(stats().retrans_rx, 2);
	/* the same branch from another sent-by is another transaction */
	char buf[1024];
	req_text(buf, sizeof(buf), "OPTIONS", ";branch=z9hG4bKopt1", NULL, 1, NULL);
	char *p = strstr(buf, "127.0.0.1:5070;");
	memcpy(p, "127.0.0.9", 9);
	feed(SIP_TP_UDP, buf);
	assert_int_equal(F.nreq, 2);
	assert_int_equal(sip_tsx_reply_code(F.stx, 200, NULL, "srv1", NULL, NULL, NULL, 0), 0);
	run_ms(600);
	assert_int_equal(stats().active, 2);
	run_ms(100); /* J = 64*T1 over UDP */
	assert_int_equal(stats().active, 0);
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKopt1", NULL, 1, NULL);
	assert_int_equal(F.nreq, 3); /* after J: a new request */

	/* over TCP J is zero */
	feed_req(SIP_TP_TCP, "OPTIONS", ";branch=z9hG4bKopt2", NULL, 2, NULL);
	assert_int_equal(stats().active, 2);
	assert_int_equal(sip_tsx_reply_code(F.stx, 200, NULL, "srv1", NULL, NULL, NULL, 0), 0);
	assert_int_equal(stats().active, 1);
	fx_teardown();
}

/* ---- CANCEL (§9.2) ---- */

static void test_server_cancel(void **state)
{
	struct sip_msg *m;

	(void)state;
	fx_setup(10, 40, 50, 0);
	F.set_cancelh = true;
	F.cancel_reply = 487;
	F.auto_code = 180;
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	assert_int_equal(F.nout, 1);
	feed_req(SIP_TP_UDP, "CANCEL", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	assert_int_equal(F.ncancel, 1);
	assert_ptr_equal(F.cancelled, F.stx);
	assert_int_equal(F.nreq, 1); /* the TU does not see the CANCEL itself */
	assert_int_equal(F.nout, 3);
	m = out_msg(1);
	assert_int_equal(m->scode, 200);
	assert_int_equal(m->cseq.mid, SIP_M_CANCEL);
	assert_true(pl_eq(m->to.tag, PL("srv1"))); /* the tag of the 180 */
	mem_deref(m);
	m = out_msg(2);
	assert_int_equal(m->scode, 487);
	assert_int_equal(m->cseq.mid, SIP_M_INVITE);
	mem_deref(m);
	/* a retransmitted CANCEL gets the same 200, the TU is not called again */
	feed_req(SIP_TP_UDP, "CANCEL", ";branch=z9hG4bKinv1", NULL, 1, NULL);
	assert_int_equal(F.ncancel, 1);
	assert_int_equal(F.nout, 4);
	assert_string_equal(F.out[3].text, F.out[1].text);
	/* the ACK for the 487 */
	feed_req(SIP_TP_UDP, "ACK", ";branch=z9hG4bKinv1", "srv1", 1, NULL);
	assert_int_equal(F.nack, 0);

	/* no match: 481 */
	feed_req(SIP_TP_UDP, "CANCEL", ";branch=z9hG4bKnone", NULL, 5, NULL);
	assert_int_equal(F.nout, 5);
	assert_int_equal(out_code(4), 481);
	assert_int_equal(F.ncancel, 1);

	/* without a cancel handler the layer sends 487 itself */
	F.set_cancelh = false;
	F.auto_code = 0;
	feed_req(SIP_TP_UDP, "INVITE", ";branch=z9hG4bKinv3", NULL, 3, NULL);
	feed_req(SIP_TP_UDP, "CANCEL", ";branch=z9hG4bKinv3", NULL, 3, NULL);
	assert_int_equal(F.nout, 7);
	assert_int_equal(out_code(5), 200);
	assert_int_equal(out_code(6), 487);
	/* after the final response a CANCEL has no effect but is answered 200 */
	feed_req(SIP_TP_UDP, "CANCEL", ";branch=z9hG4bKinv3", NULL, 3, NULL); /* retransmission */
	assert_int_equal(F.nout, 8);
	assert_int_equal(out_code(7), 200);
	fx_teardown();
}

/* ---- RFC 2543 matching (§17.2.3) ---- */

static void test_rfc2543_matching(void **state)
{
	(void)state;
	fx_setup(10, 40, 50, 0);
	feed_req(SIP_TP_UDP, "INVITE", "", NULL, 1, NULL); /* no branch at all */
	assert_int_equal(F.nreq, 1);
	struct sip_tsx *inv = F.stx;
	feed_req(SIP_TP_UDP, "INVITE", "", NULL, 1, NULL);
	assert_int_equal(F.nreq, 1); /* matched by R-URI, tags, Call-ID, CSeq, Via */
	assert_int_equal(F.nout, 1); /* and answered 100 */
	assert_int_equal(out_code(0), 100);
	feed_req(SIP_TP_UDP, "INVITE", "", NULL, 2, NULL); /* another CSeq: new */
	assert_int_equal(F.nreq, 2);
	assert_int_equal(sip_tsx_reply_code(F.stx, 200, NULL, "t2", NULL, NULL, NULL, 0), 0);
	feed_req(SIP_TP_UDP, "INVITE", ";branch=1234", NULL, 1, NULL); /* no cookie, other Via */
	assert_int_equal(F.nreq, 3);
	assert_int_equal(sip_tsx_reply_code(F.stx, 200, NULL, "t3", NULL, NULL, NULL, 0), 0);
	unsigned n = F.nout;

	assert_int_equal(sip_tsx_reply_code(inv, 404, NULL, "t1", NULL, NULL, NULL, 0), 0);
	assert_int_equal(F.nout, n + 1);
	run_ms(25);
	assert_true(F.nout >= n + 2); /* G */
	/* an ACK with another To tag is not for this transaction */
	feed_req(SIP_TP_UDP, "ACK", "", "zz", 1, "ACK");
	assert_int_equal(F.nack, 1);
	feed_req(SIP_TP_UDP, "ACK", "", "t1", 1, "ACK");
	assert_int_equal(F.nack, 1); /* absorbed: Confirmed */
	n = F.nout;
	run_ms(60);
	assert_int_equal(F.nout, n);
	/* a legacy CANCEL finds its INVITE (CSeq number, not method) */
	F.auto_code = 0;
	feed_req(SIP_TP_UDP, "INVITE", "", NULL, 9, NULL);
	assert_int_equal(F.nreq, 4);
	feed_req(SIP_TP_UDP, "CANCEL", "", NULL, 9, NULL);
	assert_int_equal(out_code(F.nout - 2), 200);
	assert_int_equal(out_code(F.nout - 1), 487);
	fx_teardown();
}

/* ---- max_tsx ---- */

static void test_max_tsx_503(void **state)
{
	struct sip_msg *m;
	struct sip_retry_after ra;

	(void)state;
	fx_setup(10, 40, 50, 2);
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKa", NULL, 1, NULL);
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKb", NULL, 2, NULL);
	assert_int_equal(F.nreq, 2);
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKc", NULL, 3, NULL);
	assert_int_equal(F.nreq, 2);
	assert_int_equal(F.nout, 1);
	m = out_msg(0);
	assert_int_equal(m->scode, 503);
	assert_true(m->to.tag.l > 0);
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_RETRY_AFTER);
	assert_non_null(h);
	assert_int_equal(sip_retry_after_decode(&ra, h->val), 0);
	assert_int_equal(ra.delta, 5);
	mem_deref(m);
	assert_int_equal(stats().rejected, 1);
	assert_int_equal(stats().active, 2);
	/* retransmissions of live transactions still match; ACK is never answered */
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKa", NULL, 1, NULL);
	feed_req(SIP_TP_UDP, "ACK", ";branch=z9hG4bKd", "x", 4, NULL);
	assert_int_equal(F.nout, 1);
	assert_int_equal(F.nack, 1);
	/* once one ends (J), new requests are taken again */
	assert_int_equal(sip_tsx_reply_code(F.stx, 200, NULL, "s", NULL, NULL, NULL, 0), 0);
	run_ms(700);
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKe", NULL, 5, NULL);
	assert_int_equal(F.nreq, 3);
	/* at the limit, requests in a dialog (BYE) still get in, up to twice the limit */
	feed_req(SIP_TP_UDP, "OPTIONS", ";branch=z9hG4bKf", NULL, 6, NULL);
	assert_int_equal(F.nreq, 3);
	feed_req(SIP_TP_UDP, "BYE", ";branch=z9hG4bKg", "x", 7, NULL);
	feed_req(SIP_TP_UDP, "BYE", ";branch=z9hG4bKh", "x", 8, NULL);
	assert_int_equal(F.nreq, 5);
	feed_req(SIP_TP_UDP, "BYE", ";branch=z9hG4bKi", "x", 9, NULL);
	assert_int_equal(F.nreq, 5);
	assert_int_equal(stats().rejected, 3);
	fx_teardown();
}

/* ---- over the real transport (loopback sockets) ---- */

static void real_request(struct sip_tsx_layer *tl, enum sip_transport t, const struct sa *from,
                         const struct sa *to, unsigned cseq)
{
	char buf[1024], br[32], h_to[SA_STRLEN], h_from[SA_STRLEN];

	sip_tsx_branch(br, sizeof(br));
	snprintf(buf, sizeof(buf),
	         "OPTIONS sip:%s SIP/2.0\r\n"
	         "Via: SIP/2.0/%s %s;branch=%s;rport\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: <sip:a@127.0.0.1>;tag=r1\r\n"
	         "To: <sip:b@127.0.0.1>\r\n"
	         "Call-ID: real-%u@127.0.0.1\r\n"
	         "CSeq: %u OPTIONS\r\n"
	         "Content-Length: 0\r\n\r\n",
	         sa_str(to, h_to, sizeof(h_to)), sip_tp_name(t),
	         sa_str(from, h_from, sizeof(h_from)), br, cseq, cseq);
	assert_int_equal(sip_tsx_request(NULL, tl, buf, strlen(buf), t, to, on_resp, &F), 0);
}

static void test_real_transport(void **state)
{
	struct sip_tsx_config cfg = {.t1_ms = 50};
	struct sip_tp_config tcfg = {0};
	struct sip_tsx_layer *ca, *sv;
	struct sip_tp *tca, *tsv;
	struct sa ca_udp, ca_tcp, sv_udp, sv_tcp;

	(void)state;
	memset(&F, 0, sizeof(F));
	F.auto_code = 200;
	assert_int_equal(loop_alloc(&F.loop), 0);
	assert_int_equal(sip_tsx_layer_alloc(&ca, F.loop, NULL, &cfg, NULL, NULL), 0);
	assert_int_equal(sip_tsx_layer_alloc(&sv, F.loop, NULL, &cfg, on_req, &F), 0);
	assert_int_equal(sip_tp_alloc(&tca, F.loop, &tcfg, sip_tsx_tp_recv, sip_tsx_tp_err, ca), 0);
	assert_int_equal(sip_tp_alloc(&tsv, F.loop, &tcfg, sip_tsx_tp_recv, sip_tsx_tp_err, sv), 0);
	sip_tsx_layer_set_tp(ca, tca);
	sip_tsx_layer_set_tp(sv, tsv);
	assert_int_equal(sa_set_str(&ca_udp, "127.0.0.1", 0), 0);
	ca_tcp = sv_udp = sv_tcp = ca_udp;
	assert_int_equal(sip_tp_listen(tca, SIP_TP_UDP, &ca_udp), 0);
	assert_int_equal(sip_tp_listen(tca, SIP_TP_TCP, &ca_tcp), 0);
	assert_int_equal(sip_tp_listen(tsv, SIP_TP_UDP, &sv_udp), 0);
	assert_int_equal(sip_tp_listen(tsv, SIP_TP_TCP, &sv_tcp), 0);

	real_request(ca, SIP_TP_UDP, &ca_udp, &sv_udp, 1);
	run_until(&F.nresp, 2000);
	assert_int_equal(F.nreq, 1);
	assert_int_equal(F.nresp, 1);
	assert_int_equal(F.codes[0], 200);

	real_request(ca, SIP_TP_TCP, &ca_tcp, &sv_tcp, 2);
	run_until(&F.nresp, 2000);
	assert_int_equal(F.nreq, 2);
	assert_int_equal(F.nresp, 2);
	assert_int_equal(F.codes[1], 200);

	/* nobody listens there: over TCP the connect fails, the transaction errs */
	struct sa dead = sv_tcp;
	sa_set_port(&dead, 1);
	real_request(ca, SIP_TP_TCP, &ca_tcp, &dead, 3);
	run_until(&F.nerr, 2000);
	assert_int_equal(F.nerr, 1);
	assert_int_not_equal(F.err, ETIMEDOUT);
	print_message("tcp to a closed port: err %d (%s)\n", F.err, strerror(F.err));

	sip_tsx_layer_free(ca);
	sip_tsx_layer_free(sv);
	sip_tp_free(tca);
	sip_tp_free(tsv);
	loop_free(F.loop);
}

static void test_branch(void **state)
{
	char a[32], b[32];

	(void)state;
	sip_tsx_branch(a, sizeof(a));
	sip_tsx_branch(b, sizeof(b));
	assert_int_equal(strncmp(a, "z9hG4bK", 7), 0);
	assert_true(strlen(a) > 16);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_branch),
	    cmocka_unit_test(test_ict_udp_retransmit_timer_b),
	    cmocka_unit_test(test_ict_tcp_no_retransmit),
	    cmocka_unit_test(test_ict_non2xx_ack),
	    cmocka_unit_test(test_ict_2xx_accepted),
	    cmocka_unit_test(test_nict_timer_e_f),
	    cmocka_unit_test(test_nict_proceeding_t2_and_k),
	    cmocka_unit_test(test_nict_tcp_k_zero),
	    cmocka_unit_test(test_client_transport_errors),
	    cmocka_unit_test(test_client_cancel),
	    cmocka_unit_test(test_ist_trying_g_h_ack),
	    cmocka_unit_test(test_ist_tu_answers_fast_tcp),
	    cmocka_unit_test(test_ist_accepted),
	    cmocka_unit_test(test_server_transport_errors),
	    cmocka_unit_test(test_nist_retransmit_and_j),
	    cmocka_unit_test(test_server_cancel),
	    cmocka_unit_test(test_rfc2543_matching),
	    cmocka_unit_test(test_max_tsx_503),
	    cmocka_unit_test(test_real_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
