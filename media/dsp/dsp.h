/*
 * dsp: the signal processing of one media channel: DTMF in both directions
 * (RFC 4733 telephone-events, in-band tones through spandsp, SIP INFO bodies)
 * and echo cancelling (speexdsp) with the 2100 Hz answer-tone disabler.
 *
 * Audio is 16-bit linear at 8 kHz in blocks of DSP_BLOCK samples (20 ms), the
 * B-channel's clock. All state is embedded in the caller's struct: x_init()
 * works on caller memory and the per-block and per-packet calls allocate
 * nothing (ec_init allocates the speexdsp state once, at call setup).
 * Threading: a channel's state belongs to the one media worker that owns the
 * channel; nothing here locks. The event/INFO helpers are pure functions.
 *
 * Directions (IP = RTP side, PSTN = B-channel side):
 *   IP -> PSTN: te_rx (RFC 4733 packets) or INFO -> dtmf_gen -> tones into the
 *               block written to the B-channel.
 *   PSTN -> IP: block read from the B-channel -> ec -> dtmf_det (spandsp
 *               dtmf_rx, mutes the tone) -> te_tx (RFC 4733 packets) / INFO.
 * dsp_chan (at the end) wires all of it for one channel; a media worker
 * needs only that part.
 */
#ifndef TANDEM_MEDIA_DSP_H
#define TANDEM_MEDIA_DSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spandsp/telephony.h>
#include <spandsp/complex.h>
#include <spandsp/logging.h>
#include <spandsp/private/logging.h>
#include <spandsp/queue.h>
#include <spandsp/private/queue.h>
#include <spandsp/tone_detect.h>
#include <spandsp/tone_generate.h>
#include <spandsp/private/tone_generate.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>
#include <spandsp/private/dtmf.h>
#include <spandsp/power_meter.h>
#include <spandsp/async.h>
#include <spandsp/fsk.h>
#include <spandsp/private/fsk.h>
#include <spandsp/modem_connect_tones.h>
#include <spandsp/private/modem_connect_tones.h>

#include "core/pl.h"

#define DSP_RATE   8000
#define DSP_BLOCK  160 /* samples per block: 20 ms */
#define DSP_MS(ms) ((uint32_t)(ms) * (DSP_RATE / 1000))

/* ---- Event codes (RFC 4733 section 3.2): 0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash ---- */

enum {
	DSP_EV_DTMF_MAX = 15, /* events 0..15 are DTMF digits */
	DSP_EV_FLASH = 16,
};

/* '0'..'9', '*', '#', 'A'..'D' (either case) -> 0..15, '!' -> 16; -1 otherwise. */
int dsp_event_from_char(int c);
/* 0..15 -> the digit character, 16 -> '!'; 0 for anything else. */
int dsp_event_to_char(int ev);

/* ---- te_rx: RFC 4733 telephone-event receiver (IP -> PSTN) ----
 *
 * Turns telephone-event payloads into digit start/stop actions: a start when an
 * event is first seen (with or without the marker, so a lost start packet only
 * delays it to the first update), a stop on the first end packet (the two
 * redundant copies and any late update are dropped by timestamp), on a newer
 * event superseding one whose end packets were all lost, or after `timeout`
 * samples with no packet for the open event. Long events (RFC 4733 2.5.1.3:
 * duration 0xFFFF, then a new segment at timestamp + 0xFFFF without marker)
 * stay one digit, and packets that pack several events (2.5.1.5) are split.
 * Only events 0..16 are reported (16, flash, is for signalling: dtmf_gen
 * refuses it); others are counted and ignored. Sequence numbers are not
 * needed: feed packets in arrival order, straight from the socket (not
 * through the audio jitter buffer); the volume field is not used.
 */

enum te_rx_act {
	TE_RX_START,
	TE_RX_STOP,
};

/* duration: samples so far (START) or the event's total (STOP). */
typedef void(te_rx_h)(enum te_rx_act act, int event, uint32_t duration, void *arg);

struct te_rx_stats {
	uint32_t starts, stops;
	uint32_t late_starts; /* first packet seen had no marker (start lost or not sent) */
	uint32_t dups;        /* redundant end packets, duplicates and late updates dropped */
	uint32_t superseded;  /* events ended by a newer event (their ends were lost) */
	uint32_t timeouts;    /* events ended by te_rx_tick() */
	uint32_t segments;    /* long-event segment continuations */
	uint32_t ignored;     /* events outside 0..16 */
	uint32_t malformed;   /* payloads of a bad length */
};

