/*
 * Unit tests for tdm/pstnsim: the subscriber YAML and its errors, numbers
 * between Q.931 and E.164, the tone generator and detector, every behaviour
 * against an in-process libpri user end over span_virtual_pair (with the
 * B-channel audio checked on the user side), calls placed on command,
 * recording what a call hears and playing a file into it, WAV files, and
 * the JSON commands and control socket.
 */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "ctl/json.h"
#include "tdm/pri/pri.h"
#include "tdm/pstnsim/pstnsim.h"
#include "tdm/span/span.h"
#include "tdm/virtual/virtual.h"

/* ---- configuration ---- */

static void test_conf_demo(void **state)
{
	struct psim_conf *c = NULL;
	const struct psim_sub *s;
	char err[600] = "";

	(void)state;
	assert_int_equal(psim_conf_load(&c, "tdm/pstnsim/examples/demo.yaml", err, sizeof(err)), 0);
	assert_int_equal(c->nsubs, 7);
	assert_int_equal(c->nspans, 1);
	assert_int_equal(c->spans[0].type, SPAN_E1);
	assert_int_equal(c->spans[0].sw, TPRI_SW_EUROISDN_E1);
	assert_true(c->spans[0].clock_master);
	assert_string_equal(c->numbering.cc, "1");
	assert_non_null(s = psim_conf_find(c, "+12125550100"));
	assert_int_equal(s->beh, PSIM_ANSWER);
	assert_true(s->tone_hz == 1004);
	assert_int_equal(s->answer_ms, 1000);
	assert_int_equal(psim_conf_find(c, "+12125550101")->beh, PSIM_ECHO);
	assert_int_equal(psim_conf_find(c, "+12125550102")->beh, PSIM_IVR);
	assert_int_equal(psim_conf_find(c, "+12125550486")->cause, 17);
	assert_int_equal(psim_conf_find(c, "+12125550480")->beh, PSIM_NOANSWER);
	assert_int_equal(psim_conf_find(c, "+12125550480")->cause, 19);
	assert_int_equal(psim_conf_find(c, "+12125550480")->timeout_ms, 30000);
	assert_int_equal(psim_conf_find(c, "+12125550404")->cause, 1);
	assert_int_equal(psim_conf_find(c, "+12125550503")->cause, 34);
	assert_null(psim_conf_find(c, "+12125550999"));
	mem_deref(c);
}

static void test_conf_errors(void **state)
{
	static const struct {
		const char *yaml, *err;
	} cases[] = {
	    {"subscribers: [", "t.yaml:2:1: did not find expected node content"},
	    {"bogus: 1\nsubscribers: []\n", "t.yaml:1:1: unknown key 'bogus'"},
	    {"spans: []\n", "t.yaml:1:1: no subscribers"},
	    {"subscribers:\n  - number: \"12125550100\"\n    behaviour: busy\n",
	     "t.yaml:2:13: expected an E.164 number"},
	    {"subscribers:\n  - number: \"+1\"\n    behaviour: ringing\n",
	     "t.yaml:3:16: unknown behaviour 'ringing'"},
	    {"subscribers:\n  - number: \"+1\"\n    behaviour: busy\n    colour: red\n",
	     "t.yaml:4:5: unknown key 'colour'"},
	    {"subscribers:\n  - {number: \"+1\", behaviour: reject, cause: 300}\n",
	     "t.yaml:2:46: expected a whole number from 1 to 127"},
	    {"subscribers:\n  - {number: \"+1\", behaviour: answer, tone: {frequency: 9000}}\n",
	     "t.yaml:2:57: expected a number from 50 to 3900"},
	    {"subscribers:\n  - {number: \"+1\", behaviour: busy}\n  - {number: \"+1\", behaviour: "
	     "echo}\n",
	     "t.yaml:3:5: number +1 is listed twice"},
	    {"subscribers:\n  - {number: \"+1\", behaviour: noanswer, timeout: 2, timeout_ms: 5}\n",
	     "give timeout or timeout_ms, not both"},
	    {"spans:\n  - {span: 1, address: x, type: j1}\nsubscribers: []\n",
	     "t.yaml:2:33: type is e1 or t1"},
	    {"spans:\n  - {span: 1, address: x, switch: dss1}\nsubscribers: []\n",
	     "unknown switch type 'dss1'"},
	    {"spans:\n  - {span: 1}\nsubscribers: []\n", "t.yaml:2:5: a span needs an address"},
	    {"spans:\n  - {span: 1, backend: dahdi, address: x}\nsubscribers: []\n",
	     "t.yaml:2:24: pstnsim runs on virtual spans only, not 'dahdi'"},
	    {"numbering: {country_code: \"0\"}\nsubscribers: []\n", "a country code is"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct psim_conf *c = NULL;
		char err[600] = "";
		int rc = psim_conf_load_string(&c, "t.yaml", cases[i].yaml, err, sizeof(err));

		if (rc != EINVAL || !strstr(err, cases[i].err))
			fail_msg("case %zu: rc %d, error '%s', wanted '%s'", i, rc, err,
			         cases[i].err);
		assert_null(c);
	}
}

static void test_numbers(void **state)
{
	struct psim_numbering nanp = {"1", "011", "1"}, de = {"49", "00", "0"};
	const struct {
		struct psim_numbering *nb;
		const char *digits;
		uint8_t ton;
		const char *e164;
	} in[] = {
	    {&nanp, "12125550100", TPRI_TON_INTERNATIONAL, "+12125550100"},
	    {&nanp, "2125550100", TPRI_TON_NATIONAL, "+12125550100"},
	    {&nanp, "12125550100", TPRI_TON_UNKNOWN, "+12125550100"},
	    {&nanp, "011442079460000", TPRI_TON_UNKNOWN, "+442079460000"},
	    {&nanp, "2125550100", TPRI_TON_SUBSCRIBER, "+12125550100"},
	    {&de, "030123456", TPRI_TON_UNKNOWN, "+4930123456"},
	    {&de, "30123456", TPRI_TON_NATIONAL, "+4930123456"},
	};
	struct tpri_number n;
	char out[PSIM_NUM_MAX];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		memset(&n, 0, sizeof(n));
		snprintf(n.digits, sizeof(n.digits), "%s", in[i].digits);
		n.ton = in[i].ton;
		assert_int_equal(psim_e164_from_q931(in[i].nb, &n, out, sizeof(out)), 0);
		assert_string_equal(out, in[i].e164);
	}
	assert_int_equal(psim_q931_from_e164(&nanp, PSIM_NUM_NATIONAL, "+12125551001", &n), 0);
	assert_string_equal(n.digits, "2125551001");
	assert_int_equal(n.ton, TPRI_TON_NATIONAL);
	assert_int_equal(n.npi, TPRI_NPI_E164);
	assert_int_equal(psim_q931_from_e164(&nanp, PSIM_NUM_NATIONAL, "+442079460000", &n), 0);
	assert_string_equal(n.digits, "442079460000");
	assert_int_equal(n.ton, TPRI_TON_INTERNATIONAL);
	assert_int_equal(psim_q931_from_e164(&nanp, PSIM_NUM_INTERNATIONAL, "+12125551001", &n), 0);
	assert_string_equal(n.digits, "12125551001");
	assert_int_equal(psim_q931_from_e164(&nanp, PSIM_NUM_NATIONAL, "2125551001", &n), EINVAL);
	assert_int_equal(psim_q931_from_e164(&nanp, PSIM_NUM_NATIONAL, "+1212x", &n), EINVAL);
}

