/*
 * ycfg: typed reading of a libyaml document with file:line:column errors.
 *
 * The configuration loader walks the YAML tree with these helpers; each one
 * either fills its output or records the first error as
 * "FILE:LINE:COLUMN: message" (1-based, as editors count) and returns EINVAL.
 * Unknown keys are errors too (ycfg_map_check), so a typo never passes silently.
 * Not thread-safe; a struct ycfg lives for one load.
 */
#ifndef TANDEM_PROVISIONING_YCFG_H
#define TANDEM_PROVISIONING_YCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

struct ycfg {
	const char *file;
	yaml_document_t doc;
	bool loaded;
	char err[512];
	int failed; /* errno of the first error, 0 if none */
};

/* Parses the file into a document. Syntax errors carry their position. */
int ycfg_open(struct ycfg *y, const char *path);
/* Same, from a string (tests); name is used in messages. */
int ycfg_open_string(struct ycfg *y, const char *name, const char *text, size_t len);
void ycfg_close(struct ycfg *y);

yaml_node_t *ycfg_root(struct ycfg *y);
/* Records an error at node (first error wins). Returns EINVAL. */
int ycfg_error(struct ycfg *y, const yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Value of key in a mapping node, or NULL (not an error). */
yaml_node_t *ycfg_get(struct ycfg *y, yaml_node_t *map, const char *key);
/* Fails if map is not a mapping or has a key not in the NULL-terminated list. */
int ycfg_map_check(struct ycfg *y, yaml_node_t *map, const char *const *keys);
/* Scalar readers: they fail on a wrong type or range. */
int ycfg_str(struct ycfg *y, yaml_node_t *n, const char **out);
int ycfg_u32(struct ycfg *y, yaml_node_t *n, uint32_t min, uint32_t max, uint32_t *out);
int ycfg_bool(struct ycfg *y, yaml_node_t *n, bool *out);
/* Sequence access: count (fails if not a sequence) and item i. */
int ycfg_seq_len(struct ycfg *y, yaml_node_t *seq, size_t *n);
yaml_node_t *ycfg_seq_item(struct ycfg *y, yaml_node_t *seq, size_t i);

#endif
