/*
 * uri internals shared by uri.c and uri_cmp.c: the character classes of
 * RFC 3261 §25.1 / RFC 3966 §3 as one 256-entry table. Not a public header.
 */
#ifndef TANDEM_SIP_URI_INT_H
#define TANDEM_SIP_URI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	UC_ALPHA = 1 << 0,
	UC_DIGIT = 1 << 1,
	UC_HEX = 1 << 2,     /* HEXDIG */
	UC_MARK = 1 << 3,    /* - _ . ! ~ * ' ( ) */
	UC_USER = 1 << 4,    /* user-unreserved: & = + $ , ; ? / */
	UC_PASS = 1 << 5,    /* password extras: & = + $ , */
	UC_PARAM = 1 << 6,   /* param-unreserved: [ ] / : & + $ */
	UC_HNV = 1 << 7,     /* hnv-unreserved: [ ] / ? : + $ */
	UC_RESV = 1 << 8,    /* reserved: ; / ? : @ & = + $ , */
	UC_SCHEME = 1 << 9,  /* scheme extras: + - . */
	UC_VISUAL = 1 << 10, /* RFC 3966 visual-separator: - . ( ) */
};

#define UC_ALNUM (UC_ALPHA | UC_DIGIT)
#define UC_UNRES (UC_ALNUM | UC_MARK)

extern const uint16_t sip_uri_cc[256];

static inline bool uri_cc(unsigned char c, unsigned mask)
{
	return (sip_uri_cc[c] & mask) != 0;
}

static inline int uri_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Value of a valid "%XX" at p (p + 3 <= end), or -1. */
static inline int uri_escval(const char *p, const char *end)
{
	int h, l;

	if (end - p < 3 || p[0] != '%')
		return -1;
	h = uri_hexval((unsigned char)p[1]);
	l = uri_hexval((unsigned char)p[2]);
	return h < 0 || l < 0 ? -1 : h * 16 + l;
}

/* Whether a hostname (not an IP literal) follows RFC 3261 hostname. */
bool sip_uri_hostname_ok(const char *p, size_t l);

#endif
