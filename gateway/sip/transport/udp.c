/*
 * UDP: one socket per listening address. Datagrams are read in batches with
 * recvmmsg (a flood costs one system call per batch, not per packet) into
 * scratch buffers; each message is then copied once into its own
 * right-sized buffer by tp_recv_msg, so a kept message never pins 64 KiB.
 * Wildcard sockets learn each packet's destination address (IP_PKTINFO) so
 * that msg->dst is the real local address and responses leave from it.
 */
#include "sip/transport/tp_int.h"

#include "core/err.h"
#include "core/log.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_BATCHES_PER_EVENT 8u
#define UDP_CMSG_SPACE        CMSG_SPACE(sizeof(struct in6_pktinfo))

static bool is_keepalive(const char *p, size_t n)
{
	/* RFC 5626 keep-alives over UDP are STUN; some peers send bare CRLFs. */
	if (n > 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n' && p[i] != ' ' && p[i] != '\0')
			return false;
	}
	return true;
}

static void pktinfo_dst(const struct tp_lsock *ls, struct msghdr *mh, struct sa *dst)
{
	*dst = ls->local;
	if (!ls->wildcard)
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			dst->u.in.sin_addr = pi.ipi_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			dst->u.in6.sin6_addr = pi.ipi6_addr;
		}
	}
}

static void udp_deliver(struct tp_lsock *ls, struct mmsghdr *mm, const char *buf)
{
	struct sip_tp *tp = ls->tp;
	struct msghdr *mh = &mm->msg_hdr;
	struct sa src, dst;
	size_t n = mm->msg_len;

	if (is_keepalive(buf, n))
		return;
	if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC) || n > tp->cfg.limits.max_msg ||
	    mh->msg_namelen > sizeof(src.u.ss)) {
		tp->st.rx_bad++;
		return;
	}
	memset(&src, 0, sizeof(src));
	memcpy(&src.u.ss, mh->msg_name, mh->msg_namelen);
	src.len = mh->msg_namelen;
	if (!sa_isset(&src)) {
		tp->st.rx_bad++;
		return;
	}
	pktinfo_dst(ls, mh, &dst);
	(void)tp_recv_msg(tp, SIP_TP_UDP, buf, n, &src, &dst, NULL);
}

/* One recvmmsg batch; returns how many datagrams it got (0: nothing more now). */
static unsigned udp_batch(struct tp_lsock *ls)
{
	struct sip_tp *tp = ls->tp;
	struct mmsghdr mm[TP_UDP_BATCH];
	struct iovec iov[TP_UDP_BATCH];
	struct sockaddr_storage names[TP_UDP_BATCH];
	char cbuf[TP_UDP_BATCH][UDP_CMSG_SPACE] __attribute__((aligned(8)));
	int n;

	memset(mm, 0, sizeof(mm));
	for (unsigned i = 0; i < TP_UDP_BATCH; i++) {
		iov[i].iov_base = tp->udpbuf + i * tp->udpbuf_sz;
		iov[i].iov_len = tp->udpbuf_sz;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &names[i];
		mm[i].msg_hdr.msg_namelen = sizeof(names[i]);
		mm[i].msg_hdr.msg_control = cbuf[i];
		mm[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
	}
	n = recvmmsg(ls->fd, mm, TP_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			LOGD(TP_CTX, "udp recvmmsg: %s", strerror(errno));
		/* ICMP errors (ECONNREFUSED) are reported here on Linux: keep reading. */
		return n < 0 && errno == ECONNREFUSED ? 1 : 0;
	}
	for (int i = 0; i < n; i++)
		udp_deliver(ls, &mm[i], iov[i].iov_base);
	return (unsigned)n;
}

static void udp_read_h(int fd, unsigned events, void *arg)
{
	struct tp_lsock *ls = arg;
	(void)fd;
	(void)events;

	/* Bounded, so that a flood on one socket cannot starve the rest of the loop. */
	for (unsigned b = 0; b < UDP_BATCHES_PER_EVENT; b++) {
		if (udp_batch(ls) < TP_UDP_BATCH)
			break;
	}
}

static int udp_bufs(struct sip_tp *tp)
{
	size_t sz;

	if (tp->udpbuf)
		return 0;
	/* One byte over the limit so that an oversized datagram shows as such. */
	sz = tp->cfg.limits.max_msg < TP_UDP_MAX ? tp->cfg.limits.max_msg + 1 : TP_UDP_MAX + 1;
	sz = (sz + 15) & ~(size_t)15;
	tp->udpbuf = malloc(sz * TP_UDP_BATCH);
	if (!tp->udpbuf)
		return ENOMEM;
	tp->udpbuf_sz = sz;
	return 0;
}

/*
 * The default receive buffer (rmem_default, ~208 KiB) holds only ~100 small
 * datagrams once the kernel's per-packet overhead is counted: a burst of
 * requests (a proxy failing over to us, a registration storm) would lose most
 * of them before the loop runs. Ask for more; the kernel caps it at rmem_max,
 * and SO_RCVBUFFORCE (CAP_NET_ADMIN) goes past that when we may.
 */
#define UDP_RCVBUF (4u << 20)

static void udp_rcvbuf(int fd)
{
	int want = (int)UDP_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
}

static int udp_sockopts(struct sip_tp *tp, int fd, int af, bool wildcard)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		return errno;
	udp_rcvbuf(fd);
	if (af == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
			return errno;
		if (wildcard && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) < 0)
			return errno;
	} else if (wildcard && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0) {
		return errno;
	}
	return tp_sock_opts(tp, fd, af);
}

