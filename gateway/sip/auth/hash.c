/*
 * The digest response (RFC 7616 §3.4.1-3.4.3) through OpenSSL EVP, and the
 * small text helpers of the module (base64url, a bounded string builder).
 */
#include "sip/auth/auth.h"
#include "sip/auth/priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/mem.h"

static const EVP_MD *md_of(enum sip_digest_alg alg)
{
	switch (sip_digest_alg_base(alg)) {
	case SIP_DIGEST_MD5:
		return EVP_md5();
	case SIP_DIGEST_SHA256:
		return EVP_sha256();
	case SIP_DIGEST_SHA512_256:
		return EVP_sha512_256();
	default:
		return NULL;
	}
}

/* One hash in progress; the first failure sticks and is reported at the end. */
struct hctx {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	int err;
};

static void h_begin(struct hctx *h)
{
	if (!h->err && !EVP_DigestInit_ex(h->ctx, h->md, NULL))
		h->err = ENOTSUP;
}

static void h_raw(struct hctx *h, const char *p, size_t n)
{
	if (!h->err && n && !EVP_DigestUpdate(h->ctx, p, n))
		h->err = ENOTSUP;
}

/* Hashes a wire-form value: quoted-pair escapes are removed as we go. */
static void h_wire(struct hctx *h, struct pl v)
{
	size_t run = 0;

	for (size_t i = 0; i < v.l; i++) {
		if (v.p[i] != '\\' || i + 1 == v.l)
			continue;
		h_raw(h, v.p + run, i - run);
		run = ++i; /* the escaped byte starts the next run */
	}
	h_raw(h, v.p + run, v.l - run);
}

static void h_colon(struct hctx *h)
{
	h_raw(h, ":", 1);
}

static void h_end_hex(struct hctx *h, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (h->err || !EVP_DigestFinal_ex(h->ctx, md, &n)) {
		h->err = h->err ? h->err : ENOTSUP;
		hex[0] = '\0';
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * n] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
}

/* HA1 for the base hash, from the password or a stored HA1 (lowercased). */
static int ha1_base(struct hctx *h, const struct sip_digest_params *dp, size_t hexlen, char *ha1)
{
	if (pl_isset(dp->ha1)) {
		if (dp->ha1.l != hexlen)
			return EINVAL;
		for (size_t i = 0; i < hexlen; i++) {
			char c = dp->ha1.p[i];

			if (c >= 'A' && c <= 'F')
				c = (char)(c - 'A' + 'a');
			else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return EINVAL;
			ha1[i] = c;
		}
		ha1[hexlen] = '\0';
		return 0;
	}
	h_begin(h);
	h_wire(h, dp->username);
	h_colon(h);
	h_wire(h, dp->realm);
	h_colon(h);
	h_raw(h, dp->password.p, dp->password.l);
	h_end_hex(h, ha1);
	return h->err;
}

static void ha2(struct hctx *h, const struct sip_digest_params *dp, char *out)
{
	char body[SIP_DIGEST_HEX_MAX];

	if (dp->qop == SIP_DIGEST_QOP_AUTH_INT) {
		h_begin(h);
		h_raw(h, dp->body.p, dp->body.l);
		h_end_hex(h, body);
	}
	h_begin(h);
	h_raw(h, dp->method.p, dp->method.l);
	h_colon(h);
	h_wire(h, dp->uri);
	if (dp->qop == SIP_DIGEST_QOP_AUTH_INT) {
		h_colon(h);
		h_raw(h, body, strlen(body));
	}
	h_end_hex(h, out);
}

static int compute(struct hctx *h, const struct sip_digest_params *dp, size_t hexlen, char *hex)
{
	char a1[SIP_DIGEST_HEX_MAX], a2[SIP_DIGEST_HEX_MAX];
	int err = ha1_base(h, dp, hexlen, a1);

	if (err)
		goto out;
	if (sip_digest_alg_is_sess(dp->alg)) {
		/* RFC 7616 §3.4.2: H(H(user:realm:pass):nonce:cnonce) */
		h_begin(h);
		h_raw(h, a1, hexlen);
		h_colon(h);
		h_wire(h, dp->nonce);
		h_colon(h);
		h_wire(h, dp->cnonce);
		h_end_hex(h, a1);
	}
	ha2(h, dp, a2);
	h_begin(h);
	h_raw(h, a1, hexlen);
	h_colon(h);
	h_wire(h, dp->nonce);
	h_colon(h);
	if (dp->qop != SIP_DIGEST_QOP_NONE) {
		h_raw(h, dp->nc.p, dp->nc.l);
		h_colon(h);
		h_wire(h, dp->cnonce);
		h_colon(h);
		h_raw(h, dp->qop == SIP_DIGEST_QOP_AUTH ? "auth" : "auth-int",
		      dp->qop == SIP_DIGEST_QOP_AUTH ? 4 : 8);
		h_colon(h);
	}
	h_raw(h, a2, hexlen);
	h_end_hex(h, hex);
	err = h->err;
out:
	OPENSSL_cleanse(a1, sizeof(a1));
	return err;
}

