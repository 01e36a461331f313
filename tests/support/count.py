#!/usr/bin/env python3
"""Sums the test reports of tests/run.sh into the closing line.

Usage: count.py REPORT.xml...

Each REPORT.xml is a JUnit file (meson's or pytest's). Two optional files
beside it, written by tests/support/harness.sh, say what JUnit cannot:

  REPORT.testlog.json  meson's own per-program log. meson 1.0's JUnit for a
                       TAP program lists only the lines the program printed:
                       a program that exits non-zero after its last `ok`
                       (a LeakSanitizer leak, a TSan race: both report at
                       exit), aborts mid-plan or times out leaves no failure
                       element. Every program whose result is not OK/SKIP/
                       EXPECTEDFAIL and that JUnit shows no failure for counts
                       as one failed case here.
  REPORT.status        the runner's exit status (meson test, pytest). A
                       non-zero status with no failure in the report (pytest's
                       internal error, an interrupted run) counts as one
                       failed case.

A report that is missing or unreadable is a failure: a suite that did not run
is not a silence. Prints one line per report, what was counted, and last
"N passed, N failed[, N skipped]". Exits 1 when anything failed or nothing
passed.
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

BAD_MESON = {"FAIL", "ERROR", "TIMEOUT", "UNEXPECTEDPASS"}


def stem(path):
    return path[:-4] if path.endswith(".xml") else path


def meson_failures(path, failed_suites):
    """Failed cases that meson's testlog shows and JUnit does not."""
    out = []
    try:
        with open(stem(path) + ".testlog.json") as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return out
    for t in lines:
        if t.get("result") not in BAD_MESON:
            continue
        name = t.get("name", "?")
        if any(s == name or s.endswith("." + name) or s.endswith(":" + name)
               for s in failed_suites):
            continue  # JUnit already has its failure
        out.append(f"{name}: {t['result']} (exit status {t.get('returncode')})")
    return out


def runner_status(path):
    try:
        with open(stem(path) + ".status") as f:
            return int(f.read().strip() or "0")
    except (FileNotFoundError, ValueError):
        return 0


def base_name(case):
    """The case without its parametrisation: test_x[a-b] -> test_x."""
    return re.sub(r"\[.*\]$", "", case)


passed = failed = skipped = 0
distinct = set()
folded = set()
builds = []
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"report {os.path.basename(path)}: FAILED: missing or unreadable ({e})")
        failed += 1
        continue
    p = f = s = 0
    failed_suites = set()
    for suite in root.iter("testsuite"):
        for case in suite.iter("testcase"):
            cls = case.get("classname", "")
            name = case.get("name", "")
            distinct.add((cls, name))
            folded.add((cls, base_name(name)))
            if case.find("failure") is not None or case.find("error") is not None:
                f += 1
                failed_suites.add(suite.get("name", ""))
                failed_suites.add(cls)
            elif case.find("skipped") is not None:
                s += 1
            else:
                p += 1
    extra = meson_failures(path, failed_suites)
    for what in extra:
        print(f"  {os.path.basename(path)}: FAILED: {what}")
    f += len(extra)
    rc = runner_status(path)
    if rc != 0 and f == 0:
        print(f"  {os.path.basename(path)}: FAILED: runner exited {rc} with no failure in its report")
        f += 1
    print(f"report {os.path.basename(path)}: {p} passed, {f} failed, {s} skipped")
    builds.append(os.path.basename(stem(path)))
    passed += p
    failed += f
    skipped += s

print(f"counted: every result of every build ({len(builds)} reports: "
      f"{', '.join(builds)}); the same case run under plain, ASan and TSan "
      f"counts once per build. Distinct cases: {len(distinct)} "
      f"({len(folded)} before parametrisation).")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
