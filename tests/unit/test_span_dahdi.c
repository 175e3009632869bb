/*
 * Unit tests for tdm/dahdi against a test double of the DAHDI device: each
 * "channel" is a socketpair, ioctls are answered from a table, events follow
 * DAHDI's rule that a read fails with ELAST while one is pending. The real
 * kernel modules are exercised later in a VM (../shared/DAHDI-VM.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dahdi/user.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "tdm/dahdi/dahdi.h"
#include "tdm/pri/pri.h"
#include "tdm/span/span.h"

/* ---- the double ---- */

struct fchan {
	bool used;
	int peer; /* the test's end of the socketpair */
	int chan; /* DAHDI_SPECIFY */
	int blocksize;
	struct dahdi_bufferinfo bi;
	int events[8];
	unsigned nev;
	unsigned ec_taps;
	bool ec_set;
};

static struct fchan fk[1024];
static struct {
	int dchan;  /* the global channel number in HDLCFCS mode */
	int alarms; /* DAHDI_ALARM_* */
	unsigned opens, closes;
	char path[64];
} dev;

static int f_open(const char *path, int flags)
{
	int sv[2];

	(void)flags;
	snprintf(dev.path, sizeof(dev.path), "%s", path);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
		return -1;
	assert_true(sv[0] < (int)ARRAY_SIZE(fk));
	memset(&fk[sv[0]], 0, sizeof(fk[0]));
	fk[sv[0]].used = true;
	fk[sv[0]].peer = sv[1];
	dev.opens++;
	return sv[0];
}

static int f_close(int fd)
{
	assert_true(fk[fd].used);
	close(fk[fd].peer);
	fk[fd].used = false;
	dev.closes++;
	return close(fd);
}

static int f_ioctl(int fd, unsigned long req, void *arg)
{
	struct fchan *c = &fk[fd];

	assert_true(c->used);
	switch (req) {
	case DAHDI_SPECIFY:
		c->chan = *(int *)arg;
		return 0;
	case DAHDI_GET_PARAMS: {
		struct dahdi_params *p = arg;

		p->channo = c->chan;
		p->sigtype = c->chan == dev.dchan ? DAHDI_SIG_HDLCFCS : DAHDI_SIG_CLEAR;
		p->chan_alarms = (__u32)dev.alarms;
		return 0;
	}
	case DAHDI_SET_BUFINFO:
		c->bi = *(struct dahdi_bufferinfo *)arg;
		return 0;
	case DAHDI_SET_BLOCKSIZE:
		c->blocksize = *(int *)arg;
		return 0;
	case DAHDI_GETEVENT:
		*(int *)arg = DAHDI_EVENT_NONE;
		if (c->nev) {
			*(int *)arg = c->events[0];
			memmove(c->events, c->events + 1, --c->nev * sizeof(int));
		}
		return 0;
	case DAHDI_ECHOCANCEL_PARAMS:
		c->ec_taps = ((struct dahdi_echocanparams *)arg)->tap_length;
		c->ec_set = true;
		return 0;
	default:
		errno = ENOTTY;
		return -1;
	}
}

static ssize_t f_read(int fd, void *buf, size_t n)
{
	if (fk[fd].nev) {
		errno = ELAST; /* DAHDI: an event is waiting for DAHDI_GETEVENT */
		return -1;
	}
	return recv(fd, buf, n, MSG_DONTWAIT);
}

static ssize_t f_write(int fd, const void *buf, size_t n)
{
	return send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static const struct dahdi_sys fake = { f_open, f_close, f_ioctl, f_read, f_write };

static struct fchan *by_chan(int chan)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fk); i++)
		if (fk[i].used && fk[i].chan == chan)
			return &fk[i];
	fail_msg("no open channel %d", chan);
	return NULL;
}

/* ---- the span under test: span 2 of the two E1s of DAHDI-VM.md ---- */

static const char system_conf[] = "span=1,0,0,ccs,hdb3,crc4\n"
			      "span=2,0,0,ccs,hdb3,crc4\n"
			      "bchan=1-15,17-31\n"
			      "dchan=16\n"
			      "bchan=32-46,48-62\n"
			      "dchan=47\n"
			      "alaw=1-62\n";

