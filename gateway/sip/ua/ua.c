/*
 * The UA object: transport and transaction wiring, next-hop selection and
 * the cache of DNS answers (client requests: creq.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "sip/auth/auth.h"
#include "sip/dns/dns.h"
#include "sip/ua/ua_int.h"

static void tp_recv(struct sip_msg *msg, void *arg)
{
	struct sip_ua *ua = arg;

	if (ua->tsx)
		sip_tsx_layer_recv(ua->tsx, msg);
}

static void tp_err(enum sip_transport t, const struct sa *dst, int err, void *arg)
{
	struct sip_ua *ua = arg;
	char buf[SA_STRLEN];

	LOGD(NULL, "ua: %s connection to %s failed: %d", sip_tp_name(t),
	     sa_str(dst, buf, sizeof(buf)), err);
	if (ua->tsx) /* requests waiting on that connection fail now, not at timer B/F */
		sip_tsx_layer_tp_err(ua->tsx, t, dst, err);
}

void sip_ua_token(char *buf, size_t n)
{
	static const char cs[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint8_t rnd[64];

	if (!n)
		return;
	if (n - 1 > sizeof(rnd))
		n = sizeof(rnd) + 1;
	arc4random_buf(rnd, n - 1);
	for (size_t i = 0; i + 1 < n; i++)
		buf[i] = cs[rnd[i] % 36];
	buf[n - 1] = '\0';
}

bool ua_method_allowed(const struct sip_ua *ua, enum sip_method m)
{
	if (m <= SIP_M_UNKNOWN || m >= SIP_M_COUNT)
		return false;
	if (ua->mh[m].h || m == SIP_M_OPTIONS)
		return true;
	switch (m) {
	case SIP_M_INVITE:
	case SIP_M_ACK:
	case SIP_M_BYE:
	case SIP_M_CANCEL:
	case SIP_M_PRACK:
	case SIP_M_UPDATE:
	case SIP_M_INFO:
		return ua->sessh != NULL;
	case SIP_M_REFER:
	case SIP_M_NOTIFY:
	case SIP_M_SUBSCRIBE:
		return ua->usageh != NULL;
	default:
		return false;
	}
}

static void build_allow(struct sip_ua *ua)
{
	size_t o = 0;

	ua->allow[0] = '\0';
	for (int m = 1; m < SIP_M_COUNT; m++) {
		if (!ua_method_allowed(ua, (enum sip_method)m))
			continue;
		o += snprintf(ua->allow + o, sizeof(ua->allow) - o, "%s%s", o ? ", " : "",
		              sip_method_name(m));
		if (o >= sizeof(ua->allow))
			break;
	}
}

static void ua_destroy(void *data)
{
	struct sip_ua *ua = data;

	ua_sess_free_all(ua);
	ua_creqs_free(ua);
	if (ua->tsx)
		sip_tsx_layer_free(ua->tsx);
	if (ua->tp)
		sip_tp_free(ua->tp);
	while (ua->creds) {
		struct ua_cred *c = ua->creds;
		ua->creds = c->next;
		mem_deref(c->realm);
		mem_deref(c->ac);
		mem_deref(c);
	}
	mem_deref(ua->domain);
	mem_deref(ua->user_agent);
}

static int ua_listen(struct sip_ua *ua, const struct sip_ua_config *cfg)
{
	for (unsigned i = 0; i < cfg->nlisten && i < SIP_UA_MAX_LISTEN; i++) {
		struct sa a = cfg->listen[i].addr;
		int err = sip_tp_listen(ua->tp, cfg->listen[i].tp, &a);
		if (err) {
			char buf[SA_STRLEN];
			LOGE(NULL, "ua: listen %s %s: %d", sip_tp_name(cfg->listen[i].tp),
			     sa_str(&a, buf, sizeof(buf)), err);
			return err;
		}
		ua->cfg.listen[i].addr = a;
	}
	return 0;
}

static void cfg_defaults(struct sip_ua *ua, const struct sip_ua_config *cfg)
{
	ua->cfg = *cfg;
	if (!ua->cfg.session_expires)
		ua->cfg.session_expires = 1800;
	if (!ua->cfg.min_se)
		ua->cfg.min_se = 90;
	if (!ua->cfg.t1_ms)
		ua->cfg.t1_ms = 500;
	if (!ua->cfg.t2_ms)
		ua->cfg.t2_ms = 4000;
	if (!ua->cfg.t4_ms)
		ua->cfg.t4_ms = 5000;
}

int sip_ua_alloc(struct sip_ua **uap, struct loop *loop, const struct sip_ua_config *cfg)
{
	struct sip_tp_config tpc = cfg ? cfg->tp : (struct sip_tp_config){0};
	struct sip_tsx_config tc = {0};
	struct sip_ua *ua;
	char dom[64];
	int err;

	if (!uap || !loop || !cfg)
		return EINVAL;
	ua = mem_zalloc(sizeof(*ua), ua_destroy);
	if (!ua)
		return ENOMEM;
	ua->loop = loop;
	cfg_defaults(ua, cfg);
	tpc.tls_cert = cfg->tls_cert;
	tpc.tls_key = cfg->tls_key;
	tpc.tls_ca = cfg->tls_ca;
	tpc.tls_verify_server = !cfg->tls_no_verify;
	if (!tpc.dscp)
		tpc.dscp = 24; /* CS3: signalling */
	err = sip_tp_alloc(&ua->tp, loop, &tpc, tp_recv, tp_err, ua);
	if (err)
		goto out;
	tc.t1_ms = ua->cfg.t1_ms;
	tc.t2_ms = ua->cfg.t2_ms;
	tc.t4_ms = ua->cfg.t4_ms;
	tc.max_tsx = cfg->max_tsx;
	err = sip_tsx_layer_alloc(&ua->tsx, loop, ua->tp, &tc, ua_tsx_req, ua);
	if (err)
		goto out;
	err = ua_listen(ua, cfg);
	if (err)
		goto out;
	if (cfg->domain) {
		ua->domain = mem_strndup(cfg->domain, strlen(cfg->domain));
	} else if (cfg->nlisten) {
		sa_ntop(&ua->cfg.listen[0].addr, dom, sizeof(dom));
		ua->domain = mem_strndup(dom, strlen(dom));
	} else {
		ua->domain = mem_strndup("localhost", 9);
	}
	ua->user_agent = mem_strndup(cfg->user_agent ? cfg->user_agent : "Tandem",
	                             strlen(cfg->user_agent ? cfg->user_agent : "Tandem"));
	if (!ua->domain || !ua->user_agent) {
		err = ENOMEM;
		goto out;
	}
	build_allow(ua);
	*uap = ua;
	return 0;
out:
	mem_deref(ua);
	return err;
}

void sip_ua_free(struct sip_ua *ua)
{
	mem_deref(ua);
}

int sip_ua_set_handler(struct sip_ua *ua, enum sip_method m, sip_ua_req_h *h, void *arg)
{
	if (!ua || m <= SIP_M_UNKNOWN || m >= SIP_M_COUNT)
		return EINVAL;
	switch (m) {
	case SIP_M_INVITE:
	case SIP_M_ACK:
	case SIP_M_CANCEL:
	case SIP_M_BYE:
	case SIP_M_PRACK:
	case SIP_M_UPDATE:
		return EINVAL;
	default:
		break;
	}
	ua->mh[m].h = h;
	ua->mh[m].arg = arg;
	build_allow(ua);
	return 0;
}

void sip_ua_set_sess_handler(struct sip_ua *ua, sip_sess_new_h *h, void *arg)
{
	ua->sessh = h;
	ua->sessarg = arg;
	build_allow(ua);
}

void sip_ua_set_usage_handler(struct sip_ua *ua, sip_ua_usage_h *h, void *arg)
{
	ua->usageh = h;
	ua->usagearg = arg;
	build_allow(ua);
}

int sip_ua_set_credentials(struct sip_ua *ua, const char *realm, const char *user,
                           const char *password)
{
	struct ua_cred *c;
	int err;

	if (!ua || !user || !password)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), NULL);
	if (!c)
		return ENOMEM;
	if (realm && !(c->realm = mem_strndup(realm, strlen(realm)))) {
		mem_deref(c);
		return ENOMEM;
	}
	err = sip_auth_client_alloc(&c->ac, user, password);
	if (err) {
		mem_deref(c->realm);
		mem_deref(c);
		return err;
	}
	c->next = ua->creds;
	ua->creds = c;
	return 0;
}

