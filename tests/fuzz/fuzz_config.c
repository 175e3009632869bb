/*
 * libFuzzer target for the YAML configuration loaders: tandemd's
 * (provisioning/config: every section, then the route table and cause map
 * built from it) and pstnsim's (tdm/pstnsim/conf.c), on arbitrary text.
 * Properties checked (abort on violation): a load either succeeds or fails
 * with a message of the form "NAME:LINE:COLUMN: ..." (the promise every
 * config error makes); a loaded config builds its route table and cause map
 * without error, since the loader validated what they need.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "provisioning/config.h"
#include "tdm/pstnsim/pstnsim.h"

static void check_position(const char *err)
{
	unsigned line, col;

	if (strncmp(err, "f.yaml:", 7) || sscanf(err + 7, "%u:%u:", &line, &col) != 2) {
		fprintf(stderr, "error without a position: %s\n", err);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	struct tandem_config *cfg = NULL;
	struct psim_conf *pc = NULL;
	struct route_table *rt = NULL;
	struct cause_map *cm = NULL;
	char err[512], *text;

	if (!once++)
		log_init("fuzz", false, (enum log_level)(LOG_LVL_ERR + 1)); /* quiet */
	if (size > 16384)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) != size) { /* libyaml reads up to the first NUL */
		free(text);
		return 0;
	}
	err[0] = '\0';
	if (cfg_load_string(&cfg, "f.yaml", text, err, sizeof(err))) {
		if (strcmp(err, "out of memory loading configuration"))
			check_position(err);
	} else {
		if (cfg_route_table(cfg, &rt) || cfg_cause_map(cfg, &cm))
			abort();
		mem_deref(rt);
		mem_deref(cm);
		cfg_free(cfg);
	}
	err[0] = '\0';
	int rc = psim_conf_load_string(&pc, "f.yaml", text, err, sizeof(err));

	if (rc == EINVAL)
		check_position(err);
	else if (!rc)
		mem_deref(pc);
	free(text);
	return 0;
}
