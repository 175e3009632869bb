/*
 * number: dial strings, Request-URIs and Q.931 numbers <-> E.164.
 */
#include "route/route.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define E164_MAX_DIGITS 15

static bool all_digits(const char *s)
{
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

static bool starts_with(const char *s, const char *pfx)
{
	return strncmp(s, pfx, strlen(pfx)) == 0;
}

int route_numplan_check(const struct route_numplan *np)
{
	size_t cc;

	if (!np)
		return EINVAL;
	cc = strnlen(np->cc, sizeof(np->cc));
	if (cc == 0 || cc >= sizeof(np->cc) || !all_digits(np->cc))
		return EINVAL;
	if (strnlen(np->natpfx, sizeof(np->natpfx)) >= sizeof(np->natpfx) ||
	    strnlen(np->intlpfx, sizeof(np->intlpfx)) >= sizeof(np->intlpfx) ||
	    strnlen(np->area, sizeof(np->area)) >= sizeof(np->area))
		return EINVAL;
	if (!all_digits(np->natpfx) || !all_digits(np->intlpfx) || !all_digits(np->area))
		return EINVAL;
	if (cc + np->nsn_len > E164_MAX_DIGITS || np->local_len > E164_MAX_DIGITS)
		return EINVAL;
	if (np->area[0] && cc + strlen(np->area) + np->local_len > E164_MAX_DIGITS)
		return EINVAL;
	return 0;
}

/* out = '+' a b c, if that is 1..15 digits. Writes out only on success. */
static int set_e164(struct route_number *out, const char *a, const char *b, const char *c)
{
	char buf[ROUTE_NUM_MAX + 1];
	int n = snprintf(buf, sizeof(buf), "+%s%s%s", a, b ? b : "", c ? c : "");

	/* no country code begins with 0 */
	if (n < 2 || n - 1 > E164_MAX_DIGITS || !all_digits(buf + 1) || buf[1] == '0')
		return EINVAL;
	memset(out, 0, sizeof(*out));
	out->kind = ROUTE_NUM_E164;
	memcpy(out->digits, buf, (size_t)n + 1);
	return 0;
}

static int set_private(struct route_number *out, const char *digits, struct pl context)
{
	size_t n = strlen(digits);

	if (!n || n > ROUTE_NUM_MAX)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	out->kind = ROUTE_NUM_PRIVATE;
	memcpy(out->digits, digits, n + 1);
	out->context = context;
	return 0;
}

/* Digits, '*', '#', and the hex digits RFC 3966 allows in local numbers. */
static bool dial_chars(const char *s)
{
	for (; *s; s++) {
		if (!((*s >= '0' && *s <= '9') || *s == '*' || *s == '#' ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
	}
	return true;
}

int route_normalise_dial(const struct route_numplan *np, const char *dial,
			 struct route_number *out)
{
	size_t len, ip, xp;

	if (!np || !dial || !out)
		return EINVAL;
	len = strlen(dial);
	if (!len || len > ROUTE_NUM_MAX)
		return EINVAL;
	if (dial[0] == '+')
		return set_e164(out, dial + 1, NULL, NULL);
	if (!dial_chars(dial))
		return EINVAL;
	if (!all_digits(dial))
		return set_private(out, dial, pl_make(NULL, 0));
	ip = strlen(np->intlpfx);
	xp = strlen(np->natpfx);
	if (ip && len > ip && starts_with(dial, np->intlpfx))
		return set_e164(out, dial + ip, NULL, NULL);
	if (xp && len > xp && starts_with(dial, np->natpfx) &&
	    (!np->nsn_len || len - xp == np->nsn_len))
		return set_e164(out, np->cc, dial + xp, NULL);
	/* an NSN or a local number never begins with a prefix ("0207946000" in the UK) */
	if ((xp && starts_with(dial, np->natpfx)) || (ip && starts_with(dial, np->intlpfx)))
		return set_private(out, dial, pl_make(NULL, 0));
	if (np->nsn_len && len == np->nsn_len)
		return set_e164(out, np->cc, dial, NULL);
	if (np->area[0] && np->local_len && len == np->local_len)
		return set_e164(out, np->cc, np->area, dial);
	return set_private(out, dial, pl_make(NULL, 0));
}

static bool has_hex_letter(const char *s)
{
	for (; *s; s++) {
		if (*s >= 'A' && *s <= 'F')
			return true;
	}
	return false;
}

int route_normalise_uri(const struct route_numplan *np, const struct sip_uri *uri,
			struct route_number *out)
{
	char num[ROUTE_NUM_MAX + 1], ctx[ROUTE_NUM_MAX + 1];
	struct pl number, params = PL_INIT, pc;
	bool phone;

	if (!np || !uri || !out)
		return EINVAL;
	if (uri->scheme == SIP_URI_TEL) {
		number = uri->number;
		params = uri->params;
		phone = true;
	} else if (uri->scheme == SIP_URI_SIP || uri->scheme == SIP_URI_SIPS) {
		const char *semi;

		if (!pl_isset(uri->user) || !uri->user.l)
			return EINVAL;
		/* user=phone puts the number's own parameters in the user part */
		number = uri->user;
		semi = pl_chr(number, ';');
		if (semi)
			params = pl_make(semi, (size_t)(number.p + number.l - semi));
		phone = sip_uri_param(uri, "user", &pc) && pl_caseeq_str(pc, "phone");
	} else {
		return EPROTONOSUPPORT;
	}
	if (sip_uri_tel_digits(number, num, sizeof(num)) <= 0)
		return EINVAL;
	/* without user=phone, "sip:cafe@gw" is a name, not a hex number */
	if (!phone && has_hex_letter(num))
		return EINVAL;
	if (num[0] == '+')
		return set_e164(out, num + 1, NULL, NULL);
	if (pl_isset(params) && sip_param_get(params, "phone-context", &pc) && pc.l) {
		if (pc.p[0] != '+')
			return set_private(out, num, pc);
		if (sip_uri_tel_digits(pc, ctx, sizeof(ctx)) <= 1)
			return EINVAL;
		if (!all_digits(num))
			return EINVAL;
		return set_e164(out, ctx + 1, num, NULL);
	}
	return route_normalise_dial(np, num, out);
}

int route_from_q931(const struct route_numplan *np, const char *digits, enum route_ton ton,
		    enum route_npi npi, struct route_number *out)
{
	if (!np || !digits || !out || !digits[0] || strlen(digits) > ROUTE_NUM_MAX)
		return EINVAL;
	if (!dial_chars(digits))
		return EINVAL;
	if (npi == ROUTE_NPI_PRIVATE)
		return set_private(out, digits, pl_make(NULL, 0));
	switch (ton) {
	case ROUTE_TON_INTERNATIONAL:
		return set_e164(out, digits, NULL, NULL);
	case ROUTE_TON_NATIONAL:
		return set_e164(out, np->cc, digits, NULL);
	case ROUTE_TON_SUBSCRIBER:
		if (!np->area[0])
			return EINVAL;
		return set_e164(out, np->cc, np->area, digits);
	case ROUTE_TON_UNKNOWN:
		return route_normalise_dial(np, digits, out);
	default:
		return set_private(out, digits, pl_make(NULL, 0));
	}
}

static int put(char *buf, size_t size, const char *a, const char *b)
{
	int n;

	if (!*b)
		return EINVAL;
	n = snprintf(buf, size, "%s%s", a, b);
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

int route_to_q931(const struct route_numplan *np, const char *e164, enum route_ton ton, char *buf,
		  size_t size)
{
	const char *d;
	size_t cc;

	if (!np || !e164 || !buf || e164[0] != '+' || !e164[1] || !all_digits(e164 + 1) ||
	    strlen(e164 + 1) > E164_MAX_DIGITS)
		return EINVAL;
	d = e164 + 1;
	cc = strlen(np->cc);
	switch (ton) {
	case ROUTE_TON_INTERNATIONAL:
		return put(buf, size, "", d);
	case ROUTE_TON_NATIONAL:
		if (!cc || !starts_with(d, np->cc))
			return EINVAL;
		return put(buf, size, "", d + cc);
	case ROUTE_TON_SUBSCRIBER:
		if (!cc || !np->area[0] || !starts_with(d, np->cc) ||
		    !starts_with(d + cc, np->area))
			return EINVAL;
		return put(buf, size, "", d + cc + strlen(np->area));
	case ROUTE_TON_UNKNOWN:
		if (cc && starts_with(d, np->cc) && d[cc])
			return put(buf, size, np->natpfx, d + cc);
		return put(buf, size, np->intlpfx, d);
	default:
		return EINVAL;
	}
}
