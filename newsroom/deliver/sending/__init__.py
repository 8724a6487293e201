"""``newsroom send``: deliver an edition to every active subscriber, exactly once.

The delivery log is the ``deliveries`` table of the state file: one row per (edition,
subscriber), moving ``queued → sending → sent | failed | bounced | skipped | uncertain``.
Each move is committed on its own, ``sending`` before the SMTP transaction starts and the
outcome as soon as the server answers, so a run that stops for any reason (Ctrl-C, a crash,
``kill -9``, a dead server) can be started again and resumes:

- ``queued`` and ``failed`` rows are sent (``failed``: temporary failures that ran out of
  retries in an earlier run);
- ``sending`` rows were in flight when the run died. The server may or may not have taken
  them, so they are sent again: these, and only these, can arrive twice (with the same
  Message-ID, which lets receiving systems drop the copy);
- ``sent``, ``bounced`` and ``skipped`` rows are never touched again;
- ``uncertain`` rows were handed over whole, but the server never answered the end of the
  message: they may have been delivered, so they are sent again only when the user asks
  (``newsroom send --resend-uncertain``).

The recipients are fixed when an edition's send first starts; subscribers who left since
are skipped. Work is spread over ``concurrency`` persistent connections, and with
``workers = N`` over N processes; a rate limit holds across all of them.

The package, one module per part: :mod:`.report` (the settings and the report),
:mod:`.delivery_log` (the SQL of the send), :mod:`.jobs` (the queue each worker feeds
from the log), :mod:`.rate` (the rate limit), :mod:`.worker` (connections, delivery,
retries) and :mod:`.processes` (worker processes, signals, :func:`deliver`).
"""

from __future__ import annotations

from newsroom.deliver.sending.delivery_log import (
    Prepared,
    finished_subscribers,
    left_to_others,
    mark_complete,
    prepare,
    remaining,
    sent_in_last_hour,
)
from newsroom.deliver.sending.processes import choose_workers, deliver, run_loop
from newsroom.deliver.sending.rate import RateLimiter
from newsroom.deliver.sending.report import Counts, SendError, SendReport, SendSettings
from newsroom.deliver.sending.worker import Worker

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
    "left_to_others",
    "mark_complete",
    "prepare",
    "remaining",
    "run_loop",
    "sent_in_last_hour",
]
