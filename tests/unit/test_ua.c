/*
 * Unit tests for gateway/sip/ua: dialogs and route sets (RFC 3261 §12, the
 * §24.2 call flow), loose and strict routing, CSeq rules, the UA's own
 * answers (481, 405, 501, OPTIONS, 420, 422), 100rel/PRACK numbering and
 * retransmission, a UAC session against a scripted peer, and the RFC 4028
 * arithmetic. Network tests run over loopback UDP: the UA listens on
 * 127.0.0.1 and a plain socket plays the peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "core/sa.h"
#include "sip/auth/auth.h"
#include "sip/dns/dns.h"
#include "sip/msg/msg.h"
#include "sip/ua/ua.h"

/* "\n" -> "\r\n" into a mem buffer (messages are written readably below). */
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

static struct sip_msg *decode(const char *text)
{
	struct sip_msg *m = NULL;
	size_t len;
	char *b = crlf(text, &len);

	assert_int_equal(sip_msg_decode(&m, b, len, false, b, NULL), 0);
	mem_deref(b); /* the message holds its own reference */
	return m;
}

/* ---- RFC 3261 §24.2: Alice calls Bob through two proxies ---- */

static const char f4_invite[] =
    "INVITE sip:bob@192.0.2.4 SIP/2.0\n"
    "Via: SIP/2.0/UDP server10.biloxi.com;branch=z9hG4bK4b43c2ff8.1\n"
    "Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.2\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1\n"
    "Max-Forwards: 68\n"
    "Record-Route: <sip:server10.biloxi.com;lr>, <sip:bigbox3.site3.atlanta.com;lr>\n"
    "To: Bob <sip:bob@biloxi.com>\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\n"
    "CSeq: 314159 INVITE\n"
    "Contact: <sip:alice@pc33.atlanta.com>\n"
    "Content-Length: 0\n\n";

static const char f9_ok[] =
    "SIP/2.0 200 OK\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8;received=192.0.2.1\n"
    "Record-Route: <sip:server10.biloxi.com;lr>\n"
    "Record-Route: <sip:bigbox3.site3.atlanta.com;lr>\n"
    "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\n"
    "CSeq: 314159 INVITE\n"
    "Contact: <sip:bob@192.0.2.4>\n"
    "Content-Length: 0\n\n";

static struct sip_msg *encode_decode(struct sip_dialog *d, const char *method, uint32_t cseq)
{
	struct sip_mb mb;
	struct sip_msg *m = NULL;

	assert_int_equal(sip_dialog_encode(d, &mb, method, cseq, "192.0.2.1:5060", SIP_TP_UDP,
	                                   "z9hG4bKtest1", NULL, NULL, NULL, 0),
	                 0);
	assert_int_equal(sip_msg_decode(&m, mb.buf, mb.len, false, mb.buf, NULL), 0);
	mem_deref(mb.buf);
	return m;
}

static void routes_of(const struct sip_msg *m, char out[][64], unsigned *n)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct pl v;

	*n = 0;
	while (sip_msg_hdr_next(m, SIP_HDR_ROUTE, &it, &v) && *n < 8)
		pl_strcpy(pl_trim(v), out[(*n)++], 64);
}

static void test_dialog_uac_rfc3261_24(void **state)
{
	struct sip_dialog *d = NULL;
	struct sip_msg *ok = decode(f9_ok), *m;
	char r[8][64];
	unsigned n;
	uint32_t c0;

	(void)state;
	assert_int_equal(
	    sip_dialog_alloc_uac(&d, NULL, "sip:bob@biloxi.com", "Alice <sip:alice@atlanta.com>",
	                         "Bob <sip:bob@biloxi.com>", NULL, "sip:alice@pc33.atlanta.com"),
	    0);
	assert_int_equal(sip_dialog_state(d), SIP_DLG_INIT);
	assert_null(sip_dialog_remote_tag(d));
	c0 = sip_dialog_local_cseq(d);
	assert_int_equal(sip_dialog_update_uac(d, ok), 0);
	assert_int_equal(sip_dialog_state(d), SIP_DLG_CONFIRMED);
	assert_string_equal(sip_dialog_remote_tag(d), "a6c85cf");
	assert_string_equal(sip_dialog_remote_target(d), "sip:bob@192.0.2.4");
	/* §12.1.2: the UAC reverses Record-Route (F12's ACK: bigbox3 first) */
	assert_int_equal(sip_dialog_route_count(d), 2);
	assert_string_equal(sip_dialog_route(d, 0), "<sip:bigbox3.site3.atlanta.com;lr>");
	assert_string_equal(sip_dialog_route(d, 1), "<sip:server10.biloxi.com;lr>");
	assert_null(sip_dialog_route(d, 2));
	/* loose routing: R-URI is the remote target, next hop the first route */
	m = encode_decode(d, "BYE", sip_dialog_next_cseq(d));
	assert_true(pl_eq(m->ruri_pl, PL("sip:bob@192.0.2.4")));
	assert_int_equal(m->cseq.num, c0 + 1);
	assert_true(pl_eq(m->to.tag, PL("a6c85cf")));
	assert_true(
	    pl_eq(m->from.tag, pl_make(sip_dialog_local_tag(d), strlen(sip_dialog_local_tag(d)))));
	assert_true(pl_eq(m->callid, pl_make(sip_dialog_callid(d), strlen(sip_dialog_callid(d)))));
	assert_true(pl_eq(m->via.branch, PL("z9hG4bKtest1")));
	assert_true(m->via.rport);
	routes_of(m, r, &n);
	assert_int_equal(n, 2);
	assert_string_equal(r[0], "<sip:bigbox3.site3.atlanta.com;lr>");
	assert_string_equal(r[1], "<sip:server10.biloxi.com;lr>");
	assert_null(sip_msg_hdr(m, SIP_HDR_CONTACT)); /* BYE carries none */
	assert_true(pl_eq(sip_dialog_next_hop_uri(d), PL("sip:bigbox3.site3.atlanta.com;lr")));
	mem_deref(m);
	/* CSeq grows by one per new request (§12.2.1.1) */
	assert_int_equal(sip_dialog_next_cseq(d), c0 + 2);
	m = encode_decode(d, "INVITE", sip_dialog_next_cseq(d));
	assert_non_null(sip_msg_hdr(m, SIP_HDR_CONTACT));
	assert_int_equal(m->cseq.num, c0 + 3);
	mem_deref(m);
	/* a 2xx of another fork does not replace a confirmed dialog */
	mem_deref(ok);
	ok = decode("SIP/2.0 200 OK\n"
	            "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8\n"
	            "To: Bob <sip:bob@biloxi.com>;tag=other\n"
	            "From: Alice <sip:alice@atlanta.com>;tag=1928301774\n"
	            "Call-ID: a84b4c76e66710@pc33.atlanta.com\n"
	            "CSeq: 314159 INVITE\nContact: <sip:bob@192.0.2.5>\nContent-Length: 0\n\n");
	assert_int_equal(sip_dialog_update_uac(d, ok), EPROTO);
	assert_string_equal(sip_dialog_remote_tag(d), "a6c85cf");
	mem_deref(ok);
	mem_deref(d);
}

static void test_dialog_uas_rfc3261_24(void **state)
{
	struct sip_msg *inv = decode(f4_invite), *m;
	struct sip_dialog *d = NULL;
	char r[8][64];
	unsigned n;

	(void)state;
	assert_int_equal(sip_dialog_alloc_uas(&d, NULL, inv, "sip:bob@192.0.2.4"), 0);
	assert_int_equal(sip_dialog_state(d), SIP_DLG_EARLY);
	assert_string_equal(sip_dialog_remote_tag(d), "1928301774");
	assert_int_equal(strlen(sip_dialog_local_tag(d)), 16);
	assert_string_equal(sip_dialog_remote_target(d), "sip:alice@pc33.atlanta.com");
	assert_int_equal(sip_dialog_remote_cseq(d), 314159);
	/* the UAS keeps Record-Route order (F13's BYE: server10 first) */
	assert_int_equal(sip_dialog_route_count(d), 2);
	assert_string_equal(sip_dialog_route(d, 0), "<sip:server10.biloxi.com;lr>");
	assert_string_equal(sip_dialog_route(d, 1), "<sip:bigbox3.site3.atlanta.com;lr>");
	m = encode_decode(d, "BYE", sip_dialog_next_cseq(d));
	assert_true(pl_eq(m->ruri_pl, PL("sip:alice@pc33.atlanta.com")));
	assert_true(
	    pl_eq(m->from.tag, pl_make(sip_dialog_local_tag(d), strlen(sip_dialog_local_tag(d)))));
	assert_true(pl_eq(m->to.tag, PL("1928301774")));
	routes_of(m, r, &n);
	assert_int_equal(n, 2);
	assert_string_equal(r[0], "<sip:server10.biloxi.com;lr>");
	mem_deref(m);
	mem_deref(inv);

	/* §12.2.2: lower or equal remote CSeq -> refused; higher -> remembered */
	m = decode("BYE sip:bob@192.0.2.4 SIP/2.0\n"
	           "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKx1\n"
	           "To: Bob <sip:bob@biloxi.com>;tag=t\n"
	           "From: Alice <sip:alice@atlanta.com>;tag=1928301774\n"
	           "Call-ID: a84b4c76e66710@pc33.atlanta.com\n"
	           "CSeq: 314159 BYE\nContent-Length: 0\n\n");
	assert_false(sip_dialog_check_cseq(d, m));
	mem_deref(m);
	m = decode("BYE sip:bob@192.0.2.4 SIP/2.0\n"
	           "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKx2\n"
	           "To: Bob <sip:bob@biloxi.com>;tag=t\n"
	           "From: Alice <sip:alice@atlanta.com>;tag=1928301774\n"
	           "Call-ID: a84b4c76e66710@pc33.atlanta.com\n"
	           "CSeq: 314160 BYE\nContent-Length: 0\n\n");
	assert_true(sip_dialog_check_cseq(d, m));
	assert_int_equal(sip_dialog_remote_cseq(d), 314160);
	assert_false(sip_dialog_check_cseq(d, m)); /* the same again is old */
	mem_deref(m);
	mem_deref(d);
}

