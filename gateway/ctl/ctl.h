/*
 * ctl: the control socket of tandemd (tandemctl talks to it).
 *
 * A Unix stream socket (mode 0660, so access is the socket's group) served on
 * the signalling loop. The protocol is one JSON object per line both ways:
 *   -> {"cmd":"hangup","id":"a84b4c76e66710"}
 *   <- {"ok":true,...}   or   {"ok":false,"error":"no such call"}
 * Requests are flat objects: "cmd" plus string/number/bool/null arguments.
 * Replies come in request order, one per line. Modules add commands through
 * ctl_register() and status sections through ctl_status_register(); the
 * built-ins are "help", "version" and "status".
 *
 * Threading: everything runs on the loop's thread, handlers included; a
 * handler must answer at once (no command may block the loop).
 * Ownership: names and help texts are not copied: pass string literals.
 */
#ifndef TANDEM_CTL_CTL_H
#define TANDEM_CTL_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "ctl/json.h"

struct ctl;
struct ctl_req;
struct loop;

struct ctl_config {
	const char *path;     /* socket path (required) */
	unsigned max_clients; /* 0: CTL_DEF_CLIENTS */
	size_t max_line;      /* longest request line, 0: CTL_DEF_LINE */
	size_t max_reply;     /* largest reply, 0: CTL_DEF_REPLY */
	unsigned idle_ms;     /* idle client timeout, 0: CTL_DEF_IDLE_MS */
	const char *version;  /* answered by "version"; NULL: TANDEM_VERSION */
};

#define CTL_DEF_CLIENTS 8
#define CTL_DEF_LINE    4096
#define CTL_DEF_REPLY   (1u << 20)
#define CTL_DEF_IDLE_MS 60000u
#include "core/version.h"

/*
 * A command handler writes its reply members into w: the reply object is
 * already open and holds "ok":true, so the handler only adds members
 * (json_str(w, "state", "up"), json_arr_begin(w, "calls")...). Returning an
 * errno discards them and answers {"ok":false,"error":...}, with the text set
 * by ctl_req_fail() or else strerror(err).
 */
typedef int(ctl_cmd_h)(struct ctl_req *req, struct json_w *w, void *arg);
/* Writes one status section's members into w (an open object). */
typedef void(ctl_status_h)(struct json_w *w, void *arg);

/* Binds cfg->path (a stale socket there is replaced, a live one is EADDRINUSE). */
int ctl_alloc(struct ctl **cp, struct loop *loop, const struct ctl_config *cfg);
/* Closes every client and removes the socket file. NULL is a no-op. */
void ctl_free(struct ctl *ctl);

/* EEXIST if name is taken, EINVAL for an empty name, ENOMEM. */
int ctl_register(struct ctl *ctl, const char *name, ctl_cmd_h *h, void *arg, const char *help);
void ctl_unregister(struct ctl *ctl, const char *name);
/* Adds {"name":{...}} to the "status" reply. EEXIST, ENOMEM. */
int ctl_status_register(struct ctl *ctl, const char *name, ctl_status_h *h, void *arg);
void ctl_status_unregister(struct ctl *ctl, const char *name);

/* ---- inside a handler ---- */

const char *ctl_req_cmd(const struct ctl_req *req);
/*
 * String argument decoded into a per-request scratch buffer (valid until the
 * handler returns), or NULL if absent, not a string or too long. Numbers and
 * booleans are given as their text, so "last":5 and "last":"5" read alike.
 */
const char *ctl_req_str(struct ctl_req *req, const char *key);
/* Integer argument, given as a number or a string of digits: 0, ENOENT, EINVAL, ERANGE. */
int ctl_req_int(struct ctl_req *req, const char *key, int64_t *v);
/* Sets the "error" text of a failing reply (printf-style, truncated to 255 bytes). */
void ctl_req_fail(struct ctl_req *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counters for status and tests. */
unsigned ctl_nclients(const struct ctl *ctl);

#endif
