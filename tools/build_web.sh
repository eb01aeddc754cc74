#!/usr/bin/env bash
# Builds the PWA into dist/: two apps from the same code, the members' (the smaller download) and
# the leaders' (with the Team tab's screens: feature `leader`); each a release wasm, its JS glue and
# wasm-opt. Then tools/finish_dist.py lays out the build-hashed app folders, the service worker
# stamp and the brotli/gzip copies.
set -euo pipefail
cd "$(dirname "$0")/.."
export CC_wasm32_unknown_unknown=clang-19 AR_wasm32_unknown_unknown=llvm-ar-19
stage=target/web-stage
rm -rf "$stage" && mkdir -p "$stage/root"

# wasm-opt of one app runs in the background while the next one compiles.
optimise() {
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue --strip-debug --strip-producers --converge \
    "$1/patrol_bg.wasm" -o "$1/patrol_bg.wasm"
}

# One app: features, then the stage folder it goes to. Built with the nightly of tools/web-toolchain
# (tools/setup.sh installs it), which rebuilds the standard library with panics as a bare trap:
# no panic messages, file names or formatting code in the phone's download.
nightly=$(cat tools/web-toolchain)
app() {
  echo "[build] compiling the app to wasm with features '$1' ($nightly, release; the first build takes several minutes)"
  # The flags are set here, whatever the caller's environment holds (cargo would let RUSTFLAGS or
  # CARGO_ENCODED_RUSTFLAGS replace a config file's flags without a word).
  env -u CARGO_ENCODED_RUSTFLAGS RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    cargo "+$nightly" rustc --lib --release --target wasm32-unknown-unknown --features "$1" --crate-type cdylib \
    -Zbuild-std=std,panic_abort
  mkdir -p "$2"
  wasm-bindgen --target web --no-typescript --out-dir "$2" --out-name patrol \
    target/wasm32-unknown-unknown/release/patrol.wasm
  cp assets/web/worker.js "$2/worker.js"
  cp assets/style.css "$2/style.css"
}

app web "$stage/app"
echo "[build] wasm-opt -Oz (members' app, in the background)"
optimise "$stage/app" & members=$!
# A failure below stops the background wasm-opt too.
trap 'kill "$members" 2>/dev/null || true' EXIT
app web,leader "$stage/app-leader"
echo "[build] wasm-opt -Oz (leaders' app)"
optimise "$stage/app-leader"
wait "$members"
cp -r assets/web/. "$stage/root/"
rm "$stage/root/worker.js"
echo "[build] hashing, laying out and compressing dist/"
python3 tools/finish_dist.py "$stage" dist
echo "[build] dist/ ready: $(du -sh dist | cut -f1)"
