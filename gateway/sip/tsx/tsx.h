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
 *   state) reach it with stx == NULL. Above max_tsx transactions a new request
 *   (not ACK) is answered 503 with Retry-After, statelessly, and the TU never
 *   sees it.
 * - CANCEL is matched to its INVITE server transaction (§9.2): the layer
 *   answers the CANCEL (200, or 481 with no match) and calls the INVITE's
 *   cancel handler so the TU can send 487 (without a cancel handler the layer
 *   answers the INVITE 487 itself). The TU never sees CANCEL requests.
 * - Responses to client transactions go to their response handler; timeouts
 *   and transport errors arrive as err (ETIMEDOUT, or the transport's errno)
 *   with resp == NULL, once, and no handler call follows.
 *
 * Timers (§17, RFC 6026): A, E, G start at T1 and double (E and G capped at
 * T2; A is not capped, per §17.1.1.2); B, F, H, L, M are 64*T1; D is 64*T1
 * over UDP (>= 32 s with the default T1); I and K are T4; J is 64*T1. Over
 * TCP/TLS, A, E, G are not run and D, I, J, K are zero.
 *
 * Lifetime: transactions are mem objects (core/mem.h) owned by the layer,
 * which drops its reference when the transaction terminates; after that no
 * handler of it is called. A handle handed out (stx in a handler, *ctxp) is
 * borrowed. It stays valid:
 * - for a server transaction, at least until a final response was sent
 *   through it (by the TU, or the 487 the layer sends for a CANCEL when there
 *   is no cancel handler), whatever the transport does: the TU may keep stx
 *   without a reference until it answers;
 * - for a client transaction, at least until its handler has returned from a
 *   final response or an error.
 * A TU that keeps a handle for longer takes mem_ref() and drops it with
 * mem_deref(); calls on a terminated transaction then fail with ESRCH
 * instead of touching freed memory. sip_tsx_layer_free() terminates every
 * transaction without calling handlers; do not call it from a handler.
 * Runs on the signalling thread's loop; not thread-safe.
 */
#ifndef TANDEM_SIP_TSX_H
#define TANDEM_SIP_TSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/sa.h"
#include "sip/msg/msg.h"
#include "sip/transport/tp.h"

struct sip_tsx_layer;
struct sip_tsx; /* one client or server transaction */

struct sip_tsx_config {
	uint32_t t1_ms;         /* [500] */
	uint32_t t2_ms;         /* [4000] */
	uint32_t t4_ms;         /* [5000] */
	unsigned max_tsx;       /* transactions at once; above: 503 to new requests [10000] */
	uint32_t retry_after_s; /* Retry-After of that 503 [5] */
};

/* New request. stx is NULL for an ACK to a 2xx. msg is borrowed. */
typedef void(sip_tsx_req_h)(struct sip_tsx *stx, const struct sip_msg *msg, void *arg);
/* Response (resp != NULL) or failure (err != 0, resp NULL) of a client transaction. */
typedef void(sip_tsx_resp_h)(int err, const struct sip_msg *resp, void *arg);
/* The INVITE server transaction was cancelled (a CANCEL matched it). */
typedef void(sip_tsx_cancel_h)(struct sip_tsx *stx, const struct sip_msg *cancel, void *arg);

/*
 * tp may be NULL and set later with sip_tsx_layer_set_tp() (the transport
 * needs the layer as its handlers' argument, see sip_tsx_tp_recv()).
 */
int sip_tsx_layer_alloc(struct sip_tsx_layer **tlp, struct loop *loop, struct sip_tp *tp,
                        const struct sip_tsx_config *cfg, sip_tsx_req_h *reqh, void *arg);
void sip_tsx_layer_free(struct sip_tsx_layer *tl);
void sip_tsx_layer_set_tp(struct sip_tsx_layer *tl, struct sip_tp *tp);

/*
 * Feeds a message received from the transport (the layer's sip_tp receive
 * handler calls this; exposed so that tests can feed messages directly).
 * msg is borrowed; the layer takes its own reference when it keeps it.
 */
void sip_tsx_layer_recv(struct sip_tsx_layer *tl, struct sip_msg *msg);

/*
 * A stream connection to dst failed or closed with data pending: every client
 * transaction still waiting for a final response from dst over t fails with
 * err (§17.1.4, §8.1.3.1).
 */
void sip_tsx_layer_tp_err(struct sip_tsx_layer *tl, enum sip_transport t, const struct sa *dst,
                          int err);

/* Ready-made sip_tp handlers: pass them to sip_tp_alloc() with the layer as arg. */
void sip_tsx_tp_recv(struct sip_msg *msg, void *arg);
void sip_tsx_tp_err(enum sip_transport t, const struct sa *dst, int err, void *arg);

/*
 * The send path, swappable for tests (no sockets): req != NULL means a
 * response to req (routed per §18.2.2: t and dst are req's), else a request
 * to dst over t. Returns 0 or an errno as sip_tp_send() does. The default
 * (h == NULL) sends with sip_tp_send() / sip_tp_send_response().
 */
typedef int(sip_tsx_send_h)(const struct sip_msg *req, enum sip_transport t, const struct sa *dst,
                            const char *buf, size_t len, void *arg);
void sip_tsx_layer_set_sender(struct sip_tsx_layer *tl, sip_tsx_send_h *h, void *arg);

/* A fresh branch with the RFC 3261 magic cookie, written into buf (>= 32). */
void sip_tsx_branch(char *buf, size_t n);

/*
 * Client transaction: sends a complete request text (its top Via must carry
 * a fresh branch with the magic cookie) to dst over t and runs the INVITE or
 * non-INVITE client machine. An ACK is not a transaction: use sip_tsx_send_ack().
 * EBADMSG if the text does not parse, EINVAL without the cookie, EEXIST for a
 * branch (and method) in use. If the first send fails, returns its errno
 * (EMSGSIZE over UDP: rebuild the request for TCP, §18.1.1) and no handler is
 * ever called; later transport failures arrive through resph. resph may be
 * NULL (responses are absorbed).
 * *ctxp (may be NULL) receives a borrowed handle for sip_tsx_cancel().
 */
int sip_tsx_request(struct sip_tsx **ctxp, struct sip_tsx_layer *tl, const char *buf, size_t len,
                    enum sip_transport t, const struct sa *dst, sip_tsx_resp_h *resph, void *arg);

/* Sends an ACK for a 2xx (or any stateless request) once, outside any transaction. */
int sip_tsx_send_ack(struct sip_tsx_layer *tl, const char *buf, size_t len, enum sip_transport t,
                     const struct sa *dst);

/*
 * Cancels an INVITE client transaction (§9.1): builds the CANCEL from the
 * INVITE and sends it once a provisional response has arrived (immediately if
 * one has). The CANCEL's own final response is absorbed. If no final response
 * to the INVITE follows within 64*T1 of the CANCEL, the INVITE fails with
 * ETIMEDOUT. Returns EALREADY if a final response was already received (or a
 * CANCEL already requested), EINVAL for a non-INVITE, ESRCH if terminated.
 */
int sip_tsx_cancel(struct sip_tsx *ctx);
/* The same with Reason headers (RFC 3326) on the CANCEL: sip_cause (200: "Call
 * completed elsewhere", as to the losing branches of a fork) and/or a Q.850
 * cause (the PSTN side gave up); 0 leaves either out. */
int sip_tsx_cancel_reason(struct sip_tsx *ctx, uint16_t sip_cause, uint8_t q850_cause);

/* Detaches the TU from a client transaction: no more handler calls (so
 * forget the handle too, unless referenced). */
void sip_tsx_abandon(struct sip_tsx *ctx);

/*
 * Server transaction: sends a response text (built with
 * sip_msg_build_response) and advances the machine; retransmits per §17.2.1
 * (non-2xx final to INVITE until ACK, timer G/H) and absorbs request
 * retransmissions by resending the last response. A 2xx to INVITE moves to
 * Accepted (RFC 6026); its retransmission until ACK is the TU's job
 * (§13.3.1.4): it passes each copy through sip_tsx_reply() again while the
 * transaction is in Accepted (64*T1). Returns 0, EINVAL (code not allowed in
 * this state, e.g. a second final), ESRCH (terminated), or the transport's
 * errno (the transaction then terminates, §17.2.4).
 */
int sip_tsx_reply(struct sip_tsx *stx, uint16_t code, const char *buf, size_t len);

/* Convenience: builds (sip_msg_build_response) and sends. */
int sip_tsx_reply_code(struct sip_tsx *stx, uint16_t code, const char *reason, const char *to_tag,
                       const char *extra_hdrs, const char *ctype, const void *body,
                       size_t body_len);

/* The request that created a server transaction (valid while stx lives). */
const struct sip_msg *sip_tsx_request_msg(const struct sip_tsx *stx);
void sip_tsx_set_cancel_handler(struct sip_tsx *stx, sip_tsx_cancel_h *h, void *arg);

/* Counters, for metrics and tests. retrans_rx: retransmitted requests and
 * responses absorbed; retrans_tx: retransmissions sent (timers A/E/G, last
 * response resent, ACK resent); rejected: 503s at max_tsx; active: now. */
struct sip_tsx_stats {
	uint64_t client, server, retrans_rx, retrans_tx, timeouts, rejected, active;
};
void sip_tsx_stats(const struct sip_tsx_layer *tl, struct sip_tsx_stats *st);

#endif
