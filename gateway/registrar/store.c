/*
 * The bindings table in SQLite: WAL journal, prepared statements, a schema
 * versioned with PRAGMA user_version. Expiry times are wall-clock
 * milliseconds so that they keep their meaning across restarts.
 * synchronous=NORMAL: a committed REGISTER survives a crash or restart of
 * the daemon; an OS crash may lose the last few (phones re-register).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "registrar/reg_int.h"

#define SCHEMA_VERSION 1

static const char schema_v1[] =
    "CREATE TABLE IF NOT EXISTS binding ("
    " id INTEGER PRIMARY KEY,"
    " aor TEXT NOT NULL,"
    " uri TEXT NOT NULL,"
    " params TEXT NOT NULL DEFAULT '',"
    " path TEXT,"
    " instance TEXT,"
    " reg_id INTEGER NOT NULL DEFAULT -1,"
    " q INTEGER NOT NULL DEFAULT 1000,"
    " expires INTEGER NOT NULL," /* wall-clock ms; 0 when static */
    " call_id TEXT NOT NULL DEFAULT '',"
    " cseq INTEGER NOT NULL DEFAULT 0,"
    " transport TEXT NOT NULL DEFAULT '',"
    " source TEXT NOT NULL DEFAULT '',"
    " local TEXT NOT NULL DEFAULT '',"
    " user_agent TEXT,"
    " static INTEGER NOT NULL DEFAULT 0,"
    " updated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS binding_aor ON binding(aor);"
    "CREATE INDEX IF NOT EXISTS binding_expires ON binding(expires) WHERE static = 0;";

#define COLS                                                                                       \
	"id, aor, uri, params, path, instance, reg_id, q, expires, call_id, cseq, transport, "     \
	"source, local, user_agent, static"
#define LIVE  "(static = 1 OR expires > ?2)"
#define ORDER "q DESC, updated DESC, id DESC"

