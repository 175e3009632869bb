/*
 * Header names and methods (tables), header access and list iteration.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/err.h"
#include "sip/msg/msg.h"
#include "sip/msg/msg_int.h"

const uint16_t sip_cc[256] = {
    [9] = CC_WSP | CC_LWS,
    [10] = CC_LWS,
    [13] = CC_LWS,
    [32] = CC_WSP | CC_LWS,
    [33] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD,
    [34] = CC_WORD | CC_LSEP,
    [35] = CC_URI,
    [36] = CC_URI,
    [37] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD,
    [38] = CC_URI,
    [39] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD,
    [40] = CC_URI | CC_WORD,
    [41] = CC_URI | CC_WORD,
    [42] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD,
    [43] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD,
    [44] = CC_URI | CC_LSEP,
    [45] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [46] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [47] = CC_URI | CC_WORD,
    [48] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [49] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [50] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [51] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [52] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [53] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [54] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [55] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [56] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [57] = CC_TOKEN | CC_DIGIT | CC_HEX | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [58] = CC_PVAL | CC_URI | CC_WORD,
    [59] = CC_URI,
    [60] = CC_WORD | CC_LSEP,
    [61] = CC_URI,
    [62] = CC_WORD | CC_LSEP,
    [63] = CC_URI | CC_WORD,
    [64] = CC_URI,
    [65] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [66] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [67] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [68] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [69] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [70] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [71] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [72] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [73] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [74] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [75] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [76] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [77] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [78] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [79] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [80] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [81] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [82] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [83] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [84] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [85] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [86] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [87] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [88] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [89] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [90] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [91] = CC_PVAL | CC_URI | CC_WORD,
    [92] = CC_URI | CC_WORD,
    [93] = CC_PVAL | CC_URI | CC_WORD,
    [94] = CC_URI,
    [95] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [96] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD,
    [97] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [98] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [99] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [100] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [101] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [102] = CC_TOKEN | CC_HEX | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [103] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [104] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [105] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [106] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [107] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [108] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [109] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [110] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [111] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [112] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [113] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [114] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [115] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [116] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [117] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [118] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [119] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [120] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [121] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [122] = CC_TOKEN | CC_ALPHA | CC_PVAL | CC_URI | CC_WORD | CC_HOST,
    [123] = CC_URI | CC_WORD,
    [124] = CC_URI,
    [125] = CC_URI | CC_WORD,
    [126] = CC_TOKEN | CC_PVAL | CC_URI | CC_WORD,
    [128] = CC_URI,
    [129] = CC_URI,
    [130] = CC_URI,
    [131] = CC_URI,
    [132] = CC_URI,
    [133] = CC_URI,
    [134] = CC_URI,
    [135] = CC_URI,
    [136] = CC_URI,
    [137] = CC_URI,
    [138] = CC_URI,
    [139] = CC_URI,
    [140] = CC_URI,
    [141] = CC_URI,
    [142] = CC_URI,
    [143] = CC_URI,
    [144] = CC_URI,
    [145] = CC_URI,
    [146] = CC_URI,
    [147] = CC_URI,
    [148] = CC_URI,
    [149] = CC_URI,
    [150] = CC_URI,
    [151] = CC_URI,
    [152] = CC_URI,
    [153] = CC_URI,
    [154] = CC_URI,
    [155] = CC_URI,
    [156] = CC_URI,
    [157] = CC_URI,
    [158] = CC_URI,
    [159] = CC_URI,
    [160] = CC_URI,
    [161] = CC_URI,
    [162] = CC_URI,
    [163] = CC_URI,
    [164] = CC_URI,
    [165] = CC_URI,
    [166] = CC_URI,
    [167] = CC_URI,
    [168] = CC_URI,
    [169] = CC_URI,
    [170] = CC_URI,
    [171] = CC_URI,
    [172] = CC_URI,
    [173] = CC_URI,
    [174] = CC_URI,
    [175] = CC_URI,
    [176] = CC_URI,
    [177] = CC_URI,
    [178] = CC_URI,
    [179] = CC_URI,
    [180] = CC_URI,
    [181] = CC_URI,
    [182] = CC_URI,
    [183] = CC_URI,
    [184] = CC_URI,
    [185] = CC_URI,
    [186] = CC_URI,
    [187] = CC_URI,
    [188] = CC_URI,
    [189] = CC_URI,
    [190] = CC_URI,
    [191] = CC_URI,
    [192] = CC_URI,
    [193] = CC_URI,
    [194] = CC_URI,
    [195] = CC_URI,
    [196] = CC_URI,
    [197] = CC_URI,
    [198] = CC_URI,
    [199] = CC_URI,
    [200] = CC_URI,
    [201] = CC_URI,
    [202] = CC_URI,
    [203] = CC_URI,
    [204] = CC_URI,
    [205] = CC_URI,
    [206] = CC_URI,
    [207] = CC_URI,
    [208] = CC_URI,
    [209] = CC_URI,
    [210] = CC_URI,
    [211] = CC_URI,
    [212] = CC_URI,
    [213] = CC_URI,
    [214] = CC_URI,
    [215] = CC_URI,
    [216] = CC_URI,
    [217] = CC_URI,
    [218] = CC_URI,
    [219] = CC_URI,
    [220] = CC_URI,
    [221] = CC_URI,
    [222] = CC_URI,
    [223] = CC_URI,
    [224] = CC_URI,
    [225] = CC_URI,
    [226] = CC_URI,
    [227] = CC_URI,
    [228] = CC_URI,
    [229] = CC_URI,
    [230] = CC_URI,
    [231] = CC_URI,
    [232] = CC_URI,
    [233] = CC_URI,
    [234] = CC_URI,
    [235] = CC_URI,
    [236] = CC_URI,
    [237] = CC_URI,
    [238] = CC_URI,
    [239] = CC_URI,
    [240] = CC_URI,
    [241] = CC_URI,
    [242] = CC_URI,
    [243] = CC_URI,
    [244] = CC_URI,
    [245] = CC_URI,
    [246] = CC_URI,
    [247] = CC_URI,
    [248] = CC_URI,
    [249] = CC_URI,
    [250] = CC_URI,
    [251] = CC_URI,
    [252] = CC_URI,
    [253] = CC_URI,
    [254] = CC_URI,
    [255] = CC_URI,
};

static const char *const hdr_names[SIP_HDR_COUNT] = {
    [SIP_HDR_OTHER] = "",
    [SIP_HDR_ACCEPT] = "Accept",
    [SIP_HDR_ACCEPT_ENCODING] = "Accept-Encoding",
    [SIP_HDR_ACCEPT_LANGUAGE] = "Accept-Language",
    [SIP_HDR_ALERT_INFO] = "Alert-Info",
    [SIP_HDR_ALLOW] = "Allow",
    [SIP_HDR_ALLOW_EVENTS] = "Allow-Events",
    [SIP_HDR_AUTHORIZATION] = "Authorization",
    [SIP_HDR_CALL_ID] = "Call-ID",
    [SIP_HDR_CALL_INFO] = "Call-Info",
    [SIP_HDR_CONTACT] = "Contact",
    [SIP_HDR_CONTENT_DISPOSITION] = "Content-Disposition",
    [SIP_HDR_CONTENT_ENCODING] = "Content-Encoding",
    [SIP_HDR_CONTENT_LANGUAGE] = "Content-Language",
    [SIP_HDR_CONTENT_LENGTH] = "Content-Length",
    [SIP_HDR_CONTENT_TYPE] = "Content-Type",
    [SIP_HDR_CSEQ] = "CSeq",
    [SIP_HDR_DATE] = "Date",
    [SIP_HDR_DIVERSION] = "Diversion",
    [SIP_HDR_ERROR_INFO] = "Error-Info",
    [SIP_HDR_EVENT] = "Event",
    [SIP_HDR_EXPIRES] = "Expires",
    [SIP_HDR_FROM] = "From",
    [SIP_HDR_HISTORY_INFO] = "History-Info",
    [SIP_HDR_IN_REPLY_TO] = "In-Reply-To",
    [SIP_HDR_MAX_FORWARDS] = "Max-Forwards",
    [SIP_HDR_MIME_VERSION] = "MIME-Version",
    [SIP_HDR_MIN_EXPIRES] = "Min-Expires",
    [SIP_HDR_MIN_SE] = "Min-SE",
    [SIP_HDR_ORGANIZATION] = "Organization",
    [SIP_HDR_P_ASSERTED_IDENTITY] = "P-Asserted-Identity",
    [SIP_HDR_P_PREFERRED_IDENTITY] = "P-Preferred-Identity",
    [SIP_HDR_PATH] = "Path",
    [SIP_HDR_PRIORITY] = "Priority",
    [SIP_HDR_PRIVACY] = "Privacy",
    [SIP_HDR_PROXY_AUTHENTICATE] = "Proxy-Authenticate",
    [SIP_HDR_PROXY_AUTHORIZATION] = "Proxy-Authorization",
    [SIP_HDR_PROXY_REQUIRE] = "Proxy-Require",
    [SIP_HDR_RACK] = "RAck",
    [SIP_HDR_REASON] = "Reason",
    [SIP_HDR_RECORD_ROUTE] = "Record-Route",
    [SIP_HDR_REFER_SUB] = "Refer-Sub",
    [SIP_HDR_REFER_TO] = "Refer-To",
    [SIP_HDR_REFERRED_BY] = "Referred-By",
    [SIP_HDR_REPLACES] = "Replaces",
    [SIP_HDR_REPLY_TO] = "Reply-To",
    [SIP_HDR_REQUIRE] = "Require",
    [SIP_HDR_RETRY_AFTER] = "Retry-After",
    [SIP_HDR_ROUTE] = "Route",
    [SIP_HDR_RSEQ] = "RSeq",
    [SIP_HDR_SERVER] = "Server",
    [SIP_HDR_SESSION_EXPIRES] = "Session-Expires",
    [SIP_HDR_SIP_ETAG] = "SIP-ETag",
    [SIP_HDR_SIP_IF_MATCH] = "SIP-If-Match",
    [SIP_HDR_SUBJECT] = "Subject",
    [SIP_HDR_SUBSCRIPTION_STATE] = "Subscription-State",
    [SIP_HDR_SUPPORTED] = "Supported",
    [SIP_HDR_TIMESTAMP] = "Timestamp",
    [SIP_HDR_TO] = "To",
    [SIP_HDR_UNSUPPORTED] = "Unsupported",
    [SIP_HDR_USER_AGENT] = "User-Agent",
    [SIP_HDR_VIA] = "Via",
    [SIP_HDR_WARNING] = "Warning",
    [SIP_HDR_WWW_AUTHENTICATE] = "WWW-Authenticate",
};

/* Full names sorted by length; len_start[l] indexes the first of length l. */
static const struct {
	const char *lc;
	uint8_t id;
} hdr_by_len[] = {
    {"to", SIP_HDR_TO},
    {"via", SIP_HDR_VIA},
    {"cseq", SIP_HDR_CSEQ},
    {"date", SIP_HDR_DATE},
    {"from", SIP_HDR_FROM},
    {"path", SIP_HDR_PATH},
    {"rack", SIP_HDR_RACK},
    {"rseq", SIP_HDR_RSEQ},
    {"allow", SIP_HDR_ALLOW},
    {"event", SIP_HDR_EVENT},
    {"route", SIP_HDR_ROUTE},
    {"accept", SIP_HDR_ACCEPT},
    {"min-se", SIP_HDR_MIN_SE},
    {"reason", SIP_HDR_REASON},
    {"server", SIP_HDR_SERVER},
    {"call-id", SIP_HDR_CALL_ID},
    {"contact", SIP_HDR_CONTACT},
    {"expires", SIP_HDR_EXPIRES},
    {"privacy", SIP_HDR_PRIVACY},
    {"require", SIP_HDR_REQUIRE},
    {"subject", SIP_HDR_SUBJECT},
    {"warning", SIP_HDR_WARNING},
    {"priority", SIP_HDR_PRIORITY},
    {"refer-to", SIP_HDR_REFER_TO},
    {"replaces", SIP_HDR_REPLACES},
    {"reply-to", SIP_HDR_REPLY_TO},
    {"sip-etag", SIP_HDR_SIP_ETAG},
    {"call-info", SIP_HDR_CALL_INFO},
    {"diversion", SIP_HDR_DIVERSION},
    {"refer-sub", SIP_HDR_REFER_SUB},
    {"supported", SIP_HDR_SUPPORTED},
    {"timestamp", SIP_HDR_TIMESTAMP},
    {"alert-info", SIP_HDR_ALERT_INFO},
    {"error-info", SIP_HDR_ERROR_INFO},
    {"user-agent", SIP_HDR_USER_AGENT},
    {"in-reply-to", SIP_HDR_IN_REPLY_TO},
    {"min-expires", SIP_HDR_MIN_EXPIRES},
    {"referred-by", SIP_HDR_REFERRED_BY},
    {"retry-after", SIP_HDR_RETRY_AFTER},
    {"unsupported", SIP_HDR_UNSUPPORTED},
    {"allow-events", SIP_HDR_ALLOW_EVENTS},
    {"content-type", SIP_HDR_CONTENT_TYPE},
    {"history-info", SIP_HDR_HISTORY_INFO},
    {"max-forwards", SIP_HDR_MAX_FORWARDS},
    {"mime-version", SIP_HDR_MIME_VERSION},
    {"organization", SIP_HDR_ORGANIZATION},
    {"record-route", SIP_HDR_RECORD_ROUTE},
    {"sip-if-match", SIP_HDR_SIP_IF_MATCH},
    {"authorization", SIP_HDR_AUTHORIZATION},
    {"proxy-require", SIP_HDR_PROXY_REQUIRE},
    {"content-length", SIP_HDR_CONTENT_LENGTH},
    {"accept-encoding", SIP_HDR_ACCEPT_ENCODING},
    {"accept-language", SIP_HDR_ACCEPT_LANGUAGE},
    {"session-expires", SIP_HDR_SESSION_EXPIRES},
    {"content-encoding", SIP_HDR_CONTENT_ENCODING},
    {"content-language", SIP_HDR_CONTENT_LANGUAGE},
    {"www-authenticate", SIP_HDR_WWW_AUTHENTICATE},
    {"proxy-authenticate", SIP_HDR_PROXY_AUTHENTICATE},
    {"subscription-state", SIP_HDR_SUBSCRIPTION_STATE},
    {"content-disposition", SIP_HDR_CONTENT_DISPOSITION},
    {"p-asserted-identity", SIP_HDR_P_ASSERTED_IDENTITY},
    {"proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION},
    {"p-preferred-identity", SIP_HDR_P_PREFERRED_IDENTITY},
};
#define HDR_MAX_NAME 20
static const uint8_t len_start[HDR_MAX_NAME + 2] = {0,  0,  0,  1,  2,  8,  11, 15, 22, 27, 32,
                                                    35, 40, 48, 50, 51, 54, 57, 57, 59, 62, 63};

static enum sip_hdr_id hdr_lookup_long(const char *p, size_t l)
{
	char c = (char)(p[0] | 0x20);

	if (l > HDR_MAX_NAME)
		return SIP_HDR_OTHER;
	for (unsigned i = len_start[l]; i < len_start[l + 1]; i++) {
		if (hdr_by_len[i].lc[0] == c && msg_lceq(p + 1, hdr_by_len[i].lc + 1, l - 1))
			return (enum sip_hdr_id)hdr_by_len[i].id;
	}
	return SIP_HDR_OTHER;
}

static const uint8_t hdr_compact[26] = {
    ['b' - 'a'] = SIP_HDR_REFERRED_BY,
    ['c' - 'a'] = SIP_HDR_CONTENT_TYPE,
    ['e' - 'a'] = SIP_HDR_CONTENT_ENCODING,
    ['f' - 'a'] = SIP_HDR_FROM,
    ['i' - 'a'] = SIP_HDR_CALL_ID,
    ['k' - 'a'] = SIP_HDR_SUPPORTED,
    ['l' - 'a'] = SIP_HDR_CONTENT_LENGTH,
    ['m' - 'a'] = SIP_HDR_CONTACT,
    ['o' - 'a'] = SIP_HDR_EVENT,
    ['r' - 'a'] = SIP_HDR_REFER_TO,
    ['s' - 'a'] = SIP_HDR_SUBJECT,
    ['t' - 'a'] = SIP_HDR_TO,
    ['u' - 'a'] = SIP_HDR_ALLOW_EVENTS,
    ['v' - 'a'] = SIP_HDR_VIA,
    ['x' - 'a'] = SIP_HDR_SESSION_EXPIRES,
};

enum sip_hdr_id sip_hdr_lookup(struct pl name)
{
	if (name.l == 1) {
		unsigned c = (unsigned)(name.p[0] | 0x20) - 'a';
		return c < 26 ? (enum sip_hdr_id)hdr_compact[c] : SIP_HDR_OTHER;
	}
	if (!name.l)
		return SIP_HDR_OTHER;
	return hdr_lookup_long(name.p, name.l);
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_COUNT ? hdr_names[id] : "";
}

static const char *const method_names[SIP_M_COUNT] = {
    [SIP_M_UNKNOWN] = "",        [SIP_M_INVITE] = "INVITE",       [SIP_M_ACK] = "ACK",
    [SIP_M_BYE] = "BYE",         [SIP_M_CANCEL] = "CANCEL",       [SIP_M_REGISTER] = "REGISTER",
    [SIP_M_OPTIONS] = "OPTIONS", [SIP_M_INFO] = "INFO",           [SIP_M_MESSAGE] = "MESSAGE",
    [SIP_M_REFER] = "REFER",     [SIP_M_SUBSCRIBE] = "SUBSCRIBE", [SIP_M_NOTIFY] = "NOTIFY",
    [SIP_M_UPDATE] = "UPDATE",   [SIP_M_PRACK] = "PRACK",         [SIP_M_PUBLISH] = "PUBLISH",
};

static const uint8_t method_len[SIP_M_COUNT] = {
    [SIP_M_INVITE] = 6,   [SIP_M_ACK] = 3,       [SIP_M_BYE] = 3,    [SIP_M_CANCEL] = 6,
    [SIP_M_REGISTER] = 8, [SIP_M_OPTIONS] = 7,   [SIP_M_INFO] = 4,   [SIP_M_MESSAGE] = 7,
    [SIP_M_REFER] = 5,    [SIP_M_SUBSCRIBE] = 9, [SIP_M_NOTIFY] = 6, [SIP_M_UPDATE] = 6,
    [SIP_M_PRACK] = 5,    [SIP_M_PUBLISH] = 7,
};

/* Methods are case-sensitive (RFC 3261 §7.1): switch on the first byte. */
enum sip_method sip_method_lookup(struct pl name)
{
	static const uint8_t by_first[][3] = {
	    ['A' - 'A'] = {SIP_M_ACK},
	    ['B' - 'A'] = {SIP_M_BYE},
	    ['C' - 'A'] = {SIP_M_CANCEL},
	    ['I' - 'A'] = {SIP_M_INVITE, SIP_M_INFO},
	    ['M' - 'A'] = {SIP_M_MESSAGE},
	    ['N' - 'A'] = {SIP_M_NOTIFY},
	    ['O' - 'A'] = {SIP_M_OPTIONS},
	    ['P' - 'A'] = {SIP_M_PRACK, SIP_M_PUBLISH},
	    ['R' - 'A'] = {SIP_M_REGISTER, SIP_M_REFER},
	    ['S' - 'A'] = {SIP_M_SUBSCRIBE},
	    ['U' - 'A'] = {SIP_M_UPDATE},
	};
	unsigned c;

	if (name.l < 3)
		return SIP_M_UNKNOWN;
	c = (unsigned char)name.p[0] - 'A';
	if (c >= ARRAY_SIZE(by_first))
		return SIP_M_UNKNOWN;
	for (unsigned i = 0; i < 3 && by_first[c][i]; i++) {
		uint8_t m = by_first[c][i];
		if (method_len[m] == name.l && !memcmp(method_names[m], name.p, name.l))
			return (enum sip_method)m;
	}
	return SIP_M_UNKNOWN;
}

const char *sip_method_name(enum sip_method m)
{
	return (unsigned)m < SIP_M_COUNT ? method_names[m] : "";
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	if (!msg || (unsigned)id >= SIP_HDR_COUNT || id == SIP_HDR_OTHER || msg->first[id] < 0)
		return NULL;
	return &msg->hdr[msg->first[id]];
}

const struct sip_hdr *sip_msg_hdr_name(const struct sip_msg *msg, const char *name)
{
	struct pl n = {name, name ? strlen(name) : 0};
	enum sip_hdr_id id;

	if (!msg || !n.l)
		return NULL;
	id = sip_hdr_lookup(n);
	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	for (unsigned i = 0; i < msg->nhdr; i++) {
		if (msg->hdr[i].id == SIP_HDR_OTHER && pl_caseeq(msg->hdr[i].name, n))
			return &msg->hdr[i];
	}
	return NULL;
}

unsigned sip_msg_hdr_count(const struct sip_msg *msg, enum sip_hdr_id id)
{
	unsigned n = 0;

	if (!msg || (unsigned)id >= SIP_HDR_COUNT || id == SIP_HDR_OTHER)
		return 0;
	for (int i = msg->first[id]; i >= 0; i = msg->hdr[i].next)
		n++;
	return n;
}

const char *msg_quoted_end(const char *p, const char *e)
{
	p++;
#ifdef __SSE2__
	/* only '"' and '\\' matter: skip 16 other bytes at a time */
	for (; e - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned bits = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
		                 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
		if (bits) {
			p += __builtin_ctz(bits);
			break;
		}
	}
#endif
	for (; p < e; p++) {
		if (*p == '\\') {
			if (++p == e)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero if any byte of v equals b (the classic SWAR zero-byte test). */
static inline uint64_t has_byte(uint64_t v, unsigned char b)
{
	uint64_t x = v ^ (ONES * b);
	return (x - ONES) & ~x & HIGHS;
}

/* The next , " < or > from c: 16 bytes at a time with SSE2 (8 with the
 * scalar fallback), then byte by byte. */
static inline const char *next_lsep(const char *c, const char *e)
{
#ifdef __SSE2__
	const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');
	const __m128i lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>');

	while (e - c >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)c);
		__m128i a = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, quote));
		__m128i b = _mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, gt));
		unsigned bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(a, b));
		if (bits)
			return c + __builtin_ctz(bits);
		c += 16;
	}
