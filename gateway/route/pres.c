/*
 * pres: calling identity presentation between SIP (Privacy, RFC 3323;
 * P-Asserted-Identity, RFC 3325) and the Q.931 calling party number's
 * presentation and screening indicators.
 */
#include "route/route.h"

#include "core/err.h"

/* Whether any priv-value of a Privacy header hides the caller's identity. */
static bool privacy_restricts(struct pl v)
{
	const char *p = v.p, *end = v.p + v.l;

	while (p && p < end) {
		const char *s = p;
		struct pl tok;

		while (p < end && *p != ';' && *p != ',')
			p++;
		tok = pl_trim(pl_make(s, (size_t)(p - s)));
		if (pl_caseeq_str(tok, "id") || pl_caseeq_str(tok, "header") ||
		    pl_caseeq_str(tok, "user"))
			return true;
		p++;
	}
	return false;
}

void route_pres_from_sip(struct pl privacy, enum route_id_source src, enum route_pres *pres,
			 enum route_screen *screen)
{
	enum route_pres p = ROUTE_PRES_ALLOWED;
	enum route_screen s = ROUTE_SCREEN_USER_NOT_SCREENED;

	switch (src) {
	case ROUTE_ID_NONE:
		/* Q.931: "not available due to interworking" goes with network provided */
		p = ROUTE_PRES_UNAVAILABLE;
		s = ROUTE_SCREEN_NETWORK;
		break;
	case ROUTE_ID_FROM:
		s = ROUTE_SCREEN_USER_NOT_SCREENED;
		break;
	case ROUTE_ID_PAI:
		s = ROUTE_SCREEN_USER_PASSED;
		break;
	case ROUTE_ID_GATEWAY:
		s = ROUTE_SCREEN_NETWORK;
		break;
	}
	if (p == ROUTE_PRES_ALLOWED && pl_isset(privacy) && privacy_restricts(privacy))
		p = ROUTE_PRES_RESTRICTED;
	if (pres)
		*pres = p;
	if (screen)
		*screen = s;
}

void route_pres_to_sip(enum route_pres pres, enum route_screen screen, bool has_number,
		       struct route_sip_id *id)
{
	bool vouched = screen == ROUTE_SCREEN_USER_PASSED || screen == ROUTE_SCREEN_NETWORK;

	if (!id)
		return;
	id->number_in_from = false;
	id->send_pai = false;
	id->privacy = NULL;
	if (!has_number || (pres != ROUTE_PRES_ALLOWED && pres != ROUTE_PRES_RESTRICTED))
		return;
	id->send_pai = vouched;
	if (pres == ROUTE_PRES_ALLOWED) {
		id->number_in_from = true;
		return;
	}
	/* restricted: only a vouched-for identity travels, hidden behind Privacy: id */
	id->privacy = vouched ? "id" : NULL;
}
