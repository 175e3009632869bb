/*
 * uri: decoding of sip:, sips:, tel: and other absolute URIs.
 *
 * Grammar: RFC 3261 §25.1 (SIP-URI, absoluteURI), RFC 3966 §3 (tel),
 * RFC 5954 / RFC 3986 for IPv6 references (the RFC 3261 IPv6 ABNF accepts
 * "2001:db8:::192.0.2.1", RFC 5118 §4.10). Strict: no LWS anywhere, every
 * '%' must be a valid escape, every byte must belong to its component's
 * character class. Nothing is copied; the result is slices into text.
 */
#include "sip/uri/uri.h"
#include "sip/uri/uri_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define AF (UC_ALPHA | UC_HEX)
#define AG UC_ALPHA
#define DG (UC_DIGIT | UC_HEX)

const uint16_t sip_uri_cc[256] = {
    ['a' ... 'f'] = AF,
    ['g' ... 'z'] = AG,
    ['A' ... 'F'] = AF,
    ['G' ... 'Z'] = AG,
    ['0' ... '9'] = DG,
    ['-'] = UC_MARK | UC_SCHEME | UC_VISUAL,
    ['.'] = UC_MARK | UC_SCHEME | UC_VISUAL,
    ['_'] = UC_MARK,
    ['!'] = UC_MARK,
    ['~'] = UC_MARK,
    ['*'] = UC_MARK,
    ['\''] = UC_MARK,
    ['('] = UC_MARK | UC_VISUAL,
    [')'] = UC_MARK | UC_VISUAL,
    ['&'] = UC_USER | UC_PASS | UC_PARAM | UC_RESV,
    ['='] = UC_USER | UC_PASS | UC_RESV,
    ['+'] = UC_USER | UC_PASS | UC_PARAM | UC_HNV | UC_RESV | UC_SCHEME,
    ['$'] = UC_USER | UC_PASS | UC_PARAM | UC_HNV | UC_RESV,
    [','] = UC_USER | UC_PASS | UC_RESV,
    [';'] = UC_USER | UC_RESV,
    ['?'] = UC_USER | UC_HNV | UC_RESV,
    ['/'] = UC_USER | UC_PARAM | UC_HNV | UC_RESV,
    [':'] = UC_PARAM | UC_HNV | UC_RESV,
    ['@'] = UC_RESV,
    ['['] = UC_PARAM | UC_HNV,
    [']'] = UC_PARAM | UC_HNV,
};

/* Every byte in mask, or (if esc) a valid %XX escape. */
static bool chars_ok(const char *p, const char *end, unsigned mask, bool esc)
{
	while (p < end) {
		if (uri_cc((unsigned char)*p, mask)) {
			p++;
		} else if (esc && uri_escval(p, end) >= 0) {
			p += 3;
		} else {
			return false;
		}
	}
	return true;
}

/* End of the run of bytes in mask or valid %XX escapes from p. */
static const char *chars_span(const char *p, const char *end, unsigned mask)
{
	while (p < end) {
		if (uri_cc((unsigned char)*p, mask))
			p++;
		else if (uri_escval(p, end) >= 0)
			p += 3;
		else
			break;
	}
	return p;
}

static bool pl_chars_ok(struct pl s, unsigned mask, bool esc)
{
	return chars_ok(s.p, s.p + s.l, mask, esc);
}

/* 1*3DIGIT with value <= 255 (RFC 3261 allows leading zeros). */
static bool ipv4_part(const char **pp, const char *end)
{
	const char *p = *pp;
	unsigned v = 0, n = 0;

	while (p < end && n < 4 && uri_cc((unsigned char)*p, UC_DIGIT)) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
		n++;
	}
	if (n == 0 || n > 3 || v > 255)
		return false;
	*pp = p;
	return true;
}

bool sip_ipv4_ok(const char *p, size_t l)
{
	const char *end = p + l;

	for (int i = 0; i < 4; i++) {
		if (i && (p >= end || *p++ != '.'))
			return false;
		if (!ipv4_part(&p, end))
			return false;
	}
	return p == end;
}

