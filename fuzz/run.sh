#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 60), installing cargo-fuzz if missing.
#
#   fuzz/run.sh [seconds] [target...]
#
# cargo-fuzz needs nightly compiler flags (sanitizers, coverage); on a stable toolchain
# RUSTC_BOOTSTRAP=1 unlocks them. Targets build into the shared cargo target directory.
# Seeds: the golden client frames of engine/broker/tests/golden for request_frame, and
# fuzz/seeds/<target>/ for the rest; findings land in fuzz/artifacts/<target>/ and the exit
# status is non-zero when any target crashed.
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(request_frame record_batch)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sluice/target}"
export RUSTC_BOOTSTRAP=1
# The targets keep their data dirs in a temp dir: a RAM disk makes fsyncs free.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

cd "$FUZZ_DIR"
failed=()
for target in "${TARGETS[@]}"; do
    corpus="$FUZZ_DIR/corpus/$target"
    mkdir -p "$corpus"
    case "$target" in
        request_frame) cp -n "$ROOT"/engine/broker/tests/golden/*.bin "$corpus"/ 2>/dev/null || true ;;
    esac
    if [ -d "$FUZZ_DIR/seeds/$target" ]; then
        cp -n "$FUZZ_DIR/seeds/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    echo "==> fuzzing $target for ${SECONDS_EACH}s"
    if ! cargo fuzz run -O "$target" "$corpus" -- \
        -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=4096 -max_len=4096 \
        -print_final_stats=1; then
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "==> crashes in: ${failed[*]} (inputs under $FUZZ_DIR/artifacts/)"
    exit 1
fi
echo "==> no crash in: ${TARGETS[*]}"
