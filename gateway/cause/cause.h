/*
 * cause: Q.850 cause values <-> SIP status codes, and the Reason header.
 *
 * The mappings are data (cause/table.c): RFC 3398 §7.2.4.1 (ISUP cause ->
 * SIP status) and §8.2.6.1 (SIP status -> cause), with the common gateway
 * practice where the RFC gives no value or where practice differs (each such
 * row says why). A struct cause_map is a private copy that the configuration
 * may change entry by entry (cause_map_set); a NULL map means the built-in
 * defaults everywhere.
 *
 * Ownership: a map is a mem object (mem_deref to free). Thread-safe for
 * lookups; change a map only before sharing it (build a new one on reload).
 */
#ifndef TANDEM_CAUSE_H
#define TANDEM_CAUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"

/* The Q.850 values the code names; any 1..127 is accepted everywhere. */
enum {
	Q850_UNALLOCATED = 1,
	Q850_NO_ROUTE_DESTINATION = 3,
	Q850_NORMAL_CLEARING = 16,
	Q850_USER_BUSY = 17,
	Q850_NO_USER_RESPONSE = 18,
	Q850_NO_ANSWER = 19,
	Q850_CALL_REJECTED = 21,
	Q850_REDIRECTED = 23,
	Q850_DEST_OUT_OF_ORDER = 27,
	Q850_INVALID_NUMBER_FORMAT = 28,
	Q850_NORMAL_UNSPECIFIED = 31,
	Q850_NO_CIRCUIT = 34,
	Q850_NETWORK_OUT_OF_ORDER = 38,
	Q850_TEMPORARY_FAILURE = 41,
	Q850_SWITCH_CONGESTION = 42,
	Q850_INCOMPATIBLE_DEST = 88,
	Q850_RECOVERY_ON_TIMER = 102,
	Q850_PROTOCOL_ERROR = 111,
	Q850_INTERWORKING = 127,
};

enum cause_profile {
	CAUSE_PROFILE_DEFAULT = 0, /* RFC 3398 refined by common practice */
	CAUSE_PROFILE_RFC3398,     /* RFC 3398 as written; practice only where it is silent */
};

enum cause_dir {
	CAUSE_TO_SIP,          /* Q.850 cause -> SIP status (300..699) */
	CAUSE_FROM_SIP,        /* SIP status (300..699) -> Q.850 cause */
	CAUSE_FROM_SIP_ALERTED, /* same, when the callee had alerted (180 seen) */
};

struct cause_map;

/* A map loaded with the built-in table of a profile. 0 or ENOMEM/EINVAL. */
int cause_map_alloc(struct cause_map **mp, enum cause_profile profile);

/*
 * Overrides one entry: CAUSE_TO_SIP from=cause (1..127) to=status (300..699);
 * CAUSE_FROM_SIP[_ALERTED] from=status (300..699) to=cause (1..127). Setting
 * CAUSE_FROM_SIP also sets the alerted entry of that status; set the alerted
 * one after it to make them differ. 0 or EINVAL.
 */
int cause_map_set(struct cause_map *m, enum cause_dir dir, unsigned from, unsigned to);

/*
 * Final status for an INVITE not yet answered that the PSTN side cleared
 * with cause (an answered call ends with BYE whatever the cause). Never 0:
 * cause 16 (no status in RFC 3398) gives 480 Temporarily Unavailable. A
 * cause without an entry is treated as the unspecified cause of its Q.850
 * class (31, 47, 63, 79, 95, 111, 127), as Q.850 §2.2.7.1 asks; out of range
 * values give 500. *phrase (may be NULL) gets the reason phrase.
 */
uint16_t cause_to_sip(const struct cause_map *m, unsigned cause, const char **phrase);

/*
 * Cause for a SIP final status that ended the outgoing INVITE. alerted: a
 * 180 had been received (480 then means "no answer", 19, not 18). A status
 * without an entry is treated as the x00 of its class (RFC 3261 §8.1.3.2);
 * 3xx that were not followed give 23. 2xx -> 16; below 200 or above 699 -> 127.
 */
unsigned cause_from_sip(const struct cause_map *m, uint16_t status, bool alerted);

/*
 * The cause for a SIP final response, BYE or CANCEL that may carry
 * "Reason: Q.850;cause=N" (RFC 3326; in responses RFC 6432): that cause when
 * the value has one in 1..127, else cause_from_sip(status) (status 0 for a
 * BYE/CANCEL: 16). reason: the Reason header value, unset (p NULL) if absent.
 */
unsigned cause_from_sip_reason(const struct cause_map *m, uint16_t status, bool alerted,
			       struct pl reason);

/* Q.850 name of a cause ("User busy"), or NULL if the value is unassigned. */
const char *cause_name(unsigned cause);

/*
 * Writes a Reason header value "Q.850;cause=17;text=\"User busy\"" (RFC 3326)
 * into buf (NUL-terminated); text is left out for an unassigned value.
 * 0, EINVAL (cause not 1..127) or ENOSPC.
 */
int cause_reason_fmt(char *buf, size_t size, unsigned cause);

/*
 * Writes "SIP;cause=200;text=\"Call completed elsewhere\"" (RFC 3326), the
 * value a CANCEL carries to the forks that lost; other status codes get their
 * reason phrase as text. 0, EINVAL (status not 100..699) or ENOSPC.
 */
int cause_reason_sip_fmt(char *buf, size_t size, uint16_t status);

/*
 * Extracts the Q.850 cause from a Reason header value, which may be a
 * comma-separated list ("SIP;cause=200, Q.850;cause=16;text=\"x\"").
 * Elements are decoded with sip_reason_decode (sip/msg). 0, ENOENT (no Q.850
 * element) or EBADMSG (a Q.850 element without a cause in 0..127).
 */
int cause_reason_q850(struct pl val, unsigned *cause);

/* Built-in table rows, for tests and documentation (tandemd --dump-causes). */
struct cause_row {
	uint16_t key;     /* cause, or SIP status */
	uint16_t rfc;     /* RFC 3398 value, 0 = the RFC gives none */
	uint16_t dflt;    /* the default profile's value */
	uint16_t alerted; /* FROM_SIP only: value after 180, 0 = same as dflt */
	const char *why;  /* where dflt differs from rfc, or rfc is 0: the reason */
};
const struct cause_row *cause_table(enum cause_dir dir, size_t *n);

#endif
