/*
 * sip/dns: the pure RFC 3263 / RFC 2782 parts (NAPTR service choice and order,
 * SRV priority and weighted order with a seeded RNG, numeric shortcut), then
 * the resolver on a real loop against an in-process fake DNS server on
 * 127.0.0.1 (NAPTR -> SRV -> A chain, fallbacks, timeout, cancel, free with
 * queries outstanding).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/loop.h"
#include "core/mem.h"
#include "core/sa.h"
#include "sip/dns/dns.h"
#include "sip/dns/rr.h"

#include "core/err.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- NAPTR ---- */

static void test_naptr_tp(void **state)
{
	(void)state;
	assert_int_equal(sip_dns_naptr_tp("SIP+D2U", "S", "", false), SIP_TP_UDP);
	assert_int_equal(sip_dns_naptr_tp("sip+d2t", "s", "", false), SIP_TP_TCP);
	assert_int_equal(sip_dns_naptr_tp("SIPS+D2T", "s", NULL, false), SIP_TP_TLS);
	/* sips: only the secure service */
	assert_int_equal(sip_dns_naptr_tp("SIP+D2U", "s", "", true), SIP_TP_NONE);
	assert_int_equal(sip_dns_naptr_tp("SIP+D2T", "s", "", true), SIP_TP_NONE);
	assert_int_equal(sip_dns_naptr_tp("SIPS+D2T", "s", "", true), SIP_TP_TLS);
	/* unsupported services, flags other than S, a regexp */
	assert_int_equal(sip_dns_naptr_tp("SIP+D2S", "s", "", false), SIP_TP_NONE);
	assert_int_equal(sip_dns_naptr_tp("SIPS+D2S", "s", "", false), SIP_TP_NONE);
	assert_int_equal(sip_dns_naptr_tp("E2U+sip", "u", "!^.*$!sip:a@b!", false), SIP_TP_NONE);
	assert_int_equal(sip_dns_naptr_tp("SIP+D2U", "a", "", false), SIP_TP_NONE);
	assert_int_equal(sip_dns_naptr_tp("SIP+D2U", "", "", false), SIP_TP_NONE);
	assert_int_equal(sip_dns_naptr_tp("SIP+D2U", "s", "!x!y!", false), SIP_TP_NONE);
	assert_int_equal(sip_dns_naptr_tp(NULL, "s", "", false), SIP_TP_NONE);
}

static void test_naptr_sort(void **state)
{
	struct sip_dns_naptr v[] = {
		{ 20, 10, SIP_TP_UDP, "a" }, { 10, 60, SIP_TP_UDP, "b" }, { 10, 50, SIP_TP_TCP, "c" },
		{ 10, 50, SIP_TP_TLS, "d" }, { 5, 99, SIP_TP_TCP, "e" },
	};
	const char *want[] = { "e", "c", "d", "b", "a" };

	(void)state;
	sip_dns_naptr_sort(v, ARRAY_SIZE(v));
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		assert_string_equal(v[i].replacement, want[i]);
	sip_dns_naptr_sort(v, 0);
}

/* ---- SRV ---- */

static void test_srv_priority(void **state)
{
	uint64_t rng = 42;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct sip_dns_srv v[] = {
			{ 30, 5, 1, "p30a" }, { 10, 50, 2, "p10a" }, { 20, 0, 3, "p20a" },
			{ 10, 0, 4, "p10b" }, { 30, 5, 5, "p30b" }, { 10, 50, 6, "p10c" },
			{ 20, 7, 7, "p20b" },
		};
		unsigned seen = 0;

		sip_dns_srv_order(v, ARRAY_SIZE(v), &rng);
		for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
			assert_true(i == 0 || v[i - 1].prio <= v[i].prio);
			/* prefix of the target matches the priority: records kept intact */
			assert_int_equal(v[i].prio, (uint16_t)atoi(v[i].target + 1));
			seen |= 1u << v[i].port;
		}
		assert_int_equal(seen, 0xfe); /* a permutation: every record once */
	}
}

