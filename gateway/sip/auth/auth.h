/*
 * auth: SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760).
 *
 * - Parsing: sip_digest_chal_decode() / sip_digest_cred_decode() take ONE
 *   header value (WWW-/Proxy-Authenticate, Authorization/Proxy-Authorization)
 *   and return slices into it. Take the values line by line (sip_msg_hdr()
 *   and its .next chain), never through the comma iterator: digest parameters
 *   are themselves comma-separated.
 *   Quoted values are returned without the quotes but WITH their backslash
 *   escapes ("wire form"); the hash functions unescape as they go.
 * - Hashes: OpenSSL EVP (MD5, SHA-256, SHA-512/256).
 * - Server (struct sip_auth_server): stateless, authenticated nonces with a
 *   bounded replay table; verify with a lookup callback (password or HA1).
 * - Client (struct sip_auth_client): answers challenges, counts nc per nonce.
 *
 * Return convention (core/err.h): 0, EBADMSG (malformed), ENOTSUP (not the
 * Digest scheme, or nothing we can answer), EINVAL, ENOMEM.
 * Threading: parsers and sip_digest_response() are pure and thread-safe; a
 * server or client object belongs to one thread (the signalling thread).
 */
#ifndef TANDEM_SIP_AUTH_H
#define TANDEM_SIP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pl.h"

/* ---- algorithms ---- */

enum sip_digest_alg {
	SIP_DIGEST_UNKNOWN = 0, /* a token we do not know (the challenge is then unusable) */
	SIP_DIGEST_MD5,
	SIP_DIGEST_MD5_SESS,
	SIP_DIGEST_SHA256,
	SIP_DIGEST_SHA256_SESS,
	SIP_DIGEST_SHA512_256,
	SIP_DIGEST_SHA512_256_SESS,
	SIP_DIGEST_ALG_COUNT
};

/*
 * The algorithms a server offers, in the order its challenges are sent:
 * each of MD5, SHA256 and SHA512_256 at most once. n == 0 means the default,
 * SIP_DIGEST_ALGS_DEFAULT: SHA-256 then MD5 (RFC 8760 §2.4). Clients that know
 * only MD5 and answer only the first challenge (SIPp 3.6, sipsak) need MD5
 * first; baresip 1.0 fails on any non-MD5 challenge in the 401: MD5 alone.
 */
#define SIP_DIGEST_OFFER_MAX 3
struct sip_digest_algs {
	enum sip_digest_alg alg[SIP_DIGEST_OFFER_MAX];
	unsigned n;
};
#define SIP_DIGEST_ALGS_DEFAULT                                                                    \
	((struct sip_digest_algs){{SIP_DIGEST_SHA256, SIP_DIGEST_MD5}, 2})

/* Longest hex digest (SHA-256, SHA-512/256) plus NUL. */
#define SIP_DIGEST_HEX_MAX 65

/* "SHA-256" -> SIP_DIGEST_SHA256 (case-insensitive); unknown -> SIP_DIGEST_UNKNOWN. */
enum sip_digest_alg sip_digest_alg_lookup(struct pl name);
/* Canonical name ("MD5-sess"), or "unknown". */
const char *sip_digest_alg_name(enum sip_digest_alg alg);
/* The plain hash of a -sess variant (SHA256_SESS -> SHA256); others unchanged. */
enum sip_digest_alg sip_digest_alg_base(enum sip_digest_alg alg);
bool sip_digest_alg_is_sess(enum sip_digest_alg alg);
/* Length of the lowercase hex digest: 32 or 64; 0 if unknown. */
size_t sip_digest_hexlen(enum sip_digest_alg alg);
/* Whether a server may offer alg: MD5, SHA256 or SHA512_256 (no -sess variant). */
bool sip_digest_alg_offerable(enum sip_digest_alg alg);
/* 0 if algs is a valid offer list (n == 0 included), else EINVAL (too many,
 * repeated, or not offerable). */
int sip_digest_algs_check(const struct sip_digest_algs *algs);

enum sip_digest_qop {
	SIP_DIGEST_QOP_NONE = 0, /* credentials without qop (RFC 2069 compatibility) */
	SIP_DIGEST_QOP_AUTH = 1 << 0,
	SIP_DIGEST_QOP_AUTH_INT = 1 << 1,
	SIP_DIGEST_QOP_OTHER = 1 << 2, /* an extension token */
};