int tp_udp_listen(struct sip_tp *tp, struct sa *local)
{
	struct tp_lsock *ls;
	int af = sa_af(local), err;

	err = udp_bufs(tp);
	if (err)
		return err;
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return ENOMEM;
	ls->tp = tp;
	ls->t = SIP_TP_UDP;
	ls->wildcard = sa_is_any(local);
	ls->fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls->fd < 0) {
		err = errno;
		goto out;
	}
	err = udp_sockopts(tp, ls->fd, af, ls->wildcard);
	if (err)
		goto out;
	if (bind(ls->fd, &local->u.sa, local->len) < 0) {
		err = errno;
		goto out;
	}
	ls->local.len = sizeof(ls->local.u.ss);
	if (getsockname(ls->fd, &ls->local.u.sa, &ls->local.len) < 0) {
		err = errno;
		goto out;
	}
	err = loop_fd_listen(tp->loop, ls->fd, LOOP_READ, udp_read_h, ls);
	if (err)
		goto out;
	ls->next = tp->lsocks;
	tp->lsocks = ls;
	*local = ls->local;
	return 0;
out:
	if (ls->fd >= 0)
		close(ls->fd);
	free(ls);
	return err;
}

/* The source address goes in a PKTINFO control message (wildcard sockets only). */
static void udp_src_cmsg(struct msghdr *mh, char *cbuf, size_t cap, const struct sa *src)
{
	struct cmsghdr *cm;

	memset(cbuf, 0, cap);
	mh->msg_control = cbuf;
	mh->msg_controllen = cap;
	cm = CMSG_FIRSTHDR(mh);
	if (sa_af(src) == AF_INET) {
		struct in_pktinfo pi = {0};
		pi.ipi_spec_dst = src->u.in.sin_addr;
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = {0};
		pi.ipi6_addr = src->u.in6.sin6_addr;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

int tp_udp_send(struct sip_tp *tp, struct tp_lsock *ls, const struct sa *dst, const struct sa *src,
                const char *buf, size_t len)
{
	char cbuf[UDP_CMSG_SPACE] __attribute__((aligned(8)));
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {0};
	ssize_t n;

	if (len > TP_UDP_MAX)
		return EMSGSIZE;
	if (sa_af(dst) != sa_af(&ls->local))
		return EAFNOSUPPORT;
	mh.msg_name = (void *)&dst->u.sa;
	mh.msg_namelen = dst->len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (src && ls->wildcard && sa_af(src) == sa_af(dst) && !sa_is_any(src))
		udp_src_cmsg(&mh, cbuf, sizeof(cbuf), src);
	n = sendmsg(ls->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0) {
		int err = errno;
		if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
			tp->st.tx_dropped++;
			return 0;
		}
		return err;
	}
	tp->st.tx_msgs++;
	return 0;
}
