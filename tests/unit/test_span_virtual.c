/*
 * Unit tests for tdm/span and tdm/virtual: system.conf parsing, D-channel frames
 * keeping their boundaries, B-channel ticks paced by the master's clock, every
 * timeslot in one message on the wire, red alarm on peer loss and recovery, and
 * a span whose D-channel runs on one thread's loop and B-channel tick on another's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "tdm/span/span.h"
#include "tdm/virtual/virtual.h"

/* ---- helpers ---- */

struct watch {
	unsigned alarm_events;
	unsigned last_alarms;
	unsigned ticks;
	unsigned dframes;
	size_t dlen[8];
	uint8_t dlast[SPAN_DFRAME_MAX];
	unsigned bad_blocks;
	unsigned good_blocks;
};

static void on_alarm(struct span *sp, unsigned alarms, void *arg)
{
	struct watch *w = arg;

	(void)sp;
	w->alarm_events++;
	w->last_alarms = alarms;
}

static void on_dchan(struct span *sp, void *arg)
{
	struct watch *w = arg;
	size_t len;

	while (span_dchan_read(sp, w->dlast, sizeof(w->dlast), &len) == 0) {
		if (w->dframes < ARRAY_SIZE(w->dlen))
			w->dlen[w->dframes] = len;
		w->dframes++;
	}
}

/* Block of timeslot ts at a tick: every byte ts, except byte 1: the tick. */
static void fill_pattern(uint8_t *b, unsigned ts, uint32_t tick)
{
	memset(b, (int)ts, SPAN_BLOCK);
	b[1] = (uint8_t)tick;
}

static void on_tick(struct span *sp, uint32_t tick, void *arg)
{
	struct watch *w = arg;
	uint8_t b[SPAN_BLOCK];
	uint8_t idle = span_idle_byte(sp);

	w->ticks++;
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		bool good = true;

		if (!span_is_bchan(sp, ts))
			continue;
		assert_int_equal(span_bchan_read(sp, ts, b), 0);
		/* A block is one tick of one timeslot: never another slot's, never mixed. */
		if (b[0] != idle || b[2] != idle) { /* idle: nothing came for this tick */
			good = b[0] == ts;
			for (unsigned i = 2; i < SPAN_BLOCK; i++)
				good &= b[i] == ts;
			if (good)
				w->good_blocks++;
			else
				w->bad_blocks++;
		}
		fill_pattern(b, ts, tick);
		assert_int_equal(span_bchan_write(sp, ts, b), 0);
	}
}

static void watch_span(struct span *sp, struct watch *w)
{
	memset(w, 0, sizeof(*w));
	w->last_alarms = span_alarms(sp);
	span_set_alarm_handler(sp, on_alarm, w);
	span_set_dchan_handler(sp, on_dchan, w);
	span_set_tick_handler(sp, on_tick, w);
}

typedef bool(pred_h)(void *arg);

static bool run_until(struct loop *l, pred_h *p, void *arg, unsigned ms)
{
	uint64_t end = loop_clock_ms() + ms;

	while (!p(arg)) {
		if (loop_clock_ms() >= end)
			return false;
		assert_int_equal(loop_run_once(l, 10), 0);
	}
	return true;
}

static void run_for(struct loop *l, unsigned ms)
{
	uint64_t end = loop_clock_ms() + ms;

	while (loop_clock_ms() < end)
		assert_int_equal(loop_run_once(l, (int)(end - loop_clock_ms())), 0);
}

struct two {
	struct span *a, *b;
};

static bool both_up(void *arg)
{
	struct two *t = arg;

	return span_alarms(t->a) == 0 && span_alarms(t->b) == 0;
}

static bool a_red(void *arg)
{
	struct two *t = arg;

	return span_alarms(t->a) & SPAN_ALARM_RED;
}

static bool b_red(void *arg)
{
	struct two *t = arg;

	return span_alarms(t->b) & SPAN_ALARM_RED;
}

static void addr_unique(char *buf, size_t n, const char *tag)
{
	static unsigned seq;

	snprintf(buf, n, "@tandem-test-%d-%s-%u", (int)getpid(), tag, seq++);
}

