/*
 * Echo cancelling on the B-channel side: speexdsp's MDF canceller, switched
 * off for good by the 2100 Hz answer tone (G.164/G.165 disabler behaviour:
 * fax and modems bring their own cancellers, and two cancellers fight).
 */
#include <string.h>

#include <speex/speex_echo.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

static void tone_cb(void *user, int code, int level, int delay)
{
	struct ec *ec = user;

	(void)level;
	(void)delay;
	if (code != MODEM_CONNECT_TONES_NONE)
		ec->tone_heard = true;
}

int ec_init(struct ec *ec, const struct ec_cfg *cfg)
{
	uint32_t tail_ms = cfg && cfg->tail_ms ? cfg->tail_ms : 64;
	SpeexEchoState *st;
	int rate = DSP_RATE;

	if (tail_ms < 8 || tail_ms > 512)
		return EINVAL;
	st = speex_echo_state_init(DSP_BLOCK, (int)DSP_MS(tail_ms));
	if (!st)
		return ENOMEM;
	speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
	memset(ec, 0, sizeof(*ec));
	ec->st = st;
	ec->tail = DSP_MS(tail_ms);
	ec->enabled = true;
	ec->detect = !(cfg && cfg->no_tone_disable);
	/*
	 * The ANS detector fires on 2100 Hz held for about half a second, which
	 * is before the first phase reversal of ANS/PR and ANSam, so one
	 * detector type covers CED, ANS, ANS/PR and ANSam.
	 */
	modem_connect_tones_rx_init(&ec->ans_rec, MODEM_CONNECT_TONES_ANS, tone_cb, ec);
	modem_connect_tones_rx_init(&ec->ans_play, MODEM_CONNECT_TONES_ANS, tone_cb, ec);
	return 0;
}

void ec_release(struct ec *ec)
{
	if (ec->st) {
		speex_echo_state_destroy(ec->st);
		ec->st = NULL;
	}
	modem_connect_tones_rx_release(&ec->ans_rec);
	modem_connect_tones_rx_release(&ec->ans_play);
}

bool ec_enabled(const struct ec *ec)
{
	return ec->enabled;
}

void ec_disable(struct ec *ec)
{
	ec->enabled = false;
	ec->detect = false;
}

enum ec_event ec_block(struct ec *ec, const int16_t rec[DSP_BLOCK], const int16_t play[DSP_BLOCK],
                       int16_t out[DSP_BLOCK])
{
	enum ec_event ev = EC_EV_NONE;

	if (ec->detect) {
		modem_connect_tones_rx(&ec->ans_rec, rec, DSP_BLOCK);
		modem_connect_tones_rx(&ec->ans_play, play, DSP_BLOCK);
		if (ec->tone_heard) {
			ec_disable(ec);
			ev = EC_EV_TONE;
		}
	}
	if (!ec->enabled || !ec->st) {
		if (out != rec)
			memcpy(out, rec, DSP_BLOCK * sizeof(*out));
		return ev;
	}
	if (out == rec) {
		memcpy(ec->scratch, rec, sizeof(ec->scratch));
		rec = ec->scratch;
	}
	speex_echo_cancellation(ec->st, rec, play, out);
	return ev;
}
