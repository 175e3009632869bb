/*
 * A call's audio, once per 20 ms tick of its span: what it hears (recorded,
 * DTMF and known tones detected) and what it says (ringback, a tone, echo,
 * a file, DTMF), and the IVR that reads digits back. Runs on the span's
 * loop; files to record or play are opened (and read) at the command.
 */
#include "tdm/pstnsim/sim_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <string.h>

/* Like a real IVR reading back what was keyed: after a pause, not over the caller's
 * own tones (a gateway rightly takes a digit heard while it plays that same digit for
 * the echo of its own tone). */
#define IVR_READBACK_MS 600

static void ivr_readback(void *arg)
{
	struct psim_call *c = arg;

	dtmf_tx_put(&c->tx, c->ivr_digits, (int)c->ivr_n);
	c->ivr_n = 0;
}

void psim_call_digits(void *arg, const char *digits, int len)
{
	struct psim_call *c = arg;

	for (int i = 0; i < len; i++) {
		struct psim_ev ev = {.digit = digits[i]};

		LOGI(c->ctx, "digit '%c' heard", digits[i]);
		psim_call_emit(c, PSIM_EV_DIGITS, &ev);
		if (c->mode == M_IVR && c->ivr_n < sizeof(c->ivr_digits) - 1) {
			c->ivr_digits[c->ivr_n++] = digits[i];
			c->ivr_digits[c->ivr_n] = '\0';
			tmr_start(c->p->l, &c->ivr, IVR_READBACK_MS, ivr_readback, c);
		}
	}
}

void psim_call_rec_done(struct psim_call *c)
{
	struct psim_ev e = {.path = c->rec.path, .samples = c->rec.n};

	if (!c->rec.f)
		return;
	e.err = psim_rec_close(&c->rec);
	LOGI(c->ctx, "recorded %u samples to %s%s%s", e.samples, e.path, e.err ? ": " : "",
	     e.err ? strerror(e.err) : "");
	psim_call_emit(c, PSIM_EV_RECORDED, &e);
}

/* ---- audio, once per tick ---- */

static void call_listen(struct psim_call *c, const int16_t *in)
{
	double hz, dbm0;

	dtmf_rx(&c->rx, in, SPAN_BLOCK);
	if (psim_tonedet_block(&c->td, in, SPAN_BLOCK, &hz, &dbm0)) {
		struct psim_ev ev = {.hz = hz, .dbm0 = dbm0};

		LOGI(c->ctx, "tone %.0f Hz at %.1f dBm0", hz, dbm0);
		psim_call_emit(c, PSIM_EV_TONE, &ev);
	}
}

/* The next block of the file being played, instead of what the call plays. */
static void play_block(struct psim_call *c, int16_t *out)
{
	size_t k = c->play_n - c->play_pos;
	struct psim_ev e = {0};

	if (k > SPAN_BLOCK)
		k = SPAN_BLOCK;
	memset(out, 0, SPAN_BLOCK * sizeof(*out));
	memcpy(out, c->play + c->play_pos, k * sizeof(*out));
	c->play_pos += k;
	if (c->play_pos < c->play_n)
		return;
	e.samples = (uint32_t)c->play_n;
	c->play = mem_deref(c->play);
	LOGI(c->ctx, "played %u samples", e.samples);
	psim_call_emit(c, PSIM_EV_PLAYED, &e);
}

static void call_speak(struct psim_call *c, const int16_t *in, int16_t *out)
{
	int16_t tmp[SPAN_BLOCK];
	int n;

	memset(out, 0, SPAN_BLOCK * sizeof(*out));
	switch (c->mode) {
	case M_RINGBACK: {
		/* cadence: NANP 2 s on / 4 s off, else 1 s on / 4 s off (in ticks) */
		uint32_t on = c->rb[1].step > 0 ? 100 : 50, period = on + 200;

		if (c->ticks++ % period < on) {
			psim_tonegen_run(&c->rb[0], out, SPAN_BLOCK);
			psim_tonegen_run(&c->rb[1], tmp, SPAN_BLOCK);
			for (size_t i = 0; i < SPAN_BLOCK; i++)
				out[i] = (int16_t)(out[i] + tmp[i]);
		}
		return;
	}
	case M_TONE:
		psim_tonegen_run(&c->tone, out, SPAN_BLOCK);
		break;
	case M_ECHO:
		memcpy(out, in, SPAN_BLOCK * sizeof(*out));
		break;
	default:
		break;
	}
	if (!c->answered)
		return;
	if (c->play)
		play_block(c, out);
	n = dtmf_tx(&c->tx, tmp, SPAN_BLOCK);
	if (n > 0) {
		/* Digits replace whatever the call plays while they last. */
		memset(out, 0, SPAN_BLOCK * sizeof(*out));
		memcpy(out, tmp, (size_t)n * sizeof(*out));
	}
}

void psim_tick_handler(struct span *sp, uint32_t tick, void *arg)
{
	struct psim_span *ps = arg;
	uint8_t blk[SPAN_BLOCK];
	int16_t in[SPAN_BLOCK], out[SPAN_BLOCK];

	(void)tick;
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		struct psim_call *c = ps->chan[ts];

		if (!c || (c->mode == M_SILENT && !c->answered && !c->rec.f))
			continue;
		if (span_bchan_read(sp, ts, blk)) {
			/* Keep a recording's time line: a missing block is silence. */
			if (c->rec.f && psim_rec_write(&c->rec, NULL, SPAN_BLOCK))
				psim_call_rec_done(c);
			continue;
		}
		psim_decode(sp->conf.law, blk, in, SPAN_BLOCK);
		if (c->rec.f && psim_rec_write(&c->rec, in, SPAN_BLOCK))
			psim_call_rec_done(c);
		if (c->answered)
			call_listen(c, in);
		/* The listener may have cleared the call: it is still ours until HANGUP. */
		call_speak(c, in, out);
		psim_encode(sp->conf.law, out, blk, SPAN_BLOCK);
		span_bchan_write(sp, ts, blk);
	}
}

int psim_digits(struct psim *p, unsigned id, const char *digits)
{
	struct psim_call *c = psim_call_find(p, id);
	size_t n = digits ? strlen(digits) : 0;

	if (!c)
		return ENOENT;
	if (!c->answered)
		return ENOTCONN;
	if (!n || n > PSIM_DIGITS_MAX || strspn(digits, "0123456789*#ABCDabcd") != n)
		return EINVAL;
	return dtmf_tx_put(&c->tx, digits, (int)n) == 0 ? 0 : ENOSPC;
}

int psim_record(struct psim *p, unsigned id, const char *path, unsigned seconds)
{
	struct psim_call *c = psim_call_find(p, id);
	int err;

	if (!c)
		return ENOENT;
	if (!seconds || seconds > PSIM_REC_MAX_S)
		return EINVAL;
	err = psim_rec_open(&c->rec, path, seconds * 8000u);
	if (!err)
		LOGI(c->ctx, "recording up to %u s to %s", seconds, path);
	return err;
}

int psim_play(struct psim *p, unsigned id, const char *path)
{
	struct psim_call *c = psim_call_find(p, id);
	int16_t *s;
	size_t n;
	int err;

	if (!c)
		return ENOENT;
	if (!c->answered)
		return ENOTCONN;
	err = psim_wav_load(&s, &n, path, PSIM_PLAY_MAX_S * 8000u);
	if (err)
		return err;
	mem_deref(c->play);
	c->play = s;
	c->play_n = n;
	c->play_pos = 0;
	LOGI(c->ctx, "playing %zu samples from %s", n, path);
	return 0;
}
