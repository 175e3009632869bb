"""RFC 4475 and RFC 5118 torture messages through build/sipcheck.

The expected verdicts come from ../shared/conformance/*/VERDICTS.md (beside the checkout)
(the RFC text where the table paraphrases it): "valid", or "invalid" with
the status a UAS answers with (None where the RFC only says "may reject"),
or "drop" where nothing may be answered.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIPCHECK = ROOT / "build" / "sipcheck"
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


def corpus_files(folder):
    d = CONF / folder
    return sorted(p for p in d.iterdir() if p.name not in ("VERDICTS.md", "SHA256SUMS"))


def run(args):
    assert SIPCHECK.exists(), "build/sipcheck missing: make build/sipcheck"
    r = subprocess.run([str(SIPCHECK), *map(str, args)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def verdicts(folder, extra=()):
    files = corpus_files(folder)
    lines = run([*extra, *files])
    assert len(lines) == len(files)
    out = {}
    for f, line in zip(files, lines):
        prefix = f"{f}: "
        assert line.startswith(prefix), line
        out[f.name.removesuffix(".dat")] = line[len(prefix):]
    return out


def check(table, got):
    wrong = []
    for name, want in table.items():
        v = got[name]
        if want == VALID:
            ok = v == "valid"
        else:
            parts = v.split(" ", 2)
            ok = parts[0] == "invalid" and len(parts) >= 2
            if ok and want is not None:
                ok = parts[1] in want
        if not ok:
            wrong.append(f"{name}: got '{v}', want {want}")
    assert not wrong, "\n".join(wrong)


def test_every_file_has_a_verdict():
    names4475 = {f.name.removesuffix(".dat") for f in corpus_files("rfc4475")}
    assert set(RFC4475) | {"test"} == names4475
    assert set(RFC5118) == {f.name for f in corpus_files("rfc5118")}


def test_rfc4475_udp():
    got = verdicts("rfc4475")
    check(RFC4475, got)
    # not referenced by the RFC (no SIP-Version, a line without a colon): must not pass
    assert got["test"].startswith("invalid")


def test_rfc5118_udp():
    check(RFC5118, verdicts("rfc5118"))


@pytest.mark.parametrize("name", ["clerr", "ncl", "mcl01"])
def test_rfc4475_stream_framing_errors(name):
    # over TCP these cannot be framed: the connection is dropped, nothing answered
    (line,) = run(["-s", CONF / "rfc4475" / f"{name}.dat"])
    assert line.split(": ", 1)[1].startswith("invalid drop"), line


def test_stream_mode_accepts_a_valid_message():
    (line,) = run(["-s", CONF / "rfc4475" / "dblreq.dat"])
    assert line.endswith(": valid"), line


def test_usage_mentions_lf_conversion():
    r = subprocess.run([str(SIPCHECK)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert "LF" in r.stderr and "CRLF" in r.stderr
