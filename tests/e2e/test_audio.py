"""Audio through the gateway: a real softphone (baresip) on one side, pstnsim on a
virtual E1 on the other, tandemd's media engine between them.

- outbound to +12125550100: baresip hears the exchange's 1004 Hz tone, pstnsim hears
  baresip's 1400 Hz tone (Goertzel on the B-channel), both by frequency;
- early media: +12125550480 rings with in-band ringback: 183 with SDP, baresip hears
  440+480 Hz before any answer; hanging up then clears the PRI call with cause 16;
- inbound DID +12125551001 to the registered baresip: audio both ways;
- DTMF: baresip's RFC 4733 digits reach the IVR (+12125550102) as tones it detects, and the
  IVR's tones come back to baresip as RFC 4733 events; with `dtmf: info` SIPp's INFO
  digits reach the IVR too and the IVR's come back as INFO;
- SRTP (srtp: optional, baresip with SRTP mandatory): the tone crosses encrypted;
- hold and resume from baresip (re-INVITE sendonly, then sendrecv): RTP stops and
  comes back;
- RTP timeout: a SIPp call that sends no RTP is cleared by the gateway (BYE with
  Reason cause 41, DISCONNECT 41 on the PRI) after media.rtp_timeout.
Everything on 127.0.0.1 and abstract Unix sockets; every wait is bounded.
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
from peers import baresip as bsmod
from peers.audio import dominant_frequency, make_tone_wav, tone_ratio_db
from peers.baresip import BaresipFactory
from peers.pstnsim import Ctl
from test_gateway import PSTNSIM_CFG, gw_config

pytestmark = pytest.mark.skipif(not bsmod.available(), reason="baresip not installed")

SIPP = shutil.which("sipp")
PHONE_HZ = 1400  # in pstnsim's detect_tones


def set_media(path, **kv):
    """Rewrites keys of the media section of the config at path."""
    text = open(path).read()
    for k, v in kv.items():
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if line.startswith(f"  {k}:"):
                lines[i] = f"  {k}: {v}"
                break
        else:
            raise AssertionError(f"media.{k} not in the demo config")
        text = "\n".join(lines)
    open(path, "w").write(text)


def md5_only(path):
    """baresip 1.0 gives up on a 401 that lists any algorithm besides MD5."""
    text = open(path).read()
    text, n = re.subn(r"digest_algorithms: \[.*\]", "digest_algorithms: [md5]", text)
    assert n == 1, text
    open(path, "w").write(text)


@pytest.fixture
def baresips(tmp_path):
    f = BaresipFactory(tmp_path)
    yield f
    f.stop_all()


def start_gw(tmp_path, procs, **media):
    span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    port = free_port()
    sim_sock = tmp_path / "sim.sock"
    sim = procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", str(sim_sock),
                       "--addr", f"1={span_addr}"], name="pstnsim")
    cfg = gw_config(tmp_path, port, span_addr)
    md5_only(cfg)
    if media:
        set_media(cfg, **media)
    gw = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert gw.wait_for("ready", 10), gw.output()
    assert gw.wait_for("D-channel up", 10), gw.output() + sim.output()
    gw.port = port
    gw.sim = sim
    gw.ctl = Ctl(str(sim_sock))
    return gw


@pytest.fixture
def gateway(tmp_path, procs):
    gw = start_gw(tmp_path, procs)
    yield gw
    gw.ctl.close()


def phone(baresips, tmp_path, gw, user="1001", hz=PHONE_HZ, **kw):
    wav = make_tone_wav(tmp_path / f"tone-{user}-{hz}.wav", hz, 40)
    bs = baresips.new(user, account=user, password=f"demo{user}",
                      registrar=f"127.0.0.1:{gw.port}", wav_source=wav, **kw)
    bs.wait_event("REGISTER_OK", 10)
    return bs


def cdr_rows(tmp_path, timeout=5.0):
    """The CDRs in the test's database (written when a call is over)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = []
        if (tmp_path / "cdr.db").exists():
            db = sqlite3.connect(str(tmp_path / "cdr.db"))
            db.row_factory = sqlite3.Row
            try:
                rows = [dict(r) for r in db.execute("SELECT * FROM cdr ORDER BY id")]
            except sqlite3.OperationalError:
                rows = []
            db.close()
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def tone_heard(ctl, hz, timeout=8.0, call=None):
    return ctl.wait_event(lambda e: e["event"] == "tone" and abs(e["frequency"] - hz) < 15 and
                          (call is None or e["call"] == call), timeout)


