#!/usr/bin/python3
"""The /auth benchmark driver (bench/run.sh sets it up and calls it).

Starts nginx (the ceiling), revokd (several configurations), the Go
sync.Map peer and the Node fast-jwt peer (each peer only when bench/run.sh
found it: GO_PEER_BIN, NODE_PEER_DIR) on loopback, runs every scenario with wrk --latency at each
connection count, each repetition interleaved across the servers of the
scenario, and measures around each wrk run: requests/s, p50, p99, the server
process's utime+stime delta (/proc/PID/stat, children of nginx's master
included) over the requests it answered, wrk's own CPU, the rest of the
machine's CPU (other engineers' jobs) and /proc/loadavg.

  drive.py WORKDIR OUTDIR   (environment: see bench/run.sh)

SCENARIOS=miss-rs256,miss-es256 runs only the scenarios named (and starts
only the servers they need); with REVOKD_BEFORE_BIN set, the "before"
revokd also runs in the miss scenarios.
"""
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

W, OUT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
QUICK = os.environ.get("QUICK") == "1"
CONNS = [64] if QUICK else [16, 64, 256]
REPS = int(os.environ.get("REPS", "3"))
DUR = int(os.environ.get("DUR", "2" if QUICK else "3"))
WRK_THREADS = os.environ.get("WRK_THREADS", "1")
ISS = "https://bench.revokd.test/"
TOK = os.path.join(W, "tok")
ROTATE = os.environ["ROTATE"]          # $REVOKD_PEERS/tokens/rotate.lua
MIX = os.path.join(HERE, "mix.lua")
REVOKD = os.environ["REVOKD_BIN"]
BEFORE = os.environ.get("REVOKD_BEFORE_BIN")
GO = os.environ.get("GO_PEER_BIN")
NODE = os.environ.get("NODE_PEER_DIR")   # a copy of node-fastjwt-service with node_modules
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
ONLY = set(filter(None, os.environ.get("SCENARIOS", "").split(",")))
HZ = os.sysconf("SC_CLK_TCK")
procs = []


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def http(url, data=None, headers=None, timeout=5):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def wait_up(url, what, secs=120):
    t = time.time() + secs
    while time.time() < t:
        try:
            http(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return          # answering
        except Exception:
            time.sleep(0.2)
    sys.exit(f"{what} did not come up at {url}")


def spawn(argv, logname, **kw):
    f = open(os.path.join(W, logname), "w")
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, **kw)
    procs.append(p)
    return p


def cpu_of(pid):
    """utime+stime in ticks of pid and of its children processes (nginx)."""
    tot = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        ppid = int(fields[1])
        if int(d) == pid or ppid == pid:
            tot += int(fields[11]) + int(fields[12])
    return tot


def sys_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4]     # minus idle, iowait


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


# ---------------------------------------------------------------- servers

def revokd_config(name, port, threads, data_dir):
    keys = os.path.join(TOK, "keys")
    cfg = {
        # A public-only listener, as SPEC §2 deploys it: the admin API
        # has its own (port + 100), so /auth gets the small MHD pool.
        "listen": f"127.0.0.1:{port}", "admin_listen": f"127.0.0.1:{port + 100}",
        "threads": threads, "data_dir": data_dir,
        "log_level": "error", "max_token_lifetime": 86400,
        "verified_cache": {"max_entries": 10000, "ttl": 3600},
        "issuers": [{"issuer": ISS, "algorithms": ["HS256", "RS256", "ES256"],
                     "keys": [{"alg": "HS256", "secret_file": f"{keys}/hs256.secret"},
                              {"alg": "RS256", "pem_file": f"{keys}/rs256.pub.pem"},
                              {"alg": "ES256", "pem_file": f"{keys}/es256.pub.pem"}]}],
        "webhook": {"secret_file": os.path.join(W, "webhook.secret"), "tolerance": 86400},
        "admin": {"token_file": os.path.join(W, "admin.token")},
    }
    path = os.path.join(W, f"{name}.json")
    os.makedirs(data_dir, exist_ok=True)
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