static void conf_virtual(struct span_conf *c, enum span_type type, const char *addr, bool listen,
			 bool master)
{
	span_conf_default(c, listen ? 1 : 2, type);
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	c->listen = listen;
	c->clock_master = master;
}

/* ---- system.conf ---- */

static void test_conf_parse(void **state)
{
	/* The configuration that drives real DAHDI in ../shared/DAHDI-VM.md. */
	static const char sysconf[] = "# two E1s back to back\n"
				      "span=1,0,0,ccs,hdb3,crc4\n"
				      "span=2,0,0,ccs,hdb3,crc4\n"
				      "bchan=1-15,17-31\n"
				      "dchan=16\n"
				      "bchan=32-46,48-62\n"
				      "dchan=47\n"
				      "alaw=1-62\n"
				      "loadzone=nl\n"
				      "defaultzone=nl\n";
	static const char t1conf[] = "span=1,1,0,esf,b8zs\n  bchan = 1-23 \ndchan=24\n";
	struct span_conf c[4];
	uint32_t want = 0, m;
	size_t n = 0;
	unsigned line = 0;

	(void)state;
	for (unsigned ts = 1; ts <= 31; ts++)
		if (ts != 16)
			want |= 1u << ts;
	assert_int_equal(span_conf_parse(c, 4, &n, sysconf, &line), 0);
	assert_int_equal(n, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(c[i].num, i + 1);
		assert_int_equal(c[i].type, SPAN_E1);
		assert_int_equal(c[i].framing, SPAN_FRAMING_CCS);
		assert_int_equal(c[i].coding, SPAN_CODING_HDB3);
		assert_true(c[i].crc4);
		assert_int_equal(c[i].bchans, want);
		assert_int_equal(c[i].dchan, 16);
		assert_int_equal(c[i].law, SPAN_ALAW);
		assert_int_equal(c[i].first_chan, 1 + 31 * i);
	}

	assert_int_equal(span_conf_parse(c, 4, &n, t1conf, &line), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].type, SPAN_T1);
	assert_int_equal(c[0].framing, SPAN_FRAMING_ESF);
	assert_int_equal(c[0].coding, SPAN_CODING_B8ZS);
	assert_int_equal(c[0].timing, 1);
	assert_int_equal(c[0].dchan, 24);
	assert_int_equal(c[0].law, SPAN_ULAW);
	assert_int_equal(c[0].bchans, 0x00fffffeu);

	assert_int_equal(span_conf_parse(c, 4, &n, "span=1,0,0,ccs,hdb3\nbogus line\n", &line),
			 EINVAL);
	assert_int_equal(line, 2);
	assert_int_equal(span_conf_parse(c, 4, &n, "span=1,0,0,xyz,hdb3\n", &line), EINVAL);
	assert_int_equal(span_conf_parse(c, 4, &n, "span=1,0,0,ccs,hdb3\nbchan=1-40\n", &line),
			 ERANGE);
	assert_int_equal(span_ts_ranges("1-3,5", &m), 0);
	assert_int_equal(m, 0x2eu);
	assert_int_equal(span_ts_ranges("3-1", &m), EINVAL);
	assert_int_equal(span_ts_ranges("0", &m), EINVAL);
	assert_int_equal(span_ts_ranges("1,", &m), 0);
	assert_int_equal(span_ts_ranges("1;2", &m), EINVAL);
}

static void test_span_args(void **state)
{
	struct loop *l;
	struct span_conf c;
	struct span *sp;
	uint8_t b[SPAN_BLOCK] = { 0 };
	char buf[48];

	(void)state;
	assert_int_equal(loop_alloc(&l), 0);
	span_conf_default(&c, 1, SPAN_E1);
	c.bchans |= 1u << 16; /* the D-channel cannot also be a B-channel */
	assert_int_equal(span_virtual_alloc(&sp, &c, l), EINVAL);
	span_conf_default(&c, 1, SPAN_T1);
	c.bchans |= 1u << 25; /* a T1 has 24 timeslots */
	assert_int_equal(span_virtual_alloc(&sp, &c, l), EINVAL);
	span_conf_default(&c, 1, SPAN_E1);
	assert_int_equal(span_virtual_alloc(&sp, &c, l), 0);
	assert_int_equal(span_open(sp), EINVAL); /* no address, not paired */
	assert_int_equal(span_bchan_write(sp, 1, b), ENOTCONN);
	assert_int_equal(span_bchan_write(sp, 16, b), EINVAL);
	assert_int_equal(span_ec_set(sp, 1, 128), ENOTSUP);
	assert_int_equal(span_alarms(sp), SPAN_ALARM_RED);
	assert_string_equal(span_alarm_str(SPAN_ALARM_RED | SPAN_ALARM_DCHAN, buf, sizeof(buf)),
			    "red|dchan");
	assert_string_equal(span_alarm_str(0, buf, sizeof(buf)), "ok");
	mem_deref(sp);
	loop_free(l);
}

