"""Each source, asked now: does it answer, and does what it answers still parse to items?

``newsroom doctor`` runs every configured source once, as a build would (the shared client,
the threads, the time limit), and reports each as a finding: an error, a refused token
(401, 403), or a page that answers but parses to no items at all, which is how a site that
changed its markup shows (GitHub's trending page, say): the parser no longer finds it.
Nothing is written but the HTTP cache.
"""

from __future__ import annotations

import datetime as dt
import re

from newsroom.config import Config
from newsroom.core.findings import Finding, Level
from newsroom.core.model import BuildWarning
from newsroom.core.plugins import Plugins
from newsroom.curate.pipeline import NoProgress, fetch_all
from newsroom.store.state import State

_REFUSED = re.compile(r"\b(401|403)\b")


def _finding(name: str, plugin: str, items: int, warnings: list[BuildWarning], ok: bool) -> Finding:
    check = f"source {name}"
    said = "; ".join(w.message for w in warnings)
    if _REFUSED.search(said):
        return Finding(
            check,
            Level.PROBLEM,
            f"the server refused the request ({said})",
            "check the source's token or key (its environment variable) and its permissions",
        )
    if not ok:
        return Finding(check, Level.PROBLEM, said or "failed")
    if items == 0:
        return Finding(
            check,
            Level.WARNING,
            f"{plugin} answered but parsed to no items"
            + (f" ({said})" if said else "")
            + ": the page may have changed its format",
            "look at the page in a browser; a newer version of the plugin may read it",
        )
    level = Level.WARNING if warnings else Level.OK
    return Finding(check, level, f"{items} items" + (f"; {said}" if said else ""))


async def source_findings(
    config: Config, plugins: Plugins, mirror: str | None = None
) -> list[Finding]:
    """Fetch every configured source once and say how each did."""
    del plugins  # the config's components are already bound to the loaded plugins
    now = dt.datetime.now(dt.UTC).astimezone(config.timezone)
    with State.of(config) as state:
        ctx_args = config.context_args(now=now, state=state, edition_id=now.date().isoformat())
        instances = {cc.name: cc.create() for cc in config.sources}
        outcomes = await fetch_all(
            config,
            instances,  # type: ignore[arg-type]
            ctx_args,
            since=None,
            progress=NoProgress(),
            mirror=mirror,
        )
    return [
        _finding(o.config.name, o.config.plugin, len(o.items), o.warnings, o.ok) for o in outcomes
    ]