/* §12.2.1.1's strict-routing example: route set {proxy1, proxy2, proxy3;lr, proxy4}. */
static void test_dialog_strict_route(void **state)
{
	struct sip_dialog *d = NULL;
	struct sip_msg *ok, *m;
	char r[8][64];
	unsigned n;

	(void)state;
	ok = decode("SIP/2.0 200 OK\n"
	            "Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bKs1\n"
	            "Record-Route: <sip:proxy4>, <sip:proxy3;lr>\n"
	            "Record-Route: <sip:proxy2>, <sip:proxy1>\n"
	            "To: <sip:user@remoteua>;tag=r1\n"
	            "From: <sip:me@here>;tag=l1\n"
	            "Call-ID: strict@here\n"
	            "CSeq: 1 INVITE\nContact: <sip:user@remoteua>\nContent-Length: 0\n\n");
	assert_int_equal(
	    sip_dialog_alloc_uac(&d, NULL, "sip:user@remoteua", "<sip:me@here>", NULL, NULL, NULL),
	    0);
	assert_int_equal(sip_dialog_update_uac(d, ok), 0);
	assert_int_equal(sip_dialog_route_count(d), 4);
	assert_string_equal(sip_dialog_route(d, 0), "<sip:proxy1>");
	assert_string_equal(sip_dialog_route(d, 3), "<sip:proxy4>");
	m = encode_decode(d, "BYE", 7);
	/* the first route goes to the Request-URI; the remote target ends the Route list */
	assert_true(pl_eq(m->ruri_pl, PL("sip:proxy1")));
	routes_of(m, r, &n);
	assert_int_equal(n, 4);
	assert_string_equal(r[0], "<sip:proxy2>");
	assert_string_equal(r[1], "<sip:proxy3;lr>");
	assert_string_equal(r[2], "<sip:proxy4>");
	assert_string_equal(r[3], "<sip:user@remoteua>");
	assert_true(pl_eq(sip_dialog_next_hop_uri(d), PL("sip:proxy1")));
	mem_deref(m);
	mem_deref(ok);
	mem_deref(d);
}

static void test_dialog_early_then_confirmed(void **state)
{
	struct sip_dialog *d = NULL;
	struct sip_msg *r180, *ok;

	(void)state;
	r180 = decode("SIP/2.0 180 Ringing\n"
	              "Via: SIP/2.0/UDP a;branch=z9hG4bKe1\n"
	              "Record-Route: <sip:p1;lr>\n"
	              "To: <sip:b@x>;tag=early\nFrom: <sip:a@y>;tag=l\nCall-ID: e@y\n"
	              "CSeq: 1 INVITE\nContact: <sip:b@10.0.0.1>\nContent-Length: 0\n\n");
	ok = decode("SIP/2.0 200 OK\n"
	            "Via: SIP/2.0/UDP a;branch=z9hG4bKe1\n"
	            "Record-Route: <sip:p2;lr>, <sip:p1;lr>\n"
	            "To: <sip:b@x>;tag=early\nFrom: <sip:a@y>;tag=l\nCall-ID: e@y\n"
	            "CSeq: 1 INVITE\nContact: <sip:b@10.0.0.2>\nContent-Length: 0\n\n");
	assert_int_equal(sip_dialog_alloc_uac(&d, NULL, "sip:b@x", "<sip:a@y>", NULL, NULL, NULL),
	                 0);
	assert_int_equal(sip_dialog_update_uac(d, r180), 0);
	assert_int_equal(sip_dialog_state(d), SIP_DLG_EARLY);
	assert_int_equal(sip_dialog_route_count(d), 1);
	assert_string_equal(sip_dialog_remote_target(d), "sip:b@10.0.0.1");
	/* §13.2.2.4: the 2xx recomputes route set and target */
	assert_int_equal(sip_dialog_update_uac(d, ok), 0);
	assert_int_equal(sip_dialog_state(d), SIP_DLG_CONFIRMED);
	assert_int_equal(sip_dialog_route_count(d), 2);
	assert_string_equal(sip_dialog_route(d, 0), "<sip:p1;lr>");
	assert_string_equal(sip_dialog_remote_target(d), "sip:b@10.0.0.2");
	mem_deref(r180);
	mem_deref(ok);
	mem_deref(d);
}

static void test_hop(void **state)
{
	struct sip_hop h;

	(void)state;
	assert_int_equal(sip_hop_from_uri(&h, NULL, PL("sip:127.0.0.1:5070;transport=tcp")), 0);
	assert_int_equal(h.tp, SIP_TP_TCP);
	assert_int_equal(sa_port(&h.addr), 5070);
	assert_int_equal(sip_hop_from_uri(&h, NULL, PL("sips:[::1]")), 0);
	assert_int_equal(h.tp, SIP_TP_TLS);
	assert_int_equal(sa_port(&h.addr), 5061);
	assert_int_equal(sip_hop_from_uri(&h, NULL, PL("sip:x@example.com;maddr=192.0.2.9")), 0);
	assert_int_equal(h.tp, SIP_TP_UDP);
	assert_int_equal(sa_port(&h.addr), 5060);
	/* a host name needs DNS: without a resolver hook it is unreachable */
	assert_int_equal(sip_hop_from_uri(&h, NULL, PL("sip:example.com")), EHOSTUNREACH);
	assert_true(pl_eq(h.host, PL("example.com")));
	assert_false(h.tp_explicit);
	assert_int_equal(sip_hop_from_uri(&h, NULL, PL("sip:example.com;transport=TCP")),
	                 EHOSTUNREACH);
	assert_true(h.tp_explicit);
	assert_int_equal(h.tp, SIP_TP_TCP);
}

static void test_session_timer_math(void **state)
{
	uint32_t iv = 0, min_se = 0;
	bool uas = false;

	(void)state;
	/* too small: 422 with our Min-SE */
	assert_int_equal(sip_sess_timer_negotiate(60, "", 0, true, 1800, 90, &iv, &uas, &min_se),
	                 422);
	assert_int_equal(min_se, 90);
	/* the UAS lowers a long interval to its own, refresher as asked */
	assert_int_equal(
	    sip_sess_timer_negotiate(3600, "uas", 0, true, 1800, 90, &iv, &uas, &min_se), 0);
	assert_int_equal(iv, 1800);
	assert_true(uas);
	/* ...but never below the request's Min-SE */
	assert_int_equal(
	    sip_sess_timer_negotiate(3600, "uac", 1200, true, 600, 90, &iv, &uas, &min_se), 0);
	assert_int_equal(iv, 1200);
	assert_false(uas);
	/* a UAC without timer support cannot refresh: the UAS does */
	assert_int_equal(
	    sip_sess_timer_negotiate(300, "uac", 0, false, 1800, 90, &iv, &uas, &min_se), 0);
	assert_int_equal(iv, 300);
	assert_true(uas);
	/* no Session-Expires asked: the UAS may still run one (and refreshes if the UAC can't) */
	assert_int_equal(sip_sess_timer_negotiate(0, "", 0, false, 1800, 90, &iv, &uas, &min_se),
	                 0);
	assert_int_equal(iv, 1800);
	assert_true(uas);
	assert_int_equal(sip_sess_timer_negotiate(0, "", 0, true, 0, 90, &iv, &uas, &min_se), 0);
	assert_int_equal(iv, 0);
	/* refresh at half, give up at interval - min(32, interval/3) */
	assert_int_equal(sip_sess_timer_refresh_ms(1800), 900000);
	assert_int_equal(sip_sess_timer_expire_ms(1800), 1768000);
	assert_int_equal(sip_sess_timer_expire_ms(90), 60000);
}

/* ---- over loopback ---- */

struct env {
	struct loop *loop;
	struct sip_ua *ua;
	int fd;
	uint16_t port, ua_port;
	struct sa ua_addr;
	/* app side */
	struct sip_sess *sess;
	unsigned news, established, closed, answers, progress;
	int closed_err;
	uint16_t closed_code;
	bool reliable;
	uint16_t prov_code;
	bool answer_now;
	unsigned offers;
};

static void env_up_cfg(struct env *e, uint32_t t1, uint32_t se, uint32_t min_se)
{
	struct sip_ua_config cfg = {0};
	struct sa a;
	socklen_t sl = sizeof(a.u.ss);

	memset(e, 0, sizeof(*e));
	assert_int_equal(loop_alloc(&e->loop), 0);
	cfg.nlisten = 1;
	cfg.listen[0].tp = SIP_TP_UDP;
	sa_set_str(&cfg.listen[0].addr, "127.0.0.1", 0);
	cfg.t1_ms = t1;
	cfg.t2_ms = 4 * t1;
	cfg.t4_ms = 5 * t1;
	cfg.session_expires = se;
	cfg.min_se = min_se;
	assert_int_equal(sip_ua_alloc(&e->ua, e->loop, &cfg), 0);
	assert_int_equal(sip_ua_local(e->ua, SIP_TP_UDP, AF_INET, &e->ua_addr), 0);
	e->ua_port = sa_port(&e->ua_addr);
	e->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(e->fd >= 0);
	sa_set_str(&a, "127.0.0.1", 0);
	assert_int_equal(bind(e->fd, &a.u.sa, a.len), 0);
	assert_int_equal(getsockname(e->fd, &a.u.sa, &sl), 0);
	a.len = sl;
	e->port = sa_port(&a);
}

static void env_up(struct env *e, uint32_t t1)
{
	env_up_cfg(e, t1, 0, 0);
}

static void env_down(struct env *e)
{
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

/* Runs the loop until the peer socket receives a message (or timeout_ms). */
static struct sip_msg *peer_recv(struct env *e, int timeout_ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)timeout_ms;
	struct pollfd pfd = {.fd = e->fd, .events = POLLIN};

	while (loop_clock_ms() < end) {
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
	}
	return NULL;
}

