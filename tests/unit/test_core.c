/* Unit tests for gateway/core: pl, mem, sa, loop (fds, timers, signals, deferred work). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/pl.h"
#include "core/sa.h"

static void test_pl(void **state)
{
	uint32_t v;
	uint64_t w;
	char buf[8];

	(void)state;
	assert_true(pl_eq(PL("abc"), PL("abc")));
	assert_false(pl_eq(PL("abc"), PL("abd")));
	assert_true(pl_caseeq(PL("Call-ID"), PL("call-id")));
	assert_true(pl_caseeq_str(PL("INVITE"), "invite"));
	assert_false(pl_caseeq_str(PL("INVITE"), "invit"));
	assert_int_equal(pl_u32(PL("4294967295"), &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(pl_u32(PL("4294967296"), &v), ERANGE);
	assert_int_equal(pl_u32(PL(""), &v), EINVAL);
	assert_int_equal(pl_u32(PL("12a"), &v), EINVAL);
	assert_int_equal(pl_u64(PL("18446744073709551616"), &w), ERANGE);
	struct pl t = pl_trim(PL(" \t x y\r\n "));
	assert_true(pl_eq(t, PL("x y")));
	assert_string_equal(pl_strcpy(PL("abcdefghij"), buf, sizeof(buf)), "abcdefg");
	assert_int_equal(*pl_chr(PL("a;b"), ';'), ';');
	assert_null(pl_chr(PL("ab"), ';'));
}

static int destroyed;
static void dtor(void *p)
{
	(void)p;
	destroyed++;
}

static void test_mem(void **state)
{
	(void)state;
	destroyed = 0;
	char *p = mem_zalloc(16, dtor);
	assert_non_null(p);
	assert_int_equal(p[15], 0);
	assert_int_equal(mem_nrefs(p), 1);
	assert_ptr_equal(mem_ref(p), p);
	assert_int_equal(mem_nrefs(p), 2);
	assert_null(mem_deref(p));
	assert_int_equal(destroyed, 0);
	assert_null(mem_deref(p));
	assert_int_equal(destroyed, 1);
	assert_null(mem_deref(NULL));
	char *s = mem_strndup("hello", 3);
	assert_string_equal(s, "hel");
	mem_deref(s);
}

static void test_sa(void **state)
{
	struct sa a, b;
	char buf[SA_STRLEN];

	(void)state;
	assert_int_equal(sa_decode(&a, PL("127.0.0.1:5060"), 1), 0);
	assert_int_equal(sa_port(&a), 5060);
	assert_true(sa_is_loopback(&a));
	assert_string_equal(sa_str(&a, buf, sizeof(buf)), "127.0.0.1:5060");
	assert_int_equal(sa_decode(&b, PL("[::1]:5061"), 1), 0);
	assert_int_equal(sa_af(&b), AF_INET6);
	assert_string_equal(sa_str(&b, buf, sizeof(buf)), "[::1]:5061");
	assert_int_equal(sa_decode(&b, PL("2001:db8::1"), 5060), 0);
	assert_int_equal(sa_port(&b), 5060);
	assert_int_equal(sa_decode(&b, PL("[::1]x"), 5060), EINVAL);
	assert_int_equal(sa_decode(&b, PL("1.2.3.4:70000"), 5060), EINVAL);
	assert_int_equal(sa_decode(&b, PL("example.com"), 5060), EINVAL);
	assert_int_equal(sa_decode(&b, PL("127.0.0.1"), 5070), 0);
	assert_false(sa_eq(&a, &b));
	assert_true(sa_eq_addr(&a, &b));
	sa_set_port(&b, 5060);
	assert_true(sa_eq(&a, &b));
	assert_true(sa_is_ip_literal(PL("[2001:db8::10]")));
	assert_false(sa_is_ip_literal(PL("[2001:db8:::192.0.2.1]")));
}

/* ---- loop ---- */

struct rec {
	char order[32];
	int n;
	struct loop *l;
	struct tmr self;
};

static void rec_h(void *arg)
{
	struct rec **pr = arg;
	(void)pr;
}

static struct rec g_rec;
static void mark_a(void *arg) { (void)arg; g_rec.order[g_rec.n++] = 'a'; }
static void mark_b(void *arg) { (void)arg; g_rec.order[g_rec.n++] = 'b'; }
static void mark_c(void *arg) { (void)arg; g_rec.order[g_rec.n++] = 'c'; }
static void mark_stop(void *arg)
{
	g_rec.order[g_rec.n++] = 's';
	loop_stop(arg);
}

