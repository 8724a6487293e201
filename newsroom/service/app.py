"""The routes of ``newsroom serve``.

Every endpoint is async; state work runs in Starlette's threadpool with a connection
borrowed for that one call (:mod:`newsroom.store.pool`: opened for it on an SQLite file,
whose connections never cross threads; kept open in a pool for a database), as short
transactions on the state that a running ``newsroom send`` writes too. Several services may
share one database: every read-then-write is a writer's transaction, and the rate limits
are kept in the state.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar
from urllib.parse import parse_qs

from limits import RateLimitItem, parse_many
from limits.strategies import MovingWindowRateLimiter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsroom.config.newsletter import Newsletter
from newsroom.core.errors import ConfigError
from newsroom.core.feedback import Feedback, FeedbackReceiver, FeedbackRequest
from newsroom.deliver.subscribers import (
    InvalidAddress,
    Subscriber,
    Subscribers,
    normalize_address,
    signup_name,
    subscriber_data,
)
from newsroom.deliver.tokens import InvalidToken, KeyRing, Signer
from newsroom.service.logs import redact_access_log
from newsroom.service.mail import Mailer
from newsroom.service.pages import Strings, render
from newsroom.service.signups import MailRules, Signup, Signups
from newsroom.service.webhooks import (
    BadEvents,
    NewsroomReceiver,
    Refused,
    apply_events,
    record_feedback,
)
from newsroom.store.engine import Target
from newsroom.store.pool import StatePool
from newsroom.store.ratelimits import StateStorage

T = TypeVar("T")
log = logging.getLogger("newsroom.service")
#: Largest request body (webhook batches); refused with 413 by its Content-Length, or as
#: soon as more arrives, before it is read whole.
MAX_BODY = 1024 * 1024
#: Largest form (signup, unsubscribe, preferences): a few fields.
MAX_FORM = 64 * 1024
HEADERS = {
    "Cache-Control": "no-store",
    # Links carry tokens: never leak them to other sites in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


class CloseWhenTooLarge:
    """Ends the connection after a 413: the client may still be sending the rest of a body
    that will never be read, and uvicorn would otherwise take it all in to throw it away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                message = {**message, "headers": [*message.get("headers", []), CLOSE]}
            await send(message)

        await self.app(scope, receive, closing if scope["type"] == "http" else send)


CLOSE = (b"connection", b"close")