/* The next request of method m (other messages are skipped). */
static struct sip_msg *peer_wait_req(struct env *e, enum sip_method m, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;
	struct sip_msg *x;

	while (loop_clock_ms() < end) {
		x = peer_recv(e, (int)(end - loop_clock_ms()) + 1);
		if (!x)
			return NULL;
		if (x->req && x->mid == m)
			return x;
		mem_deref(x);
	}
	return NULL;
}

/* The next response with CSeq method m and status code (0: any final). */
static struct sip_msg *peer_wait_resp(struct env *e, enum sip_method m, uint16_t code, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;
	struct sip_msg *x;

	while (loop_clock_ms() < end) {
		x = peer_recv(e, (int)(end - loop_clock_ms()) + 1);
		if (!x)
			return NULL;
		if (!x->req && x->cseq.mid == m && (code ? x->scode == code : x->scode >= 200))
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

static const char options_req[] = "OPTIONS sip:ua@127.0.0.1:%U SIP/2.0\n"
                                  "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKopt1;rport\n"
                                  "Max-Forwards: 70\n"
                                  "To: <sip:ua@127.0.0.1>\n"
                                  "From: <sip:t@127.0.0.1>;tag=f1\n"
                                  "Call-ID: opt1@test\n"
                                  "CSeq: 1 OPTIONS\n"
                                  "Content-Length: 0\n\n";

static void test_ua_answers(void **state)
{
	struct env e;
	struct sip_msg *m;

	(void)state;
	env_up(&e, 100);
	peer_send(&e, options_req);
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 200);
	assert_true(m->to.tag.l > 0);
	assert_true(sip_msg_has_token(m, SIP_HDR_ALLOW, "OPTIONS"));
	assert_false(sip_msg_has_token(m, SIP_HDR_ALLOW, "INVITE")); /* no session handler */
	assert_true(sip_msg_has_token(m, SIP_HDR_SUPPORTED, "100rel"));
	assert_true(sip_msg_has_token(m, SIP_HDR_SUPPORTED, "timer"));
	assert_non_null(sip_msg_hdr(m, SIP_HDR_ACCEPT));
	mem_deref(m);

	/* a method we know but nobody registered: 405 with Allow */
	peer_send(&e, "MESSAGE sip:ua@127.0.0.1:%U SIP/2.0\n"
	              "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKmsg1;rport\n"
	              "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>\nFrom: <sip:t@127.0.0.1>;tag=f2\n"
	              "Call-ID: msg1@test\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n"
	              "Content-Length: 2\n\nhi");
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 405);
	assert_true(sip_msg_has_token(m, SIP_HDR_ALLOW, "OPTIONS"));
	assert_false(sip_msg_has_token(m, SIP_HDR_ALLOW, "MESSAGE"));
	mem_deref(m);

	/* an unknown method: 501 */
	peer_send(&e, "FROBNICATE sip:ua@127.0.0.1:%U SIP/2.0\n"
	              "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKfrob;rport\n"
	              "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>\nFrom: <sip:t@127.0.0.1>;tag=f3\n"
	              "Call-ID: frob@test\nCSeq: 1 FROBNICATE\nContent-Length: 0\n\n");
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 501);
	mem_deref(m);

	/* in-dialog request for a dialog we do not have: 481 */
	peer_send(&e, "BYE sip:ua@127.0.0.1:%U SIP/2.0\n"
	              "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKbye9;rport\n"
	              "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>;tag=nosuch\n"
	              "From: <sip:t@127.0.0.1>;tag=f4\n"
	              "Call-ID: nodialog@test\nCSeq: 2 BYE\nContent-Length: 0\n\n");
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 481);
	mem_deref(m);

	/* registering a handler changes the answer and Allow */
	struct sip_ua_stats st;
	sip_ua_stats(e.ua, &st);
	assert_int_equal(st.reply_481, 1);
	assert_int_equal(st.reply_501, 1);
	env_down(&e);
}

static void msg_handler(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg,
                        void *arg)
{
	unsigned *n = arg;

	(*n)++;
	sip_ua_reply(ua, stx, 202, NULL, NULL, NULL, NULL, 0);
}

static void test_ua_method_handler(void **state)
{
	struct env e;
	struct sip_msg *m;
	unsigned calls = 0;

	(void)state;
	env_up(&e, 100);
	assert_int_equal(sip_ua_set_handler(e.ua, SIP_M_MESSAGE, msg_handler, &calls), 0);
	assert_int_equal(sip_ua_set_handler(e.ua, SIP_M_BYE, msg_handler, &calls), EINVAL);
	peer_send(&e, "MESSAGE sip:ua@127.0.0.1:%U SIP/2.0\n"
	              "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKmsg2;rport\n"
	              "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>\nFrom: <sip:t@127.0.0.1>;tag=f2\n"
	              "Call-ID: msg2@test\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n");
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 202);
	assert_int_equal(calls, 1);
	mem_deref(m);
	peer_send(&e, options_req);
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_true(sip_msg_has_token(m, SIP_HDR_ALLOW, "MESSAGE"));
	mem_deref(m);
	env_down(&e);
}

/* ---- sessions ---- */

static const char sdp[] = "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                          "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

static void h_established(struct sip_sess *s, const struct sip_msg *msg, void *arg)
{
	struct env *e = arg;

	e->established++;
}

static void h_closed(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg)
{
	struct env *e = arg;

	e->closed++;
	e->closed_err = err;
	e->closed_code = code;
	e->sess = NULL;
}

static void h_answer(struct sip_sess *s, uint16_t code, const struct sip_msg *msg, void *arg)
{
	struct env *e = arg;

	e->answers++;
}

static void h_progress(struct sip_sess *s, uint16_t code, const struct sip_msg *msg, void *arg)
{
	struct env *e = arg;

	e->progress++;
}

static const char sdp2[] = "v=0\r\no=x 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                           "t=0 0\r\nm=audio 4002 RTP/AVP 8\r\n";

static uint16_t h_offer(struct sip_sess *s, const struct sip_msg *msg, const char **ctype,
                        struct pl *answer, void *arg)
{
	struct env *e = arg;

	e->offers++;
	*ctype = "application/sdp";
	*answer = pl_make(sdp2, strlen(sdp2));
	return 0;
}

static const struct sip_sess_handlers hs = {
    .progress = h_progress,
    .established = h_established,
    .offer = h_offer,
    .answer = h_answer,
    .closed = h_closed,
};

static void on_new_sess(struct sip_sess *s, const struct sip_msg *invite, void *arg)
{
	struct env *e = arg;

	e->news++;
	e->sess = s;
	sip_sess_set_handlers(s, &hs, e);
	if (e->prov_code)
		assert_int_equal(
		    sip_sess_progress(s, e->prov_code, NULL, sdp, strlen(sdp), e->reliable), 0);
	if (e->answer_now)
		assert_int_equal(sip_sess_answer(s, NULL, sdp, strlen(sdp)), 0);
}

static const char invite_100rel[] = "INVITE sip:ua@127.0.0.1:%U SIP/2.0\n"
                                    "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKinv1;rport\n"
                                    "Max-Forwards: 70\n"
                                    "To: <sip:ua@127.0.0.1>\n"
                                    "From: <sip:t@127.0.0.1>;tag=fr\n"
                                    "Call-ID: rel1@test\n"
                                    "CSeq: 10 INVITE\n"
                                    "Contact: <sip:t@127.0.0.1:%P>\n"
                                    "Supported: 100rel\n"
                                    "Content-Length: 0\n\n";

static void test_uas_100rel_prack(void **state)
{
	struct env e;
	struct sip_msg *m;
	uint32_t rseq1, rseq2;
	char req[1024], tag[40];

	(void)state;
	env_up(&e, 50);
	sip_ua_set_sess_handler(e.ua, on_new_sess, &e);
	e.prov_code = 183;
	e.reliable = true;
	peer_send(&e, invite_100rel);
	m = peer_recv(&e, 2000);
	while (m && m->scode == 100) {
		mem_deref(m);
		m = peer_recv(&e, 2000);
	}
	assert_non_null(m);
	assert_int_equal(m->scode, 183);
	assert_int_equal(e.news, 1);
	assert_true(sip_msg_has_token(m, SIP_HDR_REQUIRE, "100rel"));
	assert_non_null(sip_msg_hdr(m, SIP_HDR_RSEQ));
	assert_int_equal(sip_u32_decode(&rseq1, sip_msg_hdr(m, SIP_HDR_RSEQ)->val), 0);
	assert_true(rseq1 >= 1 && rseq1 < (1u << 31));
	pl_strcpy(m->to.tag, tag, sizeof(tag));
	mem_deref(m);
	/* no PRACK yet: the 183 comes again (T1 = 50 ms) with the same RSeq */
	m = peer_recv(&e, 1000);
	assert_non_null(m);
	assert_int_equal(m->scode, 183);
	uint32_t again;
	assert_int_equal(sip_u32_decode(&again, sip_msg_hdr(m, SIP_HDR_RSEQ)->val), 0);
	assert_int_equal(again, rseq1);
	mem_deref(m);
	/* only one unacknowledged reliable provisional at a time */
	assert_int_equal(sip_sess_progress(e.sess, 180, NULL, NULL, 0, true), EBUSY);
	/* a PRACK with the wrong RSeq: 481 */
	snprintf(req, sizeof(req),
	         "PRACK sip:ua@127.0.0.1:%%U SIP/2.0\n"
	         "Via: SIP/2.0/UDP 127.0.0.1:%%P;branch=z9hG4bKpr0;rport\n"
	         "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>;tag=%s\nFrom: <sip:t@127.0.0.1>;tag=fr\n"
	         "Call-ID: rel1@test\nCSeq: 11 PRACK\nRAck: %u 10 INVITE\nContent-Length: 0\n\n",
	         tag, rseq1 + 5);
	peer_send(&e, req);
	do {
		m = peer_recv(&e, 1000);
		assert_non_null(m);
		if (m->cseq.mid == SIP_M_PRACK)
			break;
		mem_deref(m);
	} while (1);
	assert_int_equal(m->scode, 481);
	mem_deref(m);
	/* the right PRACK: 200, retransmissions stop */
	snprintf(req, sizeof(req),
	         "PRACK sip:ua@127.0.0.1:%%U SIP/2.0\n"
	         "Via: SIP/2.0/UDP 127.0.0.1:%%P;branch=z9hG4bKpr1;rport\n"
	         "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>;tag=%s\nFrom: <sip:t@127.0.0.1>;tag=fr\n"
	         "Call-ID: rel1@test\nCSeq: 12 PRACK\nRAck: %u 10 INVITE\nContent-Length: 0\n\n",
	         tag, rseq1);
	peer_send(&e, req);
	do {
		m = peer_recv(&e, 1000);
		assert_non_null(m);
		if (m->cseq.mid == SIP_M_PRACK)
			break;
		mem_deref(m);
	} while (1);
	assert_int_equal(m->scode, 200);
	mem_deref(m);
	run_for(&e, 100);
	while ((m = peer_recv(&e, 0)))
		mem_deref(m); /* a retransmission may have crossed the PRACK */
	m = peer_recv(&e, 400);
	assert_null(m); /* acknowledged: no more 183 */
	/* the next reliable provisional carries RSeq + 1 */
	assert_int_equal(sip_sess_progress(e.sess, 180, NULL, NULL, 0, true), 0);
	m = peer_recv(&e, 1000);
	assert_non_null(m);
	assert_int_equal(m->scode, 180);
	assert_int_equal(sip_u32_decode(&rseq2, sip_msg_hdr(m, SIP_HDR_RSEQ)->val), 0);
	assert_int_equal(rseq2, rseq1 + 1);
	mem_deref(m);
	/* CANCEL: 200 to the CANCEL, 487 to the INVITE, the app hears code 487 */
	peer_send(&e, "CANCEL sip:ua@127.0.0.1:%U SIP/2.0\n"
	              "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKinv1;rport\n"
	              "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>\nFrom: <sip:t@127.0.0.1>;tag=fr\n"
	              "Call-ID: rel1@test\nCSeq: 10 CANCEL\nContent-Length: 0\n\n");
	bool got487 = false, got200 = false;
	for (int i = 0; i < 6 && !(got487 && got200); i++) {
		m = peer_recv(&e, 500);
		if (!m)
			break;
		if (m->cseq.mid == SIP_M_CANCEL && m->scode == 200)
			got200 = true;
		if (m->cseq.mid == SIP_M_INVITE && m->scode == 487)
			got487 = true;
		mem_deref(m);
	}
	assert_true(got200);
	assert_true(got487);
	assert_int_equal(e.closed, 1);
	assert_int_equal(e.closed_code, 487);
	env_down(&e);
}