class Server:
    def __init__(self, name, kind, port, argv, env=None):
        self.name, self.kind, self.port = name, kind, port
        self.url = f"http://127.0.0.1:{port}"
        self.p = spawn(argv, f"{name}.log", env=env)
        self.starts = {}        # token file -> rotation offset

    def pid(self):
        return self.p.pid


def start_revokd(name, port, threads, binary=REVOKD, data_dir=None):
    d = data_dir or os.path.join(W, f"data-{name}")
    cfg = revokd_config(name, port, threads, d)
    s = Server(name, "revokd", port, [binary, "serve", "--config", cfg])
    return s


def start_go(name, port):
    keys = os.path.join(TOK, "keys")
    return Server(name, "go", port, [GO, "-addr", f"127.0.0.1:{port}",
                                     "-hs256", f"{keys}/hs256.secret",
                                     "-rs256", f"{keys}/rs256.pub.pem",
                                     "-es256", f"{keys}/es256.pub.pem",
                                     "-cache-max", "10000"],
                  env=dict(os.environ, GOMAXPROCS=str(os.cpu_count())))


def start_node(name, port):
    """One process per core (node:cluster, --workers 2), as its README runs
    it; cpu_of() counts the workers, children of the primary."""
    keys = os.path.join(TOK, "keys")
    return Server(name, "node", port, ["node", os.path.join(NODE, "server.js"),
                                       "--addr", f"127.0.0.1:{port}",
                                       "--workers", str(os.cpu_count()),
                                       "--hs256", f"{keys}/hs256.secret",
                                       "--rs256", f"{keys}/rs256.pub.pem",
                                       "--es256", f"{keys}/es256.pub.pem",
                                       "--cache-max", "10000"])