/* A tone through A-law and u-law reads back at its frequency and level. */
static void test_audio(void **state)
{
	static const double hz[] = {350, 440, 1004, 2100};
	struct psim_tonegen g;
	struct psim_tonedet d;
	int16_t pcm[SPAN_BLOCK], back[SPAN_BLOCK];
	uint8_t law[SPAN_BLOCK];
	double fhz = 0, dbm0 = 0;
	unsigned reports = 0, first = 0;

	(void)state;
	for (int l = 0; l < 2; l++) {
		psim_tonegen_init(&g, 1004, -13);
		psim_tonedet_init(&d, hz, ARRAY_SIZE(hz), 5);
		reports = first = 0;
		for (unsigned b = 1; b <= 20; b++) {
			psim_tonegen_run(&g, pcm, SPAN_BLOCK);
			psim_encode(l ? SPAN_ULAW : SPAN_ALAW, pcm, law, SPAN_BLOCK);
			psim_decode(l ? SPAN_ULAW : SPAN_ALAW, law, back, SPAN_BLOCK);
			if (psim_tonedet_block(&d, back, SPAN_BLOCK, &fhz, &dbm0) && !reports++)
				first = b;
		}
		assert_int_equal(reports, 1); /* once per tone, not per block */
		assert_int_equal(first, 5);
		assert_true(fhz == 1004);
		assert_true(dbm0 > -13.6 && dbm0 < -12.4);
	}
	/* Silence and a tone not on the list are not reported; DTMF pairs neither. */
	memset(pcm, 0, sizeof(pcm));
	psim_tonedet_init(&d, hz, ARRAY_SIZE(hz), 2);
	for (int b = 0; b < 10; b++)
		assert_false(psim_tonedet_block(&d, pcm, SPAN_BLOCK, &fhz, &dbm0));
	psim_tonegen_init(&g, 1700, -10);
	for (int b = 0; b < 10; b++) {
		psim_tonegen_run(&g, pcm, SPAN_BLOCK);
		assert_false(psim_tonedet_block(&d, pcm, SPAN_BLOCK, &fhz, &dbm0));
	}
	/* Goertzel amplitude of a -10 dBm0 tone. */
	psim_tonegen_init(&g, 1000, -10);
	psim_tonegen_run(&g, pcm, SPAN_BLOCK);
	assert_true(fabs(psim_amp_dbm0(psim_goertzel(pcm, SPAN_BLOCK, 1000)) + 10) < 0.2);
	assert_true(psim_tone_share(pcm, SPAN_BLOCK, psim_goertzel(pcm, SPAN_BLOCK, 1000)) > 0.95);
	assert_true(psim_tone_share(pcm, SPAN_BLOCK, psim_goertzel(pcm, SPAN_BLOCK, 1500)) < 0.05);
}

/* ---- the exchange against a libpri user end ---- */

static const char conf_yaml[] =
    "numbering: {country_code: \"1\"}\n"
    "ringback: false\n"
    "did_tone: {frequency: 620, level: -12}\n"
    "subscribers:\n"
    "  - {number: \"+12125550100\", behaviour: answer, answer_after_ms: 100,\n"
    "     tone: {frequency: 1004, level: -10}}\n"
    "  - {number: \"+12125550101\", behaviour: echo}\n"
    "  - {number: \"+12125550102\", behaviour: ivr}\n"
    "  - {number: \"+12125550486\", behaviour: busy}\n"
    "  - {number: \"+12125550480\", behaviour: noanswer, timeout_ms: 300}\n"
    "  - {number: \"+12125550404\", behaviour: reject, cause: 1}\n"
    "  - {number: \"+12125550503\", behaviour: congestion}\n"
    "  - {number: \"+12125550200\", behaviour: answer, hangup_after_ms: 300}\n";

