/*
 * libFuzzer target for media/rtp (and the jitter buffer behind it): the input
 * is parsed as one RTP packet and as one RTCP compound, checking that every
 * slice stays inside the input; then it is cut into length-prefixed chunks
 * ([len][bytes]...) fed in order to a session (RTP or RTCP by RFC 5761
 * demultiplexing) and, when accepted, to a jitter buffer pulled per chunk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/jb/jb.h"
#include "media/rtp/rtp.h"

static struct rtp_sess sess;
static struct jb jb;

static void inside(const uint8_t *p, size_t l, const uint8_t *d, size_t size)
{
	if (l && (p < d || p + l > d + size))
		abort();
}

static void one_rtp(const uint8_t *d, size_t size)
{
	struct rtp_hdr h;

	if (rtp_parse(&h, d, size))
		return;
	if (h.hdr_len + h.payload_len + h.pad_len != size)
		abort();
	inside(h.payload, h.payload_len, d, size);
	inside(h.ext_data, h.ext_len, d, size);
	inside(h.csrc, 4u * h.cc, d, size);
	for (unsigned i = 0; i < h.cc; i++)
		(void)rtp_hdr_csrc(&h, i);
}

static void one_rtcp(const uint8_t *d, size_t size)
{
	struct rtcp_iter it;
	struct rtcp_pkt k;
	struct rtcp_rb rb;
	struct pl cname;
	int err;
	unsigned n = 0;

	rtcp_iter_init(&it, d, size);
	while ((err = rtcp_iter_next(&it, &k)) == 0) {
		n++;
		inside(k.body, k.len, d, size);
		inside(k.rb, 24u * k.nrb, d, size);
		inside((const uint8_t *)k.reason.p, k.reason.l, d, size);
		for (unsigned i = 0; i < k.nrb; i++)
			if (rtcp_rb_get(&k, i, &rb))
				abort();
		if (rtcp_sdes_cname(&k, &cname) == 0)
			inside((const uint8_t *)cname.p, cname.l, d, size);
	}
	if ((rtcp_validate(d, size) == 0) != (err == ENOENT && n > 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_sess_cfg cfg = {.clock_rate = 8000,
	                           .timeout_ms = 100,
	                           .latch = true,
	                           .latch_count = 2,
	                           .cname = "fuzz"};
	struct jb_cfg jc = {.min_ms = 20, .max_ms = 100};
	struct sa from[2];
	uint64_t now = 1000000;
	size_t off = 0;
	unsigned i = 0;
	static uint8_t rx_buf[RTP_BUF_SIZE], rtcp_buf[RTP_BUF_SIZE];

	jc.whole_frames = size && (data[0] & 1); /* both jitter buffer modes */
	if (size && (data[0] & 2))
		jc.max_ms = 1080; /* the largest buffer */
	one_rtp(data, size);
	one_rtcp(data, size);
	if (rtp_sess_init(&sess, &cfg, NULL, now) || jb_init(&jb, &jc))
		abort();
	sa_set_str(&from[0], "192.0.2.1", 4000);
	sa_set_str(&from[1], "192.0.2.2", 4000);
	while (off < size) {
		size_t l = data[off++];
		struct rtp_hdr h;
		const uint8_t *p;
		size_t pl;
		int16_t pcm[JB_SAMPLES];

		if (l > size - off)
			l = size - off;
		memcpy(rx_buf, data + off, l); /* as the receive path does */
		now += 7000;
		if (rtp_is_rtcp(rx_buf, l)) {
			(void)rtp_sess_rtcp_rx(&sess, rx_buf, l, now);
		} else if (rtp_sess_rx(&sess, rx_buf, l, &from[(i >> 3) & 1], now, &h) ==
		           RTP_RX_OK) {
			inside(h.payload, h.payload_len, rx_buf, l);
			(void)jb_put(&jb, h.ssrc, h.seq, h.ts, h.payload, h.payload_len);
		}
		if (jb_get(&jb, &p, &pl) == JB_FRAME && pl > JB_PAYLOAD_MAX)
			abort();
		if (jb_stats(&jb)->level > JB_SLOTS)
			abort();
		(void)pcm;
		(void)rtp_sess_events(&sess, now);
		off += l;
		i++;
	}
	if (rtp_sess_rtcp_build(&sess, rtcp_buf, sizeof(rtcp_buf), true, now, &off) ||
	    rtcp_validate(rtcp_buf, off))
		abort();
	return 0;
}
