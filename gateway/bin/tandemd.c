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
 * SIP listeners need a restart, and it says so). Users' contacts in the file are
 * static bindings, set at start and replaced at each reload (those the file no
 * longer lists are removed); REGISTER's and tandemctl's bindings are left alone.
 *
 * Operations, each when its section is configured: the CDR store (every call
 * is written when it ends; a database that cannot be opened stops the start),
 * the control socket (status, reload = the SIGHUP path, calls, hangup, spans,
 * registrations, bind/unbind of static bindings, cdr) and the Prometheus
 * endpoint; these two only log an error and stay off when they cannot bind,
 * since calls do not need them.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "call/call.h"
#include "cdr/cdr.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/loop.h"
#include "ctl/ctl.h"
#include "metrics/metrics.h"
#include "provisioning/config.h"
#include "registrar/registrar.h"
#include "route/route.h"
#include "sip/auth/auth.h"
#include "sip/dns/dns.h"
#include "sip/event/event.h"
#include "sip/ua/ua.h"
#include "sip/uri/uri.h"
#include "tdm/dahdi/dahdi.h"
#include "tdm/span/span.h"
#include "tdm/virtual/virtual.h"

#define RETRY_AFTER_STR "300"

struct tandemd {
	struct loop *loop;
	struct sip_ua *ua;
	struct sip_events *events; /* SUBSCRIBE (489 but for refer), REFER */
	struct sip_dns *dns;
	struct tandem_config *cfg;
	const char *cfg_path;
	struct reg *reg;
	struct route_table *routes;
	struct cause_map *causes;
	struct call_ctl *cc;
	struct span *spans[CFG_MAX_SPANS];
	unsigned nspans;
	struct ctl *ctl;
	struct metrics *metrics;
	struct metrics_calls *mcalls;
	struct metrics_http *metrics_http;
	struct cdr *cdr;
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

static bool cfg_has_contact(const struct tandem_config *cfg, const char *aor, const char *uri)
{
	const struct cfg_user *u = cfg_user_find(cfg, aor);

	for (unsigned i = 0; u && i < u->ncontacts; i++)
		if (!strcmp(u->contacts[i], uri))
			return true;
	return false;
}

/*
 * The file's contacts become static bindings (q 1). old: the configuration cfg
 * replaces (NULL at start); its contacts that cfg lacks are removed. The registrar
 * does not record who made a static binding, so a tandemctl binding of the very
 * URI of a file contact counts as the file's.
 */
static void apply_contacts(struct tandemd *d, const struct tandem_config *old,
                           const struct tandem_config *cfg)
{
	unsigned set = 0, removed = 0;
	int err;

	for (unsigned i = 0; old && i < old->nusers; i++) {
		const struct cfg_user *u = &old->users[i];

		for (unsigned j = 0; j < u->ncontacts; j++) {
			if (cfg_has_contact(cfg, u->name, u->contacts[j]))
				continue;
			err = reg_static_remove(d->reg, u->name, u->contacts[j]);
			if (!err)
				removed++;
			else if (err != ENOENT)
				LOGE(NULL, "static binding %s -> %s not removed: %s", u->name,
				     u->contacts[j], strerror(err));
		}
	}
	for (unsigned i = 0; i < cfg->nusers; i++) {
		const struct cfg_user *u = &cfg->users[i];

		for (unsigned j = 0; j < u->ncontacts; j++) {
			err = reg_static_add(d->reg, u->name, u->contacts[j], 1000, NULL);
			if (!err)
				set++;
			else
				LOGE(NULL, "static binding %s -> %s not stored: %s", u->name,
				     u->contacts[j], strerror(err));
		}
	}
	if (set || removed)
		LOGN(NULL, "static bindings from the file: %u set, %u removed", set, removed);
}

/* SIGHUP and "tandemctl reload": on any error the running configuration stays
 * and err (size n) says why. */
static int reload(struct tandemd *d, char *err, size_t n)
{
	struct tandem_config *cfg;
	struct route_table *routes;
	struct cause_map *causes;

	if (cfg_load(&cfg, d->cfg_path, err, n)) {
		LOGE(NULL, "reload refused, keeping the running configuration: %s", err);
		return EINVAL;
	}
	if (cfg_route_table(cfg, &routes)) {
		snprintf(err, n, "the routes do not build a route table");
		LOGE(NULL, "reload refused: %s", err);
		cfg_free(cfg);
		return EINVAL;
	}
	if (cfg_cause_map(cfg, &causes)) {
		snprintf(err, n, "the causes do not build a cause map");
		LOGE(NULL, "reload refused: %s", err);
		mem_deref(routes);
		cfg_free(cfg);
		return EINVAL;
	}
	log_set_level((enum log_level)cfg->log.level);
	for (unsigned i = 0; i < cfg->nusers; i++)
		reg_user_set(d->reg, cfg->users[i].name, cfg->users[i].password);
	for (unsigned i = 0; i < d->cfg->nusers; i++)
		if (!cfg_user_find(cfg, d->cfg->users[i].name))
			reg_user_set(d->reg, d->cfg->users[i].name, NULL);
	apply_contacts(d, d->cfg, cfg);
	if (d->cc)
		call_ctl_set_config(d->cc, cfg, routes, causes);
	LOGN(NULL,
	     "reload: %s applied (log level, users and their contacts, numbering, routes, "
	     "causes); spans, SIP listeners, ctl, metrics and cdr need a restart",
	     d->cfg_path);
	mem_deref(d->routes);
	d->routes = routes;
	mem_deref(d->causes);
	d->causes = causes;
	cfg_free(d->cfg);
	d->cfg = cfg;
	return 0;
}

static void on_hup(int signo, void *arg)
{
	char err[512];
	(void)signo;

	reload(arg, err, sizeof(err));
}

/* ---- operations: CDR store, metrics, control socket ---- */

static int cmd_reload(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct tandemd *d = arg;
	char err[512];

	if (reload(d, err, sizeof(err))) {
		ctl_req_fail(req, "%s", err);
		return EINVAL;
	}
	json_str(w, "config", d->cfg_path);
	return 0;
}

static void put_binding(const struct reg_contact *rc, void *arg)
{
	struct json_w *w = arg;
	char a[SA_STRLEN];

	json_obj_begin(w, NULL);
	json_str(w, "aor", rc->aor);
	json_str(w, "contact", rc->uri);
	json_double(w, "q", rc->q / 1000.0);
	if (rc->expires_in < 0) {
		json_str(w, "expires", "static");
		json_str(w, "via", "-");
	} else {
		json_int(w, "expires", rc->expires_in);
		snprintf(a, sizeof(a), "%s:", sip_tp_name(rc->tp));
		sa_str(&rc->source, a + strlen(a), sizeof(a) - strlen(a));
		json_str(w, "via", a);
	}
	json_obj_end(w);
}

static int cmd_registrations(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct tandemd *d = arg;
	unsigned n = 0;
	int err;

	(void)req;
	json_arr_begin(w, "registrations");
	err = reg_foreach(d->reg, put_binding, w, &n);
	json_arr_end(w);
	json_uint(w, "count", n);
	return err;
}

/* aor and uri of bind/unbind; a sip: or sips: URI, as the registrar stores. */
static int binding_args(struct ctl_req *req, const char *usage, const char **aor, const char **uri)
{
	struct sip_uri u;

	*aor = ctl_req_str(req, "aor");
	*uri = ctl_req_str(req, "uri");
	if (!*aor || !**aor || !*uri) {
		ctl_req_fail(req, "usage: %s", usage);
		return EINVAL;
	}
	if (sip_uri_decode(&u, pl_make(*uri, strlen(*uri))) ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS)) {
		ctl_req_fail(req, "'%s' is not a sip: or sips: URI", *uri);
		return EINVAL;
	}
	return 0;
}

