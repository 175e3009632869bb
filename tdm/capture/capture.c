/*
 * The pcap writer. The LINUX_LAPD pseudo-header is what Wireshark's wiretap
 * reads for link type 177: packet type (0 incoming, 4 outgoing), ARPHRD_LAPD,
 * address length 1, address byte 0 set when we are the network, ETH_P_LAPD;
 * all big-endian, as a Linux cooked capture.
 */
#include "tdm/capture/capture.h"
#include "core/err.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#define SLL_HOST     0
#define SLL_OUTGOING 4
#define ARPHRD_LAPD  8445
#define ETH_P_LAPD   0x0030
#define SLL_LEN	     16
#define FCS_LEN	     2

struct lapdcap {
	FILE *f;
	bool we_network;
	unsigned count;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void cap_destroy(void *data)
{
	struct lapdcap *c = data;

	if (c->f)
		fclose(c->f);
}

int lapdcap_open(struct lapdcap **cp, const char *path, bool we_network)
{
	/* pcap file header, native byte order as the magic number says */
	const struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} hdr = { 0xa1b2c3d4u, 2, 4, 0, 0, 65535, LAPDCAP_LINKTYPE };
	struct lapdcap *c;
	int err = 0;

	if (!cp || !path)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), cap_destroy);
	if (!c)
		return ENOMEM;
	c->we_network = we_network;
	c->f = fopen(path, "wbe");
	if (!c->f) {
		err = errno;
		goto out;
	}
	if (fwrite(&hdr, sizeof(hdr), 1, c->f) != 1 || fflush(c->f)) {
		err = errno ? errno : EIO;
		goto out;
	}
	*cp = c;
	return 0;
out:
	mem_deref(c);
	return err;
}

int lapdcap_frame(struct lapdcap *c, bool outgoing, const uint8_t *frame, size_t len)
{
	struct {
		uint32_t sec, usec, caplen, len;
	} rec;
	uint8_t sll[SLL_LEN] = { 0 };
	struct timeval tv;

	if (!c || !frame || len <= FCS_LEN)
		return EINVAL;
	len -= FCS_LEN; /* a capture carries the frame without its FCS */
	gettimeofday(&tv, NULL);
	rec.sec = (uint32_t)tv.tv_sec;
	rec.usec = (uint32_t)tv.tv_usec;
	rec.caplen = rec.len = (uint32_t)(SLL_LEN + len);
	put16(sll, outgoing ? SLL_OUTGOING : SLL_HOST);
	put16(sll + 2, ARPHRD_LAPD);
	put16(sll + 4, 1);
	sll[6] = c->we_network ? 1 : 0;
	put16(sll + 14, ETH_P_LAPD);
	if (fwrite(&rec, sizeof(rec), 1, c->f) != 1 || fwrite(sll, sizeof(sll), 1, c->f) != 1 ||
	    fwrite(frame, 1, len, c->f) != len || fflush(c->f))
		return errno ? errno : EIO;
	c->count++;
	return 0;
}

unsigned lapdcap_count(const struct lapdcap *c)
{
	return c ? c->count : 0;
}
