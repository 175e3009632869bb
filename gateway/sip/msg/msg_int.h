/*
 * Private to the msg module: the character-class table and the small
 * scanners shared by the decoders. Not a public header.
 */
#ifndef TANDEM_SIP_MSG_INT_H
#define TANDEM_SIP_MSG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/pl.h"

/* Character classes (RFC 3261 §25.1), one uint16_t of flags per byte value. */
enum {
	CC_TOKEN = 0x01, /* alphanum - . ! % * _ + ` ' ~ */
	CC_WSP = 0x02,   /* SP HTAB */
	CC_LWS = 0x04,   /* SP HTAB CR LF */
	CC_DIGIT = 0x08,
	CC_HEX = 0x10,
	CC_ALPHA = 0x20,
	CC_PVAL = 0x40,  /* gen-value characters: token plus ':' '[' ']' (IPv6 hosts) */
	CC_URI = 0x80,   /* anything printable but SP, <, >, " (a URI may hold it) */
	CC_WORD = 0x100, /* word (Call-ID): token plus ( ) < > : \ " / [ ] ? { } */
	CC_LSEP = 0x200, /* what a list scan stops at: , " < > */
	CC_HOST = 0x400, /* hostname characters: alphanum - . _ */
};

extern const uint16_t sip_cc[256];

#define CC(c, cls) (sip_cc[(unsigned char)(c)] & (cls))

/* Skips SP, HTAB, CR, LF: inside a header value CR/LF only occur as folding. */
static inline const char *msg_lws(const char *p, const char *e)
{
	while (p < e && CC(*p, CC_LWS))
		p++;
	return p;
}

/* pl_trim() inlined: strips LWS at both ends. */
static inline struct pl msg_trim(struct pl pl)
{
	while (pl.l && CC(pl.p[0], CC_LWS)) {
		pl.p++;
		pl.l--;
	}
	while (pl.l && CC(pl.p[pl.l - 1], CC_LWS))
		pl.l--;
	return pl;
}

static inline const char *msg_token_end(const char *p, const char *e)
{
	while (p < e && CC(*p, CC_TOKEN))
		p++;
	return p;
}

/* Skips a quoted string starting at the opening quote; returns the
 * position after the closing quote, or NULL if it is unterminated. */
const char *msg_quoted_end(const char *p, const char *e);

/*
 * One ";name[=value]" generic parameter starting at *pp (which points at
 * ';' after optional LWS). Accepts LWS around ';' and '='. The value is a
 * token, a host (IPv6 reference, or bare IPv6 for received=, RFC 5118 §4.5)
 * or a quoted string (quotes kept). Returns 0, ENOENT (no ';' here) or EBADMSG.
 */
int msg_param_next(const char **pp, const char *e, struct pl *name, struct pl *val);

/* msg->bad of a request over a size limit (header lines, header section or
 * body of a datagram): sip_msg_check() answers 513 rather than 400. */
extern const char msg_too_large[];

/*
 * ASCII case-insensitive compare of n bytes of a against lc, which is lower
 * case ASCII (header names, methods, parameter names). Only letters fold:
 * eight bytes at a time, a byte of a may differ from lc by bit 0x20 only
 * where lc holds a letter.
 */
static inline bool msg_lceq(const char *a, const char *lc, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	size_t i = 0;

	for (; n - i >= 8; i += 8) {
		uint64_t x, y, letter;
		memcpy(&x, a + i, 8);
		memcpy(&y, lc + i, 8);
		/* bytes of y in 'a'..'z' (y < 0x80): high bit of (y+0x1f) & ~(y+0x05) */
		letter = (y + ones * (0x80 - 'a')) & ~(y + ones * (0x80 - 'z' - 1)) & high;
		if ((x ^ y) & ~(letter >> 2))
			return false;
	}
	if (i < n && n >= 8) {
		/* the tail as the last 8 bytes, overlapping what was compared */
		uint64_t x, y, letter;
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, lc + n - 8, 8);
		letter = (y + ones * (0x80 - 'a')) & ~(y + ones * (0x80 - 'z' - 1)) & high;
		return !((x ^ y) & ~(letter >> 2));
	}
	if (n - i >= 4) {
		const uint32_t ones4 = (uint32_t)ones, high4 = (uint32_t)high;
		uint32_t x, y, letter;
		memcpy(&x, a + i, 4);
		memcpy(&y, lc + i, 4);
		letter = (y + ones4 * (0x80 - 'a')) & ~(y + ones4 * (0x80 - 'z' - 1)) & high4;
		if ((x ^ y) & ~(letter >> 2))
			return false;
		i += 4;
	}
	for (; i < n; i++) {
		char c = lc[i];
		if (a[i] != c && ((a[i] | 0x20) != c || c < 'a' || c > 'z'))
			return false;
	}
	return true;
}

/* Decimal digits only, no LWS; 0, EBADMSG or ERANGE. */
int msg_u32(const char *p, const char *e, uint32_t *v);

/* The URI in a Request-URI or an addr: SIP/SIPS/TEL through sip_uri_decode(),
 * any other scheme as SIP_URI_OTHER. 0 or EBADMSG. */
struct sip_uri;
int msg_uri_decode(struct sip_uri *uri, struct pl text);

/* The typed decoders writing into an already zeroed struct (no copy). */
struct sip_addr;
struct sip_via;
int msg_addr_decode(struct sip_addr *a, struct pl val);
int msg_via_decode(struct sip_via *via, struct pl val, bool first);

/*
 * Header line scanner shared by decode and frame. From p, finds one header
 * line with its continuation lines. Sets *name (may be empty when malformed),
 * *val (trimmed), and *next (start of the next line).
 * Returns 1 for a header, 0 for the empty line ending the section (*next
 * after it), -1 malformed line (*next still valid), -2 incomplete.
 */
int msg_line(const char *p, const char *e, struct pl *name, struct pl *val, const char **next);

#endif
