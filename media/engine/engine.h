/*
 * media_engine: the media worker threads. Each worker runs its own loop and
 * runs the B-channel ticks of the spans given to it and the channels on those
 * spans (the spans' D-channels and alarms stay on the signalling loop, with
 * call control and tpri, which own the spans); a channel is one
 * B-channel timeslot + one RTP session (struct rtp_sess, SRTP, jitter buffer,
 * codec, dsp_chan) in ONE allocation made at start. The span's 20 ms tick
 * drives the worker: per tick and active channel, RTP is drained from the
 * channel's socket (recvmmsg, non-blocking), the jitter buffer is pulled,
 * decoded, DTMF tones added, the block written; the block read is echo
 * cancelled, DTMF-detected/muted, encoded and sent (one sendmmsg with any
 * RFC 4733 packets). Nothing allocates, frees or blocks on that path.
 *
 * Threading: everything below except media_engine_loop()'s loop runs on ONE
 * signalling thread (the loop given to media_engine_alloc()). Commands reach a
 * worker through a bounded SPSC queue (core/spsc.h); events come back the same
 * way and are delivered to the handler on the signalling loop. A channel is
 * set up (allocated, RTP/SRTP/DSP initialised) and torn down (freed, sockets
 * closed) on the signalling thread; the worker only runs it.
 */
#ifndef TANDEM_MEDIA_ENGINE_H
#define TANDEM_MEDIA_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/sa.h"
#include "media/jb/jb.h"
#include "media/rtp/srtp.h"

struct loop;
struct span;
struct media_engine;
struct media_chan;

enum media_codec {
	MEDIA_PCMU = 0,
	MEDIA_PCMA,
	MEDIA_G722, /* 64 kbit/s, carried at 8 kHz on the B-channel */
};

enum media_dtmf_mode {
	MEDIA_DTMF_RFC4733 = 0, /* tones heard -> telephone-events (muted from audio);
	                         * without params.te: as INBAND */
	MEDIA_DTMF_INFO,        /* tones heard -> events to signalling (muted) */
	MEDIA_DTMF_INBAND,      /* tones stay in the audio; nothing detected */
};

struct media_chan_params {
	struct span *span;   /* given to media_engine_add_span(): picks the worker */
	unsigned ts;         /* B-channel timeslot on it */
	int rtp_fd, rtcp_fd; /* bound, non-blocking (rtp_socks_open); the engine closes
	                      * them when the channel is freed. rtcp_fd -1: RFC 5761 mux */
	enum media_codec codec;
	uint8_t pt, rx_pt; /* payload type we send with / expect */
	bool te;           /* telephone-event negotiated */
	uint8_t te_pt, te_rx_pt;
	enum media_dtmf_mode dtmf_mode;
	struct sa remote;      /* RTP destination (unset: none yet, e.g. held) */
	struct sa remote_rtcp; /* unset: remote port + 1 (or remote itself when muxed) */
	bool srtp;
	struct rtp_sdes_key tx_key, rx_key;
	bool ec; /* echo canceller state is set up; media_chan_ec() toggles it */
	uint32_t ec_tail_ms;
	uint32_t timeout_ms; /* no RTP this long -> MEDIA_EV_TIMEOUT; 0: off */
	bool latch;          /* symmetric RTP */
	struct jb_cfg jb;
	const char *ctx; /* log context, e.g. "call=... span=1/5"; copied */
	void *user;      /* handed back in every event */
};

struct media_chan_stats {
	uint32_t ticks;
	uint32_t rtp_tx, rtp_rx; /* audio packets */
	uint32_t te_tx, te_rx;   /* telephone-event packets */
	uint32_t rtcp_tx, rtcp_rx;
	uint32_t rx_bad;       /* malformed, SRTP failure, unlatched, bad sequence, wrong PT */
	uint32_t rx_probation; /* dropped while a new source was validated (RFC 3550 A.1) */
	uint32_t tx_err;
	int32_t lost;       /* RFC 3550 cumulative loss */
	uint32_t jitter_ts; /* interarrival jitter, timestamp units */
	uint32_t rtt_us;    /* 0: unknown */
	uint32_t digits_rx; /* heard on the B-channel */
	struct jb_stats jb;
};

enum media_ev_type {
	MEDIA_EV_DIGIT_START, /* heard on the B-channel: event, -- */
	MEDIA_EV_DIGIT_STOP,  /* event, duration (samples) */
	MEDIA_EV_FLASH,       /* RFC 4733 event 16 from the IP side */
	MEDIA_EV_FAX_TONE,    /* 2100 Hz: echo cancelling off */
	MEDIA_EV_TIMEOUT,     /* no RTP for timeout_ms */
	MEDIA_EV_RTP_BYE,     /* the peer sent RTCP BYE */
	MEDIA_EV_STOPPED,     /* after media_chan_stop(): stats final; ch freed after the handler */
	MEDIA_EV_SPAN_REMOVED, /* after media_engine_remove_span(): span, ticking on the
	                        * signalling loop again; the engine's reference is dropped
	                        * after the handler. ch and user are NULL. */
};

