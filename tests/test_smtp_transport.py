"""The smtp transport's own framing of DATA, against aiosmtplib's."""

from __future__ import annotations

import random

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from newsroom_transports.smtp import wire_data


def aiosmtplib_framing(data: bytes) -> bytes:
    """What aiosmtplib's ``data()`` writes after ``DATA``."""
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data)) + b".\r\n"


def test_wire_data_frames_exactly_as_aiosmtplib_does() -> None:
    rng = random.Random(20261201)
    alphabet = [b"a", b"\xea\xb0\x80", b".", b"\r\n", b"\n", b"\r", b" ", b"..", b"\r\n."]
    samples = [b"", b".", b".\r\n", b"a\r\n.\r\n", b"\r\n..\r\n", b"x" * 5000 + b"\r\n"]
    samples += [b"".join(rng.choices(alphabet, k=rng.randint(0, 60))) for _ in range(20000)]
    for sample in samples:
        assert wire_data(sample) == aiosmtplib_framing(sample), sample
