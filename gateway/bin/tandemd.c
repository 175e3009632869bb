/*
 * tandemd: the Tandem gateway daemon.
 *
 * It loads the YAML file, listens on the configured transports, answers
 * OPTIONS (Allow, Accept, Supported), runs the registrar (users from the
 * file), opens every configured span (virtual or DAHDI) with PRI on it and
 * hands INVITEs and SETUPs to call control (gateway/call). With no span
 * configured an INVITE gets 503 Service Unavailable with Retry-After (call
 * control answers an authenticated INVITE the same while no D-channel is up).
 * Methods the UA does not offer get 405 with Allow, unknown ones 501 (see sip/ua).
 *
 * Signals: SIGTERM/SIGINT stop; SIGHUP re-reads the file and applies the log
 * level, users, trunks, numbering, routes and causes to new calls (spans and
 * SIP listeners need a restart, and it says so).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call/call.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/loop.h"
#include "provisioning/config.h"
#include "registrar/registrar.h"
#include "route/route.h"
#include "sip/auth/auth.h"
#include "sip/dns/dns.h"
#include "sip/ua/ua.h"
#include "tdm/dahdi/dahdi.h"
#include "tdm/span/span.h"
#include "tdm/virtual/virtual.h"

#define RETRY_AFTER_STR "300"

struct tandemd {
	struct loop *loop;
	struct sip_ua *ua;
	struct sip_dns *dns;
	struct tandem_config *cfg;
	const char *cfg_path;
	struct reg *reg;
	struct route_table *routes;
	struct cause_map *causes;
	struct call_ctl *cc;
	struct span *spans[CFG_MAX_SPANS];
	unsigned nspans;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tandemd -c FILE [--check] [--log-level LEVEL]\n"
		   "  -c, --config FILE   YAML configuration (see provisioning/examples/)\n"
		   "      --check         validate FILE and exit (0 if valid)\n"
		   "      --log-level L   override log.level (debug, info, notice, warning, error)\n");
}

static void on_invite(struct sip_sess *sess, const struct sip_msg *invite, void *arg)
{
	char ctx[96];
	(void)arg;

	snprintf(ctx, sizeof(ctx), "call=%.*s", PL_ARG(invite->callid));
	LOGN(ctx, "INVITE %.*s: no span is configured, answering 503", PL_ARG(invite->ruri_pl));
	sip_sess_reject(sess, 503, "Service Unavailable",
			"Retry-After: " RETRY_AFTER_STR "\r\n"
			"Warning: 399 tandem \"No span configured\"\r\n");
}

static void on_stop(int signo, void *arg)
{
	struct tandemd *d = arg;

	LOGI(NULL, "signal %d: stopping", signo);
	loop_stop(d->loop);
}

static void on_hup(int signo, void *arg)
{
	struct tandemd *d = arg;
	struct tandem_config *cfg;
	struct route_table *routes;
	struct cause_map *causes;
	char err[512];
	(void)signo;

	if (cfg_load(&cfg, d->cfg_path, err, sizeof(err))) {
		LOGE(NULL, "reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (cfg_route_table(cfg, &routes)) {
		LOGE(NULL, "reload refused: the routes do not build a route table");
		cfg_free(cfg);
		return;
	}
	if (cfg_cause_map(cfg, &causes)) {
		LOGE(NULL, "reload refused: the causes do not build a cause map");
		mem_deref(routes);
		cfg_free(cfg);
		return;
	}
	log_set_level((enum log_level)cfg->log.level);
	for (unsigned i = 0; i < cfg->nusers; i++)
		reg_user_set(d->reg, cfg->users[i].name, cfg->users[i].password);
	for (unsigned i = 0; i < d->cfg->nusers; i++)
		if (!cfg_user_find(cfg, d->cfg->users[i].name))
			reg_user_set(d->reg, d->cfg->users[i].name, NULL);
	if (d->cc)
		call_ctl_set_config(d->cc, cfg, routes, causes);
	LOGN(NULL, "reload: %s applied (log level, users, numbering, routes, causes); spans and SIP "
		   "listeners need a restart",
	     d->cfg_path);
	mem_deref(d->routes);
	d->routes = routes;
	mem_deref(d->causes);
	d->causes = causes;
	cfg_free(d->cfg);
	d->cfg = cfg;
}

static int start_ua(struct tandemd *d)
{
	const struct cfg_sip *s = &d->cfg->sip;
	struct sip_ua_config uc;
	char listening[512] = "", a[SA_STRLEN];
	size_t off = 0;
	int err;

	err = sip_dns_alloc(&d->dns, d->loop, NULL);
	if (err) {
		LOGE(NULL, "DNS resolver: %s", strerror(err));
		return err;
	}
	memset(&uc, 0, sizeof(uc));
	uc.dns = d->dns;
	uc.domain = s->domain;
	uc.user_agent = s->user_agent;
	uc.t1_ms = s->t1_ms;
	uc.t2_ms = s->t2_ms;
	uc.t4_ms = s->t4_ms;
	uc.tls_cert = s->tls_cert;
	uc.tls_key = s->tls_key;
	uc.tls_ca = s->tls_ca;
	uc.tls_no_verify = !s->tls_verify_server;
	uc.tp.tls_verify_client = s->tls_verify_client;
	uc.tp.limits.max_msg = s->max_message;
	uc.tp.max_conns = s->max_connections;
	uc.tp.idle_timeout_ms = s->idle_timeout_s * 1000u;
	uc.tp.dscp = s->dscp > 0 ? s->dscp : -1; /* 0 in the file: unmarked */
	uc.max_tsx = s->max_transactions;
	for (unsigned i = 0; i < s->nlisten && i < SIP_UA_MAX_LISTEN; i++) {
		uc.listen[i].tp = s->listen[i].tp;
		uc.listen[i].addr = s->listen[i].addr;
		uc.nlisten++;
	}
	err = sip_ua_alloc(&d->ua, d->loop, &uc);
	if (err)
		return err;
	for (unsigned i = 0; i < uc.nlisten; i++)
		off += (size_t)snprintf(listening + off, off < sizeof(listening) ?
				sizeof(listening) - off : 0, " %s:%s",
				sip_tp_name(uc.listen[i].tp), sa_str(&uc.listen[i].addr, a, sizeof(a)));
	LOGN(NULL, "SIP on%s", listening);
	return 0;
}