struct rig {
	struct loop *l;
	struct psim_conf *conf;
	struct psim *p;
	struct span *net, *cpe;
	struct tpri *tp;
	/* user side */
	struct tpri_call *call; /* borrowed until its HANGUP */
	unsigned n[32];
	int cause;
	bool answered, no_answer;
	struct tpri_number called, calling;
	double send_hz;
	const char *send_digits;
	unsigned ticks;
	struct psim_tonegen gen;
	struct psim_tonedet det;
	double heard_hz, heard_dbm0;
	dtmf_rx_state_t rx;
	dtmf_tx_state_t tx;
	char heard[32];
	/* record/play on each call once it is connected */
	const char *rec_path, *play_path;
	unsigned rec_seconds;
	uint32_t rec_samples, played_samples;
	int rec_err;
	char rec_ev_path[256];
	bool rec_before_disc;
	/* the simulator's events */
	unsigned ev[PSIM_EV_NTYPES];
	int ev_cause;
	unsigned ev_call;
	char ev_digits[32];
	double ev_hz;
	char ev_from[PSIM_NUM_MAX], ev_to[PSIM_NUM_MAX];
};

static void on_psim(const struct psim_ev *ev, void *arg)
{
	struct rig *r = arg;
	size_t l = strlen(r->ev_digits);

	r->ev[ev->type]++;
	switch (ev->type) {
	case PSIM_EV_SETUP:
		r->ev_call = ev->call;
		snprintf(r->ev_from, sizeof(r->ev_from), "%s", ev->from);
		snprintf(r->ev_to, sizeof(r->ev_to), "%s", ev->to);
		break;
	case PSIM_EV_DIGITS:
		if (l + 1 < sizeof(r->ev_digits))
			r->ev_digits[l] = ev->digit;
		break;
	case PSIM_EV_TONE:
		r->ev_hz = ev->hz;
		break;
	case PSIM_EV_DISCONNECT:
		r->ev_cause = ev->cause;
		break;
	case PSIM_EV_CONNECT:
		if (r->rec_path)
			assert_int_equal(psim_record(r->p, ev->call, r->rec_path, r->rec_seconds),
			                 0);
		if (r->play_path)
			assert_int_equal(psim_play(r->p, ev->call, r->play_path), 0);
		break;
	case PSIM_EV_RECORDED:
		r->rec_samples = ev->samples;
		r->rec_err = ev->err;
		r->rec_before_disc = r->ev[PSIM_EV_DISCONNECT] == 0;
		snprintf(r->rec_ev_path, sizeof(r->rec_ev_path), "%s", ev->path);
		break;
	case PSIM_EV_PLAYED:
		r->played_samples = ev->samples;
		break;
	default:
		break;
	}
}

static void on_digits(void *arg, const char *d, int len)
{
	struct rig *r = arg;
	size_t l = strlen(r->heard);

	for (int i = 0; i < len && l + 1 < sizeof(r->heard); i++)
		r->heard[l++] = d[i];
}

static void on_user(struct tpri *tp, const struct tpri_event *ev, void *arg)
{
	struct rig *r = arg;

	(void)tp;
	if ((unsigned)ev->type < ARRAY_SIZE(r->n))
		r->n[ev->type]++;
	switch (ev->type) {
	case TPRI_EV_RING: /* a DID call: answer it */
		r->call = ev->call;
		r->called = *ev->called;
		r->calling = *ev->calling;
		assert_int_equal(tpri_call_proceeding(ev->call, false), 0);
		if (r->no_answer) {
			assert_int_equal(tpri_call_alerting(ev->call, false), 0);
			break;
		}
		assert_int_equal(tpri_call_answer(ev->call), 0);
		r->answered = true;
		break;
	case TPRI_EV_ANSWER:
		r->answered = true;
		break;
	case TPRI_EV_HANGUP:
		if (ev->call == r->call) {
			r->cause = ev->cause;
			r->call = NULL;
			r->answered = false;
		}
		break;
	default:
		break;
	}
}

/* The user side's B-channel: play send_hz or digits, listen for tones and digits. */
static void user_tick(struct span *sp, uint32_t tick, void *arg)
{
	struct rig *r = arg;
	uint8_t blk[SPAN_BLOCK];
	int16_t in[SPAN_BLOCK], out[SPAN_BLOCK];
	double hz, dbm0;
	int ts, n;

	(void)tick;
	if (!r->call || !r->answered || (ts = tpri_call_channel(r->call)) <= 0)
		return;
	assert_int_equal(span_bchan_read(sp, (unsigned)ts, blk), 0);
	psim_decode(sp->conf.law, blk, in, SPAN_BLOCK);
	dtmf_rx(&r->rx, in, SPAN_BLOCK);
	if (psim_tonedet_block(&r->det, in, SPAN_BLOCK, &hz, &dbm0) && !r->heard_hz) {
		r->heard_hz = hz;
		r->heard_dbm0 = dbm0;
	}
	psim_tonegen_run(&r->gen, out, SPAN_BLOCK);
	if (++r->ticks == 3 && r->send_digits)
		dtmf_tx_put(&r->tx, r->send_digits, -1);
	n = dtmf_tx(&r->tx, out, SPAN_BLOCK);
	if (n > 0 && n < SPAN_BLOCK)
		memset(out + n, 0, (SPAN_BLOCK - (size_t)n) * sizeof(*out));
	psim_encode(sp->conf.law, out, blk, SPAN_BLOCK);
	span_bchan_write(sp, (unsigned)ts, blk);
}

