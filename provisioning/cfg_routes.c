/*
 * routes section, and the route table built from the whole configuration.
 *
 * routes:
 *   outbound:                   # first match wins; matched against the E.164 number
 *     - name: nanp
 *       pattern: "+1NXXNXXXXXX"
 *       strip: 1                # characters removed ('+' not counted) [0]
 *       prefix: ""              # digits put in front [none]
 *       ton: national           # unknown, international, national, subscriber... [international]
 *       npi: e164               # unknown, e164, private... [e164]
 *       groups: [1, 2]          # span groups, the next one tried on congestion [1]
 *       hunting: descending     # ascending, descending, roundrobin [ascending]
 *       redirect: "sip:{number}@other.example"  # answer 302 with this Contact instead
 *   inbound:                    # DIDs of users come on top of these
 *     - did: "+12125559000"     # or pattern: "+1212555900X"
 *       to: "user:1001"         # user:NAME | uri:SIP-URI | trunk:NAME
 * causes:                       # the Q.850 <-> SIP tables are data (gateway/cause)
 *   profile: default            # default (RFC 3398 + practice) | rfc3398
 *   to_sip: { 16: 480 }         # Q.850 cause -> final status of an unanswered INVITE
 *   from_sip: { 486: 17 }       # SIP final status -> cause
 *   from_sip_alerted: { 480: 19 }  # the same once the callee alerted (after from_sip)
 */
#include "provisioning/cfg_int.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int load_groups(struct ycfg *y, yaml_node_t *n, struct cfg_route_out *r)
{
	size_t cnt;
	uint32_t u;

	if (n->type == YAML_SCALAR_NODE) {
		if (ycfg_u32(y, n, 0, 65535, &u))
			return EINVAL;
		r->groups[0] = (uint16_t)u;
		r->ngroups = 1;
		return 0;
	}
	if (ycfg_seq_len(y, n, &cnt))
		return EINVAL;
	if (!cnt || cnt > ROUTE_GROUPS_MAX)
		return ycfg_error(y, n, "groups: 1 to %d span groups", ROUTE_GROUPS_MAX);
	for (size_t i = 0; i < cnt; i++) {
		if (ycfg_u32(y, ycfg_seq_item(y, n, i), 0, 65535, &u))
			return EINVAL;
		r->groups[i] = (uint16_t)u;
	}
	r->ngroups = (unsigned)cnt;
	return 0;
}

