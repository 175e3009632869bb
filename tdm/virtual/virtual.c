/*
 * The virtual span backend. Why it looks like this:
 * - SOCK_SEQPACKET keeps message boundaries and is connection-oriented, so a
 *   D-channel frame is one message and a vanished peer is an EOF: the red alarm.
 * - One B message per tick holding all timeslots costs one syscall per 20 ms per
 *   span instead of 30, and keeps every timeslot of a tick together as a real
 *   E1 frame does.
 * - Link loss found inside a write (called from libpri) is handled through a
 *   deferred call, so alarm handlers never run inside a caller's libpri call.
 * - The D-channel socket is watched for reading only while a handler is set:
 *   frames that come before it (a peer's first SABME) wait in the socket,
 *   whose buffer bounds them, rather than being read and dropped. Hang-up is
 *   reported by epoll either way, so a peer leaving is still seen.
 */
#include "tdm/virtual/virtual.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#define NPENDING 4

/* Tags of the B side's private epoll set. */
enum { VB_KICK = 1, VB_TIMER, VB_SOCK };
/* b_next: nothing to hand over / drop the B socket in use; >= 0: a new B socket. */
enum { VB_NONE = -1, VB_DROP = -2 };

struct vbmsg {
	struct virt_bhdr h;
	uint8_t data[SPAN_MAX_TS * SPAN_BLOCK];
};

/*
 * Two sides, possibly on two threads. The D side (sp->loop) owns the listening
 * and pending sockets, the D socket, link life and alarms. The B side
 * (sp->bloop) owns bfd, the tick counters and the blocks. They meet in b_next:
 * the D side hands a newly connected B socket (or VB_DROP when the link went)
 * and writes the kick eventfd; the B side takes it from its private epoll set
 * (bep: kick, timerfd, B socket), which is the one fd it puts on its loop, so
 * moving the B side between loops is one registration. The B side never
 * reports loss: both sockets go together and the D side sees it.
 */
struct vspan {
	struct span *sp; /* not a reference: the span owns us */
	/* D side */
	int lfd, dfd;
	int pending[NPENDING]; /* accepted, hello not read yet */
	int pair_d, pair_b;    /* socketpair ends given by span_virtual_pair() */
	int bnew;	       /* B socket connected, not handed over yet */
	bool bup;	       /* a B socket was handed over and not dropped */
	bool paired;
	struct tmr retry;
	struct loop_defer lost;
	uint32_t dframes_tx, dframes_rx, connects;
	/* fixed from open to close */
	int bep, kick, tfd;
	unsigned nslots;
	size_t msglen;
	/* hand-over */
	_Atomic int b_next;
	/* B side */
	int bfd;
	uint32_t seq;
	uint32_t tick;
	_Atomic uint32_t ticks_tx, ticks_rx, slips;
	struct vbmsg rx, tx, buf;
};

static void vspan_lost(void *arg);

static void fd_close(struct loop *l, int *fd)
{
	if (*fd < 0)
		return;
	loop_fd_forget(l, *fd);
	close(*fd);
	*fd = -1;
}

static int addr_make(const char *addr, struct sockaddr_un *un, socklen_t *len)
{
	size_t n = strlen(addr);

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(un->sun_path))
		return EINVAL;
	memcpy(un->sun_path, addr, n);
	if (addr[0] == '@')
		un->sun_path[0] = '\0'; /* abstract: no file to clean up */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (addr[0] == '@' ? 0 : 1));
	return 0;
}

static void fill_idle(struct vspan *v, struct vbmsg *m)
{
	memset(m->data, span_idle_byte(v->sp), v->nslots * SPAN_BLOCK);
}

static bool vspan_up(const struct vspan *v)
{
	return v->dfd >= 0 && (v->bnew >= 0 || v->bup);
}

/* ---- B-channels (B side) ---- */

static void b_close(struct vspan *v)
{
	if (v->bfd < 0)
		return;
	epoll_ctl(v->bep, EPOLL_CTL_DEL, v->bfd, NULL);
	close(v->bfd);
	v->bfd = -1;
	fill_idle(v, &v->rx);
}

/* The D side handed something over: a new B socket, or the link went. */
static void b_take(struct vspan *v)
{
	uint64_t cnt;
	int nfd;

	if (read(v->kick, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: already taken */
	}
	nfd = atomic_exchange(&v->b_next, VB_NONE);
	if (nfd == VB_NONE)
		return;
	b_close(v);
	if (nfd < 0)
		return;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = VB_SOCK };

	if (epoll_ctl(v->bep, EPOLL_CTL_ADD, nfd, &ev)) {
		close(nfd); /* the D side sees the peer go when it notices; ticks stay idle */
		return;
	}
	v->bfd = nfd;
	v->tick = 0;
}