static void test_uas_422_and_420(void **state)
{
	struct env e;
	struct sip_msg *m;
	uint32_t v;

	(void)state;
	env_up(&e, 100);
	sip_ua_set_sess_handler(e.ua, on_new_sess, &e);
	peer_send(&e, "INVITE sip:ua@127.0.0.1:%U SIP/2.0\n"
	              "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKse1;rport\n"
	              "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>\nFrom: <sip:t@127.0.0.1>;tag=s1\n"
	              "Call-ID: se1@test\nCSeq: 1 INVITE\nContact: <sip:t@127.0.0.1:%P>\n"
	              "Supported: timer\nSession-Expires: 30\nContent-Length: 0\n\n");
	m = peer_recv(&e, 2000);
	while (m && m->scode == 100) {
		mem_deref(m);
		m = peer_recv(&e, 2000);
	}
	assert_non_null(m);
	assert_int_equal(m->scode, 422);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_MIN_SE));
	assert_int_equal(sip_u32_decode(&v, sip_msg_hdr(m, SIP_HDR_MIN_SE)->val), 0);
	assert_int_equal(v, 90);
	assert_int_equal(e.news, 0);
	mem_deref(m);

	peer_send(&e, "INVITE sip:ua@127.0.0.1:%U SIP/2.0\n"
	              "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKrq1;rport\n"
	              "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>\nFrom: <sip:t@127.0.0.1>;tag=s2\n"
	              "Call-ID: rq1@test\nCSeq: 1 INVITE\nContact: <sip:t@127.0.0.1:%P>\n"
	              "Require: foo, 100rel\nContent-Length: 0\n\n");
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_int_equal(m->scode, 420);
	assert_true(sip_msg_has_token(m, SIP_HDR_UNSUPPORTED, "foo"));
	assert_false(sip_msg_has_token(m, SIP_HDR_UNSUPPORTED, "100rel"));
	mem_deref(m);

	/* An INVITE without Contact (RFC 4475 inv2543, RFC 2543 style) is accepted, the From
	 * URI standing for the remote target; it used to get a 500. */
	e.prov_code = 180;
	peer_send(&e, "INVITE sip:ua@127.0.0.1:%U SIP/2.0\n"
	              "Via: SIP/2.0/UDP 127.0.0.1:%P;branch=z9hG4bKnc1;rport\n"
	              "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>\nFrom: <sip:t@127.0.0.1>;tag=s3\n"
	              "Call-ID: nc1@test\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
	m = peer_recv(&e, 2000);
	while (m && m->scode == 100) {
		mem_deref(m);
		m = peer_recv(&e, 2000);
	}
	assert_non_null(m);
	assert_int_equal(m->scode, 180);
	assert_int_equal(e.news, 1);
	assert_string_equal(sip_dialog_remote_target(sip_sess_dialog(e.sess)), "sip:t@127.0.0.1");
	mem_deref(m);
	env_down(&e);
}

/* The UA calls a scripted peer: 180 reliable -> PRACK, 200 with Record-Route
 * -> ACK along the route, 2xx retransmission -> same ACK, BYE -> 200. */
static void test_uac_session(void **state)
{
	struct sip_sess_connect_opts o = {0};
	struct env e;
	struct sip_msg *inv, *m, *ack1, *ack2;
	char target[64], resp[2048];
	struct sip_sess *s = NULL;
	char via[256], from[256], callid[128];

	(void)state;
	env_up(&e, 100);
	snprintf(target, sizeof(target), "sip:peer@127.0.0.1:%u", e.port);
	o.target = target;
	o.body = sdp;
	o.body_len = strlen(sdp);
	assert_int_equal(sip_sess_connect(&s, e.ua, &o, &hs, &e), 0);
	inv = peer_recv(&e, 2000);
	assert_non_null(inv);
	assert_int_equal(inv->mid, SIP_M_INVITE);
	assert_true(pl_eq(inv->ruri_pl, pl_make(target, strlen(target))));
	assert_true(sip_msg_has_token(inv, SIP_HDR_SUPPORTED, "100rel"));
	assert_non_null(sip_msg_hdr(inv, SIP_HDR_SESSION_EXPIRES));
	assert_non_null(sip_msg_hdr(inv, SIP_HDR_CONTACT));
	assert_true(inv->body.l == strlen(sdp));
	pl_strcpy(sip_msg_hdr(inv, SIP_HDR_VIA)->val, via, sizeof(via));
	pl_strcpy(inv->from.val, from, sizeof(from));
	pl_strcpy(inv->callid, callid, sizeof(callid));
	/* reliable 180 */
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 180 Ringing\nVia: %s\nFrom: %s\nTo: <%s>;tag=pt\nCall-ID: %s\n"
	         "CSeq: %u INVITE\nContact: <sip:peer@127.0.0.1:%%P>\nRequire: 100rel\n"
	         "RSeq: 77\nContent-Length: 0\n\n",
	         via, from, target, callid, inv->cseq.num);
	peer_send(&e, resp);
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_int_equal(m->mid, SIP_M_PRACK);
	assert_int_equal(e.progress, 1);
	assert_int_equal(sip_sess_state(s), SIP_SESS_EARLY);
	struct sip_rack rack;
	assert_int_equal(sip_rack_decode(&rack, sip_msg_hdr(m, SIP_HDR_RACK)->val), 0);
	assert_int_equal(rack.rseq, 77);
	assert_int_equal(rack.cseq, inv->cseq.num);
	assert_true(m->cseq.num > inv->cseq.num);
	assert_true(pl_eq(m->to.tag, PL("pt")));
	mem_deref(m);
	/* 200 with Record-Route: the ACK goes by the route (loose: R-URI = Contact) */
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 200 OK\nVia: %s\nFrom: %s\nTo: <%s>;tag=pt\nCall-ID: %s\n"
	         "CSeq: %u INVITE\nRecord-Route: <sip:127.0.0.1:%%P;lr>\n"
	         "Contact: <sip:peer@192.0.2.77>\nSession-Expires: 120;refresher=uac\n"
	         "Content-Type: application/sdp\nContent-Length: %zu\n\n%s",
	         via, from, target, callid, inv->cseq.num, strlen(sdp), sdp);
	peer_send(&e, resp);
	ack1 = peer_recv(&e, 2000);
	while (ack1 && ack1->mid == SIP_M_PRACK) { /* PRACK retransmission */
		mem_deref(ack1);
		ack1 = peer_recv(&e, 2000);
	}
	assert_non_null(ack1);
	assert_int_equal(ack1->mid, SIP_M_ACK);
	assert_int_equal(ack1->cseq.num, inv->cseq.num);
	assert_true(pl_eq(ack1->ruri_pl, PL("sip:peer@192.0.2.77")));
	assert_non_null(sip_msg_hdr(ack1, SIP_HDR_ROUTE));
	assert_int_equal(e.established, 1);
	assert_int_equal(e.answers, 1);
	bool we_refresh = false;
	assert_int_equal(sip_sess_interval(s, &we_refresh), 120);
	assert_true(we_refresh);
	/* the 2xx again: the same ACK again (same branch) */
	peer_send(&e, resp);
	ack2 = peer_recv(&e, 2000);
	assert_non_null(ack2);
	assert_int_equal(ack2->mid, SIP_M_ACK);
	assert_true(pl_eq(ack1->via.branch, ack2->via.branch));
	assert_int_equal(e.established, 1);
	mem_deref(ack1);
	mem_deref(ack2);
	/* hang up: BYE along the route with a higher CSeq; its 200 closes the session */
	assert_int_equal(sip_sess_bye(s, "Reason: Q.850;cause=16\r\n"), 0);
	m = peer_recv(&e, 2000);
	assert_non_null(m);
	assert_int_equal(m->mid, SIP_M_BYE);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_REASON));
	assert_true(m->cseq.num > inv->cseq.num + 1);
	pl_strcpy(sip_msg_hdr(m, SIP_HDR_VIA)->val, via, sizeof(via));
	snprintf(resp, sizeof(resp),
	         "SIP/2.0 200 OK\nVia: %s\nFrom: %.*s\nTo: %.*s\nCall-ID: %s\nCSeq: %u BYE\n"
	         "Content-Length: 0\n\n",
	         via, PL_ARG(m->from.val), PL_ARG(m->to.val), callid, m->cseq.num);
	mem_deref(m);
	peer_send(&e, resp);
	run_for(&e, 100);
	assert_int_equal(e.closed, 1);
	assert_int_equal(e.closed_err, 0);
	assert_int_equal(e.closed_code, 200);
	mem_deref(inv);
	env_down(&e);
}

