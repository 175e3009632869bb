"""Shared fixtures for end-to-end tests: free ports, binaries, processes that stop."""
import os
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# TANDEM_BUILD=build/asan runs the programs built with ASan+UBSan (make asan-programs)
BUILD = os.path.join(ROOT, os.environ.get("TANDEM_BUILD", "build"))


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (run make)")
    return path


def free_port(kind=socket.SOCK_DGRAM, family=socket.AF_INET, also_tcp=True):
    """A port free for UDP and TCP at once on loopback."""
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    for _ in range(50):
        s = socket.socket(family, kind)
        s.bind((host, 0))
        port = s.getsockname()[1]
        s.close()
        if also_tcp:
            t = socket.socket(family, socket.SOCK_STREAM)
            try:
                t.bind((host, port))
            except OSError:
                continue
            finally:
                t.close()
        return port
    raise RuntimeError("no free port")


class Proc:
    """A child process whose output goes to a log file, stopped at teardown."""

    def __init__(self, args, logpath, env=None):
        self.args = args
        self.logpath = logpath
        self.log = open(logpath, "wb")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env)

    def output(self):
        self.log.flush()
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_for(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        return text in self.output()

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.log.close()
        return self.p.returncode


@pytest.fixture
def procs(tmp_path):
    """Start processes with procs.start(args); all are stopped after the test."""
    started = []

    class Starter:
        def start(self, args, name="proc", env=None):
            p = Proc(args, str(tmp_path / f"{name}-{len(started)}.log"), env=env)
            started.append(p)
            return p

    yield Starter()
    for p in reversed(started):
        p.stop()
