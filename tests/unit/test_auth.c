/*
 * Unit tests for sip/auth: RFC 2617 / RFC 7616 vectors, vectors computed
 * independently with Python's hashlib, parser edge cases, and client <->
 * server round trips with a clock the tests move.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/mem.h"
#include "sip/auth/auth.h"

#define S(s) pl_make((s), strlen(s))
#define NOPL pl_make(NULL, 0)

/* ---- RFC 7616 §3.9.1 ---- */

static const char rfc7616_nonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
static const char rfc7616_cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

static struct sip_digest_params mufasa(enum sip_digest_alg alg)
{
	struct sip_digest_params dp = {
		.alg = alg,
		.username = PL("Mufasa"),
		.realm = PL("http-auth@example.org"),
		.password = PL("Circle of Life"),
		.nonce = S(rfc7616_nonce),
		.cnonce = S(rfc7616_cnonce),
		.nc = PL("00000001"),
		.qop = SIP_DIGEST_QOP_AUTH,
		.method = PL("GET"),
		.uri = PL("/dir/index.html"),
	};
	return dp;
}

static void assert_response(const struct sip_digest_params *dp, const char *want)
{
	char hex[SIP_DIGEST_HEX_MAX];

	assert_int_equal(sip_digest_response(dp, hex, sizeof(hex)), 0);
	assert_string_equal(hex, want);
}