def start_nginx(port):
    pre = os.path.join(W, "nginx")
    os.makedirs(os.path.join(pre, "logs"), exist_ok=True)
    conf = os.path.join(pre, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes auto;
pid {pre}/nginx.pid;
error_log {pre}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {pre}/tmp;
  proxy_temp_path {pre}/tmp; fastcgi_temp_path {pre}/tmp;
  uwsgi_temp_path {pre}/tmp; scgi_temp_path {pre}/tmp;
  keepalive_requests 100000000;
  server {{
    listen 127.0.0.1:{port} reuseport;
    location /auth {{ return 200; }}
    location / {{ return 404; }}
  }}
}}
""")
    return Server("nginx", "nginx", port,
                  [NGINX, "-p", pre, "-c", conf, "-g", "daemon off;"])


def metric(s, name):
    try:
        if s.kind == "revokd":
            _, b = http(s.url + "/metrics")
            m = re.search(rf"^{name} (\d+)", b.decode(), re.M)
            return int(m.group(1)) if m else None
        if s.kind == "go":
            _, b = http(s.url + "/stats")
            return json.loads(b)[name]
    except Exception:
        return None
    return None


def cache_counts(s):
    if s.kind == "revokd":
        return (metric(s, "revokd_verified_cache_hits_total"),
                metric(s, "revokd_verified_cache_misses_total"))
    if s.kind == "go":
        return metric(s, "hits"), metric(s, "misses")
    return None, None


# ---------------------------------------------------------------- wrk

def parse_ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(s, conns, dur, script, args):
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{conns}", f"-d{dur}s", "--latency",
           "-s", script, s.url, "--"] + [str(a) for a in args]
    h0, m0 = cache_counts(s)
    la0, busy0, cpu0 = loadavg(), sys_busy(), cpu_of(s.pid())
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=dur + 60)
    wall = time.time() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1, busy1, la1 = cpu_of(s.pid()), sys_busy(), loadavg()
    h1, m1 = cache_counts(s)
    o = r.stdout
    reqs = int(re.search(r"(\d+) requests in", o).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1))
    lat = dict((p, parse_ms(v, u)) for p, v, u in
               re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", o, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", o)
    errs = re.search(r"Socket errors: (.*)", o)
    srv_ticks = cpu1 - cpu0
    wrk_s = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    other_s = max(0.0, (busy1 - busy0) / HZ - srv_ticks / HZ - wrk_s)
    hit = None
    if None not in (h0, h1, m0, m1) and (h1 - h0) + (m1 - m0) > 0:
        hit = (h1 - h0) / ((h1 - h0) + (m1 - m0))
    return {
        "server": s.name, "conns": conns, "requests": reqs, "rps": rps,
        "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
        "cpu_us_per_req": srv_ticks / HZ * 1e6 / reqs if reqs else None,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "sock_errors": errs.group(1) if errs else "",
        "wrk_cpu_s": round(wrk_s, 2), "other_cpu_pct": round(100 * other_s / wall / os.cpu_count(), 1),
        "load_before": la0, "load_after": la1, "hit_ratio": hit,
    }


# ---------------------------------------------------------------- scenarios

def tokfile(alg, kind):
    return os.path.join(TOK, f"{alg}.{kind}")


def rot(file):
    """A rotate.lua variant: continues the rotation where the server's last
    run on that file stopped, so a bounded cache never replays tokens."""
    def make(s):
        return ROTATE, [file, s.starts.get(file, 0)]
    make.file = file
    return make


def mixed(file, every):
    def make(s):
        if s.kind == "revokd":
            return MIX, [file, os.path.join(W, "webhook.reqs"), every, s.starts.get("wh", 0), "revokd"]
        return MIX, [file, os.path.join(W, "webhook.reqs.peer"), every, s.starts.get("wh", 0), "peer"]
    make.every = every
    return make


def wanted(name):
    return not ONLY or name in ONLY


def run_scenario(name, title, variants, warm=0):
    """variants: [(label, server, make)] all run per (conns, rep)."""
    if not wanted(name):
        return
    log(f"scenario {name}: {', '.join(v[0] for v in variants)}")
    for label, s, make in variants:
        if warm:
            script, args = make(s)
            res = wrk(s, 64, warm, script, args)
            advance(s, make, res)
    rows = []
    for c in CONNS:
        for rep in range(REPS):
            order = variants if rep % 2 == 0 else list(reversed(variants))
            for label, s, make in order:
                script, args = make(s)
                res = wrk(s, c, DUR, script, args)
                advance(s, make, res)
                res.update(scenario=name, variant=label, rep=rep)
                rows.append(res)
                log(f"  {label:>16} c={c:<3} {res['rps']:>9.0f} req/s p99 {res['p99_ms']}ms "
                    f"cpu {res['cpu_us_per_req'] or 0:.1f}us/req other {res['other_cpu_pct']}% "
                    f"load {res['load_after']} hit {res['hit_ratio']}")
    SCEN.append((name, title, [v[0] for v in variants]))
    ROWS.extend(rows)


def advance(s, make, res):
    if hasattr(make, "file"):
        s.starts[make.file] = s.starts.get(make.file, 0) + res["requests"]
    if getattr(make, "every", 0):
        s.starts["wh"] = s.starts.get("wh", 0) + res["requests"] // make.every + 1


SCEN, ROWS = [], []


def main():
    os.makedirs(OUT, exist_ok=True)
    hit10k = os.path.join(W, "hit10k.tokens")
    with open(tokfile("hs256", "tokens")) as f, open(hit10k, "w") as g:
        for i, line in zip(range(10000), f):
            g.write(line)

    # The 1M table: revokd creates its schema, prep.py fills it.
    d1m = os.path.join(W, "data-revokd-1m")
    if wanted("table-1m") and not os.path.exists(os.path.join(d1m, "revokd.db")):
        s = start_revokd("revokd-1m-init", 28489, 1, data_dir=d1m)
        wait_up(s.url + "/healthz", "revokd")
        s.p.send_signal(signal.SIGTERM)
        s.p.wait(10)
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "prep.py"), "db",
                        os.path.join(d1m, "revokd.db"), ISS, "1000000"], check=True)

    ng = start_nginx(28480)
    rv = start_revokd("revokd", 28481, 0)
    rv1 = start_revokd("revokd-t1", 28482, 1)
    go = start_go("go-peer", 28485) if GO else None
    nd = start_node("node-peer", 28486) if NODE else None
    peers = [p for p in (go, nd) if p]
    rb = start_revokd("revokd-before", 28483, 0, binary=BEFORE) if BEFORE else None
    t0 = time.time()
    r1m = start_revokd("revokd-1m", 28484, 0, data_dir=d1m) if wanted("table-1m") else None
    for s in [ng, rv, rv1] + peers + ([r1m] if r1m else []) + ([rb] if rb else []):
        wait_up(s.url + "/healthz" if s.kind != "nginx" else s.url + "/auth", s.name)
    log(f"servers up (revokd-1m loaded its table in {time.time() - t0:.1f}s); "
        f"peers: {', '.join(p.name for p in peers) or 'none'}")

    # Node's JIT compiles the verify paths on first use: one untimed run
    # per algorithm before anything is measured.
    if nd:
        for alg in ("hs256", "rs256", "es256"):
            wrk(nd, 64, 2, ROTATE, [tokfile(alg, "badsig")])
        log("node-peer warmed up (2 s per algorithm, bad signatures: nothing cached)")

    def with_peers(make, rest=()):
        return list(rest) + [(p.name, p, make) for p in peers]

    one = rot(tokfile("hs256", "one"))
    hit = [("nginx", ng, one), ("revokd", rv, one), ("revokd-threads1", rv1, one)]
    if rb:
        hit.append(("revokd-before", rb, one))
    run_scenario("hit-one", "Cache hit, one token (HS256)", with_peers(one, hit), warm=1)
    h10 = rot(hit10k)
    run_scenario("hit-10k", "Cache hit, 10,000 distinct tokens rotating (HS256)",
                 with_peers(h10, [("nginx", ng, h10), ("revokd", rv, h10), ("revokd-threads1", rv1, h10)]
                            + ([("revokd-before", rb, h10)] if rb else [])), warm=2)
    # The miss scenarios come last: they fill the caches with tokens the
    # scenarios above do not send.
    # Revoked: the token is revoked first, then every request is a denial.
    with open(tokfile("hs256", "revoked.json")) as f:
        rj = json.load(f)
    with open(os.path.join(W, "admin.token")) as f:
        admin = f.read().strip()
    ev = json.dumps({"type": "token.revoked", "iss": ISS, "jti": rj["jti"], "exp": rj["exp"]}).encode()
    for s in (rv, rv1) if wanted("revoked") else ():
        http(f"http://127.0.0.1:{s.port + 100}/admin/v1/revocations", ev, {"Authorization": "Bearer " + admin,
                                                   "Content-Type": "application/json"})
    for p in peers if wanted("revoked") else ():
        http(p.url + "/revoke", json.dumps(rj).encode(), {"Content-Type": "application/json"})
    rvk = rot(tokfile("hs256", "revoked"))
    run_scenario("revoked", "Revoked token (HS256, cached, denied by step 6)",
                 with_peers(rvk, [("revokd", rv, rvk)]), warm=1)
    run_scenario("table-1m", "1,000,000 revocations in the table vs an empty one (10,000 tokens, cached)",
                 [("revokd-empty", rv, h10), ("revokd-1m", r1m, h10)], warm=2)
    mixvars = [("revokd-decisions", rv, mixed(hit10k, 0)), ("revokd-mixed1pct", rv, mixed(hit10k, 100))]
    for p in peers:
        short = p.name.split("-")[0]
        mixvars += [(f"{short}-decisions", p, mixed(hit10k, 0)), (f"{short}-mixed1pct", p, mixed(hit10k, 100))]
    run_scenario("mixed", "Mixed: 1% revocations (revokd: signed webhook POST /v1/events; peers: POST /revoke), 99% decisions (10,000 tokens)",
                 mixvars)

    for alg in ("hs256", "rs256", "es256"):
        m = rot(tokfile(alg, "tokens"))
        # hit10k.tokens are this file's first lines: start past them.
        for s in [rv] + peers + ([rb] if rb else []):
            s.starts.setdefault(m.file, 10000)
        run_scenario(f"miss-{alg}", f"Cache miss, {alg.upper()}: 100,000 distinct tokens through a 10,000-entry cache",
                     with_peers(m, [("revokd", rv, m)] + ([("revokd-before", rb, m)] if rb else [])))
    with open(os.path.join(OUT, "runs.json"), "w") as f:
        json.dump({"scenarios": SCEN, "runs": ROWS, "quick": QUICK, "conns": CONNS,
                   "reps": REPS, "duration_s": DUR, "wrk_threads": WRK_THREADS,
                   "nproc": os.cpu_count(), "uname": os.uname().release}, f, indent=1)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
