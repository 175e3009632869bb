/*
 * names: the configuration's words for types of number, numbering plans,
 * hunting orders and DID targets.
 */
#include "route/route.h"

#include "core/err.h"

struct name {
	const char *s;
	int v;
};

static const struct name tons[] = {
	{ "unknown", ROUTE_TON_UNKNOWN },       { "international", ROUTE_TON_INTERNATIONAL },
	{ "national", ROUTE_TON_NATIONAL },     { "network", ROUTE_TON_NETWORK },
	{ "subscriber", ROUTE_TON_SUBSCRIBER }, { "abbreviated", ROUTE_TON_ABBREVIATED },
};

static const struct name npis[] = {
	{ "unknown", ROUTE_NPI_UNKNOWN }, { "e164", ROUTE_NPI_E164 },
	{ "isdn", ROUTE_NPI_E164 },       { "data", ROUTE_NPI_DATA },
	{ "telex", ROUTE_NPI_TELEX },     { "national", ROUTE_NPI_NATIONAL },
	{ "private", ROUTE_NPI_PRIVATE },
};

static const struct name hunts[] = {
	{ "ascending", ROUTE_HUNT_ASCENDING },
	{ "descending", ROUTE_HUNT_DESCENDING },
	{ "roundrobin", ROUTE_HUNT_ROUNDROBIN },
	{ "round-robin", ROUTE_HUNT_ROUNDROBIN },
};

static const struct name targets[] = {
	{ "user", ROUTE_TARGET_USER },
	{ "uri", ROUTE_TARGET_URI },
	{ "trunk", ROUTE_TARGET_TRUNK },
};

static int lookup(const struct name *t, size_t n, struct pl name, int *v)
{
	for (size_t i = 0; i < n; i++) {
		if (pl_caseeq_str(name, t[i].s)) {
			*v = t[i].v;
			return 0;
		}
	}
	return EINVAL;
}

static const char *name_of(const struct name *t, size_t n, int v)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].v == v)
			return t[i].s;
	}
	return "?";
}

int route_ton_parse(struct pl name, enum route_ton *ton)
{
	int v, err = lookup(tons, ARRAY_SIZE(tons), name, &v);

	if (!err)
		*ton = (enum route_ton)v;
	return err;
}

int route_npi_parse(struct pl name, enum route_npi *npi)
{
	int v, err = lookup(npis, ARRAY_SIZE(npis), name, &v);

	if (!err)
		*npi = (enum route_npi)v;
	return err;
}

int route_hunt_parse(struct pl name, enum route_hunt *hunt)
{
	int v, err = lookup(hunts, ARRAY_SIZE(hunts), name, &v);

	if (!err)
		*hunt = (enum route_hunt)v;
	return err;
}

int route_target_parse(struct pl name, enum route_target *kind)
{
	int v, err = lookup(targets, ARRAY_SIZE(targets), name, &v);

	if (!err)
		*kind = (enum route_target)v;
	return err;
}

const char *route_ton_name(enum route_ton ton)
{
	return name_of(tons, ARRAY_SIZE(tons), (int)ton);
}

const char *route_npi_name(enum route_npi npi)
{
	return name_of(npis, ARRAY_SIZE(npis), (int)npi);
}
