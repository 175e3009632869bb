/*
 * libFuzzer target for gateway/sip/uri: decode, then check the properties
 * equivalence must have whatever the input: reflexive (also across two copies
 * of the text), symmetric against fixed URIs; exercise tel digits, unescaping
 * and the parameter iterator on what the decoder returned and on raw input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/uri/uri.h"

static const char *const fixed[] = {
    "sip:alice@atlanta.com;transport=tcp",
    "sips:alice@atlanta.com",
    "sip:%61lice@AtLanTa.CoM;Transport=TCP;lr?subject=x",
    "sip:[2001:db8::10]:5070",
    "tel:+1-201-555-0123;ext=1234",
    "tel:7042;phone-context=example.com",
    "urn:service:sos",
};

static void check_fixed(const struct sip_uri *u)
{
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct sip_uri f;

		if (sip_uri_decode(&f, pl_make(fixed[i], strlen(fixed[i]))) != 0)
			abort();
		if (sip_uri_equal(u, &f) != sip_uri_equal(&f, u))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl text = pl_make((const char *)data, size);
	struct sip_uri u, v;
	struct pl rest = text, n, val;
	char buf[256];
	char *copy;

	/* the parameter iterator must terminate on anything */
	while (sip_param_next(&rest, &n, &val)) {
		if (n.p < text.p || n.p + n.l > text.p + text.l)
			abort();
	}
	sip_param_get(text, "transport", &val);
	sip_uri_tel_digits(text, buf, sizeof(buf));
	sip_unescape(text, buf, sizeof(buf));

	if (sip_uri_decode(&u, text) != 0)
		return 0;
	if (!sip_uri_equal(&u, &u))
		abort();
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (sip_uri_decode(&v, pl_make(copy, size)) != 0 || !sip_uri_equal(&u, &v) ||
	    !sip_uri_equal(&v, &u))
		abort();
	free(copy);
	check_fixed(&u);

	sip_uri_tel_digits(u.scheme == SIP_URI_TEL ? u.number : u.user, buf, sizeof(buf));
	sip_unescape(u.user, buf, sizeof(buf));
	sip_uri_param(&u, "user", &val);
	sip_uri_param(&u, "phone-context", &val);
	return 0;
}
