/*
 * Unit tests for gateway/sip/event and the UA's dialog usages: SUBSCRIBE/
 * NOTIFY both sides (RFC 6665: 489, 423, Expires, refresh, expiry,
 * unsubscribe, NOTIFY before the 2xx, 481), REFER in a session (RFC 3515:
 * 202, NOTIFY sipfrag sequence, Refer-Sub: false per RFC 4488, Replaces in
 * Refer-To), INFO (RFC 6086: dtmf-relay delivered, 415, 469), MESSAGE both
 * ways (RFC 3428), PUBLISH refused with 405. Over loopback UDP: the UA
 * listens on 127.0.0.1 and a plain socket plays the peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "core/sa.h"
#include "sip/event/event.h"
#include "sip/msg/msg.h"
#include "sip/ua/ua.h"

struct env {
	struct loop *loop;
	struct sip_ua *ua;
	struct sip_events *ev;
	int fd;
	uint16_t port, ua_port;
	struct sa ua_addr;
	unsigned branch;
	/* app side */
	struct sip_sess *sess;
	struct sip_evsub *sub;
	unsigned subscribes, notify_now, notifies, closed, responses, sipfrags, refers, infos,
	    info_resps, messages;
	uint16_t last_code, sipfrag_codes[8], info_code, info_resp_code;
	int closed_err;
	char closed_reason[32];
	char info_ctype[64], info_body[64], info_pkg[16];
	char refer_uri[128], repl_callid[64], repl_to[32], repl_from[32];
	bool refer_has_repl, refer_had_sub;
	uint16_t refer_answer;
	uint16_t info_answer;
	uint16_t sub_answer;
	bool term_in_handler;
	char last_branch[64]; /* of the last request peer_wait_req returned */
};

static char *crlf(const char *text, size_t *lenp)
{
	size_t n = strlen(text), o = 0;
	char *b = mem_zalloc(2 * n + 1, NULL);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			b[o++] = '\r';
		b[o++] = text[i];
	}
	*lenp = o;
	return b;
}

static const char *const info_pkgs[] = {"dtmf", NULL};

static const char sdp[] = "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                          "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

static void env_up(struct env *e)
{
	struct sip_ua_config cfg = {0};
	struct sa a;
	socklen_t sl = sizeof(a.u.ss);

	memset(e, 0, sizeof(*e));
	assert_int_equal(loop_alloc(&e->loop), 0);
	cfg.nlisten = 1;
	cfg.listen[0].tp = SIP_TP_UDP;
	sa_set_str(&cfg.listen[0].addr, "127.0.0.1", 0);
	cfg.t1_ms = 50;
	cfg.t2_ms = 200;
	cfg.t4_ms = 250;
	cfg.no_session_timer = true;
	cfg.info_packages = info_pkgs;
	assert_int_equal(sip_ua_alloc(&e->ua, e->loop, &cfg), 0);
	assert_int_equal(sip_event_alloc(&e->ev, e->ua), 0);
	assert_int_equal(sip_ua_local(e->ua, SIP_TP_UDP, AF_INET, &e->ua_addr), 0);
	e->ua_port = sa_port(&e->ua_addr);
	e->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(e->fd >= 0);
	sa_set_str(&a, "127.0.0.1", 0);
	assert_int_equal(bind(e->fd, &a.u.sa, a.len), 0);
	assert_int_equal(getsockname(e->fd, &a.u.sa, &sl), 0);
	e->port = sa_port(&a);
}

static void env_down(struct env *e)
{
	if (e->ev)
		sip_event_free(e->ev);
	sip_ua_free(e->ua);
	for (int i = 0; i < 3; i++)
		loop_run_once(e->loop, 0);
	loop_free(e->loop);
	close(e->fd);
}

/* Sends text with "%P" replaced by our port and "%U" by the UA's. */
static void peer_send(struct env *e, const char *tmpl)
{
	char text[4096], *o = text;
	size_t len;
	char *b;

	for (const char *p = tmpl; *p && o < text + sizeof(text) - 8; p++) {
		if (p[0] == '%' && (p[1] == 'P' || p[1] == 'U')) {
			o += sprintf(o, "%u", p[1] == 'P' ? e->port : e->ua_port);
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	b = crlf(text, &len);
	assert_int_equal(sendto(e->fd, b, len, 0, &e->ua_addr.u.sa, e->ua_addr.len), (ssize_t)len);
	mem_deref(b);
}

static struct sip_msg *peer_recv(struct env *e, int timeout_ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)timeout_ms;
	struct pollfd pfd = {.fd = e->fd, .events = POLLIN};

	do {
		if (poll(&pfd, 1, 0) == 1) {
			char *buf = mem_zalloc(65536, NULL);
			struct sip_msg *m = NULL;
			ssize_t n = recv(e->fd, buf, 65535, 0);
			assert_true(n > 0);
			assert_int_equal(sip_msg_decode(&m, buf, (size_t)n, false, buf, NULL), 0);
			mem_deref(buf);
			return m;
		}
		loop_run_once(e->loop, 5);
	} while (loop_clock_ms() < end);
	return NULL;
}

static struct sip_msg *peer_wait_req(struct env *e, enum sip_method m, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;
	struct sip_msg *x;

	while (loop_clock_ms() < end) {
		x = peer_recv(e, (int)(end - loop_clock_ms()) + 1);
		if (!x)
			return NULL;
		/* a retransmission of the request returned last is not a new one */
		if (x->req && x->mid == m &&
		    !pl_eq(x->via.branch, pl_make(e->last_branch, strlen(e->last_branch)))) {
			pl_strcpy(x->via.branch, e->last_branch, sizeof(e->last_branch));
			return x;
		}
		mem_deref(x);
	}
	return NULL;
}

/* The next request of method m with a CSeq other than old (retransmissions skipped). */
static struct sip_msg *peer_wait_new_req(struct env *e, enum sip_method m, uint32_t old, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;
	struct sip_msg *x;

	while (loop_clock_ms() < end) {
		x = peer_wait_req(e, m, (int)(end - loop_clock_ms()) + 1);
		if (!x || x->cseq.num != old)
			return x;
		mem_deref(x);
	}
	return NULL;
}

static struct sip_msg *peer_wait_resp(struct env *e, enum sip_method m, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;
	struct sip_msg *x;

	while (loop_clock_ms() < end) {
		x = peer_recv(e, (int)(end - loop_clock_ms()) + 1);
		if (!x)
			return NULL;
		if (!x->req && x->cseq.mid == m && x->scode >= 200)
			return x;
		mem_deref(x);
	}
	return NULL;
}

static void run_for(struct env *e, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	while (loop_clock_ms() < end)
		loop_run_once(e->loop, 5);
}

/* Answers req (To tag "peer" added when absent). */
static void peer_reply(struct env *e, const struct sip_msg *req, uint16_t code, const char *extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
	         "SIP/2.0 %u Whatever\nVia: %.*s\nFrom: %.*s\nTo: %.*s%s\nCall-ID: %.*s\n"
	         "CSeq: %u %.*s\nContact: <sip:peer@127.0.0.1:%%P>\n%sContent-Length: 0\n\n",
	         code, PL_ARG(sip_msg_hdr(req, SIP_HDR_VIA)->val), PL_ARG(req->from.val),
	         PL_ARG(req->to.val), req->to.tag.l ? "" : ";tag=peer", PL_ARG(req->callid),
	         req->cseq.num, PL_ARG(req->cseq.method), extra ? extra : "");
	peer_send(e, text);
}

