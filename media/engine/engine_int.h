/* Internal to media/engine: the engine, its workers and the channel struct. */
#ifndef TANDEM_MEDIA_ENGINE_INT_H
#define TANDEM_MEDIA_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "media/codec/codec.h"
#include "media/dsp/dsp.h"
#include "media/engine/engine.h"
#include "media/rtp/rtp.h"
#include "tdm/span/span.h"

#define MW_RX_MAX   8 /* most datagrams read from one channel in one tick */
#define MW_RX_PROBE 4 /* every this many ticks a channel is read until its socket is empty */
#define MW_STRAY_MAX 16 /* datagrams a tick from others than the twin's peer (flood limit) */
#define MW_TX_BATCH (1 + TE_TX_MAXPKT)

enum mcmd_type {
	MCMD_START,
	MCMD_STOP,
	MCMD_REPOINT,
	MCMD_DTMF,
	MCMD_EC,
	MCMD_SPAN_ADD, /* take the span's B-channel tick */
	MCMD_SPAN_DEL, /* let it go, then tell MEDIA_EV_SPAN_REMOVED */
};

struct mcmd {
	enum mcmd_type type;
	struct media_chan *ch;
	struct wspan *ws; /* MCMD_SPAN_* */
	int event;
	uint32_t ms;
	bool on;
	struct sa remote, rtcp;
};

/* One span's B side on a worker: allocated alone, so its address is stable. */
struct wspan {
	struct span *sp; /* a reference */
	struct media_worker *w;
	/* signalling side */
	bool removing; /* MCMD_SPAN_DEL sent */
	/* the worker's */
	struct media_chan *ts[SPAN_MAX_TS + 1];
	unsigned nactive;
	struct wspan *wnext; /* removed, SPAN_REMOVED not yet queued */
};

struct media_worker {
	struct media_engine *e;
	unsigned idx;
	int rt_prio;
	int cpu; /* -1: not pinned */
	struct loop *loop;
	pthread_t th;
	bool running, th_live;
	struct spsc *cmdq, *evq;
	struct wspan **spans; /* the signalling side's list */
	unsigned nspans;
	struct media_chan *pending; /* stopped, STOPPED event not yet queued */
	struct wspan *pending_rm;   /* removed, SPAN_REMOVED not yet queued */
	/* statistics: written by the worker, read racily by signalling */
	_Atomic uint64_t ticks, busy_ns, max_tick_ns, cmds, ev_drop;
	/* scratch for one channel at a time */
	struct sa rxfrom;
	uint8_t rxbuf[RTP_BUF_SIZE];
	struct mmsghdr txm[MW_TX_BATCH];
	struct iovec txv[MW_TX_BATCH];
	uint8_t txbuf[MW_TX_BATCH][RTP_BUF_SIZE];
};

struct media_chan {
	/* signalling side */
	struct media_engine *e;
	struct media_worker *w;
	struct media_chan *snext, *sprev;
	bool stop_sent;
	/* set at start, then the worker's */
	struct media_chan_params p;
	char ctx[64];
	struct wspan *ws;
	struct media_chan *wnext; /* worker's pending list */
	uint32_t ts_samples;
	bool marker;
	bool rtcp_listen;
	/* the connected twin of p.rtp_fd (rtp_sock_twin), -1: none; p.rtp_fd is then
	 * on the worker's loop for datagrams from anyone else (a NAT's new address) */
	int twin_fd;
	struct sa twin_peer;
	bool twin_fail; /* connecting it to twin_peer failed: sendto on p.rtp_fd */
	bool rtp_listen;
	bool stray_paused; /* MW_STRAY_MAX reached: p.rtp_fd off the loop until the next tick */
	uint8_t stray_n;   /* datagrams read from p.rtp_fd this tick */
	bool rx_drain; /* read until empty next tick (an underrun, or more than MW_RX_MAX) */
	uint8_t rx_want; /* audio packets per tick, from the last one's length (ptime) */
	struct media_chan_stats st;
	/* What every tick touches comes first and close together (prefetch_chan):
	 * rtp, dsp and the jitter buffer's head, then its slots and G.722. */
	struct rtp_srtp srtp;
	struct rtp_sess rtp;
	struct dsp_chan dsp;
	struct jb jb;
	struct codec_g722 g722;
};

struct media_engine {
	struct loop *sig;
	media_ev_h *h;
	void *arg;
	unsigned nworkers;
	struct media_worker *w;
	struct media_chan *chans; /* all not yet freed (signalling side) */
	bool started, stopped;
};

int mworker_init(struct media_worker *w, struct media_engine *e, unsigned idx, unsigned qlen);
void mworker_release(struct media_worker *w);
int mworker_start(struct media_worker *w);
void mworker_join(struct media_worker *w);
/* The tick handler of every span given to a worker (arg: its struct wspan). */
void mworker_span_tick(struct span *sp, uint32_t tick, void *arg);
/* dsp_chan handler of every channel (worker thread). */
void mworker_dsp_h(enum dsp_chan_ev ev, int event, uint32_t duration, void *arg);

#endif
