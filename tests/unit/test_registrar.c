/*
 * Unit tests for gateway/registrar: a real sip_ua on 127.0.0.1 with the
 * registrar on it, and a plain UDP socket playing the phone, which answers
 * the digest challenges with the sip/auth client. Covers RFC 3261 §10.3
 * (challenge, 401/403/404, 423, several contacts, q ordering, refresh,
 * expiry, '*', CSeq ordering), persistence across free/alloc, static
 * bindings, Path and +sip.instance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "core/sa.h"
#include "registrar/registrar.h"
#include "sip/auth/auth.h"
#include "sip/msg/msg.h"
#include "sip/ua/ua.h"

struct env {
	struct loop *loop;
	struct sip_ua *ua;
	struct reg *reg;
	struct reg_config cfg;
	struct sa ua_addr, me;
	int fd;
	unsigned branch;
	char ruri[64];
	unsigned ev[4];
	char ev_uri[256];
	/* lookups */
	char uris[16][256];
	unsigned q[16];
	int64_t exp[16];
	unsigned n;
};

static char db_path[64];

static void on_event(enum reg_event ev, const struct reg_contact *c, void *arg)
{
	struct env *e = arg;

	e->ev[ev]++;
	snprintf(e->ev_uri, sizeof(e->ev_uri), "%s", c->uri);
}

static void env_reg(struct env *e)
{
	assert_int_equal(reg_alloc(&e->reg, e->loop, e->ua, &e->cfg), 0);
	for (unsigned u = 1001; u <= 1004; u++) {
		char user[8], pw[16];
		snprintf(user, sizeof(user), "%u", u);
		snprintf(pw, sizeof(pw), "demo%u", u);
		assert_int_equal(reg_user_set(e->reg, user, pw), 0);
	}
}

static void env_up_cfg(struct env *e, const char *db, uint32_t min_exp, unsigned max_contacts)
{
	struct sip_ua_config cfg = {0};
	socklen_t sl = sizeof(e->me.u.ss);

	memset(e, 0, sizeof(*e));
	assert_int_equal(loop_alloc(&e->loop), 0);
	cfg.nlisten = 1;
	cfg.listen[0].tp = SIP_TP_UDP;
	sa_set_str(&cfg.listen[0].addr, "127.0.0.1", 0);
	cfg.t1_ms = 100;
	assert_int_equal(sip_ua_alloc(&e->ua, e->loop, &cfg), 0);
	assert_int_equal(sip_ua_local(e->ua, SIP_TP_UDP, AF_INET, &e->ua_addr), 0);
	snprintf(e->ruri, sizeof(e->ruri), "sip:127.0.0.1:%u", sa_port(&e->ua_addr));
	e->cfg.realm = "tandem.test";
	e->cfg.db = db;
	e->cfg.min_expires = min_exp;
	e->cfg.max_contacts = max_contacts;
	e->cfg.event = on_event;
	e->cfg.event_arg = e;
	env_reg(e);
	e->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(e->fd >= 0);
	sa_set_str(&e->me, "127.0.0.1", 0);
	assert_int_equal(bind(e->fd, &e->me.u.sa, e->me.len), 0);
	assert_int_equal(getsockname(e->fd, &e->me.u.sa, &sl), 0);
	e->me.len = sl;
}

static void env_up(struct env *e)
{
	env_up_cfg(e, ":memory:", 0, 0);
}

static void env_down(struct env *e)
{
	sip_ua_free(e->ua);
	reg_free(e->reg);
	for (int i = 0; i < 3; i++)
		loop_run_once(e->loop, 0);
	loop_free(e->loop);
	close(e->fd);
}

static void run_for(struct env *e, int ms)
{
	uint64_t end = loop_clock_ms() + (uint64_t)ms;

	while (loop_clock_ms() < end)
		loop_run_once(e->loop, 5);
}

/* Runs the loop until the phone receives a final response (or 2 s). */
static struct sip_msg *phone_recv(struct env *e)
{
	uint64_t end = loop_clock_ms() + 2000;
	struct pollfd pfd = {.fd = e->fd, .events = POLLIN};

	while (loop_clock_ms() < end) {
		if (poll(&pfd, 1, 0) == 1) {
			char *buf = mem_zalloc(65536, NULL);
			struct sip_msg *m = NULL;
			ssize_t n = recv(e->fd, buf, 65535, 0);
			assert_true(n > 0);
			assert_int_equal(sip_msg_decode(&m, buf, (size_t)n, false, buf, NULL), 0);
			mem_deref(buf);
			if (m->scode >= 200)
				return m;
			mem_deref(m);
			continue;
		}
		loop_run_once(e->loop, 5);
	}
	return NULL;
}

/* Sends a REGISTER for To user `to` and returns the final response.
 * extra: header lines ("Contact: ...\r\n"), auth: an Authorization value or NULL. */
static struct sip_msg *send_register(struct env *e, const char *to, const char *callid,
                                     uint32_t cseq, const char *auth, const char *extra)
{
	static char text[16384];
	struct sip_msg *m;
	unsigned b = ++e->branch;
	int n;

	n = snprintf(text, sizeof(text),
	             "REGISTER %s SIP/2.0\r\n"
	             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKreg%u;rport\r\n"
	             "Max-Forwards: 70\r\n"
	             "To: <sip:%s@tandem.test>\r\n"
	             "From: <sip:%s@tandem.test>;tag=ft%u\r\n"
	             "Call-ID: %s\r\n"
	             "CSeq: %u REGISTER\r\n"
	             "User-Agent: test-phone\r\n"
	             "%s%s%s%s"
	             "Content-Length: 0\r\n\r\n",
	             e->ruri, sa_port(&e->me), b, to, to, b, callid, cseq,
	             auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "",
	             extra ? extra : "");
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(sendto(e->fd, text, (size_t)n, 0, &e->ua_addr.u.sa, e->ua_addr.len), n);
	m = phone_recv(e);
	assert_non_null(m);
	return m;
}

