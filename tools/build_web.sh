#!/usr/bin/env bash
# Builds the PWA into dist/ from the same code, as two apps of two wasm modules each: a page (the
# screens) and its store's worker (SQLite, the command handler and sync: feature `web-store`,
# without the screens). The members' app is the smaller download; the leaders' (feature `leader`)
# has the Team tab's screens and the calls only they make. Each module is a release wasm, its JS
# glue and wasm-opt. Then tools/finish_dist.py lays out
# the build-hashed folders, the service worker stamp and the brotli/gzip copies.
set -euo pipefail
cd "$(dirname "$0")/.."
export CC_wasm32_unknown_unknown=clang-19 AR_wasm32_unknown_unknown=llvm-ar-19
stage=target/web-stage
rm -rf "$stage" && mkdir -p "$stage/root"

# wasm-opt of one module runs in the background while the next one compiles.
optimise() {
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue --strip-debug --strip-producers --converge \
    "$1" -o "$1"
}

# One module: features, the stage folder it goes to, what it is, its name there (NAME.js,
# NAME_bg.wasm), and 1 for a page's module (linked without SQLite's exports: tools/wasm-link).
# Built with the nightly of tools/web-toolchain (tools/setup.sh installs it), which rebuilds the
# standard library with panics as a bare trap: no panic messages, file names or formatting code in
# the phone's download.
nightly=$(cat tools/web-toolchain)
export PATROL_RUST_LLD
PATROL_RUST_LLD="$(rustc "+$nightly" --print sysroot)/lib/rustlib/$(rustc "+$nightly" -vV | sed -n 's/^host: //p')/bin/rust-lld"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$PWD/tools/wasm-link"
app() {
  echo "[build] compiling $3 to wasm with features '$1' ($nightly, release; the first build takes several minutes)"
  # The flags are set here, whatever the caller's environment holds (cargo would let RUSTFLAGS or
  # CARGO_ENCODED_RUSTFLAGS replace a config file's flags without a word).
  env -u CARGO_ENCODED_RUSTFLAGS RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" PATROL_PAGE_LINK="$5" \
    cargo "+$nightly" rustc --lib --release --target wasm32-unknown-unknown --features "$1" --crate-type cdylib \
    -Zbuild-std=std,panic_abort
  mkdir -p "$2"
  wasm-bindgen --target web --no-typescript --out-dir "$2" --out-name "$4" \
    target/wasm32-unknown-unknown/release/patrol.wasm
  # A page that reached the store's code would carry SQLite again (215 KB brotli on every
  # first visit) without a word: stop here instead. SQLite's schema table is named in its core.
  if [[ "$5" == 1 ]] && grep -q sqlite_master "$2/$4_bg.wasm"; then
    echo "[build] $3 links SQLite: something the page runs calls the store's code (see ARCHITECTURE.md, How the app reaches a phone)" >&2
    exit 1
  fi
  # A page links the one stylesheet; a store worker starts from worker.js.
  if [[ "$5" == 1 ]]; then cp assets/style.css "$2/style.css"; else cp assets/web/worker.js "$2/worker.js"; fi
}

app web "$stage/app" "the members' page" patrol 1
echo "[build] wasm-opt -Oz (members' page, in the background)"
optimise "$stage/app/patrol_bg.wasm" & members=$!
# A failure below stops the background wasm-opt too.
trap 'kill "$members" "${store:-}" "${store_leader:-}" 2>/dev/null || true' EXIT
app web-store "$stage/store" "the members' store worker" store 0
echo "[build] wasm-opt -Oz (members' store worker, in the background)"
optimise "$stage/store/store_bg.wasm" & store=$!
app web-store,leader "$stage/store-leader" "the leaders' store worker" store 0
echo "[build] wasm-opt -Oz (leaders' store worker, in the background)"
optimise "$stage/store-leader/store_bg.wasm" & store_leader=$!
app web,leader "$stage/app-leader" "the leaders' page" patrol 1
echo "[build] wasm-opt -Oz (leaders' page)"
optimise "$stage/app-leader/patrol_bg.wasm"
wait "$members"
wait "$store"
wait "$store_leader"
cp -r assets/web/. "$stage/root/"
rm "$stage/root/worker.js"
echo "[build] hashing, laying out and compressing dist/"
python3 tools/finish_dist.py "$stage" dist
echo "[build] dist/ ready: $(du -sh dist | cut -f1)"
