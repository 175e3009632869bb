/*
 * jb: an adaptive jitter buffer for 8 kHz audio in 20 ms frames (160
 * timestamp units per frame), pulled once per 20 ms tick by the TDM clock.
 * Packets of other lengths (10, 30, 40, 60 ms...) are cut into or merged to
 * 20 ms frames when the payload has one byte per timestamp unit (G.711, G.722).
 *
 * jb_put() takes (ssrc, seq, ts, payload) as they arrive; jb_get() is called
 * once per tick and says what to play: a frame, "conceal" (a frame is
 * missing, or one is inserted to grow the delay: run PLC), or "empty"
 * (nothing to play: silence). jb_pull_pcm() does the whole tick: decodes a
 * frame through a callback, feeds spandsp's PLC with it, or has the PLC fill
 * in. It copes with reorder, duplicates, loss, timestamp jumps, SSRC changes
 * (reset) and drift between the sender's clock and the TDM clock (a frame is
 * dropped or inserted when the level stays off the target); the target delay
 * follows the measured jitter within [min_ms, max_ms].
 *
 * Ownership and threading: struct jb is embedded in a media channel and
 * initialised in place; payloads are copied into slots inside it. Nothing
 * allocates after jb_init(). One thread (the channel's media worker).
 */
#ifndef TANDEM_MEDIA_JB_H
#define TANDEM_MEDIA_JB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spandsp/telephony.h>
#include <spandsp/plc.h>

#define JB_FRAME_TS    160  /* timestamp units per 20 ms frame at 8 kHz */
#define JB_SAMPLES     160  /* PCM samples per tick */
#define JB_PAYLOAD_MAX 160  /* bytes per frame: G.711 and G.722 carry 160 per 20 ms */
#define JB_GRAIN       80   /* 10 ms: packets of any multiple of it are re-cut to frames */
#define JB_SPAN_MAX    1280 /* largest packet re-cut: 160 ms */
#define JB_SLOTS       64   /* frames the buffer can hold: 1.28 s */
#define JB_WINDOW      50   /* ticks per adaptation window: 1 s */
#define JB_CONCEAL_MAX 10   /* missing frames concealed before going quiet */

struct jb_cfg {
	/* false (default): payloads carry one byte per timestamp unit (G.711,
	 * G.722 at 64 kbit/s), so packets of 10, 20, 30... ms are cut into or
	 * merged to 20 ms frames. true: each payload is one opaque 20 ms frame. */
	bool whole_frames;
	uint32_t min_ms;  /* lowest target delay; 0: 40 */
	uint32_t max_ms;  /* highest; 0: 200; at most 1080 (54 frames) */
	uint32_t init_ms; /* target at start; 0: min_ms */
};

enum jb_verdict {
	JB_FRAME = 0, /* a frame to play */
	JB_CONCEAL,   /* missing (or inserted): conceal */
	JB_EMPTY,     /* not started or the stream stopped: silence */
};

struct jb_stats {
	uint64_t put, played, concealed, empty;
	uint64_t late, dup, overflow;    /* packets dropped on arrival */
	uint64_t drop, insert;           /* frames dropped / inserted to adapt */
	uint64_t jumps, resets, resyncs; /* ts jumps, SSRC changes, re-primes */
	uint32_t level;                  /* frames ahead of playout (last put) */
	uint32_t target;                 /* target delay, frames */
	uint32_t jitter;                 /* spread of arrival leads, frames */
};

struct jb_slot {
	uint64_t frame; /* frame number + 1; 0: empty */
	uint16_t len;
	uint8_t have; /* halves present: bit 0 first 10 ms, bit 1 second; 3: whole */
	bool played;
	uint8_t data[JB_PAYLOAD_MAX];
};

struct jb {
	uint32_t min_f, max_f, target;
	bool whole;         /* cfg.whole_frames */
	uint32_t last_span; /* timestamp units the newest packet covered */
	bool started;       /* a timeline exists */
	bool have_src;      /* ssrc/last_seq valid */
	uint32_t ssrc;
	uint16_t last_seq;   /* newest sequence number seen */
	uint32_t last_ts;    /* its timestamp, after ts_off */
	uint32_t ts_off;     /* added to incoming timestamps (after jumps) */
	uint32_t play_ts;    /* timestamp of the next frame to play */
	uint64_t play_frame; /* its frame number */
	uint64_t max_frame;  /* newest frame stored + 1; 0: none */
	uint32_t prefetch;   /* ticks of the initial delay still to wait */
	uint32_t miss_run;   /* consecutive ticks without a frame */
	uint32_t late_run;   /* consecutive newest packets that came late */
	/* adaptation window */
	uint32_t win_ticks;
	int32_t win_max, win_min;
	bool win_any;
	uint32_t jitter;
	uint32_t pend_insert, pend_drop;
	struct jb_stats st;
	plc_state_t plc;
	struct jb_slot slot[JB_SLOTS];
};

/* The cache lines the next put and pull will touch (header, PLC, the slots at both
 * ends), so a worker can fetch them for the next channel while this one runs. */
static inline void jb_prefetch(const struct jb *jb)
{
	for (size_t off = 0; off < offsetof(struct jb, slot); off += 64)
		__builtin_prefetch((const char *)jb + off);
	__builtin_prefetch(&jb->slot[jb->play_frame % JB_SLOTS]);
	__builtin_prefetch(jb->slot[jb->play_frame % JB_SLOTS].data + 64);
	__builtin_prefetch(jb->slot[jb->play_frame % JB_SLOTS].data + 128);
	__builtin_prefetch(&jb->slot[jb->max_frame % JB_SLOTS]);
	__builtin_prefetch(jb->slot[jb->max_frame % JB_SLOTS].data + 64);
	__builtin_prefetch(jb->slot[jb->max_frame % JB_SLOTS].data + 128);
}

/* 0 or EINVAL (min > max, or max beyond the buffer). */
int jb_init(struct jb *jb, const struct jb_cfg *cfg);
/* Forgets the stream (keeps configuration and statistics). */
void jb_reset(struct jb *jb);
/* 0 (stored), EALREADY (duplicate), ETIME (too late), E2BIG (payload too
 * large), EINVAL (not a multiple of 10 ms when re-cutting), ENOSPC (too far
 * ahead even after a resync: dropped). A frame partly received (one half of
 * a re-cut packet lost) plays as missing. */
int jb_put(struct jb *jb, uint32_t ssrc, uint16_t seq, uint32_t ts, const uint8_t *payload,
           size_t len);
/* Once per tick. On JB_FRAME *payload / *len point into the buffer, valid
 * until the next jb_put() or jb_get(). */
enum jb_verdict jb_get(struct jb *jb, const uint8_t **payload, size_t *len);

/* Decodes len bytes into at most JB_SAMPLES samples; returns samples written. */
typedef int(jb_decode_h)(void *arg, const uint8_t *payload, size_t len, int16_t *pcm);
/* One tick: jb_get(), then decode + plc_rx(), plc_fillin(), or zeros. */
enum jb_verdict jb_pull_pcm(struct jb *jb, jb_decode_h *dec, void *arg, int16_t pcm[JB_SAMPLES]);

const struct jb_stats *jb_stats(const struct jb *jb);

#endif
