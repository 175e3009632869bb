/*
 * Internal to tdm/pstnsim: the simulator's state, shared by sim.c (spans,
 * PRI, calls and their behaviours) and callaudio.c (what a call hears and
 * says each tick, the IVR, recording and playing files).
 */
#ifndef TANDEM_TDM_PSTNSIM_SIM_INT_H
#define TANDEM_TDM_PSTNSIM_SIM_INT_H

#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>

#include "core/loop.h"
#include "tdm/pstnsim/pstnsim.h"

#define TONE_BLOCKS 5 /* 100 ms of a tone before it is reported */

struct psim_span {
	struct psim *p;
	struct span *sp;
	struct tpri *tp;
	struct psim_span_conf conf;
	struct psim_call *chan[SPAN_MAX_TS + 1];
};

enum cmode {
	M_SILENT,
	M_RINGBACK,
	M_TONE,
	M_ECHO,
	M_IVR,
};

struct psim_call {
	struct psim_call *next;
	struct psim *p;
	struct psim_span *ps;
	struct tpri_call *tc; /* borrowed; NULL once its HANGUP came */
	unsigned id;
	int ts;
	bool outgoing, answered;
	const struct psim_sub *sub;
	char from[PSIM_NUM_MAX], to[PSIM_NUM_MAX];
	char ctx[48];
	struct tmr tmr, hup;
	struct tmr ivr; /* IVR: reads the digits back once the caller pauses */
	char ivr_digits[32];
	unsigned ivr_n;
	enum cmode mode;
	struct psim_tonegen tone, rb[2];
	double hz, dbm0; /* placed calls: what to play once answered */
	uint32_t ticks;
	int16_t echo[SPAN_BLOCK];
	dtmf_rx_state_t rx;
	dtmf_tx_state_t tx;
	struct psim_tonedet td;
	struct psim_rec rec;
	int16_t *play; /* mem; NULL: nothing to play */
	size_t play_n, play_pos;
};

struct psim {
	struct loop *l;
	struct psim_conf *conf;
	psim_ev_h *h;
	void *arg;
	struct psim_span *spans[PSIM_MAX_SPANS];
	size_t nspans;
	struct psim_call *calls;
	unsigned ncalls;
	unsigned next_id;
};

/* sim.c */
void psim_call_emit(struct psim_call *c, enum psim_ev_type type, struct psim_ev *ev);
struct psim_call *psim_call_find(const struct psim *p, unsigned id);

/* callaudio.c */
/* spandsp's dtmf_rx callback: digits heard (reported; the IVR reads them back). */
void psim_call_digits(void *arg, const char *digits, int len);
/* Ends a recording, with its event. */
void psim_call_rec_done(struct psim_call *c);
/* The span's 20 ms tick: every call's audio. */
void psim_tick_handler(struct span *sp, uint32_t tick, void *arg);

#endif
