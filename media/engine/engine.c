/*
 * The signalling side of the media engine: channel setup and teardown, the
 * commands to the workers, and their events, read from each worker's event
 * queue on the signalling loop.
 */
#include "media/engine/engine_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/spsc.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define QLEN_DEFAULT 1024

static void chan_free(struct media_chan *c)
{
	struct media_engine *e = c->e;

	if (c->sprev)
		c->sprev->snext = c->snext;
	else
		e->chans = c->snext;
	if (c->snext)
		c->snext->sprev = c->sprev;
	mem_deref(c);
}

static void chan_destroy(void *data)
{
	struct media_chan *c = data;

	rtp_srtp_stop(&c->srtp);
	dsp_chan_release(&c->dsp);
	if (c->p.rtp_fd >= 0)
		close(c->p.rtp_fd);
	if (c->twin_fd >= 0)
		close(c->twin_fd);
	if (c->p.rtcp_fd >= 0)
		close(c->p.rtcp_fd);
}

static struct wspan *find_span(struct media_engine *e, const struct span *sp, unsigned *wi,
                               unsigned *si);
static void span_forget(struct media_engine *e, struct wspan *ws);
static void span_home(struct media_engine *e, struct wspan *ws);

static void ev_h(int fd, unsigned events, void *arg)
{
	struct media_worker *w = arg;
	struct media_engine *e = w->e;
	struct media_ev ev;

	(void)fd;
	(void)events;
	spsc_ack(w->evq);
	while (!spsc_pop(w->evq, &ev)) {
		struct wspan *ws = NULL;

		if (ev.type == MEDIA_EV_SPAN_REMOVED) {
			/* Not found: media_engine_stop() finished this removal already. */
			ws = find_span(e, ev.span, NULL, NULL);
			if (!ws)
				continue;
			span_home(e, ws);
		}
		if (e->h)
			e->h(&ev, e->arg);
		if (ev.type == MEDIA_EV_STOPPED)
			chan_free(ev.ch);
		if (ws)
			span_forget(e, ws);
	}
}

static void engine_destroy(void *data)
{
	struct media_engine *e = data;

	media_engine_stop(e);
	for (unsigned i = 0; i < e->nworkers; i++) {
		if (e->w[i].evq)
			loop_fd_forget(e->sig, spsc_fd(e->w[i].evq));
		mworker_release(&e->w[i]);
	}
	while (e->chans)
		chan_free(e->chans);
	mem_deref(e->w);
}

int media_engine_alloc(struct media_engine **ep, const struct media_engine_cfg *cfg,
                       struct loop *sig_loop, media_ev_h *h, void *arg)
{
	struct media_engine *e;
	unsigned n = cfg && cfg->workers ? cfg->workers : 1;
	unsigned qlen = cfg && cfg->queue_len ? cfg->queue_len : QLEN_DEFAULT;
	unsigned ncpu =
	    (unsigned)(sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1);
	int err = 0;

	if (!ep || !sig_loop || n > 256)
		return EINVAL;
	err = rtp_srtp_global_init();
	if (err)
		return err;
	e = mem_zalloc(sizeof(*e), engine_destroy);
	if (!e)
		return ENOMEM;
	e->sig = sig_loop;
	e->h = h;
	e->arg = arg;
	e->w = mem_zalloc(n * sizeof(*e->w), NULL);
	if (!e->w) {
		err = ENOMEM;
		goto out;
	}
	e->nworkers = n;
	for (unsigned i = 0; i < n && !err; i++) {
		err = mworker_init(&e->w[i], e, i, qlen);
		e->w[i].rt_prio = cfg ? cfg->rt_prio : 0;
		e->w[i].cpu = cfg && cfg->pin ? (int)((cfg->cpu_first + i) % ncpu) : -1;
		if (!err)
			err = loop_fd_listen(sig_loop, spsc_fd(e->w[i].evq), LOOP_READ, ev_h,
			                     &e->w[i]);
	}
out:
	if (err)
		mem_deref(e);
	else
		*ep = e;
	return err;
}

unsigned media_engine_nworkers(const struct media_engine *e)
{
	return e->nworkers;
}

struct loop *media_engine_loop(struct media_engine *e, unsigned worker)
{
	return worker < e->nworkers ? e->w[worker].loop : NULL;
}

static struct wspan *find_span(struct media_engine *e, const struct span *sp, unsigned *wi,
                               unsigned *si)
{
	for (unsigned i = 0; i < e->nworkers; i++) {
		for (unsigned j = 0; j < e->w[i].nspans; j++) {
			if (e->w[i].spans[j]->sp != sp)
				continue;
			if (wi)
				*wi = i;
			if (si)
				*si = j;
			return e->w[i].spans[j];
		}
	}
	return NULL;
}

