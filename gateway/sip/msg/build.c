/*
 * Message building: a growable buffer (struct sip_mb) and responses built
 * from a request (RFC 3261 §8.2.6).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "sip/msg/msg.h"

int sip_mb_init(struct sip_mb *mb, size_t hint)
{
	if (!mb)
		return EINVAL;
	memset(mb, 0, sizeof(*mb));
	mb->cap = hint ? hint : 1024;
	mb->buf = mem_zalloc(mb->cap + 1, NULL);
	if (!mb->buf) {
		mb->cap = 0;
		mb->err = ENOMEM;
		return ENOMEM;
	}
	return 0;
}

static bool grow(struct sip_mb *mb, size_t need)
{
	size_t cap = mb->cap ? mb->cap : 256;
	char *nb;

	if (mb->err)
		return false;
	if (need <= mb->cap)
		return true;
	while (cap < need)
		cap *= 2;
	nb = mem_zalloc(cap + 1, NULL);
	if (!nb) {
		mb->err = ENOMEM;
		return false;
	}
	if (mb->len)
		memcpy(nb, mb->buf, mb->len);
	mem_deref(mb->buf);
	mb->buf = nb;
	mb->cap = cap;
	return true;
}

void sip_mb_append(struct sip_mb *mb, const char *s, size_t n)
{
	if (!n || !grow(mb, mb->len + n))
		return;
	memcpy(mb->buf + mb->len, s, n);
	mb->len += n;
	mb->buf[mb->len] = '\0';
}

void sip_mb_pl(struct sip_mb *mb, struct pl pl)
{
	sip_mb_append(mb, pl.p, pl.l);
}

void sip_mb_str(struct sip_mb *mb, const char *s)
{
	if (s)
		sip_mb_append(mb, s, strlen(s));
}

void sip_mb_printf(struct sip_mb *mb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (mb->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(mb->buf ? mb->buf + mb->len : NULL, mb->buf ? mb->cap + 1 - mb->len : 0, fmt,
	              ap);
	va_end(ap);
	if (n < 0) {
		mb->err = EINVAL;
		return;
	}
	if (mb->len + (size_t)n <= mb->cap) {
		mb->len += (size_t)n;
		return;
	}
	if (!grow(mb, mb->len + (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(mb->buf + mb->len, mb->cap + 1 - mb->len, fmt, ap);
	va_end(ap);
	mb->len += (size_t)n;
}

void sip_mb_body(struct sip_mb *mb, const char *ctype, const void *body, size_t n)
{
	if (ctype && n)
		sip_mb_printf(mb, "Content-Type: %s\r\n", ctype);
	sip_mb_printf(mb, "Content-Length: %zu\r\n\r\n", n);
	if (body && n)
		sip_mb_append(mb, body, n);
}

int sip_mb_finish(struct sip_mb *mb)
{
	if (!mb)
		return EINVAL;
	if (!mb->err && !mb->buf)
		return ENOMEM;
	return mb->err;
}

static void copy_lines(struct sip_mb *mb, const struct sip_msg *req, enum sip_hdr_id id)
{
	for (int i = req->first[id]; i >= 0; i = req->hdr[i].next) {
		sip_mb_str(mb, sip_hdr_name(id));
		sip_mb_append(mb, ": ", 2);
		sip_mb_pl(mb, req->hdr[i].val);
		sip_mb_append(mb, "\r\n", 2);
	}
}

/* The "rport" name of a valueless rport parameter in a via-parm, or NULL. */
static const char *via_empty_rport(struct pl params)
{
	struct pl rest = params, name, val;

	while (sip_param_next(&rest, &name, &val))
		if (pl_caseeq_str(name, "rport") && (!val.p || !val.l))
			return name.p + name.l;
	return NULL;
}

/*
 * The topmost Via of a response to a request received from the network
 * (§18.2.1, RFC 3581): received= when sent-by is not the packet's source
 * address (always, when rport was asked for), and rport filled with the
 * source port. Other Via lines are copied as they are.
 */
