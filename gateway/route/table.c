/*
 * table: the outbound rules (ordered, first match wins) and the inbound DID
 * rules (exact numbers in a sorted array for binary search, then patterns in
 * order), with the overlap-receiving decision.
 */
#include "route/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

struct route_table {
	struct route_numplan np;
	struct route_out *out;
	size_t nout, capout;
	struct route_did *exact; /* sorted by match (strcmp) */
	size_t nexact, capexact;
	struct route_did *pat;
	size_t npat, cappat;
};

static void table_destroy(void *arg)
{
	struct route_table *t = arg;
	size_t i;

	for (i = 0; i < t->nexact; i++)
		free(t->exact[i].target);
	for (i = 0; i < t->npat; i++)
		free(t->pat[i].target);
	free(t->out);
	free(t->exact);
	free(t->pat);
}

int route_table_alloc(struct route_table **tp, const struct route_numplan *np)
{
	struct route_table *t;

	if (!tp || route_numplan_check(np))
		return EINVAL;
	t = mem_zalloc(sizeof(*t), table_destroy);
	if (!t)
		return ENOMEM;
	t->np = *np;
	*tp = t;
	return 0;
}

const struct route_numplan *route_table_numplan(const struct route_table *t)
{
	return t ? &t->np : NULL;
}

/* Makes room for one more element of size sz in *arr. */
static int grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, ncap * sz);
	if (!p)
		return ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static bool valid_ton(enum route_ton ton)
{
	return (ton >= ROUTE_TON_UNKNOWN && ton <= ROUTE_TON_SUBSCRIBER) ||
	       ton == ROUTE_TON_ABBREVIATED;
}

static bool valid_npi(enum route_npi npi)
{
	return npi == ROUTE_NPI_UNKNOWN || npi == ROUTE_NPI_E164 || npi == ROUTE_NPI_DATA ||
	       npi == ROUTE_NPI_TELEX || npi == ROUTE_NPI_NATIONAL || npi == ROUTE_NPI_PRIVATE;
}

