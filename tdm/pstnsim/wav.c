/*
 * WAV files for pstnsim: recording what a call hears and loading what it
 * plays, 16-bit linear PCM, 8 kHz, mono. Why it looks like this:
 * - A recording is opened, its stdio buffer allocated and its header written
 *   when the command comes; the tick only converts a block to little-endian
 *   and hands it to fwrite (a write(2) every few hundred milliseconds). The
 *   sizes in the header are patched when it ends.
 * - A file to play is read whole at the command (bounded by PSIM_PLAY_MAX_S),
 *   so the tick only copies samples.
 * - Only the one format: anything else is refused (EINVAL) rather than
 *   converted, so a test knows exactly what went into the call.
 */
#include "tdm/pstnsim/pstnsim.h"
#include "core/err.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAV_RATE   8000
#define WAV_HDR    44
#define REC_BUF    (64 * 1024)
#define MAX_CHUNKS 32

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* The canonical 44-byte header for n samples. */
static void wav_header(uint8_t *h, uint32_t n)
{
	memcpy(h, "RIFF", 4);
	put32(h + 4, 36 + n * 2);
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 16);
	put16(h + 20, 1); /* PCM */
	put16(h + 22, 1); /* mono */
	put32(h + 24, WAV_RATE);
	put32(h + 28, WAV_RATE * 2);
	put16(h + 32, 2);
	put16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	put32(h + 40, n * 2);
}

int psim_rec_open(struct psim_rec *r, const char *path, uint32_t max_samples)
{
	uint8_t h[WAV_HDR];
	int err = 0;

	if (!r || !path || path[0] != '/' || strlen(path) >= sizeof(r->path) || !max_samples ||
	    max_samples > PSIM_REC_MAX_S * WAV_RATE)
		return EINVAL;
	if (r->f)
		return EBUSY;
	r->buf = mem_alloc(REC_BUF, NULL);
	if (!r->buf)
		return ENOMEM;
	r->f = fopen(path, "wbe");
	if (!r->f) {
		err = errno;
		goto out;
	}
	setvbuf(r->f, r->buf, _IOFBF, REC_BUF);
	wav_header(h, 0);
	if (fwrite(h, sizeof(h), 1, r->f) != 1)
		err = errno ? errno : EIO;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->n = 0;
	r->max = max_samples;
	r->err = 0;
out:
	if (err) {
		if (r->f)
			fclose(r->f);
		r->f = NULL;
		r->buf = mem_deref(r->buf);
	}
	return err;
}

bool psim_rec_write(struct psim_rec *r, const int16_t *x, size_t n)
{
	uint8_t b[SPAN_BLOCK * 2];

	if (!r->f)
		return false;
	while (n && !r->err && r->n < r->max) {
		size_t k = n < SPAN_BLOCK ? n : SPAN_BLOCK;

		if (k > r->max - r->n)
			k = r->max - r->n;
		for (size_t i = 0; i < k; i++)
			put16(&b[2 * i], (uint16_t)(x ? x[i] : 0));
		if (fwrite(b, 2, k, r->f) != k)
			r->err = errno ? errno : EIO;
		else
			r->n += (uint32_t)k;
		if (x)
			x += k;
		n -= k;
	}
	return r->err || r->n >= r->max;
}

int psim_rec_close(struct psim_rec *r)
{
	uint8_t h[WAV_HDR];
	int err;

	if (!r->f)
		return 0;
	wav_header(h, r->n);
	if (!r->err && (fseek(r->f, 0, SEEK_SET) || fwrite(h, sizeof(h), 1, r->f) != 1))
		r->err = errno ? errno : EIO;
	if (fclose(r->f) && !r->err)
		r->err = errno ? errno : EIO;
	r->f = NULL;
	r->buf = mem_deref(r->buf);
	err = r->err;
	return err;
}

/* The "fmt " chunk: only PCM, mono, 8 kHz, 16 bits. */
static int check_fmt(FILE *f, uint32_t size)
{
	uint8_t b[16];

	if (size < sizeof(b) || fread(b, sizeof(b), 1, f) != 1)
		return EINVAL;
	if (get16(b) != 1 || get16(b + 2) != 1 || get32(b + 4) != WAV_RATE || get16(b + 14) != 16)
		return EINVAL;
	return fseek(f, (long)(size - sizeof(b) + (size & 1)), SEEK_CUR) ? EINVAL : 0;
}

static int read_data(FILE *f, uint32_t size, size_t max, int16_t **sp, size_t *np)
{
	size_t n = size / 2;
	uint8_t *raw;
	int16_t *s;

	if (!n)
		return EINVAL;
	if (n > max)
		return EFBIG;
	s = mem_alloc(n * sizeof(*s), NULL);
	if (!s)
		return ENOMEM;
	raw = (uint8_t *)s; /* in place: sample i (2 bytes) is read back as sample i */
	if (fread(raw, 2, n, f) != n) {
		mem_deref(s);
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		s[i] = (int16_t)get16(raw + 2 * i);
	*sp = s;
	*np = n;
	return 0;
}

int psim_wav_load(int16_t **sp, size_t *np, const char *path, size_t max_samples)
{
	uint8_t h[12];
	bool fmt = false;
	int err = EINVAL;
	FILE *f;

	if (!sp || !np || !path)
		return EINVAL;
	f = fopen(path, "rbe");
	if (!f)
		return errno;
	if (fread(h, sizeof(h), 1, f) != 1 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
		goto out;
	for (int i = 0; i < MAX_CHUNKS; i++) {
		uint8_t c[8];
		uint32_t size;

		if (fread(c, sizeof(c), 1, f) != 1)
			break;
		size = get32(c + 4);
		if (!memcmp(c, "fmt ", 4)) {
			if ((err = check_fmt(f, size)))
				break;
			fmt = true;
		} else if (!memcmp(c, "data", 4)) {
			err = fmt ? read_data(f, size, max_samples, sp, np) : EINVAL;
			break;
		} else if (fseek(f, (long)size + (size & 1), SEEK_CUR)) {
			break;
		}
		err = EINVAL;
	}
out:
	fclose(f);
	return err;
}