static double first_share(const struct sip_dns_srv *in, size_t n, const char *who, unsigned trials,
			  uint64_t seed)
{
	struct sip_dns_srv v[8];
	unsigned hits = 0;

	for (unsigned t = 0; t < trials; t++) {
		memcpy(v, in, n * sizeof(*v));
		sip_dns_srv_order(v, n, &seed);
		if (!strcmp(v[0].target, who))
			hits++;
	}
	return (double)hits / trials;
}

static void test_srv_weights(void **state)
{
	const struct sip_dns_srv w[] = {
		{ 1, 60, 5060, "a" }, { 1, 30, 5060, "b" }, { 1, 10, 5060, "c" },
	};
	const struct sip_dns_srv z[] = { { 1, 100, 5060, "big" }, { 1, 0, 5060, "zero" } };
	const unsigned trials = 20000;

	(void)state;
	/* RFC 2782: r uniform in [0, 100]; first record whose running sum >= r. */
	assert_true(fabs(first_share(w, 3, "a", trials, 1) - 61.0 / 101) < 0.02);
	assert_true(fabs(first_share(w, 3, "b", trials, 2) - 30.0 / 101) < 0.02);
	assert_true(fabs(first_share(w, 3, "c", trials, 3) - 10.0 / 101) < 0.02);
	/* weight 0 goes first in the candidate list: chosen only when r == 0 */
	double zs = first_share(z, 2, "zero", trials, 4);
	assert_true(zs > 0.002 && zs < 0.03);
}

static void test_srv_seeded(void **state)
{
	struct sip_dns_srv a[] = { { 0, 10, 1, "x" }, { 0, 20, 2, "y" }, { 0, 30, 3, "z" },
				   { 0, 40, 4, "w" } };
	struct sip_dns_srv b[ARRAY_SIZE(a)];
	uint64_t s1 = 7, s2 = 7;
	bool differs = false;

	(void)state;
	memcpy(b, a, sizeof(a));
	for (int i = 0; i < 50; i++) {
		struct sip_dns_srv c[ARRAY_SIZE(a)];

		memcpy(c, a, sizeof(a));
		sip_dns_srv_order(a, ARRAY_SIZE(a), &s1);
		sip_dns_srv_order(b, ARRAY_SIZE(b), &s2);
		assert_memory_equal(a, b, sizeof(a));
		for (size_t k = 0; k < ARRAY_SIZE(a); k++)
			differs |= a[k].port != c[k].port;
	}
	assert_true(differs); /* the order does vary from run to run */
}

static void test_rand_incl(void **state)
{
	uint64_t s = 99;
	unsigned hist[4] = { 0 };

	(void)state;
	for (int i = 0; i < 40000; i++) {
		uint32_t r = sip_dns_rand_incl(&s, 3);

		assert_true(r <= 3);
		hist[r]++;
	}
	for (int i = 0; i < 4; i++)
		assert_true(hist[i] > 9000 && hist[i] < 11000);
	assert_int_equal(sip_dns_rand_incl(&s, 0), 0);
}

/* ---- numeric shortcut ---- */

static void expect_numeric(const char *host, uint16_t port, enum sip_transport tp, bool secure,
			   const char *want_addr, uint16_t want_port, enum sip_transport want_tp)
{
	struct sip_dns_target t;
	char buf[SA_STRLEN];

	assert_int_equal(sip_dns_numeric(pl_make(host, strlen(host)), port, tp, secure, &t), 0);
	assert_string_equal(sa_ntop(&t.addr, buf, sizeof(buf)), want_addr);
	assert_int_equal(sa_port(&t.addr), want_port);
	assert_int_equal(t.tp, want_tp);
}