static void test_timers(void **state)
{
	struct loop *l;
	struct tmr t1, t2, t3, t4, ts;

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	assert_int_equal(loop_alloc(&l), 0);
	tmr_init(&t1); tmr_init(&t2); tmr_init(&t3); tmr_init(&t4); tmr_init(&ts);
	assert_int_equal(tmr_start(l, &t1, 30, mark_c, NULL), 0);
	assert_int_equal(tmr_start(l, &t2, 10, mark_a, NULL), 0);
	assert_int_equal(tmr_start(l, &t3, 10, mark_b, NULL), 0); /* same deadline: FIFO */
	assert_int_equal(tmr_start(l, &t4, 20, rec_h, NULL), 0);
	tmr_cancel(&t4);
	assert_false(tmr_running(&t4));
	assert_true(tmr_running(&t1));
	assert_true(tmr_left(&t1) <= 30);
	assert_int_equal(tmr_start(l, &ts, 50, mark_stop, l), 0);
	uint64_t t0 = loop_clock_ms();
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_clock_ms() - t0 >= 49);
	assert_string_equal(g_rec.order, "abcs");
	assert_false(tmr_running(&t1));
	loop_free(l);
}

static void test_timer_heap_many(void **state)
{
	struct loop *l;
	static struct tmr t[300];

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	assert_int_equal(loop_alloc(&l), 0);
	for (unsigned i = 0; i < 300; i++) {
		tmr_init(&t[i]);
		assert_int_equal(tmr_start(l, &t[i], 1000 + (i * 7919) % 300, rec_h, NULL), 0);
	}
	/* cancel every third one, including from the middle of the heap */
	for (unsigned i = 0; i < 300; i += 3)
		tmr_cancel(&t[i]);
	unsigned running = 0;
	uint64_t prev = 0;
	for (unsigned i = 0; i < 300; i++)
		running += tmr_running(&t[i]);
	assert_int_equal(running, 200);
	/* Pop in order by cancelling the earliest repeatedly: expiries never decrease. */
	for (unsigned k = 0; k < 200; k++) {
		struct tmr *min = NULL;
		for (unsigned i = 0; i < 300; i++)
			if (tmr_running(&t[i]) && (!min || t[i].expires < min->expires))
				min = &t[i];
		assert_non_null(min);
		assert_true(min->expires >= prev);
		prev = min->expires;
		tmr_cancel(min);
	}
	loop_free(l);
}

static int pipe_reads;
static void on_read(int fd, unsigned ev, void *arg)
{
	char c;
	assert_true(ev & LOOP_READ);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'x');
	pipe_reads++;
	loop_fd_forget(arg, fd);
	loop_stop(arg);
}

static void test_fd(void **state)
{
	struct loop *l;
	int p[2];

	(void)state;
	assert_int_equal(loop_alloc(&l), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_fd_listen(l, p[0], LOOP_READ, on_read, l), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	pipe_reads = 0;
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(pipe_reads, 1);
	/* forgotten: a second byte wakes nothing */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run_once(l, 10), 0);
	assert_int_equal(pipe_reads, 1);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static struct loop_defer d1, d2;
static void defer_b(void *arg) { mark_b(arg); }
static void defer_a(void *arg)
{
	mark_a(arg);
	loop_defer(arg, &d2, defer_b, arg); /* runs on the next round */
}

static void test_defer(void **state)
{
	struct loop *l;

	(void)state;
	memset(&g_rec, 0, sizeof(g_rec));
	assert_int_equal(loop_alloc(&l), 0);
	loop_defer(l, &d1, defer_a, l);
	loop_defer(l, &d1, defer_a, l); /* queued once */
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_string_equal(g_rec.order, "a");
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_string_equal(g_rec.order, "ab");
	loop_defer(l, &d1, defer_a, l);
	loop_defer_cancel(l, &d1);
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_string_equal(g_rec.order, "ab");
	loop_free(l);
}

static int got_sig;
static void on_sig(int signo, void *arg)
{
	got_sig = signo;
	loop_stop(arg);
}

static void test_signal_and_wake(void **state)
{
	struct loop *l;

	(void)state;
	assert_int_equal(loop_alloc(&l), 0);
	assert_int_equal(loop_signal(l, SIGUSR1, on_sig, l), 0);
	kill(getpid(), SIGUSR1);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(got_sig, SIGUSR1);
	memset(&g_rec, 0, sizeof(g_rec));
	loop_set_wake_handler(l, mark_c, NULL);
	loop_wake(l);
	assert_int_equal(loop_run_once(l, 1000), 0);
	assert_string_equal(g_rec.order, "c");
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pl),     cmocka_unit_test(test_mem),
		cmocka_unit_test(test_sa),     cmocka_unit_test(test_timers),
		cmocka_unit_test(test_timer_heap_many), cmocka_unit_test(test_fd),
		cmocka_unit_test(test_defer),  cmocka_unit_test(test_signal_and_wake),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
