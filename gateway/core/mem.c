#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The header sits in front of the user's memory; 16-byte aligned. */
struct mem_hdr {
	mem_destroy_h *dh;
	uint32_t nrefs;
	uint32_t magic;
} __attribute__((aligned(16)));

#define MEM_MAGIC 0x7a6d656d

static struct mem_hdr *hdr_of(const void *data)
{
	return (struct mem_hdr *)((uintptr_t)data - sizeof(struct mem_hdr));
}

static void *mem_init(struct mem_hdr *h, mem_destroy_h *dh)
{
	if (!h)
		return NULL;
	h->dh = dh;
	h->nrefs = 1;
	h->magic = MEM_MAGIC;
	return h + 1;
}

void *mem_zalloc(size_t size, mem_destroy_h *dh)
{
	if (size > SIZE_MAX - sizeof(struct mem_hdr))
		return NULL;
	return mem_init(calloc(1, sizeof(struct mem_hdr) + size), dh);
}

void *mem_alloc(size_t size, mem_destroy_h *dh)
{
	if (size > SIZE_MAX - sizeof(struct mem_hdr))
		return NULL;
	return mem_init(malloc(sizeof(struct mem_hdr) + size), dh);
}

void *mem_ref(void *data)
{
	if (data)
		hdr_of(data)->nrefs++;
	return data;
}

void *mem_deref(void *data)
{
	struct mem_hdr *h;

	if (!data)
		return NULL;
	h = hdr_of(data);
	if (--h->nrefs > 0)
		return NULL;
	if (h->dh)
		h->dh(data);
	/* A destructor may not resurrect the object. */
	h->magic = 0;
	free(h);
	return NULL;
}

unsigned mem_nrefs(const void *data)
{
	return data ? hdr_of(data)->nrefs : 0;
}

char *mem_strndup(const char *s, size_t len)
{
	char *d = mem_zalloc(len + 1, NULL);

	if (d && len)
		memcpy(d, s, len);
	return d;
}
