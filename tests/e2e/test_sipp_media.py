"""Audio through the gateway with SIPp as a trunk (INVITE offering PCMA 8 and
telephone-event 101, trusted by address) and pstnsim on a virtual E1:

- SIPp plays Debian's g711a.pcap (`play_pcap_audio`, 7.08 s of speech, PCMA in 30 ms
  packets) to the echo subscriber; pstnsim records what the call hears on its B-channel
  and the test compares it with the pcap's own audio, decoded here: cross-correlation per
  0.5 s segment (after the jitter buffer's delay), level, and bit-exactness (A-law RTP onto
  an A-law E1 needs no transcoding);
- SIPp plays the RFC 2833 DTMF pcaps to the IVR: pstnsim's detector hears exactly those
  digits, once each, and the recording shows the tones the gateway generated (frequencies
  within 1.5 %, levels, twist, length);
- the reverse direction, with a small RTP endpoint in this test (its port in SIPp's SDP,
  SIPp sending no media) receiving what the gateway sends: the same speech played by
  pstnsim (bit-exact without the echo canceller, a flat fixed filter over 300-3400 Hz with
  it), the 1004 Hz tone of +12125550100 at -10 dBm0 (frequency and level), the IVR's
  in-band digits as RFC 4733 events (digits, marker, three end packets, durations) with
  the tones themselves kept out of the audio, and RFC 4733 digits of ours going to the IVR
  and coming back from it.

Everything on 127.0.0.1; every process and wait bounded in time.
"""
import math
import operator
import os
import select
import socket
import struct
import threading
import time
import wave

import pytest

from conftest import SIPP, free_port
from peers import gateway as gwmod
from peers import sipp

PCAPS = "/usr/share/sip-tester"
G711A = os.path.join(PCAPS, "g711a.pcap")
RATE = 8000

pytestmark = [
    pytest.mark.skipif(not SIPP, reason="sipp is not installed (packaging/deps.sh)"),
    pytest.mark.skipif(not os.path.exists(G711A), reason="sip-tester's pcaps are missing"),
]

ECHO, IVR, TONE = "+12125550101", "+12125550102", "+12125550100"

# ---- pcap, A-law, RTP -------------------------------------------------------------------


def pcap_rtp(path):
    """The RTP packets of a classic pcap (Ethernet or Linux cooked, IPv4/UDP), in order."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    link = struct.unpack(e + "I", data[20:24])[0]
    skip = {1: 14, 113: 16}[link]
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = frame[skip:]
        udp = ip[(ip[0] & 15) * 4:]
        out.append(udp[8:struct.unpack(">H", udp[4:6])[0]])
    return out


def rtp_parse(pkt):
    """(payload type, marker, seq, timestamp, ssrc, payload) of a plain RTP packet."""
    b0, b1, seq, ts, ssrc = struct.unpack(">BBHII", pkt[:12])
    off = 12 + 4 * (b0 & 15)
    if b0 & 0x10:  # extension
        off += 4 + 4 * struct.unpack(">H", pkt[off + 2:off + 4])[0]
    end = len(pkt) - (pkt[-1] if b0 & 0x20 else 0)
    return b1 & 0x7F, bool(b1 & 0x80), seq, ts, ssrc, pkt[off:end]


def _alaw(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t += 8 if seg == 0 else 0x108
    if seg > 1:
        t <<= seg - 1
    return t if a & 0x80 else -t


ALAW = [_alaw(a) for a in range(256)]  # G.711 A-law to 16-bit linear


def alaw_decode(data):
    return [ALAW[b] for b in data]


def dbm0(amp):
    """pstnsim's and spandsp's convention: a full-scale sine is +3.14 dBm0."""
    return 20 * math.log10(amp / 32767) + 3.14 if amp > 0 else -99.0


def goertzel_amp(x, hz):
    k = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + k * s1 - s2, s1
    p = s1 * s1 + s2 * s2 - k * s1 * s2
    return 2 * math.sqrt(max(p, 0)) / len(x)


def read_wav(path):
    """The samples of pstnsim's recording: 16-bit, 8 kHz, mono."""
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        raw = w.readframes(w.getnframes())
    return list(struct.unpack(f"<{len(raw) // 2}h", raw))


def rms(x):
    return math.sqrt(sum(v * v for v in x) / len(x)) if x else 0.0


def dot(a, b):
    return sum(map(operator.mul, a, b))


