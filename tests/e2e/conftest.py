"""Shared fixtures for end-to-end tests: free ports, binaries, processes that stop, bounded
waits, and the peers most tests need (need_sipp, baresips)."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from peers.baresip import BaresipFactory

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# TANDEM_BUILD=build/asan runs the programs built with ASan+UBSan (make asan-programs)
BUILD = os.path.join(ROOT, os.environ.get("TANDEM_BUILD", "build"))
SIPP = shutil.which("sipp")


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (run make)")
    return path


def wait_until(pred, timeout=10.0):
    """pred()'s first true value within timeout seconds (polled), else its last one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


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

    def __init__(self, args, logpath, env=None, cwd=None):
        self.args = args
        self.logpath = logpath
        self.log = open(logpath, "wb")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env, cwd=cwd)

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
    """Start processes with procs.start(args); all are stopped after the test, after the
    functions given to procs.at_teardown(fn) ran."""
    started, finalizers = [], []

    class Starter:
        def start(self, args, name="proc", env=None, cwd=None):
            p = Proc(args, str(tmp_path / f"{name}-{len(started)}.log"), env=env, cwd=cwd)
            started.append(p)
            return p

        def at_teardown(self, fn):
            finalizers.append(fn)

    yield Starter()
    for fn in reversed(finalizers):
        fn()
    for p in reversed(started):
        p.stop()


@pytest.fixture
def need_sipp():
    """Fails (does not skip) a test that needs SIPp where it is not installed."""
    if not SIPP:
        pytest.fail("sipp is not installed (packaging/deps.sh installs sip-tester)")


@pytest.fixture
def baresips(tmp_path):
    """baresip instances (peers.baresip) made with baresips.new(...), stopped after the test."""
    f = BaresipFactory(tmp_path)
    yield f
    f.stop_all()


def log_counters(proc, prefix):
    """The KEY=N counters on the line starting with prefix that a tool prints when stopped
    (call after proc.stop()): "COUNTERS sipua", "RESULT sipreg"."""
    with open(proc.logpath, errors="replace") as f:
        text = f.read()
    m = re.search(re.escape(prefix) + r" (.*)", text)
    assert m, text[-2000:]
    return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def sipua_counters(proc):
    """The counters sipua --uas prints when stopped."""
    return log_counters(proc, "COUNTERS sipua")
