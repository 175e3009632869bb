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

from peers.torture import CONF, RFC4475, RFC5118, VALID

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIPCHECK = ROOT / "build" / "sipcheck"
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