struct te_rx {
	te_rx_h *h;
	void *arg;
	uint32_t timeout; /* samples without a packet before an open event is ended */
	bool active;
	uint8_t event;
	uint32_t ts;   /* RTP timestamp of the open event's current segment */
	uint32_t base; /* duration of its previous segments (long events) */
	uint32_t dur;  /* highest duration seen in the current segment */
	uint32_t idle; /* samples since the last packet of the open event */
	bool have_end; /* the last ended event, to drop its redundant end packets */
	uint8_t end_event;
	uint32_t end_ts;
	struct te_rx_stats stats;
};

#define TE_RX_TIMEOUT_DEFAULT DSP_MS(300)

void te_rx_init(struct te_rx *rx, te_rx_h *h, void *arg);
/* Forgets everything (new SSRC); an open event is stopped first. */
void te_rx_reset(struct te_rx *rx);
/*
 * One RTP packet of the telephone-event payload type: payload without RTP
 * header and padding, its RTP timestamp and marker bit. Returns 0, or EBADMSG
 * when len is 0 or not a multiple of 4 (nothing is acted on then).
 */
int te_rx_packet(struct te_rx *rx, const uint8_t *payload, size_t len, uint32_t ts, bool marker);
/* Time passing on the media clock (call once per block with DSP_BLOCK). */
void te_rx_tick(struct te_rx *rx, uint32_t samples);

/* ---- dtmf_gen: in-band DTMF generator (IP -> PSTN) ----
 *
 * Tones (Q.23 frequencies) are made with spandsp's DDS, by default at -10 dBm0
 * for the low group and -8 dBm0 for the high group (+2 dB twist, the usual
 * network practice and well inside what Q.24 receivers accept; the event's
 * own volume field is not used). A tone lasts as long as the
 * event did (its reported duration), at least min_on and at most max_on; tones
 * are separated by at least min_off of silence. Digits that arrive faster than
 * that wait in a queue (DTMF_GEN_QLEN), so none is lost or shortened below
 * Q.24's 40 ms.
 */

#define DTMF_GEN_QLEN 32

/* Zero fields take the defaults. */
struct dtmf_gen_cfg {
	int low_dbm0;        /* low-group tone level; default -10 */
	int high_dbm0;       /* high-group tone level; default -8 (twist within 4 dB) */
	uint32_t min_on_ms;  /* default 40 */
	uint32_t min_off_ms; /* default 40 */
	uint32_t max_on_ms;  /* default 10000: an open event never plays longer */
};

struct dtmf_gen_ent {
	uint8_t event;
	bool open;       /* started, stop not yet received */
	uint32_t target; /* samples to play once closed */
};

struct dtmf_gen_stats {
	uint32_t played;
	uint32_t dropped; /* queue full */
};

struct dtmf_gen {
	int16_t amp_lo, amp_hi;
	uint32_t min_on, min_off, max_on; /* samples */
	struct dtmf_gen_ent q[DTMF_GEN_QLEN];
	unsigned head, count;
	bool playing;      /* q[head] is sounding */
	uint32_t played;   /* samples of q[head] played */
	uint32_t gap_left; /* samples of pause still owed before the next tone */
	uint32_t ph_lo, ph_hi;
	int32_t rate_lo, rate_hi;
	struct dtmf_gen_stats stats;
};

/* cfg NULL: the defaults. Returns 0 or EINVAL (level, twist or timing out of range). */
int dtmf_gen_init(struct dtmf_gen *g, const struct dtmf_gen_cfg *cfg);
/* An event begins; it sounds until dtmf_gen_stop(). ENOSPC (queue full) or EINVAL. */
int dtmf_gen_start(struct dtmf_gen *g, int event);
/* The newest open `event` ends after `duration` samples in all. ENOENT if none is open. */
int dtmf_gen_stop(struct dtmf_gen *g, int event, uint32_t duration);
/* A whole digit at once (SIP INFO, RFC 2833 end-only): start + stop. */
int dtmf_gen_digit(struct dtmf_gen *g, int event, uint32_t duration);
/*
 * Writes over the block (n samples) that goes to the B-channel: tone, or the
 * silence owed between tones, replaces the audio while digits are playing or
 * queued; samples after the last pause keep their audio. Returns true if it
 * wrote anything, false if it left the block untouched (nothing to play).
 */
