/*
 * SIP message decoding and stream framing.
 *
 * Design: one pass over the text, one heap allocation (struct sip_msg, which
 * embeds the header table). The start line is split by hand; every header
 * line is found with memchr('\n') plus a look at the next byte for folding
 * (the value slice keeps the folding; value decoders skip LWS, which includes
 * CR and LF, so nothing is ever copied or unfolded). Header names are looked
 * up by length, then first character, then one case-folding compare (hdr.c;
 * compact forms by a 26-entry table); each line is linked into the per-id
 * chain first[]/next. Only what routing needs is parsed eagerly
 * (top Via, From, To, Call-ID, CSeq, Content-Length, Max-Forwards); the rest
 * waits for the typed decoders. Character classes come from one 256-entry
 * table (msg_int.h). A defect in a request does not stop the pass: it is
 * recorded in msg->bad so that sip_msg_decode_ex() can hand back a partial
 * message and the UAS can answer 400/505/501 instead of dropping it.
 */
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/err.h"
#include "core/mem.h"
#include "sip/msg/msg.h"
#include "sip/msg/msg_int.h"

#define DEF_MAX_MSG  65535
#define DEF_MAX_HDR  16384
#define DEF_MAX_BODY 32768

struct limits {
	size_t msg, hdr, body;
};

static struct limits limits_of(const struct sip_limits *lim)
{
	struct limits l = {DEF_MAX_MSG, DEF_MAX_HDR, DEF_MAX_BODY};

	if (lim && lim->max_msg)
		l.msg = lim->max_msg;
	if (lim && lim->max_hdr_len)
		l.hdr = lim->max_hdr_len;
	if (lim && lim->max_body)
		l.body = lim->max_body;
	return l;
}

static void msg_destructor(void *arg)
{
	struct sip_msg *msg = arg;

	mem_deref(msg->bufref);
	mem_deref(msg->conn);
}

const char msg_too_large[] = "Message Too Large";

static void set_bad(struct sip_msg *msg, const char *why)
{
	if (!msg->bad)
		msg->bad = why;
}

/*
 * A header line from p, with its continuation lines. final: the buffer end
 * is the message end (datagram), so it also ends a line and the section.
 */
/*
 * End of a header name (a token). Names are nearly always letters, digits
 * and '-': SSE2 skips 16 of those at a time, the table finishes the token.
 */
static inline const char *name_end(const char *p, const char *e)
{
#ifdef __SSE2__
	const __m128i a1 = _mm_set1_epi8('a' - 1), z1 = _mm_set1_epi8('z' + 1);
	const __m128i d1 = _mm_set1_epi8('0' - 1), d2 = _mm_set1_epi8('9' + 1);
	const __m128i lower = _mm_set1_epi8(0x20), dash = _mm_set1_epi8('-');

	while (e - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i l = _mm_or_si128(v, lower);
		__m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(l, a1), _mm_cmpgt_epi8(z1, l));
		__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, d1), _mm_cmpgt_epi8(d2, v));
		__m128i ok = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_cmpeq_epi8(v, dash));
		unsigned bits = (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
		if (bits) {
			p += __builtin_ctz(bits);
			break;
		}
		p += 16;
	}
#endif
	return msg_token_end(p, e);
}

