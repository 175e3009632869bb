#include "core/pl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool pl_eq(struct pl a, struct pl b)
{
	return a.l == b.l && (a.l == 0 || memcmp(a.p, b.p, a.l) == 0);
}

bool pl_caseeq(struct pl a, struct pl b)
{
	return a.l == b.l && (a.l == 0 || strncasecmp(a.p, b.p, a.l) == 0);
}

bool pl_caseeq_str(struct pl a, const char *s)
{
	size_t n = strlen(s);
	return a.l == n && (n == 0 || strncasecmp(a.p, s, n) == 0);
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct pl pl_trim(struct pl pl)
{
	while (pl.l && is_lws(pl.p[0])) {
		pl.p++;
		pl.l--;
	}
	while (pl.l && is_lws(pl.p[pl.l - 1]))
		pl.l--;
	return pl;
}

int pl_u64(struct pl pl, uint64_t *out)
{
	uint64_t v = 0;

	if (!pl.l)
		return EINVAL;
	for (size_t i = 0; i < pl.l; i++) {
		unsigned d = (unsigned char)pl.p[i] - '0';
		if (d > 9)
			return EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int pl_u32(struct pl pl, uint32_t *out)
{
	uint64_t v;
	int err = pl_u64(pl, &v);

	if (err)
		return err;
	if (v > UINT32_MAX)
		return ERANGE;
	*out = (uint32_t)v;
	return 0;
}

const char *pl_chr(struct pl pl, char c)
{
	return pl.l ? memchr(pl.p, c, pl.l) : NULL;
}

char *pl_strcpy(struct pl pl, char *dst, size_t n)
{
	size_t l;

	if (!n)
		return dst;
	l = pl.l < n - 1 ? pl.l : n - 1;
	if (l)
		memcpy(dst, pl.p, l);
	dst[l] = '\0';
	return dst;
}

char *pl_strdup(struct pl pl)
{
	char *s = malloc(pl.l + 1);

	if (s)
		pl_strcpy(pl, s, pl.l + 1);
	return s;
}