/*
 * RFC 3986 IPv6address: eight h16 groups, or fewer with exactly one "::"
 * standing for at least one group; a trailing IPv4 counts as two groups.
 */
bool sip_ipv6_ok(const char *p, size_t l)
{
	const char *end = p + l;
	unsigned groups = 0;
	bool dcolon = false;

	if (l >= 2 && p[0] == ':' && p[1] == ':') {
		dcolon = true;
		p += 2;
		if (p == end)
			return true;
	}
	for (;;) {
		const char *s = p;
		unsigned n = 0;

		while (p < end && n < 5 && uri_cc((unsigned char)*p, UC_HEX)) {
			p++;
			n++;
		}
		if (p < end && *p == '.') {
			if (!sip_ipv4_ok(s, (size_t)(end - s)))
				return false;
			groups += 2;
			break;
		}
		if (n == 0 || n > 4)
			return false;
		groups++;
		if (p == end)
			break;
		if (*p++ != ':' || p == end)
			return false;
		if (*p == ':') {
			if (dcolon)
				return false;
			dcolon = true;
			if (++p == end)
				break;
		}
	}
	return dcolon ? groups <= 7 : groups == 8;
}

/* hostname = *( domainlabel "." ) toplabel [ "." ] */
bool sip_uri_hostname_ok(const char *p, size_t l)
{
	const char *end, *label;

	if (l && p[l - 1] == '.')
		l--;
	if (!l)
		return false;
	end = p + l;
	label = p;
	while (label < end) {
		const char *q = label;

		while (q < end && *q != '.')
			q++;
		if (q == label || !uri_cc((unsigned char)label[0], UC_ALNUM) ||
		    !uri_cc((unsigned char)q[-1], UC_ALNUM))
			return false;
		for (const char *c = label; c < q; c++) {
			if (*c != '-' && !uri_cc((unsigned char)*c, UC_ALNUM))
				return false;
		}
		if (q == end)
			return uri_cc((unsigned char)label[0], UC_ALPHA);
		label = q + 1;
	}
	return false; /* "a..": an empty label after a dot */
}

/*
 * The end of a hostname or IPv4address from p (the run of alphanum, '-',
 * '.'), or NULL if the run is neither: the rules of sip_uri_hostname_ok()
 * checked in the same pass, digits and dots only going to sip_ipv4_ok().
 */
static const char *hostname_end(const char *p, const char *end)
{
	const char *s = p, *label = p, *top = p;
	bool ok = true, dash = false;
	unsigned seen = 0; /* classes of the alphanumerics */

	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		unsigned k = sip_uri_cc[c];

		if (k & UC_ALNUM) {
			seen |= k;
		} else if (c == '-') {
			dash = true;
			ok = ok && p != label;
		} else if (c == '.') {
			ok = ok && p != label && p[-1] != '-';
			top = label;
			label = p + 1;
		} else {
			break;
		}
	}
	if (p == s)
		return NULL;
	if (!dash && !(seen & UC_ALPHA))
		return sip_ipv4_ok(s, (size_t)(p - s)) ? p : NULL;
	if (label < p) {
		/* the last label has no dot after it */
		ok = ok && p[-1] != '-';
		top = label;
	}
	return ok && uri_cc((unsigned char)*top, UC_ALPHA) ? p : NULL;
}

/* host = hostname / IPv4address / IPv6reference; advances *pp past it. */
static int take_host(const char **pp, const char *end, struct pl *host)
{
	const char *p = *pp, *s = p;

	if (p < end && *p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (!rb || !sip_ipv6_ok(p + 1, (size_t)(rb - p - 1)))
			return EBADMSG;
		p = rb + 1;
	} else if (!(p = hostname_end(s, end))) {
		return EBADMSG;
	}
	*host = pl_make(s, (size_t)(p - s));
	*pp = p;
	return 0;
}

