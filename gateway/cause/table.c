/*
 * The built-in tables. The rfc column is RFC 3398 as written (§7.2.4.1 and
 * §8.2.6.1); dflt is what Tandem uses unless the configuration says
 * otherwise. Where they differ, or the RFC has no value, `why` says so.
 */
#include "cause/cause.h"
#include "core/err.h"

/* ISUP/Q.850 cause -> SIP status (RFC 3398 §7.2.4.1). */
static const struct cause_row to_sip[] = {
	{ 1, 404, 404, 0, NULL },
	{ 2, 404, 404, 0, NULL },
	{ 3, 404, 404, 0, NULL },
	{ 16, 0, 480, 0, "RFC: BYE/CANCEL; an unanswered INVITE still needs a final status" },
	{ 17, 486, 486, 0, NULL },
	{ 18, 408, 408, 0, NULL },
	{ 19, 480, 480, 0, NULL },
	{ 20, 480, 480, 0, NULL },
	{ 21, 403, 603, 0, "RFC (+) note: 6xx when the user rejected; PRI rejects are the user's" },
	{ 22, 410, 410, 0, NULL }, /* without diagnostic; 301 needs the new number */
	{ 23, 410, 410, 0, NULL },
	{ 26, 404, 404, 0, NULL },
	{ 27, 502, 502, 0, NULL },
	{ 28, 484, 484, 0, NULL },
	{ 29, 501, 501, 0, NULL },
	{ 31, 480, 480, 0, NULL },
	{ 34, 503, 503, 0, NULL },
	{ 38, 503, 503, 0, NULL },
	{ 41, 503, 503, 0, NULL },
	{ 42, 503, 503, 0, NULL },
	{ 47, 503, 503, 0, NULL },
	{ 54, 0, 403, 0, "practice: incoming calls barred, like 55" },
	{ 55, 403, 403, 0, NULL },
	{ 57, 403, 403, 0, NULL },
	{ 58, 503, 503, 0, NULL },
	{ 63, 0, 503, 0, "practice: class default of 48..63 (service not available)" },
	{ 65, 488, 488, 0, NULL },
	{ 70, 488, 488, 0, NULL },
	{ 79, 501, 501, 0, NULL },
	{ 87, 403, 403, 0, NULL },
	{ 88, 503, 488, 0, "practice: the destination cannot take this bearer/media" },
	{ 95, 0, 500, 0, "practice: class default of 80..95 (invalid message)" },
	{ 102, 504, 504, 0, NULL },
	{ 111, 500, 500, 0, NULL },
	{ 127, 500, 500, 0, NULL },
};

/* SIP status -> ISUP/Q.850 cause (RFC 3398 §8.2.6.1). */
static const struct cause_row from_sip[] = {
	{ 300, 0, 23, 0, "practice: a redirect the gateway did not follow" },
	{ 400, 41, 41, 0, NULL },
	{ 401, 21, 21, 0, NULL },
	{ 402, 21, 21, 0, NULL },
	{ 403, 21, 21, 0, NULL },
	{ 404, 1, 1, 0, NULL },
	{ 405, 63, 63, 0, NULL },
	{ 406, 79, 79, 0, NULL },
	{ 407, 21, 21, 0, NULL },
	{ 408, 102, 102, 0, NULL },
	{ 410, 22, 22, 0, NULL },
	{ 413, 127, 127, 0, NULL },
	{ 414, 127, 127, 0, NULL },
	{ 415, 79, 79, 0, NULL },
	{ 416, 127, 127, 0, NULL },
	{ 420, 127, 127, 0, NULL },
	{ 421, 127, 127, 0, NULL },
	{ 423, 127, 127, 0, NULL },
	{ 480, 18, 18, 19, "practice: after 180 the user was alerted, so no answer (19)" },
	{ 481, 41, 41, 0, NULL },
	{ 482, 25, 25, 0, NULL },
	{ 483, 25, 25, 0, NULL },
	{ 484, 28, 28, 0, NULL },
	{ 485, 1, 1, 0, NULL },
	{ 486, 17, 17, 0, NULL },
	{ 487, 0, 16, 0, "RFC: no mapping; the request was ended on purpose" },
	{ 488, 0, 88, 0, "RFC: by Warning header; practice: incompatible destination" },
	{ 500, 41, 41, 0, NULL },
	{ 501, 79, 79, 0, NULL },
	{ 502, 38, 38, 0, NULL },
	{ 503, 41, 41, 0, NULL },
	{ 504, 102, 102, 0, NULL },
	{ 505, 127, 127, 0, NULL },
	{ 513, 127, 127, 0, NULL },
	{ 600, 17, 17, 0, NULL },
	{ 603, 21, 21, 0, NULL },
	{ 604, 1, 1, 0, NULL },
	{ 606, 0, 88, 0, "RFC: by Warning header; practice: incompatible destination" },
};

