/* Unit tests for gateway/cdr: write, read back, reopen, crash, concurrent handles, ctl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cdr/cdr.h"
#include "core/err.h"
#include "core/loop.h"
#include "ctl/ctl.h"
#include "ctl/json.h"

struct fix {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_cdr.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/cdr.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char p[128];

	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct cdr_rec sample(int i)
{
	static char callid[4][48], calling[4][24];
	struct cdr_rec r = {0};

	snprintf(callid[i % 4], sizeof(callid[0]), "a84b4c76e6671%d@pc33.example.com", i);
	snprintf(calling[i % 4], sizeof(calling[0]), "+1212555100%d", i);
	r.call_id = callid[i % 4];
	r.dir = i % 2 ? CDR_DIR_IN : CDR_DIR_OUT;
	r.calling = calling[i % 4];
	r.called = "+12125550100";
	r.start_ms = 1795000000000LL + i * 60000;
	r.answer_ms = i == 1 ? 0 : r.start_ms + 1500 + i;
	r.end_ms = r.start_ms + 30250;
	r.sip_status = i == 1 ? 486 : 200;
	r.cause_sip = i == 1 ? 17 : 0;
	r.cause_pstn = i == 1 ? 17 : 16;
	r.ended_by = i == 1 ? CDR_END_PSTN : CDR_END_SIP;
	r.span = 1 + i % 2;
	r.channel = 5 + i;
	r.rtp_rx = i == 1 ? 0 : 1500u + (unsigned)i;
	r.rtp_lost = (unsigned)i * 3u;
	r.jitter_ms = 0.125 * i;
	r.jitter_max_ms = 1.5 * i;
	return r;
}

static void same(const struct cdr_rec *a, const struct cdr_rec *b)
{
	assert_true(a->id == b->id);
	assert_string_equal(a->call_id, b->call_id);
	assert_int_equal(a->dir, b->dir);
	assert_string_equal(a->calling, b->calling);
	assert_string_equal(a->called, b->called);
	assert_true(a->start_ms == b->start_ms);
	assert_true(a->answer_ms == b->answer_ms);
	assert_true(a->end_ms == b->end_ms);
	assert_int_equal(a->sip_status, b->sip_status);
	assert_int_equal(a->cause_sip, b->cause_sip);
	assert_int_equal(a->cause_pstn, b->cause_pstn);
	assert_int_equal(a->ended_by, b->ended_by);
	assert_int_equal(a->span, b->span);
	assert_int_equal(a->channel, b->channel);
	assert_true(a->rtp_rx == b->rtp_rx);
	assert_true(a->rtp_lost == b->rtp_lost);
	assert_true(a->jitter_ms == b->jitter_ms);
	assert_true(a->jitter_max_ms == b->jitter_max_ms);
}

struct seen {
	struct cdr_rec want[8];
	int64_t ids[16];
	int n;
	struct cdr *writer; /* writes from inside the read callback when set */
};

static void on_rec(const struct cdr_rec *r, void *arg)
{
	struct seen *s = arg;

	if (s->want[s->n].call_id)
		same(r, &s->want[s->n]);
	s->ids[s->n++] = r->id;
	if (s->writer) {
		struct cdr_rec w = sample(3);
		assert_int_equal(cdr_write(s->writer, &w), 0);
	}
}

