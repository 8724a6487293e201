"""The routes of ``newsroom serve``.

Every endpoint is async; state file work runs in Starlette's threadpool with a connection
opened for that one call (sqlite connections never cross threads), as short transactions on
the WAL-mode file that a running ``newsroom send`` writes too.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from newsroom.app import Newsletter
from newsroom.errors import ConfigError
from newsroom.service.mail import Mailer
from newsroom.service.pages import Strings, render
from newsroom.service.webhooks import BadEvents, apply_events, parse_events
from newsroom.state import State
from newsroom.subscribers import (
    SUPPRESSING,
    InvalidAddress,
    Subscriber,
    Subscribers,
    normalize_address,
    subscriber_data,
)
from newsroom.tokens import InvalidToken, Signer, load_keys

T = TypeVar("T")
#: Largest request body read (forms and webhook batches).
MAX_BODY = 1024 * 1024
HEADERS = {
    "Cache-Control": "no-store",
    # Links carry tokens: never leak them to other sites in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
#: A confirm token for an address that has no row (it was erased): the address and name,
#: signed. Subscriber uids never start with "[".
_ADDRESS_PAYLOAD = "["


class Service:
    """What the endpoints share: config, signer, mailer, strings. Holds no connection."""

    def __init__(self, newsletter: Newsletter) -> None:
        config = newsletter.config
        self.config = config
        self.base = config.subscriptions_url
        if not self.base:
            raise ConfigError(
                "newsroom serve needs [subscriptions] url (or [newsletter] base_url): the "
                "address readers reach it at",
                path=str(config.path),
            )
        self.signer = Signer(load_keys(config.keys_file))
        self.mailer = Mailer(config)
        self.max_age = config.subscriptions.confirm_hours * 3600
        self.strings = Strings(
            config.newsletter.language,
            title=config.newsletter.title,
            hours=f"{config.subscriptions.confirm_hours:g}",
        )
        self.state_path = config.state_path
        with State(self.state_path):
            pass  # created and migrated before the first request

    # -- helpers -------------------------------------------------------------------------

    def _run(self, fn: Callable[[Subscribers], T]) -> T:
        with State(self.state_path) as state:
            return fn(Subscribers(state))

    async def db(self, fn: Callable[[Subscribers], T]) -> T:
        return await run_in_threadpool(self._run, fn)

    def page(self, template: str, heading: str, status: int = 200, **context: object) -> Response:
        s = self.strings
        body = render(template, s, s.get(heading), base=self.base, **context)
        return HTMLResponse(body, status_code=status, headers=HEADERS)

    def message(
        self, heading: str, text: str, status: int = 200, *, error: bool = False, link: bool = False
    ) -> Response:
        return self.page(
            "message.html",
            heading,
            status,
            text=text,
            error=error,
            link=self.base if link else "",
            link_text=self.strings.signup_again,
        )

    def invalid(self, exc: InvalidToken | None = None) -> Response:
        expired = exc is not None and "expired" in str(exc)
        text = self.strings.expired if expired else self.strings.invalid
        return self.message("invalid_title", text, 400, error=True, link=True)

    def unknown(self) -> Response:
        return self.message("unknown_title", self.strings.unknown, 404, error=True, link=True)

    def subscriber_uid(self, request: Request) -> str | None:
        try:
            return self.signer.read_subscriber_token(str(request.path_params["token"]))
        except InvalidToken:
            return None

    async def form(self, request: Request) -> dict[str, str]:
        """The submitted fields (urlencoded or multipart; RFC 8058 allows both)."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return {}
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            data = await request.form()
            return {k: v for k, v in data.items() if isinstance(v, str)}
        text = body.decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    # -- signup ----------------------------------------------------------------------------

    async def signup_form(self, request: Request) -> Response:
        return self.page("signup.html", "signup_title", email="", name="", error="")

    async def subscribe(self, request: Request) -> Response:
        form = await self.form(request)
        raw, name = form.get("email", ""), form.get("name", "")[:200]
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

        def write(subs: Subscribers) -> str | None:
            """The payload of the confirmation token to mail, or None for no mail."""
            sub = subs.get(address)
            if sub is None:
                if subs.is_suppressed(address):  # erased: only its owner may undo that
                    return json.dumps(["signup", address, name], ensure_ascii=False)
                added, _ = subs.add(address, name, status="pending" if double else "active")
                return added.uid if added and double else None
            # Whatever the row says, the page is the same; the row changes only when the
            # owner confirms from their mailbox.
            if double or sub.status in SUPPRESSING or sub.status == "pending":
                return sub.uid
            return None

        payload = await self.db(write)
        if payload is not None:
            link = f"{self.base}confirm/{self.signer.confirm_token(payload)}"
            await self.mailer.send_confirmation(self.strings, address, name, link)
        return done

    def _confirm_payload(self, request: Request) -> str:
        return self.signer.read_confirm_token(str(request.path_params["token"]), self.max_age)

    async def confirm_page(self, request: Request) -> Response:
        try:
            self._confirm_payload(request)
        except InvalidToken as exc:
            return self.invalid(exc)
        return self.page(
            "button.html",
            "confirm_title",
            text=self.strings.confirm_intro,
            action=f"{self.base}confirm/{request.path_params['token']}",
            button=self.strings.confirm_button,
        )

    async def confirm(self, request: Request) -> Response:
        try:
            payload = self._confirm_payload(request)
        except InvalidToken as exc:
            return self.invalid(exc)

        def write(subs: Subscribers) -> bool:
            if payload.startswith(_ADDRESS_PAYLOAD):
                try:
                    _, address, name = json.loads(payload)
                    return subs.confirm_address(str(address), str(name)) is not None
                except (ValueError, InvalidAddress):
                    return False
            sub = subs.by_uid(payload)
            if sub is None:
                return False
            subs.confirm(sub)
            return True

        if not await self.db(write):
            return self.unknown()
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
        name = (await self.form(request)).get("name", "")
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
            # link: such a reader signs up again and confirms from their own mailbox.
            return self.preferences_page(request, sub, saved=False)

        def write(subs: Subscribers) -> Subscriber | None:
            subs.confirm(sub, reason="preferences page")
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
        await self.db(lambda subs: subs.erase(sub))
        return self.message("erased_title", self.strings.erased, link=True)

    # -- webhook -----------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        secret = self.config.subscriptions.webhook_secret
        if secret is None or not secret.get_secret_value():
            return JSONResponse({"error": "no [subscriptions] webhook_secret configured"}, 503)
        given = request.headers.get("authorization", "")
        expected = f"Bearer {secret.get_secret_value()}"
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            return JSONResponse(
                {"error": "wrong or missing secret"},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": f"at most {MAX_BODY} bytes per request"}, 413)
        try:
            events = parse_events(body)
        except BadEvents as exc:
            return JSONResponse({"error": str(exc)}, 400)
        counts = await self.db(lambda subs: apply_events(subs, events))
        return JSONResponse(counts)

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")


def build_app(newsletter: Newsletter) -> Starlette:
    s = Service(newsletter)
    routes = [
        Route("/", s.signup_form, methods=["GET"]),
        Route("/subscribe", s.subscribe, methods=["POST"]),
        Route("/confirm/{token}", s.confirm_page, methods=["GET"]),
        Route("/confirm/{token}", s.confirm, methods=["POST"]),
        Route("/unsubscribe/{token}", s.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe/{token}", s.unsubscribe, methods=["POST"]),
        Route("/preferences/{token}", s.preferences, methods=["GET"]),
        Route("/preferences/{token}", s.update_preferences, methods=["POST"]),
        Route("/preferences/{token}/data", s.data, methods=["GET"]),
        Route("/preferences/{token}/erase", s.erase, methods=["POST"]),
        Route("/preferences/{token}/resubscribe", s.resubscribe, methods=["POST"]),
        Route("/webhooks/events", s.webhook, methods=["POST"]),
        Route("/health", s.health, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.service = s
    return app