static int take_port(const char **pp, const char *end, uint16_t *port)
{
	const char *p = *pp;
	uint32_t v = 0;

	if (p == end || !uri_cc((unsigned char)*p, UC_DIGIT))
		return EBADMSG;
	while (p < end && uri_cc((unsigned char)*p, UC_DIGIT)) {
		v = v * 10 + (uint32_t)(*p++ - '0');
		if (v > 65535)
			return EBADMSG;
	}
	*port = (uint16_t)v;
	*pp = p;
	return 0;
}

/* uri-parameters from p (at ';'): *( ";" pname [ "=" pvalue ] ), pname and
 * pvalue 1*paramchar; returns their end, or NULL. */
static const char *sip_params_end(const char *p, const char *end)
{
	const unsigned pc = UC_UNRES | UC_PARAM;

	while (p < end && *p == ';') {
		const char *n = ++p;

		p = chars_span(p, end, pc);
		if (p == n)
			return NULL;
		if (p < end && *p == '=') {
			const char *v = ++p;
			p = chars_span(p, end, pc);
			if (p == v)
				return NULL;
		}
	}
	return p;
}

/* headers: "?" hname "=" hvalue *( "&" hname "=" hvalue ) */
static bool sip_headers_ok(struct pl s)
{
	const char *p = s.p + 1, *end = s.p + s.l;
	const unsigned hnv = UC_UNRES | UC_HNV;

	for (;;) {
		const char *seg = p, *eq;

		while (p < end && *p != '&')
			p++;
		eq = memchr(seg, '=', (size_t)(p - seg));
		if (!eq || eq == seg || !chars_ok(seg, eq, hnv, true) ||
		    !chars_ok(eq + 1, p, hnv, true))
			return false;
		if (p == end)
			return true;
		p++;
	}
}

static int decode_sip(struct sip_uri *u, struct pl s)
{
	const char *p = s.p, *end = s.p + s.l;
	const char *at = pl_chr(s, '@');
	int err;

	if (at) {
		const char *c = memchr(p, ':', (size_t)(at - p));
		const char *ue = c ? c : at;

		if (ue == p || !chars_ok(p, ue, UC_UNRES | UC_USER, true))
			return EBADMSG;
		u->user = pl_make(p, (size_t)(ue - p));
		if (c) {
			if (!chars_ok(c + 1, at, UC_UNRES | UC_PASS, true))
				return EBADMSG;
			u->password = pl_make(c + 1, (size_t)(at - c - 1));
		}
		p = at + 1;
	}
	err = take_host(&p, end, &u->host);
	if (err)
		return err;
	if (p < end && *p == ':') {
		p++;
		err = take_port(&p, end, &u->port);
		if (err)
			return err;
		u->has_port = true;
	}
	if (p < end && *p == ';') {
		const char *pe = sip_params_end(p, end);

		/* the parameters end at '?' (headers) or at the end */
		if (!pe || (pe < end && *pe != '?'))
			return EBADMSG;
		u->params = pl_make(p, (size_t)(pe - p));
		p = pe;
	}
	if (p < end && *p == '?') {
		u->headers = pl_make(p, (size_t)(end - p));
		if (!sip_headers_ok(u->headers))
			return EBADMSG;
		p = end;
	}
	return p == end ? 0 : EBADMSG;
}

/* global-number-digits = "+" *phonedigit DIGIT *phonedigit */
static bool global_digits_ok(const char *p, const char *end)
{
	bool digit = false;

	if (p == end || *p++ != '+')
		return false;
	for (; p < end; p++) {
		if (uri_cc((unsigned char)*p, UC_DIGIT))
			digit = true;
		else if (!uri_cc((unsigned char)*p, UC_VISUAL))
			return false;
	}
	return digit;
}

