/*
 * hdr_ext: typed decoders for the headers parsed on demand (msg.h).
 *
 * Each takes one header value (one comma-separated element, possibly with
 * LWS and folding) and returns slices into it. Grammar: Content-Type
 * (RFC 3261 §25.1), RAck (RFC 3262 §7.2), Session-Expires (RFC 4028 §4),
 * Event and Subscription-State (RFC 6665 §8.4), Reason (RFC 3326 §2),
 * Retry-After and Timestamp (RFC 3261), Replaces (RFC 3891 §6.1).
 * Parameters are validated here as generic-param and looked up afterwards
 * with sip_param_get(), which tolerates the same LWS.
 */
#include "sip/msg/msg.h"

#include <errno.h>
#include <string.h>

enum {
	HC_TOKEN = 1 << 0, /* RFC 3261 token */
	HC_WORD = 1 << 1,  /* RFC 3261 word (Call-ID) */
};

#define TW (HC_TOKEN | HC_WORD)

static const uint8_t hc[256] = {
    ['a' ... 'z'] = TW, ['A' ... 'Z'] = TW, ['0' ... '9'] = TW, ['-'] = TW,       ['.'] = TW,
    ['!'] = TW,         ['%'] = TW,         ['*'] = TW,         ['_'] = TW,       ['+'] = TW,
    ['`'] = TW,         ['\''] = TW,        ['~'] = TW,         ['('] = HC_WORD,  [')'] = HC_WORD,
    ['<'] = HC_WORD,    ['>'] = HC_WORD,    [':'] = HC_WORD,    ['\\'] = HC_WORD, ['"'] = HC_WORD,
    ['/'] = HC_WORD,    ['['] = HC_WORD,    [']'] = HC_WORD,    ['?'] = HC_WORD,  ['{'] = HC_WORD,
    ['}'] = HC_WORD,
};

/* A cursor over one header value. */
struct lex {
	const char *p, *end;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips LWS (folding included); returns whether any was skipped. */
static bool lws(struct lex *x)
{
	const char *s = x->p;

	while (x->p < x->end && is_ws(*x->p))
		x->p++;
	return x->p != s;
}

static bool at_end(struct lex *x)
{
	lws(x);
	return x->p == x->end;
}

static bool span(struct lex *x, unsigned cls, struct pl *out)
{
	const char *s = x->p;

	while (x->p < x->end && (hc[(unsigned char)*x->p] & cls))
		x->p++;
	*out = pl_make(s, (size_t)(x->p - s));
	return x->p != s;
}

static bool token(struct lex *x, struct pl *out)
{
	return span(x, HC_TOKEN, out);
}

/* SWS c SWS (SEMI, EQUAL, SLASH, ...) */
static bool eat(struct lex *x, char c)
{
	const char *save = x->p;

	lws(x);
	if (x->p < x->end && *x->p == c) {
		x->p++;
		lws(x);
		return true;
	}
	x->p = save;
	return false;
}

static bool digits(struct lex *x, struct pl *out)
{
	const char *s = x->p;

	while (x->p < x->end && *x->p >= '0' && *x->p <= '9')
		x->p++;
	*out = pl_make(s, (size_t)(x->p - s));
	return x->p != s;
}

static bool u32(struct lex *x, uint32_t *v)
{
	struct pl d;

	return digits(x, &d) && pl_u32(d, v) == 0;
}

/* quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE; *inner without quotes */
static bool quoted(struct lex *x, struct pl *inner)
{
	const char *p = x->p;

	if (p == x->end || *p++ != '"')
		return false;
	for (; p < x->end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			*inner = pl_make(x->p + 1, (size_t)(p - x->p - 1));
			x->p = p + 1;
			return true;
		}
		if (c == '\\') {
			if (++p == x->end || *p == '\r' || *p == '\n')
				return false;
		} else if ((c < 0x20 && !is_ws((char)c)) || c == 0x7f) {
			return false;
		}
	}
	return false;
}

/* gen-value = token / host / quoted-string (host: token chars or [IPv6]) */
static bool gen_value(struct lex *x)
{
	struct pl v;

	if (x->p < x->end && *x->p == '"')
		return quoted(x, &v);
	if (x->p < x->end && *x->p == '[') {
		const char *s = x->p + 1;

		while (s < x->end && (*s == ':' || *s == '.' || (hc[(unsigned char)*s] & HC_TOKEN)))
			s++;
		if (s == x->end || *s != ']' || s == x->p + 1)
			return false;
		x->p = s + 1;
		return true;
	}
	return token(x, &v);
}

/*
 * *( SEMI token [ EQUAL gen-value ] ) to the end of the value; *params is the
 * slice from the first ';'. need_value: every parameter must have a value
 * (m-parameter of Content-Type).
 */
