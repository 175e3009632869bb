/*
 * Private to the ua module: the structs behind the public handles and the
 * functions the ua files share. Not a public header.
 */
#ifndef TANDEM_SIP_UA_INT_H
#define TANDEM_SIP_UA_INT_H

#include <stdlib.h>

#include "core/loop.h"
#include "sip/ua/ua.h"

#define UA_DLG_BUCKETS 1024
#define UA_TAG_LEN     17 /* 16 characters + NUL */

struct sip_auth_client;

struct ua_cred {
	struct ua_cred *next;
	char *realm; /* NULL: any */
	struct sip_auth_client *ac;
};

struct sip_creq;

/* A next-hop address to try (RFC 3263 §4.3: the resolver's targets in order). */
#define UA_MAX_TARGETS 4
struct ua_target {
	struct sa addr;
	enum sip_transport tp;
};

struct sip_ua {
	struct loop *loop;
	struct sip_tp *tp;
	struct sip_tsx_layer *tsx;
	struct sip_ua_config cfg; /* strings below replace the caller's */
	char *domain, *user_agent;
	struct {
		sip_ua_req_h *h;
		void *arg;
	} mh[SIP_M_COUNT];
	sip_sess_new_h *sessh;
	void *sessarg;
	sip_ua_usage_h *usageh;
	void *usagearg;
	struct sip_dialog *dlg_hash[UA_DLG_BUCKETS];
	struct sip_sess *sessions; /* doubly linked through sess->next/prev */
	struct sip_sess *zombies;  /* terminated, freed by a deferred call */
	struct sip_creq *creqs;
	struct ua_cred *creds;
	char allow[160];
	struct sip_ua_stats st;
	struct ua_dns_entry {
		char host[128];
		uint16_t port;
		enum sip_transport tp; /* asked: NONE when not explicit */
		bool secure;
		struct ua_target alt[UA_MAX_TARGETS]; /* resolved, in the order to try */
		unsigned nalt;
		uint64_t expires;
	} dns_cache[32];
	unsigned dns_next;
	struct ua_ack_job *ackjobs;
};

/* An ACK waiting for DNS (stateless: nobody waits for it). */
struct ua_ack_job {
	struct ua_ack_job *next, *prev;
	struct sip_ua *ua;
	struct sip_dialog *dlg; /* reference */
	uint32_t cseq;
	char *ctype, *body;
	size_t len;
	struct sip_dns_query *q;
	char host[128];
	struct sip_hop hop;
};

struct sip_dialog {
	struct sip_ua *ua;
	struct sip_dialog *hnext; /* bucket chain when registered */
	bool registered;
	enum sip_dialog_state state;
	bool uac;
	bool secure;
	enum sip_transport tp_default; /* transport of the creating request */
	char *callid;
	char ltag[UA_TAG_LEN];
	char *rtag;
	char *lhdr;    /* From (UAC) / To (UAS) value, with our tag */
	char *rhdr;    /* To (UAC) / From (UAS) value, with the remote tag once known */
	char *rtarget; /* remote target URI (no <>) */
	char *contact; /* our Contact URI (no <>), NULL until known */
	char **routes; /* route set, each a whole value "<sip:...;lr>" */
	unsigned nroutes;
	uint32_t lcseq, rcseq;
	bool rcseq_set;
	char *auth_hdr; /* last Authorization line we sent ("Authorization: ...\r\n") */
	sip_dialog_req_h *reqh;
	void *reqarg;
};

/* ---- client requests (ua.c): a transaction plus auth retry ---- */

typedef void(ua_creq_h)(int err, const struct sip_msg *resp, void *arg);

struct sip_creq {
	struct sip_creq *next, *prev;
	struct sip_ua *ua;
	struct sip_dialog *dlg; /* reference */
	struct sip_tsx *ctx;
	struct sip_creq **slot; /* owner's pointer, cleared when this is freed */
	ua_creq_h *h;
	void *arg;
	char *method, *extra, *ctype, *body;
	size_t body_len;
	uint32_t cseq;
	bool invite, final;
	unsigned auth_tries;
	struct tmr linger;
	struct sip_dns_query *dnsq; /* resolving the next hop */
	char host[128];
	struct sip_hop hop;
	/* RFC 3263 §4.3: the targets after the one in use, tried on a transport
	 * error or timeout before any response */
	struct ua_target alt[UA_MAX_TARGETS];
	unsigned nalt, ialt;
	bool got_resp;
};

/* Builds and sends a request in dlg (fresh CSeq unless cseq != 0); *slot
 * tracks the object (cleared when it is freed). Auth challenges are answered
 * here; h sees the final outcome. */
int ua_creq_send(struct sip_creq **slot, struct sip_dialog *dlg, const char *method, uint32_t cseq,
                 const char *extra, const char *ctype, const void *body, size_t len, ua_creq_h *h,
                 void *arg);
