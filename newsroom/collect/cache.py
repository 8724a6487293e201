"""The fetch caches, in one SQLite file: response bodies for conditional GETs, and what sources
derived from those bodies (parsed feeds).

One file per cached thing cost about a third of a millisecond of kernel time to create and
rename on ext4, over a millisecond per feed for a body, its metadata and its parse result:
more than parsing the feed. Here a build's writes are kept in memory and written in one
transaction when the fetch stage ends (or whenever 64 MB are waiting), and a crash loses only
cache entries, never correctness: the next build fetches or parses again.

The file is opened on first use, by whichever thread needs it, and every access holds one lock.
Worker processes (:mod:`newsroom.collect.workers`) never touch it: they are forked before it opens,
and their results are written here by the parent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("newsroom.collect.cache")

#: Pending writes beyond this are flushed at once rather than at the end of the fetch.
FLUSH_BYTES = 64 * 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    url TEXT PRIMARY KEY,
    meta TEXT NOT NULL,   -- JSON: final url, etag, last_modified, kept headers
    body BLOB NOT NULL,
    used REAL NOT NULL    -- unix time of the last store or use, for pruning
);
CREATE TABLE IF NOT EXISTS results (
    key BLOB PRIMARY KEY, -- sha256 of the body and the deriver's own key
    data BLOB NOT NULL,
    used REAL NOT NULL
);
"""