/* ---- helpers for scripted dialogs ---- */

/* Answers req from the peer socket (To tag "peer" added when absent). */
static void peer_reply(struct env *e, const struct sip_msg *req, uint16_t code, const char *extra,
                       const char *body)
{
	char text[4096];

	snprintf(text, sizeof(text),
	         "SIP/2.0 %u Whatever\nVia: %.*s\nFrom: %.*s\nTo: %.*s%s\nCall-ID: %.*s\n"
	         "CSeq: %u %.*s\nContact: <sip:peer@127.0.0.1:%%P>\n%s%sContent-Length: %zu\n\n%s",
	         code, PL_ARG(sip_msg_hdr(req, SIP_HDR_VIA)->val), PL_ARG(req->from.val),
	         PL_ARG(req->to.val), req->to.tag.l ? "" : ";tag=peer", PL_ARG(req->callid),
	         req->cseq.num, PL_ARG(req->cseq.method), extra ? extra : "",
	         body ? "Content-Type: application/sdp\n" : "", body ? strlen(body) : 0,
	         body ? body : "");
	peer_send(e, text);
}

/* A request from the peer inside the dialog a 2xx (resp) to the peer's INVITE made. */
static void peer_in_dialog(struct env *e, const struct sip_msg *resp, const char *method,
                           uint32_t cseq, const char *branch, const char *extra, const char *body)
{
	char text[4096];

	snprintf(text, sizeof(text),
	         "%s sip:ua@127.0.0.1:%%U SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%%P;branch=%s;rport\n"
	         "Max-Forwards: 70\nFrom: %.*s\nTo: %.*s\nCall-ID: %.*s\nCSeq: %u %s\n"
	         "Contact: <sip:peer@127.0.0.1:%%P>\n%s%sContent-Length: %zu\n\n%s",
	         method, branch, PL_ARG(resp->from.val), PL_ARG(resp->to.val), PL_ARG(resp->callid),
	         cseq, method, extra ? extra : "", body ? "Content-Type: application/sdp\n" : "",
	         body ? strlen(body) : 0, body ? body : "");
	peer_send(e, text);
}

static void peer_invite(struct env *e, const char *callid, const char *extra)
{
	char text[2048];

	snprintf(text, sizeof(text),
	         "INVITE sip:ua@127.0.0.1:%%U SIP/2.0\n"
	         "Via: SIP/2.0/UDP 127.0.0.1:%%P;branch=z9hG4bK%s;rport\n"
	         "Max-Forwards: 70\nTo: <sip:ua@127.0.0.1>\nFrom: <sip:t@127.0.0.1>;tag=ft%s\n"
	         "Call-ID: %s\nCSeq: 1 INVITE\nContact: <sip:t@127.0.0.1:%%P>\n%s"
	         "Content-Type: application/sdp\nContent-Length: %zu\n\n%s",
	         callid, callid, callid, extra ? extra : "", strlen(sdp), sdp);
	peer_send(e, text);
}

/* INVITE from the peer, answered by the app at once, ACKed: returns the 200. */
static struct sip_msg *peer_call(struct env *e, const char *callid, const char *extra)
{
	struct sip_msg *ok;
	char br[64];

	e->answer_now = true;
	peer_invite(e, callid, extra);
	ok = peer_wait_resp(e, SIP_M_INVITE, 200, 2000);
	assert_non_null(ok);
	assert_true(ok->to.tag.l > 0);
	assert_non_null(sip_msg_hdr(ok, SIP_HDR_CONTACT));
	assert_true(ok->body.l == strlen(sdp));
	snprintf(br, sizeof(br), "z9hG4bKack%s", callid);
	peer_in_dialog(e, ok, "ACK", 1, br, NULL, NULL);
	run_for(e, 30);
	return ok;
}

static void test_uas_2xx_until_ack(void **state)
{
	struct env e;
	struct sip_msg *ok, *x, *bye = NULL;
	unsigned n = 0;
	uint64_t t0;

	(void)state;
	env_up(&e, 20); /* T1 20 ms, T2 80 ms: 64*T1 = 1280 ms */
	sip_ua_set_sess_handler(e.ua, on_new_sess, &e);
	e.answer_now = true;
	peer_invite(&e, "noack", NULL);
	ok = peer_wait_resp(&e, SIP_M_INVITE, 200, 2000);
	assert_non_null(ok);
	t0 = loop_clock_ms();
	while (!bye && loop_clock_ms() - t0 < 3000) {
		x = peer_recv(&e, 600);
		if (!x)
			break;
		if (!x->req && x->scode == 200 && x->cseq.mid == SIP_M_INVITE) {
			assert_true(pl_eq(x->to.tag, ok->to.tag));
			n++;
			mem_deref(x);
		} else if (x->req && x->mid == SIP_M_BYE) {
			bye = x;
		} else {
			mem_deref(x);
		}
	}
	/* 20, 40, 80, 80, ... ms: about 17 retransmissions in 1280 ms */
	assert_true(n >= 8);
	assert_true(n <= 20);
	assert_non_null(bye); /* §13.3.1.4: no ACK within 64*T1 -> BYE */
	assert_true(loop_clock_ms() - t0 >= 1100);
	assert_true(pl_eq(bye->from.tag, ok->to.tag));
	assert_int_equal(e.closed, 1);
	assert_int_equal(e.closed_err, ETIMEDOUT);
	assert_int_equal(e.established, 0);
	mem_deref(bye);
	mem_deref(ok);
	env_down(&e);
}

static void test_uas_call_reinvite_update_bye(void **state)
{
	struct env e;
	struct sip_msg *ok, *reinv, *x;
	uint32_t reinv_cseq;

	(void)state;
	env_up(&e, 100);
	sip_ua_set_sess_handler(e.ua, on_new_sess, &e);
	ok = peer_call(&e, "call1", NULL);
	assert_int_equal(e.established, 1);
	assert_int_equal(sip_sess_state(e.sess), SIP_SESS_ESTABLISHED);
	x = peer_recv(&e, 250);
	assert_null(x); /* ACKed: the 200 is not retransmitted */

	/* our re-INVITE with a new offer */
	assert_int_equal(sip_sess_modify(e.sess, false, NULL, sdp2, strlen(sdp2)), 0);
	assert_int_equal(sip_sess_modify(e.sess, true, NULL, sdp2, strlen(sdp2)), EBUSY);
	reinv = peer_wait_req(&e, SIP_M_INVITE, 2000);
	assert_non_null(reinv);
	assert_true(pl_eq(reinv->to.tag, ok->from.tag));
	assert_true(pl_eq(reinv->from.tag, ok->to.tag));
	char rt[64];
	snprintf(rt, sizeof(rt), "sip:t@127.0.0.1:%u", e.port); /* the peer's Contact */
	assert_true(pl_eq(reinv->ruri_pl, pl_make(rt, strlen(rt))));
	assert_true(reinv->body.l == strlen(sdp2));
	reinv_cseq = reinv->cseq.num;
	/* glare: the peer's own re-INVITE gets 491 (§14.2) */
	peer_in_dialog(&e, ok, "INVITE", 2, "z9hG4bKglare", NULL, sdp);
	x = peer_wait_resp(&e, SIP_M_INVITE, 491, 2000);
	assert_non_null(x);
	mem_deref(x);
	/* the peer answers ours: ACK with the re-INVITE's CSeq, answer handler */
	peer_reply(&e, reinv, 200, NULL, sdp);
	x = peer_wait_req(&e, SIP_M_ACK, 2000);
	assert_non_null(x);
	assert_int_equal(x->cseq.num, reinv_cseq);
	assert_int_equal(e.answers, 1);
	mem_deref(x);
	mem_deref(reinv);

	/* UPDATE with an offer (RFC 3311): 200 with the app's answer */
	peer_in_dialog(&e, ok, "UPDATE", 3, "z9hG4bKupd1", NULL, sdp);
	x = peer_wait_resp(&e, SIP_M_UPDATE, 200, 2000);
	assert_non_null(x);
	assert_int_equal(e.offers, 1);
	assert_true(x->body.l == strlen(sdp2));
	mem_deref(x);
	/* an old CSeq is refused with 500 (§12.2.2) */
	peer_in_dialog(&e, ok, "UPDATE", 3, "z9hG4bKupd2", NULL, NULL);
	x = peer_wait_resp(&e, SIP_M_UPDATE, 500, 2000);
	assert_non_null(x);
	mem_deref(x);

	/* BYE: 200 and the session ends */
	peer_in_dialog(&e, ok, "BYE", 4, "z9hG4bKbye1", NULL, NULL);
	x = peer_wait_resp(&e, SIP_M_BYE, 200, 2000);
	assert_non_null(x);
	mem_deref(x);
	assert_int_equal(e.closed, 1);
	assert_int_equal(e.closed_err, 0);
	assert_int_equal(e.closed_code, 0);
	/* the dialog is gone: another BYE gets 481 */
	peer_in_dialog(&e, ok, "BYE", 5, "z9hG4bKbye2", NULL, NULL);
	x = peer_wait_resp(&e, SIP_M_BYE, 481, 2000);
	assert_non_null(x);
	mem_deref(x);
	mem_deref(ok);
	env_down(&e);
}

