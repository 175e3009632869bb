/*
 * pstnsim's YAML: numbering, spans and subscribers. Why it looks like this:
 * - Every value goes through provisioning/ycfg, so each error names
 *   file:line:column and unknown keys are errors (a typo never passes).
 * - Times are whole seconds (`answer_after: 2`) or milliseconds with an
 *   `_ms` suffix (`answer_after_ms: 300`), for short timeouts in tests.
 */
#include "tdm/pstnsim/pstnsim.h"
#include "core/err.h"
#include "core/mem.h"
#include "provisioning/ycfg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum psim_behaviour beh;
	int cause; /* default cause */
} behaviours[] = {
    {"answer", PSIM_ANSWER, 0},      {"echo", PSIM_ECHO, 0},          {"ivr", PSIM_IVR, 0},
    {"busy", PSIM_BUSY, 17},         {"noanswer", PSIM_NOANSWER, 19}, {"reject", PSIM_REJECT, 1},
    {"congestion", PSIM_REJECT, 34},
};

static const double default_detect[] = {350, 400, 425, 440, 480, 620, 700, 1004, 1400, 2100};

const char *psim_behaviour_name(enum psim_behaviour b)
{
	for (size_t i = 0; i < ARRAY_SIZE(behaviours); i++)
		if (behaviours[i].beh == b)
			return behaviours[i].name;
	return "?";
}

static void conf_destroy(void *data)
{
	struct psim_conf *c = data;

	mem_deref(c->subs);
}

int psim_conf_alloc(struct psim_conf **cp)
{
	struct psim_conf *c = mem_zalloc(sizeof(*c), conf_destroy);

	if (!c)
		return ENOMEM;
	strcpy(c->numbering.cc, "1");
	strcpy(c->numbering.intl_prefix, "011");
	strcpy(c->numbering.natl_prefix, "1");
	c->unknown_cause = 1;
	c->ringback = true;
	c->ndetect = ARRAY_SIZE(default_detect);
	memcpy(c->detect_hz, default_detect, sizeof(default_detect));
	c->did_tone_hz = 440;
	c->did_tone_dbm0 = -10;
	*cp = c;
	return 0;
}

/* ---- readers ---- */

static int read_double(struct ycfg *y, yaml_node_t *n, double min, double max, double *out)
{
	const char *s;
	char *end;
	double v;

	if (ycfg_str(y, n, &s))
		return EINVAL;
	v = strtod(s, &end);
	if (!*s || *end || v < min || v > max)
		return ycfg_error(y, n, "expected a number from %g to %g, not '%s'", min, max, s);
	*out = v;
	return 0;
}

static int read_strbuf(struct ycfg *y, yaml_node_t *n, char *buf, size_t size)
{
	const char *s;

	if (ycfg_str(y, n, &s))
		return EINVAL;
	if (strlen(s) >= size)
		return ycfg_error(y, n, "too long (at most %zu characters)", size - 1);
	strcpy(buf, s);
	return 0;
}

static int read_digits(struct ycfg *y, yaml_node_t *n, char *buf, size_t size)
{
	if (read_strbuf(y, n, buf, size))
		return EINVAL;
	for (const char *p = buf; *p; p++)
		if (!isdigit((unsigned char)*p))
			return ycfg_error(y, n, "expected digits, not '%s'", buf);
	return 0;
}

/* `key: seconds` or `key_ms: milliseconds`; untouched when neither is there. */
static int read_time(struct ycfg *y, yaml_node_t *map, const char *key, uint32_t *ms)
{
	char kms[48];
	yaml_node_t *s = ycfg_get(y, map, key), *m;
	uint32_t v;

	snprintf(kms, sizeof(kms), "%s_ms", key);
	m = ycfg_get(y, map, kms);
	if (s && m)
		return ycfg_error(y, m, "give %s or %s, not both", key, kms);
	if (s) {
		if (ycfg_u32(y, s, 0, 86400, &v))
			return EINVAL;
		*ms = v * 1000;
	} else if (m) {
		if (ycfg_u32(y, m, 0, 86400000, &v))
			return EINVAL;
		*ms = v;
	}
	return 0;
}

static int read_e164(struct ycfg *y, yaml_node_t *n, char *buf, size_t size)
{
	size_t l;

	if (read_strbuf(y, n, buf, size))
		return EINVAL;
	l = strlen(buf);
	if (l < 2 || l > 16 || buf[0] != '+')
		return ycfg_error(y, n, "expected an E.164 number like +12125550100, not '%s'",
		                  buf);
	for (size_t i = 1; i < l; i++)
		if (!isdigit((unsigned char)buf[i]))
			return ycfg_error(
			    y, n, "expected an E.164 number like +12125550100, not '%s'", buf);
	return 0;
}

