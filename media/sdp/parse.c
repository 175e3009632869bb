/*
 * SDP parsing (RFC 8866 §5, §9): one pass over the lines, each typed field
 * split into slices of the caller's text. See sdp.h for what is strict and
 * what is lenient.
 */
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "media/sdp/sdp_int.h"

enum stage {
	ST_V,       /* expecting v= */
	ST_O,       /* expecting o= */
	ST_S,       /* expecting s= */
	ST_SESSION, /* session-level lines */
	ST_MEDIA,   /* inside an m= section */
};

struct pstate {
	struct sdp_session *s;
	struct sdp_media *m; /* current m-line, or NULL */
	enum stage stage;
	bool seen_i, seen_u, seen_z, seen_k, seen_mi, seen_mk;
};

static bool all_digits(struct pl pl)
{
	if (!pl.l)
		return false;
	for (size_t i = 0; i < pl.l; i++) {
		if (pl.p[i] < '0' || pl.p[i] > '9')
			return false;
	}
	return true;
}

static bool is_hostchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* A host that is no IP literal must at least look like a domain name (no ':'). */
static bool plausible_host(struct pl h)
{
	bool alpha = false;

	if (!h.l)
		return false;
	for (size_t i = 0; i < h.l; i++) {
		if (!is_hostchar(h.p[i]))
			return false;
		if ((h.p[i] | 0x20) >= 'a' && (h.p[i] | 0x20) <= 'z')
			alpha = true;
	}
	return alpha; /* all digits and dots: a broken IPv4 literal */
}

static int parse_conn(struct pl v, struct sdp_conn *c)
{
	struct pl rest = v, addr, extra, extra2;
	int af;

	memset(c, 0, sizeof(*c));
	if (!sdp_tok_next(&rest, &c->nettype) || !sdp_tok_next(&rest, &c->addrtype) ||
	    !sdp_tok_next(&rest, &addr) || sdp_tok_next(&rest, &extra))
		return EBADMSG;
	c->addr = sdp_split(addr, '/', &extra);
	if (!c->addr.l || !sdp_is_token(c->nettype) || !sdp_is_token(c->addrtype))
		return EBADMSG;
	if (pl_isset(extra)) {
		struct pl first = sdp_split(extra, '/', &extra2);
		bool v4 = pl_eq(c->addrtype, PL("IP4"));

		if (!all_digits(first) || (pl_isset(extra2) && (!v4 || !all_digits(extra2))))
			return EBADMSG;
		if (v4) {
			c->ttl = first;
			c->num = extra2;
		} else {
			c->num = first;
		}
	}
	if (!pl_eq(c->nettype, PL("IN")))
		return 0; /* other networks: kept as text */
	if (pl_eq(c->addrtype, PL("IP4")))
		af = AF_INET;
	else if (pl_eq(c->addrtype, PL("IP6")))
		af = AF_INET6;
	else
		return 0;
	if (c->addr.p[0] != '[' && sa_set(&c->sa, c->addr, 0) == 0) {
		if (sa_af(&c->sa) != af)
			return EBADMSG;
		c->zero = sa_is_any(&c->sa);
		return 0;
	}
	memset(&c->sa, 0, sizeof(c->sa));
	return plausible_host(c->addr) ? 0 : EBADMSG;
}

static int parse_origin(struct pl v, struct sdp_origin *o)
{
	struct pl rest = v, ver, extra;

	if (!sdp_tok_next(&rest, &o->user) || !sdp_tok_next(&rest, &o->id) ||
	    !sdp_tok_next(&rest, &ver) || !sdp_tok_next(&rest, &o->nettype) ||
	    !sdp_tok_next(&rest, &o->addrtype) || !sdp_tok_next(&rest, &o->addr) ||
	    sdp_tok_next(&rest, &extra))
		return EBADMSG;
	if (!all_digits(o->id) || pl_u64(ver, &o->version) || !sdp_is_token(o->nettype) ||
	    !sdp_is_token(o->addrtype))
		return EBADMSG;
	return 0;
}

