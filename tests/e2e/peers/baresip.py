"""A real softphone for end-to-end tests: baresip 1.0 (Debian) driven over ctrl_tcp.

    f = BaresipFactory(tmp_path)          # in a fixture; f.stop_all() in its finaliser
    bs = f.new("1001", account="1001", password="demo1001", registrar="127.0.0.1:5060",
               wav_source=make_tone_wav(tmp_path / "t.wav", 697, 30))
    bs.wait_event("REGISTER_OK", 10)
    bs.dial("sip:+12125550100@127.0.0.1:5060"); bs.wait_event("CALL_ESTABLISHED", 10)
    bs.send_dtmf("123#"); bs.hangup(); bs.wait_event("CALL_CLOSED", 5)
    dominant_frequency(bs.heard_wav())    # peers.audio

Each instance has its own config dir, SIP port (baresip also binds PORT+1 for TLS:
sip_ports() picks even ports whose neighbour is free), a ctrl_tcp port, an aufile audio
source (baresip 1.0 hangs up when the WAV ends: make it longer than the call; without
one, 120 s of silence) and the sndfile module dumping what it sends (`*-enc.wav`) and
hears (`*-dec.wav`) into record_dir. No sound card: the player is an aubridge device
nobody reads (ALSA's `null` device spins a CPU at 50%). SIP and ctrl_tcp listen on
127.0.0.1; RTP uses ports 20000-29999 (below the ephemeral range free ports come from),
bound to 0.0.0.0 by baresip but only ever sent to the 127.0.0.1 in the SDP.
The account is added with `uanew` once ctrl_tcp is connected, so no event is missed.

Events arrive as dicts such as {"event": true, "type": "CALL_ESTABLISHED",
"class": "call", "accountaor": ..., "direction": "incoming", "peeruri": ...,
"id": CALL-ID, "param": ...}. Types seen: REGISTERING, REGISTER_OK (param "200 OK"),
REGISTER_FAIL (param: the error), CALL_INCOMING (manual answer mode only),
CALL_RINGING (180), CALL_PROGRESS (183 + SDP), CALL_ESTABLISHED, CALL_RTPESTAB
(first RTP in), CALL_LOCAL_SDP / CALL_REMOTE_SDP (param offer/answer), CALL_RTCP,
CALL_MENC (param "0,audio,AES_CM_128_HMAC_SHA1_80"), CALL_DTMF_START (param: the
digit) and CALL_DTMF_END, TRANSFER (param: the REFER target), CALL_CLOSED (param:
the reason, e.g. "Connection reset by peer", "488 Not Acceptable Here").

baresip 1.0 limits and quirks:
- DTMF goes out as RFC 4733 only (no INFO sending); INFO application/dtmf-relay is
  received and reported as CALL_DTMF_START like RFC 4733.
- digest MD5 only: a SHA-256 challenge listed first makes it fail (REGISTER_FAIL
  "Function not implemented"); it does not try the MD5 one after it.
- its Contact user is "USER-0xADDR", not USER; calls to USER@its-address reach it too.
- sndfile names files by the second: a second stream within the same second
  overwrites. After hold/resume, and on the answering side of 183-then-200, the rx
  recording stops although RTP keeps flowing: check audio before, or rtp_counts().
- hold (a=sendonly offer) stops audio both ways; answermode=early sends 183 with SDP
  but no audio until answered.
"""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

BARESIP = "/usr/bin/baresip"
MODULE_PATH = "/usr/lib/baresip/modules"


def available():
    return os.access(BARESIP, os.X_OK) and os.path.exists(os.path.join(MODULE_PATH,
                                                                       "ctrl_tcp.so"))


def _free(port, kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)):
    for kind in kinds:
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


_taken = set()  # ports handed out in this process, so two instances never get neighbours
_taken_lock = threading.Lock()


def sip_ports(n=1):
    """n SIP ports, each with PORT and PORT+1 (baresip's TLS listener) free on UDP and
    TCP, never adjacent to one another nor to ports handed out before."""
    out = []
    with _taken_lock:
        for _ in range(400):
            if len(out) == n:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
            s.close()
            if p % 2 or p + 1 > 65535:
                continue
            if any(q in _taken for q in range(p - 1, p + 3)):
                continue
            if _free(p) and _free(p + 1):
                out.append(p)
                _taken.update((p, p + 1))
    if len(out) != n:
        raise RuntimeError("no free SIP port pair")
    return out if n > 1 else out[0]


