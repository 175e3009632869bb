/*
 * libFuzzer target for gateway/route: the pattern compiler and matcher, the
 * number normalisers, and the DID/overlap tables on arbitrary input.
 * Input: one byte choosing the numbering plan, a pattern up to '\n', then a
 * number or URI. Properties checked (abort on violation):
 *  - a pattern that matches a string says MATCH or MORE for each prefix of it;
 *  - an E.164 result is '+' and 1..15 digits;
 *  - E.164 -> Q.931 (international, national, subscriber) -> E.164 is identity;
 *  - overlap COMPLETE implies the lookup finds a rule; a rule found implies
 *    overlap is not NO_MATCH.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "route/route.h"

static const struct route_numplan plans[2] = {
	{ .cc = "1", .natpfx = "1", .intlpfx = "011", .area = "212", .nsn_len = 10,
	  .local_len = 7 },
	{ .cc = "44", .natpfx = "0", .intlpfx = "00", .area = "20", .nsn_len = 10,
	  .local_len = 8 },
};

static struct route_table *tables[2];

static void build_tables(void)
{
	static const char *const did[] = { "+12125551001", "+1212555200X", "+1800NXXXXXX",
					   "7000",         "9.",           "+442079460001",
					   "+4420794610!", "_[1-3]X" };

	for (int i = 0; i < 2; i++) {
		if (route_table_alloc(&tables[i], &plans[i]))
			abort();
		for (size_t j = 0; j < sizeof(did) / sizeof(did[0]); j++) {
			if (route_did_add(tables[i], did[j], ROUTE_TARGET_USER, "u"))
				abort();
		}
	}
}

static void check_e164(const struct route_number *n)
{
	size_t len = strlen(n->digits);

	if (n->kind != ROUTE_NUM_E164)
		return;
	if (n->digits[0] != '+' || len < 2 || len > 16)
		abort();
	for (size_t i = 1; i < len; i++) {
		if (n->digits[i] < '0' || n->digits[i] > '9')
			abort();
	}
}

static void check_roundtrip(const struct route_numplan *np, const struct route_number *n)
{
	static const enum route_ton tons[] = { ROUTE_TON_INTERNATIONAL, ROUTE_TON_NATIONAL,
					       ROUTE_TON_SUBSCRIBER };
	char d[ROUTE_NUM_MAX + 1];
	struct route_number back;

	if (n->kind != ROUTE_NUM_E164)
		return;
	for (size_t i = 0; i < 3; i++) {
		if (route_to_q931(np, n->digits, tons[i], d, sizeof(d)))
			continue;
		if (route_from_q931(np, d, tons[i], ROUTE_NPI_E164, &back) ||
		    strcmp(back.digits, n->digits))
			abort();
	}
}

static void check_pattern(struct pl pat, const char *num)
{
	struct route_pattern p;
	char pre[ROUTE_NUM_MAX + 2];
	size_t len = strlen(num);

	if (route_pattern_compile(&p, pat))
		return;
	if (!route_pattern_match(&p, num) || len > ROUTE_NUM_MAX)
		return;
	for (size_t i = 0; i < len; i++) {
		memcpy(pre, num, i);
		pre[i] = '\0';
		if (!(route_pattern_test(&p, pre) & ROUTE_PAT_MORE))
			abort();
	}
}

static void check_tables(const char *num)
{
	static const enum route_ton tons[] = { ROUTE_TON_UNKNOWN, ROUTE_TON_INTERNATIONAL,
					       ROUTE_TON_NATIONAL, ROUTE_TON_SUBSCRIBER,
					       ROUTE_TON_NETWORK };
	static const enum route_npi npis[] = { ROUTE_NPI_E164, ROUTE_NPI_PRIVATE };

	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; i < sizeof(tons) / sizeof(tons[0]); i++) {
			for (size_t j = 0; j < 2; j++) {
				const struct route_did *d;
				enum route_overlap o =
					route_did_overlap(tables[t], num, tons[i], npis[j]);
				int err = route_did_lookup(tables[t], num, tons[i], npis[j], &d);

				if (o == ROUTE_OVERLAP_COMPLETE && err)
					abort();
				if (!err && o == ROUTE_OVERLAP_NO_MATCH)
					abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct route_numplan *np;
	const char *nl;
	struct route_number n;
	struct sip_uri u;
	char *num;
	size_t plen;

	if (!tables[0])
		build_tables();
	if (size < 1)
		return 0;
	np = &plans[data[0] & 1];
	data++;
	size--;
	nl = memchr(data, '\n', size);
	plen = nl ? (size_t)(nl - (const char *)data) : 0;
	num = malloc(size - plen + 1);
	if (!num)
		return 0;
	memcpy(num, data + (nl ? plen + 1 : 0), size - (nl ? plen + 1 : 0));
	num[size - (nl ? plen + 1 : 0)] = '\0';

	check_pattern(pl_make((const char *)data, plen), num);
	if (route_normalise_dial(np, num, &n) == 0) {
		check_e164(&n);
		check_roundtrip(np, &n);
	}
	if (sip_uri_decode(&u, pl_make(num, strlen(num))) == 0 &&
	    route_normalise_uri(np, &u, &n) == 0) {
		check_e164(&n);
		check_roundtrip(np, &n);
	}
	if (strlen(num) <= ROUTE_NUM_MAX)
		check_tables(num);
	free(num);
	return 0;
}