static int parse_bw(struct pl v, struct sdp_bw *bw, unsigned *nbw)
{
	struct pl val;

	if (*nbw >= SDP_MAX_BW)
		return E2BIG;
	bw[*nbw].type = sdp_split(v, ':', &val);
	if (!sdp_is_token(bw[*nbw].type) || pl_u32(val, &bw[*nbw].value))
		return EBADMSG;
	(*nbw)++;
	return 0;
}

static int parse_time(struct sdp_session *s, struct pl v)
{
	struct pl rest = v, a, b, extra;
	struct sdp_time *t;

	if (s->ntime >= SDP_MAX_TIME)
		return E2BIG;
	t = &s->time[s->ntime];
	if (!sdp_tok_next(&rest, &a) || !sdp_tok_next(&rest, &b) || sdp_tok_next(&rest, &extra))
		return EBADMSG;
	if (pl_u64(a, &t->start) || pl_u64(b, &t->stop))
		return EBADMSG;
	t->nrepeat = 0;
	s->ntime++;
	return 0;
}

static int parse_attr(struct pl v, struct sdp_attr *attr, unsigned *nattr)
{
	struct sdp_attr *a;

	if (*nattr >= SDP_MAX_ATTR)
		return E2BIG;
	a = &attr[*nattr];
	a->name = sdp_split(v, ':', &a->value);
	if (!sdp_is_token(a->name))
		return EBADMSG;
	(*nattr)++;
	return 0;
}

static int parse_media(struct sdp_media *m, struct pl v)
{
	struct pl rest = v, port, nports, tok;
	uint32_t u;

	memset(m, 0, sizeof(*m));
	if (!sdp_tok_next(&rest, &m->media) || !sdp_tok_next(&rest, &port) ||
	    !sdp_tok_next(&rest, &m->proto))
		return EBADMSG;
	if (!sdp_is_token(m->media))
		return EBADMSG;
	port = sdp_split(port, '/', &nports);
	if (pl_u32(port, &u) || u > 65535)
		return EBADMSG;
	m->port = (uint16_t)u;
	if (pl_isset(nports) && (pl_u32(nports, &m->nports) || !m->nports))
		return EBADMSG;
	for (struct pl rp = m->proto, part; pl_isset(rp);) {
		part = sdp_split(rp, '/', &rp);
		if (!sdp_is_token(part))
			return EBADMSG;
	}
	while (sdp_tok_next(&rest, &tok)) {
		if (!sdp_is_token(tok))
			return EBADMSG;
		if (m->nfmt >= SDP_MAX_FMT)
			return E2BIG;
		m->fmt[m->nfmt++] = tok;
	}
	return m->nfmt ? 0 : EBADMSG;
}

static int once(bool *seen)
{
	if (*seen)
		return EBADMSG;
	*seen = true;
	return 0;
}

static int session_line(struct pstate *ps, char type, struct pl v)
{
	struct sdp_session *s = ps->s;
	int err;

	switch (type) {
	case 'i':
		s->info = v;
		return once(&ps->seen_i);
	case 'u':
		s->uri = v;
		return once(&ps->seen_u);
	case 'e':
	case 'p': {
		struct pl *arr = type == 'e' ? s->email : s->phone;
		unsigned *n = type == 'e' ? &s->nemail : &s->nphone;
		if (*n >= SDP_MAX_CONTACT)
			return E2BIG;
		arr[(*n)++] = v;
		return 0;
	}
	case 'c':
		if (s->has_conn)
			return EBADMSG;
		s->has_conn = true;
		return parse_conn(v, &s->conn);
	case 'b':
		return parse_bw(v, s->bw, &s->nbw);
	case 't':
		return parse_time(s, v);
	case 'r':
		if (!s->ntime || !v.l)
			return EBADMSG;
		if (s->time[s->ntime - 1].nrepeat >= SDP_MAX_REPEAT)
			return E2BIG;
		s->time[s->ntime - 1].repeat[s->time[s->ntime - 1].nrepeat++] = v;
		return 0;
	case 'z':
		s->zone = v;
		return once(&ps->seen_z);
	case 'k':
		s->key = v;
		return once(&ps->seen_k);
	case 'a':
		return parse_attr(v, s->attr, &s->nattr);
	default:
		err = EBADMSG;
	}
	return err;
}

