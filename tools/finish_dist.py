#!/usr/bin/env python3
"""Lays out dist/ from a staged build: each module's code under app/<its hash>/, so a browser may
keep it for a year and never mixes two builds; index.html and bench.html pointed at those folders;
the service worker stamped with the build and its file lists; a brotli and a gzip copy beside
every file that shrinks.

Usage: finish_dist.py STAGE DIST
  STAGE/app/         the members' page (wasm-bindgen output patrol.js and patrol_bg.wasm, style.css)
  STAGE/app-leader/  the leaders' page, the same files (with the Team tab's screens)
  STAGE/store/       the members' store worker (worker.js, store.js, store_bg.wasm)
  STAGE/store-leader/ the leaders' store worker, the same files (with the calls only leaders make)
  STAGE/root/        the files served at their own names (index.html, sw.js, manifest, icons)
"""
import gzip, hashlib, html, json, os, re, shutil, subprocess, sys

stage, dist = sys.argv[1], sys.argv[2]
COMPRESS = (".js", ".wasm", ".css", ".html", ".webmanifest", ".json", ".svg")


def walk(top):
    for root, _, names in os.walk(top):
        for n in sorted(names):
            yield os.path.relpath(os.path.join(root, n), top).replace(os.sep, "/")


def folder_hash(name):
    h = hashlib.sha256()
    for rel in sorted(walk(os.path.join(stage, name))):
        with open(os.path.join(stage, name, rel), "rb") as f:
            h.update(rel.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


members, leaders = folder_hash("app"), folder_hash("app-leader")
stores, stores_leader = folder_hash("store"), folder_hash("store-leader")
# The build: the four modules and the pages around them (what the service worker's cache is named
# after, so a change to index.html alone also reaches phones' offline copies).
build = hashlib.sha256(f"{members} {leaders} {stores} {stores_leader} {folder_hash('root')}".encode()).hexdigest()[:16]
app, app_leader = f"app/{members}", f"app/{leaders}"
store, store_leader = f"app/{stores}", f"app/{stores_leader}"

shutil.rmtree(dist, ignore_errors=True)
shutil.copytree(os.path.join(stage, "root"), dist)
shutil.copytree(os.path.join(stage, "app"), os.path.join(dist, app))
shutil.copytree(os.path.join(stage, "app-leader"), os.path.join(dist, app_leader))
shutil.copytree(os.path.join(stage, "store"), os.path.join(dist, store))
shutil.copytree(os.path.join(stage, "store-leader"), os.path.join(dist, store_leader))
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
    text = open(p, encoding="utf-8").read().replace("__APP_LEADER__", app_leader).replace("__APP__", app)
    text = text.replace("__STORE_LEADER__", store_leader).replace("__STORE__", store)
    text = re.sub(r"\{\{(vi|en):([a-z_.]+)\}\}", translate, text)
    open(p, "w", encoding="utf-8").write(text)

# Every device keeps the members' app; a leader's also keeps the leaders' (sw.js?build=leader).
# The two apps' folders may be one (a store worker the leaders' calls leave unchanged).
leader_folders = {app_leader, store_leader} - {app, store}
shell = sorted("./" + rel for rel in walk(dist)
               if rel not in ("sw.js", "bench.html") and not any(rel.startswith(f + "/") for f in leader_folders))
leader_files = sorted(f"./{f}/{rel}" for f in leader_folders for rel in walk(os.path.join(dist, f)))
sw = os.path.join(dist, "sw.js")
text = open(sw, encoding="utf-8").read()
text = (text.replace('"__BUILD__"', json.dumps(build)).replace("__SHELL__", json.dumps(shell))
        .replace("__LEADER__", json.dumps(leader_files)))
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
print(f"[build] build {build} (members' app {members}, leaders' app {leaders}, members' store {stores}, "
      f"leaders' store {stores_leader}): {len(shell)} files "
      f"for every device's service worker, {len(leader_files)} more for a leader's; "
      f"{raw // 1024} KB raw, {packed // 1024} KB brotli")
