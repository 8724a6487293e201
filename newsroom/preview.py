"""``newsroom preview``: serve the built outputs on localhost."""

from __future__ import annotations

import functools
import html
import http.server
from pathlib import Path

from newsroom.config import Config


def _index(output: Path) -> bytes:
    editions = sorted((output / "editions").glob("*/edition.json"), reverse=True)
    rows = []
    for path in editions:
        eid = html.escape(path.parent.name)
        links = [
            f'<a href="editions/{eid}/{name}">{name}</a>'
            for name in ("email.html", "email.txt", "edition.json")
            if (path.parent / name).exists()
        ]
        rows.append(f"<li><strong>{eid}</strong> · {' · '.join(links)}</li>")
    site = '<p><a href="site/index.html">Web edition</a></p>' if (output / "site").exists() else ""
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>newsroom preview</title>"
        f"<h1>newsroom preview</h1>{site}<ul>{''.join(rows) or '<li>No editions yet.</li>'}</ul>"
    )
    return body.encode("utf-8")


def serve(config: Config, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``config``'s output folder until interrupted."""
    output = config.output_dir
    output.mkdir(parents=True, exist_ok=True)

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {
            **http.server.SimpleHTTPRequestHandler.extensions_map,
            ".txt": "text/plain; charset=utf-8",
            ".html": "text/html; charset=utf-8",
            ".json": "application/json; charset=utf-8",
            ".xml": "application/atom+xml; charset=utf-8",
        }

        def do_GET(self) -> None:
            if self.path in ("/", "/index.html"):
                body = _index(output)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

    handler = functools.partial(Handler, directory=str(output))
    with http.server.ThreadingHTTPServer((host, port), handler) as httpd:
        print(f"Serving {output} at http://{host}:{port}/ (Ctrl-C to stop)")
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