static int params(struct lex *x, struct pl *out, bool need_value)
{
	const char *start;
	struct pl name;

	lws(x);
	start = x->p;
	while (!at_end(x)) {
		if (!eat(x, ';') || !token(x, &name))
			return EBADMSG;
		if (eat(x, '=')) {
			if (!gen_value(x))
				return EBADMSG;
		} else if (need_value) {
			return EBADMSG;
		}
	}
	*out = pl_trim(pl_make(start, (size_t)(x->end - start)));
	if (!out->l)
		*out = pl_make(start, 0);
	return 0;
}

static struct lex lex_init(struct pl val)
{
	struct lex x = {val.p, val.p + val.l};

	if (!val.p)
		x.p = x.end = "";
	lws(&x);
	return x;
}

/* A parameter that must be delta-seconds when present. */
static int param_u32(struct pl ps, const char *name, uint32_t *v, bool *has)
{
	struct pl s;

	*has = false;
	if (!sip_param_get(ps, name, &s))
		return 0;
	if (pl_u32(s, v))
		return EBADMSG;
	*has = true;
	return 0;
}

static bool all_token(struct pl s)
{
	struct lex x = {s.p, s.p + s.l};
	struct pl t;

	return s.l && token(&x, &t) && x.p == x.end;
}

int sip_token_decode(struct pl *tok, struct pl val)
{
	struct pl t = pl_trim(val);

	if (!tok || !all_token(t))
		return EBADMSG;
	*tok = t;
	return 0;
}

/* media-type = m-type SLASH m-subtype *(SEMI m-parameter) */
int sip_ctype_decode(struct sip_ctype *ct, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_ctype c;

	memset(&c, 0, sizeof(c));
	if (!token(&x, &c.type) || !eat(&x, '/') || !token(&x, &c.subtype))
		return EBADMSG;
	if (params(&x, &c.params, true))
		return EBADMSG;
	*ct = c;
	return 0;
}

/* Local method table: this file must not depend on the message parser. */
static enum sip_method method_id(struct pl m)
{
	static const char *const names[SIP_M_COUNT] = {
	    [SIP_M_INVITE] = "INVITE",     [SIP_M_ACK] = "ACK",
	    [SIP_M_BYE] = "BYE",           [SIP_M_CANCEL] = "CANCEL",
	    [SIP_M_REGISTER] = "REGISTER", [SIP_M_OPTIONS] = "OPTIONS",
	    [SIP_M_INFO] = "INFO",         [SIP_M_MESSAGE] = "MESSAGE",
	    [SIP_M_REFER] = "REFER",       [SIP_M_SUBSCRIBE] = "SUBSCRIBE",
	    [SIP_M_NOTIFY] = "NOTIFY",     [SIP_M_UPDATE] = "UPDATE",
	    [SIP_M_PRACK] = "PRACK",       [SIP_M_PUBLISH] = "PUBLISH",
	};

	for (int i = 1; i < SIP_M_COUNT; i++) {
		if (names[i] && pl_eq(m, pl_make(names[i], strlen(names[i]))))
			return (enum sip_method)i;
	}
	return SIP_M_UNKNOWN;
}

/* RAck = response-num LWS CSeq-num LWS Method */
int sip_rack_decode(struct sip_rack *rack, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_rack r;

	memset(&r, 0, sizeof(r));
	if (!u32(&x, &r.rseq) || !lws(&x) || !u32(&x, &r.cseq) || !lws(&x) ||
	    !token(&x, &r.method) || !at_end(&x))
		return EBADMSG;
	r.mid = method_id(r.method);
	*rack = r;
	return 0;
}

/* Session-Expires = delta-seconds *(SEMI se-params); refresher = uac / uas */
int sip_session_expires_decode(struct sip_session_expires *se, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_session_expires s;

	memset(&s, 0, sizeof(s));
	if (!u32(&x, &s.delta) || params(&x, &s.params, false))
		return EBADMSG;
	if (sip_param_get(s.params, "refresher", &s.refresher) &&
	    !pl_caseeq_str(s.refresher, "uac") && !pl_caseeq_str(s.refresher, "uas"))
		return EBADMSG;
	*se = s;
	return 0;
}

/* event-type = event-package *( "." event-template ); id = token */
int sip_event_decode(struct sip_event *ev, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_event e;
	struct pl pk;

	memset(&e, 0, sizeof(e));
	if (!token(&x, &pk) || params(&x, &e.params, false))
		return EBADMSG;
	/* token-nodot parts: no empty part around a '.' */
	if (pk.p[0] == '.' || pk.p[pk.l - 1] == '.' || memmem(pk.p, pk.l, "..", 2))
		return EBADMSG;
	e.package = pk;
	if (sip_param_get(e.params, "id", &e.id) && !all_token(e.id))
		return EBADMSG;
	*ev = e;
	return 0;
}