static void test_rfc7616_vectors(void **state)
{
	struct sip_digest_params dp = mufasa(SIP_DIGEST_MD5);

	(void)state;
	assert_response(&dp, "8ca523f5e9506fed4657c9700eebdbec");
	dp = mufasa(SIP_DIGEST_SHA256);
	assert_response(&dp, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

/* The Authorization values of RFC 7616 §3.9.1, parsed then recomputed. */
static void test_rfc7616_credentials(void **state)
{
	static const char *const vals[] = {
		"Digest username=\"Mufasa\",\r\n realm=\"http-auth@example.org\",\r\n"
		" uri=\"/dir/index.html\",\r\n algorithm=MD5,\r\n"
		" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n nc=00000001,\r\n"
		" cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n qop=auth,\r\n"
		" response=\"8ca523f5e9506fed4657c9700eebdbec\",\r\n"
		" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
		"Digest username=\"Mufasa\", realm=\"http-auth@example.org\","
		" uri=\"/dir/index.html\", algorithm=SHA-256,"
		" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001,"
		" cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth,"
		" response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\","
		" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
	};
	static const enum sip_digest_alg algs[] = { SIP_DIGEST_MD5, SIP_DIGEST_SHA256 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct sip_digest_cred cr;
		struct sip_digest_params dp;
		char hex[SIP_DIGEST_HEX_MAX];

		assert_int_equal(sip_digest_cred_decode(&cr, S(vals[i])), 0);
		assert_int_equal(cr.alg, algs[i]);
		assert_true(pl_eq(cr.username, PL("Mufasa")));
		assert_true(pl_eq(cr.uri, PL("/dir/index.html")));
		assert_true(pl_eq(cr.opaque, PL("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")));
		assert_int_equal(cr.qop_id, SIP_DIGEST_QOP_AUTH);
		assert_int_equal(cr.ncval, 1);
		dp = (struct sip_digest_params){ .alg = cr.alg,
						 .username = cr.username,
						 .realm = cr.realm,
						 .password = PL("Circle of Life"),
						 .nonce = cr.nonce,
						 .cnonce = cr.cnonce,
						 .nc = cr.nc,
						 .qop = cr.qop_id,
						 .method = PL("GET"),
						 .uri = cr.uri };
		assert_int_equal(sip_digest_response(&dp, hex, sizeof(hex)), 0);
		assert_true(pl_eq(cr.response, S(hex)));
	}
}

/* RFC 7616 §3.9.1 challenges: SHA-256 first; pick must take it either way round. */
static void test_rfc7616_challenges(void **state)
{
	static const char sha[] =
		"Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n"
		" algorithm=SHA-256,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
		" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
	static const char md5[] =
		"Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5,"
		" nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\","
		" opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
	struct sip_digest_chal ch;
	struct pl two[2];
	size_t idx = 99;

	(void)state;
	assert_int_equal(sip_digest_chal_decode(&ch, S(sha)), 0);
	assert_int_equal(ch.alg, SIP_DIGEST_SHA256);
	assert_int_equal(ch.qops, SIP_DIGEST_QOP_AUTH | SIP_DIGEST_QOP_AUTH_INT);
	assert_true(pl_eq(ch.realm, PL("http-auth@example.org")));
	assert_true(pl_eq(ch.nonce, S(rfc7616_nonce)));
	assert_false(ch.stale);

	two[0] = S(md5);
	two[1] = S(sha);
	assert_int_equal(sip_auth_pick(two, 2, &idx), 0);
	assert_int_equal(idx, 1);
	two[0] = S(sha);
	two[1] = S(md5);
	assert_int_equal(sip_auth_pick(two, 2, &idx), 0);
	assert_int_equal(idx, 0);
}

/* RFC 2617 §3.5 */
static void test_rfc2617_vector(void **state)
{
	struct sip_digest_params dp = {
		.alg = SIP_DIGEST_MD5,
		.username = PL("Mufasa"),
		.realm = PL("testrealm@host.com"),
		.password = PL("Circle Of Life"),
		.nonce = PL("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
		.cnonce = PL("0a4f113b"),
		.nc = PL("00000001"),
		.qop = SIP_DIGEST_QOP_AUTH,
		.method = PL("GET"),
		.uri = PL("/dir/index.html"),
	};

	(void)state;
	assert_response(&dp, "6629fae49393a05397450978507c4ef1");
}

/* Vectors computed independently with Python's hashlib. */
static void test_more_vectors(void **state)
{
	struct sip_digest_params dp;

	(void)state;
	dp = mufasa(SIP_DIGEST_MD5_SESS);
	assert_response(&dp, "e783283f46242139c486a698fec7211d");
	dp = mufasa(SIP_DIGEST_SHA256_SESS);
	assert_response(&dp, "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7");
	dp = mufasa(SIP_DIGEST_SHA512_256);
	assert_response(&dp, "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0");
	dp = mufasa(SIP_DIGEST_SHA512_256_SESS);
	assert_response(&dp, "3f2a34f923c38b0fb26dce2fdfc2ce326c23cecf86fbb1444f3e51fbbc2cb92e");

	dp = mufasa(SIP_DIGEST_MD5);
	dp.qop = SIP_DIGEST_QOP_AUTH_INT;
	dp.nc = PL("00000002");
	dp.method = PL("INVITE");
	dp.uri = PL("sip:bob@example.com");
	dp.body = PL("hello");
	assert_response(&dp, "0a4540658f049d76bdc1e7e00bcc22da");

	dp = mufasa(SIP_DIGEST_MD5);
	dp.qop = SIP_DIGEST_QOP_NONE;
	dp.method = PL("REGISTER");
	dp.uri = PL("sip:example.com");
	assert_response(&dp, "a9745b77c41a4ff9842603cbb1b47650");

	/* Wire-form escapes are removed before hashing: user Mu"fa\sa, realm re"alm. */
	dp = (struct sip_digest_params){ .alg = SIP_DIGEST_MD5,
					 .username = PL("Mu\\\"fa\\\\sa"),
					 .realm = PL("re\\\"alm"),
					 .password = PL("pw"),
					 .nonce = PL("abc"),
					 .cnonce = PL("xyz"),
					 .nc = PL("00000001"),
					 .qop = SIP_DIGEST_QOP_AUTH,
					 .method = PL("GET"),
					 .uri = PL("/x") };
	assert_response(&dp, "6897698081791fb46345a0db9ce1e3e4");

	/* A stored HA1 (upper-case hex accepted) gives the same answer as the password. */
	dp = mufasa(SIP_DIGEST_MD5);
	dp.password = NOPL;
	dp.ha1 = PL("3D78807DEFE7DE2157E2B0B6573A855F"); /* MD5(Mufasa:realm:password) */
	assert_response(&dp, "8ca523f5e9506fed4657c9700eebdbec");
	dp.ha1 = PL("3d78807defe7de2157e2b0b6573a85");
	char hex[SIP_DIGEST_HEX_MAX];
	assert_int_equal(sip_digest_response(&dp, hex, sizeof(hex)), EINVAL);
	dp = mufasa(SIP_DIGEST_UNKNOWN);
	assert_int_equal(sip_digest_response(&dp, hex, sizeof(hex)), EINVAL);
	dp = mufasa(SIP_DIGEST_SHA256);
	assert_int_equal(sip_digest_response(&dp, hex, 33), EINVAL);
}

static void test_alg_table(void **state)
{
	(void)state;
	assert_int_equal(sip_digest_alg_lookup(PL("sha-256")), SIP_DIGEST_SHA256);
	assert_int_equal(sip_digest_alg_lookup(PL("MD5-SESS")), SIP_DIGEST_MD5_SESS);
	assert_int_equal(sip_digest_alg_lookup(PL("SHA-512-256-sess")),
			 SIP_DIGEST_SHA512_256_SESS);
	assert_int_equal(sip_digest_alg_lookup(PL("SHA-1")), SIP_DIGEST_UNKNOWN);
	assert_int_equal(sip_digest_alg_lookup(PL("")), SIP_DIGEST_UNKNOWN);
	assert_string_equal(sip_digest_alg_name(SIP_DIGEST_SHA256_SESS), "SHA-256-sess");
	assert_int_equal(sip_digest_alg_base(SIP_DIGEST_SHA512_256_SESS), SIP_DIGEST_SHA512_256);
	assert_true(sip_digest_alg_is_sess(SIP_DIGEST_MD5_SESS));
	assert_false(sip_digest_alg_is_sess(SIP_DIGEST_MD5));
	assert_int_equal(sip_digest_hexlen(SIP_DIGEST_MD5), 32);
	assert_int_equal(sip_digest_hexlen(SIP_DIGEST_SHA512_256), 64);
	assert_int_equal(sip_digest_hexlen(SIP_DIGEST_UNKNOWN), 0);
}

/* ---- parser ---- */

static void test_parse_chal_forms(void **state)
{
	struct sip_digest_chal ch;

	(void)state;
	/* any order, unknown parameters, escapes, unquoted qop, case-insensitive names */
	assert_int_equal(sip_digest_chal_decode(&ch, PL("digest NONCE=\"n\\\"1\", x-foo=bar,"
							   " Realm=\"a\\\\b\",qop=auth,stale=TRUE,"
							   " x-q=\"a,b\", domain=\"sip:x sip:y\"")),
			 0);
	assert_true(pl_eq(ch.nonce, PL("n\\\"1")));
	assert_true(pl_eq(ch.realm, PL("a\\\\b")));
	assert_true(sip_digest_val_eq(ch.realm, PL("a\\b")));
	assert_false(sip_digest_val_eq(ch.realm, PL("a\\\\b")));
	assert_true(pl_eq(ch.domain, PL("sip:x sip:y")));
	assert_int_equal(ch.qops, SIP_DIGEST_QOP_AUTH);
	assert_int_equal(ch.alg, SIP_DIGEST_MD5);
	assert_false(pl_isset(ch.algorithm));
	assert_true(ch.stale);
	assert_false(ch.userhash);

	/* RFC 2069 style: no qop; empty list elements; unknown algorithm is kept, not fatal */
	assert_int_equal(sip_digest_chal_decode(&ch, PL("Digest ,realm=\"r\",, nonce=\"\","
							   " algorithm=SHA-1, userhash=true,")),
			 0);
	assert_int_equal(ch.qops, 0);
	assert_int_equal(ch.nonce.l, 0);
	assert_int_equal(ch.alg, SIP_DIGEST_UNKNOWN);
	assert_true(ch.userhash);
	assert_true(pl_eq(ch.algorithm, PL("SHA-1")));

	/* qop list with an extension token only */
	assert_int_equal(sip_digest_chal_decode(&ch, PL("Digest realm=r, nonce=n, qop=\"x\"")), 0);
	assert_int_equal(ch.qops, SIP_DIGEST_QOP_OTHER);
}

static void test_parse_malformed(void **state)
{
	static const char *const chal_bad[] = {
		"",
		"Digest",
		"Digest realm=\"r\"",                           /* no nonce */
		"Digest nonce=\"n\"",                           /* no realm */
		"Digest realm=\"r\", nonce=\"n\", realm=\"s\"", /* duplicate */
		"Digest realm=\"r\", NONCE=\"n\", nonce=\"m\"", /* duplicate, other case */
		"Digest realm=\"r, nonce=\"n\"",                /* open quote */
		"Digest realm=\"r\" nonce=\"n\"",               /* missing comma */
		"Digest realm=, nonce=n",                       /* empty token value */
		"Digest realm=\"r\", nonce=n, stale=maybe",
		"Digest realm=\"r\", nonce=n, userhash=1",
		"Digest realm=\"r\", nonce=n, qop=\"\"",
		"Digest realm=\"r\", nonce=n, qop=\"auth auth-int\"",
		"Digest realm=\"r\", nonce=n, =x",
		"Digest realm=\"r\", nonce=n, x",
		"Digest realm=\"a\\\"",                         /* escape eats the close quote */
		"Digest realm=\"a\x01\", nonce=n",              /* control char */
		"Digest realm=\"a\x7f\", nonce=n",
		"Digest realm=\"a\\\r\", nonce=n",
		"Digest realm=r;x, nonce=n",
		"Digest,realm=r, nonce=n",
	};
	static const char *const cred_bad[] = {
		"Digest username=u, realm=r, nonce=n, uri=x",   /* no response */
		"Digest username=u, realm=r, nonce=n, response=x",
		"Digest username=u, realm=r, uri=x, response=x",
		"Digest realm=r, nonce=n, uri=x, response=x",
		"Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth",
		"Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth, nc=00000001",
		"Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth, cnonce=c, nc=1",
		"Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=auth, cnonce=c,"
		" nc=0000000g",
		"Digest username=u, realm=r, nonce=n, uri=x, response=x, qop=\"\", cnonce=c,"
		" nc=00000001",
		"Digest username=u, username=v, realm=r, nonce=n, uri=x, response=x",
		"Digest username=u, realm=r, nonce=n, uri=x, response=x, userhash=yes",
	};
	struct sip_digest_chal ch;
	struct sip_digest_cred cr;

	(void)state;
	for (size_t i = 0; i < sizeof(chal_bad) / sizeof(chal_bad[0]); i++) {
		int err = sip_digest_chal_decode(&ch, S(chal_bad[i]));

		if (err != EBADMSG)
			fail_msg("challenge %zu \"%s\": %d", i, chal_bad[i], err);
	}
	for (size_t i = 0; i < sizeof(cred_bad) / sizeof(cred_bad[0]); i++) {
		int err = sip_digest_cred_decode(&cr, S(cred_bad[i]));

		if (err != EBADMSG)
			fail_msg("credentials %zu \"%s\": %d", i, cred_bad[i], err);
	}
	/* An escaped NUL (found by the fuzzer: it cut the client's output short). */
	assert_int_equal(sip_digest_chal_decode(&ch, PL("Digest realm=\"a\\\0b\", nonce=n")),
			 EBADMSG);
	assert_int_equal(sip_digest_chal_decode(&ch, PL("Digest realm=\"a\\\tb\", nonce=n")), 0);
	assert_int_equal(sip_digest_chal_decode(&ch, PL("Basic realm=\"r\"")), ENOTSUP);
	assert_int_equal(sip_digest_cred_decode(&cr, PL("Bearer abc")), ENOTSUP);
	assert_int_equal(sip_digest_cred_decode(&cr, PL("Digestive username=u")), ENOTSUP);
	/* Good credentials without qop: cnonce and nc are optional then. */
	assert_int_equal(sip_digest_cred_decode(&cr, PL("Digest username=u, realm=r, nonce=n,"
							 " uri=x, response=x, nc=0000000A")),
			 0);
	assert_int_equal(cr.qop_id, SIP_DIGEST_QOP_NONE);
	assert_int_equal(cr.ncval, 0);
}

/* ---- server / client ---- */

struct fake_clock {
	uint64_t now;
};

static uint64_t clock_get(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

struct users {
	bool ha1;   /* answer with an HA1 computed here with EVP */
	int fail;   /* an errno to return instead */
	unsigned calls;
};

static const char *const user_tab[][2] = {
	{ "alice", "wonder land" },
	{ "b\"o\\b", "p\"w" },
};

static void hex_md(const EVP_MD *md, const char *s, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n;

	assert_int_equal(EVP_Digest(s, strlen(s), d, &n, md, NULL), 1);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static int lookup(struct pl user, struct pl realm, enum sip_digest_alg alg,
		  struct sip_auth_secret *sec, void *arg)
{
	struct users *u = arg;
	char a1[600];

	u->calls++;
	assert_false(sip_digest_alg_is_sess(alg));
	if (u->fail)
		return u->fail;
	for (size_t i = 0; i < sizeof(user_tab) / sizeof(user_tab[0]); i++) {
		if (!pl_eq(user, S(user_tab[i][0])))
			continue;
		if (!u->ha1) {
			sec->kind = SIP_AUTH_PASSWORD;
			snprintf(sec->secret, sizeof(sec->secret), "%s", user_tab[i][1]);
			return 0;
		}
		snprintf(a1, sizeof(a1), "%s:%.*s:%s", user_tab[i][0], PL_ARG(realm),
			 user_tab[i][1]);
		sec->kind = SIP_AUTH_HA1;
		hex_md(alg == SIP_DIGEST_MD5	  ? EVP_md5()
		       : alg == SIP_DIGEST_SHA256 ? EVP_sha256()
						  : EVP_sha512_256(),
		       a1, sec->secret);
		return 0;
	}
	return ENOENT;
}

struct fixture {
	struct fake_clock clk;
	struct users users;
	struct sip_auth_server *as;
	struct sip_auth_client *ac;
	char *hdrs;
	struct pl chal[4];
	size_t nchal;
};

/* An offer list from its algorithms, in order: ALGS(SIP_DIGEST_MD5, SIP_DIGEST_SHA256). */
#define ALGS(...)                                                                                  \
	(&(struct sip_digest_algs){                                                                \
		{__VA_ARGS__},                                                                     \
		sizeof((enum sip_digest_alg[]){__VA_ARGS__}) / sizeof(enum sip_digest_alg)})

/* algs NULL: the server's default order. */
static int make_server(struct fixture *f, const struct sip_digest_algs *algs, unsigned slots)
{
	struct sip_auth_server_cfg cfg = {
		.realm = "gw.example.net",
		.nonce_lifetime = 60,
		.nonce_slots = slots,
		.clock = clock_get,
		.clock_arg = &f->clk,
	};

	if (algs)
		cfg.algs = *algs;

	f->as = mem_deref(f->as);
	return sip_auth_server_alloc(&f->as, &cfg);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->clk.now = 1000;
	if (make_server(f, NULL, 0) || sip_auth_client_alloc(&f->ac, "alice", "wonder land"))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_deref(f->as);
	mem_deref(f->ac);
	mem_deref(f->hdrs);
	free(f);
	return 0;
}

/* Issues a challenge and splits it into values (the text after "Name: "). */
static void challenge(struct fixture *f, bool stale)
{
	const char *p, *eol;

	f->hdrs = mem_deref(f->hdrs);
	assert_int_equal(sip_auth_challenge(f->as, false, stale, &f->hdrs), 0);
	f->nchal = 0;
	for (p = f->hdrs; *p; p = eol + 2) {
		const char *colon = strstr(p, ": ");

		eol = strstr(p, "\r\n");
		assert_non_null(eol);
		assert_non_null(colon);
		assert_true(strncmp(p, "WWW-Authenticate: ", 18) == 0);
		assert_true(f->nchal < 4);
		f->chal[f->nchal++] = pl_make(colon + 2, (size_t)(eol - colon - 2));
	}
}

static char *answer(struct fixture *f, const char *method, const char *uri)
{
	size_t idx;
	char *val = NULL;

	assert_int_equal(sip_auth_pick(f->chal, f->nchal, &idx), 0);
	assert_int_equal(
		sip_auth_client_respond(f->ac, f->chal[idx], S(method), S(uri), NOPL, &val), 0);
	return val;
}

static enum sip_auth_verdict verify(struct fixture *f, const char *val, const char *method,
				    const char *ruri)
{
	return sip_auth_verify(f->as, S(val), S(method), S(ruri), lookup, &f->users, NULL);
}

static void test_challenge_text(void **state)
{
	struct fixture *f = *state;
	struct sip_digest_chal a, b;

	challenge(f, false);
	assert_int_equal(f->nchal, 2);
	assert_int_equal(sip_digest_chal_decode(&a, f->chal[0]), 0);
	assert_int_equal(sip_digest_chal_decode(&b, f->chal[1]), 0);
	assert_int_equal(a.alg, SIP_DIGEST_SHA256); /* RFC 8760: SHA-256 first */
	assert_int_equal(b.alg, SIP_DIGEST_MD5);
	assert_int_equal(a.qops, SIP_DIGEST_QOP_AUTH);
	assert_true(pl_eq(a.nonce, b.nonce));
	assert_true(pl_eq(a.realm, PL("gw.example.net")));
	assert_false(a.stale);
	char *first = mem_strndup(b.nonce.p, b.nonce.l);
	challenge(f, true);
	assert_int_equal(sip_digest_chal_decode(&a, f->chal[1]), 0);
	assert_true(a.stale);
	assert_false(pl_eq(a.nonce, S(first))); /* every challenge has a fresh nonce */
	mem_deref(first);

	char *p = NULL;
	assert_int_equal(sip_auth_challenge(f->as, true, false, &p), 0);
	assert_true(strncmp(p, "Proxy-Authenticate: Digest realm=", 33) == 0);
	mem_deref(p);
}

static void roundtrip(struct fixture *f, const struct sip_digest_algs *algs,
		      enum sip_digest_alg want, bool ha1)
{
	struct sip_digest_cred cr;
	char *val;

	assert_int_equal(make_server(f, algs, 0), 0);
	f->users.ha1 = ha1;
	challenge(f, false);
	val = answer(f, "REGISTER", "sip:gw.example.net");
	assert_int_equal(sip_digest_cred_decode(&cr, S(val)), 0);
	assert_int_equal(cr.alg, want);
	assert_int_equal(cr.qop_id, SIP_DIGEST_QOP_AUTH);
	assert_int_equal(cr.ncval, 1);
	assert_int_equal(cr.response.l, sip_digest_hexlen(want));
	assert_int_equal(verify(f, val, "REGISTER", "sip:gw.example.net"), SIP_AUTH_OK);
	mem_deref(val);
}

static void test_roundtrip_each_alg(void **state)
{
	struct fixture *f = *state;

	for (int ha1 = 0; ha1 < 2; ha1++) {
		roundtrip(f, ALGS(SIP_DIGEST_MD5), SIP_DIGEST_MD5, ha1);
		roundtrip(f, ALGS(SIP_DIGEST_SHA256), SIP_DIGEST_SHA256, ha1);
		roundtrip(f, ALGS(SIP_DIGEST_SHA512_256), SIP_DIGEST_SHA512_256, ha1);
		roundtrip(f, NULL, SIP_DIGEST_SHA256, ha1);
		/* a client that knows SHA-2 prefers it wherever it stands (RFC 8760) */
		roundtrip(f, ALGS(SIP_DIGEST_MD5, SIP_DIGEST_SHA256), SIP_DIGEST_SHA256, ha1);
	}
	/* An algorithm the server did not offer is refused even with the right password. */
	assert_int_equal(make_server(f, ALGS(SIP_DIGEST_SHA256), 0), 0);
	challenge(f, false);
	char *md5 = mem_strndup(f->hdrs, strlen(f->hdrs));
	char *val = NULL, *alg = strstr(md5, "SHA-256");
	memcpy(alg, "MD5,   ", 7);
	assert_int_equal(sip_auth_client_respond(f->ac, S(strchr(md5, 'D')), PL("BYE"), PL("sip:a"),
						 NOPL, &val),
			 0);
	assert_int_equal(verify(f, val, "BYE", "sip:a"), SIP_AUTH_BAD);
	mem_deref(val);
	mem_deref(md5);
}

/* The challenge lines come out in the configured order, one per algorithm, and an old
 * client that answers only the first line with its algorithm gets in. */
static void test_challenge_order(void **state)
{
	static const struct sip_digest_algs orders[] = {
		{{SIP_DIGEST_MD5, SIP_DIGEST_SHA256}, 2},
		{{SIP_DIGEST_SHA256, SIP_DIGEST_MD5}, 2},
		{{SIP_DIGEST_SHA512_256, SIP_DIGEST_MD5, SIP_DIGEST_SHA256}, 3},
		{{SIP_DIGEST_MD5, SIP_DIGEST_SHA512_256}, 2},
		{{SIP_DIGEST_MD5}, 1},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(orders); i++) {
		const struct sip_digest_algs *o = &orders[i];
		struct sip_digest_chal ch;
		char *val = NULL;

		assert_int_equal(make_server(f, o, 0), 0);
		challenge(f, false);
		assert_int_equal(f->nchal, o->n);
		for (unsigned k = 0; k < o->n; k++) {
			assert_int_equal(sip_digest_chal_decode(&ch, f->chal[k]), 0);
			assert_int_equal(ch.alg, o->alg[k]);
			assert_true(pl_eq(ch.algorithm, S(sip_digest_alg_name(o->alg[k]))));
		}
		/* the first line only, as baresip 1.0 and SIPp 3.6 do */
		assert_int_equal(sip_auth_client_respond(f->ac, f->chal[0], PL("REGISTER"),
							 PL("sip:gw"), NOPL, &val),
				 0);
		assert_int_equal(verify(f, val, "REGISTER", "sip:gw"), SIP_AUTH_OK);
		mem_deref(val);
	}
	/* what is not offered is refused, whatever else is */
	assert_int_equal(make_server(f, ALGS(SIP_DIGEST_MD5, SIP_DIGEST_SHA512_256), 0), 0);
	challenge(f, false);
	char *sha = mem_strndup(f->chal[1].p, f->chal[1].l), *v = NULL;
	char *alg = strstr(sha, "SHA-512-256");
	memcpy(alg, "SHA-256,   ", 11);
	assert_int_equal(sip_auth_client_respond(f->ac, S(sha), PL("BYE"), PL("sip:a"), NOPL, &v),
			 0);
	assert_int_equal(verify(f, v, "BYE", "sip:a"), SIP_AUTH_BAD);
	mem_deref(v);
	mem_deref(sha);
}

static void test_stale_after_lifetime(void **state)
{
	struct fixture *f = *state;
	char *val;

	challenge(f, false);
	val = answer(f, "INVITE", "sip:100@gw");
	f->clk.now += 61;
	assert_int_equal(verify(f, val, "INVITE", "sip:100@gw"), SIP_AUTH_STALE);
	mem_deref(val);

	/* Stale is only for the right password: a wrong one is plainly bad. */
	challenge(f, false);
	struct sip_auth_client *bad = NULL;
	assert_int_equal(sip_auth_client_alloc(&bad, "alice", "guess"), 0);
	assert_int_equal(sip_auth_client_respond(bad, f->chal[0], PL("INVITE"), PL("sip:1@gw"),
						 NOPL, &val),
			 0);
	f->clk.now += 61;
	assert_int_equal(verify(f, val, "INVITE", "sip:1@gw"), SIP_AUTH_BAD);
	mem_deref(val);
	mem_deref(bad);

	/* Inside the lifetime it still works, at the edge too. */
	challenge(f, false);
	val = answer(f, "INVITE", "sip:100@gw");
	f->clk.now += 60;
	assert_int_equal(verify(f, val, "INVITE", "sip:100@gw"), SIP_AUTH_OK);
	mem_deref(val);
}

static void test_replay_nc(void **state)
{
	struct fixture *f = *state;
	char *v1, *v2 = NULL, *v3 = NULL;
	struct sip_digest_cred cr;

	challenge(f, false);
	v1 = answer(f, "INVITE", "sip:100@gw");
	assert_int_equal(verify(f, v1, "INVITE", "sip:100@gw"), SIP_AUTH_OK);
	assert_int_equal(verify(f, v1, "INVITE", "sip:100@gw"), SIP_AUTH_BAD);

	/* Reusing the nonce with the next nc is fine; going back is not. */
	assert_int_equal(sip_auth_client_reuse(f->ac, PL("gw.example.net"), PL("INVITE"),
					       PL("sip:101@gw"), NOPL, &v2),
			 0);
	assert_int_equal(sip_auth_client_reuse(f->ac, PL("gw.example.net"), PL("INVITE"),
					       PL("sip:102@gw"), NOPL, &v3),
			 0);
	assert_int_equal(sip_digest_cred_decode(&cr, S(v3)), 0);
	assert_int_equal(cr.ncval, 3);
	assert_int_equal(verify(f, v3, "INVITE", "sip:102@gw"), SIP_AUTH_OK);
	assert_int_equal(verify(f, v2, "INVITE", "sip:101@gw"), SIP_AUTH_BAD);
	assert_int_equal(sip_auth_client_reuse(f->ac, PL("other"), PL("INVITE"), PL("sip:1@gw"),
					       NOPL, &v2),
			 ENOENT);
	mem_deref(v1);
	mem_deref(v2);
	mem_deref(v3);
}

static void test_no_qop_once(void **state)
{
	struct fixture *f = *state;
	struct sip_digest_chal ch;
	char resp[SIP_DIGEST_HEX_MAX], val[512];

	challenge(f, false);
	assert_int_equal(sip_digest_chal_decode(&ch, f->chal[1]), 0);
	struct sip_digest_params dp = { .alg = SIP_DIGEST_MD5,
					.username = PL("alice"),
					.realm = ch.realm,
					.password = PL("wonder land"),
					.nonce = ch.nonce,
					.method = PL("OPTIONS"),
					.uri = PL("sip:gw") };
	assert_int_equal(sip_digest_response(&dp, resp, sizeof(resp)), 0);
	snprintf(val, sizeof(val),
		 "Digest username=\"alice\", realm=\"gw.example.net\", nonce=\"%.*s\","
		 " uri=\"sip:gw\", response=\"%s\"",
		 PL_ARG(ch.nonce), resp);
	assert_int_equal(verify(f, val, "OPTIONS", "sip:gw"), SIP_AUTH_OK);
	assert_int_equal(verify(f, val, "OPTIONS", "sip:gw"), SIP_AUTH_STALE);
}

static void test_tampered_nonce(void **state)
{
	struct fixture *f = *state;
	char *val, *n;

	challenge(f, false);
	val = answer(f, "INVITE", "sip:100@gw");
	n = strstr(val, "nonce=\"") + 7;
	n[5] = n[5] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(f, val, "INVITE", "sip:100@gw"), SIP_AUTH_BAD);
	assert_int_equal(f->users.calls, 0); /* refused before any lookup */
	mem_deref(val);

	/* A nonce of another server (another secret), e.g. before a restart. */
	challenge(f, false);
	val = answer(f, "INVITE", "sip:100@gw");
	assert_int_equal(make_server(f, NULL, 0), 0);
	assert_int_equal(verify(f, val, "INVITE", "sip:100@gw"), SIP_AUTH_BAD);
	mem_deref(val);
}

static void test_wrong_inputs(void **state)
{
	struct fixture *f = *state;
	struct sip_auth_client *c = NULL;
	struct pl user = NOPL;
	char *val = NULL;

	challenge(f, false);
	assert_int_equal(sip_auth_client_alloc(&c, "alice", "wonder lan"), 0);
	assert_int_equal(sip_auth_client_respond(c, f->chal[0], PL("INVITE"), PL("sip:1@gw"),
						 NOPL, &val),
			 0);
	assert_int_equal(verify(f, val, "INVITE", "sip:1@gw"), SIP_AUTH_BAD);
	val = mem_deref(val);
	c = mem_deref(c);

	assert_int_equal(sip_auth_client_alloc(&c, "mallory", "x"), 0);
	assert_int_equal(sip_auth_client_respond(c, f->chal[0], PL("INVITE"), PL("sip:1@gw"),
						 NOPL, &val),
			 0);
	assert_int_equal(sip_auth_verify(f->as, S(val), PL("INVITE"), PL("sip:1@gw"), lookup,
					 &f->users, &user),
			 SIP_AUTH_UNKNOWN_USER);
	assert_true(pl_eq(user, PL("mallory")));
	f->users.fail = EIO;
	assert_int_equal(verify(f, val, "INVITE", "sip:1@gw"), SIP_AUTH_ERROR);
	f->users.fail = 0;
	val = mem_deref(val);
	c = mem_deref(c);

	val = answer(f, "INVITE", "sip:1@gw");
	assert_int_equal(verify(f, val, "INVITE", "sip:2@gw"), SIP_AUTH_BAD); /* uri */
	assert_int_equal(verify(f, val, "BYE", "sip:1@gw"), SIP_AUTH_BAD);    /* method */
	assert_int_equal(verify(f, val, "INVITE", ""), SIP_AUTH_OK);          /* uri unchecked */
	val = mem_deref(val);

	/* Another realm, with a nonce of ours. */
	challenge(f, false);
	char *other = mem_strndup(f->chal[0].p, f->chal[0].l);
	memcpy(strstr(other, "gw.example.net"), "gw.example.org", 14);
	assert_int_equal(sip_auth_client_respond(f->ac, S(other), PL("INVITE"), PL("sip:1@gw"),
						 NOPL, &val),
			 0);
	assert_int_equal(verify(f, val, "INVITE", "sip:1@gw"), SIP_AUTH_BAD);
	val = mem_deref(val);
	mem_deref(other);

	assert_int_equal(verify(f, "Digest username=alice", "INVITE", "sip:1@gw"),
			 SIP_AUTH_MALFORMED);
	assert_int_equal(verify(f, "Basic YWxpY2U6cHc=", "INVITE", "sip:1@gw"),
			 SIP_AUTH_MALFORMED);
	assert_string_equal(sip_auth_verdict_name(SIP_AUTH_STALE), "stale");
}

static void test_slot_eviction(void **state)
{
	struct fixture *f = *state;
	char *v1, *v2;

	assert_int_equal(make_server(f, NULL, 2), 0);
	challenge(f, false);
	v1 = answer(f, "INVITE", "sip:1@gw");
	challenge(f, false);
	v2 = answer(f, "INVITE", "sip:2@gw");
	challenge(f, false); /* takes v1's slot */
	assert_int_equal(verify(f, v1, "INVITE", "sip:1@gw"), SIP_AUTH_STALE);
	assert_int_equal(verify(f, v2, "INVITE", "sip:2@gw"), SIP_AUTH_OK);
	mem_deref(v1);
	mem_deref(v2);
}

static void test_client_behaviour(void **state)
{
	struct fixture *f = *state;
	struct sip_auth_client *c = NULL;
	struct sip_digest_cred cr;
	char *val = NULL, *val2 = NULL;

	/* Same nonce again without stale: the server rejected us. */
	challenge(f, false);
	val = answer(f, "REGISTER", "sip:gw");
	assert_int_equal(sip_auth_client_respond(f->ac, f->chal[0], PL("REGISTER"), PL("sip:gw"),
						 NOPL, &val2),
			 EACCES);
	val = mem_deref(val);

	/* Stale: answer the new nonce, nc restarts at 1. */
	challenge(f, true);
	val = answer(f, "REGISTER", "sip:gw");
	assert_int_equal(sip_digest_cred_decode(&cr, S(val)), 0);
	assert_int_equal(cr.ncval, 1);
	assert_true(cr.cnonce.l >= 16);
	assert_int_equal(verify(f, val, "REGISTER", "sip:gw"), SIP_AUTH_OK);
	val = mem_deref(val);

	/* Escaped username round trip (a fresh nonce: nc counts per nonce), opaque echoed. */
	challenge(f, false);
	assert_int_equal(sip_auth_client_alloc(&c, "b\"o\\b", "p\"w"), 0);
	assert_int_equal(sip_auth_client_respond(c, f->chal[0], PL("INVITE"), PL("sip:1@gw"),
						 NOPL, &val),
			 0);
	assert_non_null(strstr(val, "username=\"b\\\"o\\\\b\""));
	assert_int_equal(verify(f, val, "INVITE", "sip:1@gw"), SIP_AUTH_OK);
	val = mem_deref(val);
	assert_int_equal(sip_auth_client_respond(c,
						 PL("Digest realm=\"r\", nonce=\"n\","
						    " opaque=\"o\\\"p\", qop=\"auth-int\""),
						 PL("INVITE"), PL("sip:1@gw"), PL("v=0\r\n"), &val),
			 0);
	assert_int_equal(sip_digest_cred_decode(&cr, S(val)), 0);
	assert_true(pl_eq(cr.opaque, PL("o\\\"p")));
	assert_int_equal(cr.qop_id, SIP_DIGEST_QOP_AUTH_INT);
	assert_false(pl_isset(cr.algorithm));
	val = mem_deref(val);
	/* Only an unknown qop, an unknown algorithm, no nonce, a bad uri. */
	assert_int_equal(sip_auth_client_respond(c, PL("Digest realm=\"r\", nonce=\"n\", qop=x"),
						 PL("INVITE"), PL("sip:1@gw"), NOPL, &val),
			 ENOTSUP);
	assert_int_equal(sip_auth_client_respond(c, PL("Digest realm=\"r\", nonce=\"n\","
						       " algorithm=SHA-1"),
						 PL("INVITE"), PL("sip:1@gw"), NOPL, &val),
			 ENOTSUP);
	assert_int_equal(sip_auth_client_respond(c, PL("Digest realm=\"r\""), PL("INVITE"),
						 PL("sip:1@gw"), NOPL, &val),
			 EBADMSG);
	assert_int_equal(sip_auth_client_respond(c, PL("Digest realm=\"q\", nonce=\"n\""),
						 PL("INVITE"), PL("sip:\"@gw"), NOPL, &val),
			 EINVAL);
	assert_null(val);
	mem_deref(c);
	c = NULL;
	assert_int_equal(sip_auth_client_alloc(&c, "a\r\nb", "x"), EINVAL);
	assert_null(c);

	/* More realms than the client keeps: the oldest goes, the rest still work. */
	for (int i = 0; i < 6; i++) {
		char ch[64];

		snprintf(ch, sizeof(ch), "Digest realm=\"r%d\", nonce=\"n%d\", qop=auth", i, i);
		assert_int_equal(sip_auth_client_respond(f->ac, S(ch), PL("INVITE"), PL("sip:x"),
							 NOPL, &val),
				 0);
		val = mem_deref(val);
	}
	assert_int_equal(sip_auth_client_reuse(f->ac, PL("r5"), PL("INVITE"), PL("sip:x"), NOPL,
					       &val),
			 0);
	assert_int_equal(sip_digest_cred_decode(&cr, S(val)), 0);
	assert_int_equal(cr.ncval, 2);
	val = mem_deref(val);
}

static void test_pick(void **state)
{
	struct pl v[4] = {
		PL("Basic realm=\"x\""),
		PL("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1"),
		PL("Digest realm=\"r\", nonce=\"n\", algorithm=MD5, qop=\"auth\""),
		PL("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256, qop=\"auth\""),
	};
	size_t idx = 99;

	(void)state;
	assert_int_equal(sip_auth_pick(v, 4, &idx), 0);
	assert_int_equal(idx, 3);
	assert_int_equal(sip_auth_pick(v, 3, &idx), 0);
	assert_int_equal(idx, 2);
	idx = 99;
	assert_int_equal(sip_auth_pick(v, 2, &idx), ENOTSUP);
	assert_int_equal(idx, 99);
	assert_int_equal(sip_auth_pick(v, 0, &idx), ENOTSUP);
}

static void test_server_cfg(void **state)
{
	struct sip_auth_server *as = NULL;
	struct sip_auth_server_cfg cfg = { .realm = "r" };
	char big[300];

	(void)state;
	assert_int_equal(sip_auth_server_alloc(&as, &(struct sip_auth_server_cfg){ 0 }), EINVAL);
	/* an offer list: known plain hashes, each once, at most three */
	static const struct sip_digest_algs bad[] = {
		{{SIP_DIGEST_MD5_SESS}, 1},
		{{SIP_DIGEST_SHA256, SIP_DIGEST_SHA256_SESS}, 2},
		{{SIP_DIGEST_UNKNOWN}, 1},
		{{SIP_DIGEST_ALG_COUNT}, 1},
		{{SIP_DIGEST_MD5, SIP_DIGEST_SHA256, SIP_DIGEST_MD5}, 3},
		{{SIP_DIGEST_SHA256, SIP_DIGEST_SHA256}, 2},
		{{SIP_DIGEST_MD5, SIP_DIGEST_SHA256, SIP_DIGEST_SHA512_256}, 4},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg.algs = bad[i];
		assert_int_equal(sip_digest_algs_check(&bad[i]), EINVAL);
		assert_int_equal(sip_auth_server_alloc(&as, &cfg), EINVAL);
		assert_null(as);
	}
	assert_int_equal(sip_digest_algs_check(ALGS(SIP_DIGEST_SHA512_256, SIP_DIGEST_SHA256,
						    SIP_DIGEST_MD5)),
			 0);
	assert_int_equal(sip_digest_algs_check(&(struct sip_digest_algs){.n = 0}), 0);
	assert_int_equal(sip_digest_algs_check(NULL), EINVAL);
	assert_true(sip_digest_alg_offerable(SIP_DIGEST_SHA512_256));
	assert_false(sip_digest_alg_offerable(SIP_DIGEST_MD5_SESS));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cfg = (struct sip_auth_server_cfg){ .realm = big };
	assert_int_equal(sip_auth_server_alloc(&as, &cfg), EINVAL);
	assert_null(as);
	cfg.realm = "r";
	assert_int_equal(sip_auth_server_alloc(&as, &cfg), 0);
	assert_string_equal(sip_auth_server_realm(as), "r");
	mem_deref(as);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7616_vectors),
		cmocka_unit_test(test_rfc7616_credentials),
		cmocka_unit_test(test_rfc7616_challenges),
		cmocka_unit_test(test_rfc2617_vector),
		cmocka_unit_test(test_more_vectors),
		cmocka_unit_test(test_alg_table),
		cmocka_unit_test(test_parse_chal_forms),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_server_cfg),
		cmocka_unit_test_setup_teardown(test_challenge_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_each_alg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_after_lifetime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_nc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_qop_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_behaviour, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
