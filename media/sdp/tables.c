/*
 * The codecs and SRTP suites we negotiate, base64 for SDES keys, and the
 * master keys themselves.
 */
#include <string.h>

#include <openssl/rand.h>

#include "core/err.h"
#include "media/sdp/sdp_int.h"

const struct sdp_codec_info sdp_codec_tab[SDP_CODEC_COUNT] = {
    [SDP_CODEC_PCMA] = {"PCMA", 8000, 8, 8},
    [SDP_CODEC_PCMU] = {"PCMU", 8000, 0, 0},
    /* RFC 3551 §4.5.2: G.722 samples at 16 kHz but its RTP clock runs at 8 kHz */
    [SDP_CODEC_G722] = {"G722", 8000, 9, 9},
    [SDP_CODEC_TEL_EVENT] = {"telephone-event", 8000, -1, 101},
};

static const struct {
	const char *name;
	size_t keylen; /* master key + master salt */
} suite_tab[SDP_SUITE_COUNT] = {
    [SDP_SUITE_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 30},
    [SDP_SUITE_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 30},
    /* RFC 7714 §12: 128-bit key, 96-bit salt */
    [SDP_SUITE_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 28},
};

const char *sdp_codec_name(enum sdp_codec c)
{
	return c < SDP_CODEC_COUNT ? sdp_codec_tab[c].name : "?";
}

const char *sdp_suite_name(enum sdp_suite s)
{
	return s < SDP_SUITE_COUNT ? suite_tab[s].name : "?";
}

size_t sdp_suite_keylen(enum sdp_suite s)
{
	return s < SDP_SUITE_COUNT ? suite_tab[s].keylen : 0;
}

bool sdp_codec_match(const struct sdp_rtpmap *r, enum sdp_codec *c)
{
	for (unsigned i = 0; i < SDP_CODEC_COUNT; i++) {
		if (pl_caseeq_str(r->encoding, sdp_codec_tab[i].name) &&
		    r->clock == sdp_codec_tab[i].clock && r->channels == 1) {
			*c = (enum sdp_codec)i;
			return true;
		}
	}
	return false;
}

bool sdp_suite_lookup(struct pl name, enum sdp_suite *s)
{
	for (unsigned i = 0; i < SDP_SUITE_COUNT; i++) {
		if (pl_eq(name, pl_make(suite_tab[i].name, strlen(suite_tab[i].name)))) {
			*s = (enum sdp_suite)i;
			return true;
		}
	}
	return false;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sdp_b64_encode(const uint8_t *in, size_t n, char *out, size_t size)
{
	size_t o = 0;

	if (size < (n + 2) / 3 * 4 + 1)
		return 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_val(char c)
{
	const char *x = c ? strchr(b64, c) : NULL;
	return x ? (int)(x - b64) : -1;
}

int sdp_b64_decode(struct pl in, uint8_t *out, size_t size, size_t *lenp)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0, l = in.l;

	while (l && in.p[l - 1] == '=' && in.l - l < 2)
		l--;
	if (l % 4 == 1 || (l != in.l && (in.l % 4)))
		return EBADMSG;
	for (size_t i = 0; i < l; i++) {
		int v = b64_val(in.p[i]);
		if (v < 0)
			return EBADMSG;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= size)
				return ENOSPC;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*lenp = o;
	return 0;
}

int sdp_keys_make(struct sdp_neg *n)
{
	if (n->have_keys)
		return 0;
	for (unsigned i = 0; i < SDP_SUITE_COUNT; i++) {
		if (RAND_bytes(n->key[i], (int)suite_tab[i].keylen) != 1)
			return EIO;
	}
	n->have_keys = true;
	return 0;
}

void sdp_wr_crypto(struct sdp_wr *w, const struct sdp_neg *n, uint32_t tag, enum sdp_suite s)
{
	char key[64];

	sdp_b64_encode(n->key[s], suite_tab[s].keylen, key, sizeof(key));
	sdp_wr_printf(w, "a=crypto:%u %s inline:%s\r\n", tag, suite_tab[s].name, key);
}

uint16_t sdp_neg_status(int err)
{
	switch (err) {
	case 0:
		return 200;
	case EMEDIUMTYPE:
	case E2BIG:
		return 488;
	case EBADMSG:
		return 400;
	case EPROTO:
		return 491;
	default:
		return 500;
	}
}
