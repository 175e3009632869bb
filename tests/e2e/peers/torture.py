"""The RFC 4475 / RFC 5118 torture corpus (../shared/conformance beside the checkout, or
$TANDEM_CONFORMANCE) and the verdict each message must get, as its VERDICTS.md (and the
RFC text where the table paraphrases it) says: "valid", or "invalid" with the status a
UAS answers with (None where the RFC only says "may reject"), or "drop" where nothing may
be answered. Used by test_conformance (sipcheck) and test_hardening (tandemd)."""
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
CONF = pathlib.Path(os.environ.get("TANDEM_CONFORMANCE", ROOT.parent / "shared" / "conformance"))

VALID = "valid"

# file -> VALID, or a tuple of acceptable codes ("drop" for a dropped message),
# or None when the RFC only says the message is invalid.
RFC4475 = {
    # 3.1.1 valid messages
    "wsinv": VALID, "intmeth": VALID, "esc01": VALID, "escnull": VALID, "esc02": VALID,
    "lwsdisp": VALID, "longreq": VALID, "dblreq": VALID, "semiuri": VALID,
    "transports": VALID, "mpart01": VALID, "unreason": VALID, "noreason": VALID,
    # 3.1.2 invalid messages
    "badinv01": ("400",), "clerr": ("400",), "ncl": ("400",), "scalar02": ("400",),
    "scalarlg": ("drop",), "quotbal": ("400",), "ltgtruri": ("400",), "lwsruri": ("400",),
    "lwsstart": None, "trws": None, "escruri": ("400",), "baddate": None,
    "regbadct": ("400",), "badaspec": ("400",), "baddn": ("400",), "badvers": ("505",),
    "mismatch01": ("400",), "mismatch02": ("501", "400"), "bigcode": ("drop",),
    # 3.2 transaction layer: we pick the RFC's first option, a stateless 400
    "badbranch": ("400",),
    # 3.3 application layer
    "insuf": ("400",), "unkscm": ("416",), "novelsc": ("416",), "unksm2": VALID,
    "bext01": ("420",), "invut": ("415",), "regaut01": ("401",), "multi01": ("400",),
    "mcl01": ("400",), "bcast": VALID, "zeromf": VALID, "cparam01": VALID,
    "cparam02": VALID, "regescrt": VALID, "sdp01": ("406",),
    # 3.4 backward compatibility
    "inv2543": VALID,
}

RFC5118 = {
    "ipv6-good": VALID, "ipv6-bad": ("400",), "port-ambiguous": VALID,
    "port-unambiguous": VALID, "via-received-param-with-delim": VALID,
    "via-received-param-no-delim": VALID, "ipv6-in-sdp": VALID,
    "mult-ip-in-header": VALID, "mult-ip-in-sdp": VALID, "ipv4-mapped-ipv6": VALID,
    # §4.10: not a legal address, but receivers are asked to be liberal
    "ipv6-bug-abnf-3-colons": VALID, "ipv6-correct-abnf-2-colons": VALID,
}