/* Credentials answering the challenge of a 401 (picked as a UA would). */
static char *answer(struct env *e, const struct sip_msg *r401, const char *user, const char *pw)
{
	struct sip_auth_client *ac = NULL;
	const struct sip_hdr *h;
	struct pl chals[4];
	size_t n = 0, idx;
	char *val = NULL;

	assert_int_equal(r401->scode, 401);
	for (h = sip_msg_hdr(r401, SIP_HDR_WWW_AUTHENTICATE); h && n < 4;
	     h = h->next >= 0 ? &r401->hdr[h->next] : NULL)
		chals[n++] = h->val;
	assert_int_equal(sip_auth_pick(chals, n, &idx), 0);
	assert_int_equal(sip_auth_client_alloc(&ac, user, pw), 0);
	assert_int_equal(sip_auth_client_respond(ac, chals[idx], PL("REGISTER"),
	                                         pl_make(e->ruri, strlen(e->ruri)), PL(""), &val),
	                 0);
	mem_deref(ac);
	return val;
}

/* Challenge (CSeq *cseq), then the authenticated request (CSeq *cseq + 1). */
static struct sip_msg *do_register_as(struct env *e, const char *to, const char *user,
                                      const char *pw, const char *callid, uint32_t *cseq,
                                      const char *extra)
{
	struct sip_msg *m = send_register(e, to, callid, (*cseq)++, NULL, extra);
	char *cred = answer(e, m, user, pw);

	mem_deref(m);
	m = send_register(e, to, callid, (*cseq)++, cred, extra);
	mem_deref(cred);
	return m;
}

static struct sip_msg *do_register(struct env *e, const char *user, const char *callid,
                                   uint32_t *cseq, const char *extra)
{
	char pw[32];

	snprintf(pw, sizeof(pw), "demo%s", user);
	return do_register_as(e, user, user, pw, callid, cseq, extra);
}

static void expect_code(struct sip_msg *m, uint16_t code)
{
	assert_non_null(m);
	assert_int_equal(m->scode, code);
	mem_deref(m);
}

/* The expires param of the Contact with this URI in a 200, or -1; *count: Contacts. */
static long contact_expires(const struct sip_msg *m, const char *uri, unsigned *count)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct sip_addr a;
	struct pl v, ev;
	long res = -1;
	uint32_t x;

	*count = 0;
	while (sip_msg_hdr_next(m, SIP_HDR_CONTACT, &it, &v)) {
		assert_int_equal(sip_addr_decode(&a, v), 0);
		(*count)++;
		if (pl_eq(a.uri_pl, pl_make(uri, strlen(uri))) &&
		    sip_param_get(a.params, "expires", &ev) && !sip_u32_decode(&x, ev))
			res = x;
	}
	return res;
}

static void collect(const struct reg_contact *c, void *arg)
{
	struct env *e = arg;

	if (e->n < 16) {
		snprintf(e->uris[e->n], sizeof(e->uris[0]), "%s", c->uri);
		e->q[e->n] = c->q;
		e->exp[e->n] = c->expires_in;
	}
	e->n++;
}

static unsigned lookup(struct env *e, const char *aor)
{
	unsigned n = 99;

	e->n = 0;
	assert_int_equal(reg_lookup(e->reg, aor, collect, e, &n), 0);
	assert_int_equal(n, e->n);
	return n;
}

/* ---- pure helpers ---- */

static void test_q_values(void **state)
{
	static const struct {
		const char *in;
		int q; /* -1: invalid */
		const char *out;
	} t[] = {
	    {"0", 0, "0"},           {"1", 1000, "1"},     {"0.5", 500, "0.5"},
	    {"0.123", 123, "0.123"}, {"1.000", 1000, "1"}, {"0.05", 50, "0.05"},
	    {"1.", 1000, "1"},       {"0.", 0, "0"},       {"1.001", -1, NULL},
	    {"2", -1, NULL},         {"0.1234", -1, NULL}, {"", -1, NULL},
	    {"0,5", -1, NULL},       {".5", -1, NULL},     {"0.x", -1, NULL},
	};
	char buf[8];
	unsigned q;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int err = reg_q_parse(pl_make(t[i].in, strlen(t[i].in)), &q);
		if (t[i].q < 0) {
			assert_int_equal(err, EINVAL);
			continue;
		}
		assert_int_equal(err, 0);
		assert_int_equal(q, (unsigned)t[i].q);
		assert_string_equal(reg_q_print(q, buf, sizeof(buf)), t[i].out);
	}
}

/* ---- REGISTER ---- */

