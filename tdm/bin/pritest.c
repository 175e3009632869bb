/*
 * pritest: two PRI ends (user and network) over a virtual span, with calls,
 * audio and DTMF checked on every call, or one user end against pstnsim.
 *
 * Loop (default): N calls, up to K at once (one per B-channel), each set up,
 * answered, a tone with a per-call frequency sent both ways and checked by
 * Goertzel on the far end, three DTMF digits played in-band each way
 * (spandsp dtmf_tx) and detected on the other side (dtmf_rx), cleared with
 * 16. Ends with exactly "RESULT pri_loop calls=N ok=N audio_ok=N dtmf_ok=N";
 * exit 0 only if every call passed every check.
 *   pritest [--t1] [--switch SW] [--calls N] [--concurrency K] [--timeout S]
 *   two processes: pritest --role net --listen ADDR --calls N  (prints RESULT pri_loop_net)
 *                  pritest --role cpe --connect ADDR --calls N
 * Probe (against pstnsim, user side):
 *   pritest --connect ADDR --call +12125550100 [--from E164] [--national]
 *           [--tone HZ] [--send-digits D] [--hold-ms MS]
 *   pritest --connect ADDR --answer [--tone HZ] [--hold-ms MS]
 * prints "INCOMING ..." for an answered call and "CALL ..." when a call ends.
 */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>

#include <getopt.h>
#include <libpri.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "tdm/pri/pri.h"
#include "tdm/pstnsim/pstnsim.h"
#include "tdm/span/span.h"
#include "tdm/virtual/virtual.h"

#define TONE_TICKS 8 /* 160 ms of tone each way */
#define TONE_GOOD  3 /* blocks that must carry it */
#define DTMF_TICK  (TONE_TICKS + 1)
#define DONE_TICKS (DTMF_TICK + 20)
#define MAX_TICKS  100 /* 2 s of media at most */
#define SETUP_MS   5000
#define NDIG       3

enum mode { LOOP, PROBE_CALL, PROBE_ANSWER };

struct lcall {
	struct end *e;
	struct tpri_call *c;
	unsigned idx;
	int ts;
	bool answered, finished, proceeding, alerting;
	uint32_t t; /* ticks since answer */
	uint64_t t0, t_answer;
	struct psim_tonegen gen;
	double expect_hz;
	unsigned good;
	struct psim_tonedet det; /* probe: what the far end plays */
	double tone_hz, tone_dbm0;
	dtmf_rx_state_t rx;
	dtmf_tx_state_t tx;
	char send[PSIM_DIGITS_MAX + 1], heard[PSIM_DIGITS_MAX + 1];
	size_t nheard;
};

struct end {
	bool net;
	struct span *sp;
	struct tpri *tp;
	struct lcall *ts[SPAN_MAX_TS + 1];
	struct lcall *pending; /* probe: placed, channel not known yet */
	unsigned ncalls;
};

struct res {
	bool answered, cpe_done, net_done;
	int cpe_cause, net_cause;
	bool cpe_audio, net_audio, cpe_dtmf, net_dtmf;
};

static struct {
	enum mode mode;
	const char *role; /* "both", "net", "cpe" */
	struct loop *l;
	struct end cpe, net;
	enum span_type type;
	enum tpri_switch sw;
	unsigned calls, conc, placed, finished, net_finished;
	struct res *res;
	uint64_t t0, t100;
	struct tmr deadline, linger;
	bool timed_out;
	/* probe */
	const char *to, *from, *digits;
	bool national;
	double tone_hz;
	unsigned hold_ms;
	bool done;
	int rc;
} A = {.role = "both", .calls = 10, .conc = 0, .hold_ms = 1500};

static const char DIG[] = "0123456789*#";

static double cpe_hz(unsigned i)
{
	return 300 + 100 * (i % 31);
}

static double net_hz(unsigned i)
{
	return 3300 - 100 * (i % 31);
}

