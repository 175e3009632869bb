/* Unit tests for gateway/ctl: the JSON writer and reader, and the control socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"
#include "core/loop.h"
#include "ctl/ctl.h"
#include "ctl/json.h"

/* ---- JSON writer ---- */

static void test_writer(void **state)
{
	struct json_w w;

	json_w_init(&w, 4096);
	json_obj_begin(&w, NULL);
	json_bool(&w, "ok", true);
	json_str(&w, "s", "a\"b\\c\n\t\x01/\xc3\xa9");
	json_strn(&w, "bad", PL("x\xff\xc3y"));
	json_int(&w, "neg", -9223372036854775807LL - 1);
	json_uint(&w, "big", 18446744073709551615ULL);
	json_double(&w, "d", 0.1);
	json_double(&w, "inf", 1.0 / 0.0);
	json_str(&w, "nul", NULL);
	json_arr_begin(&w, "a");
	json_int(&w, NULL, 1);
	json_obj_begin(&w, NULL);
	json_obj_end(&w);
	json_arr_begin(&w, NULL);
	json_arr_end(&w);
	json_arr_end(&w);
	json_obj_end(&w);
	assert_int_equal(json_w_err(&w), 0);
	assert_string_equal(w.buf,
	                    "{\"ok\":true,\"s\":\"a\\\"b\\\\c\\n\\t\\u0001/\xc3\xa9\","
	                    "\"bad\":\"x\\ufffd\\ufffdy\",\"neg\":-9223372036854775808,"
	                    "\"big\":18446744073709551615,\"d\":0.1,\"inf\":null,\"nul\":null,"
	                    "\"a\":[1,{},[]]}");

	/* misuse is sticky EINVAL: a key inside an array, none inside an object */
	json_w_reset(&w);
	json_arr_begin(&w, NULL);
	json_int(&w, "k", 1);
	assert_int_equal(json_w_err(&w), EINVAL);
	json_w_reset(&w);
	json_obj_begin(&w, NULL);
	json_int(&w, NULL, 1);
	assert_int_equal(json_w_err(&w), EINVAL);
	json_w_reset(&w);
	json_obj_begin(&w, NULL);
	json_arr_end(&w);
	assert_int_equal(json_w_err(&w), EINVAL);
	json_w_free(&w);

	/* the size cap */
	json_w_init(&w, 10);
	json_str(&w, NULL, "0123456789");
	assert_int_equal(json_w_err(&w), E2BIG);
	json_w_reset(&w);
	json_str(&w, NULL, "01234567");
	assert_int_equal(json_w_err(&w), 0);
	assert_int_equal(w.len, 10);
	json_w_free(&w);
}

/* ---- JSON reader ---- */

static void test_reader_valid(void **state)
{
	static const char doc[] =
	    " {\"cmd\":\"calls\",\"n\":-12.5e+3,\"t\":true,"
	    "\"a\":[1,[2,3],{\"x\":null}],\"f\":false,\"e\":\"\\u00e9\\ud83d\\ude00\"} ";
	struct json_tok t[32];
	size_t n;
	char buf[16];
	int i;

	assert_int_equal(json_parse(doc, strlen(doc), t, 32, &n), 0);
	assert_int_equal(n, 20);
	assert_int_equal(t[0].type, JSON_OBJECT);
	assert_int_equal(t[0].n, 6);
	assert_int_equal(t[0].next, 20);
	assert_int_equal(t[0].raw.l, strlen(doc) - 2);
	i = json_obj_get(t, n, 0, "cmd");
	assert_int_equal(i, 2);
	assert_true(json_tok_eq(&t[i], "calls"));
	assert_false(json_tok_eq(&t[i], "call"));
	i = json_obj_get(t, n, 0, "n");
	assert_int_equal(t[i].type, JSON_NUMBER);
	assert_true(pl_eq(t[i].raw, PL("-12.5e+3")));
	i = json_obj_get(t, n, 0, "a");
	assert_int_equal(t[i].type, JSON_ARRAY);
	assert_int_equal(t[i].n, 3);
	assert_int_equal(t[i].next, 16); /* the subtree is skipped in one step */
	assert_int_equal(json_obj_get(t, n, 0, "f"), 17);
	assert_int_equal(t[17].type, JSON_FALSE);
	i = json_obj_get(t, n, 0, "e");
	assert_int_equal(json_tok_str(&t[i], buf, sizeof(buf)), 0);
	assert_string_equal(buf, "\xc3\xa9\xf0\x9f\x98\x80");
	assert_true(json_tok_eq(&t[i], "\xc3\xa9\xf0\x9f\x98\x80"));
	assert_int_equal(json_tok_str(&t[i], buf, 6), E2BIG);
	assert_int_equal(json_obj_get(t, n, 0, "missing"), -1);
	assert_int_equal(json_obj_get(t, n, 1, "cmd"), -1); /* not an object */
	/* too few tokens */
	assert_int_equal(json_parse(doc, strlen(doc), t, 19, &n), E2BIG);
}

