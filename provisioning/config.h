/*
 * config: Tandem's configuration, loaded from one YAML file.
 *
 * cfg_load() reads and validates the whole file into a struct tandem_config
 * (every string copied; the YAML document is gone afterwards). Any error is
 * reported once as "FILE:LINE:COLUMN: message" in errbuf, and nothing is
 * half-applied: the caller keeps its old config on failure (that is what a
 * reload relies on). Sections: log, sip (config.c), numbering and spans
 * (cfg_spans.c), users, trunks and registrar (cfg_users.c), routes and causes (cfg_routes.c),
 * ctl, metrics and cdr (cfg_ops.c), media (cfg_media.c). security is still to come.
 * Not thread-safe; the signalling thread owns the config.
 */
#ifndef TANDEM_PROVISIONING_CONFIG_H
#define TANDEM_PROVISIONING_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cause/cause.h"
#include "core/sa.h"
#include "media/engine/engine.h"
#include "media/sdp/sdp.h"
#include "route/route.h"
#include "sip/auth/auth.h"
#include "sip/msg/msg.h"
#include "tdm/pri/pri.h"
#include "tdm/span/span.h"

#define CFG_MAX_LISTEN 16

struct cfg_listen {
	enum sip_transport tp;
	struct sa addr;
	char text[80]; /* as written, for logs */
};

struct cfg_sip {
	char *domain;
	char *user_agent;
	struct cfg_listen listen[CFG_MAX_LISTEN];
	unsigned nlisten;
	char *tls_cert, *tls_key, *tls_ca;
	bool tls_verify_server, tls_verify_client;
	uint32_t t1_ms, t2_ms, t4_ms;
	uint32_t max_message, max_connections, idle_timeout_s, max_transactions;
	int dscp; /* -1: off */
	/* RFC 4028 session timers: the interval asked for / accepted up to, our Min-SE
	 * (seconds, >= 90 as §5 requires), or off altogether. [1800, 90, on] */
	uint32_t session_expires, min_se;
	bool no_session_timer;
};

struct cfg_log {
	int level; /* enum log_level */
	bool syslog;
};

#define CFG_MAX_SPANS 64

enum cfg_span_backend {
	CFG_SPAN_VIRTUAL = 0,
	CFG_SPAN_DAHDI,
};

/* One span: its wire (span_conf), its signalling (tpri_conf) and its group. */
struct cfg_span {
	enum cfg_span_backend backend;
	struct span_conf conf; /* num, type, bchans, dchan, law, addr, listen, clock_master */
	struct tpri_conf pri;  /* node (side), sw (switch type) */
	uint16_t group;
};

struct cfg_user {
	char *name;     /* the SIP user (AOR user part, digest username): "1001" */
	char *password; /* digest password */
	char *number;   /* E.164 calling number for its outbound calls, or NULL */
	char **dids;    /* E.164 numbers routed to it (inbound routes added for each) */
	unsigned ndids;
	char **contacts; /* sip/sips URIs of a device that does not register: static bindings */
	unsigned ncontacts;
};

/* A SIP trunk: trusted by its address (no digest); DID routes may send calls to it. */
struct cfg_trunk {
	char *name;
	enum sip_transport tp; /* [UDP] */
	struct sa addr;        /* port included (5060 when not given) */
	char text[80];         /* "udp:192.0.2.10:5060", for logs and the target URI */
	char *proxy;           /* outbound proxy (sip/sips URI, first Route), or NULL */
};

struct cfg_route_out {
	char *name, *pattern, *prefix;
	unsigned strip;
	enum route_ton ton;
	enum route_npi npi;
	uint16_t groups[ROUTE_GROUPS_MAX];
	unsigned ngroups;
	enum route_hunt hunt;
	char *redirect; /* answer 302 with this Contact instead of placing the call */
};

struct cfg_route_in {
	char *match; /* DID or pattern ('+...': E.164) */
	enum route_target kind;
	char *target; /* user name, SIP URI or trunk name */
};

/* registrar: where bindings live (SQLite; ":memory:" loses them on restart) and the
 * digest algorithms challenged with, in order (REGISTER's 401 and INVITE's 407). */