typedef bool(pred_h)(struct rig *r);

static bool run_until(struct rig *r, pred_h *p, unsigned ms)
{
	uint64_t end = loop_clock_ms() + ms;

	while (!p(r)) {
		if (loop_clock_ms() >= end)
			return false;
		assert_int_equal(loop_run_once(r->l, 10), 0);
	}
	return true;
}

static bool up(struct rig *r)
{
	return tpri_dchan_up(r->tp) && psim_span_up(r->p, 1);
}

static bool user_hung_up(struct rig *r)
{
	return r->n[TPRI_EV_HANGUP] > 0;
}

static bool all_clear(struct rig *r)
{
	return psim_ncalls(r->p) == 0 && r->ev[PSIM_EV_DISCONNECT] > 0;
}

static bool user_answered(struct rig *r)
{
	return r->answered;
}

static bool psim_connected(struct rig *r)
{
	return r->ev[PSIM_EV_CONNECT] > 0;
}

static bool user_rung(struct rig *r)
{
	return r->n[TPRI_EV_RING] > 0;
}

static void rig_start(struct rig *r, enum span_type type)
{
	struct psim_span_conf sc = {.num = 1,
	                            .sw = type == SPAN_E1 ? TPRI_SW_EUROISDN_E1 : TPRI_SW_NI2,
	                            .numfmt = PSIM_NUM_NATIONAL};
	struct tpri_conf uc = {.node = TPRI_CPE, .sw = sc.sw};
	struct span_conf cn, cu;
	char err[600];

	memset(r, 0, sizeof(*r));
	assert_int_equal(loop_alloc(&r->l), 0);
	assert_int_equal(psim_conf_load_string(&r->conf, "test", conf_yaml, err, sizeof(err)), 0);
	assert_int_equal(psim_alloc(&r->p, r->l, r->conf, on_psim, r), 0);
	span_conf_default(&cn, 1, type);
	span_conf_default(&cu, 2, type);
	cn.clock_master = true;
	assert_int_equal(span_virtual_alloc(&r->net, &cn, r->l), 0);
	assert_int_equal(span_virtual_alloc(&r->cpe, &cu, r->l), 0);
	assert_int_equal(span_virtual_pair(r->net, r->cpe), 0);
	assert_int_equal(span_open(r->net), 0);
	assert_int_equal(span_open(r->cpe), 0);
	assert_int_equal(psim_span_add(r->p, r->net, &sc), 0);
	assert_int_equal(tpri_alloc(&r->tp, r->cpe, &uc, on_user, r), 0);
	span_set_tick_handler(r->cpe, user_tick, r);
	assert_true(run_until(r, up, 3000));
}

static void rig_stop(struct rig *r)
{
	mem_deref(r->tp);
	mem_deref(r->p);
	mem_deref(r->conf);
	mem_deref(r->cpe);
	mem_deref(r->net);
	loop_free(r->l);
}

/* Places a call to e164 (national format) and runs until the user side hears its end. */
static void user_call(struct rig *r, const char *e164, double send_hz, const char *digits,
                      unsigned hold_ms)
{
	static const double hz[] = {440, 620, 700, 1004};
	struct psim_numbering nb = {"1", "011", "1"};
	struct tpri_number called, calling = {"2125559999", TPRI_TON_NATIONAL, TPRI_NPI_E164, 0};

	memset(r->n, 0, sizeof(r->n));
	memset(r->ev, 0, sizeof(r->ev));
	memset(r->heard, 0, sizeof(r->heard));
	memset(r->ev_digits, 0, sizeof(r->ev_digits));
	r->cause = r->ev_cause = -1;
	r->heard_hz = r->ev_hz = 0;
	r->ticks = 0;
	r->answered = false;
	r->send_digits = digits;
	psim_tonegen_init(&r->gen, send_hz, -10);
	psim_tonedet_init(&r->det, hz, ARRAY_SIZE(hz), 5);
	dtmf_rx_init(&r->rx, on_digits, r);
	dtmf_tx_init(&r->tx);
	assert_int_equal(psim_q931_from_e164(&nb, PSIM_NUM_NATIONAL, e164, &called), 0);
	assert_int_equal(tpri_call_place(&r->call, r->tp, 0, false, &called, &calling), 0);
	if (hold_ms && run_until(r, user_answered, 3000)) {
		uint64_t end = loop_clock_ms() + hold_ms;

		while (loop_clock_ms() < end && !user_hung_up(r))
			assert_int_equal(loop_run_once(r->l, 10), 0);
		if (r->call)
			assert_int_equal(tpri_call_hangup(r->call, PRI_CAUSE_NORMAL_CLEARING), 0);
	}
	assert_true(run_until(r, user_hung_up, 3000));
	/* Our own end is over too: no call left, one disconnect event. */
	assert_true(run_until(r, all_clear, 3000));
	assert_int_equal(r->ev[PSIM_EV_SETUP], 1);
	assert_int_equal(r->ev[PSIM_EV_DISCONNECT], 1);
	assert_int_equal(r->ev_cause, r->cause);
	assert_string_equal(r->ev_to, e164);
	assert_string_equal(r->ev_from, "+12125559999");
}

