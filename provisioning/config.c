#include "provisioning/config.h"
#include "provisioning/cfg_int.h"
#include "provisioning/ycfg.h"

#include "core/err.h"
#include "core/log.h"
#include "sip/transport/tp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int cfg_parse_listen(const char *s, struct cfg_listen *out)
{
	const char *c = strchr(s, ':');
	struct cfg_listen l;
	uint16_t defport;
	struct pl rest;

	memset(&l, 0, sizeof(l));
	if (!c)
		return EINVAL;
	l.tp = sip_tp_lookup(pl_make(s, (size_t)(c - s)));
	if (l.tp == SIP_TP_NONE)
		return EINVAL;
	defport = l.tp == SIP_TP_TLS ? 5061 : 5060;
	rest = pl_make(c + 1, strlen(c + 1));
	if (sa_decode(&l.addr, rest, defport))
		return EINVAL;
	snprintf(l.text, sizeof(l.text), "%s", s);
	*out = l;
	return 0;
}

static int load_log(struct ycfg *y, yaml_node_t *n, struct cfg_log *log)
{
	static const char *const keys[] = { "level", "syslog", NULL };
	yaml_node_t *v;
	const char *s;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "level"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		log->level = log_level_parse(s);
		if (log->level < 0)
			return ycfg_error(y, v, "log level must be debug, info, notice, warning or error");
	}
	if ((v = ycfg_get(y, n, "syslog")) && ycfg_bool(y, v, &log->syslog))
		return EINVAL;
	return 0;
}

static int load_listen(struct ycfg *y, yaml_node_t *n, struct cfg_sip *sip)
{
	size_t cnt;

	if (ycfg_seq_len(y, n, &cnt))
		return EINVAL;
	if (cnt > CFG_MAX_LISTEN)
		return ycfg_error(y, n, "at most %d listeners", CFG_MAX_LISTEN);
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = ycfg_seq_item(y, n, i);
		const char *s;

		if (ycfg_str(y, it, &s))
			return EINVAL;
		if (cfg_parse_listen(s, &sip->listen[i]))
			return ycfg_error(y, it,
					  "listener '%s' is not TRANSPORT:ADDRESS[:PORT] "
					  "(udp, tcp or tls; IPv6 in brackets)",
					  s);
		for (size_t j = 0; j < i; j++)
			if (sip->listen[j].tp == sip->listen[i].tp &&
			    sa_eq(&sip->listen[j].addr, &sip->listen[i].addr))
				return ycfg_error(y, it, "listener '%s' given twice", s);
	}
	sip->nlisten = (unsigned)cnt;
	return 0;
}

static int load_tls(struct ycfg *y, yaml_node_t *n, struct cfg_sip *sip)
{
	static const char *const keys[] = { "cert", "key", "ca", "verify_server",
					    "verify_client", NULL };
	const char *s;
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "cert"))) {
		if (ycfg_str(y, v, &s) || !(sip->tls_cert = strdup(s)))
			return EINVAL;
	}
	if ((v = ycfg_get(y, n, "key"))) {
		if (ycfg_str(y, v, &s) || !(sip->tls_key = strdup(s)))
			return EINVAL;
	}
	if ((v = ycfg_get(y, n, "ca"))) {
		if (ycfg_str(y, v, &s) || !(sip->tls_ca = strdup(s)))
			return EINVAL;
	}
	if ((v = ycfg_get(y, n, "verify_server")) && ycfg_bool(y, v, &sip->tls_verify_server))
		return EINVAL;
	if ((v = ycfg_get(y, n, "verify_client")) && ycfg_bool(y, v, &sip->tls_verify_client))
		return EINVAL;
	if (!!sip->tls_cert != !!sip->tls_key)
		return ycfg_error(y, n, "tls needs both cert and key");
	return 0;
}

static int load_timers(struct ycfg *y, yaml_node_t *n, struct cfg_sip *sip)
{
	static const char *const keys[] = { "t1", "t2", "t4", NULL };
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "t1")) && ycfg_u32(y, v, 50, 10000, &sip->t1_ms))
		return EINVAL;
	if ((v = ycfg_get(y, n, "t2")) && ycfg_u32(y, v, 100, 64000, &sip->t2_ms))
		return EINVAL;
	if ((v = ycfg_get(y, n, "t4")) && ycfg_u32(y, v, 100, 64000, &sip->t4_ms))
		return EINVAL;
	if (sip->t2_ms < sip->t1_ms)
		return ycfg_error(y, n, "t2 (%u ms) must not be shorter than t1 (%u ms)",
				  sip->t2_ms, sip->t1_ms);
	return 0;
}

