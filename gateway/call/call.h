/*
 * call: call control. A call is one SIP leg (struct sip_sess; an inbound call
 * rings several contacts at once, one fork each, until one answers) plus one
 * PRI leg (struct tpri_call), joined by the state machine in out.c (SIP ->
 * PSTN) and in.c (PSTN -> SIP, DID), with numbers from gateway/route and
 * causes from gateway/cause; local.c joins two SIP legs (user to user).
 *
 * struct call_ctl owns its calls and the tpri of every span given to it
 * (call_ctl_span_add): it is the event handler of those tpris and the
 * session handler of the UA (call_ctl_invite). It borrows the UA, the
 * registrar, the configuration (users), the route table and the cause map:
 * they must outlive it (call_ctl_set_config swaps config and routes).
 *
 * Media (media.c): SDP offer/answer (media/sdp) and, with config.media, one
 * media engine (media/engine) whose workers run every span's B-channels:
 * each call's RTP is joined to its B-channel once both exist (early media on
 * 183, hold, DTMF as RFC 4733 or INFO, RTP timeout, RTP counters in the CDR).
 *
 * Runs on the signalling thread's loop; not thread-safe.
 */
#ifndef TANDEM_CALL_H
#define TANDEM_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "sip/auth/auth.h"
#include "sip/msg/msg.h"

struct loop;
struct sip_ua;
struct sip_sess;
struct reg;
struct route_table;
struct cause_map;
struct span;
struct tpri;
struct tpri_conf;
struct tandem_config;
struct call_ctl;
struct cdr;
struct ctl;
struct metrics;
struct metrics_calls;

struct call_ctl_config {
	struct sip_ua *ua;                /* required */
	struct reg *reg;                  /* location service for DID -> user (may be NULL) */
	const struct tandem_config *cfg;  /* numbering and users (required) */
	const struct route_table *routes; /* required (cfg_route_table) */
	const struct cause_map *causes;   /* NULL: the built-in RFC 3398 tables */
	const char *realm;                /* digest realm [the UA's domain] */
	uint32_t retry_after;             /* seconds in a 503's Retry-After [300] */
	/* digest algorithms of the 407 challenges, in order [SIP_DIGEST_ALGS_DEFAULT] */
	struct sip_digest_algs auth_algs;
	/* Operations (each may be NULL, borrowed, must outlive the call control): every
	 * call that got past routing is written to cdr when it ends, and the same
	 * record feeds metrics_calls_end(); mcalls also counts active calls per span. */
	struct cdr *cdr;
	struct metrics_calls *mcalls;
	/* Audio: a media engine (cfg->media: workers, ports, codecs, DTMF...) joins each
	 * call's RTP to its B-channel. false: SDP is negotiated, no audio flows (tests). */
	bool media;
};

int call_ctl_alloc(struct call_ctl **ccp, struct loop *loop, const struct call_ctl_config *cfg);
/* Ends every call (CANCEL/BYE/reject and PRI clearing are sent, not awaited) and
 * frees the tpris. Free it before the UA and the registrar. */
void call_ctl_free(struct call_ctl *cc);
/* Reload: new numbering/users, routes and cause map (NULL: built-in) for what
 * happens from now on; the old ones may be freed when this returns. */
void call_ctl_set_config(struct call_ctl *cc, const struct tandem_config *cfg,
                         const struct route_table *routes, const struct cause_map *causes);

/* Starts PRI on span sp (opened by the caller) as a member of group; the tpri
 * is the call control's, and with media on, the span's B-channel tick goes to
 * a media worker until call_ctl_free(). *tpp (may be NULL) receives it, borrowed. */
int call_ctl_span_add(struct call_ctl *cc, struct span *sp, const struct tpri_conf *conf,
                      uint16_t group, struct tpri **tpp);
unsigned call_ctl_span_count(const struct call_ctl *cc);

/* The UA's new-session handler (sip_ua_set_sess_handler(ua, call_ctl_invite, cc)):
 * an INVITE from a trunk (trusted by address) or a phone (digest against the
 * config's users) goes to the PSTN, or to another user when the Request-URI
 * names one. */
void call_ctl_invite(struct sip_sess *sess, const struct sip_msg *invite, void *arg);

struct call_ctl_stats {
	uint64_t out_calls, out_answered, out_failed, in_calls, in_answered, in_failed;
	uint64_t challenged, auth_failed, no_route, congestion_failover;
	unsigned active;
};
void call_ctl_stats(const struct call_ctl *cc, struct call_ctl_stats *st);
/* The REFER handler (sip_event_set_refer_handler(ev, call_ctl_refer, cc)): blind
 * transfer of the PSTN party to the Refer-To target (refer.c). */
struct sip_evsub;
struct sip_refer_to;
uint16_t call_ctl_refer(struct sip_sess *sess, struct sip_evsub *sub, const struct sip_refer_to *rt,
                        const struct sip_msg *msg, void *arg);
/* The media engine's event handler (call_ctl owns the engine; exposed for tests). */
struct media_ev;
void call_ctl_media_event(const struct media_ev *ev, void *arg);

/*
 * ops.c: control socket commands "calls" (active calls), "hangup id=CALL-ID"
 * (clears both legs with cause 16: BYE or a final response with Reason on SIP,
 * DISCONNECT on the PRI) and "spans", plus a "calls" status section.
 */
int call_ctl_ops_register(struct call_ctl *cc, struct ctl *ctl);
/* Per-span gauges (tandem_span_dchan_up, tandem_span_channels_busy, _idle,
 * tandem_span_alarms), set before each scrape. */
int call_ctl_metrics_register(struct call_ctl *cc, struct metrics *m);
/* Clears the call whose Call-ID (SIP leg) is id: 0, ENOENT, EALREADY (ending already). */
int call_ctl_hangup(struct call_ctl *cc, const char *id);

#endif