static void test_rejections(void **state)
{
	static const struct {
		const char *num;
		int cause;
	} cases[] = {
	    {"+12125550486", 17}, {"+12125550404", 1},
	    {"+12125550503", 34}, {"+12125550999", 1}, /* nobody: unknown_cause */
	    {"+12125550486", 17},                      /* channels and calls were freed */
	};
	struct rig r;

	(void)state;
	rig_start(&r, SPAN_E1);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		user_call(&r, cases[i].num, 0, NULL, 0);
		assert_int_equal(r.cause, cases[i].cause);
		assert_int_equal(r.n[TPRI_EV_ANSWER], 0);
		assert_int_equal(r.ev[PSIM_EV_CONNECT], 0);
	}
	rig_stop(&r);
}

static void test_noanswer(void **state)
{
	struct rig r;
	uint64_t t0;

	(void)state;
	rig_start(&r, SPAN_E1);
	t0 = loop_clock_ms();
	user_call(&r, "+12125550480", 0, NULL, 0);
	assert_int_equal(r.cause, 19);
	assert_int_equal(r.n[TPRI_EV_ALERTING], 1);
	assert_int_equal(r.ev[PSIM_EV_ALERTING], 1);
	assert_true(loop_clock_ms() - t0 >= 300);
	rig_stop(&r);
}

static void test_answer_tone(void **state)
{
	enum span_type types[] = {SPAN_E1, SPAN_T1};
	struct rig r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		uint64_t t0;

		rig_start(&r, types[i]);
		t0 = loop_clock_ms();
		user_call(&r, "+12125550100", 0, NULL, 600);
		assert_int_equal(r.n[TPRI_EV_ANSWER], 1);
		assert_int_equal(r.ev[PSIM_EV_CONNECT], 1);
		assert_int_equal(r.cause, 16);
		assert_true(r.heard_hz == 1004);
		assert_true(r.heard_dbm0 > -10.8 && r.heard_dbm0 < -9.2);
		assert_true(loop_clock_ms() - t0 >= 600 + 100);
		rig_stop(&r);
	}
}

static void test_echo(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, SPAN_E1);
	user_call(&r, "+12125550101", 700, NULL, 500);
	assert_true(r.heard_hz == 700);
	assert_true(r.ev_hz == 700); /* and the simulator reported what it heard */
	assert_int_equal(r.ev[PSIM_EV_TONE], 1);
	rig_stop(&r);
}

static void test_ivr(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, SPAN_T1);
	user_call(&r, "+12125550102", 0, "19*#", 1600);
	assert_string_equal(r.ev_digits, "19*#"); /* reported as heard */
	assert_int_equal(r.ev[PSIM_EV_DIGITS], 4);
	assert_string_equal(r.heard, "19*#"); /* and played back */
	rig_stop(&r);
}

static void test_hangup_after(void **state)
{
	struct rig r;

	(void)state;
	rig_start(&r, SPAN_E1);
	user_call(&r, "+12125550200", 0, NULL, 3000);
	assert_int_equal(r.cause, 16); /* the subscriber cleared, not us */
	assert_int_equal(r.ev[PSIM_EV_CONNECT], 1);
	rig_stop(&r);
}

/* A DID call placed on command, answered by the user end, digits sent in-band both ways. */
static void test_did(void **state)
{
	static const double hz[] = {440, 620, 700, 1004};
	struct rig r;
	unsigned id;

	(void)state;
	rig_start(&r, SPAN_E1);
	psim_tonegen_init(&r.gen, 0, 0);
	psim_tonedet_init(&r.det, hz, ARRAY_SIZE(hz), 5);
	dtmf_rx_init(&r.rx, on_digits, &r);
	dtmf_tx_init(&r.tx);
	r.send_digits = "5";
	assert_int_equal(psim_call(r.p, 9, "+12125550199", "+12125551001", -1, &id), ENOENT);
	assert_int_equal(psim_call(r.p, 1, "+12125550199", "12125551001", -1, &id), EINVAL);
	assert_int_equal(psim_call(r.p, 1, "+12125550199", "+12125551001", -1, &id), 0);
	assert_int_equal(psim_digits(r.p, id, "1"), ENOTCONN); /* not answered yet */
	assert_true(run_until(&r, user_rung, 2000));
	assert_string_equal(r.called.digits, "2125551001");
	assert_int_equal(r.called.ton, TPRI_TON_NATIONAL);
	assert_string_equal(r.calling.digits, "2125550199");
	{
		uint64_t end = loop_clock_ms() + 400;

		while (loop_clock_ms() < end)
			assert_int_equal(loop_run_once(r.l, 10), 0);
	}
	assert_int_equal(r.ev[PSIM_EV_CONNECT], 1);
	assert_true(r.heard_hz == 620); /* the did_tone */
	assert_int_equal(psim_digits(r.p, id, "x"), EINVAL);
	assert_int_equal(psim_digits(r.p, id, "42"), 0);
	{
		uint64_t end = loop_clock_ms() + 600;

		while (loop_clock_ms() < end)
			assert_int_equal(loop_run_once(r.l, 10), 0);
	}
	assert_string_equal(r.heard, "42");
	assert_string_equal(r.ev_digits, "5");
	assert_int_equal(psim_hangup(r.p, 999, 16), ENOENT);
	assert_int_equal(psim_hangup(r.p, id, 16), 0);
	assert_true(run_until(&r, user_hung_up, 2000));
	assert_int_equal(r.cause, 16);
	assert_true(run_until(&r, all_clear, 2000));
	rig_stop(&r);
}

