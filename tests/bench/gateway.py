#!/usr/bin/python3
"""bench gateway: call set-up latency and calls per second through tandemd over 8 virtual E1s.

Set-up: pstnsim (the exchange, NET) listens on 8 virtual E1 spans, each on its own
abstract socket named for this run; tandemd (CPE) connects to all 8 as span group 1
(240 B-channels) with its shipped defaults otherwise (log level info, CDRs in SQLite,
control socket and metrics on). One subscriber, +12125550100, answers at once; a
trunk trusts SIPp's address, so no digest. SIPp (UAC, UDP, 127.0.0.1) places calls:
INVITE with SDP, 100/180/183 optional, 200, ACK, a 10 ms hold, BYE, 200.

Search: a ladder of offered rates (SIPp -r), at most 200 calls at once (-l, under the
240 B-channels), about one second of calls per step (at least 2000). A step holds if
every call completes, at least 90 % of the offered rate is reached and 99 % of the
set-ups (first INVITE sent -> 200 received, SIPp's -trace_shortmsg timestamps, in
microseconds) take at most 100 ms (an INVITE retransmitted after T1 = 500 ms fails it).
A step that does not hold is tried once more (one stall of another process on a shared
machine should not end the search); the ladder stops at the first step that fails twice.
After each gateway step every B-channel must be idle again and no call left (tandemctl),
or the bench fails.

Printed: cps = calls completed per second at the highest step that held (first INVITE
to last BYE answered); setup_ms_p50/p99 = set-up time at the lightest step (500 cps
offered, a load the gateway is far from its limit at); the same figures at the top
step; calls per span; tandemd's RSS; tandemd's and pstnsim's CPU time per call; tandemd's
own count of answered calls (metrics) against SIPp's.

The floor, measured in the same run with the same SIPp scenario and ladder: SIPp's
built-in UAS answering directly (a SIP end that costs nothing: no PRI leg), printed
as `floor sipp_direct ...` before the RESULT line, and as vs_sipp_direct_* ratios.

sip.limits.max_transactions is raised to 100000: every answered call keeps two server
transactions for 64*T1 = 32 s after it ends (Timers L and J), so the default 10000
would refuse (503) anything above ~156 calls/s sustained for 32 s; this bench measures
the call path, not that limit (which it reports in its header).

Environment: BENCH_SCALE divides the calls per step (default 1, at least 200 calls);
BENCH_GATEWAY_KEEP=1 keeps the logs (SIPp's, tandemd's, pstnsim's) of a run that passed.
Exit 0 with the RESULT line, else 1 with the reason and the logs' tails.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from peers import sipp  # noqa: E402  (the end-to-end tests' SIPp scenario pieces)

BUILD = os.path.join(ROOT, "build")
SIPP = shutil.which("sipp") or "/usr/bin/sipp"

SPANS = 8
CHANNELS = 30 * SPANS
LIMIT = 200                 # SIPp's concurrent calls: under the 240 B-channels
HOLD_MS = 10
LADDER = (500, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 16000)
MIN_CALLS = 2000
HOLD_RATIO = 0.9            # a step holds at >= 90 % of the offered rate ...
P99_MAX_MS = 100.0          # ... and 99 % of set-ups within 100 ms
BUDGET_S = 80.0             # the whole bench, both ladders; steps past it are skipped
MAX_TSX = 100000
NUMBER = "+12125550100"

CALLER, CALLER_HOST = "+12125559999", "[local_ip]:[local_port]"
SCENARIO = sipp.scenario(
    "gateway bench: a call from a trusted trunk, answered at once",
    sipp.invite(CALLER, host=CALLER_HOST,
                sdp=sipp.sdp(8, 0, origin="bench 53655765 2353687637", typed=True)),
    sipp.provisional(100, 180, 183, 180), sipp.recv(200, rrs=True),
    sipp.ack(CALLER, host=CALLER_HOST), sipp.pause(HOLD_MS), sipp.bye(CALLER, host=CALLER_HOST))


class BenchError(Exception):
    pass


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proc:
    """A child whose output goes to a file; stop() ends it by its pid only."""

    def __init__(self, name, args, workdir):
        self.name = name
        self.logpath = os.path.join(workdir, name + ".log")
        self.log = open(self.logpath, "wb")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=workdir)

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=4000):
        self.log.flush()
        with open(self.logpath, "rb") as f:
            f.seek(max(0, os.path.getsize(self.logpath) - n))
            return f.read().decode(errors="replace")

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            self.log.flush()
            with open(self.logpath, "rb") as f:
                if text.encode() in f.read(1 << 20):
                    return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.log.close()
        return self.p.returncode


def sim_config(tag):
    lines = ['numbering: { country_code: "1", international_prefix: "011", '
             'national_prefix: "1" }',
             "unknown_cause: 1",
             "ringback: false",
             "spans:"]
    for n in range(1, SPANS + 1):
        lines.append(f"  - {{ span: {n}, backend: virtual, address: '@{tag}-{n}', type: e1, "
                     "switch: euroisdn, clock_master: true, listen: true, "
                     "number_format: national }")
    lines += ["subscribers:",
              f'  - {{ number: "{NUMBER}", behaviour: answer, answer_after_ms: 0 }}']
    return "\n".join(lines) + "\n"


def gw_config(tag, work, sip_port, uac_port, metrics_port):
    spans = "\n".join(
        f"  - {{ number: {n}, backend: virtual, address: '@{tag}-{n}', type: e1, side: cpe, "
        "switch: euroisdn, group: 1, clock_master: false, bchan: '1-15,17-31', dchan: 16, "
        "law: alaw }" for n in range(1, SPANS + 1))
    return f"""log: {{ level: info, syslog: false }}