static void digits_for(unsigned i, bool net, char *out)
{
	static const unsigned off[2][NDIG] = {{0, 5, 7}, {1, 3, 10}};

	for (int k = 0; k < NDIG; k++)
		out[k] = DIG[(i + off[net][k]) % 12];
	out[NDIG] = '\0';
}

static bool both(void)
{
	return !strcmp(A.role, "both");
}

/* ---- one call's media ---- */

static void on_digits(void *arg, const char *d, int len)
{
	struct lcall *lc = arg;

	for (int i = 0; i < len && lc->nheard < PSIM_DIGITS_MAX; i++)
		lc->heard[lc->nheard++] = d[i];
	lc->heard[lc->nheard] = '\0';
}

static struct lcall *lcall_new(struct end *e, int ts, unsigned idx)
{
	static const double detect[] = {350, 400, 425, 440, 480, 620, 700, 1004, 1400, 2100};
	struct lcall *lc = calloc(1, sizeof(*lc));

	if (!lc)
		return NULL;
	lc->e = e;
	lc->ts = ts;
	lc->idx = idx;
	lc->t0 = loop_clock_ms();
	dtmf_rx_init(&lc->rx, on_digits, lc);
	dtmf_tx_init(&lc->tx);
	psim_tonedet_init(&lc->det, detect, ARRAY_SIZE(detect), 5);
	if (A.mode == LOOP) {
		psim_tonegen_init(&lc->gen, e->net ? net_hz(idx) : cpe_hz(idx), -10);
		lc->expect_hz = e->net ? cpe_hz(idx) : net_hz(idx);
		digits_for(idx, e->net, lc->send);
	} else {
		psim_tonegen_init(&lc->gen, A.tone_hz, -10);
		snprintf(lc->send, sizeof(lc->send), "%s", A.digits ? A.digits : "");
	}
	if (ts)
		e->ts[ts] = lc;
	e->ncalls++;
	return lc;
}

static void lcall_free(struct lcall *lc)
{
	if (lc->ts && lc->e->ts[lc->ts] == lc)
		lc->e->ts[lc->ts] = NULL;
	if (lc->e->pending == lc)
		lc->e->pending = NULL;
	lc->e->ncalls--;
	free(lc);
}

static bool lcall_dtmf_ok(const struct lcall *lc, unsigned idx, bool net)
{
	char want[NDIG + 1];

	digits_for(idx, !net, want);
	return !strcmp(lc->heard, want);
}

/* Loop mode, user side: the call has done what it came for. */
static void cpe_finish(struct lcall *lc)
{
	struct res *r = &A.res[lc->idx];

	lc->finished = true;
	r->cpe_audio = lc->good >= TONE_GOOD;
	r->cpe_dtmf = lcall_dtmf_ok(lc, lc->idx, false);
	tpri_call_hangup(lc->c, PRI_CAUSE_NORMAL_CLEARING);
}

static bool far_heard_all(const struct lcall *lc)
{
	struct lcall *n = both() ? A.net.ts[lc->ts] : NULL;

	return !both() || (n && n->nheard >= NDIG);
}

static void media(struct lcall *lc, const int16_t *in, int16_t *out)
{
	int n;

	lc->t++;
	dtmf_rx(&lc->rx, in, SPAN_BLOCK);
	if (A.mode != LOOP) {
		double hz, dbm0;

		if (psim_tonedet_block(&lc->det, in, SPAN_BLOCK, &hz, &dbm0) && !lc->tone_hz) {
			lc->tone_hz = hz;
			lc->tone_dbm0 = dbm0;
		}
	} else if (lc->t <= TONE_TICKS) {
		double amp = psim_goertzel(in, SPAN_BLOCK, lc->expect_hz);

		if (psim_tone_share(in, SPAN_BLOCK, amp) > 0.8 && psim_amp_dbm0(amp) > -20)
			lc->good++;
	}
	memset(out, 0, SPAN_BLOCK * sizeof(*out));
	if (A.mode == LOOP ? lc->t <= TONE_TICKS : lc->gen.step > 0)
		psim_tonegen_run(&lc->gen, out, SPAN_BLOCK);
	if (lc->t == (A.mode == LOOP ? DTMF_TICK : 15) && lc->send[0])
		dtmf_tx_put(&lc->tx, lc->send, -1);
	n = dtmf_tx(&lc->tx, out, SPAN_BLOCK);
	if (n > 0 && n < SPAN_BLOCK)
		memset(out + n, 0, (SPAN_BLOCK - (size_t)n) * sizeof(*out));
}