static void test_challenge_then_register(void **state)
{
	struct env e;
	struct sip_msg *m;
	const struct sip_hdr *h;
	struct sip_digest_chal ch;
	uint32_t cseq = 1;
	unsigned count;
	struct reg_stats st;

	(void)state;
	env_up(&e);
	m = send_register(&e, "1001", "c1@test", cseq++, NULL,
	                  "Contact: <sip:1001@127.0.0.1:5062>\r\nExpires: 120\r\n");
	assert_int_equal(m->scode, 401);
	/* SHA-256 first, then MD5 (RFC 8760), qop auth */
	h = sip_msg_hdr(m, SIP_HDR_WWW_AUTHENTICATE);
	assert_non_null(h);
	assert_int_equal(sip_digest_chal_decode(&ch, h->val), 0);
	assert_int_equal(ch.alg, SIP_DIGEST_SHA256);
	assert_true(ch.qops & SIP_DIGEST_QOP_AUTH);
	assert_true(pl_eq(ch.realm, PL("tandem.test")));
	assert_true(h->next >= 0);
	assert_int_equal(sip_digest_chal_decode(&ch, m->hdr[h->next].val), 0);
	assert_int_equal(ch.alg, SIP_DIGEST_MD5);
	assert_int_equal(lookup(&e, "1001"), 0); /* nothing bound by a challenged request */
	mem_deref(m);

	m = do_register(&e, "1001", "c1@test", &cseq,
	                "Contact: <sip:1001@127.0.0.1:5062>\r\nExpires: 120\r\n");
	assert_int_equal(m->scode, 200);
	assert_int_equal(contact_expires(m, "sip:1001@127.0.0.1:5062", &count), 120);
	assert_int_equal(count, 1);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_DATE));
	assert_true(pl_caseeq_str(
	    pl_make(sip_msg_hdr(m, SIP_HDR_DATE)->val.p + sip_msg_hdr(m, SIP_HDR_DATE)->val.l - 3,
	            3),
	    "GMT"));
	mem_deref(m);
	assert_int_equal(e.ev[REG_EV_ADDED], 1);

	/* the location service */
	assert_int_equal(lookup(&e, "1001"), 1);
	assert_string_equal(e.uris[0], "sip:1001@127.0.0.1:5062");
	assert_true(e.exp[0] >= 119 && e.exp[0] <= 120);
	assert_int_equal(lookup(&e, "1002"), 0);
	reg_stats(e.reg, &st);
	assert_int_equal(st.ok, 1);
	assert_int_equal(st.challenged, 2);
	env_down(&e);
}

/* The 401 carries the configured algorithms in their order; a phone that answers only
 * the first challenge (MD5 here) gets in. */
static void test_challenge_order(void **state)
{
	struct env e;
	struct sip_msg *m;
	const struct sip_hdr *h;
	struct sip_digest_chal ch;
	struct sip_auth_client *ac = NULL;
	struct reg *bad = NULL;
	char *cred = NULL;
	unsigned n = 0;

	(void)state;
	env_up(&e);
	reg_free(e.reg);
	e.cfg.algs = (struct sip_digest_algs){{SIP_DIGEST_MD5, SIP_DIGEST_SHA512_256}, 2};
	env_reg(&e);
	m = send_register(&e, "1002", "ord@test", 1, NULL,
	                  "Contact: <sip:1002@127.0.0.1:5064>\r\nExpires: 120\r\n");
	assert_int_equal(m->scode, 401);
	for (h = sip_msg_hdr(m, SIP_HDR_WWW_AUTHENTICATE); h;
	     h = h->next >= 0 ? &m->hdr[h->next] : NULL, n++) {
		assert_true(n < e.cfg.algs.n);
		assert_int_equal(sip_digest_chal_decode(&ch, h->val), 0);
		assert_int_equal(ch.alg, e.cfg.algs.alg[n]);
	}
	assert_int_equal(n, 2);
	h = sip_msg_hdr(m, SIP_HDR_WWW_AUTHENTICATE);
	assert_int_equal(sip_auth_client_alloc(&ac, "1002", "demo1002"), 0);
	assert_int_equal(sip_auth_client_respond(ac, h->val, PL("REGISTER"),
	                                         pl_make(e.ruri, strlen(e.ruri)), PL(""), &cred),
	                 0);
	mem_deref(ac);
	mem_deref(m);
	expect_code(send_register(&e, "1002", "ord@test", 2, cred,
	                          "Contact: <sip:1002@127.0.0.1:5064>\r\nExpires: 120\r\n"),
	            200);
	mem_deref(cred);
	assert_int_equal(lookup(&e, "1002"), 1);
	/* a list the auth server refuses fails the registrar */
	e.cfg.algs = (struct sip_digest_algs){{SIP_DIGEST_MD5, SIP_DIGEST_MD5}, 2};
	assert_int_equal(reg_alloc(&bad, e.loop, NULL, &e.cfg), EINVAL);
	assert_null(bad);
	env_down(&e);
}

static void source_cb(const struct reg_contact *c, void *arg)
{
	struct reg_contact *out = arg;

	if (c->is_static) {
		assert_null(c->user_agent);
		assert_false(sa_isset(&c->source));
		assert_int_equal(c->tp, SIP_TP_NONE);
		return;
	}
	out->source = c->source;
	out->local = c->local;
	out->tp = c->tp;
	out->cseq = c->cseq;
	out->is_static = c->is_static;
	out->reg_id = c->reg_id;
	assert_string_equal(c->user_agent, "test-phone");
	assert_string_equal(c->call_id, "src@test");
}

