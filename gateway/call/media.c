/*
 * The media side of a call: SDP offer/answer (media/sdp), an RTP/RTCP port
 * pair from the configured range, and once both an audio stream is
 * negotiated and the PRI call has its B-channel, a media engine channel
 * (media/engine) joining the two. call_media_sync() is called after every
 * change (answer, re-offer, early media) and starts or repoints the channel;
 * hold (we are not to receive) turns the RTP timeout off.
 *
 * The engine's events come back here on the signalling thread: digits heard
 * on the B-channel go out as SIP INFO when the DTMF mode is info, no RTP for
 * rtp_timeout clears the call (cause 41), and MEDIA_EV_STOPPED hands over
 * the final counters for the CDR. A call is not freed while its channel runs.
 */
#include "call/call_int.h"

#include "cdr/cdr.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/loop.h"
#include "media/dsp/dsp.h"
#include "media/engine/engine.h"
#include "provisioning/config.h"
#include "sip/ua/ua.h"
#include "tdm/span/span.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CAUSE_MEDIA_TIMEOUT 41 /* temporary failure: the network lost the media */

void call_media_prefs(struct call_ctl *cc)
{
	const struct cfg_media *m = &cc->cfg.cfg->media;
	struct sdp_prefs *p = &cc->prefs;

	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < m->ncodecs; i++)
		p->codec[p->ncodec++] = m->codecs[i];
	if (m->dtmf != MEDIA_DTMF_INBAND)
		p->codec[p->ncodec++] = SDP_CODEC_TEL_EVENT;
	p->srtp = m->srtp;
	p->suite[0] = SDP_SUITE_AES_CM_128_HMAC_SHA1_80;
	p->suite[1] = SDP_SUITE_AES_CM_128_HMAC_SHA1_32;
	p->suite[2] = SDP_SUITE_AEAD_AES_128_GCM;
	p->nsuite = 3;
	p->ptime = m->ptime;
	p->accept_mki = true;
	if (m->port_min != cc->ports.min || (m->port_max | 1) != cc->ports.max)
		rtp_ports_init(&cc->ports, m->port_min, m->port_max);
}

/*
 * Our address towards target (a SIP URI) when we listen on the any-address:
 * what the kernel would use as source for it (a connected UDP socket sends
 * nothing). Falls back to *local.
 */