/* substate-value *( SEMI subexp-params ): reason, expires, retry-after */
int sip_substate_decode(struct sip_substate *ss, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_substate s;

	memset(&s, 0, sizeof(s));
	if (!token(&x, &s.state) || params(&x, &s.params, false))
		return EBADMSG;
	if (sip_param_get(s.params, "reason", &s.reason) && !all_token(s.reason))
		return EBADMSG;
	if (param_u32(s.params, "expires", &s.expires, &s.has_expires) ||
	    param_u32(s.params, "retry-after", &s.retry_after, &s.has_retry_after))
		return EBADMSG;
	*ss = s;
	return 0;
}

/* reason-value = protocol *(SEMI reason-params): cause = 1*DIGIT, text */
int sip_reason_decode(struct sip_reason *r, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_reason o;

	memset(&o, 0, sizeof(o));
	if (!token(&x, &o.protocol) || params(&x, &o.params, false))
		return EBADMSG;
	if (param_u32(o.params, "cause", &o.cause, &o.has_cause))
		return EBADMSG;
	/* text is a quoted-string; a bare token is accepted as generic-param */
	sip_param_get(o.params, "text", &o.text);
	*r = o;
	return 0;
}

/* comment = LPAREN *(ctext / quoted-pair / comment) RPAREN; *inner without parens */
static bool comment(struct lex *x, struct pl *inner)
{
	const char *p = x->p;
	unsigned depth = 0;

	for (; p < x->end; p++) {
		if (*p == '\\') {
			if (++p == x->end)
				return false;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth == 0) {
				*inner = pl_make(x->p + 1, (size_t)(p - x->p - 1));
				x->p = p + 1;
				return true;
			}
		}
	}
	return false;
}

/* Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) */
int sip_retry_after_decode(struct sip_retry_after *ra, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_retry_after r;

	memset(&r, 0, sizeof(r));
	if (!u32(&x, &r.delta))
		return EBADMSG;
	lws(&x);
	if (x.p < x.end && *x.p == '(' && !comment(&x, &r.comment))
		return EBADMSG;
	if (params(&x, &r.params, false) ||
	    param_u32(r.params, "duration", &r.duration, &r.has_duration))
		return EBADMSG;
	*ra = r;
	return 0;
}

/* Replaces = callid *(SEMI replaces-param); exactly one to-tag and from-tag */
int sip_replaces_decode(struct sip_replaces *rp, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_replaces r;
	struct pl w;
	const char *s = x.p;

	memset(&r, 0, sizeof(r));
	/* callid = word [ "@" word ] */
	if (!span(&x, HC_WORD, &w))
		return EBADMSG;
	if (x.p < x.end && *x.p == '@') {
		x.p++;
		if (!span(&x, HC_WORD, &w))
			return EBADMSG;
	}
	r.callid = pl_make(s, (size_t)(x.p - s));
	if (params(&x, &r.params, false))
		return EBADMSG;
	if (!sip_param_get(r.params, "to-tag", &r.to_tag) || !all_token(r.to_tag) ||
	    !sip_param_get(r.params, "from-tag", &r.from_tag) || !all_token(r.from_tag))
		return EBADMSG;
	r.early_only = sip_param_get(r.params, "early-only", NULL);
	*rp = r;
	return 0;
}

/* 1*DIGIT [ "." *DIGIT ] for the value, *DIGIT [ "." *DIGIT ] for the delay */
static bool decimal(struct lex *x, struct pl *out, bool need_int)
{
	const char *s = x->p;
	struct pl d;
	bool i = digits(x, &d), f = false;

	if (need_int && !i)
		return false;
	if (x->p < x->end && *x->p == '.') {
		x->p++;
		f = digits(x, &d);
	}
	*out = pl_make(s, (size_t)(x->p - s));
	return i || f;
}

/* Timestamp = 1*(DIGIT) [ "." *(DIGIT) ] [ LWS delay ] */
int sip_timestamp_decode(struct sip_timestamp *ts, struct pl val)
{
	struct lex x = lex_init(val);
	struct sip_timestamp t;

	memset(&t, 0, sizeof(t));
	if (!decimal(&x, &t.value, true))
		return EBADMSG;
	if (lws(&x) && x.p < x.end && !decimal(&x, &t.delay, false))
		return EBADMSG;
	if (!at_end(&x))
		return EBADMSG;
	*ts = t;
	return 0;
}
