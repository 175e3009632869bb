/*
 * RFC 3263 server location on c-ares. Why it looks like this:
 * - c-ares sockets and its timeout are driven by our loop (ARES_OPT_SOCK_STATE_CB
 *   plus one timer re-armed from ares_timeout() after every c-ares call).
 * - c-ares 1.18 (Debian 12) has no per-query cancel, so each request carries a
 *   small context (struct req) that a cancelled query detaches from; the c-ares
 *   callback then just frees it. ares_destroy() calls every callback, so
 *   nothing leaks when the resolver goes away with queries outstanding.
 * - Lookups of one phase run in parallel; a pending count says when a phase is
 *   over. The result list is then assembled in RFC order from the tree
 *   NAPTR/SRV set -> SRV record -> addresses, so parallelism never changes order.
 * - Results are delivered from a deferred call, never from inside c-ares or
 *   sip_dns_resolve(), so a handler may do anything, including free the resolver.
 */
#include "sip/dns/dns.h"
#include "sip/dns/rr.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MAX_SETS 8 /* NAPTR records (or SRV services) followed */
#define MAX_RECS 8 /* SRV records followed per set */
#define MAX_NAME 254

enum phase {
	PH_NAPTR, /* NAPTR lookup of the host */
	PH_SRV,   /* SRV lookups of NAPTR replacements, then their addresses */
	PH_PROBE, /* no usable NAPTR: SRV for each service we can use */
	PH_ADDR,  /* A/AAAA of the host itself */
};

struct srvrec {
	char *target; /* mem */
	uint16_t port;
	struct sa *addrs; /* mem array */
	unsigned naddr;
};

struct srvset {
	enum sip_transport tp;
	char *name;          /* mem: the SRV owner name */
	struct srvrec *recs; /* mem array */
	unsigned nrec;
};

struct req {
	struct req *prev, *next;
	struct sip_dns_query *q; /* NULL once the query is gone */
	unsigned set, rec;
};

struct sip_dns {
	struct loop *loop;
	ares_channel ch;
	bool ch_ok;
	bool lib_ok;
	struct tmr tmr;
	struct sip_dns_query *queries;
	uint64_t rng;
};

struct sip_dns_query {
	struct sip_dns_query *prev, *next;
	struct sip_dns *dns; /* NULL once unlinked */
	sip_dns_h *h;
	void *arg;
	char *host; /* mem */
	uint16_t port;
	enum sip_transport tp; /* explicit transport (sips applied), or NONE */
	bool secure;
	enum phase phase;
	struct srvset sets[MAX_SETS];
	unsigned nset;
	bool srv_seen; /* some SRV record existed: no A fallback (RFC 3263 §4.2) */
	struct req *reqs;
	unsigned pending;
	int err;
	struct loop_defer defer;
	struct sip_dns_target res[SIP_DNS_MAX_TARGETS];
	size_t nres;
	bool in_handler;
};

/* Services probed without NAPTR (RFC 3263 §4.1), in our order of preference. */
static const struct {
	enum sip_transport tp;
	const char *prefix;
} probe_services[] = {
	{ SIP_TP_TLS, "_sips._tcp." },
	{ SIP_TP_TCP, "_sip._tcp." },
	{ SIP_TP_UDP, "_sip._udp." },
};

static void timer_update(struct sip_dns *dns);
static void phase_done(struct sip_dns_query *q);

/* ---- errors ---- */

static int ares_err(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
	case ARES_ENONAME:
		return ENOENT;
	case ARES_ETIMEOUT:
		return ETIMEDOUT;
	case ARES_ECONNREFUSED:
		return ECONNREFUSED;
	case ARES_ENOMEM:
		return ENOMEM;
	case ARES_EBADNAME:
		return EINVAL;
	case ARES_EFORMERR:
	case ARES_EBADRESP:
		return EBADMSG;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return ECANCELED;
	default:
		return EIO;
	}
}