static void place_more(void);

static void tick_handler(struct span *sp, uint32_t tick, void *arg)
{
	struct end *e = arg;
	uint64_t now = loop_clock_ms();
	uint8_t blk[SPAN_BLOCK];
	int16_t in[SPAN_BLOCK], out[SPAN_BLOCK];

	(void)tick;
	for (unsigned ts = 1; ts <= SPAN_MAX_TS; ts++) {
		struct lcall *lc = e->ts[ts];

		if (!lc || lc->finished)
			continue;
		if (!lc->answered) {
			if (!e->net && now - lc->t0 > SETUP_MS) {
				lc->finished = true;
				tpri_call_hangup(lc->c, PRI_CAUSE_RECOVERY_ON_TIMER_EXPIRE);
			}
			continue;
		}
		if (span_bchan_read(sp, ts, blk))
			continue;
		psim_decode(sp->conf.law, blk, in, SPAN_BLOCK);
		media(lc, in, out);
		psim_encode(sp->conf.law, out, blk, SPAN_BLOCK);
		span_bchan_write(sp, ts, blk);
		if (A.mode == LOOP && !e->net &&
		    ((lc->t >= DONE_TICKS && lc->nheard >= NDIG && far_heard_all(lc)) ||
		     lc->t >= MAX_TICKS))
			cpe_finish(lc);
		else if (A.mode != LOOP && now - lc->t_answer >= A.hold_ms) {
			lc->finished = true;
			tpri_call_hangup(lc->c, PRI_CAUSE_NORMAL_CLEARING);
		}
	}
	if (!e->net)
		place_more();
}

/* ---- results ---- */

/* Checks of call i: 0 set up and cleared with 16, 1 audio, 2 DTMF; net: what that side saw. */
static bool passed(const struct res *r, bool net_side, int what)
{
	bool cpe = !net_side, net = net_side || both();

	switch (what) {
	case 0:
		return (!cpe || (r->answered && r->cpe_cause == 16)) &&
		       (!net || (r->net_done && r->net_cause == 16));
	case 1:
		return (!cpe || r->cpe_audio) && (!net || r->net_audio);
	default:
		return (!cpe || r->cpe_dtmf) && (!net || r->net_dtmf);
	}
}

static unsigned count(bool net_side, int what)
{
	unsigned n = 0;

	for (unsigned i = 0; i < A.calls; i++) {
		const struct res *r = &A.res[i];

		if (passed(r, net_side, what))
			n++;
		else if (what == 0 || !passed(r, net_side, 0))
			fprintf(stderr,
			        "pritest: call %u failed: answered=%d cause=%d/%d audio=%d/%d "
			        "dtmf=%d/%d (user/network side)\n",
			        i, r->answered, r->cpe_cause, r->net_cause, r->cpe_audio,
			        r->net_audio, r->cpe_dtmf, r->net_dtmf);
	}
	return n;
}

