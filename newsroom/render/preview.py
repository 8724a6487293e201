"""``newsroom preview``: the email and the web edition on localhost, reloaded as you edit.

``/`` shows the latest edition's email at desktop and mobile width, in light and dark mode,
next to its web pages; ``?edition=ID`` shows another. A watcher polls ``newsroom.toml``,
every file of the theme chain and ``editions/*/edition.json``; when one changes, the
edition is rendered again (the config and the theme are read anew first) and every open
page reloads through a server-sent event. A render that fails is shown on the page, and
the last good files stay served.

``/site/...`` serves the web edition as it is, and ``/editions/<id>/`` an edition's
``email.html``, ``email.txt``, ``email.json`` and ``edition.json``; nothing else of the
output folder is served (a dry run's ``.eml`` files and the confirmation mails hold
subscribers' links). ``/_preview/mail/`` lists what ``newsroom dev-smtp`` received for the
newsletter and shows each message, only while the preview listens on a loopback address;
a message's HTML is served sandboxed (no scripts, no access to the preview's pages).
Light and dark previews force the edition's ``prefers-color-scheme`` rules on or off, so
both can be seen side by side whatever the desktop's setting.

Only requests naming the server itself are answered (``Host: 127.0.0.1:PORT``,
``localhost:PORT``, ``[::1]:PORT`` or the host it was started on): any other name could be
pointed at 127.0.0.1 by its DNS (a rebinding), and a web page would then read the preview
through it. A path that is not plain (a NUL byte, a bad percent-encoding, a backslash,
``.`` or ``..``) gets 400.
"""

from __future__ import annotations

import html
import http.server
import ipaddress
import json
import logging
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsroom.config import Config
from newsroom.core.urls import is_loopback

if TYPE_CHECKING:
    from newsroom.core.plugins import Plugins

log = logging.getLogger(__name__)

EVENTS = "/_preview/events"
EMAIL = "/_preview/email/"
MAIL = "/_preview/mail/"
#: Shown inside the previews only; never written into the built files.
RELOAD_SCRIPT = (
    "<script>(function(){if(window.top!==window)return;"
    f'var s=new EventSource("{EVENTS}");'
    's.addEventListener("reload",function(){location.reload()});'
    's.addEventListener("failed",function(e){var d=document.getElementById("nr-preview-error")'
    '||document.body.insertBefore(document.createElement("pre"),document.body.firstChild);'
    'd.id="nr-preview-error";d.style.cssText="margin:0;padding:12px;background:#b00020;'
    'color:#fff;white-space:pre-wrap;font:13px monospace";d.textContent=JSON.parse(e.data)})'
    "})();</script>"
)
#: The files of an edition's folder the preview serves (not the dry run's messages).
EDITION_FILES = frozenset({"email.html", "email.txt", "email.json", "edition.json"})
#: Host names that always mean this machine (a name other than these and the host the
#: preview was started on may be a DNS rebinding).
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]")
_DARK_QUERY = re.compile(r"\(\s*prefers-color-scheme\s*:\s*dark\s*\)")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
}


def force_scheme(page: str, scheme: str) -> str:
    """``page`` with its dark-mode media queries always on (``dark``) or off (``light``)."""
    if scheme not in ("light", "dark"):
        return page
    return _DARK_QUERY.sub("all" if scheme == "dark" else "not all", page)


def request_path(target: str) -> str | None:
    """The decoded path of a request target; None when it is not a plain absolute path (an
    absolute URL, a NUL or another control character, a percent-encoding that is not UTF-8,
    a backslash, a ``.`` or ``..`` segment)."""
    if not target.startswith("/"):
        return None
    raw = target.split("#", 1)[0].split("?", 1)[0]
    try:
        path = urllib.parse.unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\\" in path or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return None
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    return path


