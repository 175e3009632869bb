/*
 * users section: the phones that register and call.
 *
 * users:
 *   - name: "1001"            # SIP user (AOR user part and digest username)
 *     password: demo1001
 *     number: "+12125551001"  # calling number of its outbound calls [its first DID]
 *     dids: ["+12125551001"]  # inbound numbers that ring it
 *     contacts: ["sip:1001@192.0.2.40:5060"]  # static bindings (a device that does not
 *                             # register), q 1; a reload replaces them
 * trunks:                     # SIP peers trusted by address: no digest asked
 *   - name: carrier
 *     address: "udp:192.0.2.10:5060"   # TRANSPORT:ADDRESS[:PORT], as sip.listen
 *     proxy: "sip:sbc.example:5060;lr" # outbound proxy: calls to the trunk go through it
 * registrar:
 *   db: /var/lib/tandem/registrations.db   # SQLite file [":memory:": lost on restart]
 *   digest_algorithms: [sha-256, md5]      # challenges (401 and 407) in this order
 *       of md5, sha-256, sha-512-256 [sha-256, md5]. SIPp 3.6 and sipsak answer only
 *       the first challenge and know only MD5: md5 first; baresip 1.0 fails on any
 *       challenge that is not MD5: [md5].
 */
#include "provisioning/cfg_int.h"

#include "sip/uri/uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONTACTS 64 /* per user, as the registrar's largest max_contacts */

int cfg_str_dup(struct ycfg *y, yaml_node_t *n, char **out)
{
	const char *s;
	char *d;

	if (ycfg_str(y, n, &s))
		return EINVAL;
	if (!(d = strdup(s)))
		return ENOMEM;
	free(*out);
	*out = d;
	return 0;
}

static bool e164_ok(const char *s)
{
	size_t l = strlen(s);

	return l >= 2 && l <= 16 && s[0] == '+' && s[1] != '0' &&
	       strspn(s + 1, "0123456789") == l - 1;
}

static int load_dids(struct ycfg *y, yaml_node_t *n, struct cfg_user *u)
{
	size_t cnt;

	if (ycfg_seq_len(y, n, &cnt))
		return EINVAL;
	if (!(u->dids = calloc(cnt ? cnt : 1, sizeof(*u->dids))))
		return ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = ycfg_seq_item(y, n, i);

		if (cfg_str_dup(y, it, &u->dids[i]))
			return EINVAL;
		u->ndids++;
		if (!e164_ok(u->dids[i]))
			return ycfg_error(y, it, "DID '%s' is not an E.164 number (+ and digits)",
			                  u->dids[i]);
	}
	return 0;
}

/* A sip: or sips: URI without headers, short enough for call control's targets (255). */
static int sip_uri_check(struct ycfg *y, yaml_node_t *n, const char *what, const char *s)
{
	struct sip_uri u;
	size_t l = strlen(s);

	if (l > 255 || sip_uri_decode(&u, pl_make(s, l)) ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS) || !u.host.l || u.headers.p)
		return ycfg_error(y, n, "%s '%s' is not a sip: or sips: URI (no <>, no headers)",
		                  what, s);
	return 0;
}

static int load_contacts(struct ycfg *y, yaml_node_t *n, struct cfg_user *u)
{
	size_t cnt;

	if (ycfg_seq_len(y, n, &cnt))
		return EINVAL;
	if (cnt > MAX_CONTACTS)
		return ycfg_error(y, n, "more than %d contacts", MAX_CONTACTS);
	if (!(u->contacts = calloc(cnt ? cnt : 1, sizeof(*u->contacts))))
		return ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = ycfg_seq_item(y, n, i);

		if (cfg_str_dup(y, it, &u->contacts[i]))
			return EINVAL;
		u->ncontacts++;
		if (sip_uri_check(y, it, "contact", u->contacts[i]))
			return EINVAL;
		for (size_t j = 0; j < i; j++) /* the registrar keys static bindings by URI text */
			if (!strcmp(u->contacts[j], u->contacts[i]))
				return ycfg_error(y, it, "contact '%s' given twice",
				                  u->contacts[i]);
	}
	return 0;
}