static void report_and_stop(void)
{
	bool net_side = !strcmp(A.role, "net");
	unsigned n = net_side ? A.net_finished : A.calls;
	unsigned ok = count(net_side, 0), aok = count(net_side, 1), dok = count(net_side, 2);
	double secs = (double)(loop_clock_ms() - A.t0) / 1000.0;

	unsigned fin = net_side ? A.net_finished : A.finished;

	printf("TIME calls=%u seconds=%.2f cps=%.1f\n", fin, secs, secs > 0 ? fin / secs : 0);
	printf("RESULT %s calls=%u ok=%u audio_ok=%u dtmf_ok=%u\n",
	       net_side ? "pri_loop_net" : "pri_loop", n, ok, aok, dok);
	fflush(stdout);
	A.rc = (!A.timed_out && ok == n && aok == n && dok == n && n == A.calls) ? 0 : 1;
	A.done = true;
	loop_stop(A.l);
}

static void linger_done(void *arg)
{
	(void)arg;
	report_and_stop();
}

static void check_done(void)
{
	if (!strcmp(A.role, "net")) {
		/* Linger a little: the user side still wants our RELEASE. */
		if (A.net_finished >= A.calls && !tmr_running(&A.linger))
			tmr_start(A.l, &A.linger, 300, linger_done, NULL);
		return;
	}
	if (A.finished == 100 && A.calls > 100) {
		printf("TIME calls=100 seconds=%.2f\n", (double)(loop_clock_ms() - A.t0) / 1000.0);
		fflush(stdout);
	}
	if (A.finished >= A.calls && (!both() || A.net.ncalls == 0))
		report_and_stop();
}

/* ---- user side ---- */

static int free_ts(void)
{
	unsigned n = span_type_nslots(A.type);

	for (unsigned ts = 1; ts <= n; ts++)
		if (span_is_bchan(A.cpe.sp, ts) && !A.cpe.ts[ts] && (!both() || !A.net.ts[ts]))
			return (int)ts;
	return 0;
}

static void place_more(void)
{
	while (A.mode == LOOP && A.placed < A.calls && A.cpe.ncalls < A.conc &&
	       tpri_dchan_up(A.cpe.tp) && (!both() || tpri_dchan_up(A.net.tp))) {
		struct tpri_number called = {"", TPRI_TON_NATIONAL, TPRI_NPI_E164, 0};
		struct tpri_number calling = {"2125559999", TPRI_TON_NATIONAL, TPRI_NPI_E164, 0};
		int ts = free_ts();
		struct lcall *lc;

		if (!ts)
			return;
		snprintf(called.digits, sizeof(called.digits), "%u", 1000000 + A.placed);
		lc = lcall_new(&A.cpe, ts, A.placed);
		if (!lc ||
		    tpri_call_place(&lc->c, A.cpe.tp, (unsigned)ts, true, &called, &calling)) {
			if (lc)
				lcall_free(lc);
			return;
		}
		tpri_call_set_arg(lc->c, lc);
		A.placed++;
	}
}

static void probe_place(void)
{
	struct psim_numbering nb = {"1", "011", "1"};
	struct tpri_number called, calling;
	struct lcall *lc;

	if (psim_q931_from_e164(&nb, A.national ? PSIM_NUM_NATIONAL : PSIM_NUM_INTERNATIONAL, A.to,
	                        &called) ||
	    (A.from && psim_q931_from_e164(&nb, PSIM_NUM_INTERNATIONAL, A.from, &calling))) {
		fprintf(stderr, "pritest: numbers are E.164 (+...)\n");
		A.rc = 2;
		loop_stop(A.l);
		return;
	}
	lc = lcall_new(&A.cpe, 0, 0);
	if (!lc || tpri_call_place(&lc->c, A.cpe.tp, 0, false, &called, A.from ? &calling : NULL)) {
		fprintf(stderr, "pritest: cannot place the call\n");
		A.rc = 1;
		loop_stop(A.l);
		return;
	}
	A.cpe.pending = lc;
	tpri_call_set_arg(lc->c, lc);
}