static bool link_down(struct rig *r)
{
	return r->ev[PSIM_EV_LINK] > 0 && psim_ncalls(r->p) == 0;
}

/* The cable pulled during a call: the exchange clears it (38) and reports the link down. */
static void test_cable_pulled(void **state)
{
	struct rig r;
	unsigned id;

	(void)state;
	rig_start(&r, SPAN_E1);
	memset(r.ev, 0, sizeof(r.ev));
	assert_int_equal(psim_call(r.p, 1, "+12125550199", "+12125551002", -1, &id), 0);
	assert_true(run_until(&r, psim_connected, 2000));
	assert_int_equal(psim_ncalls(r.p), 1);
	span_close(r.cpe);
	assert_true(run_until(&r, link_down, 2000));
	assert_int_equal(r.ev[PSIM_EV_DISCONNECT], 1);
	assert_int_equal(r.ev_cause, PRI_CAUSE_NETWORK_OUT_OF_ORDER);
	assert_false(psim_span_up(r.p, 1));
	assert_int_equal(psim_call(r.p, 1, NULL, "+12125551002", -1, &id), ENOTCONN);
	rig_stop(&r);
}

/* A DID call nobody answers, cleared by its timeout with 19. */
static void test_did_timeout(void **state)
{
	struct rig r;
	unsigned id;
	uint64_t t0;

	(void)state;
	rig_start(&r, SPAN_E1);
	r.no_answer = true;
	memset(r.ev, 0, sizeof(r.ev));
	t0 = loop_clock_ms();
	assert_int_equal(psim_call(r.p, 1, "+12125550199", "+12125551003", -1, &id), 0);
	assert_int_equal(psim_call_timeout(r.p, id, 300), 0);
	assert_int_equal(psim_call_timeout(r.p, id + 1, 300), ENOENT);
	assert_true(run_until(&r, user_hung_up, 2000));
	assert_int_equal(r.cause, PRI_CAUSE_NO_ANSWER);
	assert_true(loop_clock_ms() - t0 >= 300);
	assert_true(run_until(&r, all_clear, 2000));
	assert_int_equal(r.ev_cause, PRI_CAUSE_NO_ANSWER);
	assert_int_equal(r.ev[PSIM_EV_ALERTING], 1);
	assert_int_equal(r.ev[PSIM_EV_CONNECT], 0);
	rig_stop(&r);
}

/* ---- recording and playing ---- */

static void write_tone_wav(const char *path, double hz, double dbm0, uint32_t n)
{
	struct psim_rec rec = {0};
	struct psim_tonegen g;
	int16_t blk[SPAN_BLOCK];

	psim_tonegen_init(&g, hz, dbm0);
	assert_int_equal(psim_rec_open(&rec, path, n), 0);
	for (uint32_t i = 0; i < n; i += SPAN_BLOCK) {
		psim_tonegen_run(&g, blk, SPAN_BLOCK);
		/* full exactly at the end, never before */
		assert_int_equal(psim_rec_write(&rec, blk, SPAN_BLOCK), i + SPAN_BLOCK >= n);
	}
	assert_int_equal(psim_rec_close(&rec), 0);
	assert_int_equal(rec.n, n);
}

/* Level (dBm0) of hz over the middle 800 samples of a WAV, and the share it carries. */
static double wav_tone(const char *path, double hz, size_t *np, double *share)
{
	int16_t *s;
	size_t n;
	double amp;

	assert_int_equal(psim_wav_load(&s, &n, path, 8000 * 60), 0);
	assert_true(n >= 800);
	amp = psim_goertzel(s + n / 2 - 400, 800, hz);
	*share = psim_tone_share(s + n / 2 - 400, 800, amp);
	*np = n;
	mem_deref(s);
	return psim_amp_dbm0(amp);
}

/*
 * The user side sends 700 Hz at -10 dBm0 to the subscriber that plays 1004 Hz;
 * pstnsim records what it hears and plays a 620 Hz file over its own tone.
 */
static void test_record_play(void **state)
{
	char rec[64], play[64];
	double share, dbm0;
	size_t n;
	struct rig r;

	(void)state;
	snprintf(rec, sizeof(rec), "/tmp/test-pstnsim-rec-%d.wav", (int)getpid());
	snprintf(play, sizeof(play), "/tmp/test-pstnsim-play-%d.wav", (int)getpid());
	write_tone_wav(play, 620, -12, 2500);
	dbm0 = wav_tone(play, 620, &n, &share);
	assert_int_equal(n, 2500);
	assert_true(dbm0 > -12.3 && dbm0 < -11.7 && share > 0.98);

	rig_start(&r, SPAN_E1);
	r.rec_path = rec;
	r.rec_seconds = 5;
	r.play_path = play;
	user_call(&r, "+12125550100", 700, NULL, 900);
	assert_int_equal(r.ev[PSIM_EV_RECORDED], 1);
	assert_true(r.rec_before_disc); /* the file is whole once the disconnect is told */
	assert_int_equal(r.rec_err, 0);
	assert_string_equal(r.rec_ev_path, rec);
	assert_int_equal(r.ev[PSIM_EV_PLAYED], 1);
	assert_int_equal(r.played_samples, 2500);
	assert_true(r.heard_hz == 620); /* the file first, over the subscriber's 1004 Hz */
	dbm0 = wav_tone(rec, 700, &n, &share);
	assert_int_equal(n, r.rec_samples);
	assert_true(n >= 8 * 500 && n <= 8 * 1100); /* from the answer to the end of the call */
	assert_int_equal(n % SPAN_BLOCK, 0);
	assert_true(dbm0 > -10.5 && dbm0 < -9.5);
	assert_true(share > 0.95);

	/* Bounded: 1 s on a longer call, the echo of our own 1004 Hz. */
	r.rec_seconds = 1;
	r.play_path = NULL;
	user_call(&r, "+12125550101", 1004, NULL, 1500);
	assert_int_equal(r.ev[PSIM_EV_RECORDED], 1);
	assert_int_equal(r.rec_samples, 8000);
	dbm0 = wav_tone(rec, 1004, &n, &share);
	assert_int_equal(n, 8000);
	assert_true(dbm0 > -10.5 && dbm0 < -9.5 && share > 0.95);
	rig_stop(&r);
	unlink(rec);
	unlink(play);
}

