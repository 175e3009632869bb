/*
 * media: RTP ports, codecs, SRTP policy, DTMF mode, jitter buffer, echo
 * cancelling, RTP timeout and the media workers.
 *
 *   media:
 *     rtp_ports: 10000-19999       # even RTP + odd RTCP pairs from this range
 *     dscp: 46                     # EF on RTP/RTCP; -1 or "off": unmarked
 *     codecs: [pcma, pcmu, g722]   # our preference; telephone-event is added by dtmf
 *     ptime: 20                    # ms we ask to receive
 *     srtp: off                    # off | optional | mandatory (RTP/SAVP)
 *     dtmf: rfc4733                # rfc4733 | info | inband
 *     jitter_buffer: { min_ms: 40, max_ms: 200 }
 *     echo_cancel: { enabled: true, tail_ms: 64 }
 *     rtp_timeout: 30              # s without RTP before the call is cleared; 0: never
 *     workers: 1                   # media threads
 *     rt_priority: 0               # > 0: SCHED_FIFO for the workers (needs CAP_SYS_NICE)
 */
#include "provisioning/cfg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_media_default(struct cfg_media *m)
{
	memset(m, 0, sizeof(*m));
	m->port_min = 10000;
	m->port_max = 19999;
	m->dscp = 46;
	m->codecs[0] = SDP_CODEC_PCMA;
	m->codecs[1] = SDP_CODEC_PCMU;
	m->ncodecs = 2;
	m->ptime = 20;
	m->srtp = SDP_SRTP_OFF;
	m->dtmf = MEDIA_DTMF_RFC4733;
	m->jb_min_ms = 40;
	m->jb_max_ms = 200;
	m->ec = true;
	m->ec_tail_ms = 64;
	m->rtp_timeout_s = 30;
	m->workers = 1;
}

/* One word out of names[] (NULL-terminated), by index. */
static int pick(struct ycfg *y, yaml_node_t *v, const char *const *names, const char *what,
                unsigned *out)
{
	const char *s;

	if (ycfg_str(y, v, &s))
		return EINVAL;
	for (unsigned i = 0; names[i]; i++)
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return ycfg_error(y, v, "%s must be one of %s%s%s%s%s", what, names[0],
	                  names[1] ? ", " : "", names[1] ? names[1] : "", names[2] ? ", " : "",
	                  names[2] ? names[2] : "");
}

static int load_ports(struct ycfg *y, yaml_node_t *v, struct cfg_media *m)
{
	unsigned lo, hi;
	const char *s;
	int n = 0;

	if (ycfg_str(y, v, &s))
		return EINVAL;
	if (sscanf(s, "%u-%u%n", &lo, &hi, &n) != 2 || s[n] || lo < 1024 || hi > 65535 ||
	    lo >= hi || (hi | 1) - (lo + (lo & 1)) < 1)
		return ycfg_error(y, v, "rtp_ports must be LOW-HIGH within 1024-65535 holding at "
		                        "least one even/odd pair, e.g. 10000-19999");
	m->port_min = (uint16_t)lo;
	m->port_max = (uint16_t)hi;
	return 0;
}

static int load_dscp(struct ycfg *y, yaml_node_t *v, struct cfg_media *m)
{
	const char *s;
	uint32_t u;

	if (v->type == YAML_SCALAR_NODE && !ycfg_str(y, v, &s) &&
	    (!strcmp(s, "off") || !strcmp(s, "-1"))) {
		m->dscp = -1;
		return 0;
	}
	if (ycfg_u32(y, v, 0, 63, &u))
		return EINVAL;
	m->dscp = (int)u;
	return 0;
}