/* ---- D-channel ---- */

static void test_dframes_pair(void **state)
{
	struct loop *l;
	struct span_conf ca, cb;
	struct two t;
	struct watch wa, wb;
	uint8_t f[3][SPAN_DFRAME_MAX];
	const size_t lens[3] = { 5, 263, SPAN_DFRAME_MAX };

	(void)state;
	assert_int_equal(loop_alloc(&l), 0);
	span_conf_default(&ca, 1, SPAN_E1);
	span_conf_default(&cb, 2, SPAN_E1);
	ca.clock_master = true;
	assert_int_equal(span_virtual_alloc(&t.a, &ca, l), 0);
	assert_int_equal(span_virtual_alloc(&t.b, &cb, l), 0);
	assert_int_equal(span_virtual_pair(t.a, t.b), 0);
	watch_span(t.a, &wa);
	watch_span(t.b, &wb);
	assert_int_equal(span_open(t.a), 0);
	assert_int_equal(span_open(t.b), 0);
	assert_true(both_up(&t));
	/* Up inside span_open(), told from the loop: the handler may use the span then. */
	assert_int_equal(wa.alarm_events, 0);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(wa.alarm_events, 1);
	assert_int_equal(wa.last_alarms, 0);
	assert_int_equal(wb.alarm_events, 1);

	/* Three frames back to back, each must arrive alone and whole. */
	for (unsigned i = 0; i < 3; i++) {
		for (size_t j = 0; j < lens[i]; j++)
			f[i][j] = (uint8_t)(i * 31 + j);
		assert_int_equal(span_dchan_write(t.a, f[i], lens[i]), 0);
	}
	assert_int_equal(span_dchan_write(t.a, f[0], SPAN_DFRAME_MAX + 1), EINVAL);
	span_set_dchan_handler(t.b, NULL, NULL);
	for (unsigned i = 0; i < 3; i++) {
		uint8_t got[SPAN_DFRAME_MAX + 8];
		size_t len = 0;

		assert_int_equal(span_dchan_read(t.b, got, sizeof(got), &len), 0);
		assert_int_equal(len, lens[i]);
		assert_memory_equal(got, f[i], lens[i]);
	}
	{
		uint8_t got[8];
		size_t len;

		assert_int_equal(span_dchan_read(t.b, got, sizeof(got), &len), EAGAIN);
		/* A frame bigger than the buffer is reported, not cut silently. */
		assert_int_equal(span_dchan_write(t.b, f[1], lens[1]), 0);
		span_set_dchan_handler(t.a, NULL, NULL);
		assert_int_equal(span_dchan_read(t.a, got, sizeof(got), &len), EMSGSIZE);
	}

	/* Through the loop: the handler sees the frame. */
	span_set_dchan_handler(t.b, on_dchan, &wb);
	assert_int_equal(span_dchan_write(t.a, f[2], 77), 0);
	for (int i = 0; i < 50 && !wb.dframes; i++)
		loop_run_once(l, 10);
	assert_int_equal(wb.dframes, 1);
	assert_int_equal(wb.dlen[0], 77);
	assert_memory_equal(wb.dlast, f[2], 77);

	/* Closing one end is a red alarm on the other. */
	span_close(t.a);
	assert_true(run_until(l, b_red, &t, 1000));
	assert_int_equal(wb.last_alarms, SPAN_ALARM_RED);
	assert_int_equal(span_open(t.a), EINVAL); /* a socketpair cannot be re-plugged */
	mem_deref(t.a);
	mem_deref(t.b);
	loop_free(l);
}

