/*
 * sipua: a test user agent on gateway/sip/ua, for end-to-end tests with SIPp.
 *
 *   sipua --listen udp:127.0.0.1:5070 [--listen tcp:...] [--listen tls:...]
 *         [--cert F --key F] --uas
 *       answers every INVITE with 200 + SDP, handles ACK/BYE, accepts INFO
 *       (200) and in-dialog REFER (202, then NOTIFY "SIP/2.0 100 Trying" and
 *       NOTIFY "SIP/2.0 200 OK" without placing the referred call); prints
 *       counters on SIGTERM/SIGINT.
 *   sipua --uac sip:service@127.0.0.1:5060 --transport udp|tcp|tls --calls N
 *         --rate R [--hold MS] [--timeout S] [--linger MS]
 *       places N calls (INVITE, ACK, hold, BYE) and prints
 *       "RESULT sipua calls=N ok=M"; exit 0 only if every call succeeded.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "sip/event/event.h"
#include "sip/ua/ua.h"

static const char sdp_fmt[] = "v=0\r\n"
                              "o=sipua %u 1 IN IP4 127.0.0.1\r\n"
                              "s=-\r\n"
                              "c=IN IP4 127.0.0.1\r\n"
                              "t=0 0\r\n"
                              "m=audio %u RTP/AVP 0 101\r\n"
                              "a=rtpmap:0 PCMU/8000\r\n"
                              "a=rtpmap:101 telephone-event/8000\r\n";

struct app {
	struct loop *loop;
	struct sip_ua *ua;
	struct sip_events *ev;
	bool uas;
	/* uac */
	const char *target;
	enum sip_transport tp;
	unsigned calls, rate, hold_ms, linger_ms, timeout_s, started, done, ok, failed;
	struct tmr tmr_start, tmr_deadline;
	/* uas counters */
	unsigned invites, answered, established, byes, cancelled, closed_err, infos, refers;
	int exit_code;
	bool finished;
};

struct call {
	struct app *app;
	struct sip_sess *sess;
	struct tmr hold;
	bool established;
};

static void sdp_make(char *buf, size_t n)
{
	snprintf(buf, n, sdp_fmt, arc4random_uniform(1000000),
	         10000 + 2 * arc4random_uniform(5000));
}

/* ---- UAS ---- */

static void uas_established(struct sip_sess *s, const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	app->established++;
}

static uint16_t uas_offer(struct sip_sess *s, const struct sip_msg *msg, const char **ctype,
                          struct pl *answer, void *arg)
{
	static char sdp[512];

	sdp_make(sdp, sizeof(sdp));
	*ctype = "application/sdp";
	*answer = pl_make(sdp, strlen(sdp));
	return 0;
}

static void uas_closed(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg)
{
	struct app *app = arg;

	if (code == 487)
		app->cancelled++;
	else if (err)
		app->closed_err++;
	else
		app->byes++;
}

static uint16_t uas_info(struct sip_sess *s, struct pl package, const struct sip_msg *msg,
                         void *arg)
{
	struct app *app = arg;

	app->infos++;
	return 200;
}

static const struct sip_sess_handlers uas_h = {
    .established = uas_established,
    .offer = uas_offer,
    .closed = uas_closed,
    .info = uas_info,
};

/* Accepts every REFER and reports success at once: the final NOTIFY waits
 * for the 100 Trying one (the event layer keeps one NOTIFY in flight). */
static uint16_t uas_refer(struct sip_sess *sess, struct sip_evsub *sub,
                          const struct sip_refer_to *rt, const struct sip_msg *msg, void *arg)
{
	struct app *app = arg;

	app->refers++;
	if (sub && sip_refer_notify(sub, 200, "OK"))
		return 500;
	return 202;
}

static void uas_new(struct sip_sess *s, const struct sip_msg *invite, void *arg)
{
	struct app *app = arg;
	char sdp[512];

	app->invites++;
	sip_sess_set_handlers(s, &uas_h, app);
	sdp_make(sdp, sizeof(sdp));
	if (sip_sess_answer(s, "application/sdp", sdp, strlen(sdp)) == 0)
		app->answered++;
	else
		sip_sess_reject(s, 500, NULL, NULL);
}

static void uas_report(struct app *app)
{
	struct sip_ua_stats st;

	sip_ua_stats(app->ua, &st);
	printf("COUNTERS sipua invites=%u answered=%u established=%u byes=%u cancelled=%u "
	       "errors=%u acks=%llu retrans_2xx=%llu sessions=%u closed=%llu bye_rx=%llu r481=%llu "
	       "infos=%u refers=%u\n",
	       app->invites, app->answered, app->established, app->byes, app->cancelled,
	       app->closed_err, (unsigned long long)st.acks_rx, (unsigned long long)st.retrans_2xx,
	       st.sessions, (unsigned long long)st.sess_closed, (unsigned long long)st.bye_rx,
	       (unsigned long long)st.reply_481, app->infos, app->refers);
	fflush(stdout);
}

