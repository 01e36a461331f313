#!/usr/bin/python3
"""Tables, targets and plot of one /auth benchmark run (bench/run.sh).

  report.py OUTDIR COMMAND   reads OUTDIR/runs.json; writes OUTDIR/results.csv,
                             OUTDIR/summary.md, OUTDIR/auth.png (gnuplot) and
                             the generated part of docs/BENCHMARKS.md
"""
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys

OUT, COMMAND = sys.argv[1], sys.argv[2]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "BENCHMARKS.md")
BEGIN, END = "<!-- bench/run.sh: begin -->", "<!-- bench/run.sh: end -->"

with open(os.path.join(OUT, "runs.json")) as f:
    R = json.load(f)
runs = R["runs"]
FIELDS = ["scenario", "variant", "conns", "rep", "requests", "rps", "p50_ms", "p99_ms",
          "cpu_us_per_req", "non2xx", "sock_errors", "hit_ratio", "wrk_cpu_s",
          "other_cpu_pct", "load_before", "load_after"]
with open(os.path.join(OUT, "results.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(runs)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def agg(scen, var, conns):
    rs = [r for r in runs if r["scenario"] == scen and r["variant"] == var and r["conns"] == conns]
    if not rs:
        return None
    return {
        "rps": med([r["rps"] for r in rs]), "p50": med([r["p50_ms"] for r in rs]),
        "p99": med([r["p99_ms"] for r in rs]), "cpu": med([r["cpu_us_per_req"] for r in rs]),
        "non2xx": sum(r["non2xx"] for r in rs) / max(1, sum(r["requests"] for r in rs)),
        "hit": med([r["hit_ratio"] for r in rs]), "n": len(rs),
        "other": med([r["other_cpu_pct"] for r in rs]),
        "load": "%s–%s" % (min(r["load_before"] for r in rs), max(r["load_after"] for r in rs)),
    }


def f(v, fmt):
    return "–" if v is None else fmt % v


PEERS = ("go-peer", "node-peer")


def best_peer(scen, c):
    """(name, agg) of the peer with the most req/s in scen at c, or None."""
    got = [(p, agg(scen, p, c)) for p in PEERS]
    got = [(p, a) for p, a in got if a and a["rps"]]
    return max(got, key=lambda x: x[1]["rps"]) if got else None


def table(scen, variants):
    lines = ["| server | conns | req/s (median) | vs best peer | p50 ms | p99 ms | server CPU µs/req | non-2xx | cache hit ratio | other procs' CPU % | load 1m |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in R["conns"]:
        bp = best_peer(scen, c)
        for v in variants:
            a = agg(scen, v, c)
            if a:
                vs = "–" if not bp or not a["rps"] else "%.2f× %s" % (a["rps"] / bp[1]["rps"], bp[0])
                lines.append(f"| {v} | {c} | {f(a['rps'], '%.0f')} | {vs} | {f(a['p50'], '%.3f')} | {f(a['p99'], '%.3f')} "
                             f"| {f(a['cpu'], '%.1f')} | {a['non2xx']:.0%} | {f(a['hit'], '%.3f')} | {f(a['other'], '%.0f')} | {a['load']} |")
    return "\n".join(lines)


def ratio(a, b):
    return a / b if a is not None and b else None


def g(scen, var, key, c=64):
    a = agg(scen, var, c)
    return a[key] if a else None


targets = []


def target(name, val, want, ge=True, fmt="%.2f×"):
    ok = None if val is None else (val >= want if ge else val <= want)
    mark = "–" if ok is None else ("met" if ok else "**missed**")
    targets.append(f"| {name} | {f(val, fmt)} | {'≥' if ge else '≤'} {fmt % want} | {mark} |")


def vs_best(scen, key="rps"):
    bp = best_peer(scen, 64)
    return (ratio(g(scen, "revokd", key), bp[1][key]) if bp else None), (bp[0] if bp else "no peer")


# issue 19: against the best peer of this run
for alg, want in (("es256", 1.5), ("rs256", 2.0)):
    v, who = vs_best(f"miss-{alg}")
    target(f"issue 19: {alg.upper()} miss req/s vs best peer ({who}, c=64)", v, want)
target("issue 19: RS256 miss CPU µs/req (c=64)", g("miss-rs256", "revokd", "cpu"), 35, ge=False, fmt="%.1f µs")


def verify_us(alg):
    """µs of one revokd verify of alg in this run (OUT/verify.txt, written
    by bench/verify/verify_bench after the scenarios), or None."""
    try:
        with open(os.path.join(OUT, "verify.txt")) as vf:
            for line in vf:
                w = line.split()
                if len(w) > 3 and w[0] == alg and w[1] == "revokd" and w[3] == "us":
                    return float(w[2])
    except (OSError, ValueError):
        pass
    return None


# The floor the RS256 target stands on, measured in this run: the verify
# alone, and the verify plus what a cached answer costs (the same HTTP
# work with no verify), so the part a miss adds above both shows.
rs_verify, rs_miss, hit1 = verify_us("RS256"), g("miss-rs256", "revokd", "cpu"), g("hit-one", "revokd", "cpu")
if rs_verify is not None:
    floor = rs_verify + hit1 if hit1 is not None else None
    above = rs_miss - floor if None not in (rs_miss, floor) else None
    targets.append(f"| (floor) RS256 verify, revokd's way (bench/verify/verify_bench, one thread) | {rs_verify:.1f} µs | – | "
                   f"with a hit's CPU ({f(hit1, '%.1f')} µs): {f(floor, '%.1f')} µs; the miss above that: {f(above, '%.1f')} µs |")
hm, hh = g("miss-hs256", "revokd", "cpu"), g("hit-10k", "revokd", "cpu")
target("issue 19: HS256 miss CPU − hit CPU (10k tokens, c=64)", hm - hh if None not in (hm, hh) else None, 5, ge=False, fmt="%.1f µs")
target("issue 19: cache hit req/s vs nginx (one token, c=64)", ratio(g("hit-one", "revokd", "rps"), g("hit-one", "nginx", "rps")), 0.95)
target("issue 19: cache hit req/s vs nginx (10k tokens, c=64)", ratio(g("hit-10k", "revokd", "rps"), g("hit-10k", "nginx", "rps")), 0.95)
for alg in ("rs256", "es256"):
    target(f"issue 9: {alg.upper()} miss req/s vs Go peer (c=64)",
           ratio(g(f"miss-{alg}", "revokd", "rps"), g(f"miss-{alg}", "go-peer", "rps")), 1.5)
target("issue 9: cache hit CPU/req vs nginx (one token, c=64)", ratio(g("hit-one", "revokd", "cpu"), g("hit-one", "nginx", "cpu")), 1.3, ge=False)
target("issue 9: RS256 miss CPU/req vs Go peer (c=64)", ratio(g("miss-rs256", "revokd", "cpu"), g("miss-rs256", "go-peer", "cpu")), 0.35, ge=False)
target("1M revocations vs empty table req/s (c=64)", ratio(g("table-1m", "revokd-1m", "rps"), g("table-1m", "revokd-empty", "rps")), 0.9)
target("cache hit p99 at c=64 (one token)", g("hit-one", "revokd", "p99"), 2.0, ge=False, fmt="%.3f ms")
target("cache hit p99 at c=64 (10k tokens)", g("hit-10k", "revokd", "p99"), 2.0, ge=False, fmt="%.3f ms")
# With threads: 1, revokd and wrk -t1 are two runnable threads on two cores:
# no time-slicing between them, so this is the tail revokd itself adds.
target("cache hit p99 at c=64 (one token), threads: 1", g("hit-one", "revokd-threads1", "p99"), 2.0, ge=False, fmt="%.3f ms")
target("cache hit p99 at c=64 (10k tokens), threads: 1", g("hit-10k", "revokd-threads1", "p99"), 2.0, ge=False, fmt="%.3f ms")
target("(ceiling) nginx p99 at c=64, one token", g("hit-one", "nginx", "p99"), 2.0, ge=False, fmt="%.3f ms")
target("(ceiling) nginx p99 at c=64, 10k tokens", g("hit-10k", "nginx", "p99"), 2.0, ge=False, fmt="%.3f ms")
mx, base = g("mixed", "revokd-mixed1pct", "rps"), g("mixed", "revokd-decisions", "rps")
target("mixed: decisions/s with 1% revocations vs without (c=64)", ratio(mx * 0.99 if mx else None, base), 0.8)
target("issue 3: cache hit (10k) vs RS256 miss req/s (c=64)", ratio(g("hit-10k", "revokd", "rps"), g("miss-rs256", "revokd", "rps")), 2.0)
target("issue 3: cache hit (10k) vs ES256 miss req/s (c=64)", ratio(g("hit-10k", "revokd", "rps"), g("miss-es256", "revokd", "rps")), 2.0)
gmx, gbase = g("mixed", "go-mixed1pct", "rps"), g("mixed", "go-decisions", "rps")
target("(peer) Go mixed: decisions/s with 1% revocations vs without", ratio(gmx * 0.99 if gmx else None, gbase), 0.8)
nmx, nbase = g("mixed", "node-mixed1pct", "rps"), g("mixed", "node-decisions", "rps")
target("(peer) Node mixed: decisions/s with 1% revocations vs without", ratio(nmx * 0.99 if nmx else None, nbase), 0.8)
target("threads=1 vs threads=2 req/s, cache hit (c=64)", ratio(g("hit-one", "revokd-threads1", "rps"), g("hit-one", "revokd", "rps")), 1.0)

stamp = os.path.basename(OUT.rstrip("/"))
md = [f"Run `{stamp}`: `{COMMAND}` — {'QUICK, ' if R['quick'] else ''}wrk -t{R['wrk_threads']} "
      f"-d{R['duration_s']}s --latency, connections {R['conns']}, {R['reps']} repetitions interleaved "
      f"across the servers of each scenario (alternating order); {R['nproc']} CPUs, kernel {R['uname']}. "
      "Medians over the repetitions. Server CPU µs/req = the server process's utime+stime delta "
      "(/proc/PID/stat; nginx: master and workers) over the requests wrk counted. "
      "\"other procs' CPU %\" = the machine's busy time during the run minus the server's and wrk's, "
      "as a share of all cores (other engineers' jobs); load 1m = /proc/loadavg before the first "
      "and after the last repetition. Raw rows: "
      f"`bench/results/{stamp}/results.csv`.", "",
      "#### Targets (issues 9 and 19, ratios within this run)", "",
      "| target | measured | wanted | |", "|---|---|---|---|"] + targets + [""]
for name, title, variants in R["scenarios"]:
    md += [f"#### {name}: {title}", "", f"Command: `{COMMAND}` (scenario `{name}`).", "",
           table(name, variants), ""]
text = "\n".join(md)
with open(os.path.join(OUT, "summary.md"), "w") as fo:
    fo.write(text + "\n")

# plot: req/s at c=64 per scenario and server, and CPU µs/req
dat = os.path.join(OUT, "plot.dat")
c = 64 if 64 in R["conns"] else R["conns"][0]
cols = ["nginx", "revokd", "revokd-before", "go-peer", "node-peer"]
with open(dat, "w") as fo:
    fo.write("scenario " + " ".join(cols) + "\n")
    for name, _, variants in R["scenarios"]:
        vals = []
        for col in cols:
            v = {"revokd": ["revokd", "revokd-empty", "revokd-mixed1pct"],
                 "go-peer": ["go-peer", "go-mixed1pct"],
                 "node-peer": ["node-peer", "node-mixed1pct"]}.get(col, [col])
            got = next((g(name, x, "rps", c) for x in v if g(name, x, "rps", c)), None)
            vals.append("%.0f" % got if got else "0")
        fo.write(name + " " + " ".join(vals) + "\n")
    fo.write("table-1m(1M) 0 %.0f 0 0 0\n" % (g("table-1m", "revokd-1m", "rps", c) or 0))
gp = f"""set terminal pngcairo size 1100,520 noenhanced
set output '{OUT}/auth.png'
set title '/auth req/s, median of {R["reps"]}, wrk -c{c} ({stamp})'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'requests/s'
set xtics rotate by -30
set key top right
set grid ytics
plot '{dat}' using 2:xtic(1) title 'nginx (ceiling)', '' using 3 title 'revokd', '' using 4 title 'revokd before', '' using 5 title 'Go sync.Map peer', '' using 6 title 'Node fast-jwt peer'
"""
with open(os.path.join(OUT, "plot.gp"), "w") as fo:
    fo.write(gp)
if shutil.which("gnuplot"):
    subprocess.run(["gnuplot", os.path.join(OUT, "plot.gp")], check=False)
else:
    print("report.py: no gnuplot (apt-get install -y gnuplot-nox): no plot", file=sys.stderr)
png = os.path.join(OUT, "auth.png")

doc = open(DOC).read() if os.path.exists(DOC) else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
if BEGIN not in doc:
    doc += "\n" + BEGIN + "\n" + END + "\n"
head, rest = doc.split(BEGIN, 1)
tail = rest.split(END, 1)[1]
rel = f"../bench/results/{stamp}/auth.png"
with open(DOC, "w") as fo:
    img = f"\n![/auth req/s]({rel})\n" if os.path.exists(png) else "\n(no plot: gnuplot was not installed)\n"
    fo.write(head + BEGIN + "\n\n" + text + img + "\n" + END + tail)
print(text)