static void test_reader_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "{",
	    "}",
	    "{\"a\"}",
	    "{\"a\":}",
	    "{\"a\":1,}",
	    "[1,]",
	    "[1 2]",
	    "{a:1}",
	    "{'a':1}",
	    "\"abc",
	    "\"a\x01\"",
	    "\"\\x\"",
	    "\"\\u12\"",
	    "\"\\ud800\"",
	    "\"\\udc00\"",
	    "\"\\ud800\\u0041\"",
	    "01",
	    "-",
	    "1.",
	    ".5",
	    "1e",
	    "+1",
	    "tru",
	    "nul",
	    "truex",
	    "{} {}",
	    "\"\xff\"",
	    "\"\xc0\xaf\"",
	    "\"\xed\xa0\x80\"",
	    "\"\xf4\x90\x80\x80\"",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	    "NaN",
	    "Infinity",
	    "{\"a\":1 \"b\":2}",
	};
	struct json_tok t[64];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = json_parse(bad[i], strlen(bad[i]), t, 64, &n);
		if (err != EBADMSG)
			fail_msg("accepted or wrong error %d: %s", err, bad[i]);
	}
	/* depth 32 is the limit: 32 nested arrays pass, 33 fail (above) */
	char deep[65];
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	deep[64] = '\0';
	assert_int_equal(json_parse(deep, 64, t, 64, &n), 0);
	assert_int_equal(n, 32);
}

static void test_reader_numbers(void **state)
{
	static const struct {
		const char *in;
		int err;
		int64_t v;
	} cases[] = {
	    {"0", 0, 0},
	    {"-0", 0, 0},
	    {"42", 0, 42},
	    {"9223372036854775807", 0, INT64_MAX},
	    {"-9223372036854775808", 0, INT64_MIN},
	    {"9223372036854775808", ERANGE, 0},
	    {"-9223372036854775809", ERANGE, 0},
	    {"1.5", EINVAL, 0},
	    {"1e3", EINVAL, 0},
	};
	struct json_tok t[2];
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 0;
		assert_int_equal(json_parse(cases[i].in, strlen(cases[i].in), t, 2, &n), 0);
		assert_int_equal(json_tok_i64(&t[0], &v), cases[i].err);
		if (!cases[i].err)
			assert_true(v == cases[i].v);
	}
	/* \u0000 cannot become a C string */
	char buf[8];
	assert_int_equal(json_parse("\"a\\u0000\"", 9, t, 2, &n), 0);
	assert_int_equal(json_tok_str(&t[0], buf, sizeof(buf)), EINVAL);
	assert_false(json_tok_eq(&t[0], "a"));
}

/* ---- the control socket ---- */

struct fixture {
	struct loop *loop;
	struct ctl *ctl;
	char path[108];
	int calls_seen;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/test_ctl.%d.sock", (int)getpid());
	unlink(f->path);
	assert_int_equal(loop_alloc(&f->loop), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_free(f->ctl);
	loop_free(f->loop);
	unlink(f->path);
	free(f);
	return 0;
}

static void start(struct fixture *f, unsigned max_clients, size_t max_line)
{
	struct ctl_config cfg = {
	    .path = f->path, .max_clients = max_clients, .max_line = max_line, .version = "9.8.7"};

	assert_int_equal(ctl_alloc(&f->ctl, f->loop, &cfg), 0);
}

static int connect_client(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sun.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/*
 * Runs the loop until the client has `lines` complete lines or EOF, within a
 * bounded number of rounds. Returns what was read (malloc'ed); *eof tells.
 */
static char *collect(struct fixture *f, int fd, int lines, bool *eof)
{
	static char buf[1 << 16];
	size_t len = 0;
	int got = 0;

	*eof = false;
	for (int round = 0; round < 200 && got < lines && !*eof; round++) {
		loop_run_once(f->loop, 10);
		for (;;) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n == 0)
				*eof = true;
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				got += buf[len + (size_t)i] == '\n';
			len += (size_t)n;
		}
	}
	buf[len] = '\0';
	return strdup(buf);
}

