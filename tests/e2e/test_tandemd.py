"""tandemd as a SIP server today: config errors, OPTIONS, honest answers, bad input.

Real peers: sipsak for OPTIONS; raw sockets for exact bytes.
"""
import re
import socket
import subprocess
import time
import uuid

import pytest

from conftest import binary, free_port


def write_cfg(tmp_path, text, name="tandem.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.fixture
def tandemd(tmp_path, procs):
    port = free_port()
    cfg = write_cfg(tmp_path, f"""
log: {{ level: debug }}
sip:
  domain: gw.test
  listen:
    - udp:127.0.0.1:{port}
    - tcp:127.0.0.1:{port}
""")
    p = procs.start([binary("tandemd"), "-c", cfg], name="tandemd")
    assert p.wait_for("ready", 10), p.output()
    p.port = port
    return p


def request(method, port, extra="", body="", ruri=None, transport="UDP", cseq=1):
    branch = "z9hG4bK" + uuid.uuid4().hex[:16]
    callid = uuid.uuid4().hex
    ruri = ruri or f"sip:gw.test:{port}"
    msg = (f"{method} {ruri} SIP/2.0\r\n"
           f"Via: SIP/2.0/{transport} 127.0.0.1:9;branch={branch};rport\r\n"
           f"Max-Forwards: 70\r\n"
           f"From: <sip:tester@127.0.0.1>;tag=t{callid[:8]}\r\n"
           f"To: <sip:gw.test>\r\n"
           f"Call-ID: {callid}\r\n"
           f"CSeq: {cseq} {method}\r\n"
           f"{extra}"
           f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
    return msg.encode()


def udp_exchange(port, data, timeout=3.0, want_final=True):
    """Sends data, returns the decoded responses received (final last)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.bind(("127.0.0.1", 0))
    s.sendto(data, ("127.0.0.1", port))
    got = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r = s.recv(65535).decode(errors="replace")
            got.append(r)
            code = int(r.split(" ", 2)[1])
            if code >= 200 or not want_final:
                break
    except socket.timeout:
        pass
    finally:
        s.close()
    return got


def status(resp):
    return int(resp.split(" ", 2)[1])


def header(resp, name):
    m = re.search(rf"^{name}:\s*(.*?)\r$", resp, re.M | re.I)
    return m.group(1) if m else None


def test_check_reports_file_line_column(tmp_path):
    cfg = write_cfg(tmp_path, "sip:\n  listen:\n    - udp:127.0.0.1:5060\n    - sctp:1.2.3.4\n")
    r = subprocess.run([binary("tandemd"), "--check", "-c", cfg], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode != 0
    assert f"{cfg}:4:7:" in r.stderr, r.stderr


def test_check_accepts_good_file(tmp_path):
    cfg = write_cfg(tmp_path, "sip:\n  listen: [ 'udp:127.0.0.1:5099' ]\n")
    r = subprocess.run([binary("tandemd"), "--check", "-c", cfg], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr


def test_bad_config_does_not_start(tmp_path):
    cfg = write_cfg(tmp_path, "sip:\n  domian: x\n")
    r = subprocess.run([binary("tandemd"), "-c", cfg], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode != 0
    assert f"{cfg}:2:3: unknown key 'domian'" in r.stderr


def test_options_with_sipsak(tandemd):
    r = subprocess.run(["sipsak", "-vv", "-s", f"sip:probe@127.0.0.1:{tandemd.port}"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SIP/2.0 200" in r.stdout


def test_options_lists_capabilities(tandemd):
    (resp,) = udp_exchange(tandemd.port, request("OPTIONS", tandemd.port))
    assert status(resp) == 200
    allow = header(resp, "Allow")
    for m in ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"):
        assert m in allow
    assert "application/sdp" in header(resp, "Accept")
    assert header(resp, "Supported") is not None
    assert "received=127.0.0.1" in header(resp, "Via")


def test_invite_gets_503_retry_after(tandemd):
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
          "m=audio 4000 RTP/AVP 0\r\n"
    resps = udp_exchange(tandemd.port, request(
        "INVITE", tandemd.port, extra="Contact: <sip:tester@127.0.0.1:9>\r\n"
        "Content-Type: application/sdp\r\n", body=sdp))
    final = resps[-1]
    assert status(final) == 503
    assert int(header(final, "Retry-After")) > 0
    assert header(final, "To").find("tag=") > 0


def test_unknown_method_501_and_bad_request_400(tandemd):
    (resp,) = udp_exchange(tandemd.port, request("FOO", tandemd.port))
    assert status(resp) == 501
    # CSeq method does not match the request method: 400, and we keep serving.
    bad = request("OPTIONS", tandemd.port).replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
    (resp,) = udp_exchange(tandemd.port, bad)
    assert status(resp) == 400
    (resp,) = udp_exchange(tandemd.port, request("OPTIONS", tandemd.port))
    assert status(resp) == 200


def test_garbage_is_dropped_and_daemon_survives(tandemd):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for junk in (b"\x00" * 100, b"INVITE\r\n\r\n", b"SIP/2.0 200 OK\r\n\r\n", b"x" * 70000):
        try:
            s.sendto(junk, ("127.0.0.1", tandemd.port))
        except OSError:
            pass
    s.close()
    (resp,) = udp_exchange(tandemd.port, request("OPTIONS", tandemd.port))
    assert status(resp) == 200
    assert tandemd.alive()


def test_options_over_tcp(tandemd):
    s = socket.create_connection(("127.0.0.1", tandemd.port), timeout=5)
    s.sendall(request("OPTIONS", tandemd.port, transport="TCP"))
    data = b""
    deadline = time.monotonic() + 5
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        data += s.recv(4096)
    s.close()
    assert data.startswith(b"SIP/2.0 200")


def test_sigterm_stops_cleanly(tandemd):
    assert tandemd.stop() == 0
