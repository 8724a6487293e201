"""The prompts the ``llm`` filter sends, and what can be filled into them.

Every prompt can be replaced in ``newsroom.toml`` (``summary_prompt``, ``intro_prompt``,
``insight_prompt``, ``system``); the placeholders in braces are filled in for each call. A
placeholder a prompt does not know is refused when the configuration is read.
"""

from __future__ import annotations

import json

from babel import Locale, UnknownLocaleError

SYSTEM = (
    "You are the editor of {newsletter}, a newsletter. You write in {language}, clearly and "
    "without hype, and only about what the material you are given says. You never invent "
    "facts, numbers, names or links."
)

SUMMARY = """Summarize this item for the newsletter in {language}, in at most {sentences} \
sentences. Say what it is and why it matters. Keep names of products, models and people as \
they are written. Answer with the summary only: no title, no preamble, no links.

Title: {title}
Source: {publisher}
Link: {url}
Text:
{text}
"""

INTRO = """Write the introduction of today's edition of {newsletter} ({date}) in {language}: \
two or three sentences that name the most important stories below. Answer with the \
introduction only, without a greeting line or a title.

The edition's {count} items:
{items}
"""

INSIGHT = """Write the editor's insight for today's edition of {newsletter} ({date}) in \
{language}, about the items below and nothing else.

{format}

The edition's {count} items:
{items}
"""

TITLE = """Write the title of this item for the newsletter in {language}: one line of at most \
80 characters that says what it is. Keep names of products, models, companies and people as \
they are written. Answer with the title only: no quotes, no source, no links.

Title: {title}
Source: {publisher}
Link: {url}
Summary:
{summary}
"""

SECTION = """Which section of {newsletter} should this item go in? Answer with the id of one \
section below and nothing else, or with none when no section fits.

Sections (id: title):
{sections}

Title: {title}
Source: {publisher}
Link: {url}
Text:
{text}
"""

STORIES = """Which of these items report the same story? The items were collected for \
{newsletter} from different sources, some in other languages than others; two items are the \
same story when they report the same event, release, paper or project (an article and a \
discussion of it, a paper and its code, one launch covered by two sites), not when they only \
share a topic.

Answer with one JSON object and nothing else: {{"stories": [[1, 4], [2, 7, 9]]}}, each list \
the numbers of items that are one story, each number in one list at most. Items alone in their \
story are left out; {{"stories": []}} when every item is its own story.

Items ({count}):
{items}
"""

#: What an insight answer looks like; shown to the model as JSON (see INSIGHT_FORMAT).
INSIGHT_EXAMPLE: dict[str, object] = {
    "trends": [{"title": "a few words", "text": "two or three sentences", "items": [1, 4]}],
    "recommendations": [{"action": "now", "text": "one sentence", "items": [2]}],
    "outlook": {"text": "two or three sentences on what to watch next", "items": [3]},
}

#: The answer format of the insight, filled into ``{format}``. The example is written by
#: ``json.dumps`` so the model sees valid JSON of the shape the parser takes (a format
#: string's ``{{ }}`` escapes would reach the model as they are, since this text is a
#: value filled in, not a template). Models told the JSON Schema too get the same text.
INSIGHT_FORMAT = (
    "Answer with one JSON object and nothing else, in this shape:\n{\n"
    # One top-level key a line, each value compact: valid JSON that reads like the schema.
    + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in INSIGHT_EXAMPLE.items())
    + """
}
- "items" are the numbers of the items each entry is about; every entry names at least one.
- Two or three trends; up to five recommendations, "action" being "now" (try it now),
  "watch" (keep an eye on it) or "skip" (safe to ignore).
- Speak only of the items listed; no links, no other news."""
)

PLACEHOLDERS = {
    "system": {"newsletter", "language", "date"},
    "summary": {
        "newsletter",
        "language",
        "date",
        "sentences",
        "title",
        "url",
        "publisher",
        "source",
        "text",
    },
    "title": {"newsletter", "language", "date", "title", "url", "publisher", "source", "summary"},
    "section": {
        "newsletter",
        "language",
        "date",
        "sections",
        "title",
        "url",
        "publisher",
        "source",
        "text",
    },
    "field": {
        "newsletter",
        "language",
        "date",
        "sentences",
        "name",
        "title",
        "original_title",
        "url",
        "publisher",
        "source",
        "text",
        "summary",
    },
    "stories": {"newsletter", "language", "date", "count", "items"},
    "intro": {"newsletter", "language", "date", "count", "items"},
    "insight": {"newsletter", "language", "date", "count", "items", "format"},
}


def check(kind: str, template: str) -> str:
    """``template`` when every ``{placeholder}`` in it is known for ``kind``; else a
    ``ValueError`` that lists the known ones."""
    import string

    known = PLACEHOLDERS[kind]
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{exc} (write {{{{ and }}}} for literal braces)") from None
    unknown = sorted(f for f in fields if f not in known)
    if unknown:
        raise ValueError(
            f"unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; "
            f"known: {', '.join('{' + k + '}' for k in sorted(known))}"
        )
    return template


def language_name(code: str) -> str:
    """``"ko"`` → ``"Korean (한국어)"``: the language named in English and in itself, which
    models follow more reliably than a code."""
    try:
        locale = Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return code
    english = locale.get_display_name("en") or code
    native = locale.get_display_name(locale) or ""
    return f"{english} ({native})" if native and native != english else english
