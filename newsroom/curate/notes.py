"""The editor's notes: one Markdown file per edition, beside the config.

``notes/<edition id>.md`` (``notes/2026-02-14.md``) is read by ``newsroom build`` when it
exists. Its ``##`` headings name its parts, in English or in Korean::

    ## 인트로            (intro)    the edition's introduction, in Markdown
    ## 인사이트          (insight)  the editor's insight, in Markdown
    ## 고정              (pin)      - URL [(section)]: shown first in its section
    ## 제외              (drop)     - URL: left out of the edition
    ## 추가              (add)      - [title](URL) (section), the summary on the lines below
    ## 순서              (order)    - section id, first to last

Before the first ``##`` heading, a ``subject: ...`` (or ``제목: ...``) line gives the email's
subject line; everything else there (a ``#`` title, the editor's own memos) and HTML
comments are not read. A problem (an unknown heading, a URL that is not in the edition, a
section that does not exist) is a warning naming the file and line; the rest of the notes
still apply.

Drops are applied before the sections take their items, so a dropped item's place goes to
the next one; pins, additions, the order, the intro and the insight after.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsroom.core.model import BuildWarning, Edition, Item, Section
from newsroom.core.urls import canonical_url, is_safe_url

NOTES_DIR = "notes"
WARNING_SOURCE = "notes"

#: Heading (folded: lower case, spaces and ":" removed) → part.
PARTS = {
    "intro": "intro",
    "introduction": "intro",
    "인트로": "intro",
    "서론": "intro",
    "들어가며": "intro",
    "insight": "insight",
    "인사이트": "insight",
    "편집자인사이트": "insight",
    "pin": "pin",
    "pins": "pin",
    "pinned": "pin",
    "고정": "pin",
    "drop": "drop",
    "drops": "drop",
    "dropped": "drop",
    "제외": "drop",
    "빼기": "drop",
    "add": "add",
    "added": "add",
    "추가": "add",
    "order": "order",
    "sectionorder": "order",
    "sections": "order",
    "순서": "order",
    "섹션순서": "order",
}
KNOWN = "intro/인트로, insight/인사이트, pin/고정, drop/제외, add/추가, order/순서"

_HEADING = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?(https?://[^)\s>]+)>?\s*\)")
_ANGLE = re.compile(r"<(https?://[^>\s]+)>")
_BARE = re.compile(r"https?://[^\s<>()\[\]]+")
_SUBJECT = re.compile(r"^\s*(?:subject|제목)\s*[:：]\s*(\S.*?)\s*$", re.I)
#: A subject line longer than this is a mistake (mail programs show 40 to 70 characters).
MAX_SUBJECT = 150
_SECTION = re.compile(r"^\s*(?:\(\s*`?([\w.-]+)`?\s*\)|(?:→|->|=>)\s*`?([\w.-]+)`?)")


@dataclass
class Entry:
    """One list item of a pin, drop or add part."""

    line: int
    url: str
    section: str | None = None
    title: str = ""
    summary: str = ""
    """The added item's summary, as Markdown."""


