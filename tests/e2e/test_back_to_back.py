"""Two tandemd back to back over one virtual E1: SIP -> PRI -> SIP.

Gateway A (CPE, connects) takes a call from SIPp (a trunk trusted by address) for
+12125559000 and routes it to span group 1; gateway B (NET, listens, clock master) gets
the SETUP and routes the DID to a fixed SIP URI where a second SIPp answers as a UAS.
- answered: both SIPps see 200, each gateway's media engine joins an RTP port to the
  B-channel, the caller's BYE clears the PRI call with cause 16 and B sends the callee
  BYE with Reason: Q.850;cause=16; both gateways write a CDR;
- busy: the callee answers 486, B clears with cause 17, A answers the caller 486 with
  Reason: Q.850;cause=17.
Audio is not checked here (test_audio.py does that against pstnsim).
Everything on 127.0.0.1 and one abstract Unix socket; every wait is bounded.
"""
import os
import re
import sqlite3
import time
import uuid

import pytest

from conftest import free_port, wait_until
from peers import gateway as gwmod
from peers import sipp

DID = "+12125559000"
CALLER = "+12125550199"


def uac(*outcome):
    """The caller on gateway A: INVITE offering PCMA, PCMU and telephone-event, then outcome."""
    return sipp.scenario("caller on gateway A",
                         sipp.invite(CALLER, sdp=sipp.sdp(8, 0, 101)), sipp.provisional(),
                         *outcome)


UAC_ANSWERED = uac(sipp.recv(200, rrs=True), sipp.ack(CALLER), sipp.pause(2000), sipp.bye(CALLER))
UAC_BUSY = uac(sipp.recv(486, sipp.reason(17)), sipp.ack_error(CALLER))

# The callee behind gateway B: 180 then 200 with SDP, ACK, then B's BYE with the cause.
CALLEE = ("Contact: <sip:desk@[local_ip]:[local_port]>",)
UAS_ANSWER = sipp.scenario(
    "callee behind gateway B",
    sipp.recv("INVITE", sipp.ereg("2125550199", "from", "From:"), crlf=True),
    sipp.reply("180 Ringing", *CALLEE, to_tag="[pid]SIPpTag01[call_number]"),
    sipp.reply("200 OK", *CALLEE, to_tag="[pid]SIPpTag01[call_number]",
               body=sipp.sdp(8, origin="- 2 2"), retrans=500),
    sipp.recv("ACK", crlf=True), sipp.recv("BYE", sipp.reason(16), timeout=15000),
    sipp.ok_reply())

UAS_BUSY = sipp.scenario(
    "busy callee behind gateway B", sipp.recv("INVITE", crlf=True),
    sipp.reply("486 Busy Here", to_tag="[pid]SIPpTag01[call_number]"),
    sipp.recv("ACK", crlf=True))


@pytest.fixture
def b2b(tmp_path, procs, need_sipp):
    """Gateways A and B on one virtual E1, D-channel up on both."""

    class Pair:
        pass

    p = Pair()
    span = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    p.uac_port, p.uas_port = free_port(), free_port()
    p.a_dir, p.b_dir = tmp_path / "a", tmp_path / "b"
    p.b = gwmod.start(p.b_dir, procs, span=span, sim=False, net=True, name="tandemd-b",
                      inbound={DID: f"uri:sip:desk@127.0.0.1:{p.uas_port}"})
    p.a = gwmod.start(p.a_dir, procs, span=span, sim=False, name="tandemd-a",
                      trusted=[p.uac_port], trunk="caller")
    p.a_port = p.a.port
    for gw in (p.a, p.b):
        assert gw.proc.wait_for("D-channel up", 10), p.a.output() + "\n---- B\n" + p.b.output()
    return p


def start_uas(procs, p, scenario):
    return sipp.start_uas(procs, p.b_dir, p.uas_port, scenario, timeout=30)


def run_uac(p, outcome):
    t0 = time.monotonic()
    rc, report = sipp.run_uac(p.a_dir, p.a_port, outcome, DID, p.uac_port, timeout=30, wait=45)
    return rc, report, time.monotonic() - t0