/* Which error to report when several lookups failed: the most telling one. */
static int err_rank(int err)
{
	switch (err) {
	case 0:
		return 0;
	case ENOENT:
		return 1;
	case ETIMEDOUT:
		return 4;
	case ECONNREFUSED:
		return 3;
	default:
		return 2;
	}
}

static void note_err(struct sip_dns_query *q, int err)
{
	if (err_rank(err) > err_rank(q->err))
		q->err = err;
}

/* The DNS server itself is unusable: falling back would only wait again. */
static bool err_fatal(int err)
{
	return err == ETIMEDOUT || err == ECONNREFUSED || err == ENOMEM;
}

/* ---- c-ares on the loop ---- */

static void on_fd(int fd, unsigned events, void *arg)
{
	struct sip_dns *dns = arg;
	ares_socket_t r = (events & (LOOP_READ | LOOP_ERROR)) ? fd : ARES_SOCKET_BAD;
	ares_socket_t w = (events & LOOP_WRITE) ? fd : ARES_SOCKET_BAD;

	ares_process_fd(dns->ch, r, w);
	timer_update(dns);
}

static void on_timer(void *arg)
{
	struct sip_dns *dns = arg;

	ares_process_fd(dns->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	timer_update(dns);
}

static void timer_update(struct sip_dns *dns)
{
	struct timeval tv, *tvp = ares_timeout(dns->ch, NULL, &tv);
	uint64_t ms;

	if (!tvp) {
		tmr_cancel(&dns->tmr);
		return;
	}
	ms = (uint64_t)tvp->tv_sec * 1000 + ((uint64_t)tvp->tv_usec + 999) / 1000;
	if (tmr_start(dns->loop, &dns->tmr, ms, on_timer, dns))
		LOGE(NULL, "dns: cannot arm timer: queries may hang until the next answer");
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct sip_dns *dns = data;
	unsigned ev = (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0);
	int err;

	if (!ev) {
		loop_fd_forget(dns->loop, fd);
		return;
	}
	err = loop_fd_listen(dns->loop, fd, ev, on_fd, dns);
	if (err)
		LOGE(NULL, "dns: cannot watch socket %d: %s", fd, strerror(err));
}

/* ---- queries ---- */

static void set_clear(struct srvset *s)
{
	for (unsigned i = 0; i < s->nrec; i++) {
		mem_deref(s->recs[i].target);
		mem_deref(s->recs[i].addrs);
	}
	mem_deref(s->recs);
	mem_deref(s->name);
	memset(s, 0, sizeof(*s));
}

static void sets_clear(struct sip_dns_query *q)
{
	for (unsigned i = 0; i < q->nset; i++)
		set_clear(&q->sets[i]);
	q->nset = 0;
}

static void query_unlink(struct sip_dns_query *q)
{
	struct sip_dns *dns = q->dns;

	if (!dns)
		return;
	if (q->prev)
		q->prev->next = q->next;
	else
		dns->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	loop_defer_cancel(dns->loop, &q->defer);
	q->dns = NULL;
}

static void query_destroy(void *data)
{
	struct sip_dns_query *q = data;

	query_unlink(q);
	/* Outstanding c-ares requests free their context when they complete. */
	for (struct req *r = q->reqs; r; r = r->next)
		r->q = NULL;
	sets_clear(q);
	mem_deref(q->host);
}

static struct req *req_new(struct sip_dns_query *q, unsigned set, unsigned rec)
{
	struct req *r = mem_zalloc(sizeof(*r), NULL);

	if (!r) {
		note_err(q, ENOMEM);
		return NULL;
	}
	r->q = q;
	r->set = set;
	r->rec = rec;
	r->next = q->reqs;
	if (q->reqs)
		q->reqs->prev = r;
	q->reqs = r;
	q->pending++;
	return r;
}

/* Detaches r from its query; returns the query (NULL if it is gone) and frees r. */
static struct sip_dns_query *req_end(struct req *r)
{
	struct sip_dns_query *q = r->q;

	if (q) {
		if (r->prev)
			r->prev->next = r->next;
		else
			q->reqs = r->next;
		if (r->next)
			r->next->prev = r->prev;
	}
	mem_deref(r);
	return q;
}

static void req_finished(struct sip_dns_query *q)
{
	if (--q->pending == 0)
		phase_done(q);
}

static void deliver(void *arg)
{
	struct sip_dns_query *q = arg;

	query_unlink(q);
	q->in_handler = true;
	q->h(q->nres ? 0 : (q->err ? q->err : ENOENT), q->res, q->nres, q->arg);
	mem_deref(q);
}

static void add_target(struct sip_dns_query *q, const struct sa *sa, enum sip_transport tp)
{
	if (q->nres >= SIP_DNS_MAX_TARGETS)
		return;
	for (size_t i = 0; i < q->nres; i++) {
		if (q->res[i].tp == tp && sa_eq(&q->res[i].addr, sa))
			return;
	}
	q->res[q->nres].addr = *sa;
	q->res[q->nres].tp = tp;
	q->nres++;
}

static void finish(struct sip_dns_query *q)
{
	for (unsigned i = 0; i < q->nset; i++) {
		const struct srvset *s = &q->sets[i];

		for (unsigned j = 0; j < s->nrec; j++) {
			for (unsigned k = 0; k < s->recs[j].naddr; k++)
				add_target(q, &s->recs[j].addrs[k], s->tp);
		}
	}
	LOGD(NULL, "dns: %s: %zu targets (err %d)", q->host, q->nres, q->err);
	loop_defer(q->dns->loop, &q->defer, deliver, q);
}


static enum sip_transport tp_default(enum sip_transport tp, bool secure)
{
	if (tp != SIP_TP_NONE)
		return tp;
	return secure ? SIP_TP_TLS : SIP_TP_UDP;
}

/* ---- A/AAAA ---- */

static int addrs_store(struct srvrec *rec, const struct ares_addrinfo *ai)
{
	const struct ares_addrinfo_node *nd;
	unsigned n = 0;
	struct sa *v;

	for (nd = ai ? ai->nodes : NULL; nd && n < SIP_DNS_MAX_TARGETS; nd = nd->ai_next) {
		if (nd->ai_family == AF_INET || nd->ai_family == AF_INET6)
			n++;
	}
	if (!n)
		return ENOENT;
	v = mem_zalloc(n * sizeof(*v), NULL);
	if (!v)
		return ENOMEM;
	n = 0;
	for (nd = ai->nodes; nd && n < SIP_DNS_MAX_TARGETS; nd = nd->ai_next) {
		if (nd->ai_family == AF_INET && nd->ai_addrlen >= sizeof(v[n].u.in)) {
			memcpy(&v[n].u.in, nd->ai_addr, sizeof(v[n].u.in));
			v[n].len = sizeof(v[n].u.in);
		} else if (nd->ai_family == AF_INET6 && nd->ai_addrlen >= sizeof(v[n].u.in6)) {
			memcpy(&v[n].u.in6, nd->ai_addr, sizeof(v[n].u.in6));
			v[n].len = sizeof(v[n].u.in6);
		} else {
			continue;
		}
		sa_set_port(&v[n], rec->port);
		n++;
	}
	rec->addrs = v;
	rec->naddr = n;
	return 0;
}

static void on_addr(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct req *r = arg;
	unsigned set = r->set, idx = r->rec;
	struct sip_dns_query *q = req_end(r);
	int err = ares_err(status);

	(void)timeouts;
	if (!q)
		goto out;
	if (!err)
		err = addrs_store(&q->sets[set].recs[idx], ai);
	if (err) {
		LOGD(NULL, "dns: A/AAAA %s: %s", q->sets[set].recs[idx].target, strerror(err));
		note_err(q, err);
	}
	req_finished(q);
out:
	if (ai)
		ares_freeaddrinfo(ai);
}

static void addr_lookup(struct sip_dns_query *q, unsigned set, unsigned idx)
{
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC };
	struct req *r = req_new(q, set, idx);

	if (r)
		ares_getaddrinfo(q->dns->ch, q->sets[set].recs[idx].target, NULL, &hints, on_addr,
				 r);
}