struct cfg_registrar {
	char *db;
	struct sip_digest_algs digest_algs; /* n == 0: SIP_DIGEST_ALGS_DEFAULT [sha-256, md5] */
};

#define CFG_MAX_CAUSE_OVR 128

/* causes: overrides of the Q.850 <-> SIP tables (gateway/cause). */
struct cfg_cause_ovr {
	enum cause_dir dir;
	uint16_t from, to;
};

struct cfg_causes {
	enum cause_profile profile;
	struct cfg_cause_ovr ovr[CFG_MAX_CAUSE_OVR];
	unsigned novr;
};

/* Control socket (tandemctl). socket NULL: none. */
struct cfg_ctl {
	char *socket;
};

/* Prometheus endpoint. enabled false: none. */
struct cfg_metrics {
	bool enabled;
	struct sa listen;
};

/* Call detail records. path NULL: none. */
struct cfg_cdr {
	char *path;
	bool sync_full; /* cdr.sync: full (fsync each record) or normal (default) */
};

/* media: RTP and the media engine (cfg_media.c has the keys and defaults). */
struct cfg_media {
	uint16_t port_min, port_max; /* RTP/RTCP port pairs */
	int dscp;                    /* on RTP and RTCP; -1: off */
	enum sdp_codec codecs[3];    /* preference order */
	unsigned ncodecs;
	uint32_t ptime;
	enum sdp_srtp srtp;
	enum media_dtmf_mode dtmf;
	uint32_t jb_min_ms, jb_max_ms;
	bool ec;
	uint32_t ec_tail_ms;
	uint32_t rtp_timeout_s; /* 0: never */
	uint32_t workers, rt_priority;
};

struct tandem_config {
	char *path;
	struct cfg_media media;
	struct cfg_ctl ctl;
	struct cfg_metrics metrics;
	struct cfg_cdr cdr;
	struct cfg_causes causes;
	struct cfg_registrar registrar;
	struct cfg_log log;
	struct cfg_sip sip;
	struct route_numplan numbering;
	struct cfg_span spans[CFG_MAX_SPANS];
	unsigned nspans;
	struct cfg_user *users;
	unsigned nusers;
	struct cfg_trunk *trunks;
	unsigned ntrunks;
	struct cfg_route_out *routes_out;
	unsigned nroutes_out;
	struct cfg_route_in *routes_in;
	unsigned nroutes_in;
};

/* Loads path. Returns 0, or an errno with the message in errbuf. */
int cfg_load(struct tandem_config **cfgp, const char *path, char *errbuf, size_t errlen);
/* Same from text (tests); name stands for the file name in messages. */
int cfg_load_string(struct tandem_config **cfgp, const char *name, const char *text,
		    char *errbuf, size_t errlen);
void cfg_free(struct tandem_config *cfg);

/* The user called name, or NULL. */
const struct cfg_user *cfg_user_find(const struct tandem_config *cfg, const char *name);
/* The trunk called name / whose address and transport a request came from, or NULL.
 * A UDP trunk matches address and port; TCP/TLS the address (their source ports vary). */
const struct cfg_trunk *cfg_trunk_find(const struct tandem_config *cfg, const char *name);
const struct cfg_trunk *cfg_trunk_by_addr(const struct tandem_config *cfg, enum sip_transport tp,
					  const struct sa *src);

/*
 * A route table (gateway/route) from numbering, routes.outbound,
 * routes.inbound and every user's DIDs (as user targets, after the explicit
 * inbound routes). 0, EINVAL or ENOMEM; mem_deref the table.
 */
int cfg_route_table(const struct tandem_config *cfg, struct route_table **tp);

/* The cause map of the causes section (profile plus overrides). 0, EINVAL, ENOMEM. */
int cfg_cause_map(const struct tandem_config *cfg, struct cause_map **mp);

/* "udp:127.0.0.1:5060", "tls:[::1]:5061", "tcp:0.0.0.0" (default port by transport). */
int cfg_parse_listen(const char *s, struct cfg_listen *out);

#endif
