/*
 * The event loop. Why it looks like this:
 * - fd handlers live in an array indexed by fd (fds are small integers), with
 *   a generation counter in the epoll cookie so that an event for an fd that a
 *   previous handler in the same batch removed (and maybe reused) is dropped.
 * - timers are a binary min-heap of pointers into the callers' structs, ordered
 *   by expiry then by arming order, so equal deadlines fire in FIFO order.
 * - signals arrive through one signalfd, so handlers run as ordinary code.
 */
#include "core/loop.h"
#include "core/err.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct fdent {
	loop_fd_h *h;
	void *arg;
	uint32_t gen;
	unsigned events;
};

struct sigent {
	loop_sig_h *h;
	void *arg;
};

struct loop {
	int epfd;
	int wakefd;
	int sigfd;
	sigset_t sigmask;
	struct sigent sig[65];
	struct fdent *fds;
	unsigned nfds;
	struct tmr **heap;
	unsigned heapn, heapcap;
	uint64_t tmrseq;
	struct loop_defer *dhead, *dtail;
	loop_defer_h *wakeh;
	void *wakearg;
	uint64_t now;
	bool stop;
};

uint64_t loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

static void wake_handler(int fd, unsigned events, void *arg)
{
	struct loop *l = arg;
	uint64_t v;
	(void)events;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already drained */
	}
	if (l->wakeh)
		l->wakeh(l->wakearg);
}

int loop_alloc(struct loop **lp)
{
	struct loop *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return ENOMEM;
	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->wakefd < 0) {
		err = errno;
		goto out;
	}
	sigemptyset(&l->sigmask);
	l->now = loop_clock_ms();
	err = loop_fd_listen(l, l->wakefd, LOOP_READ, wake_handler, l);
	if (err)
		goto out;
	*lp = l;
	return 0;
out:
	loop_free(l);
	return err;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	if (l->sigfd >= 0) {
		close(l->sigfd);
		sigprocmask(SIG_UNBLOCK, &l->sigmask, NULL);
	}
	for (unsigned i = 0; i < l->heapn; i++)
		l->heap[i]->idx = 0;
	free(l->heap);
	free(l->fds);
	free(l);
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

void loop_wake(struct loop *l)
{
	uint64_t one = 1;

	if (write(l->wakefd, &one, sizeof(one)) < 0) {
		/* counter full: the loop is awake anyway */
	}
}

void loop_set_wake_handler(struct loop *l, loop_defer_h *h, void *arg)
{
	l->wakeh = h;
	l->wakearg = arg;
}

/* ---- file descriptors ---- */

int loop_fd_listen(struct loop *l, int fd, unsigned events, loop_fd_h *h, void *arg)
{
	struct epoll_event ev = { 0 };
	bool known;

	if (fd < 0 || !h)
		return EINVAL;
	if ((unsigned)fd >= l->nfds) {
		unsigned n = l->nfds ? l->nfds : 64;
		struct fdent *f;

		while (n <= (unsigned)fd)
			n *= 2;
		f = realloc(l->fds, n * sizeof(*f));
		if (!f)
			return ENOMEM;
		memset(f + l->nfds, 0, (n - l->nfds) * sizeof(*f));
		l->fds = f;
		l->nfds = n;
	}
	known = l->fds[fd].h != NULL;
	if (!known)
		l->fds[fd].gen++;
	ev.events = ((events & LOOP_READ) ? EPOLLIN : 0) | ((events & LOOP_WRITE) ? EPOLLOUT : 0);
	ev.data.u64 = (uint64_t)(unsigned)fd | ((uint64_t)l->fds[fd].gen << 32);
	if (epoll_ctl(l->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
		return errno;
	l->fds[fd].h = h;
	l->fds[fd].arg = arg;
	l->fds[fd].events = events;
	return 0;
}

void loop_fd_forget(struct loop *l, int fd)
{
	if (fd < 0 || (unsigned)fd >= l->nfds || !l->fds[fd].h)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].h = NULL;
	l->fds[fd].arg = NULL;
	l->fds[fd].gen++;
}

/* ---- signals ---- */

static void sig_handler(int fd, unsigned events, void *arg)
{
	struct loop *l = arg;
	struct signalfd_siginfo si;
	(void)events;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo < ARRAY_SIZE(l->sig) && l->sig[si.ssi_signo].h)
			l->sig[si.ssi_signo].h((int)si.ssi_signo, l->sig[si.ssi_signo].arg);
	}
}

int loop_signal(struct loop *l, int signo, loop_sig_h *h, void *arg)
{
	int fd;

	if (signo <= 0 || (unsigned)signo >= ARRAY_SIZE(l->sig))
		return EINVAL;
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return errno;
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return errno;
	l->sig[signo].h = h;
	l->sig[signo].arg = arg;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		return loop_fd_listen(l, fd, LOOP_READ, sig_handler, l);
	}
	return 0;
}

/* ---- timers ---- */

static bool tmr_before(const struct tmr *a, const struct tmr *b)
{
	return a->expires < b->expires || (a->expires == b->expires && a->seq < b->seq);
}

