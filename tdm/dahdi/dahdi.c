/*
 * The DAHDI span backend. Why it looks like this:
 * - DAHDI reports events with POLLPRI, which core/loop does not watch. The
 *   span keeps its own epoll sets (EPOLLIN|EPOLLPRI) and gives a loop only a
 *   set's fd, which is readable when a channel in it has news. Two sets, as
 *   the span has two sides: the D-channel's on the span's loop (signalling),
 *   the B-channels' on the B loop (a media worker), so moving the B side is
 *   one registration.
 * - Alarms are told from the D side only: DAHDI raises the span's alarm events
 *   on every channel, the D-channel included. The B side fetches the events
 *   of its channels (a pending one makes reads fail) and tells alarms itself
 *   only on a span without a D-channel whose B side is on the span's loop.
 * - A read that fails with ELAST also means "event pending" (chan_dahdi
 *   handles both), so every read path drains events through DAHDI_GETEVENT.
 * - All system calls go through struct dahdi_sys: the unit test replaces the
 *   kernel with a double built on socketpairs.
 */
#include "tdm/dahdi/dahdi.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"

#include <dahdi/user.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct dspan {
	struct span *sp; /* not a reference: the span owns us */
	const struct dahdi_sys *sys;
	int epfd;  /* D side: the D-channel */
	int bepfd; /* B side: the B-channels */
	int dfd;
	int bfd[SPAN_MAX_TS + 1];
	unsigned clock_ts; /* the B-channel whose blocks are the span's tick */
	uint32_t tick;
	_Atomic uint32_t overruns, badfcs, aborts; /* from both sides */
	uint8_t rx[SPAN_MAX_TS + 1][SPAN_BLOCK];
	uint8_t tx[SPAN_MAX_TS + 1][SPAN_BLOCK];
};

/* ---- the real system calls ---- */

static int os_open(const char *path, int flags)
{
	return open(path, flags);
}

static int os_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static const struct dahdi_sys os_sys = {
	.open = os_open,
	.close = close,
	.ioctl = os_ioctl,
	.read = read,
	.write = write,
};

/* ---- events and alarms ---- */

static unsigned alarms_of(int chan_alarms)
{
	static const struct {
		int dahdi;
		unsigned ours;
	} map[] = {
		{ DAHDI_ALARM_RED, SPAN_ALARM_RED },
		{ DAHDI_ALARM_YELLOW, SPAN_ALARM_YELLOW },
		{ DAHDI_ALARM_BLUE, SPAN_ALARM_BLUE },
		{ DAHDI_ALARM_NOTOPEN, SPAN_ALARM_RED },
	};
	unsigned a = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (chan_alarms & map[i].dahdi)
			a |= map[i].ours;
	return a;
}

static void alarms_refresh(struct dspan *d)
{
	struct dahdi_params p;

	memset(&p, 0, sizeof(p));
	if (d->dfd < 0 || d->sys->ioctl(d->dfd, DAHDI_GET_PARAMS, &p))
		return;
	span_report_alarms(d->sp, alarms_of((int)p.chan_alarms));
}

static bool alarms_here(const struct dspan *d, bool dside)
{
	return dside || (!d->sp->conf.dchan && d->sp->bloop == d->sp->loop);
}

static void chan_events(struct dspan *d, int fd, bool dside)
{
	for (int i = 0; i < 16 && fd >= 0; i++) {
		int ev = DAHDI_EVENT_NONE;

		if (d->sys->ioctl(fd, DAHDI_GETEVENT, &ev) || ev == DAHDI_EVENT_NONE)
			return;
		switch (ev) {
		case DAHDI_EVENT_ALARM:
		case DAHDI_EVENT_NOALARM:
			if (alarms_here(d, dside))
				alarms_refresh(d);
			break;
		case DAHDI_EVENT_REMOVED:
			if (!alarms_here(d, dside))
				break;
			LOGE(d->sp->ctx, "DAHDI device removed");
			span_report_alarms(d->sp, SPAN_ALARM_RED);
			break;
		case DAHDI_EVENT_OVERRUN:
			atomic_fetch_add_explicit(&d->overruns, 1, memory_order_relaxed);
			break;
		case DAHDI_EVENT_BADFCS:
			atomic_fetch_add_explicit(&d->badfcs, 1, memory_order_relaxed);
			break;
		case DAHDI_EVENT_ABORT:
			atomic_fetch_add_explicit(&d->aborts, 1, memory_order_relaxed);
			break;
		default:
			LOGD(d->sp->ctx, "DAHDI event %d ignored", ev);
			break;
		}
	}
}

/* ---- channels ---- */

