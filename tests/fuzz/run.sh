#!/bin/sh
# tests/fuzz/run.sh SECONDS - runs every libFuzzer target for SECONDS each.
#
# Configures (once) a clang build in build-fuzz with libFuzzer, ASan and
# UBSan, then runs each target on a copy of its seed folder (the seeds in
# the tree are never modified; new corpus entries stay in build-fuzz/corpus).
# A crash leaves its input in build-fuzz/artifacts/<target>/; copy it into
# tests/fuzz/seeds/<target>/ once fixed so that every plain test run replays
# it. Exit status: non-zero when any target found a crash.
#
# Environment: REVOKD_FUZZ_BUILD (default build-fuzz) picks the build
# directory; REVOKD_FUZZ_TARGETS (default: every target) a subset;
# REVOKD_FUZZ_MAX_LEN (8192) the input bound the memory limits follow.
set -eu
SECONDS_EACH=${1:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${REVOKD_FUZZ_BUILD:-$ROOT/build-fuzz}
cd "$ROOT"
if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" -Dfuzzing=true \
		-Db_sanitize=address,undefined -Db_lundef=false
fi
ALL_TARGETS="fuzz_json fuzz_jws fuzz_differential fuzz_es256 fuzz_rs256 fuzz_fastpath fuzz_jwks fuzz_set fuzz_logout
	fuzz_form fuzz_events fuzz_listquery fuzz_keycloak_push fuzz_webhook_sig fuzz_config
	fuzz_redis"
# Memory bounds (docs/SECURITY.md, "Security round 2"): no input may make a
# target allocate more than a small multiple of its size. Every target takes
# inputs of at most MAX_LEN bytes; one allocation may be at most
# MALLOC_LIMIT_MB (64 x MAX_LEN, rounded up to libFuzzer's unit of 1 MB),
# and the whole process at most RSS_LIMIT_MB: what ASan, UBSan and
# libFuzzer hold whatever the input (ASan's quarantine of freed memory alone
# may reach 256 MB; the targets peaked at 140-210 MB in 30 s runs) plus
# room for the corpus: 512 MB, a quarter of libFuzzer's default. libFuzzer
# reports a breach as a crash ("malloc limit" / "out-of-memory"), with the
# input kept in artifacts/.
# One exception, fuzz_redis: hiredis allocates a reply's array when it reads
# the header, before the elements arrive, so a few bytes (*1048576) ask for
# 8 MB; the reader refuses more than 2^20 elements (rvk_repl_bound_reader),
# and that - not the input - bounds it. The replies come from the cluster's
# own Redis, not from a client.
MAX_LEN=${REVOKD_FUZZ_MAX_LEN:-8192}
MALLOC_LIMIT_MB=$(( (MAX_LEN * 64 + 1048575) / 1048576 ))
RSS_LIMIT_MB=${REVOKD_FUZZ_RSS_LIMIT_MB:-512}
malloc_limit_for() {
	case $1 in
	fuzz_redis) echo $(( MALLOC_LIMIT_MB + 8 )) ;;
	*) echo "$MALLOC_LIMIT_MB" ;;
	esac
}
TARGETS=${REVOKD_FUZZ_TARGETS:-$ALL_TARGETS}
ninja -C "$BUILD" $(for t in $TARGETS; do printf 'tests/fuzz/%s ' "$t"; done)
status=0
for t in $TARGETS; do
	corpus="$BUILD/corpus/$t"
	artifacts="$BUILD/artifacts/$t"
	mkdir -p "$corpus" "$artifacts"
	cp -n "$ROOT/tests/fuzz/seeds/$t/"* "$corpus/" 2>/dev/null || true
	echo "== $t: ${SECONDS_EACH}s"
	if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" \
		-max_len="$MAX_LEN" -malloc_limit_mb="$(malloc_limit_for "$t")" \
		-rss_limit_mb="$RSS_LIMIT_MB" -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$corpus" 2>"$BUILD/$t.log"; then
		status=1
		echo "$t: CRASH, see $BUILD/$t.log and $artifacts/"
	fi
	grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::peak_rss_mb' \
		"$BUILD/$t.log" || tail -5 "$BUILD/$t.log"
	grep -E ' DONE | cov: ' "$BUILD/$t.log" | tail -1 || true
done
exit $status