/* RFC 4028 with 2-3 s intervals (our Min-SE lowered to 1 s for the test). */
static void test_session_timer_refresh_and_expiry(void **state)
{
	struct env e;
	struct sip_msg *ok, *upd, *bye;
	struct sip_session_expires se;
	uint64_t t0;

	(void)state;
	env_up_cfg(&e, 50, 3, 1);
	sip_ua_set_sess_handler(e.ua, on_new_sess, &e);
	/* the UAC asks us (UAS) to refresh: UPDATE, since the peer allows it */
	ok = peer_call(&e, "st1",
	               "Supported: timer\nAllow: INVITE, ACK, BYE, UPDATE\n"
	               "Session-Expires: 2;refresher=uas\n");
	assert_non_null(sip_msg_hdr(ok, SIP_HDR_SESSION_EXPIRES));
	assert_int_equal(
	    sip_session_expires_decode(&se, sip_msg_hdr(ok, SIP_HDR_SESSION_EXPIRES)->val), 0);
	assert_int_equal(se.delta, 2);
	assert_true(pl_eq(se.refresher, PL("uas")));
	t0 = loop_clock_ms();
	upd = peer_wait_req(&e, SIP_M_UPDATE, 3000);
	assert_non_null(upd);
	assert_true(loop_clock_ms() - t0 >= 800); /* half the interval */
	assert_non_null(sip_msg_hdr(upd, SIP_HDR_SESSION_EXPIRES));
	assert_int_equal(upd->body.l, 0);
	peer_reply(&e, upd, 200, "Session-Expires: 2;refresher=uac\n", NULL);
	mem_deref(upd);
	upd = peer_wait_req(&e, SIP_M_UPDATE, 3000); /* and again, a second later */
	assert_non_null(upd);
	peer_reply(&e, upd, 200, "Session-Expires: 2;refresher=uac\n", NULL);
	mem_deref(upd);
	assert_int_equal(e.closed, 0);
	sip_sess_close(e.sess, 0);
	bye = peer_wait_req(&e, SIP_M_BYE, 2000);
	assert_non_null(bye);
	peer_reply(&e, bye, 200, NULL, NULL);
	mem_deref(bye);
	mem_deref(ok);
	assert_int_equal(e.closed, 0); /* closed by the app: no handler */

	/* the UAC refreshes but never does: at 3 - min(32, 3/3) = 2 s we BYE */
	ok = peer_call(&e, "st2", "Supported: timer\nSession-Expires: 3;refresher=uac\n");
	assert_int_equal(
	    sip_session_expires_decode(&se, sip_msg_hdr(ok, SIP_HDR_SESSION_EXPIRES)->val), 0);
	assert_int_equal(se.delta, 3);
	assert_true(pl_eq(se.refresher, PL("uac")));
	assert_true(sip_msg_has_token(ok, SIP_HDR_REQUIRE, "timer"));
	t0 = loop_clock_ms();
	bye = peer_wait_req(&e, SIP_M_BYE, 4000);
	assert_non_null(bye);
	assert_true(loop_clock_ms() - t0 >= 1700);
	assert_int_equal(e.closed, 1);
	assert_int_equal(e.closed_err, ETIMEDOUT);
	struct sip_ua_stats st;
	sip_ua_stats(e.ua, &st);
	assert_int_equal(st.st_expired, 1);
	assert_true(st.st_refresh >= 2);
	mem_deref(bye);
	mem_deref(ok);
	env_down(&e);
}

static int lookup_pw(struct pl username, struct pl realm, enum sip_digest_alg alg,
                     struct sip_auth_secret *sec, void *arg)
{
	if (!pl_eq(username, PL("alice")))
		return ENOENT;
	sec->kind = SIP_AUTH_PASSWORD;
	snprintf(sec->secret, sizeof(sec->secret), "s3cret");
	return 0;
}

/* 401 -> the INVITE again with Authorization that a digest server accepts. */
static void test_uac_digest_retry(void **state)
{
	struct sip_auth_server_cfg acfg = {.realm = "tandem.test"};
	struct sip_sess_connect_opts o = {0};
	struct sip_auth_server *as = NULL;
	struct sip_sess *s = NULL;
	struct sip_msg *inv1, *inv2;
	const struct sip_hdr *auth;
	char target[64], *chal = NULL;
	struct env e;

	(void)state;
	env_up(&e, 100);
	assert_int_equal(sip_auth_server_alloc(&as, &acfg), 0);
	assert_int_equal(sip_auth_challenge(as, false, false, &chal), 0);
	assert_int_equal(sip_ua_set_credentials(e.ua, "tandem.test", "alice", "s3cret"), 0);
	snprintf(target, sizeof(target), "sip:gw@127.0.0.1:%u", e.port);
	o.target = target;
	o.body = sdp;
	o.body_len = strlen(sdp);
	assert_int_equal(sip_sess_connect(&s, e.ua, &o, &hs, &e), 0);
	inv1 = peer_wait_req(&e, SIP_M_INVITE, 2000);
	assert_non_null(inv1);
	assert_null(sip_msg_hdr(inv1, SIP_HDR_AUTHORIZATION));
	peer_reply(&e, inv1, 401, chal, NULL);
	inv2 = peer_wait_req(&e, SIP_M_INVITE, 2000);
	assert_non_null(inv2);
	assert_int_equal(inv2->cseq.num, inv1->cseq.num + 1);
	assert_true(pl_eq(inv2->callid, inv1->callid));
	assert_true(pl_eq(inv2->from.tag, inv1->from.tag));
	assert_false(pl_eq(inv2->via.branch, inv1->via.branch));
	assert_true(inv2->body.l == strlen(sdp));
	auth = sip_msg_hdr(inv2, SIP_HDR_AUTHORIZATION);
	assert_non_null(auth);
	assert_int_equal(
	    sip_auth_verify(as, auth->val, PL("INVITE"), inv2->ruri_pl, lookup_pw, NULL, NULL),
	    SIP_AUTH_OK);
	/* the app only hears the final outcome */
	peer_reply(&e, inv2, 486, NULL, NULL);
	run_for(&e, 100);
	assert_int_equal(e.closed, 1);
	assert_int_equal(e.closed_code, 486);
	mem_deref(inv1);
	mem_deref(inv2);
	mem_deref(chal);
	mem_deref(as);
	env_down(&e);
}

/* sip_sess_close() before an answer: CANCEL once a 1xx came; the 487 is absorbed. */
static void test_uac_cancel(void **state)
{
	struct sip_sess_connect_opts o = {0};
	struct sip_sess *s = NULL;
	struct sip_msg *inv, *cancel;
	char target[64];
	struct env e;

	(void)state;
	env_up(&e, 100);
	snprintf(target, sizeof(target), "sip:gw@127.0.0.1:%u", e.port);
	o.target = target; /* delayed offer: no body */
	assert_int_equal(sip_sess_connect(&s, e.ua, &o, &hs, &e), 0);
	inv = peer_wait_req(&e, SIP_M_INVITE, 2000);
	assert_non_null(inv);
	assert_int_equal(inv->body.l, 0);
	peer_reply(&e, inv, 180, NULL, NULL);
	run_for(&e, 50);
	assert_int_equal(e.progress, 1);
	sip_sess_close(s, 0);
	cancel = peer_wait_req(&e, SIP_M_CANCEL, 2000);
	assert_non_null(cancel);
	assert_true(pl_eq(cancel->via.branch, inv->via.branch));
	assert_int_equal(cancel->cseq.num, inv->cseq.num);
	peer_reply(&e, cancel, 200, NULL, NULL);
	peer_reply(&e, inv, 487, NULL, NULL);
	run_for(&e, 100);
	assert_int_equal(e.closed, 0); /* closed by the app: no handler */
	struct sip_ua_stats st;
	sip_ua_stats(e.ua, &st);
	assert_int_equal(st.sessions, 0);
	mem_deref(cancel);
	mem_deref(inv);
	env_down(&e);
}

/* ---- next hops by name: a fake DNS server that knows peer.test = 127.0.0.1 ---- */

struct fakedns {
	struct loop *loop;
	int fd;
	uint16_t port;
	unsigned queries;
};

static void fakedns_read(int fd, unsigned events, void *arg)
{
	struct fakedns *f = arg;
	uint8_t q[512], out[600];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	char name[256];
	size_t nl = 0, i = 12, n;
	uint16_t qtype;
	ssize_t len = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);

	if (len < 17)
		return;
	while (i < (size_t)len && q[i] && nl + q[i] + 2 < sizeof(name) &&
	       i + q[i] + 5u < (size_t)len) {
		if (nl)
			name[nl++] = '.';
		memcpy(name + nl, q + i + 1, q[i]);
		nl += q[i];
		i += q[i] + 1u;
	}
	name[nl] = 0;
	i++;
	qtype = (uint16_t)(q[i] << 8 | q[i + 1]);
	i += 4;
	f->queries++;
	memcpy(out, q, i);
	n = i;
	/* two.test: also AAAA ::1, where nobody answers (RFC 3263 failover) */
	bool two = !strcasecmp(name, "two.test");
	bool known = !strcasecmp(name, "peer.test") || two;
	out[2] = 0x84 | (q[2] & 0x01);
	out[3] = known ? 0x80 : 0x83; /* NOERROR / NXDOMAIN */
	out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
	if (known && qtype == 1) { /* A 127.0.0.1, TTL 60 */
		static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
		                             0,    60,   0, 4, 127, 0, 0, 1};
		memcpy(out + n, rr, sizeof(rr));
		n += sizeof(rr);
		out[7] = 1;
	}
	if (two && qtype == 28) { /* AAAA ::1 */
		static const uint8_t rr[] = {0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0, 0,
		                             0,    0,    0, 0,  0, 0, 0, 0, 0, 0,  0, 0,  0, 1};
		memcpy(out + n, rr, sizeof(rr));
		n += sizeof(rr);
		out[7] = 1;
	}
	sendto(fd, out, n, 0, (struct sockaddr *)&from, fl);
}

