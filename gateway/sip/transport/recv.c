/*
 * The receive path shared by every transport (RFC 3261 §18.2.1, §18.1.2):
 * decode, stamp with where the message came from, answer what is malformed
 * but answerable with a 400 (or the code sip_msg_check picks), drop the rest.
 */
#include "sip/transport/tp_int.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <string.h>

static void stamp(struct sip_msg *msg, enum sip_transport t, const struct sa *src,
                  const struct sa *dst, struct tp_conn *conn)
{
	msg->tp = t;
	msg->src = *src;
	msg->dst = *dst;
	msg->conn = mem_ref(conn);
}

static void answer_bad(struct sip_tp *tp, struct sip_msg *partial)
{
	struct sip_mb mb;
	const char *reason = NULL;
	uint16_t code = 0;
	int err;

	/* An ACK is never answered (§17.2.3); a partial message that lacks what a
	 * response copies cannot be answered at all. */
	if (!partial->req || !partial->answerable || partial->mid == SIP_M_ACK)
		return;
	if (sip_msg_check(partial, NULL, &code, &reason) || code < 400) {
		code = 400;
		reason = NULL;
	}
	if (code == 400 && partial->bad)
		reason = partial->bad;
	if (!reason)
		reason = sip_reason_phrase(code);
	err = sip_mb_init(&mb, 512);
	if (err)
		return;
	err = sip_msg_build_response(&mb, partial, code, reason, NULL, false, NULL, NULL, NULL, 0);
	if (!err)
		err = sip_mb_finish(&mb);
	if (!err)
		err = sip_tp_send_response(tp, partial, mb.buf, mb.len);
	if (err)
		LOGD(TP_CTX, "could not answer a malformed request: %s", strerror(err));
	mem_deref(mb.buf);
}

/* A response is for us only if its top Via says a transport of ours (§18.1.2). */
static bool response_ok(const struct sip_msg *msg)
{
	return msg->via.transport.l && sip_tp_lookup(msg->via.transport) != SIP_TP_NONE;
}

int tp_recv_msg(struct sip_tp *tp, enum sip_transport t, const char *buf, size_t len,
                const struct sa *src, const struct sa *dst, struct tp_conn *conn)
{
	struct sip_msg *msg = NULL, *partial = NULL;
	char *copy;
	int err;

	/* The message references its own copy, so that the receive buffer can be
	 * reused at once and a kept message costs only its own size. */
	copy = mem_zalloc(len + 1, NULL);
	if (!copy)
		return ENOMEM;
	memcpy(copy, buf, len);
	err = sip_msg_decode_ex(&msg, &partial, copy, len, t != SIP_TP_UDP, copy, &tp->cfg.limits);
	if (err) {
		tp->st.rx_bad++;
		if (partial) {
			stamp(partial, t, src, dst, conn);
			answer_bad(tp, partial);
			mem_deref(partial);
			err = 0; /* framing was sound: the connection may stay */
		} else if (err == ENOMEM) {
			tp->st.rx_bad--; /* our shortage, not the peer's fault */
		} else {
			err = EBADMSG;
		}
		goto out;
	}
	if (!msg->req && !response_ok(msg)) {
		tp->st.rx_bad++;
		goto out;
	}
	stamp(msg, t, src, dst, conn);
	tp->st.rx_msgs++;
	tp->recvh(msg, tp->arg);
out:
	mem_deref(msg);
	mem_deref(copy);
	return err;
}