/* ---- listen/connect, pacing, alarms ---- */

static void pair_listen(struct loop *l, struct two *t, enum span_type type, bool listener_master)
{
	struct span_conf ca, cb;
	char addr[64];

	addr_unique(addr, sizeof(addr), "lc");
	conf_virtual(&ca, type, addr, true, listener_master);
	conf_virtual(&cb, type, addr, false, !listener_master);
	assert_int_equal(span_virtual_alloc(&t->a, &ca, l), 0);
	assert_int_equal(span_virtual_alloc(&t->b, &cb, l), 0);
}

/*
 * What the alarm handler sees of a span that comes up inside span_open(): an
 * open span it can send on (pstnsim and tandemd start PRI there, and its first
 * SABME must go out). Frames that arrive before anyone reads the D-channel wait
 * for the handler instead of being dropped.
 */
struct early {
	struct watch w;
	int open_seen;	 /* span->open as the alarm handler saw it */
	int write_err;	 /* span_dchan_write() from the alarm handler */
};

static void on_alarm_send(struct span *sp, unsigned alarms, void *arg)
{
	struct early *e = arg;

	on_alarm(sp, alarms, &e->w);
	if (alarms)
		return;
	e->open_seen = sp->open;
	e->write_err = span_dchan_write(sp, "\x00\x01\x7f\x00\x00", 5);
}

static void test_dchan_early(void **state)
{
	struct loop *l;
	struct two t;
	struct watch wa;
	struct early e;
	uint8_t f[40];

	(void)state;
	assert_int_equal(loop_alloc(&l), 0);
	pair_listen(l, &t, SPAN_E1, true);
	watch_span(t.a, &wa);
	span_set_dchan_handler(t.a, NULL, NULL); /* nobody reads the listener's D-channel yet */
	memset(&e, 0, sizeof(e));
	e.open_seen = -1;
	e.write_err = -1;
	span_set_alarm_handler(t.b, on_alarm_send, &e);
	assert_int_equal(span_open(t.a), 0);
	/* The listener is there: the connecting end comes up inside span_open(). */
	assert_int_equal(span_open(t.b), 0);
	assert_int_equal(span_alarms(t.b), 0);
	assert_true(run_until(l, both_up, &t, 2000));
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(e.w.alarm_events, 1);
	assert_int_equal(e.open_seen, 1);
	assert_int_equal(e.write_err, 0);

	/* Two more frames before the listener has a handler; the loop runs meanwhile. */
	for (unsigned i = 0; i < 2; i++) {
		memset(f, 0xa0 + (int)i, sizeof(f));
		assert_int_equal(span_dchan_write(t.b, f, 10 + i), 0);
	}
	run_for(l, 100);
	assert_int_equal(wa.dframes, 0);

	/* The handler comes: all three arrive, in order, through the loop. */
	span_set_dchan_handler(t.a, on_dchan, &wa);
	for (int i = 0; i < 50 && wa.dframes < 3; i++)
		assert_int_equal(loop_run_once(l, 10), 0);
	assert_int_equal(wa.dframes, 3);
	assert_int_equal(wa.dlen[0], 5);
	assert_int_equal(wa.dlen[1], 10);
	assert_int_equal(wa.dlen[2], 11);
	memset(f, 0xa1, sizeof(f));
	assert_memory_equal(wa.dlast, f, 11);

	/* A D-channel nobody reads still sees the peer go: red alarm. */
	span_set_dchan_handler(t.a, NULL, NULL);
	assert_int_equal(span_dchan_write(t.b, f, 10), 0);
	span_close(t.b);
	assert_true(run_until(l, a_red, &t, 1000));
	mem_deref(t.b);
	mem_deref(t.a);
	loop_free(l);
}