/* local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex */
static bool local_digits_ok(const char *p, const char *end)
{
	bool digit = false;

	for (; p < end; p++) {
		if (uri_cc((unsigned char)*p, UC_HEX) || *p == '*' || *p == '#')
			digit = true;
		else if (!uri_cc((unsigned char)*p, UC_VISUAL))
			return false;
	}
	return digit;
}

static bool name_is(const char *p, const char *end, const char *name)
{
	return pl_caseeq_str(pl_make(p, (size_t)(end - p)), name);
}

/* One tel parameter [seg, e); counts phone-context occurrences. */
static bool tel_param_ok(const char *seg, const char *e, unsigned *contexts)
{
	const char *eq = memchr(seg, '=', (size_t)(e - seg));
	const char *ne = eq ? eq : e, *v = eq ? eq + 1 : e;

	if (ne == seg)
		return false;
	for (const char *c = seg; c < ne; c++) {
		if (*c != '-' && !uri_cc((unsigned char)*c, UC_ALNUM))
			return false;
	}
	if (name_is(seg, ne, "isub"))
		return eq && v < e && chars_ok(v, e, UC_RESV | UC_UNRES, true);
	if (name_is(seg, ne, "ext")) {
		if (!eq || v == e)
			return false;
		for (const char *c = v; c < e; c++) {
			if (!uri_cc((unsigned char)*c, UC_DIGIT | UC_VISUAL))
				return false;
		}
		return true;
	}
	if (name_is(seg, ne, "phone-context")) {
		(*contexts)++;
		if (!eq || v == e)
			return false;
		return *v == '+' ? global_digits_ok(v, e) : sip_uri_hostname_ok(v, (size_t)(e - v));
	}
	return !eq || (v < e && chars_ok(v, e, UC_UNRES | UC_PARAM, true));
}

static int decode_tel(struct sip_uri *u, struct pl s)
{
	const char *p = s.p, *end = s.p + s.l;
	const char *semi = pl_chr(s, ';');
	const char *ne = semi ? semi : end;
	unsigned contexts = 0;

	u->number = pl_make(p, (size_t)(ne - p));
	u->global = ne > p && *p == '+';
	if (u->global ? !global_digits_ok(p, ne) : !local_digits_ok(p, ne))
		return EBADMSG;
	if (semi)
		u->params = pl_make(semi, (size_t)(end - semi));
	p = ne;
	while (p < end) {
		const char *seg = ++p;

		while (p < end && *p != ';')
			p++;
		if (!tel_param_ok(seg, p, &contexts))
			return EBADMSG;
	}
	/* A local number means nothing without its context (RFC 3966 §5.1.5). */
	if (!u->global && contexts != 1)
		return EBADMSG;
	return 0;
}

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static bool scheme_ok(struct pl s)
{
	return s.l && uri_cc((unsigned char)s.p[0], UC_ALPHA) &&
	       pl_chars_ok(s, UC_ALNUM | UC_SCHEME, false);
}

/* s equals the n lower-case letters lc, case-insensitively (for a letter,
 * c | 0x20 matches only its two cases). */
static inline bool scheme_is(struct pl s, const char *lc, size_t n)
{
	if (s.l != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((s.p[i] | 0x20) != lc[i])
			return false;
	}
	return true;
}

