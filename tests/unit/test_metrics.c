/* Unit tests for gateway/metrics: registry, Prometheus text format, the HTTP endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/sa.h"
#include "cdr/cdr.h"
#include "metrics/metrics.h"

static char *render(struct metrics *m)
{
	char *text;
	size_t len;

	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

/* Checks and drops the registry's own families, which every exposition starts with. */
static const char *skip_own(const char *text)
{
	static const char own[] =
	    "# HELP tandem_metrics_series_refused_total Label sets refused because a family "
	    "reached its series cap.\n"
	    "# TYPE tandem_metrics_series_refused_total counter\n"
	    "tandem_metrics_series_refused_total 0\n"
	    "# HELP tandem_build_info Tandem's version, as a label.\n"
	    "# TYPE tandem_build_info gauge\n"
	    "tandem_build_info{version=\"" TANDEM_VERSION "\"} 1\n"
	    "# HELP process_start_time_seconds Start time of the process since the Unix epoch "
	    "in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds ";
	const char *nl;
	long long t;

	assert_memory_equal(text, own, sizeof(own) - 1);
	t = atoll(text + sizeof(own) - 1);
	assert_true(t > 1700000000 && t <= (long long)time(NULL));
	nl = strchr(text + sizeof(own) - 1, '\n');
	assert_non_null(nl);
	return nl + 1;
}

static void test_exposition(void **state)
{
	static const double b[] = {0.1, 0.5, 1};
	struct metrics *m;
	struct metric *calls, *active, *setup, *up;
	char *text;

	assert_int_equal(metrics_alloc(&m), 0);
	assert_int_equal(metrics_counter(m, &calls, "tandem_calls_total",
	                                 "Calls ended, by direction and result.",
	                                 "direction,result"),
	                 0);
	assert_int_equal(metrics_gauge(m, &active, "tandem_calls_active", "Calls up now.", NULL),
	                 0);
	assert_int_equal(metrics_histogram(m, &setup, "tandem_call_setup_seconds", "Set-up time.",
	                                   "direction", b, 3),
	                 0);
	assert_int_equal(metrics_gauge(m, &up, "tandem_span_up", "Span\\state\nlayer 1", "span"),
	                 0);
	metric_inc(metric_get(calls, METRIC_LABELS("out", "answered")));
	metric_add(metric_get(calls, METRIC_LABELS("out", "answered")), 2);
	metric_inc(metric_get(calls, METRIC_LABELS("in", "busy")));
	metric_add(metric_get(calls, METRIC_LABELS("in", "busy")), -5); /* ignored */
	metric_set(metric_get(active, NULL), 7);
	metric_add(metric_get(active, NULL), -2);
	metric_observe(metric_get(setup, METRIC_LABELS("out")), 0.1); /* le is inclusive */
	metric_observe(metric_get(setup, METRIC_LABELS("out")), 0.25);
	metric_observe(metric_get(setup, METRIC_LABELS("out")), 3);
	metric_set(metric_get(up, METRIC_LABELS("a\"b\\c\nd")), 1);
	text = render(m);
	assert_string_equal(skip_own(text),
	                    "# HELP tandem_calls_total Calls ended, by direction and result.\n"
	                    "# TYPE tandem_calls_total counter\n"
	                    "tandem_calls_total{direction=\"out\",result=\"answered\"} 3\n"
	                    "tandem_calls_total{direction=\"in\",result=\"busy\"} 1\n"
	                    "# HELP tandem_calls_active Calls up now.\n"
	                    "# TYPE tandem_calls_active gauge\n"
	                    "tandem_calls_active 5\n"
	                    "# HELP tandem_call_setup_seconds Set-up time.\n"
	                    "# TYPE tandem_call_setup_seconds histogram\n"
	                    "tandem_call_setup_seconds_bucket{direction=\"out\",le=\"0.1\"} 1\n"
	                    "tandem_call_setup_seconds_bucket{direction=\"out\",le=\"0.5\"} 2\n"
	                    "tandem_call_setup_seconds_bucket{direction=\"out\",le=\"1\"} 2\n"
	                    "tandem_call_setup_seconds_bucket{direction=\"out\",le=\"+Inf\"} 3\n"
	                    "tandem_call_setup_seconds_sum{direction=\"out\"} 3.35\n"
	                    "tandem_call_setup_seconds_count{direction=\"out\"} 3\n"
	                    "# HELP tandem_span_up Span\\\\state\\nlayer 1\n"
	                    "# TYPE tandem_span_up gauge\n"
	                    "tandem_span_up{span=\"a\\\"b\\\\c\\nd\"} 1\n");
	free(text);
	assert_true(metric_value(metric_get(setup, METRIC_LABELS("out"))) == 3);
	metrics_free(m);
}

