/*
 * A media worker: one thread, one loop, the ticks of its spans.
 *
 * Why RTP is drained once per tick instead of epoll-driven: every channel
 * gets one packet per 20 ms, so a non-blocking recvmmsg per channel per tick
 * costs exactly one system call per channel and never finds the socket empty
 * in steady state, while epoll adds a wake-up and an epoll_wait share per
 * packet on top of the same read (the issue measured 1,000 vs 1,750 channels
 * for the two). RTCP, a packet every few seconds, is the opposite case: its
 * sockets are on the loop and read when readable. Sending cannot be batched
 * across channels (each channel has its own source port, and symmetric RTP
 * peers expect that port), so each channel sends its tick's packets (audio
 * plus any RFC 4733 packets) with one sendmmsg.
 */
#include "media/engine/engine_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/spsc.h"

#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void post(struct media_worker *w, struct media_chan *c, enum media_ev_type t, int event,
                 uint32_t duration)
{
	struct media_ev ev = {
	    .type = t, .ch = c, .user = c->p.user, .event = event, .duration = duration};

	if (spsc_push(w->evq, &ev))
		atomic_fetch_add_explicit(&w->ev_drop, 1, memory_order_relaxed);
}

/* dsp_chan events, on this thread. */
void mworker_dsp_h(enum dsp_chan_ev ev, int event, uint32_t duration, void *arg)
{
	struct media_chan *c = arg;
	static const enum media_ev_type map[] = {
	    [DSP_CHAN_DIGIT_START] = MEDIA_EV_DIGIT_START,
	    [DSP_CHAN_DIGIT_STOP] = MEDIA_EV_DIGIT_STOP,
	    [DSP_CHAN_FLASH] = MEDIA_EV_FLASH,
	    [DSP_CHAN_FAX_TONE] = MEDIA_EV_FAX_TONE,
	};

	/* dsp_chan already feeds te_tx; the events are for signalling (INFO, logs) */
	if (ev == DSP_CHAN_DIGIT_START)
		c->st.digits_rx++;
	if ((unsigned)ev < ARRAY_SIZE(map))
		post(c->w, c, map[ev], event, duration);
}

/* ---- receive ---- */

static void rx_rtcp(struct media_chan *c, uint8_t *buf, size_t len, uint64_t now_us)
{
	if (c->srtp.on && rtp_srtp_unprotect_rtcp(&c->srtp, buf, &len)) {
		c->st.rx_bad++;
		return;
	}
	if (rtp_sess_rtcp_rx(&c->rtp, buf, len, now_us))
		c->st.rx_bad++;
	else
		c->st.rtcp_rx++;
}

/* True if the packet was audio for the jitter buffer. */
static bool rx_one(struct media_chan *c, uint8_t *buf, size_t len, const struct sa *from,
                   uint64_t now_us)
{
	struct rtp_hdr h;

	if (rtp_is_rtcp(buf, len)) {
		rx_rtcp(c, buf, len, now_us);
		return false;
	}
	if (c->srtp.on && rtp_srtp_unprotect(&c->srtp, buf, &len)) {
		c->st.rx_bad++;
		return false;
	}
	switch (rtp_sess_rx(&c->rtp, buf, len, from, now_us, &h)) {
	case RTP_RX_OK:
		break;
	case RTP_RX_PROBATION: /* A.1: a new source's first packet is not yet valid */
		c->st.rx_probation++;
		return false;
	default:
		c->st.rx_bad++;
		return false;
	}
	if (h.pt == c->p.rx_pt) {
		c->st.rtp_rx++;
		(void)jb_put(&c->jb, h.ssrc, h.seq, h.ts, h.payload, h.payload_len);
		/* G.711 and G.722 both carry one byte per 8 kHz timestamp unit */
		if (h.payload_len) {
			size_t want = (DSP_BLOCK + h.payload_len - 1) / h.payload_len;

			c->rx_want = (uint8_t)(want < MW_RX_MAX ? want : MW_RX_MAX);
		}
		return true;
	}
	if (c->p.te && h.pt == c->p.te_rx_pt) {
		c->st.te_rx++;
		(void)dsp_chan_te_packet(&c->dsp, h.payload, h.payload_len, h.ts, h.marker);
	} else {
		c->st.rx_bad++;
	}
	return false;
}

