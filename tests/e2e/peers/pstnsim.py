"""pstnsim's control socket from tests: commands, replies and every event line.

    ctl = Ctl(tmp_path / "sim.sock")
    ctl.send({"cmd": "call", "span": 1, "from": "+12125559999", "to": "+12125551001"})
    e = ctl.wait_event(lambda e: e["event"] == "connect")
    call, e = ctl.call("+12125551001")   # the same: its id, then connect or disconnect
Events (see tdm/pstnsim/README.md): link, setup, proceeding, alerting, connect, digits,
tone (frequency, level), disconnect (cause).
"""
import json
import socket
import time


class Ctl:
    """A control socket client: sends commands, collects every event line."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(0.1)
        self.buf = b""
        self.events = []
        self.replies = []

    def pump(self, seconds=0.0):
        end = time.monotonic() + seconds
        while True:
            try:
                data = self.s.recv(65536)
                if not data:
                    break
                self.buf += data
            except socket.timeout:
                pass
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                obj = json.loads(line)
                (self.events if "event" in obj else self.replies).append(obj)
            if time.monotonic() >= end:
                break

    def wait_event(self, pred, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for e in self.events:
                if pred(e):
                    return e
            self.pump(0.1)
        return None

    def close(self):
        self.s.close()

    def send(self, obj, timeout=5.0):
        """Sends a command and returns its reply (events meanwhile are kept)."""
        n = len(self.replies)
        self.s.sendall((json.dumps(obj) + "\n").encode())
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.05)
            if len(self.replies) > n:
                return self.replies[n]
        raise TimeoutError(f"no reply to {obj}")

    def call(self, to, caller="+12125559999", timeout=10.0):
        """pstnsim calls `to` on span 1: the call's id and its first connect or disconnect
        event (None if neither came within timeout)."""
        r = self.send({"cmd": "call", "span": 1, "from": caller, "to": to})
        assert r["ok"], r
        e = self.wait_event(lambda e: e.get("call") == r["call"]
                            and e["event"] in ("connect", "disconnect"), timeout)
        return r["call"], e

    def digits(self, call=None):
        """The digits pstnsim heard so far (on call, or on any)."""
        return "".join(e["digits"] for e in self.events
                       if e["event"] == "digits" and (call is None or e.get("call") == call))