/* always_inline: called once per header line, the hottest path of decoding */
__attribute__((always_inline)) static inline int line_scan(const char *p, const char *e, bool final,
                                                           struct pl *name, struct pl *val,
                                                           const char **next)
{
	const char *n, *q, *nl, *le;

	if (p == e)
		return final ? 0 : -2;
	if (*p == '\n' || (*p == '\r' && p + 1 < e && p[1] == '\n')) {
		*next = p + (*p == '\r' ? 2 : 1);
		return 0;
	}
	if (*p == '\r' && p + 1 == e)
		return final ? 0 : -2;

	n = name_end(p, e);
	*name = pl_make(p, (size_t)(n - p));
	q = n;
	while (q < e && CC(*q, CC_WSP))
		q++;
	/* find the end of the logical line: LF not followed by SP/HTAB */
	for (nl = q;; nl++) {
		nl = memchr(nl, '\n', (size_t)(e - nl));
		if (!nl) {
			if (!final)
				return -2;
			nl = e;
			*next = e;
			break;
		}
		if (nl + 1 == e) {
			if (!final)
				return -2;
			*next = e;
			break;
		}
		if (!CC(nl[1], CC_WSP)) {
			*next = nl + 1;
			break;
		}
	}
	le = nl;
	if (le > q && le[-1] == '\r')
		le--;
	if (n == p || q == le || *q != ':') {
		*val = pl_make(p, (size_t)(le - p));
		return -1;
	}
	q++;
	while (q < le && CC(*q, CC_LWS))
		q++;
	while (le > q && CC(le[-1], CC_LWS))
		le--;
	*val = pl_make(q, (size_t)(le - q));
	return 1;
}

int msg_line(const char *p, const char *e, struct pl *name, struct pl *val, const char **next)
{
	return line_scan(p, e, false, name, val, next);
}

/* "SIP/" 1*DIGIT "." 1*DIGIT */
static bool version_ok(const char *p, const char *e)
{
	const char *d;

	if (e - p < 7 || !msg_lceq(p, "sip/", 4))
		return false;
	p += 4;
	for (d = p; p < e && CC(*p, CC_DIGIT); p++)
		;
	if (p == d || p == e || *p != '.')
		return false;
	for (d = ++p; p < e && CC(*p, CC_DIGIT); p++)
		;
	return p != d && p == e;
}

static int status_line(struct sip_msg *msg, const char *p, const char *e)
{
	const char *v = p;
	unsigned code = 0;

	while (p < e && *p != ' ')
		p++;
	if (!version_ok(v, p) || e - p < 4)
		return EBADMSG;
	msg->version = pl_make(v, (size_t)(p - v));
	p++;
	for (int i = 0; i < 3; i++, p++) {
		if (!CC(*p, CC_DIGIT))
			return EBADMSG;
		code = code * 10 + (unsigned)(*p - '0');
	}
	if (code < 100 || code > 699)
		return EBADMSG;
	if (p < e && *p != ' ')
		return EBADMSG;
	if (p < e)
		p++;
	for (const char *r = p; r < e; r++) {
		if ((unsigned char)*r < 0x20 && *r != '\t')
			return EBADMSG;
	}
	msg->scode = (uint16_t)code;
	msg->reason = pl_make(p, (size_t)(e - p));
	return 0;
}

/*
 * Request-Line = Method SP Request-URI SP SIP-Version. A line that is a
 * request but breaks the grammar (extra SPs, LWS in the URI, trailing SP)
 * still decodes as a partial message so that the UAS can answer 400.
 */
static int request_line(struct sip_msg *msg, const char *p, const char *e)
{
	const char *m = p, *u, *ue, *v, *ve;

	p = msg_token_end(p, e);
	if (p == m || p == e || *p != ' ')
		return EBADMSG;
	msg->req = true;
	msg->method = pl_make(m, (size_t)(p - m));
	msg->mid = sip_method_lookup(msg->method);

	u = p + 1;
	ue = u;
	while (ue < e && *ue != ' ')
		ue++;
	v = ue < e ? ue + 1 : e;
	if (ue > u && v < e && version_ok(v, e) && ue < e) {
		msg->version = pl_make(v, (size_t)(e - v));
		msg->ruri_pl = pl_make(u, (size_t)(ue - u));
		if (msg_uri_decode(&msg->ruri, msg->ruri_pl))
			set_bad(msg, "Bad Request-URI");
		return 0;
	}

	/* loose reading: the last word is the version, the URI is in between */
	ve = e;
	while (ve > u && CC(ve[-1], CC_WSP))
		ve--;
	v = ve;
	while (v > u && !CC(v[-1], CC_WSP))
		v--;
	if (v == u || !version_ok(v, ve))
		return EBADMSG;
	ue = v;
	while (ue > u && CC(ue[-1], CC_WSP))
		ue--;
	while (u < ue && CC(*u, CC_WSP))
		u++;
	if (ue == u)
		return EBADMSG;
	msg->version = pl_make(v, (size_t)(ve - v));
	msg->ruri_pl = pl_make(u, (size_t)(ue - u));
	if (memchr(u, ' ', (size_t)(ue - u)) || memchr(u, '\t', (size_t)(ue - u)))
		set_bad(msg, "Bad Request-URI");
	else if (msg_uri_decode(&msg->ruri, msg->ruri_pl))
		set_bad(msg, "Bad Request-URI");
	set_bad(msg, "Malformed Request-Line");
	return 0;
}

