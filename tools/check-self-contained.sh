#!/bin/sh
# Fails when a file of the repository points outside it: a citation of the
# old out-of-tree contract or dependency notes ("SPEC §3", "SPEC.md",
# "DEPENDENCIES.md §5", STYLE.md, DESIGN.md), a link into the steering
# folder beside the checkout, or an absolute path into the workspace. The project's own documents are docs/REFERENCE.md
# (cite "REFERENCE §N") and docs/DECISIONS.md (cite "DECISIONS Dn").
#
# Usage: tools/check-self-contained.sh [SOURCE_ROOT]   (TAP output; exit 1
# on a finding). Scans the files git tracks, or every file when SOURCE_ROOT
# is not a git checkout. bench/ is left out (its scripts are handled apart),
# and so is this file, which has to name the patterns.
#
#        tools/check-self-contained.sh --fix
# rewrites the citations first (the mechanical sweep: "SPEC §N" and
# "SPEC.md §N" -> "REFERENCE §N", other "SPEC" -> "REFERENCE", links to
# the steering folder's SPEC.md -> REFERENCE.md, "DEPENDENCIES.md §N" -> "DECISIONS Dn"),
# then checks. Two DEPENDENCIES sections map by context and need a look
# afterwards: §5 -> D4 (libmicrohttpd), but D5 where it is about signals;
# §6 -> D7 (the hash table), but D6 where it is about RCU registration.
# Anything else it reports (an "issue N", a workspace path) is fixed by hand.
# The forbidden paths, assembled so that this file does not contain them.
steer_name="shared"
steer='\.\./'"$steer_name"
ws='/'"work"'/'
fix=false
if [ "${1:-}" = "--fix" ]; then
	fix=true
	shift
fi
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
self=tools/check-self-contained.sh
if $fix; then
	git grep -lE '\bSPEC\b|DEPENDENCIES\.md §|'"$steer"'/SPEC\.md' -- . \
	    ":(exclude)bench" ":(exclude)$self" ":(exclude)docs/REFERENCE.md" \
	    ":(exclude)docs/DECISIONS.md" |
	while IFS= read -r f; do
		case $f in
		docs/*) link=REFERENCE.md ;;
		*) link=docs/REFERENCE.md ;;
		esac
		sed -i -E \
		    -e "s#(\.\./)+$steer_name/SPEC\.md#$link#g" \
		    -e 's/\bSPEC(\.md)? §/REFERENCE §/g' \
		    -e "s#\\bSPEC\\.md\\b#$link#g" \
		    -e 's/\bSPEC\b/REFERENCE/g' \
		    -e 's/DEPENDENCIES\.md §10\b/DECISIONS D11/g' \
		    -e 's/DEPENDENCIES\.md §9\b/DECISIONS D10/g' \
		    -e 's/DEPENDENCIES\.md §8\b/DECISIONS D9/g' \
		    -e 's/DEPENDENCIES\.md §7\b/DECISIONS D8/g' \
		    -e 's/DEPENDENCIES\.md §6\b/DECISIONS D7/g' \
		    -e 's/DEPENDENCIES\.md §5\b/DECISIONS D4/g' \
		    -e 's/DEPENDENCIES\.md §4\b/DECISIONS D3/g' \
		    -e 's/DEPENDENCIES\.md §3\b/DECISIONS D2/g' \
		    -e 's/DEPENDENCIES\.md §[12]\b/DECISIONS D1/g' \
		    "$f"
	done
fi
pattern='\bSPEC\b|\bSPEC\.md|\bDEPENDENCIES\b|\b(STYLE|DESIGN)\.md\b|'"$steer"'|(^|[^A-Za-z0-9_.~-])'"$ws"
echo "1..1"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	found=$(git grep -nIE "$pattern" -- . ":(exclude)bench" ":(exclude)$self")
else
	found=$(grep -rnIE "$pattern" --exclude-dir=bench --exclude-dir=.git \
	        --exclude=check-self-contained.sh . | sed 's|^\./||')
fi
# "issue N" points at a tracker a person who clones the repository cannot
# see: say what was found, or cite the decision (DECISIONS Dn). The
# benchmark record keeps its history as it was written.
issues='\bissues? #?[0-9]+\b'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	more=$(git grep -niIE "$issues" -- . ":(exclude)bench" ":(exclude)$self" \
	       ":(exclude)docs/BENCHMARKS.md")
else
	more=$(grep -rniIE "$issues" --exclude-dir=bench --exclude-dir=.git \
	       --exclude=check-self-contained.sh --exclude=BENCHMARKS.md . | sed 's|^\./||')
fi
found=$(printf '%s\n%s' "$found" "$more" | sed '/^$/d')
if [ -n "$found" ]; then
	printf '%s\n' "$found" | sed 's/^/# /'
	echo "not ok 1 - no file outside bench/ points outside the repository"
	exit 1
fi
echo "ok 1 - no file outside bench/ points outside the repository"