/* ---- parsing ---- */

/* WWW-Authenticate / Proxy-Authenticate: one challenge. */
struct sip_digest_chal {
	struct pl realm, nonce, opaque, domain, charset; /* wire form, unquoted */
	struct pl algorithm;      /* as written; empty when absent */
	enum sip_digest_alg alg;  /* MD5 when absent */
	struct pl qop;            /* the raw qop list, empty when absent */
	unsigned qops;            /* enum sip_digest_qop bits found in the list */
	bool stale;
	bool userhash;
};

/* Authorization / Proxy-Authorization: one set of credentials. */
struct sip_digest_cred {
	struct pl username, realm, nonce, uri, response, cnonce, opaque; /* wire form */
	struct pl algorithm;     /* as written; empty when absent */
	enum sip_digest_alg alg; /* MD5 when absent */
	struct pl qop;           /* empty when absent */
	enum sip_digest_qop qop_id;
	struct pl nc;            /* 8 hex digits when qop is present */
	uint32_t ncval;
	bool userhash;
};

/*
 * Decode one header value. Parameters in any order, unknown ones ignored,
 * duplicates rejected. Returns 0, ENOTSUP (another scheme, e.g. Basic) or
 * EBADMSG (malformed; required realm/nonce missing; for credentials also
 * username/uri/response, and cnonce/nc when qop is present).
 */
int sip_digest_chal_decode(struct sip_digest_chal *chal, struct pl val);
int sip_digest_cred_decode(struct sip_digest_cred *cred, struct pl val);

/* Whether a wire-form value (escapes kept) equals the plain text s. */
bool sip_digest_val_eq(struct pl wire, struct pl plain);

/* ---- the response hash (RFC 7616 §3.4.1) ---- */

struct sip_digest_params {
	enum sip_digest_alg alg;
	struct pl username, realm;  /* wire form (escapes are removed while hashing) */
	struct pl password;         /* plain text; or: */
	struct pl ha1;              /* hex H(username:realm:password) of the base hash */
	struct pl nonce, cnonce, nc; /* wire form; cnonce/nc unused without qop */
	enum sip_digest_qop qop;    /* NONE, AUTH or AUTH_INT */
	struct pl method;           /* "INVITE" */
	struct pl uri;              /* wire form, as in the uri parameter */
	struct pl body;             /* auth-int only */
};

/*
 * Computes the lowercase hex response into hex (size >= hexlen + 1).
 * Returns 0, EINVAL (unknown alg or qop, HA1 of the wrong length, size too
 * small), ENOTSUP (the hash is unavailable, e.g. MD5 under FIPS), ENOMEM.
 */
int sip_digest_response(const struct sip_digest_params *dp, char *hex, size_t size);

/* ---- server (UAS / registrar / proxy) ---- */

/* Seconds from any fixed origin; for tests that move time. */
typedef uint64_t(sip_auth_clock_h)(void *arg);

struct sip_auth_server_cfg {
	const char *realm;        /* required */
	uint32_t nonce_lifetime;  /* seconds [300] */
	unsigned nonce_slots;     /* replay table entries [8192] */
	struct sip_digest_algs algs; /* offered, in challenge order [SIP_DIGEST_ALGS_DEFAULT] */
	sip_auth_clock_h *clock;  /* [monotonic clock] */
	void *clock_arg;
};

struct sip_auth_server;

/* Draws a fresh 32-byte secret (RAND_bytes): nonces of a previous run fail. */
int sip_auth_server_alloc(struct sip_auth_server **asp, const struct sip_auth_server_cfg *cfg);
const char *sip_auth_server_realm(const struct sip_auth_server *as);

/*
 * Challenge header lines for a 401 (proxy=false: WWW-Authenticate) or a 407
 * (Proxy-Authenticate): one line per offered algorithm, in the configured
 * order, sharing one fresh nonce, with qop="auth", each ending in CRLF. *hdrsp is mem-allocated (mem_deref).
 * Issuing a nonce takes a replay-table slot: a nonce is forgotten (and then
 * answered STALE) once nonce_slots newer challenges have been issued.
 */
