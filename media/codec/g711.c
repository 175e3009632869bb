/* G.711 block conversions over the tables in g711_tab.c. */
#include "media/codec/codec.h"

#define JB_SAMPLES_MAX 160

void codec_g711_encode(enum codec_law law, uint8_t *out, const int16_t *pcm, size_t n)
{
	const uint8_t *t = law == CODEC_ALAW ? codec_alaw_enc : codec_ulaw_enc;
	unsigned sh = law == CODEC_ALAW ? 4 : 2;

	for (size_t i = 0; i < n; i++)
		out[i] = t[(uint16_t)pcm[i] >> sh];
}

void codec_g711_decode(enum codec_law law, int16_t *pcm, const uint8_t *in, size_t n)
{
	const int16_t *t = law == CODEC_ALAW ? codec_alaw_dec : codec_ulaw_dec;

	for (size_t i = 0; i < n; i++)
		pcm[i] = t[in[i]];
}

void codec_g711_transcode(enum codec_law from, uint8_t *out, const uint8_t *in, size_t n)
{
	const uint8_t *t = from == CODEC_ALAW ? codec_a2u : codec_u2a;

	for (size_t i = 0; i < n; i++)
		out[i] = t[in[i]];
}

int codec_ulaw_jb_decode(void *arg, const uint8_t *p, size_t len, int16_t *pcm)
{
	(void)arg;
	if (len > JB_SAMPLES_MAX)
		len = JB_SAMPLES_MAX;
	codec_g711_decode(CODEC_ULAW, pcm, p, len);
	return (int)len;
}

int codec_alaw_jb_decode(void *arg, const uint8_t *p, size_t len, int16_t *pcm)
{
	(void)arg;
	if (len > JB_SAMPLES_MAX)
		len = JB_SAMPLES_MAX;
	codec_g711_decode(CODEC_ALAW, pcm, p, len);
	return (int)len;
}
