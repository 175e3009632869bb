/*
 * Digest challenge and credentials parsing (RFC 7616 §3.3-3.4, RFC 3261 §25.1).
 * One pass over the value, no allocation, slices into the caller's text.
 */
#include "sip/auth/auth.h"

#include <errno.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/err.h"

static const struct {
	const char *name;
	enum sip_digest_alg base;
	bool sess;
	size_t hexlen;
} alg_tab[SIP_DIGEST_ALG_COUNT] = {
	[SIP_DIGEST_UNKNOWN] = { "unknown", SIP_DIGEST_UNKNOWN, false, 0 },
	[SIP_DIGEST_MD5] = { "MD5", SIP_DIGEST_MD5, false, 32 },
	[SIP_DIGEST_MD5_SESS] = { "MD5-sess", SIP_DIGEST_MD5, true, 32 },
	[SIP_DIGEST_SHA256] = { "SHA-256", SIP_DIGEST_SHA256, false, 64 },
	[SIP_DIGEST_SHA256_SESS] = { "SHA-256-sess", SIP_DIGEST_SHA256, true, 64 },
	[SIP_DIGEST_SHA512_256] = { "SHA-512-256", SIP_DIGEST_SHA512_256, false, 64 },
	[SIP_DIGEST_SHA512_256_SESS] = { "SHA-512-256-sess", SIP_DIGEST_SHA512_256, true, 64 },
};

enum sip_digest_alg sip_digest_alg_lookup(struct pl name)
{
	for (int a = SIP_DIGEST_MD5; a < SIP_DIGEST_ALG_COUNT; a++) {
		if (pl_caseeq_str(name, alg_tab[a].name))
			return (enum sip_digest_alg)a;
	}
	return SIP_DIGEST_UNKNOWN;
}

const char *sip_digest_alg_name(enum sip_digest_alg alg)
{
	return (unsigned)alg < SIP_DIGEST_ALG_COUNT ? alg_tab[alg].name : "unknown";
}

enum sip_digest_alg sip_digest_alg_base(enum sip_digest_alg alg)
{
	return (unsigned)alg < SIP_DIGEST_ALG_COUNT ? alg_tab[alg].base : SIP_DIGEST_UNKNOWN;
}

bool sip_digest_alg_is_sess(enum sip_digest_alg alg)
{
	return (unsigned)alg < SIP_DIGEST_ALG_COUNT && alg_tab[alg].sess;
}

size_t sip_digest_hexlen(enum sip_digest_alg alg)
{
	return (unsigned)alg < SIP_DIGEST_ALG_COUNT ? alg_tab[alg].hexlen : 0;
}

/* ---- tokeniser ---- */

enum {
	DC_TOK = 1,   /* RFC 3261 token: alphanum / - . ! % * _ + ` ' ~ */
	DC_PLAIN = 2, /* qdtext needing no further look: not '"', '\\' or a control */
};

/* One table lookup per byte: the values (nonce, response) are long. */
static const uint8_t dc[256] = {
	['a' ... 'z'] = DC_TOK | DC_PLAIN, ['A' ... 'Z'] = DC_TOK | DC_PLAIN,
	['0' ... '9'] = DC_TOK | DC_PLAIN, ['-'] = DC_TOK | DC_PLAIN,
	['.'] = DC_TOK | DC_PLAIN,	   ['!'] = DC_TOK | DC_PLAIN,
	['%'] = DC_TOK | DC_PLAIN,	   ['*'] = DC_TOK | DC_PLAIN,
	['_'] = DC_TOK | DC_PLAIN,	   ['+'] = DC_TOK | DC_PLAIN,
	['`'] = DC_TOK | DC_PLAIN,	   ['\''] = DC_TOK | DC_PLAIN,
	['~'] = DC_TOK | DC_PLAIN,	   [' '] = DC_PLAIN,
	['\t'] = DC_PLAIN,		   ['#' ... '$'] = DC_PLAIN,
	['&'] = DC_PLAIN,		   ['(' ... ')'] = DC_PLAIN,
	[','] = DC_PLAIN,		   ['/'] = DC_PLAIN,
	[':' ... '@'] = DC_PLAIN,	   ['['] = DC_PLAIN,
	[']' ... '^'] = DC_PLAIN,	   ['{' ... '}'] = DC_PLAIN,
	[0x80 ... 0xff] = DC_PLAIN,
};

