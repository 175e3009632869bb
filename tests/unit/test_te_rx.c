/*
 * Unit tests for media/dsp te_rx, the RFC 4733 telephone-event receiver: end
 * packet redundancy, events without marker, duplicates, lost start packets,
 * long events in segments, a new event before the previous end, packed
 * events, timeouts, bad lengths; and SIPp's own RFC 2833 pcaps
 * (/usr/share/sip-tester, skipped when absent) as a real sender's packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

/* ---- RFC 4733 receiver ---- */

struct rx_log {
	char kind[64]; /* 'S' start, 'E' stop */
	int ev[64];
	uint32_t dur[64];
	int n;
};

static void rx_h(enum te_rx_act act, int event, uint32_t duration, void *arg)
{
	struct rx_log *l = arg;

	assert_true(l->n < 63);
	l->kind[l->n] = act == TE_RX_START ? 'S' : 'E';
	l->ev[l->n] = event;
	l->dur[l->n] = duration;
	l->n++;
	l->kind[l->n] = 0;
}

static void pkt(struct te_rx *rx, int ev, bool e, uint32_t dur, uint32_t ts, bool m)
{
	uint8_t p[4] = {(uint8_t)ev, (uint8_t)((e ? 0x80 : 0) | 10), (uint8_t)(dur >> 8),
	                (uint8_t)dur};

	assert_int_equal(te_rx_packet(rx, p, 4, ts, m), 0);
}

/* A whole event as a conforming sender sends it: start, updates, 3 ends. */
static void event_pkts(struct te_rx *rx, int ev, uint32_t ts, uint32_t total, bool marker,
                       int first_dur_blocks, int dup)
{
	uint32_t d;

	for (d = (uint32_t)first_dur_blocks * DSP_BLOCK; d < total; d += DSP_BLOCK)
		for (int k = 0; k <= dup; k++) {
			pkt(rx, ev, false, d, ts, marker && d == DSP_BLOCK);
			te_rx_tick(rx, DSP_BLOCK);
		}
	for (int i = 0; i < 3; i++)
		for (int k = 0; k <= dup; k++)
			pkt(rx, ev, true, total, ts, false);
}

static void test_rx_normal_and_redundant_ends(void **state)
{
	struct te_rx rx;
	struct rx_log l = {0};

	(void)state;
	te_rx_init(&rx, rx_h, &l);
	event_pkts(&rx, 5, 1000, 800, true, 1, 0);
	assert_string_equal(l.kind, "SE");
	assert_int_equal(l.ev[0], 5);
	assert_int_equal(l.dur[0], 160);
	assert_int_equal(l.dur[1], 800);
	assert_int_equal(rx.stats.dups, 2);
	assert_int_equal(rx.stats.late_starts, 0);
	/* The same digit again: a new timestamp is a new event. */
	event_pkts(&rx, 5, 3000, 480, true, 1, 0);
	assert_string_equal(l.kind, "SESE");
	assert_int_equal(l.dur[3], 480);
}

static void test_rx_no_marker_and_duplicates(void **state)
{
	struct te_rx rx;
	struct rx_log l = {0};

	(void)state;
	te_rx_init(&rx, rx_h, &l);
	event_pkts(&rx, 11, 5000, 960, false, 1, 1); /* every packet twice, never a marker */
	assert_string_equal(l.kind, "SE");
	assert_int_equal(l.ev[0], 11);
	assert_int_equal(l.dur[1], 960);
	assert_int_equal(rx.stats.late_starts, 1);
	assert_int_equal(rx.stats.dups, 5); /* the 6 end copies minus the first */
	/* Reordered update: a lower duration after a higher one does not shorten. */
	pkt(&rx, 2, false, 480, 9000, true);
	pkt(&rx, 2, false, 320, 9000, false);
	pkt(&rx, 2, true, 0, 9000, false); /* broken end with duration 0 */
	assert_string_equal(l.kind, "SESE");
	assert_int_equal(l.dur[3], 480);
}

static void test_rx_lost_start_and_end_only(void **state)
{
	struct te_rx rx;
	struct rx_log l = {0};

	(void)state;
	te_rx_init(&rx, rx_h, &l);
	/* The first three packets are lost: the event begins from an update. */
	event_pkts(&rx, 3, 7000, 960, true, 4, 0);
	assert_string_equal(l.kind, "SE");
	assert_int_equal(l.dur[0], 640);
	assert_int_equal(l.dur[1], 960);
	assert_int_equal(rx.stats.late_starts, 1);
	/* Only the end packets arrive. */
	for (int i = 0; i < 3; i++)
		pkt(&rx, 9, true, 1120, 9000, false);
	assert_string_equal(l.kind, "SESE");
	assert_int_equal(l.ev[2], 9);
	assert_int_equal(l.dur[3], 1120);
}

