#!/usr/bin/env python3
"""Lays out dist/ from a staged build: the app's code under app/<build hash>/, so a browser may keep
it for a year and never mixes two builds; index.html and bench.html pointed at that folder; the
service worker stamped with the build and its file list; a brotli and a gzip copy beside every file
that shrinks.

Usage: finish_dist.py STAGE DIST
  STAGE/app/   the code of one build (wasm-bindgen output, worker.js, style.css)
  STAGE/root/  the files served at their own names (index.html, sw.js, manifest, icons)
"""
import gzip, hashlib, html, json, os, re, shutil, subprocess, sys

stage, dist = sys.argv[1], sys.argv[2]
COMPRESS = (".js", ".wasm", ".css", ".html", ".webmanifest", ".json", ".svg")


def walk(top):
    for root, _, names in os.walk(top):
        for n in sorted(names):
            yield os.path.relpath(os.path.join(root, n), top).replace(os.sep, "/")


h = hashlib.sha256()
for rel in sorted(walk(os.path.join(stage, "app"))):
    with open(os.path.join(stage, "app", rel), "rb") as f:
        h.update(rel.encode() + b"\0" + f.read())
build = h.hexdigest()[:16]
app = f"app/{build}"

shutil.rmtree(dist, ignore_errors=True)
shutil.copytree(os.path.join(stage, "root"), dist)
shutil.copytree(os.path.join(stage, "app"), os.path.join(dist, app))
# The pages' own words ({{vi:key}}, {{en:key}}) come from the translation files, like the app's.
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
words = {lang: json.load(open(os.path.join(root, "assets", "i18n", f"{lang}.json"), encoding="utf-8"))
         for lang in ("vi", "en")}


def translate(m):
    lang, key = m.group(1), m.group(2)
    if key not in words[lang]:
        sys.exit(f"finish_dist: no translation {lang}:{key}")
    return html.escape(words[lang][key])


for page in ("index.html", "bench.html"):
    p = os.path.join(dist, page)
    text = open(p, encoding="utf-8").read().replace("__APP__", app)
    text = re.sub(r"\{\{(vi|en):([a-z_.]+)\}\}", translate, text)
    open(p, "w", encoding="utf-8").write(text)

shell = sorted("./" + rel for rel in walk(dist) if rel not in ("sw.js", "bench.html"))
sw = os.path.join(dist, "sw.js")
text = open(sw, encoding="utf-8").read()
text = text.replace('"__BUILD__"', json.dumps(build)).replace("__SHELL__", json.dumps(shell))
open(sw, "w", encoding="utf-8").write(text)

raw = packed = 0
for rel in list(walk(dist)):
    if not rel.endswith(COMPRESS):
        continue
    p = os.path.join(dist, rel)
    data = open(p, "rb").read()
    gz = gzip.compress(data, compresslevel=9, mtime=0)
    br = subprocess.run(["brotli", "-c", "-q", "11", p], check=True, capture_output=True).stdout
    for ext, body in ((".gz", gz), (".br", br)):
        if len(body) < len(data):
            open(p + ext, "wb").write(body)
    raw += len(data)
    packed += min(len(data), len(br))
print(f"[build] build {build}: {len(shell)} files for the service worker; "
      f"{raw // 1024} KB raw, {packed // 1024} KB brotli")