static void test_source_recorded(void **state)
{
	struct env e;
	struct reg_contact c = {0};
	uint32_t cseq = 7;

	(void)state;
	env_up(&e);
	/* a phone behind NAT: the Contact says 10.0.0.5, the packet came from us */
	expect_code(do_register(&e, "1002", "src@test", &cseq, "Contact: <sip:1002@10.0.0.5>\r\n"),
	            200);
	assert_int_equal(reg_lookup(e.reg, "1002", source_cb, &c, NULL), 0);
	assert_int_equal(c.tp, SIP_TP_UDP);
	assert_true(sa_eq(&c.source, &e.me));
	assert_true(sa_eq(&c.local, &e.ua_addr));
	assert_int_equal(c.cseq, 8);
	assert_false(c.is_static);
	assert_int_equal(c.reg_id, -1);
	env_down(&e);
}

static void test_auth_failures(void **state)
{
	struct env e;
	struct sip_msg *m;
	uint32_t cseq = 1;
	struct reg_stats st;
	const char *ct = "Contact: <sip:x@127.0.0.1:5062>\r\n";

	(void)state;
	env_up(&e);
	/* wrong password: challenged again, nothing bound */
	m = do_register_as(&e, "1001", "1001", "wrong", "af@test", &cseq, ct);
	assert_int_equal(m->scode, 401);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_WWW_AUTHENTICATE));
	mem_deref(m);
	/* an unknown user's credentials: the same answer (no user enumeration) */
	expect_code(do_register_as(&e, "1001", "9999", "x", "af@test", &cseq, ct), 401);
	/* 1001's credentials for 1002's AOR */
	expect_code(do_register_as(&e, "1002", "1001", "demo1001", "af@test", &cseq, ct), 403);
	/* an AOR that does not exist (only after authentication) */
	expect_code(do_register_as(&e, "9999", "1001", "demo1001", "af@test", &cseq, ct), 404);
	/* the right one works */
	expect_code(do_register(&e, "1001", "af@test", &cseq, ct), 200);
	assert_int_equal(lookup(&e, "1001"), 1);
	assert_int_equal(lookup(&e, "1002"), 0);
	reg_stats(e.reg, &st);
	assert_int_equal(st.forbidden, 1);
	assert_int_equal(st.not_found, 1);
	assert_int_equal(st.ok, 1);
	/* undecodable credentials are nobody's: challenged */
	expect_code(send_register(&e, "1001", "af@test", 100,
	                          "Digest username=\"1001\", realm=\"tandem.test\", nonce=x", ct),
	            401);
	env_down(&e);
}

static void test_stale_nonce(void **state)
{
	struct env e;
	struct sip_msg *m;
	struct sip_digest_chal ch;
	char *cred;
	uint32_t cseq = 1;

	(void)state;
	memset(&e, 0, sizeof(e));
	env_up(&e);
	/* a second registrar on the same UA would clash: rebuild with a 1 s nonce */
	sip_ua_free(e.ua);
	reg_free(e.reg);
	{
		struct sip_ua_config cfg = {0};
		cfg.nlisten = 1;
		cfg.listen[0].tp = SIP_TP_UDP;
		cfg.listen[0].addr = e.ua_addr;
		assert_int_equal(sip_ua_alloc(&e.ua, e.loop, &cfg), 0);
	}
	e.cfg.nonce_lifetime = 1;
	env_reg(&e);
	m = send_register(&e, "1003", "st@test", cseq++, NULL, NULL);
	cred = answer(&e, m, "1003", "demo1003");
	mem_deref(m);
	run_for(&e, 2100);
	m = send_register(&e, "1003", "st@test", cseq++, cred, "Contact: <sip:1003@127.0.0.1>\r\n");
	mem_deref(cred);
	assert_int_equal(m->scode, 401);
	assert_int_equal(sip_digest_chal_decode(&ch, sip_msg_hdr(m, SIP_HDR_WWW_AUTHENTICATE)->val),
	                 0);
	assert_true(ch.stale);
	mem_deref(m);
	assert_int_equal(lookup(&e, "1003"), 0);
	env_down(&e);
}

static void test_interval_too_brief(void **state)
{
	struct env e;
	struct sip_msg *m;
	const struct sip_hdr *h;
	uint32_t cseq = 1, v;
	unsigned count;

	(void)state;
	env_up(&e);
	m = do_register(&e, "1001", "ib@test", &cseq,
	                "Contact: <sip:1001@127.0.0.1>\r\nExpires: 10\r\n");
	assert_int_equal(m->scode, 423);
	h = sip_msg_hdr(m, SIP_HDR_MIN_EXPIRES);
	assert_non_null(h);
	assert_int_equal(sip_u32_decode(&v, h->val), 0);
	assert_int_equal(v, 60);
	mem_deref(m);
	/* per-contact expires param too, even when another contact is fine */
	expect_code(do_register(&e, "1001", "ib@test", &cseq,
	                        "Contact: <sip:a@127.0.0.1>, <sip:b@127.0.0.1>;expires=59\r\n"),
	            423);
	assert_int_equal(lookup(&e, "1001"), 0);
	/* above the maximum: capped at 7200; no Expires at all: the default 3600 */
	m = do_register(
	    &e, "1001", "ib@test", &cseq,
	    "Contact: <sip:a@127.0.0.1>;expires=999999\r\nContact: <sip:b@127.0.0.1>\r\n");
	assert_int_equal(m->scode, 200);
	assert_int_equal(contact_expires(m, "sip:a@127.0.0.1", &count), 7200);
	assert_int_equal(contact_expires(m, "sip:b@127.0.0.1", &count), 3600);
	assert_int_equal(count, 2);
	mem_deref(m);
	env_down(&e);
}

