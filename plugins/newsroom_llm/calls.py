"""Asking the model: one answer at a time in a thread, within a timeout, cached in the state
file, counted against the edition's budget.

The ``llm`` library's models are synchronous (most of them make a blocking HTTP request), so
each call runs in a daemon thread and the build waits for it at most ``timeout`` seconds: a
model that hangs is abandoned, not waited for, and cannot keep the process alive.

Answers are cached in the state file's ``llm_cache`` table under a hash of the model, the
system prompt, the prompt (which holds the item's text) and the model options, so rebuilding
an edition costs no calls and a changed prompt or item asks again. Only answers the filter
could use are cached: a rejected one is asked again by the next build.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsroom.store.state import State


class ModelFailed(Exception):
    """The model raised, gave no answer in time, or was not asked (budget, too many
    failures). ``reason`` is a short phrase for the build's warnings."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def resolve_model(name: str | None, key: str | None) -> Any:
    """The ``llm`` model called ``name`` (an id or alias; ``None``: llm's default)."""
    import llm

    model = llm.get_model(name) if name else llm.get_model()
    if key:
        model.key = key
    return model


@dataclass
class Budget:
    """How many calls are left this edition, and when to stop asking a failing model."""

    calls: int
    stop_after_failures: int
    made: int = 0
    failures_in_a_row: int = 0
    stopped: bool = False
    refused: int = 0
    """Calls not made because the budget was spent."""

    def take(self, reserve: int = 0) -> None:
        """Claim one call, leaving ``reserve`` calls for later ones, or raise
        :class:`ModelFailed` saying why not."""
        if self.stopped:
            n = self.stop_after_failures
            raise ModelFailed(f"not asked after {n} failure{'s' if n != 1 else ''} in a row")
        if self.made >= self.calls - reserve:
            self.refused += 1
            raise ModelFailed(f"max_calls = {self.calls} reached")
        self.made += 1

    def succeeded(self) -> None:
        self.failures_in_a_row = 0

    def failed(self) -> None:
        self.failures_in_a_row += 1
        if self.failures_in_a_row >= self.stop_after_failures:
            self.stopped = True


@dataclass
class Cache:
    """Answers in the state file (nothing is kept when no state file is open)."""

    state: State | None
    hits: int = 0
    _touched: list[str] = field(default_factory=list)

    @staticmethod
    def key(model_id: str, system: str, prompt: str, options: dict[str, Any]) -> str:
        raw = json.dumps([model_id, system, prompt, options], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def get(self, key: str) -> str | None:
        if self.state is None:
            return None
        row = self.state.db.execute(
            "SELECT response FROM llm_cache WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def used(self, key: str) -> None:
        """Count the answer under ``key`` as used by this build (see :meth:`finish`)."""
        self.hits += 1
        self._touched.append(key)

    def forget(self, key: str) -> None:
        """Drop the answer under ``key``: it is not usable, so it must be asked again."""
        if self.state is None:
            return
        with self.state.transaction() as db:
            db.execute("DELETE FROM llm_cache WHERE key = ?", (key,))

    def put(self, key: str, model_id: str, kind: str, item_id: str, response: str) -> None:
        if self.state is None:
            return
        now = dt.datetime.now(dt.UTC).isoformat()
        with self.state.transaction() as db:
            db.execute(
                "INSERT INTO llm_cache "
                "(key, model, kind, item_id, response, created_at, used_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "model = excluded.model, kind = excluded.kind, item_id = excluded.item_id, "
                "response = excluded.response, created_at = excluded.created_at, "
                "used_at = excluded.used_at",
                (key, model_id, kind, item_id, response, now, now),
            )

    def finish(self, keep_days: int) -> None:
        """Mark this build's hits as used; forget answers unused for ``keep_days``."""
        if self.state is None:
            return
        now = dt.datetime.now(dt.UTC)
        with self.state.transaction() as db:
            db.executemany(
                "UPDATE llm_cache SET used_at = ? WHERE key = ?",
                [(now.isoformat(), k) for k in self._touched],
            )
            if keep_days:
                cutoff = (now - dt.timedelta(days=keep_days)).isoformat()
                db.execute("DELETE FROM llm_cache WHERE used_at < ?", (cutoff,))
        self._touched.clear()


async def ask(
    model: Any,
    prompt: str,
    *,
    system: str,
    options: dict[str, Any],
    timeout: float,
    schema: dict[str, Any] | None = None,
) -> str:
    """The model's answer to ``prompt``; :class:`ModelFailed` when it raises or is late."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def settle(text: str | None, error: BaseException | None) -> None:
        if answer.done():  # timed out meanwhile
            return
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(text or "")

    def work() -> None:
        try:
            kwargs: dict[str, Any] = dict(options)
            if schema is not None:
                kwargs["schema"] = schema
            text = model.prompt(prompt, system=system, **kwargs).text()
        except Exception as exc:  # noqa: BLE001 - reported to the build, not raised here
            outcome: tuple[str | None, BaseException | None] = (None, exc)
        else:
            outcome = (text, None)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:
            pass  # the build is over: nobody waits for this answer any more

    threading.Thread(target=work, name="newsroom-llm", daemon=True).start()
    try:
        return await asyncio.wait_for(answer, timeout)
    except TimeoutError:
        raise ModelFailed(f"no answer within {timeout:g} s") from None
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelFailed(f"{type(exc).__name__}: {message}"[:200].rstrip(": ")) from None