static void test_rx_long_event_segments(void **state)
{
	struct te_rx rx;
	struct rx_log l = {0};
	uint32_t ts = 0xFFFF0000u; /* also crosses the 32-bit timestamp wrap */

	(void)state;
	te_rx_init(&rx, rx_h, &l);
	for (uint32_t d = DSP_BLOCK; d < 0xFFFF; d += DSP_BLOCK * 8) {
		pkt(&rx, 0, false, d, ts, d == DSP_BLOCK);
		te_rx_tick(&rx, DSP_BLOCK * 8);
	}
	for (int i = 0; i < 3; i++)
		pkt(&rx, 0, false, 0xFFFF, ts, false); /* segment end: no E bit */
	/* Second segment at ts + 0xFFFF, no marker; a late first-segment packet. */
	pkt(&rx, 0, false, 160, ts + 0xFFFF, false);
	pkt(&rx, 0, false, 0xFFFF, ts, false);
	pkt(&rx, 0, false, 1600, ts + 0xFFFF, false);
	for (int i = 0; i < 3; i++)
		pkt(&rx, 0, true, 2000, ts + 0xFFFF, false);
	assert_string_equal(l.kind, "SE");
	assert_int_equal(l.dur[1], 0xFFFF + 2000);
	assert_int_equal(rx.stats.segments, 1);
	assert_int_equal(rx.stats.superseded, 0);
	/* A short event still open (no ticks) and the same key 0xFFFF later: two presses. */
	te_rx_init(&rx, rx_h, &l);
	l.n = 0;
	pkt(&rx, 6, false, 160, 500, true);
	pkt(&rx, 6, false, 160, 500 + 0xFFFF, true);
	assert_string_equal(l.kind, "SES");
	assert_int_equal(rx.stats.segments, 0);
}

static void test_rx_new_event_before_end(void **state)
{
	struct te_rx rx;
	struct rx_log l = {0};

	(void)state;
	te_rx_init(&rx, rx_h, &l);
	pkt(&rx, 1, false, 160, 100, true);
	pkt(&rx, 1, false, 320, 100, false);
	/* All of 1's end packets are lost; 2 begins. */
	pkt(&rx, 2, false, 160, 900, true);
	/* 1's end packets arrive late, after 2 began: dropped. */
	pkt(&rx, 1, true, 480, 100, false);
	pkt(&rx, 2, false, 320, 900, false);
	pkt(&rx, 2, true, 480, 900, false);
	pkt(&rx, 2, true, 480, 900, false);
	/* Packed (2.5.1.5): 4 ended (320) then 6 starting at ts + 320. */
	uint8_t two[8] = {4, 0x80 | 10, 0x01, 0x40, 6, 10, 0x00, 0xa0};

	assert_int_equal(te_rx_packet(&rx, two, 8, 2000, true), 0);
	pkt(&rx, 6, true, 480, 2320, false);
	assert_string_equal(l.kind, "SESESESE");
	assert_int_equal(l.ev[0], 1);
	assert_int_equal(l.dur[1], 320);
	assert_int_equal(l.ev[2], 2);
	assert_int_equal(l.dur[3], 480);
	assert_int_equal(l.ev[4], 4);
	assert_int_equal(l.dur[5], 320);
	assert_int_equal(l.ev[6], 6);
	assert_int_equal(l.dur[7], 480);
	assert_int_equal(rx.stats.superseded, 1);
	assert_true(rx.stats.dups >= 2);
}

static void test_rx_timeout_bad_lengths_and_reset(void **state)
{
	struct te_rx rx;
	struct rx_log l = {0};
	uint8_t p[5] = {1, 0, 0, 160, 0};

	(void)state;
	te_rx_init(&rx, rx_h, &l);
	assert_int_equal(te_rx_packet(&rx, p, 0, 0, true), EBADMSG);
	assert_int_equal(te_rx_packet(&rx, p, 3, 0, true), EBADMSG);
	assert_int_equal(te_rx_packet(&rx, p, 5, 0, true), EBADMSG);
	assert_int_equal(l.n, 0);
	/* Non-DTMF events are ignored. */
	pkt(&rx, 70, false, 160, 10, true);
	assert_int_equal(l.n, 0);
	assert_int_equal(rx.stats.ignored, 1);
	/* An event whose packets stop: ended by the timeout. */
	pkt(&rx, 8, false, 160, 50, true);
	pkt(&rx, 8, false, 320, 50, false);
	for (int i = 0; i < 14; i++)
		te_rx_tick(&rx, DSP_BLOCK);
	assert_string_equal(l.kind, "S");
	te_rx_tick(&rx, DSP_BLOCK);
	assert_string_equal(l.kind, "SE");
	assert_int_equal(l.dur[1], 320);
	assert_int_equal(rx.stats.timeouts, 1);
	pkt(&rx, 8, true, 2400, 50, false); /* its late end changes nothing */
	assert_string_equal(l.kind, "SE");
	/* reset stops an open event; after it, an old timestamp is a new event. */
	pkt(&rx, 4, false, 160, 5000, true);
	te_rx_reset(&rx);
	assert_string_equal(l.kind, "SESE");
	pkt(&rx, 4, true, 800, 5000, false);
	assert_string_equal(l.kind, "SESESE");
}

