/*
 * The media side of a call, as far as it exists: SDP offer/answer with
 * media/sdp, and one UDP socket per call that reserves the RTP port the SDP
 * announces. No RTP is sent or read yet: that is the media engine's job
 * (media/engine), not wired in; every call says so in its log.
 */
#include "call/call_int.h"

#include "core/log.h"
#include "core/mem.h"
#include "core/loop.h"
#include "sip/ua/ua.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int reserve_port(const struct sa *local, struct sa *bound)
{
	struct sa a = *local;
	int fd = socket(sa_af(local), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	sa_set_port(&a, 0);
	if (bind(fd, &a.u.sa, a.len) < 0) {
		close(fd);
		return -1;
	}
	a.len = sizeof(a.u.ss);
	if (getsockname(fd, &a.u.sa, &a.len) < 0) {
		close(fd);
		return -1;
	}
	*bound = a;
	return fd;
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

int call_media_init(struct call *c, const struct sa *local)
{
	struct sa bound;

	c->rtp_fd = reserve_port(local, &bound);
	if (c->rtp_fd < 0)
		return errno ? errno : EIO;
	sdp_neg_init(&c->neg, &c->cc->prefs, &bound, NULL, loop_clock_ms());
	c->neg.ctx = c->ctx;
	LOGI(c->ctx, "media: SDP at port %u, but no audio path (the media engine is not wired in)",
	     sa_port(&bound));
	return 0;
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

void call_media_close(struct call *c)
{
	if (c->rtp_fd >= 0)
		close(c->rtp_fd);
	c->rtp_fd = -1;
}
