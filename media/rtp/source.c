/* Receive statistics for one source: RFC 3550 A.1 (sequence), A.3 (loss), A.8 (jitter). */
#include "media/rtp/rtp.h"

#include <string.h>

#define SEQ_MOD        (1u << 16)
#define MAX_DROPOUT    3000u
#define MAX_MISORDER   100u
#define MIN_SEQUENTIAL 2u

static void init_seq(struct rtp_source *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = SEQ_MOD + 1; /* so seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
}

void rtp_source_init(struct rtp_source *s, uint32_t ssrc, uint16_t seq)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	s->active = true;
	init_seq(s, seq);
	s->max_seq = (uint16_t)(seq - 1);
	s->probation = MIN_SEQUENTIAL;
}

enum rtp_seq_res rtp_source_update_seq(struct rtp_source *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);

	if (s->probation) {
		/* A source is valid once MIN_SEQUENTIAL packets came in sequence. */
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				return RTP_SEQ_OK;
			}
		} else {
			s->probation = MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return RTP_SEQ_PROBATION;
	}
	if (udelta < MAX_DROPOUT) {
		/* in order, with a permissible gap */
		if (seq < s->max_seq)
			s->cycles += SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= SEQ_MOD - MAX_MISORDER) {
		/* A very large jump: restart only if the next packet confirms it. */
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1) & (SEQ_MOD - 1);
			return RTP_SEQ_BAD;
		}
		init_seq(s, seq);
		s->received++;
		return RTP_SEQ_RESTART;
	}
	/* else duplicate or reordered: counted, as the RFC does */
	s->received++;
	return RTP_SEQ_OK;
}

void rtp_source_update_jitter(struct rtp_source *s, uint32_t rtp_ts, uint32_t arrival)
{
	uint32_t transit = arrival - rtp_ts;
	int32_t d;

	if (!s->have_transit) {
		s->transit = transit;
		s->have_transit = true;
		return;
	}
	d = (int32_t)(transit - s->transit);
	s->transit = transit;
	if (d < 0)
		d = -d;
	/* J += (|D| - J) / 16, in the integer form of A.8 (jitter16 = 16 J). */
	s->jitter16 += (uint32_t)d - ((s->jitter16 + 8) >> 4);
}

uint32_t rtp_source_jitter(const struct rtp_source *s)
{
	/* rounded: A.8's integer recursion settles up to half a unit low */
	return (s->jitter16 + 8) >> 4;
}

uint32_t rtp_source_ext_max(const struct rtp_source *s)
{
	return s->cycles + s->max_seq;
}

int32_t rtp_source_lost(const struct rtp_source *s)
{
	uint32_t expected = rtp_source_ext_max(s) - s->base_seq + 1;
	int64_t lost = (int64_t)expected - s->received;

	if (!s->received)
		return 0; /* no source yet: nothing was expected */

	/* clamped to the 24-bit signed field of a report block */
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	else if (lost < -0x800000)
		lost = -0x800000;
	return (int32_t)lost;
}

void rtp_source_report(struct rtp_source *s, struct rtcp_rb *rb)
{
	uint32_t expected = rtp_source_ext_max(s) - s->base_seq + 1;
	uint32_t exp_int = expected - s->expected_prior;
	uint32_t rec_int = s->received - s->received_prior;
	int64_t lost_int = (int64_t)exp_int - rec_int;

	s->expected_prior = expected;
	s->received_prior = s->received;
	memset(rb, 0, sizeof(*rb));
	rb->ssrc = s->ssrc;
	if (exp_int && lost_int > 0) {
		int64_t f = (lost_int << 8) / exp_int;
		rb->fraction = (uint8_t)(f > 255 ? 255 : f); /* all lost would be 256 */
	}
	rb->lost = rtp_source_lost(s);
	rb->ext_max = rtp_source_ext_max(s);
	rb->jitter = rtp_source_jitter(s);
}
