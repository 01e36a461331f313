#!/usr/bin/env python3
"""Lists public functions with no caller: every function declared in a
module header (base/ auth/ cache/ store/ api/ service/) that no C file
other than its own .c (and no test or fuzz target) calls.

    tools/unused-public.py            # every module
    tools/unused-public.py service    # some modules

Prints "module/file.h: name (callers in tests: N)"; a name called only
from tests is listed too, since a test alone does not make an API. Exit
status 0 always: this is a report, not a gate (a function kept for a branch
in progress is a judgement, recorded in the commit that keeps it)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = sys.argv[1:] or ["base", "auth", "cache", "store", "api", "service"]
PROTO = re.compile(r"^(?!static|#|\s|typedef|struct \w+ \{|\}|/)[^;()]*?\b(rvk_\w+)\s*\(", re.M)


def files(pattern):
    out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT,
                         capture_output=True, text=True).stdout.split()
    return out


def main():
    sources = {f: open(os.path.join(ROOT, f), encoding="utf-8").read()
               for f in files("*.c") + files("*.h")}
    for mod in MODULES:
        for h in sorted(f for f in sources if f.startswith(mod + "/") and f.endswith(".h")):
            own = h[:-2] + ".c"
            for name in sorted(set(PROTO.findall(sources[h]))):
                call = re.compile(r"\b" + name + r"\b")
                users = [f for f, s in sources.items()
                         if f not in (h, own) and call.search(s)]
                # The defining file may hold the only caller under another name
                # (a callback stored in a table): not a caller outside.
                prod = [f for f in users if not f.startswith(("tests/", "bench/"))]
                code_lines = [l for l in sources[h].split("\n")
                              if call.search(l) and not l.lstrip().startswith(("*", "/*"))]
                if not prod and len(code_lines) > 1:
                    continue  # used by a macro or an inline function in its header
                if not prod:
                    tests = [f for f in users if f.startswith(("tests/", "bench/"))]
                    print(f"{h}: {name} (callers in tests/bench: {len(tests)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