/* Used by the D side: hand nfd (or VB_DROP) to the B side, wherever it runs. */
static void b_handover(struct vspan *v, int nfd)
{
	uint64_t one = 1;
	int old = atomic_exchange(&v->b_next, nfd);

	if (old >= 0) /* handed but never taken: still ours to close */
		close(old);
	if (write(v->kick, &one, sizeof(one)) < 0) {
		/* counter full: the B side has a wake-up pending anyway */
	}
}

static int send_tick(struct vspan *v, uint32_t seq)
{
	v->tx.h.seq = seq;
	v->tx.h.nslots = (uint16_t)v->nslots;
	v->tx.h.block = SPAN_BLOCK;
	if (send(v->bfd, &v->tx, v->msglen, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)v->msglen) {
		int err = errno ? errno : EIO;

		if (err == EAGAIN) {
			/* peer not reading: drop the tick, as a slip */
			atomic_fetch_add_explicit(&v->slips, 1, memory_order_relaxed);
			return 0;
		}
		b_close(v);
		return err;
	}
	atomic_fetch_add_explicit(&v->ticks_tx, 1, memory_order_relaxed);
	/* A timeslot nobody writes for the next tick carries silence, not a stale block. */
	fill_idle(v, &v->tx);
	return 0;
}

static void run_tick(struct vspan *v)
{
	struct span *sp = v->sp;

	v->tick++;
	if (sp->tickh)
		sp->tickh(sp, v->tick, sp->tick_arg);
}

/* Master: the timerfd is the span's clock. */
static void timer_tick(struct vspan *v)
{
	uint64_t n = 0;

	if (read(v->tfd, &n, sizeof(n)) != sizeof(n) || n == 0)
		return;
	if (n > 5) {
		/* A loop that stalled this long has lost the audio anyway. */
		atomic_fetch_add_explicit(&v->slips, (uint32_t)(n - 5), memory_order_relaxed);
		n = 5;
	}
	while (n--) {
		run_tick(v);
		/* What the peer sent is consumed: a missing answer reads as silence. */
		fill_idle(v, &v->rx);
		if (v->bfd >= 0 && send_tick(v, ++v->seq))
			return;
	}
}