static bool is_tok(unsigned char c)
{
	return dc[c] & DC_TOK;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct cur {
	const char *p, *end;
};

static inline void skip_lws(struct cur *c)
{
	while (c->p < c->end && is_lws(*c->p))
		c->p++;
}

static bool get_token(struct cur *c, struct pl *tok)
{
	const char *s = c->p;

	while (c->p < c->end && is_tok((unsigned char)*c->p))
		c->p++;
	*tok = pl_make(s, (size_t)(c->p - s));
	return tok->l > 0;
}

/* quoted-string (RFC 3261 §25.1): qdtext is LWS, %x21, %x23-5B, %x5D-7E or
 * UTF8-NONASCII. quoted-pair follows RFC 9110 §5.6.4 (HTAB / SP / VCHAR /
 * obs-text), stricter than RFC 3261's %x00-7F: an escaped NUL or control
 * character has no business in a realm or nonce, and would cut our output.
 * On entry c->p is at the opening quote; *val gets the content, escapes kept. */
static bool get_quoted(struct cur *c, struct pl *val)
{
	const char *s = ++c->p;

#ifdef __SSE2__
	/* nonce, response, opaque: skip 16 plain bytes at a time, stop at a
	 * '"', '\\', control or DEL for the byte-wise rules below */
	while (c->end - c->p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)c->p);
		__m128i q = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
		__m128i ctl = _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xe0)),
					     _mm_setzero_si128());
		__m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
		__m128i stop = _mm_or_si128(_mm_or_si128(q, ctl), del);
		unsigned bits = (unsigned)_mm_movemask_epi8(stop);

		if (bits) {
			c->p += __builtin_ctz(bits);
			break;
		}
		c->p += 16;
	}
#endif
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;

		if (dc[ch] & DC_PLAIN) {
			c->p++;
			continue;
		}
		if (ch == '"') {
			*val = pl_make(s, (size_t)(c->p - s));
			c->p++;
			return true;
		}
		if (ch == '\\') {
			if (c->p + 1 >= c->end)
				return false;
			ch = (unsigned char)c->p[1];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return false;
			c->p += 2;
			continue;
		}
		if (ch < 0x20 && !is_lws((char)ch))
			return false;
		if (ch == 0x7f)
			return false;
		c->p++;
	}
	return false;
}

/* ---- parameter tables ---- */

struct pdef {
	const char *name; /* lower case */
	size_t off;       /* offset of the struct pl in the output struct */
};

/* ASCII case-insensitive compare of a against lower-case lc, n bytes. */
static bool lceq(const char *a, const char *lc, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = a[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch | 0x20);
		if (ch != lc[i])
			return false;
	}
	return true;
}

/* Index of name (a non-empty token, so no NUL: lceq() stops at the end of a
 * shorter definition) in defs, or -1. The first letter filters. */
static int pdef_find(struct pl name, const struct pdef *defs, size_t ndefs)
{
	char first = (char)(name.p[0] | 0x20);

	for (size_t i = 0; i < ndefs; i++) {
		const char *d = defs[i].name;
		if (d[0] == first && lceq(name.p + 1, d + 1, name.l - 1) && !d[name.l])
			return (int)i;
	}
	return -1;
}

/*
 * Walks `Digest name=value, name="value", ...`: checks the scheme, splits the
 * parameters, rejects duplicates of known ones and stores their values.
 * Empty list elements are allowed (RFC 9110 §5.6.1).
 */
static int parse_params(struct pl val, const struct pdef *defs, size_t ndefs, void *out,
			uint32_t *seen)
{
	struct cur c = { val.p, val.p + val.l };
	struct pl scheme, name, v;

	*seen = 0;
	skip_lws(&c);
	if (!get_token(&c, &scheme))
		return EBADMSG;
	if (!pl_caseeq_str(scheme, "Digest"))
		return ENOTSUP;
	if (c.p < c.end && !is_lws(*c.p))
		return EBADMSG;

	for (;;) {
		skip_lws(&c);
		if (c.p >= c.end)
			break;
		if (*c.p == ',') {
			c.p++;
			continue;
		}
		if (!get_token(&c, &name))
			return EBADMSG;
		skip_lws(&c);
		if (c.p >= c.end || *c.p != '=')
			return EBADMSG;
		c.p++;
		skip_lws(&c);
		if (c.p < c.end && *c.p == '"') {
			if (!get_quoted(&c, &v))
				return EBADMSG;
		} else if (!get_token(&c, &v)) {
			return EBADMSG;
		}
		skip_lws(&c);
		if (c.p < c.end && *c.p != ',')
			return EBADMSG;

		int i = pdef_find(name, defs, ndefs);
		if (i >= 0) {
			if (*seen & (1u << i))
				return EBADMSG;
			*seen |= 1u << i;
			*(struct pl *)((char *)out + defs[i].off) = v;
		}
	}
	return 0;
}

static int parse_bool(struct pl v, bool *b)
{
	if (pl_caseeq_str(v, "true"))
		*b = true;
	else if (pl_caseeq_str(v, "false"))
		*b = false;
	else
		return EBADMSG;
	return 0;
}

static enum sip_digest_qop qop_lookup(struct pl tok)
{
	if (pl_caseeq_str(tok, "auth"))
		return SIP_DIGEST_QOP_AUTH;
	if (pl_caseeq_str(tok, "auth-int"))
		return SIP_DIGEST_QOP_AUTH_INT;
	return SIP_DIGEST_QOP_OTHER;
}