sip:
  domain: bench.test
  listen: [ "udp:127.0.0.1:{sip_port}" ]
  limits: {{ max_transactions: {MAX_TSX} }}
numbering: {{ country_code: "1", national_prefix: "1", international_prefix: "011",
             area_code: "212", nsn_length: 10, local_length: 7 }}
spans:
{spans}
users: []
trunks:
  - {{ name: bench, address: "udp:127.0.0.1:{uac_port}" }}
registrar: {{ db: ":memory:" }}
routes:
  outbound:
    - {{ name: nanp, pattern: "+1NXXNXXXXXX", strip: 1, ton: national, npi: e164,
        groups: [1], hunting: roundrobin }}
  inbound: []
ctl: {{ socket: "{work}/ctl.sock" }}
metrics: {{ listen: "127.0.0.1:{metrics_port}" }}
cdr: {{ path: "{work}/cdr.db", sync: normal }}
"""


def ctl(work, *args):
    r = subprocess.run([os.path.join(BUILD, "tandemctl"), "-s", f"{work}/ctl.sock", "--json",
                        *args], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise BenchError(f"tandemctl {' '.join(args)}: exit {r.returncode}: "
                         f"{r.stdout}{r.stderr}")
    return json.loads(r.stdout)


def spans_state(work):
    return ctl(work, "spans")["spans"]


def wait_spans_up(work, gw, timeout=15.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline and gw.alive():
        try:
            last = spans_state(work)
        except (BenchError, subprocess.TimeoutExpired, ValueError):
            last = None
        if last and len(last) == SPANS and all(
                s["dchan"] == "up" and s["idle"] == 30 for s in last):
            return
        time.sleep(0.1)
    raise BenchError(f"the {SPANS} D-channels did not all come up in {timeout:.0f} s: "
                     f"{last}")


def wait_drained(work, timeout=10.0):
    """Every B-channel idle and no call left; else what is still there."""
    deadline = time.monotonic() + timeout
    while True:
        spans = spans_state(work)
        busy = sum(s["busy"] for s in spans)
        calls = ctl(work, "calls")["calls"]
        if busy == 0 and not calls:
            return None
        if time.monotonic() >= deadline:
            return busy, calls, spans
        time.sleep(0.1)


def answered_total(metrics_port):
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        body = r.read().decode()
    m = re.search(r'^tandem_calls_total\{direction="out",result="answered"\} (\S+)$', body,
                  re.M)
    return int(float(m.group(1))) if m else 0


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_vals, q):
    """Nearest rank."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(-(-q * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def parse_shortmsg(path):
    """Per call: first INVITE sent, 200 to INVITE, 200 to BYE; INVITE retransmissions."""
    calls = {}
    with open(path, errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 7:
                continue
            t, d, cid, cseq, first = float(parts[2]), parts[3], parts[4], parts[5], parts[6]
            c = calls.setdefault(cid, {"inv": None, "ok": None, "end": None, "sent": 0})
            if d == "S" and first.startswith("INVITE "):
                c["sent"] += 1
                if c["inv"] is None:
                    c["inv"] = t
            elif d == "R" and first.startswith("SIP/2.0 200"):
                if cseq.endswith("INVITE") and c["ok"] is None:
                    c["ok"] = t
                elif cseq.endswith("BYE") and c["end"] is None:
                    c["end"] = t
    return calls


def error_summary(workdir):
    """SIPp's error log grouped by event and Reason (Call-IDs taken out), most frequent first."""
    counts = {}
    event = re.compile(r"^'?\d{4}-\d\d-\d\d\t[\d:.]+\t[\d.]+: ", re.M)
    for path in glob.glob(os.path.join(workdir, "*_errors.log")):
        with open(path, errors="replace") as f:
            text = f.read()
        for entry in event.split(text)[1:]:
            lines = entry.splitlines()
            key = re.sub(r"'[^' ]*@[^' ]*'", "'CALL'", lines[0])[:150]
            reason = [ln for ln in lines[1:] if ln.lower().startswith("reason:")]
            if reason:
                key += " / " + reason[0][:80]
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])[:5]