/* The owner goes away: no more calls. */
void ua_creq_detach(struct sip_creq *cr);
int ua_creq_cancel(struct sip_creq *cr, uint16_t sip_cause, uint8_t q850_cause);
void ua_creqs_free(struct sip_ua *ua);
static inline bool ua_creq_pending(const struct sip_creq *cr)
{
	return cr && !cr->final;
}

/* ---- next-hop DNS (ua.c) ---- */
struct sip_dns_target;
struct sip_dns_query;
bool ua_dns_cache_get(struct sip_ua *ua, struct sip_hop *hop);
/* The cached targets of hop (asked as ua_dns_cache_get does): 0 if none. */
unsigned ua_dns_cache_targets(struct sip_ua *ua, const struct sip_hop *hop, struct ua_target *v,
                              unsigned max);
void ua_dns_cache_put(struct sip_ua *ua, const struct sip_hop *asked,
                      const struct sip_dns_target *v, size_t n);
/* Starts resolving hop->host (copied into hostbuf); h gets the result. */
int ua_dns_start(struct sip_ua *ua, struct sip_hop *hop, char *hostbuf, size_t hostsize,
                 void (*h)(int err, const struct sip_dns_target *v, size_t n, void *arg), void *arg,
                 struct sip_dns_query **qp);
void ua_ackjobs_free(struct sip_ua *ua);

/* ---- dialogs (dialog.c) ---- */
/* The next hop with the dialog's transport when the URI names none. */
int ua_dialog_hop(struct sip_dialog *dlg, struct sip_hop *hop);
/* Builds for a resolved hop (Via, Contact from its transport and family). */
int ua_dialog_build_hop(struct sip_dialog *dlg, struct sip_mb *mb, const char *method,
                        uint32_t cseq, const char *extra, const char *ctype, const void *body,
                        size_t len, const struct sip_hop *hop);
void ua_dialog_register(struct sip_dialog *dlg);
void ua_dialog_unregister(struct sip_dialog *dlg);
struct sip_dialog *ua_dialog_find(struct sip_ua *ua, const struct sip_msg *req);
/* Resolves the next hop and builds: the shared path of sip_dialog_request and ACK. */
int ua_dialog_build(struct sip_dialog *dlg, struct sip_mb *mb, const char *method, uint32_t cseq,
                    const char *extra, const char *ctype, const void *body, size_t len,
                    struct sip_hop *hop);
/* The Request-URI a request built now would carry. */
struct pl ua_dialog_ruri(const struct sip_dialog *dlg);
int ua_dialog_send_ack(struct sip_dialog *dlg, uint32_t cseq, const char *ctype, const void *body,
                       size_t len, char **bufp, size_t *lenp, struct sip_hop *hop);
/* Our Contact URI for transport t, family af: "sip:ip:port;transport=tcp". */
int ua_contact(struct sip_ua *ua, enum sip_transport t, int af, char *buf, size_t n);

/* ---- dispatch (dispatch.c) ---- */
void ua_tsx_req(struct sip_tsx *stx, const struct sip_msg *msg, void *arg);
/* Builds a response with Server (and Contact when given) and sends it over stx. */
int ua_reply(struct sip_ua *ua, struct sip_tsx *stx, uint16_t code, const char *reason,
             const char *to_tag, const char *extra, const char *ctype, const void *body,
             size_t len);
/* Same into mb, for responses kept for retransmission. */
int ua_build_response(struct sip_ua *ua, struct sip_mb *mb, const struct sip_msg *req,
                      uint16_t code, const char *reason, const char *to_tag, const char *extra,
                      const char *ctype, const void *body, size_t len);
extern const char *const ua_supported[];

/* ---- sessions ---- */

struct sip_sess {
	struct sip_sess *next, *prev;
	struct sip_ua *ua;
	struct sip_dialog *dlg;
	enum sip_sess_state state;
	bool uac;
	bool app_closed; /* sip_sess_close() called: no handlers */
	struct sip_sess_handlers h;
	void *arg;
	struct loop_defer free_defer;

	/* the INVITE transaction of either side */
	struct sip_creq *inv; /* UAC: our INVITE or re-INVITE */
	bool reinvite;       /* inv is a re-INVITE */
	struct sip_creq *upd; /* our UPDATE */
	struct sip_creq *bye;
	bool cancel_pending;
	struct sip_tsx *stx;     /* UAS: INVITE/re-INVITE server tsx, until the final response */
	struct sip_msg *inv_msg; /* UAS: referenced INVITE, for 2xx retransmission */
	bool inv_offer;          /* UAS: the INVITE carried an offer */
	struct sip_connect_copy *cc; /* UAC: what the initial INVITE needs for a 422 retry */