static int start_registrar(struct tandemd *d)
{
	const struct tandem_config *c = d->cfg;
	struct reg_config rc = { .realm = sip_ua_domain(d->ua), .db = c->registrar.db };
	int err;

	if (c->registrar.md5_only)
		rc.algs = SIP_DIGEST_ALG_BIT(SIP_DIGEST_MD5);
	err = reg_alloc(&d->reg, d->loop, d->ua, &rc);
	if (err) {
		LOGE(NULL, "registrar (%s): %s", c->registrar.db, strerror(err));
		return err;
	}
	for (unsigned i = 0; !err && i < c->nusers; i++)
		err = reg_user_set(d->reg, c->users[i].name, c->users[i].password);
	return err;
}

static int open_span(struct tandemd *d, const struct cfg_span *cs)
{
	struct span *sp = NULL;
	int err;

	if (cs->backend == CFG_SPAN_DAHDI)
		err = span_dahdi_alloc(&sp, &cs->conf, d->loop, NULL);
	else
		err = span_virtual_alloc(&sp, &cs->conf, d->loop);
	if (!err)
		err = span_open(sp);
	if (!err)
		err = call_ctl_span_add(d->cc, sp, &cs->pri, cs->group, NULL);
	if (err) {
		LOGE(NULL, "span %u (%s %s): %s", cs->conf.num,
		     cs->backend == CFG_SPAN_DAHDI ? "dahdi" : "virtual", cs->conf.addr,
		     strerror(err));
		if (sp)
			span_close(sp);
		mem_deref(sp);
		return err;
	}
	d->spans[d->nspans++] = sp;
	LOGN(sp->ctx, "%s span, %s side, %s, group %u", sp->ops->name,
	     cs->pri.node == TPRI_NET ? "network" : "user", tpri_switch_name(cs->pri.sw),
	     cs->group);
	return 0;
}