def ctrl_port():
    """A free TCP port for ctrl_tcp."""
    with _taken_lock:
        for _ in range(100):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
            s.close()
            if p not in _taken and p - 1 not in _taken:
                _taken.add(p)
                return p
    raise RuntimeError("no free ctrl port")


class BaresipError(Exception):
    pass


class Baresip:
    def __init__(self, tmpdir, sip_port, ctrl_port, account="bs", password=None,
                 registrar=None, srtp=False, wav_source=None, record_dir=None,
                 answermode="auto", regint=60, rtp_ports=(20000, 29999), extra_config=(),
                 extra_account="", sip_trace=False, transport=None, codecs="PCMU,PCMA"):
        """account: the user part. registrar: "HOST:PORT" to register there (the AOR's
        domain); without it the AOR is the instance itself and it does not register.
        answermode: auto (answer at once), manual (use answer()) or early.
        transport: None (UDP), "tcp" or "tls" for the account's own requests.
        codecs: the audio codecs offered, in order (G.711 only is loaded)."""
        self.dir = str(tmpdir)
        self.sip_port = sip_port
        self.ctrl_port = ctrl_port
        self.user = account
        self.password = password
        self.registrar = registrar
        self.srtp = srtp
        self.wav_source = str(wav_source) if wav_source else None
        self.record_dir = str(record_dir) if record_dir else None
        self.answermode = answermode
        self.regint = regint if registrar else 0
        self.rtp_ports = rtp_ports
        self.extra_config = list(extra_config)
        self.extra_account = extra_account
        self.sip_trace = sip_trace
        self.transport = transport
        self.codecs = codecs
        self.proc = None
        self.sock = None
        self.events = []  # every event received, in order
        self._next = 0  # index of the first event wait_event has not consumed
        self._responses = {}
        self._cond = threading.Condition()
        self._reader = None
        self._token = 0
        self._closed = False
        self.logpath = os.path.join(self.dir, "baresip.log")
        self.log = None

    # ---- configuration ----
    @property
    def aor(self):
        """The address of record, as events report it in "accountaor"."""
        host = self.registrar or f"127.0.0.1:{self.sip_port}"
        return f"sip:{self.user}@{host}"

    @property
    def uri(self):
        """Where to reach this instance directly."""
        return f"sip:{self.user}@127.0.0.1:{self.sip_port}"

    def _config(self):
        lines = [
            "poll_method\tepoll",
            f"sip_listen\t127.0.0.1:{self.sip_port}",
            "net_interface\t127.0.0.1",
            "call_local_timeout\t30",
            "call_max_calls\t4",
            "audio_player\taubridge,nowhere",
            "audio_alert\taubridge,nowhere",
            f"audio_source\taufile,{self.wav_source}",
            "ausrc_format\ts16",
            "auplay_format\ts16",
            "audio_buffer\t20-160",
            "rtp_tos\t0",
            "rtcp_mux\tno",
            "jitter_buffer_delay\t1-10",
            "rtp_stats\tyes",
            f"module_path\t{MODULE_PATH}",
            "module\tg711.so",
            "module\taufile.so",
            "module\taubridge.so",
            "module\tctrl_tcp.so",
            "module_app\taccount.so",
            "module_app\tmenu.so",
            f"ctrl_tcp_listen\t127.0.0.1:{self.ctrl_port}",
            "menu_bell\tno",
            "ringback_disabled\tyes",
        ]
        if self.rtp_ports:
            lines.append(f"rtp_ports\t{self.rtp_ports[0]}-{self.rtp_ports[1]}")
        if self.srtp:
            lines.append("module\tsrtp.so")
        if self.record_dir:
            lines += ["module\tsndfile.so", f"snd_path\t{self.record_dir}"]
        return "\n".join(lines + self.extra_config) + "\n"

    def _account(self):
        tp = f";transport={self.transport}" if self.transport else ""
        acc = f"<{self.aor}{tp}>"
        if self.password is not None:
            acc += f";auth_user={self.user};auth_pass={self.password}"
        acc += f";regint={self.regint};answermode={self.answermode}"
        acc += f";audio_codecs={self.codecs}"
        if self.srtp:
            acc += ";mediaenc=srtp-mand"
        return acc + self.extra_account + "\n"

    def write_config(self):
        os.makedirs(self.dir, exist_ok=True)
        if not self.wav_source:
            # ausine is 48 kHz only in 1.0 and a call without a source fails: silence
            from .audio import make_silence_wav
            self.wav_source = make_silence_wav(os.path.join(self.dir, "silence.wav"), 120)
        if self.record_dir:
            os.makedirs(self.record_dir, exist_ok=True)
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(self._config())
        # the account is added over ctrl_tcp once connected (uanew), so no event
        # (REGISTER_OK/FAIL comes within milliseconds) is emitted before we listen
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("")
        with open(os.path.join(self.dir, "contacts"), "w") as f:
            f.write("")

    # ---- process ----
    def start(self, timeout=10.0):
        self.write_config()
        self.log = open(self.logpath, "wb")
        # -f: config dir; no -d (we keep the pid); stdin closed: no stdio UI is loaded
        args = [BARESIP, "-f", self.dir] + (["-s"] if self.sip_trace else [])
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BaresipError(f"baresip exited ({self.proc.returncode}):\n{self.output()}")
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise BaresipError(f"ctrl_tcp not listening on {self.ctrl_port}:\n{self.output()}")
        self.sock.settimeout(0.5)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        r = self.command("uanew", self._account().strip())
        if not r.get("ok"):
            self.stop()
            raise BaresipError(f"uanew failed: {r}\n{self.output()}")
        return self

    def output(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=3.0):
        """Always leaves the process dead: SIGTERM, then SIGKILL to its session."""
        self._closed = True
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        if self._reader:
            self._reader.join(2)
        if self.log:
            self.log.close()
            self.log = None
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- ctrl_tcp: netstrings of JSON ----
    def _read_loop(self):
        buf = b""
        while not self._closed:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while True:
                colon = buf.find(b":")
                if colon < 0 or not buf[:colon].isdigit():
                    if colon > 10:
                        buf = b""  # garbage: resynchronise
                    break
                n = int(buf[:colon])
                if len(buf) < colon + 1 + n + 1:
                    break
                body = buf[colon + 1:colon + 1 + n]
                buf = buf[colon + 1 + n + 1:]  # skip the trailing ','
                self._dispatch(body)
        with self._cond:
            self._cond.notify_all()

    def _dispatch(self, body):
        try:
            msg = json.loads(body.decode(errors="replace"))
        except ValueError:
            return
        with self._cond:
            if msg.get("response"):
                self._responses[str(msg.get("token"))] = msg
            elif msg.get("event"):
                msg["t"] = time.monotonic()
                self.events.append(msg)
            self._cond.notify_all()

    def command(self, command, params="", timeout=5.0):
        """Send a command, return its response dict ({"ok": bool, "data": str})."""
        self._token += 1
        token = str(self._token)
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.sock.sendall(b"%d:%s," % (len(body), body))
        deadline = time.monotonic() + timeout
        with self._cond:
            while token not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    raise BaresipError(f"no response to {command} {params}:\n"
                                       f"{self.output()[-3000:]}")
                self._cond.wait(min(left, 0.2))
            return self._responses.pop(token)

    def wait_event(self, etype, timeout=10.0, pred=None, consume=True):
        """The next event of type `etype` (a string or a tuple of strings) after the
        ones already consumed, matching pred(event) if given. Raises BaresipError on
        timeout. Events skipped over stay in self.events."""
        types = (etype,) if isinstance(etype, str) else tuple(etype)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(self._next, len(self.events)):
                    ev = self.events[i]
                    if ev.get("type") in types and (pred is None or pred(ev)):
                        if consume:
                            self._next = i + 1
                        return ev
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    seen = [e.get("type") for e in self.events]
                    why = f"within {timeout}s" if self.alive() else "(baresip exited)"
                    raise BaresipError(f"no {types} {why}; events: {seen}\n"
                                       f"{self.output()[-3000:]}")
                self._cond.wait(min(left, 0.2))

    def events_of(self, etype):
        with self._cond:
            return [e for e in self.events if e.get("type") == etype]

    def dtmf_digits(self, etype="CALL_DTMF_START"):
        """The digits received so far as RFC 4733 events (or INFO), in order."""
        return "".join(e.get("param", "") for e in self.events_of(etype))

    # ---- call control ----
    def dial(self, uri):
        """Place a call. A bare number or user ("+12125550100") goes to the account's
        domain, i.e. the registrar (no Route/outbound proxy needed)."""
        r = self.command("dial", uri)
        if not r.get("ok"):
            raise BaresipError(f"dial {uri}: {r}")
        return r

    def answer(self):
        return self.command("accept")

    def hangup(self):
        return self.command("hangup")

    def send_dtmf(self, digits):
        """RFC 4733 telephone-events (baresip's `sndcode`), one digit after another."""
        return self.command("sndcode", digits)

    def hold(self):
        """re-INVITE with a=sendonly. Quirk: after hold and resume, baresip 1.0 drops
        sndfile from its rx pipeline, so nothing more is recorded as heard (RTP still
        flows: see rtp_counts())."""
        return self.command("hold")

    def resume(self):
        return self.command("resume")

    def transfer(self, uri):
        """Blind transfer of the current call: REFER to the peer. The transferee
        (if baresip) reports TRANSFER with the target in "param", then dials it."""
        return self.command("transfer", uri)

    def audio_debug(self):
        return self.command("audio_debug").get("data", "")

    def rtp_counts(self):
        """(packets sent, packets received) on the current call's audio stream, from
        audio_debug's RTCP section; (0, 0) without a call."""
        text = self.audio_debug()
        tx = re.search(r"TX: packets=(\d+)", text)
        rx = re.search(r"rcvd=(\d+)", text)
        return (int(tx.group(1)) if tx else 0, int(rx.group(1)) if rx else 0)

    def wait_digits(self, digits, timeout=10.0, etype="CALL_DTMF_START"):
        """Wait until the digits received (RFC 4733 or INFO) are `digits`, in order."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.dtmf_digits(etype)
            if got == digits or not digits.startswith(got) or time.monotonic() > deadline:
                if got != digits:
                    raise BaresipError(f"DTMF: expected {digits!r}, got {got!r}")
                return got
            time.sleep(0.05)

    def heard_wav(self, timeout=5.0, min_seconds=0.5):
        """The newest recording of what this instance heard, once complete."""
        rec = self.recordings()["dec"]
        if not rec:
            raise BaresipError(f"no recording in {self.record_dir}")
        return wait_wav(rec[-1], timeout, min_seconds)

    def sent_wav(self, timeout=5.0, min_seconds=0.5):
        rec = self.recordings()["enc"]
        if not rec:
            raise BaresipError(f"no recording in {self.record_dir}")
        return wait_wav(rec[-1], timeout, min_seconds)

    def recordings(self):
        """{"enc": [paths], "dec": [paths]} written by sndfile: what it sent / heard,
        oldest first. Names carry a timestamp to the second: a second call starting
        within the same second overwrites the first one's files."""
        res = {"enc": [], "dec": []}
        if not self.record_dir or not os.path.isdir(self.record_dir):
            return res
        for name in sorted(os.listdir(self.record_dir)):
            if name.endswith("-enc.wav"):
                res["enc"].append(os.path.join(self.record_dir, name))
            elif name.endswith("-dec.wav"):
                res["dec"].append(os.path.join(self.record_dir, name))
        return res