static void test_write_read(void **state)
{
	struct fix *f = *state;
	struct cdr *c;
	struct cdr_rec r[3];
	struct seen s = {0};
	uint64_t n;

	assert_int_equal(cdr_open(&c, f->path, NULL), 0);
	for (int i = 0; i < 3; i++) {
		r[i] = sample(i);
		assert_int_equal(cdr_write(c, &r[i]), 0);
		assert_true(r[i].id == i + 1);
	}
	assert_int_equal(cdr_count(c, &n), 0);
	assert_true(n == 3);
	/* the last two, oldest first */
	s.want[0] = r[1];
	s.want[1] = r[2];
	assert_int_equal(cdr_last(c, 2, on_rec, &s), 0);
	assert_int_equal(s.n, 2);
	/* more than there are */
	memset(&s, 0, sizeof(s));
	memcpy(s.want, r, sizeof(r));
	assert_int_equal(cdr_last(c, 100, on_rec, &s), 0);
	assert_int_equal(s.n, 3);
	/* unknown strings stay unknown */
	struct cdr_rec bare = {.dir = CDR_DIR_LOCAL, .start_ms = 5, .end_ms = 5};
	assert_int_equal(cdr_write(c, &bare), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(cdr_last(c, 1, on_rec, &s), 0);
	assert_int_equal(s.n, 1);
	/* nonsense is refused before it reaches the database */
	struct cdr_rec back = sample(0);
	back.end_ms = back.start_ms - 1;
	assert_int_equal(cdr_write(c, &back), EINVAL);
	back = sample(0);
	back.dir = (enum cdr_dir)7;
	assert_int_equal(cdr_write(c, &back), EINVAL);
	assert_int_equal(cdr_count(c, &n), 0);
	assert_true(n == 4);
	cdr_close(c);
}

static void check_null_fields(const struct cdr_rec *r, void *arg)
{
	assert_null(r->call_id);
	assert_null(r->calling);
	assert_int_equal(r->dir, CDR_DIR_LOCAL);
	assert_int_equal(r->ended_by, CDR_END_UNKNOWN);
	(*(int *)arg)++;
}

static void test_reopen_and_schema(void **state)
{
	struct fix *f = *state;
	struct cdr_rec r[3];
	struct cdr *c;
	struct seen s = {0};
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t n;
	int got = 0;

	assert_int_equal(cdr_open(&c, f->path, NULL), 0);
	for (int i = 0; i < 3; i++) {
		r[i] = sample(i);
		assert_int_equal(cdr_write(c, &r[i]), 0);
	}
	struct cdr_rec bare = {.dir = CDR_DIR_LOCAL, .start_ms = 5, .end_ms = 6};
	assert_int_equal(cdr_write(c, &bare), 0);
	cdr_close(c);
	assert_int_equal(cdr_open(&c, f->path, NULL), 0);
	assert_int_equal(cdr_count(c, &n), 0);
	assert_true(n == 4);
	memcpy(s.want, r, sizeof(r));
	assert_int_equal(cdr_last(c, 4, on_rec, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(cdr_last(c, 1, check_null_fields, &got), 0);
	assert_int_equal(got, 1);
	cdr_close(c);

	/* what is on disk: WAL, the schema version, NULL for what did not happen */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT answer_ms, cause_sip, span IS NULL FROM cdr "
	                                    "WHERE id = 2",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(st, 0), SQLITE_NULL);
	assert_int_equal(sqlite3_column_int(st, 1), 17);
	assert_int_equal(sqlite3_column_int(st, 2), 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), CDR_SCHEMA_VERSION);
	sqlite3_finalize(st);
	/* a file from a newer tandemd is refused, not written */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	c = NULL;
	assert_int_equal(cdr_open(&c, f->path, NULL), ENOTSUP);
	assert_null(c);
	/* and something that is not a database at all */
	int fd = open(f->path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "not a database, not at all, no", 30), 30);
	close(fd);
	assert_int_equal(cdr_open(&c, f->path, NULL), EIO);
}

/* A process killed after cdr_write returned (no close, no checkpoint) loses nothing. */
static void test_crash(void **state)
{
	struct fix *f = *state;
	struct cdr_config full = {CDR_SYNC_FULL, 0};
	struct seen s = {0};
	struct cdr *c;
	uint64_t n;
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct cdr_rec r[2] = {sample(0), sample(1)};
		if (cdr_open(&c, f->path, NULL) || cdr_write(c, &r[0]))
			_exit(1);
		cdr_close(c);
		if (cdr_open(&c, f->path, &full) || cdr_write(c, &r[1]))
			_exit(1);
		_exit(0); /* as a crash: the WAL is neither checkpointed nor removed */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(cdr_open(&c, f->path, NULL), 0);
	assert_int_equal(cdr_count(c, &n), 0);
	assert_true(n == 2);
	s.want[0] = sample(0);
	s.want[0].id = 1;
	s.want[1] = sample(1);
	s.want[1].id = 2;
	assert_int_equal(cdr_last(c, 5, on_rec, &s), 0);
	assert_int_equal(s.n, 2);
	cdr_close(c);
}