static int read_tone(struct ycfg *y, yaml_node_t *n, double *hz, double *dbm0)
{
	static const char *const keys[] = {"frequency", "level", NULL};
	yaml_node_t *f;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	f = ycfg_get(y, n, "frequency");
	if (!f)
		return ycfg_error(y, n, "a tone needs a frequency");
	if (read_double(y, f, 50, 3900, hz))
		return EINVAL;
	if ((f = ycfg_get(y, n, "level")) && read_double(y, f, -60, 3, dbm0))
		return EINVAL;
	return 0;
}

/* ---- sections ---- */

static int load_numbering(struct ycfg *y, yaml_node_t *n, struct psim_numbering *nb)
{
	static const char *const keys[] = {"country_code", "international_prefix",
	                                   "national_prefix", NULL};
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "country_code")) && read_digits(y, v, nb->cc, sizeof(nb->cc)))
		return EINVAL;
	if (!nb->cc[0] || nb->cc[0] == '0')
		return ycfg_error(y, v, "a country code is 1 to 3 digits, not starting with 0");
	if ((v = ycfg_get(y, n, "international_prefix")) &&
	    read_digits(y, v, nb->intl_prefix, sizeof(nb->intl_prefix)))
		return EINVAL;
	if ((v = ycfg_get(y, n, "national_prefix")) &&
	    read_digits(y, v, nb->natl_prefix, sizeof(nb->natl_prefix)))
		return EINVAL;
	return 0;
}

static int load_span(struct ycfg *y, yaml_node_t *n, struct psim_span_conf *s)
{
	static const char *const keys[] = {"span",   "backend",       "address",
	                                   "type",   "switch",        "clock_master",
	                                   "listen", "number_format", NULL};
	yaml_node_t *v;
	const char *str;
	uint32_t num;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	memset(s, 0, sizeof(*s));
	s->listen = s->clock_master = true;
	if (!(v = ycfg_get(y, n, "span")))
		return ycfg_error(y, n, "a span needs its number (span: 1)");
	if (ycfg_u32(y, v, 1, 255, &num))
		return EINVAL;
	s->num = num;
	/* The exchange is software: only virtual spans (tdm/virtual). */
	if ((v = ycfg_get(y, n, "backend"))) {
		if (ycfg_str(y, v, &str))
			return EINVAL;
		if (strcmp(str, "virtual"))
			return ycfg_error(y, v, "pstnsim runs on virtual spans only, not '%s'",
			                  str);
	}
	if (!(v = ycfg_get(y, n, "address")))
		return ycfg_error(y, n, "a span needs an address (a socket path or @name)");
	if (read_strbuf(y, v, s->addr, sizeof(s->addr)))
		return EINVAL;
	s->type = SPAN_E1;
	if ((v = ycfg_get(y, n, "type"))) {
		if (ycfg_str(y, v, &str))
			return EINVAL;
		if (!strcasecmp(str, "t1"))
			s->type = SPAN_T1;
		else if (strcasecmp(str, "e1"))
			return ycfg_error(y, v, "type is e1 or t1, not '%s'", str);
	}
	s->sw = s->type == SPAN_E1 ? TPRI_SW_EUROISDN_E1 : TPRI_SW_NI2;
	if ((v = ycfg_get(y, n, "switch"))) {
		if (ycfg_str(y, v, &str))
			return EINVAL;
		if (tpri_switch_parse(str, &s->sw))
			return ycfg_error(y, v,
			                  "unknown switch type '%s' (euroisdn, euroisdn_t1, "
			                  "ni1, ni2, dms100, 4ess, 5ess, qsig)",
			                  str);
	}
	if ((v = ycfg_get(y, n, "clock_master")) && ycfg_bool(y, v, &s->clock_master))
		return EINVAL;
	if ((v = ycfg_get(y, n, "listen")) && ycfg_bool(y, v, &s->listen))
		return EINVAL;
	if ((v = ycfg_get(y, n, "number_format"))) {
		if (ycfg_str(y, v, &str))
			return EINVAL;
		if (!strcmp(str, "national"))
			s->numfmt = PSIM_NUM_NATIONAL;
		else if (strcmp(str, "international"))
			return ycfg_error(y, v, "number_format is international or national");
	}
	return 0;
}

