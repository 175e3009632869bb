/*
 * mem: reference-counted allocations with an optional destructor.
 *
 * The one out-of-memory policy of Tandem: allocation failure is an ordinary
 * error. Functions that allocate return ENOMEM (errno-style int, see
 * core/err.h) and leave their outputs untouched; nothing aborts on a failed
 * allocation, so a flood can cost a request but never the daemon.
 *
 * mem_zalloc() returns zeroed memory with a reference count of 1.
 * mem_ref() adds a reference; mem_deref() drops one and, at zero, runs the
 * destructor and frees. mem_deref(NULL) is a no-op and always returns NULL,
 * so `x = mem_deref(x);` is the idiom. Not thread-safe: an object belongs to
 * one thread at a time (the signalling thread, or one media worker).
 */
#ifndef TANDEM_CORE_MEM_H
#define TANDEM_CORE_MEM_H

#include <stddef.h>

typedef void(mem_destroy_h)(void *data);

void *mem_zalloc(size_t size, mem_destroy_h *dh);
/* Like mem_zalloc() but the memory is NOT zeroed: for large objects whose
 * user initialises every field it reads (e.g. a header table filled up to a count). */
void *mem_alloc(size_t size, mem_destroy_h *dh);
void *mem_ref(void *data);
void *mem_deref(void *data);
unsigned mem_nrefs(const void *data);

/* Reference-counted NUL-terminated copy of s (len bytes), or NULL. */
char *mem_strndup(const char *s, size_t len);

#endif
