/* Internal to gateway/call: the call control, a call, and the files' entry points. */
#ifndef TANDEM_CALL_INT_H
#define TANDEM_CALL_INT_H

#include "call/call.h"
#include "core/loop.h"
#include "core/err.h"
#include "core/sa.h"
#include "media/engine/engine.h"
#include "media/rtp/rtp.h"
#include "media/sdp/sdp.h"
#include "route/route.h"
#include "tdm/pri/pri.h"

#define CALL_MAX_SPANS 64
#define CALL_MAX_FORKS 8
#define CALL_SDP_MAX   2048
#define CALL_MAX_REDIRECTS 3 /* 3xx followed per call */

struct sip_auth_server;
struct span_gauges;
struct cfg_user;

struct call_span {
	struct tpri *tp;
	uint16_t group;
};

struct call;

struct call_ctl {
	struct loop *loop;
	struct call_ctl_config cfg;
	struct sip_auth_server *auth;
	struct sdp_prefs prefs;
	struct call_span spans[CALL_MAX_SPANS];
	unsigned nspans;
	struct call *calls; /* doubly linked */
	unsigned seq;       /* for inbound call names */
	struct call_ctl_stats st;
	struct span_gauges *gauges; /* ops.c: metric families (the registry owns them) */
	struct media_engine *engine; /* NULL: SDP without audio (call_ctl_config.media off) */
	struct rtp_ports ports;      /* from the config's media.rtp_ports */
	unsigned rr_span;            /* round-robin routes: the span to try first */
};

enum call_dir {
	CALL_OUT = 0, /* SIP -> PSTN */
	CALL_IN,      /* PSTN -> SIP */
	CALL_LOCAL,   /* SIP -> SIP: one user calls another (SDP passed through) */
};

/* One INVITE sent for an inbound call (the winner becomes call->sess). */
struct call_fork {
	struct call *call;
	struct sip_sess *sess;
	uint16_t code; /* final status, when it failed */
	bool live;
	char redirect[256]; /* a 3xx's Contact, to follow */
};

struct call {
	struct call *prev, *next;
	struct call_ctl *cc;
	enum call_dir dir;
	char ctx[128]; /* "call=CALLID span=N/TS": every log line of the call */
	char callid[80];

	/* SIP leg */
	struct sip_sess *sess; /* the session that is (or will be) answered */
	struct sip_sess *a;    /* CALL_LOCAL: the calling phone's session */
	struct call_fork forks[CALL_MAX_FORKS];
	unsigned nforks, nlive;
	uint16_t best; /* inbound: the final status to report when every fork failed */
	unsigned redirects;
	char from[160], to[272], hdrs[512]; /* of the forks' INVITEs, for redirects */
	bool bye_sent;

	/* PRI leg */
	struct tpri *tp;
	struct tpri_call *pc;
	bool pri_cleared; /* we sent DISCONNECT */
	int cause;

	/* outbound routing */
	struct route_out_match rm; /* rm.route points at route below */
	struct route_out route;    /* a copy: a reload may free the table meanwhile */
	unsigned gidx;
	struct tpri_number called, calling;

	bool alerted, answered, done;
	bool early; /* early media (183 with SDP) started */
	struct call_xfer *xfer; /* refer.c: a blind transfer under way */
	struct loop_defer free_defer;

	/* media (media.c) */
	struct sdp_neg neg;
	int rtp_fd, rtcp_fd;       /* ours until the channel starts, then the engine's */
	struct media_chan *mch;    /* running; the call waits for its MEDIA_EV_STOPPED */
	bool mch_stopping;
	bool span_ec;              /* the span's own echo canceller is on for this channel */
	bool have_mstats;
	struct media_chan_stats mstats; /* final counters, for the CDR */
	struct loop_defer media_defer;
	char sdp[CALL_SDP_MAX]; /* our answer (outbound) or offer (inbound) */
	size_t sdp_len;
	bool sdp_is_offer;

	/* for the CDR and metrics (call.c: call_record) */
	int64_t start_ms, answer_ms; /* wall clock */
	uint64_t start_mono;
	uint16_t sip_status; /* final status of the INVITE, when we know it */
	int cause_sip;       /* Q.850 cause of a Reason header on the SIP leg */
	int cause_pstn;      /* cause of the PRI leg's clearing */
	int ended_by;        /* enum cdr_end */
	int span, chan;      /* the PRI leg's, kept after it is gone */
	int m_span;          /* span the active-calls gauge counts it under, -1: none */
	bool recorded;
};

/* call.c */
int call_alloc(struct call **cp, struct call_ctl *cc, enum call_dir dir);
int64_t call_wall_ms(void);
/* Who ended the call (enum cdr_end), kept from the first one told. */
void call_ended_by(struct call *c, int who);
/* Frees the call (deferred) once neither leg is left. */
void call_check_done(struct call *c);
void call_set_ctx(struct call *c);
int call_reason_hdr(char *buf, size_t size, int cause);