def logs(p):
    return f"---- A\n{p.a.output()[-6000:]}\n---- B\n{p.b.output()[-6000:]}"


def cdrs(db):
    if not os.path.exists(db):
        return []
    conn = sqlite3.connect(db)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM cdr ORDER BY id")]
    finally:
        conn.close()


def test_answered_call_cleared_by_caller(procs, b2b):
    p = b2b
    uas = start_uas(procs, p, UAS_ANSWER)
    time.sleep(0.3)  # SIPp binds its port
    rc, report, took = run_uac(p, UAC_ANSWERED)
    assert rc == 0, report + logs(p)
    # the callee got the 200's ACK, then BYE with Reason: Q.850;cause=16, and answered it
    assert uas.wait(20) == 0, uas.report() + logs(p)
    assert took < 15, took
    a, b = p.a.output(), p.b.output()
    # each media engine joined the call's RTP port to the B-channel
    assert re.search(r"media: RTP port \d+ <-> B-channel \d+", a), logs(p)
    assert re.search(r"media: RTP port \d+ <-> B-channel \d+", b), logs(p)
    assert re.search(r"PSTN answered: 200", a), logs(p)
    assert "INVITE sip:desk@127.0.0.1" in b, logs(p)
    assert "PSTN hung up (cause 16): BYE" in b, logs(p)
    a_cdr = wait_until(lambda: cdrs(str(p.a_dir / "cdr.db")), 10)
    b_cdr = wait_until(lambda: cdrs(str(p.b_dir / "cdr.db")), 10)
    assert a_cdr and b_cdr, logs(p)
    assert len(a_cdr) == 1 and len(b_cdr) == 1, (a_cdr, b_cdr)
    ca, cb = a_cdr[0], b_cdr[0]
    assert (ca["direction"], ca["calling"], ca["called"], ca["sip_status"], ca["cause_pstn"],
            ca["ended_by"]) == ("out", "2125550199", "2125559000", 200, 16, "sip"), ca
    # B's BYE carried the PRI cause: cause_sip 16 as well
    assert (cb["direction"], cb["calling"], cb["called"], cb["sip_status"], cb["cause_sip"],
            cb["cause_pstn"], cb["ended_by"]) == \
        ("in", "2125550199", "2125559000", 200, 16, 16, "pstn"), cb
    for c in (ca, cb):
        assert c["answer_ms"] and c["end_ms"] >= c["answer_ms"], c
        assert c["span"] == 1 and c["channel"] is not None, c
    # both ends of the E1 agree on the B-channel
    assert ca["channel"] == cb["channel"], (ca, cb)
    # B-channel frames became RTP on both gateways for the ~2 s of the call (50 packets/s)
    for out in (a, b):
        tx = re.search(r"media: rtp tx (\d+) rx", out)
        assert tx and int(tx.group(1)) > 50, logs(p)


def test_busy_callee_gives_caller_486_cause_17(procs, b2b):
    p = b2b
    uas = start_uas(procs, p, UAS_BUSY)
    time.sleep(0.3)
    rc, report, took = run_uac(p, UAC_BUSY)
    assert rc == 0, report + logs(p)
    assert uas.wait(20) == 0, uas.report() + logs(p)
    assert took < 15, took
    assert re.search(r"PSTN cleared with cause 17 .*: 486", p.a.output()), logs(p)
    assert "no phone answered (486): clearing with cause 17" in p.b.output(), logs(p)
    a_cdr = wait_until(lambda: cdrs(str(p.a_dir / "cdr.db")), 10)
    b_cdr = wait_until(lambda: cdrs(str(p.b_dir / "cdr.db")), 10)
    assert a_cdr and b_cdr, logs(p)
    ca, cb = a_cdr[-1], b_cdr[-1]
    assert (ca["direction"], ca["sip_status"], ca["cause_sip"], ca["cause_pstn"],
            ca["answer_ms"], ca["ended_by"]) == ("out", 486, 17, 17, None, "pstn"), ca
    assert (cb["direction"], cb["sip_status"], cb["cause_pstn"], cb["answer_ms"],
            cb["ended_by"]) == ("in", 486, 17, None, "sip"), cb
    assert ca["channel"] == cb["channel"], (ca, cb)
