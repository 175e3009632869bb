/*
 * Private to the tsx module: the transaction struct and what layer.c,
 * client.c and server.c share. Not a public header.
 */
#ifndef TANDEM_SIP_TSX_INT_H
#define TANDEM_SIP_TSX_INT_H

#include "sip/tsx/tsx.h"

/* Client and server states in one enum; 0 means "no change" in tables. */
enum tsx_state {
	TS_STAY = 0,
	TS_CALLING, /* INVITE client */
	TS_TRYING,  /* non-INVITE client and server */
	TS_PROCEEDING,
	TS_COMPLETED,
	TS_CONFIRMED, /* INVITE server */
	TS_ACCEPTED,  /* INVITE client and server (RFC 6026) */
	TS_TERMINATED,
	TS_N
};

struct sip_tsx {
	struct sip_tsx_layer *tl;      /* NULL once terminated */
	struct sip_tsx *hnext;         /* hash chain */
	struct sip_tsx *lprev, *lnext; /* list of every live transaction */
	uint32_t hash;
	uint64_t seq; /* creation order, for sip_tsx_layer_tp_err() */
	enum tsx_state state;
	bool server, invite, legacy; /* legacy: RFC 2543 matching (no magic cookie) */
	bool reliable;

	/* The request: for a server, the received one (referenced); for a client,
	 * our own text decoded once (keys, ACK and CANCEL are built from it). */
	struct sip_msg *req;
	enum sip_transport tp;
	struct sa dst;

	struct tmr tmr_retx; /* A, E, G, or the 200 ms 100 Trying timer */
	struct tmr tmr_to;   /* B, F, H, D, I, J, K, L, M, CANCEL wait */
	uint32_t retx_ms;    /* current A/E/G interval */

	/* client */
	sip_tsx_resp_h *resph;
	void *arg;
	char *ack; /* ACK for a non-2xx final, built once (mem) */
	size_t ack_len;
	bool cancel_pending, cancel_sent;
	uint16_t cancel_sip;  /* Reason: SIP;cause= on the CANCEL (RFC 3326), 0: none */
	uint8_t cancel_q850;  /* Reason: Q.850;cause=, 0: none */

	/* server */
	char *resp; /* last response sent (mem) */
	size_t resp_len;
	uint16_t resp_code;
	sip_tsx_cancel_h *cancelh;
	void *cancel_arg;
};

struct sip_tsx_layer {
	struct loop *loop;
	struct sip_tp *tp;
	struct sip_tsx_config cfg;
	sip_tsx_req_h *reqh;
	void *arg;
	sip_tsx_send_h *sendh;
	void *send_arg;
	struct sip_tsx **tab; /* hash buckets */
	uint32_t mask;
	struct sip_tsx *list; /* every live transaction */
	uint64_t seq;
	struct sip_tsx_stats st;
};

#define TSX_COOKIE "z9hG4bK"

/* layer.c */
int tsx_alloc(struct sip_tsx **tp, struct sip_tsx_layer *tl, struct sip_msg *req, bool server);
void tsx_link(struct sip_tsx *tsx);
void tsx_terminate(struct sip_tsx *tsx);
int tsx_send_req(struct sip_tsx *tsx, const char *buf, size_t len);
int tsx_send_resp(struct sip_tsx_layer *tl, const struct sip_msg *req, const char *buf, size_t len);
struct sip_tsx *tsx_find_client(struct sip_tsx_layer *tl, const struct sip_msg *resp);
/* How a request is matched to a server transaction (§17.2.3, §9.2). */
enum tsx_match {
	TM_SAME,   /* a retransmission: same method */
	TM_ACK,    /* an ACK: the INVITE it acknowledges */
	TM_CANCEL, /* a CANCEL: the request it cancels (any method but CANCEL) */
};
struct sip_tsx *tsx_find_server(struct sip_tsx_layer *tl, const struct sip_msg *msg,
                                enum tsx_match how);
/* To tag of the last response sent by a server transaction (buf >= 64). */
void tsx_resp_totag(const struct sip_tsx *tsx, char *buf, size_t n);
void tsx_tag(char *buf, size_t n);
const char *tsx_ctx(const struct sip_msg *msg, char *buf, size_t n);
bool tsx_has_cookie(struct pl branch);

/* client.c */
void tsx_client_recv(struct sip_tsx *tsx, const struct sip_msg *resp);
void tsx_client_err(struct sip_tsx *tsx, int err);

/* server.c */
void tsx_server_recv(struct sip_tsx_layer *tl, struct sip_msg *msg);

#endif