static void fakedns_start(struct fakedns *f, struct loop *l)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->loop = l;
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(f->fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sin, &sl), 0);
	f->port = ntohs(sin.sin_port);
	assert_int_equal(loop_fd_listen(l, f->fd, LOOP_READ, fakedns_read, f), 0);
}

/* INVITE, ACK (through a Record-Route by name), ACK again and BYE, all after DNS. */
static void test_uac_dns_next_hop(void **state)
{
	struct sip_ua_config cfg = {0};
	struct sip_sess_connect_opts o = {0};
	struct sip_dns_conf dc = {.timeout_ms = 500, .tries = 1};
	struct sip_dns *dns = NULL;
	struct fakedns fd;
	struct sip_sess *s = NULL;
	struct sip_msg *inv, *ack, *bye;
	char srv[64], target[96], extra[256];
	unsigned q0;
	struct env e;

	(void)state;
	env_up(&e, 100);
	fakedns_start(&fd, e.loop);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", fd.port);
	dc.servers = srv;
	assert_int_equal(sip_dns_alloc(&dns, e.loop, &dc), 0);
	/* a second UA on the same loop, with the resolver */
	sip_ua_free(e.ua);
	cfg.nlisten = 1;
	cfg.listen[0].tp = SIP_TP_UDP;
	sa_set_str(&cfg.listen[0].addr, "127.0.0.1", 0);
	cfg.t1_ms = 100;
	cfg.dns = dns;
	assert_int_equal(sip_ua_alloc(&e.ua, e.loop, &cfg), 0);
	assert_int_equal(sip_ua_local(e.ua, SIP_TP_UDP, AF_INET, &e.ua_addr), 0);
	e.ua_port = sa_port(&e.ua_addr);

	snprintf(target, sizeof(target), "sip:peer@peer.test:%u;transport=udp", e.port);
	o.target = target;
	o.body = sdp;
	o.body_len = strlen(sdp);
	assert_int_equal(sip_sess_connect(&s, e.ua, &o, &hs, &e), 0);
	inv = peer_wait_req(&e, SIP_M_INVITE, 3000);
	assert_non_null(inv);
	assert_true(fd.queries >= 1);
	assert_true(pl_eq(inv->ruri_pl, pl_make(target, strlen(target))));
	/* the route by name without transport: another lookup, then the ACK */
	q0 = fd.queries;
	snprintf(extra, sizeof(extra), "Record-Route: <sip:peer.test:%u;lr>\n", e.port);
	peer_reply(&e, inv, 200, extra, sdp);
	ack = peer_wait_req(&e, SIP_M_ACK, 3000);
	assert_non_null(ack);
	assert_true(fd.queries > q0);
	assert_int_equal(e.established, 1);
	mem_deref(ack);
	/* the 2xx again: the ACK again, from the cache (no new query) */
	q0 = fd.queries;
	peer_reply(&e, inv, 200, extra, sdp);
	ack = peer_wait_req(&e, SIP_M_ACK, 3000);
	assert_non_null(ack);
	assert_int_equal(fd.queries, q0);
	mem_deref(ack);
	assert_int_equal(sip_sess_bye(s, NULL), 0);
	bye = peer_wait_req(&e, SIP_M_BYE, 3000);
	assert_non_null(bye);
	assert_int_equal(fd.queries, q0);
	peer_reply(&e, bye, 200, NULL, NULL);
	run_for(&e, 100);
	assert_int_equal(e.closed, 1);
	assert_int_equal(e.closed_code, 200);
	mem_deref(bye);
	mem_deref(inv);

	/* a name that does not exist: the session fails with the resolver's error */
	e.closed = 0;
	s = NULL;
	o.target = "sip:x@nosuch.test:5060;transport=udp";
	assert_int_equal(sip_sess_connect(&s, e.ua, &o, &hs, &e), 0);
	for (int i = 0; i < 200 && !e.closed; i++)
		loop_run_once(e.loop, 10);
	assert_int_equal(e.closed, 1);
	assert_int_equal(e.closed_err, ENOENT);

	sip_ua_free(e.ua);
	e.ua = NULL;
	mem_deref(dns);
	loop_fd_forget(e.loop, fd.fd);
	close(fd.fd);
	loop_free(e.loop);
	close(e.fd);
}

static void failover_resp(int err, const struct sip_msg *resp, void *arg)
{
	uint16_t *code = arg;

	if (resp && resp->scode < 200)
		return;
	*code = resp ? resp->scode : 1;
}

/*
 * RFC 3263 §4.3: two.test has AAAA ::1 (the UA sends there first: RFC 6724
 * prefers it; nobody answers) and A 127.0.0.1 (the peer). The MESSAGE times
 * out on the first target (64*T1 = 1.28 s) and goes to the second as a new
 * transaction: same CSeq, new branch. The next request finds both targets
 * in the cache and fails over the same way without asking the DNS.
 */
static void test_uac_dns_failover(void **state)
{
	struct sip_ua_config cfg = {0};
	struct sip_dns_conf dc = {.timeout_ms = 500, .tries = 1};
	struct sip_dns *dns = NULL;
	struct sip_dialog *d = NULL;
	struct sip_ua_stats st;
	struct fakedns fd;
	struct sip_msg *m;
	char srv[64], target[96];
	uint16_t code = 0;
	uint64_t t0;
	struct env e;

	(void)state;
	env_up(&e, 20);
	fakedns_start(&fd, e.loop);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", fd.port);
	dc.servers = srv;
	assert_int_equal(sip_dns_alloc(&dns, e.loop, &dc), 0);
	sip_ua_free(e.ua);
	cfg.nlisten = 2;
	cfg.listen[0].tp = SIP_TP_UDP;
	sa_set_str(&cfg.listen[0].addr, "127.0.0.1", 0);
	cfg.listen[1].tp = SIP_TP_UDP;
	sa_set_str(&cfg.listen[1].addr, "::1", 0);
	cfg.t1_ms = 20;
	cfg.dns = dns;
	assert_int_equal(sip_ua_alloc(&e.ua, e.loop, &cfg), 0);
	assert_int_equal(sip_ua_local(e.ua, SIP_TP_UDP, AF_INET, &e.ua_addr), 0);
	e.ua_port = sa_port(&e.ua_addr);

	snprintf(target, sizeof(target), "sip:peer@two.test:%u;transport=udp", e.port);
	assert_int_equal(
	    sip_dialog_alloc_uac(&d, e.ua, target, "<sip:ua@127.0.0.1>", NULL, NULL, NULL), 0);
	for (int round = 0; round < 2; round++) {
		unsigned q0 = fd.queries;
		code = 0;
		t0 = loop_clock_ms();
		assert_int_equal(sip_dialog_send(NULL, d, "MESSAGE", NULL, "text/plain", "hi", 2,
		                                 failover_resp, &code),
		                 0);
		m = peer_wait_req(&e, SIP_M_MESSAGE, 4000);
		assert_non_null(m);
		/* it came after the first target's timeout, over IPv4 */
		assert_true(loop_clock_ms() - t0 >= 1000);
		assert_int_equal(m->cseq.num, sip_dialog_local_cseq(d));
		peer_reply(&e, m, 200, NULL, NULL);
		mem_deref(m);
		run_for(&e, 50);
		assert_int_equal(code, 200);
		sip_ua_stats(e.ua, &st);
		assert_int_equal(st.failover, (uint64_t)round + 1);
		if (round == 1)
			assert_int_equal(fd.queries, q0); /* both targets came from the cache */
	}
	mem_deref(d);
	sip_ua_free(e.ua);
	e.ua = NULL;
	mem_deref(dns);
	loop_fd_forget(e.loop, fd.fd);
	close(fd.fd);
	loop_free(e.loop);
	close(e.fd);
}

/* Two forks answer (§13.2.2.4): the first 2xx makes the session, the second is
 * ACKed and sent a BYE on its own dialog. */
static void test_uac_fork_2xx(void **state)
{
	struct sip_sess_connect_opts o = {0};
	struct sip_sess *s = NULL;
	struct sip_msg *inv, *ack, *bye;
	char target[64], text[2048];
	struct env e;

	(void)state;
	env_up(&e, 100);
	snprintf(target, sizeof(target), "sip:gw@127.0.0.1:%u", e.port);
	o.target = target;
	o.body = sdp;
	o.body_len = strlen(sdp);
	assert_int_equal(sip_sess_connect(&s, e.ua, &o, &hs, &e), 0);
	inv = peer_wait_req(&e, SIP_M_INVITE, 2000);
	assert_non_null(inv);
	peer_reply(&e, inv, 200, NULL, sdp); /* To tag "peer" */
	ack = peer_wait_req(&e, SIP_M_ACK, 2000);
	assert_non_null(ack);
	assert_true(pl_eq(ack->to.tag, PL("peer")));
	mem_deref(ack);
	/* the second fork: another tag, another Contact */
	snprintf(text, sizeof(text),
	         "SIP/2.0 200 OK\nVia: %.*s\nFrom: %.*s\nTo: %.*s;tag=fork2\nCall-ID: %.*s\n"
	         "CSeq: %u INVITE\nContact: <sip:fork2@127.0.0.1:%%P>\n"
	         "Content-Type: application/sdp\nContent-Length: %zu\n\n%s",
	         PL_ARG(sip_msg_hdr(inv, SIP_HDR_VIA)->val), PL_ARG(inv->from.val),
	         PL_ARG(inv->to.val), PL_ARG(inv->callid), inv->cseq.num, strlen(sdp), sdp);
	peer_send(&e, text);
	ack = peer_wait_req(&e, SIP_M_ACK, 2000);
	assert_non_null(ack);
	assert_true(pl_eq(ack->to.tag, PL("fork2")));
	assert_int_equal(ack->cseq.num, inv->cseq.num);
	bye = peer_wait_req(&e, SIP_M_BYE, 2000);
	assert_non_null(bye);
	assert_true(pl_eq(bye->to.tag, PL("fork2")));
	assert_true(pl_eq(bye->callid, inv->callid));
	assert_true(pl_eq(bye->from.tag, inv->from.tag));
	peer_reply(&e, bye, 200, NULL, NULL);
	run_for(&e, 50);
	/* our session is untouched */
	assert_int_equal(e.established, 1);
	assert_int_equal(e.closed, 0);
	assert_int_equal(sip_sess_state(s), SIP_SESS_ESTABLISHED);
	assert_true(strcmp(sip_dialog_remote_tag(sip_sess_dialog(s)), "peer") == 0);
	mem_deref(ack);
	mem_deref(bye);
	mem_deref(inv);
	env_down(&e);
}

