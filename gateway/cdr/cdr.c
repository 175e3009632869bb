/*
 * The CDR store. Why it looks like this:
 * - Schema changes are a table of steps keyed by PRAGMA user_version, each
 *   applied in its own transaction, so an old file is upgraded in place and
 *   a newer file is refused rather than written wrongly.
 * - Statements are prepared once at open; a write is BEGIN IMMEDIATE (take
 *   the write lock first, so a busy database fails before any work), one
 *   INSERT, COMMIT.
 * - Values that did not happen (no answer, no cause, no PRI leg) are stored
 *   as NULL, so SQL over the table reads naturally (answer_ms IS NULL).
 * - Checkpoints (copying the WAL into the database: the one fsync of
 *   synchronous=NORMAL) run on a thread of their own with its own
 *   connection, once a second: done by the writer they stalled call control
 *   for up to 30 ms (measured under the gateway benchmark).
 */
#include "cdr/cdr.h"
#include "core/err.h"
#include "core/log.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define CTX "cdr"

static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE cdr ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " call_id TEXT,"
    " direction TEXT NOT NULL CHECK (direction IN ('out', 'in', 'local')),"
    " calling TEXT,"
    " called TEXT,"
    " start_ms INTEGER NOT NULL,"
    " answer_ms INTEGER,"
    " end_ms INTEGER NOT NULL,"
    " sip_status INTEGER,"
    " cause_sip INTEGER,"
    " cause_pstn INTEGER,"
    " ended_by TEXT,"
    " span INTEGER,"
    " channel INTEGER,"
    " rtp_rx INTEGER,"
    " rtp_lost INTEGER,"
    " jitter_ms REAL,"
    " jitter_max_ms REAL);"
    "CREATE INDEX cdr_call_id ON cdr (call_id);"
    "CREATE INDEX cdr_start ON cdr (start_ms);",
};

#define COLS                                                                                       \
	"id, call_id, direction, calling, called, start_ms, answer_ms, end_ms, sip_status, "       \
	"cause_sip, cause_pstn, ended_by, span, channel, rtp_rx, rtp_lost, jitter_ms, "            \
	"jitter_max_ms"

enum { ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_INSERT, ST_LAST, ST_COUNT, ST_N };

static const char *const stmt_sql[ST_N] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = "INSERT INTO cdr (call_id, direction, calling, called, start_ms, answer_ms,"
                  " end_ms, sip_status, cause_sip, cause_pstn, ended_by, span, channel, rtp_rx,"
                  " rtp_lost, jitter_ms, jitter_max_ms)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                  " ?16, ?17)",
    [ST_LAST] = "SELECT " COLS " FROM (SELECT * FROM cdr ORDER BY id DESC LIMIT ?1)"
                " ORDER BY id ASC",
    [ST_COUNT] = "SELECT count(*) FROM cdr",
};

static const char *const dir_names[] = {"out", "in", "local"};
static const char *const end_names[] = {"unknown", "sip", "pstn", "gateway"};

struct cdr {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	/* the checkpointer */
	sqlite3 *ckdb;
	pthread_t ck;
	pthread_mutex_t mx;
	pthread_cond_t cv;
	bool ck_run, stop;
};

#define CHECKPOINT_MS 1000

static int db_err(struct cdr *c, int rc, const char *what);
static int exec(struct cdr *c, const char *sql);

static void *checkpointer(void *arg)
{
	struct cdr *c = arg;
	struct timespec ts;

	pthread_mutex_lock(&c->mx);
	while (!c->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += CHECKPOINT_MS / 1000;
		pthread_cond_timedwait(&c->cv, &c->mx, &ts);
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->mx);
		/* PASSIVE: never waits for the writer; what it cannot copy now waits a second */
		int rc = sqlite3_wal_checkpoint_v2(c->ckdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
		                                   NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			LOGW(CTX, "checkpoint: %s", sqlite3_errmsg(c->ckdb));
		pthread_mutex_lock(&c->mx);
	}
	pthread_mutex_unlock(&c->mx);
	return NULL;
}