#endif
	while (e - c >= 8) {
		uint64_t v;
		memcpy(&v, c, 8);
		if (has_byte(v, ',') | has_byte(v, '"') | has_byte(v, '<') | has_byte(v, '>'))
			break;
		c += 8;
	}
	while (c < e && !CC(*c, CC_LSEP))
		c++;
	return c;
}

/* End of one list element: the first ',' outside quotes and <...>. */
static const char *elem_end(const char *p, const char *e)
{
	bool in_angle = false;

	while (p < e) {
		const char *c = next_lsep(p, e);
		if (c == e)
			return e;
		switch (*c) {
		case '"':
			c = msg_quoted_end(c, e);
			if (!c)
				return e;
			p = c;
			continue;
		case '<':
			in_angle = true;
			break;
		case '>':
			in_angle = false;
			break;
		default:
			if (!in_angle)
				return c;
			break;
		}
		p = c + 1;
	}
	return e;
}

bool sip_msg_hdr_next(const struct sip_msg *msg, enum sip_hdr_id id, struct sip_hdr_iter *it,
                      struct pl *val)
{
	if (!msg || (unsigned)id >= SIP_HDR_COUNT || id == SIP_HDR_OTHER)
		return false;
	if (!it->started) {
		it->started = true;
		it->idx = msg->first[id];
		if (it->idx < 0)
			return false;
		it->rest = msg->hdr[it->idx].val;
	}
	for (;;) {
		const char *p = msg_lws(it->rest.p, it->rest.p + it->rest.l);
		const char *e = it->rest.p + it->rest.l;

		while (p < e) {
			const char *end = elem_end(p, e);
			struct pl v = msg_trim(pl_make(p, (size_t)(end - p)));

			p = end < e ? end + 1 : e;
			if (v.l) {
				it->rest = pl_make(p, (size_t)(e - p));
				*val = v;
				return true;
			}
		}
		if (it->idx < 0 || msg->hdr[it->idx].next < 0) {
			it->idx = -1;
			it->rest = pl_make("", 0);
			return false;
		}
		it->idx = msg->hdr[it->idx].next;
		it->rest = msg->hdr[it->idx].val;
	}
}

