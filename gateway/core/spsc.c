/*
 * The ring: head (next to pop) belongs to the consumer, tail (next to push)
 * to the producer; both only grow, the index is masked. Each side keeps the
 * other's last seen index in its own cache line, so a push or pop touches the
 * shared line only when the cached view says full/empty.
 *
 * Waking: the producer writes the eventfd only when its entry may land in a
 * queue the consumer saw empty (head == old tail). Deciding that is a
 * store-then-load on each side (producer: tail then head; consumer: head then
 * tail), the pattern where both could read stale values and a wake-up would be
 * lost; a seq_cst fence on each side between its store and its load rules that
 * out. One eventfd write per burst, not per entry.
 */
#include "core/spsc.h"
#include "core/mem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define CL 64

/* Padding, not alignas: mem_zalloc() promises malloc's alignment only, so the
 * two sides are kept CL bytes apart rather than aligned to a line. */
struct spsc {
	_Atomic size_t head;
	size_t tail_cache; /* consumer's view of tail */
	char pad1[CL];
	_Atomic size_t tail;
	size_t head_cache; /* producer's view of head */
	uint64_t full, wakes;
	char pad2[CL];
	size_t mask;
	size_t esize;
	int efd;
	uint8_t *ring;
};

static void spsc_destroy(void *data)
{
	struct spsc *q = data;

	if (q->efd >= 0)
		close(q->efd);
	mem_deref(q->ring);
}

int spsc_alloc(struct spsc **qp, size_t entry_size, size_t capacity)
{
	struct spsc *q;
	size_t cap = 2;
	int err = 0;

	if (!qp || !entry_size || !capacity || capacity > (SIZE_MAX >> 2) / entry_size)
		return EINVAL;
	while (cap < capacity)
		cap <<= 1;
	q = mem_zalloc(sizeof(*q), spsc_destroy);
	if (!q)
		return ENOMEM;
	q->efd = -1;
	q->ring = mem_zalloc(cap * entry_size, NULL);
	if (!q->ring) {
		err = ENOMEM;
		goto out;
	}
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		err = errno;
		goto out;
	}
	q->mask = cap - 1;
	q->esize = entry_size;
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
out:
	if (err)
		mem_deref(q);
	else
		*qp = q;
	return err;
}

int spsc_push(struct spsc *q, const void *entry)
{
	size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	size_t h;

	if (t - q->head_cache > q->mask) {
		q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
		if (t - q->head_cache > q->mask) {
			q->full++;
			return ENOSPC;
		}
	}
	memcpy(q->ring + (t & q->mask) * q->esize, entry, q->esize);
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	h = atomic_load_explicit(&q->head, memory_order_acquire);
	q->head_cache = h;
	if (h == t) {
		uint64_t one = 1;

		q->wakes++;
		/* EAGAIN only if the counter is near overflow: it is readable anyway */
		(void)!write(q->efd, &one, sizeof(one));
	}
	return 0;
}

int spsc_pop(struct spsc *q, void *entry)
{
	size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);

	if (h == q->tail_cache) {
		atomic_thread_fence(memory_order_seq_cst);
		q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
		if (h == q->tail_cache)
			return ENOENT;
	}
	memcpy(entry, q->ring + (h & q->mask) * q->esize, q->esize);
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
	return 0;
}

int spsc_fd(const struct spsc *q)
{
	return q->efd;
}

void spsc_ack(struct spsc *q)
{
	uint64_t v;

	(void)!read(q->efd, &v, sizeof(v));
}

size_t spsc_capacity(const struct spsc *q)
{
	return q->mask + 1;
}

size_t spsc_count(const struct spsc *q)
{
	size_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
	size_t h = atomic_load_explicit(&q->head, memory_order_acquire);

	return t - h;
}

uint64_t spsc_full_count(const struct spsc *q)
{
	return q->full;
}

uint64_t spsc_wake_count(const struct spsc *q)
{
	return q->wakes;
}
