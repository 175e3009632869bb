/*
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1):
 * From, To, Contact, Route, Record-Route, Refer-To, P-Asserted-Identity...
 */
#include <string.h>

#include "core/err.h"
#include "sip/msg/msg.h"
#include "sip/msg/msg_int.h"

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static const char *scheme_end(const char *p, const char *e)
{
	if (p == e || !CC(*p, CC_ALPHA))
		return NULL;
	for (p++; p < e && (CC(*p, CC_ALPHA | CC_DIGIT) || *p == '+' || *p == '-' || *p == '.');
	     p++)
		;
	return p < e && *p == ':' ? p : NULL;
}

static struct pl remap(struct pl s, const char *copy, const char *orig, size_t cut)
{
	size_t off;

	if (!s.p)
		return s;
	off = (size_t)(s.p - copy);
	if (off > cut)
		return pl_make(orig + off + 1, s.l);
	return pl_make(orig + off, s.l + (off + s.l > cut));
}

/*
 * RFC 5118 §4.10: the IPv6 ABNF of RFC 3261 derives "2001:db8:::192.0.2.1"
 * (three colons before an embedded IPv4 address) and receivers are asked to
 * tolerate it. The URI decoder rightly refuses it, so decode a copy with one
 * colon fewer and point the slices back into the message.
 */
static int uri_decode_3colon(struct sip_uri *uri, struct pl text)
{
	const char *e = text.p + text.l, *lb = pl_chr(text, '['), *rb, *c;
	struct sip_uri u;
	char copy[256];
	size_t cut, dots = 0;

	if (!lb || text.l >= sizeof(copy) || !(rb = memchr(lb, ']', (size_t)(e - lb))))
		return EBADMSG;
	c = memmem(lb, (size_t)(rb - lb), ":::", 3);
	if (!c || c + 3 == rb)
		return EBADMSG;
	for (const char *d = c + 3; d < rb; d++) {
		if (!CC(*d, CC_DIGIT) && *d != '.')
			return EBADMSG;
		dots += *d == '.';
	}
	if (dots != 3)
		return EBADMSG;
	cut = (size_t)(c - text.p);
	memcpy(copy, text.p, cut);
	memcpy(copy + cut, text.p + cut + 1, text.l - cut - 1);
	if (sip_uri_decode(&u, pl_make(copy, text.l - 1)))
		return EBADMSG;
	u.scheme_pl = remap(u.scheme_pl, copy, text.p, cut);
	u.user = remap(u.user, copy, text.p, cut);
	u.password = remap(u.password, copy, text.p, cut);
	u.host = remap(u.host, copy, text.p, cut);
	u.params = remap(u.params, copy, text.p, cut);
	u.headers = remap(u.headers, copy, text.p, cut);
	u.number = remap(u.number, copy, text.p, cut);
	u.opaque = remap(u.opaque, copy, text.p, cut);
	u.whole = text;
	*uri = u;
	return 0;
}

int msg_uri_decode(struct sip_uri *uri, struct pl text)
{
	const char *e = text.p + text.l, *s = scheme_end(text.p, e);
	struct pl scheme;

	if (!s)
		return EBADMSG;
	scheme = pl_make(text.p, (size_t)(s - text.p));
	if ((scheme.l == 3 && (msg_lceq(scheme.p, "sip", 3) || msg_lceq(scheme.p, "tel", 3))) ||
	    (scheme.l == 4 && msg_lceq(scheme.p, "sips", 4)))
		return sip_uri_decode(uri, text) == 0 ? 0 : uri_decode_3colon(uri, text);

	/* absoluteURI of a scheme we do not know: kept opaque (RFC 4475 §3.3.4) */
	if (s + 1 == e)
		return EBADMSG;
	for (const char *p = s + 1; p < e; p++) {
		if (!CC(*p, CC_URI))
			return EBADMSG;
	}
	memset(uri, 0, sizeof(*uri));
	uri->scheme = SIP_URI_OTHER;
	uri->scheme_pl = scheme;
	uri->opaque = pl_make(s + 1, (size_t)(e - s - 1));
	uri->whole = text;
	return 0;
}

/* display-name = *(token LWS) / quoted-string; returns the position of '<'
 * (after the display name), or NULL when the value is an addr-spec. */
static const char *display_name(struct sip_addr *a, const char *p, const char *e, int *err)
{
	const char *d = p, *t;

	if (*p == '"') {
		t = msg_quoted_end(p, e);
		if (!t) {
			*err = EBADMSG;
			return NULL;
		}
		a->display = pl_make(p + 1, (size_t)(t - p - 2));
		p = msg_lws(t, e);
		if (p == e || *p != '<')
			*err = EBADMSG;
		return p;
	}
	if (*p == '<')
		return p;
	for (;;) {
		const char *n;
		t = msg_token_end(p, e);
		if (t == p)
			return NULL;
		n = msg_lws(t, e);
		if (n < e && *n == '<') {
			a->display = pl_make(d, (size_t)(t - d));
			return n;
		}
		if (n == t || n == e || !CC(*n, CC_TOKEN))
			return NULL;
		p = n;
	}
}

static int addr_params(struct sip_addr *a, const char *p, const char *e)
{
	const char *ps = msg_lws(p, e);

	a->params = pl_make(ps, 0);
	for (;;) {
		struct pl n, v;
		int err = msg_param_next(&p, e, &n, &v);
		if (err == ENOENT)
			break;
		if (err)
			return EBADMSG;
		if (n.l == 3 && msg_lceq(n.p, "tag", 3)) {
			if (!v.l || msg_token_end(v.p, v.p + v.l) != v.p + v.l)
				return EBADMSG;
			a->tag = v;
		}
		a->params.l = (size_t)(p - ps);
	}
	return msg_lws(p, e) == e ? 0 : EBADMSG;
}

/* Decodes into a zeroed *ap directly (the eager path fills msg->from/to in place). */
int msg_addr_decode(struct sip_addr *ap, struct pl val)
{
	struct pl t = msg_trim(val);
	const char *p = t.p, *e = t.p + t.l, *lt, *u;
	struct sip_addr *a = ap;
	int err = 0;

	if (!t.l)
		return EBADMSG;
	a->val = t;
	if (*p == '*' && msg_lws(p + 1, e) == e) {
		memset(&a->uri, 0, sizeof(a->uri));
		a->uri_pl = a->params = pl_make(NULL, 0);
		a->star = true;
		return 0;
	}
	lt = display_name(a, p, e, &err);
	if (err)
		return err;
	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(e - lt));
		if (!gt)
			return EBADMSG;
		u = lt + 1;
		a->uri_pl = pl_make(u, (size_t)(gt - u));
		p = gt + 1;
	} else {
		/* addr-spec: the URI cannot hold ';', ',' or '?' (§20.10) */
		u = p;
		while (p < e && *p != ';' && *p != ',' && !CC(*p, CC_LWS))
			p++;
		a->uri_pl = pl_make(u, (size_t)(p - u));
		if (memchr(u, '?', a->uri_pl.l))
			return EBADMSG;
	}
	if (msg_uri_decode(&a->uri, a->uri_pl))
		return EBADMSG;
	return addr_params(a, p, e);
}

int sip_addr_decode(struct sip_addr *out, struct pl val)
{
	struct sip_addr a;

	/* msg_addr_decode() sets every other field (a memset costs more here) */
	a.display = a.tag = pl_make(NULL, 0);
	a.star = false;
	if (msg_addr_decode(&a, val))
		return EBADMSG;
	*out = a;
	return 0;
}
