#!/usr/bin/env python3
"""Sums JUnit XML reports (meson's and pytest's) into the closing line.

Usage: count.py REPORT.xml... ; prints one line per report and, last,
"N passed, N failed[, N skipped]". Exits 1 when anything failed or a report
is missing (a suite that did not run is a failure, not a silence).
"""
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
missing = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"report {path}: unreadable ({e})")
        missing += 1
        continue
    p = f = s = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            f += 1
        elif case.find("skipped") is not None:
            s += 1
        else:
            p += 1
    print(f"report {path}: {p} passed, {f} failed, {s} skipped")
    passed += p
    failed += f
    skipped += s
failed += missing
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
