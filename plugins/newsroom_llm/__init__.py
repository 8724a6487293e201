"""newsroom plugin: llm — summaries, the intro and the editor's insight written by a language
model, through the ``llm`` library (``pip install 'newsroom-digest[llm]'``).

::

    [[filters]]
    plugin = "llm"
    model = "gpt-4o-mini"     # any model `llm models` lists; unset: llm's default model
    max_calls = 40            # model calls per edition at most; the cache is free

The model is whatever the user configured in ``llm`` (``llm keys set ...``, ``llm install
llm-ollama`` for local models ...). It writes in the newsletter's language. Every usable answer
is cached in the state file, so a rebuild asks nothing; when the model fails, is slow, gives
junk or the budget is spent, items get ``extractive`` summaries and the build says so.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from babel.dates import format_date
from newsroom_summaries import summarize
from pydantic import Field, SecretStr, field_validator, model_validator

from newsroom import Edition, Filter, FilterContext, Item, Options, hookimpl, secret_value
from newsroom.core.language import in_language
from newsroom.core.model import Newsletter
from newsroom.core.sanitize import clean_text
from newsroom.curate.notes import markdown_html

from . import prompts
from .calls import Budget, Cache, ModelFailed, ask, resolve_model
from .insight import SCHEMA, Insight, Unusable, parse_answer, render

if TYPE_CHECKING:
    from newsroom.core.registry import Register

#: Characters of an item's own text shown to the model.
MAX_TEXT = 4000
#: A title longer than this is not a title.
MAX_TITLE = 160
_TITLE_LABEL = re.compile(r"^(?:title|제목)\s*[:：]\s*", re.I)

T = TypeVar("T")


_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』"}


def _unquoted(title: str) -> str:
    """``title`` without quotes around the whole of it; a quote that opens or closes only
    a part ("'관찰 메모리'로 비용 10배 절감") stays."""
    while len(title) > 1 and _QUOTES.get(title[0]) == title[-1]:
        inner = title[1:-1]
        if title[0] in inner or title[-1] in inner:  # "'A' and 'B'": two quoted parts
            break
        title = inner.strip()
    return title


#: The most reports of one story the model may group: a larger group is more likely an
#: answer steered by an item's text (a title telling the model to merge everything) than
#: one story, and is left out.
MAX_STORY_REPORTS = 6


def story_groups(answer: str, count: int) -> list[list[int]]:
    """The groups of item numbers (1 to ``count``) in a stories answer: each of two to
    :data:`MAX_STORY_REPORTS` items, an item in the first group that names it only.
    :class:`Unusable` for an answer that is not that JSON."""
    text = answer.strip()
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start : end + 1]) if 0 <= start < end else None
    except ValueError:
        data = None
    groups = data.get("stories") if isinstance(data, dict) else None
    if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
        raise Unusable('not {"stories": [[numbers], ...]}')
    seen: set[int] = set()
    found: list[list[int]] = []
    for group in groups:
        numbers = []
        for n in group:
            if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= count:
                if n not in seen:
                    seen.add(n)
                    numbers.append(n)
            else:
                raise Unusable(f"{str(n)[:20]!r} is not an item number from 1 to {count}")
        if 1 < len(numbers) <= MAX_STORY_REPORTS:
            found.append(numbers)
    return found


class FieldPrompt(Options):
    """A further text the model writes about each item (``[[filters.fields]]``)."""

    name: str = Field(min_length=1, max_length=40)
    """The field's name, as themes show it: "요약", "시사점"."""
    prompt: str
    """What the model is asked for each item. Placeholders: {newsletter}, {language},
    {date}, {sentences}, {name}, {title}, {original_title}, {url}, {publisher}, {source},
    {text} (the item's own text), {summary} (its summary as written)."""

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if any(c in value for c in "<>&\"'\r\n"):
            raise ValueError("a field's name is plain text: no markup, quotes or line breaks")
        return value.strip()

    @field_validator("prompt")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        return prompts.check("field", value)


