/*
 * The pure parts of RFC 3263 server location: service selection and ordering,
 * kept apart from c-ares so unit tests can drive them with a seeded RNG.
 */
#include "sip/dns/rr.h"
#include "sip/dns/dns.h"

#include "core/err.h"

#include <strings.h>

/* NAPTR services (RFC 3263 §4.1) we can use, and the transport each means. */
static const struct {
	const char *service;
	enum sip_transport tp;
	bool secure;
} naptr_services[] = {
	{ "SIPS+D2T", SIP_TP_TLS, true },
	{ "SIP+D2T", SIP_TP_TCP, false },
	{ "SIP+D2U", SIP_TP_UDP, false },
};

static const char *const tp_names[] = {
	[SIP_TP_NONE] = "?",
	[SIP_TP_UDP] = "UDP",
	[SIP_TP_TCP] = "TCP",
	[SIP_TP_TLS] = "TLS",
};

enum sip_transport sip_dns_naptr_tp(const char *service, const char *flags, const char *regexp,
				    bool secure)
{
	if (!service || !flags || strcasecmp(flags, "s") != 0)
		return SIP_TP_NONE;
	/* A regexp would rewrite the name; SIP uses replacement only. */
	if (regexp && regexp[0])
		return SIP_TP_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(naptr_services); i++) {
		if (strcasecmp(service, naptr_services[i].service) != 0)
			continue;
		if (secure && !naptr_services[i].secure)
			return SIP_TP_NONE;
		return naptr_services[i].tp;
	}
	return SIP_TP_NONE;
}

static bool naptr_before(const struct sip_dns_naptr *a, const struct sip_dns_naptr *b)
{
	return a->order < b->order || (a->order == b->order && a->pref < b->pref);
}

void sip_dns_naptr_sort(struct sip_dns_naptr *v, size_t n)
{
	/* Insertion sort: stable, and n is a handful. */
	for (size_t i = 1; i < n; i++) {
		struct sip_dns_naptr x = v[i];
		size_t j = i;

		while (j > 0 && naptr_before(&x, &v[j - 1])) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

uint32_t sip_dns_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

uint32_t sip_dns_rand_incl(uint64_t *state, uint32_t bound)
{
	/* Multiply-shift: uniform enough for bounds this small (< 2^22). */
	return (uint32_t)(((uint64_t)sip_dns_rand(state) * ((uint64_t)bound + 1)) >> 32);
}

/* Moves v[from] to v[to] (to <= from), shifting the ones between up by one. */
static void srv_move(struct sip_dns_srv *v, size_t from, size_t to)
{
	struct sip_dns_srv x = v[from];

	for (size_t k = from; k > to; k--)
		v[k] = v[k - 1];
	v[to] = x;
}

/* RFC 2782 weighted selection within one priority. */
static void srv_order_group(struct sip_dns_srv *g, size_t m, uint64_t *rng)
{
	size_t z = 0;

	for (size_t k = 0; k < m; k++) {
		if (g[k].weight == 0)
			srv_move(g, k, z++);
	}
	for (size_t k = 0; k + 1 < m; k++) {
		uint32_t sum = 0, run = 0, r;
		size_t sel = k;

		for (size_t x = k; x < m; x++)
			sum += g[x].weight;
		r = sip_dns_rand_incl(rng, sum);
		for (size_t x = k; x < m; x++) {
			run += g[x].weight;
			if (run >= r) {
				sel = x;
				break;
			}
		}
		srv_move(g, sel, k);
	}
}

void sip_dns_srv_order(struct sip_dns_srv *v, size_t n, uint64_t *rng)
{
	for (size_t i = 1; i < n; i++) {
		size_t j = i;

		while (j > 0 && v[i].prio < v[j - 1].prio)
			j--;
		srv_move(v, i, j);
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && v[j].prio == v[i].prio)
			j++;
		srv_order_group(v + i, j - i, rng);
		i = j;
	}
}

uint16_t sip_dns_default_port(enum sip_transport tp)
{
	return tp == SIP_TP_TLS ? SIP_DNS_PORT_TLS : SIP_DNS_PORT;
}

const char *sip_dns_tp_name(enum sip_transport tp)
{
	if ((unsigned)tp >= ARRAY_SIZE(tp_names))
		return "?";
	return tp_names[tp];
}

int sip_dns_numeric(struct pl host, uint16_t port, enum sip_transport tp, bool secure,
		    struct sip_dns_target *t)
{
	struct sip_dns_target r;

	/* RFC 3263 §4.1: UDP for sip, TCP (here TLS) for sips, unless the URI says. */
	if (secure) {
		if (tp == SIP_TP_UDP)
			return EINVAL;
		tp = SIP_TP_TLS;
	} else if (tp == SIP_TP_NONE) {
		tp = SIP_TP_UDP;
	}
	if (!sa_is_ip_literal(host))
		return ENOENT;
	if (sa_set(&r.addr, host, port ? port : sip_dns_default_port(tp)))
		return EINVAL;
	r.tp = tp;
	*t = r;
	return 0;
}