static void bchan_rx(struct vspan *v)
{
	for (int i = 0; i < 8 && v->bfd >= 0; i++) {
		ssize_t n = recv(v->bfd, &v->buf, sizeof(v->buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			b_close(v);
			return;
		}
		if ((size_t)n != v->msglen || v->buf.h.nslots != v->nslots ||
		    v->buf.h.block != SPAN_BLOCK) {
			atomic_fetch_add_explicit(&v->slips, 1, memory_order_relaxed);
			continue;
		}
		atomic_fetch_add_explicit(&v->ticks_rx, 1, memory_order_relaxed);
		memcpy(v->rx.data, v->buf.data, v->nslots * SPAN_BLOCK);
		if (!v->sp->conf.clock_master) {
			run_tick(v);
			if (send_tick(v, v->buf.h.seq))
				return;
		}
	}
}

/* The B side's one fd on its loop: the private set with kick, clock and B socket. */
static void bep_handler(int fd, unsigned events, void *arg)
{
	struct vspan *v = arg;
	struct epoll_event evs[3];
	bool kick = false, timer = false, sock = false;
	int n;

	(void)events;
	n = epoll_wait(fd, evs, (int)ARRAY_SIZE(evs), 0);
	for (int i = 0; i < n; i++) {
		kick |= evs[i].data.u32 == VB_KICK;
		timer |= evs[i].data.u32 == VB_TIMER;
		sock |= evs[i].data.u32 == VB_SOCK;
	}
	if (kick)
		b_take(v);
	if (timer)
		timer_tick(v);
	if (sock)
		bchan_rx(v);
}

static int virt_bchan_attach(struct span *sp)
{
	struct vspan *v = sp->be;

	return loop_fd_listen(sp->bloop, v->bep, LOOP_READ, bep_handler, v);
}

static void virt_bchan_detach(struct span *sp)
{
	struct vspan *v = sp->be;

	loop_fd_forget(sp->bloop, v->bep);
}

static int virt_bchan_read(struct span *sp, unsigned ts, uint8_t *block)
{
	struct vspan *v = sp->be;

	memcpy(block, v->rx.data + (ts - 1) * SPAN_BLOCK, SPAN_BLOCK);
	return 0;
}

static int virt_bchan_write(struct span *sp, unsigned ts, const uint8_t *block)
{
	struct vspan *v = sp->be;

	memcpy(v->tx.data + (ts - 1) * SPAN_BLOCK, block, SPAN_BLOCK);
	return 0;
}

/* ---- D-channel ---- */

static void dchan_fd_handler(int fd, unsigned events, void *arg);

/* Reading while a handler is set; otherwise hang-ups only (epoll reports them always). */
static int dchan_listen(struct vspan *v)
{
	struct span *sp = v->sp;

	return loop_fd_listen(sp->loop, v->dfd, sp->dchanh ? LOOP_READ : 0, dchan_fd_handler, v);
}

static void virt_dchan_watch(struct span *sp, bool on)
{
	struct vspan *v = sp->be;

	(void)on;
	if (v->dfd >= 0 && dchan_listen(v))
		loop_defer(sp->loop, &v->lost, vspan_lost, v);
}

static void dchan_handler(int fd, unsigned events, void *arg)
{
	struct vspan *v = arg;
	struct span *sp = v->sp;

	(void)fd;
	(void)events;
	if (sp->dchanh)
		sp->dchanh(sp, sp->dchan_arg);
}

static int virt_dchan_read(struct span *sp, void *buf, size_t size, size_t *lenp)
{
	struct vspan *v = sp->be;
	ssize_t n;

	if (v->dfd < 0)
		return ENOTCONN;
	n = recv(v->dfd, buf, size, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && errno == EAGAIN)
		return EAGAIN;
	if (n <= 0) {
		loop_defer(sp->loop, &v->lost, vspan_lost, v);
		return ENOTCONN;
	}
	if ((size_t)n > size)
		return EMSGSIZE;
	v->dframes_rx++;
	*lenp = (size_t)n;
	return 0;
}

static int virt_dchan_write(struct span *sp, const void *buf, size_t len)
{
	struct vspan *v = sp->be;

	if (v->dfd < 0)
		return ENOTCONN;
	if (send(v->dfd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
		if (errno == EAGAIN)
			return EAGAIN;
		loop_defer(sp->loop, &v->lost, vspan_lost, v);
		return ENOTCONN;
	}
	v->dframes_tx++;
	return 0;
}

/* ---- link life ---- */

static void connect_retry(void *arg);

static void vspan_down(struct vspan *v)
{
	fd_close(v->sp->loop, &v->dfd);
	if (v->bnew >= 0)
		close(v->bnew);
	v->bnew = -1;
	if (v->bup)
		b_handover(v, VB_DROP);
	v->bup = false;
}

/* The cable is pulled: both connections go, red alarm, try again. */
static void vspan_lost(void *arg)
{
	struct vspan *v = arg;
	struct span *sp = v->sp;

	loop_defer_cancel(sp->loop, &v->lost);
	if (v->dfd < 0 && v->bnew < 0 && !v->bup)
		return;
	LOGW(sp->ctx, "virtual span: peer gone");
	vspan_down(v);
	if (!sp->conf.listen && !v->paired)
		tmr_start(sp->loop, &v->retry, VIRT_RETRY_MS, connect_retry, v);
	span_report_alarms(sp, SPAN_ALARM_RED);
}

static void dchan_fd_handler(int fd, unsigned events, void *arg)
{
	struct vspan *v = arg;

	if ((events & LOOP_ERROR) && !(events & LOOP_READ)) {
		vspan_lost(v);
		return;
	}
	dchan_handler(fd, events, arg);
}

/* Both connections are there: listen on them and clear the alarm. */
static int vspan_start(struct vspan *v)
{
	struct span *sp = v->sp;
	int err;

	err = dchan_listen(v);
	if (err) {
		vspan_down(v);
		return err;
	}
	b_handover(v, v->bnew);
	v->bnew = -1;
	v->bup = true;
	v->connects++;
	LOGI(sp->ctx, "virtual span up (%s, clock %s)", sp->conf.listen ? "listening" : "connected",
	     sp->conf.clock_master ? "master" : "slave");
	span_report_alarms(sp, 0);
	return 0;
}

static int connect_one(struct vspan *v, char kind, int *fdp)
{
	const struct span_conf *c = &v->sp->conf;
	struct virt_hello h = { VIRT_MAGIC, VIRT_VERSION, (uint8_t)kind, (uint8_t)c->type, 0,
				c->num };
	struct sockaddr_un un;
	socklen_t len;
	int fd, err;

	err = addr_make(c->addr, &un, &len);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&un, len) < 0 ||
	    send(fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h)) {
		err = errno ? errno : EIO;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

static void connect_retry(void *arg)
{
	struct vspan *v = arg;
	struct span *sp = v->sp;
	int err;

	err = connect_one(v, 'D', &v->dfd);
	if (!err) {
		err = connect_one(v, 'B', &v->bnew);
		if (err) {
			close(v->dfd);
			v->dfd = -1;
		}
	}
	if (!err)
		err = vspan_start(v);
	if (err) {
		LOGD(sp->ctx, "virtual span: connect %s: %s", sp->conf.addr, strerror(err));
		tmr_start(sp->loop, &v->retry, VIRT_RETRY_MS, connect_retry, v);
	}
}

/* An accepted connection said hello: it becomes our D or B side. */
static void hello_handler(int fd, unsigned events, void *arg)
{
	struct vspan *v = arg;
	struct span *sp = v->sp;
	struct virt_hello h;
	ssize_t n = recv(fd, &h, sizeof(h), MSG_DONTWAIT);
	int *slot = NULL;

	(void)events;
	if (n < 0 && errno == EAGAIN)
		return;
	for (int i = 0; i < NPENDING; i++)
		if (v->pending[i] == fd)
			v->pending[i] = -1;
	loop_fd_forget(sp->loop, fd);
	if (n == (ssize_t)sizeof(h) && h.magic == VIRT_MAGIC && h.version == VIRT_VERSION &&
	    h.type == sp->conf.type && (h.kind == 'D' || h.kind == 'B'))
		slot = h.kind == 'D' ? &v->dfd : &v->bnew;
	if (!slot) {
		LOGW(sp->ctx, "virtual span: peer hello rejected (E1/T1 mismatch or not a span)");
		close(fd);
		return;
	}
	if (*slot >= 0 || (h.kind == 'B' && v->bup)) /* the peer came back before we noticed */
		vspan_lost(v);
	*slot = fd;
	if (vspan_up(v) && vspan_start(v))
		vspan_lost(v);
}

static void accept_handler(int fd, unsigned events, void *arg)
{
	struct vspan *v = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int i;

	(void)events;
	if (c < 0)
		return;
	for (i = 0; i < NPENDING && v->pending[i] >= 0; i++)
		;
	if (i == NPENDING || loop_fd_listen(v->sp->loop, c, LOOP_READ, hello_handler, v)) {
		close(c);
		return;
	}
	v->pending[i] = c;
}

static int listen_open(struct vspan *v)
{
	struct span *sp = v->sp;
	struct sockaddr_un un;
	socklen_t len;
	int err;

	err = addr_make(sp->conf.addr, &un, &len);
	if (err)
		return err;
	v->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->lfd < 0)
		return errno;
	if (sp->conf.addr[0] != '@')
		unlink(sp->conf.addr); /* a stale socket file from a previous run */
	if (bind(v->lfd, (struct sockaddr *)&un, len) < 0 || listen(v->lfd, NPENDING) < 0)
		return errno;
	return loop_fd_listen(sp->loop, v->lfd, LOOP_READ, accept_handler, v);
}

/* The B side's private set: the kick eventfd and, on the clock master, the timerfd. */
static int bside_open(struct vspan *v)
{
	struct itimerspec its = { { 0, SPAN_TICK_MS * 1000000L }, { 0, SPAN_TICK_MS * 1000000L } };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = VB_KICK };

	v->bep = epoll_create1(EPOLL_CLOEXEC);
	v->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->bep < 0 || v->kick < 0 || epoll_ctl(v->bep, EPOLL_CTL_ADD, v->kick, &ev))
		return errno;
	if (!v->sp->conf.clock_master)
		return 0;
	v->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.u32 = VB_TIMER;
	if (v->tfd < 0 || timerfd_settime(v->tfd, 0, &its, NULL) < 0 ||
	    epoll_ctl(v->bep, EPOLL_CTL_ADD, v->tfd, &ev))
		return errno;
	return 0;
}

