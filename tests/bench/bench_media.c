/*
 * bench_media: how many channels one media worker (one core) carries with every
 * 20 ms block on time, against a floor loop doing only the same socket I/O.
 *
 * Set-up per trial of N channels: ceil(N/30) E1 virtual spans on the worker's
 * loop (clock slaves: one SEQPACKET message per tick carries all 31 timeslots
 * each way), N channels (G.711 A-law, jitter buffer, DTMF detection and RFC 4733,
 * RTCP on (muxed), echo cancelling off), each with its own UDP socket on
 * 127.0.0.1. A generator thread is every span's clock master and every
 * channel's RTP peer: per 20 ms it sends one RTP packet to each channel
 * (sendmmsg from one socket), one tick message to each span, receives the
 * engine's RTP (recvmmsg on one socket) and checks that each span answered the
 * previous tick with the same sequence number before the next tick: if not,
 * that span's 30 blocks are late. A trial passes when at most 0.1% of the
 * span-ticks are late over the measured window (after 0.6 s warm-up).
 *
 * The floor: the same spans, sockets and generator, but the worker's tick only
 * does what the engine's design does with sockets and blocks (one non-blocking
 * recvmmsg per channel, one sendto per channel, block read/write on the span).
 *
 * Search: N doubles from 250 until a trial fails, then bisects to ~4%. A trial
 * during which the generator's timer missed a whole tick while the generator had
 * time to spare (the host stalled the clock master itself) is run again, at most
 * twice; the log says so.
 * Printed: channels_per_core (the engine's largest passing N), the engine's and
 * the floor's busy time per channel per tick at that N, the floor's own
 * largest N, and floor_ratio = engine busy time / floor busy time at the same
 * N (the cost ratio: 1.0 would be "free DSP"; the goal is <= 2).
 * ec_us_per_channel_second: CPU time of speexdsp's canceller (64 ms tail) per
 * second of one channel's audio, measured alone.
 *
 * Environment: BENCH_SCALE divides the trial length (default 2.5 s measured);
 * BENCH_MEDIA_MAX caps N (default 6000); BENCH_MEDIA_AT=N runs only the engine and
 * the floor at N, alternately, BENCH_MEDIA_REPEAT times (default 3), and prints no
 * RESULT (for comparing two builds, or for perf).
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/codec/codec.h"
#include "media/dsp/dsp.h"
#include "media/engine/engine.h"
#include "media/engine/engine_int.h"
#include "media/rtp/rtp.h"
#include "tdm/virtual/virtual.h"

#define BCH_PER_SPAN 30
#define NSLOTS       31
#define MSGLEN       (sizeof(struct virt_bhdr) + NSLOTS * SPAN_BLOCK)
#define BATCH        256
#define PKT_LEN      (RTP_HDR_SIZE + 160)

static double g_measure_s = 2.5;
static const double g_warm_s = 0.6;

struct gen {
	unsigned n, nspans;
	int sock; /* RTP to and from every channel */
	struct sa sa;
	struct sa *chan_sa;
	int *bfd, *dfd, *lfd;
	uint32_t *answered;
	/* results */
	uint64_t span_ticks, late, gen_overrun, rtp_rx, ticks;
	double gen_busy_max_ms;
	atomic_bool measuring, done;
	uint64_t (*busy)(void *), busy0, busy1;
	void *busy_arg;
	uint8_t alaw_tone[160];
};

struct result {
	bool pass;
	double late_frac;
	double busy_us_per_chan_tick;
	uint64_t rtp_rx_frac_permille;
	bool gen_limited;
	bool clock_stalled; /* the generator's timer overran although it had time to spare */
};

/* The worker on CPU 0, the generator on CPU 1, both SCHED_FIFO when allowed: other
 * processes on the host (compilers, tests) then cannot make a block late. */
#define WORKER_CPU 0
#define GEN_CPU    1
#define RT_PRIO    10

