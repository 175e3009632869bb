#include "provisioning/ycfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_common(struct ycfg *y, yaml_parser_t *p)
{
	int err = 0;

	if (!yaml_parser_load(p, &y->doc)) {
		snprintf(y->err, sizeof(y->err), "%s:%zu:%zu: %s%s%s", y->file,
			 p->problem_mark.line + 1, p->problem_mark.column + 1,
			 p->problem ? p->problem : "YAML syntax error",
			 p->context ? " " : "", p->context ? p->context : "");
		y->failed = err = EINVAL;
	} else {
		y->loaded = true;
		if (!yaml_document_get_root_node(&y->doc)) {
			snprintf(y->err, sizeof(y->err), "%s:1:1: empty configuration", y->file);
			y->failed = err = EINVAL;
		}
	}
	yaml_parser_delete(p);
	return err;
}

int ycfg_open(struct ycfg *y, const char *path)
{
	yaml_parser_t p;
	FILE *f;
	int err;

	memset(y, 0, sizeof(*y));
	y->file = path;
	f = fopen(path, "rb");
	if (!f) {
		snprintf(y->err, sizeof(y->err), "%s: %s", path, strerror(errno));
		return y->failed = errno;
	}
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		return y->failed = ENOMEM;
	}
	yaml_parser_set_input_file(&p, f);
	err = open_common(y, &p);
	fclose(f);
	return err;
}

int ycfg_open_string(struct ycfg *y, const char *name, const char *text, size_t len)
{
	yaml_parser_t p;

	memset(y, 0, sizeof(*y));
	y->file = name;
	if (!yaml_parser_initialize(&p))
		return y->failed = ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	return open_common(y, &p);
}

void ycfg_close(struct ycfg *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

yaml_node_t *ycfg_root(struct ycfg *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

int ycfg_error(struct ycfg *y, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (y->failed)
		return EINVAL;
	y->failed = EINVAL;
	n = snprintf(y->err, sizeof(y->err), "%s:%zu:%zu: ", y->file,
		     node ? node->start_mark.line + 1 : 1, node ? node->start_mark.column + 1 : 1);
	if (n < 0 || (size_t)n >= sizeof(y->err))
		return EINVAL;
	va_start(ap, fmt);
	vsnprintf(y->err + n, sizeof(y->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *ycfg_get(struct ycfg *y, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(&y->doc, p->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(&y->doc, p->value);
	}
	return NULL;
}

int ycfg_map_check(struct ycfg *y, yaml_node_t *map, const char *const *keys)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return ycfg_error(y, map, "expected a mapping (key: value)");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(&y->doc, p->key);
		const char *k = scalar(kn);
		bool ok = false;

		if (!k)
			return ycfg_error(y, kn, "keys must be plain strings");
		for (const char *const *s = keys; *s && !ok; s++)
			ok = !strcmp(*s, k);
		if (!ok)
			return ycfg_error(y, kn, "unknown key '%s'", k);
		/* libyaml keeps duplicate keys; a config with two wins nothing. */
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
			const char *k2 = scalar(yaml_document_get_node(&y->doc, q->key));
			if (k2 && !strcmp(k2, k))
				return ycfg_error(y, kn, "duplicate key '%s'", k);
		}
	}
	return 0;
}

int ycfg_str(struct ycfg *y, yaml_node_t *n, const char **out)
{
	const char *s = scalar(n);

	if (!s)
		return ycfg_error(y, n, "expected a string");
	*out = s;
	return 0;
}

int ycfg_u32(struct ycfg *y, yaml_node_t *n, uint32_t min, uint32_t max, uint32_t *out)
{
	const char *s = scalar(n);
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return ycfg_error(y, n, "expected a whole number from %u to %u", min, max);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return ycfg_error(y, n, "expected a whole number from %u to %u, not '%s'", min,
				  max, s);
	*out = (uint32_t)v;
	return 0;
}

int ycfg_bool(struct ycfg *y, yaml_node_t *n, bool *out)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))) {
		*out = true;
		return 0;
	}
	if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))) {
		*out = false;
		return 0;
	}
	return ycfg_error(y, n, "expected true or false");
}

int ycfg_seq_len(struct ycfg *y, yaml_node_t *seq, size_t *n)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return ycfg_error(y, seq, "expected a list");
	*n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	return 0;
}

yaml_node_t *ycfg_seq_item(struct ycfg *y, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}
