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
import shutil
import sqlite3
import subprocess
import time
import uuid

import pytest

from conftest import binary, free_port
from test_gateway import gw_config

SIPP = shutil.which("sipp")
DID = "+12125559000"
CALLER = "+12125550199"

UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller on gateway A">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:CALLER@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:CALLER@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 0 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
OUTCOME
</scenario>
"""

UAC_ANSWERED = """  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:CALLER@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="2000"/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:CALLER@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
"""

UAC_BUSY = """  <recv response="486">
    <action>
      <ereg regexp="Q\\.850;cause=17([^0-9]|$)" search_in="hdr" header="Reason:"
            check_it="true" assign_to="reason"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0
      [last_Via:]
      From: <sip:CALLER@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="reason"/>
"""

# The callee behind gateway B: 180 then 200 with SDP, ACK, then B's BYE with the cause.
UAS_ANSWER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="callee behind gateway B">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="2125550199" search_in="hdr" header="From:" check_it="true"
            assign_to="from"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:desk@[local_ip]:[local_port]>
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:desk@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 2 2 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE" timeout="15000">
    <action>
      <ereg regexp="Q\\.850;cause=16([^0-9]|$)" search_in="hdr" header="Reason:"
            check_it="true" assign_to="reason"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="from,reason"/>
</scenario>
"""

UAS_BUSY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy callee behind gateway B">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[

      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
</scenario>
"""


def side_config(tmp_path, port, span_addr, net, trunk_port=None, uas_port=None):
    """The demo config for one gateway: CPE connecting (A) or NET listening (B)."""
    tmp_path.mkdir(exist_ok=True)
    path = gw_config(tmp_path, port, span_addr)
    text = open(path).read()
    if net:
        for old, new in (("    side: cpe ", "    side: net "),
                         ("    clock_master: false", "    clock_master: true")):
            assert old in text, old
            text = text.replace(old, new)
        text, n = re.subn(r'^(    address: "@tandem-e2e-[0-9a-f]+".*\n)', r"\1    listen: true\n",
                          text, flags=re.M)
        assert n == 1, text
    if trunk_port:
        text = text.replace(
            "trunks: []", f'trunks:\n  - {{ name: caller, address: "udp:127.0.0.1:{trunk_port}" }}')
    if uas_port:
        text = text.replace(
            "  inbound: []",
            f"  inbound:\n    - {{ did: '{DID}', to: 'uri:sip:desk@127.0.0.1:{uas_port}' }}")
    open(path, "w").write(text)
    return path


@pytest.fixture
def b2b(tmp_path, procs):
    """Gateways A and B on one virtual E1, D-channel up on both."""
    if not SIPP:
        pytest.fail("sipp is not installed (packaging/deps.sh installs sip-tester)")

    class Pair:
        pass

    p = Pair()
    span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    p.a_port, p.b_port, p.uac_port, p.uas_port = (free_port() for _ in range(4))
    p.a_dir, p.b_dir = tmp_path / "a", tmp_path / "b"
    b_cfg = side_config(p.b_dir, p.b_port, span_addr, net=True, uas_port=p.uas_port)
    a_cfg = side_config(p.a_dir, p.a_port, span_addr, net=False, trunk_port=p.uac_port)
    p.b = procs.start([binary("tandemd"), "-c", b_cfg], name="tandemd-b")
    assert p.b.wait_for("ready", 10), p.b.output()
    p.a = procs.start([binary("tandemd"), "-c", a_cfg], name="tandemd-a")
    assert p.a.wait_for("ready", 10), p.a.output()
    for gw in (p.a, p.b):
        assert gw.wait_for("D-channel up", 10), p.a.output() + "\n---- B\n" + p.b.output()
    return p


def start_uas(tmp_path, p, scenario):
    sf = tmp_path / "uas.xml"
    sf.write_text(scenario)
    return subprocess.Popen([SIPP, "-sf", str(sf), "-i", "127.0.0.1", "-p", str(p.uas_port),
                             "-m", "1", "-nostdin", "-timeout", "30",
                             "-timeout_error", "-trace_err"],
                            cwd=tmp_path / "b", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def run_uac(tmp_path, p, outcome):
    sf = tmp_path / "uac.xml"
    sf.write_text(UAC.replace("OUTCOME", outcome).replace("CALLER", CALLER))
    t0 = time.monotonic()
    r = subprocess.run([SIPP, f"127.0.0.1:{p.a_port}", "-sf", str(sf), "-s", DID,
                        "-i", "127.0.0.1", "-p", str(p.uac_port),
                        "-m", "1", "-nostdin", "-timeout", "30", "-timeout_error",
                        "-trace_err"],
                       cwd=tmp_path / "a", capture_output=True, timeout=45)
    return r, time.monotonic() - t0


def sipp_errors(d):
    return "".join(f.read_text(errors="replace") for f in d.glob("*_errors.log"))


def finish_uas(uas, tmp_path, p):
    try:
        rc = uas.wait(20)
    except subprocess.TimeoutExpired:
        uas.kill()
        rc = uas.wait(5)
    out = uas.stdout.read().decode(errors="replace")
    uas.stdout.close()
    return rc, out[-2000:] + sipp_errors(tmp_path / "b")


def logs(p):
    return f"---- A\n{p.a.output()[-6000:]}\n---- B\n{p.b.output()[-6000:]}"


def wait_until(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    return pred()


def cdrs(db):
    if not os.path.exists(db):
        return []
    conn = sqlite3.connect(db)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM cdr ORDER BY id")]
    finally:
        conn.close()


def test_answered_call_cleared_by_caller(tmp_path, b2b):
    p = b2b
    uas = start_uas(tmp_path, p, UAS_ANSWER)
    try:
        time.sleep(0.3)  # SIPp binds its port
        r, took = run_uac(tmp_path, p, UAC_ANSWERED)
        assert r.returncode == 0, (r.stdout.decode(errors="replace")[-2000:] +
                                   sipp_errors(tmp_path / "a") + logs(p))
    finally:
        rc, uas_out = finish_uas(uas, tmp_path, p)
    # the callee got the 200's ACK, then BYE with Reason: Q.850;cause=16, and answered it
    assert rc == 0, uas_out + logs(p)
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


def test_busy_callee_gives_caller_486_cause_17(tmp_path, b2b):
    p = b2b
    uas = start_uas(tmp_path, p, UAS_BUSY)
    try:
        time.sleep(0.3)
        r, took = run_uac(tmp_path, p, UAC_BUSY)
        assert r.returncode == 0, (r.stdout.decode(errors="replace")[-2000:] +
                                   sipp_errors(tmp_path / "a") + logs(p))
    finally:
        rc, uas_out = finish_uas(uas, tmp_path, p)
    assert rc == 0, uas_out + logs(p)
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