	/* 2xx retransmission (UAS) / ACK cache (UAC) */
	char *resp2xx;
	size_t resp2xx_len;
	uint32_t inv_cseq;
	struct tmr tmr_2xx;
	uint32_t rt_ms;
	uint64_t rt_deadline;
	char *ack;
	size_t ack_len;
	struct sip_hop ack_hop;
	bool ack_body; /* the ACK carries our answer (delayed offer) */

	/* offer/answer */
	char *lctype;
	char *lsdp; /* our last offer or answer */
	size_t lsdp_len;
	bool offer_out;        /* we sent an offer awaiting an answer */
	bool early_offer_done; /* offer/answer completed in a reliable 1xx and PRACK */

	/* 100rel (prack.c) */
	bool peer_100rel;
	uint32_t rseq_tx; /* last RSeq we sent */
	char *rel1xx;     /* unacknowledged reliable provisional */
	size_t rel1xx_len;
	uint16_t rel1xx_code;
	struct tmr tmr_rel;
	uint32_t rel_ms;
	uint64_t rel_deadline;
	uint32_t rseq_rx; /* UAC: last RSeq received (in dlg) */
	struct sip_creq *prack;
	/* UAC: early dialogs of other forks (§13.2.2.4: one per To tag), each
	 * with its own RSeq space; not registered (requests in them get 481) */
#define UA_MAX_FORKS 4
	struct sip_dialog *forks[UA_MAX_FORKS];
	uint32_t fork_rseq[UA_MAX_FORKS];

	/* INFO we sent (info.c) */
	struct sip_creq *info[SIP_SESS_MAX_INFO];

	/* session timer (timer.c) */
	uint32_t se;
	bool we_refresh;
	bool peer_update; /* peer Allows UPDATE: refresh with it */
	struct tmr tmr_st;
};

struct sip_connect_copy {
	char *extra, *ctype, *body;
	size_t body_len;
	bool require_100rel;
	uint32_t se, min_se;
	unsigned retries;
};

/* sess.c */
int ua_sess_alloc(struct sip_sess **sp, struct sip_ua *ua, bool uac);
void ua_sess_terminate(struct sip_sess *s, int err, uint16_t code, const char *reason);
void ua_sess_dlg_req(struct sip_dialog *dlg, struct sip_tsx *stx, const struct sip_msg *msg,
                     void *arg);
int ua_sess_set_local(struct sip_sess *s, const char *ctype, const void *body, size_t len);
bool ua_has_body(const struct sip_msg *msg);
void ua_sess_free_all(struct sip_ua *ua);
void ua_sess_bye_close(struct sip_sess *s, int err, const char *why);
/* sess_uac.c */
void ua_sess_uac_ack_retrans(struct sip_sess *s, const struct sip_msg *resp);
int ua_sess_reinvite(struct sip_sess *s);
/* sess_uas.c */
void ua_sess_incoming(struct sip_ua *ua, struct sip_tsx *stx, const struct sip_msg *msg);
void ua_sess_ack(struct sip_sess *s, const struct sip_msg *msg);
void ua_sess_reinvite_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg);
int ua_sess_send_2xx(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *req,
                     const char *extra);
/* prack.c */
int ua_prack_send_reliable(struct sip_sess *s, uint16_t code, const char *ctype, const void *body,
                           size_t len);
void ua_prack_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg);
void ua_prack_uac_1xx(struct sip_sess *s, struct sip_dialog *dlg, uint32_t *rseq_rx,
                      const struct sip_msg *resp);
void ua_prack_stop(struct sip_sess *s);
/* info.c */
void ua_info_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg);
void ua_info_stop(struct sip_sess *s);
/* "Recv-Info: ...\r\n" when we take Info Packages (RFC 6086 §5.2.2), else ""; its length. */
size_t ua_recv_info_hdr(const struct sip_ua *ua, char *buf, size_t n);
/* whether the UA takes method m (Allow, 405) */
bool ua_method_allowed(const struct sip_ua *ua, enum sip_method m);
/* update.c */
void ua_update_in(struct sip_sess *s, struct sip_tsx *stx, const struct sip_msg *msg);
int ua_update_send(struct sip_sess *s, bool with_offer);
/* timer.c */
uint16_t ua_st_uas_request(struct sip_sess *s, const struct sip_msg *req, char *hdrs, size_t n);
void ua_st_uac_response(struct sip_sess *s, const struct sip_msg *resp);
void ua_st_refresh_hdrs(struct sip_sess *s, char *buf, size_t n);
void ua_st_resp_hdrs(struct sip_sess *s, char *buf, size_t n);
void ua_st_start(struct sip_sess *s);
void ua_st_stop(struct sip_sess *s);

#endif
