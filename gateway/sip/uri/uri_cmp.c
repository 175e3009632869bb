/*
 * uri_cmp: URI equivalence, RFC 3261 §19.1.4 (with RFC 5954 §4 for IPv6
 * literals) and RFC 3966 §4 for tel.
 *
 * Components are compared escape-aware without copying: "%61" equals "a",
 * but an escaped reserved character ("%3B") never equals its literal (";"),
 * because unescaping it would change the URI's structure.
 */
#include "sip/uri/uri.h"
#include "sip/uri/uri_int.h"

#include <arpa/inet.h>
#include <string.h>

#define ESC_RESERVED 0x100

/* Next comparison unit of [*pp, end): a byte, or an escape's value. */
static int next_unit(const char **pp, const char *end, bool icase)
{
	const char *p = *pp;
	int c = uri_escval(p, end);

	if (c >= 0) {
		*pp = p + 3;
		if (uri_cc((unsigned char)c, UC_RESV))
			return c | ESC_RESERVED;
	} else {
		c = (unsigned char)*p;
		*pp = p + 1;
	}
	if (icase && c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return c;
}

static bool esc_eq(struct pl a, struct pl b, bool icase)
{
	const char *pa = a.p, *ea = a.p + a.l;
	const char *pb = b.p, *eb = b.p + b.l;

	if (!a.l || !b.l)
		return a.l == b.l;
	while (pa < ea && pb < eb) {
		if (next_unit(&pa, ea, icase) != next_unit(&pb, eb, icase))
			return false;
	}
	return pa == ea && pb == eb;
}

/* First parameter of list whose name equals name (escape-aware, any case). */
static bool find_param(struct pl list, struct pl name, struct pl *fname, struct pl *val)
{
	struct pl n, v;

	while (sip_param_next(&list, &n, &v)) {
		if (esc_eq(n, name, true)) {
			*fname = n;
			*val = v;
			return true;
		}
	}
	return false;
}

static bool sip_param_must_match(struct pl name)
{
	static const char *const names[] = {"user", "ttl", "method", "maddr", "transport"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (esc_eq(name, pl_make(names[i], strlen(names[i])), true))
			return true;
	}
	return false;
}

/* Every parameter of a (first occurrence of each name) against b. */
static bool sip_params_half(struct pl a, struct pl b)
{
	struct pl rest = a, n, v, fn, fv, bv;

	while (sip_param_next(&rest, &n, &v)) {
		if (!find_param(a, n, &fn, &fv) || fn.p != n.p)
			continue; /* a repeated name: only the first one counts */
		if (find_param(b, n, &fn, &bv)) {
			if (!esc_eq(v, bv, true))
				return false;
		} else if (sip_param_must_match(n)) {
			return false;
		}
	}
	return true;
}

/* Next "name=value" of a "?h=v&h2=v2" headers slice. */
static bool hdr_next(struct pl *rest, struct pl *name, struct pl *val)
{
	const char *p = rest->p, *end = p + rest->l, *s, *eq;

	if (!rest->l)
		return false;
	if (*p == '?' || *p == '&')
		p++;
	s = p;
	while (p < end && *p != '&')
		p++;
	eq = memchr(s, '=', (size_t)(p - s));
	if (!eq)
		eq = p;
	*name = pl_make(s, (size_t)(eq - s));
	*val = eq < p ? pl_make(eq + 1, (size_t)(p - eq - 1)) : pl_make(p, 0);
	*rest = pl_make(p, (size_t)(end - p));
	return true;
}

static unsigned hdr_count(struct pl hdrs, struct pl name, struct pl val)
{
	struct pl n, v;
	unsigned c = 0;

	while (hdr_next(&hdrs, &n, &v)) {
		if (esc_eq(n, name, true) && esc_eq(v, val, false))
			c++;
	}
	return c;
}

/* Headers are never ignored: the same multiset of name=value on both sides.
 * Names compare in any case; values exactly (after unescaping). */
static bool sip_headers_eq(struct pl a, struct pl b)
{
	struct pl rest = a, n, v;
	unsigned na = 0, nb = 0;

	while (hdr_next(&rest, &n, &v)) {
		na++;
		if (hdr_count(a, n, v) != hdr_count(b, n, v))
			return false;
	}
	rest = b;
	while (hdr_next(&rest, &n, &v))
		nb++;
	return na == nb;
}

/* IPv6 references compare as addresses (RFC 5954 §4); others as text. */
static bool host_eq(struct pl a, struct pl b)
{
	char sa[64], sb[64];
	unsigned char ba[16], bb[16];

	if (a.l > 2 && b.l > 2 && a.p[0] == '[' && b.p[0] == '[' && a.l < sizeof(sa) &&
	    b.l < sizeof(sb)) {
		pl_strcpy(pl_make(a.p + 1, a.l - 2), sa, sizeof(sa));
		pl_strcpy(pl_make(b.p + 1, b.l - 2), sb, sizeof(sb));
		if (inet_pton(AF_INET6, sa, ba) == 1 && inet_pton(AF_INET6, sb, bb) == 1)
			return memcmp(ba, bb, sizeof(ba)) == 0;
	}
	return pl_caseeq(a, b);
}

static bool sip_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	/* userinfo is case-sensitive; a present password never equals none */
	if (pl_isset(a->user) != pl_isset(b->user) || !esc_eq(a->user, b->user, false))
		return false;
	if (pl_isset(a->password) != pl_isset(b->password) ||
	    !esc_eq(a->password, b->password, false))
		return false;
	if (!host_eq(a->host, b->host))
		return false;
	/* an explicit default port still differs from none (§19.1.4) */
	if (a->has_port != b->has_port || a->port != b->port)
		return false;
	return sip_params_half(a->params, b->params) && sip_params_half(b->params, a->params) &&
	       sip_headers_eq(a->headers, b->headers);
}