static int load_user(struct ycfg *y, yaml_node_t *n, struct cfg_user *u)
{
	static const char *const keys[] = {"name", "password", "number", "dids", "contacts", NULL};
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if (!(v = ycfg_get(y, n, "name")))
		return ycfg_error(y, n, "a user needs a name");
	if (cfg_str_dup(y, v, &u->name))
		return EINVAL;
	if (!u->name[0] || strpbrk(u->name, " \t@:;<>\"\\"))
		return ycfg_error(y, v, "user name '%s' is not a plain SIP user part", u->name);
	if (!(v = ycfg_get(y, n, "password")))
		return ycfg_error(y, n, "user '%s' needs a password", u->name);
	if (cfg_str_dup(y, v, &u->password))
		return EINVAL;
	if ((v = ycfg_get(y, n, "dids")) && load_dids(y, v, u))
		return EINVAL;
	if ((v = ycfg_get(y, n, "contacts")) && load_contacts(y, v, u))
		return EINVAL;
	if ((v = ycfg_get(y, n, "number"))) {
		if (cfg_str_dup(y, v, &u->number))
			return EINVAL;
		if (!e164_ok(u->number))
			return ycfg_error(y, v, "number '%s' is not an E.164 number", u->number);
	} else if (u->ndids && !(u->number = strdup(u->dids[0]))) {
		return ENOMEM;
	}
	return 0;
}

const char *cfg_did_owner(const struct tandem_config *cfg, unsigned nusers, const char *did)
{
	for (unsigned i = 0; i < nusers && i < cfg->nusers; i++)
		for (unsigned j = 0; j < cfg->users[i].ndids; j++)
			if (!strcmp(cfg->users[i].dids[j], did))
				return cfg->users[i].name;
	return NULL;
}

/* A DID routes to one user: not twice in a user, nor in two users. */
static int dids_unique(struct ycfg *y, yaml_node_t *it, const struct tandem_config *cfg,
                       unsigned idx)
{
	const struct cfg_user *u = &cfg->users[idx];
	yaml_node_t *seq = ycfg_get(y, it, "dids");
	const char *owner;

	for (unsigned j = 0; j < u->ndids; j++) {
		for (unsigned k = 0; k < j; k++)
			if (!strcmp(u->dids[k], u->dids[j]))
				return ycfg_error(y, ycfg_seq_item(y, seq, j), "DID '%s' given twice",
				                  u->dids[j]);
		if ((owner = cfg_did_owner(cfg, idx, u->dids[j])))
			return ycfg_error(y, ycfg_seq_item(y, seq, j),
			                  "DID '%s' already belongs to user '%s'", u->dids[j], owner);
	}
	return 0;
}

int cfg_load_users(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg)
{
	size_t cnt;

	if (ycfg_seq_len(y, n, &cnt))
		return EINVAL;
	if (cnt > 100000)
		return ycfg_error(y, n, "too many users");
	if (!(cfg->users = calloc(cnt ? cnt : 1, sizeof(*cfg->users))))
		return ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = ycfg_seq_item(y, n, i);

		cfg->nusers++;
		if (load_user(y, it, &cfg->users[i]))
			return EINVAL;
		if (cfg_user_find(cfg, cfg->users[i].name) != &cfg->users[i])
			return ycfg_error(y, it, "user '%s' given twice", cfg->users[i].name);
		if (dids_unique(y, it, cfg, i))
			return EINVAL;
	}
	return 0;
}

static int load_trunk(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg,
                      struct cfg_trunk *t)
{
	static const char *const keys[] = {"name", "address", "proxy", NULL};
	struct cfg_listen l;
	yaml_node_t *v;
	const char *s;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if (!(v = ycfg_get(y, n, "name")))
		return ycfg_error(y, n, "a trunk needs a name");
	if (cfg_str_dup(y, v, &t->name))
		return EINVAL;
	if (cfg_trunk_find(cfg, t->name) != t)
		return ycfg_error(y, v, "trunk '%s' given twice", t->name);
	if (!(v = ycfg_get(y, n, "address")))
		return ycfg_error(y, n, "trunk '%s' needs an address", t->name);
	if (ycfg_str(y, v, &s))
		return EINVAL;
	if (cfg_parse_listen(s, &l) || sa_is_any(&l.addr))
		return ycfg_error(y, v, "trunk address '%s' is not TRANSPORT:IP[:PORT]", s);
	t->tp = l.tp;
	t->addr = l.addr;
	snprintf(t->text, sizeof(t->text), "%s", l.text);
	if ((v = ycfg_get(y, n, "proxy")) &&
	    (cfg_str_dup(y, v, &t->proxy) || sip_uri_check(y, v, "proxy", t->proxy)))
		return EINVAL;
	return 0;
}

