#include "core/sa.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int sa_set(struct sa *sa, struct pl addr, uint16_t port)
{
	char buf[64];

	if (addr.l >= 2 && addr.p[0] == '[' && addr.p[addr.l - 1] == ']') {
		addr.p++;
		addr.l -= 2;
	}
	if (!addr.l || addr.l >= sizeof(buf))
		return EINVAL;
	pl_strcpy(addr, buf, sizeof(buf));
	return sa_set_str(sa, buf, port);
}

int sa_set_str(struct sa *sa, const char *addr, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &sa->u.in.sin_addr) == 1) {
		sa->u.in.sin_family = AF_INET;
		sa->u.in.sin_port = htons(port);
		sa->len = sizeof(sa->u.in);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sa->u.in6.sin6_addr) == 1) {
		sa->u.in6.sin6_family = AF_INET6;
		sa->u.in6.sin6_port = htons(port);
		sa->len = sizeof(sa->u.in6);
		return 0;
	}
	return EINVAL;
}

int sa_decode(struct sa *sa, struct pl hp, uint16_t def_port)
{
	struct pl host = hp, port = PL_INIT;
	uint32_t p = def_port;

	if (hp.l && hp.p[0] == '[') {
		const char *e = pl_chr(hp, ']');
		if (!e)
			return EINVAL;
		host = pl_make(hp.p, (size_t)(e - hp.p) + 1);
		if ((size_t)(e - hp.p) + 1 < hp.l) {
			if (e[1] != ':')
				return EINVAL;
			port = pl_make(e + 2, hp.l - (size_t)(e - hp.p) - 2);
		}
	} else {
		const char *c = pl_chr(hp, ':');
		/* A bare IPv6 address has several colons and no port. */
		if (c && !pl_chr(pl_make(c + 1, hp.l - (size_t)(c - hp.p) - 1), ':')) {
			host = pl_make(hp.p, (size_t)(c - hp.p));
			port = pl_make(c + 1, hp.l - (size_t)(c - hp.p) - 1);
		}
	}
	if (pl_isset(port) && (pl_u32(port, &p) || p > 65535))
		return EINVAL;
	return sa_set(sa, host, (uint16_t)p);
}

void sa_set_port(struct sa *sa, uint16_t port)
{
	if (sa->u.sa.sa_family == AF_INET)
		sa->u.in.sin_port = htons(port);
	else if (sa->u.sa.sa_family == AF_INET6)
		sa->u.in6.sin6_port = htons(port);
}

uint16_t sa_port(const struct sa *sa)
{
	if (sa->u.sa.sa_family == AF_INET)
		return ntohs(sa->u.in.sin_port);
	if (sa->u.sa.sa_family == AF_INET6)
		return ntohs(sa->u.in6.sin6_port);
	return 0;
}

int sa_af(const struct sa *sa)
{
	return sa->u.sa.sa_family;
}

bool sa_isset(const struct sa *sa)
{
	return sa->u.sa.sa_family == AF_INET || sa->u.sa.sa_family == AF_INET6;
}

bool sa_eq_addr(const struct sa *a, const struct sa *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	if (a->u.sa.sa_family == AF_INET6)
		return !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16);
	return false;
}

bool sa_eq(const struct sa *a, const struct sa *b)
{
	return sa_eq_addr(a, b) && sa_port(a) == sa_port(b);
}

bool sa_is_loopback(const struct sa *sa)
{
	if (sa->u.sa.sa_family == AF_INET)
		return (ntohl(sa->u.in.sin_addr.s_addr) >> 24) == 127;
	if (sa->u.sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&sa->u.in6.sin6_addr);
	return false;
}

bool sa_is_any(const struct sa *sa)
{
	if (sa->u.sa.sa_family == AF_INET)
		return sa->u.in.sin_addr.s_addr == INADDR_ANY;
	if (sa->u.sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&sa->u.in6.sin6_addr);
	return false;
}

char *sa_ntop(const struct sa *sa, char *buf, size_t n)
{
	const void *a = sa->u.sa.sa_family == AF_INET6 ? (const void *)&sa->u.in6.sin6_addr
						       : (const void *)&sa->u.in.sin_addr;

	if (!sa_isset(sa) || !inet_ntop(sa->u.sa.sa_family, a, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

char *sa_str(const struct sa *sa, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	sa_ntop(sa, a, sizeof(a));
	if (sa->u.sa.sa_family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", a, sa_port(sa));
	else
		snprintf(buf, n, "%s:%u", a, sa_port(sa));
	return buf;
}

bool sa_is_ip_literal(struct pl host)
{
	struct sa sa;
	return sa_set(&sa, host, 0) == 0;
}