int sip_uri_decode(struct sip_uri *uri, struct pl text)
{
	struct sip_uri u;
	const char *colon;
	struct pl rest;
	int err;

	if (!uri || !text.p || !text.l)
		return EBADMSG;
	colon = pl_chr(text, ':');
	if (!colon)
		return EBADMSG;
	memset(&u, 0, sizeof(u));
	u.scheme_pl = pl_make(text.p, (size_t)(colon - text.p));
	if (!scheme_ok(u.scheme_pl))
		return EBADMSG;
	rest = pl_make(colon + 1, text.l - u.scheme_pl.l - 1);
	u.opaque = rest;
	u.whole = text;
	if (scheme_is(u.scheme_pl, "sip", 3) || scheme_is(u.scheme_pl, "sips", 4)) {
		u.scheme = u.scheme_pl.l == 3 ? SIP_URI_SIP : SIP_URI_SIPS;
		err = decode_sip(&u, rest);
	} else if (scheme_is(u.scheme_pl, "tel", 3)) {
		u.scheme = SIP_URI_TEL;
		err = decode_tel(&u, rest);
	} else {
		/* absoluteURI: hier-part / opaque-part, all uric; '[' ']' for
		 * RFC 3986 IP literals in authorities. */
		u.scheme = SIP_URI_OTHER;
		err =
		    rest.l && pl_chars_ok(rest, UC_RESV | UC_UNRES | UC_PARAM, true) ? 0 : EBADMSG;
	}
	if (err)
		return err;
	*uri = u;
	return 0;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool sip_param_next(struct pl *rest, struct pl *name, struct pl *val)
{
	const char *p, *end, *seg, *eq = NULL;
	bool quoted = false;
	struct pl v;

	if (!rest || !rest->p)
		return false;
	p = rest->p;
	end = p + rest->l;
	while (p < end && (is_lws(*p) || *p == ';'))
		p++;
	if (p == end) {
		*rest = pl_make(end, 0);
		return false;
	}
	seg = p;
	for (; p < end; p++) {
		if (quoted) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == ';') {
			break;
		} else if (*p == '=' && !eq) {
			eq = p;
		}
	}
	*rest = pl_make(p, (size_t)(end - p));
	if (name)
		*name = pl_trim(pl_make(seg, (size_t)((eq ? eq : p) - seg)));
	v = eq ? pl_trim(pl_make(eq + 1, (size_t)(p - eq - 1))) : pl_make(p, 0);
	if (v.l >= 2 && v.p[0] == '"' && v.p[v.l - 1] == '"')
		v = pl_make(v.p + 1, v.l - 2);
	if (val)
		*val = v;
	return true;
}

bool sip_param_get(struct pl params, const char *name, struct pl *val)
{
	struct pl n, v;
	size_t nl;

	if (!name)
		return false;
	nl = strlen(name);
	while (sip_param_next(&params, &n, &v)) {
		if (n.l == nl && (!nl || !strncasecmp(n.p, name, nl))) {
			if (val)
				*val = v;
			return true;
		}
	}
	return false;
}

bool sip_uri_param(const struct sip_uri *uri, const char *name, struct pl *val)
{
	return uri && sip_param_get(uri->params, name, val);
}

int sip_unescape(struct pl in, char *buf, size_t n)
{
	const char *p = in.p, *end = in.p + in.l;
	size_t o = 0;

	if (!buf || !n)
		return -1;
	while (p < end) {
		int c = (unsigned char)*p;

		if (c == '%') {
			c = uri_escval(p, end);
			if (c < 0)
				return -1;
			p += 3;
		} else {
			p++;
		}
		if (o + 1 >= n)
			return -1;
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return (int)o;
}

int sip_uri_tel_digits(struct pl number, char *buf, size_t n)
{
	const char *p = number.p, *end = number.p + number.l;
	size_t o = 0;
	bool any = false;

	if (!buf || !n)
		return -1;
	while (p < end && *p != ';') {
		bool first = p == number.p;
		int c = (unsigned char)*p;

		if (c == '%') {
			c = uri_escval(p, end);
			if (c < 0)
				return -1;
			p += 3;
		} else {
			p++;
		}
		if (uri_cc((unsigned char)c, UC_VISUAL))
			continue;
		if (c == '+') {
			if (!first)
				return -1;
		} else if (uri_cc((unsigned char)c, UC_HEX) || c == '*' || c == '#') {
			any = true;
			if (c >= 'a' && c <= 'f')
				c -= 'a' - 'A';
		} else {
			return -1;
		}
		if (o + 1 >= n)
			return -1;
		buf[o++] = (char)c;
	}
	if (!any)
		return -1;
	buf[o] = '\0';
	return (int)o;
}
