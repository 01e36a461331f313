#!/bin/sh
# Fails when a file of the repository points outside it: a citation of the
# old out-of-tree contract or dependency notes ("SPEC §3", "SPEC.md",
# "DEPENDENCIES.md §5", STYLE.md, DESIGN.md), a link into ../shared, or an
# absolute /work/ path. The project's own documents are docs/REFERENCE.md
# (cite "REFERENCE §N") and docs/DECISIONS.md (cite "DECISIONS Dn").
#
# Usage: tools/check-self-contained.sh [SOURCE_ROOT]   (TAP output; exit 1
# on a finding). Scans the files git tracks, or every file when SOURCE_ROOT
# is not a git checkout. bench/ is left out (its scripts are handled apart),
# and so is this file, which has to name the patterns.
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
pattern='\bSPEC\b|\bSPEC\.md|\bDEPENDENCIES\b|\b(STYLE|DESIGN)\.md\b|\.\./shared|(^|[^A-Za-z0-9_.~-])/work/'
self=tools/check-self-contained.sh
echo "1..1"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	found=$(git grep -nIE "$pattern" -- . ":(exclude)bench" ":(exclude)$self")
else
	found=$(grep -rnIE "$pattern" --exclude-dir=bench --exclude-dir=.git \
	        --exclude=check-self-contained.sh . | sed 's|^\./||')
fi
if [ -n "$found" ]; then
	printf '%s\n' "$found" | sed 's/^/# /'
	echo "not ok 1 - no file outside bench/ points outside the repository"
	exit 1
fi
echo "ok 1 - no file outside bench/ points outside the repository"
