/*
 * cause: lookups through a map (or the built-in table), and the Reason
 * header (RFC 3326) in both directions.
 */
#include "cause/cause.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "sip/msg/msg.h"

#define STATUS_MAX 700

struct cause_map {
	uint16_t to_sip[128];              /* 0: no entry */
	uint8_t from_sip[STATUS_MAX];      /* 0: no entry */
	uint8_t from_sip_alerted[STATUS_MAX];
};

static uint16_t row_value(const struct cause_row *r, enum cause_profile p)
{
	return p == CAUSE_PROFILE_RFC3398 && r->rfc ? r->rfc : r->dflt;
}

int cause_map_alloc(struct cause_map **mp, enum cause_profile profile)
{
	const struct cause_row *rows;
	struct cause_map *m;
	size_t n, i;

	if (!mp || (profile != CAUSE_PROFILE_DEFAULT && profile != CAUSE_PROFILE_RFC3398))
		return EINVAL;
	m = mem_zalloc(sizeof(*m), NULL);
	if (!m)
		return ENOMEM;
	rows = cause_table(CAUSE_TO_SIP, &n);
	for (i = 0; i < n; i++)
		m->to_sip[rows[i].key] = row_value(&rows[i], profile);
	rows = cause_table(CAUSE_FROM_SIP, &n);
	for (i = 0; i < n; i++) {
		uint16_t v = row_value(&rows[i], profile);

		m->from_sip[rows[i].key] = (uint8_t)v;
		/* the alerted refinement is practice: the RFC profile keeps 18 */
		if (profile == CAUSE_PROFILE_DEFAULT && rows[i].alerted)
			v = rows[i].alerted;
		m->from_sip_alerted[rows[i].key] = (uint8_t)v;
	}
	*mp = m;
	return 0;
}

int cause_map_set(struct cause_map *m, enum cause_dir dir, unsigned from, unsigned to)
{
	if (!m)
		return EINVAL;
	switch (dir) {
	case CAUSE_TO_SIP:
		if (from < 1 || from > 127 || to < 300 || to > 699)
			return EINVAL;
		m->to_sip[from] = (uint16_t)to;
		return 0;
	case CAUSE_FROM_SIP:
	case CAUSE_FROM_SIP_ALERTED:
		if (from < 300 || from > 699 || to < 1 || to > 127)
			return EINVAL;
		if (dir == CAUSE_FROM_SIP)
			m->from_sip[from] = (uint8_t)to;
		m->from_sip_alerted[from] = (uint8_t)to;
		return 0;
	}
	return EINVAL;
}

static uint16_t table_find(enum cause_dir dir, unsigned key, bool alerted)
{
	const struct cause_row *rows;
	size_t n, i;

	rows = cause_table(dir, &n);
	for (i = 0; i < n; i++) {
		if (rows[i].key != key)
			continue;
		return alerted && rows[i].alerted ? rows[i].alerted : rows[i].dflt;
	}
	return 0;
}

static uint16_t to_sip_entry(const struct cause_map *m, unsigned cause)
{
	return m ? m->to_sip[cause] : table_find(CAUSE_TO_SIP, cause, false);
}

static unsigned from_sip_entry(const struct cause_map *m, unsigned status, bool alerted)
{
	if (!m)
		return table_find(CAUSE_FROM_SIP, status, alerted);
	return alerted ? m->from_sip_alerted[status] : m->from_sip[status];
}

uint16_t cause_to_sip(const struct cause_map *m, unsigned cause, const char **phrase)
{
	uint16_t s = 0;

	if (cause >= 1 && cause <= 127) {
		s = to_sip_entry(m, cause);
		/* Q.850 §2.2.7.1: an unknown value counts as its class's unspecified one */
		if (!s)
			s = to_sip_entry(m, cause <= 31 ? 31 : (cause | 15));
	}
	if (!s)
		s = 500;
	if (phrase)
		*phrase = sip_reason_phrase(s);
	return s;
}

unsigned cause_from_sip(const struct cause_map *m, uint16_t status, bool alerted)
{
	unsigned c;

	if (status < 200 || status > 699)
		return Q850_INTERWORKING;
	if (status < 300)
		return Q850_NORMAL_CLEARING;
	c = from_sip_entry(m, status, alerted);
	/* RFC 3261 §8.1.3.2: an unknown final status counts as the x00 of its class */
	if (!c)
		c = from_sip_entry(m, status / 100 * 100, alerted);
	return c ? c : Q850_NORMAL_UNSPECIFIED;
}

int cause_reason_fmt(char *buf, size_t size, unsigned cause)
{
	const char *name = cause_name(cause);
	int n;

	if (!buf || cause < 1 || cause > 127)
		return EINVAL;
	if (name)
		n = snprintf(buf, size, "Q.850;cause=%u;text=\"%s\"", cause, name);
	else
		n = snprintf(buf, size, "Q.850;cause=%u", cause);
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

/* Next comma-separated element of a header value; commas inside quoted
 * strings do not split. False at the end. */
static bool next_elem(struct pl *rest, struct pl *elem)
{
	const char *p = rest->p, *end = rest->p + rest->l;
	bool quoted = false;

	if (!rest->l)
		return false;
	for (; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == ',' && !quoted)
			break;
	}
	*elem = pl_trim(pl_make(rest->p, (size_t)(p - rest->p)));
	*rest = p < end ? pl_make(p + 1, (size_t)(end - p - 1)) : pl_make(end, 0);
	return true;
}

static bool is_q850(struct pl elem)
{
	return elem.l >= 5 && pl_caseeq_str(pl_make(elem.p, 5), "Q.850") &&
	       (elem.l == 5 || elem.p[5] == ';' || elem.p[5] == ' ' || elem.p[5] == '\t');
}

int cause_reason_q850(struct pl val, unsigned *cause)
{
	struct pl rest = val, elem;
	struct sip_reason r;

	if (!cause)
		return EINVAL;
	while (next_elem(&rest, &elem)) {
		if (!elem.l)
			continue;
		if (sip_reason_decode(&r, elem) != 0) {
			/* another protocol's malformed element is not ours to judge */
			if (is_q850(elem))
				return EBADMSG;
			continue;
		}
		if (!pl_caseeq_str(r.protocol, "Q.850"))
			continue;
		if (!r.has_cause || r.cause > 127)
			return EBADMSG;
		*cause = r.cause;
		return 0;
	}
	return ENOENT;
}

unsigned cause_from_sip_reason(const struct cause_map *m, uint16_t status, bool alerted,
			       struct pl reason)
{
	unsigned c;

	if (pl_isset(reason) && cause_reason_q850(reason, &c) == 0 && c >= 1 && c <= 127)
		return c;
	return status ? cause_from_sip(m, status, alerted) : Q850_NORMAL_CLEARING;
}

int cause_reason_sip_fmt(char *buf, size_t size, uint16_t status)
{
	const char *text;
	int n;

	if (!buf || status < 100 || status > 699)
		return EINVAL;
	text = status == 200 ? "Call completed elsewhere" : sip_reason_phrase(status);
	n = snprintf(buf, size, "SIP;cause=%u;text=\"%s\"", status, text);
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}
