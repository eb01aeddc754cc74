#!/usr/bin/env bash
# Installs what the build and the tests need, only what is missing, and says why.
# Usage: tools/setup.sh web      (build the PWA: wasm target, clang-19, wasm-bindgen, wasm-opt)
#        tools/setup.sh test     (web + Chromium, playwright-core, desktop build libraries)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;36m[setup]\033[0m %s\n' "$*"; }
apt_updated=0
need_apt() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  say "installing Debian packages: ${missing[*]} (one time, takes a minute or two)"
  local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if ((apt_updated == 0)); then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

wasm_bindgen_version() { awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock; }

web() {
  command -v cargo >/dev/null || { echo "Rust (cargo) is required: see https://rustup.rs" >&2; exit 1; }
  # The phone's wasm is built with the nightly named in tools/web-toolchain: it rebuilds the
  # standard library so that a panic is a bare trap, without messages, file names or formatting
  # (35 KB less brotli on every first visit). Native builds and tests stay on stable.
  local nightly; nightly=$(cat tools/web-toolchain)
  if ! rustup component list --toolchain "$nightly" --installed 2>/dev/null | grep -q '^rust-src'; then
    say "installing the Rust toolchain $nightly with the standard library's source (one time, about a minute): the web app's wasm is built with it"
    rustup toolchain install "$nightly" --profile minimal --component rust-src
  fi
  # SQLite is C: compiling it to wasm needs a recent clang (clang-14 fails).
  command -v clang-19 >/dev/null || need_apt clang-19 llvm-19
  command -v llvm-ar-19 >/dev/null || need_apt llvm-19
  command -v python3 >/dev/null || need_apt python3
  # Static files are brotli-compressed once at build time.
  command -v brotli >/dev/null || need_apt brotli
  local want; want=$(wasm_bindgen_version)
  if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]]; then
    say "building wasm-bindgen-cli $want from crates.io (one time, about 3 minutes)"
    # --locked first for reproducibility; its lockfile can name a version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$want" --locked --quiet 2>/dev/null \
      || cargo install wasm-bindgen-cli --version "$want" --quiet
  fi
  # Debian's binaryen is too old for today's wasm; the npm package ships a current wasm-opt.
  if ! wasm-opt --version 2>/dev/null | grep -q 'version 1[3-9][0-9]'; then
    command -v npm >/dev/null || need_apt nodejs npm
    say "installing wasm-opt (binaryen 132, from npm) to shrink the wasm"
    npm install -g --silent binaryen@132 >/dev/null
  fi
}

test_tools() {
  web
  # make test checks the formatting and the lints of every crate (rustfmt, clippy).
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || { say "installing the Rust component $c"; rustup component add "$c"; }
  done
  command -v node >/dev/null || need_apt nodejs npm
  # Browser tests drive Debian's Chromium; playwright-core never downloads a browser.
  [[ -x /usr/bin/chromium ]] || need_apt chromium
  # The HTTPS browser test makes its certificate with openssl.
  command -v openssl >/dev/null || need_apt openssl
  # The report test renders the browser's printed PDF to a PNG with poppler's pdftoppm.
  command -v pdftoppm >/dev/null || need_apt poppler-utils
  # The ACME test gets a certificate from Pebble, the ACME test server, on 127.0.0.1.
  command -v pebble >/dev/null || need_apt pebble
  # The desktop app builds against WebKitGTK.
  need_apt libwebkit2gtk-4.1-dev libxdo-dev pkg-config
  if [[ ! -d node_modules/playwright-core || ! -d node_modules/axe-core || ! -d node_modules/jsqr || ! -d node_modules/pngjs ]]; then
    say "installing playwright-core (drives the system Chromium), axe-core (accessibility checks), jsqr and pngjs (reading QR codes off the screen) from npm"
    npm ci --silent --no-audit --no-fund
  fi
}

case "${1:-web}" in
  web) web ;;
  test) test_tools ;;
  *) echo "usage: $0 web|test" >&2; exit 2 ;;
esac
