"""The main text of an article page, by trafilatura.

:func:`main_text` runs in the build's worker processes (``ctx.run_cpu``): it takes bytes
and returns a plain string, both cheap to send between processes. trafilatura is imported
on the first call, in the process that extracts, so commands that never extract (every
``newsroom`` command loads the plugins) do not pay its import (about 0.12 s and 8 MB).
"""

from __future__ import annotations

import re

#: Bumped when what :func:`main_text` returns changes, so cached results are not reused.
VERSION = "2"

#: Paragraphs that are a site's notice, not the article's text.
_NOTICE = re.compile(r"©|\(c\) \d{4}|all rights reserved|무단\s*전재|재배포\s*금지", re.I)
_LIST = re.compile(r"^(?:[-*+]|\d{1,3}[.)])\s")


def prose(markdown: str) -> list[str]:
    """The prose paragraphs of trafilatura's Markdown: headings (a page's title among them),
    code, lists, tables and copyright notices left out, each paragraph on one line."""
    paragraphs: list[str] = []
    fenced = False
    for block in re.split(r"\n\s*\n", markdown):
        lines = [line for line in block.splitlines() if line.strip()]
        kept = []
        for line in lines:
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            stripped = line.strip()
            if fenced or stripped.startswith(("#", "|", ">")) or _LIST.match(stripped):
                continue
            kept.append(stripped)
        paragraph = " ".join(" ".join(kept).split())
        if paragraph and not _NOTICE.search(paragraph):
            paragraphs.append(paragraph)
    return paragraphs


def main_text(page: bytes, url: str, max_chars: int) -> str:
    """The article's prose in ``page``: paragraphs separated by blank lines, at most
    ``max_chars`` characters (cut at a paragraph end where one is near); ``""`` when the
    page has no main text (a log-in wall, an app shell, an image)."""
    import trafilatura

    text = trafilatura.extract(
        page,
        url=url,
        output_format="markdown",
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        favor_precision=True,
    )
    if not text:
        return ""
    kept: list[str] = []
    size = 0
    for paragraph in prose(text):
        if size + len(paragraph) > max_chars:
            if not kept:  # one very long paragraph: cut it at a space
                cut = paragraph[:max_chars].rsplit(" ", 1)[0]
                kept.append(cut + "…")
            break
        kept.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(kept)
