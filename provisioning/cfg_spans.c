/*
 * numbering and spans sections.
 *
 * numbering:
 *   country_code: "1"          international_prefix: "011"
 *   national_prefix: "1"       area_code: "212"
 *   nsn_length: 10             local_length: 7
 * spans:
 *   - number: 1                # span=N
 *     backend: virtual         # virtual | dahdi
 *     address: "@tandem-span1" # virtual: socket path or @abstract name; dahdi: device
 *     listen: false            # virtual: we bind and accept (the exchange end does)
 *     clock_master: false      # virtual: our timer paces the B-channels
 *     type: e1                 # e1 | t1
 *     side: cpe                # cpe (we are the user side) | net
 *     switch: euroisdn         # euroisdn, euroisdn_t1, ni1, ni2, dms100, 4ess, 5ess, qsig
 *     group: 1                 # span group the routes name
 *     bchan: "1-15,17-31"      # system.conf ranges: timeslots of the span, or DAHDI
 *     dchan: 16                #   channel numbers (span 2 of E1s: "32-46,48-62", 47)
 *     law: alaw                # alaw | ulaw
 */
#include "provisioning/cfg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* NANP, as the demo's numbers are: +1 212 555 0100. */
void cfg_numbering_default(struct route_numplan *np)
{
	memset(np, 0, sizeof(*np));
	snprintf(np->cc, sizeof(np->cc), "1");
	snprintf(np->natpfx, sizeof(np->natpfx), "1");
	snprintf(np->intlpfx, sizeof(np->intlpfx), "011");
	np->nsn_len = 10;
	np->local_len = 7;
}

static int digits_into(struct ycfg *y, yaml_node_t *n, char *dst, size_t size, bool empty_ok)
{
	const char *s;
	size_t l;

	if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 && empty_ok) {
		dst[0] = '\0';
		return 0;
	}
	if (ycfg_str(y, n, &s))
		return EINVAL;
	l = strlen(s);
	if (l >= size || (!l && !empty_ok) || strspn(s, "0123456789") != l)
		return ycfg_error(y, n, "expected up to %zu digits", size - 1);
	memcpy(dst, s, l + 1);
	return 0;
}

int cfg_load_numbering(struct ycfg *y, yaml_node_t *n, struct route_numplan *np)
{
	static const char *const keys[] = {"country_code",
	                                   "national_prefix",
	                                   "international_prefix",
	                                   "area_code",
	                                   "nsn_length",
	                                   "local_length",
	                                   NULL};
	yaml_node_t *v;
	uint32_t u;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "country_code")) &&
	    digits_into(y, v, np->cc, sizeof(np->cc), false))
		return EINVAL;
	if ((v = ycfg_get(y, n, "national_prefix")) &&
	    digits_into(y, v, np->natpfx, sizeof(np->natpfx), true))
		return EINVAL;
	if ((v = ycfg_get(y, n, "international_prefix")) &&
	    digits_into(y, v, np->intlpfx, sizeof(np->intlpfx), false))
		return EINVAL;
	if ((v = ycfg_get(y, n, "area_code")) &&
	    digits_into(y, v, np->area, sizeof(np->area), true))
		return EINVAL;
	if ((v = ycfg_get(y, n, "nsn_length"))) {
		if (ycfg_u32(y, v, 0, 15, &u))
			return EINVAL;
		np->nsn_len = (uint8_t)u;
	}
	if ((v = ycfg_get(y, n, "local_length"))) {
		if (ycfg_u32(y, v, 0, 15, &u))
			return EINVAL;
		np->local_len = (uint8_t)u;
	}
	if (route_numplan_check(np))
		return ycfg_error(y, n,
		                  "numbering is inconsistent (country code required, "
		                  "lengths within 15 digits)");
	return 0;
}

