#!/usr/bin/env bash
# The production build of `matcher`: a release build optimised with a profile of its own
# work (profile-guided optimisation, PGO). Not a test, and not needed for development: a plain
# `cargo build --release` gives the same output bytes, only slower (docs/performance.md,
# session 17: the national night's candidate graph −9 % on 1 thread with this build).
#
#   scripts/build-release.sh            -> target/pgo/release/matcher
#
# (under $CARGO_TARGET_DIR instead of target/ when that is set: pgo-gen/ and pgo/ beside the
# plain build, so a rerun is warm)
#
# Needs rustup's llvm-tools (llvm-profdata of the toolchain's own LLVM; Debian's is older and
# cannot read the profiles): rustup component add llvm-tools. Also what the training needs:
# python3, curl and wrk (Debian: apt-get install -y wrk). Takes ~10 minutes on 2 cores.
#
# Steps:
# 1. an instrumented build (target/pgo-gen);
# 2. training on invented data of a seed no published figure is measured on (national, seed 3):
#    a cold night from the snapshot, the same night from CSV, the next night (1 % changed) warm
#    from the first, then the service: suggestions and decisions (scripts/load.sh), outcomes
#    (scripts/outcomes-load.sh) and offer writes (scripts/offer-writes.sh). Code the training
#    never runs is optimised as rarely used, so every path a user waits on is in it;
# 3. the profiles merged (llvm-profdata) and the optimised build (target/pgo).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SYSROOT=$(rustc --print sysroot)
HOST=$(rustc -vV | sed -n 's/^host: //p')
PROFDATA="$SYSROOT/lib/rustlib/$HOST/bin/llvm-profdata"
if [[ ! -x "$PROFDATA" ]]; then
  echo "llvm-profdata of this toolchain is missing: run 'rustup component add llvm-tools'" >&2
  exit 1
fi
for tool in python3 curl wrk; do
  command -v "$tool" >/dev/null || { echo "the training needs $tool" >&2; exit 1; }
done
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d /tmp/brobygger-pgo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PROFILES="$WORK/profiles"

echo "== 1. instrumented build ($TARGET/pgo-gen)"
RUSTFLAGS="-Cprofile-generate=$PROFILES" CARGO_TARGET_DIR="$TARGET/pgo-gen" \
  cargo build --release --locked -p matcher-service
# The build scripts ran instrumented too: only the training's profiles are kept.
rm -rf "$PROFILES"
TRAIN="$TARGET/pgo-gen/release/matcher"

echo "== 2. training (invented national data, seed 3)"
"$TRAIN" gen --scale national --seed 3 --out "$WORK/nat3" --snapshot "$WORK/nat3.snap" | tail -1
"$TRAIN" gen --scale national --seed 3 --changed 0.01 --out "$WORK/nat3b" --snapshot "$WORK/nat3b.snap" | tail -1
night() { "$TRAIN" batch --quiet --threads 2 --today 2026-11-02 "$@"; }
night --data "$WORK/nat3.snap" --out "$WORK/cold"
night --data "$WORK/nat3" --out "$WORK/csv"
night --data "$WORK/nat3b.snap" --previous "$WORK/cold" --out "$WORK/warm"
SEED=3 DECIDE_CANDIDATES=5000 MATCHER_BIN="$TRAIN" scripts/load.sh 3 | tail -1
SEED=3 MATCHER_BIN="$TRAIN" scripts/outcomes-load.sh 50 4 | tail -1
SEED=3 NATIONAL="$WORK/nat3" scripts/offer-writes.sh "$TRAIN" 20 | tail -1

echo "== 3. merged profile and the optimised build ($TARGET/pgo)"
"$PROFDATA" merge -o "$WORK/merged.profdata" "$PROFILES"
RUSTFLAGS="-Cprofile-use=$WORK/merged.profdata" CARGO_TARGET_DIR="$TARGET/pgo" \
  cargo build --release --locked -p matcher-service
echo "built $TARGET/pgo/release/matcher"
