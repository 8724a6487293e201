"""What ``newsroom init`` writes: a ``newsroom.toml`` that builds as it is, in the
newsletter's language, or a copy of an example newsletter shipped with newsroom.

The scaffold's reader-visible words (the title, the section titles, the sender's name) are
in the language given; its comments stay in English. Korean and English have scaffolds of
their own; another language gets the English words with its own dates and UI strings.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from newsroom.core.errors import ConfigError, UsageError

#: The sender's address in a new newsletter: a reserved domain, so that nothing is sent
#: from someone else's by accident; `newsroom check` asks for a real one before sending.
PLACEHOLDER_ADDRESS = "newsletter@example.org"


@dataclass(frozen=True)
class Words:
    """The reader-visible words of a scaffold in one language."""

    title: str
    papers: str
    github: str
    news: str
    news_feeds: tuple[str, ...]
    timezone: str = ""
    """The language's time zone when it has one country (ko: Asia/Seoul); empty: the
    machine's."""


WORDS = {
    "en": Words(
        title="My Briefing",
        papers="📄 Papers",
        github="💻 GitHub projects",
        news="📰 News",
        news_feeds=("https://hnrss.org/frontpage?points=100",),
    ),
    "ko": Words(
        title="나의 브리핑",
        papers="📄 논문",
        github="💻 GitHub 프로젝트",
        news="📰 뉴스",
        news_feeds=("https://www.aitimes.com/rss/allArticle.xml",),
        timezone="Asia/Seoul",
    ),
}


def words_for(language: str) -> Words:
    """The scaffold's words for ``language`` (``ko-KR`` uses ``ko``'s), English otherwise."""
    return WORDS.get(language.replace("_", "-").split("-")[0].lower(), WORDS["en"])


def check_language(language: str) -> str:
    """``language`` if babel knows it (``ko``, ``en``, ``ko-KR``), else a UsageError."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise UsageError(
            f"--language {language!r}: not a language code newsroom knows; use ko, en, ja, ..."
        ) from None
    return language


def machine_timezone() -> str:
    """This machine's IANA time zone name (``$TZ``, else /etc/localtime's link), or ""."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.readlink("/etc/localtime")
        candidates.append(target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "")
    except OSError:
        pass
    zones = available_timezones()
    return next((name for name in candidates if name and name in zones), "")


def choose_timezone(given: str | None, language: str) -> tuple[str, str]:
    """The time zone for a new newsletter and where it came from: ``--timezone``, else the
    language's (ko: Asia/Seoul), else the machine's, else UTC."""
    if given:
        try:
            ZoneInfo(given)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(
                f"--timezone {given!r}: not an IANA time zone; e.g. Asia/Seoul, Europe/Berlin"
            ) from None
        return given, "--timezone"
    words = words_for(language)
    if words.timezone:
        return words.timezone, f"the time zone of --language {language}"
    machine = machine_timezone()
    if machine:
        return machine, "this machine's time zone"
    return "UTC", "no other was known"


def sender(title: str, address: str = PLACEHOLDER_ADDRESS) -> str:
    """``Title <address>`` for ``[email] from``, the name quoted when it must be."""
    name = " ".join(title.split())
    if any(c in name for c in '()<>@,;:\\".[]'):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>" if name else address


def starter_config(title: str | None, language: str, timezone: str) -> str:
    """The text of a new ``newsroom.toml``."""
    words = words_for(language)
    title = title or words.title
    template = files("newsroom.config").joinpath("templates/newsroom.toml").read_text("utf-8")
    values = {
        "@TITLE@": title,
        "@LANGUAGE@": language,
        "@TIMEZONE@": timezone,
        "@FROM@": sender(title),
        "@PAPERS@": words.papers,
        "@GITHUB@": words.github,
        "@NEWS@": words.news,
        "@NEWS_FEEDS@": list(words.news_feeds),
    }
    for key, value in values.items():
        template = template.replace(key, json.dumps(value, ensure_ascii=False))
    return template


# -- examples -------------------------------------------------------------------------------