static void test_bchan_pacing(void **state)
{
	struct loop *l;
	struct two t;
	struct watch wa, wb;
	struct virt_stats sa, sb;
	uint64_t t0, ms;

	(void)state;
	assert_int_equal(loop_alloc(&l), 0);
	pair_listen(l, &t, SPAN_E1, true);
	watch_span(t.a, &wa);
	watch_span(t.b, &wb);
	assert_int_equal(span_open(t.a), 0);
	assert_int_equal(span_open(t.b), 0);
	assert_true(run_until(l, both_up, &t, 2000));

	/* D frames both ways on the listening/connecting pair. */
	assert_int_equal(span_dchan_write(t.a, "\x02\x01\x7f\x00\x00", 5), 0);
	assert_int_equal(span_dchan_write(t.b, "\x00\x01\x73\x00\x00\x00", 6), 0);

	wa.ticks = wb.ticks = 0;
	span_virtual_stats(t.a, &sa);
	t0 = loop_clock_ms();
	run_for(l, 1000);
	ms = loop_clock_ms() - t0;
	span_virtual_stats(t.b, &sb);

	/* The master ticks once per 20 ms of its clock; the slave once per message. */
	print_message("      %u master ticks, %u slave ticks in %llu ms; good blocks %u/%u\n",
		      wa.ticks, wb.ticks, (unsigned long long)ms, wa.good_blocks, wb.good_blocks);
	/* A loop stalled past 5 ticks counts the rest as slips: ticks + slips is the clock. */
	{
		struct virt_stats sa2;

		span_virtual_stats(t.a, &sa2);
		assert_in_range(wa.ticks + (sa2.slips - sa.slips), ms / 20 - 3, ms / 20 + 1);
	}
	assert_in_range(wb.ticks, wa.ticks - 2, wa.ticks + 1);
	assert_int_equal(sb.ticks_rx, sb.ticks_tx); /* the slave answers each tick once */
	/* Never a block from another timeslot or a mixed one. */
	assert_int_equal(wa.bad_blocks + wb.bad_blocks, 0);
	/*
	 * 30 B-channels per tick. A reply that misses its tick on a loaded machine
	 * reads as silence (a slip, as on a real span): most must arrive, not all.
	 */
	assert_true(wb.good_blocks >= 30 * (wb.ticks - 2));
	assert_true(wa.good_blocks * 10 >= 30 * wa.ticks * 8);
	assert_int_equal(wa.dframes, 1);
	assert_int_equal(wa.dlen[0], 6);
	assert_int_equal(wb.dframes, 1);
	assert_int_equal(wb.dlen[0], 5);

	/* Without the master's clock the slave does not tick at all. */
	span_close(t.a);
	assert_true(run_until(l, b_red, &t, 1000));
	wb.ticks = 0;
	run_for(l, 200);
	assert_int_equal(wb.ticks, 0);
	mem_deref(t.b);
	mem_deref(t.a);
	loop_free(l);
}

static void test_red_alarm_reconnect(void **state)
{
	struct loop *l;
	struct two t;
	struct watch wa, wb;
	struct virt_stats st;

	(void)state;
	assert_int_equal(loop_alloc(&l), 0);
	pair_listen(l, &t, SPAN_T1, false);
	watch_span(t.a, &wa);
	watch_span(t.b, &wb);
	assert_int_equal(span_open(t.a), 0);
	assert_int_equal(span_open(t.b), 0);
	assert_true(run_until(l, both_up, &t, 2000));
	assert_int_equal(wa.last_alarms, 0);

	/* The connecting end goes away: red on the listener; it comes back: clear. */
	span_close(t.b);
	assert_true(run_until(l, a_red, &t, 1000));
	assert_int_equal(wa.last_alarms, SPAN_ALARM_RED);
	assert_int_equal(span_open(t.b), 0);
	assert_true(run_until(l, both_up, &t, 2000));
	assert_int_equal(wa.last_alarms, 0);

	/* The listener goes away: red on the connector, which retries until it is back. */
	span_close(t.a);
	assert_true(run_until(l, b_red, &t, 1000));
	assert_int_equal(wb.last_alarms, SPAN_ALARM_RED);
	run_for(l, 3 * VIRT_RETRY_MS);
	assert_true(span_alarms(t.b) & SPAN_ALARM_RED);
	assert_int_equal(span_open(t.a), 0);
	assert_true(run_until(l, both_up, &t, 2000));
	assert_int_equal(wb.last_alarms, 0);
	span_virtual_stats(t.b, &st);
	assert_int_equal(st.connects, 3);
	/* After recovery the B-channels run again (the connector is the master here). */
	wa.ticks = 0;
	run_for(l, 200);
	assert_true(wa.ticks >= 5);
	mem_deref(t.b);
	mem_deref(t.a);
	loop_free(l);
}

