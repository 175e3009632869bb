"""MESSAGE (RFC 3428) relayed between users by tandemd, and SUBSCRIBE/PUBLISH answered.

SIPp authenticates as 1001 (digest MD5) and sends MESSAGE to sip:1002@gateway; a second
SIPp registered as 1002 (digest) receives it with From 1001 and the text, answers 200,
and the sender gets that 200. To a user without a contact: 480; to a number: 488; to a
name that is not a user: 404; without credentials: 407. SUBSCRIBE to an unknown package
gets 489 with Allow-Events; PUBLISH gets 405 with Allow.
"""
import shutil
import subprocess
import time

import pytest

from conftest import free_port
from test_audio import start_gw
from test_registrar import sipsak

SIPP = shutil.which("sipp")

MESSAGE_AUTH = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="MESSAGE with digest">
  <send retrans="500">
    <![CDATA[

      MESSAGE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 MESSAGE
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: [len]

      hello from tandem TOKEN
    ]]>
  </send>
  <recv response="407" auth="true"/>
  <send retrans="500">
    <![CDATA[

      MESSAGE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 MESSAGE
      [authentication]
      Max-Forwards: 70
      Content-Type: text/plain
      Content-Length: [len]

      hello from tandem TOKEN
    ]]>
  </send>
  <recv response="EXPECT"/>
</scenario>
"""

PLAIN = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="one request, one expected answer">
  <send retrans="500">
    <![CDATA[

      METHOD sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 METHOD
      Contact: <sip:1001@[local_ip]:[local_port]>
      Max-Forwards: 70
      EXTRA
      Content-Length: 0

    ]]>
  </send>
  <recv response="EXPECT">
    <action>
      <ereg regexp="CHECK" search_in="hdr" header="HEADER" check_it="true" assign_to="h"/>
    </action>
  </recv>
  <Reference variables="h"/>
</scenario>
"""


def sipp(tmp_path, gw, xml, service, name, auth=True):
    sf = tmp_path / f"{name}.xml"
    sf.write_text(xml)
    args = [SIPP, f"127.0.0.1:{gw.port}", "-sf", str(sf), "-s", service, "-i", "127.0.0.1",
            "-p", str(free_port()), "-m", "1", "-nostdin", "-timeout", "15", "-timeout_error",
            "-trace_err"]
    if auth:
        args += ["-au", "1001", "-ap", "demo1001"]
    r = subprocess.run(args, cwd=tmp_path, capture_output=True, timeout=30)
    errs = "".join(p.read_text(errors="replace") for p in tmp_path.glob(f"{name}*_errors.log"))
    return r.returncode, errs + r.stdout.decode(errors="replace")[-1500:]


@pytest.fixture
def gw(tmp_path, procs):
    if not SIPP:
        pytest.fail("sipp is not installed")
    g = start_gw(tmp_path, procs)
    yield g
    g.ctl.close()


RECV = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="the phone of user 1002 takes one MESSAGE">
  <recv request="MESSAGE">
    <action>
      <ereg regexp="hello from tandem TOKEN" search_in="body" check_it="true" assign_to="b"/>
      <ereg regexp="sip:1001@" search_in="hdr" header="From:" check_it="true" assign_to="f"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]rx
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="b,f"/>
</scenario>
"""


def test_message_relayed_to_registered_user(tmp_path, gw, procs):
    token = str(time.monotonic_ns())
    rf = tmp_path / "rx.xml"
    rf.write_text(RECV.replace("TOKEN", token))
    rx_port = free_port()
    rx = procs.start([SIPP, "-sf", str(rf), "-i", "127.0.0.1", "-p", str(rx_port), "-m", "1",
                      "-nostdin", "-timeout", "20", "-timeout_error", "-trace_err"],
                     name="sipp-rx")
    r = sipsak(gw.port, "1002", "demo1002", rx_port, 120)
    assert r.returncode == 0, r.stdout + r.stderr + gw.output()[-3000:]
    rc, out = sipp(tmp_path, gw, MESSAGE_AUTH.replace("TOKEN", token)
                   .replace("EXPECT", "200"), "1002", "msg_ok")
    assert rc == 0, out + gw.output()[-3000:]
    assert rx.p.wait(10) == 0, rx.output()[-2000:]  # it saw the text from 1001
    assert "MESSAGE from 1001 to 1002" in gw.output()
    assert "MESSAGE relayed: 200" in gw.output()


@pytest.mark.parametrize("service,code", [("1003", 480), ("+12125550100", 488),
                                          ("nobody", 404)])
def test_message_refused(tmp_path, gw, service, code):
    rc, out = sipp(tmp_path, gw, MESSAGE_AUTH.replace("TOKEN", "x")
                   .replace("EXPECT", str(code)), service, f"msg_{code}")
    assert rc == 0, out + gw.output()[-3000:]


@pytest.mark.parametrize("method,extra,code,header,check", [
    ("MESSAGE", "Content-Type: text/plain", 407, "Proxy-Authenticate:", "Digest"),
    ("SUBSCRIBE", "Event: presence\r\n      Expires: 60", 489, "Allow-Events:", "refer"),
    ("PUBLISH", "Event: presence\r\n      Expires: 60", 405, "Allow:", "INVITE"),
])
def test_other_requests(tmp_path, gw, method, extra, code, header, check):
    xml = (PLAIN.replace("METHOD", method).replace("EXTRA", extra)
           .replace("EXPECT", str(code)).replace("HEADER", header).replace("CHECK", check))
    rc, out = sipp(tmp_path, gw, xml, "1002", f"req_{method}", auth=False)
    assert rc == 0, out + gw.output()[-3000:]
