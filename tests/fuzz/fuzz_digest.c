/*
 * libFuzzer target for sip/auth. The input is up to four lines:
 *   1. a challenge value: decoded, picked, answered by a client;
 *   2. a credentials value: decoded and verified by a server; every "NONCE"
 *      in it is replaced by a fresh nonce of that server, so the fuzzer gets
 *      past the nonce check into lookup, response and replay checks;
 *   3. a username and 4. a password: a client answers a real challenge of
 *      the server with them and the server MUST say OK (an oracle, not just
 *      a crash test).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "sip/auth/auth.h"

static uint64_t fixed_now = 1000;

static uint64_t fuzz_clock(void *arg)
{
	(void)arg;
	return fixed_now;
}

struct who {
	const char *user, *pass;
};

static int lookup(struct pl user, struct pl realm, enum sip_digest_alg alg,
		  struct sip_auth_secret *sec, void *arg)
{
	const struct who *w = arg;

	(void)realm;
	(void)alg;
	if (user.l != strlen(w->user) || memcmp(user.p, w->user, user.l) != 0)
		return ENOENT;
	sec->kind = SIP_AUTH_PASSWORD;
	snprintf(sec->secret, sizeof(sec->secret), "%s", w->pass);
	return 0;
}

static struct sip_auth_server *server(void)
{
	static struct sip_auth_server *as;
	struct sip_auth_server_cfg cfg = {
		.realm = "fuzz.example",
		.nonce_slots = 64,
		.algs = {{SIP_DIGEST_MD5, SIP_DIGEST_SHA256, SIP_DIGEST_SHA512_256}, 3},
		.clock = fuzz_clock,
	};

	if (!as && sip_auth_server_alloc(&as, &cfg))
		abort();
	return as;
}

/* The challenge values in a header block made by sip_auth_challenge(). */
static size_t split_hdrs(char *hdrs, struct pl *vals, size_t max)
{
	size_t n = 0;

	for (char *p = hdrs; *p && n < max;) {
		char *colon = strstr(p, ": "), *eol = strstr(p, "\r\n");

		if (!colon || !eol)
			abort();
		vals[n++] = pl_make(colon + 2, (size_t)(eol - colon - 2));
		p = eol + 2;
	}
	return n;
}

static void fuzz_challenge(struct pl chal)
{
	struct sip_digest_chal ch;
	struct sip_auth_client *ac = NULL;
	char *val = NULL;
	size_t idx;

	(void)sip_digest_chal_decode(&ch, chal);
	(void)sip_auth_pick(&chal, 1, &idx);
	if (sip_auth_client_alloc(&ac, "fuzz\"user", "pw"))
		return;
	if (!sip_auth_client_respond(ac, chal, PL("INVITE"), PL("sip:x@y"), PL("body"), &val)) {
		struct sip_digest_cred cr;

		/* What we send must parse back. */
		if (sip_digest_cred_decode(&cr, pl_make(val, strlen(val))))
			abort();
		mem_deref(val);
		val = NULL;
		if (!sip_auth_client_reuse(ac, ch.realm, PL("BYE"), PL("sip:x@y"), PL(""), &val))
			mem_deref(val);
	}
	mem_deref(ac);
}

static void fuzz_credentials(struct pl cred)
{
	struct sip_auth_server *as = server();
	struct who w = { "Mufasa", "Circle of Life" };
	struct pl vals[3], user;
	char *hdrs = NULL, *buf;
	const char *nonce;
	size_t n, len = 0;

	if (sip_auth_challenge(as, false, false, &hdrs))
		return;
	n = split_hdrs(hdrs, vals, 3);
	nonce = strstr(vals[0].p, "nonce=\"") + 7;
	buf = malloc(cred.l * 43 / 5 + 64);
	if (!buf)
		goto out;
	for (size_t i = 0; i < cred.l;) {
		if (cred.l - i >= 5 && memcmp(cred.p + i, "NONCE", 5) == 0) {
			memcpy(buf + len, nonce, 43);
			len += 43;
			i += 5;
		} else {
			buf[len++] = cred.p[i++];
		}
	}
	(void)sip_auth_verify(as, pl_make(buf, len), PL("INVITE"), PL("sip:x@y"), lookup, &w,
			      &user);
	(void)sip_auth_verify(as, pl_make(buf, len), PL("REGISTER"), pl_make(NULL, 0), lookup, &w,
			      &user);
	free(buf);
out:
	(void)n;
	mem_deref(hdrs);
}

static void oracle(struct pl user, struct pl pass)
{
	struct sip_auth_server *as = server();
	char u[201], p[201], *hdrs = NULL, *val = NULL;
	struct sip_auth_client *ac = NULL;
	struct pl vals[3];
	size_t n, idx;
	enum sip_auth_verdict v;
	struct who w = { u, p };

	if (user.l > 200 || pass.l > 200 || memchr(user.p, 0, user.l) || memchr(pass.p, 0, pass.l))
		return;
	memcpy(u, user.p, user.l);
	u[user.l] = '\0';
	memcpy(p, pass.p, pass.l);
	p[pass.l] = '\0';
	if (sip_auth_client_alloc(&ac, u, p))
		return; /* control characters in the username */
	if (sip_auth_challenge(as, user.l & 1, false, &hdrs))
		goto out;
	n = split_hdrs(hdrs, vals, 3);
	if (sip_auth_pick(vals, n, &idx) ||
	    sip_auth_client_respond(ac, vals[idx], PL("INVITE"), PL("sip:x@y"), PL(""), &val))
		abort();
	v = sip_auth_verify(as, pl_make(val, strlen(val)), PL("INVITE"), PL("sip:x@y"), lookup, &w,
			    NULL);
	if (v != SIP_AUTH_OK) {
		fprintf(stderr, "round trip failed: %s for %s\n", sip_auth_verdict_name(v), val);
		abort();
	}
out:
	mem_deref(val);
	mem_deref(hdrs);
	mem_deref(ac);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl part[4] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	const char *p = (const char *)data, *end = p + size;
	size_t k = 0;

	if (size > 8192)
		return 0;
	while (k < 4) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		part[k++] = pl_make(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
		if (!nl)
			break;
		p = nl + 1;
	}
	fuzz_challenge(part[0]);
	if (k > 1)
		fuzz_credentials(part[1]);
	if (k > 3)
		oracle(part[2], part[3]);
	return 0;
}