static void test_numeric(void **state)
{
	struct sip_dns_target t = { .tp = SIP_TP_NONE };

	(void)state;
	expect_numeric("192.0.2.1", 0, SIP_TP_NONE, false, "192.0.2.1", 5060, SIP_TP_UDP);
	expect_numeric("192.0.2.1", 5070, SIP_TP_TCP, false, "192.0.2.1", 5070, SIP_TP_TCP);
	expect_numeric("192.0.2.1", 0, SIP_TP_TLS, false, "192.0.2.1", 5061, SIP_TP_TLS);
	expect_numeric("[2001:db8::1]", 0, SIP_TP_NONE, true, "2001:db8::1", 5061, SIP_TP_TLS);
	expect_numeric("2001:db8::1", 9, SIP_TP_TCP, true, "2001:db8::1", 9, SIP_TP_TLS);
	assert_int_equal(sip_dns_numeric(PL("192.0.2.1"), 0, SIP_TP_UDP, true, &t), EINVAL);
	assert_int_equal(sip_dns_numeric(PL("example.com"), 0, SIP_TP_NONE, false, &t), ENOENT);
	assert_int_equal(sip_dns_numeric(PL("192.0.2.1.example"), 0, SIP_TP_NONE, false, &t),
			 ENOENT);
	assert_int_equal(t.tp, SIP_TP_NONE); /* untouched on failure */
	assert_int_equal(sip_dns_default_port(SIP_TP_TLS), 5061);
	assert_int_equal(sip_dns_default_port(SIP_TP_UDP), 5060);
	assert_string_equal(sip_dns_tp_name(SIP_TP_TCP), "TCP");
}

/* ---- a fake DNS server on the loop ---- */

enum { T_A = 1, T_AAAA = 28, T_SRV = 33, T_NAPTR = 35 };

struct rr {
	const char *name;
	uint16_t type;
	const char *addr; /* A, AAAA */
	uint16_t a, b, c; /* SRV prio/weight/port, NAPTR order/pref */
	const char *s1, *s2, *s3, *target; /* NAPTR flags/service/regexp; SRV/NAPTR target */
};

struct fake {
	struct loop *loop;
	int fd;
	uint16_t port;
	const struct rr *zone;
	size_t nzone;
	bool silent;
	unsigned queries[64]; /* by type (low types only) */
	unsigned total;
};

static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (!l)
			break; /* "." is the root: just the final zero */
		p[n++] = (uint8_t)l;
		memcpy(p + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

static size_t put_str(uint8_t *p, const char *s)
{
	p[0] = (uint8_t)strlen(s);
	memcpy(p + 1, s, p[0]);
	return 1 + p[0];
}

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t put_rdata(uint8_t *p, const struct rr *r)
{
	size_t n = 0;

	switch (r->type) {
	case T_A:
		inet_pton(AF_INET, r->addr, p);
		return 4;
	case T_AAAA:
		inet_pton(AF_INET6, r->addr, p);
		return 16;
	case T_SRV:
		n += put16(p + n, r->a);
		n += put16(p + n, r->b);
		n += put16(p + n, r->c);
		return n + put_name(p + n, r->target);
	default: /* NAPTR */
		n += put16(p + n, r->a);
		n += put16(p + n, r->b);
		n += put_str(p + n, r->s1);
		n += put_str(p + n, r->s2);
		n += put_str(p + n, r->s3);
		return n + put_name(p + n, r->target);
	}
}

static void fake_answer(struct fake *f, int fd);

static void fake_read(int fd, unsigned events, void *arg)
{
	(void)events;
	for (int i = 0; i < 64; i++) /* drain: several queries may wait */
		fake_answer(arg, fd);
}

static void fake_answer(struct fake *f, int fd)
{
	uint8_t q[512], out[2048];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	char name[256];
	size_t nl = 0, i = 12, n;
	uint16_t qtype, an = 0;
	bool known = false;
	ssize_t len;

	len = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	if (len < 17)
		return;
	while (i < (size_t)len && q[i]) {
		if (q[i] > 63 || nl + q[i] + 2 > sizeof(name) || i + q[i] + 5u >= (size_t)len)
			return;
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
	f->total++;
	f->queries[qtype < 64 ? qtype : 0]++;
	if (f->silent)
		return;
	memcpy(out, q, i); /* header and question */
	n = i;
	for (size_t k = 0; k < f->nzone; k++) {
		const struct rr *r = &f->zone[k];
		size_t rdl;

		if (strcasecmp(r->name, name))
			continue;
		known = true;
		if (r->type != qtype)
			continue;
		n += put16(out + n, 0xc00c);
		n += put16(out + n, qtype);
		n += put16(out + n, 1);
		n += put16(out + n, 0);
		n += put16(out + n, 60);
		rdl = put_rdata(out + n + 2, r);
		n += put16(out + n, (uint16_t)rdl) + rdl;
		an++;
	}
	out[2] = 0x84 | (q[2] & 0x01); /* QR, AA, RD copied */
	out[3] = known ? 0x80 : 0x83;  /* RA; NOERROR or NXDOMAIN */
	put16(out + 6, an);
	put16(out + 8, 0);
	put16(out + 10, 0);
	sendto(fd, out, n, 0, (struct sockaddr *)&from, fl);
}

static void fake_start(struct fake *f, struct loop *l, const struct rr *zone, size_t n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->loop = l;
	f->zone = zone;
	f->nzone = n;
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(f->fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sin, &sl), 0);
	f->port = ntohs(sin.sin_port);
	assert_int_equal(loop_fd_listen(l, f->fd, LOOP_READ, fake_read, f), 0);
}

static void fake_stop(struct fake *f)
{
	loop_fd_forget(f->loop, f->fd);
	close(f->fd);
}

/* ---- the resolver against the fake ---- */

struct result {
	bool done;
	unsigned calls;
	int err;
	size_t n;
	char lines[SIP_DNS_MAX_TARGETS][80];
};

static void on_result(int err, const struct sip_dns_target *v, size_t n, void *arg)
{
	struct result *r = arg;

	r->done = true;
	r->calls++;
	r->err = err;
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		char a[SA_STRLEN];

		snprintf(r->lines[i], sizeof(r->lines[i]), "%s %s %u", sip_dns_tp_name(v[i].tp),
			 sa_ntop(&v[i].addr, a, sizeof(a)), sa_port(&v[i].addr));
	}
}

