#!/usr/bin/env python3
"""Fills the service worker's file list and build id from what is in dist/."""
import hashlib, json, os, sys

dist = sys.argv[1]
files, h = [], hashlib.sha256()
for root, _, names in os.walk(dist):
    for n in sorted(names):
        rel = os.path.relpath(os.path.join(root, n), dist).replace(os.sep, "/")
        if rel in ("sw.js", "bench.html"):
            continue
        files.append("./" + rel)
for f in sorted(files):
    with open(os.path.join(dist, f), "rb") as fh:
        h.update(f.encode() + fh.read())
sw = os.path.join(dist, "sw.js")
text = open(sw, encoding="utf-8").read()
text = text.replace('"__BUILD__"', json.dumps(h.hexdigest()[:16])).replace("__SHELL__", json.dumps(sorted(files)))
open(sw, "w", encoding="utf-8").write(text)
print(f"[build] service worker caches {len(files)} files, build {h.hexdigest()[:16]}")
