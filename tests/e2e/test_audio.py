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
import re
import sqlite3
import time

import pytest

from conftest import free_port
from peers import baresip as bsmod
from peers import gateway as gwmod
from peers import sipp
from peers.audio import dominant_frequency, make_tone_wav, tone_ratio_db

pytestmark = pytest.mark.skipif(not bsmod.available(), reason="baresip not installed")

PHONE_HZ = 1400  # in pstnsim's detect_tones


@pytest.fixture
def gateway(tmp_path, procs):
    return gwmod.start(tmp_path, procs, md5=True)


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
    gw = gwmod.start(tmp_path, procs, md5=True, media={"srtp": "optional"})
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


# SIPp as a trunk: INVITE, ACK, then no RTP at all until the gateway's BYE.
NO_RTP_UAC = sipp.scenario(
    "answered call that never sends RTP",
    sipp.invite("trunk", sdp=sipp.sdp(8, 101)), sipp.provisional(), sipp.recv(200, rrs=True),
    sipp.ack("trunk"), sipp.recv("BYE", sipp.ereg(r"Q\.850;cause=41", "reason", "Reason:")),
    sipp.ok_reply())


def test_rtp_timeout_clears_call(tmp_path, procs, need_sipp):
    sport = free_port()
    gw = gwmod.start(tmp_path, procs, media={"rtp_timeout": 3}, trusted=[sport])
    t0 = time.monotonic()
    rc, report = sipp.run_uac(tmp_path, gw.port, NO_RTP_UAC, "+12125550101", sport,
                              name="norpt", timeout=25, wait=40)
    took = time.monotonic() - t0
    assert rc == 0, (report, gw.output()[-4000:])
    assert took < 15, took
    d = disconnect(gw.ctl)
    assert d and d["cause"] == 41, gw.ctl.events
    assert "no RTP for 3 s" in gw.output()


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


def info_uac(digits):
    """Call the IVR, key the digits as SIP INFO, take its read-back as INFO, hang up."""
    sends = "".join(
        sipp.in_dialog("INFO", "trunk", 2 + i, body=[f"Signal={d}", "Duration=160"],
                       ctype="application/dtmf-relay") + sipp.recv(200) + sipp.pause(250)
        for i, d in enumerate(digits))
    recvs = "".join(
        sipp.recv("INFO", sipp.ereg("Signal=(.)", f"s{n},d{n}", search_in="body"),
                  f'<test assign_to="ok{n}" variable="d{n}" compare="equal" value="{d}"/>')
        + sipp.ok_reply() for n, d in enumerate(digits, 1))
    return sipp.scenario(
        "call the IVR, key 1 5 9 as SIP INFO, take its read-back as INFO",
        sipp.invite("trunk", sdp=sipp.sdp(8)), sipp.provisional(), sipp.recv(200, rrs=True),
        sipp.ack("trunk"), sipp.pause(500), sends, recvs, sipp.bye("trunk", 20))


def test_info_dtmf_to_ivr_and_back(tmp_path, procs, need_sipp):
    """dtmf: info: SIP INFO digits are played in-band to the IVR, and the digits it plays
    back are detected and sent to the caller as INFO application/dtmf-relay."""
    sport = free_port()
    gw = gwmod.start(tmp_path, procs, media={"dtmf": "info"}, trusted=[sport])
    ctl = gw.ctl
    digits = "159"
    rc, report = sipp.run_uac(tmp_path, gw.port, info_uac(digits), "+12125550102", sport,
                              name="info", timeout=20)
    assert rc == 0, (report, gw.output()[-4000:])
    deadline = time.monotonic() + 5
    while ctl.digits() != digits and time.monotonic() < deadline:
        ctl.pump(0.2)
    assert ctl.digits() == digits, ctl.events
    out = gw.output()
    assert out.count("INFO digit") == 3, out[-4000:]
    heard = re.findall(r"digit (.) heard \(\d+ ms\): INFO", out)
    assert "".join(heard) == digits, (heard, out[-4000:])  # read back in order, once each