void call_media_local_for(struct call *c, const char *target, struct sa *local)
{
	struct sip_hop hop;
	struct sa a;
	int fd;

	if (!sa_is_any(local) ||
	    sip_hop_from_uri(&hop, c->cc->cfg.ua, pl_make(target, strlen(target))))
		return;
	fd = socket(sa_af(&hop.addr), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	a.len = sizeof(a.u.ss);
	if (!connect(fd, &hop.addr.u.sa, hop.addr.len) && !getsockname(fd, &a.u.sa, &a.len))
		*local = a;
	close(fd);
}

int call_media_open(struct call *c, const struct sa *local, struct sdp_neg *neg, int *rtp_fd,
                    int *rtcp_fd)
{
	const struct cfg_media *m = &c->cc->cfg.cfg->media;
	struct rtp_socks ss;
	int err = rtp_socks_open(&ss, &c->cc->ports, local, m->dscp < 0 ? 0 : (uint8_t)m->dscp);

	if (err) {
		LOGW(c->ctx, "media: no RTP port pair in %u-%u: %s", c->cc->ports.min,
		     c->cc->ports.max, strerror(err));
		return err;
	}
	*rtp_fd = ss.rtp_fd;
	*rtcp_fd = ss.rtcp_fd;
	sdp_neg_init(neg, &c->cc->prefs, &ss.laddr, NULL, loop_clock_ms());
	neg->ctx = c->ctx;
	return 0;
}

int call_media_init(struct call *c, const struct sa *local)
{
	int err = call_media_open(c, local, &c->neg, &c->rtp_fd, &c->rtcp_fd);

	if (!err && !c->cc->engine)
		LOGN(c->ctx, "media: SDP at port %u, but no media engine: no audio",
		     sa_port(&c->neg.local));
	return err;
}

uint16_t call_media_answer(struct call *c, struct pl offer)
{
	struct sdp_session *s = NULL;
	int err = sdp_decode(&s, offer);

	if (!err)
		err = sdp_neg_answer(&c->neg, s, c->sdp, sizeof(c->sdp), &c->sdp_len);
	mem_deref(s);
	if (err) {
		LOGN(c->ctx, "SDP offer refused: %s", strerror(err));
		return err == EBADMSG ? 400 : sdp_neg_status(err);
	}
	c->sdp_is_offer = false;
	return 0;
}

int call_media_offer(struct call *c)
{
	int err = sdp_neg_offer(&c->neg, c->sdp, sizeof(c->sdp), &c->sdp_len);

	if (!err)
		c->sdp_is_offer = true;
	return err;
}

int call_media_peer_answer(struct call *c, struct pl answer)
{
	struct sdp_session *s = NULL;
	int err = sdp_decode(&s, answer);

	if (!err)
		err = sdp_neg_process_answer(&c->neg, s);
	mem_deref(s);
	if (err)
		LOGN(c->ctx, "SDP answer not usable: %s", strerror(err));
	return err;
}

static const enum media_codec codec_map[] = {
    [SDP_CODEC_PCMA] = MEDIA_PCMA,
    [SDP_CODEC_PCMU] = MEDIA_PCMU,
    [SDP_CODEC_G722] = MEDIA_G722,
};

/* Where to send (unset: nowhere) and how long silence may last, from the result. */
static void media_dir(const struct call *c, const struct sdp_result *r, struct sa *remote,
                      uint32_t *timeout_ms)
{
	const struct cfg_media *m = &c->cc->cfg.cfg->media;

	memset(remote, 0, sizeof(*remote));
	if ((r->dir & SDP_SENDONLY) && sa_isset(&r->remote))
		*remote = r->remote;
	/* Phones need not send before the answer (early media), nor while they hold us. */
	*timeout_ms = c->answered && (r->dir & SDP_RECVONLY) ? m->rtp_timeout_s * 1000u : 0;
}

static void sdes_key(struct rtp_sdes_key *k, const struct sdp_result *r, const uint8_t *key,
                     bool rx)
{
	memset(k, 0, sizeof(*k));
	k->suite = (enum rtp_srtp_suite)r->suite;
	k->len = r->key_len;
	memcpy(k->key, key, r->key_len < sizeof(k->key) ? r->key_len : sizeof(k->key));
	if (rx && r->rx_mki) {
		k->mki = r->rx_mki_val;
		k->mki_len = (uint8_t)r->rx_mki_len;
	}
}

static int media_start(struct call *c, const struct sdp_result *r)
{
	const struct cfg_media *m = &c->cc->cfg.cfg->media;
	struct media_chan_params p = {
	    .span = tpri_span(c->tp),
	    .ts = (unsigned)tpri_call_channel(c->pc),
	    .rtp_fd = c->rtp_fd,
	    .rtcp_fd = c->rtcp_fd,
	    .codec = codec_map[r->codec],
	    .pt = r->pt,
	    .rx_pt = r->rx_pt,
	    .te = r->dtmf,
	    .te_pt = r->dtmf_pt,
	    .te_rx_pt = r->dtmf_rx_pt,
	    .dtmf_mode = m->dtmf,
	    .remote_rtcp = r->remote_rtcp,
	    .srtp = r->srtp,
	    .ec = m->ec,
	    .ec_tail_ms = m->ec_tail_ms,
	    .latch = true,
	    .jb = {.min_ms = m->jb_min_ms, .max_ms = m->jb_max_ms},
	    .ctx = c->ctx,
	    .user = c,
	};
	int err;

	media_dir(c, r, &p.remote, &p.timeout_ms);
	/* A span with a canceller of its own (DAHDI's) does it; speexdsp where there is none. */
	if (p.ec && !span_ec_set(p.span, p.ts, m->ec_tail_ms * 8u)) {
		p.ec = false;
		c->span_ec = true;
	}
	if (r->srtp) {
		sdes_key(&p.tx_key, r, r->tx_key, false);
		sdes_key(&p.rx_key, r, r->rx_key, true);
	}
	err = media_chan_start(&c->mch, c->cc->engine, &p);
	if (err) {
		LOGE(c->ctx, "media: channel not started: %s", strerror(err));
		return err;
	}
	c->rtp_fd = c->rtcp_fd = -1; /* the engine's now */
	LOGI(c->ctx, "media: RTP port %u <-> B-channel %u, %s pt %u%s%s%s", sa_port(&c->neg.local),
	     p.ts, r->codec == SDP_CODEC_PCMA ? "PCMA" : r->codec == SDP_CODEC_PCMU ? "PCMU" : "G722",
	     r->pt, r->dtmf ? ", telephone-event" : "", r->srtp ? ", SRTP" : "",
	     c->span_ec ? ", the span's echo canceller" : p.ec ? ", echo cancelling" : "");
	return 0;
}

void call_media_sync(struct call *c)
{
	const struct sdp_result *r = sdp_neg_result(&c->neg);
	uint32_t timeout_ms;
	struct sa remote;

	if (!c->cc->engine || c->mch_stopping || !r->active || !c->tp || !c->pc)
		return;
	if (r->remote_host[0])
		LOGW(c->ctx, "media: the peer's c= is a host name (%s): not resolved, no RTP sent",
		     r->remote_host);
	if (!c->mch) {
		media_start(c, r);
		return;
	}
	media_dir(c, r, &remote, &timeout_ms);
	if (media_chan_repoint(c->mch, &remote, &r->remote_rtcp, timeout_ms))
		LOGW(c->ctx, "media: repoint not queued");
}

static void span_ec_off(struct call *c)
{
	if (c->span_ec && c->tp && c->chan > 0)
		span_ec_set(tpri_span(c->tp), (unsigned)c->chan, 0);
	c->span_ec = false;
}

static void stop_retry(void *arg)
{
	call_media_stop(arg);
}

void call_media_stop(struct call *c)
{
	if (!c->mch || c->mch_stopping)
		return;
	span_ec_off(c);
	if (media_chan_stop(c->mch)) {
		/* the queue is full: try again from the loop rather than lose the channel */
		LOGW(c->ctx, "media: stop not queued, retrying");
		loop_defer(c->cc->loop, &c->media_defer, stop_retry, c);
		return;
	}
	c->mch_stopping = true;
}

void call_media_detach(struct call *c)
{
	span_ec_off(c);
	if (c->mch && !c->mch_stopping && media_chan_stop(c->mch))
		LOGE(c->ctx, "media: stop not queued: the B-channel stays busy in the engine");
	c->mch = NULL;
	c->mch_stopping = false;
}

bool call_media_busy(const struct call *c)
{
	return c->mch != NULL;
}

void call_media_close(struct call *c)
{
	if (c->rtp_fd >= 0)
		close(c->rtp_fd);
	if (c->rtcp_fd >= 0)
		close(c->rtcp_fd);
	c->rtp_fd = c->rtcp_fd = -1;
	if (c->cc)
		loop_defer_cancel(c->cc->loop, &c->media_defer);
}

uint16_t call_media_info(struct call *c, const struct sip_msg *msg)
{
	const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	uint32_t ms = 0;
	int ev = -1, err;

	struct pl type;
	const char *semi;

	if (!ct)
		return 415;
	type = ct->val;
	if ((semi = pl_chr(type, ';')))
		type.l = (size_t)(semi - type.p);
	type = pl_trim(type);
	if (pl_caseeq_str(type, "application/dtmf-relay"))
		err = dtmf_info_relay_parse(msg->body, &ev, &ms);
	else if (pl_caseeq_str(type, "application/dtmf"))
		err = dtmf_info_dtmf_parse(msg->body, &ev);
	else
		return 415;
	if (err)
		return 400;
	if (!c->mch || c->mch_stopping) {
		LOGN(c->ctx, "INFO digit %c: no media channel", dsp_event_to_char(ev));
		return 200; /* accepted, with nowhere to play it */
	}
	if (ev > DSP_EV_DTMF_MAX) /* flash: no hook flash towards the PRI */
		return 200;
	LOGI(c->ctx, "INFO digit %c (%u ms) -> B-channel", dsp_event_to_char(ev), ms);
	return media_chan_dtmf(c->mch, ev, ms) ? 500 : 200;
}

/* A digit heard on the B-channel, for an INFO peer. */
static void digit_info(struct call *c, int ev, uint32_t samples)
{
	char body[64];
	size_t len;
	uint32_t ms = samples / 8u;

	if (!c->sess || !c->answered || c->bye_sent)
		return;
	if (dtmf_info_relay_build(body, sizeof(body), &len, ev, ms ? ms : 100))
		return;
	LOGI(c->ctx, "digit %c heard (%u ms): INFO", dsp_event_to_char(ev), ms);
	if (sip_sess_info(c->sess, NULL, "application/dtmf-relay", body, len))
		LOGW(c->ctx, "INFO for digit %c not sent", dsp_event_to_char(ev));
}

static struct call *find(struct call_ctl *cc, const struct media_ev *ev)
{
	for (struct call *c = cc->calls; c; c = c->next)
		if (c == ev->user && c->mch == ev->ch)
			return c;
	return NULL;
}

void call_ctl_media_event(const struct media_ev *ev, void *arg)
{
	struct call_ctl *cc = arg;
	struct call *c = ev->ch ? find(cc, ev) : NULL;

	if (!c)
		return; /* a call freed at shutdown, or a span handed back */
	switch (ev->type) {
	case MEDIA_EV_STOPPED:
		c->mstats = ev->stats;
		c->have_mstats = true;
		c->mch = NULL;
		c->mch_stopping = false;
		LOGI(c->ctx, "media: rtp tx %u rx %u lost %d jitter %u ms, digits heard %u",
		     ev->stats.rtp_tx, ev->stats.rtp_rx, ev->stats.lost, ev->stats.jitter_ts / 8u,
		     ev->stats.digits_rx);
		call_check_done(c);
		break;
	case MEDIA_EV_DIGIT_STOP:
		if (cc->cfg.cfg->media.dtmf == MEDIA_DTMF_INFO)
			digit_info(c, ev->event, ev->duration);
		break;
	case MEDIA_EV_TIMEOUT:
		LOGW(c->ctx, "media: no RTP for %u s: clearing the call (cause %d)",
		     cc->cfg.cfg->media.rtp_timeout_s, CAUSE_MEDIA_TIMEOUT);
		call_ended_by(c, CDR_END_GATEWAY);
		if (c->dir == CALL_OUT)
			call_out_clear(c, CAUSE_MEDIA_TIMEOUT);
		else
			call_in_clear(c, CAUSE_MEDIA_TIMEOUT);
		break;
	case MEDIA_EV_FAX_TONE:
		LOGI(c->ctx, "media: 2100 Hz answer tone: echo cancelling off");
		break;
	case MEDIA_EV_RTP_BYE:
		LOGI(c->ctx, "media: the peer sent RTCP BYE");
		break;
	case MEDIA_EV_FLASH:
		LOGN(c->ctx, "media: hook flash from the IP side: not carried on PRI");
		break;
	default:
		break;
	}
}

void call_media_cdr(const struct call *c, struct cdr_rec *r)
{
	if (!c->have_mstats)
		return;
	r->rtp_rx = c->mstats.rtp_rx;
	r->rtp_lost = c->mstats.lost > 0 ? (uint64_t)c->mstats.lost : 0;
	r->jitter_ms = c->mstats.jitter_ts / 8.0; /* G.711/G.722 on the wire: 8 kHz RTP clock */
}