/* ITU-T Q.850 Table 1 (cause values), with the wording of its titles. */
static const char *const names[128] = {
	[1] = "Unallocated (unassigned) number",
	[2] = "No route to specified transit network",
	[3] = "No route to destination",
	[4] = "Send special information tone",
	[5] = "Misdialled trunk prefix",
	[6] = "Channel unacceptable",
	[7] = "Call awarded and being delivered in an established channel",
	[8] = "Preemption",
	[9] = "Preemption - circuit reserved for reuse",
	[14] = "QoR: ported number",
	[16] = "Normal call clearing",
	[17] = "User busy",
	[18] = "No user responding",
	[19] = "No answer from user (user alerted)",
	[20] = "Subscriber absent",
	[21] = "Call rejected",
	[22] = "Number changed",
	[23] = "Redirection to new destination",
	[25] = "Exchange routing error",
	[26] = "Non-selected user clearing",
	[27] = "Destination out of order",
	[28] = "Invalid number format (address incomplete)",
	[29] = "Facility rejected",
	[30] = "Response to STATUS ENQUIRY",
	[31] = "Normal, unspecified",
	[34] = "No circuit/channel available",
	[38] = "Network out of order",
	[39] = "Permanent frame mode connection out of service",
	[40] = "Permanent frame mode connection operational",
	[41] = "Temporary failure",
	[42] = "Switching equipment congestion",
	[43] = "Access information discarded",
	[44] = "Requested circuit/channel not available",
	[46] = "Precedence call blocked",
	[47] = "Resource unavailable, unspecified",
	[49] = "Quality of service not available",
	[50] = "Requested facility not subscribed",
	[52] = "Outgoing calls barred", /* 52 and 54: Q.931 (1988), still sent by switches */
	[53] = "Outgoing calls barred within CUG",
	[54] = "Incoming calls barred",
	[55] = "Incoming calls barred within CUG",
	[57] = "Bearer capability not authorized",
	[58] = "Bearer capability not presently available",
	[62] = "Inconsistency in designated outgoing access information and subscriber class",
	[63] = "Service or option not available, unspecified",
	[65] = "Bearer capability not implemented",
	[66] = "Channel type not implemented",
	[69] = "Requested facility not implemented",
	[70] = "Only restricted digital information bearer capability is available",
	[79] = "Service or option not implemented, unspecified",
	[81] = "Invalid call reference value",
	[82] = "Identified channel does not exist",
	[83] = "A suspended call exists, but this call identity does not",
	[84] = "Call identity in use",
	[85] = "No call suspended",
	[86] = "Call having the requested call identity has been cleared",
	[87] = "User not member of CUG",
	[88] = "Incompatible destination",
	[90] = "Non-existent CUG",
	[91] = "Invalid transit network selection",
	[95] = "Invalid message, unspecified",
	[96] = "Mandatory information element is missing",
	[97] = "Message type non-existent or not implemented",
	[98] = "Message not compatible with call state or message type non-existent or not "
	       "implemented",
	[99] = "Information element/parameter non-existent or not implemented",
	[100] = "Invalid information element contents",
	[101] = "Message not compatible with call state",
	[102] = "Recovery on timer expiry",
	[103] = "Parameter non-existent or not implemented, passed on",
	[110] = "Message with unrecognized parameter, discarded",
	[111] = "Protocol error, unspecified",
	[127] = "Interworking, unspecified",
};

const char *cause_name(unsigned cause)
{
	return cause < ARRAY_SIZE(names) ? names[cause] : NULL;
}

const struct cause_row *cause_table(enum cause_dir dir, size_t *n)
{
	if (dir == CAUSE_TO_SIP) {
		*n = ARRAY_SIZE(to_sip);
		return to_sip;
	}
	*n = ARRAY_SIZE(from_sip);
	return from_sip;
}