static int start_line(struct sip_msg *msg, const char **pp, const char *e)
{
	const char *p = *pp, *nl = memchr(p, '\n', (size_t)(e - p)), *le;
	int err;

	if (!nl)
		return EBADMSG;
	le = nl;
	if (le > p && le[-1] == '\r')
		le--;
	if (le - p >= 4 && msg_lceq(p, "sip/", 4))
		err = status_line(msg, p, le);
	else
		err = request_line(msg, p, le);
	if (!err)
		*pp = nl + 1;
	return err;
}

static int add_hdr(struct sip_msg *msg, int16_t *last, struct pl name, struct pl val)
{
	struct sip_hdr *h;
	enum sip_hdr_id id;

	if (msg->nhdr >= SIP_MAX_HDRS)
		return E2BIG;
	id = sip_hdr_lookup(name);
	h = &msg->hdr[msg->nhdr];
	h->name = name;
	h->val = val;
	h->id = (uint16_t)id;
	h->next = -1;
	if (id != SIP_HDR_OTHER) {
		if (msg->first[id] < 0)
			msg->first[id] = (int16_t)msg->nhdr;
		else
			msg->hdr[last[id]].next = (int16_t)msg->nhdr;
		last[id] = (int16_t)msg->nhdr;
	}
	msg->nhdr++;
	return 0;
}

static int headers(struct sip_msg *msg, const char **pp, const char *e, bool stream,
                   const struct limits *lim)
{
	int16_t last[SIP_HDR_COUNT];
	const char *p = *pp, *start = p;

	for (;;) {
		struct pl name, val;
		const char *next = NULL;
		int r = line_scan(p, e, !stream, &name, &val, &next);
		int err;

		if (r == -2)
			return EBADMSG;
		if (r == 0) {
			*pp = next ? next : e;
			break;
		}
		if ((size_t)(next - start) > lim->hdr) {
			if (stream)
				return E2BIG; /* framing bounds a stream's header section */
			/* A datagram: what was indexed so far may answer it (513). */
			set_bad(msg, msg_too_large);
			*pp = e;
			break;
		}
		if (r < 0) {
			set_bad(msg, "Malformed Header Line");
			p = next;
			continue;
		}
		err = add_hdr(msg, last, name, val);
		if (err == E2BIG)
			set_bad(msg, msg_too_large); /* the line is not indexed; framing holds */
		else if (err)
			return err;
		p = next;
	}
	return 0;
}

/* Call-ID = word [ "@" word ] (RFC 3261 §25.1) */
static bool callid_ok(struct pl v)
{
	bool at = false;

	if (!v.l)
		return false;
	for (size_t i = 0; i < v.l; i++) {
		if (v.p[i] == '@') {
			if (at || i == 0 || i + 1 == v.l)
				return false;
			at = true;
		} else if (!CC(v.p[i], CC_WORD)) {
			return false;
		}
	}
	return true;
}

enum {
	EAGER_VIA = 1,
	EAGER_FROM = 2,
	EAGER_TO = 4,
	EAGER_CALL_ID = 8,
	EAGER_CSEQ = 16,
};

/* Parses the headers everyone needs; returns which of the five
 * transaction-identifying ones decoded (EAGER_* bits). */
