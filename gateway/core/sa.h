/*
 * sa: socket addresses (IPv4 and IPv6) as one value type.
 * Thread-safe: pure functions on caller data.
 */
#ifndef TANDEM_CORE_SA_H
#define TANDEM_CORE_SA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/pl.h"

struct sa {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
};

/* Literal address (IPv4 dotted, IPv6 with or without brackets) and port. */
int sa_set(struct sa *sa, struct pl addr, uint16_t port);
int sa_set_str(struct sa *sa, const char *addr, uint16_t port);
/* "host:port", "[v6]:port", or "host" (port defaults to def_port). */
int sa_decode(struct sa *sa, struct pl hostport, uint16_t def_port);
void sa_set_port(struct sa *sa, uint16_t port);
uint16_t sa_port(const struct sa *sa);
int sa_af(const struct sa *sa);
bool sa_isset(const struct sa *sa);
/* Same family, address and port. */
bool sa_eq(const struct sa *a, const struct sa *b);
/* Same family and address, any port. */
bool sa_eq_addr(const struct sa *a, const struct sa *b);
bool sa_is_loopback(const struct sa *sa);
bool sa_is_any(const struct sa *sa);
/* Address only, no brackets: "192.0.2.1" / "2001:db8::1". buf >= 46. */
char *sa_ntop(const struct sa *sa, char *buf, size_t n);
/* "192.0.2.1:5060" / "[2001:db8::1]:5060". buf >= 56. */
char *sa_str(const struct sa *sa, char *buf, size_t n);
/* Whether the slice is an IPv4 or (bracketed or bare) IPv6 literal. */
bool sa_is_ip_literal(struct pl host);

#define SA_STRLEN 56

#endif
