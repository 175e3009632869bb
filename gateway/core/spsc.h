/*
 * spsc: a bounded single-producer/single-consumer queue of fixed-size entries,
 * woken by an eventfd.
 *
 * Lock-free ring (C11 atomics), capacity a power of two, entries copied in and
 * out; nothing allocates after spsc_alloc(). Used between the signalling thread
 * and each media worker (commands one way, events the other).
 *
 * Threading: exactly one thread pushes and exactly one thread pops at a time;
 * alloc and free happen while neither side runs. The eventfd (spsc_fd) turns
 * readable when an entry is pushed into a queue the consumer may have seen
 * empty; the consumer calls spsc_ack() and then pops until ENOENT.
 */
#ifndef TANDEM_CORE_SPSC_H
#define TANDEM_CORE_SPSC_H

#include <stddef.h>
#include <stdint.h>

struct spsc;

/* capacity: rounded up to a power of two (>= 2). 0, EINVAL, ENOMEM, or an errno
 * from eventfd(). The queue is a mem object: mem_deref() frees it. */
int spsc_alloc(struct spsc **qp, size_t entry_size, size_t capacity);

/* Producer: copies entry in. 0, or ENOSPC when full (nothing is queued). */
int spsc_push(struct spsc *q, const void *entry);
/* Consumer: copies the oldest entry out. 0, or ENOENT when empty. */
int spsc_pop(struct spsc *q, void *entry);

/* The eventfd to watch for LOOP_READ (non-blocking, close-on-exec). */
int spsc_fd(const struct spsc *q);
/* Consumer: clears the eventfd before draining. */
void spsc_ack(struct spsc *q);

size_t spsc_capacity(const struct spsc *q);
/* Approximate count (exact when called by either side while the other is idle). */
size_t spsc_count(const struct spsc *q);
/* Pushes that found the queue full; wakes written. Read by the producer. */
uint64_t spsc_full_count(const struct spsc *q);
uint64_t spsc_wake_count(const struct spsc *q);

#endif