/* WAV files other writers make: extra chunks are skipped, other formats refused. */
static void test_wav_files(void **state)
{
	static const uint8_t hdr[] = {
	    'R', 'I', 'F', 'F', 0,    0,    0,   0, 'W',  'A',  'V',  'E',  'L', 'I', 'S', 'T',
	    3,   0,   0,   0,   'a',  'b',  'c', 0, 'f',  'm',  't',  ' ',  16,  0,   0,   0,
	    1,   0,   1,   0,   0x40, 0x1f, 0,   0, 0x80, 0x3e, 0,    0,    2,   0,   16,  0,
	    'd', 'a', 't', 'a', 6,    0,    0,   0, 1,    0,    0xff, 0xff, 0,   0x80};
	struct psim_rec rec = {0};
	char path[64];
	uint8_t b[sizeof(hdr)];
	int16_t *s;
	size_t n;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test-pstnsim-wav-%d.wav", (int)getpid());
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(hdr, sizeof(hdr), 1, f), 1);
	fclose(f);
	assert_int_equal(psim_wav_load(&s, &n, path, 100), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s[0], 1);
	assert_int_equal(s[1], -1);
	assert_int_equal(s[2], -32768);
	mem_deref(s);
	assert_int_equal(psim_wav_load(&s, &n, path, 2), EFBIG);
	/* 16 kHz, stereo, 8-bit, truncated data: refused */
	for (int i = 0; i < 4; i++) {
		memcpy(b, hdr, sizeof(b));
		if (i == 0) {
			b[36] = 0x80; /* 16000 */
			b[37] = 0x3e;
		} else if (i == 1) {
			b[34] = 2;
		} else if (i == 2) {
			b[46] = 8;
		} else {
			b[52] = 60;
		}
		f = fopen(path, "wb");
		assert_int_equal(fwrite(b, sizeof(b), 1, f), 1);
		fclose(f);
		assert_int_equal(psim_wav_load(&s, &n, path, 100), EINVAL);
	}
	assert_int_equal(psim_wav_load(&s, &n, "/nonexistent/x.wav", 100), ENOENT);
	/* recordings: absolute paths, bounded, one at a time */
	assert_int_equal(psim_rec_open(&rec, "rel.wav", 100), EINVAL);
	assert_int_equal(psim_rec_open(&rec, path, 0), EINVAL);
	assert_int_equal(psim_rec_open(&rec, path, PSIM_REC_MAX_S * 8000 + 1), EINVAL);
	assert_int_equal(psim_rec_open(&rec, "/nonexistent/x.wav", 100), ENOENT);
	assert_int_equal(psim_rec_open(&rec, path, 100), 0);
	assert_int_equal(psim_rec_open(&rec, path, 100), EBUSY);
	assert_false(psim_rec_write(&rec, NULL, 60));
	assert_true(psim_rec_write(&rec, NULL, SPAN_BLOCK)); /* full: 40 of them dropped */
	assert_int_equal(psim_rec_close(&rec), 0);
	assert_int_equal(psim_rec_close(&rec), 0); /* closed already */
	assert_int_equal(psim_wav_load(&s, &n, path, 1000), 0);
	assert_int_equal(n, 100);
	mem_deref(s);
	unlink(path);
}

/* ---- commands ---- */

static void exec(struct psim *p, const char *cmd, struct json_w *w)
{
	json_w_reset(w);
	psim_cmd_exec(p, cmd, strlen(cmd), w);
	assert_int_equal(json_w_err(w), 0);
}