class LlmSummarizer(Filter):
    """Per-item summaries, the intro and the insight from a model, with a fallback."""

    name = "llm"
    description = (
        "Summaries, the intro and the editor's insight written by a language model (the llm "
        "library), cached, capped, with extractive summaries when the model fails."
    )
    summarizer: ClassVar[bool] = True

    class Options(Options):
        model: str | None = None
        """A model id or alias as ``llm models`` lists it; unset: llm's default model."""
        key: SecretStr | None = None
        """The model's API key when ``llm`` does not have it: ``key = { "$env" =
        "OPENAI_API_KEY" }``."""
        summaries: bool = True
        """Have the model write every item's summary; false: items get extractive ones."""
        intro: bool = True
        """Write the edition's intro (unless the editor's notes have one)."""
        insight: bool = True
        """Write the editor's insight (unless the editor's notes have one)."""
        sentences: int = Field(2, ge=1, le=10)
        """How long a summary is: the prompt asks for this many sentences, and the
        extractive fallback keeps as many."""
        max_chars: int = Field(280, ge=20, le=10_000)
        """The fallback's length limit; an answer four times as long is taken as junk."""
        max_calls: int = Field(50, ge=0, le=10_000)
        """Model calls per edition at most (answers from the cache cost none). The intro
        and the insight are kept a call each when they are to be written (not when the
        editor's notes have them); items past the limit get extractive summaries."""
        timeout: float = Field(60.0, gt=0)
        """Seconds one answer may take; a later one counts as a failure."""
        stop_after_failures: int = Field(3, ge=1)
        """After this many failures in a row the model is not asked again in this build."""
        concurrency: int = Field(4, ge=1, le=32)
        """Calls in flight at once."""
        options: dict[str, Any] = Field(default_factory=dict)
        """Options for the model, as ``llm -o`` takes them: ``{ temperature = 0.2 }``."""
        system: str = prompts.SYSTEM
        """The system prompt. Placeholders: {newsletter}, {language}, {date}."""
        summary_prompt: str = prompts.SUMMARY
        """Placeholders: {newsletter}, {language}, {date}, {sentences}, {title}, {url},
        {publisher}, {source}, {text}."""
        intro_prompt: str = prompts.INTRO
        """Placeholders: {newsletter}, {language}, {date}, {count}, {items}."""
        insight_prompt: str = prompts.INSIGHT
        """Placeholders: {newsletter}, {language}, {date}, {count}, {items}, and {format},
        the JSON answer the insight is built from (keep it)."""
        cache_days: int = Field(90, ge=0)
        """Cached answers unused for this many days are forgotten; 0: kept for ever."""
        titles: bool = True
        """Have the model write a title in the newsletter's language for each item whose
        title is in another language; the source's title is kept as ``original_title``."""
        title_prompt: str = prompts.TITLE
        """Placeholders: {newsletter}, {language}, {date}, {title}, {url}, {publisher},
        {source}, {summary} (the item's summary as written)."""
        fields: list[FieldPrompt] = Field(default_factory=list)
        """Further texts the model writes about every item, each with its own prompt, kept
        in ``Item.fields`` under its name and shown by themes under the summary:
        ``[[filters.fields]]`` tables with ``name`` and ``prompt``."""
        assign_sections: bool = False
        """Ask the model which configured section each item belongs in (once per item, the
        answer cached): its answer sets ``Item.section``, which section layouts honour. An
        item it gives no usable answer for is placed by the sections' rules."""
        section_prompt: str = prompts.SECTION
        """Placeholders: {newsletter}, {language}, {date}, {sections} (one "id: title" a
        line), {title}, {url}, {publisher}, {source}, {text}."""
        stories: bool = False
        """Ask the model, once per build, which items report the same story (in any
        language: an English thread and a Korean article about one launch). Items it groups
        get one ``extra["story"]`` key, which a ``dedupe`` after this filter joins like any
        other cross-reference (docs/stories.md)."""
        stories_prompt: str = prompts.STORIES
        """Placeholders: {newsletter}, {language}, {date}, {count}, {items} (one "[n] title
        (source) <link>" a line)."""
        max_story_items: int = Field(200, ge=2, le=1000)
        """The items shown in the stories question at most (the first ones, in the
        filters' order: a ``rank`` before this filter puts the likeliest first)."""
        max_section_calls: int = Field(150, ge=0, le=10_000)
        """Model calls for the sections per build at most (they are asked about every item
        the filters kept, before the sections are filled; the cache is free)."""

        @field_validator(
            "system",
            "summary_prompt",
            "intro_prompt",
            "insight_prompt",
            "title_prompt",
            "section_prompt",
            "stories_prompt",
        )
        @classmethod
        def _known_placeholders(cls, value: str, info: Any) -> str:
            kind = {"system": "system"}.get(info.field_name, info.field_name.split("_")[0])
            return prompts.check(kind, value)

        @field_validator("fields")
        @classmethod
        def _unique_names(cls, value: list[FieldPrompt]) -> list[FieldPrompt]:
            names = [f.name for f in value]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"field names must differ: {', '.join(twice)} twice")
            return value

        @model_validator(mode="after")
        def _llm_installed(self) -> Self:
            if importlib.util.find_spec("llm") is None:
                raise ValueError(
                    "the llm package is not installed: pip install 'newsroom-digest[llm]' (and a "
                    "model plugin or key, see https://llm.datasette.io)"
                )
            return self

    options: Options

    async def apply(self, items: list[Item], ctx: FilterContext) -> None:
        """With ``assign_sections``, ask which section each item belongs in. Everything
        else the model writes is about the items that made it into the edition: see edit()."""
        wants_sections = self.options.assign_sections and bool(ctx.section_titles)
        if not (wants_sections or self.options.stories) or not items:
            return
        edition = Edition(
            id=ctx.edition_id or ctx.today.isoformat(),
            date=ctx.today,
            title=ctx.newsletter_title,
            newsletter=Newsletter(title=ctx.newsletter_title, language=ctx.language),
            generated_at=ctx.now,
        )
        run = _Run(self.options, edition, ctx, calls=self.options.max_section_calls)
        if self.options.stories and len(items) > 1:
            await run.group_stories(items)
        if wants_sections:
            await run.assign_sections(items)  # reports and settles the cache itself
        else:
            run.report()
            run.cache.finish(self.options.cache_days)

    async def edit(self, edition: Edition, ctx: FilterContext) -> None:
        """Write the summaries, titles and fields, then the intro and the insight, of
        ``edition``."""
        run = _Run(self.options, edition, ctx)
        await run.all()


