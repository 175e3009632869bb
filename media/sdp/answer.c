/*
 * Answering an offer (RFC 3264 §6): one m-line per offered m-line, the first
 * usable audio stream accepted with our preferred codec, the rest refused
 * with port 0.
 */
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "media/sdp/sdp_int.h"

struct plan {
	const struct sdp_session *offer;
	int audio; /* accepted m-line, -1: none */
	bool savp;
	const struct sa *laddr;
	struct pl codec_fmt, dtmf_fmt;
	struct sdp_events ev; /* events we accept */
	uint32_t tag;         /* crypto tag we answer, when res.srtp */
	bool peer_hold;
	struct sdp_result res;
};

static int conn_af(const struct sdp_conn *c)
{
	if (sa_isset(&c->sa))
		return sa_af(&c->sa);
	if (!pl_eq(c->nettype, PL("IN")))
		return 0;
	if (pl_eq(c->addrtype, PL("IP4")))
		return AF_INET;
	return pl_eq(c->addrtype, PL("IP6")) ? AF_INET6 : 0;
}

static bool pick_codec(const struct sdp_prefs *p, const struct sdp_media *m, struct plan *pl)
{
	struct sdp_rtpmap r;
	enum sdp_codec c;

	for (unsigned k = 0; k < p->ncodec; k++) {
		if (p->codec[k] == SDP_CODEC_TEL_EVENT)
			continue;
		for (unsigned i = 0; i < m->nfmt; i++) {
			if (sdp_media_rtpmap(m, m->fmt[i], &r) || !sdp_codec_match(&r, &c) ||
			    c != p->codec[k])
				continue;
			pl->codec_fmt = m->fmt[i];
			pl->res.codec = c;
			pl->res.pt = pl->res.rx_pt = r.pt;
			pl->res.clock = r.clock;
			return true;
		}
	}
	return false;
}

/* RFC 4733 §7.1.1: telephone-event at the clock rate of the audio codec. */
static void pick_dtmf(const struct sdp_prefs *p, const struct sdp_media *m, struct plan *pl)
{
	struct sdp_rtpmap r;
	struct sdp_events ev;
	struct pl params;
	enum sdp_codec c;

	if (!sdp_prefs_have(p, SDP_CODEC_TEL_EVENT))
		return;
	for (unsigned i = 0; i < m->nfmt; i++) {
		if (sdp_media_rtpmap(m, m->fmt[i], &r) || !sdp_codec_match(&r, &c) ||
		    c != SDP_CODEC_TEL_EVENT || r.clock != pl->res.clock)
			continue;
		if (!sdp_media_fmtp(m, m->fmt[i], &params))
			params = PL("0-15"); /* RFC 4733 §2.4.1 default */
		if (sdp_events_decode(params, &ev))
			continue;
		ev.bits[0] &= 0xffff; /* we generate and detect 0-9 * # A-D */
		memset(&ev.bits[1], 0, sizeof(ev.bits) - sizeof(ev.bits[0]));
		if (!ev.bits[0])
			continue;
		pl->ev = ev;
		pl->dtmf_fmt = m->fmt[i];
		pl->res.dtmf = true;
		pl->res.dtmf_pt = pl->res.dtmf_rx_pt = r.pt;
		return;
	}
}

/* SRTP policy against the offered proto and crypto lines. */
static bool pick_srtp(const struct sdp_prefs *p, const struct sdp_media *m, struct plan *pl)
{
	struct sdp_crypto c;
	enum sdp_suite s;
	bool got = p->srtp != SDP_SRTP_OFF && sdp_pick_crypto(p, m, &c, &s, pl->res.rx_key);

	if (pl->savp && p->srtp == SDP_SRTP_OFF)
		return false;
	if (!got)
		return !pl->savp && p->srtp != SDP_SRTP_MANDATORY;
	pl->res.srtp = true;
	pl->res.suite = s;
	pl->res.key_len = (uint8_t)sdp_suite_keylen(s);
	pl->res.rx_mki = c.has_mki;
	pl->res.rx_mki_val = c.mki;
	pl->res.rx_mki_len = c.mki_len;
	pl->res.rx_lifetime = c.lifetime_pkts;
	pl->tag = c.tag;
	return true;
}

/* The peer's preference if we can do it (multiples of 10 ms up to 60), within maxptime. */
static uint32_t tx_ptime(const struct sdp_session *s, const struct sdp_media *m, uint32_t ours)
{
	uint32_t r = sdp_media_ptime(s, m, "ptime"), max = sdp_media_ptime(s, m, "maxptime");
	uint32_t t = (r >= 10 && r <= 60 && r % 10 == 0) ? r : ours;

	if (max && t > max)
		t = max >= 10 ? max / 10 * 10 : 10;
	return t;
}

static bool try_audio(const struct sdp_neg *n, const struct sdp_media *m, unsigned idx,
                      struct plan *pl)
{
	const struct sdp_session *o = pl->offer;
	const struct sdp_conn *c = sdp_media_conn(o, m);
	enum sdp_dir od, local = n->hold ? SDP_SENDONLY : SDP_SENDRECV;

