"""The send engine (``newsroom send``); it lives in :mod:`.worker` while the package is being
split along its seams."""

from __future__ import annotations

from newsroom.deliver.sending.delivery_log import (
    Prepared,
    finished_subscribers,
    mark_complete,
    prepare,
    remaining,
    sent_in_last_hour,
)
from newsroom.deliver.sending.rate import RateLimiter
from newsroom.deliver.sending.report import Counts, SendError, SendReport, SendSettings
from newsroom.deliver.sending.worker import (
    Worker,
    choose_workers,
    deliver,
    run_loop,
)

__all__ = [
    "Counts",
    "Prepared",
    "RateLimiter",
    "SendError",
    "SendReport",
    "SendSettings",
    "Worker",
    "choose_workers",
    "deliver",
    "finished_subscribers",
    "mark_complete",
    "prepare",
    "remaining",
    "run_loop",
    "sent_in_last_hour",
]
