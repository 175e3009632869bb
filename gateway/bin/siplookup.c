/*
 * siplookup: where would Tandem send a SIP request? RFC 3263 server location
 * from the command line, with the daemon's own resolver (sip/dns).
 *
 *   siplookup [-s SERVER[:PORT]] [-t udp|tcp|tls] [--sips] [-T MS] [-v] TARGET[:PORT]
 *
 * Prints one "TRANSPORT ADDRESS PORT" line per target, in the order the
 * daemon would try them, and exits 0; or prints an error and exits 1
 * (2 for bad usage).
 */
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/sa.h"
#include "sip/dns/dns.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lookup {
	struct loop *loop;
	const char *target;
	int err;
};

static void usage(void)
{
	fprintf(stderr, "usage: siplookup [-s SERVER[:PORT]] [-t udp|tcp|tls] [--sips] [-T MS] [-v] "
			"TARGET[:PORT]\n");
}

static const char *err_text(int err)
{
	switch (err) {
	case ENOENT:
		return "no such name, or no usable SIP record";
	case ETIMEDOUT:
		return "DNS server did not answer";
	case ECONNREFUSED:
		return "DNS server refused the connection";
	case EIO:
		return "DNS server failure";
	case EBADMSG:
		return "malformed DNS answer";
	default:
		return strerror(err);
	}
}

static void on_result(int err, const struct sip_dns_target *v, size_t n, void *arg)
{
	struct lookup *lk = arg;

	lk->err = err;
	for (size_t i = 0; i < n; i++) {
		char addr[SA_STRLEN];

		printf("%s %s %u\n", sip_dns_tp_name(v[i].tp), sa_ntop(&v[i].addr, addr, sizeof(addr)),
		       sa_port(&v[i].addr));
	}
	if (err)
		fprintf(stderr, "siplookup: %s: %s (%s)\n", lk->target, err_text(err),
			strerrorname_np(err) ? strerrorname_np(err) : "?");
	/* loop_stop() alone is only seen after the next event; the wake is that event. */
	loop_stop(lk->loop);
	loop_wake(lk->loop);
}

/* "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address. */
static int split_target(const char *s, struct pl *host, uint16_t *port)
{
	const char *c = NULL;
	uint32_t p = 0;

	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || (e[1] && e[1] != ':'))
			return EINVAL;
		*host = pl_make(s, (size_t)(e - s) + 1);
		c = e[1] ? e + 1 : NULL;
	} else {
		c = strchr(s, ':');
		if (c && strchr(c + 1, ':'))
			c = NULL; /* bare IPv6 */
		*host = pl_make(s, c ? (size_t)(c - s) : strlen(s));
	}
	if (c && (pl_u32(pl_make(c + 1, strlen(c + 1)), &p) || p == 0 || p > 65535))
		return EINVAL;
	*port = (uint16_t)p;
	return host->l ? 0 : EINVAL;
}

static int parse_tp(const char *s, enum sip_transport *tp)
{
	static const struct {
		const char *name;
		enum sip_transport tp;
	} tps[] = { { "udp", SIP_TP_UDP }, { "tcp", SIP_TP_TCP }, { "tls", SIP_TP_TLS } };

	for (size_t i = 0; i < ARRAY_SIZE(tps); i++) {
		if (!strcasecmp(s, tps[i].name)) {
			*tp = tps[i].tp;
			return 0;
		}
	}
	return EINVAL;
}

struct args {
	struct sip_dns_conf conf;
	enum sip_transport tp;
	bool secure, verbose;
	const char *target;
	struct pl host;
	uint16_t port;
};

/* Returns -1 to go on, else the exit code (0 for --help, 2 for bad usage). */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "transport", required_argument, NULL, 't' },
		{ "sips", no_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:t:T:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->conf.servers = optarg;
			break;
		case 't':
			if (parse_tp(optarg, &a->tp))
				goto usage;
			break;
		case 'S':
			a->secure = true;
			break;
		case 'T':
			a->conf.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || split_target(argv[optind], &a->host, &a->port))
		goto usage;
	a->target = argv[optind];
	return -1;
usage:
	usage();
	return 2;
}

int main(int argc, char **argv)
{
	struct args a = { .tp = SIP_TP_NONE };
	struct lookup lk = { .err = 0 };
	struct sip_dns *dns = NULL;
	int err, rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	lk.target = a.target;
	log_init("siplookup", false, a.verbose ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	err = loop_alloc(&lk.loop);
	if (!err)
		err = sip_dns_alloc(&dns, lk.loop, &a.conf);
	if (!err)
		err = sip_dns_resolve(dns, a.host, a.port, a.tp, a.secure, on_result, &lk, NULL);
	if (!err)
		err = loop_run(lk.loop);
	if (!err)
		err = lk.err;
	else
		fprintf(stderr, "siplookup: %s: %s (%s)\n", lk.target, err_text(err),
			strerrorname_np(err) ? strerrorname_np(err) : "?");
	mem_deref(dns);
	if (lk.loop)
		loop_free(lk.loop);
	return err ? 1 : 0;
}