def host_allowed(header: str | None, bound_host: str, port: int) -> bool:
    """Whether the ``Host`` header ``header`` names the server bound to ``bound_host`` and
    ``port``: a loopback name, the host it was started on, or (when bound to every address)
    any IP address or this machine's name, always with the server's port."""
    if not header:
        return False
    name, given = header, "80"
    if ":" in header and not header.endswith("]"):  # "[::1]" alone has no port
        name, _, given = header.rpartition(":")
    if not _HOST_HEADER.fullmatch(name) or not given.isdigit() or int(given) != port:
        return False
    name = name.strip("[]").lower()
    bound = bound_host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name == bound:
        return True
    if bound not in _WILDCARDS:
        return False
    try:
        ipaddress.ip_address(name)  # an address cannot be rebound: only a name can
        return True
    except ValueError:
        return name == socket.gethostname().lower()


class _PreviewHTTPServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that closed a tab or went on to another page while a file was on its
        # way: nothing to report (socketserver would print a traceback to the terminal).
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        log.error("preview: a request from %s failed", client_address[0], exc_info=True)


def with_reload(page: str) -> str:
    """``page`` with the live-reload script before ``</body>``."""
    at = page.lower().rfind("</body>")
    return page[:at] + RELOAD_SCRIPT + page[at:] if at >= 0 else page + RELOAD_SCRIPT


# -- what to watch and what to do ---------------------------------------------------------


class Watcher:
    """Polls the config, the theme and the editions; renders again when one changes."""

    def __init__(
        self, config_path: Path, plugins: Plugins | None, on_change: Callable[[str], None]
    ) -> None:
        self.config_path = config_path
        self.base_plugins = plugins
        """What the newsletter is opened from, each time: never the manager an opening made,
        which holds the ``plugins_dir`` files already (they would be loaded twice)."""
        self.plugins = plugins
        """The plugins of the newsletter as last opened: what the render uses."""
        self.on_change = on_change
        self.error = ""
        self.focus = ""
        """The edition the preview shows (its page asked last): rendered again with the latest."""
        self._config: Config | None = None
        self._seen: dict[Path, int] = {}

    def _open(self) -> Config:
        from newsroom.config.newsletter import open_newsletter

        newsletter = open_newsletter(self.config_path, self.base_plugins)
        self.plugins = newsletter.plugins
        self._config = newsletter.config
        return newsletter.config

    def _theme_files(self, config: Config) -> Iterator[Path]:
        from newsroom.render.themes import load_theme

        try:
            theme = load_theme(config.newsletter.theme, root=config.root)
        except Exception:  # a broken theme.toml is reported by the render
            return
        for t in theme.chain:
            yield from (p for p in t.path.rglob("*") if p.is_file() and p.suffix != ".pyc")

    def snapshot(self) -> dict[Path, int]:
        config = self._config
        files: list[Path] = [self.config_path]
        if config is not None:
            files.extend(self._theme_files(config))
            files.extend((config.output_dir / "editions").glob("*/edition.json"))
        out: dict[Path, int] = {}
        for path in files:
            try:
                out[path] = path.stat().st_mtime_ns
            except OSError:
                continue
        return out

    def start(self) -> None:
        try:
            self._open()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        self._seen = self.snapshot()

    def poll(self) -> bool:
        """Look once; render and report when something changed. Whether it did."""
        now = self.snapshot()
        changed = {p for p in now.keys() | self._seen.keys() if now.get(p) != self._seen.get(p)}
        self._seen = now
        if not changed:
            return False
        editions = sorted(p for p in changed if p.name == "edition.json" and p in now)
        reread = any(p.name != "edition.json" for p in changed)
        self.error = ""
        try:
            config = self._open() if reread or self._config is None else self._config
            targets: list[Path | None] = list(editions)
            if reread or not editions:
                focus = config.output_dir / "editions" / self.focus / "edition.json"
                targets = [self.latest(config), focus if self.focus and focus.is_file() else None]
            for path in dict.fromkeys(t for t in targets if t is not None):
                self._render(config, path)
        except Exception as exc:  # shown on the page; the last good files stay served
            self.error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            log.warning("preview: %s", self.error)
        self._seen = self.snapshot()  # a theme switch watches the new theme's files
        self.on_change(self.error)
        return True

    @staticmethod
    def latest(config: Config) -> Path | None:
        found = list((config.output_dir / "editions").glob("*/edition.json"))
        return max(found, key=lambda p: p.stat().st_mtime) if found else None

    def _render(self, config: Config, path: Path) -> None:
        from newsroom.core.sanitize import load_edition
        from newsroom.render.rendering import render

        assert self.plugins is not None
        render(config, self.plugins, load_edition(path))


