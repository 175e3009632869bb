/*
 * pattern: the one match syntax of the routing tables (see route.h), compiled
 * to one character-set mask per position so matching is a loop of ANDs.
 */
#include "route/route.h"

#include <string.h>

#include "core/err.h"

#define SET_DIGITS 0x3ffu
#define TAIL_NONE 0
#define TAIL_ONE 1  /* '.' */
#define TAIL_ZERO 2 /* '!' */

/* Bit of a character in the alphabet "0123456789*#+", 0 if outside it. */
static uint16_t bit(char c)
{
	if (c >= '0' && c <= '9')
		return (uint16_t)(1u << (c - '0'));
	if (c == '*')
		return 1u << 10;
	if (c == '#')
		return 1u << 11;
	if (c == '+')
		return 1u << 12;
	return 0;
}

/* "[...]" starting at *pp ('[' already consumed): digits, ranges, '*', '#'. */
static int parse_set(const char **pp, const char *end, uint16_t *set)
{
	const char *p = *pp;
	uint16_t s = 0;

	while (p < end && *p != ']') {
		uint16_t b = bit(*p);

		if (!b || *p == '+')
			return EINVAL;
		if (p + 2 < end && p[1] == '-' && p[2] != ']') {
			char lo = p[0], hi = p[2];

			if (lo < '0' || lo > '9' || hi < '0' || hi > '9' || lo > hi)
				return EINVAL;
			for (char c = lo; c <= hi; c++)
				s |= bit(c);
			p += 3;
			continue;
		}
		s |= b;
		p++;
	}
	if (p == end || !s)
		return EINVAL;
	*pp = p + 1;
	*set = s;
	return 0;
}

static uint16_t class_set(char c)
{
	switch (c) {
	case 'X':
	case 'x':
		return SET_DIGITS;
	case 'Z':
	case 'z':
		return SET_DIGITS & ~1u;
	case 'N':
	case 'n':
		return SET_DIGITS & ~3u;
	default:
		return bit(c);
	}
}

int route_pattern_compile(struct route_pattern *p, struct pl text)
{
	const char *s = text.p, *end = text.p + text.l;
	struct route_pattern r;
	bool literal = true;

	if (!p || !text.p)
		return EINVAL;
	memset(&r, 0, sizeof(r));
	if (s < end && *s == '_')
		s++;
	while (s < end) {
		uint16_t set;

		if (*s == '.' || *s == '!') {
			if (s + 1 != end)
				return EINVAL;
			r.tail = *s == '.' ? TAIL_ONE : TAIL_ZERO;
			literal = false;
			break;
		}
		if (r.n == ROUTE_PAT_MAX)
			return EINVAL;
		if (*s == '[') {
			s++;
			if (parse_set(&s, end, &set))
				return EINVAL;
		} else {
			set = class_set(*s++);
			if (!set)
				return EINVAL;
		}
		if (set & (set - 1))
			literal = false;
		r.set[r.n++] = set;
	}
	if (!r.n && r.tail == TAIL_NONE)
		return EINVAL;
	r.literal = literal;
	*p = r;
	return 0;
}

unsigned route_pattern_test(const struct route_pattern *p, const char *num)
{
	size_t len, i;

	if (!p || !num)
		return 0;
	len = strlen(num);
	for (i = 0; i < len; i++) {
		uint16_t b = bit(num[i]);

		if (!b)
			return 0;
		if (i < p->n ? !(p->set[i] & b) : (p->tail == TAIL_NONE || num[i] == '+'))
			return 0;
	}
	if (len < p->n)
		return ROUTE_PAT_MORE;
	if (p->tail == TAIL_NONE)
		return ROUTE_PAT_MATCH;
	if (p->tail == TAIL_ONE && len == p->n)
		return ROUTE_PAT_MORE;
	return ROUTE_PAT_MATCH | ROUTE_PAT_MORE;
}

bool route_pattern_match(const struct route_pattern *p, const char *num)
{
	return (route_pattern_test(p, num) & ROUTE_PAT_MATCH) != 0;
}
