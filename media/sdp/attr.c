/*
 * Decoding attribute values on request: rtpmap, fmtp, ptime, direction,
 * rtcp (RFC 3605), telephone-event lists (RFC 4733), crypto (RFC 4568).
 */
#include <string.h>

#include "core/err.h"
#include "media/sdp/sdp_int.h"

bool sdp_tok_next(struct pl *rest, struct pl *tok)
{
	size_t i = 0, j;

	while (i < rest->l && rest->p[i] == ' ')
		i++;
	if (i == rest->l) {
		rest->p += i;
		rest->l = 0;
		return false;
	}
	for (j = i; j < rest->l && rest->p[j] != ' '; j++)
		;
	*tok = pl_make(rest->p + i, j - i);
	rest->p += j;
	rest->l -= j;
	return true;
}

struct pl sdp_split(struct pl pl, char c, struct pl *tail)
{
	const char *x = pl_chr(pl, c);

	if (!x) {
		*tail = (struct pl)PL_INIT;
		return pl;
	}
	*tail = pl_make(x + 1, pl.l - (size_t)(x - pl.p) - 1);
	return pl_make(pl.p, (size_t)(x - pl.p));
}

/* RFC 8866 §9 token-char */
bool sdp_is_token(struct pl pl)
{
	static const char extra[] = "!#$%&'*+-.^_`{|}~";

	if (!pl.l)
		return false;
	for (size_t i = 0; i < pl.l; i++) {
		char c = pl.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr(extra, c))))
			return false;
	}
	return true;
}

const struct sdp_conn *sdp_media_conn(const struct sdp_session *s, const struct sdp_media *m)
{
	if (m && m->nconn)
		return &m->conn[0];
	return s->has_conn ? &s->conn : NULL;
}

bool sdp_attr_next(const struct sdp_attr *attr, unsigned nattr, const char *name, unsigned *idx,
                   struct pl *value)
{
	for (unsigned i = *idx; i < nattr; i++) {
		if (pl_eq(attr[i].name, pl_make(name, strlen(name)))) {
			*idx = i + 1;
			if (value)
				*value = attr[i].value;
			return true;
		}
	}
	*idx = nattr;
	return false;
}

bool sdp_media_attr(const struct sdp_media *m, const char *name, struct pl *value)
{
	unsigned i = 0;
	return sdp_attr_next(m->attr, m->nattr, name, &i, value);
}

bool sdp_session_attr(const struct sdp_session *s, const char *name, struct pl *value)
{
	unsigned i = 0;
	return sdp_attr_next(s->attr, s->nattr, name, &i, value);
}

static const char *const dir_names[] = {
    [SDP_INACTIVE] = "inactive",
    [SDP_SENDONLY] = "sendonly",
    [SDP_RECVONLY] = "recvonly",
    [SDP_SENDRECV] = "sendrecv",
};

const char *sdp_dir_name(enum sdp_dir d)
{
	return dir_names[d & 3];
}

static bool attrs_dir(const struct sdp_attr *attr, unsigned n, enum sdp_dir *d)
{
	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < ARRAY_SIZE(dir_names); k++) {
			if (!pl_isset(attr[i].value) &&
			    pl_eq(attr[i].name, pl_make(dir_names[k], strlen(dir_names[k])))) {
				*d = (enum sdp_dir)k;
				return true;
			}
		}
	}
	return false;
}

enum sdp_dir sdp_media_dir(const struct sdp_session *s, const struct sdp_media *m)
{
	enum sdp_dir d = SDP_SENDRECV;

	if (m && attrs_dir(m->attr, m->nattr, &d))
		return d;
	attrs_dir(s->attr, s->nattr, &d);
	return d;
}

