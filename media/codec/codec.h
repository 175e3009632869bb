/*
 * codec: G.711 A-law and u-law by table (ITU-T G.191 reference rounding;
 * A<->u transcoding by the G.711 tables) and G.722 through spandsp.
 *
 * Ownership and threading: the G.711 tables are constant and shared by all
 * threads; struct codec_g722 is embedded in a media channel, initialised in
 * place, and used by one thread. Nothing allocates.
 */
#ifndef TANDEM_MEDIA_CODEC_H
#define TANDEM_MEDIA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/private/g722.h>

enum codec_law {
	CODEC_ULAW = 0, /* PCMU, static PT 0, T1 spans */
	CODEC_ALAW = 8, /* PCMA, static PT 8, E1 spans */
};

extern const int16_t codec_ulaw_dec[256];
extern const int16_t codec_alaw_dec[256];
extern const uint8_t codec_ulaw_enc[16384]; /* by (uint16_t)sample >> 2 */
extern const uint8_t codec_alaw_enc[4096];  /* by (uint16_t)sample >> 4 */
extern const uint8_t codec_a2u[256];
extern const uint8_t codec_u2a[256];

static inline uint8_t codec_lin2ulaw(int16_t x)
{
	return codec_ulaw_enc[(uint16_t)x >> 2];
}

static inline uint8_t codec_lin2alaw(int16_t x)
{
	return codec_alaw_enc[(uint16_t)x >> 4];
}

static inline int16_t codec_ulaw2lin(uint8_t c)
{
	return codec_ulaw_dec[c];
}

static inline int16_t codec_alaw2lin(uint8_t c)
{
	return codec_alaw_dec[c];
}

/* Blocks of n samples. */
void codec_g711_encode(enum codec_law law, uint8_t *out, const int16_t *pcm, size_t n);
void codec_g711_decode(enum codec_law law, int16_t *pcm, const uint8_t *in, size_t n);
/* From one law to the other; in and out may be the same buffer. */
void codec_g711_transcode(enum codec_law from, uint8_t *out, const uint8_t *in, size_t n);

/* jb_decode_h adapters (media/jb): arg unused; at most 160 samples. */
int codec_ulaw_jb_decode(void *arg, const uint8_t *p, size_t len, int16_t *pcm);
int codec_alaw_jb_decode(void *arg, const uint8_t *p, size_t len, int16_t *pcm);

/* G.722 at 64 kbit/s. eight_k: PCM at 8 kHz (the B-channel rate, one byte per
 * sample) instead of 16 kHz (one byte per two samples). RTP clock is 8000 either
 * way (RFC 3551). */
struct codec_g722 {
	g722_encode_state_t enc;
	g722_decode_state_t dec;
	bool eight_k;
};

/* 0 or EINVAL. */
int codec_g722_init(struct codec_g722 *c, bool eight_k);
/* Returns bytes written to out (n at 8 kHz, n / 2 at 16 kHz). */
size_t codec_g722_encode(struct codec_g722 *c, uint8_t *out, const int16_t *pcm, size_t n);
/* Returns samples written to pcm (len at 8 kHz, 2 * len at 16 kHz). */
size_t codec_g722_decode(struct codec_g722 *c, int16_t *pcm, const uint8_t *in, size_t len);
/* jb_decode_h adapter: arg is the struct codec_g722 (eight_k required). */
int codec_g722_jb_decode(void *arg, const uint8_t *p, size_t len, int16_t *pcm);

#endif