static int cmd_bind(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct tandemd *d = arg;
	const char *aor, *uri, *qs;
	unsigned q = 1000;
	char qb[8];
	int err = binding_args(req, "bind aor=USER uri=SIP-URI [q=0..1]", &aor, &uri);

	if (err)
		return err;
	if (!cfg_user_find(d->cfg, aor)) {
		ctl_req_fail(req, "no such user: %s", aor);
		return ENOENT;
	}
	if ((qs = ctl_req_str(req, "q")) && reg_q_parse(pl_make(qs, strlen(qs)), &q)) {
		ctl_req_fail(req, "q must be 0 to 1, at most 3 decimals: %s", qs);
		return EINVAL;
	}
	err = reg_static_add(d->reg, aor, uri, q, NULL);
	if (err) {
		ctl_req_fail(req, "binding not stored: %s", strerror(err));
		return err;
	}
	LOGN(NULL, "tandemctl: static binding %s -> %s (q %s)", aor, uri,
	     reg_q_print(q, qb, sizeof(qb)));
	json_str(w, "aor", aor);
	json_str(w, "contact", uri);
	json_double(w, "q", q / 1000.0);
	return 0;
}

static int cmd_unbind(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct tandemd *d = arg;
	const char *aor, *uri;
	int err = binding_args(req, "unbind aor=USER uri=SIP-URI", &aor, &uri);

	if (err)
		return err;
	err = reg_static_remove(d->reg, aor, uri);
	if (err == ENOENT && !cfg_user_find(d->cfg, aor))
		ctl_req_fail(req, "no such user: %s", aor);
	else if (err == ENOENT)
		ctl_req_fail(req, "no static binding of %s to %s", aor, uri);
	else if (err)
		ctl_req_fail(req, "binding not removed: %s", strerror(err));
	if (err)
		return err;
	LOGN(NULL, "tandemctl: static binding %s -> %s removed", aor, uri);
	json_str(w, "aor", aor);
	json_str(w, "contact", uri);
	return 0;
}

