/* RTP and RTCP wire formats (RFC 3550 sections 5 and 6): zero-copy parsing, encoding. */
#include "media/rtp/rtp.h"

#include <string.h>

#include "core/err.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int rtp_parse(struct rtp_hdr *h, const uint8_t *buf, size_t len)
{
	struct rtp_hdr r;
	size_t off, end = len;

	if (!buf || len < RTP_HDR_SIZE || (buf[0] >> 6) != RTP_VERSION)
		return EBADMSG;
	memset(&r, 0, sizeof(r));
	r.padding = buf[0] & 0x20;
	r.ext = buf[0] & 0x10;
	r.cc = buf[0] & 0x0f;
	r.marker = buf[1] & 0x80;
	r.pt = buf[1] & 0x7f;
	r.seq = rd16(buf + 2);
	r.ts = rd32(buf + 4);
	r.ssrc = rd32(buf + 8);
	off = RTP_HDR_SIZE + 4u * r.cc;
	if (off > len)
		return EBADMSG;
	r.csrc = r.cc ? buf + RTP_HDR_SIZE : NULL;
	if (r.ext) {
		if (off + 4 > len)
			return EBADMSG;
		r.ext_profile = rd16(buf + off);
		r.ext_len = 4u * rd16(buf + off + 2);
		off += 4;
		if (r.ext_len > len - off)
			return EBADMSG;
		r.ext_data = buf + off;
		off += r.ext_len;
	}
	if (r.padding) {
		/* The count includes itself and may not eat into the header. */
		r.pad_len = buf[len - 1];
		if (r.pad_len == 0 || r.pad_len > len - off)
			return EBADMSG;
		end = len - r.pad_len;
	}
	r.hdr_len = off;
	r.payload = buf + off;
	r.payload_len = end - off;
	*h = r;
	return 0;
}

uint32_t rtp_hdr_csrc(const struct rtp_hdr *h, unsigned i)
{
	return i < h->cc && h->csrc ? rd32(h->csrc + 4u * i) : 0;
}

int rtp_hdr_encode(uint8_t *buf, size_t size, const struct rtp_hdr *h, size_t *lenp)
{
	size_t need = RTP_HDR_SIZE + 4u * h->cc;

	if (h->cc > 15 || h->pt > 127 || (h->cc && !h->csrc))
		return EINVAL;
	if (h->ext && (h->ext_len % 4 || h->ext_len / 4 > 0xffff || (h->ext_len && !h->ext_data)))
		return EINVAL;
	if (h->ext)
		need += 4 + h->ext_len;
	if (size < need)
		return ENOSPC;
	buf[0] = (uint8_t)((RTP_VERSION << 6) | (h->ext ? 0x10 : 0) | h->cc);
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	wr16(buf + 2, h->seq);
	wr32(buf + 4, h->ts);
	wr32(buf + 8, h->ssrc);
	if (h->cc)
		memmove(buf + RTP_HDR_SIZE, h->csrc, 4u * h->cc);
	if (h->ext) {
		uint8_t *e = buf + RTP_HDR_SIZE + 4u * h->cc;
		wr16(e, h->ext_profile);
		wr16(e + 2, (uint16_t)(h->ext_len / 4));
		if (h->ext_len)
			memmove(e + 4, h->ext_data, h->ext_len);
	}
	*lenp = need;
	return 0;
}

bool rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	return len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

/* ---- RTCP ---------------------------------------------------------------- */

void rtcp_iter_init(struct rtcp_iter *it, const uint8_t *buf, size_t len)
{
	it->p = buf;
	it->left = buf ? len : 0;
}

/* SDES: chunks of SSRC + items ending in a null item, each padded to 32 bits. */
static int sdes_check(const uint8_t *b, size_t len, unsigned count)
{
	size_t off = 0;

	for (unsigned c = 0; c < count; c++) {
		if (len - off < 4)
			return EBADMSG;
		off += 4;
		for (;;) {
			if (off >= len)
				return EBADMSG;
			if (b[off] == RTCP_SDES_END)
				break;
			if (len - off < 2 || (size_t)b[off + 1] > len - off - 2)
				return EBADMSG;
			off += 2u + b[off + 1];
		}
		off = (off + 4) & ~(size_t)3; /* null item plus padding to a word */
		if (off > len)
			return EBADMSG;
	}
	return 0;
}