static int chan_open(struct dspan *d, unsigned ts, bool dchan, int *fdp)
{
	const struct span_conf *c = &d->sp->conf;
	struct dahdi_bufferinfo bi;
	struct dahdi_params p;
	int chan = (int)(c->first_chan + ts - 1), bs = SPAN_BLOCK, fd, err = 0;

	fd = d->sys->open(c->addr[0] ? c->addr : DAHDI_CHANNEL_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno ? errno : EIO;
	memset(&p, 0, sizeof(p));
	if (d->sys->ioctl(fd, DAHDI_SPECIFY, &chan) || d->sys->ioctl(fd, DAHDI_GET_PARAMS, &p)) {
		err = errno ? errno : EIO;
		goto out;
	}
	if (dchan && p.sigtype != DAHDI_SIG_HDLCFCS && p.sigtype != DAHDI_SIG_HARDHDLC) {
		LOGE(d->sp->ctx, "DAHDI channel %d is not a D-channel (dchan= in system.conf)", chan);
		err = EMEDIUMTYPE;
		goto out;
	}
	memset(&bi, 0, sizeof(bi));
	bi.txbufpolicy = DAHDI_POLICY_IMMEDIATE;
	bi.rxbufpolicy = DAHDI_POLICY_IMMEDIATE;
	bi.numbufs = dchan ? 32 : 4; /* what chan_dahdi asks for */
	bi.bufsize = dchan ? SPAN_DFRAME_MAX : SPAN_BLOCK;
	if (d->sys->ioctl(fd, DAHDI_SET_BUFINFO, &bi) ||
	    (!dchan && d->sys->ioctl(fd, DAHDI_SET_BLOCKSIZE, &bs))) {
		err = errno ? errno : EIO;
		goto out;
	}
	*fdp = fd;
	return 0;
out:
	d->sys->close(fd);
	return err;
}

static void run_tick(struct dspan *d)
{
	struct span *sp = d->sp;
	uint8_t idle = span_idle_byte(sp);

	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		if (d->bfd[ts] < 0)
			continue;
		ssize_t n = d->sys->read(d->bfd[ts], d->rx[ts], SPAN_BLOCK);
		if (n < 0 && errno == ELAST)
			chan_events(d, d->bfd[ts], false);
		if (n != SPAN_BLOCK)
			memset(d->rx[ts], idle, SPAN_BLOCK);
	}
	d->tick++;
	if (sp->tickh)
		sp->tickh(sp, d->tick, sp->tick_arg);
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		if (d->bfd[ts] < 0)
			continue;
		if (d->sys->write(d->bfd[ts], d->tx[ts], SPAN_BLOCK) != SPAN_BLOCK)
			atomic_fetch_add_explicit(&d->overruns, 1, memory_order_relaxed);
		memset(d->tx[ts], idle, SPAN_BLOCK); /* unwritten next time: silence */
	}
}

static void dchan_ready(struct dspan *d)
{
	struct span *sp = d->sp;

	if (sp->dchanh) {
		sp->dchanh(sp, sp->dchan_arg);
		return;
	}
	for (int i = 0; i < 64; i++) {
		uint8_t b[SPAN_DFRAME_MAX];
		size_t len;

		if (sp->ops->dchan_read(sp, b, sizeof(b), &len))
			break;
	}
}

/* D side: the D-channel's set, on the span's loop. */
static void ep_d_handler(int fd, unsigned events, void *arg)
{
	struct dspan *d = arg;
	struct epoll_event ev;

	(void)events;
	if (epoll_wait(fd, &ev, 1, 0) != 1)
		return;
	if (ev.events & EPOLLPRI)
		chan_events(d, d->dfd, true);
	if (ev.events & EPOLLIN)
		dchan_ready(d);
}

/* B side: the B-channels' set, on the B loop. */
static void ep_b_handler(int fd, unsigned events, void *arg)
{
	struct dspan *d = arg;
	struct epoll_event evs[SPAN_MAX_TS];
	bool tick = false;
	int n;

	(void)events;
	n = epoll_wait(fd, evs, (int)ARRAY_SIZE(evs), 0);
	for (int i = 0; i < n; i++) {
		int cfd = evs[i].data.fd;

		if (evs[i].events & EPOLLPRI)
			chan_events(d, cfd, false);
		if ((evs[i].events & EPOLLIN) && d->clock_ts && cfd == d->bfd[d->clock_ts])
			tick = true;
	}
	if (tick)
		run_tick(d);
}

static int dahdi_bchan_attach(struct span *sp)
{
	struct dspan *d = sp->be;

	return loop_fd_listen(sp->bloop, d->bepfd, LOOP_READ, ep_b_handler, d);
}

static void dahdi_bchan_detach(struct span *sp)
{
	struct dspan *d = sp->be;

	loop_fd_forget(sp->bloop, d->bepfd);
}

/* ---- ops ---- */

static int dahdi_dchan_read(struct span *sp, void *buf, size_t size, size_t *lenp)
{
	struct dspan *d = sp->be;

	if (d->dfd < 0)
		return ENOTCONN;
	for (int tries = 0; tries < 2; tries++) {
		ssize_t n = d->sys->read(d->dfd, buf, size);

		if (n > 0) {
			*lenp = (size_t)n;
			return 0;
		}
		if (n < 0 && errno == ELAST) {
			chan_events(d, d->dfd, true);
			continue;
		}
		break;
	}
	return EAGAIN;
}

