/*
 * The UAS-side verdict on a received message (RFC 3261 §8.2, RFC 4475,
 * RFC 5118): which status a UAS sends, in the order §8.2 inspects things.
 */
#include <string.h>

#include "core/err.h"
#include "sip/msg/msg.h"
#include "sip/msg/msg_int.h"

struct verdict {
	uint16_t code;
	const char *reason;
};

static bool fail(struct verdict *v, uint16_t code, const char *reason)
{
	v->code = code;
	v->reason = reason;
	return true;
}

static bool in_list(const char *const *list, struct pl s)
{
	for (; list && *list; list++) {
		if (pl_caseeq_str(s, *list))
			return true;
	}
	return false;
}

/* rfc1123-date = wkday "," SP 2DIGIT SP month SP 4DIGIT SP time SP "GMT" */
static bool date_ok(struct pl d)
{
	static const char *const wk = "Mon,Tue,Wed,Thu,Fri,Sat,Sun,";
	static const char *const mo = "Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec,";
	static const char pat[] = "www, DD mmm DDDD DD:DD:DD GMT";
	const char *p = d.p;
	bool wok = false, mok = false;

	if (d.l != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; i < d.l; i++) {
		if (pat[i] == 'D' ? !CC(p[i], CC_DIGIT)
		                  : pat[i] != 'w' && pat[i] != 'm' && pat[i] != p[i])
			return false;
	}
	for (const char *w = wk; *w; w += 4)
		wok |= !memcmp(w, p, 3);
	for (const char *m = mo; *m; m += 4)
		mok |= !memcmp(m, p + 8, 3);
	return wok && mok;
}

static bool all_decode(const struct sip_msg *msg, enum sip_hdr_id id, bool addr)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct pl v;

	while (sip_msg_hdr_next(msg, id, &it, &v)) {
		union {
			struct sip_via via;
			struct sip_addr addr;
		} u;
		if (addr ? sip_addr_decode(&u.addr, v) : sip_via_decode(&u.via, v))
			return false;
		if (addr && u.addr.star && id != SIP_HDR_CONTACT)
			return false;
	}
	return true;
}

static bool contacts_bad(const struct sip_msg *msg)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	unsigned n = 0, stars = 0;
	struct pl v;

	if (!all_decode(msg, SIP_HDR_CONTACT, true))
		return true;
	while (sip_msg_hdr_next(msg, SIP_HDR_CONTACT, &it, &v)) {
		n++;
		stars += v.l == 1 && v.p[0] == '*';
	}
	/* "Contact: *" only alone and only to unregister (§10.2.2) */
	return stars && (n > 1 || msg->mid != SIP_M_REGISTER);
}

static bool typed_bad(const struct sip_msg *msg)
{
	const struct sip_hdr *h;
	union {
		struct sip_ctype ct;
		struct sip_rack rack;
		struct sip_session_expires se;
		struct sip_event ev;
		struct sip_substate ss;
		struct sip_replaces rp;
		uint32_t u;
	} u;

	if ((h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE)) && sip_ctype_decode(&u.ct, h->val))
		return true;
	if ((h = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES)) &&
	    sip_session_expires_decode(&u.se, h->val))
		return true;
	if ((h = sip_msg_hdr(msg, SIP_HDR_MIN_SE)) && sip_u32_decode(&u.u, h->val))
		return true;
	if (msg->mid == SIP_M_PRACK && (h = sip_msg_hdr(msg, SIP_HDR_RACK)) &&
	    sip_rack_decode(&u.rack, h->val))
		return true;
	if ((msg->mid == SIP_M_SUBSCRIBE || msg->mid == SIP_M_NOTIFY) &&
	    (h = sip_msg_hdr(msg, SIP_HDR_EVENT)) && sip_event_decode(&u.ev, h->val))
		return true;
	if (msg->mid == SIP_M_NOTIFY && (h = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE)) &&
	    sip_substate_decode(&u.ss, h->val))
		return true;
	if ((h = sip_msg_hdr(msg, SIP_HDR_REPLACES)) && sip_replaces_decode(&u.rp, h->val))
		return true;
	return false;
}

