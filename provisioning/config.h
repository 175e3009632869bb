/*
 * config: Tandem's configuration, loaded from one YAML file.
 *
 * cfg_load() reads and validates the whole file into a struct tandem_config
 * (every string copied; the YAML document is gone afterwards). Any error is
 * reported once as "FILE:LINE:COLUMN: message" in errbuf, and nothing is
 * half-applied: the caller keeps its old config on failure (that is what a
 * reload relies on). Sections so far: log, sip. Later issues add spans,
 * users, routes, media, security as sibling sections and loaders.
 * Not thread-safe; the signalling thread owns the config.
 */
#ifndef TANDEM_PROVISIONING_CONFIG_H
#define TANDEM_PROVISIONING_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sa.h"
#include "sip/msg/msg.h"

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
};

struct cfg_log {
	int level; /* enum log_level */
	bool syslog;
};

struct tandem_config {
	char *path;
	struct cfg_log log;
	struct cfg_sip sip;
};

/* Loads path. Returns 0, or an errno with the message in errbuf. */
int cfg_load(struct tandem_config **cfgp, const char *path, char *errbuf, size_t errlen);
/* Same from text (tests); name stands for the file name in messages. */
int cfg_load_string(struct tandem_config **cfgp, const char *name, const char *text,
		    char *errbuf, size_t errlen);
void cfg_free(struct tandem_config *cfg);

/* "udp:127.0.0.1:5060", "tls:[::1]:5061", "tcp:0.0.0.0" (default port by transport). */
int cfg_parse_listen(const char *s, struct cfg_listen *out);

#endif