static void probe_print(const struct lcall *lc, int cause)
{
	printf("CALL to=%s proceeding=%d alerting=%d connect=%d cause=%d channel=%d "
	       "setup_ms=%llu tone_hz=%.0f tone_dbm0=%.1f digits=%s\n",
	       A.to ? A.to : "-", lc->proceeding, lc->alerting, lc->answered, cause, lc->ts,
	       (unsigned long long)(lc->answered ? lc->t_answer - lc->t0 : 0), lc->tone_hz,
	       lc->tone_dbm0, lc->heard);
	fflush(stdout);
}

/* Probe: a channel becomes known when the network picks it. */
static void probe_channel(struct end *e, struct lcall *lc)
{
	int ts = tpri_call_channel(lc->c);

	if (lc->ts || ts <= 0 || e->ts[ts])
		return;
	lc->ts = ts;
	e->ts[ts] = lc;
}

static void probe_done(void *arg)
{
	(void)arg;
	loop_stop(A.l);
}

static void on_hangup(struct end *e, struct lcall *lc, int cause)
{
	struct res *r = A.mode == LOOP ? &A.res[lc->idx] : NULL;

	if (r && e->net) {
		r->net_done = true;
		r->net_cause = cause;
		r->net_audio = lc->good >= TONE_GOOD;
		r->net_dtmf = lcall_dtmf_ok(lc, lc->idx, true);
		A.net_finished++;
	} else if (r) {
		r->cpe_done = true;
		r->cpe_cause = cause;
		A.finished++;
	} else {
		/* Linger: the network still wants our RELEASE / RELEASE COMPLETE. */
		probe_print(lc, cause);
		A.done = true;
		tmr_start(A.l, &A.linger, 200, probe_done, NULL);
	}
	lcall_free(lc);
	check_done();
}

static void on_ring(struct end *e, const struct tpri_event *ev)
{
	int ts = ev->channel;
	unsigned idx = (unsigned)strtoul(ev->called->digits, NULL, 10);
	struct lcall *lc;

	if (A.mode == LOOP && (idx < 1000000 || idx - 1000000 >= A.calls))
		idx = 0;
	else if (A.mode == LOOP)
		idx -= 1000000;
	if (A.mode == PROBE_CALL || !ts || ts > SPAN_MAX_TS || e->ts[ts] ||
	    !(lc = lcall_new(e, ts, idx))) {
		tpri_call_hangup(ev->call, PRI_CAUSE_REQUESTED_CHAN_UNAVAIL);
		return;
	}
	lc->c = ev->call;
	tpri_call_set_arg(ev->call, lc);
	if (A.mode == PROBE_ANSWER) {
		printf("INCOMING from=%s from_ton=%d to=%s to_ton=%d channel=%d\n",
		       ev->calling->digits, ev->calling->ton, ev->called->digits, ev->called->ton,
		       ts);
		fflush(stdout);
	}
	tpri_call_proceeding(ev->call, false);
	tpri_call_alerting(ev->call, false);
	if (tpri_call_answer(ev->call) == 0) {
		lc->answered = true;
		lc->t_answer = loop_clock_ms();
	}
}

static void on_event(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct end *e = arg;
	struct lcall *lc = ev->call ? tpri_call_arg(ev->call) : NULL;

	(void)tp;
	switch (ev->type) {
	case TPRI_EV_DCHAN_UP:
		if (A.mode == PROBE_CALL && !e->net && !A.cpe.ncalls)
			probe_place();
		if (A.mode == PROBE_ANSWER) {
			printf("READY\n");
			fflush(stdout);
		}
		place_more();
		break;
	case TPRI_EV_RING:
		on_ring(e, ev);
		break;
	case TPRI_EV_PROCEEDING:
	case TPRI_EV_ALERTING:
	case TPRI_EV_PROGRESS:
	case TPRI_EV_ANSWER:
		if (!lc)
			break;
		if (A.mode != LOOP)
			probe_channel(e, lc);
		lc->proceeding |= ev->type == TPRI_EV_PROCEEDING;
		lc->alerting |= ev->type == TPRI_EV_ALERTING;
		if (ev->type == TPRI_EV_ANSWER) {
			lc->answered = true;
			lc->t_answer = loop_clock_ms();
			if (A.mode == LOOP)
				A.res[lc->idx].answered = true;
		}
		break;
	case TPRI_EV_HANGUP:
		if (lc) {
			tpri_call_set_arg(ev->call, NULL);
			on_hangup(e, lc, ev->cause);
		}
		break;
	default:
		break;
	}
}

