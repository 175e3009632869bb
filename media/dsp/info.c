/*
 * SIP INFO DTMF bodies: application/dtmf-relay and application/dtmf.
 */
#include <stdio.h>

#include "core/err.h"
#include "media/dsp/dsp.h"

/* "5", "*", or an event number "0".."16" (some phones send Signal=10 for '*'). */
static int signal_value(struct pl v, int *event)
{
	uint32_t n;

	if (v.l == 1 && dsp_event_from_char(v.p[0]) >= 0) {
		*event = dsp_event_from_char(v.p[0]);
		return 0;
	}
	if (pl_u32(v, &n) == 0 && n <= DSP_EV_FLASH) {
		*event = (int)n;
		return 0;
	}
	return EBADMSG;
}

static struct pl next_line(struct pl *rest)
{
	const char *nl = pl_chr(*rest, '\n');
	struct pl line;

	if (!nl) {
		line = *rest;
		*rest = pl_make(rest->p + rest->l, 0);
	} else {
		line = pl_make(rest->p, (size_t)(nl - rest->p));
		*rest = pl_make(nl + 1, rest->l - line.l - 1);
	}
	return pl_trim(line);
}

int dtmf_info_relay_parse(struct pl body, int *event, uint32_t *duration_ms)
{
	struct pl rest = body;
	int ev = -1;
	uint32_t dur = 0;
	bool have_dur = false;

	if (!body.p)
		return EBADMSG;
	while (rest.l) {
		struct pl line = next_line(&rest);
		const char *eq;

		if (!line.l)
			continue;
		eq = pl_chr(line, '=');
		if (!eq)
			return EBADMSG;
		size_t klen = (size_t)(eq - line.p);
		struct pl key = pl_trim(pl_make(line.p, klen));
		struct pl val = pl_trim(pl_make(eq + 1, line.l - klen - 1));

		if (pl_caseeq_str(key, "Signal")) {
			if (ev >= 0 || signal_value(val, &ev))
				return EBADMSG;
		} else if (pl_caseeq_str(key, "Duration")) {
			if (have_dur || pl_u32(val, &dur) || dur > DTMF_INFO_MAX_MS)
				return EBADMSG;
			have_dur = true;
		}
	}
	if (ev < 0)
		return EBADMSG;
	*event = ev;
	*duration_ms = dur;
	return 0;
}

int dtmf_info_dtmf_parse(struct pl body, int *event)
{
	struct pl v = pl_trim(body);
	int ev;

	if (!v.p || v.l != 1)
		return EBADMSG;
	ev = dsp_event_from_char(v.p[0]);
	if (ev < 0)
		return EBADMSG;
	*event = ev;
	return 0;
}

static int finish(int r, size_t size, size_t *len)
{
	if (r < 0 || (size_t)r >= size)
		return ENOSPC;
	*len = (size_t)r;
	return 0;
}

int dtmf_info_relay_build(char *buf, size_t size, size_t *len, int event, uint32_t duration_ms)
{
	int c = dsp_event_to_char(event);

	if (!c || duration_ms > DTMF_INFO_MAX_MS)
		return EINVAL;
	return finish(snprintf(buf, size, "Signal=%c\r\nDuration=%u\r\n", c, duration_ms), size,
	              len);
}

int dtmf_info_dtmf_build(char *buf, size_t size, size_t *len, int event)
{
	int c = dsp_event_to_char(event);

	if (!c)
		return EINVAL;
	return finish(snprintf(buf, size, "%c", c), size, len);
}