static void test_contacts_and_q(void **state)
{
	struct env e;
	struct sip_msg *m;
	uint32_t cseq = 1;
	unsigned count;

	(void)state;
	env_up(&e);
	m = do_register(
	    &e, "1004", "q@test", &cseq,
	    "Contact: <sip:low@127.0.0.1>;q=0.1, <sip:top@127.0.0.1>;q=1\r\n"
	    "Contact: \"Desk\" <sip:mid@127.0.0.1:5070;transport=udp>;q=0.5;expires=300\r\n"
	    "Expires: 600\r\n");
	assert_int_equal(m->scode, 200);
	assert_int_equal(contact_expires(m, "sip:low@127.0.0.1", &count), 600);
	assert_int_equal(contact_expires(m, "sip:mid@127.0.0.1:5070;transport=udp", &count), 300);
	assert_int_equal(count, 3);
	mem_deref(m);
	assert_int_equal(e.ev[REG_EV_ADDED], 3);
	assert_int_equal(lookup(&e, "1004"), 3);
	assert_string_equal(e.uris[0], "sip:top@127.0.0.1");
	assert_int_equal(e.q[0], 1000);
	assert_string_equal(e.uris[1], "sip:mid@127.0.0.1:5070;transport=udp");
	assert_int_equal(e.q[1], 500);
	assert_string_equal(e.uris[2], "sip:low@127.0.0.1");
	assert_int_equal(e.q[2], 100);
	/* a bad q-value refuses the whole request */
	expect_code(
	    do_register(&e, "1004", "q@test", &cseq, "Contact: <sip:z@127.0.0.1>;q=1.5\r\n"), 400);
	/* changing q re-orders; a query (no Contact) lists without changing */
	expect_code(do_register(&e, "1004", "q@test", &cseq,
	                        "Contact: <sip:low@127.0.0.1>;q=0.9;expires=600\r\n"),
	            200);
	m = do_register(&e, "1004", "q@test", &cseq, NULL);
	assert_int_equal(m->scode, 200);
	contact_expires(m, "x", &count);
	assert_int_equal(count, 3);
	mem_deref(m);
	assert_int_equal(lookup(&e, "1004"), 3);
	assert_string_equal(e.uris[1], "sip:low@127.0.0.1");
	assert_int_equal(e.q[1], 900);
	/* one removed with expires=0, the others stay */
	m = do_register(&e, "1004", "q@test", &cseq, "Contact: <sip:top@127.0.0.1>;expires=0\r\n");
	assert_int_equal(m->scode, 200);
	assert_int_equal(contact_expires(m, "sip:top@127.0.0.1", &count), -1);
	assert_int_equal(count, 2);
	mem_deref(m);
	assert_int_equal(e.ev[REG_EV_REMOVED], 1);
	assert_int_equal(lookup(&e, "1004"), 2);
	env_down(&e);
}

static void test_refresh(void **state)
{
	struct env e;
	struct sip_msg *m;
	uint32_t cseq = 1, cseq2 = 1;
	unsigned count;

	(void)state;
	env_up(&e);
	expect_code(do_register(&e, "1001", "rf@test", &cseq,
	                        "Contact: <sip:1001@127.0.0.1:5062>\r\nExpires: 60\r\n"),
	            200);
	assert_int_equal(lookup(&e, "1001"), 1);
	assert_true(e.exp[0] <= 60);
	/* the refresh extends; URI equality is RFC 3261 §19.1.4 (host case) */
	m = do_register(&e, "1001", "rf@test", &cseq,
	                "Contact: <sip:1001@LOCALHOST.invalid>\r\n"
	                "Contact: <sip:1001@127.0.0.1:5062>\r\nExpires: 1800\r\n");
	assert_int_equal(m->scode, 200);
	assert_int_equal(contact_expires(m, "sip:1001@127.0.0.1:5062", &count), 1800);
	mem_deref(m);
	assert_int_equal(e.ev[REG_EV_REFRESHED], 1);
	assert_int_equal(e.ev[REG_EV_ADDED], 2);
	/* the binding takes the spelling of its latest REGISTER */
	m = do_register(&e, "1001", "rf@test", &cseq,
	                "Contact: <sip:1001@localhost.INVALID>;expires=900\r\n");
	assert_int_equal(contact_expires(m, "sip:1001@localhost.INVALID", &count), 900);
	assert_int_equal(count, 2);
	mem_deref(m);
	assert_int_equal(e.ev[REG_EV_REFRESHED], 2);
	/* another Call-ID (a rebooted phone) may update with any CSeq */
	expect_code(do_register(&e, "1001", "other@test", &cseq2,
	                        "Contact: <sip:1001@127.0.0.1:5062>;expires=100\r\n"),
	            200);
	assert_int_equal(lookup(&e, "1001"), 2);
	assert_true(e.exp[0] == 100 || e.exp[1] == 100);
	env_down(&e);
}