/* ---- the wire: one message per tick, all timeslots ---- */

static int raw_listen(const char *addr)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	size_t n = strlen(addr);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	assert_true(fd >= 0);
	memcpy(un.sun_path, addr, n);
	un.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&un,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)),
			 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void wire_check(enum span_type type)
{
	struct loop *l;
	struct span_conf c;
	struct span *sp;
	struct watch w;
	char addr[64];
	int lfd, fd[2] = { -1, -1 }, dfd = -1, bfd = -1;
	unsigned ns = span_type_nslots(type);
	size_t want = sizeof(struct virt_bhdr) + ns * SPAN_BLOCK;
	static uint8_t msg[sizeof(struct virt_bhdr) + 40 * SPAN_BLOCK];

	assert_int_equal(loop_alloc(&l), 0);
	addr_unique(addr, sizeof(addr), "wire");
	lfd = raw_listen(addr);
	conf_virtual(&c, type, addr, false, true);
	assert_int_equal(span_virtual_alloc(&sp, &c, l), 0);
	watch_span(sp, &w);
	assert_int_equal(span_open(sp), 0);
	assert_int_equal(span_alarms(sp), 0); /* connected at once: the listener is there */
	for (int i = 0; i < 2; i++) {
		struct virt_hello h;

		fd[i] = accept(lfd, NULL, NULL);
		assert_true(fd[i] >= 0);
		assert_int_equal(recv(fd[i], &h, sizeof(h), 0), sizeof(h));
		assert_int_equal(h.magic, VIRT_MAGIC);
		assert_int_equal(h.type, type);
		if (h.kind == 'D')
			dfd = fd[i];
		else
			bfd = fd[i];
	}
	assert_true(dfd >= 0 && bfd >= 0);

	/* Let the master tick a few times, then look at one message. */
	run_for(l, 5 * SPAN_TICK_MS);
	assert_true(w.ticks >= 3);
	ssize_t n = recv(bfd, msg, sizeof(msg), MSG_DONTWAIT | MSG_TRUNC);
	assert_int_equal(n, want);
	struct virt_bhdr h;
	memcpy(&h, msg, sizeof(h));
	assert_int_equal(h.nslots, ns);
	assert_int_equal(h.block, SPAN_BLOCK);
	/* The tick handler wrote pattern(ts, tick) before this message (seq = tick) left. */
	for (unsigned ts = 1; ts <= ns; ts++) {
		const uint8_t *blk = msg + sizeof(h) + (ts - 1) * SPAN_BLOCK;
		/* the D-channel's slot carries idle fill */
		uint8_t exp = span_is_bchan(sp, ts) ? (uint8_t)ts : span_idle_byte(sp);

		for (unsigned i = 0; i < SPAN_BLOCK; i++) {
			uint8_t e = i == 1 && span_is_bchan(sp, ts) ? (uint8_t)h.seq : exp;
			if (blk[i] != e)
				fail_msg("ts %u byte %u: %02x, want %02x", ts, i, blk[i], e);
		}
	}

	/* Answer as a slave would: the master's tick handler reads our blocks. */
	for (unsigned ts = 1; ts <= ns; ts++)
		fill_pattern(msg + sizeof(h) + (ts - 1) * SPAN_BLOCK, ts, 100);
	w.good_blocks = 0;
	assert_int_equal(send(bfd, msg, want, 0), (ssize_t)want);
	run_for(l, 3 * SPAN_TICK_MS);
	assert_int_equal(w.good_blocks, __builtin_popcount(c.bchans));
	/* A message of the wrong size is dropped and counted, not read as audio. */
	struct virt_stats st;
	assert_int_equal(send(bfd, msg, want - 1, 0), (ssize_t)(want - 1));
	run_for(l, 2 * SPAN_TICK_MS);
	span_virtual_stats(sp, &st);
	assert_int_equal(st.slips, 1);
	assert_int_equal(st.ticks_rx, 1);

	/* A D frame from the raw peer arrives verbatim. */
	assert_int_equal(send(dfd, "\x00\x01\x01\x01\xaa\xbb", 6, 0), 6);
	run_for(l, 2 * SPAN_TICK_MS);
	assert_int_equal(w.dframes, 1);
	assert_int_equal(w.dlen[0], 6);
	assert_memory_equal(w.dlast, "\x00\x01\x01\x01\xaa\xbb", 6);

	/* Peer gone: red. */
	close(dfd);
	close(bfd);
	run_for(l, 2 * SPAN_TICK_MS);
	assert_int_equal(w.last_alarms, SPAN_ALARM_RED);
	close(lfd);
	mem_deref(sp);
	loop_free(l);
}

