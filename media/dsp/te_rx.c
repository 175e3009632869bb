/*
 * RFC 4733 telephone-event receiver: payloads -> digit start/stop.
 *
 * Identity of an event is its RTP timestamp (2.5.2.1): every packet of one
 * event (or of one segment of a long event) carries the timestamp of its
 * beginning, so timestamps alone tell a new event from an update, a duplicate
 * or one of the three redundant end packets. The marker bit is only advisory:
 * senders that never set it, and lost start packets, must not lose digits.
 */
#include <string.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

/*
 * A packet this far behind the current/last event is not late but from
 * before a timestamp jump (sender restart without SSRC change): a new event.
 */
#define STALE_WINDOW DSP_MS(10000)
/*
 * A new segment of a long event starts at the old timestamp + 0xFFFF
 * (2.5.1.3); some senders round to their packet grid, so allow a few packets.
 */
#define SEG_SLACK (2 * DSP_BLOCK)
/* Updates that may be lost at the end of a segment without breaking the event in two. */
#define SEG_LOSS DSP_MS(200)

void te_rx_init(struct te_rx *rx, te_rx_h *h, void *arg)
{
	memset(rx, 0, sizeof(*rx));
	rx->h = h;
	rx->arg = arg;
	rx->timeout = TE_RX_TIMEOUT_DEFAULT;
}

static void end_open(struct te_rx *rx)
{
	rx->active = false;
	rx->have_end = true;
	rx->end_event = rx->event;
	rx->end_ts = rx->ts;
	rx->stats.stops++;
	if (rx->h)
		rx->h(TE_RX_STOP, rx->event, rx->base + rx->dur, rx->arg);
}

static void begin(struct te_rx *rx, uint8_t ev, bool end, uint16_t dur, uint32_t ts, bool marker)
{
	rx->active = true;
	rx->event = ev;
	rx->ts = ts;
	rx->base = 0;
	rx->dur = dur;
	rx->idle = 0;
	rx->stats.starts++;
	if (!marker)
		rx->stats.late_starts++;
	if (rx->h)
		rx->h(TE_RX_START, ev, dur, rx->arg);
	if (end)
		end_open(rx);
}

/* The same key, one segment later, and the current segment had (nearly) run full. */
static bool is_next_segment(const struct te_rx *rx, uint8_t ev, int32_t d)
{
	return ev == rx->event && d >= 0xFFFF - SEG_SLACK && d <= 0xFFFF + SEG_SLACK &&
	       rx->dur + SEG_LOSS >= 0xFFFF;
}

/* One 4-byte event block. Returns after at most one stop and one start. */
static void on_block(struct te_rx *rx, uint8_t ev, bool end, uint16_t dur, uint32_t ts, bool marker)
{
	if (ev > DSP_EV_FLASH) {
		rx->stats.ignored++;
		return;
	}
	if (rx->active) {
		int32_t d = (int32_t)(ts - rx->ts);

		if (d == 0 && ev == rx->event) {
			rx->idle = 0;
			if (dur > rx->dur)
				rx->dur = dur; /* reordered updates never shorten it */
			if (end)
				end_open(rx);
			return;
		}
		if (d < 0 && d > -(int32_t)STALE_WINDOW) {
			rx->stats.dups++; /* late packet of an earlier event or segment */
			return;
		}
		if (d > 0 && is_next_segment(rx, ev, d)) {
			rx->stats.segments++;
			rx->base += (uint32_t)d;
			rx->ts = ts;
			rx->dur = dur;
			rx->idle = 0;
			if (end)
				end_open(rx);
			return;
		}
		/* A newer event while this one is open: its end packets were lost. */
		rx->stats.superseded++;
		end_open(rx);
	} else if (rx->have_end) {
		int32_t d = (int32_t)(ts - rx->end_ts);

		if ((d == 0 && ev == rx->end_event) || (d < 0 && d > -(int32_t)STALE_WINDOW)) {
			rx->stats.dups++; /* redundant end packet, or later */
			return;
		}
	}
	begin(rx, ev, end, dur, ts, marker);
}

int te_rx_packet(struct te_rx *rx, const uint8_t *payload, size_t len, uint32_t ts, bool marker)
{
	if (len == 0 || len % 4 != 0) {
		rx->stats.malformed++;
		return EBADMSG;
	}
	/*
	 * Several events packed in one packet (2.5.1.5) are consecutive and
	 * contiguous: each begins where the previous one's duration ends.
	 */
	for (size_t off = 0; off < len; off += 4) {
		uint8_t ev, vol;
		bool end;
		uint16_t dur;

		te_payload_decode(payload + off, &ev, &end, &vol, &dur);
		on_block(rx, ev, end, dur, ts, marker);
		ts += dur;
	}
	return 0;
}

void te_rx_tick(struct te_rx *rx, uint32_t samples)
{
	if (!rx->active)
		return;
	rx->idle += samples;
	if (rx->idle >= rx->timeout) {
		rx->stats.timeouts++;
		end_open(rx);
	}
}

void te_rx_reset(struct te_rx *rx)
{
	if (rx->active)
		end_open(rx);
	rx->have_end = false;
}