def disconnect(ctl, timeout=8.0):
    return ctl.wait_event(lambda e: e["event"] == "disconnect", timeout)


def test_outbound_tone_both_ways(tmp_path, gateway, baresips):
    bs = phone(baresips, tmp_path, gateway)
    bs.dial(f"sip:+12125550100@127.0.0.1:{gateway.port}")
    bs.wait_event("CALL_ESTABLISHED", 15)
    assert tone_heard(gateway.ctl, PHONE_HZ), (gateway.ctl.events, gateway.output()[-4000:])
    time.sleep(3)
    bs.hangup()
    bs.wait_event("CALL_CLOSED", 10)
    heard = bs.heard_wav()
    f = dominant_frequency(heard)
    assert f is not None and abs(f - 1004) <= 5, (f, gateway.output()[-4000:])
    assert tone_ratio_db(heard, 1004, PHONE_HZ) > 20  # our own tone is not echoed back
    d = disconnect(gateway.ctl)
    assert d and d["cause"] == 16, gateway.ctl.events
    assert "media: RTP port" in gateway.output()
    # the CDR carries the RTP counters of the call (4 s of 20 ms packets at least)
    rows = cdr_rows(tmp_path)
    assert rows and rows[-1]["rtp_rx"] > 150 and rows[-1]["rtp_lost"] == 0, rows


def test_early_media_ringback_then_cancel(tmp_path, gateway, baresips):
    bs = phone(baresips, tmp_path, gateway)
    bs.dial(f"sip:+12125550480@127.0.0.1:{gateway.port}")
    ev = bs.wait_event("CALL_PROGRESS", 10)  # 183 with SDP
    assert ev, bs.events
    time.sleep(4)  # a ringback cadence: 2 s on, 4 s off
    tx, rx = bs.rtp_counts()
    assert rx > 50, (tx, rx)
    bs.hangup()  # CANCEL
    bs.wait_event("CALL_CLOSED", 10)
    d = disconnect(gateway.ctl)
    assert d and d["cause"] == 16, gateway.ctl.events
    heard = bs.heard_wav()
    assert tone_ratio_db(heard, 440, 1004) > 10 and tone_ratio_db(heard, 480, 1004) > 10


def test_inbound_did_tone_both_ways(tmp_path, gateway, baresips):
    bs = phone(baresips, tmp_path, gateway)
    r = gateway.ctl.send({"cmd": "call", "span": 1, "from": "+12125559999",
                          "to": "+12125551001"})
    assert r["ok"], r
    call = r["call"]
    bs.wait_event("CALL_ESTABLISHED", 15)
    assert gateway.ctl.wait_event(lambda e: e["event"] == "connect" and e["call"] == call, 10)
    assert tone_heard(gateway.ctl, PHONE_HZ, call=call), gateway.ctl.events
    time.sleep(3)
    gateway.ctl.send({"cmd": "hangup", "call": call, "cause": 16})
    bs.wait_event("CALL_CLOSED", 10)
    f = dominant_frequency(bs.heard_wav())
    assert f is not None and abs(f - 440) <= 5, f  # pstnsim's did_tone


def test_rfc4733_dtmf_to_ivr_and_back(tmp_path, gateway, baresips):
    bs = phone(baresips, tmp_path, gateway)
    bs.dial(f"sip:+12125550102@127.0.0.1:{gateway.port}")
    bs.wait_event("CALL_ESTABLISHED", 15)
    time.sleep(0.5)
    bs.send_dtmf("159#")
    deadline = time.monotonic() + 10
    while gateway.ctl.digits() != "159#" and time.monotonic() < deadline:
        gateway.ctl.pump(0.2)
    assert gateway.ctl.digits() == "159#", (gateway.ctl.events, gateway.output()[-3000:])
    # the IVR plays each digit back in-band: the gateway detects it and sends RFC 4733
    bs.wait_digits("159#", 10)
    bs.hangup()
    bs.wait_event("CALL_CLOSED", 10)