static int load_limits(struct ycfg *y, yaml_node_t *n, struct cfg_sip *sip)
{
	static const char *const keys[] = { "max_message", "max_connections", "idle_timeout",
					    "max_transactions", NULL };
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "max_message")) && ycfg_u32(y, v, 1500, 262144, &sip->max_message))
		return EINVAL;
	if ((v = ycfg_get(y, n, "max_connections")) &&
	    ycfg_u32(y, v, 1, 100000, &sip->max_connections))
		return EINVAL;
	if ((v = ycfg_get(y, n, "idle_timeout")) && ycfg_u32(y, v, 1, 86400, &sip->idle_timeout_s))
		return EINVAL;
	if ((v = ycfg_get(y, n, "max_transactions")) &&
	    ycfg_u32(y, v, 1, 1000000, &sip->max_transactions))
		return EINVAL;
	return 0;
}

/* session_timer: { enabled: true, expires: 1800, min_se: 90 } (RFC 4028, seconds) */
static int load_session_timer(struct ycfg *y, yaml_node_t *n, struct cfg_sip *sip)
{
	static const char *const keys[] = { "enabled", "expires", "min_se", NULL };
	yaml_node_t *v, *ve;
	bool on = true;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "enabled")) && ycfg_bool(y, v, &on))
		return EINVAL;
	sip->no_session_timer = !on;
	if ((v = ycfg_get(y, n, "min_se"))) {
		if (ycfg_u32(y, v, 0, 86400, &sip->min_se))
			return EINVAL;
		if (sip->min_se < 90) /* §5: Min-SE MUST NOT be less than 90 seconds */
			return ycfg_error(y, v, "min_se %u: RFC 4028 allows no less than 90 s",
					  sip->min_se);
	}
	if ((ve = ycfg_get(y, n, "expires")) && ycfg_u32(y, ve, 1, 86400, &sip->session_expires))
		return EINVAL;
	if (sip->session_expires < sip->min_se)
		return ycfg_error(y, ve ? ve : n, "expires (%u s) must not be below min_se (%u s)",
				  sip->session_expires, sip->min_se);
	return 0;
}

