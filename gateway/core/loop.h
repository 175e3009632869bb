/*
 * loop: the epoll event loop: file descriptors, timers, signals, deferred work.
 *
 * One loop per thread: the signalling thread runs one, each media worker its
 * own. Nothing here is shared between threads except loop_wake(), which any
 * thread may call to wake a loop from epoll_wait.
 *
 * Timers and deferred calls are embedded in the caller's structs (struct tmr,
 * struct loop_defer), so arming one allocates nothing except when the timer
 * heap grows. Handlers run on the loop's thread; a handler may add, modify or
 * remove any fd, timer or deferred call, including its own.
 */
#ifndef TANDEM_CORE_LOOP_H
#define TANDEM_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

enum {
	LOOP_READ = 1 << 0,
	LOOP_WRITE = 1 << 1,
	LOOP_ERROR = 1 << 2, /* reported only: hang-up or error on the fd */
};

typedef void(loop_fd_h)(int fd, unsigned events, void *arg);
typedef void(loop_sig_h)(int signo, void *arg);
typedef void(tmr_h)(void *arg);
typedef void(loop_defer_h)(void *arg);

int loop_alloc(struct loop **lp);
void loop_free(struct loop *l);

/* Runs until loop_stop(). Returns 0, or an errno from epoll. */
int loop_run(struct loop *l);
/* Runs at most one round of ready work, waiting up to timeout_ms (-1: forever). */
int loop_run_once(struct loop *l, int timeout_ms);
/* Makes loop_run() return after the current round. Loop thread only. */
void loop_stop(struct loop *l);
/* Any thread: wakes the loop (eventfd); the loop then runs its wake handler. */
void loop_wake(struct loop *l);
void loop_set_wake_handler(struct loop *l, loop_defer_h *h, void *arg);

/* Monotonic milliseconds, read once per round (cheap). */
uint64_t loop_now(const struct loop *l);
/* Monotonic milliseconds read now from the clock. */
uint64_t loop_clock_ms(void);

/* Watches fd for LOOP_READ and/or LOOP_WRITE. Calling it again modifies. */
int loop_fd_listen(struct loop *l, int fd, unsigned events, loop_fd_h *h, void *arg);
/* Stops watching fd (does not close it). Safe from any handler. */
void loop_fd_forget(struct loop *l, int fd);

/* Calls h(signo, arg) on the loop for each delivery of signo (signalfd). */
int loop_signal(struct loop *l, int signo, loop_sig_h *h, void *arg);

/* Timers: embed a struct tmr; init once with tmr_init(). */
struct tmr {
	struct loop *loop;
	uint64_t expires;
	uint64_t seq;
	unsigned idx; /* position in the heap + 1; 0: not running */
	tmr_h *h;
	void *arg;
};

void tmr_init(struct tmr *t);
/* (Re)arms t to fire once after delay_ms. Returns 0 or ENOMEM. */
int tmr_start(struct loop *l, struct tmr *t, uint64_t delay_ms, tmr_h *h, void *arg);
void tmr_cancel(struct tmr *t);
bool tmr_running(const struct tmr *t);
/* Milliseconds until t fires; 0 if not running or due. */
uint64_t tmr_left(const struct tmr *t);

/* Deferred work: runs after the current handlers, before the next wait. */
struct loop_defer {
	struct loop_defer *next;
	loop_defer_h *h;
	void *arg;
	bool queued;
};

void loop_defer(struct loop *l, struct loop_defer *d, loop_defer_h *h, void *arg);
void loop_defer_cancel(struct loop *l, struct loop_defer *d);

#endif