static void test_values_and_histogram(void **state)
{
	static const double b[] = {1, 2};
	struct metrics *m;
	struct metric *g, *h;
	char *text;

	assert_int_equal(metrics_alloc(&m), 0);
	assert_int_equal(metrics_gauge(m, &g, "g", "", NULL), 0);
	assert_int_equal(metrics_histogram(m, &h, "h_seconds", "", NULL, b, 2), 0);
	metric_set(metric_get(g, NULL), 0.1 + 0.2);
	text = render(m);
	/* shortest text that reads back as the same double; empty buckets still appear */
	assert_non_null(strstr(text, "\ng 0.30000000000000004\n"));
	assert_non_null(strstr(text,
	                       "\nh_seconds_bucket{le=\"1\"} 0\nh_seconds_bucket{le=\"2\"} 0\n"
	                       "h_seconds_bucket{le=\"+Inf\"} 0\nh_seconds_sum 0\n"
	                       "h_seconds_count 0\n"));
	free(text);
	metric_set(metric_get(g, NULL), 1.0 / 0.0);
	metric_observe(metric_get(h, NULL), -1);
	metric_observe(metric_get(h, NULL), 2);
	metric_observe(metric_get(h, NULL), 0.0 / 0.0); /* ignored */
	text = render(m);
	assert_non_null(strstr(text, "\ng +Inf\n"));
	assert_non_null(strstr(text,
	                       "\nh_seconds_bucket{le=\"1\"} 1\nh_seconds_bucket{le=\"2\"} 2\n"
	                       "h_seconds_bucket{le=\"+Inf\"} 2\nh_seconds_sum 1\n"
	                       "h_seconds_count 2\n"));
	free(text);
	metric_set(metric_get(g, NULL), 1e20);
	text = render(m);
	assert_non_null(strstr(text, "\ng 1e+20\n"));
	free(text);
	metrics_free(m);
}

static void test_names(void **state)
{
	static const double good[] = {1, 2}, bad[] = {2, 1}, inf[] = {1, 1.0 / 0.0};
	struct metrics *m;
	struct metric *f = NULL;

	assert_int_equal(metrics_alloc(&m), 0);
	assert_int_equal(metrics_counter(m, &f, "1abc", "", NULL), EINVAL);
	assert_int_equal(metrics_counter(m, &f, "a-b", "", NULL), EINVAL);
	assert_int_equal(metrics_counter(m, &f, "", "", NULL), EINVAL);
	assert_int_equal(metrics_counter(m, &f, "ok:name_total", "", NULL), 0);
	assert_int_equal(metrics_counter(m, &f, "ok:name_total", "", NULL), EEXIST);
	assert_int_equal(metrics_gauge(m, &f, "g1", "", "__x"), EINVAL);
	assert_int_equal(metrics_gauge(m, &f, "g2", "", "a:b"), EINVAL);
	assert_int_equal(metrics_gauge(m, &f, "g3", "", "a,a"), EINVAL);
	assert_int_equal(metrics_gauge(m, &f, "g4", "", "a,"), EINVAL);
	assert_int_equal(metrics_gauge(m, &f, "g5", "", "a,b,c,d,e"), EINVAL);
	assert_int_equal(metrics_gauge(m, &f, "g6", "", "a,b,c,d"), 0);
	assert_int_equal(metrics_histogram(m, &f, "h1", "", "le", good, 2), EINVAL);
	assert_int_equal(metrics_histogram(m, &f, "h2", "", NULL, bad, 2), EINVAL);
	assert_int_equal(metrics_histogram(m, &f, "h3", "", NULL, inf, 2), EINVAL);
	assert_int_equal(metrics_histogram(m, &f, "h4", "", NULL, good, 0), EINVAL);
	assert_int_equal(metrics_histogram(m, &f, "h5", "", "le_x", good, 2), 0);
	metrics_free(m);
}