	if (!m->port || !pl_caseeq(m->media, PL("audio")) || !c)
		return false;
	if (pl_caseeq(m->proto, PL("RTP/SAVP")))
		pl->savp = true;
	else if (!pl_caseeq(m->proto, PL("RTP/AVP")))
		return false;
	pl->laddr = sdp_neg_local(n, conn_af(c));
	if (!pl->laddr || c->addr.l >= SDP_HOST_MAX)
		return false;
	memset(&pl->res, 0, sizeof(pl->res));
	if (!pick_srtp(n->prefs, m, pl) || !pick_codec(n->prefs, m, pl))
		return false;
	pick_dtmf(n->prefs, m, pl);
	pl->res.ptime = tx_ptime(o, m, n->prefs->ptime ? n->prefs->ptime : 20);
	od = sdp_media_dir(o, m);
	if (c->zero)
		od &= ~SDP_RECVONLY; /* RFC 3264 §8.4: c=0.0.0.0, the offerer receives nothing */
	pl->peer_hold = !(od & SDP_RECVONLY);
	pl->res.dir = sdp_dir_reverse(od) & local;
	pl->res.active = true;
	pl->res.mline = idx;
	sdp_remote_addr(&pl->res, o, m);
	pl->audio = (int)idx;
	return true;
}

static void wr_events(struct sdp_wr *w, const struct sdp_events *ev)
{
	const char *sep = "";

	for (unsigned e = 0; e < 256; e++) {
		unsigned end = e;
		if (!sdp_events_has(ev, e))
			continue;
		while (end + 1 < 256 && sdp_events_has(ev, end + 1))
			end++;
		if (end > e)
			sdp_wr_printf(w, "%s%u-%u", sep, e, end);
		else
			sdp_wr_printf(w, "%s%u", sep, e);
		sep = ",";
		e = end;
	}
}

static void wr_audio(struct sdp_wr *w, const struct sdp_neg *n, const struct plan *pl,
                     const struct sdp_media *m)
{
	const struct sdp_result *r = &pl->res;

	sdp_wr_printf(w, "m=audio %u %.*s %.*s", sa_port(pl->laddr), PL_ARG(m->proto),
	              PL_ARG(pl->codec_fmt));
	if (r->dtmf)
		sdp_wr_printf(w, " %.*s", PL_ARG(pl->dtmf_fmt));
	sdp_wr_printf(w, "\r\na=rtpmap:%u %s/%u\r\n", r->pt, sdp_codec_name(r->codec), r->clock);
	if (r->dtmf) {
		sdp_wr_printf(w, "a=rtpmap:%u telephone-event/%u\r\na=fmtp:%u ", r->dtmf_pt,
		              r->clock, r->dtmf_pt);
		wr_events(w, &pl->ev);
		sdp_wr_printf(w, "\r\n");
	}
	sdp_wr_printf(w, "a=ptime:%u\r\n", n->prefs->ptime ? n->prefs->ptime : 20);
	if (n->rtcp_port)
		sdp_wr_printf(w, "a=rtcp:%u\r\n", n->rtcp_port);
	if (r->srtp)
		sdp_wr_crypto(w, n, pl->tag, r->suite);
	sdp_wr_printf(w, "a=%s\r\n", sdp_dir_name(r->dir));
}

static void build_answer(struct sdp_wr *w, const struct sdp_neg *n, const void *arg,
                         size_t *ver_off, size_t *ver_len)
{
	const struct plan *pl = arg;
	const struct sdp_session *o = pl->offer;

	sdp_wr_head(w, n, pl->laddr, ver_off, ver_len);
	for (unsigned i = 0; i < o->nmedia; i++) {
		const struct sdp_media *m = &o->media[i];
		if ((int)i == pl->audio)
			wr_audio(w, n, pl, m);
		else /* RFC 3264 §6: refused, with the offered media, proto and a format */
			sdp_wr_printf(w, "m=%.*s 0 %.*s %.*s\r\n", PL_ARG(m->media),
			              PL_ARG(m->proto), PL_ARG(m->fmt[0]));
	}
}

static void commit(struct sdp_neg *n, const struct plan *pl)
{
	const struct sdp_session *o = pl->offer;

	n->res = pl->res;
	sdp_peer_origin(n, &n->res, o);
	n->peer_hold = pl->peer_hold;
	n->nmline = o->nmedia;
	for (unsigned i = 0; i < o->nmedia; i++)
		sdp_mline_set(&n->mline[i], o->media[i].media, o->media[i].proto,
		              o->media[i].fmt[0]);
	n->audio = (unsigned)pl->audio;
	n->audio_savp = pl->savp;
	n->state = SDP_NEG_DONE;
}

int sdp_neg_answer(struct sdp_neg *n, const struct sdp_session *offer, char *buf, size_t size,
                   size_t *lenp)
{
	struct plan pl = {.offer = offer, .audio = -1};
	int err;

	if (n->state == SDP_NEG_OFFER_SENT)
		return EPROTO;
	/* Every m-line is kept for our re-offers (RFC 3264 §8): one whose media, proto or
	 * format would not fit would come back cut, i.e. wrong (found by fuzz_sdp). */
	for (unsigned i = 0; i < offer->nmedia; i++) {
		const struct sdp_media *m = &offer->media[i];

		if (m->media.l >= sizeof(n->mline[0].media) ||
		    m->proto.l >= sizeof(n->mline[0].proto) || m->fmt[0].l >= sizeof(n->mline[0].fmt))
			return E2BIG;
	}
	for (unsigned i = 0; i < offer->nmedia && pl.audio < 0; i++) {
		pl.savp = false;
		try_audio(n, &offer->media[i], i, &pl);
	}
	if (pl.audio < 0) {
		LOGD(n->ctx, "sdp: nothing usable in an offer of %u m-lines", offer->nmedia);
		return EMEDIUMTYPE;
	}
	if (pl.res.srtp) {
		err = sdp_keys_make(n);
		if (err)
			return err;
		memcpy(pl.res.tx_key, n->key[pl.res.suite], pl.res.key_len);
	}
	err = sdp_neg_emit(n, buf, size, lenp, build_answer, &pl);
	if (err)
		return err;
	commit(n, &pl);
	return 0;
}
