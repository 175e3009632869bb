/* RTP/RTCP sockets: an even/odd port pair from the configured range, DSCP marked. */
#include "media/rtp/rtp.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"

int rtp_ports_init(struct rtp_ports *p, uint16_t min, uint16_t max)
{
	uint32_t lo = min + (min & 1u); /* RTP on even ports (RFC 3550 11) */
	uint32_t hi = max - !(max & 1u);

	if (!min || hi < lo + 1)
		return EINVAL;
	p->min = (uint16_t)lo;
	p->max = (uint16_t)hi;
	p->next = (uint16_t)lo;
	return 0;
}

int rtp_sock_set_dscp(int fd, int af, uint8_t dscp)
{
	int tos = (dscp & 0x3f) << 2; /* DSCP is the top six bits of TOS / traffic class */

	if (af == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)))
			return errno;
		/* IPv4-mapped traffic on a dual-stack socket uses IP_TOS; may fail on v6only. */
		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		return 0;
	}
	if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)))
		return errno;
	return 0;
}

static int udp_open(const struct sa *laddr, uint16_t port, uint8_t dscp, int *fdp)
{
	struct sa a = *laddr;
	int fd, err;

	fd = socket(sa_af(&a), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return errno;
	sa_set_port(&a, port);
	if (bind(fd, &a.u.sa, a.len)) {
		err = errno;
		goto out;
	}
	err = rtp_sock_set_dscp(fd, sa_af(&a), dscp);
	if (err)
		goto out;
	*fdp = fd;
	return 0;
out:
	close(fd);
	return err;
}

int rtp_socks_open(struct rtp_socks *ss, struct rtp_ports *p, const struct sa *laddr, uint8_t dscp)
{
	unsigned pairs = ((unsigned)p->max - p->min + 1) / 2;
	int rtp_fd = -1, rtcp_fd = -1, err = EADDRINUSE;

	if (sa_af(laddr) != AF_INET && sa_af(laddr) != AF_INET6)
		return EINVAL;
	for (unsigned i = 0; i < pairs; i++) {
		uint16_t port = p->next;

		p->next = (uint16_t)(port + 2 > p->max ? p->min : port + 2);
		err = udp_open(laddr, port, dscp, &rtp_fd);
		if (err == EADDRINUSE)
			continue;
		if (err)
			return err;
		err = udp_open(laddr, (uint16_t)(port + 1), dscp, &rtcp_fd);
		if (err) {
			close(rtp_fd);
			if (err == EADDRINUSE)
				continue;
			return err;
		}
		ss->rtp_fd = rtp_fd;
		ss->rtcp_fd = rtcp_fd;
		ss->laddr = *laddr;
		sa_set_port(&ss->laddr, port);
		return 0;
	}
	return EADDRINUSE;
}

int rtp_sock_twin(int fd, const struct sa *peer, int *twinp)
{
	struct sa local;
	int on = 1, tos = 0, v6only = 0, twin, err;
	socklen_t len = sizeof(tos);

	local.len = sizeof(local.u);
	if (getsockname(fd, &local.u.sa, &local.len))
		return errno;
	if (sa_af(&local) != AF_INET && sa_af(&local) != AF_INET6)
		return EINVAL;
	if (sa_af(&local) == AF_INET6) {
		(void)getsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, &len);
		len = sizeof(v6only);
		(void)getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len);
	} else {
		(void)getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &len);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)))
		return errno;
	twin = socket(sa_af(&local), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (twin < 0)
		return errno;
	if (setsockopt(twin, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) ||
	    (sa_af(&local) == AF_INET6 &&
	     setsockopt(twin, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only))) ||
	    bind(twin, &local.u.sa, local.len)) {
		err = errno;
		goto out;
	}
	err = rtp_sock_set_dscp(twin, sa_af(&local), (uint8_t)(tos >> 2));
	if (!err)
		err = rtp_sock_twin_peer(twin, peer);
	if (!err) {
		*twinp = twin;
		return 0;
	}
out:
	close(twin);
	return err;
}

int rtp_sock_twin_peer(int twin, const struct sa *peer)
{
	return connect(twin, &peer->u.sa, peer->len) ? errno : 0;
}

void rtp_socks_close(struct rtp_socks *ss)
{
	if (ss->rtp_fd >= 0)
		close(ss->rtp_fd);
	if (ss->rtcp_fd >= 0)
		close(ss->rtcp_fd);
	ss->rtp_fd = ss->rtcp_fd = -1;
}