class _Run:
    """One edition's worth of calls: the model, the budget, the cache, and what went wrong."""

    def __init__(
        self,
        options: LlmSummarizer.Options,
        edition: Edition,
        ctx: FilterContext,
        *,
        calls: int | None = None,
    ):
        self.o = options
        self.edition = edition
        self.ctx = ctx
        self.budget = Budget(
            options.max_calls if calls is None else calls, options.stop_after_failures
        )
        self.cache = Cache(ctx.state)
        self.failures: Counter[str] = Counter()
        self.fallbacks = 0
        self.code = edition.newsletter.language
        self.language = prompts.language_name(edition.newsletter.language)
        self.date = format_date(
            edition.date, format="long", locale=edition.newsletter.language.replace("-", "_")
        )
        self.common = {
            "newsletter": edition.newsletter.title,
            "language": self.language,
            "date": self.date,
        }
        self.not_in_language = f"an answer not in {self.language}"
        self.texts: dict[str, str] = {}
        """Each item's own text, as the summary prompt showed it (the fields get it too)."""
        self.system = options.system.format(**self.common)
        self.model: Any = None
        self.model_id = options.model or "the default model"
        # What the model is to write besides the summaries: not what the notes already have.
        has_items = bool(edition.items)
        self.writes_intro = options.intro and not edition.intro and has_items
        self.writes_insight = options.insight and not edition.insight and has_items

    def warn(self, message: str) -> None:
        self.ctx.warn(f"llm: {message}")

    async def resolve(self) -> str | None:
        """Find the model; the reason it cannot be used, or ``None``."""
        try:
            self.model = await asyncio.to_thread(
                resolve_model, self.o.model, secret_value(self.o.key)
            )
            self.model_id = str(getattr(self.model, "model_id", self.model_id))
        except Exception as exc:  # noqa: BLE001 - UnknownModelError, a broken model plugin
            return (
                f"cannot use model {self.model_id!r} ({type(exc).__name__}: {exc}); check "
                "`llm models` and the model's plugin"
            )
        return None

    async def all(self) -> None:
        problem = await self.resolve()
        if problem is not None:
            self.warn(
                f"{problem}. Summaries are extractive; no title, intro or insight was written"
            )
            for item in self.todo():
                self.fallback(item)
            return
        if self.o.summaries:
            await self.summaries()
        else:  # the build's default summarizer stays out when this one is configured
            for item in self.todo():
                self.fallback(item, failed=False)
        reserve = int(self.writes_intro) + int(self.writes_insight)
        if self.o.titles:
            await self.titles(reserve)
        if self.o.fields:
            await self.fields(reserve)
        items = self.edition.items
        if self.writes_intro:
            await self.intro(items)
        if self.writes_insight:
            await self.insight(items)
        self.report()
        self.cache.finish(self.o.cache_days)

    # -- calls --------------------------------------------------------------------------------

    async def answer(
        self,
        kind: str,
        prompt: str,
        check: Callable[[str], T],
        item_id: str = "",
        *,
        reserve: int = 0,
        schema: dict[str, Any] | None = None,
    ) -> T:
        """The answer to ``prompt`` as ``check`` makes it, from the cache or claiming a call
        (leaving ``reserve`` calls for later kinds); :class:`ModelFailed` when there is none.

        ``check`` raises :class:`ModelFailed` or :class:`Unusable` for an answer that cannot
        be used. Only answers it accepts are cached: a rejected one would otherwise be served
        to every rebuild, the model never asked again. A cached answer it rejects (kept by an
        older version, or checked against other options then) is forgotten and asked again.
        """
        key = Cache.key(self.model_id, self.system, prompt, self.o.options)
        cached = self.cache.get(key)
        if cached is not None:
            try:
                result = check(cached)
            except (ModelFailed, Unusable):
                self.cache.forget(key)
            else:
                self.cache.used(key)
                return result
        self.budget.take(reserve)
        try:
            text = await ask(
                self.model,
                prompt,
                system=self.system,
                options=self.o.options,
                timeout=self.o.timeout,
                schema=schema,
            )
        except ModelFailed:
            self.budget.failed()
            raise
        if not text.strip():
            self.budget.failed()
            raise ModelFailed("an empty answer")
        self.budget.succeeded()
        result = check(text)
        self.cache.put(key, self.model_id, kind, item_id, text)
        return result

    # -- summaries ------------------------------------------------------------------------------

    def todo(self) -> list[Item]:
        """The items to summarize: those with text that no one summarized yet."""
        return [i for i in self.edition.items if not i.extra.get("summary_by") and i.summary]

    async def summaries(self) -> None:
        limit = asyncio.Semaphore(self.o.concurrency)
        reserve = int(self.writes_intro) + int(self.writes_insight)

        async def one(item: Item) -> None:
            prompt = self.o.summary_prompt.format(
                **self.common,
                sentences=self.o.sentences,
                title=item.title,
                url=item.url,
                publisher=item.publisher or item.source,
                source=item.source,
                text=self.texts.setdefault(item.id, clean_text(item.summary)[:MAX_TEXT]),
            )
            async with limit:
                try:
                    summary = await self.answer(
                        "summary", prompt, self.check_summary, item.id, reserve=reserve
                    )
                except ModelFailed as exc:
                    self.failures[exc.reason] += 1
                    self.fallback(item)
                    return
            item.summary = summary
            item.extra = {**item.extra, "summary_by": f"llm:{self.model_id}"}

        # Calls are claimed in item order: the budget goes to the edition's first items.
        await asyncio.gather(*(one(item) for item in self.todo()))

    def in_language(self, text: str) -> bool:
        """False only for text that has words and is not in the newsletter's language."""
        return in_language(clean_text(text), self.code) is not False

    def check_summary(self, answer: str) -> str:
        text = answer.strip()
        if len(clean_text(text)) > 4 * self.o.max_chars:
            raise ModelFailed(f"an answer of {len(text)} characters (junk, or not a summary)")
        if not self.in_language(text):
            raise ModelFailed(self.not_in_language)
        summary = markdown_html(text)
        # One paragraph reads better in an item than <p> blocks: unwrap a single one.
        if summary.count("<p>") == 1 and summary.startswith("<p>") and summary.endswith("</p>"):
            summary = summary[3:-4]
        return summary

    # -- titles and fields ----------------------------------------------------------------------

    def item_values(self, item: Item) -> dict[str, Any]:
        return {
            **self.common,
            "title": item.original_title or item.title,
            "url": item.url,
            "publisher": item.publisher or item.source,
            "source": item.source,
        }

    async def titles(self, reserve: int) -> None:
        """A title in the newsletter's language for each item whose title is in another."""
        limit = asyncio.Semaphore(self.o.concurrency)
        failures: Counter[str] = Counter()

        async def one(item: Item) -> None:
            prompt = self.o.title_prompt.format(
                **self.item_values(item), summary=clean_text(item.summary)[:MAX_TEXT]
            )
            async with limit:
                try:
                    title = await self.answer(
                        "title", prompt, self.check_title, item.id, reserve=reserve
                    )
                except ModelFailed as exc:
                    failures[exc.reason] += 1
                    return
            if title != item.title:
                item.original_title = item.original_title or item.title
                item.title = title

        todo = [
            i
            for i in self.edition.items
            if not i.original_title and in_language(i.title, self.code) is False
        ]
        await asyncio.gather(*(one(item) for item in todo))
        if failures:
            reasons = "; ".join(f"{reason} ({n})" for reason, n in failures.most_common(3))
            self.warn(
                f"model {self.model_id!r}: {sum(failures.values())} title(s) kept as the "
                f"source wrote them: {reasons}"
            )

    def check_title(self, answer: str) -> str:
        # The first line, without the quotes or "Title:" models like to add.
        lines = [line for line in answer.strip().splitlines() if line.strip()]
        title = clean_text(lines[0] if lines else "")
        title = _unquoted(_TITLE_LABEL.sub("", title).strip().strip("*#").strip())
        if not title:
            raise ModelFailed("an empty answer")
        if len(title) > MAX_TITLE:
            raise ModelFailed(f"a title of {len(title)} characters")
        if in_language(title, self.code) is False:
            raise ModelFailed(self.not_in_language)
        return title

    async def fields(self, reserve: int) -> None:
        """Every declared field of every item, in the config's order."""
        limit = asyncio.Semaphore(self.o.concurrency)
        failures: Counter[str] = Counter()

        async def one(item: Item, spec: FieldPrompt) -> None:
            prompt = spec.prompt.format(
                **self.item_values(item),
                original_title=item.original_title or item.title,
                sentences=self.o.sentences,
                name=spec.name,
                text=self.texts.get(item.id) or clean_text(item.summary)[:MAX_TEXT],
                summary=clean_text(item.summary)[:MAX_TEXT],
            )
            async with limit:
                try:
                    text = await self.answer(
                        f"field:{spec.name}",
                        prompt,
                        self.check_summary,
                        item.id,
                        reserve=reserve,
                    )
                except ModelFailed as exc:
                    failures[f"{spec.name}: {exc.reason}"] += 1
                    return
            item.fields = {**item.fields, spec.name: text}

        items = [i for i in self.edition.items if i.summary or i.title]
        await asyncio.gather(*(one(item, spec) for item in items for spec in self.o.fields))
        for item in items:  # the config's order, whatever order the answers came in
            item.fields = {
                s.name: item.fields[s.name] for s in self.o.fields if s.name in item.fields
            } | {k: v for k, v in item.fields.items() if k not in {s.name for s in self.o.fields}}
        if failures:
            reasons = "; ".join(f"{reason} ({n})" for reason, n in failures.most_common(3))
            self.warn(
                f"model {self.model_id!r}: {sum(failures.values())} field(s) left empty: {reasons}"
            )

    # -- stories --------------------------------------------------------------------------------

    async def group_stories(self, items: list[Item]) -> None:
        """Give the items the model says report one story a shared ``extra["story"]``."""
        shown = items[: self.o.max_story_items]
        if self.model is None:
            problem = await self.resolve()
            if problem is not None:
                self.warn(f"{problem}. Stories are matched by their links and titles only")
                return
        lines = []
        for n, item in enumerate(shown, start=1):
            title = clean_text(item.original_title or item.title).replace("\n", " ")[:MAX_TITLE]
            publisher = clean_text(item.publisher or item.source)
            lines.append(f"[{n}] {title} ({publisher}) <{item.url}>")
        prompt = self.o.stories_prompt.format(
            **self.common, count=len(shown), items="\n".join(lines)
        )

        def check(answer: str) -> list[list[int]]:
            return story_groups(answer, len(shown))

        try:
            groups = await self.answer("stories", prompt, check)
        except (ModelFailed, Unusable) as exc:
            reason = exc.reason if isinstance(exc, ModelFailed) else str(exc)
            self.warn(
                f"model {self.model_id!r}: no answer on which items are one story ({reason}); "
                "stories are matched by their links and titles only"
            )
            return
        for group in groups:
            # The key names the group by its first item: the model's text never reaches it.
            key = "llm:" + shown[group[0] - 1].id
            for n in group:
                item = shown[n - 1]
                item.extra = {**item.extra, "story": key}

    # -- sections -------------------------------------------------------------------------------

    async def assign_sections(self, items: list[Item]) -> None:
        """Set ``Item.section`` from the model's answer, for every item it answers for."""
        problem = await self.resolve()
        if problem is not None:
            self.warn(f"{problem}. The sections' rules place every item")
            return
        sections = self.ctx.section_titles
        listing = "\n".join(f"{sid}: {clean_text(title)}" for sid, title in sections.items())
        limit = asyncio.Semaphore(self.o.concurrency)
        failures: Counter[str] = Counter()

        def check(answer: str) -> str:
            word = clean_text(answer).strip().strip("`'\"*.").strip()
            if word.lower() in ("none", "없음", ""):
                return ""
            if word in sections:
                return word
            for sid in sections:  # "papers." or "id: papers" or the section's title
                if word.lower() == sid.lower() or clean_text(sections[sid]) == word:
                    return sid
            raise Unusable(f"{word[:40]!r} is not a section id")

        async def one(item: Item) -> None:
            prompt = self.o.section_prompt.format(
                **self.item_values(item),
                sections=listing,
                text=clean_text(item.summary)[:MAX_TEXT],
            )
            async with limit:
                try:
                    section = await self.answer("section", prompt, check, item.id)
                except ModelFailed as exc:
                    failures[exc.reason] += 1
                    return
                except Unusable as exc:
                    failures[str(exc)] += 1
                    return
            item.section = section or None

        await asyncio.gather(*(one(item) for item in items))
        if failures:
            reasons = "; ".join(f"{reason} ({n})" for reason, n in failures.most_common(3))
            self.warn(
                f"model {self.model_id!r}: {sum(failures.values())} item(s) placed by the "
                f"sections' rules instead: {reasons}"
            )
        self.report()
        self.cache.finish(self.o.cache_days)

    def fallback(self, item: Item, *, failed: bool = True) -> None:
        """Give ``item`` an extractive summary instead of the model's."""
        self.fallbacks += int(failed)
        item.summary = summarize(
            item.summary, sentences=self.o.sentences, max_chars=self.o.max_chars
        )
        item.extra = {**item.extra, "summary_by": "extractive"}

    # -- intro and insight ------------------------------------------------------------------------

    def listing(self, items: list[Item]) -> str:
        """The edition's items, numbered as the insight refers to them."""
        sections = {id(i): s.title for s in self.edition.sections for i in s.items}
        lines = []
        for n, item in enumerate(items, start=1):
            summary = clean_text(item.summary)
            summary = summary if len(summary) <= 400 else summary[:399] + "…"
            lines.append(
                f"[{n}] ({clean_text(sections.get(id(item), ''))}) {item.title}: {summary}"
            )
        return "\n".join(lines)

    async def intro(self, items: list[Item]) -> None:
        prompt = self.o.intro_prompt.format(
            **self.common, count=len(items), items=self.listing(items)
        )
        try:
            intro = await self.answer(
                "intro", prompt, self.check_intro, reserve=int(self.writes_insight)
            )
        except ModelFailed as exc:
            self.warn(f"no intro: model {self.model_id!r}: {exc.reason}")
            return
        except Unusable as exc:
            self.warn(f"no intro: {exc}")
            return
        self.edition.intro = intro

    def check_intro(self, answer: str) -> str:
        if len(clean_text(answer)) > 8 * self.o.max_chars:
            raise Unusable(f"the answer of {len(answer)} characters is not an intro")
        if not self.in_language(answer):
            raise Unusable(f"the answer is not in {self.language}")
        return markdown_html(answer.strip())

    async def insight(self, items: list[Item]) -> None:
        prompt = self.o.insight_prompt.format(
            **self.common,
            count=len(items),
            items=self.listing(items),
            format=prompts.INSIGHT_FORMAT,
        )
        schema = SCHEMA if getattr(self.model, "supports_schema", False) else None
        language = self.edition.newsletter.language

        def check(answer: str) -> Insight:
            written = render(parse_answer(answer), items, language)
            if not self.in_language(_words_of(written.html)):
                raise Unusable(f"the answer is not in {self.language}")
            return written

        try:
            written = await self.answer("insight", prompt, check, schema=schema)
        except ModelFailed as exc:
            self.warn(f"no insight: model {self.model_id!r}: {exc.reason}")
            return
        except Unusable as exc:
            self.warn(f"no insight: the answer is not usable: {exc}")
            return
        if written.unknown_items:
            numbers = ", ".join(str(n) for n in written.unknown_items)
            self.warn(
                f"the insight named items that are not in this edition ({numbers}); "
                "they were left out"
            )
        if written.dropped_entries:
            self.warn(
                f"left out of the insight, naming no item of this edition: "
                f"{', '.join(written.dropped_entries)}"
            )
        self.edition.insight = written.html

    # -- the report -----------------------------------------------------------------------------

    def report(self) -> None:
        if self.failures:
            reasons = "; ".join(f"{reason} ({n})" for reason, n in self.failures.most_common(3))
            self.warn(
                f"model {self.model_id!r}: {self.fallbacks} summar"
                f"{'ies' if self.fallbacks != 1 else 'y'} are extractive instead: {reasons}"
            )
        self.ctx.log.info(
            "llm: %d call(s), %d answer(s) from the cache", self.budget.made, self.cache.hits
        )


def _words_of(insight_html: str) -> str:
    """The insight's own words: its text without the linked item titles."""
    return re.sub(r"<a [^>]*>.*?</a>", " ", insight_html)


@hookimpl
def register_filters(register: Register[Any]) -> None:
    register(LlmSummarizer)