static void tune(int cpu)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct sched_param sp = {.sched_priority = RT_PRIO};
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(ncpu > 0 ? cpu % ncpu : 0, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	(void)pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

static uint64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned slot_ts(unsigned i)
{
	unsigned k = i % BCH_PER_SPAN;

	return k < 15 ? k + 1 : k + 2; /* 1..15, 17..31 */
}

static int udp_bind(struct sa *sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa_set_str(sa, "127.0.0.1", 0);
	if (bind(fd, &sa->u.sa, sa->len) < 0) {
		close(fd);
		return -1;
	}
	sa->len = sizeof(sa->u);
	getsockname(fd, &sa->u.sa, &sa->len);
	return fd;
}

static void span_addr(char *buf, size_t n, unsigned trial, unsigned i)
{
	snprintf(buf, n, "@tandem-bench-%d-%u-%u", (int)getpid(), trial, i);
}

/* ---- generator: clock master and RTP peer ---- */

static int gen_init(struct gen *g, unsigned n, unsigned trial)
{
	int big = 64 << 20;

	memset(g, 0, sizeof(*g));
	g->n = n;
	g->nspans = (n + BCH_PER_SPAN - 1) / BCH_PER_SPAN;
	g->sock = udp_bind(&g->sa);
	if (g->sock < 0)
		return errno;
	setsockopt(g->sock, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(g->sock, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	g->chan_sa = calloc(n, sizeof(*g->chan_sa));
	g->bfd = calloc(g->nspans, sizeof(int));
	g->dfd = calloc(g->nspans, sizeof(int));
	g->lfd = calloc(g->nspans, sizeof(int));
	g->answered = calloc(g->nspans, sizeof(uint32_t));
	if (!g->chan_sa || !g->bfd || !g->dfd || !g->lfd || !g->answered)
		return ENOMEM;
	for (unsigned s = 0; s < g->nspans; s++) {
		struct sockaddr_un un = {.sun_family = AF_UNIX};
		char name[SPAN_ADDR_MAX];
		size_t len;

		g->bfd[s] = g->dfd[s] = -1;
		span_addr(name, sizeof(name), trial, s);
		len = strlen(name);
		memcpy(un.sun_path, name, len);
		un.sun_path[0] = '\0';
		g->lfd[s] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (g->lfd[s] < 0 ||
		    bind(g->lfd[s], (struct sockaddr *)&un,
		         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0 ||
		    listen(g->lfd[s], 4) < 0)
			return errno;
	}
	for (unsigned i = 0; i < 160; i++)
		g->alaw_tone[i] =
		    codec_lin2alaw((int16_t)(3000 * sin(2 * M_PI * 440 * i / 8000.0)));
	return 0;
}

/* Accepts each span's D and B connections (after the spans were opened). */
static int gen_accept(struct gen *g)
{
	uint64_t t0 = ns_now();

	for (unsigned s = 0; s < g->nspans; s++) {
		while (g->bfd[s] < 0 || g->dfd[s] < 0) {
			struct pollfd p = {.fd = g->lfd[s], .events = POLLIN};
			struct virt_hello h;
			int c;

			if (ns_now() - t0 > 10000000000ull)
				return ETIMEDOUT;
			if (poll(&p, 1, 100) != 1)
				continue;
			c = accept4(g->lfd[s], NULL, NULL, SOCK_CLOEXEC);
			if (c < 0 || recv(c, &h, sizeof(h), 0) != sizeof(h))
				return EIO;
			if (h.kind == 'B') {
				int big = 4 << 20;

				setsockopt(c, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
				g->bfd[s] = c;
			} else {
				g->dfd[s] = c;
			}
		}
	}
	return 0;
}

static void gen_free(struct gen *g)
{
	for (unsigned s = 0; g->lfd && s < g->nspans; s++) {
		if (g->lfd[s] >= 0)
			close(g->lfd[s]);
		if (g->bfd[s] >= 0)
			close(g->bfd[s]);
		if (g->dfd[s] >= 0)
			close(g->dfd[s]);
	}
	if (g->sock >= 0)
		close(g->sock);
	free(g->chan_sa);
	free(g->bfd);
	free(g->dfd);
	free(g->lfd);
	free(g->answered);
}

static void gen_send_rtp(struct gen *g, uint32_t tick, uint8_t (*pkts)[PKT_LEN], struct mmsghdr *m,
                         struct iovec *iov)
{
	for (unsigned base = 0; base < g->n; base += BATCH) {
		unsigned k = g->n - base < BATCH ? g->n - base : BATCH;

		for (unsigned j = 0; j < k; j++) {
			unsigned i = base + j;
			struct rtp_hdr h = {.pt = 8,
			                    .marker = tick == 1,
			                    .seq = (uint16_t)tick,
			                    .ts = tick * 160,
			                    .ssrc = 0x10000 + i};
			size_t hl;

			rtp_hdr_encode(pkts[j], PKT_LEN, &h, &hl);
			memcpy(pkts[j] + hl, g->alaw_tone, 160);
			iov[j].iov_base = pkts[j];
			iov[j].iov_len = PKT_LEN;
			memset(&m[j], 0, sizeof(m[j]));
			m[j].msg_hdr.msg_iov = &iov[j];
			m[j].msg_hdr.msg_iovlen = 1;
			m[j].msg_hdr.msg_name = &g->chan_sa[i].u.sa;
			m[j].msg_hdr.msg_namelen = g->chan_sa[i].len;
		}
		for (unsigned sent = 0; sent < k;) {
			int r = sendmmsg(g->sock, m + sent, k - sent, 0);

			if (r <= 0)
				break;
			sent += (unsigned)r;
		}
	}
}

static void gen_drain_rtp(struct gen *g, uint8_t (*pkts)[PKT_LEN], struct mmsghdr *m,
                          struct iovec *iov)
{
	for (;;) {
		int r;

		for (unsigned j = 0; j < BATCH; j++) {
			iov[j].iov_base = pkts[j];
			iov[j].iov_len = PKT_LEN;
			memset(&m[j], 0, sizeof(m[j]));
			m[j].msg_hdr.msg_iov = &iov[j];
			m[j].msg_hdr.msg_iovlen = 1;
		}
		r = recvmmsg(g->sock, m, BATCH, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return;
		if (atomic_load(&g->measuring))
			g->rtp_rx += (unsigned)r;
	}
}

static void gen_spans(struct gen *g, uint32_t tick, uint8_t *msg)
{
	struct virt_bhdr *h = (struct virt_bhdr *)msg;
	bool meas = atomic_load(&g->measuring);

	for (unsigned s = 0; s < g->nspans; s++) {
		/* answers to earlier ticks: the last one must be tick - 1 */
		while (recv(g->bfd[s], msg, MSGLEN, MSG_DONTWAIT) == (ssize_t)MSGLEN)
			g->answered[s] = h->seq;
		if (meas && tick > 1) {
			g->span_ticks++;
			if (g->answered[s] != tick - 1)
				g->late++;
		}
	}
	h->nslots = NSLOTS;
	h->block = SPAN_BLOCK;
	for (unsigned ts = 0; ts < NSLOTS; ts++)
		memcpy(msg + sizeof(*h) + ts * SPAN_BLOCK, g->alaw_tone, SPAN_BLOCK);
	for (unsigned s = 0; s < g->nspans; s++) {
		h->seq = tick;
		(void)!send(g->bfd[s], msg, MSGLEN, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

static void *gen_main(void *arg)
{
	struct gen *g = arg;
	static uint8_t pkts[BATCH][PKT_LEN];
	static struct mmsghdr m[BATCH];
	static struct iovec iov[BATCH];
	static uint8_t msg[MSGLEN];
	struct itimerspec its = {{0, 20000000}, {0, 20000000}};
	uint32_t warm = (uint32_t)(g_warm_s * 50), total = warm + (uint32_t)(g_measure_s * 50);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	pthread_setname_np(pthread_self(), "bench-gen");
	tune(GEN_CPU);
	timerfd_settime(tfd, 0, &its, NULL);
	for (uint32_t tick = 1; tick <= total + 1; tick++) {
		uint64_t exp = 0, t0;
		double ms;

		if (read(tfd, &exp, sizeof(exp)) != sizeof(exp))
			break;
		if (exp > 1 && atomic_load(&g->measuring))
			g->gen_overrun += exp - 1;
		t0 = ns_now();
		if (tick == warm + 1) {
			g->busy0 = g->busy(g->busy_arg);
			atomic_store(&g->measuring, true);
		}
		if (tick == total + 1) {
			gen_spans(g, tick, msg); /* collects the last answers */
			g->busy1 = g->busy(g->busy_arg);
			break;
		}
		/* ticks first: a late worker is the worker's fault, not the generator's */
		gen_spans(g, tick, msg);
		gen_send_rtp(g, tick, pkts, m, iov);
		gen_drain_rtp(g, pkts, m, iov);
		if (atomic_load(&g->measuring))
			g->ticks++;
		ms = (ns_now() - t0) / 1e6;
		if (atomic_load(&g->measuring) && ms > g->gen_busy_max_ms)
			g->gen_busy_max_ms = ms;
	}
	close(tfd);
	atomic_store(&g->done, true);
	return NULL;
}

/* ---- the floor worker: same sockets, same spans, no media processing ---- */

struct floor_chan {
	int fd, twin; /* twin: connected to the generator (rtp_sock_twin), as the engine's */
	unsigned ts;
};

struct floor_span {
	struct floor *f;
	struct span *sp;
	struct floor_chan ch[BCH_PER_SPAN];
	unsigned n;
};

struct floor {
	struct loop *loop;
	pthread_t th;
	bool run;
	struct floor_span *spans;
	unsigned nspans;
	struct sa dst;
	bool epoll_rx; /* read each socket when epoll says so, instead of draining per tick */
	_Atomic uint64_t busy_ns;
	_Atomic uint64_t cpu_ns; /* thread CPU time, sampled at each tick */
	struct sa from;
	uint8_t rxbuf[RTP_BUF_SIZE];
	uint8_t pkt[PKT_LEN];
};

static void floor_tick(struct span *sp, uint32_t tick, void *arg)
{
	struct floor_span *fs = arg;
	struct floor *f = fs->f;
	uint64_t t0 = ns_now();
	uint8_t blk[SPAN_BLOCK];

	for (unsigned i = 0; i < fs->n; i++) {
		struct floor_chan *c = &fs->ch[i];

		/* the engine's reads in step: one datagram a tick, and on every
		 * MW_RX_PROBE-th tick until the socket is empty */
		for (unsigned j = 0; !f->epoll_rx && j < MW_RX_MAX; j++) {
			f->from.len = sizeof(f->from.u);
			if (recvfrom(c->twin, f->rxbuf, RTP_MTU, MSG_DONTWAIT | MSG_TRUNC,
			             &f->from.u.sa, &f->from.len) < 0 ||
			    tick % MW_RX_PROBE)
				break;
		}
		(void)span_bchan_write(sp, c->ts, f->rxbuf + RTP_HDR_SIZE);
		(void)span_bchan_read(sp, c->ts, blk);
		(void)send(c->twin, f->pkt, PKT_LEN, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	atomic_fetch_add(&f->busy_ns, ns_now() - t0);
	{
		struct timespec ts;

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		atomic_store(&f->cpu_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	}
}

/* The epoll variant of the floor: one recv per readiness event. */
static void floor_rx_h(int fd, unsigned events, void *arg)
{
	struct floor *f = arg;

	(void)events;
	(void)recv(fd, f->rxbuf, RTP_MTU, MSG_DONTWAIT);
}

static void floor_quit(void *arg)
{
	((struct floor *)arg)->run = false;
}

static void *floor_main(void *arg)
{
	struct floor *f = arg;

	pthread_setname_np(pthread_self(), "floor");
	tune(WORKER_CPU);
	for (unsigned s = 0; s < f->nspans; s++)
		span_open(f->spans[s].sp);
	while (f->run && !loop_run_once(f->loop, -1))
		;
	for (unsigned s = 0; s < f->nspans; s++)
		span_close(f->spans[s].sp);
	return NULL;
}

static uint64_t floor_busy(void *arg)
{
	return atomic_load(&((struct floor *)arg)->busy_ns);
}

static uint64_t floor_cpu(void *arg)
{
	return atomic_load(&((struct floor *)arg)->cpu_ns);
}

static uint64_t engine_busy(void *arg)
{
	struct media_worker_stats st;

	media_engine_worker_stats(arg, 0, &st);
	return st.busy_ns;
}

/* ---- trials ---- */

/* Floor variants: epoll-driven receive; measure thread CPU instead of tick time. */
static bool g_floor_epoll, g_floor_cpu;

static void span_conf_for(struct span_conf *c, unsigned trial, unsigned s)
{
	span_conf_default(c, s + 1, SPAN_E1);
	span_addr(c->addr, sizeof(c->addr), trial, s);
	c->listen = false;
	c->clock_master = false;
}

static void run_gen(struct gen *g, struct loop *sig)
{
	pthread_t th;

	pthread_create(&th, NULL, gen_main, g);
	while (!atomic_load(&g->done))
		loop_run_once(sig, 50);
	pthread_join(th, NULL);
}

static void score(const struct gen *g, unsigned n, struct result *r)
{
	uint64_t want = g->ticks * n;

	r->late_frac = g->span_ticks ? (double)g->late / g->span_ticks : 1;
	r->busy_us_per_chan_tick = g->ticks ? (g->busy1 - g->busy0) / 1e3 / g->ticks / n : 0;
	r->rtp_rx_frac_permille = want ? g->rtp_rx * 1000 / want : 0;
	r->gen_limited = g->gen_overrun > g->ticks / 1000 || g->gen_busy_max_ms > 19;
	r->clock_stalled = g->gen_overrun > 0 && g->gen_busy_max_ms < 10;
	r->pass = g->span_ticks && r->late_frac <= 0.001 && r->rtp_rx_frac_permille >= 990;
}

static void ev_ignore(const struct media_ev *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static int make_spans(struct span **sps, unsigned nspans, unsigned trial, struct loop *l)
{
	for (unsigned s = 0; s < nspans; s++) {
		struct span_conf c;
		int err;

		span_conf_for(&c, trial, s);
		err = span_virtual_alloc(&sps[s], &c, l);
		if (err)
			return err;
	}
	return 0;
}

static int trial_engine(unsigned n, unsigned trial, struct result *r)
{
	struct media_engine_cfg ec = {.workers = 1,
	                              .queue_len = n + 64,
	                              .rt_prio = RT_PRIO,
	                              .pin = true,
	                              .cpu_first = WORKER_CPU};
	struct media_engine *e = NULL;
	struct loop *sig = NULL;
	struct span **sps = NULL;
	struct gen g;
	int err;

	err = gen_init(&g, n, trial);
	if (!err)
		err = loop_alloc(&sig);
	if (!err)
		err = media_engine_alloc(&e, &ec, sig, ev_ignore, NULL);
	if (!err && !(sps = calloc(g.nspans, sizeof(*sps))))
		err = ENOMEM;
	/* Spans live on the signalling loop (D-channel, link); the worker gets their tick. */
	if (!err)
		err = make_spans(sps, g.nspans, trial, sig);
	for (unsigned s = 0; !err && s < g.nspans; s++)
		err = span_open(sps[s]);
	for (unsigned s = 0; !err && s < g.nspans; s++)
		err = media_engine_add_span(e, 0, sps[s]);
	if (!err)
		err = media_engine_start(e);
	if (!err)
		err = gen_accept(&g);
	for (unsigned i = 0; !err && i < n; i++) {
		struct media_chan_params p = {.span = sps[i / BCH_PER_SPAN],
		                              .ts = slot_ts(i),
		                              .rtcp_fd = -1,
		                              .codec = MEDIA_PCMA,
		                              .pt = 8,
		                              .rx_pt = 8,
		                              .te = true,
		                              .te_pt = 101,
		                              .te_rx_pt = 101,
		                              .dtmf_mode = MEDIA_DTMF_RFC4733,
		                              .latch = true,
		                              .ctx = "bench"};
		struct media_chan *ch;

		p.remote = g.sa;
		p.rtp_fd = udp_bind(&g.chan_sa[i]);
		if (p.rtp_fd < 0) {
			err = errno;
			break;
		}
		err = media_chan_start(&ch, e, &p);
		if (err)
			close(p.rtp_fd);
	}
	if (!err) {
		g.busy = engine_busy;
		g.busy_arg = e;
		run_gen(&g, sig);
		score(&g, n, r);
	}
	mem_deref(e);
	for (unsigned s = 0; sps && s < g.nspans; s++)
		mem_deref(sps[s]);
	free(sps);
	if (sig)
		loop_free(sig);
	gen_free(&g);
	return err;
}

static int trial_floor(unsigned n, unsigned trial, struct result *r)
{
	struct floor *f = calloc(1, sizeof(*f));
	struct span **sps = NULL;
	struct loop *sig = NULL;
	struct gen g;
	int err;

	if (!f)
		return ENOMEM;
	err = gen_init(&g, n, trial);
	if (!err)
		err = loop_alloc(&sig);
	if (!err)
		err = loop_alloc(&f->loop);
	if (!err && (!(sps = calloc(g.nspans, sizeof(*sps))) ||
	             !(f->spans = calloc(g.nspans, sizeof(*f->spans)))))
		err = ENOMEM;
	if (!err)
		err = make_spans(sps, g.nspans, trial, f->loop);
	for (unsigned i = 0; !err && i < n; i++) {
		struct floor_span *fs = &f->spans[i / BCH_PER_SPAN];
		int fd = udp_bind(&g.chan_sa[i]);

		int twin = -1;

		if (fd < 0)
			err = errno;
		else if ((err = rtp_sock_twin(fd, &g.sa, &twin)))
			close(fd);
		else
			fs->ch[fs->n++] = (struct floor_chan){fd, twin, slot_ts(i)};
		/* the bound socket waits on epoll for strangers, as the engine's does */
		if (!err)
			err = loop_fd_listen(f->loop, g_floor_epoll ? twin : fd, LOOP_READ, floor_rx_h, f);
	}
	if (!err) {
		f->nspans = g.nspans;
		f->dst = g.sa;
		f->epoll_rx = g_floor_epoll;
		for (unsigned s = 0; s < g.nspans; s++) {
			f->spans[s].f = f;
			f->spans[s].sp = sps[s];
			span_set_tick_handler(sps[s], floor_tick, &f->spans[s]);
		}
		loop_set_wake_handler(f->loop, floor_quit, f);
		f->run = true;
		err = pthread_create(&f->th, NULL, floor_main, f) ? EAGAIN : 0;
		if (err)
			f->run = false;
	}
	if (!err)
		err = gen_accept(&g);
	if (!err) {
		g.busy = g_floor_cpu ? floor_cpu : floor_busy;
		g.busy_arg = f;
		run_gen(&g, sig);
		score(&g, n, r);
	}
	if (f->run) {
		loop_wake(f->loop);
		pthread_join(f->th, NULL);
	}
	for (unsigned s = 0; f->spans && s < g.nspans; s++)
		for (unsigned i = 0; i < f->spans[s].n; i++) {
			close(f->spans[s].ch[i].fd);
			close(f->spans[s].ch[i].twin);
		}
	for (unsigned s = 0; sps && s < g.nspans; s++)
		mem_deref(sps[s]);
	free(sps);
	free(f->spans);
	if (f->loop)
		loop_free(f->loop);
	free(f);
	if (sig)
		loop_free(sig);
	gen_free(&g);
	return err;
}

typedef int(trial_fn)(unsigned n, unsigned trial, struct result *r);

static unsigned g_trial;

static bool run_trial(const char *name, trial_fn *fn, unsigned n, struct result *r)
{
	int err;

	/* A trial in which the generator's own timer missed ticks while the generator
	 * was not busy measured the host, not the worker (a stalled clock master makes
	 * every span late at once): it is run again, at most twice, and says so. */
	for (unsigned attempt = 0;; attempt++) {
		memset(r, 0, sizeof(*r));
		err = fn(n, ++g_trial, r);
		if (err) {
			printf("  %-6s N=%5u: set-up failed: %s\n", name, n, strerror(err));
			return false;
		}
		if (r->pass || attempt == 2 || !r->clock_stalled)
			break;
		printf("  %-6s N=%5u: late %.4f%% with the generator's clock stalled -> again\n",
		       name, n, r->late_frac * 100);
	}
	printf("  %-6s N=%5u: late %.4f%%, busy %.2f us/channel/tick (%.0f%% of a core), "
	       "RTP back %.1f%%%s -> %s\n",
	       name, n, r->late_frac * 100, r->busy_us_per_chan_tick,
	       r->busy_us_per_chan_tick * n / 200.0, r->rtp_rx_frac_permille / 10.0,
	       r->gen_limited ? ", generator overran" : "", r->pass ? "on time" : "LATE");
	fflush(stdout);
	return r->pass;
}

/* Doubling from start, then bisection to ~4%. Returns the largest passing N (0: none). */
static unsigned search(const char *name, trial_fn *fn, unsigned start, unsigned max,
                       struct result *best)
{
	unsigned lo = 0, hi = 0, n = start;
	struct result r;

	while (n <= max) {
		if (!run_trial(name, fn, n, &r)) {
			hi = n;
			break;
		}
		lo = n;
		*best = r;
		if (n == max)
			break;
		n = n * 2 > max ? max : n * 2;
	}
	if (!hi)
		return lo;
	if (!lo) {
		lo = start / 8;
		if (!run_trial(name, fn, lo, &r))
			return 0;
		*best = r;
	}
	while (hi - lo > lo / 25 && hi - lo > 10) {
		n = (lo + hi) / 2;
		if (run_trial(name, fn, n, &r)) {
			lo = n;
			*best = r;
		} else {
			hi = n;
		}
	}
	return lo;
}

/* speexdsp's canceller, 64 ms tail, alone: CPU microseconds per channel-second. */
static double ec_cost(void)
{
	struct ec_cfg cfg = {.tail_ms = 64, .no_tone_disable = false};
	struct ec ec;
	int16_t far[DSP_BLOCK], near[DSP_BLOCK], out[DSP_BLOCK];
	unsigned blocks = (unsigned)(500 / (2.5 / g_measure_s));
	struct timespec a, b;
	uint32_t rng = 1;

	if (blocks < 50)
		blocks = 50;
	if (ec_init(&ec, &cfg))
		return -1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (unsigned k = 0; k < blocks; k++) {
		for (unsigned i = 0; i < DSP_BLOCK; i++) {
			rng = rng * 1103515245u + 12345u;
			far[i] = (int16_t)((int32_t)(rng >> 16) % 8000 - 4000);
			near[i] = (int16_t)(far[i] / 4 + (int16_t)((rng >> 8) & 0xff) - 128);
		}
		ec_block(&ec, near, far, out);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	ec_release(&ec);
	return ((b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3) / (blocks * 0.02);
}

int main(void)
{
	const char *sc = getenv("BENCH_SCALE"), *mx = getenv("BENCH_MEDIA_MAX");
	double scale = sc ? strtod(sc, NULL) : 1;
	unsigned max = mx ? (unsigned)strtoul(mx, NULL, 10) : 6000;
	struct rlimit rl = {65536, 65536};
	struct result eng = {0}, flo = {0}, at = {0};
	unsigned n_eng, n_floor;
	double ec_us, ratio;

	if (scale > 0)
		g_measure_s /= scale;
	if (g_measure_s < 0.5)
		g_measure_s = 0.5;
	if (max < 60)
		max = 60;
	log_init("bench_media", false, LOG_LVL_WARN);
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		if (max > rl.rlim_cur / 2)
			max = (unsigned)(rl.rlim_cur / 2);
	}
	if (getenv("BENCH_MEDIA_AT")) {
		unsigned at_n = (unsigned)strtoul(getenv("BENCH_MEDIA_AT"), NULL, 10);
		const char *rp = getenv("BENCH_MEDIA_REPEAT");
		unsigned reps = rp ? (unsigned)strtoul(rp, NULL, 10) : 3;
		double se = 0, sf = 0;

		for (unsigned k = 0; k < reps; k++) {
			run_trial("engine", trial_engine, at_n, &eng);
			run_trial("floor", trial_floor, at_n, &at);
			se += eng.busy_us_per_chan_tick;
			sf += at.busy_us_per_chan_tick;
		}
		printf("mean at N=%u: engine %.2f us, floor %.2f us per channel per tick (ratio %.2f)\n",
		       at_n, se / reps, sf / reps, sf > 0 ? se / sf : 0);
		return 0;
	}
	printf("bench_media: one worker; %.1f s per trial after %.1f s warm-up; G.711 A-law, "
	       "jitter buffer, DTMF detection + RFC 4733, RTCP on, EC off\n",
	       g_measure_s, g_warm_s);
	n_eng = search("engine", trial_engine, 250, max, &eng);
	if (!n_eng) {
		printf(
		    "RESULT media channels_per_core=0 floor_ratio=0 ec_us_per_channel_second=0\n");
		return 1;
	}
	printf("floor at the engine's N, then the floor's own limit:\n");
	if (!run_trial("floor", trial_floor, n_eng, &at))
		printf("  (the floor itself is late at N=%u)\n", n_eng);
	n_floor = search("floor", trial_floor, n_eng, max, &flo);
	/* Receive design: drain per tick vs epoll per packet, same N, thread CPU time. */
	{
		struct result d = {0}, ep = {0};

		printf("receive design at N=%u (worker thread CPU per channel per tick):\n", n_eng);
		g_floor_cpu = true;
		run_trial("drain", trial_floor, n_eng, &d);
		g_floor_epoll = true;
		run_trial("epoll", trial_floor, n_eng, &ep);
		g_floor_epoll = g_floor_cpu = false;
		printf("  drain per tick: %.2f us, epoll + recv per packet: %.2f us (%+.0f%%)\n",
		       d.busy_us_per_chan_tick, ep.busy_us_per_chan_tick,
		       d.busy_us_per_chan_tick > 0
		           ? (ep.busy_us_per_chan_tick / d.busy_us_per_chan_tick - 1) * 100
		           : 0);
	}
	ec_us = ec_cost();
	ratio =
	    at.busy_us_per_chan_tick > 0 ? eng.busy_us_per_chan_tick / at.busy_us_per_chan_tick : 0;
	printf("engine: %u channels on time, %.2f us per channel per 20 ms tick in the worker\n",
	       n_eng, eng.busy_us_per_chan_tick);
	printf("floor: %.2f us per channel per tick at N=%u; the floor alone stays on time up to "
	       "N=%u%s (floor channels / engine channels = %.2f)\n",
	       at.busy_us_per_chan_tick, n_eng, n_floor, n_floor >= max ? " (the cap)" : "",
	       (double)n_floor / n_eng);
	printf("floor_ratio = engine busy time / floor busy time per channel-tick at N=%u\n",
	       n_eng);
	printf("echo canceller (speexdsp, 64 ms tail): %.0f us CPU per channel-second "
	       "(%.2f us per 20 ms block)\n",
	       ec_us, ec_us / 50);
	printf("RESULT media channels_per_core=%u floor_ratio=%.2f ec_us_per_channel_second=%.0f\n",
	       n_eng, ratio, ec_us);
	return 0;
}
