"""The send engine (``newsroom send``); it lives in :mod:`.worker` while the package is being
split along its seams."""

from __future__ import annotations

from newsroom.deliver.sending.report import Counts, SendError, SendReport, SendSettings
from newsroom.deliver.sending.worker import (
    Prepared,
    RateLimiter,
    Worker,
    choose_workers,
    deliver,
    prepare,
    remaining,
    run_loop,
    sent_in_last_hour,
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
    "prepare",
    "remaining",
    "run_loop",
    "sent_in_last_hour",
]