struct media_ev {
	enum media_ev_type type;
	struct media_chan *ch;
	struct span *span; /* MEDIA_EV_SPAN_REMOVED */
	void *user;
	int event;
	uint32_t duration;
	struct media_chan_stats stats; /* MEDIA_EV_STOPPED */
};

/* On the signalling loop. */
typedef void(media_ev_h)(const struct media_ev *ev, void *arg);

struct media_engine_cfg {
	unsigned workers;   /* 0: 1 */
	unsigned queue_len; /* commands and events per worker; 0: 1024 */
	int rt_prio;        /* > 0: workers run SCHED_FIFO at this priority (needs CAP_SYS_NICE;
	                     * a failure is logged, the worker runs anyway). A SIP flood or a
	                     * compiler on the same host then cannot make audio late. */
	bool pin;           /* pin worker i to CPU (cpu_first + i) % ncpus */
	unsigned cpu_first;
};

int media_engine_alloc(struct media_engine **ep, const struct media_engine_cfg *cfg,
                       struct loop *sig_loop, media_ev_h *h, void *arg);
unsigned media_engine_nworkers(const struct media_engine *e);
/* The worker's loop (its thread runs it once started): for tests. Spans are not
 * allocated on it: they live on the signalling loop. */
struct loop *media_engine_loop(struct media_engine *e, unsigned worker);
/*
 * Gives the B-channel tick of sp to a worker. sp was allocated on the
 * signalling loop and opened there (a virtual span may still be connecting),
 * and its B side is there (span_alloc()'s default); its D-channel, alarm
 * handler and open/close stay with the caller on the signalling loop. The
 * engine takes a reference and the tick handler. Before media_engine_start()
 * the B side moves at once; after, it is detached here and attached by the
 * worker before it runs its next command (blocks meanwhile wait in the
 * backend). The span is not to be closed while given (span_close() refuses).
 * 0, EINVAL (not open, B side not on the signalling loop, span already given,
 * engine stopped), ENOMEM, ENOSPC (command queue full).
 */
int media_engine_add_span(struct media_engine *e, unsigned worker, struct span *sp);
/*
 * Takes the B-channel tick of sp back to the signalling loop. Running engine:
 * the worker lets go, then MEDIA_EV_SPAN_REMOVED is delivered with the tick
 * already back on the signalling loop (without a tick handler). Not started or
 * stopped: done at once, nothing told. 0, ENOENT (not given, or being removed),
 * EBUSY (channels not stopped on it), ENOSPC (command queue full).
 * media_engine_stop() gives every span's tick back to the signalling loop.
 */
int media_engine_remove_span(struct media_engine *e, struct span *sp);
int media_engine_start(struct media_engine *e);
/* Ends the threads (also done by mem_deref); channels left are freed. */
void media_engine_stop(struct media_engine *e);

/* Worker statistics (after stop, or approximate while running). */
struct media_worker_stats {
	uint64_t ticks;         /* span ticks handled */
	uint64_t busy_ns;       /* wall time spent in tick handlers */
	uint64_t max_tick_ns;   /* longest single span tick */
	uint64_t cmds, ev_drop; /* commands run; events lost to a full queue */
};
void media_engine_worker_stats(const struct media_engine *e, unsigned worker,
                               struct media_worker_stats *st);

/* Sets up a channel (allocation, RTP/SRTP/DSP state) and starts it on its span's
 * worker. *chp stays valid until MEDIA_EV_STOPPED has been handled. 0, EINVAL,
 * ENOMEM, EIO (SRTP/RNG), ENOSPC (command queue full), EBUSY (timeslot in use). */
int media_chan_start(struct media_chan **chp, struct media_engine *e,
                     const struct media_chan_params *p);
/* The rest: 0, or ENOSPC when the worker's queue is full (try again), EALREADY after stop. */
int media_chan_stop(struct media_chan *ch);
/* Re-INVITE: new remote (unset: send nothing, as on hold) and RTCP remote (may be
 * NULL); the latch is dropped. timeout_ms replaces the RTP timeout and restarts its
 * clock (0 while the peer is not to send, e.g. it holds us). */
int media_chan_repoint(struct media_chan *ch, const struct sa *remote, const struct sa *rtcp,
                       uint32_t timeout_ms);
/* A digit to play in-band towards the B-channel (SIP INFO). duration_ms 0: 100. */
int media_chan_dtmf(struct media_chan *ch, int event, uint32_t duration_ms);
/* Echo cancelling on/off (only if params.ec set up its state; off after a fax tone). */
int media_chan_ec(struct media_chan *ch, bool on);

#endif
