/*
 * dahdi: a span on DAHDI channels, opened as chan_dahdi opens them.
 *
 * Every channel is /dev/dahdi/channel with DAHDI_SPECIFY (global channel
 * number = span_conf.first_chan + timeslot - 1). The D-channel must be in
 * HDLCFCS mode (dahdi_cfg's dchan=), whose frames carry the two FCS bytes that
 * libpri expects; its buffers use the immediate policy. B-channels get
 * DAHDI_SET_BLOCKSIZE 160. Events (alarms) arrive as POLLPRI or as a read that
 * fails with ELAST, and are fetched with DAHDI_GETEVENT; the alarm set is read
 * with DAHDI_GET_PARAMS (chan_alarms). The span's tick is the arrival of a block
 * on its first B-channel: then every B-channel is read and written once, as
 * the card's interrupt fills and drains all of them together. The echo
 * canceller is DAHDI's, through DAHDI_ECHOCANCEL_PARAMS.
 *
 * The system calls go through struct dahdi_sys so that a test double can stand
 * in for the kernel; NULL means the real ones.
 *
 * Threading: as struct span: the D-channel (and alarms, from its events) on
 * the span's loop, the B-channels and the tick on the B loop, each side behind
 * its own private epoll set. The channel fds are fixed from open to close, so
 * span_ec_set() (an ioctl on a B-channel) is safe from either thread.
 */
#ifndef TANDEM_TDM_DAHDI_H
#define TANDEM_TDM_DAHDI_H

#include <sys/types.h>

#include "tdm/span/span.h"

#define DAHDI_CHANNEL_DEV "/dev/dahdi/channel"

struct dahdi_sys {
	int (*open)(const char *path, int flags);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	ssize_t (*read)(int fd, void *buf, size_t n);
	ssize_t (*write)(int fd, const void *buf, size_t n);
};

extern const struct span_ops span_dahdi_ops;

/* conf.addr, when set, replaces DAHDI_CHANNEL_DEV. */
int span_dahdi_alloc(struct span **spp, const struct span_conf *conf, struct loop *loop,
		     const struct dahdi_sys *sys);

#endif