static int load_sip(struct ycfg *y, yaml_node_t *n, struct cfg_sip *sip)
{
	static const char *const keys[] = { "domain", "user_agent", "listen", "tls",
					    "timers", "limits", "dscp", "session_timer", NULL };
	yaml_node_t *v;
	const char *s;
	uint32_t u;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "domain"))) {
		if (ycfg_str(y, v, &s) || !(sip->domain = strdup(s)))
			return EINVAL;
	}
	if ((v = ycfg_get(y, n, "user_agent"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		free(sip->user_agent);
		if (!(sip->user_agent = strdup(s)))
			return ENOMEM;
	}
	if ((v = ycfg_get(y, n, "listen")) && load_listen(y, v, sip))
		return EINVAL;
	if ((v = ycfg_get(y, n, "tls")) && load_tls(y, v, sip))
		return EINVAL;
	if ((v = ycfg_get(y, n, "timers")) && load_timers(y, v, sip))
		return EINVAL;
	if ((v = ycfg_get(y, n, "limits")) && load_limits(y, v, sip))
		return EINVAL;
	if ((v = ycfg_get(y, n, "session_timer")) && load_session_timer(y, v, sip))
		return EINVAL;
	if ((v = ycfg_get(y, n, "dscp"))) {
		if (ycfg_u32(y, v, 0, 63, &u))
			return EINVAL;
		sip->dscp = (int)u;
	}
	for (unsigned i = 0; i < sip->nlisten; i++)
		if (sip->listen[i].tp == SIP_TP_TLS && !sip->tls_cert)
			return ycfg_error(y, v ? v : n, "a tls listener needs sip.tls.cert and key");
	return 0;
}

static void set_defaults(struct tandem_config *cfg)
{
	struct cfg_sip *sip = &cfg->sip;

	cfg->log.level = LOG_LVL_INFO;
	sip->t1_ms = 500;
	sip->t2_ms = 4000;
	sip->t4_ms = 5000;
	sip->max_message = 65535;
	sip->max_connections = 1024;
	sip->idle_timeout_s = 300;
	sip->max_transactions = 10000;
	sip->dscp = 24; /* CS3, as networks that carry voice signalling expect */
	sip->session_expires = 1800; /* RFC 4028 §4's recommendation */
	sip->min_se = 90;
	cfg_media_default(&cfg->media);
	sip->tls_verify_server = true;
	cfg_numbering_default(&cfg->numbering);
}

static int load_doc(struct ycfg *y, struct tandem_config *cfg)
{
	/* media: owned by the media work (codecs, jitter buffer, DTMF, SRTP); not read yet. */
	static const char *const keys[] = { "log", "sip", "numbering", "spans", "users",
					    "trunks", "registrar", "routes", "causes",
					    "ctl", "metrics", "cdr", "media", NULL };
	yaml_node_t *root = ycfg_root(y), *v;
	struct cfg_listen *l;

	if (ycfg_map_check(y, root, keys))
		return EINVAL;
	if ((v = ycfg_get(y, root, "log")) && load_log(y, v, &cfg->log))
		return EINVAL;
	v = ycfg_get(y, root, "sip");
	if (!v)
		return ycfg_error(y, root, "missing section 'sip'");
	if (load_sip(y, v, &cfg->sip))
		return EINVAL;
	if ((v = ycfg_get(y, root, "numbering")) && cfg_load_numbering(y, v, &cfg->numbering))
		return EINVAL;
	if ((v = ycfg_get(y, root, "spans")) && cfg_load_spans(y, v, cfg))
		return EINVAL;
	if ((v = ycfg_get(y, root, "users")) && cfg_load_users(y, v, cfg))
		return EINVAL;
	if ((v = ycfg_get(y, root, "trunks")) && cfg_load_trunks(y, v, cfg))
		return EINVAL;
	if ((v = ycfg_get(y, root, "registrar")) && cfg_load_registrar(y, v, &cfg->registrar))
		return EINVAL;
	if ((v = ycfg_get(y, root, "routes")) && cfg_load_routes(y, v, cfg))
		return EINVAL;
	if ((v = ycfg_get(y, root, "causes")) && cfg_load_causes(y, v, &cfg->causes))
		return EINVAL;
	if ((v = ycfg_get(y, root, "ctl")) && cfg_load_ctl(y, v, &cfg->ctl))
		return EINVAL;
	if ((v = ycfg_get(y, root, "metrics")) && cfg_load_metrics(y, v, &cfg->metrics))
		return EINVAL;
	if ((v = ycfg_get(y, root, "cdr")) && cfg_load_cdr(y, v, &cfg->cdr))
		return EINVAL;
	if ((v = ycfg_get(y, root, "media")) && cfg_load_media(y, v, &cfg->media))
		return EINVAL;
	if (!cfg->registrar.db && !(cfg->registrar.db = strdup(":memory:")))
		return ENOMEM;
	if (!cfg->sip.user_agent && !(cfg->sip.user_agent = strdup("Tandem")))
		return ENOMEM;
	if (!cfg->sip.nlisten) {
		/* RFC 3261 §18: every element must implement UDP and TCP. */
		l = cfg->sip.listen;
		if (cfg_parse_listen("udp:0.0.0.0:5060", &l[0]) ||
		    cfg_parse_listen("tcp:0.0.0.0:5060", &l[1]))
			return EINVAL;
		cfg->sip.nlisten = 2;
	}
	return 0;
}

static int finish(struct ycfg *y, struct tandem_config **cfgp, const char *path, char *errbuf,
		  size_t errlen)
{
	struct tandem_config *cfg = calloc(1, sizeof(*cfg));
	int err = y->failed;

	if (!err && !cfg)
		err = ENOMEM;
	if (!err) {
		set_defaults(cfg);
		cfg->path = dup_or_null(path);
		err = load_doc(y, cfg);
	}
	if (err) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s",
				 y->err[0] ? y->err : "out of memory loading configuration");
		cfg_free(cfg);
	} else {
		*cfgp = cfg;
	}
	ycfg_close(y);
	return err;
}

int cfg_load(struct tandem_config **cfgp, const char *path, char *errbuf, size_t errlen)
{
	struct ycfg y;

	ycfg_open(&y, path);
	return finish(&y, cfgp, path, errbuf, errlen);
}

int cfg_load_string(struct tandem_config **cfgp, const char *name, const char *text,
		    char *errbuf, size_t errlen)
{
	struct ycfg y;

	ycfg_open_string(&y, name, text, strlen(text));
	return finish(&y, cfgp, name, errbuf, errlen);
}

void cfg_free(struct tandem_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->sip.domain);
	free(cfg->sip.user_agent);
	free(cfg->sip.tls_cert);
	free(cfg->sip.tls_key);
	free(cfg->sip.tls_ca);
	cfg_free_users(cfg);
	cfg_free_trunks(cfg);
	free(cfg->registrar.db);
	cfg_free_routes(cfg);
	cfg_free_ops(cfg);
	free(cfg);
}