struct env {
	struct loop *loop;
	struct fake fake;
	struct sip_dns *dns;
};

static void env_open(struct env *e, const struct rr *zone, size_t n, unsigned timeout_ms)
{
	char srv[64];
	struct sip_dns_conf conf = { .servers = srv, .timeout_ms = timeout_ms, .tries = 1 };

	assert_int_equal(loop_alloc(&e->loop), 0);
	fake_start(&e->fake, e->loop, zone, n);
	snprintf(srv, sizeof(srv), "127.0.0.1:%u", e->fake.port);
	assert_int_equal(sip_dns_alloc(&e->dns, e->loop, &conf), 0);
}

static void env_close(struct env *e)
{
	e->dns = mem_deref(e->dns);
	fake_stop(&e->fake);
	loop_free(e->loop);
}

static void run_until(struct env *e, struct result *r, unsigned max_ms)
{
	uint64_t end = loop_clock_ms() + max_ms;

	while (!r->done && loop_clock_ms() < end)
		assert_int_equal(loop_run_once(e->loop, 20), 0);
}

static void resolve(struct env *e, const char *host, uint16_t port, enum sip_transport tp,
		    bool secure, struct result *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(sip_dns_resolve(e->dns, pl_make(host, strlen(host)), port, tp, secure,
					 on_result, r, NULL),
			 0);
	assert_false(r->done); /* never from inside sip_dns_resolve() */
	run_until(e, r, 3000);
	assert_true(r->done);
	assert_int_equal(r->calls, 1);
}

