/*
 * route: telephone numbers and routing decisions, as pure functions and tables.
 *
 *  - numbers: a Request-URI or a dial string -> E.164 with the numbering
 *    settings; Q.931 called/calling numbers (type of number, numbering plan)
 *    <-> E.164.
 *  - patterns: one syntax for every match in the configuration (below).
 *  - outbound routes: E.164 -> first matching rule -> Q.931 called number,
 *    span groups to try in order, hunting order.
 *  - inbound DID routes: called number -> user / SIP URI / trunk, and the
 *    overlap-receiving decision (complete, wait for more digits, no match).
 *  - presentation: Privacy / P-Asserted-Identity <-> Q.931 presentation and
 *    screening indicators.
 *
 * Pattern syntax (matched against the whole number, '+' included for E.164):
 *   0-9 * # +   themselves
 *   X           any digit 0-9          Z  1-9          N  2-9   (also x z n)
 *   [...]       one character of a set: digits and ranges, "[13-5]" = 1,3,4,5
 *   .           (last only) one or more further characters
 *   !           (last only) zero or more further characters
 *   A leading '_' (Asterisk habit) is ignored. Without '.' or '!' the length is
 *   exact, so a literal prefix is written with '!': "+44!" matches +44 and
 *   everything after it. Examples: "+1NXXNXXXXXX", "+44.", "+1212555100X".
 *
 * Ownership: a route_table is a mem object holding copies of everything given
 * to it; results point into the table (valid while it lives). Thread-safe for
 * lookups; build a new table on reload rather than changing a shared one.
 */
#ifndef TANDEM_ROUTE_H
#define TANDEM_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"
#include "sip/uri/uri.h"

/* Q.931 §4.5.8 codes, so that (ton << 4) | npi is libpri's dialplan value. */
enum route_ton {
	ROUTE_TON_UNKNOWN = 0,
	ROUTE_TON_INTERNATIONAL = 1,
	ROUTE_TON_NATIONAL = 2,
	ROUTE_TON_NETWORK = 3,
	ROUTE_TON_SUBSCRIBER = 4,
	ROUTE_TON_ABBREVIATED = 6,
};

enum route_npi {
	ROUTE_NPI_UNKNOWN = 0,
	ROUTE_NPI_E164 = 1, /* ISDN/telephony numbering plan (E.164) */
	ROUTE_NPI_DATA = 3,
	ROUTE_NPI_TELEX = 4,
	ROUTE_NPI_NATIONAL = 8,
	ROUTE_NPI_PRIVATE = 9,
};

#define ROUTE_NUM_MAX 32 /* characters of a number, '+' included */

/* The numbering settings of the gateway's location (YAML "numbering"). */
struct route_numplan {
	char cc[4];        /* country code: "1", "44" */
	char natpfx[4];    /* national (trunk) prefix: "1" (NANP), "0"; may be empty */
	char intlpfx[6];   /* international prefix: "011", "00" */
	char area[8];      /* area code for local numbers: "212"; may be empty */
	uint8_t nsn_len;   /* national significant number length (10 in NANP); 0: varies */
	uint8_t local_len; /* local (subscriber) number length (7 in NANP); 0: none */
};

/* EINVAL if a field is not digits, the cc is empty, or lengths are absurd. */
int route_numplan_check(const struct route_numplan *np);

enum route_num_kind {
	ROUTE_NUM_E164 = 0, /* digits: "+12125550100" (1 to 15 digits after '+') */
	ROUTE_NUM_PRIVATE,  /* not E.164: an extension, a service code, a domain-local number */
};

struct route_number {
	enum route_num_kind kind;
	char digits[ROUTE_NUM_MAX + 1];
	struct pl context; /* PRIVATE from a tel: with a domain phone-context: the domain */
};

/*
 * A dialled string (visual separators already removed) -> E.164 when the
 * numbering settings say how: a leading '+'; the international prefix; the
 * national prefix followed by an NSN (of nsn_len digits if set); an NSN of
 * exactly nsn_len digits; a local number of local_len digits with the area
 * code (neither may begin with a prefix: "0207946000" is not a UK NSN).
 * Anything else is kept as PRIVATE. 0 or EINVAL (empty, too long, bad
 * characters, or a '+' number that is not 1..15 digits or begins with 0).
 */
int route_normalise_dial(const struct route_numplan *np, const char *dial,
			 struct route_number *out);

