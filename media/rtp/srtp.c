/* SRTP with libsrtp2, SDES keys (RFC 4568) drawn from OpenSSL's CSPRNG. */
#include "media/rtp/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>

#include "core/err.h"

_Static_assert(RTP_SRTP_TRAILER >= SRTP_MAX_TRAILER_LEN, "SRTP trailer room");

static const struct {
	const char *name;
	size_t key_len;
} suites[RTP_SRTP_NSUITES] = {
    [RTP_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 30},
    [RTP_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 30},
    [RTP_SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 28},
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;

static void global_init(void)
{
	init_err = srtp_init() == srtp_err_status_ok ? 0 : EIO;
}

int rtp_srtp_global_init(void)
{
	pthread_once(&init_once, global_init);
	return init_err;
}

int rtp_srtp_suite_parse(struct pl name, enum rtp_srtp_suite *suite)
{
	for (unsigned i = 0; i < RTP_SRTP_NSUITES; i++) {
		if (pl_eq(name, pl_make(suites[i].name, strlen(suites[i].name)))) {
			*suite = (enum rtp_srtp_suite)i;
			return 0;
		}
	}
	return ENOENT;
}

const char *rtp_srtp_suite_name(enum rtp_srtp_suite suite)
{
	return (unsigned)suite < RTP_SRTP_NSUITES ? suites[suite].name : "?";
}

size_t rtp_srtp_key_len(enum rtp_srtp_suite suite)
{
	return (unsigned)suite < RTP_SRTP_NSUITES ? suites[suite].key_len : 0;
}

int rtp_sdes_key_gen(struct rtp_sdes_key *k, enum rtp_srtp_suite suite)
{
	struct rtp_sdes_key n;

	if ((unsigned)suite >= RTP_SRTP_NSUITES)
		return EINVAL;
	memset(&n, 0, sizeof(n));
	n.suite = suite;
	n.len = suites[suite].key_len;
	if (RAND_bytes(n.key, (int)n.len) != 1)
		return EIO;
	*k = n;
	return 0;
}

int rtp_sdes_key_set(struct rtp_sdes_key *k, enum rtp_srtp_suite suite, const uint8_t *key,
                     size_t len)
{
	if ((unsigned)suite >= RTP_SRTP_NSUITES || len != suites[suite].key_len)
		return EINVAL;
	memset(k, 0, sizeof(*k));
	k->suite = suite;
	k->len = len;
	memcpy(k->key, key, len);
	return 0;
}

int rtp_sdes_key_b64(const struct rtp_sdes_key *k, char *buf, size_t n)
{
	if (n < RTP_SRTP_B64_MAX || k->len > RTP_SRTP_KEY_MAX)
		return ENOSPC;
	EVP_EncodeBlock((unsigned char *)buf, k->key, (int)k->len);
	return 0;
}

int rtp_sdes_key_from_b64(struct rtp_sdes_key *k, enum rtp_srtp_suite suite, struct pl b64)
{
	unsigned char in[48], out[48];
	size_t l = b64.l, pad;
	int dl;

	if ((unsigned)suite >= RTP_SRTP_NSUITES)
		return EINVAL;
	while (l && b64.p[l - 1] == '=')
		l--;
	if (!l || l > 44 || l % 4 == 1)
		return EBADMSG;
	memcpy(in, b64.p, l);
	pad = (4 - l % 4) % 4; /* EVP_DecodeBlock wants whole quanta */
	memset(in + l, '=', pad);
	dl = EVP_DecodeBlock(out, in, (int)(l + pad));
	if (dl < 0 || (size_t)dl < pad || (size_t)dl - pad != suites[suite].key_len)
		return EBADMSG;
	k->suite = suite;
	k->len = (size_t)dl - pad;
	memcpy(k->key, out, k->len);
	return 0;
}

static void policy_set(srtp_policy_t *p, enum rtp_srtp_suite suite)
{
	switch (suite) {
	case RTP_SRTP_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		/* RFC 4568 6.2.2: SRTCP keeps the 80-bit tag with the _32 suite. */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case RTP_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;
	default:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	}
}

static int ctx_create(srtp_t *ctx, const struct rtp_sdes_key *k, srtp_ssrc_type_t dir)
{
	srtp_policy_t p;
	unsigned char key[RTP_SRTP_KEY_MAX], mki[RTP_SRTP_MKI_MAX];
	srtp_master_key_t mk, *mks[1] = {&mk};

	memset(&p, 0, sizeof(p));
	policy_set(&p, k->suite);
	memcpy(key, k->key, k->len); /* libsrtp copies keys into its context */
	if (k->mki_len) {
		memset(mki, 0, sizeof(mki));
		for (unsigned i = 0; i < 4 && i < k->mki_len; i++)
			mki[k->mki_len - 1 - i] = (unsigned char)(k->mki >> (8 * i));
		mk.key = key;
		mk.mki_id = mki;
		mk.mki_size = k->mki_len;
		p.keys = mks;
		p.num_master_keys = 1;
	} else {
		p.key = key;
	}
	p.ssrc.type = dir;
	p.window_size = 128;
	p.allow_repeat_tx = 0;
	return srtp_create(ctx, &p) == srtp_err_status_ok ? 0 : EIO;
}

int rtp_srtp_start(struct rtp_srtp *s, const struct rtp_sdes_key *tx, const struct rtp_sdes_key *rx)
{
	srtp_t t = NULL, r = NULL;
	int err;

	if (tx->suite != rx->suite || (unsigned)tx->suite >= RTP_SRTP_NSUITES ||
	    tx->len != suites[tx->suite].key_len || rx->len != tx->len ||
	    tx->mki_len > RTP_SRTP_MKI_MAX || rx->mki_len > RTP_SRTP_MKI_MAX)
		return EINVAL;
	err = rtp_srtp_global_init();
	if (err)
		return err;
	err = ctx_create(&t, tx, ssrc_any_outbound);
	if (err)
		goto out;
	err = ctx_create(&r, rx, ssrc_any_inbound);
	if (err)
		goto out;
	rtp_srtp_stop(s);
	s->tx = t;
	s->rx = r;
	s->suite = tx->suite;
	s->on = true;
	s->tx_mki = tx->mki_len != 0;
	s->rx_mki = rx->mki_len != 0;
	return 0;
out:
	if (t)
		srtp_dealloc(t);
	return err;
}

void rtp_srtp_stop(struct rtp_srtp *s)
{
	if (s->on) {
		srtp_dealloc(s->tx);
		srtp_dealloc(s->rx);
	}
	memset(s, 0, sizeof(*s));
}

static int protect(struct rtp_srtp *s, bool rtcp, uint8_t *buf, size_t *len, size_t size)
{
	int l = (int)*len;
	srtp_err_status_t e;

	if (!s->on)
		return EINVAL;
	if (*len > INT_MAX - RTP_SRTP_TRAILER || size < *len + RTP_SRTP_TRAILER)
		return ENOSPC;
	if (rtcp)
		e = srtp_protect_rtcp_mki(s->tx, buf, &l, s->tx_mki, 0);
	else
		e = srtp_protect_mki(s->tx, buf, &l, s->tx_mki, 0);
	if (e != srtp_err_status_ok)
		return EIO;
	*len = (size_t)l;
	return 0;
}

static int unprotect(struct rtp_srtp *s, bool rtcp, uint8_t *buf, size_t *len)
{
	int l;
	srtp_err_status_t e;

	if (!s->on)
		return EINVAL;
	if (*len > INT_MAX)
		return EBADMSG;
	l = (int)*len;
	if (rtcp)
		e = srtp_unprotect_rtcp_mki(s->rx, buf, &l, s->rx_mki);
	else
		e = srtp_unprotect_mki(s->rx, buf, &l, s->rx_mki);
	if (e == srtp_err_status_replay_fail || e == srtp_err_status_replay_old)
		return EALREADY;
	if (e != srtp_err_status_ok)
		return EBADMSG;
	*len = (size_t)l;
	return 0;
}

int rtp_srtp_protect(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t size)
{
	return protect(s, false, buf, len, size);
}

int rtp_srtp_protect_rtcp(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t size)
{
	return protect(s, true, buf, len, size);
}

int rtp_srtp_unprotect(struct rtp_srtp *s, uint8_t *buf, size_t *len)
{
	return unprotect(s, false, buf, len);
}

int rtp_srtp_unprotect_rtcp(struct rtp_srtp *s, uint8_t *buf, size_t *len)
{
	return unprotect(s, true, buf, len);
}