static void heap_set(struct loop *l, unsigned i, struct tmr *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void heap_up(struct loop *l, unsigned i)
{
	struct tmr *t = l->heap[i];

	while (i > 0) {
		unsigned p = (i - 1) / 2;
		if (!tmr_before(t, l->heap[p]))
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, t);
}

static void heap_down(struct loop *l, unsigned i)
{
	struct tmr *t = l->heap[i];

	for (;;) {
		unsigned c = 2 * i + 1;
		if (c >= l->heapn)
			break;
		if (c + 1 < l->heapn && tmr_before(l->heap[c + 1], l->heap[c]))
			c++;
		if (!tmr_before(l->heap[c], t))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void tmr_init(struct tmr *t)
{
	memset(t, 0, sizeof(*t));
}

bool tmr_running(const struct tmr *t)
{
	return t->idx != 0;
}

void tmr_cancel(struct tmr *t)
{
	struct loop *l = t->loop;
	unsigned i;

	if (!t->idx || !l)
		return;
	i = t->idx - 1;
	t->idx = 0;
	if (--l->heapn == i)
		return;
	struct tmr *m = l->heap[l->heapn];
	heap_set(l, i, m);
	heap_down(l, i);
	heap_up(l, m->idx - 1);
}

int tmr_start(struct loop *l, struct tmr *t, uint64_t delay_ms, tmr_h *h, void *arg)
{
	tmr_cancel(t);
	if (l->heapn == l->heapcap) {
		unsigned n = l->heapcap ? l->heapcap * 2 : 64;
		struct tmr **hp = realloc(l->heap, n * sizeof(*hp));
		if (!hp)
			return ENOMEM;
		l->heap = hp;
		l->heapcap = n;
	}
	t->loop = l;
	t->h = h;
	t->arg = arg;
	t->expires = loop_clock_ms() + delay_ms;
	t->seq = ++l->tmrseq;
	heap_set(l, l->heapn, t);
	heap_up(l, l->heapn++);
	return 0;
}

uint64_t tmr_left(const struct tmr *t)
{
	uint64_t now;

	if (!t->idx)
		return 0;
	now = loop_clock_ms();
	return t->expires > now ? t->expires - now : 0;
}

static void run_timers(struct loop *l)
{
	/* Fire only what is due now, so a timer re-armed with 0 cannot starve fds. */
	uint64_t now = l->now;
	unsigned budget = l->heapn;

	while (l->heapn && budget--) {
		struct tmr *t = l->heap[0];
		if (t->expires > now)
			break;
		tmr_cancel(t);
		t->h(t->arg);
	}
}

/* ---- deferred work ---- */

void loop_defer(struct loop *l, struct loop_defer *d, loop_defer_h *h, void *arg)
{
	d->h = h;
	d->arg = arg;
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	if (l->dtail)
		l->dtail->next = d;
	else
		l->dhead = d;
	l->dtail = d;
}

void loop_defer_cancel(struct loop *l, struct loop_defer *d)
{
	struct loop_defer **pp = &l->dhead, *prev = NULL;

	if (!d->queued)
		return;
	while (*pp && *pp != d) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp) {
		*pp = d->next;
		if (l->dtail == d)
			l->dtail = prev;
	}
	d->queued = false;
}

static void run_deferred(struct loop *l)
{
	/* Only what was queued before we started; new entries wait a round. */
	struct loop_defer *last = l->dtail;

	while (l->dhead) {
		struct loop_defer *d = l->dhead;
		l->dhead = d->next;
		if (!l->dhead)
			l->dtail = NULL;
		d->queued = false;
		d->h(d->arg);
		if (d == last)
			break;
	}
}

/* ---- the loop ---- */

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[64];
	int n;

	l->stop = false; /* loop_stop() ends the round it is called in */
	run_deferred(l);
	if (l->stop)
		return 0; /* a deferred handler asked to stop: do not block first */
	if (l->dhead)
		timeout_ms = 0;
	if (l->heapn) {
		uint64_t now = loop_clock_ms();
		uint64_t due = l->heap[0]->expires;
		int t = due <= now ? 0 : (due - now > 3600000 ? 3600000 : (int)(due - now));
		if (timeout_ms < 0 || t < timeout_ms)
			timeout_ms = t;
	}
	n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return errno;
	}
	l->now = loop_clock_ms();
	for (int i = 0; i < n; i++) {
		int fd = (int)(evs[i].data.u64 & 0xffffffffu);
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		unsigned ev = 0;
		struct fdent *f;

		if ((unsigned)fd >= l->nfds)
			continue;
		f = &l->fds[fd];
		if (!f->h || f->gen != gen)
			continue; /* removed by an earlier handler in this batch */
		if (evs[i].events & EPOLLIN)
			ev |= LOOP_READ;
		if (evs[i].events & EPOLLOUT)
			ev |= LOOP_WRITE;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			ev |= LOOP_ERROR | (f->events & LOOP_READ);
		f->h(fd, ev, f->arg);
	}
	run_timers(l);
	return 0;
}

int loop_run(struct loop *l)
{
	int err = 0;

	l->stop = false;
	while (!l->stop && !err)
		err = loop_run_once(l, -1);
	return err;
}
