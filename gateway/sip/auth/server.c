/*
 * Digest server: challenges and verification (RFC 3261 §22.4, RFC 7616 §3.3,
 * RFC 8760).
 *
 * A nonce is base64url(ts || idx || HMAC-SHA256(secret, ts || idx || realm)[0..15]):
 * its authenticity and age need no state, and a new secret at start-up
 * invalidates every nonce of a previous run. Replay protection does need
 * state, kept bounded: idx (a per-server counter) selects a slot of a fixed
 * table that remembers the highest nc seen for that nonce. When a newer
 * nonce takes the slot, the older one is forgotten and answered STALE, so a
 * flood of challenges can cost honest clients a re-challenge, never memory.
 */
#include "sip/auth/auth.h"
#include "sip/auth/priv.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"

enum {
	SECRET_LEN = 32,
	NONCE_MAC_LEN = 16,
	NONCE_RAW_LEN = 8 + 8 + NONCE_MAC_LEN,
	NONCE_B64_LEN = 43,
	REALM_MAX = 256,
	DEFAULT_LIFETIME = 300,
	DEFAULT_SLOTS = 8192,
	USER_MAX = 512,
};

struct nonce_slot {
	uint64_t idx; /* 0: free */
	uint32_t nc;  /* highest nc accepted */
	bool used;    /* any request accepted with this nonce */
};

struct sip_auth_server {
	char *realm;
	size_t realm_len;
	uint8_t secret[SECRET_LEN];
	uint32_t lifetime;
	struct sip_digest_algs algs; /* challenge order, n >= 1 */
	sip_auth_clock_h *clock;
	void *clock_arg;
	uint64_t next_idx;
	struct nonce_slot *slots;
	unsigned nslots;
};

static const char *const verdict_names[] = {
	[SIP_AUTH_OK] = "ok",
	[SIP_AUTH_STALE] = "stale",
	[SIP_AUTH_BAD] = "bad",
	[SIP_AUTH_UNKNOWN_USER] = "unknown-user",
	[SIP_AUTH_MALFORMED] = "malformed",
	[SIP_AUTH_ERROR] = "error",
};

const char *sip_auth_verdict_name(enum sip_auth_verdict v)
{
	return (unsigned)v < ARRAY_SIZE(verdict_names) ? verdict_names[v] : "?";
}

bool sip_digest_alg_offerable(enum sip_digest_alg alg)
{
	return alg == SIP_DIGEST_MD5 || alg == SIP_DIGEST_SHA256 || alg == SIP_DIGEST_SHA512_256;
}

static bool offered(const struct sip_digest_algs *algs, enum sip_digest_alg alg)
{
	for (unsigned i = 0; i < algs->n; i++)
		if (algs->alg[i] == alg)
			return true;
	return false;
}

int sip_digest_algs_check(const struct sip_digest_algs *algs)
{
	if (!algs || algs->n > SIP_DIGEST_OFFER_MAX)
		return EINVAL;
	for (unsigned i = 0; i < algs->n; i++) {
		if (!sip_digest_alg_offerable(algs->alg[i]))
			return EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (algs->alg[j] == algs->alg[i])
				return EINVAL;
	}
	return 0;
}

static uint64_t mono_clock(void *arg)
{
	(void)arg;
	return loop_clock_ms() / 1000;
}

static void server_destroy(void *data)
{
	struct sip_auth_server *as = data;

	OPENSSL_cleanse(as->secret, sizeof(as->secret));
	mem_deref(as->realm);
	mem_deref(as->slots);
}

int sip_auth_server_alloc(struct sip_auth_server **asp, const struct sip_auth_server_cfg *cfg)
{
	struct sip_auth_server *as;
	int err = 0;

	if (!asp || !cfg || !cfg->realm || strlen(cfg->realm) > REALM_MAX)
		return EINVAL;
	if (sip_digest_algs_check(&cfg->algs))
		return EINVAL;
	as = mem_zalloc(sizeof(*as), server_destroy);
	if (!as)
		return ENOMEM;
	as->realm_len = strlen(cfg->realm);
	as->realm = mem_strndup(cfg->realm, as->realm_len);
	as->nslots = cfg->nonce_slots ? cfg->nonce_slots : DEFAULT_SLOTS;
	as->slots = mem_zalloc((size_t)as->nslots * sizeof(*as->slots), NULL);
	if (!as->realm || !as->slots) {
		err = ENOMEM;
		goto out;
	}
	if (RAND_bytes(as->secret, sizeof(as->secret)) != 1) {
		err = EIO;
		goto out;
	}
	as->lifetime = cfg->nonce_lifetime ? cfg->nonce_lifetime : DEFAULT_LIFETIME;
	as->algs = cfg->algs.n ? cfg->algs : SIP_DIGEST_ALGS_DEFAULT;
	as->clock = cfg->clock ? cfg->clock : mono_clock;
	as->clock_arg = cfg->clock_arg;
	as->next_idx = 1;
	*asp = as;
	return 0;
out:
	mem_deref(as);
	return err;
}