static char *request(struct fixture *f, int fd, const char *line)
{
	bool eof;

	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	return collect(f, fd, 1, &eof);
}

static void check_reply(struct fixture *f, int fd, const char *req, const char *want)
{
	char *got = request(f, fd, req);

	assert_string_equal(got, want);
	free(got);
}

static void test_builtins(void **state)
{
	struct fixture *f = *state;
	struct json_tok t[64];
	struct stat st;
	size_t n;
	char *r;
	int fd, i;

	start(f, 0, 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	fd = connect_client(f->path);
	check_reply(f, fd, "{\"cmd\":\"version\"}\n", "{\"ok\":true,\"version\":\"9.8.7\"}\n");
	r = request(f, fd, "{\"cmd\":\"status\"}\r\n");
	assert_int_equal(json_parse(r, strlen(r), t, 64, &n), 0);
	assert_int_equal(t[json_obj_get(t, n, 0, "ok")].type, JSON_TRUE);
	i = json_obj_get(t, n, 0, "uptime_s");
	assert_true(i > 0);
	assert_int_equal(t[i].type, JSON_NUMBER);
	i = json_obj_get(t, n, 0, "ctl");
	assert_true(i > 0);
	i = json_obj_get(t, n, (unsigned)i, "clients");
	assert_true(pl_eq(t[i].raw, PL("1")));
	free(r);
	r = request(f, fd, "{\"cmd\":\"help\"}\n");
	assert_non_null(strstr(r, "{\"name\":\"help\",\"help\":\"list the commands\"}"));
	assert_non_null(strstr(r, "\"name\":\"status\""));
	free(r);
	assert_int_equal(ctl_nclients(f->ctl), 1);
	close(fd);
}

static int calls_h(struct ctl_req *req, struct json_w *w, void *arg)
{
	struct fixture *f = arg;
	const char *id = ctl_req_str(req, "id");
	int64_t last = 0;
	int err;

	f->calls_seen++;
	err = ctl_req_int(req, "last", &last);
	if (err && err != ENOENT) {
		ctl_req_fail(req, "bad last");
		return EINVAL;
	}
	if (id && !strcmp(id, "nosuch")) {
		ctl_req_fail(req, "no call '%s'", id);
		return ENOENT;
	}
	json_str(w, "cmd", ctl_req_cmd(req));
	json_arr_begin(w, "calls");
	for (int64_t i = 0; i < last; i++) {
		json_obj_begin(w, NULL);
		json_int(w, "n", i);
		json_str(w, "id", id);
		json_obj_end(w);
	}
	json_arr_end(w);
	return 0;
}

static int fail_h(struct ctl_req *req, struct json_w *w, void *arg)
{
	json_str(w, "partial", "dropped");
	return EPERM;
}

static void status_h(struct json_w *w, void *arg)
{
	json_uint(w, "active", 3);
}

static void test_register(void **state)
{
	struct fixture *f = *state;
	int fd;

	start(f, 0, 0);
	assert_int_equal(ctl_register(f->ctl, "calls", calls_h, f, "list calls"), 0);
	assert_int_equal(ctl_register(f->ctl, "calls", calls_h, f, "again"), EEXIST);
	assert_int_equal(ctl_register(f->ctl, "", calls_h, f, NULL), EINVAL);
	assert_int_equal(ctl_register(f->ctl, "fail", fail_h, NULL, NULL), 0);
	assert_int_equal(ctl_status_register(f->ctl, "calls", status_h, NULL), 0);
	assert_int_equal(ctl_status_register(f->ctl, "calls", status_h, NULL), EEXIST);
	fd = connect_client(f->path);
	check_reply(f, fd, "{\"cmd\":\"calls\",\"last\":2,\"id\":\"a\\\"b\"}\n",
	            "{\"ok\":true,\"cmd\":\"calls\",\"calls\":[{\"n\":0,\"id\":\"a\\\"b\"},"
	            "{\"n\":1,\"id\":\"a\\\"b\"}]}\n");
	/* numbers given as strings, as tandemctl sends them */
	check_reply(f, fd, "{\"cmd\":\"calls\",\"last\":\"1\"}\n",
	            "{\"ok\":true,\"cmd\":\"calls\",\"calls\":[{\"n\":0,\"id\":null}]}\n");
	check_reply(f, fd, "{\"cmd\":\"calls\",\"last\":\"x\"}\n",
	            "{\"ok\":false,\"error\":\"bad last\"}\n");
	check_reply(f, fd, "{\"cmd\":\"calls\",\"id\":\"nosuch\"}\n",
	            "{\"ok\":false,\"error\":\"no call 'nosuch'\"}\n");
	check_reply(f, fd, "{\"cmd\":\"fail\"}\n",
	            "{\"ok\":false,\"error\":\"Operation not permitted\"}\n");
	char *r = request(f, fd, "{\"cmd\":\"status\"}\n");
	assert_non_null(strstr(r, ",\"calls\":{\"active\":3}}"));
	free(r);
	assert_int_equal(f->calls_seen, 4);
	ctl_unregister(f->ctl, "calls");
	ctl_status_unregister(f->ctl, "calls");
	check_reply(f, fd, "{\"cmd\":\"calls\"}\n",
	            "{\"ok\":false,\"error\":\"unknown command 'calls' (try help)\"}\n");
	r = request(f, fd, "{\"cmd\":\"status\"}\n");
	assert_null(strstr(r, "active"));
	free(r);
	close(fd);
}

static void test_garbage(void **state)
{
	static const struct {
		const char *in, *err;
	} cases[] = {
	    {"hello\n", "malformed JSON"},
	    {"{\"cmd\":\"status\"\n", "malformed JSON"},
	    {"[\"status\"]\n", "a request is one JSON object"},
	    {"{\"cmd\":\"status\",\"a\":[1]}\n",
	     "arguments must be strings, numbers, booleans or null"},
	    {"{\"cmd\":\"status\",\"cmd\":\"help\"}\n", "duplicate key"},
	    {"{\"id\":\"x\"}\n", "missing or bad \\\"cmd\\\" (a string)"},
	    {"{\"cmd\":7}\n", "missing or bad \\\"cmd\\\" (a string)"},
	    {"{\"cmd\":\"\xff\"}\n", "malformed JSON"},
	};
	struct fixture *f = *state;
	char want[256], many[1024];
	size_t off;
	int fd;

	start(f, 0, 0);
	fd = connect_client(f->path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), "{\"ok\":false,\"error\":\"%s\"}\n", cases[i].err);
		check_reply(f, fd, cases[i].in, want);
	}
	/* 40 arguments exceed the token table */
	off = (size_t)snprintf(many, sizeof(many), "{\"cmd\":\"status\"");
	for (int i = 0; i < 40; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, ",\"k%d\":%d", i, i);
	snprintf(many + off, sizeof(many) - off, "}\n");
	check_reply(f, fd, many, "{\"ok\":false,\"error\":\"too many arguments\"}\n");
	/* blank lines are ignored; the connection still works after all that */
	check_reply(f, fd, "\n\r\n{\"cmd\":\"version\"}\n",
	            "{\"ok\":true,\"version\":\"9.8.7\"}\n");
	close(fd);
}