/* A request from the peer: from/to values as given. */
static void peer_req(struct env *e, const char *method, const char *from, const char *to,
                     struct pl callid, uint32_t cseq, const char *extra, const char *ctype,
                     const char *body)
{
	char text[4096];

	snprintf(text, sizeof(text),
	         "%s sip:ua@127.0.0.1:%%U SIP/2.0\nVia: SIP/2.0/UDP "
	         "127.0.0.1:%%P;branch=z9hG4bKp%u;rport\n"
	         "Max-Forwards: 70\nFrom: %s\nTo: %s\nCall-ID: %.*s\nCSeq: %u %s\n"
	         "Contact: <sip:peer@127.0.0.1:%%P>\n%s%s%s%sContent-Length: %zu\n\n%s",
	         method, ++e->branch, from, to, PL_ARG(callid), cseq, method, extra ? extra : "",
	         ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\n" : "",
	         body ? strlen(body) : 0, body ? body : "");
	peer_send(e, text);
}

/* In a dialog the UA created as UAC (SUBSCRIBE it sent): From/To swapped. */
static void peer_req_rev(struct env *e, const struct sip_msg *ua_req, const char *method,
                         uint32_t cseq, const char *extra, const char *ctype, const char *body)
{
	char from[256], to[256];

	snprintf(from, sizeof(from), "%.*s%s", PL_ARG(ua_req->to.val),
	         ua_req->to.tag.l ? "" : ";tag=peer");
	pl_strcpy(ua_req->from.val, to, sizeof(to));
	peer_req(e, method, from, to, ua_req->callid, cseq, extra, ctype, body);
}

/* In the dialog of the peer's INVITE (ok: the UA's 2xx). */
static void peer_in(struct env *e, const struct sip_msg *ok, const char *method, uint32_t cseq,
                    const char *extra, const char *ctype, const char *body)
{
	char from[256], to[256];

	pl_strcpy(ok->from.val, from, sizeof(from));
	pl_strcpy(ok->to.val, to, sizeof(to));
	peer_req(e, method, from, to, ok->callid, cseq, extra, ctype, body);
}

static bool hdr_has(const struct sip_msg *m, enum sip_hdr_id id, const char *text)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	return h && memmem(h->val.p, h->val.l, text, strlen(text));
}

/* ---- notifier ---- */

static uint16_t pkg_subscribe(struct sip_evsub *sub, const struct sip_msg *msg, bool initial,
                              void *arg);
static void pkg_notify_now(struct sip_evsub *sub, void *arg);

static void sub_closed(struct sip_evsub *sub, int err, uint16_t code, const char *reason, void *arg)
{
	struct env *e = arg;

	e->closed++;
	e->closed_err = err;
	e->last_code = code;
	snprintf(e->closed_reason, sizeof(e->closed_reason), "%s", reason ? reason : "");
	if (e->sub == sub)
		e->sub = NULL;
}

static uint16_t sub_notify(struct sip_evsub *sub, const struct sip_substate *ss,
                           const struct sip_msg *msg, void *arg)
{
	struct env *e = arg;

	e->notifies++;
	return 200;
}

static void sub_response(struct sip_evsub *sub, uint16_t code, const struct sip_msg *resp,
                         void *arg)
{
	struct env *e = arg;

	e->responses++;
	e->last_code = code;
}

static void sub_sipfrag(struct sip_evsub *sub, uint16_t code, void *arg)
{
	struct env *e = arg;

	if (e->sipfrags < 8)
		e->sipfrag_codes[e->sipfrags] = code;
	e->sipfrags++;
}

static const struct sip_evsub_handlers sub_h = {
    .response = sub_response,
    .notify = sub_notify,
    .sipfrag = sub_sipfrag,
    .closed = sub_closed,
};

static uint16_t pkg_subscribe(struct sip_evsub *sub, const struct sip_msg *msg, bool initial,
                              void *arg)
{
	struct env *e = arg;

	e->subscribes++;
	if (e->sub_answer >= 300)
		return e->sub_answer;
	if (initial) {
		e->sub = sub;
		sip_evsub_set_handlers(sub, &sub_h, e);
	}
	if (e->term_in_handler) /* accepted, and ended at once */
		assert_int_equal(sip_evsub_terminate(sub, "rejected", NULL, NULL, 0), 0);
	return e->sub_answer ? e->sub_answer : 200;
}

static void pkg_notify_now(struct sip_evsub *sub, void *arg)
{
	struct env *e = arg;
	const char *body =
	    sip_evsub_state(sub) == SIP_EVSUB_TERMINATED ? "state=gone\r\n" : "state=here\r\n";

	e->notify_now++;
	assert_int_equal(sip_evsub_notify(sub, "text/plain", body, strlen(body)), 0);
}

static void register_dialog_pkg(struct env *e)
{
	struct sip_event_package p = {
	    .name = "dialog",
	    .min_expires = 2,
	    .max_expires = 10,
	    .default_expires = 5,
	    .subscribe = pkg_subscribe,
	    .notify_now = pkg_notify_now,
	    .arg = e,
	};

	assert_int_equal(sip_event_register(e->ev, &p), 0);
}