bool dtmf_gen_block(struct dtmf_gen *g, int16_t *amp, size_t n);
bool dtmf_gen_busy(const struct dtmf_gen *g);
/* The event sounding now, or -1 (pause, idle). */
int dtmf_gen_current(const struct dtmf_gen *g);
void dtmf_gen_flush(struct dtmf_gen *g);

/* ---- dtmf_det: tones heard on the B-channel (PSTN -> IP) ----
 *
 * spandsp's dtmf_rx runs on every block read from the B-channel. To keep the
 * tone out of the RTP audio, the audio is delayed inside the detector by a
 * look-ahead of 1 block (default, 20 ms) or 2 blocks (40 ms): the block handed
 * back is that much older, and it is flagged "mute" when spandsp showed a
 * digit or a first, unconfirmed hit ("maybe", dtmf_rx_status 'x') in that
 * block, in the look-ahead blocks after it, or in the block before it (a
 * hangover for the tone's tail, which spandsp's 102-sample analysis can
 * declare ended before the last tone samples have passed).
 * What leaks: spandsp needs one full 102-sample window of tone for its first
 * hit, so with 1 block of look-ahead a tone starting in the last ~40 samples
 * of a block can have up to 42 samples (5 ms) of its onset unmuted, far
 * below what any detector takes for a digit; with 2 blocks nothing leaks
 * (tests/unit/test_dtmf.c sweeps onsets and lengths). The cost is the delay
 * on this direction and, rarely, muted speech after a false "maybe".
 * The caller replaces a muted block with silence or comfort noise.
 */

#define DTMF_DET_MAX_LOOKAHEAD 2

/* on: digit start (true) or stop (false); volume: RFC 4733 volume (-dBm0, 0..63). */
typedef void(dtmf_det_h)(int event, bool on, uint8_t volume, void *arg);

struct dtmf_det {
	dtmf_rx_state_t rx;
	dtmf_det_h *h;
	void *arg;
	int16_t delay[DTMF_DET_MAX_LOOKAHEAD][DSP_BLOCK];
	unsigned lookahead; /* blocks of delay: 1 or 2 */
	unsigned pos;
	uint32_t hist;  /* bit i: block n-i showed a hit */
	int digit;      /* confirmed event, or -1 */
	uint8_t volume; /* RFC 4733 volume of the latest blocks */
	uint8_t prev_volume;
	uint32_t muted; /* blocks flagged, for statistics */
	uint32_t quiet;   /* quiet blocks in a row that dtmf_rx has seen */
	uint32_t skipped; /* quiet blocks not given to dtmf_rx, for statistics */
	bool off;       /* passthrough: still delayed, no detection, no muting */
};

void dtmf_det_init(struct dtmf_det *d, dtmf_det_h *h, void *arg);
/* 1 (default) or 2 blocks; before the first block. EINVAL otherwise. */
int dtmf_det_set_lookahead(struct dtmf_det *d, unsigned blocks);
void dtmf_det_release(struct dtmf_det *d);
/*
 * Passthrough for the rest of the call (fax/modem: a false "maybe" must not
 * mute modem audio). The delay stays, so the audio does not jump; an open
 * digit is reported stopped.
 */
void dtmf_det_disable(struct dtmf_det *d);
/*
 * in: the block read from the B-channel (after echo cancelling). out: the block
 * to send as RTP audio (`lookahead` blocks late). Returns true if out must be
 * replaced by silence/comfort noise. Starts and stops are reported through h
 * during the call.
 */
bool dtmf_det_block(struct dtmf_det *d, const int16_t in[DSP_BLOCK], int16_t out[DSP_BLOCK]);

/* ---- te_tx: RFC 4733 telephone-event sender (PSTN -> IP) ----
 *
 * Per block (te_tx_tick) it yields the packets a conforming sender emits: the
 * first packet of an event with the marker, then one update per block with the
 * same timestamp and a duration growing by DSP_BLOCK, then the end packet (E
 * bit, final duration) sent three times, one per block (2.5.1.4). Events
 * longer than 0xFFFF samples are cut into segments (2.5.1.3). The end copies
 * of one event continue, interleaved, if the next event already started.
 */

#define TE_TX_MAXPKT 3

struct te_pkt {
	uint32_t ts; /* RTP timestamp of the packet */
	bool marker;
	uint8_t payload[4]; /* event, E|R|volume, duration (network order) */
};

