/*
 * Section loaders of config.c, one file per section group. Each reads its
 * node into cfg and records the first error through ycfg (file:line:column).
 */
#ifndef TANDEM_PROVISIONING_CFG_INT_H
#define TANDEM_PROVISIONING_CFG_INT_H

#include "provisioning/config.h"
#include "provisioning/ycfg.h"

#include "core/err.h"

/* A string scalar copied (strdup) into *out (any previous value freed). */
int cfg_str_dup(struct ycfg *y, yaml_node_t *n, char **out);

void cfg_numbering_default(struct route_numplan *np);
int cfg_load_numbering(struct ycfg *y, yaml_node_t *n, struct route_numplan *np);
int cfg_load_spans(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg);
int cfg_load_users(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg);
/* The user (among the first nusers) whose DIDs include did, or NULL. */
const char *cfg_did_owner(const struct tandem_config *cfg, unsigned nusers, const char *did);
void cfg_free_users(struct tandem_config *cfg);
int cfg_load_trunks(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg);
void cfg_free_trunks(struct tandem_config *cfg);
int cfg_load_registrar(struct ycfg *y, yaml_node_t *n, struct cfg_registrar *r);
/* After users: inbound user targets must name a configured user. */
int cfg_load_routes(struct ycfg *y, yaml_node_t *n, struct tandem_config *cfg);
void cfg_free_routes(struct tandem_config *cfg);
int cfg_load_causes(struct ycfg *y, yaml_node_t *n, struct cfg_causes *c);
/* cfg_ops.c: ctl, metrics, cdr. */
int cfg_load_ctl(struct ycfg *y, yaml_node_t *n, struct cfg_ctl *ctl);
int cfg_load_metrics(struct ycfg *y, yaml_node_t *n, struct cfg_metrics *m);
int cfg_load_cdr(struct ycfg *y, yaml_node_t *n, struct cfg_cdr *cdr);
void cfg_free_ops(struct tandem_config *cfg);
void cfg_media_default(struct cfg_media *m);
int cfg_load_media(struct ycfg *y, yaml_node_t *n, struct cfg_media *m);

#endif
