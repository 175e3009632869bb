/*
 * pl: a pointer/length slice into someone else's buffer ("pointer-length").
 *
 * Every parser in Tandem hands out pl slices into the receive buffer instead of
 * copying text. A pl never owns memory: whoever owns the buffer keeps it alive
 * (a SIP message holds a reference to its buffer, see sip/msg/msg.h).
 * Thread-safe: pure functions on caller data.
 */
#ifndef TANDEM_CORE_PL_H
#define TANDEM_CORE_PL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pl {
	const char *p;
	size_t l;
};

/* A slice of a string literal: PL("INVITE"). */
#define PL(s) ((struct pl){ (s), sizeof(s) - 1 })
#define PL_INIT { NULL, 0 }
/* printf helper: printf("%.*s", PL_ARG(x)) */
#define PL_ARG(x) (int)(x).l, (x).p

static inline struct pl pl_make(const char *p, size_t l)
{
	return (struct pl){ p, l };
}

static inline bool pl_isset(struct pl pl)
{
	return pl.p != NULL;
}

/* Exact byte comparison. */
bool pl_eq(struct pl a, struct pl b);
/* ASCII case-insensitive comparison. */
bool pl_caseeq(struct pl a, struct pl b);
/* Case-insensitive against a C string. */
bool pl_caseeq_str(struct pl a, const char *s);

/* Strips linear white space (SP, HTAB, CR, LF) from both ends. */
struct pl pl_trim(struct pl pl);

/*
 * Decimal conversions. The whole slice must be digits (no sign, no space).
 * Return 0, EINVAL (empty or non-digit) or ERANGE (overflow).
 */
int pl_u32(struct pl pl, uint32_t *out);
int pl_u64(struct pl pl, uint64_t *out);

/* First occurrence of byte c, or NULL. */
const char *pl_chr(struct pl pl, char c);

/* Copies into dst (size n, NUL-terminated, truncated). Returns dst. */
char *pl_strcpy(struct pl pl, char *dst, size_t n);

/* malloc'ed NUL-terminated copy, or NULL on ENOMEM. Caller frees. */
char *pl_strdup(struct pl pl);

#endif
