/*
 * tandemd: the Tandem gateway daemon.
 *
 * Today it serves the SIP side: it loads the YAML file, listens on the
 * configured transports, answers OPTIONS (Allow, Accept, Supported) and every
 * request with an honest status. Call control is not built yet, so an INVITE
 * gets 503 Service Unavailable with Retry-After; methods the UA does not offer
 * get 405 with Allow, unknown ones 501 (see sip/ua).
 *
 * Signals: SIGTERM/SIGINT stop; SIGHUP re-reads the file and applies the log
 * level (other changes need a restart until reload lands, and it says so).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/loop.h"
#include "provisioning/config.h"
#include "sip/dns/dns.h"
#include "sip/ua/ua.h"

#define RETRY_AFTER_STR "300"

struct tandemd {
	struct loop *loop;
	struct sip_ua *ua;
	struct sip_dns *dns;
	struct tandem_config *cfg;
	const char *cfg_path;
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
	LOGN(ctx, "INVITE %.*s: call control is not built yet, answering 503",
	     PL_ARG(invite->ruri_pl));
	sip_sess_reject(sess, 503, "Service Unavailable",
			"Retry-After: " RETRY_AFTER_STR "\r\n"
			"Warning: 399 tandem \"Call control not available yet\"\r\n");
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
	char err[512];
	(void)signo;

	if (cfg_load(&cfg, d->cfg_path, err, sizeof(err))) {
		LOGE(NULL, "reload refused, keeping the running configuration: %s", err);
		return;
	}
	log_set_level((enum log_level)cfg->log.level);
	LOGN(NULL, "reload: %s is valid; log level applied, other changes need a restart "
		   "(live reload is not built yet)",
	     d->cfg_path);
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
	sip_ua_set_sess_handler(d->ua, on_invite, d);
	for (unsigned i = 0; i < uc.nlisten; i++)
		off += (size_t)snprintf(listening + off, off < sizeof(listening) ?
				sizeof(listening) - off : 0, " %s:%s",
				sip_tp_name(uc.listen[i].tp), sa_str(&uc.listen[i].addr, a, sizeof(a)));
	LOGN(NULL, "tandemd ready, SIP on%s", listening);
	return 0;
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
		err = loop_run(d.loop);
	if (err)
		LOGE(NULL, "cannot run: %s", strerror(err));
	sip_ua_free(d.ua);
	mem_deref(d.dns);
	loop_free(d.loop);
	cfg_free(d.cfg);
	return err ? 1 : 0;
}