/* The host's own addresses at a fixed port: the end of every fallback. */
static void addr_start(struct sip_dns_query *q, enum sip_transport tp, uint16_t port)
{
	struct srvset *s = &q->sets[0];

	sets_clear(q);
	q->phase = PH_ADDR;
	q->err = 0;
	s->tp = tp;
	s->recs = mem_zalloc(sizeof(*s->recs), NULL);
	if (!s->recs) {
		note_err(q, ENOMEM);
		return;
	}
	q->nset = 1;
	s->nrec = 1;
	s->recs[0].port = port;
	s->recs[0].target = mem_strndup(q->host, strlen(q->host));
	if (!s->recs[0].target) {
		note_err(q, ENOMEM);
		return;
	}
	addr_lookup(q, 0, 0);
}

/* ---- SRV ---- */

static int srv_store(struct sip_dns_query *q, unsigned set, const struct ares_srv_reply *srv)
{
	struct sip_dns_srv v[32];
	struct srvset *s = &q->sets[set];
	size_t n = 0;

	for (; srv && n < ARRAY_SIZE(v); srv = srv->next) {
		q->srv_seen = true;
		/* Target "." (RFC 2782): the service is decidedly not offered here. */
		if (!srv->host || !srv->host[0] || !strcmp(srv->host, "."))
			continue;
		v[n++] = (struct sip_dns_srv){ srv->priority, srv->weight, srv->port, srv->host };
	}
	if (!n)
		return ENOENT;
	sip_dns_srv_order(v, n, &q->dns->rng);
	if (n > MAX_RECS)
		n = MAX_RECS;
	s->recs = mem_zalloc(n * sizeof(*s->recs), NULL);
	if (!s->recs)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->recs[i].target = mem_strndup(v[i].target, strlen(v[i].target));
		if (!s->recs[i].target)
			return ENOMEM;
		s->recs[i].port = v[i].port;
		s->nrec++;
	}
	return 0;
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct req *r = arg;
	unsigned set = r->set;
	struct sip_dns_query *q = req_end(r);
	struct ares_srv_reply *srv = NULL;
	int err = ares_err(status);

	(void)timeouts;
	if (!q)
		return;
	if (!err)
		err = ares_err(ares_parse_srv_reply(abuf, alen, &srv));
	if (!err)
		err = srv_store(q, set, srv);
	if (srv)
		ares_free_data(srv);
	if (err) {
		LOGD(NULL, "dns: SRV %s: %s", q->sets[set].name, strerror(err));
		note_err(q, err);
	}
	for (unsigned i = 0; i < q->sets[set].nrec; i++)
		addr_lookup(q, set, i);
	req_finished(q);
}