/* ---- UAC ---- */

static void stop_loop(void *arg)
{
	struct app *app = arg;

	loop_stop(app->loop);
}

static void uac_finish(struct app *app)
{
	if (app->finished)
		return;
	app->finished = true;
	printf("RESULT sipua calls=%u ok=%u failed=%u\n", app->calls, app->ok, app->failed);
	fflush(stdout);
	app->exit_code = app->ok == app->calls ? 0 : 1;
	/* a peer may still be in its end-of-call wait on our stream connection */
	tmr_cancel(&app->tmr_start);
	tmr_start(app->loop, &app->tmr_deadline, app->linger_ms, stop_loop, app);
}

static void call_done(struct call *c, bool ok)
{
	struct app *app = c->app;

	tmr_cancel(&c->hold);
	if (ok)
		app->ok++;
	else
		app->failed++;
	app->done++;
	mem_deref(c);
	if (app->done == app->calls)
		uac_finish(app);
}

static void hold_done(void *arg)
{
	struct call *c = arg;
	int err = sip_sess_bye(c->sess, NULL);

	if (err) {
		LOGW(sip_sess_callid(c->sess), "sipua: BYE failed: %d", err);
		sip_sess_close(c->sess, 0);
		call_done(c, false);
	}
}

static void uac_established(struct sip_sess *s, const struct sip_msg *msg, void *arg)
{
	struct call *c = arg;

	c->established = true;
	tmr_start(c->app->loop, &c->hold, c->app->hold_ms, hold_done, c);
}

static void uac_closed(struct sip_sess *s, int err, uint16_t code, const char *reason, void *arg)
{
	struct call *c = arg;
	bool ok = c->established && !err && code >= 200 && code < 300;

	if (!ok)
		LOGW(sip_sess_callid(s), "sipua: call failed: err=%d code=%u %s", err, code,
		     reason ? reason : "");
	call_done(c, ok);
}

static const struct sip_sess_handlers uac_h = {
    .established = uac_established,
    .closed = uac_closed,
};

static void start_call(struct app *app)
{
	struct sip_sess_connect_opts o = {0};
	struct call *c = mem_zalloc(sizeof(*c), NULL);
	char sdp[512];
	int err;

	app->started++;
	if (!c) {
		app->failed++;
		app->done++;
		return;
	}
	c->app = app;
	tmr_init(&c->hold);
	sdp_make(sdp, sizeof(sdp));
	o.target = app->target;
	o.tp = app->tp;
	o.from = "<sip:sipua@127.0.0.1>";
	o.body = sdp;
	o.body_len = strlen(sdp);
	err = sip_sess_connect(&c->sess, app->ua, &o, &uac_h, c);
	if (err) {
		LOGW(NULL, "sipua: connect failed: %d", err);
		call_done(c, false);
	}
}

static void start_tick(void *arg)
{
	struct app *app = arg;
	unsigned per_tick = app->rate > 100 ? app->rate / 100 : 1;
	uint64_t every = app->rate > 100 ? 10 : 1000 / (app->rate ? app->rate : 1);

	for (unsigned i = 0; i < per_tick && app->started < app->calls; i++)
		start_call(app);
	if (app->started < app->calls)
		tmr_start(app->loop, &app->tmr_start, every, start_tick, app);
}

static void deadline(void *arg)
{
	struct app *app = arg;

	LOGW(NULL, "sipua: timeout with %u of %u calls done", app->done, app->calls);
	app->failed += app->calls - app->done;
	uac_finish(app);
}

/* ---- main ---- */

static void on_signal(int signo, void *arg)
{
	struct app *app = arg;

	if (app->uas)
		uas_report(app);
	else
		uac_finish(app);
	loop_stop(app->loop);
}

/* TRANSPORT:ADDR[:PORT], parsed as the YAML listen entries are. */
static int parse_listen(struct sip_ua_config *cfg, const char *arg)
{
	struct cfg_listen l;

	if (cfg->nlisten >= SIP_UA_MAX_LISTEN || cfg_parse_listen(arg, &l))
		return EINVAL;
	cfg->listen[cfg->nlisten].tp = l.tp;
	cfg->listen[cfg->nlisten++].addr = l.addr;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: sipua --listen udp|tcp|tls:ADDR:PORT ... [--cert F --key F] "
	                "(--uas | --uac URI [--transport udp|tcp|tls] [--calls N] [--rate R] "
	                "[--hold MS] [--timeout S] [--linger MS]) [-v]\n");
}

