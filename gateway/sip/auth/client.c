/*
 * Digest client: answers WWW-/Proxy-Authenticate challenges (RFC 3261 §22.2,
 * RFC 7616 §3.4, RFC 8760 §2.4).
 *
 * The last challenge of each realm (a few realms: the registrar plus the
 * proxies on the path) is kept as a private copy of its text, so later
 * requests can reuse its nonce with a growing nc instead of taking a 401
 * round trip every time.
 */
#include "sip/auth/auth.h"
#include "sip/auth/priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/err.h"
#include "core/mem.h"

enum {
	CLIENT_REALMS = 4,
	CNONCE_BYTES = 16,
	OUT_MAX = 4096,
};

struct chal_entry {
	char *text; /* mem copy of the challenge value; ch slices into it */
	struct sip_digest_chal ch;
	uint32_t nc;
};

struct sip_auth_client {
	char *user_esc; /* username escaped for a quoted-string (the wire form) */
	char *pass;
	struct chal_entry ent[CLIENT_REALMS];
	unsigned evict;
};

static void client_destroy(void *data)
{
	struct sip_auth_client *ac = data;

	if (ac->pass)
		OPENSSL_cleanse(ac->pass, strlen(ac->pass));
	mem_deref(ac->pass);
	mem_deref(ac->user_esc);
	for (size_t i = 0; i < CLIENT_REALMS; i++)
		mem_deref(ac->ent[i].text);
}

int sip_auth_client_alloc(struct sip_auth_client **acp, const char *username,
			  const char *password)
{
	struct sip_auth_client *ac;
	struct auth_sb sb;
	char buf[1024];
	int err;

	if (!acp || !username || !password)
		return EINVAL;
	/* A quoted-string cannot carry control characters, escaped or not. */
	for (const char *c = username; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return EINVAL;
	}
	auth_sb_init(&sb, buf, sizeof(buf));
	auth_sb_esc(&sb, pl_make(username, strlen(username)));
	if (sb.over)
		return EINVAL;
	ac = mem_zalloc(sizeof(*ac), client_destroy);
	if (!ac)
		return ENOMEM;
	err = auth_sb_finish(&sb, &ac->user_esc);
	ac->pass = mem_strndup(password, strlen(password));
	if (err || !ac->pass) {
		mem_deref(ac);
		return ENOMEM;
	}
	*acp = ac;
	return 0;
}

/* Whether we can answer ch at all: a known algorithm and a qop we do. */
static bool usable(const struct sip_digest_chal *ch)
{
	if (ch->alg == SIP_DIGEST_UNKNOWN)
		return false;
	return !ch->qops || (ch->qops & (SIP_DIGEST_QOP_AUTH | SIP_DIGEST_QOP_AUTH_INT));
}

int sip_auth_pick(const struct pl *chals, size_t n, size_t *idx)
{
	int best = 0;
	size_t at = 0;

	for (size_t i = 0; i < n; i++) {
		struct sip_digest_chal ch;
		int rank;

		if (sip_digest_chal_decode(&ch, chals[i]) || !usable(&ch))
			continue;
		rank = sip_digest_alg_base(ch.alg) == SIP_DIGEST_MD5 ? 1 : 2;
		if (rank > best) {
			best = rank;
			at = i;
		}
	}
	if (!best)
		return ENOTSUP;
	*idx = at;
	return 0;
}

static struct chal_entry *find_realm(struct sip_auth_client *ac, struct pl realm, bool wire)
{
	for (size_t i = 0; i < CLIENT_REALMS; i++) {
		struct chal_entry *e = &ac->ent[i];

		if (!e->text)
			continue;
		if (wire ? pl_eq(e->ch.realm, realm) : sip_digest_val_eq(e->ch.realm, realm))
			return e;
	}
	return NULL;
}

static struct chal_entry *free_entry(struct sip_auth_client *ac)
{
	struct chal_entry *e;

	for (size_t i = 0; i < CLIENT_REALMS; i++) {
		if (!ac->ent[i].text)
			return &ac->ent[i];
	}
	e = &ac->ent[ac->evict++ % CLIENT_REALMS];
	return e;
}