static void copy_top_via(struct sip_mb *mb, const struct sip_msg *req, const struct sip_hdr *h)
{
	struct pl v = req->via.val, line = h->val;
	const char *end = line.p + line.l, *rp;
	char ip[64];
	struct sa sent_by;
	bool received;

	if (!sa_isset(&req->src) || !v.p || v.p < line.p || v.p + v.l > end) {
		sip_mb_pl(mb, line);
		return;
	}
	rp = req->via.rport ? via_empty_rport(req->via.params) : NULL;
	received = rp || sa_set(&sent_by, req->via.host, 0) || !sa_eq_addr(&sent_by, &req->src);
	sip_mb_append(mb, line.p, (size_t)(v.p - line.p));
	if (rp) {
		sip_mb_append(mb, v.p, (size_t)(rp - v.p));
		sip_mb_printf(mb, "=%u", sa_port(&req->src));
		sip_mb_append(mb, rp, (size_t)(v.p + v.l - rp));
	} else {
		sip_mb_pl(mb, v);
	}
	if (received && !req->via.received.p)
		sip_mb_printf(mb, ";received=%s", sa_ntop(&req->src, ip, sizeof(ip)));
	sip_mb_append(mb, v.p + v.l, (size_t)(end - (v.p + v.l)));
}

static void copy_vias(struct sip_mb *mb, const struct sip_msg *req)
{
	for (int i = req->first[SIP_HDR_VIA]; i >= 0; i = req->hdr[i].next) {
		sip_mb_str(mb, "Via: ");
		if (i == req->first[SIP_HDR_VIA])
			copy_top_via(mb, req, &req->hdr[i]);
		else
			sip_mb_pl(mb, req->hdr[i].val);
		sip_mb_append(mb, "\r\n", 2);
	}
}

static bool dialog_creating(enum sip_method m)
{
	return m == SIP_M_INVITE || m == SIP_M_SUBSCRIBE || m == SIP_M_REFER;
}

int sip_msg_build_response(struct sip_mb *mb, const struct sip_msg *req, uint16_t code,
                           const char *reason, const char *to_tag, bool rr, const char *extra_hdrs,
                           const char *ctype, const void *body, size_t body_len)
{
	const struct sip_hdr *to;

	if (!mb || !req || !req->req || code < 100 || code > 699)
		return EINVAL;
	if (!mb->buf && sip_mb_init(mb, 512 + body_len))
		return ENOMEM;
	sip_mb_printf(mb, "SIP/2.0 %u %s\r\n", code, reason ? reason : sip_reason_phrase(code));
	copy_vias(mb, req);
	copy_lines(mb, req, SIP_HDR_FROM);
	to = sip_msg_hdr(req, SIP_HDR_TO);
	if (to) {
		sip_mb_str(mb, "To: ");
		sip_mb_pl(mb, to->val);
		if (to_tag && *to_tag && code > 100 && !req->to.tag.l)
			sip_mb_printf(mb, ";tag=%s", to_tag);
		sip_mb_append(mb, "\r\n", 2);
	}
	copy_lines(mb, req, SIP_HDR_CALL_ID);
	if (req->first[SIP_HDR_CSEQ] >= 0 && !req->cseq.method.l)
		copy_lines(mb, req, SIP_HDR_CSEQ); /* a 400 for a malformed CSeq */
	else if (req->first[SIP_HDR_CSEQ] >= 0)
		sip_mb_printf(mb, "CSeq: %u %.*s\r\n", req->cseq.num, PL_ARG(req->cseq.method));
	if (rr && code > 100 && code < 300 && dialog_creating(req->mid))
		copy_lines(mb, req, SIP_HDR_RECORD_ROUTE);
	/* §8.2.6.1: a 100 echoes Timestamp */
	if (code == 100)
		copy_lines(mb, req, SIP_HDR_TIMESTAMP);
	sip_mb_str(mb, extra_hdrs);
	sip_mb_body(mb, ctype, body, body ? body_len : 0);
	return sip_mb_finish(mb);
}