static void test_concurrent(void **state)
{
	struct fix *f = *state;
	struct cdr_config quick = {CDR_SYNC_NORMAL, 50};
	struct cdr *a, *b;
	struct cdr_rec r;
	struct seen s = {0};
	sqlite3 *raw;
	uint64_t n;

	assert_int_equal(cdr_open(&a, f->path, NULL), 0);
	assert_int_equal(cdr_open(&b, f->path, &quick), 0);
	for (int i = 0; i < 4; i++) {
		r = sample(i);
		assert_int_equal(cdr_write(i % 2 ? b : a, &r), 0);
		assert_true(r.id == i + 1);
	}
	assert_int_equal(cdr_count(a, &n), 0);
	assert_true(n == 4);
	/* a reader in the middle of its statement does not block a writer (WAL) */
	s.writer = b;
	assert_int_equal(cdr_last(a, 10, on_rec, &s), 0);
	assert_int_equal(s.n, 4); /* the reader's snapshot: the 4 rows it started with */
	assert_int_equal(cdr_count(a, &n), 0);
	assert_true(n == 8);
	/* another writer holding the lock: EBUSY after busy_ms, then fine again */
	assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	r = sample(0);
	assert_int_equal(cdr_write(b, &r), EBUSY);
	assert_int_equal(sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(cdr_write(b, &r), 0);
	assert_true(r.id == 9);
	cdr_close(b);
	cdr_close(a);
}

/* "cdr" over the control socket */
static void test_ctl(void **state)
{
	struct fix *f = *state;
	struct ctl_config cfg = {0};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct loop *loop;
	struct ctl *ctl;
	struct cdr *c;
	struct json_tok t[256];
	char sock[128], buf[8192];
	size_t len = 0, n;
	int fd, i;

	snprintf(sock, sizeof(sock), "%s/ctl.sock", f->dir);
	cfg.path = sock;
	assert_int_equal(loop_alloc(&loop), 0);
	assert_int_equal(ctl_alloc(&ctl, loop, &cfg), 0);
	assert_int_equal(cdr_open(&c, f->path, NULL), 0);
	assert_int_equal(cdr_ctl_register(c, ctl), 0);
	for (i = 0; i < 3; i++) {
		struct cdr_rec r = sample(i);
		assert_int_equal(cdr_write(c, &r), 0);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sun.sun_path, sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	static const char req[] =
	    "{\"cmd\":\"cdr\",\"last\":\"2\"}\n{\"cmd\":\"cdr\",\"last\":0}\n";
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	for (int round = 0; round < 100 && !memchr(buf, '\n', len); round++) {
		ssize_t r;
		loop_run_once(loop, 10);
		while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)r;
		buf[len] = '\0';
	}
	char *nl = strchr(buf, '\n');
	assert_non_null(nl);
	assert_int_equal(json_parse(buf, (size_t)(nl - buf), t, 256, &n), 0);
	assert_int_equal(t[json_obj_get(t, n, 0, "total")].raw.p[0], '3');
	i = json_obj_get(t, n, 0, "cdrs");
	assert_int_equal(t[i].n, 2);
	/* the first listed is record 2, the unanswered busy call */
	int rec = i + 1;
	assert_true(pl_eq(t[json_obj_get(t, n, rec, "id")].raw, PL("2")));
	assert_true(json_tok_eq(&t[json_obj_get(t, n, rec, "start")], "2026-11-18T11:07:40.000Z"));
	assert_int_equal(t[json_obj_get(t, n, rec, "answer")].type, JSON_NULL);
	assert_true(pl_eq(t[json_obj_get(t, n, rec, "cause_pstn")].raw, PL("17")));
	assert_true(json_tok_eq(&t[json_obj_get(t, n, rec, "dir")], "in"));
	assert_true(json_tok_eq(&t[json_obj_get(t, n, rec, "ended_by")], "pstn"));
	for (int round = 0; round < 100 && !strchr(nl + 1, '\n'); round++) {
		ssize_t r;
		loop_run_once(loop, 10);
		while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)r;
		buf[len] = '\0';
	}
	assert_string_equal(nl + 1,
	                    "{\"ok\":false,\"error\":\"last must be a number from 1 to 1000\"}\n");
	close(fd);
	cdr_close(c);
	ctl_free(ctl);
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_and_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
