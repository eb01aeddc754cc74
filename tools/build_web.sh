#!/usr/bin/env bash
# Builds the PWA into dist/: release wasm, JS glue, wasm-opt, static files, service worker stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
export CC_wasm32_unknown_unknown=clang-19 AR_wasm32_unknown_unknown=llvm-ar-19
echo "[build] compiling the app to wasm (release; the first build takes several minutes)"
cargo rustc --lib --release --target wasm32-unknown-unknown --features web --crate-type cdylib \
  --config 'profile.release.panic="abort"'
rm -rf dist && mkdir -p dist/pkg
wasm-bindgen --target web --no-typescript --out-dir dist/pkg --out-name patrol \
  target/wasm32-unknown-unknown/release/patrol.wasm
echo "[build] wasm-opt -Oz"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue --strip-debug --strip-producers --converge \
  dist/pkg/patrol_bg.wasm -o dist/pkg/patrol_bg.wasm
cp -r assets/web/. dist/
cp assets/style.css dist/style.css
python3 tools/stamp_sw.py dist
echo "[build] dist/ ready: $(du -sh dist | cut -f1)"
