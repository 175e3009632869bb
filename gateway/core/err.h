/*
 * The one error convention of Tandem.
 *
 * A function that can fail returns int: 0 on success, or a positive errno
 * value saying why (ENOMEM, EINVAL, EBADMSG for malformed protocol input,
 * EAGAIN/ENODATA for "incomplete, need more bytes", ETIMEDOUT, ...). Outputs
 * are written only on success. Cleanup goes through one `out:` label.
 * Parsers with a byte count to return use ssize_t: >= 0 consumed, -1 malformed,
 * -2 incomplete (the picohttpparser convention), and say so in their header.
 */
#ifndef TANDEM_CORE_ERR_H
#define TANDEM_CORE_ERR_H

#include <errno.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#else
#define likely(x) (x)
#define unlikely(x) (x)
#endif

#endif
