/*
 * RFC 4733 telephone-event sender: digit start/stop -> the packet sequence of
 * a conforming sender, one call per 20 ms block.
 */
#include <string.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

static void mkpkt(struct te_pkt *p, uint32_t ts, bool marker, uint8_t ev, bool end, uint8_t vol,
                  uint16_t dur)
{
	p->ts = ts;
	p->marker = marker;
	p->payload[0] = ev;
	p->payload[1] = (uint8_t)((end ? 0x80 : 0) | (vol & 0x3f));
	p->payload[2] = (uint8_t)(dur >> 8);
	p->payload[3] = (uint8_t)dur;
}

void te_tx_init(struct te_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
}

bool te_tx_busy(const struct te_tx *tx)
{
	return tx->active || tx->fin_left > 0;
}

/*
 * The final packet of the current segment or event, owed three times
 * (2.5.1.4). A newer final replaces copies still owed of an older one; that
 * only happens after an event shorter than two blocks, and the older final
 * has had two copies out by then.
 */
static void owe_final(struct te_tx *tx, uint16_t dur, bool end)
{
	mkpkt(&tx->fin, tx->seg_ts, false, tx->event, end, tx->volume, dur);
	tx->fin_left = 3;
}

void te_tx_stop(struct te_tx *tx)
{
	if (!tx->active)
		return;
	if (tx->first) {
		/* Nothing sent yet: the next tick sends it whole. */
		tx->stopping = true;
		return;
	}
	/*
	 * The digit sounded into this block (the detector's end confirmation
	 * lags the tone, and dtmf_det's delay line puts this block's audio one
	 * block back), so the final duration covers it.
	 */
	uint32_t dur = tx->seg_dur + DSP_BLOCK;

	owe_final(tx, (uint16_t)(dur > 0xFFFF ? 0xFFFF : dur), true);
	tx->active = false;
}

int te_tx_start(struct te_tx *tx, int event, uint8_t volume)
{
	if (event < 0 || event > DSP_EV_FLASH)
		return EINVAL;
	/*
	 * An open event that already sent packets ends first. One started and
	 * replaced within the same block never reached the wire and is dropped.
	 */
	if (tx->active && !tx->first)
		te_tx_stop(tx);
	tx->active = true;
	tx->first = true;
	tx->stopping = false;
	tx->event = (uint8_t)event;
	tx->volume = volume > 63 ? 63 : volume;
	return 0;
}

/* The open event's packet(s) for this block; returns how many were added. */
static unsigned event_pkts(struct te_tx *tx, uint32_t ts, struct te_pkt *pkts)
{
	unsigned n = 0;
	uint32_t dur;
	bool marker = tx->first;

	if (tx->first) {
		tx->seg_ts = ts;
		dur = DSP_BLOCK;
		tx->first = false;
	} else {
		dur = tx->seg_dur + DSP_BLOCK;
	}
	if (tx->stopping) {
		tx->seg_dur = dur;
		mkpkt(&pkts[n++], tx->seg_ts, marker, tx->event, true, tx->volume, (uint16_t)dur);
		owe_final(tx, (uint16_t)dur, true);
		tx->fin_left = 2;
		tx->active = tx->stopping = false;
		return n;
	}
	if (dur > 0xFFFF) {
		/* Long event (2.5.1.3): close this segment at 0xFFFF, start the next. */
		mkpkt(&pkts[n++], tx->seg_ts, false, tx->event, false, tx->volume, 0xFFFF);
		owe_final(tx, 0xFFFF, false);
		tx->fin_left = 2;
		tx->seg_ts += 0xFFFF;
		dur -= 0xFFFF;
	}
	tx->seg_dur = dur;
	mkpkt(&pkts[n++], tx->seg_ts, marker, tx->event, false, tx->volume, (uint16_t)dur);
	return n;
}

unsigned te_tx_tick(struct te_tx *tx, uint32_t ts, struct te_pkt pkts[TE_TX_MAXPKT])
{
	unsigned n = 0;

	/* A final packet still owed goes first; the next event interleaves with it. */
	if (tx->fin_left) {
		pkts[n++] = tx->fin;
		tx->fin_left--;
	}
	if (tx->active)
		n += event_pkts(tx, ts, pkts + n);
	return n;
}