/* ---- SIPp's RFC 2833 pcaps: a real sender's packets ---- */

#define SIPP_DIR "/usr/share/sip-tester/"

struct rtp_pkt {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	const uint8_t *payload;
	size_t len;
};

static uint8_t pcap_buf[128 * 1024];

/* Reads an Ethernet/IPv4/UDP/RTP pcap; returns the number of RTP packets, -1 if unreadable. */
static int read_pcap(const char *path, struct rtp_pkt *out, int max)
{
	FILE *f = fopen(path, "rb");
	size_t n, o = 24;
	int k = 0;

	if (!f)
		return -1;
	n = fread(pcap_buf, 1, sizeof(pcap_buf), f);
	fclose(f);
	if (n < 24 || pcap_buf[0] != 0xd4 || pcap_buf[1] != 0xc3 || pcap_buf[20] != 1)
		return -1; /* little-endian pcap, link type Ethernet only */
	while (o + 16 <= n && k < max) {
		uint32_t incl = (uint32_t)pcap_buf[o + 8] | (uint32_t)pcap_buf[o + 9] << 8 |
		                (uint32_t)pcap_buf[o + 10] << 16 | (uint32_t)pcap_buf[o + 11] << 24;
		const uint8_t *p = pcap_buf + o + 16;

		o += 16 + incl;
		if (o > n || incl < 14 + 20 + 8 + 12)
			break;
		size_t ihl = (size_t)(p[14] & 15) * 4;
		const uint8_t *rtp = p + 14 + ihl + 8;
		size_t rl = incl - 14 - ihl - 8;

		if (rl < 12 || (rtp[0] >> 6) != 2)
			continue;
		out[k].marker = rtp[1] >> 7;
		out[k].pt = rtp[1] & 127;
		out[k].seq = (uint16_t)(rtp[2] << 8 | rtp[3]);
		out[k].ts = (uint32_t)rtp[4] << 24 | (uint32_t)rtp[5] << 16 |
		            (uint32_t)rtp[6] << 8 | rtp[7];
		out[k].payload = rtp + 12;
		out[k].len = rl - 12;
		k++;
	}
	return k;
}

static void test_rx_sipp_pcaps(void **state)
{
	static const char *const names[] = {"0", "1", "2", "3", "4",    "5",
	                                    "6", "7", "8", "9", "star", "pound"};
	static struct rtp_pkt pk[64];
	int files = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char path[128];
		struct te_rx rx;
		struct rx_log l = {0};
		uint32_t last_end = 0;
		int want = dsp_event_from_char(i < 10 ? names[i][0] : i == 10 ? '*' : '#');

		snprintf(path, sizeof(path), SIPP_DIR "dtmf_2833_%s.pcap", names[i]);
		int k = read_pcap(path, pk, ARRAY_SIZE(pk));

		if (k < 0)
			continue;
		files++;
		te_rx_init(&rx, rx_h, &l);
		for (int j = 0; j < k; j++) {
			assert_int_equal(pk[j].len, 4);
			if (pk[j].payload[1] & 0x80)
				last_end = (uint32_t)(pk[j].payload[2] << 8 | pk[j].payload[3]);
			assert_int_equal(
			    te_rx_packet(&rx, pk[j].payload, pk[j].len, pk[j].ts, pk[j].marker), 0);
			te_rx_tick(&rx, DSP_BLOCK);
		}
		/* one digit, its duration from the end packets, the 2 repeats dropped */
		assert_string_equal(l.kind, "SE");
		assert_int_equal(l.ev[0], want);
		assert_true(last_end > 0);
		assert_int_equal(l.dur[1], last_end);
		assert_int_equal(rx.stats.dups, 2);
		assert_int_equal(rx.stats.late_starts, 0);
	}
	printf("SIPp RFC 2833 pcaps decoded: %d\n", files);
	if (!files)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rx_normal_and_redundant_ends),
	    cmocka_unit_test(test_rx_no_marker_and_duplicates),
	    cmocka_unit_test(test_rx_lost_start_and_end_only),
	    cmocka_unit_test(test_rx_long_event_segments),
	    cmocka_unit_test(test_rx_new_event_before_end),
	    cmocka_unit_test(test_rx_timeout_bad_lengths_and_reset),
	    cmocka_unit_test(test_rx_sipp_pcaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
