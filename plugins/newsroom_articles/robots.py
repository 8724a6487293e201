"""robots.txt, read once per host and build through the shared client.

The rules are the standard library's :class:`urllib.robotparser.RobotFileParser`; what is
decided here is how a fetch's outcome becomes rules, as crawlers commonly do:

- 200: the file's rules;
- 404 and other 4xx but 401/403: no rules, every page may be fetched;
- 401, 403: the site keeps robots out, no page is fetched;
- 5xx, a timeout, a refused connection: not known, so no page of the host is fetched in
  this build (a site that is down would not answer for its pages either).

The file goes through the client's conditional-GET cache like any response, so a site that
answers 304 costs a round trip, not a download.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from newsroom.core.errors import FetchError

if TYPE_CHECKING:
    from newsroom.collect.http import Fetcher

#: A robots.txt larger than this is read no further (Google reads 500 KiB).
MAX_ROBOTS_BYTES = 512 * 1024


@dataclass
class Robots:
    """Which pages ``user_agent`` may fetch, one robots.txt per host (``scheme://host``)."""

    http: Fetcher
    user_agent: str
    _hosts: dict[str, asyncio.Future[RobotFileParser | None]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    """Host → why its robots.txt could not be read (its pages were not fetched)."""

    async def allowed(self, url: str) -> bool:
        """Whether ``url`` may be fetched by the rules of its host's robots.txt."""
        parts = urlsplit(url)
        host = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        pending = self._hosts.get(host)
        if pending is None:
            # The first page of a host reads its robots.txt; the others wait for it.
            pending = asyncio.get_running_loop().create_future()
            self._hosts[host] = pending
            try:
                pending.set_result(await self._read(host))
            except BaseException as exc:
                pending.set_exception(exc)
                raise
        rules = await asyncio.shield(pending)
        return rules is not None and rules.can_fetch(self.user_agent, url)

    async def _read(self, host: str) -> RobotFileParser | None:
        rules = RobotFileParser(host + "/robots.txt")
        try:
            response = await self.http.get(host + "/robots.txt", max_bytes=MAX_ROBOTS_BYTES)
        except FetchError as exc:
            if exc.status in (401, 403):
                rules.disallow_all = True
            elif exc.status is not None and 400 <= exc.status < 500:
                rules.allow_all = True
            else:
                self.unreadable[host] = exc.message
                return None
            return rules
        rules.parse(response.text().splitlines())
        return rules