static int body_parse(struct rtcp_pkt *k)
{
	const uint8_t *b = k->body;
	size_t need;

	switch (k->pt) {
	case RTCP_SR:
	case RTCP_RR:
		need = (k->pt == RTCP_SR ? 24u : 4u) + 24u * k->count;
		if (k->len < need)
			return EBADMSG;
		k->ssrc = rd32(b);
		if (k->pt == RTCP_SR) {
			k->sr.ntp = ((uint64_t)rd32(b + 4) << 32) | rd32(b + 8);
			k->sr.rtp_ts = rd32(b + 12);
			k->sr.pkts = rd32(b + 16);
			k->sr.octets = rd32(b + 20);
		}
		k->rb = k->count ? b + need - 24u * k->count : NULL;
		k->nrb = k->count;
		return 0;
	case RTCP_SDES:
		if (k->count && k->len >= 4)
			k->ssrc = rd32(b);
		return sdes_check(b, k->len, k->count);
	case RTCP_BYE:
		need = 4u * k->count;
		if (k->len < need)
			return EBADMSG;
		if (k->count)
			k->ssrc = rd32(b);
		if (k->len > need) {
			size_t rl = b[need];
			if (rl > k->len - need - 1)
				return EBADMSG;
			k->reason = pl_make((const char *)b + need + 1, rl);
		}
		return 0;
	case RTCP_APP:
		if (k->len < 8)
			return EBADMSG;
		k->ssrc = rd32(b);
		return 0;
	default:
		/* RTPFB, PSFB, XR and others: framed correctly is all we ask. */
		if (k->len >= 4)
			k->ssrc = rd32(b);
		return 0;
	}
}

int rtcp_iter_next(struct rtcp_iter *it, struct rtcp_pkt *pkt)
{
	struct rtcp_pkt k;
	size_t plen;
	const uint8_t *p = it->p;

	if (!it->left)
		return ENOENT;
	if (it->left < RTCP_HDR_SIZE || (p[0] >> 6) != RTP_VERSION)
		goto bad;
	plen = 4u * ((size_t)rd16(p + 2) + 1);
	if (plen > it->left)
		goto bad;
	memset(&k, 0, sizeof(k));
	k.count = p[0] & 0x1f;
	k.pt = p[1];
	k.body = p + RTCP_HDR_SIZE;
	k.len = plen - RTCP_HDR_SIZE;
	if (p[0] & 0x20) {
		/* Padding only in the last packet of the compound (A.2). */
		uint8_t pad = p[plen - 1];
		if (plen != it->left || pad == 0 || pad > k.len)
			goto bad;
		k.len -= pad;
	}
	if (body_parse(&k))
		goto bad;
	it->p += plen;
	it->left -= plen;
	*pkt = k;
	return 0;
bad:
	it->left = 0;
	return EBADMSG;
}

int rtcp_validate(const uint8_t *buf, size_t len)
{
	struct rtcp_iter it;
	struct rtcp_pkt k;
	int err;
	unsigned n = 0;

	rtcp_iter_init(&it, buf, len);
	while ((err = rtcp_iter_next(&it, &k)) == 0)
		n++;
	return err == ENOENT && n ? 0 : EBADMSG;
}

int rtcp_rb_get(const struct rtcp_pkt *p, unsigned i, struct rtcp_rb *rb)
{
	const uint8_t *b;
	uint32_t lost;

	if (i >= p->nrb || !p->rb)
		return EINVAL;
	b = p->rb + 24u * i;
	rb->ssrc = rd32(b);
	rb->fraction = b[4];
	lost = ((uint32_t)b[5] << 16) | ((uint32_t)b[6] << 8) | b[7];
	rb->lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
	rb->ext_max = rd32(b + 8);
	rb->jitter = rd32(b + 12);
	rb->lsr = rd32(b + 16);
	rb->dlsr = rd32(b + 20);
	return 0;
}

int rtcp_sdes_cname(const struct rtcp_pkt *p, struct pl *cname)
{
	size_t off = 4;

	if (p->pt != RTCP_SDES || !p->count || p->len < 4)
		return ENOENT;
	/* rtcp_iter_next() checked the item framing of every chunk. */
	while (off + 2 <= p->len && p->body[off] != RTCP_SDES_END) {
		if (p->body[off] == RTCP_SDES_CNAME) {
			*cname = pl_make((const char *)p->body + off + 2, p->body[off + 1]);
			return 0;
		}
		off += 2u + p->body[off + 1];
	}
	return ENOENT;
}

