/*
 * Audio helpers of pstnsim and pritest. Why it looks like this:
 * - Tones are phase-continuous across blocks, so a receiver's block is a clean
 *   window of one sine whatever the tick boundaries.
 * - Detection is Goertzel on a short list of known frequencies: the question
 *   is always "is it 1004 Hz, and how loud", never "what frequency is it".
 * - Levels follow spandsp (a full-scale sine is +3.14 dBm0), so a tone made
 *   here and one made by spandsp's tone generator read the same.
 */
#include "tdm/pstnsim/pstnsim.h"
#include "media/codec/codec.h"

#include <math.h>
#include <string.h>

#define DBM0_MAX_SINE 3.14
#define RATE          8000.0
#define MIN_SHARE     0.6
#define MIN_DBM0      -45.0

void psim_tonegen_init(struct psim_tonegen *g, double hz, double dbm0)
{
	memset(g, 0, sizeof(*g));
	if (hz <= 0)
		return;
	g->step = 2.0 * M_PI * hz / RATE;
	g->amp = 32767.0 * pow(10.0, (dbm0 - DBM0_MAX_SINE) / 20.0);
	if (g->amp > 32767.0)
		g->amp = 32767.0;
}

void psim_tonegen_run(struct psim_tonegen *g, int16_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[i] = (int16_t)lrint(g->amp * sin(g->phase));
		g->phase += g->step;
		if (g->phase >= 2.0 * M_PI)
			g->phase -= 2.0 * M_PI;
	}
}

double psim_goertzel(const int16_t *x, size_t n, double hz)
{
	double coeff = 2.0 * cos(2.0 * M_PI * hz / RATE), s1 = 0, s2 = 0, p;

	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + coeff * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
	return n ? 2.0 * sqrt(p > 0 ? p : 0) / (double)n : 0;
}

double psim_tone_share(const int16_t *x, size_t n, double amp)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return e > 0 ? (double)n * amp * amp / 2.0 / e : 0;
}

double psim_amp_dbm0(double amp)
{
	return amp > 0 ? 20.0 * log10(amp / 32767.0) + DBM0_MAX_SINE : -99.0;
}

void psim_decode(enum span_law law, const uint8_t *in, int16_t *out, size_t n)
{
	codec_g711_decode(law == SPAN_ALAW ? CODEC_ALAW : CODEC_ULAW, out, in, n);
}

void psim_encode(enum span_law law, const int16_t *in, uint8_t *out, size_t n)
{
	codec_g711_encode(law == SPAN_ALAW ? CODEC_ALAW : CODEC_ULAW, out, in, n);
}

void psim_tonedet_init(struct psim_tonedet *d, const double *hz, size_t n, unsigned need)
{
	memset(d, 0, sizeof(*d));
	d->n = n < PSIM_MAX_DETECT ? n : PSIM_MAX_DETECT;
	memcpy(d->hz, hz, d->n * sizeof(*hz));
	d->need = need ? need : 1;
	d->cur = -1;
}

/* The listed frequency carrying most of the block, or -1. */
static int strongest(const struct psim_tonedet *d, const int16_t *x, size_t n, double *amp)
{
	int best = -1;
	double bamp = 0;

	for (size_t i = 0; i < d->n; i++) {
		double a = psim_goertzel(x, n, d->hz[i]);

		if (a > bamp) {
			bamp = a;
			best = (int)i;
		}
	}
	if (best < 0 || psim_tone_share(x, n, bamp) < MIN_SHARE || psim_amp_dbm0(bamp) < MIN_DBM0)
		return -1;
	*amp = bamp;
	return best;
}

bool psim_tonedet_block(struct psim_tonedet *d, const int16_t *x, size_t n, double *hz,
                        double *dbm0)
{
	double amp = 0;
	int k = strongest(d, x, n, &amp);

	if (k >= 0 && k == d->cur) {
		d->gone = 0;
		if (d->reported)
			return false;
		d->run++;
		d->level_sum += psim_amp_dbm0(amp);
		if (d->run < d->need)
			return false;
		d->reported = true;
		*hz = d->hz[k];
		*dbm0 = d->level_sum / d->run;
		return true;
	}
	if (d->reported && ++d->gone < d->need)
		return false;
	d->cur = k;
	d->reported = false;
	d->gone = 0;
	d->run = k >= 0 ? 1 : 0;
	d->level_sum = k >= 0 ? psim_amp_dbm0(amp) : 0;
	if (k >= 0 && d->run >= d->need) {
		d->reported = true;
		*hz = d->hz[k];
		*dbm0 = d->level_sum;
		return true;
	}
	return false;
}