static int load_behaviour(struct ycfg *y, yaml_node_t *v, struct psim_sub *s)
{
	const char *str;

	if (ycfg_str(y, v, &str))
		return EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(behaviours); i++) {
		if (!strcmp(str, behaviours[i].name)) {
			s->beh = behaviours[i].beh;
			s->cause = behaviours[i].cause;
			return 0;
		}
	}
	return ycfg_error(y, v,
	                  "unknown behaviour '%s' (answer, echo, ivr, busy, noanswer, "
	                  "reject, congestion)",
	                  str);
}

static int load_sub(struct ycfg *y, yaml_node_t *n, struct psim_sub *s)
{
	static const char *const keys[] = {
	    "number",     "behaviour",    "answer_after",    "answer_after_ms", "timeout",
	    "timeout_ms", "hangup_after", "hangup_after_ms", "cause",           "tone",
	    NULL};
	yaml_node_t *v;
	uint32_t cause;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	memset(s, 0, sizeof(*s));
	s->timeout_ms = 30000;
	s->tone_hz = 1004;
	s->tone_dbm0 = -10;
	if (!(v = ycfg_get(y, n, "number")))
		return ycfg_error(y, n, "a subscriber needs a number");
	if (read_e164(y, v, s->number, sizeof(s->number)))
		return EINVAL;
	if (!(v = ycfg_get(y, n, "behaviour")))
		return ycfg_error(y, n, "a subscriber needs a behaviour");
	if (load_behaviour(y, v, s))
		return EINVAL;
	if (read_time(y, n, "answer_after", &s->answer_ms) ||
	    read_time(y, n, "timeout", &s->timeout_ms) ||
	    read_time(y, n, "hangup_after", &s->hangup_ms))
		return EINVAL;
	if ((v = ycfg_get(y, n, "cause"))) {
		if (ycfg_u32(y, v, 1, 127, &cause))
			return EINVAL;
		s->cause = (int)cause;
	}
	if ((v = ycfg_get(y, n, "tone")) && read_tone(y, v, &s->tone_hz, &s->tone_dbm0))
		return EINVAL;
	if (s->beh == PSIM_REJECT && !s->cause)
		return ycfg_error(y, n, "reject needs a cause");
	return 0;
}

static int load_detect(struct ycfg *y, yaml_node_t *n, struct psim_conf *c)
{
	size_t len;

	if (ycfg_seq_len(y, n, &len))
		return EINVAL;
	if (len == 0 || len > PSIM_MAX_DETECT)
		return ycfg_error(y, n, "detect_tones lists 1 to %d frequencies", PSIM_MAX_DETECT);
	for (size_t i = 0; i < len; i++)
		if (read_double(y, ycfg_seq_item(y, n, i), 50, 3900, &c->detect_hz[i]))
			return EINVAL;
	c->ndetect = len;
	return 0;
}

static int load_spans(struct ycfg *y, yaml_node_t *n, struct psim_conf *c)
{
	size_t len;

	if (ycfg_seq_len(y, n, &len))
		return EINVAL;
	if (len > PSIM_MAX_SPANS)
		return ycfg_error(y, n, "at most %d spans", PSIM_MAX_SPANS);
	for (size_t i = 0; i < len; i++) {
		yaml_node_t *it = ycfg_seq_item(y, n, i);

		if (load_span(y, it, &c->spans[i]))
			return EINVAL;
		for (size_t j = 0; j < i; j++)
			if (c->spans[j].num == c->spans[i].num)
				return ycfg_error(y, it, "span %u is listed twice",
				                  c->spans[i].num);
	}
	c->nspans = len;
	return 0;
}

static int load_subs(struct ycfg *y, yaml_node_t *n, struct psim_conf *c)
{
	size_t len;

	if (ycfg_seq_len(y, n, &len))
		return EINVAL;
	if (len > 100000)
		return ycfg_error(y, n, "too many subscribers");
	c->subs = mem_zalloc((len ? len : 1) * sizeof(*c->subs), NULL);
	if (!c->subs)
		return ENOMEM;
	for (size_t i = 0; i < len; i++) {
		yaml_node_t *it = ycfg_seq_item(y, n, i);

		if (load_sub(y, it, &c->subs[i]))
			return EINVAL;
		if (psim_conf_find(c, c->subs[i].number))
			return ycfg_error(y, it, "number %s is listed twice", c->subs[i].number);
		c->nsubs = i + 1;
	}
	return 0;
}