static void test_pipelined_and_eof(void **state)
{
	struct fixture *f = *state;
	static const char two[] = "{\"cmd\":\"version\"}\n{\"cmd\":\"nope\"}\n{\"cmd\":\"ver";
	bool eof;
	char *r;
	int fd;

	start(f, 0, 0);
	fd = connect_client(f->path);
	assert_int_equal(write(fd, two, strlen(two)), (ssize_t)strlen(two));
	r = collect(f, fd, 2, &eof);
	assert_string_equal(r, "{\"ok\":true,\"version\":\"9.8.7\"}\n"
	                       "{\"ok\":false,\"error\":\"unknown command 'nope' (try help)\"}\n");
	free(r);
	/* the rest of a request arrives, then the client closes its side without a newline */
	assert_int_equal(write(fd, "sion\"}", 6), 6);
	shutdown(fd, SHUT_WR);
	r = collect(f, fd, 2, &eof);
	assert_string_equal(r, "{\"ok\":true,\"version\":\"9.8.7\"}\n");
	assert_true(eof);
	free(r);
	close(fd);
	for (int i = 0; i < 5; i++)
		loop_run_once(f->loop, 0);
	assert_int_equal(ctl_nclients(f->ctl), 0);
}

static void test_line_limit(void **state)
{
	struct fixture *f = *state;
	char line[300];
	bool eof;
	char *r;
	int fd;

	start(f, 0, 64);
	fd = connect_client(f->path);
	/* exactly 64 bytes before the newline is accepted */
	memset(line, ' ', sizeof(line));
	memcpy(line, "{\"cmd\":\"version\"}", 17);
	line[64] = '\n';
	line[65] = '\0';
	check_reply(f, fd, line, "{\"ok\":true,\"version\":\"9.8.7\"}\n");
	/* 65 are not: one error, then the server hangs up */
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	r = collect(f, fd, 2, &eof);
	assert_string_equal(r, "{\"ok\":false,\"error\":\"line too long\"}\n");
	assert_true(eof);
	free(r);
	close(fd);
}