/* The writer stops checkpointing; a thread with its own connection does it. */
static int start_checkpointer(struct cdr *c, const char *path)
{
	pthread_condattr_t ca;
	int rc = sqlite3_open_v2(path, &c->ckdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK)
		return c->ckdb ? db_err(c, rc, "checkpoint connection") : ENOMEM;
	sqlite3_busy_timeout(c->ckdb, 1000);
	if (pthread_condattr_init(&ca))
		return ENOMEM;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&c->cv, &ca)) {
		pthread_condattr_destroy(&ca);
		return ENOMEM;
	}
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&c->mx, NULL);
	if (pthread_create(&c->ck, NULL, checkpointer, c)) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mx);
		return EAGAIN;
	}
	c->ck_run = true;
	return exec(c, "PRAGMA wal_autocheckpoint=0");
}

static void stop_checkpointer(struct cdr *c)
{
	if (c->ck_run) {
		pthread_mutex_lock(&c->mx);
		c->stop = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mx);
		pthread_join(c->ck, NULL);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mx);
		c->ck_run = false;
	}
	sqlite3_close(c->ckdb);
	c->ckdb = NULL;
}

const char *cdr_dir_name(enum cdr_dir d)
{
	return (unsigned)d < ARRAY_SIZE(dir_names) ? dir_names[d] : "?";
}

const char *cdr_end_name(enum cdr_end e)
{
	return (unsigned)e < ARRAY_SIZE(end_names) ? end_names[e] : "unknown";
}

static int db_err(struct cdr *c, int rc, const char *what)
{
	LOGE(CTX, "%s: %s", what, sqlite3_errmsg(c->db));
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? EBUSY : EIO;
}

static int exec(struct cdr *c, const char *sql)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_err(c, rc, sql);
}

static int pragma_int(struct cdr *c, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_err(c, rc, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_err(c, rc, sql);
}

static int set_wal(struct cdr *c)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	const char *mode;
	bool wal;

	if (rc != SQLITE_OK)
		return db_err(c, rc, "journal_mode");
	rc = sqlite3_step(st);
	mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	wal = mode && !strcmp(mode, "wal");
	sqlite3_finalize(st);
	if (!wal) {
		LOGE(CTX, "cannot switch the CDR database to WAL mode");
		return rc == SQLITE_BUSY ? EBUSY : EIO;
	}
	return 0;
}

static int migrate(struct cdr *c)
{
	int64_t ver;
	char sql[64];
	int err = pragma_int(c, "PRAGMA user_version", &ver);

	if (err)
		return err;
	if (ver > (int64_t)ARRAY_SIZE(migrations)) {
		LOGE(CTX, "the CDR database has schema %lld, newer than this tandemd's %d",
		     (long long)ver, CDR_SCHEMA_VERSION);
		return ENOTSUP;
	}
	for (; !err && ver < (int64_t)ARRAY_SIZE(migrations); ver++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%lld", (long long)ver + 1);
		err = exec(c, "BEGIN IMMEDIATE");
		if (err)
			break;
		err = exec(c, migrations[ver]);
		if (!err)
			err = exec(c, sql);
		if (!err)
			err = exec(c, "COMMIT");
		if (err)
			exec(c, "ROLLBACK");
	}
	return err;
}

int cdr_open(struct cdr **cp, const char *path, const struct cdr_config *cfg)
{
	struct cdr_config def = {CDR_SYNC_NORMAL, 0};
	struct cdr *c;
	int rc, err;

	if (!cp || !path || !*path)
		return EINVAL;
	if (!cfg)
		cfg = &def;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	rc = sqlite3_open_v2(
	    path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = c->db ? db_err(c, rc, path) : ENOMEM;
		goto out;
	}
	sqlite3_busy_timeout(c->db, cfg->busy_ms ? (int)cfg->busy_ms : 1000);
	err = set_wal(c);
	if (!err)
		err = exec(c, cfg->sync == CDR_SYNC_FULL ? "PRAGMA synchronous=FULL"
		                                         : "PRAGMA synchronous=NORMAL");
	if (!err)
		err = migrate(c);
	if (!err)
		err = start_checkpointer(c, path);
	for (int i = 0; !err && i < ST_N; i++) {
		rc = sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                        &c->st[i], NULL);
		if (rc != SQLITE_OK)
			err = db_err(c, rc, stmt_sql[i]);
	}
	if (err)
		goto out;
	*cp = c;
	return 0;
out:
	cdr_close(c);
	return err;
}

void cdr_close(struct cdr *c)
{
	if (!c)
		return;
	stop_checkpointer(c);
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(c->st[i]);
	/* the last connection to close checkpoints and removes the WAL */
	sqlite3_close(c->db);
	free(c);
}

