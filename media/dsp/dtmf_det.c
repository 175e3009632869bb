/*
 * DTMF heard on the B-channel: spandsp's dtmf_rx plus a one-block delay line
 * so the tone can be taken out of the RTP audio (see dsp.h for the choice).
 */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

/* RFC 4733 volume of a block: its power in dBm0 with the sign dropped. */
static uint8_t block_volume(const int16_t *amp, size_t n)
{
	/* Integer sum (exact: n * 2^30 fits), one conversion: this runs on every block
	 * of every channel, and a double per sample cost as much as a fifth of dtmf_rx. */
	int64_t isum = 0;
	double sum;

	for (size_t i = 0; i < n; i++)
		isum += (int32_t)amp[i] * amp[i];
	if (isum <= 0)
		return 63;
	sum = (double)isum;
	/* A 0 dBm0 sine has an RMS of 32767 * 10^(-3.14/20) / sqrt(2) (G.711's 3.14 dBm0 peak). */
	double dbm0 = 10.0 * log10(sum / (double)n / (32767.0 * 32767.0 / 2.0)) + 3.14;

	if (dbm0 >= 0.0)
		return 0;
	return dbm0 <= -63.0 ? 63 : (uint8_t)lround(-dbm0);
}

static void realtime_cb(void *user, int code, int level, int delay)
{
	struct dtmf_det *d = user;
	int ev = code ? dsp_event_from_char(code) : -1;

	(void)level;
	(void)delay;
	if (ev == d->digit)
		return;
	if (d->digit >= 0 && d->h)
		d->h(d->digit, false, d->volume, d->arg);
	d->digit = ev;
	if (ev >= 0 && d->h)
		d->h(ev, true, d->volume, d->arg);
}

/* Digits are taken from the real-time callback; this only keeps spandsp's buffer empty. */
static void digits_cb(void *user, const char *digits, int len)
{
	(void)user;
	(void)digits;
	(void)len;
}

void dtmf_det_init(struct dtmf_det *d, dtmf_det_h *h, void *arg)
{
	memset(d, 0, sizeof(*d));
	d->h = h;
	d->arg = arg;
	d->digit = -1;
	d->prev_volume = 63;
	d->lookahead = 1;
	dtmf_rx_init(&d->rx, digits_cb, d);
	dtmf_rx_set_realtime_callback(&d->rx, realtime_cb, d);
}

int dtmf_det_set_lookahead(struct dtmf_det *d, unsigned blocks)
{
	if (blocks < 1 || blocks > DTMF_DET_MAX_LOOKAHEAD)
		return EINVAL;
	d->lookahead = blocks;
	d->pos = 0;
	return 0;
}

void dtmf_det_disable(struct dtmf_det *d)
{
	if (d->digit >= 0 && d->h)
		d->h(d->digit, false, d->volume, d->arg);
	d->digit = -1;
	d->off = true;
}

void dtmf_det_release(struct dtmf_det *d)
{
	dtmf_rx_release(&d->rx);
}

/* out = the block `lookahead` blocks back; in joins the delay line. */
static void delay_line(struct dtmf_det *d, const int16_t *in, int16_t *out)
{
	memcpy(out, d->delay[d->pos], sizeof(d->delay[0]));
	memcpy(d->delay[d->pos], in, sizeof(d->delay[0]));
	d->pos = (d->pos + 1) % d->lookahead;
}

/*
 * Quieter than this (-40 dBm0 for the whole block) no digit can be in a block:
 * spandsp wants each of its two tones above about -26 dBm0. Once dtmf_rx has
 * seen DET_QUIET_RUN such blocks in a row (its digit-end logic needs two of its
 * 102-sample blocks, ~26 ms), more silence cannot change its state and is not
 * given to it: the pauses in speech and the silence of most calls cost nothing.
 */
#define DET_QUIET_VOLUME 40
#define DET_QUIET_RUN    3

bool dtmf_det_block(struct dtmf_det *d, const int16_t in[DSP_BLOCK], int16_t out[DSP_BLOCK])
{
	uint8_t v;
	bool suspect = false, mute, listen = true;

	delay_line(d, in, out);
	if (d->off)
		return false;
	/* The louder of this block and the last: the onset may fill only part of one. */
	v = block_volume(in, DSP_BLOCK);
	d->volume = v < d->prev_volume ? v : d->prev_volume;
	d->prev_volume = v;
	if (v < DET_QUIET_VOLUME)
		d->quiet = 0;
	else if (d->quiet >= DET_QUIET_RUN && d->digit < 0)
		listen = false;
	else
		d->quiet++;
	if (listen) {
		dtmf_rx(&d->rx, in, DSP_BLOCK);
		/* dtmf_rx_status: the digit, 'x' after a first unconfirmed hit, or 0. */
		suspect = d->digit >= 0 || dtmf_rx_status(&d->rx) != 0;
	} else {
		d->skipped++;
	}
	d->hist = (d->hist << 1) | suspect;
	/* out is block n - lookahead: look at it, the blocks after it and the one before. */
	mute = (d->hist & ((1u << (d->lookahead + 2)) - 1)) != 0;
	if (mute)
		d->muted++;
	return mute;
}
