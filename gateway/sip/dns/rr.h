/*
 * rr: the pure parts of RFC 3263 server location, internal to sip/dns (and
 * its unit tests): which NAPTR services we use, NAPTR order, RFC 2782 SRV
 * order with weighted random selection.
 * Thread-safe: pure functions on caller data (the RNG state is the caller's).
 */
#ifndef TANDEM_SIP_DNS_RR_H
#define TANDEM_SIP_DNS_RR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/msg/msg.h" /* enum sip_transport */

struct sip_dns_naptr {
	uint16_t order;
	uint16_t pref;
	enum sip_transport tp;
	const char *replacement; /* not owned */
};

struct sip_dns_srv {
	uint16_t prio;
	uint16_t weight;
	uint16_t port;
	const char *target; /* not owned */
};

/*
 * The transport a NAPTR record offers, or SIP_TP_NONE if we cannot use it:
 * flags must be "S", regexp empty, service SIP+D2U, SIP+D2T or SIPS+D2T
 * (case-insensitive); with secure only SIPS+D2T.
 */
enum sip_transport sip_dns_naptr_tp(const char *service, const char *flags, const char *regexp,
				    bool secure);

/* Stable sort by order, then preference, both ascending. */
void sip_dns_naptr_sort(struct sip_dns_naptr *v, size_t n);

/*
 * RFC 2782 order: priority ascending; within one priority, records chosen one
 * after another with probability by weight (weight 0 records first in the
 * candidate list, so they win only when the random number is 0). A target of
 * "." (service not offered) is left in place; the caller skips it.
 */
void sip_dns_srv_order(struct sip_dns_srv *v, size_t n, uint64_t *rng);

/* splitmix64: a 32-bit random number from *state (any seed). */
uint32_t sip_dns_rand(uint64_t *state);

/* Uniform in [0, bound] inclusive, bound < 2^32 - 1. */
uint32_t sip_dns_rand_incl(uint64_t *state, uint32_t bound);

#endif