static void test_cseq_order(void **state)
{
	struct env e;
	struct sip_msg *m;
	uint32_t cseq = 10, old = 3;
	struct reg_stats st;

	(void)state;
	env_up(&e);
	expect_code(do_register(&e, "1002", "co@test", &cseq,
	                        "Contact: <sip:1002@127.0.0.1:5064>;expires=300\r\n"),
	            200);
	/* same Call-ID, lower CSeq (3, 4 < 11): the update fails, nothing changes */
	m = do_register(&e, "1002", "co@test", &old,
	                "Contact: <sip:1002@127.0.0.1:5064>;expires=0\r\n");
	assert_int_equal(m->scode, 500);
	mem_deref(m);
	assert_int_equal(lookup(&e, "1002"), 1);
	/* a request mixing a new contact with the stale one: all or nothing */
	old = 5;
	expect_code(do_register(&e, "1002", "co@test", &old,
	                        "Contact: <sip:new@127.0.0.1>, <sip:1002@127.0.0.1:5064>\r\n"),
	            500);
	assert_int_equal(lookup(&e, "1002"), 1);
	/* '*' is subject to the same rule */
	old = 1;
	expect_code(do_register(&e, "1002", "co@test", &old, "Contact: *\r\nExpires: 0\r\n"), 500);
	assert_int_equal(lookup(&e, "1002"), 1);
	reg_stats(e.reg, &st);
	assert_int_equal(st.out_of_order, 3);
	assert_int_equal(e.ev[REG_EV_REMOVED], 0);
	/* higher CSeq works */
	expect_code(do_register(&e, "1002", "co@test", &cseq, "Contact: *\r\nExpires: 0\r\n"), 200);
	assert_int_equal(lookup(&e, "1002"), 0);
	env_down(&e);
}

static void test_star(void **state)
{
	struct env e;
	struct sip_msg *m;
	uint32_t cseq = 1, c2 = 1;
	unsigned count;
	struct reg_stats st;

	(void)state;
	env_up(&e);
	expect_code(do_register(&e, "1003", "s1@test", &cseq,
	                        "Contact: <sip:a@127.0.0.1>, <sip:b@127.0.0.1>\r\n"),
	            200);
	expect_code(do_register(&e, "1003", "s2@test", &c2, "Contact: <sip:c@127.0.0.1>\r\n"), 200);
	assert_int_equal(lookup(&e, "1003"), 3);
	/* invalid uses of '*' */
	expect_code(do_register(&e, "1003", "s1@test", &cseq, "Contact: *\r\nExpires: 60\r\n"),
	            400);
	expect_code(do_register(&e, "1003", "s1@test", &cseq, "Contact: *\r\n"), 400);
	reg_stats(e.reg, &st);
	assert_int_equal(st.bad_request, 2); /* those two were the registrar's own */
	/* '*' among other contacts: the UA's validation already answers 400 (§10.2.2) */
	expect_code(send_register(&e, "1003", "s1@test", cseq++, NULL,
	                          "Contact: *, <sip:a@127.0.0.1>\r\nExpires: 0\r\n"),
	            400);
	expect_code(send_register(&e, "1003", "s1@test", cseq++, NULL,
	                          "Contact: <sip:a@127.0.0.1>\r\nContact: *\r\nExpires: 0\r\n"),
	            400);
	assert_int_equal(lookup(&e, "1003"), 3);
	/* valid: every binding of the AOR goes, whatever its Call-ID */
	m = do_register(&e, "1003", "s1@test", &cseq, "Contact: *\r\nExpires: 0\r\n");
	assert_int_equal(m->scode, 200);
	contact_expires(m, "x", &count);
	assert_int_equal(count, 0);
	mem_deref(m);
	assert_int_equal(lookup(&e, "1003"), 0);
	assert_int_equal(e.ev[REG_EV_REMOVED], 3);
	env_down(&e);
}

static void test_expiry(void **state)
{
	struct env e;
	uint32_t cseq = 1;
	uint64_t end;

	(void)state;
	env_up_cfg(&e, ":memory:", 1, 0);
	expect_code(
	    do_register(&e, "1001", "ex@test", &cseq,
	                "Contact: <sip:short@127.0.0.1>;expires=1, <sip:long@127.0.0.1>\r\n"),
	    200);
	assert_int_equal(lookup(&e, "1001"), 2);
	end = loop_clock_ms() + 3000;
	while (!e.ev[REG_EV_EXPIRED] && loop_clock_ms() < end)
		loop_run_once(e.loop, 50);
	assert_int_equal(e.ev[REG_EV_EXPIRED], 1);
	assert_string_equal(e.ev_uri, "sip:short@127.0.0.1");
	assert_int_equal(lookup(&e, "1001"), 1);
	assert_string_equal(e.uris[0], "sip:long@127.0.0.1");
	assert_int_equal(reg_purge(e.reg), 0);
	env_down(&e);
}

static void make_db_path(void)
{
	snprintf(db_path, sizeof(db_path), "/tmp/test_registrar_%d.db", (int)getpid());
}