@dataclass
class EditorNotes:
    """The notes of one edition (empty when it has no notes file)."""

    path: Path | None = None
    label: str = ""
    """How messages name the file: ``notes/2026-02-14.md``."""
    intro: str = ""
    insight: str = ""
    """Both as HTML (rendered from the notes' Markdown; sanitized with the edition)."""
    subject: str = ""
    """The email's subject line (``subject: ...`` before the first ``##`` heading)."""
    pins: list[Entry] = field(default_factory=list)
    drops: list[Entry] = field(default_factory=list)
    adds: list[Entry] = field(default_factory=list)
    order: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[BuildWarning] = field(default_factory=list)

    # -- reading ----------------------------------------------------------------------------

    @classmethod
    def for_edition(
        cls, root: Path, edition_id: str, warnings: list[BuildWarning] | None = None
    ) -> EditorNotes:
        """The notes in ``root/notes/<edition_id>.md``; problems go to ``warnings``."""
        path = root / NOTES_DIR / f"{edition_id}.md"
        notes = cls(path=path, label=f"{NOTES_DIR}/{edition_id}.md")
        if warnings is not None:
            notes.warnings = warnings
        if not path.is_file():
            notes.path = None
            return notes
        try:
            text = path.read_text("utf-8-sig")
        except UnicodeDecodeError:
            notes.warn(None, "cannot be read: it is not UTF-8 text; the notes are not applied")
            return notes
        except OSError as exc:
            notes.warn(None, f"cannot be read: {exc.strerror}; the notes are not applied")
            return notes
        notes.parse(text)
        return notes

    @classmethod
    def from_text(cls, text: str, label: str = "notes.md") -> EditorNotes:
        """Notes parsed from ``text`` (for tests and tools)."""
        notes = cls(label=label)
        notes.parse(text)
        return notes

    def warn(self, line: int | None, message: str) -> None:
        where = f"{self.label}:{line}" if line else self.label
        self.warnings.append(BuildWarning(source=WARNING_SOURCE, message=f"{where}: {message}"))

    def parse(self, text: str) -> None:
        """Read the parts of ``text`` into this object."""
        # Comments are blanked out line for line, so line numbers stay true.
        text = _COMMENT.sub(lambda m: "\n" * m.group().count("\n"), text)
        parts: list[tuple[str, int, list[tuple[int, str]]]] = []
        current: list[tuple[int, str]] | None = None
        fenced = False
        for number, line in enumerate(text.splitlines(), start=1):
            if _FENCE.match(line):
                fenced = not fenced
            subject = _SUBJECT.match(line) if not parts and not fenced else None
            if subject:
                self._subject(number, subject.group(1))
                continue
            heading = None if fenced else _HEADING.match(line)
            if heading:
                name = heading.group(1)
                part = PARTS.get(re.sub(r"[\s:：_-]+", "", name).lower())
                if part is None:
                    self.warn(number, f"unknown heading '## {name}' (known: {KNOWN}); ignored")
                    current = None
                    continue
                if part in ("intro", "insight") and any(p == part for p, _, _ in parts):
                    self.warn(number, f"a second '## {name}': it is added to the first")
                current = []
                parts.append((part, number, current))
            elif current is not None:
                current.append((number, line))
        for part, number, lines in parts:
            if part in ("intro", "insight"):
                rendered = markdown_html("\n".join(line for _, line in lines))
                setattr(self, part, (getattr(self, part) + rendered).strip())
            else:
                self._parse_list(part, number, lines)

    def _subject(self, number: int, text: str) -> None:
        subject = " ".join(text.split())
        if len(subject) > MAX_SUBJECT:
            self.warn(
                number,
                f"subject: {len(subject)} characters is too long for a subject line (at most "
                f"{MAX_SUBJECT}); ignored",
            )
            return
        if self.subject:
            self.warn(number, "a second subject: it replaces the first")
        self.subject = subject

    def _parse_list(self, part: str, heading: int, lines: list[tuple[int, str]]) -> None:
        entries: list[tuple[int, str, list[str]]] = []
        for number, line in lines:
            item = _LIST_ITEM.match(line)
            if item:
                entries.append((number, item.group(1).strip(), []))
            elif not line.strip():
                continue
            elif entries and (line.startswith(("  ", "\t")) or part == "add"):
                entries[-1][2].append(line.strip())
            else:
                self.warn(number, f"expected a list item (- ...) under the {part} heading")
        for number, text, more in entries:
            if part == "order":
                section = text.strip("`* ").split()[0] if text.strip("`* ") else ""
                if section:
                    self.order.append((number, section))
                continue
            entry = self._entry(part, number, text, more)
            if entry is not None:
                {"pin": self.pins, "drop": self.drops, "add": self.adds}[part].append(entry)

    def _entry(self, part: str, number: int, text: str, more: list[str]) -> Entry | None:
        link = _LINK.search(text)
        angle = _ANGLE.search(text)
        bare = _BARE.search(text)
        if link:
            title, url, rest = link.group(1).strip(), link.group(2), text[link.end() :]
        elif angle:
            title, url, rest = "", angle.group(1), text[angle.end() :]
        elif bare:
            title, url = "", bare.group().rstrip(".,;:!?'\"")
            rest = text[bare.start() + len(url) :]
        else:
            self.warn(number, f"{part}: no http(s) link in '{text}'")
            return None
        if not is_safe_url(url):
            self.warn(number, f"{part}: {url!r} is not an http(s) URL")
            return None
        section_match = _SECTION.match(rest)
        section = (section_match.group(1) or section_match.group(2)) if section_match else None
        entry = Entry(line=number, url=url, section=section, title=title)
        if part == "add":
            entry.summary = "\n".join(more)
            if not title:
                self.warn(number, f"add: {url} needs a title: write - [title](URL) (section)")
                return None
            if not section:
                self.warn(number, f"add: {url} needs a section: write - [title](URL) (section)")
                return None
        return entry

    @property
    def empty(self) -> bool:
        return not (
            self.intro
            or self.insight
            or self.subject
            or self.pins
            or self.drops
            or self.adds
            or self.order
        )

    # -- applying ---------------------------------------------------------------------------

    def drop(self, items: list[Item]) -> list[Item]:
        """``items`` without the dropped ones (applied before the sections)."""
        if not self.drops:
            return items
        dropped = {canonical_url(e.url): e for e in self.drops}
        found: set[str] = set()
        kept = []
        for item in items:
            key = canonical_url(item.url)
            if key in dropped:
                found.add(key)
            else:
                kept.append(item)
        for key, entry in dropped.items():
            if key not in found:
                self.warn(
                    entry.line,
                    f"drop {entry.url}: no item of this edition has that link; nothing dropped",
                )
        return kept

    def apply(
        self,
        edition: Edition,
        candidates: list[Item],
        section_for: Callable[[Item], str | None],
        section_titles: dict[str, tuple[str, str]],
    ) -> None:
        """Pins, additions, section order, intro and insight, on the arranged ``edition``.

        ``candidates`` are the items the filters kept (a pinned item may be one no section
        had room for); ``section_for(item)`` names the first configured section that would
        take an item; ``section_titles`` maps every configured section id to its title and
        intro, for a section the edition left out as empty.
        """
        if self.empty:
            return
        tops = self._pin(edition, candidates, section_for, section_titles)
        self._add(edition, section_titles, tops)
        self._order(edition)
        if self.intro:
            edition.intro = self.intro
        if self.insight:
            edition.insight = self.insight
        if self.subject:
            edition.subject = self.subject

    def _section(
        self, edition: Edition, section_id: str, titles: dict[str, tuple[str, str]]
    ) -> Section | None:
        for section in edition.sections:
            if section.id == section_id:
                return section
        if section_id in titles:
            title, intro = titles[section_id]
            section = Section(id=section_id, title=title, intro=intro)
            edition.sections.append(section)
            # Keep the configured order for a section that comes back.
            order = list(titles)
            edition.sections.sort(key=lambda s: order.index(s.id) if s.id in order else len(order))
            return section
        return None

    def _unknown_section(
        self, entry_line: int, what: str, section_id: str, titles: dict[str, tuple[str, str]]
    ) -> None:
        self.warn(
            entry_line,
            f"{what}: there is no section {section_id!r} (sections: {', '.join(titles) or 'none'})",
        )

    def _pin(
        self,
        edition: Edition,
        candidates: list[Item],
        section_for: Callable[[Item], str | None],
        titles: dict[str, tuple[str, str]],
    ) -> dict[str, int]:
        """Move pinned items to the top of their sections; how many each section got."""
        placed_at = {
            canonical_url(item.url): section
            for section in edition.sections
            for item in section.items
        }
        pool = {canonical_url(i.url): i for i in candidates}
        tops: dict[str, int] = {}  # pins so far per section: the next one goes after them
        for entry in self.pins:
            key = canonical_url(entry.url)
            current = placed_at.get(key)
            if current is not None:
                item = next((i for i in current.items if canonical_url(i.url) == key), None)
            else:
                item = pool.get(key)
            if item is None:
                self.warn(
                    entry.line,
                    f"pin {entry.url}: no item of this edition has that link (no source "
                    "returned it, or a filter left it out); to add a link of your own, list "
                    "it under '## 추가' (add)",
                )
                continue
            target_id = entry.section or (current.id if current else section_for(item))
            if target_id is None:
                self.warn(
                    entry.line,
                    f"pin {entry.url}: no section takes this item; name one: - URL (section)",
                )
                continue
            target = self._section(edition, target_id, titles)
            if target is None:
                self._unknown_section(entry.line, f"pin {entry.url}", target_id, titles)
                continue
            if current is not None:
                current.items = [i for i in current.items if canonical_url(i.url) != key]
            position = tops.get(target.id, 0)
            item.extra = {**item.extra, "pinned": True}
            target.items.insert(position, item)
            tops[target.id] = position + 1
            placed_at[key] = target
        edition.sections = [s for s in edition.sections if s.items]
        return tops

    def _add(
        self, edition: Edition, titles: dict[str, tuple[str, str]], tops: dict[str, int]
    ) -> None:
        """Put the added links at the top of their sections, after the pinned items."""
        present = {canonical_url(i.url) for i in edition.items}
        for entry in self.adds:
            key = canonical_url(entry.url)
            if key in present:
                self.warn(
                    entry.line,
                    f"add {entry.url}: already in this edition; pin it to move it: '## 고정' (pin)",
                )
                continue
            assert entry.section is not None  # checked when parsed
            target = self._section(edition, entry.section, titles)
            if target is None:
                self._unknown_section(entry.line, f"add {entry.url}", entry.section, titles)
                continue
            item = Item(
                url=entry.url,
                title=entry.title,
                summary=markdown_html(entry.summary) if entry.summary else "",
                source="editor",
                publisher=urlsplit(entry.url).hostname,
                extra={"added_by": "editor", "summary_by": "editor"},
            )
            position = tops.get(target.id, 0)
            target.items.insert(position, item)
            tops[target.id] = position + 1
            present.add(key)

    def _order(self, edition: Edition) -> None:
        if not self.order:
            return
        by_id = {s.id: s for s in edition.sections}
        ordered: list[Section] = []
        for line, section_id in self.order:
            section = by_id.pop(section_id, None)
            if section is not None:
                ordered.append(section)
            elif not any(s.id == section_id for s in ordered):
                present = ", ".join(s.id for s in edition.sections)
                self.warn(
                    line,
                    f"order: this edition has no section {section_id!r} (it has: {present})",
                )
        edition.sections = ordered + [s for s in edition.sections if s.id in by_id]


def markdown_html(text: str) -> str:
    """Markdown as HTML for an edition: headings become bold paragraphs (the edition's
    HTML has no headings of its own; themes give it its titles)."""
    if not text.strip():
        return ""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    md.add_render_rule("softbreak", _soft_break)
    rendered = md.render(text)
    rendered = re.sub(r"<h[1-6]>", "<p><strong>", rendered)
    rendered = re.sub(r"</h[1-6]>", "</strong></p>", rendered)
    return rendered.strip()


def _soft_break(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """A line wrapped in the Markdown source is a space in the edition, as a browser shows it
    (a text part would keep the break); none between two Chinese or Japanese characters,
    which are written without spaces."""
    before = tokens[idx - 1].content[-1:] if idx > 0 else ""
    after = tokens[idx + 1].content[:1] if idx + 1 < len(tokens) else ""
    return "" if _unspaced(before) and _unspaced(after) else " "


def _unspaced(char: str) -> bool:
    return bool(char) and (
        "\u3040" <= char <= "\u30ff" or "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"
    )