static void fd_drop(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* span.c detached the B side first: both sides are ours here. */
static void virt_close(struct span *sp)
{
	struct vspan *v = sp->be;
	struct loop *l = sp->loop;
	int nfd;

	tmr_cancel(&v->retry);
	loop_defer_cancel(l, &v->lost);
	vspan_down(v);
	v->bup = false;
	nfd = atomic_exchange(&v->b_next, VB_NONE);
	if (nfd >= 0)
		close(nfd);
	b_close(v);
	fd_drop(&v->tfd);
	fd_drop(&v->kick);
	fd_drop(&v->bep);
	fd_close(l, &v->lfd);
	for (int i = 0; i < NPENDING; i++)
		fd_close(l, &v->pending[i]);
	if (sp->conf.listen && sp->conf.addr[0] && sp->conf.addr[0] != '@')
		unlink(sp->conf.addr);
	v->paired = false; /* a socketpair cannot be reconnected */
	sp->alarms = SPAN_ALARM_RED;
}

static int virt_open(struct span *sp)
{
	struct vspan *v = sp->be;
	int err;

	fill_idle(v, &v->rx);
	fill_idle(v, &v->tx);
	v->tick = 0;
	sp->alarms = SPAN_ALARM_RED; /* until the peer is there */
	err = bside_open(v);
	if (err)
		goto out;
	if (v->paired) {
		v->dfd = v->pair_d;
		v->bnew = v->pair_b;
		v->pair_d = v->pair_b = -1;
		err = vspan_start(v);
	} else if (sp->conf.listen) {
		err = listen_open(v);
	} else if (sp->conf.addr[0]) {
		connect_retry(v); /* failures retry on the timer */
		err = 0;
	} else {
		err = EINVAL;
	}
out:
	if (err)
		virt_close(sp);
	return err;
}

static void vspan_destroy(void *data)
{
	struct vspan *v = data;

	if (v->pair_d >= 0)
		close(v->pair_d);
	if (v->pair_b >= 0)
		close(v->pair_b);
}

const struct span_ops span_virtual_ops = {
	.name = "virtual",
	.open = virt_open,
	.close = virt_close,
	.dchan_read = virt_dchan_read,
	.dchan_write = virt_dchan_write,
	.bchan_read = virt_bchan_read,
	.bchan_write = virt_bchan_write,
	.ec_set = NULL, /* nothing echoes on a socket */
	.dchan_watch = virt_dchan_watch,
	.bchan_attach = virt_bchan_attach,
	.bchan_detach = virt_bchan_detach,
};

int span_virtual_alloc(struct span **spp, const struct span_conf *conf, struct loop *loop)
{
	struct span *sp = NULL;
	struct vspan *v;
	int err;

	err = span_alloc(&sp, conf, &span_virtual_ops, loop);
	if (err)
		return err;
	v = mem_zalloc(sizeof(*v), vspan_destroy);
	if (!v) {
		mem_deref(sp);
		return ENOMEM;
	}
	v->sp = sp;
	v->lfd = v->dfd = v->bfd = v->tfd = v->pair_d = v->pair_b = -1;
	v->bnew = v->bep = v->kick = -1;
	atomic_init(&v->b_next, VB_NONE);
	for (int i = 0; i < NPENDING; i++)
		v->pending[i] = -1;
	v->nslots = span_type_nslots(conf->type);
	v->msglen = sizeof(struct virt_bhdr) + v->nslots * SPAN_BLOCK;
	tmr_init(&v->retry);
	sp->be = v;
	sp->alarms = SPAN_ALARM_RED;
	*spp = sp;
	return 0;
}

int span_virtual_pair(struct span *a, struct span *b)
{
	struct vspan *va, *vb;
	int d[2], bb[2];

	if (!a || !b || a->ops != &span_virtual_ops || b->ops != &span_virtual_ops || a->open ||
	    b->open || a->conf.type != b->conf.type)
		return EINVAL;
	va = a->be;
	vb = b->be;
	if (va->pair_d >= 0 || vb->pair_d >= 0)
		return EALREADY;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, d) < 0)
		return errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, bb) < 0) {
		close(d[0]);
		close(d[1]);
		return errno;
	}
	va->pair_d = d[0];
	vb->pair_d = d[1];
	va->pair_b = bb[0];
	vb->pair_b = bb[1];
	va->paired = vb->paired = true;
	return 0;
}

void span_virtual_stats(const struct span *sp, struct virt_stats *st)
{
	struct vspan *v = sp->be;

	st->ticks_tx = atomic_load_explicit(&v->ticks_tx, memory_order_relaxed);
	st->ticks_rx = atomic_load_explicit(&v->ticks_rx, memory_order_relaxed);
	st->slips = atomic_load_explicit(&v->slips, memory_order_relaxed);
	st->dframes_tx = v->dframes_tx;
	st->dframes_rx = v->dframes_rx;
	st->connects = v->connects;
}
