"""The ``file`` transport: every message becomes an ``.eml`` file in a folder."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from newsroom import Options as BaseOptions
from newsroom.core.transport import Channel, OutgoingMessage, Transport, TransportContext

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


class FileTransport(Transport):
    """Write messages to ``.eml`` files instead of sending them (staging, archiving, a
    mail server that picks up a folder)."""

    name = "file"
    description = "writes each message to an .eml file"

    class Options(BaseOptions):
        directory: str = ""
        """Folder for the files (relative to the config); default: ``outbox/`` in the
        edition's folder."""

    options: Options

    async def open(self, ctx: TransportContext) -> Channel:
        folder = (
            ctx.root / self.options.directory
            if self.options.directory
            else ctx.output_dir / "outbox"
        )
        folder.mkdir(parents=True, exist_ok=True)
        return FileChannel(folder)


class FileChannel(Channel):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: OutgoingMessage) -> None:
        recipient = message.envelope.recipient
        digest = hashlib.sha256((message.message_id or recipient).encode()).hexdigest()[:12]
        name = f"{_UNSAFE.sub('_', recipient)[:80]}-{digest}.eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(message.data)
        os.replace(tmp, self.folder / name)  # a reader never sees half a message