static const char *const sql[ST_COUNT] = {
    [ST_INSERT] = "INSERT INTO binding (aor, uri, params, path, instance, reg_id, q, expires,"
                  " call_id, cseq, transport, source, local, user_agent, static, updated)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    [ST_UPDATE] = "UPDATE binding SET aor = ?1, uri = ?2, params = ?3, path = ?4, instance = ?5,"
                  " reg_id = ?6, q = ?7, expires = ?8, call_id = ?9, cseq = ?10,"
                  " transport = ?11, source = ?12, local = ?13, user_agent = ?14, static = ?15,"
                  " updated = ?16 WHERE id = ?17",
    [ST_DELETE] = "DELETE FROM binding WHERE id = ?1",
    [ST_BY_AOR] = "SELECT " COLS " FROM binding WHERE aor = ?1 AND " LIVE " ORDER BY " ORDER,
    [ST_ALL] = "SELECT " COLS " FROM binding WHERE ?1 IS NULL AND " LIVE " ORDER BY aor, " ORDER,
    /* RETURNING: the rows are deleted at the first step, so handlers see them gone */
    [ST_PURGE] = "DELETE FROM binding WHERE static = 0 AND expires <= ?1 RETURNING " COLS,
    [ST_NEXT_EXPIRY] = "SELECT min(expires) FROM binding WHERE static = 0",
    [ST_DEL_STATIC] = "DELETE FROM binding WHERE static = 1 AND aor = ?1 AND uri = ?2",
    [ST_DEL_STATIC_AOR] = "DELETE FROM binding WHERE static = 1 AND aor = ?1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

static const char *const tp_names[] = {
    [SIP_TP_NONE] = "", [SIP_TP_UDP] = "udp", [SIP_TP_TCP] = "tcp", [SIP_TP_TLS] = "tls"};

const char *reg_tp_name(enum sip_transport tp)
{
	return (unsigned)tp < ARRAY_SIZE(tp_names) ? tp_names[tp] : "";
}

static enum sip_transport tp_lookup(const char *s)
{
	for (unsigned i = 1; s && i < ARRAY_SIZE(tp_names); i++)
		if (!strcmp(s, tp_names[i]))
			return (enum sip_transport)i;
	return SIP_TP_NONE;
}

static int db_err(struct reg *reg, const char *what)
{
	LOGE(NULL, "registrar: %s: %s", what, sqlite3_errmsg(reg->db));
	return EIO;
}

static int exec_sql(struct reg *reg, const char *text)
{
	char *msg = NULL;

	if (sqlite3_exec(reg->db, text, NULL, NULL, &msg) != SQLITE_OK) {
		LOGE(NULL, "registrar: %s: %s", text, msg ? msg : "?");
		sqlite3_free(msg);
		return EIO;
	}
	return 0;
}

static int user_version(struct reg *reg, int *v)
{
	sqlite3_stmt *s = NULL;
	int err = 0;

	if (sqlite3_prepare_v2(reg->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return db_err(reg, "user_version");
	if (sqlite3_step(s) == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	else
		err = db_err(reg, "user_version");
	sqlite3_finalize(s);
	return err;
}

/* Creates or checks the schema. A newer version than ours is refused rather
 * than guessed at; older versions get migrated here as they appear. */
static int schema(struct reg *reg)
{
	char buf[64];
	int v = 0, err;

	err = user_version(reg, &v);
	if (err)
		return err;
	if (v > SCHEMA_VERSION) {
		LOGE(NULL, "registrar: database schema %d is newer than %d", v, SCHEMA_VERSION);
		return EPROTO;
	}
	if (v == SCHEMA_VERSION)
		return 0;
	err = exec_sql(reg, "BEGIN");
	if (err)
		return err;
	snprintf(buf, sizeof(buf), "PRAGMA user_version = %d", SCHEMA_VERSION);
	err = exec_sql(reg, schema_v1);
	if (!err)
		err = exec_sql(reg, buf);
	if (!err)
		err = exec_sql(reg, "COMMIT");
	if (err)
		exec_sql(reg, "ROLLBACK");
	return err;
}

int store_open(struct reg *reg, const char *path)
{
	int err;

	if (sqlite3_open_v2(path, &reg->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		err = reg->db ? db_err(reg, path) : ENOMEM;
		return err;
	}
	sqlite3_busy_timeout(reg->db, 1000);
	/* on ":memory:" journal_mode answers "memory": harmless */
	err = exec_sql(reg, "PRAGMA journal_mode = WAL");
	if (!err)
		err = exec_sql(reg, "PRAGMA synchronous = NORMAL");
	if (!err)
		err = schema(reg);
	for (int i = 0; !err && i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(reg->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &reg->stmt[i], NULL) != SQLITE_OK)
			err = db_err(reg, sql[i]);
	return err;
}

void store_close(struct reg *reg)
{
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(reg->stmt[i]);
		reg->stmt[i] = NULL;
	}
	if (reg->db)
		sqlite3_close(reg->db);
	reg->db = NULL;
}

/* Runs a statement that returns no rows, then resets it. */
static int step_done(struct reg *reg, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	int err = rc == SQLITE_DONE ? 0 : db_err(reg, what);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return err;
}

int store_exec(struct reg *reg, enum store_stmt s)
{
	return step_done(reg, reg->stmt[s], sql[s]);
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void bind_row(sqlite3_stmt *s, const struct reg_row *r, int64_t now_ms)
{
	char src[SA_STRLEN] = "", loc[SA_STRLEN] = "";

	if (r->source && sa_isset(r->source))
		sa_str(r->source, src, sizeof(src));
	if (r->local && sa_isset(r->local))
		sa_str(r->local, loc, sizeof(loc));
	bind_text(s, 1, r->aor);
	bind_text(s, 2, r->uri);
	bind_text(s, 3, r->params ? r->params : "");
	bind_text(s, 4, r->path);
	bind_text(s, 5, r->instance);
	sqlite3_bind_int(s, 6, r->reg_id);
	sqlite3_bind_int(s, 7, (int)r->q);
	sqlite3_bind_int64(s, 8, r->expires_ms);
	bind_text(s, 9, r->call_id ? r->call_id : "");
	sqlite3_bind_int64(s, 10, r->cseq);
	bind_text(s, 11, reg_tp_name(r->tp));
	/* SQLITE_TRANSIENT: src/loc are on this stack frame */
	sqlite3_bind_text(s, 12, src, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 13, loc, -1, SQLITE_TRANSIENT);
	bind_text(s, 14, r->user_agent);
	sqlite3_bind_int(s, 15, r->is_static);
	sqlite3_bind_int64(s, 16, now_ms);
}

int store_insert(struct reg *reg, const struct reg_row *r, int64_t now_ms)
{
	bind_row(reg->stmt[ST_INSERT], r, now_ms);
	return step_done(reg, reg->stmt[ST_INSERT], "insert");
}

int store_update(struct reg *reg, int64_t id, const struct reg_row *r, int64_t now_ms)
{
	bind_row(reg->stmt[ST_UPDATE], r, now_ms);
	sqlite3_bind_int64(reg->stmt[ST_UPDATE], 17, id);
	return step_done(reg, reg->stmt[ST_UPDATE], "update");
}

int store_delete(struct reg *reg, int64_t id)
{
	sqlite3_bind_int64(reg->stmt[ST_DELETE], 1, id);
	return step_done(reg, reg->stmt[ST_DELETE], "delete");
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void row_decode(sqlite3_stmt *s, int64_t now_ms, struct reg_contact *c, int64_t *exp)
{
	const char *src = col_text(s, 12), *loc = col_text(s, 13);

	memset(c, 0, sizeof(*c));
	c->aor = col_text(s, 1);
	c->uri = col_text(s, 2);
	c->params = col_text(s, 3);
	c->path = col_text(s, 4);
	c->instance = col_text(s, 5);
	c->reg_id = sqlite3_column_int(s, 6);
	c->q = (unsigned)sqlite3_column_int(s, 7);
	*exp = sqlite3_column_int64(s, 8);
	c->call_id = col_text(s, 9);
	c->cseq = (uint32_t)sqlite3_column_int64(s, 10);
	c->tp = tp_lookup(col_text(s, 11));
	if (src && *src)
		sa_decode(&c->source, pl_make(src, strlen(src)), 5060);
	if (loc && *loc)
		sa_decode(&c->local, pl_make(loc, strlen(loc)), 5060);
	c->user_agent = col_text(s, 14);
	c->is_static = sqlite3_column_int(s, 15) != 0;
	if (c->is_static)
		c->expires_in = -1;
	else /* rounded up: a binding with 200 ms left still has "1" second */
		c->expires_in = *exp > now_ms ? (*exp - now_ms + 999) / 1000 : 0;
}

static int rows(struct reg *reg, sqlite3_stmt *s, int64_t now_ms, store_row_h *h, void *arg,
                unsigned *countp)
{
	struct reg_contact c;
	unsigned n = 0;
	int64_t exp;
	int rc, err = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_decode(s, now_ms, &c, &exp);
		n++;
		if (h)
			h(sqlite3_column_int64(s, 0), exp, &c, arg);
	}
	if (rc != SQLITE_DONE)
		err = db_err(reg, "select");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (!err && countp)
		*countp = n;
	return err;
}

int store_select(struct reg *reg, const char *aor, int64_t now_ms, store_row_h *h, void *arg,
                 unsigned *countp)
{
	sqlite3_stmt *s = reg->stmt[aor ? ST_BY_AOR : ST_ALL];

	bind_text(s, 1, aor);
	sqlite3_bind_int64(s, 2, now_ms);
	return rows(reg, s, now_ms, h, arg, countp);
}

int store_purge(struct reg *reg, int64_t now_ms, store_row_h *h, void *arg, unsigned *countp)
{
	sqlite3_bind_int64(reg->stmt[ST_PURGE], 1, now_ms);
	return rows(reg, reg->stmt[ST_PURGE], now_ms, h, arg, countp);
}

int store_next_expiry(struct reg *reg, int64_t *ms)
{
	sqlite3_stmt *s = reg->stmt[ST_NEXT_EXPIRY];
	int err = ENOENT;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*ms = sqlite3_column_int64(s, 0);
		err = 0;
	}
	sqlite3_reset(s);
	return err;
}

int store_delete_static(struct reg *reg, const char *aor, const char *uri, unsigned *countp)
{
	sqlite3_stmt *s = reg->stmt[uri ? ST_DEL_STATIC : ST_DEL_STATIC_AOR];
	int err;

	bind_text(s, 1, aor);
	if (uri)
		bind_text(s, 2, uri);
	err = step_done(reg, s, "delete static");
	if (!err && countp)
		*countp = (unsigned)sqlite3_changes(reg->db);
	return err;
}