/* Drops ws from its worker's list and frees it (signalling thread, worker not using it). */
static void span_forget(struct media_engine *e, struct wspan *ws)
{
	unsigned wi, si;
	struct media_worker *w;

	if (find_span(e, ws->sp, &wi, &si) != ws)
		return;
	w = &e->w[wi];
	memmove(&w->spans[si], &w->spans[si + 1], (w->nspans - si - 1) * sizeof(*w->spans));
	w->nspans--;
	mem_deref(ws->sp);
	mem_deref(ws);
}

/* Signalling thread, the worker not touching sp: its tick back on the signalling loop. */
static void span_home(struct media_engine *e, struct wspan *ws)
{
	struct span *sp = ws->sp;

	if (sp->bloop && sp->bloop != e->sig)
		span_bchan_detach(sp);
	span_set_tick_handler(sp, NULL, NULL);
	if (!sp->bloop && span_bchan_attach(sp, e->sig))
		LOGE(sp->ctx, "media: B-channels not reattached to the signalling loop");
}

int media_engine_add_span(struct media_engine *e, unsigned worker, struct span *sp)
{
	struct mcmd m = {.type = MCMD_SPAN_ADD};
	struct media_worker *w;
	struct wspan *ws, **ns;
	int err = 0;

	/* Our list first: a span given already may be having its bloop set by a worker. */
	if (!e || !sp || worker >= e->nworkers || e->stopped || find_span(e, sp, NULL, NULL) ||
	    sp->loop != e->sig || sp->bloop != e->sig || !sp->open)
		return EINVAL;
	w = &e->w[worker];
	ws = mem_zalloc(sizeof(*ws), NULL);
	ns = mem_zalloc((w->nspans + 1) * sizeof(*ns), NULL);
	if (!ws || !ns) {
		mem_deref(ws);
		mem_deref(ns);
		return ENOMEM;
	}
	ws->sp = sp;
	ws->w = w;
	if (!e->started) {
		/* The worker's thread does not run yet: its loop is ours to set up. */
		span_set_tick_handler(sp, mworker_span_tick, ws);
		err = span_set_bchan_loop(sp, w->loop);
	} else {
		span_bchan_detach(sp);
		m.ws = ws;
		err = spsc_push(w->cmdq, &m);
	}
	if (err) {
		span_home(e, ws);
		mem_deref(ws);
		mem_deref(ns);
		return err;
	}
	if (w->nspans)
		memcpy(ns, w->spans, w->nspans * sizeof(*ns));
	ns[w->nspans++] = ws;
	mem_deref(w->spans);
	w->spans = ns;
	mem_ref(sp);
	return 0;
}

int media_engine_remove_span(struct media_engine *e, struct span *sp)
{
	struct mcmd m = {.type = MCMD_SPAN_DEL};
	struct wspan *ws;
	int err;

	if (!e || !sp)
		return EINVAL;
	ws = find_span(e, sp, NULL, NULL);
	if (!ws || ws->removing)
		return ENOENT;
	for (const struct media_chan *c = e->chans; c; c = c->snext)
		if (c->ws == ws && !c->stop_sent)
			return EBUSY;
	if (!e->started || e->stopped) {
		span_home(e, ws);
		span_forget(e, ws);
		return 0;
	}
	m.ws = ws;
	err = spsc_push(ws->w->cmdq, &m);
	if (!err)
		ws->removing = true;
	return err;
}

int media_engine_start(struct media_engine *e)
{
	int err = 0;

	if (!e || e->started)
		return EINVAL;
	e->started = true;
	for (unsigned i = 0; i < e->nworkers && !err; i++)
		err = mworker_start(&e->w[i]);
	if (err)
		media_engine_stop(e);
	return err;
}

void media_engine_stop(struct media_engine *e)
{
	for (unsigned i = 0; i < e->nworkers; i++)
		mworker_join(&e->w[i]);
	if (e->stopped || !e->nworkers)
		return;
	e->stopped = true;
	/* The threads are gone: every span's tick comes home; removals end here, untold. */
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct media_worker *w = &e->w[i];

		w->pending_rm = NULL;
		for (unsigned j = w->nspans; j-- > 0;) {
			struct wspan *ws = w->spans[j];

			span_home(e, ws);
			if (ws->removing)
				span_forget(e, ws);
		}
	}
}

void media_engine_worker_stats(const struct media_engine *e, unsigned worker,
                               struct media_worker_stats *st)
{
	struct media_worker *w = &e->w[worker];

	st->ticks = atomic_load(&w->ticks);
	st->busy_ns = atomic_load(&w->busy_ns);
	st->max_tick_ns = atomic_load(&w->max_tick_ns);
	st->cmds = atomic_load(&w->cmds);
	st->ev_drop = atomic_load(&w->ev_drop);
}

/* ---- channels ---- */

static bool ts_taken(const struct media_engine *e, const struct span *sp, unsigned ts)
{
	for (const struct media_chan *c = e->chans; c; c = c->snext)
		if (c->p.span == sp && c->p.ts == ts && !c->stop_sent)
			return true;
	return false;
}