static int load_codecs(struct ycfg *y, yaml_node_t *v, struct cfg_media *m)
{
	static const char *const names[] = {"pcma", "pcmu", "g722", NULL};
	size_t n;
	unsigned c;

	if (ycfg_seq_len(y, v, &n))
		return EINVAL;
	if (!n || n > 3)
		return ycfg_error(y, v, "codecs: one to three of pcma, pcmu, g722");
	m->ncodecs = 0;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = ycfg_seq_item(y, v, i);

		if (pick(y, it, names, "a codec", &c))
			return EINVAL;
		for (unsigned j = 0; j < m->ncodecs; j++)
			if (m->codecs[j] == (enum sdp_codec)c)
				return ycfg_error(y, it, "codec listed twice");
		m->codecs[m->ncodecs++] = (enum sdp_codec)c;
	}
	return 0;
}

static int load_jb(struct ycfg *y, yaml_node_t *n, struct cfg_media *m)
{
	static const char *const keys[] = {"min_ms", "max_ms", NULL};
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "min_ms")) && ycfg_u32(y, v, 20, 1000, &m->jb_min_ms))
		return EINVAL;
	if ((v = ycfg_get(y, n, "max_ms")) && ycfg_u32(y, v, 20, 1080, &m->jb_max_ms))
		return EINVAL;
	if (m->jb_max_ms < m->jb_min_ms)
		return ycfg_error(y, n, "jitter_buffer: max_ms below min_ms");
	return 0;
}

static int load_ec(struct ycfg *y, yaml_node_t *n, struct cfg_media *m)
{
	static const char *const keys[] = {"enabled", "tail_ms", NULL};
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "enabled")) && ycfg_bool(y, v, &m->ec))
		return EINVAL;
	if ((v = ycfg_get(y, n, "tail_ms")) && ycfg_u32(y, v, 8, 256, &m->ec_tail_ms))
		return EINVAL;
	return 0;
}

int cfg_load_media(struct ycfg *y, yaml_node_t *n, struct cfg_media *m)
{
	static const char *const keys[] = {"rtp_ports", "dscp",          "codecs",      "ptime",
	                                   "srtp",      "dtmf",          "jitter_buffer",
	                                   "echo_cancel", "rtp_timeout", "workers",
	                                   "rt_priority", NULL};
	static const char *const srtp[] = {"off", "optional", "mandatory", NULL};
	static const char *const dtmf[] = {"rfc4733", "info", "inband", NULL};
	yaml_node_t *v;
	unsigned u;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "rtp_ports")) && load_ports(y, v, m))
		return EINVAL;
	if ((v = ycfg_get(y, n, "dscp")) && load_dscp(y, v, m))
		return EINVAL;
	if ((v = ycfg_get(y, n, "codecs")) && load_codecs(y, v, m))
		return EINVAL;
	if ((v = ycfg_get(y, n, "ptime")) && ycfg_u32(y, v, 10, 60, &m->ptime))
		return EINVAL;
	if (m->ptime % 10)
		return ycfg_error(y, v, "ptime must be 10, 20, 30, 40, 50 or 60");
	if ((v = ycfg_get(y, n, "srtp"))) {
		if (pick(y, v, srtp, "srtp", &u))
			return EINVAL;
		m->srtp = (enum sdp_srtp)u;
	}
	if ((v = ycfg_get(y, n, "dtmf"))) {
		if (pick(y, v, dtmf, "dtmf", &u))
			return EINVAL;
		m->dtmf = (enum media_dtmf_mode)u;
	}
	if ((v = ycfg_get(y, n, "jitter_buffer")) && load_jb(y, v, m))
		return EINVAL;
	if ((v = ycfg_get(y, n, "echo_cancel")) && load_ec(y, v, m))
		return EINVAL;
	if ((v = ycfg_get(y, n, "rtp_timeout")) && ycfg_u32(y, v, 0, 3600, &m->rtp_timeout_s))
		return EINVAL;
	if ((v = ycfg_get(y, n, "workers")) && ycfg_u32(y, v, 1, 64, &m->workers))
		return EINVAL;
	if ((v = ycfg_get(y, n, "rt_priority")) && ycfg_u32(y, v, 0, 99, &m->rt_priority))
		return EINVAL;
	return 0;
}