const char *sip_ua_allow(const struct sip_ua *ua)
{
	return ua->allow;
}

const char *sip_ua_domain(const struct sip_ua *ua)
{
	return ua->domain;
}

uint32_t sip_ua_t1(const struct sip_ua *ua)
{
	return ua->cfg.t1_ms;
}

struct sip_tp *sip_ua_tp(struct sip_ua *ua)
{
	return ua->tp;
}

struct sip_tsx_layer *sip_ua_tsx(struct sip_ua *ua)
{
	return ua->tsx;
}

struct loop *sip_ua_loop(struct sip_ua *ua)
{
	return ua->loop;
}

int sip_ua_local(struct sip_ua *ua, enum sip_transport t, int af, struct sa *local)
{
	return sip_tp_local(ua->tp, t, af, local);
}

void sip_ua_stats(const struct sip_ua *ua, struct sip_ua_stats *st)
{
	*st = ua->st;
}

int ua_contact(struct sip_ua *ua, enum sip_transport t, int af, char *buf, size_t n)
{
	struct sa local;
	char hp[SA_STRLEN];
	int err;

	err = sip_tp_local(ua->tp, t, af, &local);
	if (err)
		return err;
	sa_str(&local, hp, sizeof(hp));
	if (t == SIP_TP_TCP)
		snprintf(buf, n, "sip:%s;transport=tcp", hp);
	else if (t == SIP_TP_TLS)
		snprintf(buf, n, "sip:%s;transport=tls", hp);
	else
		snprintf(buf, n, "sip:%s", hp);
	return 0;
}

/* ---- next hop (RFC 3263 §4.1/4.2 without DNS lookups) ---- */