/* Anything that makes the request malformed: the reason, or NULL. */
static const char *malformed(const struct sip_msg *msg)
{
	static const uint8_t single[] = {
	    SIP_HDR_TO,           SIP_HDR_FROM,           SIP_HDR_CALL_ID,      SIP_HDR_CSEQ,
	    SIP_HDR_MAX_FORWARDS, SIP_HDR_CONTENT_LENGTH, SIP_HDR_CONTENT_TYPE,
	};
	const struct sip_hdr *h;

	if (msg->bad)
		return msg->bad;
	if (msg->first[SIP_HDR_VIA] < 0 || msg->first[SIP_HDR_FROM] < 0 ||
	    msg->first[SIP_HDR_TO] < 0 || msg->first[SIP_HDR_CALL_ID] < 0 ||
	    msg->first[SIP_HDR_CSEQ] < 0)
		return "Missing Mandatory Header";
	for (size_t i = 0; i < sizeof(single); i++) {
		if (sip_msg_hdr_count(msg, (enum sip_hdr_id)single[i]) > 1)
			return "Multiple Values In Single-Value Header";
	}
	if (!pl_eq(msg->cseq.method, msg->method))
		return "CSeq Method Mismatch";
	if (!all_decode(msg, SIP_HDR_VIA, false))
		return "Malformed Via";
	/* the magic cookie alone is no transaction id (RFC 4475 §3.2.1) */
	if (pl_eq(msg->via.branch, PL("z9hG4bK")))
		return "Malformed Branch";
	if (contacts_bad(msg))
		return "Malformed Contact";
	if (!all_decode(msg, SIP_HDR_ROUTE, true) || !all_decode(msg, SIP_HDR_RECORD_ROUTE, true))
		return "Malformed Route";
	if ((msg->ruri.scheme == SIP_URI_SIP || msg->ruri.scheme == SIP_URI_SIPS) &&
	    msg->ruri.headers.l)
		return "Headers In Request-URI";
	if ((h = sip_msg_hdr(msg, SIP_HDR_DATE)) && !date_ok(h->val))
		return "Malformed Date";
	if (msg->body.l && msg->first[SIP_HDR_CONTENT_TYPE] < 0)
		return "Missing Content-Type";
	if (typed_bad(msg))
		return "Malformed Header";
	return NULL;
}

static bool unsupported_require(const struct sip_msg *msg, const struct sip_check_opts *o)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct pl v;

	/* ACK and CANCEL are never rejected for Require (§8.2.2.3) */
	if (msg->mid == SIP_M_ACK || msg->mid == SIP_M_CANCEL)
		return false;
	while (sip_msg_hdr_next(msg, SIP_HDR_REQUIRE, &it, &v)) {
		if (!in_list(o ? o->supported : NULL, v))
			return true;
	}
	return false;
}

/* "type/subtype" (parameters cut) against a media range with wildcards. */
static bool media_match(struct pl range, const char *type)
{
	const char *semi = pl_chr(range, ';'), *slash;
	const char *ts = strchr(type, '/');
	struct pl t;

	if (semi)
		range.l = (size_t)(semi - range.p);
	range = msg_trim(range);
	if (pl_eq(range, PL("*/*")))
		return true;
	slash = pl_chr(range, '/');
	if (!slash || !ts)
		return false;
	t = pl_make(range.p, (size_t)(slash - range.p));
	if (t.l != (size_t)(ts - type) || !pl_caseeq(t, pl_make(type, t.l)))
		return false;
	t = pl_make(slash + 1, range.l - t.l - 1);
	return pl_eq(t, PL("*")) || pl_caseeq_str(t, ts + 1);
}

static bool not_acceptable(const struct sip_msg *msg, const struct sip_check_opts *o)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct pl v;

	if (!o || !o->produce || msg->first[SIP_HDR_ACCEPT] < 0 ||
	    (msg->mid != SIP_M_INVITE && msg->mid != SIP_M_UPDATE))
		return false;
	while (sip_msg_hdr_next(msg, SIP_HDR_ACCEPT, &it, &v)) {
		for (const char *const *p = o->produce; *p; p++) {
			if (media_match(v, *p))
				return false;
		}
	}
	return true;
}