static const struct rr zone[] = {
	{ "ex.test", T_NAPTR, NULL, 10, 60, 0, "s", "SIP+D2U", "", "_sip._udp.ex.test" },
	{ "ex.test", T_NAPTR, NULL, 10, 50, 0, "s", "SIP+D2T", "", "_sip._tcp.ex.test" },
	{ "ex.test", T_NAPTR, NULL, 5, 50, 0, "s", "SIP+D2S", "", "_sip._sctp.ex.test" },
	{ "ex.test", T_NAPTR, NULL, 20, 50, 0, "s", "SIPS+D2T", "", "_sips._tcp.ex.test" },
	{ "_sip._udp.ex.test", T_SRV, NULL, 10, 0, 5080, NULL, NULL, NULL, "u.ex.test" },
	{ "_sip._tcp.ex.test", T_SRV, NULL, 20, 0, 5070, NULL, NULL, NULL, "t2.ex.test" },
	{ "_sip._tcp.ex.test", T_SRV, NULL, 10, 0, 5071, NULL, NULL, NULL, "t1.ex.test" },
	{ "_sips._tcp.ex.test", T_SRV, NULL, 10, 0, 5061, NULL, NULL, NULL, "s.ex.test" },
	{ "u.ex.test", T_A, "127.0.0.10", 0, 0, 0, NULL, NULL, NULL, NULL },
	{ "t1.ex.test", T_A, "127.0.0.11", 0, 0, 0, NULL, NULL, NULL, NULL },
	{ "t2.ex.test", T_A, "127.0.0.12", 0, 0, 0, NULL, NULL, NULL, NULL },
	{ "s.ex.test", T_AAAA, "::1", 0, 0, 0, NULL, NULL, NULL, NULL },
	{ "_sip._udp.srv.test", T_SRV, NULL, 1, 0, 5090, NULL, NULL, NULL, "u.ex.test" },
	{ "_sip._tcp.srv.test", T_SRV, NULL, 1, 0, 0, NULL, NULL, NULL, "." },
	{ "a.test", T_A, "127.0.0.20", 0, 0, 0, NULL, NULL, NULL, NULL },
	{ "a.test", T_AAAA, "::1", 0, 0, 0, NULL, NULL, NULL, NULL },
	{ "dead.test", T_A, "127.0.0.30", 0, 0, 0, NULL, NULL, NULL, NULL },
	{ "_sip._udp.dead.test", T_SRV, NULL, 1, 0, 5060, NULL, NULL, NULL, "." },
};

static void test_resolve_chain(void **state)
{
	struct env e;
	struct result r;

	(void)state;
	env_open(&e, zone, ARRAY_SIZE(zone), 1000);
	resolve(&e, "ex.test", 0, SIP_TP_NONE, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 4);
	/* NAPTR order 10: TCP (pref 50) then UDP (60); SCTP dropped; order 20: TLS */
	assert_string_equal(r.lines[0], "TCP 127.0.0.11 5071");
	assert_string_equal(r.lines[1], "TCP 127.0.0.12 5070");
	assert_string_equal(r.lines[2], "UDP 127.0.0.10 5080");
	assert_string_equal(r.lines[3], "TLS ::1 5061");
	assert_int_equal(e.fake.queries[T_NAPTR], 1);
	assert_int_equal(e.fake.queries[T_SRV], 3);

	resolve(&e, "ex.test", 0, SIP_TP_NONE, true, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "TLS ::1 5061");
	env_close(&e);
}

