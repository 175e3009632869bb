/*
 * libFuzzer target for media/dsp DTMF input from the network: the RFC 4733
 * telephone-event receiver (driving the in-band generator, as a media worker
 * does) and the SIP INFO body parsers.
 *
 * Input: byte 0 selects the mode (low 2 bits).
 *   0: a packet stream. Each record: flags (bit 7 marker, bits 0-4 length
 *      0..31, bits 5-6 blocks of time to pass afterwards), a 16-bit signed
 *      timestamp step, then `length` payload bytes.
 *   1: application/dtmf-relay body.  2: application/dtmf body.
 *   3: the sender, driven by the bytes (start/stop/tick).
 * Checks: starts and stops alternate, events stay in 0..16, nothing is open
 * after a reset; parsed bodies rebuild and parse back to the same values;
 * the sender's packets are well formed and never stamped in a future block.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/dsp/dsp.h"

struct rx_ctx {
	struct dtmf_gen gen;
	bool open;
	unsigned starts, stops;
};

static void rx_h(enum te_rx_act act, int event, uint32_t duration, void *arg)
{
	struct rx_ctx *c = arg;

	if (event < 0 || event > DSP_EV_FLASH)
		abort();
	if (act == TE_RX_START) {
		if (c->open)
			abort();
		c->open = true;
		c->starts++;
		(void)dtmf_gen_start(&c->gen, event);
	} else {
		if (!c->open)
			abort();
		c->open = false;
		c->stops++;
		(void)dtmf_gen_stop(&c->gen, event, duration);
	}
}

static void fuzz_rx(const uint8_t *d, size_t n)
{
	struct rx_ctx c;
	struct te_rx rx;
	uint32_t ts = 0x12345678;
	int16_t blk[DSP_BLOCK];

	memset(&c, 0, sizeof(c));
	if (dtmf_gen_init(&c.gen, NULL))
		abort();
	te_rx_init(&rx, rx_h, &c);
	while (n >= 3) {
		uint8_t f = d[0];
		size_t len = f & 31;
		unsigned ticks = (f >> 5) & 3;

		ts += (uint32_t)(int32_t)(int16_t)((d[1] << 8) | d[2]);
		d += 3;
		n -= 3;
		if (len > n)
			len = n;
		int r = te_rx_packet(&rx, d, len, ts, f & 0x80);

		if ((r == 0) != (len && len % 4 == 0))
			abort();
		d += len;
		n -= len;
		for (unsigned t = 0; t < ticks; t++) {
			te_rx_tick(&rx, DSP_BLOCK);
			dtmf_gen_block(&c.gen, blk, DSP_BLOCK);
		}
		if (c.open != rx.active || c.gen.count > DTMF_GEN_QLEN)
			abort();
	}
	te_rx_reset(&rx);
	if (c.open || rx.active || c.starts != c.stops)
		abort();
}

static void fuzz_relay(const uint8_t *d, size_t n)
{
	int ev, ev2;
	uint32_t ms, ms2;
	char buf[64];
	size_t len;

	if (dtmf_info_relay_parse(pl_make((const char *)d, n), &ev, &ms))
		return;
	if (ev < 0 || ev > DSP_EV_FLASH || ms > DTMF_INFO_MAX_MS)
		abort();
	if (dtmf_info_relay_build(buf, sizeof(buf), &len, ev, ms))
		abort();
	if (dtmf_info_relay_parse(pl_make(buf, len), &ev2, &ms2) || ev2 != ev || ms2 != ms)
		abort();
}

static void fuzz_dtmf_body(const uint8_t *d, size_t n)
{
	int ev, ev2;
	char buf[4];
	size_t len;

	if (dtmf_info_dtmf_parse(pl_make((const char *)d, n), &ev))
		return;
	if (dtmf_info_dtmf_build(buf, sizeof(buf), &len, ev))
		abort();
	if (dtmf_info_dtmf_parse(pl_make(buf, len), &ev2) || ev2 != ev)
		abort();
}

static void fuzz_tx(const uint8_t *d, size_t n)
{
	struct te_tx tx;
	struct te_pkt p[TE_TX_MAXPKT];
	uint32_t ts = 0xFFFFF000u;
	bool seen = false;

	te_tx_init(&tx);
	for (size_t i = 0; i < n; i++) {
		uint8_t b = d[i];

		if ((b & 0xC0) == 0xC0)
			(void)te_tx_start(&tx, b & 31, 10);
		else if ((b & 0xC0) == 0x80)
			te_tx_stop(&tx);
		unsigned reps = (b & 0xC0) == 0 ? (unsigned)b * 8 + 1 : 1; /* long runs */

		for (unsigned r = 0; r < reps; r++, ts += DSP_BLOCK) {
			unsigned k = te_tx_tick(&tx, ts, p);

			if (k > TE_TX_MAXPKT)
				abort();
			for (unsigned j = 0; j < k; j++) {
				uint8_t ev, vol;
				bool e;
				uint16_t dur;

				te_payload_decode(p[j].payload, &ev, &e, &vol, &dur);
				if (ev > DSP_EV_FLASH || dur == 0 || vol > 63)
					abort();
				if (p[j].marker) {
					seen = true;
					if (p[j].ts != ts)
						abort();
				}
				/*
				 * Never stamped after this block: a long event's next
				 * segment starts at +0xFFFF, inside the current block.
				 */
				if (seen && (int32_t)(p[j].ts - ts) >= DSP_BLOCK)
					abort();
			}
			if (!tx.active && !tx.fin_left)
				break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_rx(data + 1, size - 1);
		break;
	case 1:
		fuzz_relay(data + 1, size - 1);
		break;
	case 2:
		fuzz_dtmf_body(data + 1, size - 1);
		break;
	default:
		fuzz_tx(data + 1, size - 1);
		break;
	}
	return 0;
}