/*
 * A Request-URI (tel:, or sip:/sips: whose user part is a number, with or
 * without user=phone) -> number. tel:+1-212-555-0100 and sip:+1212...@gw are
 * global; tel:5550100;phone-context=+1212 puts the context digits in front;
 * a domain phone-context keeps the number PRIVATE with .context set; other
 * numbers go through route_normalise_dial. 0, EINVAL (a user part that is
 * not a number, a bad number) or EPROTONOSUPPORT (another URI scheme).
 */
int route_normalise_uri(const struct route_numplan *np, const struct sip_uri *uri,
			struct route_number *out);

/*
 * A Q.931 number -> E.164: international '+'digits, national '+'cc digits,
 * subscriber '+'cc area digits (EINVAL without an area code); unknown by the
 * dialling rules; a private/unknown plan with a network-specific or
 * abbreviated type stays PRIVATE. 0 or EINVAL.
 */
int route_from_q931(const struct route_numplan *np, const char *digits, enum route_ton ton,
		    enum route_npi npi, struct route_number *out);

/*
 * E.164 -> the digits of a Q.931 number of type ton: international without
 * '+'; national without the cc (EINVAL if the number is foreign); subscriber
 * without cc and area (EINVAL if outside the area); unknown as it is dialled
 * here (national prefix + NSN at home, international prefix + digits abroad).
 * 0, EINVAL or ENOSPC.
 */
int route_to_q931(const struct route_numplan *np, const char *e164, enum route_ton ton, char *buf,
		  size_t size);

/* ---- patterns ---- */

#define ROUTE_PAT_MAX 32

struct route_pattern {
	uint16_t set[ROUTE_PAT_MAX]; /* per position: bit i = alphabet "0123456789*#+"[i] */
	uint8_t n;                   /* fixed positions */
	uint8_t tail;                /* 0: exact, 1: '.', 2: '!' */
	bool literal;                /* no wildcard at all: an exact number */
};

/* 0 or EINVAL (empty, unknown character, bad set, '.'/'!' not last, too long). */
int route_pattern_compile(struct route_pattern *p, struct pl text);

#define ROUTE_PAT_MATCH 1u /* the number matches as it is */
#define ROUTE_PAT_MORE 2u  /* some longer number starting with it would match */
/* MATCH/MORE flags of num (NUL-terminated) against p; 0: neither. */
unsigned route_pattern_test(const struct route_pattern *p, const char *num);
bool route_pattern_match(const struct route_pattern *p, const char *num);

/* ---- tables ---- */

enum route_hunt {
	ROUTE_HUNT_ASCENDING = 0, /* lowest free channel first */
	ROUTE_HUNT_DESCENDING,    /* highest first (the usual choice against a CO's ascending) */
	ROUTE_HUNT_ROUNDROBIN,
};

#define ROUTE_GROUPS_MAX 8

/* One outbound rule, as the configuration gives it (copied by route_out_add). */
struct route_out_cfg {
	const char *name;    /* for logs and CDRs; may be NULL */
	const char *pattern; /* matched against the E.164 number ("+1NXXNXXXXXX") */
	unsigned strip;      /* characters removed from the front, '+' not counted */
	const char *prefix;  /* digits put in front after stripping; may be NULL */
	enum route_ton ton;
	enum route_npi npi;
	uint16_t groups[ROUTE_GROUPS_MAX]; /* span groups, tried in order on congestion */
	unsigned ngroups;                  /* at least 1 */
	enum route_hunt hunt;
	/* sip/sips URI: the call is not placed but answered 302 with this Contact;
	 * "{number}" in it stands for the E.164 number dialled. NULL: none. */
	const char *redirect;
};

struct route_out {
	char name[32];
	struct route_pattern pat;
	uint8_t strip;
	char prefix[16];
	enum route_ton ton;
	enum route_npi npi;
	uint16_t groups[ROUTE_GROUPS_MAX];
	uint8_t ngroups;
	enum route_hunt hunt;
	char redirect[128]; /* "": none */
};

struct route_out_match {
	const struct route_out *route;
	char called[ROUTE_NUM_MAX + 1]; /* digits for the SETUP's called party number */
	enum route_ton ton;
	enum route_npi npi;
};

enum route_target {
	ROUTE_TARGET_USER = 0, /* ring every contact registered for this user */
	ROUTE_TARGET_URI,      /* a fixed SIP URI */
	ROUTE_TARGET_TRUNK,    /* a SIP trunk, by name */
};

struct route_did {
	/* as configured, without a leading '_'; an exact number in plain form ("+1[2]" -> "+12") */
	char match[ROUTE_NUM_MAX + 1];
	struct route_pattern pat;
	bool e164;             /* matched against the E.164 form */
	enum route_target kind;
	char *target;          /* user name, SIP URI or trunk name */
};