static int collected;
static bool collect_on = true;
static void collect(struct metrics *m, void *arg)
{
	collected++;
	if (collect_on)
		metric_set(metric_get(arg, METRIC_LABELS("1")), 42);
}

static void test_bounds(void **state)
{
	struct metrics *m;
	struct metric *f, *refused;
	char *text;

	assert_int_equal(metrics_alloc(&m), 0);
	assert_int_equal(metrics_gauge(m, &f, "tandem_span_channels_busy", "", "span"), 0);
	metric_set_max_series(f, 2);
	assert_non_null(metric_get(f, METRIC_LABELS("1")));
	assert_non_null(metric_get(f, METRIC_LABELS("2")));
	assert_null(metric_get(f, METRIC_LABELS("3")));
	assert_null(metric_get(f, METRIC_LABELS("4")));
	metric_inc(NULL); /* a refused series is a no-op */
	metric_observe(NULL, 1);
	/* the same label set is the same series */
	assert_ptr_equal(metric_get(f, METRIC_LABELS("2")), metric_get(f, METRIC_LABELS("2")));
	assert_int_equal(metrics_on_collect(m, collect, f), 0);
	text = render(m);
	assert_int_equal(collected, 1);
	assert_non_null(strstr(text, "tandem_metrics_series_refused_total 2\n"));
	assert_non_null(strstr(text, "tandem_span_channels_busy{span=\"1\"} 42\n"));
	free(text);
	/* removing frees a slot */
	metric_remove(f, METRIC_LABELS("2"));
	assert_non_null(metric_get(f, METRIC_LABELS("3")));
	metric_remove(f, METRIC_LABELS("3"));
	metric_remove(f, METRIC_LABELS("1"));
	collect_on = false;
	text = render(m);
	assert_null(strstr(text, "tandem_span_channels_busy")); /* no series: family omitted */
	free(text);
	assert_non_null(metric_get(f, METRIC_LABELS("9")));
	(void)refused;
	metrics_free(m);
}