def test_srtp_call_carries_tone(tmp_path, procs, baresips):
    gw = start_gw(tmp_path, procs, srtp="optional")
    try:
        bs = phone(baresips, tmp_path, gw, srtp=True)
        bs.dial(f"sip:+12125550100@127.0.0.1:{gw.port}")
        bs.wait_event("CALL_ESTABLISHED", 15)
        assert tone_heard(gw.ctl, PHONE_HZ), gw.ctl.events
        time.sleep(3)
        bs.hangup()
        bs.wait_event("CALL_CLOSED", 10)
        f = dominant_frequency(bs.heard_wav())
        assert f is not None and abs(f - 1004) <= 5, f
        assert "SRTP" in gw.output(), gw.output()[-3000:]
    finally:
        gw.ctl.close()


def test_hold_and_resume(tmp_path, gateway, baresips):
    bs = phone(baresips, tmp_path, gateway)
    bs.dial(f"sip:+12125550101@127.0.0.1:{gateway.port}")  # echo
    bs.wait_event("CALL_ESTABLISHED", 15)
    time.sleep(2)
    _, rx1 = bs.rtp_counts()
    assert rx1 > 20, rx1
    bs.hold()
    time.sleep(2)
    _, rx2 = bs.rtp_counts()
    time.sleep(2)
    _, rx3 = bs.rtp_counts()
    assert rx3 - rx2 < 5, (rx2, rx3)  # held: we send nothing
    bs.resume()
    time.sleep(3)
    _, rx4 = bs.rtp_counts()
    assert rx4 - rx3 > 50, (rx3, rx4)
    bs.hangup()
    bs.wait_event("CALL_CLOSED", 10)
    out = gateway.output()
    assert "no RTP" not in out, out[-3000:]


NO_RTP_UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answered call that never sends RTP">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:trunk@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:trunk@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:trunk@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv request="BYE">
    <action>
      <ereg regexp="Q\\.850;cause=41" search_in="hdr" header="Reason:" check_it="true"
            assign_to="reason"/>
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
  <Reference variables="reason"/>
</scenario>
"""


def trust_sipp(cfg, sport):
    text = open(cfg).read().replace(
        "trunks: []", f'trunks:\n  - {{ name: sipp, address: "udp:127.0.0.1:{sport}" }}')
    open(cfg, "w").write(text)


def test_rtp_timeout_clears_call(tmp_path, procs):
    if not SIPP:
        pytest.fail("sipp is not installed")
    span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    port, sport = free_port(), free_port()
    sim = procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", str(tmp_path / "sim.sock"),
                       "--addr", f"1={span_addr}"], name="pstnsim")
    cfg = gw_config(tmp_path, port, span_addr)
    set_media(cfg, rtp_timeout=3)
    trust_sipp(cfg, sport)
    gw = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert gw.wait_for("D-channel up", 10), gw.output()
    ctl = Ctl(str(tmp_path / "sim.sock"))
    sf = tmp_path / "norpt.xml"
    sf.write_text(NO_RTP_UAC)
    t0 = time.monotonic()
    r = subprocess.run([SIPP, f"127.0.0.1:{port}", "-sf", str(sf), "-s", "+12125550101",
                        "-i", "127.0.0.1", "-p", str(sport), "-m", "1", "-nostdin",
                        "-timeout", "25", "-timeout_error", "-trace_err"],
                       cwd=tmp_path, capture_output=True, timeout=40)
    took = time.monotonic() - t0
    assert r.returncode == 0, (r.stdout.decode(errors="replace")[-2000:], gw.output()[-4000:])
    assert took < 15, took
    d = disconnect(ctl)
    assert d and d["cause"] == 41, ctl.events
    assert "no RTP for 3 s" in gw.output()
    ctl.close()


def test_refer_blind_transfer_to_user(tmp_path, gateway, baresips):
    """1001 calls the 1004 Hz number, then transfers the PSTN party to 1002: 1002 rings,
    answers and hears the exchange's tone; the exchange hears 1002's 700 Hz; 1001 leaves."""
    a = phone(baresips, tmp_path, gateway, "1001", hz=PHONE_HZ)
    b = phone(baresips, tmp_path, gateway, "1002", hz=700)
    a.dial(f"sip:+12125550100@127.0.0.1:{gateway.port}")
    a.wait_event("CALL_ESTABLISHED", 15)
    assert tone_heard(gateway.ctl, PHONE_HZ), gateway.ctl.events
    a.transfer(f"sip:1002@127.0.0.1:{gateway.port}")
    b.wait_event("CALL_ESTABLISHED", 15)
    a.wait_event("CALL_CLOSED", 10)  # the transferor is hung up (or hangs up) once it worked
    assert tone_heard(gateway.ctl, 700, timeout=10), (gateway.ctl.events, gateway.output()[-4000:])
    time.sleep(3)
    b.hangup()
    b.wait_event("CALL_CLOSED", 10)
    f = dominant_frequency(b.heard_wav())
    assert f is not None and abs(f - 1004) <= 5, f
    d = disconnect(gateway.ctl)
    assert d and d["cause"] == 16, gateway.ctl.events
    out = gateway.output()
    assert "blind transfer of the PSTN party" in out and "joining the PSTN party" in out, out


INFO_UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="call the IVR, key 1 5 9 as SIP INFO, take its read-back as INFO">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:trunk@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:trunk@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:trunk@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="500"/>
DIGITS
READBACK
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:trunk@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 20 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <Reference variables="s1,s2,s3"/>
</scenario>
"""

