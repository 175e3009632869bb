"""SIPp for end-to-end tests: scenarios built from pieces, and SIPp run the one way all use.

    xml = scenario("trunk call", invite("trunk", sdp=sdp(8, 101)), provisional(),
                   recv(200, rrs=True), ack("trunk"), pause(1000), bye("trunk"))
    rc, report = run_uac(tmp_path, gw.port, xml, "+12125550101", port, name="call")
    uas = start_uas(procs, tmp_path, port)           # SIPp's built-in uas, in the background
    assert uas.wait(20) == 0, uas.report()

Pieces are XML text to join. A UAC's requests carry From <sip:USER@HOST> (HOST
[local_ip] unless given) with SIPp's own tag, To the [service] dialled (;user=phone);
in-dialog ones go to [next_url] along [routes] (SIPp leaves that line out while the
dialog has no route set). A UAS's replies copy the request's Via/From/To/Call-ID/CSeq.
Content-Type and Content-Length are added from the body (SDP unless told otherwise).
scenario() adds the envelope and a <Reference> to every variable an action assigns
(SIPp refuses a variable assigned and never used).

SIPp always runs on 127.0.0.1 with -m, -nostdin, -timeout SECONDS -timeout_error and
-trace_err into NAME_errors.log in its working directory, which the report includes.
-mp is SIPp's RTP port and SIPp binds it and port+2 (video): take it from media_port().
Only the standard library here: tests/bench/gateway.py imports this module too.
"""
import re
import shutil
import socket
import subprocess

SIPP = shutil.which("sipp")

VIA = "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]"
TO = "To: <sip:[service]@[remote_ip]:[remote_port];user=phone>"
CODECS = {0: "PCMU/8000", 8: "PCMA/8000", 101: "telephone-event/8000"}

# ---- scenario pieces ---------------------------------------------------------------------


def send(*lines, body=None, ctype="application/sdp", retrans=None):
    """<send> of one SIP message: start line and headers (None ones left out), the content
    headers, then the body lines ("" a blank line)."""
    head = [line for line in lines if line is not None]
    head += ["Content-Length: 0"] if body is None else [f"Content-Type: {ctype}",
                                                         "Content-Length: [len]"]
    text = "".join(f"      {line}\n" if line else "\n" for line in head + [""] + list(body or ()))
    attr = f' retrans="{retrans}"' if retrans else ""
    return f"  <send{attr}>\n    <![CDATA[\n\n{text}    ]]>\n  </send>\n"


def sdp(*codecs, port="[media_port]", origin="- 1 1", conn="[local_ip]", extra=(), typed=False):
    """An audio offer or answer with these payload types, as body lines: IPv4, or typed,
    with the address types SIPp fills in (the connection address then [media_ip])."""
    o_type, c_type = ("IP[local_ip_type]", "IP[media_ip_type]") if typed else ("IP4", "IP4")
    conn = "[media_ip]" if typed else conn
    return ["v=0", f"o={origin} IN {o_type} [local_ip]", "s=-", f"c=IN {c_type} {conn}",
            "t=0 0", f"m=audio {port} RTP/AVP {' '.join(map(str, codecs))}",
            *(f"a=rtpmap:{pt} {CODECS[pt]}" for pt in codecs), *extra, ""]


def from_(user, host="[local_ip]"):
    return f"From: <sip:{user}@{host}>;tag=[pid]SIPpTag00[call_number]"


def invite(user, *headers, sdp=None, cseq=1, host="[local_ip]", contact=None, auth=None):
    """The UAC's INVITE (Contact user: contact, else user); headers after Max-Forwards."""
    return send("INVITE sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0", VIA,
                from_(user, host), TO, "Call-ID: [call_id]", f"CSeq: {cseq} INVITE",
                f"Contact: <sip:{contact or user}@[local_ip]:[local_port]>", auth,
                "Max-Forwards: 70", *headers, body=sdp, retrans=500)


def in_dialog(method, user, cseq, *headers, body=None, ctype=None, host="[local_ip]",
              retrans=500):
    """A request of the UAC within the dialog its INVITE made."""
    return send(f"{method} [next_url] SIP/2.0", VIA, from_(user, host), TO + "[peer_tag_param]",
                "Call-ID: [call_id]", f"CSeq: {cseq} {method}", "[routes]", "Max-Forwards: 70",
                *headers, body=body, ctype=ctype, retrans=retrans)


def ack(user, cseq=1, host="[local_ip]"):
    """The ACK of a 2xx."""
    return in_dialog("ACK", user, cseq, host=host, retrans=None)


def ack_error(user, cseq=1, host="[local_ip]"):
    """The ACK of a final error response: part of the INVITE's transaction (its Via)."""
    return send("ACK sip:[service]@[remote_ip]:[remote_port];user=phone SIP/2.0", "[last_Via:]",
                from_(user, host), TO + "[peer_tag_param]", "Call-ID: [call_id]",
                f"CSeq: {cseq} ACK", "Max-Forwards: 70")


def bye(user, cseq=2, host="[local_ip]"):
    """The UAC hangs up: BYE, and its 200."""
    return in_dialog("BYE", user, cseq, host=host) + recv(200)


def reply(status, *headers, to_tag=None, body=None, ctype="application/sdp", retrans=None):
    """A response to the request just received ("200 OK", "180 Ringing"...)."""
    return send(f"SIP/2.0 {status}", "[last_Via:]", "[last_From:]",
                "[last_To:]" + (f";tag={to_tag}" if to_tag else ""), "[last_Call-ID:]",
                "[last_CSeq:]", *headers, body=body, ctype=ctype, retrans=retrans)


def ok_reply(*headers, to_tag=None):
    return reply("200 OK", *headers, to_tag=to_tag)