/* Delayed offer answered early: INVITE without SDP, reliable 183 with the offer,
 * PRACK with our answer, then a 2xx whose ACK carries no body. */
/* A response from fork `tag` (Contact user = tag) to the INVITE inv. */
static void fork_resp(struct env *e, const struct sip_msg *inv, uint16_t code, const char *tag,
                      uint32_t rseq, bool with_sdp)
{
	char text[2048];

	snprintf(
	    text, sizeof(text),
	    "SIP/2.0 %u X\nVia: %.*s\nFrom: %.*s\nTo: %.*s;tag=%s\nCall-ID: %.*s\n"
	    "CSeq: %u INVITE\nContact: <sip:%s@127.0.0.1:%%P>\n%s%u%s%sContent-Length: %zu\n\n%s",
	    code, PL_ARG(sip_msg_hdr(inv, SIP_HDR_VIA)->val), PL_ARG(inv->from.val),
	    PL_ARG(inv->to.val), tag, PL_ARG(inv->callid), inv->cseq.num, tag,
	    rseq ? "Require: 100rel\nRSeq: " : "", rseq, rseq ? "\n" : "",
	    with_sdp ? "Content-Type: application/sdp\n" : "", with_sdp ? strlen(sdp) : 0,
	    with_sdp ? sdp : "");
	peer_send(e, text);
}

/* The next PRACK (retransmissions of earlier ones skipped by RAck). */
static struct sip_msg *wait_prack(struct env *e, uint32_t rseq, const char *tag)
{
	struct sip_msg *m;
	struct sip_rack rack;

	for (int i = 0; i < 10; i++) {
		m = peer_wait_req(e, SIP_M_PRACK, 2000);
		if (!m)
			return NULL;
		if (!sip_rack_decode(&rack, sip_msg_hdr(m, SIP_HDR_RACK)->val) &&
		    rack.rseq == rseq && pl_eq(m->to.tag, pl_make(tag, strlen(tag))))
			return m;
		mem_deref(m);
	}
	return NULL;
}

/*
 * §13.2.2.4: two forks send reliable 1xx with their own tags and RSeq
 * spaces. Each early dialog is kept apart: each 1xx is PRACKed in its own
 * dialog (To tag, Request-URI = that fork's Contact), RSeq 1 of the second
 * fork is not mistaken for a repeat of the first's. The 2xx of fork B makes
 * B's early dialog the session's; A's late 2xx gets ACK and BYE in A's dialog;
 * the session's BYE goes to B.
 */
static void test_uac_forked_early_dialogs(void **state)
{
	struct sip_sess_connect_opts o = {0};
	struct sip_sess *s = NULL;
	struct sip_msg *inv, *m;
	char target[64];
	struct env e;

	(void)state;
	env_up(&e, 100);
	snprintf(target, sizeof(target), "sip:gw@127.0.0.1:%u", e.port);
	o.target = target;
	o.body = sdp;
	o.body_len = strlen(sdp);
	assert_int_equal(sip_sess_connect(&s, e.ua, &o, &hs, &e), 0);
	inv = peer_wait_req(&e, SIP_M_INVITE, 2000);
	assert_non_null(inv);
	fork_resp(&e, inv, 180, "forka", 1, false);
	m = wait_prack(&e, 1, "forka");
	assert_non_null(m);
	assert_true(pl_eq(m->ruri.user, PL("forka")));
	peer_reply(&e, m, 200, NULL, NULL);
	mem_deref(m);
	fork_resp(&e, inv, 183, "forkb", 1, false);
	m = wait_prack(&e, 1, "forkb");
	assert_non_null(m); /* RSeq 1 again, but of another dialog */
	assert_true(pl_eq(m->ruri.user, PL("forkb")));
	peer_reply(&e, m, 200, NULL, NULL);
	mem_deref(m);
	fork_resp(&e, inv, 180, "forka", 2, false);
	m = wait_prack(&e, 2, "forka");
	assert_non_null(m);
	assert_true(pl_eq(m->ruri.user, PL("forka")));
	peer_reply(&e, m, 200, NULL, NULL);
	mem_deref(m);
	assert_int_equal(e.progress, 3);
	/* B answers: the session is B's */
	fork_resp(&e, inv, 200, "forkb", 0, true);
	m = peer_wait_req(&e, SIP_M_ACK, 2000);
	assert_non_null(m);
	assert_true(pl_eq(m->to.tag, PL("forkb")));
	assert_true(pl_eq(m->ruri.user, PL("forkb")));
	mem_deref(m);
	assert_int_equal(e.established, 1);
	assert_string_equal(sip_dialog_remote_tag(sip_sess_dialog(s)), "forkb");
	/* A answers too, late: ACK and BYE in A's dialog, the session stays */
	fork_resp(&e, inv, 200, "forka", 0, true);
	m = peer_wait_req(&e, SIP_M_ACK, 2000);
	assert_non_null(m);
	assert_true(pl_eq(m->to.tag, PL("forka")));
	mem_deref(m);
	m = peer_wait_req(&e, SIP_M_BYE, 2000);
	assert_non_null(m);
	assert_true(pl_eq(m->to.tag, PL("forka")));
	assert_true(pl_eq(m->ruri.user, PL("forka")));
	peer_reply(&e, m, 200, NULL, NULL);
	mem_deref(m);
	run_for(&e, 50);
	assert_int_equal(e.closed, 0);
	assert_int_equal(sip_sess_state(s), SIP_SESS_ESTABLISHED);
	/* hang up: BYE to B */
	assert_int_equal(sip_sess_bye(s, NULL), 0);
	m = peer_wait_req(&e, SIP_M_BYE, 2000);
	assert_non_null(m);
	assert_true(pl_eq(m->to.tag, PL("forkb")));
	assert_true(pl_eq(m->ruri.user, PL("forkb")));
	peer_reply(&e, m, 200, NULL, NULL);
	mem_deref(m);
	run_for(&e, 50);
	assert_int_equal(e.closed, 1);
	mem_deref(inv);
	env_down(&e);
}

static void test_uac_delayed_offer_prack(void **state)
{
	struct sip_sess_connect_opts o = {0};
	struct sip_sess *s = NULL;
	struct sip_msg *inv, *prack, *ack;
	char target[64];
	struct env e;

	(void)state;
	env_up(&e, 100);
	snprintf(target, sizeof(target), "sip:gw@127.0.0.1:%u", e.port);
	o.target = target;
	o.require_100rel = true;
	assert_int_equal(sip_sess_connect(&s, e.ua, &o, &hs, &e), 0);
	inv = peer_wait_req(&e, SIP_M_INVITE, 2000);
	assert_non_null(inv);
	assert_int_equal(inv->body.l, 0);
	assert_true(sip_msg_has_token(inv, SIP_HDR_REQUIRE, "100rel"));
	peer_reply(&e, inv, 183, "Require: 100rel\nRSeq: 5\n", sdp);
	prack = peer_wait_req(&e, SIP_M_PRACK, 2000);
	assert_non_null(prack);
	assert_int_equal(e.offers, 1);
	assert_true(prack->body.l == strlen(sdp2)); /* our answer */
	peer_reply(&e, prack, 200, NULL, NULL);
	mem_deref(prack);
	/* a retransmitted 183 (same RSeq) is not PRACKed again */
	peer_reply(&e, inv, 183, "Require: 100rel\nRSeq: 5\n", sdp);
	prack = peer_wait_req(&e, SIP_M_PRACK, 300);
	assert_null(prack);
	peer_reply(&e, inv, 200, NULL, sdp);
	ack = peer_wait_req(&e, SIP_M_ACK, 2000);
	assert_non_null(ack);
	assert_int_equal(ack->body.l, 0); /* offer/answer was done in 183/PRACK */
	assert_int_equal(e.offers, 1);
	assert_int_equal(e.established, 1);
	struct sip_ua_stats st;
	sip_ua_stats(e.ua, &st);
	assert_int_equal(st.prack_tx, 1);
	mem_deref(ack);
	mem_deref(inv);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dialog_uac_rfc3261_24),
	    cmocka_unit_test(test_dialog_uas_rfc3261_24),
	    cmocka_unit_test(test_dialog_strict_route),
	    cmocka_unit_test(test_dialog_early_then_confirmed),
	    cmocka_unit_test(test_hop),
	    cmocka_unit_test(test_session_timer_math),
	    cmocka_unit_test(test_ua_answers),
	    cmocka_unit_test(test_ua_method_handler),
	    cmocka_unit_test(test_uas_100rel_prack),
	    cmocka_unit_test(test_uas_422_and_420),
	    cmocka_unit_test(test_uac_session),
	    cmocka_unit_test(test_uas_2xx_until_ack),
	    cmocka_unit_test(test_uas_call_reinvite_update_bye),
	    cmocka_unit_test(test_session_timer_refresh_and_expiry),
	    cmocka_unit_test(test_uac_digest_retry),
	    cmocka_unit_test(test_uac_cancel),
	    cmocka_unit_test(test_uac_fork_2xx),
	    cmocka_unit_test(test_uac_forked_early_dialogs),
	    cmocka_unit_test(test_uac_delayed_offer_prack),
	    cmocka_unit_test(test_uac_dns_next_hop),
	    cmocka_unit_test(test_uac_dns_failover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