bool sip_msg_has_token(const struct sip_msg *msg, enum sip_hdr_id id, const char *token)
{
	struct sip_hdr_iter it = SIP_HDR_ITER_INIT;
	size_t n = token ? strlen(token) : 0;
	struct pl v;

	while (sip_msg_hdr_next(msg, id, &it, &v)) {
		const char *semi = pl_chr(v, ';');
		if (semi)
			v = msg_trim(pl_make(v.p, (size_t)(semi - v.p)));
		if (v.l == n && pl_caseeq_str(v, token))
			return true;
	}
	return false;
}

static const char *param_value_end(const char *p, const char *e)
{
	if (p < e && *p == '"')
		return msg_quoted_end(p, e);
	while (p < e && CC(*p, CC_PVAL))
		p++;
	return p;
}

int msg_param_next(const char **pp, const char *e, struct pl *name, struct pl *val)
{
	const char *p = msg_lws(*pp, e), *n;

	if (p == e || *p != ';')
		return ENOENT;
	p = msg_lws(p + 1, e);
	n = msg_token_end(p, e);
	if (n == p)
		return EBADMSG;
	*name = pl_make(p, (size_t)(n - p));
	*val = pl_make(n, 0);
	p = msg_lws(n, e);
	if (p < e && *p == '=') {
		const char *v = msg_lws(p + 1, e), *ve = param_value_end(v, e);
		if (!ve || ve == v)
			return EBADMSG;
		*val = pl_make(v, (size_t)(ve - v));
		p = ve;
	} else {
		p = n;
	}
	*pp = p;
	return 0;
}

int msg_u32(const char *p, const char *e, uint32_t *v)
{
	uint64_t x = 0;

	if (p == e)
		return EBADMSG;
	for (; p < e; p++) {
		unsigned d = (unsigned char)*p - '0';
		if (d > 9)
			return EBADMSG;
		x = x * 10 + d;
		if (x > UINT32_MAX)
			return ERANGE;
	}
	*v = (uint32_t)x;
	return 0;
}

int sip_u32_decode(uint32_t *v, struct pl val)
{
	struct pl t = msg_trim(val);
	uint32_t x;

	if (msg_u32(t.p, t.p + t.l, &x))
		return EBADMSG;
	*v = x;
	return 0;
}
