/*
 * rtp_srtp: SRTP/SRTCP (RFC 3711) through libsrtp2 with SDES keys (RFC 4568):
 * AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 and AEAD_AES_128_GCM
 * (RFC 7714). Keys come from OpenSSL's CSPRNG.
 *
 * Ownership and threading: struct rtp_srtp is embedded in a media channel;
 * rtp_srtp_start() allocates libsrtp's contexts once (call setup), protect
 * and unprotect work in place in the caller's packet buffer and allocate
 * nothing. One thread at a time per struct. rtp_srtp_global_init() must run
 * once before any start (it is idempotent and thread-safe).
 */
#ifndef TANDEM_MEDIA_RTP_SRTP_H
#define TANDEM_MEDIA_RTP_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"

enum rtp_srtp_suite {
	RTP_SRTP_AES_CM_128_HMAC_SHA1_80 = 0,
	RTP_SRTP_AES_CM_128_HMAC_SHA1_32,
	RTP_SRTP_AEAD_AES_128_GCM,
	RTP_SRTP_NSUITES
};

#define RTP_SRTP_KEY_MAX 30  /* master key || master salt, bytes */
#define RTP_SRTP_B64_MAX 41  /* base64 of that, with NUL */
#define RTP_SRTP_TRAILER 144 /* room needed after a packet (SRTP_MAX_TRAILER_LEN) */

#define RTP_SRTP_MKI_MAX 16 /* MKI bytes we handle (RFC 4568 allows 128) */

struct rtp_sdes_key {
	enum rtp_srtp_suite suite;
	size_t len;
	uint8_t key[RTP_SRTP_KEY_MAX];
	/* RFC 4568 "|MKI:LEN": packets carry mki_len bytes holding mki (big-endian).
	 * mki_len 0: no MKI. Set by the caller, from the a=crypto line. */
	uint32_t mki;
	uint8_t mki_len;
};

struct srtp_ctx_t_;

/* Zero-initialise before the first rtp_srtp_start() (e.g. `= { 0 }`). */
struct rtp_srtp {
	struct srtp_ctx_t_ *tx, *rx;
	enum rtp_srtp_suite suite;
	bool on;
	bool tx_mki, rx_mki;
};

int rtp_srtp_global_init(void);

/* SDP crypto-suite names, e.g. "AES_CM_128_HMAC_SHA1_80". 0 or ENOENT. */
int rtp_srtp_suite_parse(struct pl name, enum rtp_srtp_suite *suite);
const char *rtp_srtp_suite_name(enum rtp_srtp_suite suite);
/* master key + salt length: 30 for AES-CM, 28 for AES-GCM */
size_t rtp_srtp_key_len(enum rtp_srtp_suite suite);

/* A fresh random key for suite. 0, EINVAL, EIO (no randomness). */
int rtp_sdes_key_gen(struct rtp_sdes_key *k, enum rtp_srtp_suite suite);
/* From raw key||salt bytes (e.g. decoded by media/sdp). 0 or EINVAL (length). */
int rtp_sdes_key_set(struct rtp_sdes_key *k, enum rtp_srtp_suite suite, const uint8_t *key,
                     size_t len);
/* The base64 text for "inline:<key||salt>". 0 or ENOSPC (n < RTP_SRTP_B64_MAX). */
int rtp_sdes_key_b64(const struct rtp_sdes_key *k, char *buf, size_t n);
/* From base64 (padded or not); EBADMSG if not base64 or of the wrong length. */
int rtp_sdes_key_from_b64(struct rtp_sdes_key *k, enum rtp_srtp_suite suite, struct pl b64);

/* tx: our key (we offer/answer it), rx: the peer's. Same suite; an MKI on
 * either is used on the wire in that direction. 0, EINVAL, EIO. */
int rtp_srtp_start(struct rtp_srtp *s, const struct rtp_sdes_key *tx,
                   const struct rtp_sdes_key *rx);
void rtp_srtp_stop(struct rtp_srtp *s);

/* In place: *len grows by the tag (size must leave RTP_SRTP_TRAILER). 0, ENOSPC,
 * EINVAL (not started), EIO. */
int rtp_srtp_protect(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t size);
int rtp_srtp_protect_rtcp(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t size);
/* In place: *len shrinks. EBADMSG (authentication failed or malformed),
 * EALREADY (replayed), EINVAL (not started). */
int rtp_srtp_unprotect(struct rtp_srtp *s, uint8_t *buf, size_t *len);
int rtp_srtp_unprotect_rtcp(struct rtp_srtp *s, uint8_t *buf, size_t *len);

#endif
