"""What a send is told and what it tells: :class:`SendSettings` in, :class:`Counts` and
:class:`SendReport` out, :class:`SendError` when it cannot start or must stop.

Apart because they are plain data that every part of the engine fills in and the commands
build and print (:mod:`newsroom.deliver.delivery`, the live display, ``--json``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from newsroom.core import exitcodes
from newsroom.core.errors import NewsroomError


class SendError(NewsroomError):
    """The send could not start, or had to stop (nothing is lost: run it again)."""

    exit_code = exitcodes.SEND_FAILED


@dataclass
class SendSettings:
    """How a send runs; defaults come from ``[email]``, the command line overrides."""

    concurrency: int = 10
    rate: float = 0.0
    hourly_limit: int = 0
    workers: int = 0
    retries: int = 4
    backoff: float = 1.0
    stop_after_rejections: int = 50
    limit: int | None = None
    """Send at most this many messages in this run (the rest stay queued)."""


@dataclass
class Counts:
    """What happened to messages in one run."""

    sent: int = 0
    retried: int = 0
    """Temporary failures that were tried again."""
    bounced: int = 0
    """Refused for good (5xx): the address (marked bounced) or the message."""
    failed: int = 0
    """Temporary failures that ran out of retries; the next run tries them again."""
    skipped: int = 0
    """Subscribers who left between queueing and sending."""
    uncertain: int = 0
    """Handed over, but the server never answered: maybe delivered, not sent again."""

    def add(self, other: Counts) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)

    @property
    def done(self) -> int:
        return self.sent + self.bounced + self.failed + self.skipped + self.uncertain


@dataclass
class SendReport:
    """The outcome of one ``newsroom send`` run."""

    edition: str
    counts: Counts = field(default_factory=Counts)
    queued: int = 0
    """Messages this run set out to send."""
    already_sent: int = 0
    """Subscribers who had received this edition before this run."""
    resumed: int = 0
    """Messages that were in flight when an earlier run died, sent again."""
    uncertain: int = 0
    """Messages of earlier runs whose delivery is uncertain, left alone (see
    ``--resend-uncertain``); this run's own are in ``counts.uncertain``."""
    remaining: int = 0
    """Messages still to send after this run (queued or failed)."""
    others: int = 0
    """Messages the other senders of a shared send (``--join``) were still sending."""
    complete: bool = False
    stopped: str = ""
    """Why the run stopped early, if it did."""
    workers: int = 1
    elapsed: float = 0.0
    quota: str = ""
    """How the email service's quota limited this run ("" when it did not)."""

    @property
    def exit_code(self) -> int:
        if self.stopped == "interrupted":
            return exitcodes.INTERRUPTED
        if self.stopped:
            return exitcodes.SEND_FAILED
        if self.counts.failed or self.remaining:
            return exitcodes.SEND_INCOMPLETE
        if self.counts.uncertain:
            return exitcodes.SEND_UNCERTAIN
        if self.counts.bounced:
            return exitcodes.SEND_BOUNCES
        return exitcodes.OK

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exit_code"] = self.exit_code
        data["rate"] = round(self.counts.sent / self.elapsed, 1) if self.elapsed else 0
        return data