def client_key(request: Request) -> str:
    """Who a signup comes from, for the per-client limit: the client's IP address as
    uvicorn's proxy-headers handling gives it (the X-Forwarded-For of a trusted proxy), and
    for IPv6 its /64 network, the block one customer usually holds."""
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Service:
    """What the endpoints share: config, signer, mailer, strings. Holds no connection,
    except each threadpool thread's own for email services' reports (:meth:`_record`)."""

    def __init__(self, newsletter: Newsletter) -> None:
        config = newsletter.config
        self.config = config
        settings = config.subscriptions
        self.base = config.subscriptions_url
        if not self.base:
            raise ConfigError(
                "newsroom serve needs [subscriptions] url (or [newsletter] base_url): the "
                "address readers reach it at",
                path=str(config.path),
            )
        self.keys = KeyRing(config.keys_file)
        self.state_target = Target(config.state_location, config.state_password)
        # One pool of connections to the state for the requests (a database's are kept
        # open), and the rate limits kept in the state, so that several services on one
        # database share them.
        self.pool = StatePool(self.state_target)
        self.rate_storage = StateStorage(self.pool)
        self.mailer = Mailer(config, self.rate_storage)
        self.max_age = settings.confirm_hours * 3600
        self.rules = MailRules(
            cooldown=settings.confirm_cooldown * 60,
            daily_limit=settings.confirm_daily_limit,
            lifetime=self.max_age,
        )
        self.answer_seconds = settings.signup_answer_seconds
        try:
            self.signup_limits: list[RateLimitItem] = parse_many(settings.signup_limit)
        except ValueError as exc:
            raise ConfigError(
                f"[subscriptions] signup_limit: {exc}", path=str(config.path)
            ) from None
        self.limiter = MovingWindowRateLimiter(self.rate_storage)
        secret = settings.webhook_secret
        self.receiver = NewsroomReceiver(
            secret.get_secret_value() if secret else "", settings.webhook_max_age
        )
        #: Email services' receivers (``[[feedback]]``), by the name in their webhook's path.
        self.feedback: dict[str, FeedbackReceiver] = {
            c.name: c.registration.cls(c.options, instance=c.name) for c in config.feedback
        }
        self.strings = Strings(
            config.newsletter.language,
            title=config.newsletter.title,
            hours=f"{settings.confirm_hours:g}",
        )
        #: Confirmation emails still on their way after their signup was answered.
        self.sending: set[asyncio.Task[bool]] = set()
        with self.pool.state() as state:
            Signups(state).expire(self.rules, time.time())
            state.wipe_log()  # what an erasure left there while a reader held it open

    @property
    def signer(self) -> Signer:
        """The signer for the key file as it is now (a rotation needs no restart)."""
        return self.keys.signer()

    # -- helpers -------------------------------------------------------------------------

    def _run(self, fn: Callable[[Subscribers], T]) -> T:
        with self.pool.state() as state:
            return fn(Subscribers(state))

    async def db(self, fn: Callable[[Subscribers], T]) -> T:
        return await run_in_threadpool(self._run, fn)

    def _run_signups(self, fn: Callable[[Signups], T]) -> T:
        with self.pool.state() as state:
            return fn(Signups(state))

    async def signups(self, fn: Callable[[Signups], T]) -> T:
        return await run_in_threadpool(self._run_signups, fn)

    def page(
        self,
        template: str,
        heading: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **context: object,
    ) -> Response:
        s = self.strings
        body = render(template, s, s.get(heading), base=self.base, **context)
        return HTMLResponse(body, status_code=status, headers={**HEADERS, **(headers or {})})

    def message(
        self,
        heading: str,
        text: str,
        status: int = 200,
        *,
        error: bool = False,
        link: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return self.page(
            "message.html",
            heading,
            status,
            headers,
            text=text,
            error=error,
            link=self.base if link else "",
            link_text=self.strings.signup_again,
        )

    def invalid(self, exc: InvalidToken | None = None) -> Response:
        expired = exc is not None and "expired" in str(exc)
        text = self.strings.expired if expired else self.strings.invalid
        return self.message("invalid_title", text, 400, error=True, link=True)

    def used(self) -> Response:
        return self.message("invalid_title", self.strings.link_used, 400, error=True, link=True)

    def unknown(self) -> Response:
        return self.message("unknown_title", self.strings.unknown, 404, error=True, link=True)

    def subscriber_uid(self, request: Request) -> str | None:
        try:
            return self.signer.read_subscriber_token(str(request.path_params["token"]))
        except InvalidToken:
            return None

    async def form(self, request: Request) -> dict[str, str]:
        """The submitted fields (urlencoded or multipart; RFC 8058 allows both). The body's
        size is checked by the route's ``max_body_size`` while it streams in."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            data = await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM)
            return {k: v for k, v in data.items() if isinstance(v, str)}
        text = (await request.body()).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    # -- signup ----------------------------------------------------------------------------

    async def signup_form(self, request: Request) -> Response:
        return self.page("signup.html", "signup_title", email="", name="", error="")

    def too_many(self, request: Request) -> Response | None:
        """429 when this client made more signups than ``[subscriptions] signup_limit``."""
        key = client_key(request)
        over = [i for i in self.signup_limits if not self.limiter.test(i, "signup", key)]
        if not over:
            for item in self.signup_limits:
                self.limiter.hit(item, "signup", key)
            return None
        reset = max(self.limiter.get_window_stats(i, "signup", key).reset_time for i in over)
        wait = max(1, int(reset - time.time()) + 1)
        return self.message(
            "too_many_title",
            self.strings.too_many,
            429,
            error=True,
            headers={"Retry-After": str(wait)},
        )

    async def subscribe(self, request: Request) -> Response:
        limited = self.too_many(request)
        if limited is not None:
            return limited
        form = await self.form(request)
        raw, name = form.get("email", ""), signup_name(form.get("name", ""))
        double = self.config.subscriptions.double_opt_in
        done = self.message(
            "check_inbox_title" if double else "thanks_title",
            self.strings.check_inbox if double else self.strings.thanks,
        )
        if form.get("website"):
            return done  # the field people do not see: a bot filled it in
        try:
            address = normalize_address(raw)
        except InvalidAddress:
            return self.page(
                "signup.html",
                "signup_title",
                400,
                email=raw,
                name=name,
                error=self.strings.invalid_email,
            )
        # The answer comes answer_seconds after this point for every address: whether a
        # confirmation email is sent, skipped (suppressed, erased, cooldown, daily limit) or
        # still on its way. Only a failure known by then changes the page, and a signup that
        # sends nothing fails the same way when the transport would (Mailer.available).
        started = time.monotonic()
        work = asyncio.create_task(self._signup(address, name, double))
        self.sending.add(work)
        work.add_done_callback(self._finished)
        await asyncio.wait({work}, timeout=self.answer_seconds or None)
        ok = work.result() if work.done() else True  # not done: the email is on its way
        await asyncio.sleep(max(0.0, started + self.answer_seconds - time.monotonic()))
        if not ok:
            return self.message(
                "send_failed_title", self.strings.send_failed, 503, error=True, link=True
            )
        return done

    def _finished(self, task: asyncio.Task[bool]) -> None:
        self.sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a signup failed", exc_info=task.exception())

    async def _signup(self, address: str, name: str, double: bool) -> bool:
        """Record the signup and send its confirmation email, if one is due; whether the
        email went out (or would have: see :meth:`Mailer.available`)."""
        now = time.time()

        def write(signups: Signups) -> tuple[Signup, str] | None:
            signups.expire(self.rules, now)
            signup = signups.request(address, name, double_opt_in=double, rules=self.rules, now=now)
            if signup is None:
                return None
            # The name on the list, not the one just typed, for an address already there.
            sub = signups.subscribers.by_id(signup.subscriber_id)
            return signup, (sub.name if sub else name)

        due = await self.signups(write)
        if due is None:
            return await self.mailer.available()
        signup, shown_name = due
        link = f"{self.base}confirm/{self.signer.signup_token(signup.nonce)}"
        if await self.mailer.send_confirmation(self.strings, address, shown_name, link):
            return True
        await self.signups(lambda signups: signups.cancel(signup))
        return False

    def _confirm_token(self, request: Request) -> tuple[str, str]:
        """("signup", nonce), or ("legacy", uid) for a link of an earlier version; or
        :class:`InvalidToken`."""
        token = str(request.path_params["token"])
        try:
            return "signup", self.signer.read_signup_token(token, self.max_age)
        except InvalidToken as exc:
            if "expired" in str(exc):
                raise
        return "legacy", self.signer.read_confirm_token(token, self.max_age)

    async def confirm_page(self, request: Request) -> Response:
        try:
            kind, value = self._confirm_token(request)
        except InvalidToken as exc:
            return self.invalid(exc)
        now = time.time()

        def is_open(signups: Signups) -> bool:
            if kind == "legacy":
                return signups.is_pending(value)
            return signups.is_open(value, now)

        if not await self.signups(is_open):
            return self.used()
        return self.page(
            "button.html",
            "confirm_title",
            text=self.strings.confirm_intro,
            action=f"{self.base}confirm/{request.path_params['token']}",
            button=self.strings.confirm_button,
        )

    async def confirm(self, request: Request) -> Response:
        try:
            kind, value = self._confirm_token(request)
        except InvalidToken as exc:
            return self.invalid(exc)
        now = time.time()

        def use(signups: Signups) -> Subscriber | None:
            if kind == "legacy":
                return signups.confirm_pending(value)
            return signups.confirm(value, now)

        if await self.signups(use) is None:
            return self.used()
        return self.message("confirmed_title", self.strings.confirmed)

    # -- unsubscribe -------------------------------------------------------------------------

    async def unsubscribe_page(self, request: Request) -> Response:
        uid = self.subscriber_uid(request)
        if uid is None:
            return self.invalid()
        sub = await self.db(lambda subs: subs.by_uid(uid))
        if sub is None:
            return self.unknown()
        return self.page(
            "button.html",
            "unsubscribe_title",
            text=self.strings.get("unsubscribe_intro", email=sub.email),
            action=f"{self.base}unsubscribe/{request.path_params['token']}",
            button=self.strings.unsubscribe_button,
        )

    async def unsubscribe(self, request: Request) -> Response:
        uid = self.subscriber_uid(request)
        if uid is None:
            return self.invalid()
        form = await self.form(request)
        one_click = form.get("List-Unsubscribe") == "One-Click"
        reason = "one-click" if one_click else "unsubscribe link"

        def write(subs: Subscribers) -> None:
            sub = subs.by_uid(uid)
            # Idempotent: an address that is unsubscribed, bounced or complained stays so.
            if sub is not None and sub.status in ("active", "pending"):
                subs.set_status(sub.id, "unsubscribed", reason)

        await self.db(write)
        # Also for a subscriber erased since: nothing is sent to them either way.
        return self.message("unsubscribed_title", self.strings.unsubscribed)

    # -- preferences -------------------------------------------------------------------------

    async def _subscriber(self, request: Request) -> Subscriber | Response:
        uid = self.subscriber_uid(request)
        if uid is None:
            return self.invalid()
        sub = await self.db(lambda subs: subs.by_uid(uid))
        return sub if sub is not None else self.unknown()

    def preferences_page(self, request: Request, sub: Subscriber, saved: bool) -> Response:
        return self.page(
            "preferences.html",
            "preferences_title",
            sub=sub,
            status_text=self.strings.get(f"status_{sub.status}"),
            token=request.path_params["token"],
            saved=saved,
        )

    async def preferences(self, request: Request) -> Response:
        found = await self._subscriber(request)
        if isinstance(found, Response):
            return found
        return self.preferences_page(request, found, saved=False)

    async def update_preferences(self, request: Request) -> Response:
        found = await self._subscriber(request)
        if isinstance(found, Response):
            return found
        name = signup_name((await self.form(request)).get("name", ""))
        sub = found

        def write(subs: Subscribers) -> Subscriber | None:
            updated, _ = subs.add(sub.email, name, status=sub.status)
            return updated

        updated = await self.db(write)
        return self.preferences_page(request, updated or sub, saved=True)

    async def resubscribe(self, request: Request) -> Response:
        found = await self._subscriber(request)
        if isinstance(found, Response):
            return found
        sub = found
        if sub.status != "unsubscribed":
            # A bounce or a complaint is not undone by whoever holds a forwarded email's
            # link (nor by the signup form, which mails such an address nothing).
            return self.preferences_page(request, sub, saved=False)

        def write(subs: Subscribers) -> Subscriber | None:
            subs.resubscribe(sub)
            return subs.by_id(sub.id)

        updated = await self.db(write)
        return self.preferences_page(request, updated or sub, saved=True)

    async def data(self, request: Request) -> Response:
        found = await self._subscriber(request)
        if isinstance(found, Response):
            return found
        sub = found
        exported = await self.db(lambda subs: subscriber_data(sub, subs.state))
        headers = {
            **HEADERS,
            "Content-Disposition": 'attachment; filename="subscriber-data.json"',
        }
        return JSONResponse(exported, headers=headers)

    async def erase(self, request: Request) -> Response:
        found = await self._subscriber(request)
        if isinstance(found, Response):
            return found
        sub = found
        if not await self.db(lambda subs: subs.erase(sub)):
            log.warning(
                "an erased subscriber's old rows stay in the state file's write-ahead log "
                "until the next erasure or service start: another process held it open"
            )
        return self.message("erased_title", self.strings.erased, link=True)

    # -- webhook -----------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        body = await request.body()  # at most MAX_BODY: the app's max_body_size
        try:
            self.receiver.check(request.headers, body, time.time())
            events = self.receiver.parse(body)
        except Refused as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return JSONResponse({"error": str(exc)}, exc.status, headers=headers)
        except BadEvents as exc:
            return JSONResponse({"error": str(exc)}, 400)
        counts = await self.db(lambda subs: apply_events(subs, events))
        return JSONResponse(counts)

    async def service_webhook(self, request: Request) -> Response:
        """An email service's report, read by the ``[[feedback]]`` receiver of that name."""
        name = request.path_params["name"]
        receiver = self.feedback.get(name)
        if receiver is None:
            return JSONResponse({"error": "no such webhook"}, 404)
        body = await request.body()  # at most MAX_BODY: the app's max_body_size
        now = time.time()
        try:
            feedback = await receiver.receive(FeedbackRequest(request.headers, body, now))
            counts = await run_in_threadpool(
                self._record, name, feedback, now, 2 * receiver.max_age
            )
        except Refused as exc:
            log.warning("webhook %s refused a request: %s", name, exc)
            headers = {"WWW-Authenticate": 'Basic realm="newsroom"'} if exc.status == 401 else None
            return JSONResponse({"error": str(exc)}, exc.status, headers=headers)
        except BadEvents as exc:
            log.warning("webhook %s could not read a request: %s", name, exc)
            return JSONResponse({"error": str(exc)}, 400)
        answer: dict[str, object] = dict(counts)
        if feedback.note:
            answer["note"] = feedback.note
        return JSONResponse(answer)

    def _record(self, name: str, feedback: Feedback, now: float, keep: float) -> dict[str, int]:
        # A connection from the service's pool: kept open for a database, so that several
        # services share the seen report ids; opened for the call on an SQLite file.
        with self.pool.state() as state:
            return record_feedback(state, name, feedback, now, keep)

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")


def build_app(newsletter: Newsletter) -> Starlette:
    s = Service(newsletter)
    form = MAX_FORM
    routes = [
        Route("/", s.signup_form, methods=["GET"]),
        Route("/subscribe", s.subscribe, methods=["POST"], max_body_size=form),
        Route("/confirm/{token}", s.confirm_page, methods=["GET"]),
        Route("/confirm/{token}", s.confirm, methods=["POST"], max_body_size=form),
        Route("/unsubscribe/{token}", s.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe/{token}", s.unsubscribe, methods=["POST"], max_body_size=form),
        Route("/preferences/{token}", s.preferences, methods=["GET"]),
        Route("/preferences/{token}", s.update_preferences, methods=["POST"], max_body_size=form),
        Route("/preferences/{token}/data", s.data, methods=["GET"]),
        Route("/preferences/{token}/erase", s.erase, methods=["POST"], max_body_size=form),
        Route(
            "/preferences/{token}/resubscribe", s.resubscribe, methods=["POST"], max_body_size=form
        ),
        Route("/webhooks/events", s.webhook, methods=["POST"]),
        Route("/webhooks/{name}", s.service_webhook, methods=["POST"]),
        Route("/health", s.health, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            s.pool.close()

    app = Starlette(
        routes=routes,
        max_body_size=MAX_BODY,
        middleware=[Middleware(CloseWhenTooLarge)],
        lifespan=lifespan,
    )
    # Starlette would answer /path/ with a redirect to /path built from the Host header: an
    # open redirect for whoever sets that header. Readers' links never end in a slash.
    app.router.redirect_slashes = False
    app.state.service = s
    redact_access_log()
    return app