static void srv_lookup(struct sip_dns_query *q, unsigned set)
{
	struct req *r = req_new(q, set, 0);

	if (r)
		ares_query(q->dns->ch, q->sets[set].name, ns_c_in, ns_t_srv, on_srv, r);
}

/* No usable NAPTR (or a transport was given): SRV for each service we may use. */
static void probe_start(struct sip_dns_query *q)
{
	char name[sizeof("_sips._tcp.") + MAX_NAME];

	sets_clear(q);
	q->phase = PH_PROBE;
	q->err = 0;
	for (size_t i = 0; i < ARRAY_SIZE(probe_services); i++) {
		enum sip_transport tp = probe_services[i].tp;
		struct srvset *s = &q->sets[q->nset];

		if ((q->secure && tp != SIP_TP_TLS) || (q->tp && tp != q->tp))
			continue;
		snprintf(name, sizeof(name), "%s%s", probe_services[i].prefix, q->host);
		s->name = mem_strndup(name, strlen(name));
		if (!s->name) {
			note_err(q, ENOMEM);
			continue;
		}
		s->tp = tp;
		q->nset++;
	}
	for (unsigned i = 0; i < q->nset; i++)
		srv_lookup(q, i);
}

/* ---- NAPTR ---- */

static int naptr_store(struct sip_dns_query *q, const struct ares_naptr_reply *nr)
{
	struct sip_dns_naptr v[32];
	size_t n = 0;

	for (; nr && n < ARRAY_SIZE(v); nr = nr->next) {
		enum sip_transport tp =
			sip_dns_naptr_tp((const char *)nr->service, (const char *)nr->flags,
					 (const char *)nr->regexp, q->secure);

		if (tp == SIP_TP_NONE || !nr->replacement || !nr->replacement[0] ||
		    !strcmp(nr->replacement, "."))
			continue;
		v[n++] = (struct sip_dns_naptr){ nr->order, nr->preference, tp, nr->replacement };
	}
	if (!n)
		return ENOENT;
	sip_dns_naptr_sort(v, n);
	sets_clear(q);
	q->phase = PH_SRV;
	for (size_t i = 0; i < n && q->nset < MAX_SETS; i++) {
		struct srvset *s = &q->sets[q->nset];

		s->name = mem_strndup(v[i].replacement, strlen(v[i].replacement));
		if (!s->name)
			return ENOMEM;
		s->tp = v[i].tp;
		q->nset++;
	}
	return 0;
}