/* One datagram from fd: -1 none (or an error), 1 audio, 0 anything else. */
static int rx_read(struct media_chan *c, int fd, uint64_t now_us)
{
	struct sa *from = &c->w->rxfrom;
	ssize_t n;

	from->len = sizeof(from->u);
	n = recvfrom(fd, c->w->rxbuf, RTP_MTU, MSG_DONTWAIT | MSG_TRUNC, &from->u.sa, &from->len);
	if (n < 0)
		return -1;
	if ((size_t)n > RTP_MTU) { /* MSG_TRUNC: the real size, so it is refused, not cut */
		c->st.rx_bad++;
		return 0;
	}
	return rx_one(c, c->w->rxbuf, (size_t)n, from, now_us);
}

/*
 * Reads this tick's packets. A socket found empty costs a system call as dear as
 * one that returns a packet, so a channel in step (rx_want audio packets a tick:
 * one at 20 ms ptime, two at 10 ms) is read for exactly that many, and read until
 * empty only on every MW_RX_PROBE-th tick and on the tick after an underrun (a
 * packet that was not there yet, a burst after a network stall: all of it reaches
 * the jitter buffer one tick later). Telephone-events and RTCP do not count
 * towards rx_want, so an RFC 4733 end burst is read with the audio.
 */
static void rx_drain(struct media_chan *c, uint64_t now_us)
{
	bool drain = c->rx_drain || !c->rx_want || c->st.ticks % MW_RX_PROBE == 0;
	unsigned audio = 0, n;

	for (n = 0; n < MW_RX_MAX && (drain || audio < c->rx_want); n++) {
		int r = rx_read(c, c->twin_fd >= 0 ? c->twin_fd : c->p.rtp_fd, now_us);

		if (r < 0) {
			/* empty: drained, or an underrun (drain next tick); an idle stream
			 * (hold, silence suppression) stays in drain mode at one read a tick */
			c->rx_drain = drain ? n == 0 : true;
			return;
		}
		audio += (unsigned)r;
	}
	/* MW_RX_MAX read and more may wait: keep draining */
	c->rx_drain = n == MW_RX_MAX;
}

static void rtcp_fd_h(int fd, unsigned events, void *arg)
{
	struct media_chan *c = arg;
	uint64_t now_us = now_ns() / 1000u;
	uint8_t *buf = c->w->rxbuf;

	(void)events;
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(fd, buf, RTP_MTU, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0)
			return;
		if ((size_t)n > RTP_MTU || !rtp_is_rtcp(buf, (size_t)n)) {
			c->st.rx_bad++;
			continue;
		}
		rx_rtcp(c, buf, (size_t)n, now_us);
	}
}

/*
 * The bound socket of a channel with a twin: datagrams not from the twin's peer
 * (a NAT's new address, or a stranger). At most MW_STRAY_MAX a tick: a flood at
 * the port then costs the worker a bounded share of its time (the kernel drops
 * the rest when the socket's buffer is full); the socket goes back on the loop
 * at the channel's next tick.
 */
static void rtp_fd_h(int fd, unsigned events, void *arg)
{
	struct media_chan *c = arg;
	uint64_t now_us = now_ns() / 1000u;

	(void)events;
	for (;;) {
		if (c->stray_n >= MW_STRAY_MAX) {
			loop_fd_forget(c->w->loop, fd);
			c->rtp_listen = false;
			c->stray_paused = true;
			return;
		}
		c->stray_n++;
		if (rx_read(c, fd, now_us) < 0)
			return;
	}
}

/* ---- send ---- */

/* Header + protection in w->txbuf[i]; the payload is already there. */
static bool tx_build(struct media_worker *w, struct media_chan *c, unsigned i, uint8_t pt,
                     bool marker, uint32_t ts, size_t plen, uint64_t now_us)
{
	size_t n;

	if (rtp_sess_tx(&c->rtp, w->txbuf[i], RTP_MTU, pt, marker, ts, plen, now_us, &n) ||
	    (c->srtp.on && rtp_srtp_protect(&c->srtp, w->txbuf[i], &n, RTP_BUF_SIZE))) {
		c->st.tx_err++;
		return false;
	}
	w->txv[i].iov_base = w->txbuf[i];
	w->txv[i].iov_len = n;
	w->txm[i].msg_hdr.msg_iov = &w->txv[i];
	w->txm[i].msg_hdr.msg_iovlen = 1;
	return true;
}

