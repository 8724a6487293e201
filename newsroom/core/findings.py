"""Findings: what a check of a newsletter found, one statement each, with how much it matters.

``newsroom check`` (the config, and what sending still needs) and ``newsroom doctor`` (each
source, the mail server, the links, the keys, before send time) are lists of checks; each
check returns findings. Anything that checks a part of a newsletter returns them in this
shape, so that one report can gather them from every layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How much a finding matters, in increasing order."""

    OK = "ok"
    """Checked, and fine."""
    NOTE = "note"
    """Worth knowing; nothing fails because of it."""
    WARNING = "warning"
    """Works now, but something will go wrong or look wrong (a feed that parses to nothing,
    a certificate that expires next week)."""
    PROBLEM = "problem"
    """Stops what the check is about (a send, a source's items)."""

    @property
    def rank(self) -> int:
        return list(Level).index(self)


@dataclass(frozen=True)
class Finding:
    """One thing a check found."""

    check: str
    """What was checked, short and stable (``source papers``, ``smtp``, ``signing keys``)."""
    level: Level
    message: str
    """What was found, in a sentence."""
    hint: str = ""
    """What to do about it, when there is something to do."""

    def line(self) -> str:
        """``check: message (hint)`` on one line."""
        hint = f"; {self.hint}" if self.hint else ""
        return f"{self.check}: {self.message}{hint}"

    def as_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "level": self.level.value,
            "message": self.message,
            "hint": self.hint,
        }


def worst(findings: list[Finding]) -> Level:
    """The highest level among ``findings`` (``OK`` when there are none)."""
    return max((f.level for f in findings), key=lambda level: level.rank, default=Level.OK)