int sip_hop_from_uri(struct sip_hop *hop, struct sip_ua *ua, struct pl uri)
{
	struct sip_uri u;
	struct pl v;
	int err;

	err = sip_uri_decode(&u, uri);
	if (err)
		return err;
	if (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS)
		return EPROTONOSUPPORT;
	memset(hop, 0, sizeof(*hop));
	hop->secure = u.scheme == SIP_URI_SIPS;
	hop->tp = hop->secure ? SIP_TP_TLS : SIP_TP_UDP;
	hop->tp_explicit = hop->secure;
	if (sip_uri_param(&u, "transport", &v)) {
		enum sip_transport t = sip_tp_lookup(v);
		if (t == SIP_TP_NONE)
			return EPROTONOSUPPORT;
		if (!(hop->secure && t == SIP_TP_TCP))
			hop->tp = t;
		hop->tp_explicit = true;
	}
	hop->host = u.host;
	if (sip_uri_param(&u, "maddr", &v) && v.l)
		hop->host = v;
	hop->port = u.has_port ? u.port : 0;
	if (sa_is_ip_literal(hop->host)) {
		uint16_t port = hop->port ? hop->port : (hop->tp == SIP_TP_TLS ? 5061 : 5060);
		return sa_set(&hop->addr, hop->host, port);
	}
	if (ua && ua->cfg.resolve)
		return ua->cfg.resolve(hop->host, hop->port, hop->tp, &hop->addr,
		                       ua->cfg.resolve_arg);
	if (ua && ua_dns_cache_get(ua, hop))
		return 0;
	return EHOSTUNREACH;
}

/* ---- the next-hop cache of DNS answers ---- */

#define DNS_CACHE_MS 60000

static bool dns_entry_is(const struct ua_dns_entry *d, const struct sip_hop *hop)
{
	enum sip_transport asked = hop->tp_explicit ? hop->tp : SIP_TP_NONE;

	return d->expires && pl_caseeq_str(hop->host, d->host) && d->port == hop->port &&
	       d->tp == asked && d->secure == hop->secure;
}

static struct ua_dns_entry *dns_cache_find(struct sip_ua *ua, const struct sip_hop *hop)
{
	uint64_t now = loop_now(ua->loop);

	for (size_t i = 0; i < ARRAY_SIZE(ua->dns_cache); i++) {
		struct ua_dns_entry *d = &ua->dns_cache[i];
		if (dns_entry_is(d, hop) && d->expires > now && d->nalt)
			return d;
	}
	return NULL;
}

bool ua_dns_cache_get(struct sip_ua *ua, struct sip_hop *hop)
{
	struct ua_dns_entry *d = dns_cache_find(ua, hop);

	if (!d)
		return false;
	hop->addr = d->alt[0].addr;
	hop->tp = d->alt[0].tp;
	return true;
}

unsigned ua_dns_cache_targets(struct sip_ua *ua, const struct sip_hop *hop, struct ua_target *v,
                              unsigned max)
{
	struct ua_dns_entry *d = dns_cache_find(ua, hop);
	unsigned n = 0;

	for (; d && n < d->nalt && n < max; n++)
		v[n] = d->alt[n];
	return n;
}

void ua_dns_cache_put(struct sip_ua *ua, const struct sip_hop *asked,
                      const struct sip_dns_target *v, size_t n)
{
	struct ua_dns_entry *d = NULL;

	if (asked->host.l >= sizeof(d->host) || !n)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(ua->dns_cache) && !d; i++)
		if (dns_entry_is(&ua->dns_cache[i], asked))
			d = &ua->dns_cache[i];
	if (!d)
		d = &ua->dns_cache[ua->dns_next++ % ARRAY_SIZE(ua->dns_cache)];
	pl_strcpy(asked->host, d->host, sizeof(d->host));
	d->port = asked->port;
	d->tp = asked->tp_explicit ? asked->tp : SIP_TP_NONE;
	d->secure = asked->secure;
	for (d->nalt = 0; d->nalt < n && d->nalt < UA_MAX_TARGETS; d->nalt++) {
		d->alt[d->nalt].addr = v[d->nalt].addr;
		d->alt[d->nalt].tp = v[d->nalt].tp;
	}
	d->expires = loop_now(ua->loop) + DNS_CACHE_MS;
}

int ua_dns_start(struct sip_ua *ua, struct sip_hop *hop, char *hostbuf, size_t hostsize,
                 void (*h)(int err, const struct sip_dns_target *v, size_t n, void *arg), void *arg,
                 struct sip_dns_query **qp)
{
	if (!ua->cfg.dns)
		return EHOSTUNREACH;
	if (hop->host.l >= hostsize)
		return ENAMETOOLONG;
	/* the query outlives the dialog's strings the hop points into */
	pl_strcpy(hop->host, hostbuf, hostsize);
	hop->host = pl_make(hostbuf, strlen(hostbuf));
	return sip_dns_resolve(ua->cfg.dns, hop->host, hop->port,
	                       hop->tp_explicit ? hop->tp : SIP_TP_NONE, hop->secure, h, arg, qp);
}