static int media_line(struct pstate *ps, char type, struct pl v)
{
	struct sdp_media *m = ps->m;

	switch (type) {
	case 'i':
		m->info = v;
		return once(&ps->seen_mi);
	case 'c':
		if (m->nconn >= SDP_MAX_CONN)
			return E2BIG;
		return parse_conn(v, &m->conn[m->nconn++]);
	case 'b':
		return parse_bw(v, m->bw, &m->nbw);
	case 'k':
		m->key = v;
		return once(&ps->seen_mk);
	case 'a':
		return parse_attr(v, m->attr, &m->nattr);
	default:
		/* u e p z t r belong before the first m= */
		return EBADMSG;
	}
}

static int line(struct pstate *ps, char type, struct pl v)
{
	struct sdp_session *s = ps->s;

	switch (ps->stage) {
	case ST_V:
		if (type != 'v' || !pl_eq(v, PL("0")))
			return EBADMSG;
		ps->stage = ST_O;
		return 0;
	case ST_O:
		if (type != 'o')
			return EBADMSG;
		ps->stage = ST_S;
		return parse_origin(v, &s->origin);
	case ST_S:
		if (type != 's')
			return EBADMSG;
		s->name = v;
		ps->stage = ST_SESSION;
		return 0;
	default:
		break;
	}
	if (type == 'v' || type == 'o' || type == 's')
		return EBADMSG;
	if (type == 'm') {
		if (s->nmedia >= SDP_MAX_MEDIA)
			return E2BIG;
		ps->m = &s->media[s->nmedia++];
		ps->stage = ST_MEDIA;
		ps->seen_mi = ps->seen_mk = false;
		return parse_media(ps->m, v);
	}
	return ps->stage == ST_MEDIA ? media_line(ps, type, v) : session_line(ps, type, v);
}

/* Splits off the next line; strips CR and trailing white space. */
static int next_line(struct pl *rest, struct pl *ln)
{
	const char *nl = pl_chr(*rest, '\n');
	size_t l = nl ? (size_t)(nl - rest->p) : rest->l;

	*ln = pl_make(rest->p, l);
	rest->p += nl ? l + 1 : l;
	rest->l -= nl ? l + 1 : l;
	while (ln->l &&
	       (ln->p[ln->l - 1] == ' ' || ln->p[ln->l - 1] == '\t' || ln->p[ln->l - 1] == '\r'))
		ln->l--;
	for (size_t i = 0; i < ln->l; i++) {
		if (ln->p[i] == '\0' || ln->p[i] == '\r' || ln->p[i] == '\n')
			return EBADMSG;
	}
	return 0;
}

static int check_conns(const struct sdp_session *s)
{
	for (unsigned i = 0; i < s->nmedia; i++) {
		if (s->media[i].port && !sdp_media_conn(s, &s->media[i]))
			return EBADMSG;
	}
	return 0;
}

int sdp_parse(struct sdp_session *s, struct pl text)
{
	struct pstate ps = {.s = s, .stage = ST_V};
	struct pl rest = text, ln;
	int err = 0;

	if (!text.p)
		return EBADMSG;
	memset(s, 0, sizeof(*s));
	while (rest.l) {
		err = next_line(&rest, &ln);
		if (err)
			goto out;
		if (!ln.l)
			continue;
		if (ln.l < 2 || ln.p[1] != '=' || !strchr("vosiuepcbtrzkam", ln.p[0]) ||
		    ln.p[0] == '\0') {
			err = EBADMSG;
			goto out;
		}
		err = line(&ps, ln.p[0], pl_make(ln.p + 2, ln.l - 2));
		if (err)
			goto out;
	}
	err = ps.stage < ST_SESSION ? EBADMSG : check_conns(s);
out:
	return err;
}

int sdp_decode(struct sdp_session **sp, struct pl text)
{
	struct sdp_session *s = mem_zalloc(sizeof(*s), NULL);
	int err;

	if (!s)
		return ENOMEM;
	err = sdp_parse(s, text);
	if (err)
		goto out;
	*sp = s;
	s = NULL;
out:
	mem_deref(s);
	return err;
}
