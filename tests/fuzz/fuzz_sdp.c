/*
 * libFuzzer target for media/sdp: parse; run every attribute decoder on what
 * was parsed; build, re-parse and rebuild (the two builds must be identical);
 * answer the input as an offer (the answer must parse and have one m-line per
 * offered one, only the accepted one with a port) under several policies, then
 * re-offer on hold (same m-lines); apply the input as the answer to our offer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/sdp/sdp.h"

static struct sdp_session s1, s2, s3;
static char b1[1 << 16], b2[1 << 16], ans[1 << 14];

static void decoders(const struct sdp_session *s)
{
	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];
		struct sdp_rtpmap r;
		struct sdp_events ev;
		struct sdp_crypto c;
		struct sdp_rtcp rtcp;
		struct pl v;

		for (unsigned k = 0; k < m->nfmt; k++) {
			sdp_media_rtpmap(m, m->fmt[k], &r);
			if (sdp_media_fmtp(m, m->fmt[k], &v))
				sdp_events_decode(v, &ev);
		}
		for (unsigned k = 0; sdp_attr_next(m->attr, m->nattr, "crypto", &k, &v);) {
			if (pl_isset(v))
				sdp_crypto_decode(v, &c);
		}
		if (sdp_media_attr(m, "rtcp", &v) && pl_isset(v))
			sdp_rtcp_decode(v, &rtcp);
		if (sdp_media_dir(s, m) > SDP_SENDRECV)
			abort();
		sdp_media_ptime(s, m, "ptime");
		sdp_media_ptime(s, m, "maxptime");
	}
}

static void roundtrip(size_t size)
{
	size_t l1, l2;
	int err = sdp_build(b1, sizeof(b1), &s1, &l1);

	if (err) {
		if (err == ENOSPC && size > sizeof(b1) / 4)
			return;
		abort();
	}
	if (sdp_parse(&s2, pl_make(b1, l1)) || sdp_build(b2, sizeof(b2), &s2, &l2))
		abort();
	if (l1 != l2 || memcmp(b1, b2, l1) || s2.nmedia != s1.nmedia)
		abort();
}

static void answer(enum sdp_srtp policy, const char *laddr)
{
	struct sdp_prefs p = {
	    .codec = {SDP_CODEC_PCMA, SDP_CODEC_PCMU, SDP_CODEC_G722, SDP_CODEC_TEL_EVENT},
	    .ncodec = 4,
	    .srtp = policy,
	    .suite = {SDP_SUITE_AES_CM_128_HMAC_SHA1_80, SDP_SUITE_AES_CM_128_HMAC_SHA1_32,
	              SDP_SUITE_AEAD_AES_128_GCM},
	    .nsuite = 3,
	};
	struct sdp_neg n;
	struct sa a;
	size_t len;
	int err;

	if (sa_set_str(&a, laddr, 40000))
		abort();
	sdp_neg_init(&n, &p, &a, NULL, 1);
	err = sdp_neg_answer(&n, &s1, ans, sizeof(ans), &len);
	if (err == 0) {
		const struct sdp_result *r = sdp_neg_result(&n);
		if (sdp_parse(&s3, pl_make(ans, len)) || s3.nmedia != s1.nmedia || !r->active ||
		    r->mline >= s3.nmedia || s3.media[r->mline].port != 40000)
			abort();
		for (unsigned i = 0; i < s3.nmedia; i++) {
			if (i != r->mline && s3.media[i].port)
				abort();
		}
		/* our re-offer keeps the session's m-lines (RFC 3264 §8) */
		sdp_neg_hold(&n, true);
		if (sdp_neg_offer(&n, ans, sizeof(ans), &len) == 0 &&
		    (sdp_parse(&s3, pl_make(ans, len)) || s3.nmedia != s1.nmedia ||
		     sdp_media_dir(&s3, &s3.media[r->mline]) & SDP_RECVONLY))
			abort();
	} else if (err != EMEDIUMTYPE && err != ENOSPC && err != E2BIG) {
		abort();
	}
	/* the input as the answer to our offer */
	sdp_neg_init(&n, &p, &a, NULL, 1);
	if (sdp_neg_offer(&n, ans, sizeof(ans), &len))
		abort();
	err = sdp_neg_process_answer(&n, &s1);
	if (err && err != EBADMSG && err != EMEDIUMTYPE)
		abort();
	if (n.state == SDP_NEG_OFFER_SENT)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sdp_parse(&s1, pl_make((const char *)data, size)))
		return 0;
	decoders(&s1);
	answer(SDP_SRTP_OPTIONAL, "192.0.2.10");
	answer(SDP_SRTP_MANDATORY, "2001:db8::10");
	answer(SDP_SRTP_OFF, "192.0.2.10");
	roundtrip(size);
	return 0;
}