static int big_h(struct ctl_req *req, struct json_w *w, void *arg)
{
	json_arr_begin(w, "rows");
	for (int i = 0; i < 1000; i++)
		json_str(w, NULL, "0123456789");
	json_arr_end(w);
	return 0;
}

static void test_reply_limit(void **state)
{
	struct fixture *f = *state;
	struct ctl_config cfg = {.path = f->path, .max_reply = 2000};
	int fd;

	assert_int_equal(ctl_alloc(&f->ctl, f->loop, &cfg), 0);
	assert_int_equal(ctl_register(f->ctl, "big", big_h, NULL, NULL), 0);
	fd = connect_client(f->path);
	check_reply(f, fd, "{\"cmd\":\"big\"}\n", "{\"ok\":false,\"error\":\"reply too large\"}\n");
	/* a client that leaves with requests in flight costs nothing */
	assert_int_equal(write(fd, "{\"cmd\":\"help\"}\n{\"cmd\":\"help\"}\n", 30), 30);
	close(fd);
	for (int i = 0; i < 10; i++)
		loop_run_once(f->loop, 5);
	assert_int_equal(ctl_nclients(f->ctl), 0);
	fd = connect_client(f->path);
	check_reply(f, fd, "{\"cmd\":\"version\"}\n", "{\"ok\":true,\"version\":\"0.1.0\"}\n");
	close(fd);
}

static void test_idle(void **state)
{
	struct fixture *f = *state;
	struct ctl_config cfg = {.path = f->path, .idle_ms = 50};
	bool eof;
	char *r;
	int fd;

	assert_int_equal(ctl_alloc(&f->ctl, f->loop, &cfg), 0);
	fd = connect_client(f->path);
	check_reply(f, fd, "{\"cmd\":\"version\"}\n", "{\"ok\":true,\"version\":\"0.1.0\"}\n");
	assert_int_equal(ctl_nclients(f->ctl), 1);
	/* silent for longer than idle_ms: the server hangs up without a word */
	r = collect(f, fd, 1, &eof);
	assert_true(eof);
	assert_string_equal(r, "");
	free(r);
	assert_int_equal(ctl_nclients(f->ctl), 0);
	close(fd);
}

static void test_client_limit(void **state)
{
	struct fixture *f = *state;
	int fd[3];
	bool eof;
	char *r;

	start(f, 2, 0);
	for (int i = 0; i < 3; i++) {
		fd[i] = connect_client(f->path);
		for (int k = 0; k < 3; k++)
			loop_run_once(f->loop, 10);
	}
	assert_int_equal(ctl_nclients(f->ctl), 2);
	r = collect(f, fd[2], 1, &eof);
	assert_string_equal(r, "{\"ok\":false,\"error\":\"too many clients\"}\n");
	free(r);
	check_reply(f, fd[1], "{\"cmd\":\"version\"}\n", "{\"ok\":true,\"version\":\"9.8.7\"}\n");
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

static void test_socket_file(void **state)
{
	struct fixture *f = *state;
	struct ctl_config cfg = {.path = f->path};
	struct ctl *other = NULL;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	/* a stale socket (nobody listening) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sun.sun_path, f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	start(f, 0, 0);
	/* a live one is not */
	assert_int_equal(ctl_alloc(&other, f->loop, &cfg), EADDRINUSE);
	assert_null(other);
	ctl_free(f->ctl);
	f->ctl = NULL;
	assert_int_equal(access(f->path, F_OK), -1);
	/* neither is a regular file */
	fd = open(f->path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(ctl_alloc(&other, f->loop, &cfg), EADDRINUSE);
	assert_int_equal(access(f->path, F_OK), 0);
	/* nor a path longer than sun_path */
	cfg.path =
	    "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock";
	assert_int_equal(ctl_alloc(&other, f->loop, &cfg), ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writer),
	    cmocka_unit_test(test_reader_valid),
	    cmocka_unit_test(test_reader_invalid),
	    cmocka_unit_test(test_reader_numbers),
	    cmocka_unit_test_setup_teardown(test_builtins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_and_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