static void test_resolve_fallbacks(void **state)
{
	struct env e;
	struct result r;

	(void)state;
	env_open(&e, zone, ARRAY_SIZE(zone), 1000);
	/* no NAPTR: SRV probes; "." for TCP means not offered */
	resolve(&e, "srv.test", 0, SIP_TP_NONE, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "UDP 127.0.0.10 5090");

	/* no NAPTR, no SRV: A/AAAA at 5060 over UDP */
	resolve(&e, "a.test", 0, SIP_TP_NONE, false, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.n, 2);
	assert_non_null(strstr(r.lines[0], " 5060"));
	assert_true(!strcmp(r.lines[0], "UDP 127.0.0.20 5060") ||
		    !strcmp(r.lines[1], "UDP 127.0.0.20 5060"));
	assert_true(!strcmp(r.lines[0], "UDP ::1 5060") || !strcmp(r.lines[1], "UDP ::1 5060"));

	/* explicit TLS: only _sips._tcp probed, then A at 5061 */
	memset(e.fake.queries, 0, sizeof(e.fake.queries));
	resolve(&e, "a.test", 0, SIP_TP_TLS, false, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.lines[0] + strlen(r.lines[0]) - 5, " 5061");
	assert_int_equal(e.fake.queries[T_NAPTR], 0);
	assert_int_equal(e.fake.queries[T_SRV], 1);

	/* a port skips NAPTR and SRV */
	memset(e.fake.queries, 0, sizeof(e.fake.queries));
	resolve(&e, "ex.test", 7000, SIP_TP_NONE, false, &r);
	assert_int_equal(r.err, ENOENT); /* ex.test has no address */
	resolve(&e, "a.test", 7000, SIP_TP_TCP, false, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(e.fake.queries[T_NAPTR] + e.fake.queries[T_SRV], 0);
	assert_non_null(strstr(r.lines[0], "TCP "));

	/* SRV says "." only: no A fallback although the host has an address */
	resolve(&e, "dead.test", 0, SIP_TP_UDP, false, &r);
	assert_int_equal(r.err, ENOENT);

	/* NXDOMAIN throughout */
	resolve(&e, "nx.test", 0, SIP_TP_NONE, false, &r);
	assert_int_equal(r.err, ENOENT);
	assert_int_equal(r.n, 0);
	env_close(&e);
}

static void test_resolve_numeric_cancel(void **state)
{
	struct env e;
	struct result r, r2;
	struct sip_dns_query *q = NULL;

	(void)state;
	env_open(&e, zone, ARRAY_SIZE(zone), 1000);
	resolve(&e, "[::1]", 0, SIP_TP_NONE, true, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "TLS ::1 5061");
	assert_int_equal(e.fake.total, 0);

	/* cancelled before the loop ran: never called */
	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	assert_int_equal(sip_dns_resolve(e.dns, PL("127.0.0.1"), 0, SIP_TP_NONE, false, on_result,
					 &r, &q),
			 0);
	sip_dns_cancel(q);
	/* cancelled with DNS requests in flight: never called; the next query still works */
	assert_int_equal(
		sip_dns_resolve(e.dns, PL("ex.test"), 0, SIP_TP_NONE, false, on_result, &r, &q), 0);
	sip_dns_cancel(q);
	assert_int_equal(
		sip_dns_resolve(e.dns, PL("a.test"), 5060, SIP_TP_NONE, false, on_result, &r2, NULL),
		0);
	run_until(&e, &r2, 3000);
	assert_true(r2.done);
	for (int i = 0; i < 10; i++)
		loop_run_once(e.loop, 10);
	assert_false(r.done);
	sip_dns_cancel(NULL);

	assert_int_equal(sip_dns_resolve(e.dns, PL("bad name"), 0, SIP_TP_NONE, false, on_result,
					 &r, NULL),
			 EINVAL);
	assert_int_equal(sip_dns_resolve(e.dns, PL("a.test"), 0, SIP_TP_UDP, true, on_result, &r,
					 NULL),
			 EINVAL);
	env_close(&e);
}

static void test_resolve_timeout_and_free(void **state)
{
	struct env e;
	struct result r;
	struct sip_dns_query *q = NULL;
	uint64_t t0;

	(void)state;
	env_open(&e, zone, ARRAY_SIZE(zone), 100);
	e.fake.silent = true;
	t0 = loop_clock_ms();
	resolve(&e, "ex.test", 0, SIP_TP_NONE, false, &r);
	assert_int_equal(r.err, ETIMEDOUT);
	/* a timed-out NAPTR stops there: no fallback waiting again */
	assert_int_equal(e.fake.queries[T_SRV], 0);
	assert_true(loop_clock_ms() - t0 < 1500);

	/* freeing the resolver with a query in flight: no call, no leak */
	memset(&r, 0, sizeof(r));
	assert_int_equal(
		sip_dns_resolve(e.dns, PL("ex.test"), 0, SIP_TP_NONE, false, on_result, &r, NULL),
		0);
	loop_run_once(e.loop, 10);
	/* ... and one in its A/AAAA step, and one cancelled there */
	assert_int_equal(
		sip_dns_resolve(e.dns, PL("a.test"), 5060, SIP_TP_NONE, false, on_result, &r, NULL),
		0);
	assert_int_equal(
		sip_dns_resolve(e.dns, PL("a.test"), 5060, SIP_TP_NONE, false, on_result, &r, &q), 0);
	loop_run_once(e.loop, 10);
	sip_dns_cancel(q);
	loop_run_once(e.loop, 10);
	assert_true(e.fake.queries[T_A] >= 2);
	env_close(&e);
	assert_false(r.done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_naptr_tp),
		cmocka_unit_test(test_naptr_sort),
		cmocka_unit_test(test_srv_priority),
		cmocka_unit_test(test_srv_weights),
		cmocka_unit_test(test_srv_seeded),
		cmocka_unit_test(test_rand_incl),
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_resolve_chain),
		cmocka_unit_test(test_resolve_fallbacks),
		cmocka_unit_test(test_resolve_numeric_cancel),
		cmocka_unit_test(test_resolve_timeout_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