static int pick(struct ycfg *y, yaml_node_t *v, const char *const *names, int *out)
{
	const char *s;

	if (ycfg_str(y, v, &s))
		return EINVAL;
	for (int i = 0; names[i]; i++)
		if (!strcasecmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return ycfg_error(y, v, "'%s' is not one of %s%s%s", s, names[0], names[1] ? ", " : "",
	                  names[1] ? names[1] : "");
}

/*
 * Channel ranges as system.conf writes them ("1-15,17-31"): timeslots of the
 * span when every number is one (1..31 E1, 1..24 T1), else DAHDI's global
 * channel numbers as dahdi_cfg counts them for spans of one type (span 2 of
 * E1s: 32-62), translated to timeslots.
 */
static int chan_ranges(const char *text, const struct span_conf *c, uint32_t *mask)
{
	unsigned n = span_type_nslots(c->type), off = 0, lo, hi;
	uint32_t m = 0;
	const char *p = text;
	char *end;

	if (!span_ts_ranges(text, &m) && m && !((uint64_t)m >> (n + 1))) {
		*mask = m;
		return 0;
	}
	off = c->first_chan - 1;
	m = 0;
	while (*p) {
		lo = hi = (unsigned)strtoul(p, &end, 10);
		if (end == p)
			return EINVAL;
		if (*end == '-')
			hi = (unsigned)strtoul(p = end + 1, &end, 10);
		if (end == p || lo > hi || lo <= off || hi > off + n)
			return EINVAL;
		for (unsigned ch = lo; ch <= hi; ch++)
			m |= 1u << (ch - off);
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return EINVAL;
	}
	if (!m)
		return EINVAL;
	*mask = m;
	return 0;
}

static int span_wire(struct ycfg *y, yaml_node_t *n, struct cfg_span *sp)
{
	static const char *const laws[] = {"alaw", "ulaw", NULL};
	struct span_conf *c = &sp->conf;
	yaml_node_t *v;
	const char *s;
	uint32_t u;
	int i;

	if ((v = ycfg_get(y, n, "bchan"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		if (chan_ranges(s, c, &c->bchans))
			return ycfg_error(y, v,
			                  "bchan '%s' is not a list of channel ranges of span %u "
			                  "(timeslots 1-%u, or DAHDI channels %u-%u)",
			                  s, c->num, span_type_nslots(c->type), c->first_chan,
			                  c->first_chan + span_type_nslots(c->type) - 1);
	}
	if ((v = ycfg_get(y, n, "dchan"))) {
		uint32_t mask;
		char num[16];

		if (ycfg_u32(y, v, 1, 100000, &u))
			return EINVAL;
		snprintf(num, sizeof(num), "%u", u);
		if (chan_ranges(num, c, &mask))
			return ycfg_error(y, v, "dchan %u is not a channel of span %u", u, c->num);
		c->dchan = (unsigned)__builtin_ctz(mask);
	}
	if (c->bchans & (1u << c->dchan))
		return ycfg_error(y, v ? v : n, "dchan %u is also a B-channel", c->dchan);
	if ((v = ycfg_get(y, n, "law"))) {
		if (pick(y, v, laws, &i))
			return EINVAL;
		c->law = i ? SPAN_ULAW : SPAN_ALAW;
	}
	if ((v = ycfg_get(y, n, "address"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		if (strlen(s) >= sizeof(c->addr))
			return ycfg_error(y, v, "address longer than %zu bytes",
			                  sizeof(c->addr) - 1);
		snprintf(c->addr, sizeof(c->addr), "%s", s);
	}
	if (sp->backend == CFG_SPAN_VIRTUAL && !c->addr[0])
		return ycfg_error(y, n, "a virtual span needs an address (socket path or @name)");
	if ((v = ycfg_get(y, n, "listen")) && ycfg_bool(y, v, &c->listen))
		return EINVAL;
	if ((v = ycfg_get(y, n, "clock_master")) && ycfg_bool(y, v, &c->clock_master))
		return EINVAL;
	return 0;
}

static int load_span(struct ycfg *y, yaml_node_t *n, struct cfg_span *sp)
{
	static const char *const keys[] = {"number", "backend", "address", "listen",       "type",
	                                   "side",   "switch",  "group",   "clock_master", "bchan",
	                                   "dchan",  "law",     "restart", "service", NULL};
	static const char *const backends[] = {"virtual", "dahdi", NULL};
	static const char *const types[] = {"e1", "t1", NULL};
	static const char *const sides[] = {"net", "cpe", NULL};
	yaml_node_t *v;
	uint32_t num, u;
	int i = 0;
	const char *s;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if (!(v = ycfg_get(y, n, "number")))
		return ycfg_error(y, n, "a span needs its number");
	if (ycfg_u32(y, v, 1, 256, &num))
		return EINVAL;
	if ((v = ycfg_get(y, n, "backend")) && pick(y, v, backends, &i))
		return EINVAL;
	sp->backend = i ? CFG_SPAN_DAHDI : CFG_SPAN_VIRTUAL;
	i = 0;
	if ((v = ycfg_get(y, n, "type")) && pick(y, v, types, &i))
		return EINVAL;
	span_conf_default(&sp->conf, num, i ? SPAN_T1 : SPAN_E1);
	/* DAHDI numbers channels across spans of one type (dahdi_cfg's way) */
	sp->conf.first_chan = (num - 1) * span_type_nslots(sp->conf.type) + 1;
	sp->pri.node = TPRI_CPE;
	sp->pri.sw = i ? TPRI_SW_NI2 : TPRI_SW_EUROISDN_E1;
	if ((v = ycfg_get(y, n, "side"))) {
		if (pick(y, v, sides, &i))
			return EINVAL;
		sp->pri.node = i ? TPRI_CPE : TPRI_NET;
	}
	if ((v = ycfg_get(y, n, "switch"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		if (tpri_switch_parse(s, &sp->pri.sw))
			return ycfg_error(y, v,
			                  "unknown switch type '%s' (euroisdn, euroisdn_t1, "
			                  "ni1, ni2, dms100, 4ess, 5ess, qsig)",
			                  s);
	}
	/* RESTART idle channels when the link first comes up (Q.931 5.5); all
	 * switch types here use it. SERVICE messages only where asked for. */
	sp->pri.restart_on_up = true;
	if ((v = ycfg_get(y, n, "restart")) && ycfg_bool(y, v, &sp->pri.restart_on_up))
		return EINVAL;
	if ((v = ycfg_get(y, n, "service")) && ycfg_bool(y, v, &sp->pri.service))
		return EINVAL;
	sp->group = 1;
	if ((v = ycfg_get(y, n, "group"))) {
		if (ycfg_u32(y, v, 0, 65535, &u))
			return EINVAL;
		sp->group = (uint16_t)u;
	}
	return span_wire(y, n, sp);
}

int cfg_load_spans(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg)
{
	size_t cnt;

	if (ycfg_seq_len(y, n, &cnt))
		return EINVAL;
	if (cnt > CFG_MAX_SPANS)
		return ycfg_error(y, n, "at most %d spans", CFG_MAX_SPANS);
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = ycfg_seq_item(y, n, i);

		if (load_span(y, it, &cfg->spans[i]))
			return EINVAL;
		for (size_t j = 0; j < i; j++)
			if (cfg->spans[j].conf.num == cfg->spans[i].conf.num)
				return ycfg_error(y, it, "span %u given twice",
				                  cfg->spans[i].conf.num);
	}
	cfg->nspans = (unsigned)cnt;
	return 0;
}
