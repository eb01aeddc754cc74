#!/usr/bin/env python3
"""A plain static server for dist/ on 127.0.0.1 (the ward server replaces it).

No caching headers beyond no-cache, so the service worker always sees a new build.
"""
import argparse, functools, http.server

class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript",
                      ".webmanifest": "application/manifest+json", ".json": "application/json"}

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        pass

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", default="dist")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    a = p.parse_args()
    server = http.server.ThreadingHTTPServer((a.host, a.port), functools.partial(Handler, directory=a.dir))
    print(f"Serving the patrol app on http://{a.host}:{server.server_address[1]}/  (Ctrl+C to stop)", flush=True)
    server.serve_forever()

if __name__ == "__main__":
    main()