static void hdr_wr(uint8_t *b, unsigned count, uint8_t pt, size_t len)
{
	b[0] = (uint8_t)((RTP_VERSION << 6) | count);
	b[1] = pt;
	wr16(b + 2, (uint16_t)(len / 4 - 1));
}

static void rb_wr(uint8_t *b, const struct rtcp_rb *rb)
{
	uint32_t lost = (uint32_t)rb->lost & 0xffffff;

	wr32(b, rb->ssrc);
	b[4] = rb->fraction;
	b[5] = (uint8_t)(lost >> 16);
	b[6] = (uint8_t)(lost >> 8);
	b[7] = (uint8_t)lost;
	wr32(b + 8, rb->ext_max);
	wr32(b + 12, rb->jitter);
	wr32(b + 16, rb->lsr);
	wr32(b + 20, rb->dlsr);
}

int rtcp_encode_sr(uint8_t *buf, size_t size, size_t *lenp, uint32_t ssrc,
                   const struct rtcp_sr_info *sr, const struct rtcp_rb *rb, unsigned nrb)
{
	size_t len = 28 + 24u * nrb;

	if (nrb > 31)
		return EINVAL;
	if (size < len)
		return ENOSPC;
	hdr_wr(buf, nrb, RTCP_SR, len);
	wr32(buf + 4, ssrc);
	wr32(buf + 8, (uint32_t)(sr->ntp >> 32));
	wr32(buf + 12, (uint32_t)sr->ntp);
	wr32(buf + 16, sr->rtp_ts);
	wr32(buf + 20, sr->pkts);
	wr32(buf + 24, sr->octets);
	for (unsigned i = 0; i < nrb; i++)
		rb_wr(buf + 28 + 24u * i, &rb[i]);
	*lenp = len;
	return 0;
}

int rtcp_encode_rr(uint8_t *buf, size_t size, size_t *lenp, uint32_t ssrc, const struct rtcp_rb *rb,
                   unsigned nrb)
{
	size_t len = 8 + 24u * nrb;

	if (nrb > 31)
		return EINVAL;
	if (size < len)
		return ENOSPC;
	hdr_wr(buf, nrb, RTCP_RR, len);
	wr32(buf + 4, ssrc);
	for (unsigned i = 0; i < nrb; i++)
		rb_wr(buf + 8 + 24u * i, &rb[i]);
	*lenp = len;
	return 0;
}

int rtcp_encode_sdes_cname(uint8_t *buf, size_t size, size_t *lenp, uint32_t ssrc,
                           const char *cname)
{
	size_t cl = strnlen(cname, 255);
	/* header, SSRC, CNAME item, at least one null byte, padded to a word */
	size_t len = (4 + 4 + 2 + cl + 1 + 3) & ~(size_t)3;

	if (size < len)
		return ENOSPC;
	memset(buf, 0, len);
	hdr_wr(buf, 1, RTCP_SDES, len);
	wr32(buf + 4, ssrc);
	buf[8] = RTCP_SDES_CNAME;
	buf[9] = (uint8_t)cl;
	memcpy(buf + 10, cname, cl);
	*lenp = len;
	return 0;
}

int rtcp_encode_bye(uint8_t *buf, size_t size, size_t *lenp, const uint32_t *ssrc, unsigned n,
                    const char *reason)
{
	size_t rl = reason ? strnlen(reason, 255) : 0;
	size_t len = 4 + 4u * n + (rl ? (1 + rl + 3) & ~(size_t)3 : 0);

	if (n > 31)
		return EINVAL;
	if (size < len)
		return ENOSPC;
	memset(buf, 0, len);
	hdr_wr(buf, n, RTCP_BYE, len);
	for (unsigned i = 0; i < n; i++)
		wr32(buf + 4 + 4u * i, ssrc[i]);
	if (rl) {
		buf[4 + 4u * n] = (uint8_t)rl;
		memcpy(buf + 5 + 4u * n, reason, rl);
	}
	*lenp = len;
	return 0;
}

uint64_t rtcp_ntp_from_us(uint64_t wall_us)
{
	uint64_t sec = wall_us / 1000000u + 2208988800u;
	uint64_t frac = ((wall_us % 1000000u) << 32) / 1000000u;

	return (sec << 32) | frac;
}
