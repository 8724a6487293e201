"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for reading each request.

uvicorn closes idle keep-alive connections, but a client that sends its headers (or its
body) a byte at a time keeps a connection, and a task, for as long as it likes: a handful of
such clients (a slowloris) hold the service. Here every request must arrive whole, headers
and body, within ``timeout`` seconds of the moment the service is ready for it (the
connection opened, or the previous answer went out); a slower client is disconnected.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

#: The states of the client's side of the connection in which it still owes us bytes of
#: its request: waiting for (the rest of) the headers, or for the rest of the body.
_READING = (h11.IDLE, h11.SEND_BODY)


class DeadlineH11Protocol(H11Protocol):
    """:class:`H11Protocol` that disconnects a client slower than ``timeout`` per request."""

    timeout: float = 20.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state in _READING and not self.transport.is_closing():
            self.logger.info("Closed a connection: its request took over %g s", self.timeout)
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.disconnected = True
                self.cycle.message_event.set()  # an endpoint waiting for the body gives up
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._deadline is not None and self.conn.their_state not in _READING:
            self._disarm()  # the whole request is in

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Ready for the next request on this connection (unless a pipelined one is in).
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_with_timeout(timeout: float) -> type[DeadlineH11Protocol]:
    """The protocol class for uvicorn's ``http`` setting, with ``timeout`` per request."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"timeout": timeout})