static void default_listen(struct sip_ua_config *cfg)
{
	static const enum sip_transport tps[] = {SIP_TP_UDP, SIP_TP_TCP, SIP_TP_TLS};

	for (size_t i = 0; i < ARRAY_SIZE(tps); i++) {
		if (tps[i] == SIP_TP_TLS && !cfg->tls_cert)
			continue;
		cfg->listen[cfg->nlisten].tp = tps[i];
		sa_set_str(&cfg->listen[cfg->nlisten].addr, "127.0.0.1", 0);
		cfg->nlisten++;
	}
}

/* Returns 0, or the exit status for bad arguments. */
static int parse_args(int argc, char **argv, struct sip_ua_config *cfg, struct app *app)
{
	static const struct option lo[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"uas", no_argument, NULL, 's'},
	    {"uac", required_argument, NULL, 'u'},
	    {"transport", required_argument, NULL, 't'},
	    {"calls", required_argument, NULL, 'n'},
	    {"rate", required_argument, NULL, 'r'},
	    {"hold", required_argument, NULL, 'H'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"linger", required_argument, NULL, 'L'},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (parse_listen(cfg, optarg)) {
				fprintf(stderr, "sipua: bad --listen %s\n", optarg);
				return 2;
			}
			break;
		case 'c':
			cfg->tls_cert = optarg;
			break;
		case 'k':
			cfg->tls_key = optarg;
			break;
		case 's':
			app->uas = true;
			break;
		case 'u':
			app->target = optarg;
			break;
		case 't':
			app->tp = sip_tp_lookup(pl_make(optarg, strlen(optarg)));
			break;
		case 'n':
			app->calls = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			app->rate = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'H':
			app->hold_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'T':
			app->timeout_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'L':
			app->linger_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			log_set_level(LOG_LVL_DEBUG);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (app->uas == (app->target != NULL) || app->tp == SIP_TP_NONE || !app->calls) {
		usage();
		return 2;
	}
	return 0;
}

static void print_listeners(struct app *app, const struct sip_ua_config *cfg)
{
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		char buf[SA_STRLEN];
		struct sa a;
		if (!sip_ua_local(app->ua, cfg->listen[i].tp, sa_af(&cfg->listen[i].addr), &a))
			printf("LISTEN %s %s\n", sip_tp_name(cfg->listen[i].tp),
			       sa_str(&a, buf, sizeof(buf)));
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sip_ua_config cfg = {0};
	struct app app = {0};
	int err;

	app.calls = 1;
	app.rate = 10;
	app.hold_ms = 100;
	app.timeout_s = 120;
	app.tp = SIP_TP_UDP;
	log_init("sipua", false, LOG_LVL_WARN);
	err = parse_args(argc, argv, &cfg, &app);
	if (err)
		return err;
	if (!cfg.nlisten)
		default_listen(&cfg);
	cfg.user_agent = "sipua (Tandem)";
	cfg.tls_no_verify = true;
	signal(SIGPIPE, SIG_IGN);
	err = loop_alloc(&app.loop);
	if (err)
		return 1;
	err = sip_ua_alloc(&app.ua, app.loop, &cfg);
	if (err) {
		fprintf(stderr, "sipua: cannot start the UA: %s\n", strerror(err));
		loop_free(app.loop);
		return 1;
	}
	loop_signal(app.loop, SIGTERM, on_signal, &app);
	loop_signal(app.loop, SIGINT, on_signal, &app);
	tmr_init(&app.tmr_start);
	tmr_init(&app.tmr_deadline);
	if (app.uas) {
		sip_ua_set_sess_handler(app.ua, uas_new, &app);
		if (sip_event_alloc(&app.ev, app.ua) == 0)
			sip_event_set_refer_handler(app.ev, uas_refer, &app);
		print_listeners(&app, &cfg);
	} else {
		app.exit_code = 1;
		tmr_start(app.loop, &app.tmr_start, 0, start_tick, &app);
		tmr_start(app.loop, &app.tmr_deadline, app.timeout_s * 1000ull, deadline, &app);
	}
	loop_run(app.loop);
	tmr_cancel(&app.tmr_start);
	tmr_cancel(&app.tmr_deadline);
	sip_event_free(app.ev);
	sip_ua_free(app.ua);
	loop_free(app.loop);
	return app.uas ? 0 : app.exit_code;
}
