"""``newsroom serve``: the subscription service behind the links in every email.

Signup with double opt-in, one-click unsubscribe (RFC 8058), a preferences page with data
export and erasure, and a webhook for bounce and complaint reports. A small Starlette app
run by uvicorn; both come with the ``service`` extra, imported only when the service runs.
"""

from __future__ import annotations

import logging
import signal
from typing import TYPE_CHECKING

from newsroom.__about__ import DISTRIBUTION
from newsroom.core.errors import NewsroomError

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

    from newsroom.config.newsletter import Newsletter

MISSING = f"newsroom serve needs the service extra: pip install '{DISTRIBUTION}[service]'"


def _require() -> None:
    try:
        import python_multipart  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise NewsroomError(MISSING) from None


def create_app(newsletter: Newsletter) -> Starlette:
    """The ASGI app of ``newsletter``'s subscription service."""
    _require()
    from newsroom.service.app import build_app

    return build_app(newsletter)


def server_config(
    newsletter: Newsletter, host: str | None = None, port: int | None = None
) -> uvicorn.Config:
    """The ``uvicorn.Config`` that ``newsroom serve`` runs: behind a proxy on loopback
    (uvicorn takes the client's address from X-Forwarded-For only when the proxy's address
    is in ``$FORWARDED_ALLOW_IPS``, 127.0.0.1 by default), with a deadline per request."""
    app = create_app(newsletter)
    import uvicorn

    from newsroom.service.protocol import protocol_with_timeout

    settings = newsletter.config.subscriptions
    return uvicorn.Config(
        app,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        server_header=False,
        log_level="info",
        http=protocol_with_timeout(settings.request_timeout),
    )


def run_service(newsletter: Newsletter, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted, on ``host``:``port`` (default: ``[subscriptions]``).
    SIGHUP reloads the signing keys (a change of the key file is also noticed by itself)."""
    import uvicorn

    config = server_config(newsletter, host, port)
    app: Starlette = config.app  # type: ignore[assignment]
    service = app.state.service
    logging.getLogger("newsroom.service").setLevel(logging.INFO)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda signum, frame: service.keys.reload())
    uvicorn.Server(config).run()


__all__ = ["MISSING", "create_app", "run_service", "server_config"]