static void unlink_db(void)
{
	char p[80];

	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

static void test_persistence(void **state)
{
	struct env e;
	struct reg_contact c = {0};
	uint32_t cseq = 1;

	(void)state;
	make_db_path();
	unlink_db();
	env_up_cfg(&e, db_path, 1, 0);
	expect_code(
	    do_register(&e, "1002", "src@test", &cseq,
	                "Contact: <sip:keep@127.0.0.1>;q=0.7, <sip:brief@127.0.0.1>;expires=1\r\n"),
	    200);
	assert_int_equal(reg_static_add(e.reg, "1002", "sip:desk@192.0.2.9", 200, NULL), 0);
	/* a restart: the registrar goes, a new one opens the same file */
	reg_free(e.reg);
	e.reg = NULL;
	run_for(&e, 1100); /* "brief" expires while we are down */
	memset(e.ev, 0, sizeof(e.ev));
	env_reg(&e);
	assert_int_equal(lookup(&e, "1002"), 2);
	assert_string_equal(e.uris[0], "sip:keep@127.0.0.1");
	assert_int_equal(e.q[0], 700);
	assert_string_equal(e.uris[1], "sip:desk@192.0.2.9");
	assert_int_equal(e.exp[1], -1);
	assert_int_equal(e.ev[REG_EV_EXPIRED], 0); /* purged at start, silently */
	e.n = 0;
	assert_int_equal(reg_lookup(e.reg, "1002", source_cb, &c, NULL), 0);
	assert_true(sa_eq(&c.source, &e.me));
	assert_int_equal(c.tp, SIP_TP_UDP);
	/* the CSeq rule still holds after the restart */
	cseq = 1;
	expect_code(do_register(&e, "1002", "src@test", &cseq, "Contact: <sip:keep@127.0.0.1>\r\n"),
	            500);
	env_down(&e);
	unlink_db();
}

static void test_static_bindings(void **state)
{
	struct env e;
	uint32_t cseq = 1;
	struct sip_msg *m;
	unsigned count;

	(void)state;
	env_up(&e);
	assert_int_equal(reg_static_add(e.reg, "1003", "tel:123", 1000, NULL), EINVAL);
	assert_int_equal(reg_static_add(e.reg, "1003", "sip:a@192.0.2.1", 1001, NULL), EINVAL);
	assert_int_equal(reg_static_add(e.reg, "1003", "sip:fax@192.0.2.1", 500, "<sip:p@x;lr>"),
	                 0);
	assert_int_equal(reg_static_add(e.reg, "1003", "sip:fax@192.0.2.1", 600, NULL), 0);
	assert_int_equal(lookup(&e, "1003"), 1); /* replaced, not doubled */
	assert_int_equal(e.q[0], 600);
	assert_int_equal(e.exp[0], -1);
	/* REGISTER neither lists nor removes it */
	m = do_register(&e, "1003", "st@test", &cseq, "Contact: <sip:phone@127.0.0.1>\r\n");
	assert_int_equal(m->scode, 200);
	contact_expires(m, "x", &count);
	assert_int_equal(count, 1);
	mem_deref(m);
	assert_int_equal(lookup(&e, "1003"), 2);
	assert_string_equal(e.uris[0], "sip:phone@127.0.0.1"); /* q 1 before 0.6 */
	expect_code(do_register(&e, "1003", "st@test", &cseq, "Contact: *\r\nExpires: 0\r\n"), 200);
	assert_int_equal(lookup(&e, "1003"), 1);
	assert_string_equal(e.uris[0], "sip:fax@192.0.2.1");
	/* the expiry timer leaves it alone */
	assert_int_equal(reg_purge(e.reg), 0);
	assert_int_equal(reg_static_remove(e.reg, "1003", "sip:other@192.0.2.1"), ENOENT);
	assert_int_equal(reg_static_remove(e.reg, "1003", "sip:fax@192.0.2.1"), 0);
	assert_int_equal(lookup(&e, "1003"), 0);
	env_down(&e);
}

struct pathinfo {
	char path[128], instance[128];
	int32_t reg_id;
	unsigned n;
};

static void path_cb(const struct reg_contact *c, void *arg)
{
	struct pathinfo *p = arg;

	snprintf(p->path, sizeof(p->path), "%s", c->path ? c->path : "");
	snprintf(p->instance, sizeof(p->instance), "%s", c->instance ? c->instance : "");
	p->reg_id = c->reg_id;
	p->n++;
}

static void test_path_and_instance(void **state)
{
	struct env e;
	struct sip_msg *m;
	struct pathinfo pi = {0};
	uint32_t cseq = 1;
	unsigned count;
	const char *inst =
	    ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1";
	char hdrs[512];

	(void)state;
	env_up(&e);
	snprintf(hdrs, sizeof(hdrs),
	         "Supported: path, outbound\r\nPath: <sip:edge1.test;lr>\r\n"
	         "Path: <sip:edge2.test;lr>\r\nContact: <sip:1004@198.51.100.1:40000>%s\r\n",
	         inst);
	m = do_register(&e, "1004", "pi@test", &cseq, hdrs);
	assert_int_equal(m->scode, 200);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_PATH));
	assert_true(pl_eq(sip_msg_hdr(m, SIP_HDR_PATH)->val,
	                  PL("<sip:edge1.test;lr>,<sip:edge2.test;lr>")));
	/* the instance comes back in the 200 with its quotes */
	assert_non_null(
	    strstr(m->buf, "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\""));
	mem_deref(m);
	assert_int_equal(reg_lookup(e.reg, "1004", path_cb, &pi, NULL), 0);
	assert_int_equal(pi.n, 1);
	assert_string_equal(pi.path, "<sip:edge1.test;lr>,<sip:edge2.test;lr>");
	assert_string_equal(pi.instance, "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>");
	assert_int_equal(pi.reg_id, 1);
	/* the same device from a new NAT port replaces its binding (same instance, reg-id) */
	snprintf(hdrs, sizeof(hdrs), "Contact: <sip:1004@198.51.100.1:40002>%s\r\n", inst);
	m = do_register(&e, "1004", "pi@test", &cseq, hdrs);
	assert_int_equal(m->scode, 200);
	contact_expires(m, "x", &count);
	assert_int_equal(count, 1);
	assert_null(sip_msg_hdr(m, SIP_HDR_PATH)); /* no Path this time */
	mem_deref(m);
	assert_int_equal(lookup(&e, "1004"), 1);
	assert_string_equal(e.uris[0], "sip:1004@198.51.100.1:40002");
	env_down(&e);
}

