/*
 * uri: SIP, SIPS and TEL URIs (RFC 3261 §19.1, RFC 3966), zero-copy.
 *
 * sip_uri_decode() fills a struct sip_uri with slices into the caller's text;
 * nothing is allocated and nothing is copied, so the text must outlive the
 * struct. Escapes (%XX) are kept as written in the slices; comparison
 * functions unescape as RFC 3261 §19.1.4 requires.
 * Thread-safe: pure functions on caller data.
 */
#ifndef TANDEM_SIP_URI_H
#define TANDEM_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pl.h"

enum sip_uri_scheme {
	SIP_URI_NONE = 0,
	SIP_URI_SIP,
	SIP_URI_SIPS,
	SIP_URI_TEL,
	SIP_URI_OTHER, /* absoluteURI of another scheme: only .scheme_pl/.opaque/.whole set */
};

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct pl scheme_pl; /* as written, e.g. "sip" */
	/* sip/sips */
	struct pl user;     /* userinfo user part, escapes kept; unset (p NULL) if absent */
	struct pl password; /* after ':' in userinfo: set (maybe empty) iff ':' present */
	struct pl host;     /* hostname, IPv4, or IPv6 reference WITH brackets */
	uint16_t port;      /* 0 if absent */
	bool has_port;
	struct pl params;  /* ";a=b;c" (leading ';' included), or unset */
	struct pl headers; /* "?a=b&c=d" (leading '?' included), or unset */
	/* tel (RFC 3966) */
	struct pl number; /* telephone-subscriber number: "+1-212-555-0100" or "5550100" */
	bool global;      /* number starts with '+' */
	/* every scheme */
	struct pl opaque; /* everything after "scheme:" */
	struct pl whole;  /* the entire URI text */
};

/*
 * Parses text as a URI. Returns 0 or EBADMSG. Scheme names are
 * case-insensitive. A tel: URI puts its parameters (phone-context, ext, isub,
 * and others) in .params. An IPv6 host must be a valid IPv6 reference
 * (RFC 5118): "[2001:db8::1]".
 */
int sip_uri_decode(struct sip_uri *uri, struct pl text);

/*
 * Looks up a ;name[=value] parameter in a params slice (case-insensitive
 * name). Returns true if present (first occurrence); *val is set to the value
 * (empty if none; a quoted-string value comes without its quotes, escapes
 * kept). val may be NULL. Tolerates LWS and folding around ';' and '=', so it
 * serves header parameters (";tag = x") as well as URI parameters; ';' inside
 * quoted strings does not split.
 */
bool sip_param_get(struct pl params, const char *name, struct pl *val);

/*
 * Iterates over the parameters of a params slice, with the same rules as
 * sip_param_get(): returns true with *name and *val (may be NULL) set and
 * *rest advanced, false at the end. Empty segments (";;") are skipped.
 */
bool sip_param_next(struct pl *rest, struct pl *name, struct pl *val);

/* Same lookup on uri->params. */
bool sip_uri_param(const struct sip_uri *uri, const char *name, struct pl *val);

/*
 * RFC 3261 §19.1.4 equivalence: scheme, user/password case-sensitive after
 * unescaping, host case-insensitive, port explicit vs default differ,
 * transport/user/ttl/method/maddr parameters must match if present in either,
 * other parameters compared only if present in both, headers must all match.
 * For tel: RFC 3966 §4: numbers compared without visual separators, params
 * by name (case-insensitive) and value.
 */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/*
 * Telephone number digits without visual separators ('-', '.', '(', ')'):
 * writes at most n-1 characters plus NUL into buf (keeps a leading '+').
 * Returns the length, or -1 if it does not fit or has invalid characters
 * (buf is then unspecified). Works for tel: numbers and for sip: users
 * (user=phone): stops at the first ';' (the number's own parameters),
 * decodes %XX escapes, upper-cases hex digits, accepts '*' and '#'.
 */
int sip_uri_tel_digits(struct pl number, char *buf, size_t n);

/* IPv4address (RFC 3261: 1*3DIGIT, <= 255) and IPv6address (RFC 3986, RFC 5954:
 * groups around at most one "::", optional trailing IPv4), without brackets. */
bool sip_ipv4_ok(const char *p, size_t l);
bool sip_ipv6_ok(const char *p, size_t l);

/* Unescapes %XX into buf (size n), NUL-terminated (the result may itself
 * contain NULs, e.g. from %00). Returns the length or -1 (bad escape, or
 * length + 1 > n). */
int sip_unescape(struct pl in, char *buf, size_t n);

#endif