static void on_naptr(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct sip_dns_query *q = req_end(arg);
	struct ares_naptr_reply *nr = NULL;
	int err = ares_err(status);

	(void)timeouts;
	if (!q)
		return;
	if (!err)
		err = ares_err(ares_parse_naptr_reply(abuf, alen, &nr));
	if (!err)
		err = naptr_store(q, nr);
	if (nr)
		ares_free_data(nr);
	LOGD(NULL, "dns: NAPTR %s: %u usable (%s)", q->host, q->nset, strerror(err));
	if (err_fatal(err))
		note_err(q, err);
	else if (err)
		probe_start(q);
	else
		for (unsigned i = 0; i < q->nset; i++)
			srv_lookup(q, i);
	req_finished(q);
}

static void naptr_start(struct sip_dns_query *q)
{
	struct req *r = req_new(q, 0, 0);

	q->phase = PH_NAPTR;
	if (r)
		ares_query(q->dns->ch, q->host, ns_c_in, ns_t_naptr, on_naptr, r);
}

/* ---- phases ---- */

static void phase_done(struct sip_dns_query *q)
{
	enum sip_transport tp;

	/* RFC 3263 §4.2: no SRV records at all -> the host's A/AAAA, default port. */
	if ((q->phase == PH_SRV || q->phase == PH_PROBE) && !q->srv_seen && !err_fatal(q->err)) {
		tp = q->phase == PH_SRV ? q->sets[0].tp : tp_default(q->tp, q->secure);
		q->pending++;
		addr_start(q, tp, sip_dns_default_port(tp));
		req_finished(q);
		return;
	}
	finish(q);
}

/* ---- API ---- */

static bool name_valid(struct pl host)
{
	if (!host.l || host.l > MAX_NAME || host.p[0] == '.')
		return false;
	for (size_t i = 0; i < host.l; i++) {
		char c = host.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return false;
		if (c == '.' && i + 1 < host.l && host.p[i + 1] == '.')
			return false;
	}
	return true;
}

