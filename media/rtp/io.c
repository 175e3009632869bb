/* Socket I/O for a session: receive, unprotect, account; build, protect, send. */
#include "media/rtp/rtp.h"

#include <string.h>
#include <sys/socket.h>

#include "core/err.h"
#include "media/rtp/srtp.h"

int rtp_sess_recv(struct rtp_sess *s, struct rtp_srtp *srtp, int fd, uint8_t buf[RTP_BUF_SIZE],
                  uint64_t now_us, struct rtp_hdr *h, enum rtp_rx *v)
{
	struct sa from;
	ssize_t r;
	size_t len;
	int err;

	memset(&from, 0, sizeof(from));
	from.len = sizeof(from.u);
	/* MSG_TRUNC: the real size, so an oversized datagram is refused, not cut */
	r = recvfrom(fd, buf, RTP_MTU, MSG_TRUNC, &from.u.sa, &from.len);
	if (r < 0)
		return errno == EWOULDBLOCK ? EAGAIN : errno;
	if ((size_t)r > RTP_MTU) {
		*v = RTP_RX_MALFORMED;
		return 0;
	}
	len = (size_t)r;
	if (rtp_is_rtcp(buf, len)) {
		if (srtp && srtp->on && (err = rtp_srtp_unprotect_rtcp(srtp, buf, &len)))
			return err;
		err = rtp_sess_rtcp_rx(s, buf, len, now_us);
		if (err)
			return err;
		*v = RTP_RX_RTCP;
		return 0;
	}
	if (srtp && srtp->on && (err = rtp_srtp_unprotect(srtp, buf, &len)))
		return err;
	*v = rtp_sess_rx(s, buf, len, &from, now_us, h);
	return 0;
}

static int send_to(int fd, const uint8_t *buf, size_t len, const struct sa *dst)
{
	ssize_t r;

	if (!sa_isset(dst))
		return EDESTADDRREQ;
	r = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, &dst->u.sa, dst->len);
	if (r < 0)
		return errno;
	return (size_t)r == len ? 0 : EIO;
}

int rtp_sess_send(struct rtp_sess *s, struct rtp_srtp *srtp, int fd, uint8_t pt, bool marker,
                  uint32_t ts_samples, const uint8_t *payload, size_t len, uint64_t now_us)
{
	uint8_t buf[RTP_BUF_SIZE];
	size_t n;
	int err;

	if (len > RTP_MTU - RTP_HDR_SIZE)
		return EMSGSIZE;
	memcpy(buf + RTP_HDR_SIZE, payload, len);
	err = rtp_sess_tx(s, buf, RTP_MTU, pt, marker, ts_samples, len, now_us, &n);
	if (err)
		return err;
	if (srtp && srtp->on && (err = rtp_srtp_protect(srtp, buf, &n, sizeof(buf))))
		return err;
	return send_to(fd, buf, n, &s->remote);
}

int rtp_sess_send_rtcp(struct rtp_sess *s, struct rtp_srtp *srtp, int fd, const struct sa *dst,
                       bool bye, uint64_t now_us)
{
	uint8_t buf[RTP_BUF_SIZE];
	size_t n;
	int err;

	err = rtp_sess_rtcp_build(s, buf, RTP_MTU, bye, now_us, &n);
	if (err)
		return err;
	if (srtp && srtp->on &&
	    (err = rtp_srtp_protect_rtcp(srtp, buf, &n, sizeof(buf))))
		return err;
	return send_to(fd, buf, n, dst);
}