static void test_commands(void **state)
{
	struct rig r;
	struct json_w w;

	(void)state;
	rig_start(&r, SPAN_E1);
	json_w_init(&w, 65536);
	exec(r.p, "{\"cmd\":\"list\"}", &w);
	assert_string_equal(w.buf, "{\"ok\":true,\"calls\":[]}");
	exec(r.p, "not json", &w);
	assert_non_null(strstr(w.buf, "\"ok\":false"));
	exec(r.p, "{\"cmd\":\"fly\"}", &w);
	assert_non_null(strstr(w.buf, "unknown cmd"));
	exec(r.p, "{\"cmd\":\"call\",\"span\":1}", &w);
	assert_non_null(strstr(w.buf, "\"ok\":false"));
	exec(r.p, "{\"cmd\":\"hangup\",\"call\":77}", &w);
	assert_non_null(strstr(w.buf, "\"ok\":false"));
	exec(r.p, "{\"cmd\":\"call\",\"span\":1,\"from\":\"+12125559999\",\"to\":\"+12125551001\"}",
	     &w);
	assert_string_equal(w.buf, "{\"ok\":true,\"call\":1}");
	assert_true(run_until(&r, psim_connected, 2000));
	exec(r.p, "{\"cmd\":\"list\"}", &w);
	assert_non_null(strstr(w.buf, "\"call\":1,\"span\":1"));
	assert_non_null(strstr(w.buf, "\"to\":\"+12125551001\""));
	exec(r.p, "{\"cmd\":\"digits\",\"call\":1,\"digits\":\"12\"}", &w);
	assert_string_equal(w.buf, "{\"ok\":true}");
	exec(r.p, "{\"cmd\":\"record\",\"call\":1,\"path\":\"rel.wav\"}", &w);
	assert_non_null(strstr(w.buf, "absolute path"));
	exec(r.p, "{\"cmd\":\"record\",\"call\":1,\"path\":\"/nonexistent/x.wav\"}", &w);
	assert_non_null(strstr(w.buf, "No such file"));
	exec(r.p, "{\"cmd\":\"record\",\"call\":1,\"path\":\"/tmp/x.wav\",\"seconds\":601}", &w);
	assert_non_null(strstr(w.buf, "bad seconds"));
	exec(r.p, "{\"cmd\":\"record\",\"call\":9,\"path\":\"/tmp/x.wav\"}", &w);
	assert_non_null(strstr(w.buf, "\"ok\":false"));
	exec(r.p, "{\"cmd\":\"play\",\"call\":1}", &w);
	assert_non_null(strstr(w.buf, "needs \\\"call\\\" and \\\"path\\\""));
	exec(r.p, "{\"cmd\":\"play\",\"call\":1,\"path\":\"/nonexistent/x.wav\"}", &w);
	assert_non_null(strstr(w.buf, "No such file"));
	exec(r.p, "{\"cmd\":\"hangup\",\"call\":1,\"cause\":17}", &w);
	assert_string_equal(w.buf, "{\"ok\":true}");
	assert_true(run_until(&r, user_hung_up, 2000));
	assert_int_equal(r.cause, 17);
	json_w_free(&w);
	rig_stop(&r);
}

/* Events as JSON lines. */
static void test_event_json(void **state)
{
	struct psim_ev ev = {
	    .type = PSIM_EV_DISCONNECT, .span = 1, .call = 3, .channel = 5, .cause = 17};
	struct psim_ev t = {
	    .type = PSIM_EV_TONE, .span = 1, .call = 3, .channel = 5, .hz = 1004, .dbm0 = -10.04};
	struct json_w w;

	(void)state;
	json_w_init(&w, 4096);
	psim_ev_json(&w, &ev);
	assert_string_equal(w.buf,
	                    "{\"event\":\"disconnect\",\"span\":1,\"call\":3,\"channel\":5,"
	                    "\"direction\":\"in\",\"cause\":17,\"cause_text\":\"User busy\"}");
	json_w_reset(&w);
	psim_ev_json(&w, &t);
	assert_non_null(strstr(w.buf, "\"event\":\"tone\""));
	assert_non_null(strstr(w.buf, "\"frequency\":1004"));
	assert_non_null(strstr(w.buf, "\"level\":-10"));
	json_w_free(&w);
}

/* The control socket: a reply to the sender, events to everyone. */
static void test_ctl_socket(void **state)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct psim_ev ev = {.type = PSIM_EV_LINK, .span = 1, .up = true};
	struct psim_ctl *ctl;
	struct rig r;
	char buf[4096] = "";
	size_t got = 0;
	bool sent = false;
	int fd;

	(void)state;
	rig_start(&r, SPAN_E1);
	snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/test-pstnsim-%d.sock", (int)getpid());
	assert_int_equal(psim_ctl_alloc(&ctl, r.l, r.p, un.sun_path), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	assert_int_equal(write(fd, "{\"cmd\":\"list\"}\n", 15), 15);
	for (int i = 0; i < 200 && !strstr(buf, "\"up\":true}\n"); i++) {
		ssize_t n;

		loop_run_once(r.l, 10);
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		buf[got] = '\0';
		/* the reply first, then an event for every client */
		if (!sent && strchr(buf, '\n') && psim_ctl_nclients(ctl) == 1) {
			psim_ctl_event(ctl, &ev);
			sent = true;
		}
	}
	assert_string_equal(buf, "{\"ok\":true,\"calls\":[]}\n"
	                         "{\"event\":\"link\",\"span\":1,\"up\":true}\n");
	close(fd);
	for (int i = 0; i < 100 && psim_ctl_nclients(ctl) == 1; i++)
		loop_run_once(r.l, 10);
	assert_int_equal(psim_ctl_nclients(ctl), 0);
	mem_deref(ctl);
	assert_int_equal(access(un.sun_path, F_OK), -1); /* removed */
	rig_stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf_demo),   cmocka_unit_test(test_conf_errors),
	    cmocka_unit_test(test_numbers),     cmocka_unit_test(test_audio),
	    cmocka_unit_test(test_rejections),  cmocka_unit_test(test_noanswer),
	    cmocka_unit_test(test_answer_tone), cmocka_unit_test(test_echo),
	    cmocka_unit_test(test_ivr),         cmocka_unit_test(test_hangup_after),
	    cmocka_unit_test(test_did),         cmocka_unit_test(test_cable_pulled),
	    cmocka_unit_test(test_did_timeout), cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_event_json),  cmocka_unit_test(test_ctl_socket),
	    cmocka_unit_test(test_record_play), cmocka_unit_test(test_wav_files),
	};

	log_init("test_pstnsim", false, getenv("DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