static void put_params(struct auth_sb *sb, const struct sip_digest_chal *ch,
		       const struct sip_digest_params *dp, const char *resp)
{
	auth_sb_str(sb, "Digest username=\"");
	auth_sb_pl(sb, dp->username);
	auth_sb_str(sb, "\", realm=\"");
	auth_sb_pl(sb, ch->realm);
	auth_sb_str(sb, "\", nonce=\"");
	auth_sb_pl(sb, ch->nonce);
	auth_sb_str(sb, "\", uri=\"");
	auth_sb_pl(sb, dp->uri);
	auth_sb_printf(sb, "\", response=\"%s\"", resp);
	if (pl_isset(ch->algorithm))
		auth_sb_printf(sb, ", algorithm=%s", sip_digest_alg_name(ch->alg));
	if (dp->qop != SIP_DIGEST_QOP_NONE) {
		auth_sb_str(sb, ", cnonce=\"");
		auth_sb_pl(sb, dp->cnonce);
		auth_sb_printf(sb, "\", qop=%s, nc=%.*s",
			       dp->qop == SIP_DIGEST_QOP_AUTH ? "auth" : "auth-int", PL_ARG(dp->nc));
	}
	if (pl_isset(ch->opaque)) {
		auth_sb_str(sb, ", opaque=\"");
		auth_sb_pl(sb, ch->opaque);
		auth_sb_str(sb, "\"");
	}
}

static int build(struct sip_auth_client *ac, struct chal_entry *e, struct pl method,
		 struct pl uri, struct pl body, char **valp)
{
	struct sip_digest_params dp = { .alg = e->ch.alg };
	uint8_t rnd[CNONCE_BYTES];
	char cnonce[32], nc[9], resp[SIP_DIGEST_HEX_MAX], out[OUT_MAX];
	struct auth_sb sb;
	int err;

	if (!usable(&e->ch))
		return ENOTSUP;
	if (pl_chr(uri, '"') || pl_chr(uri, '\\') || e->nc == UINT32_MAX)
		return EINVAL;
	if (e->ch.qops & SIP_DIGEST_QOP_AUTH)
		dp.qop = SIP_DIGEST_QOP_AUTH;
	else if (e->ch.qops & SIP_DIGEST_QOP_AUTH_INT)
		dp.qop = SIP_DIGEST_QOP_AUTH_INT;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return EIO;
	auth_b64url_enc(rnd, sizeof(rnd), cnonce, sizeof(cnonce));
	snprintf(nc, sizeof(nc), "%08x", e->nc + 1);
	dp.username = pl_make(ac->user_esc, strlen(ac->user_esc));
	dp.realm = e->ch.realm;
	dp.password = pl_make(ac->pass, strlen(ac->pass));
	dp.nonce = e->ch.nonce;
	dp.cnonce = pl_make(cnonce, strlen(cnonce));
	dp.nc = pl_make(nc, 8);
	dp.method = method;
	dp.uri = uri;
	dp.body = body;
	err = sip_digest_response(&dp, resp, sizeof(resp));
	if (err)
		return err == EINVAL ? ENOTSUP : err;
	auth_sb_init(&sb, out, sizeof(out));
	put_params(&sb, &e->ch, &dp, resp);
	err = auth_sb_finish(&sb, valp);
	if (!err)
		e->nc++;
	return err;
}

int sip_auth_client_respond(struct sip_auth_client *ac, struct pl chal, struct pl method,
			    struct pl uri, struct pl body, char **valp)
{
	struct sip_digest_chal ch;
	struct chal_entry *e;
	char *text;
	int err;

	if (!ac || !valp)
		return EINVAL;
	err = sip_digest_chal_decode(&ch, chal);
	if (err)
		return err;
	if (!usable(&ch))
		return ENOTSUP;
	e = find_realm(ac, ch.realm, true);
	if (e && pl_eq(e->ch.nonce, ch.nonce) && e->nc > 0 && !ch.stale)
		return EACCES;
	if (!e || !pl_eq(e->ch.nonce, ch.nonce)) {
		text = mem_strndup(chal.p, chal.l);
		if (!text)
			return ENOMEM;
		if (!e)
			e = free_entry(ac);
		mem_deref(e->text);
		e->text = text;
		e->nc = 0;
		/* Same text, so it decodes the same; slices now point into our copy. */
		(void)sip_digest_chal_decode(&e->ch, pl_make(text, chal.l));
	}
	return build(ac, e, method, uri, body, valp);
}

int sip_auth_client_reuse(struct sip_auth_client *ac, struct pl realm, struct pl method,
			  struct pl uri, struct pl body, char **valp)
{
	struct chal_entry *e;

	if (!ac || !valp)
		return EINVAL;
	e = find_realm(ac, realm, false);
	if (!e)
		return ENOENT;
	return build(ac, e, method, uri, body, valp);
}
