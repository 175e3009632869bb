"""In-dialog INFO and REFER (gateway/sip/ua + gateway/sip/event) against SIPp 3.6.

The scenario tests/e2e/sipp/uac_info_refer.xml places calls on build/sipua --uas:
INVITE/ACK, INFO with an application/dtmf-relay body (200 expected), REFER
(202 expected), then the two NOTIFYs of the implicit subscription, each checked
by SIPp (message/sipfrag body "SIP/2.0 100 Trying" with Subscription-State
active and Event refer;id=3, then "SIP/2.0 200 OK" with
terminated;reason=noresource) and answered 200, then BYE. A mismatch fails the
call (ereg check_it). Loopback only; every process bounded in time.
"""
import os
import subprocess

import pytest

from conftest import SIPP, binary, free_port, sipua_counters
from peers.sipp import screen_counts

SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp", "uac_info_refer.xml")
RUN_TIMEOUT = 90

pytestmark = pytest.mark.skipif(not SIPP, reason="sipp not installed")


@pytest.mark.parametrize("sipp_t,calls", [("u1", 100), ("t1", 50)])
def test_sipp_info_refer(tmp_path, procs, sipp_t, calls):
    port = free_port()
    p = procs.start([binary("sipua"), "--listen", f"udp:127.0.0.1:{port}",
                     "--listen", f"tcp:127.0.0.1:{port}", "--uas"], name="sipua-events")
    assert p.wait_for("LISTEN TCP", 10), p.output()
    screen = tmp_path / "sipp-events.screen"
    r = subprocess.run([SIPP, "-sf", SCENARIO, f"127.0.0.1:{port}", "-i", "127.0.0.1",
                        "-p", str(free_port()), "-t", sipp_t, "-m", str(calls), "-r", "50",
                        "-l", "50", "-nostdin", "-timeout", "60", "-timeout_error",
                        "-trace_screen", "-screen_file", str(screen)],
                       cwd=tmp_path, capture_output=True, timeout=RUN_TIMEOUT)
    ok, failed = screen_counts(screen)
    assert (r.returncode, ok, failed) == (0, calls, 0), r.stdout[-2000:] + r.stderr[-2000:]
    p.stop()
    c = sipua_counters(p)
    assert c["invites"] == calls and c["byes"] == calls
    assert c["infos"] == calls and c["refers"] == calls
    assert c["sessions"] == 0