static void subscribe_req(struct env *e, const char *callid, const char *tag, const char *to_tag,
                          uint32_t cseq, const char *event, const char *expires)
{
	char from[128], to[128], extra[256];

	snprintf(from, sizeof(from), "<sip:watcher@127.0.0.1>;tag=%s", tag);
	snprintf(to, sizeof(to), "<sip:ua@127.0.0.1>%s%s", to_tag ? ";tag=" : "",
	         to_tag ? to_tag : "");
	snprintf(extra, sizeof(extra), "Event: %s\n%s%s%s", event, expires ? "Expires: " : "",
	         expires ? expires : "", expires ? "\n" : "");
	peer_req(e, "SUBSCRIBE", from, to, pl_make(callid, strlen(callid)), cseq, extra, NULL,
	         NULL);
}

static void test_notifier_lifecycle(void **state)
{
	struct env e;
	struct sip_msg *m, *ok, *n;
	char totag[40];
	uint32_t v;

	(void)state;
	env_up(&e);
	register_dialog_pkg(&e);
	/* a package nobody registered: 489 with Allow-Events */
	subscribe_req(&e, "s0@test", "w0", NULL, 1, "presence", "5");
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 489);
	assert_true(sip_msg_has_token(m, SIP_HDR_ALLOW_EVENTS, "dialog"));
	mem_deref(m);
	/* too short: 423 with Min-Expires */
	subscribe_req(&e, "s1@test", "w1", NULL, 1, "dialog", "1");
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 423);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_MIN_EXPIRES));
	assert_int_equal(sip_u32_decode(&v, sip_msg_hdr(m, SIP_HDR_MIN_EXPIRES)->val), 0);
	assert_int_equal(v, 2);
	mem_deref(m);
	assert_int_equal(e.subscribes, 0);
	/* too long: lowered to the maximum; 200 with Contact, then NOTIFY active */
	subscribe_req(&e, "s2@test", "w2", NULL, 1, "dialog;id=7", "3600");
	ok = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(ok);
	assert_int_equal(ok->scode, 200);
	assert_non_null(sip_msg_hdr(ok, SIP_HDR_CONTACT));
	assert_int_equal(sip_u32_decode(&v, sip_msg_hdr(ok, SIP_HDR_EXPIRES)->val), 0);
	assert_int_equal(v, 10);
	pl_strcpy(ok->to.tag, totag, sizeof(totag));
	assert_int_equal(e.subscribes, 1);
	assert_non_null(e.sub);
	assert_int_equal(sip_evsub_state(e.sub), SIP_EVSUB_ACTIVE);
	assert_string_equal(sip_evsub_id(e.sub), "7");
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	assert_true(hdr_has(n, SIP_HDR_EVENT, "dialog"));
	assert_true(hdr_has(n, SIP_HDR_EVENT, "id=7"));
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "active;expires="));
	assert_true(pl_eq(n->body, PL("state=here\r\n")));
	assert_true(pl_eq(n->from.tag, pl_make(totag, strlen(totag)))); /* in the new dialog */
	assert_true(pl_eq(n->to.tag, PL("w2")));
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	/* refresh in the dialog, too short: 423; then a good one: 200 + NOTIFY */
	subscribe_req(&e, "s2@test", "w2", totag, 2, "dialog;id=7", "1");
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 423);
	mem_deref(m);
	subscribe_req(&e, "s2@test", "w2", totag, 3, "dialog;id=7", "2");
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	assert_int_equal(sip_u32_decode(&v, sip_msg_hdr(m, SIP_HDR_EXPIRES)->val), 0);
	assert_int_equal(v, 2);
	mem_deref(m);
	assert_int_equal(e.subscribes, 2);
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "active;expires=2"));
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	/* a mismatched event id in the dialog: 481 */
	subscribe_req(&e, "s2@test", "w2", totag, 4, "dialog;id=8", "2");
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 481);
	mem_deref(m);
	/* not refreshed: expiry after 2 s -> NOTIFY terminated;reason=timeout */
	uint64_t t0 = loop_clock_ms();
	n = peer_wait_req(&e, SIP_M_NOTIFY, 4000);
	assert_non_null(n);
	assert_true(loop_clock_ms() - t0 >= 1500);
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "terminated;reason=timeout"));
	assert_true(pl_eq(n->body, PL("state=gone\r\n")));
	assert_int_equal(e.closed, 0);
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	run_for(&e, 50);
	assert_int_equal(e.closed, 1);
	assert_string_equal(e.closed_reason, "timeout");
	assert_null(e.sub);
	/* the dialog is gone: a refresh now gets 481 */
	subscribe_req(&e, "s2@test", "w2", totag, 5, "dialog;id=7", "2");
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 481);
	mem_deref(m);
	mem_deref(ok);

	/* unsubscribe: Expires: 0 -> 200 and a final NOTIFY */
	subscribe_req(&e, "s3@test", "w3", NULL, 1, "dialog", NULL);
	ok = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(ok);
	assert_int_equal(ok->scode, 200);
	assert_int_equal(sip_u32_decode(&v, sip_msg_hdr(ok, SIP_HDR_EXPIRES)->val), 0);
	assert_int_equal(v, 5); /* the package default */
	pl_strcpy(ok->to.tag, totag, sizeof(totag));
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	subscribe_req(&e, "s3@test", "w3", totag, 2, "dialog", "0");
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "terminated"));
	/* the subscriber forgot it: 481 ends it at once */
	peer_reply(&e, n, 481, NULL);
	mem_deref(n);
	run_for(&e, 50);
	assert_int_equal(e.closed, 2);
	mem_deref(ok);

	/* a NOTIFY for no subscription we have: 481 */
	peer_req(&e, "NOTIFY", "<sip:x@127.0.0.1>;tag=zz", "<sip:ua@127.0.0.1>;tag=nosuch",
	         PL("nosub@test"), 1, "Event: dialog\nSubscription-State: active\n", NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 481);
	mem_deref(m);
	env_down(&e);
}

static void on_new_sess_plain(struct sip_sess *s, const struct sip_msg *invite, void *arg);

