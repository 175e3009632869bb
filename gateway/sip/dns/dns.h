/*
 * dns: locating SIP servers (RFC 3263 §4) with c-ares on the event loop.
 *
 * sip_dns_resolve() turns a SIP/SIPS URI host (plus optional port and
 * transport) into an ordered list of (address, port, transport) targets to try
 * in turn: NAPTR -> SRV (RFC 2782 priority and weight order) -> A/AAAA, with
 * the RFC 3263 fallbacks. No cache: every call asks the DNS.
 *
 * Ownership: struct sip_dns is a mem object (release with mem_deref); freeing
 * it cancels every outstanding query without calling their handlers. A query
 * handle is owned by the resolver: it is valid until its handler has been
 * called or sip_dns_cancel() has returned, whichever is first.
 * Threading: one sip_dns belongs to the thread of its loop; handlers run there,
 * never from inside sip_dns_resolve() and never from inside c-ares, so a
 * handler may start new queries or free the resolver.
 */
#ifndef TANDEM_SIP_DNS_H
#define TANDEM_SIP_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/pl.h"
#include "core/sa.h"
#include "sip/msg/msg.h" /* enum sip_transport */

/* Most targets one resolution returns. */
#define SIP_DNS_MAX_TARGETS 16

#define SIP_DNS_PORT     5060
#define SIP_DNS_PORT_TLS 5061

struct sip_dns;
struct sip_dns_query;

struct sip_dns_conf {
	/* "127.0.0.1:5353", "[::1]:53", comma-separated list: then DNS only (no
	 * /etc/hosts, no search domains). NULL: /etc/resolv.conf and /etc/hosts. */
	const char *servers;
	unsigned timeout_ms; /* first try per server; c-ares doubles it per round [2000] */
	unsigned tries;      /* per server [2] */
};

struct sip_dns_target {
	struct sa addr; /* with port */
	enum sip_transport tp;
};

/*
 * Result handler. err is 0 with n >= 1 targets in the order to try them, or
 * ENOENT (no such name / no usable record), ETIMEDOUT, ECONNREFUSED (no DNS
 * server reachable), EIO (server failure), EBADMSG (bad answer), ENOMEM,
 * with n == 0. The array is valid only during the call.
 */
typedef void(sip_dns_h)(int err, const struct sip_dns_target *v, size_t n, void *arg);

/* conf may be NULL (defaults). Returns 0, ENOMEM, EINVAL (bad servers), EIO (c-ares init). */
int sip_dns_alloc(struct sip_dns **dnsp, struct loop *loop, const struct sip_dns_conf *conf);

/*
 * Resolves host (a host name, IPv4 or [IPv6] literal) for a SIP request:
 * - port: 0 when the URI has none; a port skips NAPTR and SRV;
 * - tp: SIP_TP_NONE, or the URI's transport parameter (skips NAPTR);
 * - secure: a SIPS URI; only TLS targets result (tp UDP is then EINVAL).
 * A numeric host is answered without DNS (still through the loop). qp may be
 * NULL. Returns 0 (h will be called exactly once unless cancelled), EINVAL,
 * ENOMEM.
 */
int sip_dns_resolve(struct sip_dns *dns, struct pl host, uint16_t port, enum sip_transport tp,
		    bool secure, sip_dns_h *h, void *arg, struct sip_dns_query **qp);

/* Cancels q: its handler is not called. NULL is a no-op; so is a call from q's own handler. */
void sip_dns_cancel(struct sip_dns_query *q);

/*
 * RFC 3263 §4.1/4.2 for a numeric host: fills *t and returns 0, ENOENT if host
 * is not an IP literal, EINVAL for sips with UDP.
 */
int sip_dns_numeric(struct pl host, uint16_t port, enum sip_transport tp, bool secure,
		    struct sip_dns_target *t);

/* Default port of a transport: 5061 for TLS, else 5060. */
uint16_t sip_dns_default_port(enum sip_transport tp);

/* "UDP", "TCP", "TLS", or "?" */
const char *sip_dns_tp_name(enum sip_transport tp);

#endif