static int step_done(struct cdr *c, int st)
{
	int rc = sqlite3_step(c->st[st]);

	sqlite3_reset(c->st[st]);
	return rc == SQLITE_DONE ? 0 : db_err(c, rc, stmt_sql[st]);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_rec(sqlite3_stmt *st, const struct cdr_rec *r)
{
	bind_opt_text(st, 1, r->call_id);
	sqlite3_bind_text(st, 2, cdr_dir_name(r->dir), -1, SQLITE_STATIC);
	bind_opt_text(st, 3, r->calling);
	bind_opt_text(st, 4, r->called);
	sqlite3_bind_int64(st, 5, r->start_ms);
	bind_opt_int(st, 6, r->answer_ms);
	sqlite3_bind_int64(st, 7, r->end_ms);
	bind_opt_int(st, 8, r->sip_status);
	bind_opt_int(st, 9, r->cause_sip);
	bind_opt_int(st, 10, r->cause_pstn);
	sqlite3_bind_text(st, 11, cdr_end_name(r->ended_by), -1, SQLITE_STATIC);
	bind_opt_int(st, 12, r->span);
	bind_opt_int(st, 13, r->span ? r->channel : 0);
	sqlite3_bind_int64(st, 14, (int64_t)r->rtp_rx);
	sqlite3_bind_int64(st, 15, (int64_t)r->rtp_lost);
	sqlite3_bind_double(st, 16, r->jitter_ms);
	sqlite3_bind_double(st, 17, r->jitter_max_ms);
}

int cdr_write(struct cdr *c, struct cdr_rec *r)
{
	int err;

	if (!c || !r || (unsigned)r->dir >= ARRAY_SIZE(dir_names) || r->end_ms < r->start_ms ||
	    r->rtp_rx > INT64_MAX || r->rtp_lost > INT64_MAX)
		return EINVAL;
	err = step_done(c, ST_BEGIN);
	if (err)
		return err;
	bind_rec(c->st[ST_INSERT], r);
	err = step_done(c, ST_INSERT);
	sqlite3_clear_bindings(c->st[ST_INSERT]);
	if (!err)
		err = step_done(c, ST_COMMIT);
	if (err) {
		step_done(c, ST_ROLLBACK);
		LOGE(r->call_id, "CDR not written: %s", strerror(err));
		return err;
	}
	r->id = sqlite3_last_insert_rowid(c->db);
	return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void read_rec(sqlite3_stmt *st, struct cdr_rec *r)
{
	const char *dir = col_text(st, 2), *end = col_text(st, 11);

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->call_id = col_text(st, 1);
	for (unsigned i = 0; dir && i < ARRAY_SIZE(dir_names); i++)
		if (!strcmp(dir, dir_names[i]))
			r->dir = (enum cdr_dir)i;
	r->calling = col_text(st, 3);
	r->called = col_text(st, 4);
	r->start_ms = sqlite3_column_int64(st, 5);
	r->answer_ms = sqlite3_column_int64(st, 6);
	r->end_ms = sqlite3_column_int64(st, 7);
	r->sip_status = sqlite3_column_int(st, 8);
	r->cause_sip = sqlite3_column_int(st, 9);
	r->cause_pstn = sqlite3_column_int(st, 10);
	for (unsigned i = 0; end && i < ARRAY_SIZE(end_names); i++)
		if (!strcmp(end, end_names[i]))
			r->ended_by = (enum cdr_end)i;
	r->span = sqlite3_column_int(st, 12);
	r->channel = sqlite3_column_int(st, 13);
	r->rtp_rx = (uint64_t)sqlite3_column_int64(st, 14);
	r->rtp_lost = (uint64_t)sqlite3_column_int64(st, 15);
	r->jitter_ms = sqlite3_column_double(st, 16);
	r->jitter_max_ms = sqlite3_column_double(st, 17);
}

int cdr_last(struct cdr *c, unsigned n, cdr_read_h *h, void *arg)
{
	sqlite3_stmt *st = c->st[ST_LAST];
	struct cdr_rec r;
	int rc;

	sqlite3_bind_int64(st, 1, n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_rec(st, &r);
		h(&r, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_err(c, rc, "reading CDRs");
}

int cdr_count(struct cdr *c, uint64_t *n)
{
	sqlite3_stmt *st = c->st[ST_COUNT];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_err(c, rc, "counting CDRs");
}