static unsigned eager(struct sip_msg *msg)
{
	const struct sip_hdr *h;
	unsigned ok = 0;

	if ((h = sip_msg_hdr(msg, SIP_HDR_VIA))) {
		if (msg_via_decode(&msg->via, h->val, true) == 0)
			ok |= EAGER_VIA;
		else
			set_bad(msg, "Malformed Via");
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_FROM))) {
		if (msg_addr_decode(&msg->from, h->val) == 0 && !msg->from.star)
			ok |= EAGER_FROM;
		else
			set_bad(msg, "Malformed From");
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_TO))) {
		if (msg_addr_decode(&msg->to, h->val) == 0 && !msg->to.star)
			ok |= EAGER_TO;
		else
			set_bad(msg, "Malformed To");
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_CALL_ID))) {
		if (callid_ok(h->val)) {
			msg->callid = h->val;
			ok |= EAGER_CALL_ID;
		} else {
			set_bad(msg, "Malformed Call-ID");
		}
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_CSEQ))) {
		if (sip_cseq_decode(&msg->cseq, h->val) == 0)
			ok |= EAGER_CSEQ;
		else
			set_bad(msg, "Malformed CSeq");
	}
	if ((h = sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS))) {
		if (sip_u32_decode(&msg->maxfwd, h->val) == 0)
			msg->has_maxfwd = true;
		else
			set_bad(msg, "Malformed Max-Forwards");
	}
	return ok;
}

/* Content-Length: every line must agree (RFC 4475 §3.3.9: several differing
 * values make the message unframeable). */
static int clen(const struct sip_msg *msg, uint32_t *out)
{
	bool seen = false;
	uint32_t v = 0;

	for (int i = msg->first[SIP_HDR_CONTENT_LENGTH]; i >= 0; i = msg->hdr[i].next) {
		uint32_t x;
		if (sip_u32_decode(&x, msg->hdr[i].val))
			return EBADMSG;
		if (seen && x != v)
			return EBADMSG;
		v = x;
		seen = true;
	}
	if (!seen)
		return ENOENT;
	*out = v;
	return 0;
}

static int body(struct sip_msg *msg, const char *p, const char *e, bool stream,
                const struct limits *lim)
{
	size_t avail = (size_t)(e - p);
	uint32_t cl;
	int err = clen(msg, &cl);

	if (err == EBADMSG) {
		set_bad(msg, "Bad Content-Length");
		msg->body = pl_make(p, 0);
		return 0;
	}
	if (err == ENOENT) {
		if (stream)
			set_bad(msg, "Missing Content-Length");
		if (avail > lim->body) {
			set_bad(msg, msg_too_large);
			avail = 0;
		}
		msg->body = pl_make(p, stream ? 0 : avail);
		return 0;
	}
	msg->clen = cl;
	msg->has_clen = true;
	if (cl > lim->body) {
		if (stream)
			return E2BIG;
		set_bad(msg, msg_too_large);
		msg->body = pl_make(p, 0);
		return 0;
	}
	if (cl > avail) {
		if (stream)
			return EBADMSG;
		set_bad(msg, "Content-Length Exceeds Message");
		msg->body = pl_make(p, avail);
		return 0;
	}
	/* a shorter Content-Length ends the message; trailing octets are ignored */
	msg->body = pl_make(p, cl);
	return 0;
}

