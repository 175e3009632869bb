/*
 * Via (RFC 3261 §20.42, RFC 5118 IPv6 sent-by and received, RFC 3581 rport)
 * and CSeq (§20.16) decoders.
 */
#include <string.h>

#include "core/err.h"
#include "sip/msg/msg.h"
#include "sip/msg/msg_int.h"

/* An IPv4 or IPv6 address, the latter with or without brackets. */
static bool ip_literal_ok(struct pl a)
{
	const char *p = a.p, *e = a.p + a.l;

	if (a.l >= 2 && p[0] == '[' && e[-1] == ']')
		return sip_ipv6_ok(p + 1, a.l - 2);
	return memchr(p, ':', a.l) ? sip_ipv6_ok(p, a.l) : sip_ipv4_ok(p, a.l);
}

/* host = hostname / IPv4address / IPv6reference; returns the end or NULL. */
static const char *host_end(const char *p, const char *e)
{
	const char *h = p;

	if (p < e && *p == '[') {
		const char *c = memchr(p, ']', (size_t)(e - p));
		if (!c || !sip_ipv6_ok(p + 1, (size_t)(c - p - 1)))
			return NULL;
		return c + 1;
	}
	while (p < e && CC(*p, CC_HOST))
		p++;
	return p == h ? NULL : p;
}

/* SLASH = SWS "/" SWS */
static const char *slash(const char *p, const char *e)
{
	p = msg_lws(p, e);
	if (p == e || *p != '/')
		return NULL;
	return msg_lws(p + 1, e);
}

static const char *sent_protocol(struct sip_via *via, const char *p, const char *e)
{
	const char *t = msg_token_end(p, e);

	if (t - p != 3 || !msg_lceq(p, "sip", 3))
		return NULL;
	if (!(p = slash(t, e)))
		return NULL;
	t = msg_token_end(p, e);
	if (t == p)
		return NULL;
	if (!(p = slash(t, e)))
		return NULL;
	t = msg_token_end(p, e);
	if (t == p)
		return NULL;
	via->transport = pl_make(p, (size_t)(t - p));
	return t;
}

static int via_param(struct sip_via *via, struct pl name, struct pl val)
{
	switch (name.l) {
	case 6:
		if (msg_lceq(name.p, "branch", 6)) {
			if (!val.l)
				return EBADMSG;
			via->branch = val;
		}
		break;
	case 8:
		if (msg_lceq(name.p, "received", 8)) {
			/* with or without brackets (RFC 5118 §4.5) */
			if (!val.l || !ip_literal_ok(val))
				return EBADMSG;
			via->received = val;
		}
		break;
	case 5:
		if (msg_lceq(name.p, "maddr", 5)) {
			if (!val.l)
				return EBADMSG;
			via->maddr = val;
		} else if (msg_lceq(name.p, "rport", 5)) {
			via->rport = true;
			if (val.l && (val.l > 5 || msg_u32(val.p, val.p + val.l, &via->rport_val) ||
			              via->rport_val > 65535))
				return EBADMSG;
		}
		break;
	case 3:
		if (msg_lceq(name.p, "ttl", 3)) {
			uint32_t ttl;
			if (msg_u32(val.p, val.p + val.l, &ttl) || ttl > 255)
				return EBADMSG;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* Decodes into a zeroed *vp directly (the eager path fills msg->via in place).
 * first: val is a whole Via line; decode its first via-parm only. */
int msg_via_decode(struct sip_via *vp, struct pl val, bool first)
{
	struct pl t = msg_trim(val);
	const char *p = t.p, *e = t.p + t.l, *h, *ps;
	struct sip_via *via = vp;
	int err;

	if (!t.l)
		return EBADMSG;
	via->val = t;
	p = sent_protocol(via, p, e);
	if (!p || p == e || !CC(*p, CC_LWS))
		return EBADMSG;
	p = msg_lws(p, e);
	h = p;
	if (!(p = host_end(p, e)))
		return EBADMSG;
	via->host = pl_make(h, (size_t)(p - h));
	ps = msg_lws(p, e);
	if (ps < e && *ps == ':') {
		uint32_t port;
		const char *d = msg_lws(ps + 1, e);
		p = d;
		while (p < e && CC(*p, CC_DIGIT))
			p++;
		if (p - d > 5 || msg_u32(d, p, &port) || port > 65535)
			return EBADMSG;
		via->port = (uint16_t)port;
	}
	ps = msg_lws(p, e);
	via->params = pl_make(ps, 0);
	for (;;) {
		struct pl n, v;
		err = msg_param_next(&p, e, &n, &v);
		if (err == ENOENT)
			break;
		if (err || via_param(via, n, v))
			return EBADMSG;
		via->params.l = (size_t)(p - ps);
	}
	ps = msg_lws(p, e);
	if (ps == e)
		return 0;
	if (!first || *ps != ',')
		return EBADMSG;
	via->val.l = (size_t)(p - t.p);
	return 0;
}

int sip_via_decode(struct sip_via *out, struct pl val)
{
	struct sip_via via;

	/* msg_via_decode() sets every other field (a memset costs more here) */
	via.branch = via.received = via.maddr = pl_make(NULL, 0);
	via.port = 0;
	via.rport = false;
	via.rport_val = 0;
	if (msg_via_decode(&via, val, false))
		return EBADMSG;
	*out = via;
	return 0;
}

int sip_cseq_decode(struct sip_cseq *out, struct pl val)
{
	struct pl t = msg_trim(val);
	const char *p = t.p, *e = t.p + t.l, *d = p, *m;
	struct sip_cseq cs;

	while (p < e && CC(*p, CC_DIGIT))
		p++;
	/* 32-bit unsigned (§8.1.1.5); larger values are malformed (RFC 4475 §3.1.2.4) */
	if (p == d || msg_u32(d, p, &cs.num))
		return EBADMSG;
	if (p == e || !CC(*p, CC_LWS))
		return EBADMSG;
	p = msg_lws(p, e);
	m = p;
	p = msg_token_end(p, e);
	if (p == m || p != e)
		return EBADMSG;
	cs.method = pl_make(m, (size_t)(p - m));
	cs.mid = sip_method_lookup(cs.method);
	*out = cs;
	return 0;
}