static void status_config(struct json_w *w, void *arg)
{
	static const char *const levels[] = {"debug", "info", "notice", "warning", "error"};
	struct tandemd *d = arg;
	unsigned lvl = (unsigned)log_get_level();

	json_str(w, "path", d->cfg_path);
	json_str(w, "log_level", lvl < ARRAY_SIZE(levels) ? levels[lvl] : "?");
	json_str(w, "domain", d->cfg->sip.domain);
	json_uint(w, "users", d->cfg->nusers);
	json_bool(w, "cdr", d->cdr != NULL);
	json_bool(w, "metrics", d->metrics_http != NULL);
}

/* Before call control, which writes to both. */
static int start_records(struct tandemd *d)
{
	const struct cfg_cdr *c = &d->cfg->cdr;
	int err = metrics_alloc(&d->metrics);

	if (!err)
		err = metrics_calls_alloc(&d->mcalls, d->metrics);
	if (err) {
		LOGE(NULL, "metrics registry: %s", strerror(err));
		return err;
	}
	if (c->path) {
		struct cdr_config cc = {.sync = c->sync_full ? CDR_SYNC_FULL : CDR_SYNC_NORMAL};

		err = cdr_open(&d->cdr, c->path, &cc);
		if (err) {
			LOGE(NULL, "CDR database %s: %s", c->path, strerror(err));
			return err;
		}
		LOGN(NULL, "CDRs to %s (sync %s)", c->path, c->sync_full ? "full" : "normal");
	}
	return 0;
}

static int ctl_commands(struct tandemd *d)
{
	int err = ctl_register(d->ctl, "reload", cmd_reload, d,
	                       "re-read the configuration file (as SIGHUP)");

	if (!err)
		err = ctl_register(d->ctl, "registrations", cmd_registrations, d,
		                   "registered and static contacts");
	if (!err)
		err = ctl_register(d->ctl, "bind", cmd_bind, d,
		                   "bind aor=USER uri=SIP-URI [q=0..1]: a static binding (a device "
		                   "that does not register; kept across restarts)");
	if (!err)
		err = ctl_register(d->ctl, "unbind", cmd_unbind, d,
		                   "unbind aor=USER uri=SIP-URI: remove a static binding");
	if (!err)
		err = ctl_status_register(d->ctl, "config", status_config, d);
	if (!err && d->cdr)
		err = cdr_ctl_register(d->cdr, d->ctl);
	if (!err)
		err = call_ctl_ops_register(d->cc, d->ctl);
	return err;
}