int sip_msg_decode_ex(struct sip_msg **msgp, struct sip_msg **partialp, const char *buf, size_t len,
                      bool stream, void *bufref, const struct sip_limits *lim)
{
	struct limits l = limits_of(lim);
	const char *p = buf, *e = buf + len;
	struct sip_msg *msg;
	unsigned ok;
	int err;

	if (partialp)
		*partialp = NULL;
	if (!msgp || !buf || !len)
		return EINVAL;
	if (len > l.msg)
		return E2BIG;
	/* Not zeroed as a whole: hdr[] (most of the struct) is only read below
	 * nhdr, through first[]/next; every other field starts zeroed. */
	msg = mem_alloc(sizeof(*msg), msg_destructor);
	if (!msg)
		return ENOMEM;
	memset(msg, 0, offsetof(struct sip_msg, hdr));
	memset(&msg->nhdr, 0, sizeof(*msg) - offsetof(struct sip_msg, nhdr));
	memset(msg->first, 0xff, sizeof(msg->first));
	msg->buf = buf;
	msg->len = len;

	err = start_line(msg, &p, e);
	if (err)
		goto out;
	err = headers(msg, &p, e, stream, &l);
	if (err)
		goto out;
	err = body(msg, p, e, stream, &l);
	if (err)
		goto out;
	/* A 400 can be routed as long as the top Via decoded; the client matches
	 * it by branch and CSeq (§17.1.3). Malformed From, To, Call-ID or CSeq
	 * lines are copied as they came (RFC 4475 §3.1.2.4, 3.1.2.6, 3.1.2.14,
	 * 3.1.2.15 want a 400 for those); a request lacking one is dropped. */
	ok = eager(msg);
	msg->answerable = (ok & EAGER_VIA) && msg->first[SIP_HDR_FROM] >= 0 &&
	                  msg->first[SIP_HDR_TO] >= 0 && msg->first[SIP_HDR_CALL_ID] >= 0 &&
	                  msg->first[SIP_HDR_CSEQ] >= 0;
	if (msg->bad)
		err = msg->bad == msg_too_large ? E2BIG : EBADMSG;

out:
	if ((err == EBADMSG || err == E2BIG) && msg->req && msg->bad && partialp) {
		msg->bufref = mem_ref(bufref);
		*partialp = msg;
		return err;
	}
	if (err) {
		mem_deref(msg);
		return err;
	}
	msg->bufref = mem_ref(bufref);
	*msgp = msg;
	return 0;
}

int sip_msg_decode(struct sip_msg **msgp, const char *buf, size_t len, bool stream, void *bufref,
                   const struct sip_limits *lim)
{
	return sip_msg_decode_ex(msgp, NULL, buf, len, stream, bufref, lim);
}

/* The start line of a stream message must at least mention the version. */
static bool start_line_plausible(const char *p, const char *le)
{
	if (le - p >= 4 && msg_lceq(p, "sip/", 4))
		return true;
	return le - p >= 8 && memmem(p, (size_t)(le - p), " SIP/", 5) != NULL;
}

int sip_msg_frame(const char *buf, size_t len, const struct sip_limits *lim, size_t *skip,
                  size_t *msglen)
{
	struct limits l = limits_of(lim);
	const char *p = buf, *e = buf + len, *start, *nl;
	bool have_cl = false;
	uint32_t cl = 0;
	size_t hlen;

	while (p < e && (*p == '\r' || *p == '\n'))
		p++;
	if (skip)
		*skip = (size_t)(p - buf);
	if (p == e)
		return ENODATA;
	start = p;
	nl = memchr(p, '\n', (size_t)(e - p));
	if (!nl)
		return (size_t)(e - p) > l.hdr ? E2BIG : ENODATA;
	if (!start_line_plausible(p, nl > p && nl[-1] == '\r' ? nl - 1 : nl))
		return EBADMSG;
	p = nl + 1;
	for (;;) {
		struct pl name, val;
		const char *next = NULL;
		int r = line_scan(p, e, false, &name, &val, &next);

		if (r == -2)
			return (size_t)(e - start) > l.hdr ? E2BIG : ENODATA;
		if (r == -1)
			return EBADMSG;
		if ((size_t)(next - start) > l.hdr)
			return E2BIG;
		p = next;
		if (r == 0)
			break;
		if (sip_hdr_lookup(name) == SIP_HDR_CONTENT_LENGTH) {
			uint32_t x;
			if (sip_u32_decode(&x, val) || (have_cl && x != cl))
				return EBADMSG;
			cl = x;
			have_cl = true;
		}
	}
	if (!have_cl)
		return EBADMSG;
	if (cl > l.body)
		return E2BIG;
	hlen = (size_t)(p - start);
	if (hlen + cl > l.msg)
		return E2BIG;
	if ((size_t)(e - start) < hlen + cl)
		return ENODATA;
	*msglen = hlen + cl;
	return 0;
}