int sip_auth_challenge(struct sip_auth_server *as, bool proxy, bool stale, char **hdrsp);

enum sip_auth_verdict {
	SIP_AUTH_OK = 0,
	SIP_AUTH_STALE,        /* right password, old nonce: challenge again with stale=true */
	SIP_AUTH_BAD,          /* wrong response, realm, uri, nonce, algorithm or replayed nc */
	SIP_AUTH_UNKNOWN_USER,
	SIP_AUTH_MALFORMED,    /* not parseable Digest credentials: 400 or 401 */
	SIP_AUTH_ERROR,        /* the lookup failed (e.g. database): 500 */
};

const char *sip_auth_verdict_name(enum sip_auth_verdict v);

#define SIP_AUTH_SECRET_MAX 256

enum sip_auth_secret_kind {
	SIP_AUTH_PASSWORD = 0, /* secret is the plain password */
	SIP_AUTH_HA1,          /* secret is hex H(username:realm:password) for the asked hash */
};

struct sip_auth_secret {
	enum sip_auth_secret_kind kind;
	char secret[SIP_AUTH_SECRET_MAX]; /* NUL-terminated; wiped after use */
};

/*
 * The credential store. username is unescaped, realm is the server's; alg
 * is a plain hash (MD5, SHA256, SHA512_256), never a -sess variant: an HA1
 * must be for that hash. Returns 0 (sec filled), ENOENT (no such user), or
 * another errno (lookup failed -> SIP_AUTH_ERROR).
 */
typedef int(sip_auth_lookup_h)(struct pl username, struct pl realm, enum sip_digest_alg alg,
			       struct sip_auth_secret *sec, void *arg);

/*
 * Verifies one Authorization / Proxy-Authorization value for a request with
 * this method and Request-URI (ruri empty: do not compare the uri parameter;
 * otherwise it must be byte-equal). A proxy facing several lines tries the
 * one whose realm is its own. Checks, in order: syntax, offered algorithm and
 * qop (auth or none), realm, nonce authenticity (HMAC), uri, the user, the
 * response (constant time), nonce age, then nc (must grow; without qop a
 * nonce is good once). *userp (may be NULL) gets the username slice
 * (wire form) whenever it was parsed.
 */
enum sip_auth_verdict sip_auth_verify(struct sip_auth_server *as, struct pl cred,
				      struct pl method, struct pl ruri, sip_auth_lookup_h *lookup,
				      void *lookup_arg, struct pl *userp);

/* ---- client (UAC) ---- */

/*
 * Of n challenge values (all the WWW-/Proxy-Authenticate lines of one
 * response), picks the one to answer: Digest with an algorithm and qop we
 * support, SHA-2 family preferred over MD5, the topmost among equals.
 * Returns 0 and *idx, or ENOTSUP if none is usable.
 */
int sip_auth_pick(const struct pl *chals, size_t n, size_t *idx);

struct sip_auth_client;

/* Copies username and password (plain text). EINVAL: control characters in
 * the username, or a username over 1000 bytes once escaped. */
int sip_auth_client_alloc(struct sip_auth_client **acp, const char *username,
			  const char *password);

/*
 * Answers one challenge value: qop=auth when offered (else auth-int, with
 * the body; else none), a fresh cnonce (RAND_bytes), nc counting per nonce.
 * The challenge is remembered per realm (a few realms) for
 * sip_auth_client_reuse(). *valp gets the credentials value, mem-allocated.
 * Returns 0, EBADMSG, ENOTSUP (unusable algorithm/qop, or another scheme),
 * EACCES (the server rejected our answer to this very nonce without
 * stale=true: wrong password), EINVAL (uri with '"' or '\'), E2BIG (the
 * answer would exceed 4 KiB), EIO (RAND_bytes failed), ENOMEM.
 */
int sip_auth_client_respond(struct sip_auth_client *ac, struct pl chal, struct pl method,
			    struct pl uri, struct pl body, char **valp);

/* Credentials for a new request from the stored challenge of realm, nc + 1.
 * ENOENT if no challenge of that realm is stored. */
int sip_auth_client_reuse(struct sip_auth_client *ac, struct pl realm, struct pl method,
			  struct pl uri, struct pl body, char **valp);

#endif
