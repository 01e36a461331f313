#!/usr/bin/env python3
"""Fails when a file includes a module above it (docs/ARCHITECTURE.md,
"Modules and dependencies"): the allowed edges are read from the table
between the `arrows:` markers there, so the document and the check cannot
disagree. Every folder holding C sources must have a row, so a new module
is placed in the graph before it compiles into the suite green."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
doc = open(os.path.join(root, "docs", "ARCHITECTURE.md")).read()
m = re.search(r"<!-- arrows: begin -->(.*?)<!-- arrows: end -->", doc, re.S)
print("1..2")
if not m:
    print("not ok 1 - docs/ARCHITECTURE.md has the arrows table")
    print("not ok 2 - no file includes a module above it # SKIP no table")
    sys.exit(1)

# | `api/` | `auth/`, `store/` | ... ; "everything" for tests and bench.
allowed = {}
for line in m.group(1).splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 2 or not cells[0].startswith("`"):
        continue
    who = re.findall(r"`([a-z_/]+)/`", cells[0])
    may = set(re.findall(r"`([a-z_/]+)/`", cells[1]))
    for w in who:
        allowed[w] = "*" if "everything" in cells[1] else may | {w}
print("ok 1 - docs/ARCHITECTURE.md has the arrows table (%d modules)" % len(allowed))

def owner(rel):
    """The longest table row that is a prefix of rel's folder."""
    best = None
    for mod in allowed:
        if rel == mod or rel.startswith(mod + "/"):
            if best is None or len(mod) > len(best):
                best = mod
    return best

modules = {k for k, v in allowed.items() if v != "*"}
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
bad = []
for folder, dirs, files in os.walk(root):
    rel_dir = os.path.relpath(folder, root)
    # Source folders only: hidden ones, and any meson build folder (it has
    # meson-private/, whatever it is called), hold no source of ours.
    dirs[:] = [d for d in dirs if not d.startswith(".") and
               not os.path.isdir(os.path.join(folder, d, "meson-private")) and
               not (rel_dir == "." and d.startswith("build"))]
    for f in files:
        if not f.endswith((".c", ".h")):
            continue
        rel = os.path.normpath(os.path.join(rel_dir, f))
        mod = owner(os.path.dirname(rel))
        if mod is None:
            bad.append(f"{rel}: its folder has no row in the arrows table")
            continue
        if allowed[mod] == "*":
            continue
        text = open(os.path.join(folder, f), errors="replace").read()
        for inc in include.findall(text):
            if "/" not in inc:
                continue          # generated or local headers of the same folder
            target = inc.split("/")[0]
            if inc.startswith(".") or target not in modules and target not in allowed:
                bad.append(f"{rel}: includes \"{inc}\", which is no module")
            elif target not in allowed[mod]:
                bad.append(f"{rel}: includes \"{inc}\": {mod}/ -> {target}/ runs uphill")
if bad:
    for b in bad:
        print("# " + b)
    print("not ok 2 - no file includes a module above it")
    sys.exit(1)
print("ok 2 - no file includes a module above it")