static void test_calls(void **state)
{
	static const struct {
		int dir, answered, sip, cause_sip, cause_pstn, end;
		const char *want;
	} cases[] = {
	    {CDR_DIR_OUT, 1, 200, 0, 16, CDR_END_SIP, "answered"},
	    {CDR_DIR_OUT, 0, 486, 17, 17, CDR_END_PSTN, "busy"},
	    {CDR_DIR_OUT, 0, 480, 19, 19, CDR_END_PSTN, "no_answer"},
	    {CDR_DIR_OUT, 0, 404, 1, 1, CDR_END_PSTN, "unallocated"},
	    {CDR_DIR_OUT, 0, 503, 34, 34, CDR_END_PSTN, "congestion"},
	    {CDR_DIR_OUT, 0, 487, 0, 16, CDR_END_SIP, "cancelled"},
	    {CDR_DIR_IN, 0, 487, 0, 16, CDR_END_PSTN, "cancelled"},
	    {CDR_DIR_IN, 0, 603, 21, 21, CDR_END_SIP, "rejected"},
	    {CDR_DIR_IN, 0, 500, 0, 41, CDR_END_SIP, "congestion"},
	    {CDR_DIR_IN, 0, 0, 0, 111, CDR_END_GATEWAY, "failed"},
	};
	struct metrics *m;
	struct metrics_calls *mc;
	char *text;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cdr_rec r = {.dir = cases[i].dir,
		                    .start_ms = 1000,
		                    .end_ms = 5000,
		                    .answer_ms = cases[i].answered ? 2000 : 0,
		                    .sip_status = cases[i].sip,
		                    .cause_sip = cases[i].cause_sip,
		                    .cause_pstn = cases[i].cause_pstn,
		                    .ended_by = cases[i].end};
		assert_string_equal(metrics_call_result(&r), cases[i].want);
	}
	assert_int_equal(metrics_alloc(&m), 0);
	assert_int_equal(metrics_calls_alloc(&mc, m), 0);
	metrics_calls_active(mc, CDR_DIR_OUT, 1, 1);
	metrics_calls_active(mc, CDR_DIR_OUT, 1, 1);
	metrics_calls_active(mc, CDR_DIR_OUT, 1, -1);
	metrics_calls_active(mc, CDR_DIR_LOCAL, 0, 1);
	struct cdr_rec r = {.dir = CDR_DIR_OUT,
	                    .start_ms = 1000,
	                    .answer_ms = 1400,
	                    .end_ms = 61400,
	                    .sip_status = 200,
	                    .cause_pstn = 16,
	                    .ended_by = CDR_END_SIP,
	                    .span = 1,
	                    .channel = 3,
	                    .rtp_rx = 3000,
	                    .rtp_lost = 7,
	                    .jitter_ms = 3};
	metrics_calls_end(mc, &r);
	text = render(m);
	assert_non_null(strstr(text, "tandem_calls_active{direction=\"out\",span=\"1\"} 1\n"
	                             "tandem_calls_active{direction=\"local\",span=\"none\"} 1\n"));
	assert_non_null(
	    strstr(text, "\ntandem_calls_total{direction=\"out\",result=\"answered\"} 1\n"));
	assert_non_null(strstr(text, "\ntandem_call_causes_total{side=\"pstn\",cause=\"16\"} 1\n"));
	assert_non_null(
	    strstr(text, "\ntandem_call_setup_seconds_bucket{direction=\"out\",le=\"0.25\"} 0\n"
	                 "tandem_call_setup_seconds_bucket{direction=\"out\",le=\"0.5\"} 1\n"));
	assert_non_null(strstr(text, "\ntandem_call_setup_seconds_sum{direction=\"out\"} 0.4\n"));
	assert_non_null(
	    strstr(text, "\ntandem_call_duration_seconds_bucket{direction=\"out\",le=\"30\"} 0\n"
	                 "tandem_call_duration_seconds_bucket{direction=\"out\",le=\"60\"} 1\n"));
	assert_non_null(strstr(text, "\ntandem_rtp_packets_lost_total{span=\"1\"} 7\n"));
	assert_non_null(
	    strstr(text, "\ntandem_rtp_jitter_seconds_bucket{direction=\"out\",le=\"0.002\"} 0\n"
	                 "tandem_rtp_jitter_seconds_bucket{direction=\"out\",le=\"0.005\"} 1\n"));
	free(text);
	metrics_calls_free(mc);
	metrics_free(m);
}

/* ---- HTTP ---- */

struct hfix {
	struct loop *loop;
	struct metrics *m;
	struct metrics_http *h;
	struct sa addr;
};

static void http_start(struct hfix *x, unsigned max_conns, unsigned timeout_ms)
{
	struct metrics_http_config cfg = {max_conns, timeout_ms};
	struct metric *f;

	memset(x, 0, sizeof(*x));
	assert_int_equal(loop_alloc(&x->loop), 0);
	assert_int_equal(metrics_alloc(&x->m), 0);
	assert_int_equal(metrics_counter(x->m, &f, "tandem_test_total", "A test.", NULL), 0);
	metric_add(metric_get(f, NULL), 12);
	assert_int_equal(sa_set_str(&x->addr, "127.0.0.1", 0), 0);
	assert_int_equal(metrics_http_alloc(&x->h, x->loop, x->m, &x->addr, &cfg), 0);
	assert_true(metrics_http_port(x->h) > 0);
	sa_set_port(&x->addr, metrics_http_port(x->h));
}