/* 202 (pending) then authorised; the application ends it; refusals. */
static void test_notifier_pending_terminate(void **state)
{
	struct env e;
	struct sip_msg *m, *ok, *n;

	(void)state;
	env_up(&e);
	register_dialog_pkg(&e);
	/* no Event header: 400 */
	peer_req(&e, "SUBSCRIBE", "<sip:w@127.0.0.1>;tag=x0", "<sip:ua@127.0.0.1>", PL("p0@test"),
	         1, "Expires: 5\n", NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 400);
	mem_deref(m);
	/* refused by the package: its status, no NOTIFY, no subscription left */
	e.sub_answer = 403;
	subscribe_req(&e, "p1@test", "x1", NULL, 1, "dialog", "5");
	m = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 403);
	mem_deref(m);
	assert_null(peer_recv(&e, 100));
	assert_int_equal(e.closed, 0);
	/* pending: 202 and NOTIFY pending */
	e.sub_answer = 202;
	subscribe_req(&e, "p2@test", "x2", NULL, 1, "dialog", "5");
	ok = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(ok);
	assert_int_equal(ok->scode, 202);
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "pending;expires="));
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	assert_non_null(e.sub);
	assert_int_equal(sip_evsub_state(e.sub), SIP_EVSUB_PENDING);
	/* authorised later: active */
	sip_evsub_set_state(e.sub, SIP_EVSUB_ACTIVE);
	assert_int_equal(sip_evsub_notify(e.sub, "text/plain", "on", 2), 0);
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "active;expires="));
	assert_true(pl_eq(n->body, PL("on")));
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	run_for(&e, 20);
	/* the application ends it: terminated;reason=rejected, closed after the 200 */
	assert_int_equal(sip_evsub_terminate(e.sub, "rejected", NULL, NULL, 0), 0);
	assert_int_equal(sip_evsub_notify(e.sub, NULL, NULL, 0), EINVAL); /* nothing after */
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "terminated;reason=rejected"));
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	run_for(&e, 30);
	assert_int_equal(e.closed, 1);
	assert_string_equal(e.closed_reason, "rejected");
	mem_deref(ok);
	/* ended from inside the subscribe handler: 200, then the final NOTIFY only */
	e.sub_answer = 200;
	e.term_in_handler = true;
	subscribe_req(&e, "p3@test", "x3", NULL, 1, "dialog", "5");
	ok = peer_wait_resp(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(ok);
	assert_int_equal(ok->scode, 200);
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "terminated;reason=rejected"));
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	run_for(&e, 100);
	assert_int_equal(e.closed, 2);
	assert_null(peer_recv(&e, 100)); /* nothing more */
	mem_deref(ok);
	env_down(&e);
}

/* Without an event layer the UA does not take NOTIFY or REFER: 405 with Allow. */
static void test_no_event_layer(void **state)
{
	struct env e;
	struct sip_msg *ok, *m;

	(void)state;
	env_up(&e);
	sip_event_free(e.ev);
	e.ev = NULL;
	ok = NULL;
	sip_ua_set_sess_handler(e.ua, NULL, NULL);
	/* peer_call checks Allow for REFER: do it by hand */
	sip_ua_set_sess_handler(e.ua, on_new_sess_plain, &e);
	peer_req(&e, "INVITE", "<sip:t@127.0.0.1>;tag=nl", "<sip:ua@127.0.0.1>", PL("nolayer@test"),
	         1, NULL, "application/sdp", sdp);
	ok = peer_wait_resp(&e, SIP_M_INVITE, 2000);
	assert_non_null(ok);
	assert_false(sip_msg_has_token(ok, SIP_HDR_ALLOW, "REFER"));
	assert_false(sip_msg_has_token(ok, SIP_HDR_ALLOW, "SUBSCRIBE"));
	peer_in(&e, ok, "ACK", 1, NULL, NULL, NULL);
	peer_in(&e, ok, "NOTIFY", 2, "Event: refer;id=1\nSubscription-State: active\n", NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 405);
	assert_true(sip_msg_has_token(m, SIP_HDR_ALLOW, "INFO"));
	mem_deref(m);
	peer_in(&e, ok, "REFER", 3, "Refer-To: <sip:c@127.0.0.1>\n", NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_REFER, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 405);
	mem_deref(m);
	mem_deref(ok);
	env_down(&e);
}

/* ---- subscriber ---- */

static void start_sub(struct env *e, uint32_t expires)
{
	struct sip_evsub_opts o = {0};
	char target[64];

	snprintf(target, sizeof(target), "sip:res@127.0.0.1:%u", e->port);
	o.target = target;
	o.from = "<sip:ua@127.0.0.1>";
	o.package = "dialog";
	o.id = "a1";
	o.expires = expires;
	o.accept = "application/dialog-info+xml";
	assert_int_equal(sip_evsub_subscribe(&e->sub, e->ev, &o, &sub_h, e), 0);
}

