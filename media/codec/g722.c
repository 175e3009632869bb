/* G.722 through spandsp 0.0.6, state embedded (g722_*_init with a caller's struct). */
#include "media/codec/codec.h"

#include <limits.h>
#include <string.h>

#include "core/err.h"

#define JB_SAMPLES_MAX 160

int codec_g722_init(struct codec_g722 *c, bool eight_k)
{
	int opt = eight_k ? G722_SAMPLE_RATE_8000 : 0;

	memset(c, 0, sizeof(*c));
	if (!g722_encode_init(&c->enc, 64000, opt) || !g722_decode_init(&c->dec, 64000, opt))
		return EINVAL;
	c->eight_k = eight_k;
	return 0;
}

size_t codec_g722_encode(struct codec_g722 *c, uint8_t *out, const int16_t *pcm, size_t n)
{
	int r;

	if (n > INT_MAX)
		return 0;
	r = g722_encode(&c->enc, out, pcm, (int)n);
	return r > 0 ? (size_t)r : 0;
}

size_t codec_g722_decode(struct codec_g722 *c, int16_t *pcm, const uint8_t *in, size_t len)
{
	int r;

	if (len > INT_MAX / 2)
		return 0;
	r = g722_decode(&c->dec, pcm, in, (int)len);
	return r > 0 ? (size_t)r : 0;
}

int codec_g722_jb_decode(void *arg, const uint8_t *p, size_t len, int16_t *pcm)
{
	struct codec_g722 *c = arg;

	if (!c->eight_k)
		return -1;
	if (len > JB_SAMPLES_MAX)
		len = JB_SAMPLES_MAX;
	return (int)codec_g722_decode(c, pcm, p, len);
}