static void test_max_contacts_and_big_200(void **state)
{
	struct env e;
	struct sip_msg *m;
	uint32_t cseq = 1;
	unsigned count;
	char hdrs[4096];
	size_t o = 0;

	(void)state;
	env_up_cfg(&e, ":memory:", 0, 3);
	expect_code(do_register(&e, "1001", "mc@test", &cseq,
	                        "Contact: <sip:a@127.0.0.1>, <sip:b@127.0.0.1>, <sip:c@127.0.0.1>, "
	                        "<sip:d@127.0.0.1>\r\n"),
	            403);
	assert_int_equal(lookup(&e, "1001"), 0);
	expect_code(do_register(&e, "1001", "mc@test", &cseq,
	                        "Contact: <sip:a@127.0.0.1>, <sip:b@127.0.0.1>\r\n"),
	            200);
	/* removing one and adding one in the same request stays within the limit */
	expect_code(do_register(&e, "1001", "mc@test", &cseq,
	                        "Contact: <sip:a@127.0.0.1>;expires=0, <sip:c@127.0.0.1>, "
	                        "<sip:d@127.0.0.1>\r\n"),
	            200);
	assert_int_equal(lookup(&e, "1001"), 3);
	env_down(&e);

	/* ten long contacts: a 200 bigger than sip_ua_reply's header buffer */
	env_up(&e);
	for (int i = 0; i < 10; i++)
		o += (size_t)snprintf(hdrs + o, sizeof(hdrs) - o,
		                      "Contact: <sip:phone-with-a-rather-long-user-name-%02d@"
		                      "host-%02d.example.invalid:5060;transport=tcp>;q=0.%d\r\n",
		                      i, i, i);
	m = do_register(&e, "1002", "big@test", &cseq, hdrs);
	assert_int_equal(m->scode, 200);
	assert_true(m->len > 1200);
	contact_expires(m, "x", &count);
	assert_int_equal(count, 10);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_DATE));
	assert_true(m->to.tag.l > 0);
	mem_deref(m);
	assert_int_equal(lookup(&e, "1002"), 10);
	assert_int_equal(e.q[0], 900);
	assert_int_equal(e.q[9], 0);
	env_down(&e);
}

static void test_bad_requests(void **state)
{
	struct env e;
	uint32_t cseq = 1;

	(void)state;
	env_up(&e);
	expect_code(do_register(&e, "1001", "br@test", &cseq, "Contact: <mailto:x@y.z>\r\n"), 400);
	expect_code(do_register(&e, "1001", "br@test", &cseq, "Contact: <tel:+12125550100>\r\n"),
	            400);
	expect_code(send_register(&e, "1001", "br@test", cseq++, NULL, "Contact: <sip:x@[::1>\r\n"),
	            400); /* from the UA's validation */
	expect_code(
	    do_register(&e, "1001", "br@test", &cseq, "Contact: <sips:x@127.0.0.1>;q=abc\r\n"),
	    400);
	/* a malformed Expires header counts as the default (§20.19) */
	expect_code(do_register(&e, "1001", "br@test", &cseq,
	                        "Contact: <sip:x@127.0.0.1>\r\nExpires: soon\r\n"),
	            200);
	assert_int_equal(lookup(&e, "1001"), 1);
	assert_true(e.exp[0] > 3500);
	env_down(&e);
}

static void test_alloc_errors(void **state)
{
	struct reg *r = NULL;
	struct reg_config c = {.realm = "x", .db = ":memory:"};

	(void)state;
	assert_int_equal(reg_alloc(&r, NULL, NULL, NULL), EINVAL);
	c.realm = NULL;
	assert_int_equal(reg_alloc(&r, NULL, NULL, &c), EINVAL);
	c.realm = "x";
	c.min_expires = 100;
	c.max_expires = 50;
	assert_int_equal(reg_alloc(&r, NULL, NULL, &c), EINVAL);
	c.max_expires = 0;
	c.max_contacts = REG_MAX_CONTACTS + 1;
	assert_int_equal(reg_alloc(&r, NULL, NULL, &c), EINVAL);
	c.max_contacts = 0;
	c.db = "/nonexistent-dir/x.db";
	assert_int_equal(reg_alloc(&r, NULL, NULL, &c), EIO);
	assert_null(r);
	c.db = ":memory:";
	assert_int_equal(reg_alloc(&r, NULL, NULL, &c), 0);
	assert_int_equal(reg_user_set(r, "a", "b"), 0);
	assert_int_equal(reg_user_set(r, "a", "c"), 0);
	assert_int_equal(reg_user_set(r, "a", NULL), 0);
	assert_int_equal(reg_user_set(r, "a", NULL), ENOENT);
	reg_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_q_values),
	    cmocka_unit_test(test_challenge_then_register),
	    cmocka_unit_test(test_challenge_order),
	    cmocka_unit_test(test_source_recorded),
	    cmocka_unit_test(test_auth_failures),
	    cmocka_unit_test(test_stale_nonce),
	    cmocka_unit_test(test_interval_too_brief),
	    cmocka_unit_test(test_contacts_and_q),
	    cmocka_unit_test(test_refresh),
	    cmocka_unit_test(test_cseq_order),
	    cmocka_unit_test(test_star),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_persistence),
	    cmocka_unit_test(test_static_bindings),
	    cmocka_unit_test(test_path_and_instance),
	    cmocka_unit_test(test_max_contacts_and_big_200),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_alloc_errors),
	};

	log_init("test_registrar", false, LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
