/*
 * The registrar object: configuration, users, the expiry timer, the
 * location-service queries and static bindings. REGISTER is in register.c,
 * SQL in store.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "registrar/reg_int.h"
#include "sip/auth/auth.h"
#include "sip/ua/ua.h"

/* Re-read the wall clock at least this often, in case it was stepped. */
#define TIMER_MAX_MS (600 * 1000)

static const char *const event_names[] = {
    [REG_EV_ADDED] = "added",
    [REG_EV_REFRESHED] = "refreshed",
    [REG_EV_REMOVED] = "removed",
    [REG_EV_EXPIRED] = "expired",
};

const char *reg_event_name(enum reg_event ev)
{
	return (unsigned)ev < ARRAY_SIZE(event_names) ? event_names[ev] : "?";
}

int64_t reg_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void reg_fire(struct reg *reg, enum reg_event ev, const struct reg_contact *c)
{
	static const size_t off[] = {
	    [REG_EV_ADDED] = offsetof(struct reg_stats, added),
	    [REG_EV_REFRESHED] = offsetof(struct reg_stats, refreshed),
	    [REG_EV_REMOVED] = offsetof(struct reg_stats, removed),
	    [REG_EV_EXPIRED] = offsetof(struct reg_stats, expired),
	};

	(*(uint64_t *)((char *)&reg->st + off[ev]))++;
	LOGI(c->call_id && *c->call_id ? c->call_id : NULL, "registrar: %s %s -> %s",
	     reg_event_name(ev), c->aor, c->uri);
	if (reg->event)
		reg->event(ev, c, reg->event_arg);
}

static void expired_row(int64_t id, int64_t exp, const struct reg_contact *c, void *arg)
{
	reg_fire(arg, REG_EV_EXPIRED, c);
}

int reg_purge(struct reg *reg)
{
	unsigned n = 0;

	if (!reg)
		return -1;
	if (store_purge(reg, reg_wall_ms(), expired_row, reg, &n))
		return -1;
	return (int)n;
}

static void on_timer(void *arg)
{
	struct reg *reg = arg;

	reg_purge(reg);
	reg_timer_update(reg);
}

void reg_timer_update(struct reg *reg)
{
	int64_t next, now = reg_wall_ms();
	uint64_t delay;

	if (!reg->loop)
		return;
	if (store_next_expiry(reg, &next)) {
		tmr_cancel(&reg->tmr);
		return;
	}
	delay = next > now ? (uint64_t)(next - now) : 0;
	if (delay > TIMER_MAX_MS)
		delay = TIMER_MAX_MS;
	if (tmr_start(reg->loop, &reg->tmr, delay, on_timer, reg))
		LOGE(NULL, "registrar: cannot arm the expiry timer");
}

static void destructor(void *data)
{
	struct reg *reg = data;

	tmr_cancel(&reg->tmr);
	store_close(reg);
	while (reg->users) {
		struct reg_user *u = reg->users;
		reg->users = u->next;
		if (u->password)
			memset(u->password, 0, strlen(u->password));
		mem_deref(u->name);
		mem_deref(u->password);
		mem_deref(u);
	}
	mem_deref(reg->auth);
	mem_deref(reg->realm);
}

static int config(struct reg *reg, const struct reg_config *cfg)
{
	reg->min_expires = cfg->min_expires ? cfg->min_expires : 60;
	reg->max_expires = cfg->max_expires ? cfg->max_expires : 7200;
	reg->default_expires = cfg->default_expires ? cfg->default_expires : 3600;
	reg->max_contacts = cfg->max_contacts ? cfg->max_contacts : 10;
	if (reg->max_expires < reg->min_expires || reg->default_expires < reg->min_expires ||
	    reg->max_contacts > REG_MAX_CONTACTS)
		return EINVAL;
	if (reg->default_expires > reg->max_expires)
		reg->default_expires = reg->max_expires;
	reg->user_lookup = cfg->user_lookup;
	reg->user_arg = cfg->user_arg;
	reg->event = cfg->event;
	reg->event_arg = cfg->event_arg;
	reg->realm = mem_strndup(cfg->realm, strlen(cfg->realm));
	return reg->realm ? 0 : ENOMEM;
}

int reg_alloc(struct reg **regp, struct loop *loop, struct sip_ua *ua, const struct reg_config *cfg)
{
	struct sip_auth_server_cfg acfg = {0};
	struct reg *reg;
	unsigned n = 0;
	int err;

	if (!regp || !cfg || !cfg->realm || !*cfg->realm || !cfg->db)
		return EINVAL;
	reg = mem_zalloc(sizeof(*reg), destructor);
	if (!reg)
		return ENOMEM;
	reg->loop = loop;
	reg->ua = ua;
	tmr_init(&reg->tmr);
	err = config(reg, cfg);
	if (err)
		goto out;
	acfg.realm = reg->realm;
	acfg.algs = cfg->algs; /* n == 0: the auth server's default */
	acfg.nonce_lifetime = cfg->nonce_lifetime;
	err = sip_auth_server_alloc(&reg->auth, &acfg);
	if (err)
		goto out;
	err = store_open(reg, cfg->db);
	if (err)
		goto out;
	/* bindings that expired while we were down go without events */
	err = store_purge(reg, reg_wall_ms(), NULL, NULL, &n);
	if (err)
		goto out;
	if (n)
		LOGI(NULL, "registrar: %u bindings expired while stopped", n);
	if (ua) {
		err = sip_ua_set_handler(ua, SIP_M_REGISTER, reg_register_handler, reg);
		if (err)
			goto out;
	}
	reg_timer_update(reg);
	*regp = reg;
out:
	if (err)
		mem_deref(reg);
	return err;
}