static bool unsupported_media(const struct sip_msg *msg, const struct sip_check_opts *o)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	struct sip_ctype ct;
	struct pl v;

	if (!o || !o->accept || !msg->body.l || !h || sip_ctype_decode(&ct, h->val))
		return false;
	while (sip_msg_hdr_next(msg, SIP_HDR_CONTENT_ENCODING, &it, &v)) {
		if (!pl_caseeq_str(v, "identity"))
			return true;
	}
	for (const char *const *p = o->accept; *p; p++) {
		const char *s = strchr(*p, '/');
		if (s && pl_caseeq(ct.type, pl_make(*p, (size_t)(s - *p))) &&
		    pl_caseeq_str(ct.subtype, s + 1))
			return false;
	}
	return true;
}

/* An Authorization with a scheme we cannot verify gets a challenge. */
static uint16_t unknown_auth(const struct sip_msg *msg, const struct sip_check_opts *o)
{
	static const struct {
		uint8_t id;
		uint16_t code;
	} hs[] = {{SIP_HDR_AUTHORIZATION, 401}, {SIP_HDR_PROXY_AUTHORIZATION, 407}};

	if (!o || !o->auth_schemes)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(hs); k++) {
		for (int i = msg->first[hs[k].id]; i >= 0; i = msg->hdr[i].next) {
			struct pl v = msg->hdr[i].val;
			const char *t = msg_token_end(v.p, v.p + v.l);
			if (!in_list(o->auth_schemes, pl_make(v.p, (size_t)(t - v.p))))
				return hs[k].code;
		}
	}
	return 0;
}

static bool check_request(const struct sip_msg *msg, const struct sip_check_opts *o,
                          struct verdict *v)
{
	const char *why;
	uint16_t c;

	if (!pl_caseeq_str(msg->version, "SIP/2.0"))
		return fail(v, 505, "Version Not Supported");
	if ((o && o->max_msg && msg->len > o->max_msg) || msg->bad == msg_too_large)
		return fail(v, 513, "Message Too Large");
	if ((why = malformed(msg)))
		return msg->mid == SIP_M_UNKNOWN ? fail(v, 501, "Not Implemented")
		                                 : fail(v, 400, why);
	if (o && o->allowed_methods && !(o->allowed_methods & (1u << msg->mid)))
		return msg->mid == SIP_M_UNKNOWN ? fail(v, 501, "Not Implemented")
		                                 : fail(v, 405, "Method Not Allowed");
	if ((c = unknown_auth(msg, o)))
		return fail(v, c, c == 401 ? "Unauthorized" : "Proxy Authentication Required");
	if (msg->ruri.scheme != SIP_URI_SIP && msg->ruri.scheme != SIP_URI_SIPS &&
	    msg->ruri.scheme != SIP_URI_TEL)
		return fail(v, 416, "Unsupported URI Scheme");
	if (unsupported_require(msg, o))
		return fail(v, 420, "Bad Extension");
	if (unsupported_media(msg, o))
		return fail(v, 415, "Unsupported Media Type");
	if (not_acceptable(msg, o))
		return fail(v, 406, "Not Acceptable");
	return false;
}

bool sip_msg_check(const struct sip_msg *msg, const struct sip_check_opts *opts, uint16_t *code,
                   const char **reason)
{
	struct verdict v = {0, ""};
	bool rejected;

	if (!msg) {
		rejected = true;
	} else if (msg->req) {
		rejected = check_request(msg, opts, &v);
	} else {
		/* a response that cannot be matched or is broken is dropped (§18.1.2) */
		rejected = msg->bad || msg->first[SIP_HDR_VIA] < 0 ||
		           msg->first[SIP_HDR_FROM] < 0 || msg->first[SIP_HDR_TO] < 0 ||
		           msg->first[SIP_HDR_CALL_ID] < 0 || msg->first[SIP_HDR_CSEQ] < 0 ||
		           !pl_caseeq_str(msg->version, "SIP/2.0");
		if (rejected)
			v.reason = "Dropped";
	}
	if (code)
		*code = v.code;
	if (reason)
		*reason = v.reason;
	return !rejected;
}