/* qop-options list: 1#qop-value inside the quotes, LWS allowed around commas. */
static int parse_qop_list(struct pl v, unsigned *qops)
{
	struct cur c = { v.p, v.p + v.l };
	struct pl tok;
	unsigned q = 0;

	for (;;) {
		skip_lws(&c);
		if (c.p >= c.end)
			break;
		if (*c.p == ',') {
			c.p++;
			continue;
		}
		if (!get_token(&c, &tok))
			return EBADMSG;
		q |= qop_lookup(tok);
		skip_lws(&c);
		if (c.p < c.end && *c.p != ',')
			return EBADMSG;
	}
	if (!q)
		return EBADMSG;
	*qops = q;
	return 0;
}

/* Scratch for the two boolean parameters, kept as slices while parsing. */
struct chal_scratch {
	struct sip_digest_chal ch;
	struct pl stale, userhash;
};

#define CH(f) offsetof(struct chal_scratch, ch.f)
static const struct pdef chal_defs[] = {
	{ "realm", CH(realm) },		{ "nonce", CH(nonce) },
	{ "opaque", CH(opaque) },	{ "domain", CH(domain) },
	{ "charset", CH(charset) },	{ "algorithm", CH(algorithm) },
	{ "qop", CH(qop) },		{ "stale", offsetof(struct chal_scratch, stale) },
	{ "userhash", offsetof(struct chal_scratch, userhash) },
};
#undef CH

enum { CH_REALM = 1u << 0, CH_NONCE = 1u << 1, CH_ALG = 1u << 5, CH_QOP = 1u << 6 };

int sip_digest_chal_decode(struct sip_digest_chal *chal, struct pl val)
{
	struct chal_scratch s;
	uint32_t seen;
	int err;

	memset(&s, 0, sizeof(s));
	err = parse_params(val, chal_defs, ARRAY_SIZE(chal_defs), &s, &seen);
	if (err)
		return err;
	if ((seen & (CH_REALM | CH_NONCE)) != (CH_REALM | CH_NONCE))
		return EBADMSG;
	s.ch.alg = SIP_DIGEST_MD5;
	if (seen & CH_ALG)
		s.ch.alg = sip_digest_alg_lookup(s.ch.algorithm);
	if ((seen & CH_QOP) && parse_qop_list(s.ch.qop, &s.ch.qops))
		return EBADMSG;
	if (s.stale.p && parse_bool(s.stale, &s.ch.stale))
		return EBADMSG;
	if (s.userhash.p && parse_bool(s.userhash, &s.ch.userhash))
		return EBADMSG;
	*chal = s.ch;
	return 0;
}

struct cred_scratch {
	struct sip_digest_cred cr;
	struct pl userhash;
};

#define CR(f) offsetof(struct cred_scratch, cr.f)
static const struct pdef cred_defs[] = {
	{ "username", CR(username) },	{ "realm", CR(realm) },
	{ "nonce", CR(nonce) },		{ "uri", CR(uri) },
	{ "response", CR(response) },	{ "algorithm", CR(algorithm) },
	{ "cnonce", CR(cnonce) },	{ "opaque", CR(opaque) },
	{ "qop", CR(qop) },		{ "nc", CR(nc) },
	{ "userhash", offsetof(struct cred_scratch, userhash) },
};
#undef CR

enum {
	CR_REQUIRED = 0x1f, /* username realm nonce uri response */
	CR_ALG = 1u << 5,
	CR_CNONCE = 1u << 6,
	CR_QOP = 1u << 8,
	CR_NC = 1u << 9,
};

/* nc-value = 8LHEX; accept upper case too, as many stacks do. */
static int parse_nc(struct pl v, uint32_t *nc)
{
	uint32_t n = 0;

	if (v.l != 8)
		return EBADMSG;
	for (size_t i = 0; i < 8; i++) {
		char ch = v.p[i];
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return EBADMSG;
		n = n << 4 | d;
	}
	*nc = n;
	return 0;
}

int sip_digest_cred_decode(struct sip_digest_cred *cred, struct pl val)
{
	struct cred_scratch s;
	uint32_t seen;
	int err;

	memset(&s, 0, sizeof(s));
	err = parse_params(val, cred_defs, ARRAY_SIZE(cred_defs), &s, &seen);
	if (err)
		return err;
	if ((seen & CR_REQUIRED) != CR_REQUIRED)
		return EBADMSG;
	s.cr.alg = SIP_DIGEST_MD5;
	if (seen & CR_ALG)
		s.cr.alg = sip_digest_alg_lookup(s.cr.algorithm);
	if (seen & CR_QOP) {
		if (!s.cr.qop.l || (seen & (CR_CNONCE | CR_NC)) != (CR_CNONCE | CR_NC))
			return EBADMSG;
		s.cr.qop_id = qop_lookup(s.cr.qop);
		if (parse_nc(s.cr.nc, &s.cr.ncval))
			return EBADMSG;
	}
	if (s.userhash.p && parse_bool(s.userhash, &s.cr.userhash))
		return EBADMSG;
	*cred = s.cr;
	return 0;
}

bool sip_digest_val_eq(struct pl wire, struct pl plain)
{
	size_t i = 0, j = 0;

	while (i < wire.l) {
		char ch = wire.p[i++];

		if (ch == '\\' && i < wire.l)
			ch = wire.p[i++];
		if (j >= plain.l || plain.p[j++] != ch)
			return false;
	}
	return j == plain.l;
}
