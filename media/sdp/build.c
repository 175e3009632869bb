/*
 * Writing SDP: the append-only writer every SDP of ours goes through, and
 * sdp_build(), which writes a parsed (or hand-filled) session back as text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "media/sdp/sdp_int.h"

void sdp_wr_init(struct sdp_wr *w, char *buf, size_t size)
{
	w->buf = buf;
	w->size = size;
	w->len = 0;
	w->overflow = false;
}

void sdp_wr_printf(struct sdp_wr *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, w->size - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->size - w->len) {
		w->overflow = true;
		return;
	}
	w->len += (size_t)n;
}

void sdp_wr_pl(struct sdp_wr *w, struct pl pl)
{
	if (w->overflow)
		return;
	if (pl.l >= w->size - w->len) {
		w->overflow = true;
		return;
	}
	if (pl.l)
		memcpy(w->buf + w->len, pl.p, pl.l);
	w->len += pl.l;
	w->buf[w->len] = '\0';
}

int sdp_wr_end(struct sdp_wr *w, size_t *lenp)
{
	if (w->overflow || !w->size)
		return ENOSPC;
	w->buf[w->len] = '\0';
	*lenp = w->len;
	return 0;
}

static void wr_conn(struct sdp_wr *w, const struct sdp_conn *c)
{
	sdp_wr_printf(w, "c=%.*s %.*s %.*s", PL_ARG(c->nettype), PL_ARG(c->addrtype),
	              PL_ARG(c->addr));
	if (pl_isset(c->ttl))
		sdp_wr_printf(w, "/%.*s", PL_ARG(c->ttl));
	if (pl_isset(c->num))
		sdp_wr_printf(w, "/%.*s", PL_ARG(c->num));
	sdp_wr_printf(w, "\r\n");
}

static void wr_text(struct sdp_wr *w, char type, struct pl v)
{
	if (pl_isset(v))
		sdp_wr_printf(w, "%c=%.*s\r\n", type, PL_ARG(v));
}

static void wr_bws(struct sdp_wr *w, const struct sdp_bw *bw, unsigned nbw)
{
	for (unsigned i = 0; i < nbw; i++)
		sdp_wr_printf(w, "b=%.*s:%u\r\n", PL_ARG(bw[i].type), bw[i].value);
}

static void wr_attrs(struct sdp_wr *w, const struct sdp_attr *attr, unsigned nattr)
{
	for (unsigned i = 0; i < nattr; i++) {
		if (pl_isset(attr[i].value))
			sdp_wr_printf(w, "a=%.*s:%.*s\r\n", PL_ARG(attr[i].name),
			              PL_ARG(attr[i].value));
		else
			sdp_wr_printf(w, "a=%.*s\r\n", PL_ARG(attr[i].name));
	}
}

static void wr_media(struct sdp_wr *w, const struct sdp_media *m)
{
	sdp_wr_printf(w, "m=%.*s %u", PL_ARG(m->media), m->port);
	if (m->nports)
		sdp_wr_printf(w, "/%u", m->nports);
	sdp_wr_printf(w, " %.*s", PL_ARG(m->proto));
	for (unsigned i = 0; i < m->nfmt; i++)
		sdp_wr_printf(w, " %.*s", PL_ARG(m->fmt[i]));
	sdp_wr_printf(w, "\r\n");
	wr_text(w, 'i', m->info);
	for (unsigned i = 0; i < m->nconn; i++)
		wr_conn(w, &m->conn[i]);
	wr_bws(w, m->bw, m->nbw);
	wr_text(w, 'k', m->key);
	wr_attrs(w, m->attr, m->nattr);
}

int sdp_build(char *buf, size_t size, const struct sdp_session *s, size_t *lenp)
{
	const struct sdp_origin *o = &s->origin;
	struct sdp_wr w;

	sdp_wr_init(&w, buf, size);
	sdp_wr_printf(&w, "v=0\r\no=%.*s %.*s %llu %.*s %.*s %.*s\r\n", PL_ARG(o->user),
	              PL_ARG(o->id), (unsigned long long)o->version, PL_ARG(o->nettype),
	              PL_ARG(o->addrtype), PL_ARG(o->addr));
	/* RFC 8866 §5.3: "-" when there is no name (an empty s= is not valid) */
	sdp_wr_printf(&w, "s=%.*s\r\n", PL_ARG(s->name.l ? s->name : PL("-")));
	wr_text(&w, 'i', s->info);
	wr_text(&w, 'u', s->uri);
	for (unsigned i = 0; i < s->nemail; i++)
		wr_text(&w, 'e', s->email[i]);
	for (unsigned i = 0; i < s->nphone; i++)
		wr_text(&w, 'p', s->phone[i]);
	if (s->has_conn)
		wr_conn(&w, &s->conn);
	wr_bws(&w, s->bw, s->nbw);
	if (!s->ntime)
		sdp_wr_printf(&w, "t=0 0\r\n");
	for (unsigned i = 0; i < s->ntime; i++) {
		sdp_wr_printf(&w, "t=%llu %llu\r\n", (unsigned long long)s->time[i].start,
		              (unsigned long long)s->time[i].stop);
		for (unsigned k = 0; k < s->time[i].nrepeat; k++)
			wr_text(&w, 'r', s->time[i].repeat[k]);
	}
	wr_text(&w, 'z', s->zone);
	wr_text(&w, 'k', s->key);
	wr_attrs(&w, s->attr, s->nattr);
	for (unsigned i = 0; i < s->nmedia; i++)
		wr_media(&w, &s->media[i]);
	return sdp_wr_end(&w, lenp);
}