struct te_tx {
	bool active;
	bool stopping;
	bool first; /* next packet of the open event is its first */
	uint8_t event;
	uint8_t volume;
	uint32_t seg_ts;  /* timestamp of the current segment */
	uint32_t seg_dur; /* duration reported for the current segment */
	/* final packet (end or segment end) still owed in copies */
	uint8_t fin_left;
	struct te_pkt fin;
};

void te_tx_init(struct te_tx *tx);
/* A digit began. An open one is ended first. EINVAL for a bad event. */
int te_tx_start(struct te_tx *tx, int event, uint8_t volume);
/*
 * The digit ended during this block: the final duration includes this block,
 * and the end packets go out from this block's te_tx_tick() on.
 */
void te_tx_stop(struct te_tx *tx);
/*
 * Once per block, with the RTP timestamp the audio of this block would carry.
 * Writes the packets to send now, in order, and returns their count (0..3).
 * The caller gives each its own sequence number, the telephone-event payload
 * type and the marker from the packet.
 */
unsigned te_tx_tick(struct te_tx *tx, uint32_t ts, struct te_pkt pkts[TE_TX_MAXPKT]);
bool te_tx_busy(const struct te_tx *tx);

/* Decodes a 4-byte telephone-event block. */
static inline void te_payload_decode(const uint8_t p[4], uint8_t *event, bool *end, uint8_t *volume,
                                     uint16_t *duration)
{
	*event = p[0];
	*end = (p[1] & 0x80) != 0;
	*volume = p[1] & 0x3f;
	*duration = (uint16_t)((p[2] << 8) | p[3]);
}

/* ---- SIP INFO bodies ----
 *
 * application/dtmf-relay: "Signal=5\r\nDuration=160\r\n" (Duration in ms;
 * keys case-insensitive, spaces around '=' and LF-only lines accepted, other
 * keys ignored; Signal may be a digit character or an event number 0..16).
 * application/dtmf: the digit alone ("5"), surrounding white space allowed.
 * Parsers take a slice of the body; duration_ms is 0 when absent. They return
 * 0 or EBADMSG. Builders write a NUL-terminated body and its length; ENOSPC if
 * it does not fit, EINVAL for a bad event.
 */

#define DTMF_INFO_MAX_MS 60000u

int dtmf_info_relay_parse(struct pl body, int *event, uint32_t *duration_ms);
int dtmf_info_relay_build(char *buf, size_t size, size_t *len, int event, uint32_t duration_ms);
int dtmf_info_dtmf_parse(struct pl body, int *event);
int dtmf_info_dtmf_build(char *buf, size_t size, size_t *len, int event);

/* ---- ec: echo canceller on the B-channel side ----
 *
 * speexdsp's MDF canceller, frame DSP_BLOCK, tail configurable (default 64 ms).
 * spandsp's modem_connect_tones_rx listens for the 2100 Hz answer tone (fax CED,
 * modem ANS, with or without phase reversals) in both directions; once heard,
 * the canceller is off for the rest of the call and ec_block() returns
 * EC_EV_TONE once. (spandsp's own echo_can_update() is not used: Debian's 0.0.6
 * prints to stdout for every sample.)
 */

enum ec_event {
	EC_EV_NONE = 0,
	EC_EV_TONE, /* 2100 Hz heard: cancelling now off for good */
};

struct ec_cfg {
	uint32_t tail_ms;     /* default 64 */
	bool no_tone_disable; /* true: ignore the 2100 Hz tone (tests, modem-free trunks) */
};

struct SpeexEchoState_;

struct ec {
	struct SpeexEchoState_ *st;
	bool enabled;
	bool tone_heard;
	bool detect;
	uint32_t tail; /* samples */
	modem_connect_tones_rx_state_t ans_rec, ans_play;
	int16_t scratch[DSP_BLOCK];
};

/* Allocates the speexdsp state (once per call). cfg NULL: defaults. 0, ENOMEM, EINVAL. */
int ec_init(struct ec *ec, const struct ec_cfg *cfg);
void ec_release(struct ec *ec);
/*
 * rec: the block read from the B-channel (near end + echo); play: the block
 * written to the B-channel in the same tick (the echo's source). out (may be
 * rec) gets rec with the echo removed, or rec unchanged once disabled.
 */
enum ec_event ec_block(struct ec *ec, const int16_t rec[DSP_BLOCK], const int16_t play[DSP_BLOCK],
                       int16_t out[DSP_BLOCK]);
bool ec_enabled(const struct ec *ec);
/* Turns cancelling off for good (the signalling side saw T.38/fax, or config). */
void ec_disable(struct ec *ec);