const char *sip_auth_server_realm(const struct sip_auth_server *as)
{
	return as->realm;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* mac = HMAC-SHA256(secret, ts || idx || realm), truncated. */
static int nonce_mac(const struct sip_auth_server *as, const uint8_t head[16], uint8_t *mac)
{
	uint8_t data[16 + REALM_MAX], full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	memcpy(data, head, 16);
	memcpy(data + 16, as->realm, as->realm_len);
	if (!HMAC(EVP_sha256(), as->secret, sizeof(as->secret), data, 16 + as->realm_len, full,
		  &n) ||
	    n < NONCE_MAC_LEN)
		return ENOTSUP;
	memcpy(mac, full, NONCE_MAC_LEN);
	return 0;
}

static int nonce_make(struct sip_auth_server *as, char out[NONCE_B64_LEN + 1])
{
	uint8_t raw[NONCE_RAW_LEN];
	uint64_t idx = as->next_idx;
	struct nonce_slot *slot;
	int err;

	put_be64(raw, as->clock(as->clock_arg));
	put_be64(raw + 8, idx);
	err = nonce_mac(as, raw, raw + 16);
	if (err)
		return err;
	auth_b64url_enc(raw, sizeof(raw), out, NONCE_B64_LEN + 1);
	as->next_idx++;
	slot = &as->slots[idx % as->nslots];
	slot->idx = idx;
	slot->nc = 0;
	slot->used = false;
	return 0;
}

/* 0 with the nonce's timestamp and index if it is one of ours, else EBADMSG. */
static int nonce_check(const struct sip_auth_server *as, struct pl nonce, uint64_t *ts,
		       uint64_t *idx)
{
	uint8_t raw[NONCE_RAW_LEN + 3], mac[NONCE_MAC_LEN];
	size_t n;

	if (nonce.l != NONCE_B64_LEN || auth_b64url_dec(nonce, raw, sizeof(raw), &n) ||
	    n != NONCE_RAW_LEN)
		return EBADMSG;
	if (nonce_mac(as, raw, mac) || CRYPTO_memcmp(mac, raw + 16, NONCE_MAC_LEN) != 0)
		return EBADMSG;
	*ts = get_be64(raw);
	*idx = get_be64(raw + 8);
	return 0;
}

int sip_auth_challenge(struct sip_auth_server *as, bool proxy, bool stale, char **hdrsp)
{
	char nonce[NONCE_B64_LEN + 1], buf[4096];
	struct auth_sb sb;
	int err;

	if (!as || !hdrsp)
		return EINVAL;
	err = nonce_make(as, nonce);
	if (err)
		return err;
	auth_sb_init(&sb, buf, sizeof(buf));
	for (unsigned i = 0; i < as->algs.n; i++) {
		enum sip_digest_alg a = as->algs.alg[i];

		auth_sb_str(&sb, proxy ? "Proxy-Authenticate: Digest realm=\""
				       : "WWW-Authenticate: Digest realm=\"");
		auth_sb_esc(&sb, pl_make(as->realm, as->realm_len));
		auth_sb_printf(&sb, "\", nonce=\"%s\", algorithm=%s, qop=\"auth\"%s\r\n", nonce,
			       sip_digest_alg_name(a), stale ? ", stale=true" : "");
	}
	return auth_sb_finish(&sb, hdrsp);
}

static bool hex_lower_eq(struct pl given, const char *want, size_t n)
{
	char low[SIP_DIGEST_HEX_MAX];

	if (given.l != n || n >= sizeof(low))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = given.p[i];

		low[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	return CRYPTO_memcmp(low, want, n) == 0;
}

static struct pl unescape(struct pl v, char *buf, size_t size)
{
	size_t o = 0;

	if (!pl_chr(v, '\\'))
		return v;
	for (size_t i = 0; i < v.l; i++) {
		if (v.p[i] == '\\' && i + 1 < v.l)
			i++;
		if (o + 1 >= size)
			return pl_make(NULL, 0);
		buf[o++] = v.p[i];
	}
	buf[o] = '\0';
	return pl_make(buf, o);
}

/* Looks the user up and compares the response, in constant time. */
static enum sip_auth_verdict check_response(struct sip_auth_server *as,
					    const struct sip_digest_cred *cr, struct pl method,
					    sip_auth_lookup_h *lookup, void *arg)
{
	struct sip_digest_params dp = { .alg = cr->alg };
	struct sip_auth_secret sec = { SIP_AUTH_PASSWORD, { 0 } };
	char ubuf[USER_MAX], want[SIP_DIGEST_HEX_MAX];
	struct pl user = unescape(cr->username, ubuf, sizeof(ubuf));
	enum sip_auth_verdict v = SIP_AUTH_ERROR;
	int err;

	if (!user.p)
		return SIP_AUTH_UNKNOWN_USER;
	err = lookup(user, pl_make(as->realm, as->realm_len), sip_digest_alg_base(cr->alg), &sec,
		     arg);
	if (err) {
		v = err == ENOENT ? SIP_AUTH_UNKNOWN_USER : SIP_AUTH_ERROR;
		goto out;
	}
	sec.secret[sizeof(sec.secret) - 1] = '\0';
	if (sec.kind == SIP_AUTH_HA1)
		dp.ha1 = pl_make(sec.secret, strlen(sec.secret));
	else
		dp.password = pl_make(sec.secret, strlen(sec.secret));
	dp.username = cr->username;
	dp.realm = cr->realm;
	dp.nonce = cr->nonce;
	dp.cnonce = cr->cnonce;
	dp.nc = cr->nc;
	dp.qop = cr->qop_id;
	dp.method = method;
	dp.uri = cr->uri;
	if (sip_digest_response(&dp, want, sizeof(want)))
		goto out;
	v = hex_lower_eq(cr->response, want, sip_digest_hexlen(cr->alg)) ? SIP_AUTH_OK
									 : SIP_AUTH_BAD;
out:
	OPENSSL_cleanse(&sec, sizeof(sec));
	OPENSSL_cleanse(want, sizeof(want));
	return v;
}

/* nc must grow per nonce; a nonce used without qop is good once. */
static enum sip_auth_verdict replay_check(struct sip_auth_server *as, uint64_t idx,
					  const struct sip_digest_cred *cr)
{
	struct nonce_slot *slot = &as->slots[idx % as->nslots];

	if (slot->idx != idx)
		return SIP_AUTH_STALE;
	if (cr->qop_id == SIP_DIGEST_QOP_NONE) {
		if (slot->used)
			return SIP_AUTH_STALE;
	} else {
		if (cr->ncval <= slot->nc)
			return SIP_AUTH_BAD;
		slot->nc = cr->ncval;
	}
	slot->used = true;
	return SIP_AUTH_OK;
}

enum sip_auth_verdict sip_auth_verify(struct sip_auth_server *as, struct pl cred,
				      struct pl method, struct pl ruri, sip_auth_lookup_h *lookup,
				      void *lookup_arg, struct pl *userp)
{
	struct sip_digest_cred cr;
	enum sip_auth_verdict v;
	uint64_t ts, idx, now;

	if (!as || !lookup)
		return SIP_AUTH_ERROR;
	if (sip_digest_cred_decode(&cr, cred))
		return SIP_AUTH_MALFORMED;
	if (userp)
		*userp = cr.username;
	if (cr.alg == SIP_DIGEST_UNKNOWN || !offered(&as->algs, cr.alg) ||
	    cr.userhash)
		return SIP_AUTH_BAD;
	if (cr.qop_id != SIP_DIGEST_QOP_NONE && cr.qop_id != SIP_DIGEST_QOP_AUTH)
		return SIP_AUTH_BAD;
	if (!sip_digest_val_eq(cr.realm, pl_make(as->realm, as->realm_len)))
		return SIP_AUTH_BAD;
	if (nonce_check(as, cr.nonce, &ts, &idx))
		return SIP_AUTH_BAD;
	if (ruri.l && !sip_digest_val_eq(cr.uri, ruri))
		return SIP_AUTH_BAD;
	v = check_response(as, &cr, method, lookup, lookup_arg);
	if (v != SIP_AUTH_OK)
		return v;
	/* Only a right answer learns that its nonce is merely old (RFC 7616 §3.3). */
	now = as->clock(as->clock_arg);
	if (now < ts || now - ts > as->lifetime)
		return SIP_AUTH_STALE;
	return replay_check(as, idx, &cr);
}