/* ---- set-up ---- */

static void start_pri(struct end *e)
{
	const char *dbg = getenv("PRIDEBUG"); /* libpri PRI_DEBUG_* bits, for debugging */
	struct tpri_conf c = {.node = e->net ? TPRI_NET : TPRI_CPE,
	                      .sw = A.sw,
	                      .debug = dbg ? (int)strtol(dbg, NULL, 0) : 0};

	if (!e->tp && tpri_alloc(&e->tp, e->sp, &c, on_event, e)) {
		fprintf(stderr, "pritest: cannot start PRI\n");
		A.rc = 1;
		loop_stop(A.l);
	}
}

static void alarm_handler(struct span *sp, unsigned alarms, void *arg)
{
	(void)sp;
	/* PRI starts once the cable is in (never inside span_open(): the span can send). */
	if (!alarms)
		start_pri(arg);
}

static int end_open(struct end *e, bool net, const char *addr, bool listen)
{
	struct span_conf c;
	int err;

	e->net = net;
	span_conf_default(&c, net ? 1 : 2, A.type);
	snprintf(c.addr, sizeof(c.addr), "%s", addr);
	/* As a real network: the exchange gives the clock. */
	c.listen = listen;
	c.clock_master = net;
	err = span_virtual_alloc(&e->sp, &c, A.l);
	if (err)
		return err;
	span_set_alarm_handler(e->sp, alarm_handler, e);
	span_set_tick_handler(e->sp, tick_handler, e);
	return span_open(e->sp);
}

static void end_close(struct end *e)
{
	for (unsigned ts = 0; ts <= SPAN_MAX_TS; ts++)
		if (e->ts[ts])
			lcall_free(e->ts[ts]);
	if (e->pending)
		lcall_free(e->pending);
	e->tp = mem_deref(e->tp);
	e->sp = mem_deref(e->sp);
}

static void on_deadline(void *arg)
{
	(void)arg;
	A.timed_out = true;
	fprintf(stderr, "pritest: timeout (%u of %u calls finished)\n", A.finished, A.calls);
	if (A.mode == LOOP) {
		report_and_stop();
	} else {
		printf("CALL to=%s timeout=1\n", A.to ? A.to : "-");
		A.rc = 1;
		loop_stop(A.l);
	}
}

static void on_signal(int signo, void *arg)
{
	(void)signo;
	(void)arg;
	on_deadline(NULL);
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: pritest [--t1] [--switch SW] [--calls N] [--concurrency K] [--timeout S]\n"
	       "               [--role both|net|cpe] [--listen ADDR | --connect ADDR]\n"
	       "       pritest --connect ADDR --call E164 [--from E164] [--national] [--tone HZ]\n"
	       "               [--send-digits D] [--hold-ms MS] [--timeout S]\n"
	       "       pritest --connect ADDR --answer [--tone HZ] [--hold-ms MS] [--timeout S]\n");
}