int sdp_rtpmap_decode(struct pl value, struct sdp_rtpmap *r)
{
	struct pl rest = value, pt, enc, extra, clock, ch;
	uint32_t u;

	if (!sdp_tok_next(&rest, &pt) || !sdp_tok_next(&rest, &enc) || sdp_tok_next(&rest, &extra))
		return EBADMSG;
	if (pl_u32(pt, &u) || u > 127)
		return EBADMSG;
	r->pt = (uint8_t)u;
	r->encoding = sdp_split(enc, '/', &clock);
	clock = sdp_split(clock, '/', &ch);
	if (!r->encoding.l || pl_u32(clock, &r->clock) || !r->clock)
		return EBADMSG;
	r->channels = 1;
	if (pl_isset(ch) && (pl_u32(ch, &r->channels) || !r->channels))
		return EBADMSG;
	return 0;
}

/* RFC 3551 §6 static payload types */
static const struct {
	uint8_t pt;
	const char *enc;
	uint32_t clock, channels;
} static_pt[] = {
    {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},    {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
    {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},    {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
    {10, "L16", 44100, 2},  {11, "L16", 44100, 1},  {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
    {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},  {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1},
    {18, "G729", 8000, 1},  {25, "CelB", 90000, 1}, {26, "JPEG", 90000, 1}, {28, "nv", 90000, 1},
    {31, "H261", 90000, 1}, {32, "MPV", 90000, 1},  {33, "MP2T", 90000, 1}, {34, "H263", 90000, 1},
};

/* The attribute name=<fmt> <rest> for fmt, with rest in *val. */
static bool fmt_attr(const struct sdp_media *m, const char *name, struct pl fmt, struct pl *val)
{
	struct pl v;

	for (unsigned i = 0; sdp_attr_next(m->attr, m->nattr, name, &i, &v);) {
		if (pl_isset(v) && v.l > fmt.l && !memcmp(v.p, fmt.p, fmt.l) && v.p[fmt.l] == ' ') {
			*val = v;
			return true;
		}
	}
	return false;
}

int sdp_media_rtpmap(const struct sdp_media *m, struct pl fmt, struct sdp_rtpmap *r)
{
	struct pl v;
	uint32_t pt;

	if (fmt_attr(m, "rtpmap", fmt, &v))
		return sdp_rtpmap_decode(v, r);
	if (pl_u32(fmt, &pt))
		return ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(static_pt); i++) {
		if (static_pt[i].pt == pt) {
			r->pt = (uint8_t)pt;
			r->encoding = pl_make(static_pt[i].enc, strlen(static_pt[i].enc));
			r->clock = static_pt[i].clock;
			r->channels = static_pt[i].channels;
			return 0;
		}
	}
	return ENOENT;
}

bool sdp_media_fmtp(const struct sdp_media *m, struct pl fmt, struct pl *params)
{
	struct pl v, rest;

	if (!fmt_attr(m, "fmtp", fmt, &v))
		return false;
	rest = pl_make(v.p + fmt.l, v.l - fmt.l);
	while (rest.l && rest.p[0] == ' ') {
		rest.p++;
		rest.l--;
	}
	*params = rest;
	return true;
}

/* Whole milliseconds; "20.0" (seen in the wild) counts as 20. */
static uint32_t ms_value(struct pl v)
{
	struct pl frac;
	uint32_t u;

	v = sdp_split(v, '.', &frac);
	if (pl_u32(v, &u) || u > 10000)
		return 0;
	for (size_t i = 0; i < frac.l; i++) {
		if (frac.p[i] < '0' || frac.p[i] > '9')
			return 0;
	}
	return u;
}

uint32_t sdp_media_ptime(const struct sdp_session *s, const struct sdp_media *m, const char *name)
{
	struct pl v;

	if (m && sdp_media_attr(m, name, &v))
		return ms_value(v);
	if (sdp_session_attr(s, name, &v))
		return ms_value(v);
	return 0;
}

int sdp_rtcp_decode(struct pl value, struct sdp_rtcp *r)
{
	struct pl rest = value, port, nt, at, addr, extra;
	uint32_t u;

	memset(r, 0, sizeof(*r));
	if (!sdp_tok_next(&rest, &port) || pl_u32(port, &u) || u > 65535 || !u)
		return EBADMSG;
	r->port = (uint16_t)u;
	if (!sdp_tok_next(&rest, &nt))
		return 0;
	if (!sdp_tok_next(&rest, &at) || !sdp_tok_next(&rest, &addr) ||
	    sdp_tok_next(&rest, &extra) || !pl_eq(nt, PL("IN")))
		return EBADMSG;
	if (sa_set(&r->sa, addr, r->port) ||
	    sa_af(&r->sa) != (pl_eq(at, PL("IP6")) ? AF_INET6 : AF_INET) ||
	    !(pl_eq(at, PL("IP4")) || pl_eq(at, PL("IP6"))))
		return EBADMSG;
	r->has_addr = true;
	return 0;
}

int sdp_events_decode(struct pl list, struct sdp_events *ev)
{
	struct pl rest = list, item, hi;
	uint32_t a, b;

	memset(ev, 0, sizeof(*ev));
	if (!list.l)
		return EBADMSG;
	while (pl_isset(rest)) {
		item = sdp_split(rest, ',', &rest);
		item = sdp_split(item, '-', &hi);
		if (pl_u32(item, &a) || a > 255)
			return EBADMSG;
		b = a;
		if (pl_isset(hi) && (pl_u32(hi, &b) || b > 255 || b < a))
			return EBADMSG;
		for (uint32_t e = a; e <= b; e++)
			ev->bits[e / 32] |= 1u << (e % 32);
	}
	return 0;
}

bool sdp_events_has(const struct sdp_events *ev, unsigned event)
{
	return event < 256 && (ev->bits[event / 32] >> (event % 32)) & 1;
}

static bool is_b64(struct pl pl)
{
	for (size_t i = 0; i < pl.l; i++) {
		char c = pl.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return false;
	}
	return pl.l > 0;
}

/* "2^31" or "1048576" packets */
static int lifetime_decode(struct pl v, uint64_t *pkts)
{
	uint32_t e;

	if (v.l > 2 && v.p[0] == '2' && v.p[1] == '^') {
		if (pl_u32(pl_make(v.p + 2, v.l - 2), &e) || e > 63)
			return EBADMSG;
		*pkts = (uint64_t)1 << e;
		return 0;
	}
	return pl_u64(v, pkts) || !*pkts ? EBADMSG : 0;
}

static int key_info_decode(struct pl ki, struct sdp_crypto *c)
{
	struct pl part, rest;

	c->key = sdp_split(ki, '|', &rest);
	if (!is_b64(c->key))
		return EBADMSG;
	while (pl_isset(rest)) {
		struct pl len;
		part = sdp_split(rest, '|', &rest);
		if (pl_chr(part, ':')) {
			if (c->has_mki)
				return EBADMSG;
			part = sdp_split(part, ':', &len);
			if (pl_u32(part, &c->mki) || pl_u32(len, &c->mki_len) || !c->mki_len ||
			    c->mki_len > 128)
				return EBADMSG;
			c->has_mki = true;
		} else {
			if (pl_isset(c->lifetime) || c->has_mki)
				return EBADMSG; /* lifetime comes before the MKI */
			c->lifetime = part;
			if (lifetime_decode(part, &c->lifetime_pkts))
				return EBADMSG;
		}
	}
	return 0;
}

int sdp_crypto_decode(struct pl value, struct sdp_crypto *c)
{
	struct pl rest = value, tag, kp, one;
	int err;

	memset(c, 0, sizeof(*c));
	if (!sdp_tok_next(&rest, &tag) || !sdp_tok_next(&rest, &c->suite) ||
	    !sdp_tok_next(&rest, &kp))
		return EBADMSG;
	if (tag.l > 9 || pl_u32(tag, &c->tag) || !sdp_is_token(c->suite))
		return EBADMSG;
	while (pl_isset(kp)) {
		one = sdp_split(kp, ';', &kp);
		if (one.l < 8 || memcmp(one.p, "inline:", 7))
			return EBADMSG;
		if (!c->nkeys++) {
			err = key_info_decode(pl_make(one.p + 7, one.l - 7), c);
			if (err)
				return err;
		}
	}
	while (rest.l && rest.p[0] == ' ') {
		rest.p++;
		rest.l--;
	}
	if (rest.l)
		c->params = rest;
	return 0;
}
