/* Unit tests for core/spsc: order, full/empty, eventfd wake, and a two-thread
 * stress where every value pushed must come out once, in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/spsc.h"

struct ent {
	uint64_t seq;
	uint32_t check;
	char pad[20]; /* an odd size: entries are copied whole */
};

static bool readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void test_alloc_args(void **state)
{
	struct spsc *q = NULL;

	(void)state;
	assert_int_equal(spsc_alloc(&q, 0, 8), EINVAL);
	assert_int_equal(spsc_alloc(&q, 8, 0), EINVAL);
	assert_int_equal(spsc_alloc(NULL, 8, 8), EINVAL);
	assert_int_equal(spsc_alloc(&q, 8, 5), 0);
	assert_int_equal(spsc_capacity(q), 8); /* rounded up to a power of two */
	mem_deref(q);
	assert_int_equal(spsc_alloc(&q, 8, 1), 0);
	assert_int_equal(spsc_capacity(q), 2);
	mem_deref(q);
}

static void test_fifo_full_empty(void **state)
{
	struct spsc *q = NULL;
	struct ent e, o;

	(void)state;
	assert_int_equal(spsc_alloc(&q, sizeof(e), 4), 0);
	assert_int_equal(spsc_pop(q, &o), ENOENT);
	for (int round = 0; round < 5; round++) { /* wraps the ring several times */
		for (uint64_t i = 0; i < 4; i++) {
			memset(&e, 0, sizeof(e));
			e.seq = round * 100 + i;
			e.check = (uint32_t)(e.seq * 2654435761u);
			assert_int_equal(spsc_push(q, &e), 0);
		}
		assert_int_equal(spsc_count(q), 4);
		e.seq = 999;
		assert_int_equal(spsc_push(q, &e), ENOSPC);
		for (uint64_t i = 0; i < 4; i++) {
			assert_int_equal(spsc_pop(q, &o), 0);
			assert_int_equal(o.seq, round * 100 + i);
			assert_int_equal(o.check, (uint32_t)(o.seq * 2654435761u));
		}
		assert_int_equal(spsc_pop(q, &o), ENOENT);
		assert_int_equal(spsc_count(q), 0);
	}
	assert_int_equal(spsc_full_count(q), 5);
	mem_deref(q);
}

static void test_eventfd_wake(void **state)
{
	struct spsc *q = NULL;
	struct ent e = {0}, o;
	uint64_t w0;

	(void)state;
	assert_int_equal(spsc_alloc(&q, sizeof(e), 16), 0);
	assert_false(readable(spsc_fd(q), 0));
	assert_int_equal(spsc_push(q, &e), 0);
	assert_true(readable(spsc_fd(q), 0));
	w0 = spsc_wake_count(q);
	/* Into a non-empty queue: no second wake needed. */
	assert_int_equal(spsc_push(q, &e), 0);
	assert_int_equal(spsc_wake_count(q), w0);
	spsc_ack(q);
	assert_false(readable(spsc_fd(q), 0));
	assert_int_equal(spsc_pop(q, &o), 0);
	assert_int_equal(spsc_pop(q, &o), 0);
	assert_int_equal(spsc_pop(q, &o), ENOENT);
	/* Drained: the next push wakes again. */
	assert_int_equal(spsc_push(q, &e), 0);
	assert_true(readable(spsc_fd(q), 0));
	assert_int_equal(spsc_wake_count(q), w0 + 1);
	mem_deref(q);
}

#if defined(__SANITIZE_ADDRESS__)
#define STRESS_N 300000u /* ASan slows each copy several-fold */
#else
#define STRESS_N 2000000u
#endif

struct stress {
	struct spsc *q;
	uint64_t got, bad, wakes_waited;
	bool use_fd;
};

/* Consumer: sleeps on the eventfd when empty (like a loop), so a lost wake-up
 * shows as a poll timeout. */
static void *consumer(void *arg)
{
	struct stress *s = arg;
	struct ent o;
	uint64_t want = 0;

	while (want < STRESS_N) {
		if (spsc_pop(s->q, &o)) {
			if (s->use_fd) {
				if (!readable(spsc_fd(s->q), 2000)) {
					s->bad++; /* lost wake-up */
					break;
				}
				spsc_ack(s->q);
				s->wakes_waited++;
			}
			continue;
		}
		if (o.seq != want || o.check != (uint32_t)(o.seq * 2654435761u))
			s->bad++;
		want++;
	}
	s->got = want;
	return NULL;
}

static void stress(bool use_fd)
{
	struct stress s = {.use_fd = use_fd};
	pthread_t th;
	uint64_t full = 0;

	assert_int_equal(spsc_alloc(&s.q, sizeof(struct ent), 64), 0);
	assert_int_equal(pthread_create(&th, NULL, consumer, &s), 0);
	for (uint64_t i = 0; i < STRESS_N;) {
		struct ent e = {.seq = i, .check = (uint32_t)(i * 2654435761u)};

		if (spsc_push(s.q, &e)) {
			full++;
			sched_yield(); /* a loaded 2-CPU host: let the consumer run */
			continue;
		}
		i++;
	}
	pthread_join(th, NULL);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.got, STRESS_N);
	assert_int_equal(spsc_count(s.q), 0);
	assert_int_equal(spsc_full_count(s.q), full);
	print_message("stress(%s): %u entries, %llu pushes found it full, %llu sleeps\n",
	              use_fd ? "eventfd" : "spin", STRESS_N, (unsigned long long)full,
	              (unsigned long long)s.wakes_waited);
	mem_deref(s.q);
}

static void test_two_thread_spin(void **state)
{
	(void)state;
	stress(false);
}

static void test_two_thread_eventfd(void **state)
{
	(void)state;
	stress(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_args),         cmocka_unit_test(test_fifo_full_empty),
	    cmocka_unit_test(test_eventfd_wake),       cmocka_unit_test(test_two_thread_spin),
	    cmocka_unit_test(test_two_thread_eventfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