static void test_subscriber_lifecycle(void **state)
{
	struct env e;
	struct sip_msg *s1, *s2, *m;
	uint32_t v;

	(void)state;
	env_up(&e);
	start_sub(&e, 1);
	s1 = peer_wait_req(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(s1);
	assert_true(hdr_has(s1, SIP_HDR_EVENT, "dialog;id=a1"));
	assert_int_equal(sip_u32_decode(&v, sip_msg_hdr(s1, SIP_HDR_EXPIRES)->val), 0);
	assert_int_equal(v, 1);
	assert_non_null(sip_msg_hdr(s1, SIP_HDR_ACCEPT));
	assert_non_null(sip_msg_hdr(s1, SIP_HDR_CONTACT));
	assert_int_equal(s1->to.tag.l, 0);
	/* 423: the UA retries with the Min-Expires value, same Call-ID, higher CSeq */
	peer_reply(&e, s1, 423, "Min-Expires: 2\n");
	s2 = peer_wait_req(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(s2);
	assert_int_equal(sip_u32_decode(&v, sip_msg_hdr(s2, SIP_HDR_EXPIRES)->val), 0);
	assert_int_equal(v, 2);
	assert_true(pl_eq(s2->callid, s1->callid));
	assert_true(s2->cseq.num > s1->cseq.num);
	assert_int_equal(e.closed, 0);
	/* 200 Expires: 2, then NOTIFY active */
	peer_reply(&e, s2, 200, "Expires: 2\n");
	run_for(&e, 30);
	assert_int_equal(e.last_code, 200);
	assert_int_equal(sip_evsub_state(e.sub), SIP_EVSUB_PENDING);
	peer_req_rev(&e, s2, "NOTIFY", 1,
	             "Event: dialog;id=a1\nSubscription-State: active;expires=2\n",
	             "application/dialog-info+xml", "<x/>");
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	assert_int_equal(e.notifies, 1);
	assert_int_equal(sip_evsub_state(e.sub), SIP_EVSUB_ACTIVE);
	mem_deref(m);
	/* a NOTIFY for another event id in the same dialog: 481 (no such subscription) */
	peer_req_rev(&e, s2, "NOTIFY", 2, "Event: dialog;id=zz\nSubscription-State: active\n", NULL,
	             NULL);
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 481);
	mem_deref(m);
	/* refresh before expiry (half of 2 s): in the dialog, with our tag pair */
	uint64_t t0 = loop_clock_ms();
	m = peer_wait_req(&e, SIP_M_SUBSCRIBE, 3000);
	assert_non_null(m);
	assert_true(loop_clock_ms() - t0 < 1900);
	assert_true(pl_eq(m->to.tag, PL("peer")));
	assert_true(pl_eq(m->from.tag, s1->from.tag));
	assert_true(pl_eq(m->ruri_pl, PL("sip:peer@127.0.0.1")) || m->ruri.port == e.port);
	peer_reply(&e, m, 200, "Expires: 2\n");
	mem_deref(m);
	run_for(&e, 30);
	/* unsubscribe: Expires: 0, then the final NOTIFY closes it */
	assert_int_equal(sip_evsub_unsubscribe(e.sub), 0);
	m = peer_wait_req(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(m);
	assert_int_equal(sip_u32_decode(&v, sip_msg_hdr(m, SIP_HDR_EXPIRES)->val), 0);
	assert_int_equal(v, 0);
	peer_reply(&e, m, 200, "Expires: 0\n");
	mem_deref(m);
	run_for(&e, 30);
	assert_int_equal(e.closed, 0);
	peer_req_rev(&e, s2, "NOTIFY", 3,
	             "Event: dialog;id=a1\nSubscription-State: terminated;reason=timeout\n", NULL,
	             NULL);
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	assert_int_equal(e.closed, 1);
	assert_string_equal(e.closed_reason, "timeout");
	assert_null(e.sub);
	mem_deref(s1);
	mem_deref(s2);

	/* a 2xx and then no NOTIFY within 64*T1 (3.2 s): failed (§4.1.2.4) */
	start_sub(&e, 60);
	s1 = peer_wait_req(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(s1);
	peer_reply(&e, s1, 200, "Expires: 60\n");
	run_for(&e, 2500);
	assert_int_equal(e.closed, 1);
	run_for(&e, 1000);
	assert_int_equal(e.closed, 2);
	assert_int_equal(e.closed_err, ETIMEDOUT);
	mem_deref(s1);

	/* 489 from the notifier ends the subscription with that code */
	start_sub(&e, 60);
	s1 = peer_wait_req(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(s1);
	peer_reply(&e, s1, 489, "Allow-Events: presence\n");
	run_for(&e, 50);
	assert_int_equal(e.closed, 3);
	assert_int_equal(e.last_code, 489);
	mem_deref(s1);
	env_down(&e);
}

/* §4.1.2.4: the NOTIFY overtakes the 2xx and creates the dialog. */
static void test_notify_before_2xx(void **state)
{
	struct env e;
	struct sip_msg *s1, *m;

	(void)state;
	env_up(&e);
	start_sub(&e, 60);
	s1 = peer_wait_req(&e, SIP_M_SUBSCRIBE, 2000);
	assert_non_null(s1);
	peer_req_rev(&e, s1, "NOTIFY", 10,
	             "Event: dialog;id=a1\nSubscription-State: pending;expires=60\n", NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	assert_true(pl_eq(m->to.tag, s1->from.tag));
	mem_deref(m);
	assert_int_equal(e.notifies, 1);
	assert_int_equal(sip_evsub_state(e.sub), SIP_EVSUB_PENDING);
	assert_string_equal(sip_dialog_remote_tag(sip_evsub_dialog(e.sub)), "peer");
	/* the 2xx arrives after: same dialog, nothing breaks */
	peer_reply(&e, s1, 202, "Expires: 60\n");
	run_for(&e, 30);
	assert_int_equal(e.responses, 1);
	assert_int_equal(e.last_code, 202);
	/* a stale CSeq in the dialog: 500 from the UA's dialog check */
	peer_req_rev(&e, s1, "NOTIFY", 9, "Event: dialog;id=a1\nSubscription-State: active\n", NULL,
	             NULL);
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 500);
	mem_deref(m);
	peer_req_rev(&e, s1, "NOTIFY", 11, "Event: dialog;id=a1\nSubscription-State: active\n",
	             NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	assert_int_equal(sip_evsub_state(e.sub), SIP_EVSUB_ACTIVE);
	assert_int_equal(e.notifies, 2);
	/* NOTIFY with the wrong local tag: no dialog, no early subscription -> 481 */
	peer_req(&e, "NOTIFY", "<sip:res@127.0.0.1>;tag=other", "<sip:ua@127.0.0.1>;tag=wrong",
	         s1->callid, 1, "Event: dialog;id=a1\nSubscription-State: active\n", NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 481);
	mem_deref(m);
	mem_deref(s1);
	sip_evsub_close(e.sub);
	env_down(&e);
}

/* ---- sessions: REFER, INFO ---- */

static uint16_t on_info(struct sip_sess *s, struct pl package, const struct sip_msg *msg, void *arg)
{
	struct env *e = arg;
	const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);

	e->infos++;
	pl_strcpy(package, e->info_pkg, sizeof(e->info_pkg));
	if (ct)
		pl_strcpy(ct->val, e->info_ctype, sizeof(e->info_ctype));
	pl_strcpy(msg->body, e->info_body, sizeof(e->info_body));
	return e->info_answer ? e->info_answer : 200;
}

static void on_info_resp(struct sip_sess *s, int err, uint16_t code, void *arg)
{
	struct env *e = arg;

	e->info_resps++;
	e->info_resp_code = code;
}

static void on_closed(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg)
{
	struct env *e = arg;

	e->sess = NULL;
}

static const struct sip_sess_handlers sess_h = {
    .closed = on_closed,
    .info = on_info,
    .info_resp = on_info_resp,
};

static void on_new_sess(struct sip_sess *s, const struct sip_msg *invite, void *arg)
{
	struct env *e = arg;

	e->sess = s;
	sip_sess_set_handlers(s, &sess_h, e);
	assert_int_equal(sip_sess_answer(s, NULL, sdp, strlen(sdp)), 0);
}

static void on_new_sess_plain(struct sip_sess *s, const struct sip_msg *invite, void *arg)
{
	struct env *e = arg;

	e->sess = s;
	sip_sess_set_handlers(s, &sess_h, e);
	assert_int_equal(sip_sess_answer(s, NULL, sdp, strlen(sdp)), 0);
}

/* INVITE from the peer, answered, ACKed: returns the 200 (From = peer, To = UA). */
static struct sip_msg *peer_call(struct env *e, const char *callid)
{
	struct sip_msg *ok;
	char from[64];

	sip_ua_set_sess_handler(e->ua, on_new_sess, e);
	snprintf(from, sizeof(from), "<sip:t@127.0.0.1>;tag=ft%s", callid);
	peer_req(e, "INVITE", from, "<sip:ua@127.0.0.1>", pl_make(callid, strlen(callid)), 1, NULL,
	         "application/sdp", sdp);
	ok = peer_wait_resp(e, SIP_M_INVITE, 2000);
	assert_non_null(ok);
	assert_int_equal(ok->scode, 200);
	assert_true(sip_msg_has_token(ok, SIP_HDR_ALLOW, "REFER"));
	assert_true(sip_msg_has_token(ok, SIP_HDR_ALLOW, "INFO"));
	assert_non_null(sip_msg_hdr_name(ok, "Recv-Info")); /* RFC 6086 §5.2.3 */
	peer_in(e, ok, "ACK", 1, NULL, NULL, NULL);
	run_for(e, 30);
	assert_int_equal(sip_sess_state(e->sess), SIP_SESS_ESTABLISHED);
	return ok;
}

static struct sip_evsub *refer_sub; /* the recipient's implicit subscription */

static uint16_t on_refer(struct sip_sess *sess, struct sip_evsub *sub,
                         const struct sip_refer_to *rt, const struct sip_msg *msg, void *arg)
{
	struct env *e = arg;

	e->refers++;
	e->refer_had_sub = sub != NULL;
	refer_sub = sub;
	pl_strcpy(rt->addr.uri_pl, e->refer_uri, sizeof(e->refer_uri));
	e->refer_has_repl = rt->has_replaces;
	if (rt->has_replaces) {
		pl_strcpy(rt->repl.callid, e->repl_callid, sizeof(e->repl_callid));
		pl_strcpy(rt->repl.to_tag, e->repl_to, sizeof(e->repl_to));
		pl_strcpy(rt->repl.from_tag, e->repl_from, sizeof(e->repl_from));
	}
	if (sub)
		sip_evsub_set_handlers(sub, &sub_h, e);
	return e->refer_answer ? e->refer_answer : 202;
}

static void test_refer_recipient(void **state)
{
	struct env e;
	struct sip_msg *ok, *m, *n;

	(void)state;
	env_up(&e);
	sip_event_set_refer_handler(e.ev, on_refer, &e);
	ok = peer_call(&e, "ref1");
	/* REFER with an attended-transfer Replaces in Refer-To */
	peer_in(
	    &e, ok, "REFER", 2,
	    "Refer-To: <sip:carol@127.0.0.1?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>\n"
	    "Referred-By: <sip:t@127.0.0.1>\n",
	    NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_REFER, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 202);
	assert_null(sip_msg_hdr(m, SIP_HDR_REFER_SUB));
	mem_deref(m);
	assert_int_equal(e.refers, 1);
	assert_true(e.refer_had_sub);
	assert_true(e.refer_has_repl);
	assert_string_equal(e.repl_callid, "abc@host");
	assert_string_equal(e.repl_to, "t1");
	assert_string_equal(e.repl_from, "f1");
	assert_true(strncmp(e.refer_uri, "sip:carol@127.0.0.1?Replaces=", 29) == 0);
	/* NOTIFY 1: 100 Trying, active, sipfrag, event id = the REFER's CSeq */
	n = peer_wait_req(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(n);
	assert_true(hdr_has(n, SIP_HDR_EVENT, "refer;id=2"));
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "active;expires="));
	assert_true(hdr_has(n, SIP_HDR_CONTENT_TYPE, "message/sipfrag;version=2.0"));
	assert_true(pl_eq(n->body, PL("SIP/2.0 100 Trying\r\n")));
	assert_true(pl_eq(n->callid, ok->callid)); /* in the session's dialog */
	assert_true(pl_eq(n->to.tag, ok->from.tag));
	/* the app reports progress and the outcome while NOTIFY 1 is unanswered:
	 * they wait their turn (one NOTIFY transaction at a time) */
	assert_int_equal(sip_refer_notify(refer_sub, 180, NULL), 0);
	assert_int_equal(sip_refer_notify(refer_sub, 200, "OK"), 0);
	for (uint64_t t0 = loop_clock_ms(); loop_clock_ms() - t0 < 150;) {
		m = peer_recv(&e, 20);
		if (m) { /* only retransmissions of NOTIFY 1 */
			assert_int_equal(m->cseq.num, n->cseq.num);
			mem_deref(m);
		}
	}
	peer_reply(&e, n, 200, NULL);
	uint32_t c1 = n->cseq.num;
	mem_deref(n);
	n = peer_wait_new_req(&e, SIP_M_NOTIFY, c1, 2000); /* past NOTIFY 1's retransmissions */
	assert_non_null(n);
	/* the newest state won: the final one */
	assert_true(hdr_has(n, SIP_HDR_SUBSCRIPTION_STATE, "terminated;reason=noresource"));
	assert_true(pl_eq(n->body, PL("SIP/2.0 200 OK\r\n")));
	assert_int_equal(e.closed, 0);
	peer_reply(&e, n, 200, NULL);
	mem_deref(n);
	run_for(&e, 50);
	assert_int_equal(e.closed, 1);
	assert_string_equal(e.closed_reason, "noresource");

	/* RFC 4488: Refer-Sub: false -> 202 says so, and no NOTIFY follows */
	peer_in(&e, ok, "REFER", 3, "Refer-To: sip:dave@127.0.0.1\nRefer-Sub: false\n", NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_REFER, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 202);
	assert_true(hdr_has(m, SIP_HDR_REFER_SUB, "false"));
	mem_deref(m);
	assert_int_equal(e.refers, 2);
	assert_false(e.refer_had_sub);
	assert_false(e.refer_has_repl);
	assert_string_equal(e.refer_uri, "sip:dave@127.0.0.1");
	assert_null(peer_recv(&e, 300));

	/* refused by the app; no Refer-To at all: 400 */
	e.refer_answer = 603;
	peer_in(&e, ok, "REFER", 4, "Refer-To: <sip:eve@127.0.0.1>\n", NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_REFER, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 603);
	mem_deref(m);
	peer_in(&e, ok, "REFER", 5, NULL, NULL, NULL);
	m = peer_wait_resp(&e, SIP_M_REFER, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 400);
	mem_deref(m);
	assert_int_equal(e.refers, 3);
	assert_null(peer_recv(&e, 100));
	mem_deref(ok);
	env_down(&e);
}

static void test_refer_sender(void **state)
{
	struct env e;
	struct sip_msg *ok, *r, *m;
	struct sip_evsub *sub = NULL;
	char extra[128];

	(void)state;
	env_up(&e);
	ok = peer_call(&e, "ref2");
	assert_int_equal(sip_refer_send(&sub, e.ev, e.sess, "sip:carol@127.0.0.1",
	                                "Referred-By: <sip:ua@127.0.0.1>\r\n", false, &sub_h, &e),
	                 0);
	r = peer_wait_req(&e, SIP_M_REFER, 2000);
	assert_non_null(r);
	assert_true(hdr_has(r, SIP_HDR_REFER_TO, "<sip:carol@127.0.0.1>"));
	assert_non_null(sip_msg_hdr(r, SIP_HDR_REFERRED_BY));
	assert_true(pl_eq(r->callid, ok->callid));
	assert_true(pl_eq(r->to.tag, ok->from.tag));
	peer_reply(&e, r, 202, NULL);
	run_for(&e, 30);
	assert_int_equal(e.responses, 1);
	assert_int_equal(e.last_code, 202);
	/* NOTIFYs in the session's dialog: 100, 180, then 200 terminated */
	snprintf(extra, sizeof(extra),
	         "Event: refer;id=%u\nSubscription-State: active;expires=60\n", r->cseq.num);
	peer_in(&e, ok, "NOTIFY", 2, extra, "message/sipfrag;version=2.0",
	        "SIP/2.0 100 Trying\r\n");
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	peer_in(&e, ok, "NOTIFY", 3, extra, "message/sipfrag", "SIP/2.0 180 Ringing\r\n");
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	mem_deref(m);
	snprintf(extra, sizeof(extra),
	         "Event: refer;id=%u\nSubscription-State: terminated;reason=noresource\n",
	         r->cseq.num);
	peer_in(&e, ok, "NOTIFY", 4, extra, "message/sipfrag", "SIP/2.0 486 Busy Here\r\n");
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	assert_int_equal(e.sipfrags, 3);
	assert_int_equal(e.sipfrag_codes[0], 100);
	assert_int_equal(e.sipfrag_codes[1], 180);
	assert_int_equal(e.sipfrag_codes[2], 486);
	assert_int_equal(e.closed, 1);
	assert_string_equal(e.closed_reason, "noresource");
	/* the subscription is gone: another NOTIFY in that dialog gets 481 */
	peer_in(&e, ok, "NOTIFY", 5, extra, "message/sipfrag", "SIP/2.0 200 OK\r\n");
	m = peer_wait_resp(&e, SIP_M_NOTIFY, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 481);
	mem_deref(m);
	mem_deref(r);

	/* Refer-Sub: false accepted by the recipient: over with the 2xx */
	sub = NULL;
	assert_int_equal(
	    sip_refer_send(&sub, e.ev, e.sess, "<sip:dave@127.0.0.1>", NULL, true, &sub_h, &e), 0);
	r = peer_wait_req(&e, SIP_M_REFER, 2000);
	assert_non_null(r);
	assert_true(hdr_has(r, SIP_HDR_REFER_SUB, "false"));
	peer_reply(&e, r, 202, "Refer-Sub: false\n");
	run_for(&e, 50);
	assert_int_equal(e.closed, 2);
	assert_string_equal(e.closed_reason, "norefersub");
	mem_deref(r);
	/* refused REFER: closed with the code */
	sub = NULL;
	assert_int_equal(
	    sip_refer_send(&sub, e.ev, e.sess, "sip:x@127.0.0.1", NULL, false, &sub_h, &e), 0);
	r = peer_wait_req(&e, SIP_M_REFER, 2000);
	assert_non_null(r);
	peer_reply(&e, r, 603, NULL);
	run_for(&e, 50);
	assert_int_equal(e.closed, 3);
	assert_int_equal(e.last_code, 603);
	mem_deref(r);
	mem_deref(ok);
	env_down(&e);
}

static void test_info(void **state)
{
	struct env e;
	struct sip_msg *ok, *m;

	(void)state;
	env_up(&e);
	ok = peer_call(&e, "info1");
	/* legacy DTMF INFO: delivered with its type and body, 200 */
	peer_in(&e, ok, "INFO", 2, NULL, "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
	m = peer_wait_resp(&e, SIP_M_INFO, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	assert_int_equal(e.infos, 1);
	assert_string_equal(e.info_ctype, "application/dtmf-relay");
	assert_string_equal(e.info_body, "Signal=5\r\nDuration=160\r\n");
	assert_string_equal(e.info_pkg, "");
	/* an Info-Package we support reaches the app with its name */
	peer_in(&e, ok, "INFO", 3, "Info-Package: dtmf\n", "application/dtmf", "Signal=#\r\n");
	m = peer_wait_resp(&e, SIP_M_INFO, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	assert_int_equal(e.infos, 2);
	assert_string_equal(e.info_pkg, "dtmf");
	/* one we did not declare: 469 with Recv-Info, the app is not asked */
	peer_in(&e, ok, "INFO", 4, "Info-Package: foo\n", "application/foo", "x");
	m = peer_wait_resp(&e, SIP_M_INFO, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 469);
	assert_non_null(sip_msg_hdr_name(m, "Recv-Info"));
	mem_deref(m);
	assert_int_equal(e.infos, 2);
	/* a body the app refuses: 415 with Accept */
	e.info_answer = 415;
	peer_in(&e, ok, "INFO", 5, NULL, "text/plain", "hello");
	m = peer_wait_resp(&e, SIP_M_INFO, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 415);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_ACCEPT));
	mem_deref(m);
	/* INFO from the session: the peer gets it, its answer reaches info_resp */
	assert_int_equal(sip_sess_info(e.sess, NULL, "application/dtmf-relay",
	                               "Signal=1\r\nDuration=100\r\n", 24),
	                 0);
	m = peer_wait_req(&e, SIP_M_INFO, 2000);
	assert_non_null(m);
	assert_true(hdr_has(m, SIP_HDR_CONTENT_TYPE, "application/dtmf-relay"));
	assert_true(pl_eq(m->body, PL("Signal=1\r\nDuration=100\r\n")));
	assert_true(pl_eq(m->callid, ok->callid));
	assert_null(sip_msg_hdr_name(m, "Info-Package"));
	peer_reply(&e, m, 200, NULL);
	mem_deref(m);
	run_for(&e, 30);
	assert_int_equal(e.info_resps, 1);
	assert_int_equal(e.info_resp_code, 200);
	assert_int_equal(sip_sess_info(e.sess, "dtmf", "application/dtmf", "Signal=2\r\n", 10), 0);
	m = peer_wait_req(&e, SIP_M_INFO, 2000);
	assert_non_null(m);
	assert_non_null(sip_msg_hdr_name(m, "Info-Package"));
	peer_reply(&e, m, 469, NULL);
	mem_deref(m);
	run_for(&e, 30);
	assert_int_equal(e.info_resp_code, 469);
	/* INFO outside any invite dialog usage: 481 (RFC 6086 §4.2.2) */
	peer_req(&e, "INFO", "<sip:t@127.0.0.1>;tag=i9", "<sip:ua@127.0.0.1>", PL("info9@test"), 1,
	         NULL, "application/dtmf-relay", "Signal=1\r\n");
	m = peer_wait_resp(&e, SIP_M_INFO, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 481);
	mem_deref(m);
	mem_deref(ok);
	env_down(&e);
}

/* ---- outside dialogs: MESSAGE, PUBLISH ---- */

static void on_message(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg, void *arg)
{
	struct env *e = arg;
	const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);

	e->messages++;
	if (!ct || !pl_caseeq_str(pl_trim(ct->val), "text/plain")) {
		sip_ua_reply(ua, stx, 415, NULL, "Accept: text/plain\r\n", NULL, NULL, 0);
		return;
	}
	if (msg->body.l > 1300) { /* RFC 3428 §7: larger bodies need a session */
		sip_ua_reply(ua, stx, 413, NULL, NULL, NULL, NULL, 0);
		return;
	}
	pl_strcpy(msg->body, e->info_body, sizeof(e->info_body));
	sip_ua_reply(ua, stx, 200, NULL, NULL, NULL, NULL, 0);
}

static void msg_resp(int err, const struct sip_msg *resp, void *arg)
{
	struct env *e = arg;

	if (resp && resp->scode < 200)
		return;
	e->responses++;
	e->last_code = resp ? resp->scode : 0;
}

static void test_message_publish(void **state)
{
	struct env e;
	struct sip_msg *m;
	struct sip_dialog *d = NULL;
	struct sip_creq *cr = NULL;
	char target[64];

	(void)state;
	env_up(&e);
	assert_int_equal(sip_ua_set_handler(e.ua, SIP_M_MESSAGE, on_message, &e), 0);
	peer_req(&e, "MESSAGE", "<sip:t@127.0.0.1>;tag=m1", "<sip:ua@127.0.0.1>", PL("msg1@test"),
	         1, NULL, "text/plain", "hello there");
	m = peer_wait_resp(&e, SIP_M_MESSAGE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	assert_string_equal(e.info_body, "hello there");
	peer_req(&e, "MESSAGE", "<sip:t@127.0.0.1>;tag=m2", "<sip:ua@127.0.0.1>", PL("msg2@test"),
	         1, NULL, "image/png", "xx");
	m = peer_wait_resp(&e, SIP_M_MESSAGE, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 415);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_ACCEPT));
	mem_deref(m);
	/* MESSAGE from the UA: a dialog-to-be carries it */
	snprintf(target, sizeof(target), "sip:peer@127.0.0.1:%u", e.port);
	assert_int_equal(
	    sip_dialog_alloc_uac(&d, e.ua, target, "<sip:ua@127.0.0.1>", NULL, NULL, NULL), 0);
	assert_int_equal(
	    sip_dialog_send(&cr, d, "MESSAGE", NULL, "text/plain", "ping", 4, msg_resp, &e), 0);
	assert_non_null(cr);
	m = peer_wait_req(&e, SIP_M_MESSAGE, 2000);
	assert_non_null(m);
	assert_true(pl_eq(m->body, PL("ping")));
	assert_int_equal(m->to.tag.l, 0);
	peer_reply(&e, m, 202, NULL);
	mem_deref(m);
	run_for(&e, 30);
	assert_int_equal(e.last_code, 202);
	assert_null(cr); /* the UA cleared the handle when it was over */
	mem_deref(d);
	/* PUBLISH: we are no event state compositor -> 405, Allow without PUBLISH */
	peer_req(&e, "PUBLISH", "<sip:t@127.0.0.1>;tag=p1", "<sip:ua@127.0.0.1>", PL("pub1@test"),
	         1, "Event: presence\nExpires: 60\n", "application/pidf+xml", "<p/>");
	m = peer_wait_resp(&e, SIP_M_PUBLISH, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 405);
	assert_true(sip_msg_has_token(m, SIP_HDR_ALLOW, "SUBSCRIBE"));
	assert_true(sip_msg_has_token(m, SIP_HDR_ALLOW, "MESSAGE"));
	assert_false(sip_msg_has_token(m, SIP_HDR_ALLOW, "PUBLISH"));
	mem_deref(m);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notifier_lifecycle),
	    cmocka_unit_test(test_notifier_pending_terminate),
	    cmocka_unit_test(test_no_event_layer),
	    cmocka_unit_test(test_subscriber_lifecycle),
	    cmocka_unit_test(test_notify_before_2xx),
	    cmocka_unit_test(test_refer_recipient),
	    cmocka_unit_test(test_refer_sender),
	    cmocka_unit_test(test_info),
	    cmocka_unit_test(test_message_publish),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