def run_step(target, port, uac_port, rate, calls, workdir, scenario):
    os.makedirs(workdir, exist_ok=True)
    limit_s = calls / rate + 20
    args = [SIPP, f"127.0.0.1:{port}", "-sf", scenario, "-s", NUMBER, "-i", "127.0.0.1",
            "-p", str(uac_port), "-m", str(calls), "-r", str(rate), "-l", str(LIMIT),
            "-buff_size", "4194304", "-nostdin", "-timeout", f"{int(limit_s)}s",
            "-timeout_error", "-trace_err", "-trace_shortmsg"]
    t0 = time.monotonic()
    try:
        r = subprocess.run(args, cwd=workdir, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=limit_s + 15)
        rc, err = r.returncode, r.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    wall = time.monotonic() - t0
    logs = glob.glob(os.path.join(workdir, "*_shortmessages.log"))
    per = parse_shortmsg(logs[0]) if logs else {}
    done = [c for c in per.values() if c["inv"] is not None and c["end"] is not None]
    setups = sorted((c["ok"] - c["inv"]) * 1000.0 for c in per.values()
                    if c["inv"] is not None and c["ok"] is not None)
    retrans = sum(max(0, c["sent"] - 1) for c in per.values())
    span = (max(c["end"] for c in done) - min(c["inv"] for c in per.values()
                                              if c["inv"] is not None)) if done else 0.0
    st = {
        "target": target, "offered": rate, "calls": calls, "done": len(done),
        "failed": calls - len(done), "retrans": retrans, "rc": rc, "wall": wall,
        "cps": len(done) / span if span > 0 else 0.0,
        "p50": percentile(setups, 50), "p99": percentile(setups, 99),
        "max": setups[-1] if setups else float("nan"), "stderr": err.strip()[-400:],
        "errors": error_summary(workdir) if rc != 0 or len(done) != calls else [],
    }
    st["holds"] = (rc == 0 and st["failed"] == 0 and st["cps"] >= HOLD_RATIO * rate and
                   st["p99"] <= P99_MAX_MS)
    return st


def show(st):
    mark = "holds" if st["holds"] else "FAILS"
    print(f"  {st['target']:<12}{st['offered']:>8}{st['calls']:>7}{st['cps']:>10.0f}"
          f"{st['failed']:>8}{st['retrans']:>9}{st['p50']:>10.3f}{st['p99']:>10.3f}"
          f"{st['max']:>10.3f}  {mark}", flush=True)
    if not st["holds"]:
        why = []
        if st["rc"] != 0:
            why.append(f"sipp exit {st['rc']}")
        if st["failed"]:
            why.append(f"{st['failed']} of {st['calls']} calls not completed")
        if st["cps"] < HOLD_RATIO * st["offered"]:
            why.append(f"{st['cps']:.0f} cps < {HOLD_RATIO:.0%} of offered")
        if not st["p99"] <= P99_MAX_MS:
            why.append(f"p99 {st['p99']:.1f} ms > {P99_MAX_MS:.0f} ms")
        print(f"    ({'; '.join(why)})")
        for what, n in st["errors"]:
            print(f"    {n} x {what}")
        if st["stderr"] and st["rc"] not in (0, 1):
            print(f"    sipp: {st['stderr']}")