# -- the server ---------------------------------------------------------------------------


class PreviewServer:
    """The preview: an HTTP server and a watcher thread; ``start()``, then ``stop()``."""

    def __init__(
        self,
        config: Config,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        plugins: Plugins | None = None,
        interval: float = 0.5,
    ) -> None:
        from newsroom.config.outputs import dev_mail_dir

        self.output = config.output_dir
        self.output.mkdir(parents=True, exist_ok=True)
        self.mail = dev_mail_dir(config)
        self.shows_mail = host.strip("[]").lower() in LOOPBACK_NAMES or is_loopback(host)
        """Received mail holds subscribers' own links: shown on this machine only."""
        self.interval = interval
        self.version = 0
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self.watcher = Watcher(config.path, plugins, self._announce)
        self.host = host
        self.httpd = _PreviewHTTPServer((host, port), self._handler())
        self.httpd.daemon_threads = True  # open event streams must not keep the process up
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def _announce(self, error: str) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    def wait_for_change(self, version: int, timeout: float) -> int:
        """Block until the version passes ``version`` (or ``timeout``); the version then."""
        with self._changed:
            self._changed.wait_for(
                lambda: self.version > version or self._stopping.is_set(), timeout
            )
            return self.version

    def _watch(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.watcher.poll()
            except Exception:  # never let the watcher die: the preview would go stale
                log.exception("preview: watching failed")

    def start(self) -> None:
        self.watcher.start()
        for target in (self.httpd.serve_forever, self._watch):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- pages ----------------------------------------------------------------------------

    def editions(self) -> list[str]:
        found = (self.output / "editions").glob("*/edition.json")
        return [p.parent.name for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]

    def dashboard(self, edition: str | None) -> str:
        ids = self.editions()
        eid = edition if edition in ids else (ids[0] if ids else "")
        self.watcher.focus = eid
        q = html.escape(urllib.parse.quote(eid))
        folder = self.output / "editions" / eid
        rows = []
        for other in ids:
            o = html.escape(other)
            links = " · ".join(
                f'<a href="editions/{o}/{name}">{name}</a>'
                for name in ("email.html", "email.txt", "edition.json")
                if (self.output / "editions" / other / name).exists()
            )
            here = " aria-current=page" if other == eid else ""
            rows.append(
                f'<li><a href="/?edition={o}"{here}><strong>{o}</strong></a> · {links}</li>'
            )
        frames = ""
        if eid and (folder / "email.html").exists():
            frames += "<h2>Email</h2><div class=row>" + "".join(
                f'<figure><figcaption>{label}</figcaption><iframe title="{label}" '
                f'src="{EMAIL}{q}?scheme={scheme}" width="{width}" height="900"></iframe></figure>'
                for label, scheme, width in (
                    ("desktop · light", "light", 680),
                    ("desktop · dark", "dark", 680),
                    ("mobile · light", "light", 375),
                    ("mobile · dark", "dark", 375),
                )
            )
            frames += "</div>"
        page = self.output / "site" / "editions" / eid / "index.html"
        if eid and page.exists():
            src = f"/site/editions/{q}/index.html"
            frames += (
                f'<h2>Web edition</h2><p><a href="/site/index.html">front page</a> · '
                f'<a href="/site/archive/index.html">archive</a> · '
                f'<a href="{src}">this edition</a> · '
                f'<a href="/site/feed.xml">feed</a></p><div class=row>'
                f'<figure><figcaption>desktop · light</figcaption><iframe title="web, desktop" '
                f'src="{src}?scheme=light" width="1100" height="900"></iframe></figure>'
                f'<figure><figcaption>mobile · dark</figcaption><iframe title="web, mobile" '
                f'src="{src}?scheme=dark" width="375" height="900"></iframe></figure></div>'
            )
        frames += self.mail_section(limit=10)
        error = self.watcher.error
        banner = f'<pre id="nr-preview-error">{html.escape(error)}</pre>' if error else ""
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            "<title>newsroom preview</title><style>"
            "body{font:15px system-ui,sans-serif;margin:1rem 2rem;color:#1f2328}"
            ".row{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}"
            "figure{margin:0}figcaption{font-size:13px;color:#57606a;margin:0 0 4px}"
            "iframe{border:1px solid #d8dee4;background:#fff}"
            "#nr-preview-error{padding:12px;background:#b00020;color:#fff;white-space:pre-wrap}"
            "</style></head><body>"
            f"<h1>newsroom preview</h1>{banner}"
            f"<ul>{''.join(rows) or '<li>No editions yet: run newsroom build.</li>'}</ul>"
            f"{frames}"
            "<script>(function(){var s=new EventSource('" + EVENTS + "');"
            "s.addEventListener('reload',function(){location.reload()});"
            "s.addEventListener('failed',function(){location.reload()})})();</script>"
            "</body></html>"
        )

    # -- mail received by newsroom dev-smtp ------------------------------------------------

    def mail_section(self, limit: int) -> str:
        """The received messages, newest first, as a list of links (empty when none)."""
        from newsroom.render.received_mail import list_received

        if not self.shows_mail:
            return ""
        received = list_received(self.mail, limit=limit)
        if not received:
            return ""
        rows = "".join(
            f'<li><a href="{MAIL}{m.number}">{html.escape(m.subject or "(no subject)")}</a>'
            f" · to {html.escape(m.headers.get('To', '?'))} · "
            f"{html.escape(m.headers.get('Date', ''))}</li>"
            for m in received
        )
        return (
            f"<h2>Mail received by newsroom dev-smtp</h2><p>In {html.escape(str(self.mail))}; "
            f'<a href="{MAIL}">all of it</a>.</p><ul>{rows}</ul>'
        )

    def mail_page(self, number: str) -> str | None:
        """One received message: its headers, its HTML part (sandboxed) and its text part."""
        from newsroom.render.received_mail import read_received

        mail = read_received(self.mail, number)
        if mail is None:
            return None
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in mail.headers.items()
        )
        body = f'<p class="problem">{html.escape(mail.problem)}</p>' if mail.problem else ""
        if mail.html:
            body += (
                "<div class=row>"
                + "".join(
                    f'<figure><figcaption>{label}</figcaption><iframe sandbox title="{label}" '
                    f'src="{MAIL}{number}/html?scheme={scheme}" width="{width}" height="900">'
                    "</iframe></figure>"
                    for label, scheme, width in (
                        ("desktop · light", "light", 680),
                        ("mobile · dark", "dark", 375),
                    )
                )
                + "</div>"
            )
        if mail.text:
            body += f"<h2>Text part</h2><pre>{html.escape(mail.text)}</pre>"
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>{html.escape(mail.subject)} · newsroom preview</title><style>"
            "body{font:15px system-ui,sans-serif;margin:1rem 2rem;color:#1f2328}"
            "th{text-align:left;padding-right:1rem;vertical-align:top}"
            ".row{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}"
            "iframe{border:1px solid #d8dee4;background:#fff}pre{white-space:pre-wrap}"
            f"</style></head><body><p><a href=/>preview</a> · <a href={MAIL}>received mail</a>"
            f"</p><h1>{html.escape(mail.subject or '(no subject)')}</h1><table>{rows}</table>"
            f"{body}</body></html>"
        )

    def mail_list(self) -> str:
        section = self.mail_section(limit=1000) or (
            f"<p>No mail received yet in {html.escape(str(self.mail))}: run "
            "<code>newsroom dev-smtp</code>, then <code>newsroom send --to you@example.org</code>"
            "</p>"
        )
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>Received mail · newsroom preview</title><style>"
            "body{font:15px system-ui,sans-serif;margin:1rem 2rem;color:#1f2328}</style>"
            f"</head><body><p><a href=/>preview</a></p>{section}</body></html>"
        )

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("preview: " + format, *args)

            def _send(
                self, status: int, body: bytes, content_type: str, sandbox: bool = False
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                if sandbox:
                    # Mail anyone could have sent to dev-smtp: no scripts, and an origin of
                    # its own, even opened on its own rather than in the preview's iframe.
                    self.send_header("Content-Security-Policy", "sandbox")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _refuse(self, status: int, message: str) -> None:
                self.close_connection = True
                self._send(status, message.encode("utf-8"), "text/plain; charset=utf-8")

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                hosts = self.headers.get_all("Host") or []
                port = int(server.httpd.server_address[1])
                if len(hosts) != 1 or not host_allowed(hosts[0], server.host, port):
                    self._refuse(400, f"unknown Host: open the preview at {server.url}\n")
                    return
                path = request_path(self.path)
                if path is None:
                    self._refuse(400, "bad request path\n")
                    return
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                scheme = query.get("scheme", "")
                segments = [s for s in path.split("/") if s]
                if path in ("/", "/index.html"):
                    page = server.dashboard(query.get("edition"))
                    self._send(200, page.encode("utf-8"), _TYPES[".html"])
                elif path == EVENTS:
                    self._events()
                elif path.startswith(MAIL):
                    self._mail(segments[2:], scheme)
                elif path.startswith(EMAIL) and len(segments) == 3:
                    self._file(server.output / "editions", [segments[2], "email.html"], scheme)
                elif segments[:1] == ["site"]:
                    self._file(server.output / "site", segments[1:], scheme)
                elif segments[:1] == ["editions"] and len(segments) == 3:
                    if segments[2] in EDITION_FILES:
                        self._file(server.output / "editions", segments[1:], scheme)
                    else:
                        self._not_found()
                else:
                    self._not_found()

            def _mail(self, rest: list[str], scheme: str) -> None:
                if not server.shows_mail:
                    self._send(
                        404,
                        b"received mail is shown only when the preview listens on 127.0.0.1",
                        "text/plain; charset=utf-8",
                    )
                    return
                if not rest:
                    self._send(200, server.mail_list().encode("utf-8"), _TYPES[".html"])
                    return
                if len(rest) == 1:
                    page = server.mail_page(rest[0])
                    if page is None:
                        self._not_found()
                    else:
                        self._send(200, page.encode("utf-8"), _TYPES[".html"])
                    return
                from newsroom.render.received_mail import read_received

                mail = read_received(server.mail, rest[0]) if rest[1:] == ["html"] else None
                if mail is None or not mail.html:
                    self._not_found()
                    return
                body = force_scheme(mail.html, scheme).encode("utf-8")
                self._send(200, body, _TYPES[".html"], sandbox=True)

            def _not_found(self) -> None:
                self._send(404, b"not found", "text/plain; charset=utf-8")

            def _file(self, folder: Path, parts: list[str], scheme: str) -> None:
                """The file ``parts`` under ``folder`` (its index.html for a folder); a link
                leading out of ``folder`` is not followed."""
                root = folder.resolve()
                target = root.joinpath(*parts).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_relative_to(root) or not target.is_file():
                    self._not_found()
                    return
                content_type = _TYPES.get(target.suffix, "application/octet-stream")
                body = target.read_bytes()
                if target.suffix == ".html":
                    text = with_reload(force_scheme(body.decode("utf-8", "replace"), scheme))
                    body = text.encode("utf-8")
                self._send(200, body, content_type)

            def _events(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                seen = server.version
                try:
                    self.wfile.write(b": connected\n\n")
                    self.wfile.flush()
                    while not server._stopping.is_set():
                        now = server.wait_for_change(seen, timeout=15)
                        if now == seen:
                            self.wfile.write(b": ping\n\n")  # finds closed connections
                        else:
                            seen = now
                            error = server.watcher.error
                            event = "failed" if error else "reload"
                            data = json.dumps(error or "changed", ensure_ascii=False)
                            self.wfile.write(f"event: {event}\ndata: {data}\n\n".encode())
                        self.wfile.flush()
                except OSError:
                    return  # the page went away

        return Handler


def serve(
    config: Config, *, host: str = "127.0.0.1", port: int = 8000, plugins: Plugins | None = None
) -> None:
    """Serve ``config``'s outputs with live reload until interrupted."""
    server = PreviewServer(config, host=host, port=port, plugins=plugins)
    server.start()
    print(f"Previewing {server.output} at {server.url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
