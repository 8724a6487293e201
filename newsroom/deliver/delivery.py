"""Sending an edition as the commands do: config → message → lock → queue → transport.

:func:`send_edition` is ``newsroom send``; :func:`dry_run` and :func:`send_test` are its
``--dry-run`` and ``--to``. The engine itself is :mod:`newsroom.deliver.sending`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsroom.config import Config
from newsroom.config.outputs import edition_dir
from newsroom.core.errors import ConfigError
from newsroom.core.transport import DeliveryFailure, SendingQuota, Transport, TransportContext
from newsroom.deliver.approvals import require_approval
from newsroom.deliver.messages import DkimSigner, EditionMessage, Recipient, make_sender
from newsroom.deliver.sending import (
    Counts,
    SendError,
    SendReport,
    SendSettings,
    deliver,
    finished_subscribers,
    left_to_others,
    mark_complete,
    prepare,
)
from newsroom.deliver.subscribers import Subscribers, normalize_address
from newsroom.deliver.tokens import Signer, load_keys
from newsroom.store.locks import Lock
from newsroom.store.state import State

LOCK_NAME = "delivery"


#: Put before a test copy's subject, so that it cannot be taken for the edition itself.
TEST_SUBJECT_PREFIX = "[TEST] "


def edition_message(
    config: Config, edition_id: str, *, subject_prefix: str = "", subscriptions_url: str = ""
) -> EditionMessage:
    """The rendered email of ``edition_id``, ready to personalise (``subscriptions_url``:
    see :func:`make_sender`)."""
    sender = make_sender(config, subscriptions_url=subscriptions_url or None)
    signer = Signer(load_keys(config.keys_file))
    dkim = None
    if config.email.dkim_key_file:
        dkim = DkimSigner(
            config.root / config.email.dkim_key_file,
            config.email.dkim_selector,
            config.email.dkim_domain or sender.domain,
        )
    return EditionMessage.from_files(
        edition_dir(config, edition_id),
        edition_id,
        sender,
        signer,
        dkim=dkim,
        subject_prefix=subject_prefix,
    )


def transport_for(config: Config) -> Transport:
    if config.transport is None:
        raise ConfigError("no [transport] configured and no smtp transport installed")
    transport: Transport = config.transport.create()  # type: ignore[assignment]
    return transport


def transport_context(config: Config, edition_id: str) -> TransportContext:
    return TransportContext(
        root=config.root, edition_id=edition_id, output_dir=edition_dir(config, edition_id)
    )


def settings_from(config: Config, **overrides: object) -> SendSettings:
    """``[email]`` settings with the command line's overrides (``None`` keeps the file's)."""
    e = config.email
    settings = SendSettings(
        concurrency=e.concurrency,
        rate=e.rate,
        hourly_limit=e.hourly_limit,
        workers=e.workers,
        retries=e.retries,
        backoff=e.backoff,
        stop_after_rejections=e.stop_after_rejections,
    )
    for key, value in overrides.items():
        if value is not None:
            setattr(settings, key, value)
    return settings


def send_edition(
    config: Config,
    edition_id: str,
    settings: SendSettings,
    *,
    accept_new_version: bool = False,
    resend_uncertain: bool = False,
    progress: Callable[[Counts, int], None] | None = None,
    lock: Lock | None = None,
    join: bool = False,
) -> SendReport:
    """Send ``edition_id`` to every active subscriber who has not received it yet
    (``resend_uncertain``: and to those whose copy may or may not have arrived).

    Takes the newsletter's delivery lock, unless the caller holds it already (``lock``);
    ``join``: share the send with the senders of this edition already running (on other
    machines sharing the state), each taking its own part of the list."""
    message = edition_message(config, edition_id)
    if config.email.require_approval:
        # Checked against the very bytes this send read: a render in between cannot slip an
        # unapproved version through. NotApproved (exit code 10) when it is not approved.
        require_approval(config, edition_id, message.files_hash)
    transport = transport_for(config)
    started = time.monotonic()
    report = SendReport(edition=edition_id)
    try:
        quota = transport.sending_quota()
    except DeliveryFailure as exc:
        # Credentials refused, a paused account, no answer: no message would go either.
        report.stopped = f"cannot read the sending quota: {exc}"
        report.elapsed = time.monotonic() - started
        return report
    if quota is not None:
        settings, report.quota = apply_quota(settings, quota)
    lease = config.state.lease
    with State.of(config) as state:
        own = lock is None
        lock = lock or Lock(state, LOCK_NAME, f"newsroom send {edition_id}", join=join, lease=lease)
        with lock if own else contextlib.nullcontext(lock):
            lock.renew_in_background()
            prepared = prepare(
                state,
                edition_id,
                message.content_hash,
                accept_new_version=accept_new_version,
                resend_uncertain=resend_uncertain,
                lock_name=LOCK_NAME,
                lease=lease,
            )
            report.already_sent = prepared.already_sent
            report.resumed = prepared.resumed
            report.uncertain = prepared.uncertain
            queued = prepared.queued
            if settings.limit is not None:
                queued = min(queued, settings.limit)
            report.queued = queued
            if queued:
                counts, stopped, workers = deliver(
                    state,
                    edition_id,
                    message,
                    transport,
                    transport_context(config, edition_id),
                    settings,
                    queued=queued,
                    claim=lock.claim_name,
                    lock_name=LOCK_NAME,
                    lease=lease,
                    progress=(lambda c: progress(c, queued)) if progress else None,
                    heartbeat=lock.heartbeat,
                    on_workers=lock.add_pids,
                )
                report.counts, report.stopped, report.workers = counts, stopped, workers
            # What the other senders of a shared send still hold is theirs to send.
            left, report.others = left_to_others(state, edition_id, lock.claim_name)
            report.remaining = left - report.others
            if left == 0:
                report.complete = True
                mark_complete(state, edition_id)
                # What went out is history: the `history` filter skips these items from now on.
                state.mark_published(edition_id)
    report.elapsed = time.monotonic() - started
    return report


def recipients_left(config: Config, edition_id: str) -> int:
    """How many messages a send of ``edition_id`` would try now: every active subscriber
    on its first send, the ones still to send after that (the list is fixed then)."""
    with State.of(config) as state:
        started = state.db.execute(
            "SELECT 1 FROM sends WHERE edition_id = ?", (edition_id,)
        ).fetchone()
        if started is None:
            row = state.db.execute(
                "SELECT COUNT(*) FROM subscribers WHERE status = 'active'"
            ).fetchone()
        else:
            row = state.db.execute(
                "SELECT COUNT(*) FROM deliveries WHERE edition_id = ? "
                "AND status IN ('queued', 'sending', 'failed')",
                (edition_id,),
            ).fetchone()
    return int(row[0])


def apply_quota(settings: SendSettings, quota: SendingQuota) -> tuple[SendSettings, str]:
    """``settings`` within an email service's quota, and what it changed (for the report)."""
    settings = dataclasses.replace(settings)
    notes = []
    if quota.rate and (not settings.rate or settings.rate > quota.rate):
        settings.rate = quota.rate
        notes.append(f"at most {quota.rate:g} messages a second")
    if quota.remaining is not None and (settings.limit is None or settings.limit > quota.remaining):
        settings.limit = quota.remaining
        notes.append(f"at most {quota.remaining} messages in this run")
    note = f"{', '.join(notes)} ({quota.source or 'the service'})" if notes else ""
    return settings, note