static bool digits_eq(struct pl a, struct pl b)
{
	char da[128], db[128];
	int la = sip_uri_tel_digits(a, da, sizeof(da));
	int lb = sip_uri_tel_digits(b, db, sizeof(db));

	if (la < 0 || lb < 0)
		return pl_caseeq(a, b);
	return la == lb && memcmp(da, db, (size_t)la) == 0;
}

static bool tel_value_eq(struct pl name, struct pl a, struct pl b)
{
	if (pl_caseeq_str(name, "ext"))
		return digits_eq(a, b);
	if (pl_caseeq_str(name, "phone-context")) {
		bool ga = a.l && a.p[0] == '+', gb = b.l && b.p[0] == '+';

		if (ga != gb)
			return false;
		return ga ? digits_eq(a, b) : pl_caseeq(a, b);
	}
	return esc_eq(a, b, true);
}

/* RFC 3966 §4: a parameter present in one only makes the URIs differ. */
static bool tel_params_half(struct pl a, struct pl b)
{
	struct pl rest = a, n, v, fn, fv, bv;

	while (sip_param_next(&rest, &n, &v)) {
		if (!find_param(a, n, &fn, &fv) || fn.p != n.p)
			continue;
		if (!find_param(b, n, &fn, &bv) || !tel_value_eq(n, v, bv))
			return false;
	}
	return true;
}

static bool tel_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	return a->global == b->global && digits_eq(a->number, b->number) &&
	       tel_params_half(a->params, b->params) && tel_params_half(b->params, a->params);
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (!a || !b || a->scheme != b->scheme)
		return false;
	switch (a->scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		return sip_equal(a, b);
	case SIP_URI_TEL:
		return tel_equal(a, b);
	case SIP_URI_OTHER:
		return pl_caseeq(a->scheme_pl, b->scheme_pl) && pl_eq(a->opaque, b->opaque);
	default:
		return false;
	}
}