INFO_SEND = """  <send retrans="500">
    <![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:trunk@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port];user=phone>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={digit}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
  <pause milliseconds="250"/>
"""

INFO_RECV = """  <recv request="INFO">
    <action>
      <ereg regexp="Signal=(.)" search_in="body" check_it="true" assign_to="s{n},d{n}"/>
      <test assign_to="ok{n}" variable="d{n}" compare="equal" value="{digit}"/>
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
"""


def test_info_dtmf_to_ivr_and_back(tmp_path, procs):
    """dtmf: info: SIP INFO digits are played in-band to the IVR, and the digits it plays
    back are detected and sent to the caller as INFO application/dtmf-relay."""
    if not SIPP:
        pytest.fail("sipp is not installed")
    span_addr = f"@tandem-e2e-{uuid.uuid4().hex[:12]}"
    port, sport = free_port(), free_port()
    sim = procs.start([binary("pstnsim"), "-c", PSTNSIM_CFG, "-s", str(tmp_path / "sim.sock"),
                       "--addr", f"1={span_addr}"], name="pstnsim")
    cfg = gw_config(tmp_path, port, span_addr)
    set_media(cfg, dtmf="info")
    trust_sipp(cfg, sport)
    gw = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert gw.wait_for("D-channel up", 10), gw.output() + sim.output()
    ctl = Ctl(str(tmp_path / "sim.sock"))
    digits = "159"
    sends = "".join(INFO_SEND.format(cseq=2 + i, digit=d) for i, d in enumerate(digits))
    recvs = "".join(INFO_RECV.format(n=i + 1, digit=d) for i, d in enumerate(digits))
    xml = INFO_UAC.replace("DIGITS", sends).replace("READBACK", recvs)
    xml = xml.replace('<Reference variables="s1,s2,s3"/>',
                      '<Reference variables="s1,s2,s3,d1,d2,d3,ok1,ok2,ok3"/>')
    sf = tmp_path / "info.xml"
    sf.write_text(xml)
    r = subprocess.run([SIPP, f"127.0.0.1:{port}", "-sf", str(sf), "-s", "+12125550102",
                        "-i", "127.0.0.1", "-p", str(sport), "-m", "1", "-nostdin",
                        "-timeout", "20", "-timeout_error", "-trace_err"],
                       cwd=tmp_path, capture_output=True, timeout=40)
    errs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("info*_errors.log"))
    assert r.returncode == 0, (errs, gw.output()[-4000:])
    deadline = time.monotonic() + 5
    while ctl.digits() != digits and time.monotonic() < deadline:
        ctl.pump(0.2)
    assert ctl.digits() == digits, ctl.events
    out = gw.output()
    assert out.count("INFO digit") == 3, out[-4000:]
    heard = re.findall(r"digit (.) heard \(\d+ ms\): INFO", out)
    assert "".join(heard) == digits, (heard, out[-4000:])  # read back in order, once each
    ctl.close()