/* The twin is connected to dst (re-connected after a latch move or a re-INVITE). */
static bool twin_for(struct media_chan *c, const struct sa *dst)
{
	if (c->twin_fd < 0)
		return false;
	if (likely(sa_eq(dst, &c->twin_peer)))
		return !c->twin_fail;
	/* a failed connect leaves the twin on its old peer; tried again for the next dst */
	c->twin_fail = rtp_sock_twin_peer(c->twin_fd, dst) != 0;
	c->twin_peer = *dst;
	return !c->twin_fail;
}

static void tx_send(struct media_worker *w, struct media_chan *c, unsigned n)
{
	const struct sa *dst = rtp_sess_remote(&c->rtp);
	bool twin;
	int fd, r;

	/* p.remote unset: the SDP says not to send (hold); a latched address is not a
	 * reason to send then */
	if (!n || !sa_isset(dst) || !sa_isset(&c->p.remote))
		return;
	twin = twin_for(c, dst);
	fd = twin ? c->twin_fd : c->p.rtp_fd;
	for (unsigned i = 0; i < n; i++) {
		w->txm[i].msg_hdr.msg_name = twin ? NULL : (void *)&dst->u.sa;
		w->txm[i].msg_hdr.msg_namelen = twin ? 0 : dst->len;
	}
	if (n > 1)
		r = sendmmsg(fd, w->txm, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		r = sendto(fd, w->txv[0].iov_base, w->txv[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL,
		           w->txm[0].msg_hdr.msg_name, w->txm[0].msg_hdr.msg_namelen) < 0
		        ? -1
		        : 1;
	if (r < (int)n)
		c->st.tx_err += n - (unsigned)(r < 0 ? 0 : r);
}

static size_t encode(struct media_chan *c, uint8_t *out, const int16_t *pcm)
{
	switch (c->p.codec) {
	case MEDIA_PCMU:
		codec_g711_encode(CODEC_ULAW, out, pcm, DSP_BLOCK);
		return DSP_BLOCK;
	case MEDIA_PCMA:
		codec_g711_encode(CODEC_ALAW, out, pcm, DSP_BLOCK);
		return DSP_BLOCK;
	default:
		return codec_g722_encode(&c->g722, out, pcm, DSP_BLOCK);
	}
}

static enum jb_verdict pull(struct media_chan *c, int16_t *pcm)
{
	switch (c->p.codec) {
	case MEDIA_PCMU:
		return jb_pull_pcm(&c->jb, codec_ulaw_jb_decode, NULL, pcm);
	case MEDIA_PCMA:
		return jb_pull_pcm(&c->jb, codec_alaw_jb_decode, NULL, pcm);
	default:
		return jb_pull_pcm(&c->jb, codec_g722_jb_decode, &c->g722, pcm);
	}
}

static void rtcp_send(struct media_worker *w, struct media_chan *c, bool bye, uint64_t now_us)
{
	const struct sa *dst = sa_isset(&c->p.remote_rtcp) ? &c->p.remote_rtcp : NULL;
	struct sa d;
	int fd = c->p.rtcp_fd >= 0 ? c->p.rtcp_fd : c->p.rtp_fd;
	uint8_t *buf = w->txbuf[0];
	size_t n;

	if (!dst) {
		if (!sa_isset(rtp_sess_remote(&c->rtp)))
			return;
		d = *rtp_sess_remote(&c->rtp);
		if (c->p.rtcp_fd >= 0)
			sa_set_port(&d, (uint16_t)(sa_port(&d) + 1));
		dst = &d;
	}
	if (rtp_sess_rtcp_build(&c->rtp, buf, RTP_MTU, bye, now_us, &n) ||
	    (c->srtp.on && rtp_srtp_protect_rtcp(&c->srtp, buf, &n, RTP_BUF_SIZE)) ||
	    sendto(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, &dst->u.sa, dst->len) < 0) {
		c->st.tx_err++;
		return;
	}
	c->st.rtcp_tx++;
}

/* ---- the tick ---- */

static void prefetch_chan(const struct media_chan *c);

static void chan_tick(struct media_worker *w, struct media_chan *c, struct span *sp,
                      const struct media_chan *next, uint64_t now_us)
{
	enum codec_law law = sp->conf.law == SPAN_ALAW ? CODEC_ALAW : CODEC_ULAW;
	int16_t pcm[DSP_BLOCK], out[DSP_BLOCK];
	uint8_t blk[SPAN_BLOCK];
	struct te_pkt te[TE_TX_MAXPKT];
	unsigned nte = 0, ntx = 0;
	unsigned ev;

	if (unlikely(c->stray_n)) {
		c->stray_n = 0;
		if (c->stray_paused)
			c->rtp_listen = !loop_fd_listen(w->loop, c->p.rtp_fd, LOOP_READ, rtp_fd_h, c);
		c->stray_paused = false;
	}
	rx_drain(c, now_us);
	/* the next channel's state comes in while this one computes and sends */
	if (next)
		prefetch_chan(next);

	/* IP -> PSTN */
	pull(c, pcm);
	dsp_chan_to_pstn(&c->dsp, pcm);
	codec_g711_encode(law, blk, pcm, SPAN_BLOCK);
	(void)span_bchan_write(sp, c->p.ts, blk);

	/* PSTN -> IP */
	(void)span_bchan_read(sp, c->p.ts, blk);
	codec_g711_decode(law, pcm, blk, SPAN_BLOCK);
	if (dsp_chan_from_pstn(&c->dsp, pcm, c->ts_samples, out, te, &nte))
		memset(out, 0, sizeof(out));
	if (tx_build(w, c, ntx, c->p.pt, c->marker, c->ts_samples,
	             encode(c, w->txbuf[ntx] + RTP_HDR_SIZE, out), now_us)) {
		ntx++;
		c->st.rtp_tx++;
		c->marker = false;
	}
	for (unsigned i = 0; i < nte && c->p.te && c->p.dtmf_mode == MEDIA_DTMF_RFC4733; i++) {
		memcpy(w->txbuf[ntx] + RTP_HDR_SIZE, te[i].payload, 4);
		if (tx_build(w, c, ntx, c->p.te_pt, te[i].marker, te[i].ts, 4, now_us)) {
			ntx++;
			c->st.te_tx++;
		}
	}
	tx_send(w, c, ntx);
	c->ts_samples += DSP_BLOCK;
	c->st.ticks++;

	ev = rtp_sess_events(&c->rtp, now_us);
	if (unlikely(ev)) {
		if (ev & RTP_EV_TIMEOUT)
			post(w, c, MEDIA_EV_TIMEOUT, -1, 0);
		if (ev & RTP_EV_BYE)
			post(w, c, MEDIA_EV_RTP_BYE, -1, 0);
		if (ev & RTP_EV_RTCP_DUE)
			rtcp_send(w, c, false, now_us);
	}
}

static void prefetch_range(const void *p, size_t len)
{
	for (size_t off = 0; off < len; off += 64)
		__builtin_prefetch((const char *)p + off);
}

/*
 * Every cache line a plain channel's tick touches (~4.5 KB of its ~26 KB: the
 * parameters, RTP state without its buffers, the jitter buffer's header, PLC and
 * two slots, the DSP state without the echo canceller's). Three thousand
 * channels do not fit in any cache, and without this each tick waited on memory
 * at every step.
 */
static void prefetch_chan(const struct media_chan *c)
{
	prefetch_range(&c->p, offsetof(struct media_chan, srtp) - offsetof(struct media_chan, p));
	prefetch_range(&c->rtp, sizeof(c->rtp));
	jb_prefetch(&c->jb);
	prefetch_range(&c->dsp, sizeof(c->dsp));
	if (c->dsp.ec)
		prefetch_range(c->dsp.ec, sizeof(*c->dsp.ec));
}

void mworker_span_tick(struct span *sp, uint32_t tick, void *arg)
{
	struct wspan *ws = arg;
	struct media_worker *w = ws->w;
	uint64_t t0 = now_ns(), dt;
	uint64_t now_us = t0 / 1000u;
	struct media_chan *c = NULL, *next;

	(void)tick;
	for (unsigned ts = 1; ts <= SPAN_MAX_TS + 1 && ws->nactive; ts++) {
		next = ts <= SPAN_MAX_TS ? ws->ts[ts] : NULL;
		if (!next && ts <= SPAN_MAX_TS)
			continue;
		if (c)
			chan_tick(w, c, sp, next, now_us);
		else
			prefetch_chan(next); /* the span's first */
		c = next;
	}
	dt = now_ns() - t0;
	atomic_fetch_add_explicit(&w->ticks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->busy_ns, dt, memory_order_relaxed);
	if (dt > atomic_load_explicit(&w->max_tick_ns, memory_order_relaxed))
		atomic_store_explicit(&w->max_tick_ns, dt, memory_order_relaxed);
}

/* ---- commands ---- */

static void chan_fill_stats(struct media_chan *c)
{
	c->st.lost = rtp_source_lost(&c->rtp.src);
	c->st.jitter_ts = rtp_source_jitter(&c->rtp.src);
	c->st.rtt_us = c->rtp.have_rtt ? c->rtp.rtt_us : 0;
	c->st.jb = *jb_stats(&c->jb);
}

/* Queues STOPPED; false if the event queue is full (the caller keeps it pending). */
static bool post_stopped(struct media_worker *w, struct media_chan *c)
{
	struct media_ev ev = {.type = MEDIA_EV_STOPPED, .ch = c, .user = c->p.user, .event = -1};

	ev.stats = c->st;
	return spsc_push(w->evq, &ev) == 0;
}

static void flush_pending(struct media_worker *w)
{
	/* Once STOPPED is queued the channel is the signalling thread's (it may be freed
	 * at once): take the link first. */
	while (w->pending) {
		struct media_chan *next = w->pending->wnext;

		if (!post_stopped(w, w->pending))
			break;
		w->pending = next;
	}
	/* SPAN_REMOVED after its channels' STOPPED; once queued, the wspan is signalling's. */
	if (w->pending)
		return;
	while (w->pending_rm) {
		struct wspan *next = w->pending_rm->wnext;
		struct media_ev ev = {
		    .type = MEDIA_EV_SPAN_REMOVED, .span = w->pending_rm->sp, .event = -1};

		if (spsc_push(w->evq, &ev))
			break;
		w->pending_rm = next;
	}
}

static void chan_stop(struct media_worker *w, struct media_chan *c)
{
	struct media_chan **pp;

	if (c->ws && c->ws->ts[c->p.ts] == c) {
		c->ws->ts[c->p.ts] = NULL;
		c->ws->nactive--;
		rtcp_send(w, c, true, now_ns() / 1000u);
	}
	if (c->rtcp_listen)
		loop_fd_forget(w->loop, c->p.rtcp_fd);
	if (c->rtp_listen)
		loop_fd_forget(w->loop, c->p.rtp_fd);
	c->rtcp_listen = c->rtp_listen = false;
	chan_fill_stats(c);
	for (pp = &w->pending; *pp; pp = &(*pp)->wnext)
		;
	c->wnext = NULL;
	*pp = c;
	flush_pending(w);
}

static void chan_begin(struct media_worker *w, struct media_chan *c)
{
	struct wspan *ws = c->ws;

	if (ws->ts[c->p.ts]) { /* checked at start; a second start would be a bug */
		LOGE(c->ctx, "media: timeslot %u busy", c->p.ts);
		chan_stop(w, c);
		return;
	}
	ws->ts[c->p.ts] = c;
	ws->nactive++;
	if (c->p.rtcp_fd >= 0)
		c->rtcp_listen = !loop_fd_listen(w->loop, c->p.rtcp_fd, LOOP_READ, rtcp_fd_h, c);
	if (c->twin_fd >= 0)
		c->rtp_listen = !loop_fd_listen(w->loop, c->p.rtp_fd, LOOP_READ, rtp_fd_h, c);
	LOGD(c->ctx, "media: started on worker %u", w->idx);
}

/* The signalling side detached the span's B side: it ticks here from now. */
static void span_add(struct media_worker *w, struct wspan *ws)
{
	int err;

	span_set_tick_handler(ws->sp, mworker_span_tick, ws);
	err = span_bchan_attach(ws->sp, w->loop);
	if (err)
		LOGE(ws->sp->ctx, "media worker %u: B-channels not attached: %s", w->idx,
		     strerror(err));
	else
		LOGD(ws->sp->ctx, "media: B-channels on worker %u", w->idx);
}

/* No channel left on it (checked by signalling, STOPs ran first): let it go. */
static void span_del(struct media_worker *w, struct wspan *ws)
{
	struct wspan **pp;

	if (ws->sp->bloop == w->loop)
		span_bchan_detach(ws->sp);
	span_set_tick_handler(ws->sp, NULL, NULL);
	for (pp = &w->pending_rm; *pp; pp = &(*pp)->wnext)
		;
	ws->wnext = NULL;
	*pp = ws;
	flush_pending(w);
}

static void run_cmd(struct media_worker *w, const struct mcmd *m)
{
	struct media_chan *c = m->ch;

	atomic_fetch_add_explicit(&w->cmds, 1, memory_order_relaxed);
	switch (m->type) {
	case MCMD_START:
		chan_begin(w, c);
		break;
	case MCMD_STOP:
		chan_stop(w, c);
		break;
	case MCMD_REPOINT:
		rtp_sess_set_remote(&c->rtp, sa_isset(&m->remote) ? &m->remote : NULL);
		c->p.remote = m->remote;
		c->p.remote_rtcp = m->rtcp;
		c->p.timeout_ms = m->ms;
		c->rtp.cfg.timeout_ms = m->ms;
		c->rtp.rx_last_us = now_ns() / 1000u; /* the timeout counts from now */
		c->rtp.timed_out = false;
		break;
	case MCMD_DTMF:
		(void)dsp_chan_digit(&c->dsp, m->event, m->ms);
		break;
	case MCMD_EC:
		if (c->dsp.ec)
			c->dsp.ec->enabled = m->on && !c->dsp.ec->tone_heard;
		break;
	case MCMD_SPAN_ADD:
		span_add(w, m->ws);
		break;
	case MCMD_SPAN_DEL:
		span_del(w, m->ws);
		break;
	}
}

static void cmd_h(int fd, unsigned events, void *arg)
{
	struct media_worker *w = arg;
	struct mcmd m;

	(void)fd;
	(void)events;
	spsc_ack(w->cmdq);
	flush_pending(w);
	while (!spsc_pop(w->cmdq, &m))
		run_cmd(w, &m);
}

/* ---- life ---- */

static void thread_tune(struct media_worker *w)
{
	if (w->cpu >= 0) {
		cpu_set_t set;
		int err;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		if (err)
			LOGW(NULL, "media worker %u: CPU %d: %s", w->idx, w->cpu, strerror(err));
	}
	if (w->rt_prio > 0) {
		struct sched_param sp = {.sched_priority = w->rt_prio};
		int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);

		if (err)
			LOGW(NULL, "media worker %u: SCHED_FIFO %d: %s", w->idx, w->rt_prio,
			     strerror(err));
	}
}

static void *worker_main(void *arg)
{
	struct media_worker *w = arg;
	char name[16];
	int err;

	snprintf(name, sizeof(name), "media%u", w->idx);
	pthread_setname_np(pthread_self(), name); /* for top -H, perf --comm */
	thread_tune(w);
	/* The spans are signalling's (open, close, D-channel): only their ticks run here. */
	while (!(err = loop_run_once(w->loop, w->pending || w->pending_rm ? 5 : -1))) {
		flush_pending(w);
		if (!w->running)
			break;
	}
	return NULL;
}

static void quit_h(void *arg)
{
	((struct media_worker *)arg)->running = false;
}

int mworker_init(struct media_worker *w, struct media_engine *e, unsigned idx, unsigned qlen)
{
	int err;

	w->e = e;
	w->idx = idx;
	err = loop_alloc(&w->loop);
	if (!err)
		err = spsc_alloc(&w->cmdq, sizeof(struct mcmd), qlen);
	if (!err)
		err = spsc_alloc(&w->evq, sizeof(struct media_ev), qlen);
	if (!err)
		err = loop_fd_listen(w->loop, spsc_fd(w->cmdq), LOOP_READ, cmd_h, w);
	if (err)
		return err;
	loop_set_wake_handler(w->loop, quit_h, w);
	return 0;
}

int mworker_start(struct media_worker *w)
{
	w->running = true;
	if (pthread_create(&w->th, NULL, worker_main, w)) {
		w->running = false;
		return EAGAIN;
	}
	w->th_live = true;
	return 0;
}

/* loop_wake() is the one thread-safe call on a loop: its handler ends the thread. */
void mworker_join(struct media_worker *w)
{
	if (!w->th_live)
		return;
	loop_wake(w->loop);
	pthread_join(w->th, NULL);
	w->th_live = false;
}

void mworker_release(struct media_worker *w)
{
	if (w->loop && w->cmdq)
		loop_fd_forget(w->loop, spsc_fd(w->cmdq));
	for (unsigned i = 0; i < w->nspans; i++) {
		mem_deref(w->spans[i]->sp);
		mem_deref(w->spans[i]);
	}
	w->nspans = 0;
	w->spans = mem_deref(w->spans);
	w->cmdq = mem_deref(w->cmdq);
	w->evq = mem_deref(w->evq);
	if (w->loop)
		loop_free(w->loop);
	w->loop = NULL;
}