static int dahdi_dchan_write(struct span *sp, const void *buf, size_t len)
{
	struct dspan *d = sp->be;
	ssize_t n;

	if (d->dfd < 0)
		return ENOTCONN;
	n = d->sys->write(d->dfd, buf, len);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == ELAST)
		chan_events(d, d->dfd, true);
	return n < 0 && errno != EAGAIN && errno != ELAST ? EIO : EAGAIN;
}

static int dahdi_bchan_read(struct span *sp, unsigned ts, uint8_t *block)
{
	struct dspan *d = sp->be;

	memcpy(block, d->rx[ts], SPAN_BLOCK);
	return 0;
}

static int dahdi_bchan_write(struct span *sp, unsigned ts, const uint8_t *block)
{
	struct dspan *d = sp->be;

	memcpy(d->tx[ts], block, SPAN_BLOCK);
	return 0;
}

static int dahdi_ec_set(struct span *sp, unsigned ts, unsigned taps)
{
	struct dspan *d = sp->be;
	struct {
		struct dahdi_echocanparams p;
		struct dahdi_echocanparam none[1];
	} ecp;

	if (d->bfd[ts] < 0)
		return ENOTCONN;
	memset(&ecp, 0, sizeof(ecp));
	ecp.p.tap_length = taps; /* 0 turns the canceller off */
	ecp.p.param_count = 0;
	if (d->sys->ioctl(d->bfd[ts], DAHDI_ECHOCANCEL_PARAMS, &ecp))
		return errno ? errno : EIO;
	return 0;
}

static void dahdi_close(struct span *sp)
{
	struct dspan *d = sp->be;

	if (d->epfd >= 0) {
		loop_fd_forget(sp->loop, d->epfd);
		close(d->epfd);
		d->epfd = -1;
	}
	if (d->bepfd >= 0) /* span.c detached it from the B loop */
		close(d->bepfd);
	d->bepfd = -1;
	if (d->dfd >= 0)
		d->sys->close(d->dfd);
	d->dfd = -1;
	for (unsigned ts = 0; ts <= SPAN_MAX_TS; ts++) {
		if (d->bfd[ts] >= 0)
			d->sys->close(d->bfd[ts]);
		d->bfd[ts] = -1;
	}
	sp->alarms = SPAN_ALARM_RED;
}

static int ep_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLPRI, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
}

static int dahdi_open(struct span *sp)
{
	struct dspan *d = sp->be;
	int err;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->bepfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0 || d->bepfd < 0) {
		err = errno;
		dahdi_close(sp);
		return err;
	}
	err = sp->conf.dchan ? chan_open(d, sp->conf.dchan, true, &d->dfd) : 0;
	if (!err && d->dfd >= 0)
		err = ep_add(d->epfd, d->dfd);
	d->clock_ts = 0;
	for (unsigned ts = 1; ts <= SPAN_MAX_TS && !err; ts++) {
		if (!span_is_bchan(sp, ts))
			continue;
		err = chan_open(d, ts, false, &d->bfd[ts]);
		if (!err)
			err = ep_add(d->bepfd, d->bfd[ts]);
		if (!d->clock_ts)
			d->clock_ts = ts;
		memset(d->tx[ts], span_idle_byte(sp), SPAN_BLOCK);
	}
	if (!err)
		err = loop_fd_listen(sp->loop, d->epfd, LOOP_READ, ep_d_handler, d);
	if (err) {
		dahdi_close(sp);
		return err;
	}
	d->tick = 0;
	sp->alarms = SPAN_ALARM_RED;
	alarms_refresh(d); /* what the card says now */
	return 0;
}

const struct span_ops span_dahdi_ops = {
	.name = "dahdi",
	.open = dahdi_open,
	.close = dahdi_close,
	.dchan_read = dahdi_dchan_read,
	.dchan_write = dahdi_dchan_write,
	.bchan_read = dahdi_bchan_read,
	.bchan_write = dahdi_bchan_write,
	.ec_set = dahdi_ec_set,
	.bchan_attach = dahdi_bchan_attach,
	.bchan_detach = dahdi_bchan_detach,
};

int span_dahdi_alloc(struct span **spp, const struct span_conf *conf, struct loop *loop,
		     const struct dahdi_sys *sys)
{
	struct span *sp = NULL;
	struct dspan *d;
	int err;

	if (conf && !conf->first_chan)
		return EINVAL;
	err = span_alloc(&sp, conf, &span_dahdi_ops, loop);
	if (err)
		return err;
	d = mem_zalloc(sizeof(*d), NULL);
	if (!d) {
		mem_deref(sp);
		return ENOMEM;
	}
	d->sp = sp;
	d->sys = sys ? sys : &os_sys;
	d->epfd = d->bepfd = d->dfd = -1;
	for (unsigned ts = 0; ts <= SPAN_MAX_TS; ts++)
		d->bfd[ts] = -1;
	sp->be = d;
	sp->alarms = SPAN_ALARM_RED;
	*spp = sp;
	return 0;
}
