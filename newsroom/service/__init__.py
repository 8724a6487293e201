"""``newsroom serve``: the subscription service behind the links in every email.

Signup with double opt-in, one-click unsubscribe (RFC 8058), a preferences page with data
export and erasure, and a webhook for bounce and complaint reports. A small Starlette app
run by uvicorn; both come with the ``service`` extra, imported only when the service runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsroom.errors import NewsroomError

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from newsroom.app import Newsletter

MISSING = "newsroom serve needs the service extra: pip install 'newsroom[service]'"


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


def run_service(newsletter: Newsletter, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted, on ``host``:``port`` (default: ``[subscriptions]``)."""
    app = create_app(newsletter)
    import uvicorn

    settings = newsletter.config.subscriptions
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )


__all__ = ["MISSING", "create_app", "run_service"]