static int load_names(struct ycfg *y, yaml_node_t *n, struct cfg_route_out *r)
{
	yaml_node_t *v;
	const char *s;

	if ((v = ycfg_get(y, n, "ton"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		if (route_ton_parse(pl_make(s, strlen(s)), &r->ton))
			return ycfg_error(y, v, "unknown type of number '%s'", s);
	}
	if ((v = ycfg_get(y, n, "npi"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		if (route_npi_parse(pl_make(s, strlen(s)), &r->npi))
			return ycfg_error(y, v, "unknown numbering plan '%s'", s);
	}
	if ((v = ycfg_get(y, n, "hunting"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		if (route_hunt_parse(pl_make(s, strlen(s)), &r->hunt))
			return ycfg_error(y, v,
			                  "hunting must be ascending, descending or roundrobin");
	}
	return 0;
}

static int load_out(struct ycfg *y, yaml_node_t *n, struct cfg_route_out *r)
{
	static const char *const keys[] = {"name", "pattern", "strip",   "prefix",   "ton",
	                                   "npi",  "groups",  "hunting", "redirect", NULL};
	struct route_pattern pat;
	yaml_node_t *v;

	r->ton = ROUTE_TON_INTERNATIONAL;
	r->npi = ROUTE_NPI_E164;
	r->groups[0] = 1;
	r->ngroups = 1;
	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "name")) && cfg_str_dup(y, v, &r->name))
		return EINVAL;
	if (!(v = ycfg_get(y, n, "pattern")))
		return ycfg_error(y, n, "an outbound route needs a pattern");
	if (cfg_str_dup(y, v, &r->pattern))
		return EINVAL;
	if (route_pattern_compile(&pat, pl_make(r->pattern, strlen(r->pattern))))
		return ycfg_error(y, v, "bad pattern '%s'", r->pattern);
	if ((v = ycfg_get(y, n, "strip")) && ycfg_u32(y, v, 0, ROUTE_NUM_MAX, &r->strip))
		return EINVAL;
	if ((v = ycfg_get(y, n, "prefix"))) {
		if (cfg_str_dup(y, v, &r->prefix))
			return EINVAL;
		if (strlen(r->prefix) > 15 ||
		    strspn(r->prefix, "0123456789*#") != strlen(r->prefix))
			return ycfg_error(y, v, "prefix '%s': up to 15 digits", r->prefix);
	}
	if ((v = ycfg_get(y, n, "groups")) && load_groups(y, v, r))
		return EINVAL;
	if ((v = ycfg_get(y, n, "redirect"))) {
		if (cfg_str_dup(y, v, &r->redirect))
			return EINVAL;
		if (strlen(r->redirect) > 127 ||
		    (strncmp(r->redirect, "sip:", 4) && strncmp(r->redirect, "sips:", 5)))
			return ycfg_error(y, v, "redirect must be a sip: or sips: URI (up to 127 "
			                        "characters; {number} stands for the number dialled)");
	}
	return load_names(y, n, r);
}

/* One rule per DID: an exact DID may not repeat an earlier route's or a user's. */
static int did_unique(struct ycfg *y, yaml_node_t *m, const struct tandem_config *cfg,
                      const struct cfg_route_in *r)
{
	const char *did = r->match[0] == '_' ? r->match + 1 : r->match;
	const char *owner = cfg_did_owner(cfg, cfg->nusers, did);

	if (owner)
		return ycfg_error(y, m, "DID '%s' already belongs to user '%s'", did, owner);
	for (const struct cfg_route_in *o = cfg->routes_in; o < r; o++)
		if (!strcmp(o->match[0] == '_' ? o->match + 1 : o->match, did))
			return ycfg_error(y, m, "DID '%s' has a route already", did);
	return 0;
}

static int load_in(struct ycfg *y, yaml_node_t *n, const struct tandem_config *cfg,
                   struct cfg_route_in *r)
{
	static const char *const keys[] = {"did", "pattern", "to", NULL};
	yaml_node_t *v, *m;
	struct route_pattern pat;
	const char *s, *c;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	m = ycfg_get(y, n, "did");
	if (!m == !(v = ycfg_get(y, n, "pattern")))
		return ycfg_error(y, n, "an inbound route needs one of did or pattern");
	m = m ? m : v;
	if (cfg_str_dup(y, m, &r->match))
		return EINVAL;
	if (route_pattern_compile(&pat, pl_make(r->match, strlen(r->match))))
		return ycfg_error(y, m, "bad DID or pattern '%s'", r->match);
	if (!(v = ycfg_get(y, n, "to")))
		return ycfg_error(y, n, "an inbound route needs 'to' (user:NAME, uri:SIP-URI)");
	if (ycfg_str(y, v, &s))
		return EINVAL;
	c = strchr(s, ':');
	if (!c || !c[1] || route_target_parse(pl_make(s, (size_t)(c - s)), &r->kind))
		return ycfg_error(y, v, "'%s' is not user:NAME, uri:SIP-URI or trunk:NAME", s);
	if (!(r->target = strdup(c + 1)))
		return ENOMEM;
	if (r->kind == ROUTE_TARGET_USER && !cfg_user_find(cfg, r->target))
		return ycfg_error(y, v, "no user '%s' in users", r->target);
	if (r->kind == ROUTE_TARGET_TRUNK && !cfg_trunk_find(cfg, r->target))
		return ycfg_error(y, v, "no trunk '%s' in trunks", r->target);
	if (r->kind == ROUTE_TARGET_URI && strncasecmp(r->target, "sip:", 4) &&
	    strncasecmp(r->target, "sips:", 5))
		return ycfg_error(y, v, "'%s' is not a sip: or sips: URI", r->target);
	return pat.literal ? did_unique(y, m, cfg, r) : 0;
}

int cfg_load_routes(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg)
{
	static const char *const keys[] = {"outbound", "inbound", NULL};
	yaml_node_t *v;
	size_t cnt;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "outbound"))) {
		if (ycfg_seq_len(y, v, &cnt))
			return EINVAL;
		if (!(cfg->routes_out = calloc(cnt ? cnt : 1, sizeof(*cfg->routes_out))))
			return ENOMEM;
		for (size_t i = 0; i < cnt; i++) {
			cfg->nroutes_out++;
			if (load_out(y, ycfg_seq_item(y, v, i), &cfg->routes_out[i]))
				return EINVAL;
		}
	}
	if ((v = ycfg_get(y, n, "inbound"))) {
		if (ycfg_seq_len(y, v, &cnt))
			return EINVAL;
		if (!(cfg->routes_in = calloc(cnt ? cnt : 1, sizeof(*cfg->routes_in))))
			return ENOMEM;
		for (size_t i = 0; i < cnt; i++) {
			cfg->nroutes_in++;
			if (load_in(y, ycfg_seq_item(y, v, i), cfg, &cfg->routes_in[i]))
				return EINVAL;
		}
	}
	return 0;
}