void reg_free(struct reg *reg)
{
	mem_deref(reg);
}

static struct reg_user *user_find(struct reg *reg, const char *name, struct reg_user ***prevp)
{
	struct reg_user **pp = &reg->users;

	for (; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->name, name))
			break;
	if (prevp)
		*prevp = pp;
	return *pp;
}

int reg_user_set(struct reg *reg, const char *user, const char *password)
{
	struct reg_user **pp, *u;
	char *pw = NULL;

	if (!reg || !user || !*user)
		return EINVAL;
	u = user_find(reg, user, &pp);
	if (!password) {
		if (!u)
			return ENOENT;
		*pp = u->next;
		memset(u->password, 0, strlen(u->password));
		mem_deref(u->password);
		mem_deref(u->name);
		mem_deref(u);
		return 0;
	}
	pw = mem_strndup(password, strlen(password));
	if (!pw)
		return ENOMEM;
	if (!u) {
		u = mem_zalloc(sizeof(*u), NULL);
		if (u)
			u->name = mem_strndup(user, strlen(user));
		if (!u || !u->name) {
			mem_deref(u);
			mem_deref(pw);
			return ENOMEM;
		}
		u->next = reg->users;
		reg->users = u;
	} else {
		memset(u->password, 0, strlen(u->password));
		mem_deref(u->password);
	}
	u->password = pw;
	return 0;
}

int reg_user_password(struct reg *reg, const char *user, char *pw, size_t n)
{
	struct reg_user *u;

	if (reg->user_lookup)
		return reg->user_lookup(user, pw, n, reg->user_arg);
	u = user_find(reg, user, NULL);
	if (!u)
		return ENOENT;
	if (strlen(u->password) >= n)
		return E2BIG;
	strcpy(pw, u->password);
	return 0;
}

struct fwd {
	reg_contact_h *h;
	void *arg;
};

static void fwd_row(int64_t id, int64_t exp, const struct reg_contact *c, void *arg)
{
	struct fwd *f = arg;

	if (f->h)
		f->h(c, f->arg);
}

int reg_lookup(struct reg *reg, const char *aor, reg_contact_h *h, void *arg, unsigned *countp)
{
	struct fwd f = {h, arg};

	if (!reg || !aor)
		return EINVAL;
	return store_select(reg, aor, reg_wall_ms(), fwd_row, &f, countp);
}

int reg_foreach(struct reg *reg, reg_contact_h *h, void *arg, unsigned *countp)
{
	struct fwd f = {h, arg};

	if (!reg)
		return EINVAL;
	return store_select(reg, NULL, reg_wall_ms(), fwd_row, &f, countp);
}

int reg_static_add(struct reg *reg, const char *aor, const char *uri, unsigned q, const char *path)
{
	struct reg_row r = {0};
	struct sip_uri u;
	int err;

	if (!reg || !aor || !*aor || !uri || q > 1000)
		return EINVAL;
	if (sip_uri_decode(&u, pl_make(uri, strlen(uri))) ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS))
		return EINVAL;
	r.aor = aor;
	r.uri = uri;
	r.path = path && *path ? path : NULL;
	r.reg_id = -1;
	r.q = q;
	r.is_static = true;
	err = store_exec(reg, ST_BEGIN);
	if (err)
		return err;
	err = store_delete_static(reg, aor, uri, NULL);
	if (!err)
		err = store_insert(reg, &r, reg_wall_ms());
	if (err) {
		store_exec(reg, ST_ROLLBACK);
		return err;
	}
	err = store_exec(reg, ST_COMMIT);
	if (!err) {
		struct reg_contact c = {.aor = aor,
		                        .uri = uri,
		                        .params = "",
		                        .path = r.path,
		                        .reg_id = -1,
		                        .q = q,
		                        .expires_in = -1,
		                        .call_id = "",
		                        .is_static = true};
		reg_fire(reg, REG_EV_ADDED, &c);
	}
	return err;
}

int reg_static_remove(struct reg *reg, const char *aor, const char *uri)
{
	unsigned n = 0;
	int err;

	if (!reg || !aor)
		return EINVAL;
	err = store_delete_static(reg, aor, uri, &n);
	if (err)
		return err;
	if (!n)
		return ENOENT;
	struct reg_contact c = {.aor = aor,
	                        .uri = uri ? uri : "*",
	                        .params = "",
	                        .reg_id = -1,
	                        .expires_in = -1,
	                        .call_id = "",
	                        .is_static = true};
	reg_fire(reg, REG_EV_REMOVED, &c);
	return 0;
}

void reg_stats(const struct reg *reg, struct reg_stats *st)
{
	if (reg && st)
		*st = reg->st;
}

int reg_q_parse(struct pl v, unsigned *q)
{
	unsigned val = 0, scale = 100;
	size_t i = 2;

	/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
	if (!v.l || (v.p[0] != '0' && v.p[0] != '1'))
		return EINVAL;
	if (v.l > 1 && (v.p[1] != '.' || v.l > 5))
		return EINVAL;
	for (; i < v.l; i++, scale /= 10) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return EINVAL;
		val += (unsigned)(v.p[i] - '0') * scale;
	}
	if (v.p[0] == '1') {
		if (val)
			return EINVAL;
		val = 1000;
	}
	*q = val;
	return 0;
}

char *reg_q_print(unsigned q, char *buf, size_t n)
{
	if (q >= 1000) {
		snprintf(buf, n, "1");
	} else {
		int len = snprintf(buf, n, "0.%03u", q);
		while (len > 2 && buf[len - 1] == '0')
			buf[--len] = '\0';
		if (len == 2) /* "0." */
			buf[1] = '\0';
	}
	return buf;
}
