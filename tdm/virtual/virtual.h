/*
 * virtual: a span without a card, over Unix SOCK_SEQPACKET sockets.
 *
 * Two connections make the "cable": one carries D-channel frames verbatim (one
 * message per frame, FCS bytes included, boundaries kept by the socket); the
 * other carries the B-channels as a real E1/T1 multiplexes them: ONE message
 * per 20 ms tick holding every timeslot of the span (struct virt_bhdr, then
 * 31 x 160 bytes for E1 or 24 x 160 for T1, timeslot ts at (ts-1)*160; the
 * D-channel's slot carries idle fill). The clock master sends a tick from its
 * timerfd; the slave ticks on each message received and answers it with its
 * own blocks under the same sequence number.
 *
 * The address (span_conf.addr) is a filesystem path or "@name" for an abstract
 * socket. The listening end accepts both connections; the connecting end opens
 * them, sends a struct virt_hello on each, and retries every VIRT_RETRY_MS while
 * the peer is away. Losing either connection drops both and raises the red
 * alarm; reconnecting clears it. span_virtual_pair() joins two in-process spans
 * over socketpairs instead (no reconnect then).
 *
 * Threading: as struct span: the D socket, the listening/connecting and the
 * alarms on the span's loop; the B socket and the master's timerfd on the B
 * loop (behind one private epoll set, so span_bchan_attach() moves them with
 * one registration). A B socket found by the D side (connect, accept,
 * reconnect) reaches the B side through an atomic slot and an eventfd; the B
 * side closes the sockets it took. span_virtual_stats(): on the span's loop.
 */
#ifndef TANDEM_TDM_VIRTUAL_H
#define TANDEM_TDM_VIRTUAL_H

#include <stdint.h>

#include "tdm/span/span.h"

#define VIRT_RETRY_MS	  100
#define VIRT_MAGIC	  0x564d4454u /* "TDMV" */
#define VIRT_VERSION	  1

/* First message on each connection, connecting end to listening end. */
struct virt_hello {
	uint32_t magic;
	uint8_t version;
	uint8_t kind; /* 'D' or 'B' */
	uint8_t type; /* enum span_type: both ends must agree */
	uint8_t pad;
	uint32_t span;
};

/* Header of a B-channel tick message (host byte order: both ends share a host). */
struct virt_bhdr {
	uint32_t seq;
	uint16_t nslots;
	uint16_t block;
};

extern const struct span_ops span_virtual_ops;

/* A span on the virtual backend (span_open() starts it). */
int span_virtual_alloc(struct span **spp, const struct span_conf *conf, struct loop *loop);
/* Before span_open(): wires a and b to each other over socketpairs. */
int span_virtual_pair(struct span *a, struct span *b);

/* Counters, for tests and tandemctl. */
struct virt_stats {
	uint32_t ticks_tx;   /* B messages sent */
	uint32_t ticks_rx;   /* B messages received */
	uint32_t slips;	     /* master ticks lost to a late loop, or bad B messages */
	uint32_t dframes_tx;
	uint32_t dframes_rx;
	uint32_t connects;   /* times the cable came up */
};
void span_virtual_stats(const struct span *sp, struct virt_stats *st);

#endif