void cfg_free_routes(struct tandem_config *cfg)
{
	for (unsigned i = 0; i < cfg->nroutes_out; i++) {
		free(cfg->routes_out[i].name);
		free(cfg->routes_out[i].pattern);
		free(cfg->routes_out[i].prefix);
		free(cfg->routes_out[i].redirect);
	}
	for (unsigned i = 0; i < cfg->nroutes_in; i++) {
		free(cfg->routes_in[i].match);
		free(cfg->routes_in[i].target);
	}
	free(cfg->routes_out);
	free(cfg->routes_in);
	cfg->routes_out = NULL;
	cfg->routes_in = NULL;
	cfg->nroutes_out = cfg->nroutes_in = 0;
}

static int add_out(struct route_table *t, const struct cfg_route_out *r)
{
	struct route_out_cfg rc = {.name = r->name,
	                           .pattern = r->pattern,
	                           .strip = r->strip,
	                           .prefix = r->prefix,
	                           .ton = r->ton,
	                           .npi = r->npi,
	                           .ngroups = r->ngroups,
	                           .hunt = r->hunt,
	                           .redirect = r->redirect};

	memcpy(rc.groups, r->groups, sizeof(rc.groups));
	return route_out_add(t, &rc);
}

int cfg_route_table(const struct tandem_config *cfg, struct route_table **tp)
{
	struct route_table *t = NULL;
	int err = route_table_alloc(&t, &cfg->numbering);

	for (unsigned i = 0; !err && i < cfg->nroutes_out; i++)
		err = add_out(t, &cfg->routes_out[i]);
	for (unsigned i = 0; !err && i < cfg->nroutes_in; i++)
		err = route_did_add(t, cfg->routes_in[i].match, cfg->routes_in[i].kind,
		                    cfg->routes_in[i].target);
	for (unsigned i = 0; !err && i < cfg->nusers; i++)
		for (unsigned j = 0; !err && j < cfg->users[i].ndids; j++)
			err = route_did_add(t, cfg->users[i].dids[j], ROUTE_TARGET_USER,
			                    cfg->users[i].name);
	if (err) {
		mem_deref(t);
		return err;
	}
	*tp = t;
	return 0;
}

static int load_ovr(struct ycfg *y, yaml_node_t *n, enum cause_dir dir, struct cfg_causes *c,
                    struct cause_map *probe)
{
	uint32_t from, to;

	if (n->type != YAML_MAPPING_NODE)
		return ycfg_error(y, n, "expected a mapping of numbers, e.g. { 486: 17 }");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&y->doc, p->value);

		if (ycfg_u32(y, k, 1, 699, &from) || ycfg_u32(y, v, 1, 699, &to))
			return EINVAL;
		if (c->novr >= CFG_MAX_CAUSE_OVR)
			return ycfg_error(y, k, "at most %d cause overrides", CFG_MAX_CAUSE_OVR);
		if (cause_map_set(probe, dir, from, to))
			return ycfg_error(y, k, "%u -> %u: %s", from, to,
			                  dir == CAUSE_TO_SIP
			                      ? "causes are 1-127, statuses 300-699"
			                      : "statuses are 300-699, causes 1-127");
		c->ovr[c->novr++] = (struct cfg_cause_ovr){dir, (uint16_t)from, (uint16_t)to};
	}
	return 0;
}

int cfg_load_causes(struct ycfg *y, yaml_node_t *n, struct cfg_causes *c)
{
	static const char *const keys[] = {"profile", "to_sip", "from_sip", "from_sip_alerted",
	                                   NULL};
	static const struct {
		const char *key;
		enum cause_dir dir;
	} tabs[] = {{"to_sip", CAUSE_TO_SIP},
	            {"from_sip", CAUSE_FROM_SIP},
	            {"from_sip_alerted", CAUSE_FROM_SIP_ALERTED}};
	struct cause_map *probe = NULL;
	yaml_node_t *v;
	const char *s;
	int err = 0;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "profile"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		if (!strcasecmp(s, "default"))
			c->profile = CAUSE_PROFILE_DEFAULT;
		else if (!strcasecmp(s, "rfc3398"))
			c->profile = CAUSE_PROFILE_RFC3398;
		else
			return ycfg_error(y, v, "profile must be default or rfc3398");
	}
	if (cause_map_alloc(&probe, c->profile))
		return ENOMEM;
	for (size_t i = 0; !err && i < ARRAY_SIZE(tabs); i++)
		if ((v = ycfg_get(y, n, tabs[i].key)))
			err = load_ovr(y, v, tabs[i].dir, c, probe);
	mem_deref(probe);
	return err;
}

int cfg_cause_map(const struct tandem_config *cfg, struct cause_map **mp)
{
	struct cause_map *m = NULL;
	int err = cause_map_alloc(&m, cfg->causes.profile);

	for (unsigned i = 0; !err && i < cfg->causes.novr; i++)
		err = cause_map_set(m, cfg->causes.ovr[i].dir, cfg->causes.ovr[i].from,
		                    cfg->causes.ovr[i].to);
	if (err) {
		mem_deref(m);
		return err;
	}
	*mp = m;
	return 0;
}