/* Registrar, route table, call control and spans; INVITE goes to call control
 * when there is at least one span. */
static int start_gateway(struct tandemd *d)
{
	struct call_ctl_config cc = { 0 };
	int err = start_registrar(d);

	if (!err)
		err = cfg_route_table(d->cfg, &d->routes);
	if (!err)
		err = cfg_cause_map(d->cfg, &d->causes);
	if (err)
		return err;
	cc.ua = d->ua;
	cc.reg = d->reg;
	cc.cfg = d->cfg;
	cc.routes = d->routes;
	cc.causes = d->causes;
	if (d->cfg->registrar.md5_only) /* phones that read only the first challenge */
		cc.auth_algs = SIP_DIGEST_ALG_BIT(SIP_DIGEST_MD5);
	err = call_ctl_alloc(&d->cc, d->loop, &cc);
	for (unsigned i = 0; !err && i < d->cfg->nspans; i++)
		err = open_span(d, &d->cfg->spans[i]);
	if (err)
		return err;
	if (d->nspans) {
		sip_ua_set_sess_handler(d->ua, call_ctl_invite, d->cc);
		LOGN(NULL, "call control on %u span(s), %u user(s)", d->nspans, d->cfg->nusers);
	} else {
		sip_ua_set_sess_handler(d->ua, on_invite, d);
		LOGN(NULL, "no span configured: INVITE is answered 503");
	}
	return 0;
}

static void stop_gateway(struct tandemd *d)
{
	call_ctl_free(d->cc);
	d->cc = NULL;
	sip_ua_free(d->ua);
	d->ua = NULL;
	reg_free(d->reg);
	for (unsigned i = 0; i < d->nspans; i++) {
		span_close(d->spans[i]);
		mem_deref(d->spans[i]);
	}
	mem_deref(d->routes);
	mem_deref(d->causes);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tandemd d;
	bool check = false;
	int level = -1, c, err;
	char errbuf[512];

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d.cfg_path = optarg; break;
		case 'k': check = true; break;
		case 'l':
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "tandemd: unknown log level '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!d.cfg_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfg_load(&d.cfg, d.cfg_path, errbuf, sizeof(errbuf))) {
		fprintf(stderr, "tandemd: %s\n", errbuf);
		return 1;
	}
	if (check) {
		printf("%s: valid\n", d.cfg_path);
		cfg_free(d.cfg);
		return 0;
	}
	log_init("tandemd", d.cfg->log.syslog,
		 (enum log_level)(level >= 0 ? level : d.cfg->log.level));
	signal(SIGPIPE, SIG_IGN);
	err = loop_alloc(&d.loop);
	if (!err)
		err = loop_signal(d.loop, SIGTERM, on_stop, &d);
	if (!err)
		err = loop_signal(d.loop, SIGINT, on_stop, &d);
	if (!err)
		err = loop_signal(d.loop, SIGHUP, on_hup, &d);
	if (!err)
		err = start_ua(&d);
	if (!err)
		err = start_gateway(&d);
	if (!err) {
		LOGN(NULL, "tandemd ready");
		err = loop_run(d.loop);
	}
	if (err)
		LOGE(NULL, "cannot run: %s", strerror(err));
	stop_gateway(&d);
	mem_deref(d.dns);
	loop_free(d.loop);
	cfg_free(d.cfg);
	return err ? 1 : 0;
}
