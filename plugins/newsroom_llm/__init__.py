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
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from babel.dates import format_date
from newsroom_summaries import summarize
from pydantic import Field, SecretStr, field_validator, model_validator

from newsroom import Edition, Filter, FilterContext, Item, Options, hookimpl, secret_value
from newsroom.core.sanitize import clean_text
from newsroom.curate.notes import markdown_html

from . import prompts
from .calls import Budget, Cache, ModelFailed, ask, resolve_model
from .insight import SCHEMA, Insight, Unusable, parse_answer, render

if TYPE_CHECKING:
    from newsroom.core.registry import Register

#: Characters of an item's own text shown to the model.
MAX_TEXT = 4000

T = TypeVar("T")


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

        @field_validator("system", "summary_prompt", "intro_prompt", "insight_prompt")
        @classmethod
        def _known_placeholders(cls, value: str, info: Any) -> str:
            kind = {"system": "system"}.get(info.field_name, info.field_name.split("_")[0])
            return prompts.check(kind, value)

        @model_validator(mode="after")
        def _llm_installed(self) -> Self:
            if importlib.util.find_spec("llm") is None:
                raise ValueError(
                    "the llm package is not installed: pip install 'newsroom-digest[llm]' (and a "
                    "model plugin or key, see https://llm.datasette.io)"
                )
            return self

    options: Options

    def apply(self, items: list[Item], ctx: FilterContext) -> None:
        # The model writes about the items that made it into the edition: see edit().
        return None

    async def edit(self, edition: Edition, ctx: FilterContext) -> None:
        """Write the summaries, then the intro and the insight, of ``edition``."""
        run = _Run(self.options, edition, ctx)
        await run.all()


class _Run:
    """One edition's worth of calls: the model, the budget, the cache, and what went wrong."""

    def __init__(self, options: LlmSummarizer.Options, edition: Edition, ctx: FilterContext):
        self.o = options
        self.edition = edition
        self.ctx = ctx
        self.budget = Budget(options.max_calls, options.stop_after_failures)
        self.cache = Cache(ctx.state)
        self.failures: Counter[str] = Counter()
        self.fallbacks = 0
        self.language = prompts.language_name(edition.newsletter.language)
        self.date = format_date(
            edition.date, format="long", locale=edition.newsletter.language.replace("-", "_")
        )
        self.common = {
            "newsletter": edition.newsletter.title,
            "language": self.language,
            "date": self.date,
        }
        self.system = options.system.format(**self.common)
        self.model: Any = None
        self.model_id = options.model or "the default model"
        # What the model is to write besides the summaries: not what the notes already have.
        has_items = bool(edition.items)
        self.writes_intro = options.intro and not edition.intro and has_items
        self.writes_insight = options.insight and not edition.insight and has_items

    def warn(self, message: str) -> None:
        self.ctx.warn(f"llm: {message}")

    async def all(self) -> None:
        try:
            self.model = await asyncio.to_thread(
                resolve_model, self.o.model, secret_value(self.o.key)
            )
            self.model_id = str(getattr(self.model, "model_id", self.model_id))
        except Exception as exc:  # noqa: BLE001 - UnknownModelError, a broken model plugin
            self.warn(
                f"cannot use model {self.model_id!r} ({type(exc).__name__}: {exc}); check "
                "`llm models` and the model's plugin. Summaries are extractive; no intro or "
                "insight was written"
            )
            for item in self.todo():
                self.fallback(item)
            return
        if self.o.summaries:
            await self.summaries()
        else:  # the build's default summarizer stays out when this one is configured
            for item in self.todo():
                self.fallback(item, failed=False)
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
                text=clean_text(item.summary)[:MAX_TEXT],
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

    def check_summary(self, answer: str) -> str:
        text = answer.strip()
        if len(clean_text(text)) > 4 * self.o.max_chars:
            raise ModelFailed(f"an answer of {len(text)} characters (junk, or not a summary)")
        summary = markdown_html(text)
        # One paragraph reads better in an item than <p> blocks: unwrap a single one.
        if summary.count("<p>") == 1 and summary.startswith("<p>") and summary.endswith("</p>"):
            summary = summary[3:-4]
        return summary

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
            return render(parse_answer(answer), items, language)

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


@hookimpl
def register_filters(register: Register[Any]) -> None:
    register(LlmSummarizer)