int cfg_load_trunks(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg)
{
	size_t cnt;

	if (ycfg_seq_len(y, n, &cnt))
		return EINVAL;
	if (cnt > 1000)
		return ycfg_error(y, n, "too many trunks");
	if (!(cfg->trunks = calloc(cnt ? cnt : 1, sizeof(*cfg->trunks))))
		return ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		cfg->ntrunks++;
		if (load_trunk(y, ycfg_seq_item(y, n, i), cfg, &cfg->trunks[i]))
			return EINVAL;
	}
	return 0;
}

const struct cfg_trunk *cfg_trunk_find(const struct tandem_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->ntrunks; i++)
		if (cfg->trunks[i].name && !strcmp(cfg->trunks[i].name, name))
			return &cfg->trunks[i];
	return NULL;
}

const struct cfg_trunk *cfg_trunk_by_addr(const struct tandem_config *cfg, enum sip_transport tp,
                                          const struct sa *src)
{
	for (unsigned i = 0; i < cfg->ntrunks; i++) {
		const struct cfg_trunk *t = &cfg->trunks[i];

		if (t->tp == tp &&
		    (tp == SIP_TP_UDP ? sa_eq(&t->addr, src) : sa_eq_addr(&t->addr, src)))
			return t;
	}
	return NULL;
}

void cfg_free_trunks(struct tandem_config *cfg)
{
	for (unsigned i = 0; i < cfg->ntrunks; i++) {
		free(cfg->trunks[i].name);
		free(cfg->trunks[i].proxy);
	}
	free(cfg->trunks);
	cfg->trunks = NULL;
	cfg->ntrunks = 0;
}

/* The names a config may give: the RFC 8760 tokens, lowercase. */
static const struct {
	const char *name;
	enum sip_digest_alg alg;
} digest_names[] = {
    {"md5", SIP_DIGEST_MD5},
    {"sha-256", SIP_DIGEST_SHA256},
    {"sha-512-256", SIP_DIGEST_SHA512_256},
};

static int load_digest_algs(struct ycfg *y, yaml_node_t *n, struct sip_digest_algs *out)
{
	struct sip_digest_algs algs = {.n = 0};
	size_t cnt;

	if (ycfg_seq_len(y, n, &cnt))
		return EINVAL;
	if (!cnt)
		return ycfg_error(y, n,
		                  "digest_algorithms needs at least one of md5, sha-256, "
		                  "sha-512-256");
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = ycfg_seq_item(y, n, i);
		size_t k = 0;
		const char *s;

		if (ycfg_str(y, it, &s))
			return EINVAL;
		while (k < ARRAY_SIZE(digest_names) && strcmp(s, digest_names[k].name))
			k++;
		if (k == ARRAY_SIZE(digest_names))
			return ycfg_error(y, it,
			                  "unknown digest algorithm '%s' (md5, sha-256 or "
			                  "sha-512-256)",
			                  s);
		for (unsigned j = 0; j < algs.n; j++)
			if (algs.alg[j] == digest_names[k].alg)
				return ycfg_error(y, it, "digest algorithm '%s' given twice", s);
		algs.alg[algs.n++] = digest_names[k].alg;
	}
	*out = algs;
	return 0;
}

int cfg_load_registrar(struct ycfg *y, yaml_node_t *n, struct cfg_registrar *r)
{
	static const char *const keys[] = {"db", "digest_algorithms", NULL};
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "db")) && cfg_str_dup(y, v, &r->db))
		return EINVAL;
	if ((v = ycfg_get(y, n, "digest_algorithms")) && load_digest_algs(y, v, &r->digest_algs))
		return EINVAL;
	return 0;
}

const struct cfg_user *cfg_user_find(const struct tandem_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nusers; i++)
		if (cfg->users[i].name && !strcmp(cfg->users[i].name, name))
			return &cfg->users[i];
	return NULL;
}

void cfg_free_users(struct tandem_config *cfg)
{
	for (unsigned i = 0; i < cfg->nusers; i++) {
		struct cfg_user *u = &cfg->users[i];

		free(u->name);
		free(u->password);
		free(u->number);
		for (unsigned j = 0; j < u->ndids; j++)
			free(u->dids[j]);
		free(u->dids);
		for (unsigned j = 0; j < u->ncontacts; j++)
			free(u->contacts[j]);
		free(u->contacts);
	}
	free(cfg->users);
	cfg->users = NULL;
	cfg->nusers = 0;
}