int sip_digest_response(const struct sip_digest_params *dp, char *hex, size_t size)
{
	struct hctx h = { NULL, md_of(dp->alg), 0 };
	size_t hexlen = sip_digest_hexlen(dp->alg);
	int err;

	if (!h.md || !hexlen || size < hexlen + 1)
		return EINVAL;
	if (dp->qop != SIP_DIGEST_QOP_NONE && dp->qop != SIP_DIGEST_QOP_AUTH &&
	    dp->qop != SIP_DIGEST_QOP_AUTH_INT)
		return EINVAL;
	if ((size_t)EVP_MD_get_size(h.md) * 2 != hexlen)
		return ENOTSUP;
	h.ctx = EVP_MD_CTX_new();
	if (!h.ctx)
		return ENOMEM;
	err = compute(&h, dp, hexlen, hex);
	EVP_MD_CTX_free(h.ctx);
	return err;
}

/* ---- base64url ---- */

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t auth_b64url_enc(const uint8_t *in, size_t n, char *out, size_t size)
{
	size_t o = 0;

	if (n > (SIZE_MAX - 2) / 4 || size < (n * 4 + 2) / 3 + 1) {
		if (size)
			out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		if (left > 1)
			out[o++] = b64u[v >> 6 & 63];
		if (left > 2)
			out[o++] = b64u[v & 63];
	}
	out[o] = '\0';
	return o;
}

static int b64u_val(char c)
{
	const char *p = c ? strchr(b64u, c) : NULL;

	return p ? (int)(p - b64u) : -1;
}

int auth_b64url_dec(struct pl in, uint8_t *out, size_t size, size_t *n)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (in.l % 4 == 1)
		return EBADMSG;
	for (size_t i = 0; i < in.l; i++) {
		int v = b64u_val(in.p[i]);

		if (v < 0)
			return EBADMSG;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= size)
				return EBADMSG;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero, so every value has one encoding only. */
	if (acc & ((1u << bits) - 1))
		return EBADMSG;
	*n = o;
	return 0;
}

/* ---- bounded string builder ---- */

void auth_sb_init(struct auth_sb *sb, char *buf, size_t cap)
{
	sb->p = buf;
	sb->len = 0;
	sb->cap = cap;
	sb->over = false;
	if (cap)
		buf[0] = '\0';
}

void auth_sb_add(struct auth_sb *sb, const char *s, size_t n)
{
	if (sb->over || n >= sb->cap - sb->len) {
		sb->over = true;
		return;
	}
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

void auth_sb_str(struct auth_sb *sb, const char *s)
{
	auth_sb_add(sb, s, strlen(s));
}

void auth_sb_pl(struct auth_sb *sb, struct pl pl)
{
	auth_sb_add(sb, pl.p, pl.l);
}

void auth_sb_esc(struct auth_sb *sb, struct pl s)
{
	size_t run = 0;

	for (size_t i = 0; i < s.l; i++) {
		if (s.p[i] != '"' && s.p[i] != '\\')
			continue;
		auth_sb_add(sb, s.p + run, i - run);
		auth_sb_add(sb, "\\", 1);
		run = i;
	}
	auth_sb_add(sb, s.p + run, s.l - run);
}

void auth_sb_printf(struct auth_sb *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->cap - sb->len) {
		sb->over = true;
		sb->p[sb->len] = '\0';
		return;
	}
	sb->len += (size_t)n;
}

int auth_sb_finish(struct auth_sb *sb, char **strp)
{
	char *s;

	if (sb->over)
		return E2BIG;
	s = mem_strndup(sb->p, sb->len);
	if (!s)
		return ENOMEM;
	*strp = s;
	return 0;
}
