/*
 * Operations sections: ctl (control socket), metrics (Prometheus endpoint),
 * cdr (call detail records). Each part is off when its section (or its one
 * required key) is absent.
 */
#include "provisioning/cfg_int.h"

#include <stdlib.h>
#include <string.h>

/* A non-empty path shorter than max bytes (sun_path: 108 with the NUL). */
static int load_path(struct ycfg *y, yaml_node_t *v, size_t max, char **out)
{
	const char *s;

	if (ycfg_str(y, v, &s))
		return EINVAL;
	if (!*s || strlen(s) >= max)
		return ycfg_error(y, v, "a path of 1 to %zu bytes is needed here", max - 1);
	free(*out);
	*out = strdup(s);
	return *out ? 0 : ENOMEM;
}

int cfg_load_ctl(struct ycfg *y, yaml_node_t *n, struct cfg_ctl *ctl)
{
	static const char *const keys[] = {"socket", NULL};
	yaml_node_t *v;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "socket")) && load_path(y, v, 108, &ctl->socket))
		return EINVAL;
	return 0;
}

int cfg_load_metrics(struct ycfg *y, yaml_node_t *n, struct cfg_metrics *m)
{
	static const char *const keys[] = {"listen", NULL};
	yaml_node_t *v;
	const char *s;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if (!(v = ycfg_get(y, n, "listen")))
		return 0;
	if (ycfg_str(y, v, &s))
		return EINVAL;
	if (sa_decode(&m->listen, pl_make(s, strlen(s)), 0) || !sa_port(&m->listen))
		return ycfg_error(y, v, "metrics.listen must be ADDRESS:PORT, e.g. 127.0.0.1:9469");
	m->enabled = true;
	return 0;
}

int cfg_load_cdr(struct ycfg *y, yaml_node_t *n, struct cfg_cdr *cdr)
{
	static const char *const keys[] = {"path", "sync", NULL};
	yaml_node_t *v;
	const char *s;

	if (ycfg_map_check(y, n, keys))
		return EINVAL;
	if ((v = ycfg_get(y, n, "path")) && load_path(y, v, 4096, &cdr->path))
		return EINVAL;
	if ((v = ycfg_get(y, n, "sync"))) {
		if (ycfg_str(y, v, &s))
			return EINVAL;
		if (strcmp(s, "normal") && strcmp(s, "full"))
			return ycfg_error(y, v, "cdr.sync must be normal or full");
		cdr->sync_full = !strcmp(s, "full");
	}
	return 0;
}

void cfg_free_ops(struct tandem_config *cfg)
{
	free(cfg->ctl.socket);
	free(cfg->cdr.path);
}