static int load_root(struct ycfg *y, struct psim_conf *c)
{
	static const char *const keys[] = {"numbering", "control",      "unknown_cause",
	                                   "ringback",  "detect_tones", "did_tone",
	                                   "spans",     "subscribers",  NULL};
	yaml_node_t *r = ycfg_root(y), *v;
	uint32_t u;

	if (ycfg_map_check(y, r, keys))
		return EINVAL;
	if ((v = ycfg_get(y, r, "numbering")) && load_numbering(y, v, &c->numbering))
		return EINVAL;
	if ((v = ycfg_get(y, r, "control")) && read_strbuf(y, v, c->control, sizeof(c->control)))
		return EINVAL;
	if ((v = ycfg_get(y, r, "unknown_cause"))) {
		if (ycfg_u32(y, v, 1, 127, &u))
			return EINVAL;
		c->unknown_cause = (int)u;
	}
	if ((v = ycfg_get(y, r, "ringback")) && ycfg_bool(y, v, &c->ringback))
		return EINVAL;
	if ((v = ycfg_get(y, r, "detect_tones")) && load_detect(y, v, c))
		return EINVAL;
	if ((v = ycfg_get(y, r, "did_tone")) && read_tone(y, v, &c->did_tone_hz, &c->did_tone_dbm0))
		return EINVAL;
	if ((v = ycfg_get(y, r, "spans")) && load_spans(y, v, c))
		return EINVAL;
	if (!(v = ycfg_get(y, r, "subscribers")))
		return ycfg_error(y, r, "no subscribers: list them under 'subscribers:'");
	return load_subs(y, v, c);
}

static int load(struct psim_conf **cp, struct ycfg *y, int err, char *ebuf, size_t esz)
{
	struct psim_conf *c = NULL;

	if (!err)
		err = psim_conf_alloc(&c);
	if (!err)
		err = load_root(y, c);
	if (err && ebuf && esz)
		snprintf(ebuf, esz, "%s", y->err[0] ? y->err : strerror(err));
	ycfg_close(y);
	if (err) {
		mem_deref(c);
		return err;
	}
	*cp = c;
	return 0;
}

int psim_conf_load(struct psim_conf **cp, const char *path, char *err, size_t errsz)
{
	struct ycfg y;

	return load(cp, &y, ycfg_open(&y, path), err, errsz);
}

int psim_conf_load_string(struct psim_conf **cp, const char *name, const char *text, char *err,
                          size_t errsz)
{
	struct ycfg y;

	return load(cp, &y, ycfg_open_string(&y, name, text, strlen(text)), err, errsz);
}

const struct psim_sub *psim_conf_find(const struct psim_conf *c, const char *e164)
{
	for (size_t i = 0; i < c->nsubs; i++)
		if (!strcmp(c->subs[i].number, e164))
			return &c->subs[i];
	return NULL;
}

/* ---- numbers ---- */

static bool starts(const char *s, const char *prefix)
{
	return prefix[0] && !strncmp(s, prefix, strlen(prefix));
}

int psim_e164_from_q931(const struct psim_numbering *nb, const struct tpri_number *n, char *out,
                        size_t size)
{
	const char *d = n->digits;
	int len;

	if (!d[0])
		return EINVAL;
	switch (n->ton) {
	case TPRI_TON_INTERNATIONAL:
		len = snprintf(out, size, "+%s", d);
		break;
	case TPRI_TON_NATIONAL:
		len = snprintf(out, size, "+%s%s", nb->cc, d);
		break;
	default:
		if (d[0] == '+')
			len = snprintf(out, size, "%s", d);
		else if (starts(d, nb->intl_prefix))
			len = snprintf(out, size, "+%s", d + strlen(nb->intl_prefix));
		else if (starts(d, nb->natl_prefix))
			len = snprintf(out, size, "+%s%s", nb->cc, d + strlen(nb->natl_prefix));
		else
			len = snprintf(out, size, "+%s%s", nb->cc, d);
		break;
	}
	return len < 0 || (size_t)len >= size ? ENAMETOOLONG : 0;
}

int psim_q931_from_e164(const struct psim_numbering *nb, enum psim_numfmt fmt, const char *e164,
                        struct tpri_number *n)
{
	const char *d;
	size_t l;

	if (!e164 || e164[0] != '+' || !e164[1])
		return EINVAL;
	d = e164 + 1;
	for (const char *p = d; *p; p++)
		if (!isdigit((unsigned char)*p))
			return EINVAL;
	memset(n, 0, sizeof(*n));
	n->npi = TPRI_NPI_E164;
	n->ton = TPRI_TON_INTERNATIONAL;
	if (fmt == PSIM_NUM_NATIONAL && starts(d, nb->cc)) {
		d += strlen(nb->cc);
		n->ton = TPRI_TON_NATIONAL;
	}
	l = strlen(d);
	if (!l || l >= sizeof(n->digits))
		return EINVAL;
	memcpy(n->digits, d, l + 1);
	return 0;
}
