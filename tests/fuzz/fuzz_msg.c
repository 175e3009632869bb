/* libFuzzer target for gateway/sip/msg: datagram and stream decoding, every
 * typed decoder on every header value, the UAS check and response building. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "sip/msg/msg.h"

static void typed(struct pl v)
{
	union {
		struct sip_via via;
		struct sip_addr addr;
		struct sip_cseq cseq;
		struct sip_ctype ct;
		struct sip_rack rack;
		struct sip_session_expires se;
		struct sip_event ev;
		struct sip_substate ss;
		struct sip_reason r;
		struct sip_retry_after ra;
		struct sip_replaces rp;
		struct sip_timestamp ts;
		struct pl tok;
		uint32_t u;
	} u;

	sip_via_decode(&u.via, v);
	if (sip_addr_decode(&u.addr, v) == 0 && u.addr.params.l)
		sip_param_get(u.addr.params, "tag", NULL);
	sip_cseq_decode(&u.cseq, v);
	sip_u32_decode(&u.u, v);
	sip_ctype_decode(&u.ct, v);
	sip_rack_decode(&u.rack, v);
	sip_session_expires_decode(&u.se, v);
	sip_event_decode(&u.ev, v);
	sip_substate_decode(&u.ss, v);
	sip_reason_decode(&u.r, v);
	sip_retry_after_decode(&u.ra, v);
	sip_replaces_decode(&u.rp, v);
	sip_timestamp_decode(&u.ts, v);
	sip_token_decode(&u.tok, v);
}

static void exercise(const struct sip_msg *msg)
{
	static const char *const sup[] = {"100rel", "timer", NULL};
	static const char *const acc[] = {"application/sdp", NULL};
	static const char *const auth[] = {"Digest", NULL};
	const struct sip_check_opts opts = {sup, acc, acc, auth, 0x7, 1000};
	const char *reason;
	uint16_t code;

	for (unsigned i = 0; i < msg->nhdr; i++)
		typed(msg->hdr[i].val);
	for (int id = 1; id < SIP_HDR_COUNT; id++) {
		struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
		struct pl v;
		while (sip_msg_hdr_next(msg, (enum sip_hdr_id)id, &it, &v))
			typed(v);
	}
	sip_msg_has_token(msg, SIP_HDR_REQUIRE, "100rel");
	sip_msg_hdr_name(msg, "X-Foo");
	sip_msg_check(msg, &opts, &code, &reason);
	sip_msg_check(msg, NULL, &code, &reason);
	if (msg->req && !msg->bad) {
		struct sip_mb mb;
		memset(&mb, 0, sizeof(mb));
		if (sip_msg_build_response(&mb, msg, 180, NULL, "tt", true, "X: y\r\n", "a/b", "xy",
		                           2) == 0) {
			struct sip_msg *rsp = NULL;
			/* a response we build must decode */
			if (sip_msg_decode(&rsp, mb.buf, mb.len, false, NULL, NULL) != 0 &&
			    msg->answerable)
				__builtin_trap();
			mem_deref(rsp);
		}
		mem_deref(mb.buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL, *partial = NULL;
	const char *buf = (const char *)data;
	size_t skip = 0, len = 0, off = 0;

	if (sip_msg_decode_ex(&msg, &partial, buf, size, false, NULL, NULL) == 0)
		exercise(msg);
	else if (partial)
		exercise(partial);
	msg = mem_deref(msg);
	partial = mem_deref(partial);

	/* stream: frame and decode as many pipelined messages as there are */
	for (int n = 0; n < 8 && off < size; n++) {
		if (sip_msg_frame(buf + off, size - off, NULL, &skip, &len))
			break;
		if (skip + len > size - off || !len)
			__builtin_trap();
		if (sip_msg_decode(&msg, buf + off + skip, len, true, NULL, NULL) == 0)
			exercise(msg);
		msg = mem_deref(msg);
		off += skip + len;
	}
	return 0;
}