def recv(what, *actions, optional=False, rrs=False, crlf=False, auth=False, timeout=None):
    """<recv> of a response (a status code) or of a request (a method), with actions."""
    kind = "response" if isinstance(what, int) else "request"
    attrs = f'{kind}="{what}"'
    for name, on in (("optional", optional), ("rrs", rrs), ("crlf", crlf), ("auth", auth)):
        attrs += f' {name}="true"' if on else ""
    attrs += f' timeout="{timeout}"' if timeout else ""
    if not actions:
        return f"  <recv {attrs}/>\n"
    acts = "".join(f"      {a}\n" for a in actions)
    return f"  <recv {attrs}>\n    <action>\n{acts}    </action>\n  </recv>\n"


def provisional(*codes):
    """The provisional responses the gateway may send first, each optional."""
    return "".join(recv(c, optional=True) for c in codes or (100, 180, 183))


def ereg(regexp, var, header=None, search_in="hdr"):
    """An action: regexp must match (in header, the message or its body) or the call fails."""
    rx = regexp.replace("<", "&lt;").replace(">", "&gt;")
    where = f'search_in="{search_in}"' + (f' header="{header}"' if header else "")
    return f'<ereg regexp="{rx}" {where} check_it="true" assign_to="{var}"/>'


def reason(cause):
    """An action: the Reason header carries this Q.850 cause (not a longer number)."""
    return ereg(rf"Q\.850;cause={cause}([^0-9]|$)", "reason", "Reason:")


def pause(ms):
    return f'  <pause milliseconds="{ms}"/>\n'


def scenario(name, *parts):
    """The scenario file: the parts in order, then the <Reference> of every variable."""
    variables = []
    for assigned in re.findall(r'assign_to="([^"]+)"', "".join(parts)):
        variables += [v for v in assigned.split(",") if v not in variables]
    refs = f'  <Reference variables="{",".join(variables)}"/>\n' if variables else ""
    return ('<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
            f'<scenario name="{name}">\n{"".join(parts)}{refs}</scenario>\n')


# ---- running SIPp ------------------------------------------------------------------------


def media_port():
    """A UDP port for -mp: SIPp binds it and port+2 on 127.0.0.1, both free now."""
    for _ in range(100):
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port + 2 < 65536:
                b.bind(("127.0.0.1", port + 2))
                return port
        except OSError:
            pass
        finally:
            a.close()
            b.close()
    raise RuntimeError("no free port pair for SIPp's media")


def args(cwd, name, xml, port, remote_port=None, service=None, calls=1, timeout=20,
         auth=None, extra=()):
    """SIPp's command line; xml (written to cwd/NAME.xml) or SIPp's built-in uas."""
    a = [SIPP] + ([f"127.0.0.1:{remote_port}"] if remote_port else [])
    if xml:
        sf = cwd / f"{name}.xml"
        sf.write_text(xml)
        a += ["-sf", str(sf)]
    else:
        a += ["-sn", "uas"]
    a += ["-s", service] if service else []
    a += ["-au", auth[0], "-ap", auth[1]] if auth else []
    return a + ["-i", "127.0.0.1", "-p", str(port), "-m", str(calls), "-nostdin",
                "-timeout", str(timeout), "-timeout_error", "-trace_err",
                "-error_file", str(cwd / f"{name}_errors.log"), *extra]


def errors(cwd, name):
    path = cwd / f"{name}_errors.log"
    return path.read_text(errors="replace") if path.exists() else ""


def run_uac(cwd, remote_port, xml, service, port, name="uac", timeout=20, wait=None, auth=None,
            extra=()):
    """SIPp calling 127.0.0.1:remote_port once, until it is done (at most wait seconds,
    default timeout + 20): (exit status, its errors and the end of its output)."""
    r = subprocess.run(args(cwd, name, xml, port, remote_port, service, 1, timeout, auth, extra),
                       cwd=cwd, capture_output=True, timeout=wait or timeout + 20)
    return r.returncode, errors(cwd, name) + r.stdout.decode(errors="replace")[-2000:]


class Sipp:
    """A SIPp in the background, started by the procs fixture (which stops it at teardown)."""

    def __init__(self, procs, cwd, name, argv):
        self.cwd, self.name = cwd, name
        self.proc = procs.start(argv, name=f"sipp-{name}", cwd=cwd)

    def wait(self, timeout):
        """Its exit status, or "timeout" (then it is killed)."""
        try:
            return self.proc.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return "timeout"

    def running_after(self, seconds):
        try:
            self.proc.p.wait(seconds)
            return False
        except subprocess.TimeoutExpired:
            return True

    def stop(self):
        if self.proc.p.poll() is None:
            self.proc.p.kill()
            self.proc.p.wait(5)

    def report(self):
        return self.proc.output()[-2000:] + errors(self.cwd, self.name)[-3000:]


def start_uac(procs, cwd, remote_port, xml, service, port, name="uac", timeout=20, auth=None,
              extra=()):
    return Sipp(procs, cwd, name, args(cwd, name, xml, port, remote_port, service, 1, timeout,
                                       auth, extra))


def start_uas(procs, cwd, port, xml=None, name="uas", calls=1, timeout=30):
    """SIPp answering on 127.0.0.1:port (xml, else the built-in uas) for `calls` calls."""
    return Sipp(procs, cwd, name, args(cwd, name, xml, port, calls=calls, timeout=timeout))


def screen_counts(path):
    """(successful, failed) cumulative call counts from a -trace_screen file."""
    text = open(path, errors="replace").read()
    ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    bad = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    assert ok and bad, text[-2000:]
    return int(ok[-1]), int(bad[-1])