static void test_wire_e1(void **state)
{
	(void)state;
	wire_check(SPAN_E1);
}

static void test_wire_t1(void **state)
{
	(void)state;
	wire_check(SPAN_T1);
}

static void test_type_mismatch(void **state)
{
	struct loop *l;
	struct span_conf ca, cb;
	struct two t;
	char addr[64];

	(void)state;
	assert_int_equal(loop_alloc(&l), 0);
	addr_unique(addr, sizeof(addr), "mm");
	conf_virtual(&ca, SPAN_E1, addr, true, true);
	conf_virtual(&cb, SPAN_T1, addr, false, false);
	assert_int_equal(span_virtual_alloc(&t.a, &ca, l), 0);
	assert_int_equal(span_virtual_alloc(&t.b, &cb, l), 0);
	assert_int_equal(span_open(t.a), 0);
	assert_int_equal(span_open(t.b), 0);
	/* The listener refuses a T1 on its E1: it never comes up. */
	run_for(l, 300);
	assert_true(span_alarms(t.a) & SPAN_ALARM_RED);
	mem_deref(t.b);
	mem_deref(t.a);
	loop_free(l);
}

/* ---- two loops: D-channel here, B-channel tick on another thread ---- */

enum { BT_NONE, BT_ATTACH, BT_DETACH, BT_QUIT };

struct bthread {
	struct loop *loop;
	pthread_t th;
	struct span *sp;
	_Atomic int cmd;
	_Atomic int done;
	bool run;
	int err;
};

static pthread_t g_main;
static atomic_uint d_main, d_other, t_main, t_other;

static void bt_wake(void *arg)
{
	struct bthread *bt = arg;

	switch (atomic_exchange(&bt->cmd, BT_NONE)) {
	case BT_ATTACH:
		bt->err = span_bchan_attach(bt->sp, bt->loop);
		break;
	case BT_DETACH:
		span_bchan_detach(bt->sp);
		break;
	case BT_QUIT:
		bt->run = false;
		break;
	default:
		return;
	}
	atomic_store(&bt->done, 1);
}

static void *bt_main(void *arg)
{
	struct bthread *bt = arg;

	while (bt->run && !loop_run_once(bt->loop, -1))
		;
	return NULL;
}

/* Runs cmd on the other thread, keeping our loop turning meanwhile. */
static void bt_do(struct bthread *bt, struct loop *l, int cmd)
{
	uint64_t end = loop_clock_ms() + 2000;

	atomic_store(&bt->done, 0);
	atomic_store(&bt->cmd, cmd);
	loop_wake(bt->loop);
	while (!atomic_load(&bt->done) && loop_clock_ms() < end)
		assert_int_equal(loop_run_once(l, 5), 0);
	assert_true(atomic_load(&bt->done));
}

static void two_dchan(struct span *sp, void *arg)
{
	uint8_t buf[SPAN_DFRAME_MAX];
	size_t len;

	(void)arg;
	while (span_dchan_read(sp, buf, sizeof(buf), &len) == 0)
		atomic_fetch_add(pthread_equal(pthread_self(), g_main) ? &d_main : &d_other, 1);
}