def ladder(target, port, uac_port, work, scenario, deadline, scale, after_step=None,
           tries=None):
    """Up the offered rates until a step fails twice (a second try forgives one stall).
    Returns the last try of each step; every try is appended to tries if given."""
    steps = []
    for rate in LADDER:
        calls = max(200, int(max(MIN_CALLS, rate) / scale))
        st = None
        for attempt in (1, 2):
            if time.monotonic() + calls / rate + 3 > deadline:
                print(f"  {target:<12}{rate:>8}  (skipped: the bench's {BUDGET_S:.0f} s budget)")
                return steps
            st = run_step(target, port, uac_port, rate, calls,
                          os.path.join(work, f"{target}-{rate}-{attempt}"), scenario)
            if tries is not None:
                tries.append(st)
            if after_step:
                after_step(st)
            show(st)
            if st["holds"] or st.get("stuck"):
                break
        steps.append(st)
        if not st["holds"]:
            break
    return steps


def summary(steps):
    held = [s for s in steps if s["holds"]]
    if not held:
        return None
    top = max(held, key=lambda s: s["offered"])
    light = steps[0]
    return {"cps": top["cps"], "p50": light["p50"], "p99": light["p99"], "top": top,
            "light": light}


def calls_per_span(log_path):
    counts = [0] * (SPANS + 1)
    pat = re.compile(rb"span=(\d+)/\d+\] SETUP called")
    with open(log_path, "rb") as f:
        for line in f:
            m = pat.search(line)
            if m and int(m.group(1)) <= SPANS:
                counts[int(m.group(1))] += 1
    return counts[1:]