def wait_wav(path, timeout=5.0, min_seconds=0.5):
    """Wait until a WAV that baresip is writing holds min_seconds and stops growing
    (sndfile finalises the header when the call's audio stream is freed)."""
    import wave
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        try:
            size = os.path.getsize(path)
            with wave.open(path, "rb") as w:
                secs = w.getnframes() / float(w.getframerate())
            if size == last and secs >= min_seconds:
                return path
            last = size
        except Exception:  # not there yet, or the header is not written yet
            pass
        time.sleep(0.2)
    raise BaresipError(f"{path}: no complete recording of {min_seconds}s within {timeout}s")


class BaresipFactory:
    """Makes instances in one tmp dir with ports that never clash; stop_all() in a
    fixture finaliser leaves none running:

        @pytest.fixture
        def baresips(tmp_path):
            f = BaresipFactory(tmp_path)
            yield f
            f.stop_all()
    """

    def __init__(self, tmp_path):
        self.tmp = str(tmp_path)
        self.started = []

    def new(self, name, start=True, **kw):
        """A Baresip in TMP/baresip-NAME, recording into its rec/ subdir; started
        unless start=False. A port taken meanwhile by someone else: new ports, 3 tries."""
        d = os.path.join(self.tmp, f"baresip-{name}")
        kw.setdefault("record_dir", os.path.join(d, "rec"))
        for attempt in range(3):
            bs = Baresip(d, sip_ports(), ctrl_port(), **kw)
            self.started.append(bs)
            if not start:
                return bs
            try:
                return bs.start()
            except BaresipError:
                bs.stop()
                if attempt == 2 or "in use" not in bs.output():
                    raise
        raise AssertionError("unreachable")

    def stop_all(self):
        for bs in reversed(self.started):
            try:
                bs.stop()
            except Exception:  # keep stopping the others
                if bs.proc is not None and bs.proc.poll() is None:
                    bs.proc.kill()