/* a's tick, on whichever thread runs its B side: echoes the pattern b checks. */
static void two_tick(struct span *sp, uint32_t tick, void *arg)
{
	uint8_t b[SPAN_BLOCK];

	(void)arg;
	atomic_fetch_add(pthread_equal(pthread_self(), g_main) ? &t_main : &t_other, 1);
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		if (!span_is_bchan(sp, ts))
			continue;
		fill_pattern(b, ts, tick);
		assert_int_equal(span_bchan_write(sp, ts, b), 0);
	}
}

static void test_two_loops(void **state)
{
	static const uint8_t frame[] = { 0x02, 0x01, 0x7f, 0x00, 0x00 };
	struct bthread bt = { 0 };
	struct loop *l;
	struct two t;
	struct watch wb;

	(void)state;
	g_main = pthread_self();
	assert_int_equal(loop_alloc(&l), 0);
	assert_int_equal(loop_alloc(&bt.loop), 0);
	loop_set_wake_handler(bt.loop, bt_wake, &bt);
	bt.run = true;
	assert_int_equal(pthread_create(&bt.th, NULL, bt_main, &bt), 0);
	pair_listen(l, &t, SPAN_E1, false); /* a listens (clock slave), b connects (master) */
	bt.sp = t.a;
	span_set_dchan_handler(t.a, two_dchan, NULL);
	span_set_tick_handler(t.a, two_tick, NULL);
	watch_span(t.b, &wb);
	assert_int_equal(span_open(t.a), 0);
	assert_int_equal(span_open(t.b), 0);
	/* Hand a's B side over while the link comes up: detach here, attach there. */
	span_bchan_detach(t.a);
	assert_null(t.a->bloop);
	bt_do(&bt, l, BT_ATTACH);
	assert_int_equal(bt.err, 0);
	assert_ptr_equal(t.a->bloop, bt.loop);
	assert_true(run_until(l, both_up, &t, 2000));
	for (int i = 0; i < 3; i++)
		assert_int_equal(span_dchan_write(t.b, frame, sizeof(frame)), 0);
	run_for(l, 300);
	print_message("D frames on the signalling thread %u (other %u); ticks on the B thread %u "
		      "(signalling %u); blocks back %u good, %u bad\n",
		      atomic_load(&d_main), atomic_load(&d_other), atomic_load(&t_other),
		      atomic_load(&t_main), wb.good_blocks, wb.bad_blocks);
	assert_int_equal(atomic_load(&d_main), 3);
	assert_int_equal(atomic_load(&d_other), 0);
	assert_true(atomic_load(&t_other) >= 8);
	assert_int_equal(atomic_load(&t_main), 0);
	assert_true(wb.good_blocks >= 8 * 30);
	assert_int_equal(wb.bad_blocks, 0);

	/* Closing with the B side elsewhere is refused. */
	span_close(t.a);
	assert_true(t.a->open);
	/* The peer goes and comes back: the new B socket reaches the other thread. */
	span_close(t.b);
	assert_true(run_until(l, a_red, &t, 1000));
	assert_int_equal(span_open(t.b), 0);
	assert_true(run_until(l, both_up, &t, 2000));
	atomic_store(&t_other, 0);
	run_for(l, 200);
	assert_true(atomic_load(&t_other) >= 5);
	assert_int_equal(atomic_load(&t_main), 0);

	/* And back: detach there, attach here; the tick now runs on this thread. */
	bt_do(&bt, l, BT_DETACH);
	assert_int_equal(span_bchan_attach(t.a, l), 0);
	atomic_store(&t_other, 0);
	run_for(l, 200);
	assert_true(atomic_load(&t_main) >= 5);
	assert_int_equal(atomic_load(&t_other), 0);

	bt_do(&bt, l, BT_QUIT);
	pthread_join(bt.th, NULL);
	mem_deref(t.b);
	mem_deref(t.a);
	loop_free(bt.loop);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_parse),	    cmocka_unit_test(test_span_args),
		cmocka_unit_test(test_dframes_pair),	    cmocka_unit_test(test_bchan_pacing),
		cmocka_unit_test(test_red_alarm_reconnect), cmocka_unit_test(test_wire_e1),
		cmocka_unit_test(test_wire_t1),		    cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_dchan_early),	    cmocka_unit_test(test_two_loops),
	};

	log_init("test_span_virtual", false, LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