/* auth.c: the user an INVITE authenticated as, or NULL after answering it. */
int call_auth_alloc(struct call_ctl *cc);
const struct cfg_user *call_auth_invite(struct call_ctl *cc, struct sip_sess *sess,
                                        const struct sip_msg *inv, const char *ctx);
/* The same for a request outside a session (MESSAGE): answered when NULL. */
struct sip_tsx;
const struct cfg_user *call_auth_request(struct call_ctl *cc, struct sip_tsx *stx,
                                         const struct sip_msg *req, const char *ctx);

/* message.c: MESSAGE between users (the UA's MESSAGE handler). */
int call_ctl_message_register(struct call_ctl *cc);

/* media.c */
struct cdr_rec;
/* SDP preferences and the RTP port range from the config (alloc and reload). */
void call_media_prefs(struct call_ctl *cc);
int call_media_init(struct call *c, const struct sa *local);
/* An RTP/RTCP port pair from the range on local's address and a negotiation at it (the
 * call's, or a transfer's new leg's). */
int call_media_open(struct call *c, const struct sa *local, struct sdp_neg *neg, int *rtp_fd,
                    int *rtcp_fd);
/* A user part that is a telephone number (digits, '+', '*', '#'), not a name. */
bool call_is_number(const char *user);
/* Starts or repoints the media channel after a negotiation or once the PRI call has
 * its B-channel; nothing without an engine, an audio stream or a PRI leg. */
void call_media_sync(struct call *c);
/* Stops the channel (the call is freed after MEDIA_EV_STOPPED); call_media_busy: not yet. */
void call_media_stop(struct call *c);
bool call_media_busy(const struct call *c);
/* A SIP INFO (dtmf-relay / dtmf) onto the B-channel: the status to answer. */
uint16_t call_media_info(struct call *c, const struct sip_msg *msg);
/* RTP counters into the CDR record, when the channel ran. */
void call_media_cdr(const struct call *c, struct cdr_rec *r);
void call_media_local_for(struct call *c, const char *target, struct sa *local);
/* Our answer to offer into c->sdp: 0, or a SIP status (488...). */
uint16_t call_media_answer(struct call *c, struct pl offer);
int call_media_offer(struct call *c);
int call_media_peer_answer(struct call *c, struct pl answer);
void call_media_close(struct call *c);

/* out.c / in.c: PRI events of their calls; in.c also new SETUPs. */
void call_out_pri_event(struct call *c, const struct tpri_event *ev);
void call_in_pri_event(struct call *c, const struct tpri_event *ev);
void call_in_ring(struct call_ctl *cc, struct tpri *tp, const struct tpri_event *ev);
enum tpri_digits call_in_digits(struct tpri *tp, struct tpri_call *pc,
                                const struct tpri_number *called, bool timeout, void *arg);
/* in.c for local.c: ring user's contacts for c (from/to: header values); 0 or a cause.
 * call_in_a_gone: the calling side left: BYE the answered fork, CANCEL the others. */
int call_in_ring_user(struct call *c, const char *user, const char *from, const char *to);
void call_in_a_gone(struct call *c);
/* local.c: an authenticated INVITE for a configured user; false if it is not one. */
bool call_local_invite(struct call_ctl *cc, struct sip_sess *sess, const struct sip_msg *inv,
                       const struct cfg_user *caller, const char *ctx);

/* The call's SIP leg is now s, with the direction's handlers (transfer, or a
 * transfer that failed giving the call back); s left the call (in.c: its fork). */
void call_leg_adopt(struct call *c, struct sip_sess *s);
void call_leg_gone(struct call *c, struct sip_sess *s);
void call_out_leg_adopt(struct call *c, struct sip_sess *s);
void call_in_leg_adopt(struct call *c, struct sip_sess *s);
void call_in_leg_gone(struct call *c, struct sip_sess *s);
/* in.c: From/PAI/Privacy for a PSTN number; a user's first registered contact
 * (0, ENOENT none, EIO). */
void call_pstn_identity(struct call *c, const struct tpri_number *num, char *from, size_t fsize,
                        char *hdrs, size_t hsize);
int call_user_contact(struct call_ctl *cc, const char *user, char *uri, size_t usize, char *route,
                      size_t rsize);
/* media.c: forgets the running channel (it stops; its events are ignored). */
void call_media_detach(struct call *c);
/* refer.c: ends a transfer under way (CANCEL the new leg, NOTIFY 487). */
void call_xfer_abort(struct call *c);

/* call_ctl_free: end a call now, sending what can be sent. */
void call_out_abort(struct call *c);
void call_in_abort(struct call *c);
/* tandemctl hangup: clear both legs with cause (BYE/final response with Reason, DISCONNECT). */
void call_out_clear(struct call *c, int cause);
void call_in_clear(struct call *c, int cause);

#endif