enum route_overlap {
	ROUTE_OVERLAP_NO_MATCH = 0, /* nothing can match: clear with cause 1 */
	ROUTE_OVERLAP_INCOMPLETE,   /* a (longer) match is possible: wait for digits (T302) */
	ROUTE_OVERLAP_COMPLETE,     /* a route matches and no longer one could */
};

struct route_table;

int route_table_alloc(struct route_table **tp, const struct route_numplan *np);
const struct route_numplan *route_table_numplan(const struct route_table *t);

/* Appends an outbound rule (first match wins). 0, EINVAL or ENOMEM. */
int route_out_add(struct route_table *t, const struct route_out_cfg *cfg);

/*
 * The first rule whose pattern matches number (an E.164 "+..." or a private
 * number) and the called number it gives. 0, ENOENT (no rule) or ENOSPC.
 */
int route_out_lookup(const struct route_table *t, const char *number, struct route_out_match *m);

/*
 * Adds an inbound rule. match is a pattern; one with a leading '+' is matched
 * against the E.164 form of the called number (from its type of number and
 * the numbering settings), one without against the digits as received. An
 * exact number wins over patterns; patterns are tried in the order added.
 * 0, EINVAL or ENOMEM.
 */
int route_did_add(struct route_table *t, const char *match, enum route_target kind,
		  const char *target);

/* The rule for a complete called number. 0 or ENOENT. */
int route_did_lookup(const struct route_table *t, const char *digits, enum route_ton ton,
		     enum route_npi npi, const struct route_did **didp);

/* Overlap receiving: what to do with the digits received so far. */
enum route_overlap route_did_overlap(const struct route_table *t, const char *digits,
				     enum route_ton ton, enum route_npi npi);

/* ---- names, for the YAML loader and logs ---- */

/*
 * Case-insensitive names -> values; 0 or EINVAL. TON: unknown, international,
 * national, network, subscriber, abbreviated. NPI: unknown, e164 (or isdn),
 * data, telex, national, private. Hunt: ascending, descending, roundrobin (or
 * round-robin). Target: user, uri, trunk.
 */
int route_ton_parse(struct pl name, enum route_ton *ton);
int route_npi_parse(struct pl name, enum route_npi *npi);
int route_hunt_parse(struct pl name, enum route_hunt *hunt);
int route_target_parse(struct pl name, enum route_target *kind);
/* The first name of each value above, or "?". */
const char *route_ton_name(enum route_ton ton);
const char *route_npi_name(enum route_npi npi);

/* ---- presentation (Q.931 §4.5.10 octet 3a) ---- */

enum route_pres {
	ROUTE_PRES_ALLOWED = 0,
	ROUTE_PRES_RESTRICTED = 1,
	ROUTE_PRES_UNAVAILABLE = 2, /* number not available due to interworking */
};

enum route_screen {
	ROUTE_SCREEN_USER_NOT_SCREENED = 0,
	ROUTE_SCREEN_USER_PASSED = 1,
	ROUTE_SCREEN_USER_FAILED = 2,
	ROUTE_SCREEN_NETWORK = 3,
};

/* Where the calling number of a SIP call came from. */
enum route_id_source {
	ROUTE_ID_NONE = 0, /* no usable number (anonymous From, no PAI) */
	ROUTE_ID_FROM,     /* the From user part, not vouched for */
	ROUTE_ID_PAI,      /* P-Asserted-Identity from a trusted peer or our own auth */
	ROUTE_ID_GATEWAY,  /* set by the gateway's configuration (trunk/user number) */
};

/*
 * SIP -> Q.931. privacy: the Privacy header value (RFC 3323/3325 priv-values
 * separated by ';', commas tolerated), unset if absent. "id", "header" or
 * "user" restrict presentation; "none" or nothing allows it.
 */
void route_pres_from_sip(struct pl privacy, enum route_id_source src, enum route_pres *pres,
			 enum route_screen *screen);

struct route_sip_id {
	bool number_in_from; /* From user part = the number (else anonymous From) */
	bool send_pai;       /* add P-Asserted-Identity with the number */
	const char *privacy; /* Privacy header value to send ("id"), or NULL */
};

/*
 * Q.931 -> SIP (RFC 3325, RFC 3398 §8.2.1 practice): the number goes in PAI
 * only when screened (user passed, or network provided); restricted means
 * anonymous From plus Privacy: id; unavailable or no number means neither.
 */
void route_pres_to_sip(enum route_pres pres, enum route_screen screen, bool has_number,
		       struct route_sip_id *id);

#endif
