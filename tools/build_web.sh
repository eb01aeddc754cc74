#!/usr/bin/env bash
# Builds the PWA into dist/: release wasm, JS glue, wasm-opt, then tools/finish_dist.py lays out
# the build-hashed app folder, the service worker stamp and the brotli/gzip copies.
set -euo pipefail
cd "$(dirname "$0")/.."
export CC_wasm32_unknown_unknown=clang-19 AR_wasm32_unknown_unknown=llvm-ar-19
echo "[build] compiling the app to wasm (release; the first build takes several minutes)"
cargo rustc --lib --release --target wasm32-unknown-unknown --features web --crate-type cdylib \
  --config 'profile.release.panic="abort"'
stage=target/web-stage
rm -rf "$stage" && mkdir -p "$stage/app" "$stage/root"
wasm-bindgen --target web --no-typescript --out-dir "$stage/app" --out-name patrol \
  target/wasm32-unknown-unknown/release/patrol.wasm
echo "[build] wasm-opt -Oz"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue --strip-debug --strip-producers --converge \
  "$stage/app/patrol_bg.wasm" -o "$stage/app/patrol_bg.wasm"
cp -r assets/web/. "$stage/root/"
mv "$stage/root/worker.js" "$stage/app/worker.js"
cp assets/style.css "$stage/app/style.css"
echo "[build] hashing, laying out and compressing dist/"
python3 tools/finish_dist.py "$stage" dist
echo "[build] dist/ ready: $(du -sh dist | cut -f1)"