def main():
    scale = float(os.environ.get("BENCH_SCALE", "1") or 1)
    scale = scale if scale > 0 else 1.0
    for b in ("tandemd", "pstnsim", "tandemctl"):
        if not os.access(os.path.join(BUILD, b), os.X_OK):
            print(f"bench_gateway: {BUILD}/{b} is not built", file=sys.stderr)
            return 1
    if not os.access(SIPP, os.X_OK):
        print("bench_gateway: sipp is not installed (packaging/deps.sh: sip-tester)",
              file=sys.stderr)
        return 1

    start = time.monotonic()
    deadline = start + BUDGET_S
    work = tempfile.mkdtemp(prefix="tandem-bench-gw-")
    tag = f"tandem-bench-gw-{os.getpid()}"
    scenario = os.path.join(work, "uac.xml")
    with open(scenario, "w") as f:
        f.write(SCENARIO)
    procs = []
    ok = False
    print(f"bench_gateway: tandemd + pstnsim on {SPANS} virtual E1 spans ({CHANNELS} "
          f"B-channels, EuroISDN), SIPp UAC over UDP on 127.0.0.1: INVITE with SDP, 200, ACK, "
          f"{HOLD_MS} ms hold, BYE; at most {LIMIT} calls at once; max_transactions "
          f"{MAX_TSX} (the default 10000 caps ~156 cps sustained, see the file's header)")
    print(f"a step holds if every call completes, >= {HOLD_RATIO:.0%} of the offered rate "
          f"is reached and 99% of set-ups (INVITE -> 200) take <= {P99_MAX_MS:.0f} ms")
    print(f"  {'target':<12}{'offered':>8}{'calls':>7}{'cps':>10}{'failed':>8}{'retrans':>9}"
          f"{'p50_ms':>10}{'p99_ms':>10}{'max_ms':>10}")
    try:
        # The floor first, with nothing else running: SIPp's own UAS answering at once.
        uas_port, uac_port = free_port(), free_port()
        uas = Proc("sipp-uas", [SIPP, "-sn", "uas", "-i", "127.0.0.1", "-p", str(uas_port),
                                "-buff_size", "4194304", "-nostdin", "-timeout",
                                f"{int(BUDGET_S + 30)}s"], work)
        procs.append(uas)
        time.sleep(0.3)
        if not uas.alive():
            raise BenchError("sipp -sn uas did not start: " + uas.tail())
        direct_deadline = start + BUDGET_S / 2
        floor_steps = ladder("sipp_direct", uas_port, uac_port, work, scenario,
                             direct_deadline, scale)
        uas.stop()
        procs.remove(uas)

        sip_port, metrics_port = free_port(), free_port(socket.SOCK_STREAM)
        with open(os.path.join(work, "sim.yaml"), "w") as f:
            f.write(sim_config(tag))
        with open(os.path.join(work, "tandem.yaml"), "w") as f:
            f.write(gw_config(tag, work, sip_port, uac_port, metrics_port))
        sim = Proc("pstnsim", [os.path.join(BUILD, "pstnsim"), "-c", "sim.yaml", "-s",
                               os.path.join(work, "sim.sock")], work)
        procs.append(sim)
        gw = Proc("tandemd", [os.path.join(BUILD, "tandemd"), "-c", "tandem.yaml"], work)
        procs.append(gw)
        if not gw.wait_for("tandemd ready", 10):
            raise BenchError("tandemd is not ready:\n" + gw.tail() + "\n" + sim.tail())
        wait_spans_up(work, gw)
        rss0 = rss_mb(gw.p.pid)
        cpu0 = (cpu_s(gw.p.pid), cpu_s(sim.p.pid))
        answered0 = answered_total(metrics_port)

        problems = []

        def check_gateway(st):
            if not gw.alive():
                problems.append(f"tandemd died (exit {gw.p.returncode}) during the "
                                f"{st['offered']} cps step")
                return
            left = wait_drained(work)
            if left:
                busy, calls, spans = left
                problems.append(
                    f"after the {st['offered']} cps step ({st['failed']} calls failed): "
                    f"{busy} B-channels still busy and {len(calls)} calls left 10 s later; "
                    f"busy per span {[s['busy'] for s in spans]}; first calls: "
                    f"{json.dumps(calls[:3])}")
                st["holds"] = False
                st["stuck"] = True

        gw_tries = []
        gw_steps = ladder("gateway", sip_port, uac_port, work, scenario, deadline, scale,
                          after_step=check_gateway, tries=gw_tries)
        if not gw.alive():
            raise BenchError(f"tandemd died (exit {gw.p.returncode}):\n" + gw.tail())
        answered = answered_total(metrics_port) - answered0
        sipp_done = sum(s["done"] for s in gw_tries)
        rss1 = rss_mb(gw.p.pid)
        cpu1 = (cpu_s(gw.p.pid), cpu_s(sim.p.pid))
        per_span = calls_per_span(gw.logpath)
        print(f"gateway: set-ups per span {per_span}; tandemd counted {answered} answered "
              f"calls, SIPp completed {sipp_done}; tandemd RSS {rss0:.0f} MB -> {rss1:.0f} MB "
              f"(~{(rss1 - rss0) * 1024 / max(1, answered):.0f} KB per answered call while "
              f"its transactions linger, 32 s)")
        if sipp_done:
            print(f"CPU per completed call over every try: tandemd "
                  f"{(cpu1[0] - cpu0[0]) * 1e6 / sipp_done:.0f} us, pstnsim "
                  f"{(cpu1[1] - cpu0[1]) * 1e6 / sipp_done:.0f} us")
        if answered != sipp_done:
            problems.append(f"tandemd's metrics count {answered} answered calls, SIPp "
                            f"completed {sipp_done}")
        for p in problems:
            print(f"PROBLEM: {p}")

        floor, res = summary(floor_steps), summary(gw_steps)
        if floor:
            print(f"floor at {floor['top']['offered']} cps offered (top step held): setup "
                  f"p50 {floor['top']['p50']:.3f} ms, p99 {floor['top']['p99']:.3f} ms")
        if res:
            print(f"gateway at {res['top']['offered']} cps offered (top step held): setup "
                  f"p50 {res['top']['p50']:.3f} ms, p99 {res['top']['p99']:.3f} ms; "
                  f"RESULT latency is at {res['light']['offered']} cps offered")
        if not res or not floor or problems:
            raise BenchError("no gateway step held" if not res else
                             "the SIPp-only floor held no step" if not floor else
                             "problems above")
        if res["top"]["offered"] == LADDER[-1]:
            print(f"note: the gateway held the ladder's top ({LADDER[-1]} cps offered): its "
                  "cps is a lower bound")
        print(f"floor sipp_direct cps={floor['cps']:.0f} setup_ms_p50={floor['p50']:.3f} "
              f"setup_ms_p99={floor['p99']:.3f}")
        print(f"RESULT gateway cps={res['cps']:.0f} setup_ms_p50={res['p50']:.3f} "
              f"setup_ms_p99={res['p99']:.3f} vs_sipp_direct_cps={res['cps'] / floor['cps']:.2f}"
              f" vs_sipp_direct_setup_p50={res['p50'] / floor['p50']:.1f}")
        print(f"bench_gateway: {time.monotonic() - start:.1f} s")
        ok = True
    except BenchError as e:
        print(f"bench_gateway: FAILED: {e}", file=sys.stderr)
        for p in procs:
            if p.name != "sipp-uas":
                print(f"--- {p.name} (last lines)\n{p.tail(3000)}", file=sys.stderr)
        print(f"bench_gateway: logs kept in {work}", file=sys.stderr)
    finally:
        for p in reversed(procs):
            p.stop()
        if ok and not os.environ.get("BENCH_GATEWAY_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        elif ok:
            print(f"bench_gateway: logs kept in {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