class CacheDB:
    """The SQLite file both caches live in, with the writes not yet committed."""

    max_age_days = 7
    """Entries not stored or used for this long are removed by :meth:`prune`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._responses: dict[str, tuple[str, bytes]] = {}
        self._results: dict[bytes, tuple[bytes]] = {}
        self._used_responses: set[str] = set()
        self._used_results: set[bytes] = set()
        self._pending_bytes = 0
        self._warned = False
        self._off = False  # set when the file is busy or unwritable, and by close()

    def _open(self) -> sqlite3.Connection:
        """The connection (callers hold the lock)."""
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._off:
                raise sqlite3.OperationalError("not in use for the rest of this fetch")
            try:
                self._db = self._connect()
            except sqlite3.OperationalError:
                raise  # locked by another build, or not writable: see _failed
            except sqlite3.DatabaseError as exc:
                # Not a database, or a damaged one: it is only a cache, start afresh.
                log.warning("fetch cache %s is unreadable (%s); starting a new one", self.path, exc)
                self._remove()
                self._db = self._connect()
        return self._db

    def _connect(self) -> sqlite3.Connection:
        # One connection for every thread: the lock serialises its use. Lookups run on the
        # event loop, so another build holding the file waits briefly, then counts as a miss.
        db = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
        try:
            # Without fsync, and with a rollback journal rather than WAL (which would write
            # every body twice): a build's 20 MB commit in 20 ms instead of 80. A crash of
            # the machine can damage the file; it is then replaced (see _open and _failed).
            db.execute("PRAGMA synchronous=OFF")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _remove(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _failed(self, exc: sqlite3.DatabaseError, doing: str) -> None:
        """A cache that cannot be read or written costs a fetch or a parse, never the build.

        A damaged file is removed (the next write starts a new one). A file that is locked
        (another build of this newsletter holds it past the timeout) or cannot be written is
        left alone and not used again by this fetch, so it costs one wait, not one a feed.
        """
        if not self._warned:  # once: the same cause would fail every lookup
            self._warned = True
            log.warning("fetch cache %s: %s failed (%s)", self.path, doing, exc)
        if isinstance(exc, sqlite3.OperationalError):
            self._off = True
            if self._db is not None:
                self._db.close()
                self._db = None
        else:
            self._remove()

    # -- responses -------------------------------------------------------------------------

    def response(self, url: str) -> tuple[dict[str, Any], bytes] | None:
        """The cached metadata and body for ``url``, or ``None``."""
        row = self._lookup(
            self._responses,
            self._used_responses,
            "SELECT meta, body FROM responses WHERE url = ?",
            url,
        )
        if row is None:
            return None
        try:
            meta = json.loads(row[0])
        except ValueError:
            return None
        return (meta, bytes(row[1])) if isinstance(meta, dict) else None

    def store_response(self, url: str, meta: dict[str, Any], body: bytes) -> None:
        self._add(lambda: self._responses.__setitem__(url, (json.dumps(meta), body)), len(body))

    # -- derived results --------------------------------------------------------------------

    @staticmethod
    def result_key(content: bytes, key: str) -> bytes:
        digest = hashlib.sha256(content)
        digest.update(b"\0" + key.encode("utf-8"))
        return digest.digest()

    def result(self, digest: bytes) -> bytes | None:
        row = self._lookup(
            self._results, self._used_results, "SELECT data FROM results WHERE key = ?", digest
        )
        return None if row is None else bytes(row[0])

    def _lookup(self, pending: dict[Any, Any], used: set[Any], query: str, key: Any) -> Any:
        """The row for ``key``: a pending write (held as the row it will be), else the file's,
        else ``None``. Marks it used."""
        with self._lock:
            found = pending.get(key)
            if found is None:
                try:
                    found = self._open().execute(query, (key,)).fetchone()
                except sqlite3.DatabaseError as exc:
                    self._failed(exc, "reading")
                    return None
                if found is None:
                    return None
            used.add(key)
            return found

    def store_result(self, digest: bytes, data: bytes) -> None:
        self._add(lambda: self._results.__setitem__(digest, (data,)), len(data))

    # -- writing ------------------------------------------------------------------------------

    def _add(self, put: Any, size: int) -> None:
        with self._lock:
            if self._off:
                return
            put()
            self._pending_bytes += size
            if self._pending_bytes >= FLUSH_BYTES:
                self._flush_locked()

    def flush(self) -> None:
        """Commit the pending writes and use marks in one transaction."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not (self._responses or self._results or self._used_responses or self._used_results):
            return
        try:
            self._write(time.time())
        except sqlite3.DatabaseError as exc:
            self._failed(exc, "writing")
        self._responses.clear()
        self._results.clear()
        self._used_responses.clear()
        self._used_results.clear()
        self._pending_bytes = 0

    def _write(self, now: float) -> None:
        db = self._open()
        with db:
            db.executemany(
                "INSERT OR REPLACE INTO responses (url, meta, body, used) VALUES (?, ?, ?, ?)",
                [(url, meta, body, now) for url, (meta, body) in self._responses.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO results (key, data, used) VALUES (?, ?, ?)",
                [(key, data, now) for key, (data,) in self._results.items()],
            )
            db.executemany(
                "UPDATE responses SET used = ? WHERE url = ?",
                [(now, url) for url in self._used_responses - self._responses.keys()],
            )
            db.executemany(
                "UPDATE results SET used = ? WHERE key = ?",
                [(now, key) for key in self._used_results - self._results.keys()],
            )

    def prune(self) -> None:
        """Flush, then remove entries not used for :attr:`max_age_days`."""
        cutoff = time.time() - self.max_age_days * 86400
        with self._lock:
            self._flush_locked()
            if self._db is None:
                return  # nothing was cached or looked up: nothing to prune either
            try:
                with self._db:
                    self._db.execute("DELETE FROM responses WHERE used < ?", (cutoff,))
                    self._db.execute("DELETE FROM results WHERE used < ?", (cutoff,))
            except sqlite3.DatabaseError as exc:
                self._failed(exc, "pruning")
        _remove_file_cache(self.path.parent)

    def close(self) -> None:
        """Flush and close the file. Later lookups miss and later writes are dropped (a
        parse cut off by its source's timeout may still finish after the fetch)."""
        with self._lock:
            self._flush_locked()
            self._off = True
            if self._db is not None:
                self._db.close()
                self._db = None


def _remove_file_cache(folder: Path) -> None:
    """Remove the one-file-per-entry cache that earlier versions kept in the same folder."""
    legacy = folder / "results"
    if legacy.is_dir():
        shutil.rmtree(legacy, ignore_errors=True)
    for pattern in ("*.body", "*.tmp", "*.tmpj"):
        for path in folder.glob(pattern):
            path.unlink(missing_ok=True)
    for path in folder.glob("*.json"):
        if len(path.stem) == 64:  # a sha256 hex name: the old metadata files
            path.unlink(missing_ok=True)


class HttpCache:
    """Conditional-GET cache: response bodies with their ETag / Last-Modified."""

    def __init__(self, db: CacheDB) -> None:
        self.db = db

    def validators(self, url: str) -> dict[str, str]:
        """Headers for a conditional request, or ``{}`` when nothing usable is cached."""
        found = self.db.response(url)
        if found is None:
            return {}
        meta = found[0]
        headers = {}
        if meta.get("etag"):
            headers["If-None-Match"] = str(meta["etag"])
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = str(meta["last_modified"])
        return headers

    def load(self, url: str) -> tuple[str, dict[str, str], bytes] | None:
        """The cached final URL, kept headers and body for ``url``, or ``None``."""
        found = self.db.response(url)
        if found is None:
            return None
        meta, body = found
        return str(meta.get("url") or url), dict(meta.get("headers") or {}), body

    def store(self, url: str, final_url: str, headers: dict[str, str], body: bytes) -> None:
        """Keep a 200 response that carries a validator (others could not be revalidated)."""
        etag = headers.get("etag")
        last_modified = headers.get("last-modified")
        if not (etag or last_modified):
            return
        keep = {k: v for k, v in headers.items() if k in ("content-type", "etag", "last-modified")}
        meta = {"url": final_url, "etag": etag, "last_modified": last_modified, "headers": keep}
        self.db.store_response(url, meta, body)


class ResultCache:
    """What sources derived from a response body, kept by the body's hash.

    Parsing the same bytes gives the same result, so a feed that answers 304 (or sends an
    unchanged body) costs a lookup instead of a parse. Entries not used for a week are removed
    when the fetcher closes.
    """

    def __init__(self, db: CacheDB) -> None:
        self.db = db

    def recall(self, content: bytes, key: str) -> Any | None:
        """The JSON value remembered for this body and key, or ``None``."""
        data = self.recall_bytes(content, key)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def remember(self, content: bytes, key: str, value: Any) -> None:
        """Keep a JSON-serialisable value for this body and key."""
        self.remember_bytes(content, key, json.dumps(value, ensure_ascii=False).encode("utf-8"))

    def recall_bytes(self, content: bytes, key: str) -> bytes | None:
        """The serialised value remembered for this body and key, as written, or ``None``
        (for callers that serialise themselves, such as pydantic's ``model_dump_json``)."""
        return self.db.result(CacheDB.result_key(content, key))

    def remember_bytes(self, content: bytes, key: str, data: bytes) -> None:
        """Keep ``data`` (JSON text, UTF-8) for this body and key."""
        self.db.store_result(CacheDB.result_key(content, key), data)

    def prune(self) -> None:
        self.db.prune()