struct watch {
	unsigned ticks, alarm_events, last_alarms, dframes;
	size_t dlen;
	uint8_t dbuf[SPAN_DFRAME_MAX];
	uint8_t got[SPAN_MAX_TS + 1];
	bool answer;
};

static void on_tick(struct span *sp, uint32_t tick, void *arg)
{
	struct watch *w = arg;
	uint8_t b[SPAN_BLOCK];

	(void)tick;
	w->ticks++;
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		if (!span_is_bchan(sp, ts))
			continue;
		assert_int_equal(span_bchan_read(sp, ts, b), 0);
		w->got[ts] = b[0];
		for (unsigned i = 1; i < SPAN_BLOCK; i++)
			assert_int_equal(b[i], b[0]);
		if (w->answer) {
			memset(b, (int)(ts + 100), sizeof(b));
			assert_int_equal(span_bchan_write(sp, ts, b), 0);
		}
	}
}

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

	while (span_dchan_read(sp, w->dbuf, sizeof(w->dbuf), &w->dlen) == 0)
		w->dframes++;
}

static struct span *open_span(struct loop *l, struct watch *w, int expect)
{
	struct span_conf c[2];
	struct span *sp;
	size_t n;

	memset(w, 0, sizeof(*w));
	assert_int_equal(span_conf_parse(c, 2, &n, system_conf, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(span_dahdi_alloc(&sp, &c[1], l, &fake), 0);
	span_set_tick_handler(sp, on_tick, w);
	span_set_alarm_handler(sp, on_alarm, w);
	span_set_dchan_handler(sp, on_dchan, w);
	assert_int_equal(span_open(sp), expect);
	return sp;
}

static void setup_dev(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.dchan = 47;
}

static void test_open_as_chan_dahdi(void **state)
{
	struct loop *l;
	struct watch w;
	struct span *sp;

	(void)state;
	setup_dev();
	assert_int_equal(loop_alloc(&l), 0);
	sp = open_span(l, &w, 0);
	assert_string_equal(dev.path, DAHDI_CHANNEL_DEV);
	assert_int_equal(dev.opens, 31); /* 1 D + 30 B */
	struct fchan *d = by_chan(47);
	assert_int_equal(d->bi.txbufpolicy, DAHDI_POLICY_IMMEDIATE);
	assert_int_equal(d->bi.rxbufpolicy, DAHDI_POLICY_IMMEDIATE);
	assert_int_equal(d->bi.bufsize, 1024);
	assert_int_equal(d->blocksize, 0);
	for (int ch = 32; ch <= 62; ch++) {
		if (ch == 47)
			continue;
		assert_int_equal(by_chan(ch)->blocksize, SPAN_BLOCK);
		assert_int_equal(by_chan(ch)->bi.rxbufpolicy, DAHDI_POLICY_IMMEDIATE);
	}
	assert_int_equal(span_alarms(sp), 0); /* the card says: no alarm */
	assert_int_equal(w.last_alarms, 0);
	mem_deref(sp);
	assert_int_equal(dev.closes, dev.opens);
	loop_free(l);
}

static void test_dchan_not_hdlc(void **state)
{
	struct loop *l;
	struct watch w;

	(void)state;
	setup_dev();
	dev.dchan = 0; /* system.conf without dchan= */
	assert_int_equal(loop_alloc(&l), 0);
	mem_deref(open_span(l, &w, EMEDIUMTYPE));
	assert_int_equal(dev.closes, dev.opens);
	loop_free(l);
}

static void test_dframes_and_events(void **state)
{
	struct loop *l;
	struct watch w;
	struct span *sp;
	struct fchan *d;
	uint8_t f[6] = { 0x00, 0x01, 0x7f, 0x00, 0xaa, 0xbb }, got[16];

	(void)state;
	setup_dev();
	assert_int_equal(loop_alloc(&l), 0);
	sp = open_span(l, &w, 0);
	d = by_chan(47);

	/* A frame from the line reaches the handler with its FCS bytes. */
	assert_int_equal(send(d->peer, f, sizeof(f), 0), (ssize_t)sizeof(f));
	for (int i = 0; i < 10 && !w.dframes; i++)
		loop_run_once(l, 10);
	assert_int_equal(w.dframes, 1);
	assert_int_equal(w.dlen, sizeof(f));
	assert_memory_equal(w.dbuf, f, sizeof(f));
	/* libpri's frame goes to the device verbatim. */
	assert_int_equal(span_dchan_write(sp, f, 5), 0);
	assert_int_equal(recv(d->peer, got, sizeof(got), MSG_DONTWAIT), 5);

	/* Red alarm: DAHDI queues the event; the read fails with ELAST until fetched. */
	dev.alarms = DAHDI_ALARM_RED;
	d->events[d->nev++] = DAHDI_EVENT_ALARM;
	assert_int_equal(send(d->peer, f, sizeof(f), 0), (ssize_t)sizeof(f));
	for (int i = 0; i < 10 && w.dframes < 2; i++)
		loop_run_once(l, 10);
	assert_int_equal(w.dframes, 2); /* the frame behind the event still arrives */
	assert_int_equal(w.last_alarms, SPAN_ALARM_RED);
	assert_int_equal(span_alarms(sp), SPAN_ALARM_RED);
	dev.alarms = DAHDI_ALARM_YELLOW | DAHDI_ALARM_BLUE;
	d->events[d->nev++] = DAHDI_EVENT_ALARM;
	dev.alarms = 0;
	d->events[d->nev++] = DAHDI_EVENT_NOALARM;
	assert_int_equal(send(d->peer, f, sizeof(f), 0), (ssize_t)sizeof(f));
	for (int i = 0; i < 10 && w.dframes < 3; i++)
		loop_run_once(l, 10);
	assert_int_equal(w.last_alarms, 0);
	assert_int_equal(d->nev, 0);
	mem_deref(sp);
	loop_free(l);
}

static void test_bchan_ticks_and_ec(void **state)
{
	struct loop *l;
	struct watch w;
	struct span *sp;
	uint8_t b[SPAN_BLOCK], got[SPAN_BLOCK + 8];

	(void)state;
	setup_dev();
	assert_int_equal(loop_alloc(&l), 0);
	sp = open_span(l, &w, 0);
	w.answer = true;

	/* One 20 ms interrupt: a block on every B-channel (timeslot ts carries ts). */
	for (unsigned ts = 1; ts <= 31; ts++) {
		if (ts == 16)
			continue;
		memset(b, (int)ts, sizeof(b));
		assert_int_equal(send(by_chan((int)(31 + ts))->peer, b, sizeof(b), 0), SPAN_BLOCK);
	}
	for (int i = 0; i < 10 && !w.ticks; i++)
		loop_run_once(l, 10);
	assert_int_equal(w.ticks, 1);
	for (unsigned ts = 1; ts <= 31; ts++) {
		if (ts == 16)
			continue;
		assert_int_equal(w.got[ts], ts);
		/* What the handler wrote went to that channel, one block. */
		assert_int_equal(recv(by_chan((int)(31 + ts))->peer, got, sizeof(got), MSG_DONTWAIT),
				 SPAN_BLOCK);
		assert_int_equal(got[0], ts + 100);
		assert_int_equal(got[SPAN_BLOCK - 1], ts + 100);
	}
	/* Next tick: only timeslot 1 has data, and the handler writes nothing: idle out. */
	w.answer = false;
	memset(b, 1, sizeof(b));
	assert_int_equal(send(by_chan(32)->peer, b, sizeof(b), 0), SPAN_BLOCK);
	for (int i = 0; i < 10 && w.ticks < 2; i++)
		loop_run_once(l, 10);
	assert_int_equal(w.ticks, 2);
	assert_int_equal(w.got[1], 1);
	assert_int_equal(w.got[2], 0xD5); /* nothing came: A-law silence */
	assert_int_equal(recv(by_chan(33)->peer, got, sizeof(got), MSG_DONTWAIT), SPAN_BLOCK);
	assert_int_equal(got[0], 0xD5);

	/* DAHDI's echo canceller, per B-channel. */
	assert_int_equal(span_ec_set(sp, 5, 128), 0);
	assert_true(by_chan(36)->ec_set);
	assert_int_equal(by_chan(36)->ec_taps, 128);
	assert_int_equal(span_ec_set(sp, 5, 0), 0);
	assert_int_equal(by_chan(36)->ec_taps, 0);
	assert_int_equal(span_ec_set(sp, 16, 128), EINVAL); /* the D-channel */
	mem_deref(sp);
	assert_int_equal(dev.closes, dev.opens);
	loop_free(l);
}

/* ---- libpri on two DAHDI spans whose D-channels the double wires together ---- */

struct wire {
	int a, b; /* the double's ends of the two D-channels */
};

static void wire_fwd(int fd, unsigned events, void *arg)
{
	struct wire *w = arg;
	uint8_t buf[SPAN_DFRAME_MAX];
	ssize_t n;

	(void)events;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		send(fd == w->a ? w->b : w->a, buf, (size_t)n, MSG_DONTWAIT);
}

struct pside {
	unsigned up, ring, alerting, answer, hangup;
	int cause;
	struct tpri_call *call;
};

static void pri_ev(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct pside *s = arg;

	(void)tp;
	switch (ev->type) {
	case TPRI_EV_DCHAN_UP:
		s->up++;
		break;
	case TPRI_EV_RING:
		s->ring++;
		s->call = ev->call;
		assert_int_equal(tpri_call_alerting(ev->call, true), 0);
		assert_int_equal(tpri_call_answer(ev->call), 0);
		break;
	case TPRI_EV_ALERTING:
		s->alerting++;
		break;
	case TPRI_EV_ANSWER:
		s->answer++;
		break;
	case TPRI_EV_HANGUP:
		s->hangup++;
		s->cause = ev->cause;
		break;
	default:
		break;
	}
}

static void test_pri_over_dahdi(void **state)
{
	struct span_conf c[2];
	struct span *sp[2];
	struct tpri *tp[2];
	struct pside ps[2];
	struct tpri_conf pc = { .sw = TPRI_SW_EUROISDN_E1 };
	struct tpri_number called = { "123", TPRI_TON_SUBSCRIBER, TPRI_NPI_E164, 0 };
	struct tpri_call *call;
	struct wire w;
	struct loop *l;
	size_t n;

	(void)state;
	setup_dev();
	assert_int_equal(loop_alloc(&l), 0);
	memset(ps, 0, sizeof(ps));
	assert_int_equal(span_conf_parse(c, 2, &n, system_conf, NULL), 0);
	for (int i = 0; i < 2; i++) {
		dev.dchan = i ? 47 : 16;
		assert_int_equal(span_dahdi_alloc(&sp[i], &c[i], l, &fake), 0);
		assert_int_equal(span_open(sp[i]), 0);
	}
	w.a = by_chan(16)->peer;
	w.b = by_chan(47)->peer;
	assert_int_equal(loop_fd_listen(l, w.a, LOOP_READ, wire_fwd, &w), 0);
	assert_int_equal(loop_fd_listen(l, w.b, LOOP_READ, wire_fwd, &w), 0);
	pc.node = TPRI_NET;
	assert_int_equal(tpri_alloc(&tp[0], sp[0], &pc, pri_ev, &ps[0]), 0);
	pc.node = TPRI_CPE;
	assert_int_equal(tpri_alloc(&tp[1], sp[1], &pc, pri_ev, &ps[1]), 0);
	for (int i = 0; i < 300 && !(ps[0].up && ps[1].up); i++)
		loop_run_once(l, 10);
	assert_true(ps[0].up && ps[1].up);

	assert_int_equal(tpri_call_place(&call, tp[1], 3, true, &called, NULL), 0);
	for (int i = 0; i < 300 && !ps[1].answer; i++)
		loop_run_once(l, 10);
	assert_int_equal(ps[0].ring, 1);
	assert_int_equal(ps[1].alerting, 1);
	assert_int_equal(ps[1].answer, 1);
	assert_int_equal(tpri_call_hangup(call, 16), 0);
	for (int i = 0; i < 300 && tpri_ncalls(tp[0]) + tpri_ncalls(tp[1]); i++)
		loop_run_once(l, 10);
	assert_int_equal(ps[0].hangup, 1);
	assert_int_equal(ps[1].hangup, 1);
	assert_int_equal(ps[0].cause, 16);
	assert_int_equal(ps[1].cause, 16);
	assert_int_equal(tpri_ncalls(tp[0]) + tpri_ncalls(tp[1]), 0);

	loop_fd_forget(l, w.a);
	loop_fd_forget(l, w.b);
	for (int i = 0; i < 2; i++) {
		mem_deref(tp[i]);
		mem_deref(sp[i]);
	}
	assert_int_equal(dev.closes, dev.opens);
	loop_free(l);
}

/*
 * Two loops: the D-channel (and alarms) on the span's loop, the B-channels' set
 * on a second one. An alarm event on a B-channel is fetched by the B side but
 * told only from the D-channel's own event.
 */
static void test_two_loops(void **state)
{
	struct loop *l, *lb;
	struct watch w;
	struct span *sp;
	struct fchan *d;
	uint8_t f[6] = { 0x00, 0x01, 0x7f, 0x00, 0xaa, 0xbb }, b[SPAN_BLOCK];
	unsigned alarms0;

	(void)state;
	setup_dev();
	assert_int_equal(loop_alloc(&l), 0);
	assert_int_equal(loop_alloc(&lb), 0);
	sp = open_span(l, &w, 0);
	d = by_chan(47);
	assert_int_equal(span_set_bchan_loop(sp, lb), 0);

	memset(b, 1, sizeof(b));
	assert_int_equal(send(by_chan(32)->peer, b, sizeof(b), 0), SPAN_BLOCK);
	assert_int_equal(send(d->peer, f, sizeof(f), 0), (ssize_t)sizeof(f));
	for (int i = 0; i < 5; i++)
		loop_run_once(l, 10);
	assert_int_equal(w.dframes, 1);
	assert_int_equal(w.ticks, 0); /* not on the span's loop any more */
	for (int i = 0; i < 5 && !w.ticks; i++)
		loop_run_once(lb, 10);
	assert_int_equal(w.ticks, 1);
	assert_int_equal(w.dframes, 1);

	/* The card raises red: the event shows on a B-channel and on the D-channel. */
	alarms0 = w.alarm_events;
	dev.alarms = DAHDI_ALARM_RED;
	by_chan(32)->events[by_chan(32)->nev++] = DAHDI_EVENT_ALARM;
	assert_int_equal(send(by_chan(32)->peer, b, sizeof(b), 0), SPAN_BLOCK);
	for (int i = 0; i < 5 && by_chan(32)->nev; i++)
		loop_run_once(lb, 10);
	assert_int_equal(by_chan(32)->nev, 0); /* fetched by the B side... */
	assert_int_equal(w.alarm_events, alarms0); /* ...but not told from there */
	d->events[d->nev++] = DAHDI_EVENT_ALARM;
	assert_int_equal(send(d->peer, f, sizeof(f), 0), (ssize_t)sizeof(f));
	for (int i = 0; i < 5 && w.dframes < 2; i++)
		loop_run_once(l, 10);
	assert_int_equal(w.last_alarms, SPAN_ALARM_RED);
	assert_int_equal(w.alarm_events, alarms0 + 1);

	/* Closing with the B side away is refused; back home, the span's loop ticks. */
	span_close(sp);
	assert_int_equal(dev.closes, 0);
	assert_int_equal(span_set_bchan_loop(sp, l), 0);
	w.ticks = 0;
	assert_int_equal(send(by_chan(32)->peer, b, sizeof(b), 0), SPAN_BLOCK);
	for (int i = 0; i < 5 && !w.ticks; i++)
		loop_run_once(l, 10);
	assert_true(w.ticks >= 1);
	mem_deref(sp);
	assert_int_equal(dev.closes, dev.opens);
	loop_free(lb);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_as_chan_dahdi),
		cmocka_unit_test(test_dchan_not_hdlc),
		cmocka_unit_test(test_dframes_and_events),
		cmocka_unit_test(test_bchan_ticks_and_ec),
		cmocka_unit_test(test_pri_over_dahdi),
		cmocka_unit_test(test_two_loops),
	};

	log_init("test_span_dahdi", false, LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