#: The moment each example's saved responses describe: its offline build is as of then, so
#: that the `window` filter keeps their items.
EXAMPLE_AS_OF = {"ai-briefing": "2026-02-14T06:00:00+09:00"}

#: What an example is copied with: its config, README, editor's notes, sample subscribers
#: and the saved responses it builds from offline (``--mirror sample-data``).
EXAMPLE_FILES = ("newsroom.toml", "README.md", "subscribers.csv", "notes", "sample-data")


def _example_bases() -> list[Path]:
    """Where examples are: a checkout's ``examples/`` (an editable install reads the
    files being edited), then the installed distribution's ``newsroom_examples/``."""
    import importlib.util

    bases = [Path(str(files("newsroom"))).parent / "examples"]
    spec = importlib.util.find_spec("newsroom_examples")
    if spec is not None and spec.submodule_search_locations:
        bases.extend(Path(location) for location in spec.submodule_search_locations)
    return bases


def example_folder(name: str) -> Path:
    """The folder of the example newsletter ``name``."""
    for base in _example_bases():
        if (base / name / "newsroom.toml").is_file():
            return base / name
    raise UsageError(f"--example {name!r}: no such example; there is: {', '.join(examples())}")


def examples() -> list[str]:
    """The names of the examples that come with newsroom."""
    found = set()
    for base in _example_bases():
        if base.is_dir():
            found |= {p.parent.name for p in base.glob("*/newsroom.toml")}
    return sorted(found)


def copy_example(name: str, target: Path) -> list[Path]:
    """Copy the example ``name`` into ``target`` (its files only, not what a run of it left
    there); the paths written."""
    source = example_folder(name)
    if (target / "newsroom.toml").exists():
        raise ConfigError(f"{target / 'newsroom.toml'} already exists; not overwriting it")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in EXAMPLE_FILES:
        path = source / entry
        if path.is_dir():
            shutil.copytree(path, target / entry, dirs_exist_ok=True)
        elif path.is_file():
            shutil.copy2(path, target / entry)
        else:
            continue
        written.append(target / entry)
    config = target / "newsroom.toml"
    config.write_text(_for_this_machine(config.read_text("utf-8")), "utf-8")
    return written


#: Filters of the examples that need an extra, by the module that extra installs.
_NEEDS = {"llm": ("llm", "llm"), "articles": ("trafilatura", "articles")}


def _for_this_machine(text: str) -> str:
    """An example's config as a copy of it can build here: the ``llm`` filter's table (its
    model is the demo's stand-in server, which only ``examples/demo.py`` runs) and the
    tables of filters whose extra is not installed are commented out, with a line saying
    how to turn them on."""
    import importlib.util

    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        plugin = _filter_plugin(lines, i)
        module, extra = _NEEDS.get(plugin or "", ("", ""))
        missing = bool(module) and importlib.util.find_spec(module) is None
        if plugin == "llm" or missing:
            end = i + 1
            while end < len(lines) and lines[end].strip() and not lines[end].startswith("["):
                end += 1
            korean = 'language = "ko"' in text
            if missing:
                why = (
                    f"pip install 'newsroom-digest[{extra}]' 후 이 표의 # 을 지우세요"
                    if korean
                    else f"pip install 'newsroom-digest[{extra}]', then remove the # of this table"
                )
            else:
                why = (
                    "model 에 `llm models` 가 보여 주는 모델 이름을 적고 이 표의 # 을 지우세요"
                    if korean
                    else "set model to a model `llm models` lists, then remove the # of this table"
                )
            out.append(f"# ({why})\n")
            out.extend(f"# {line}" if line.strip() else line for line in lines[i:end])
            i = end
            continue
        out.append(lines[i])
        i += 1
    return "".join(out)


def _filter_plugin(lines: list[str], i: int) -> str | None:
    """The plugin of the ``[[filters]]`` table starting at line ``i``, if one does."""
    if lines[i].strip() != "[[filters]]" or i + 1 >= len(lines):
        return None
    key, _, value = lines[i + 1].partition("=")
    if key.strip() != "plugin":
        return None
    return value.split("#", 1)[0].strip().strip('"')
