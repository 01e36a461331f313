#!/usr/bin/env python3
"""Fails when a C test file under tests/unit is not named in the meson.build
of its folder (BIND 9's habit: nothing silently untested)."""
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "unit")
missing = []
for folder, _, files in os.walk(root):
    tests = [f for f in files if f.endswith("_test.c")]
    if not tests:
        continue
    build = os.path.join(folder, "meson.build")
    text = open(build).read() if os.path.exists(build) else ""
    # Either the file itself or its stem in a foreach list ('jws' for
    # jws_test.c) must be named.
    missing += [os.path.join(folder, f) for f in tests
                if f"'{f}'" not in text and f"'{f[:-len('_test.c')]}'" not in text]
print("1..1")
if missing:
    for m in missing:
        print(f"# not registered in meson.build: {m}")
    print("not ok 1 - every unit test file is registered")
    sys.exit(1)
print("ok 1 - every unit test file is registered")
