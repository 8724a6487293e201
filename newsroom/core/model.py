"""The data that flows through the pipeline: :class:`Item`, :class:`Section`, :class:`Edition`.

Plain typed data, no behaviour beyond (de)serialisation. An :class:`Edition` round-trips
through ``edition.json`` without loss; ``newsroom build`` writes it and every later step
(render, preview, send) reads it.

HTML fields (``Item.summary``, ``Section.intro``, ``Edition.intro``, ``Edition.insight``) hold
untrusted HTML until the edition is assembled; :func:`newsroom.core.sanitize.sanitize_edition`
cleans them then, and :func:`newsroom.core.sanitize.load_edition` again whenever an edition is
read from disk.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from newsroom.core.urls import url_id

#: The kinds of item first-party plugins produce. Plugins may use others.
KINDS = ("paper", "model", "repository", "product", "article", "discussion")

JSON = dict[str, Any]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=False)


class ItemSource(_Model):
    """One source's view of a story that several sources reported (see ``Item.sources``)."""

    source: str
    """Name of the configured source."""
    url: str
    """The link this source gave (a paper's abstract page, a repository, a thread)."""
    kind: str = "article"
    """What that link is: paper, repository, model, product, article, discussion, ..."""
    publisher: str | None = None
    """How the source line names it: "arXiv", "HF Daily Papers", "GitHub"."""
    title: str = ""
    """The title this source gave (plain text)."""
    metrics: dict[str, float] = Field(default_factory=dict)
    """The counts this source reported: stars, upvotes, points, comments ..."""
    links: dict[str, str] = Field(default_factory=dict)
    """Further links this source gave, by label (pdf, code, discussion ...)."""
    extra: JSON = Field(default_factory=dict)
    """What the source's item kept in its ``extra`` (a trending repository's ``since``, the
    period its ``stars_period`` counts), JSON-serialisable."""


class Item(_Model):
    """One thing worth reading: a paper, a repository, a product, an article, a thread."""

    url: str
    """Link to the item (absolute http(s))."""
    title: str
    """Plain text title."""
    id: str = ""
    """Stable id; derived from the canonical URL when not given."""
    summary: str = ""
    """Short summary as HTML (sanitized when the edition is assembled)."""
    kind: str = "article"
    """paper, model, repository, product, article, discussion, or a plugin's own kind."""
    source: str = ""
    """Name of the configured source that fetched it (set by the pipeline)."""
    publisher: str | None = None
    """Who published it, for the item's source line: "arXiv", "TechCrunch", "r/LocalLLaMA"."""
    published: dt.datetime | None = None
    """When it was published (timezone-aware), if known."""
    authors: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    """Counts from the source: stars, stars_period, votes, points, comments ..."""
    image: str | None = None
    score: float | None = None
    """Set by ranking filters; sections may order by it."""
    links: dict[str, str] = Field(default_factory=dict)
    """Further links by label: {"pdf": ..., "code": ..., "discussion": ...}."""
    sources: list[ItemSource] = Field(default_factory=list)
    """When several sources reported this story and it was merged into one item (the
    ``dedupe`` filter): every one of them, the item's own first. Empty for an item only one
    source reported."""
    original_title: str | None = None
    """The title as the source wrote it, when ``title`` is a rewording readers see instead
    (a translation into the newsletter's language, say)."""
    section: str | None = None
    """The id of the section a filter assigned the item to (e.g. a model asked which
    section fits); section layouts place it there when that section exists."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Further text about the item, by the name the config declares (HTML; e.g. a model's
    "요약" and "시사점"), shown by themes in that order under the summary."""
    extra: JSON = Field(default_factory=dict)
    """Anything else a plugin wants to keep (JSON-serialisable)."""

    @property
    def link_kind(self) -> str:
        """What the item's own link is: the key it is also listed under in ``links`` (a
        Hugging Face paper links its page, ``"huggingface"``); else ``"article"`` for a
        discussion whose thread is elsewhere in ``links`` (a Hacker News story links the
        article it discusses); else the item's ``kind``."""
        for key, url in self.links.items():
            if url == self.url:
                return key
        if self.kind == "discussion" and self.links.get("discussion"):
            return "article"
        return self.kind

    @model_validator(mode="after")
    def _default_id(self) -> Item:
        if not self.id:
            self.id = url_id(self.url)
        return self

    @field_validator("published")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        # Naive datetimes from sloppy feeds are taken as UTC so comparisons never fail.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Section(_Model):
    """A titled group of items in an edition ("📄 Papers")."""

    id: str
    title: str
    items: list[Item] = Field(default_factory=list)
    intro: str = ""
    """Optional HTML shown above the items."""
    layout: str = "list"
    """Name of the theme partial the section asks for (themes may ignore it)."""


class BuildWarning(_Model):
    """Something went wrong but the edition was still built."""

    source: str
    message: str
    url: str | None = None


class SourceReport(_Model):
    """How one source did in this build."""

    name: str
    plugin: str
    items: int = 0
    seconds: float = 0.0
    ok: bool = True


class Newsletter(_Model):
    """The parts of the newsletter's configuration an edition needs to render on its own."""

    title: str
    language: str = "en"
    timezone: str = "UTC"
    base_url: str = ""
    description: str = ""
    author: str = ""


#: Edition ids become folder names and URL segments: no slashes, no leading dot.
EDITION_ID = re.compile(r"[\w][\w.-]{0,79}")


class Edition(_Model):
    """One issue of the newsletter."""

    id: str
    """Unique per newsletter: ``2026-02-14``, or ``2026-02-14-evening`` for a second
    edition that day."""
    date: dt.date
    title: str
    newsletter: Newsletter
    generated_at: dt.datetime
    subject: str = ""
    """The email's subject line; empty: themes derive one (see the renderers)."""
    intro: str = ""
    sections: list[Section] = Field(default_factory=list)
    insight: str = ""
    """The editor's insight (HTML)."""
    categories: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    warnings: list[BuildWarning] = Field(default_factory=list)
    sources: list[SourceReport] = Field(default_factory=list)
    extra: JSON = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not EDITION_ID.fullmatch(value) or ".." in value:
            raise ValueError(
                f"edition id {value!r} must be letters, digits, '.', '-' or '_' (no slashes)"
            )
        return value

    @property
    def language(self) -> str:
        return self.newsletter.language

    @property
    def items(self) -> list[Item]:
        """Every item in the edition, in section order."""
        return [item for section in self.sections for item in section.items]

    def to_json(self) -> str:
        """Serialise to the ``edition.json`` format (UTF-8, Korean kept readable)."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Edition:
        """Parse ``edition.json`` text (not yet sanitized: use :func:`load_edition`)."""
        return cls.model_validate_json(text)

    def save(self, path: Path) -> None:
        """Write ``edition.json`` atomically."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)