# ---- the gateway, pstnsim and SIPp --------------------------------------------------------


def start_gw(tmp_path, procs, echo_cancel=True):
    # SIPp trusted by address, no digest; three ports in case one is taken when SIPp starts
    sports = [free_port() for _ in range(3)]
    ec = [] if echo_cancel else [("echo_cancel: { enabled: true", "echo_cancel: { enabled: false")]
    g = gwmod.start(tmp_path, procs, trusted=sports, replace=ec)
    g.sports = sports
    return g


@pytest.fixture
def gw(tmp_path, procs):
    return start_gw(tmp_path, procs)


def trunk_call(actions, media_port=None):
    """SIPp as the trunk: INVITE (our SDP: PCMA and telephone-event), ACK, the actions, BYE."""
    offer = sipp.sdp(8, 101, port=media_port or "[media_port]", conn="[media_ip]",
                     extra=["a=fmtp:101 0-16", "a=ptime:20"])
    caller = "+12125559999"
    return sipp.scenario(
        "trunk call with media", sipp.invite(caller, sdp=offer, contact="trunk"),
        sipp.provisional(), sipp.recv(200, rrs=True), sipp.ack(caller), actions,
        sipp.bye(caller))


def play(pcap):
    return (f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n')


@pytest.fixture
def sipps(tmp_path, procs):
    """sipps(gw, number, actions, media_port=None, name="call"): one SIPp call (trunk_call)
    in the background. A port picked earlier may be taken by someone else before SIPp
    binds it: then SIPp stops at once, before sending anything, and the next trusted one
    is tried."""
    def start(gw, number, actions, media_port=None, name="call"):
        xml = trunk_call(actions, media_port)
        for sport in gw.sports:
            s = sipp.start_uac(procs, tmp_path, gw.port, xml, number, sport, name=name,
                               timeout=60, extra=["-mi", "127.0.0.1",
                                                  "-mp", str(sipp.media_port())])
            if s.running_after(0.3) or "Unable to bind" not in s.report():
                return s
            (tmp_path / f"{name}_errors.log").unlink(missing_ok=True)
        return s
    return start


def connected(gw, to, timeout=15):
    """pstnsim's connect event of the call to `to` (its call id is in it)."""
    setup = gw.ctl.wait_event(lambda e: e["event"] == "setup" and e["to"] == to, timeout)
    assert setup, (gw.ctl.events, gw.output()[-4000:])
    call = setup["call"]
    assert gw.ctl.wait_event(lambda e: e["event"] == "connect" and e["call"] == call, timeout), \
        gw.ctl.events
    return call


# ---- a bare RTP endpoint for the reverse direction ----------------------------------------


class RtpPeer:
    """An RTP endpoint on 127.0.0.1 (even port, the odd one bound too for RTCP). It keeps
    every packet it receives; once the gateway's first packet arrives it sends back 20 ms
    of PCMA silence every 20 ms from the same socket, as a symmetric-RTP phone does, and
    the digits given to send_digits() as RFC 4733 events (pt 101) instead of the silence:
    100 ms each (marker, updates every 20 ms, three end packets), 200 ms apart."""

    def __init__(self, seconds=60):
        for _ in range(100):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if port % 2 == 0:
                r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    r.bind(("127.0.0.1", port + 1))
                    break
                except OSError:
                    r.close()
            s.close()
        else:
            raise RuntimeError("no RTP port pair")
        self.s, self.rtcp, self.port = s, r, port
        self.packets = []  # (arrival, pt, marker, seq, ts, ssrc, payload)
        self.bad = 0
        self.peer = None
        self.sent = 0
        self.dtmf = []  # packets (pt, marker, ts offset from the event start, payload) to go
        self.deadline = time.monotonic() + seconds
        self.stopping = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        seq, ts, ssrc = 1000, 0, 0x5A5A1234
        nxt = time.monotonic()
        while not self.stopping and time.monotonic() < self.deadline:
            r, _, _ = select.select([self.s, self.rtcp], [], [], 0.005)
            for sk in r:
                data, addr = sk.recvfrom(2048)
                if sk is self.rtcp:
                    continue
                try:
                    self.packets.append((time.monotonic(),) + rtp_parse(data))
                except (struct.error, IndexError):
                    self.bad += 1
                    continue
                if self.peer is None:
                    self.peer = addr
                    nxt = time.monotonic()
            if self.peer and time.monotonic() >= nxt:
                pt, m, pay, evts = 8, 0, b"\xd5" * 160, ts
                if self.dtmf:
                    pt, m, back, pay = self.dtmf.pop(0)
                    evts = ts - back
                hdr = struct.pack(">BBHII", 0x80, pt | m << 7, seq & 0xFFFF,
                                  evts & 0xFFFFFFFF, ssrc)
                self.s.sendto(hdr + pay, self.peer)
                seq, ts, nxt = seq + 1, ts + 160, nxt + 0.02
                self.sent += 1

    def send_digits(self, digits):
        pk = []
        for d in digits:
            ev = DIGITS.index(d)
            for k in range(5):  # 0..80 ms: the tone goes on
                pk.append((101, int(k == 0), 160 * k, struct.pack(">BBH", ev, 10, 160 * (k + 1))))
            for k in range(3):  # the end, three times, each a frame later
                pk.append((101, 0, 160 * (5 + k), struct.pack(">BBH", ev, 0x80 | 10, 800)))
            pk += [(8, 0, 0, b"\xd5" * 160)] * 10
        self.dtmf += pk  # the sending thread pops them one per 20 ms

    def stop(self):
        self.stopping = True
        self.t.join(5)
        self.s.close()
        self.rtcp.close()

    def audio(self, pt=8):
        """The PCMA received, decoded, in sequence order (16-bit extended)."""
        pk = [p for p in self.packets if p[1] == pt]
        ext, last, hi = [], None, 0
        for p in pk:
            if last is not None and p[3] < last and last - p[3] > 0x8000:
                hi += 0x10000
            last = p[3]
            ext.append((hi + p[3], p[6]))
        ext.sort()
        return alaw_decode(b"".join(x[1] for x in ext)), len(pk)

    def events(self, pt=101):
        """RFC 4733 events by timestamp, in order: (ts, event, end packets, max duration,
        volume, packets, marker seen, first arrival)."""
        by = {}
        for arr, ppt, m, seq, ts, ssrc, pay in self.packets:
            if ppt != pt or len(pay) < 4:
                continue
            ev, fl, dur = pay[0], pay[1], struct.unpack(">H", pay[2:4])[0]
            e = by.setdefault(ts, {"ts": ts, "event": ev, "ends": 0, "duration": 0,
                                   "volume": fl & 0x3F, "packets": 0, "marker": False,
                                   "first": arr, "events": set()})
            e["events"].add(ev)
            e["packets"] += 1
            e["marker"] |= m
            e["duration"] = max(e["duration"], dur)
            if fl & 0x80:
                e["ends"] += 1
        return sorted(by.values(), key=lambda e: e["first"])


@pytest.fixture
def rtp_peer():
    peers = []

    def make():
        p = RtpPeer()
        peers.append(p)
        return p

    yield make
    for p in peers:
        p.stop()


DIGITS = "0123456789*#ABCD"

# ---- a) g711a.pcap into the B-channel -----------------------------------------------------


def envelope(x, step=80):
    """RMS per 10 ms, mean removed (so that the best lag is the one where speech lines up,
    not the one where most of the loud part overlaps)."""
    e = [rms(x[i:i + step]) for i in range(0, len(x) - step + 1, step)]
    m = sum(e) / len(e)
    return [v - m for v in e]


def best_lag(ref, rec, lo, hi):
    """The lag (samples) in [lo, hi] where rec[i + lag] best matches ref[i] (normalised
    correlation), and that correlation."""
    best, bestc = lo, -2.0
    e_ref = dot(ref, ref)
    for lag in range(lo, hi + 1):
        if lag < 0 or lag + len(ref) > len(rec):
            continue
        seg = rec[lag:lag + len(ref)]
        e = e_ref * dot(seg, seg)
        c = dot(ref, seg) / math.sqrt(e) if e > 0 else 0.0
        if c > bestc:
            best, bestc = lag, c
    return best, bestc


def compare(ref, rec):
    """Aligns rec (what pstnsim recorded) with ref (the pcap's audio): a coarse lag from
    10 ms envelopes, then per 0.5 s segment of ref with speech in it, the best lag within
    +-30 ms of the coarse one and its correlation, the level difference and whether the
    segment arrived bit-exact."""
    er, ec = envelope(ref), envelope(rec)
    coarse, cc = best_lag(er, ec, 0, len(ec) - len(er))
    coarse *= 80
    seg, out = 4000, []
    for start in range(0, len(ref) - seg + 1, seg):
        r = ref[start:start + seg]
        if rms(r) < 100:  # about -50 dBFS: the pcap's opening silence
            continue
        lag, c = best_lag(r, rec, coarse + start - 240, coarse + start + 240)
        got = rec[lag:lag + seg]
        out.append({"t": start / RATE, "lag_ms": (lag - start) / 8, "corr": round(c, 4),
                    "db": round(20 * math.log10(rms(got) / rms(r)), 2) if rms(got) else -99,
                    "exact": got == r})
    return coarse / 8, round(cc, 3), out



def aligned_segments(label, ref, got):
    """compare(ref, got), printed under label; at least 10 segments with speech, all at one
    delay (within a few frames of drift). Returns the segments."""
    coarse_ms, coarse_corr, segs = compare(ref, got)
    print(f"{label} delay {coarse_ms:.1f} ms (envelope corr {coarse_corr})")
    for g in segs:
        print("  ", g)
    assert len(segs) >= 10, segs
    lags = [g["lag_ms"] for g in segs]
    assert max(lags) - min(lags) <= 30, lags
    return segs

def test_g711a_pcap_reaches_the_b_channel(tmp_path, gw, sipps):
    pk = [rtp_parse(p) for p in pcap_rtp(G711A)]
    assert {p[0] for p in pk} == {8} and len(pk) > 200, "g711a.pcap: PCMA expected"
    assert all(b[2] - a[2] == 1 and b[3] - a[3] == 240 for a, b in zip(pk, pk[1:]))
    ref = alaw_decode(b"".join(p[5] for p in pk))  # 7.08 s in 30 ms packets
    wav = tmp_path / "heard.wav"
    s = sipps(gw, ECHO, sipp.pause(1500) + play(G711A) + sipp.pause(int(len(ref) / 8) + 1500),
              name="g711a")
    call = connected(gw, ECHO)
    r = gw.ctl.send({"cmd": "record", "call": call, "path": str(wav), "seconds": 20})
    assert r["ok"], r
    assert s.wait(40) == 0, s.report() + gw.output()[-4000:]
    rec_ev = gw.ctl.wait_event(lambda e: e["event"] == "recorded" and e["call"] == call, 10)
    assert rec_ev and "error" not in rec_ev, gw.ctl.events
    rec = read_wav(wav)
    assert len(rec) == rec_ev["samples"] and len(rec) > len(ref)
    segs = aligned_segments(f"g711a: recorded {len(rec) / RATE:.2f} s, pcap "
                            f"{len(ref) / RATE:.2f} s,", ref, rec)
    good = [g for g in segs if g["corr"] > 0.95 and abs(g["db"]) < 1.0]
    assert len(good) == len(segs), (segs, gw.output()[-3000:])
    lags = [g["lag_ms"] for g in segs]
    assert 0 < min(lags) and max(lags) < 1500 + 400, lags  # the 1.5 s pause + the buffer
    exact = sum(g["exact"] for g in segs)
    print(f"g711a: {exact}/{len(segs)} segments bit-exact")
    assert exact >= len(segs) - 1, segs  # A-law RTP onto an A-law E1 is transparent


# ---- b) RFC 2833 pcaps to the IVR ---------------------------------------------------------

ROWS, COLS = [697, 770, 852, 941], [1209, 1336, 1477, 1633]
KEYS = ["123A", "456B", "789C", "*0#D"]
PAIR = {KEYS[r][c]: (ROWS[r], COLS[c]) for r in range(4) for c in range(4)}


def dtmf_blocks(x, size=160, hop=80):
    """Blocks (size samples every hop) where one DTMF pair carries most of the energy and
    is above about -30 dBm0: a list of (start sample, digit)."""
    floor = (32767 * 10 ** ((-30 - 3.14) / 20)) ** 2 / 2
    found = []
    for i in range(0, len(x) - size + 1, hop):
        b = x[i:i + size]
        e = rms(b) ** 2
        if e < floor:
            continue
        ra = [goertzel_amp(b, f) for f in ROWS]
        ca = [goertzel_amp(b, f) for f in COLS]
        r, c = max(range(4), key=lambda k: ra[k]), max(range(4), key=lambda k: ca[k])
        if (ra[r] ** 2 + ca[c] ** 2) / 2 > 0.8 * e:
            found.append((i, KEYS[r][c]))
    return found


def dtmf_tones(x, hop=80):
    """The DTMF tones in x, each as (digit, duration ms, low Hz, high Hz, low dBm0, high
    dBm0): runs of blocks of one digit, measured over the run less 10 ms at each end."""
    tones, run = [], []
    for i, d in dtmf_blocks(x, hop=hop) + [(None, None)]:
        if run and (d != run[-1][1] or i != run[-1][0] + hop):
            dg = run[0][1]
            seg = x[run[0][0] + hop:run[-1][0] + 160 - hop]
            lo, hi = PAIR[dg]
            flo = max(range(lo - 25, lo + 26), key=lambda f: goertzel_amp(seg, f))
            fhi = max(range(hi - 25, hi + 26), key=lambda f: goertzel_amp(seg, f))
            tones.append((dg, (run[-1][0] + 160 - run[0][0]) / 8, flo, fhi,
                          round(dbm0(goertzel_amp(seg, lo)), 1),
                          round(dbm0(goertzel_amp(seg, hi)), 1)))
            run = []
        if d is not None:
            run.append((i, d))
    return tones


def test_dtmf_analysis_finds_synthetic_digits():
    """The analysis the digit tests rely on, on tones of known frequency, level, length."""
    def pair(d, ms, lo_db, hi_db):
        r, c = PAIR[d]
        a, b = (32767 * 10 ** ((v - 3.14) / 20) for v in (lo_db, hi_db))
        return [int(a * math.sin(2 * math.pi * r * n / RATE) +
                    b * math.sin(2 * math.pi * c * n / RATE)) for n in range(ms * 8)]
    x = [0] * 800 + pair("5", 60, -10, -8) + [0] * 800 + pair("#", 200, -12, -12) + [0] * 400
    t = dtmf_tones(x)
    assert [v[0] for v in t] == ["5", "#"], t
    assert 50 <= t[0][1] <= 70 and 190 <= t[1][1] <= 210, t
    assert (t[0][2], t[0][3], t[1][2], t[1][3]) == (770, 1336, 941, 1477), t
    assert abs(t[0][4] + 10) < 0.5 and abs(t[0][5] + 8) < 0.5 and abs(t[1][4] + 12) < 0.5, t


def dtmf_pcap(d):
    return os.path.join(PCAPS, "dtmf_2833_%s.pcap" % {"*": "star", "#": "pound"}.get(d, d))


@pytest.mark.parametrize("digits", ["159", "123456789*#", "0"])
def test_rfc2833_pcaps_reach_the_ivr(tmp_path, gw, sipps, digits):
    # The pcaps share one SSRC with rising sequence numbers and timestamps in the order
    # 1..9, *, #; 0 was captured later, so it gets a call of its own.
    for d in digits:
        ev = rtp_parse(pcap_rtp(dtmf_pcap(d))[0])
        assert ev[0] == 101 and ev[5][0] == DIGITS.index(d), (d, ev)
    acts = sipp.pause(1500) + "".join(play(dtmf_pcap(d)) + sipp.pause(700) for d in digits)
    s = sipps(gw, IVR, acts + sipp.pause(1000), name="dtmf")
    call = connected(gw, IVR)
    wav = tmp_path / "ivr-heard.wav"
    assert gw.ctl.send({"cmd": "record", "call": call, "path": str(wav), "seconds": 30})["ok"]
    assert s.wait(60) == 0, s.report() + gw.output()[-4000:]
    deadline = time.monotonic() + 5
    while gw.ctl.digits(call) != digits and time.monotonic() < deadline:
        gw.ctl.pump(0.2)
    gw.ctl.pump(0.5)  # nothing more (doubled digits) afterwards
    heard = gw.ctl.digits(call)
    assert heard == digits, (heard, [e for e in gw.ctl.events if e["event"] == "digits"],
                             gw.output()[-5000:])
    # the tones themselves, as the IVR heard them: frequencies, levels, lengths (Q.23/Q.24)
    assert gw.ctl.wait_event(lambda e: e["event"] == "recorded" and e["call"] == call, 10)
    tones = dtmf_tones(read_wav(wav))
    for t in tones:
        print("  ", t)
    assert "".join(t[0] for t in tones) == digits, tones
    for d, ms, flo, fhi, lo_db, hi_db in tones:
        lo, hi = PAIR[d]
        assert abs(flo - lo) <= lo * 0.015 and abs(fhi - hi) <= hi * 0.015, (d, flo, fhi)
        assert -20 <= lo_db <= -3 and -20 <= hi_db <= -3, (d, lo_db, hi_db)
        assert -4 <= hi_db - lo_db <= 4, (d, lo_db, hi_db)  # twist
        assert ms >= 40, (d, ms)


# ---- c) the reverse direction: audio, tone and digits towards the trunk -------------------


def cross_spectrum(ref, x, freqs, size=400):
    """Per frequency: the gain (dB) and coherence of x against ref, averaged over
    Hann-windowed blocks of `size` samples where ref has speech. A fixed linear filter
    with no noise added gives coherence 1; muting, suppression or clipping lower it."""
    win = [0.5 - 0.5 * math.cos(2 * math.pi * n / size) for n in range(size)]
    tabs = {f: ([w * math.cos(2 * math.pi * f * n / RATE) for n, w in enumerate(win)],
                [w * math.sin(2 * math.pi * f * n / RATE) for n, w in enumerate(win)])
            for f in freqs}
    acc = {f: [0.0, 0.0, 0.0, 0.0] for f in freqs}  # Sxx, Syy, Re Sxy, Im Sxy
    for i in range(0, len(ref) - size + 1, size // 2):
        r, y = ref[i:i + size], x[i:i + size]
        if rms(r) < 300:
            continue
        for f, (c, s_) in tabs.items():
            rr, ri = dot(r, c), -dot(r, s_)
            yr, yi = dot(y, c), -dot(y, s_)
            a = acc[f]
            a[0] += rr * rr + ri * ri
            a[1] += yr * yr + yi * yi
            a[2] += yr * rr + yi * ri  # y * conj(r)
            a[3] += yi * rr - yr * ri
    out = {}
    for f, (sxx, syy, cre, cim) in acc.items():
        out[f] = (round(10 * math.log10(syy / sxx), 2),
                  round((cre ** 2 + cim ** 2) / (sxx * syy), 4))
    return out


@pytest.mark.parametrize("echo_cancel", [False, True], ids=["ec_off", "ec_on"])
def test_pcap_audio_reaches_the_trunk(tmp_path, procs, sipps, rtp_peer, echo_cancel):
    """The same speech the other way: pstnsim plays g711a.pcap's audio (as a WAV) into the
    call and our RTP endpoint receives it. Without the echo canceller the engine must be
    transparent (bit-exact). With it (nothing to cancel: we send silence) the audio must
    come through as through a fixed filter, flat within 1 dB over 300-3400 Hz and with no
    suppression or noise (coherence); speexdsp's canceller always high-passes its input
    (its DC notch, radius 0.9 at 8 kHz: -10 dB at 100 Hz, -2.4 dB at 200 Hz, -0.7 dB at
    300 Hz, with the phase turning with it), so below 300 Hz is not judged."""
    gw = start_gw(tmp_path, procs, echo_cancel=echo_cancel)
    ref = alaw_decode(b"".join(rtp_parse(p)[5] for p in pcap_rtp(G711A)))
    src = tmp_path / "g711a.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(ref)}h", *ref))
    peer = rtp_peer()
    s = sipps(gw, TONE, sipp.pause(int(len(ref) / 8) + 2500), media_port=peer.port,
              name="reverse")
    call = connected(gw, TONE)
    assert gw.ctl.send({"cmd": "play", "call": call, "path": str(src)})["ok"]
    assert gw.ctl.wait_event(lambda e: e["event"] == "played" and e["call"] == call, 15)
    assert s.wait(30) == 0, s.report() + gw.output()[-4000:]
    peer.stop()
    gw.ctl.close()
    x, n = peer.audio()
    segs = aligned_segments(f"reverse (echo canceller {'on' if echo_cancel else 'off'}): "
                            f"received {n} packets ({len(x) / RATE:.2f} s),", ref, x)
    if not echo_cancel:
        assert all(g["corr"] > 0.95 and abs(g["db"]) < 1.0 for g in segs), segs
        exact = sum(g["exact"] for g in segs)
        assert exact >= len(segs) - 1, segs
        return
    lags = [g["lag_ms"] for g in segs]
    lag = round(sorted(lags)[len(lags) // 2] * 8)
    spec = cross_spectrum(ref, x[lag:lag + len(ref)], range(100, 3500, 100))
    for f, (gain, coh) in spec.items():
        print(f"   {f} Hz: gain {gain:+.2f} dB, coherence {coh}")
    band = {f: v for f, v in spec.items() if f >= 300}
    assert all(abs(g) <= 1.0 for g, c in band.values()), band
    # Re-encoding the filtered speech to A-law adds its quantisation noise, which matters
    # only where the speech is faint (above 2.5 kHz in this recording).
    assert all(c >= (0.99 if f <= 2500 else 0.9) for f, (g, c) in band.items()), band


def test_tone_reaches_the_trunk(tmp_path, gw, sipps, rtp_peer):
    peer = rtp_peer()
    s = sipps(gw, TONE, sipp.pause(4000), media_port=peer.port, name="tone")
    connected(gw, TONE)
    assert s.wait(30) == 0, s.report() + gw.output()[-4000:]
    peer.stop()
    x, n = peer.audio()
    assert n > 150, (n, len(peer.packets), gw.output()[-3000:])  # 3+ s of 20 ms packets
    assert peer.sent > 100, peer.sent
    mid = x[len(x) // 2 - 4000:len(x) // 2 + 4000]
    scan = max(range(300, 3400, 10), key=lambda f: goertzel_amp(mid[:1600], f))
    freq = max(range(scan - 10, scan + 11), key=lambda f: goertzel_amp(mid, f))
    amp = goertzel_amp(mid, 1004)
    share = amp * amp / 2 / (rms(mid) ** 2)
    print(f"tone: {n} packets, {freq} Hz, {dbm0(amp):.2f} dBm0, share {share:.3f}")
    assert abs(freq - 1004) <= 2, freq
    assert abs(dbm0(amp) + 10) < 0.5, dbm0(amp)
    assert share > 0.95, share


def test_ivr_digits_reach_the_trunk_as_rfc4733(tmp_path, gw, sipps, rtp_peer):
    digits = "0123456789*#"
    peer = rtp_peer()
    s = sipps(gw, IVR, sipp.pause(6000), media_port=peer.port, name="ivr")
    call = connected(gw, IVR)
    time.sleep(0.5)
    r = gw.ctl.send({"cmd": "digits", "call": call, "digits": digits})
    assert r["ok"], r
    assert s.wait(30) == 0, s.report() + gw.output()[-4000:]
    peer.stop()
    evs = peer.events()
    got = "".join(DIGITS[e["event"]] if e["event"] < 16 else "?" for e in evs)
    for e in evs:
        print({k: v for k, v in e.items() if k != "first"})
    assert got == digits, (got, evs, gw.output()[-4000:])
    for e in evs:
        assert e["events"] == {e["event"]}, e  # one event per timestamp
        assert e["ends"] == 3, e  # the end packet sent three times
        assert e["marker"], e  # the start carries the marker
        assert 320 <= e["duration"] <= 2000, e  # spandsp plays 50 ms; at least 40 ms
        assert e["volume"] <= 63
    # the far end must not hear each digit twice: no DTMF left in the audio
    x, n = peer.audio()
    leaks = dtmf_tones(x)
    print(f"digits: {len(evs)} events, {n} audio packets, DTMF in the audio: {leaks}")
    assert not [t for t in leaks if t[1] >= 40], leaks  # nothing a detector would take


def test_rfc4733_round_trip_through_the_ivr(tmp_path, gw, sipps, rtp_peer):
    """Our RFC 4733 digits reach the IVR in-band; it plays each back; the gateway hears
    that and sends it to us as RFC 4733: both halves of the trunk's DTMF in one call."""
    digits = "159#"
    peer = rtp_peer()
    s = sipps(gw, IVR, sipp.pause(5000), media_port=peer.port, name="roundtrip")
    call = connected(gw, IVR)
    deadline = time.monotonic() + 5
    while peer.peer is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert peer.peer, "no RTP from the gateway"
    time.sleep(0.3)
    peer.send_digits(digits)
    assert s.wait(30) == 0, s.report() + gw.output()[-4000:]
    peer.stop()
    gw.ctl.pump(0.3)
    heard = gw.ctl.digits(call)
    evs = peer.events()
    back = "".join(DIGITS[e["event"]] for e in evs if e["event"] < 16)
    print(f"round trip: sent {digits}, the IVR heard {heard}, came back {back}")
    for e in evs:
        print({k: v for k, v in e.items() if k != "first"})
    assert heard == digits, (heard, gw.output()[-4000:])
    assert back == digits, (back, evs, gw.output()[-4000:])