static void http_stop(struct hfix *x)
{
	metrics_http_free(x->h);
	metrics_free(x->m);
	loop_free(x->loop);
}

static int http_connect(struct hfix *x)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_int_equal(connect(fd, &x->addr.u.sa, x->addr.len), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Everything the server sends until it closes, within bounded loop rounds. */
static char *http_read(struct hfix *x, int fd)
{
	static char buf[1 << 16];
	size_t len = 0;
	bool eof = false;

	for (int round = 0; round < 300 && !eof; round++) {
		loop_run_once(x->loop, 10);
		for (;;) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n == 0)
				eof = true;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
	}
	assert_true(eof);
	buf[len] = '\0';
	return strdup(buf);
}

static char *http_get(struct hfix *x, const char *req)
{
	int fd = http_connect(x);
	char *r;

	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	r = http_read(x, fd);
	close(fd);
	return r;
}

static void test_http(void **state)
{
	struct hfix x;
	char *r, *body, *want, hdr[200];
	size_t len;

	http_start(&x, 0, 0);
	r = http_get(&x, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n");
	assert_int_equal(metrics_render(x.m, &want, &len), 0);
	snprintf(hdr, sizeof(hdr),
	         "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
	         "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	         len);
	assert_memory_equal(r, hdr, strlen(hdr));
	body = r + strlen(hdr);
	assert_string_equal(body, want);
	assert_non_null(strstr(body, "\ntandem_test_total 12\n"));
	free(want);
	free(r);
	/* a query string is allowed; HEAD has the headers only */
	r = http_get(&x, "GET /metrics?x=1 HTTP/1.0\n\n");
	assert_memory_equal(r, "HTTP/1.1 200 OK\r\n", 17);
	free(r);
	r = http_get(&x, "HEAD /metrics HTTP/1.1\r\n\r\n");
	assert_memory_equal(r, "HTTP/1.1 200 OK\r\n", 17);
	assert_int_equal(strlen(strstr(r, "\r\n\r\n")), 4);
	free(r);
	r = http_get(&x, "GET / HTTP/1.1\r\n\r\n");
	assert_string_equal(r,
	                    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
	                    "Content-Length: 14\r\nConnection: close\r\n\r\n404 Not Found\n");
	free(r);
	r = http_get(&x, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	assert_memory_equal(r, "HTTP/1.1 405 Method Not Allowed\r\n", 33);
	assert_non_null(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
	free(r);
	r = http_get(&x, "hello\r\n\r\n");
	assert_memory_equal(r, "HTTP/1.1 400 Bad Request\r\n", 26);
	free(r);
	http_stop(&x);
}

static void test_http_limits(void **state)
{
	struct hfix x;
	char big[5000];
	int fd[2];
	char *r;

	http_start(&x, 1, 100);
	/* a second connection while one is open is refused with 503 */
	fd[0] = http_connect(&x);
	loop_run_once(x.loop, 10);
	fd[1] = http_connect(&x);
	r = http_read(&x, fd[1]);
	assert_memory_equal(r, "HTTP/1.1 503 Service Unavailable\r\n", 34);
	free(r);
	close(fd[1]);
	/* the silent first one is dropped at the deadline, without a reply */
	r = http_read(&x, fd[0]);
	assert_string_equal(r, "");
	free(r);
	close(fd[0]);
	/* headers larger than the buffer */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	big[sizeof(big) - 1] = '\0';
	r = http_get(&x, big);
	assert_memory_equal(r, "HTTP/1.1 431 ", 13);
	free(r);
	http_stop(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exposition),  cmocka_unit_test(test_values_and_histogram),
	    cmocka_unit_test(test_names),       cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_calls),       cmocka_unit_test(test_http),
	    cmocka_unit_test(test_http_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