def dry_run(config: Config, edition_id: str, folder: Path) -> int:
    """Write the message every active subscriber would get to ``folder``; send nothing and
    record nothing. Returns the number of messages."""
    message = edition_message(config, edition_id)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    with State.of(config) as state:
        already = finished_subscribers(state, edition_id)
        for sub in Subscribers(state).iter("active"):
            if sub.id in already:
                continue
            out = message.build(Recipient(sub.email, sub.name, sub.uid, sub.attributes))
            count += 1
            (folder / f"{count:06d}.eml").write_bytes(out.data)
    return count


@dataclass
class TestCopy:
    """A test copy that went out."""

    message_id: str
    notes: list[str] = field(default_factory=list)
    """What the editor should know about it (where its links lead)."""


def local_subscriptions_url(config: Config) -> str:
    """``newsroom serve`` on this machine, as ``[subscriptions]`` host and port place it."""
    host = config.subscriptions.host
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{config.subscriptions.port}/"


def send_test(config: Config, edition_id: str, address: str) -> TestCopy:
    """Send one copy of the edition to ``address``, outside the delivery log. Its links are
    those of the subscriber with that address, if there is one. Before the newsletter has a
    subscriptions URL (``[newsletter] base_url``), its links lead to ``newsroom serve`` on
    this machine, and a note says so; a send to the list is refused until then."""
    address = normalize_address(address)
    notes = []
    local = ""
    if not config.subscriptions_url:
        local = local_subscriptions_url(config)
        notes.append(
            f"its unsubscribe and preferences links lead to `newsroom serve` on this machine "
            f"({local}); before sending to readers, set [newsletter] base_url (or "
            "[subscriptions] url) to the https address where newsroom serve answers"
        )
    message = edition_message(
        config, edition_id, subject_prefix=TEST_SUBJECT_PREFIX, subscriptions_url=local
    )
    with State.of(config) as state:
        sub = Subscribers(state).get(address)
    recipient = (
        Recipient(sub.email, sub.name, sub.uid, sub.attributes)
        if sub
        else Recipient(address, "", "test")
    )
    transport = transport_for(config)

    async def go() -> str:
        channel = await transport.open(transport_context(config, edition_id))
        try:
            # A Message-ID of its own: with the subscriber's real one, receivers that drop
            # duplicates would later drop the real edition.
            unique = f"<test.{secrets.token_hex(12)}@{message.sender.domain}>"
            out = message.build(recipient, eight_bit=channel.accepts_8bit, message_id=unique)
            await channel.send(out)
            return out.message_id
        finally:
            await channel.close()

    try:
        return TestCopy(asyncio.run(go()), notes)
    except DeliveryFailure as exc:
        hint = ""
        options = config.transport.options if config.transport else None
        host = str(getattr(options, "host", ""))
        if exc.stage == "connect" and host in ("127.0.0.1", "localhost", "::1"):
            hint = (
                f"; to try sending on this machine, run `newsroom dev-smtp --port "
                f"{getattr(options, 'port', 2525) or 25}` in another terminal (it keeps what "
                "it receives, and `newsroom preview` shows it)"
            )
        raise SendError(f"the test copy to {address} was not sent: {exc}{hint}") from None