int sip_dns_resolve(struct sip_dns *dns, struct pl host, uint16_t port, enum sip_transport tp,
		    bool secure, sip_dns_h *h, void *arg, struct sip_dns_query **qp)
{
	struct sip_dns_query *q;
	struct sip_dns_target t;
	int num;

	if (!dns || !h || !host.p || tp > SIP_TP_TLS)
		return EINVAL;
	num = sip_dns_numeric(host, port, tp, secure, &t);
	if (num && (num != ENOENT || !name_valid(host)))
		return EINVAL;
	q = mem_zalloc(sizeof(*q), query_destroy);
	if (!q)
		return ENOMEM;
	q->dns = dns;
	q->h = h;
	q->arg = arg;
	q->port = port;
	q->secure = secure;
	q->tp = (secure && tp != SIP_TP_NONE) ? SIP_TP_TLS : tp;
	q->next = dns->queries;
	if (dns->queries)
		dns->queries->prev = q;
	dns->queries = q;
	if (!num) {
		q->res[0] = t;
		q->nres = 1;
		loop_defer(dns->loop, &q->defer, deliver, q);
		goto out;
	}
	q->host = mem_strndup(host.p, host.l);
	if (!q->host) {
		mem_deref(q);
		return ENOMEM;
	}
	q->pending = 1; /* held while starting, so a synchronous answer cannot finish early */
	if (port)
		addr_start(q, tp_default(q->tp, secure), port);
	else if (q->tp)
		probe_start(q);
	else
		naptr_start(q);
	req_finished(q);
	timer_update(dns);
out:
	if (qp)
		*qp = q;
	return 0;
}

void sip_dns_cancel(struct sip_dns_query *q)
{
	if (!q || q->in_handler)
		return;
	mem_deref(q);
}

static void dns_destroy(void *data)
{
	struct sip_dns *dns = data;

	while (dns->queries)
		mem_deref(dns->queries);
	/* Calls every outstanding c-ares callback (detached) and forgets its sockets. */
	if (dns->ch_ok)
		ares_destroy(dns->ch);
	tmr_cancel(&dns->tmr);
	if (dns->lib_ok)
		ares_library_cleanup();
}

static int ares_init_err(int st)
{
	return st == ARES_ENOMEM ? ENOMEM : (st == ARES_EBADSTR || st == ARES_ENOTIMP) ? EINVAL
										      : EIO;
}

int sip_dns_alloc(struct sip_dns **dnsp, struct loop *loop, const struct sip_dns_conf *conf)
{
	struct ares_options opts;
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	char lookups[] = "b";
	struct sip_dns *dns;
	int st, err;

	if (!dnsp || !loop)
		return EINVAL;
	dns = mem_zalloc(sizeof(*dns), dns_destroy);
	if (!dns)
		return ENOMEM;
	dns->loop = loop;
	tmr_init(&dns->tmr);
	if (getrandom(&dns->rng, sizeof(dns->rng), GRND_NONBLOCK) != (ssize_t)sizeof(dns->rng))
		dns->rng = loop_clock_ms() ^ (uint64_t)(uintptr_t)dns;
	st = ares_library_init(ARES_LIB_INIT_ALL);
	if (st) {
		err = ares_init_err(st);
		goto out;
	}
	dns->lib_ok = true;
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = sock_state;
	opts.sock_state_cb_data = dns;
	opts.timeout = conf && conf->timeout_ms ? (int)conf->timeout_ms : 2000;
	opts.tries = conf && conf->tries ? (int)conf->tries : 2;
	if (conf && conf->servers) {
		/* One server named explicitly: DNS only, no hosts file, no search list. */
		opts.lookups = lookups;
		opts.domains = NULL;
		opts.ndomains = 0;
		mask |= ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS;
	}
	st = ares_init_options(&dns->ch, &opts, mask);
	if (st) {
		err = ares_init_err(st);
		goto out;
	}
	dns->ch_ok = true;
	if (conf && conf->servers) {
		st = ares_set_servers_ports_csv(dns->ch, conf->servers);
		if (st) {
			err = ares_init_err(st);
			goto out;
		}
	}
	*dnsp = dns;
	return 0;
out:
	mem_deref(dns);
	return err;
}