/* ---- dsp_chan: all of the above for one channel, wired in the right order ----
 *
 * What a media worker calls per 20 ms tick (the TDM clock), in this order:
 *   dsp_chan_to_pstn(): the block decoded from RTP (or concealed) goes in; te_rx
 *     time passes and queued digits overwrite it with tones; the result is
 *     what to write to the B-channel (and the echo canceller's reference).
 *   dsp_chan_from_pstn(): the block read from the B-channel goes in; echo is
 *     cancelled against the last block written, DTMF is detected and muted,
 *     and the RFC 4733 packets to send this tick come out.
 * Between ticks: dsp_chan_te_packet() for each telephone-event RTP packet and
 * dsp_chan_digit() for a digit from SIP INFO.
 * Our own tones come back through the hybrid before the canceller has learnt
 * it (a phone often keys before it ever talked): a digit heard while we play
 * the same digit, or within the echo tail plus detection time after, is taken
 * for that echo and neither sent nor reported (stats.own_echo). The PSTN
 * pressing the very digit we are playing at that moment is lost with it.
 * The fax tone is only listened for while echo cancelling is on; once heard,
 * echo cancelling and DTMF detection/muting are off for the rest of the call. Events for signalling
 * (digits heard, for SIP INFO peers; flash; the fax/modem tone) come through the handler, on the
 * media thread: forward them, do not block.
 */

enum dsp_chan_ev {
	DSP_CHAN_DIGIT_START, /* heard on the B-channel */
	DSP_CHAN_DIGIT_STOP,  /* duration: samples */
	DSP_CHAN_FLASH,       /* RFC 4733 event 16 from the IP side */
	DSP_CHAN_FAX_TONE,    /* 2100 Hz: echo cancelling is now off */
};

typedef void(dsp_chan_h)(enum dsp_chan_ev ev, int event, uint32_t duration, void *arg);

struct dsp_chan_cfg {
	struct dtmf_gen_cfg gen;
	struct ec_cfg ec;
	bool ec_off;            /* no echo cancelling (e.g. DAHDI's own does it) */
	unsigned det_lookahead; /* 0: default (1 block) */
};

struct dsp_chan {
	struct te_rx rx;
	struct dtmf_gen gen;
	struct dtmf_det det;
	struct te_tx tx;
	struct ec *ec; /* its own allocation, ~5 KB; NULL: no canceller on this channel */
	dsp_chan_h *h;
	void *arg;
	uint32_t dig_start; /* samples at the detected digit's start */
	struct {
		int event;      /* a digit we played (see above), or -1 */
		uint32_t until; /* its echo may be heard until this sample count */
	} own[4];               /* the latest few: queued digits follow each other closely */
	unsigned own_last;
	bool own_echo; /* the digit being heard is that echo: swallowed */
	struct {
		uint32_t own_echo; /* digits swallowed as echo of our own tones */
	} stats;
	uint32_t samples;        /* samples seen from the B-channel */
	int16_t play[DSP_BLOCK]; /* last block written to the B-channel */
	int16_t clean[DSP_BLOCK];
};

/* cfg NULL: defaults. 0, EINVAL, ENOMEM (speexdsp). */
int dsp_chan_init(struct dsp_chan *c, const struct dsp_chan_cfg *cfg, dsp_chan_h *h, void *arg);
void dsp_chan_release(struct dsp_chan *c);
/* blk: in, the audio from RTP; out, the block to write to the B-channel. */
void dsp_chan_to_pstn(struct dsp_chan *c, int16_t blk[DSP_BLOCK]);
/*
 * rd: the block read from the B-channel. out: the RTP audio for this tick;
 * returns true if it must be replaced by silence/comfort noise. pkts/npkts:
 * the telephone-event packets to send (ts: the RTP timestamp of this tick).
 */
bool dsp_chan_from_pstn(struct dsp_chan *c, const int16_t rd[DSP_BLOCK], uint32_t ts,
                        int16_t out[DSP_BLOCK], struct te_pkt pkts[TE_TX_MAXPKT], unsigned *npkts);
/* A telephone-event RTP packet (payload, timestamp, marker). 0 or EBADMSG. */
int dsp_chan_te_packet(struct dsp_chan *c, const uint8_t *payload, size_t len, uint32_t ts,
                       bool marker);
/* A digit from SIP INFO (duration in ms; 0: 100 ms). 0, EINVAL, ENOSPC. */
int dsp_chan_digit(struct dsp_chan *c, int event, uint32_t duration_ms);

#endif
