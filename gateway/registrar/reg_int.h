/*
 * registrar internals: the struct, the SQLite store (store.c) and the
 * REGISTER handler (register.c). Not a public header.
 */
#ifndef TANDEM_REGISTRAR_INT_H
#define TANDEM_REGISTRAR_INT_H

#include <sqlite3.h>

#include "registrar/registrar.h"

struct sip_auth_server;
struct sip_tsx;

enum store_stmt {
	ST_INSERT = 0,
	ST_UPDATE,
	ST_DELETE,
	ST_BY_AOR,
	ST_ALL,
	ST_PURGE,
	ST_NEXT_EXPIRY,
	ST_DEL_STATIC,
	ST_DEL_STATIC_AOR,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

struct reg_user {
	struct reg_user *next;
	char *name, *password; /* mem_strndup */
};

struct reg {
	struct loop *loop;
	struct sip_ua *ua;
	struct sip_auth_server *auth;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	char *realm;
	reg_user_h *user_lookup;
	void *user_arg;
	struct reg_user *users;
	uint32_t min_expires, max_expires, default_expires;
	unsigned max_contacts;
	reg_event_h *event;
	void *event_arg;
	struct tmr tmr;
	struct reg_stats st;
};

/* A binding as written to the store. Strings may be NULL where the column allows. */
struct reg_row {
	const char *aor, *uri, *params, *path, *instance;
	int32_t reg_id;
	unsigned q;
	int64_t expires_ms; /* wall clock (ms since the epoch); 0 for static */
	const char *call_id;
	uint32_t cseq;
	enum sip_transport tp;
	const struct sa *source, *local; /* may be NULL */
	const char *user_agent;
	bool is_static;
};

/* A row as read: the public view plus the row id and absolute expiry. */
typedef void(store_row_h)(int64_t id, int64_t expires_ms, const struct reg_contact *c, void *arg);

int store_open(struct reg *reg, const char *path);
void store_close(struct reg *reg);
int store_exec(struct reg *reg, enum store_stmt s); /* BEGIN, COMMIT, ROLLBACK */
int store_insert(struct reg *reg, const struct reg_row *r, int64_t now_ms);
int store_update(struct reg *reg, int64_t id, const struct reg_row *r, int64_t now_ms);
int store_delete(struct reg *reg, int64_t id);
/* aor NULL: every binding. Expired dynamic ones are skipped. */
int store_select(struct reg *reg, const char *aor, int64_t now_ms, store_row_h *h, void *arg,
                 unsigned *countp);
/* Deletes the expired dynamic bindings, calling h for each once it is gone. */
int store_purge(struct reg *reg, int64_t now_ms, store_row_h *h, void *arg, unsigned *countp);
/* Earliest expiry of a dynamic binding; ENOENT if none. */
int store_next_expiry(struct reg *reg, int64_t *ms);
int store_delete_static(struct reg *reg, const char *aor, const char *uri, unsigned *countp);

const char *reg_tp_name(enum sip_transport tp);

/* Wall clock in ms since the epoch (bindings outlive the process, so not monotonic). */
int64_t reg_wall_ms(void);
/* Re-arms the expiry timer for the earliest binding. */
void reg_timer_update(struct reg *reg);
void reg_fire(struct reg *reg, enum reg_event ev, const struct reg_contact *c);
/* Password of user into pw: 0, ENOENT, or another errno. */
int reg_user_password(struct reg *reg, const char *user, char *pw, size_t n);

/* register.c */
void reg_register_handler(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg,
                          void *arg);

#endif