/* After call control: the control socket and the endpoint (each off when it cannot bind). */
static int start_ops(struct tandemd *d)
{
	const struct tandem_config *c = d->cfg;
	char a[SA_STRLEN];
	int err = call_ctl_metrics_register(d->cc, d->metrics);

	if (err)
		return err;
	if (c->ctl.socket) {
		struct ctl_config cc = {.path = c->ctl.socket};

		err = ctl_alloc(&d->ctl, d->loop, &cc);
		if (err)
			LOGE(NULL, "control socket %s: %s: tandemctl is off", c->ctl.socket,
			     strerror(err));
		else if ((err = ctl_commands(d)))
			return err;
	}
	if (c->metrics.enabled) {
		sa_str(&c->metrics.listen, a, sizeof(a));
		err = metrics_http_alloc(&d->metrics_http, d->loop, d->metrics, &c->metrics.listen,
		                         NULL);
		if (err)
			LOGE(NULL, "metrics on %s: %s: the endpoint is off", a, strerror(err));
	}
	return 0;
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
	uc.session_expires = s->session_expires;
	uc.min_se = s->min_se;
	uc.no_session_timer = s->no_session_timer;
	for (unsigned i = 0; i < s->nlisten && i < SIP_UA_MAX_LISTEN; i++) {
		uc.listen[i].tp = s->listen[i].tp;
		uc.listen[i].addr = s->listen[i].addr;
		uc.nlisten++;
	}
	err = sip_ua_alloc(&d->ua, d->loop, &uc);
	if (!err)
		err = sip_event_alloc(&d->events, d->ua);
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
	struct reg_config rc = { .realm = sip_ua_domain(d->ua), .db = c->registrar.db,
				 .algs = c->registrar.digest_algs };
	int err;

	err = reg_alloc(&d->reg, d->loop, d->ua, &rc);
	if (err) {
		LOGE(NULL, "registrar (%s): %s", c->registrar.db, strerror(err));
		return err;
	}
	for (unsigned i = 0; !err && i < c->nusers; i++)
		err = reg_user_set(d->reg, c->users[i].name, c->users[i].password);
	if (!err)
		apply_contacts(d, NULL, c);
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
	cc.cdr = d->cdr;
	cc.mcalls = d->mcalls;
	cc.media = d->cfg->nspans > 0; /* audio between RTP and the spans' B-channels */
	cc.auth_algs = d->cfg->registrar.digest_algs; /* the 407s as the 401s */
	err = call_ctl_alloc(&d->cc, d->loop, &cc);
	for (unsigned i = 0; !err && i < d->cfg->nspans; i++)
		err = open_span(d, &d->cfg->spans[i]);
	if (err)
		return err;
	if (d->nspans) {
		sip_event_set_refer_handler(d->events, call_ctl_refer, d->cc);
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
	sip_event_free(d->events);
	d->events = NULL;
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

/*
 * A call holds up to three sockets (RTP, its connected twin, RTCP) besides the
 * signalling ones, so the usual soft limit of 1,024 descriptors would stop a
 * full E1 shelf long before the port range does: take the hard limit, and say
 * when even that is short of what the configured port range can carry.
 */
static void raise_nofile(const struct tandem_config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)((cfg->media.port_max - cfg->media.port_min + 1) / 2) * 3 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		LOGW(NULL,
		     "open files limited to %llu; the RTP port range can carry calls needing "
		     "%llu (raise LimitNOFILE= or ulimit -Hn)",
		     (unsigned long long)rl.rlim_cur, (unsigned long long)want);
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
	raise_nofile(d.cfg);
	err = loop_alloc(&d.loop);
	if (!err)
		err = loop_signal(d.loop, SIGTERM, on_stop, &d);
	if (!err)
		err = loop_signal(d.loop, SIGINT, on_stop, &d);
	if (!err)
		err = loop_signal(d.loop, SIGHUP, on_hup, &d);
	if (!err)
		err = start_records(&d);
	if (!err)
		err = start_ua(&d);
	if (!err)
		err = start_gateway(&d);
	if (!err)
		err = start_ops(&d);
	if (!err) {
		LOGN(NULL, "tandemd ready");
		err = loop_run(d.loop);
	}
	if (err)
		LOGE(NULL, "cannot run: %s", strerror(err));
	/* No command or scrape may reach call control once it is gone; call control
	 * writes the CDRs of the calls it ends, so the store goes after it. */
	metrics_http_free(d.metrics_http);
	ctl_free(d.ctl);
	stop_gateway(&d);
	cdr_close(d.cdr);
	metrics_calls_free(d.mcalls);
	metrics_free(d.metrics);
	mem_deref(d.dns);
	loop_free(d.loop);
	cfg_free(d.cfg);
	return err ? 1 : 0;
}