static bool digits_only(const char *s)
{
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

int route_out_add(struct route_table *t, const struct route_out_cfg *cfg)
{
	struct route_out r;
	const char *prefix;
	unsigned i;

	if (!t || !cfg || !cfg->pattern)
		return EINVAL;
	memset(&r, 0, sizeof(r));
	prefix = cfg->prefix ? cfg->prefix : "";
	if (route_pattern_compile(&r.pat, pl_make(cfg->pattern, strlen(cfg->pattern))))
		return EINVAL;
	if (cfg->strip > ROUTE_NUM_MAX || strlen(prefix) >= sizeof(r.prefix) ||
	    !digits_only(prefix) || (cfg->name && strlen(cfg->name) >= sizeof(r.name)))
		return EINVAL;
	if (!valid_ton(cfg->ton) || !valid_npi(cfg->npi) || cfg->hunt > ROUTE_HUNT_ROUNDROBIN)
		return EINVAL;
	if (cfg->ngroups < 1 || cfg->ngroups > ROUTE_GROUPS_MAX)
		return EINVAL;
	if (cfg->redirect && (strlen(cfg->redirect) >= sizeof(r.redirect) ||
	                      (strncmp(cfg->redirect, "sip:", 4) && strncmp(cfg->redirect, "sips:", 5))))
		return EINVAL;
	if (cfg->redirect)
		strcpy(r.redirect, cfg->redirect);
	if (cfg->name)
		strcpy(r.name, cfg->name);
	strcpy(r.prefix, prefix);
	r.strip = (uint8_t)cfg->strip;
	r.ton = cfg->ton;
	r.npi = cfg->npi;
	for (i = 0; i < cfg->ngroups; i++)
		r.groups[i] = cfg->groups[i];
	r.ngroups = (uint8_t)cfg->ngroups;
	r.hunt = cfg->hunt;
	if (grow((void **)&t->out, t->nout, &t->capout, sizeof(r)))
		return ENOMEM;
	t->out[t->nout++] = r;
	return 0;
}

int route_out_lookup(const struct route_table *t, const char *number, struct route_out_match *m)
{
	const char *d;
	size_t i;
	int n;

	if (!t || !number || !m)
		return EINVAL;
	for (i = 0; i < t->nout; i++) {
		const struct route_out *r = &t->out[i];

		if (!route_pattern_match(&r->pat, number))
			continue;
		d = number[0] == '+' ? number + 1 : number;
		d += strlen(d) < r->strip ? strlen(d) : r->strip;
		if (!*d && !r->prefix[0])
			return EINVAL; /* a rule that strips everything is a configuration error */
		n = snprintf(m->called, sizeof(m->called), "%s%s", r->prefix, d);
		if (n < 0 || (size_t)n >= sizeof(m->called))
			return ENOSPC;
		m->route = r;
		m->ton = r->ton;
		m->npi = r->npi;
		return 0;
	}
	return ENOENT;
}

/* Index of the first exact entry >= s. */
static size_t lower_bound(const struct route_table *t, const char *s)
{
	size_t lo = 0, hi = t->nexact;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->exact[mid].match, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The one string a literal pattern matches ("+1[2]12" -> "+1212"). */
static void literal_text(const struct route_pattern *p, char *buf)
{
	static const char alphabet[] = "0123456789*#+";
	size_t i;

	for (i = 0; i < p->n; i++)
		buf[i] = alphabet[__builtin_ctz(p->set[i])];
	buf[i] = '\0';
}

int route_did_add(struct route_table *t, const char *match, enum route_target kind,
		  const char *target)
{
	struct route_did d;
	const char *m;
	size_t at = 0;

	if (!t || !match || !target || !*target || kind > ROUTE_TARGET_TRUNK)
		return EINVAL;
	memset(&d, 0, sizeof(d));
	m = match[0] == '_' ? match + 1 : match;
	if (strlen(m) >= sizeof(d.match) ||
	    route_pattern_compile(&d.pat, pl_make(match, strlen(match))))
		return EINVAL;
	if (d.pat.literal)
		literal_text(&d.pat, d.match);
	else
		strcpy(d.match, m);
	d.e164 = m[0] == '+';
	d.kind = kind;
	if (d.pat.literal) {
		at = lower_bound(t, d.match);
		if (at < t->nexact && !strcmp(t->exact[at].match, d.match))
			return EEXIST;
		if (grow((void **)&t->exact, t->nexact, &t->capexact, sizeof(d)))
			return ENOMEM;
	} else if (grow((void **)&t->pat, t->npat, &t->cappat, sizeof(d))) {
		return ENOMEM;
	}
	d.target = strdup(target);
	if (!d.target)
		return ENOMEM;
	if (d.pat.literal) {
		memmove(&t->exact[at + 1], &t->exact[at], (t->nexact - at) * sizeof(d));
		t->exact[at] = d;
		t->nexact++;
	} else {
		t->pat[t->npat++] = d;
	}
	return 0;
}

/* MATCH/MORE of s against the exact numbers. */
static unsigned exact_test(const struct route_table *t, const char *s)
{
	size_t at = lower_bound(t, s), len = strlen(s);
	unsigned f = 0;

	if (at < t->nexact && !strcmp(t->exact[at].match, s)) {
		f |= ROUTE_PAT_MATCH;
		at++;
	}
	if (at < t->nexact && !strncmp(t->exact[at].match, s, len))
		f |= ROUTE_PAT_MORE;
	return f;
}

/* The E.164 form of a complete called number, or false. */
static bool e164_form(const struct route_table *t, const char *digits, enum route_ton ton,
		      enum route_npi npi, char *buf)
{
	struct route_number n;

	if (route_from_q931(&t->np, digits, ton, npi, &n) || n.kind != ROUTE_NUM_E164)
		return false;
	strcpy(buf, n.digits);
	return true;
}

static const struct route_did *did_find(const struct route_table *t, const char *raw,
					const char *e164)
{
	size_t i;

	if (e164 && (exact_test(t, e164) & ROUTE_PAT_MATCH))
		return &t->exact[lower_bound(t, e164)];
	if (exact_test(t, raw) & ROUTE_PAT_MATCH)
		return &t->exact[lower_bound(t, raw)];
	for (i = 0; i < t->npat; i++) {
		const char *s = t->pat[i].e164 ? e164 : raw;

		if (s && route_pattern_match(&t->pat[i].pat, s))
			return &t->pat[i];
	}
	return NULL;
}

int route_did_lookup(const struct route_table *t, const char *digits, enum route_ton ton,
		     enum route_npi npi, const struct route_did **didp)
{
	char e164[ROUTE_NUM_MAX + 2];
	const struct route_did *d;

	if (!t || !digits || !didp)
		return EINVAL;
	d = did_find(t, digits, e164_form(t, digits, ton, npi, e164) ? e164 : NULL);
	if (!d)
		return ENOENT;
	*didp = d;
	return 0;
}

/* Flags of s against every rule of one kind (E.164 or raw). */
static unsigned test_all(const struct route_table *t, const char *s, bool e164)
{
	unsigned f = exact_test(t, s);
	size_t i;

	for (i = 0; i < t->npat; i++) {
		if (t->pat[i].e164 == e164)
			f |= route_pattern_test(&t->pat[i].pat, s);
	}
	return f;
}

/* Whether s is a prefix of pfx (so more digits may complete it). */
static bool prefix_of(const char *s, const char *pfx)
{
	size_t l = strlen(s);

	return l <= strlen(pfx) && !strncmp(s, pfx, l);
}

/* Flags of the E.164 rules for '+' a b c d (no validity check: a partial number). */
static unsigned test_cat(const struct route_table *t, const char *a, const char *b, const char *c)
{
	char s[ROUTE_NUM_MAX * 3];
	unsigned f;
	int n;

	n = snprintf(s, sizeof(s), "+%s%s%s", a, b, c);
	if (n - 1 > 15)
		return 0; /* no E.164 number is that long, whatever follows */
	f = test_all(t, s, true);
	/* "+" alone is a beginning, never a number */
	return n == 1 ? f & ROUTE_PAT_MORE : f;
}

/*
 * MORE if an unknown-type number may still grow into an E.164 number some
 * rule matches, under any reading of the dialling rules that stays open.
 */
static unsigned unknown_more(const struct route_table *t, const char *d)
{
	const struct route_numplan *np = &t->np;
	size_t len = strlen(d), ip = strlen(np->intlpfx), xp = strlen(np->natpfx);
	unsigned f = 0;

	if (ip && prefix_of(d, np->intlpfx))
		f |= test_cat(t, "", "", "");
	else if (ip && !strncmp(d, np->intlpfx, ip) && len - ip < 15)
		f |= test_cat(t, d + ip, "", "");
	if (xp && prefix_of(d, np->natpfx))
		f |= test_cat(t, np->cc, "", "");
	else if (xp && !strncmp(d, np->natpfx, xp) && (!np->nsn_len || len - xp < np->nsn_len))
		f |= test_cat(t, np->cc, d + xp, "");
	/* an NSN or a local number never begins with a prefix */
	if ((xp && !strncmp(d, np->natpfx, xp)) || (ip && !strncmp(d, np->intlpfx, ip)))
		return f & ROUTE_PAT_MORE;
	if (np->nsn_len && len < np->nsn_len)
		f |= test_cat(t, np->cc, d, "");
	if (np->area[0] && np->local_len && len < np->local_len)
		f |= test_cat(t, np->cc, np->area, d);
	return f & ROUTE_PAT_MORE;
}

static bool all_digits(const char *s)
{
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

/* Flags of the E.164 rules for a partial called number of this type. */
static unsigned e164_flags(const struct route_table *t, const char *digits, enum route_ton ton,
			   enum route_npi npi)
{
	const struct route_numplan *np = &t->np;
	char e164[ROUTE_NUM_MAX + 2];
	unsigned f = 0;

	if (npi == ROUTE_NPI_PRIVATE || !all_digits(digits))
		return 0;
	switch (ton) {
	case ROUTE_TON_INTERNATIONAL:
		return test_cat(t, digits, "", "");
	case ROUTE_TON_NATIONAL:
		return test_cat(t, np->cc, digits, "");
	case ROUTE_TON_SUBSCRIBER:
		return np->area[0] ? test_cat(t, np->cc, np->area, digits) : 0;
	case ROUTE_TON_UNKNOWN:
		/* the complete reading may change with more digits: only its match counts */
		if (e164_form(t, digits, ton, npi, e164))
			f = test_all(t, e164, true) & ROUTE_PAT_MATCH;
		return f | unknown_more(t, digits);
	default:
		return 0;
	}
}

enum route_overlap route_did_overlap(const struct route_table *t, const char *digits,
				     enum route_ton ton, enum route_npi npi)
{
	unsigned f;

	if (!t || !digits || strlen(digits) > ROUTE_NUM_MAX)
		return ROUTE_OVERLAP_NO_MATCH;
	f = test_all(t, digits, false) | e164_flags(t, digits, ton, npi);
	if (f & ROUTE_PAT_MORE)
		return ROUTE_OVERLAP_INCOMPLETE;
	return f & ROUTE_PAT_MATCH ? ROUTE_OVERLAP_COMPLETE : ROUTE_OVERLAP_NO_MATCH;
}
