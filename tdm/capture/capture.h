/*
 * capture: a D-channel to a pcap file, link type 177 (LINUX_LAPD), which
 * tshark/Wireshark decode as LAPD with Q.931 on SAPI 0.
 *
 * Each record is the 16-byte Linux "cooked" LAPD header (direction; whether we
 * are the network side, so C/R bits decode right) and the Q.921 frame without
 * its 2 FCS bytes. Frames are written and flushed one by one (a debugging aid
 * on the signalling thread: small, rare writes).
 *
 * Ownership: a mem object; dereferencing it closes the file. One thread.
 */
#ifndef TANDEM_TDM_CAPTURE_H
#define TANDEM_TDM_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAPDCAP_LINKTYPE 177

struct lapdcap;

/* Creates (truncates) path. we_network: this end is the network side. */
int lapdcap_open(struct lapdcap **cp, const char *path, bool we_network);
/* One frame as the D-channel carries it (2 FCS bytes at the end). */
int lapdcap_frame(struct lapdcap *c, bool outgoing, const uint8_t *frame, size_t len);
unsigned lapdcap_count(const struct lapdcap *c);

#endif
