/*
 * registrar: the SIP registrar and location service (RFC 3261 §10).
 *
 * struct reg answers REGISTER on a sip_ua (digest authentication against a
 * user table, §10.3 contact processing, 423/Min-Expires, '*' removal,
 * Call-ID/CSeq ordering) and keeps the bindings in SQLite, so a restart
 * loses none: the database is the only store, read at each lookup. Path
 * (RFC 3327), +sip.instance and reg-id (RFC 5626) are stored and handed to
 * routing, as is the address and transport each REGISTER came from (so a
 * call can go back through a NAT); there is no outbound flow logic (no
 * keep-alive, no flow failover, "outbound" is not advertised).
 * Static bindings (config, tandemctl) never expire and REGISTER cannot touch them.
 * Runs on the signalling thread's loop; not thread-safe. Strings handed to
 * callbacks are valid for the duration of the call only.
 */
#ifndef TANDEM_REGISTRAR_H
#define TANDEM_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/sa.h"
#include "sip/auth/auth.h"
#include "sip/msg/msg.h"

struct reg;
struct sip_ua;

#define REG_MAX_CONTACTS 64 /* the largest max_contacts */

/* One binding, as handed to lookups and events. */
struct reg_contact {
	const char *aor;       /* user part of the address-of-record, unescaped: "1001" */
	const char *uri;       /* contact URI, without <> */
	const char *params;    /* other contact params (";+sip.instance=...;reg-id=1") or "" */
	const char *path;      /* Path values, comma-separated, or NULL (RFC 3327) */
	const char *instance;  /* +sip.instance value (quotes and <> kept) or NULL */
	int32_t reg_id;        /* reg-id, -1 if none */
	unsigned q;            /* q-value times 1000: 0..1000 (1000 when absent) */
	int64_t expires_in;    /* seconds left (>= 0); -1 for a static binding */
	enum sip_transport tp; /* transport the REGISTER came over (NONE: static) */
	struct sa source;      /* its source address (received/rport); unset if static */
	struct sa local;       /* our address it arrived on; unset if static */
	const char *call_id;   /* of the last REGISTER ("" if static) */
	uint32_t cseq;
	const char *user_agent; /* or NULL */
	bool is_static;
};

enum reg_event {
	REG_EV_ADDED = 0,
	REG_EV_REFRESHED,
	REG_EV_REMOVED, /* by a REGISTER (expires 0 or '*') or reg_static_remove() */
	REG_EV_EXPIRED, /* by the expiry timer */
};

const char *reg_event_name(enum reg_event ev);

typedef void(reg_contact_h)(const struct reg_contact *c, void *arg);
typedef void(reg_event_h)(enum reg_event ev, const struct reg_contact *c, void *arg);

/* Password of user (unescaped) into pw (size n, NUL-terminated). Returns 0,
 * ENOENT (no such user) or another errno (the lookup failed: 500). */
typedef int(reg_user_h)(const char *user, char *pw, size_t n, void *arg);

struct reg_config {
	const char *realm; /* digest realm (required) */
	const char *db;    /* SQLite file, or ":memory:" (required) */
	/* users: this callback, else the table filled by reg_user_set() */
	reg_user_h *user_lookup;
	void *user_arg;
	uint32_t min_expires, max_expires, default_expires; /* seconds [60, 7200, 3600] */
	unsigned max_contacts;                              /* per AOR [10], <= 64 */
	/* digest algorithms, in the order the challenges are sent [SHA-256, MD5]; MD5
	 * first (or alone) for old clients (sip/auth/auth.h) */
	struct sip_digest_algs algs;
	uint32_t nonce_lifetime; /* seconds [300] */
	reg_event_h *event;      /* may be NULL */
	void *event_arg;
};

/*
 * Opens (or creates) the database, purges expired bindings, arms the expiry
 * timer and registers the REGISTER handler on ua (ua may be NULL: location
 * service only, e.g. for tools). Returns 0, EINVAL, ENOMEM, EIO (SQLite),
 * EPROTO (a database schema newer than this code).
 */
int reg_alloc(struct reg **regp, struct loop *loop, struct sip_ua *ua,
              const struct reg_config *cfg);
/* Closes the database; bindings stay in it. Does not unregister from ua:
 * free the registrar after the UA, or stop the UA from receiving first. */
void reg_free(struct reg *reg);

/* The in-memory user table (used when cfg.user_lookup is NULL). Copied. A NULL
 * password removes the user. */
int reg_user_set(struct reg *reg, const char *user, const char *password);

/*
 * The contacts of aor (the user part: "1001") that have not expired, best
 * first: q-value descending, then the most recently registered. h is called
 * once per contact; *countp (may be NULL) receives the count. Returns 0 (also
 * for no contacts), or EIO.
 */
int reg_lookup(struct reg *reg, const char *aor, reg_contact_h *h, void *arg, unsigned *countp);
/* Every unexpired binding, ordered by AOR then as reg_lookup(). */
int reg_foreach(struct reg *reg, reg_contact_h *h, void *arg, unsigned *countp);

/*
 * A static binding: a device that does not register. uri is a SIP URI, q
 * 0..1000, path may be NULL. Replaces a static binding with the same URI.
 * Stored in the database like the others (so tandemctl's survive restarts).
 * Returns 0, EINVAL (bad URI or q), EIO.
 */
int reg_static_add(struct reg *reg, const char *aor, const char *uri, unsigned q, const char *path);
/* Removes the static bindings of aor with this URI (NULL: all of aor's).
 * Returns 0, ENOENT (none), EIO. */
int reg_static_remove(struct reg *reg, const char *aor, const char *uri);

/* Removes every expired dynamic binding now (the timer does this anyway),
 * firing REG_EV_EXPIRED. Returns the number removed, or -1 on a database error. */
int reg_purge(struct reg *reg);

struct reg_stats {
	uint64_t requests, ok, challenged, stale, forbidden, not_found, too_brief, bad_request,
	    out_of_order, errors, added, refreshed, removed, expired;
};
void reg_stats(const struct reg *reg, struct reg_stats *st);

/* ---- pure helpers (exposed for tests) ---- */

/* "0", "0.5", "1.000" -> 0..1000. Returns 0 or EINVAL. */
int reg_q_parse(struct pl v, unsigned *q);
/* q (0..1000) as the shortest decimal: "1", "0.5", "0.123". buf >= 6. */
char *reg_q_print(unsigned q, char *buf, size_t n);

#endif
