/*
 * tsx: the four transaction state machines of RFC 3261 §17, with RFC 6026.
 *
 * The transaction layer sits between the transport (sip/transport) and the
 * transaction user (sip/ua). It owns every transaction, matches incoming
 * messages (§17.1.3 and §17.2.3 by branch, with the RFC 2543 fallback of
 * §17.2.3 for branches without the magic cookie), absorbs retransmissions,
 * runs timers A-M (T1, T2, T4 configurable) and reports to the TU.
 *
 * - New requests (no matching server transaction) go to the TU's request
 *   handler with a new server transaction; ACKs for 2xx (which match no
 *   transaction, or match an INVITE server transaction in RFC 6026's Accepted
 *   state) reach it with stx == NULL.
 * - CANCEL is matched to its INVITE server transaction (§9.2): the layer
 *   answers the CANCEL (200, or 481 with no match) and calls the INVITE's
 *   cancel handler so the TU can send 487.
 * - Responses to client transactions go to their response handler; timeouts
 *   and transport errors arrive as err (ETIMEDOUT, or the transport's errno)
 *   with resp == NULL.
 * Lifetime: the layer owns transactions; a handle stays valid until the
 * transaction terminates, after which the layer calls no handler of it.
 * Runs on the signalling thread's loop; not thread-safe.
 */
#ifndef TANDEM_SIP_TSX_H
#define TANDEM_SIP_TSX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "sip/msg/msg.h"
#include "sip/transport/tp.h"

struct sip_tsx_layer;
struct sip_tsx; /* one client or server transaction */

struct sip_tsx_config {
	uint32_t t1_ms; /* [500] */
	uint32_t t2_ms; /* [4000] */
	uint32_t t4_ms; /* [5000] */
	unsigned max_tsx; /* transactions at once; above: 503 to new requests [10000] */
};

/* New request. stx is NULL for an ACK to a 2xx. msg is borrowed. */
typedef void(sip_tsx_req_h)(struct sip_tsx *stx, const struct sip_msg *msg, void *arg);
/* Response (resp != NULL) or failure (err != 0, resp NULL) of a client transaction. */
typedef void(sip_tsx_resp_h)(int err, const struct sip_msg *resp, void *arg);
/* The INVITE server transaction was cancelled (a CANCEL matched it). */
typedef void(sip_tsx_cancel_h)(struct sip_tsx *stx, const struct sip_msg *cancel, void *arg);

int sip_tsx_layer_alloc(struct sip_tsx_layer **tlp, struct loop *loop, struct sip_tp *tp,
			const struct sip_tsx_config *cfg, sip_tsx_req_h *reqh, void *arg);
void sip_tsx_layer_free(struct sip_tsx_layer *tl);

/*
 * Feeds a message received from the transport (the layer's sip_tp receive
 * handler calls this; exposed so that tests can feed messages directly).
 */
void sip_tsx_layer_recv(struct sip_tsx_layer *tl, struct sip_msg *msg);

/* A fresh branch with the RFC 3261 magic cookie, written into buf (>= 32). */
void sip_tsx_branch(char *buf, size_t n);

/*
 * Client transaction: sends a complete request text (its top Via must carry
 * a fresh branch) to dst over t and runs the INVITE or non-INVITE client
 * machine. An ACK is not a transaction: use sip_tsx_send_ack().
 * *ctxp (may be NULL) receives the handle for sip_tsx_cancel().
 */
int sip_tsx_request(struct sip_tsx **ctxp, struct sip_tsx_layer *tl, const char *buf,
		    size_t len, enum sip_transport t, const struct sa *dst,
		    sip_tsx_resp_h *resph, void *arg);

/* Sends an ACK for a 2xx (or any stateless request) once, outside any transaction. */
int sip_tsx_send_ack(struct sip_tsx_layer *tl, const char *buf, size_t len,
		     enum sip_transport t, const struct sa *dst);

/*
 * Cancels an INVITE client transaction (§9.1): builds the CANCEL from the
 * INVITE and sends it once a provisional response has arrived (immediately if
 * one has). The CANCEL's own final response is absorbed. Returns EALREADY if
 * a final response was already received.
 */
int sip_tsx_cancel(struct sip_tsx *ctx);

/* Detaches the TU from a client transaction: no more handler calls. */
void sip_tsx_abandon(struct sip_tsx *ctx);

/*
 * Server transaction: sends a response text (built with
 * sip_msg_build_response) and advances the machine; retransmits per §17.2.1
 * (non-2xx final to INVITE until ACK, timer G/H) and absorbs request
 * retransmissions by resending the last response. A 2xx to INVITE moves to
 * Accepted (RFC 6026); its retransmission until ACK is the TU's job (§13.3.1.4).
 */
int sip_tsx_reply(struct sip_tsx *stx, uint16_t code, const char *buf, size_t len);

/* Convenience: builds (sip_msg_build_response) and sends. */
int sip_tsx_reply_code(struct sip_tsx *stx, uint16_t code, const char *reason,
		       const char *to_tag, const char *extra_hdrs, const char *ctype,
		       const void *body, size_t body_len);

/* The request that created a server transaction (valid while stx lives). */
const struct sip_msg *sip_tsx_request_msg(const struct sip_tsx *stx);
void sip_tsx_set_cancel_handler(struct sip_tsx *stx, sip_tsx_cancel_h *h, void *arg);

/* Counters, for metrics and tests. */
struct sip_tsx_stats {
	uint64_t client, server, retrans_rx, retrans_tx, timeouts, active;
};
void sip_tsx_stats(const struct sip_tsx_layer *tl, struct sip_tsx_stats *st);

#endif