static int parse_args(int argc, char **argv, const char **listen_addr, const char **connect_addr,
                      unsigned *timeout_s, bool *verbose)
{
	static const struct option opts[] = {
	    {"t1", no_argument, NULL, 'T'},
	    {"switch", required_argument, NULL, 'w'},
	    {"calls", required_argument, NULL, 'n'},
	    {"concurrency", required_argument, NULL, 'k'},
	    {"timeout", required_argument, NULL, 't'},
	    {"role", required_argument, NULL, 'r'},
	    {"listen", required_argument, NULL, 'L'},
	    {"connect", required_argument, NULL, 'C'},
	    {"call", required_argument, NULL, 'c'},
	    {"from", required_argument, NULL, 'f'},
	    {"national", no_argument, NULL, 'N'},
	    {"tone", required_argument, NULL, 'o'},
	    {"send-digits", required_argument, NULL, 'd'},
	    {"hold-ms", required_argument, NULL, 'H'},
	    {"answer", no_argument, NULL, 'a'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int o;

	while ((o = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (o) {
		case 'T':
			A.type = SPAN_T1;
			break;
		case 'w':
			if (tpri_switch_parse(optarg, &A.sw))
				return EINVAL;
			break;
		case 'n':
			A.calls = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			A.conc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			*timeout_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			A.role = optarg;
			break;
		case 'L':
			*listen_addr = optarg;
			break;
		case 'C':
			*connect_addr = optarg;
			break;
		case 'c':
			A.to = optarg;
			A.mode = PROBE_CALL;
			break;
		case 'f':
			A.from = optarg;
			break;
		case 'N':
			A.national = true;
			break;
		case 'o':
			A.tone_hz = strtod(optarg, NULL);
			break;
		case 'd':
			A.digits = optarg;
			break;
		case 'H':
			A.hold_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'a':
			A.mode = PROBE_ANSWER;
			break;
		case 'v':
			*verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return EINVAL;
		}
	}
	if (optind != argc || !A.calls || (A.mode != LOOP && !*connect_addr) ||
	    (strcmp(A.role, "both") && strcmp(A.role, "net") && strcmp(A.role, "cpe")) ||
	    (!strcmp(A.role, "net") && !*listen_addr) || (!strcmp(A.role, "cpe") && !*connect_addr))
		return EINVAL;
	if (A.mode != LOOP)
		A.role = "cpe";
	return 0;
}

int main(int argc, char **argv)
{
	const char *listen_addr = NULL, *connect_addr = NULL;
	unsigned timeout_s = 0;
	bool verbose = false;
	char addr[64];
	int err = 0;

	A.sw = TPRI_SW_EUROISDN_E1;
	if (parse_args(argc, argv, &listen_addr, &connect_addr, &timeout_s, &verbose)) {
		usage(stderr);
		return 2;
	}
	if (A.type == SPAN_T1 && A.sw == TPRI_SW_EUROISDN_E1)
		A.sw = TPRI_SW_NI2;
	if (!A.conc)
		A.conc = A.type == SPAN_T1 ? 23 : 30;
	if (!timeout_s)
		timeout_s = A.mode == LOOP ? 30 + A.calls / 10 : 30;
	log_init("pritest", false, verbose ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	A.res = calloc(A.calls, sizeof(*A.res));
	if (!A.res || loop_alloc(&A.l))
		return 1;
	loop_signal(A.l, SIGINT, on_signal, NULL);
	loop_signal(A.l, SIGTERM, on_signal, NULL);
	snprintf(addr, sizeof(addr), "@pritest-%d", (int)getpid());
	if (strcmp(A.role, "cpe"))
		err = end_open(&A.net, true, listen_addr ? listen_addr : addr, true);
	if (!err && strcmp(A.role, "net"))
		err = end_open(&A.cpe, false, connect_addr ? connect_addr : addr, false);
	if (err) {
		fprintf(stderr, "pritest: cannot open the span: %s\n", strerror(err));
		A.rc = 1;
		goto out;
	}
	tmr_init(&A.deadline);
	tmr_init(&A.linger);
	tmr_start(A.l, &A.deadline, (uint64_t)timeout_s * 1000, on_deadline, NULL);
	A.t0 = loop_clock_ms();
	loop_run(A.l);
out:
	tmr_cancel(&A.deadline);
	tmr_cancel(&A.linger);
	end_close(&A.cpe);
	end_close(&A.net);
	loop_free(A.l);
	free(A.res);
	return A.rc;
}