static int chan_setup(struct media_chan *c, const struct media_chan_params *p)
{
	struct rtp_sess_cfg rc = {
	    .clock_rate = 8000, .timeout_ms = p->timeout_ms, .latch = p->latch, .cname = c->ctx};
	struct dsp_chan_cfg dc = {.ec_off = !p->ec, .ec = {.tail_ms = p->ec_tail_ms}};
	struct jb_cfg jc = p->jb;
	int err;

	if (p->codec == MEDIA_G722) {
		err = codec_g722_init(&c->g722, true);
		if (err)
			return err;
		jc.whole_frames = false;
	}
	err = jb_init(&c->jb, &jc);
	if (!err)
		err = rtp_sess_init(&c->rtp, &rc, sa_isset(&p->remote) ? &p->remote : NULL,
		                    loop_clock_ms() * 1000u);
	if (!err && p->srtp)
		err = rtp_srtp_start(&c->srtp, &p->tx_key, &p->rx_key);
	if (err)
		return err;
	err = dsp_chan_init(&c->dsp, &dc, NULL, NULL);
	if (err)
		return err;
	/* Without telephone-event on the call, muting the tones would lose the digits:
	 * they stay in the audio instead. */
	if (p->dtmf_mode == MEDIA_DTMF_INBAND || (p->dtmf_mode == MEDIA_DTMF_RFC4733 && !p->te))
		dtmf_det_disable(&c->dsp.det);
	return 0;
}

int media_chan_start(struct media_chan **chp, struct media_engine *e,
                     const struct media_chan_params *p)
{
	struct media_chan *c;
	struct wspan *ws;
	struct mcmd m = {.type = MCMD_START};
	int err;

	if (!chp || !e || !p || p->rtp_fd < 0 || p->codec > MEDIA_G722)
		return EINVAL;
	ws = find_span(e, p->span, NULL, NULL);
	if (!ws || ws->removing || !span_is_bchan(p->span, p->ts))
		return EINVAL;
	if (ts_taken(e, p->span, p->ts))
		return EBUSY;
	c = mem_zalloc(sizeof(*c), chan_destroy);
	if (!c)
		return ENOMEM;
	c->p = *p;
	c->p.ctx = NULL;
	c->p.rtp_fd = c->p.rtcp_fd = -1; /* closed by us only once we own the channel */
	c->twin_fd = -1;
	snprintf(c->ctx, sizeof(c->ctx), "%s", p->ctx ? p->ctx : "media");
	c->e = e;
	c->ws = ws;
	c->w = ws->w;
	c->marker = true;
	err = chan_setup(c, p);
	if (err)
		goto out;
	c->dsp.h = mworker_dsp_h;
	c->dsp.arg = c;
	/* Without a twin the channel sends with sendto and reads the one socket: the
	 * same audio, a little more kernel time per packet. */
	if (sa_isset(&p->remote) && rtp_sock_twin(p->rtp_fd, &p->remote, &c->twin_fd) == 0)
		c->twin_peer = p->remote;
	c->p.rtp_fd = p->rtp_fd;
	c->p.rtcp_fd = p->rtcp_fd;
	m.ch = c;
	err = spsc_push(c->w->cmdq, &m);
out:
	if (err) {
		c->p.rtp_fd = c->p.rtcp_fd = -1; /* the caller keeps its sockets on failure */
		if (c->twin_fd >= 0) {
			int on = 0;

			close(c->twin_fd);
			c->twin_fd = -1;
			(void)setsockopt(p->rtp_fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
		}
		mem_deref(c);
		return err;
	}
	c->snext = e->chans;
	if (e->chans)
		e->chans->sprev = c;
	e->chans = c;
	*chp = c;
	return 0;
}

static int send_cmd(struct media_chan *c, struct mcmd *m)
{
	if (!c || c->stop_sent)
		return c ? EALREADY : EINVAL;
	m->ch = c;
	return spsc_push(c->w->cmdq, m);
}

int media_chan_stop(struct media_chan *ch)
{
	struct mcmd m = {.type = MCMD_STOP};
	int err = send_cmd(ch, &m);

	if (!err)
		ch->stop_sent = true;
	return err;
}

int media_chan_repoint(struct media_chan *ch, const struct sa *remote, const struct sa *rtcp,
                       uint32_t timeout_ms)
{
	struct mcmd m = {.type = MCMD_REPOINT, .ms = timeout_ms};

	if (!remote)
		return EINVAL;
	m.remote = *remote;
	if (rtcp)
		m.rtcp = *rtcp;
	return send_cmd(ch, &m);
}

int media_chan_dtmf(struct media_chan *ch, int event, uint32_t duration_ms)
{
	struct mcmd m = {.type = MCMD_DTMF, .event = event, .ms = duration_ms};

	if (event < 0 || event > DSP_EV_DTMF_MAX)
		return EINVAL;
	return send_cmd(ch, &m);
}

int media_chan_ec(struct media_chan *ch, bool on)
{
	struct mcmd m = {.type = MCMD_EC, .on = on};

	return send_cmd(ch, &m);
}
