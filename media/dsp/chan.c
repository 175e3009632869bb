/*
 * One channel's DSP wired together: RFC 4733 / INFO -> tones towards the
 * PSTN; B-channel -> echo cancelling -> DTMF detection -> RFC 4733 / events.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

#define INFO_DEFAULT_MS 100
/* Detection time after the echo of our tone: spandsp confirms within ~40 ms. */
#define OWN_ECHO_SLACK DSP_MS(60)

static void rx_h(enum te_rx_act act, int event, uint32_t duration, void *arg)
{
	struct dsp_chan *c = arg;

	if (event == DSP_EV_FLASH) {
		if (act == TE_RX_START && c->h)
			c->h(DSP_CHAN_FLASH, event, 0, c->arg);
		return;
	}
	/* A full queue drops the digit (counted in gen.stats); nothing better to do here. */
	if (act == TE_RX_START)
		(void)dtmf_gen_start(&c->gen, event);
	else
		(void)dtmf_gen_stop(&c->gen, event, duration);
}

static bool is_own_echo(const struct dsp_chan *c, int event)
{
	for (unsigned i = 0; i < ARRAY_SIZE(c->own); i++)
		if (c->own[i].event == event && (int32_t)(c->own[i].until - c->samples) > 0)
			return true;
	return false;
}

static void det_h(int event, bool on, uint8_t volume, void *arg)
{
	struct dsp_chan *c = arg;

	if (on) {
		if (is_own_echo(c, event)) {
			c->own_echo = true;
			c->stats.own_echo++;
			return;
		}
		c->own_echo = false;
		(void)te_tx_start(&c->tx, event, volume);
		c->dig_start = c->samples;
		if (c->h)
			c->h(DSP_CHAN_DIGIT_START, event, 0, c->arg);
	} else {
		if (c->own_echo) {
			c->own_echo = false;
			return;
		}
		te_tx_stop(&c->tx);
		if (c->h)
			c->h(DSP_CHAN_DIGIT_STOP, event, c->samples - c->dig_start, c->arg);
	}
}

int dsp_chan_init(struct dsp_chan *c, const struct dsp_chan_cfg *cfg, dsp_chan_h *h, void *arg)
{
	int err;

	memset(c, 0, sizeof(*c));
	err = dtmf_gen_init(&c->gen, cfg ? &cfg->gen : NULL);
	if (err)
		return err;
	if (cfg && cfg->det_lookahead > DTMF_DET_MAX_LOOKAHEAD)
		return EINVAL;
	for (unsigned i = 0; i < ARRAY_SIZE(c->own); i++)
		c->own[i].event = -1;
	if (!(cfg && cfg->ec_off)) {
		c->ec = calloc(1, sizeof(*c->ec));
		if (!c->ec)
			return ENOMEM;
		err = ec_init(c->ec, cfg ? &cfg->ec : NULL);
		if (err) {
			free(c->ec);
			c->ec = NULL;
			return err;
		}
	}
	te_rx_init(&c->rx, rx_h, c);
	te_tx_init(&c->tx);
	dtmf_det_init(&c->det, det_h, c);
	if (cfg && cfg->det_lookahead)
		(void)dtmf_det_set_lookahead(&c->det, cfg->det_lookahead);
	c->h = h;
	c->arg = arg;
	return 0;
}

void dsp_chan_release(struct dsp_chan *c)
{
	if (c->ec) {
		ec_release(c->ec);
		free(c->ec);
	}
	c->ec = NULL;
	dtmf_det_release(&c->det);
}

/* Remembers a digit we play, for as long as its echo can come back. */
static void note_own(struct dsp_chan *c, int ev)
{
	uint32_t tail = c->ec ? c->ec->tail : DSP_MS(64);

	if (ev < 0)
		return;
	if (c->own[c->own_last].event != ev) {
		c->own_last = (c->own_last + 1) % ARRAY_SIZE(c->own);
		c->own[c->own_last].event = ev;
	}
	c->own[c->own_last].until = c->samples + DSP_BLOCK + tail + OWN_ECHO_SLACK;
}

void dsp_chan_to_pstn(struct dsp_chan *c, int16_t blk[DSP_BLOCK])
{
	te_rx_tick(&c->rx, DSP_BLOCK);
	note_own(c, dtmf_gen_current(&c->gen));
	dtmf_gen_block(&c->gen, blk, DSP_BLOCK);
	note_own(c, dtmf_gen_current(&c->gen));
	memcpy(c->play, blk, sizeof(c->play));
}

bool dsp_chan_from_pstn(struct dsp_chan *c, const int16_t rd[DSP_BLOCK], uint32_t ts,
                        int16_t out[DSP_BLOCK], struct te_pkt pkts[TE_TX_MAXPKT], unsigned *npkts)
{
	const int16_t *in = rd;
	bool mute;

	if (c->ec && ec_enabled(c->ec)) {
		if (ec_block(c->ec, rd, c->play, c->clean) == EC_EV_TONE) {
			dtmf_det_disable(&c->det);
			if (c->h)
				c->h(DSP_CHAN_FAX_TONE, -1, 0, c->arg);
		}
		in = c->clean;
	}
	c->samples += DSP_BLOCK;
	mute = dtmf_det_block(&c->det, in, out);
	*npkts = te_tx_tick(&c->tx, ts, pkts);
	return mute;
}

int dsp_chan_te_packet(struct dsp_chan *c, const uint8_t *payload, size_t len, uint32_t ts,
                       bool marker)
{
	return te_rx_packet(&c->rx, payload, len, ts, marker);
}

int dsp_chan_digit(struct dsp_chan *c, int event, uint32_t duration_ms)
{
	if (duration_ms == 0)
		duration_ms = INFO_DEFAULT_MS;
	if (duration_ms > DTMF_INFO_MAX_MS)
		return EINVAL;
	return dtmf_gen_digit(&c->gen, event, DSP_MS(duration_ms));
}
