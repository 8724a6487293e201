"""``newsroom init --github-actions``: a scheduled workflow that builds and publishes the web
edition on GitHub Pages.

It builds, renders and publishes; it never sends. A repository's files, its workflow logs,
caches and artefacts are no place for subscriber addresses (a public repository shows them
to everyone, and caches are readable by workflows of the same repository), so the list and
``newsroom send`` stay on a machine of your own (docs/publishing.md).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsroom.__about__ import DISTRIBUTION, __version__


def secrets_named(data: Any) -> list[str]:
    """Every environment variable a newsroom.toml reads secrets from (``{"$env" = NAME}``)."""
    found: list[str] = []
    if isinstance(data, dict):
        name = data.get("$env")
        if isinstance(name, str) and len(data) == 1:
            found.append(name)
        for value in data.values():
            found += secrets_named(value)
    elif isinstance(data, list):
        for value in data:
            found += secrets_named(value)
    return sorted(set(found))


def utc_cron(hour: int, timezone: str, when: dt.date | None = None) -> tuple[str, str]:
    """The cron line (in UTC, as GitHub runs schedules) for ``hour``:00 in ``timezone``,
    and a comment saying so; the offset of ``when`` (today) is used, so a zone with summer
    time is an hour off for half the year."""
    day = when or dt.date.today()
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(timezone))
    utc = local.astimezone(dt.UTC)
    return f"0 {utc.hour} * * *", f"{hour:02d}:00 in {timezone}"


def github_actions_workflow(
    *, title: str, folder: str, timezone: str, secrets: list[str], hour: int = 6
) -> str:
    """The workflow's YAML: build and publish the newsletter in ``folder`` (relative to the
    repository's root) every day at ``hour`` in ``timezone``, to GitHub Pages."""
    cron, when = utc_cron(hour, timezone)
    env = (
        "".join(f"          {name}: ${{{{ secrets.{name} }}}}\n" for name in secrets)
        or "          {}\n"
    )
    env_block = "        env:\n" + env if secrets else ""
    prefix = "" if folder in ("", ".") else f"{folder}/"
    name = json.dumps(f"{title}: the web edition", ensure_ascii=False)
    return f"""# Builds the newsletter and publishes its web edition on GitHub Pages every morning.
# It never sends: subscriber addresses must not be in this repository (a public one shows
# them to everyone), nor in its caches, artefacts or logs. Keep the list and `newsroom send`
# (or `newsroom run`) on a machine of your own.
#
# Settings > Pages > Source: GitHub Actions. Each secret below (Settings > Secrets and
# variables > Actions) is an environment variable newsroom.toml reads with {{"$env" = ...}}.
name: {name}

on:
  schedule:
    - cron: "{cron}"  # {when} (GitHub runs schedules in UTC)
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: newsroom-pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: {folder or "."}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install "{DISTRIBUTION}=={__version__}"
      # The HTTP cache and the editions already published (the history filter's memory);
      # state.db holds no subscribers here, since this workflow adds none.
      - uses: actions/cache@v4
        with:
          path: |
            {prefix}.cache
            {prefix}state.db
          key: newsroom-${{{{ github.run_id }}}}
          restore-keys: newsroom-
      - run: newsroom build
{env_block}      - run: newsroom publish --to "${{{{ runner.temp }}}}/site"
      - uses: actions/upload-pages-artifact@v3
        with:
          path: ${{{{ runner.temp }}}}/site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


def write_workflow(directory: Path, repository: Path, data: dict[str, Any]) -> Path:
    """Write the workflow for the newsletter in ``directory`` under ``repository``'s
    ``.github/workflows/``; an existing file is not replaced."""
    newsletter = data.get("newsletter", {})
    title = str(newsletter.get("title", "newsroom"))
    timezone = str(newsletter.get("timezone", "UTC"))
    try:
        folder = directory.resolve().relative_to(repository.resolve()).as_posix()
    except ValueError:
        folder = "."
    slug = "".join(c if c.isalnum() else "-" for c in Path(folder).name.lower()).strip("-")
    path = repository / ".github" / "workflows" / f"newsroom-{slug or 'newsletter'}.yml"
    if path.exists():
        from newsroom.core.errors import ConfigError

        raise ConfigError(f"{path} already exists; not overwriting it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        github_actions_workflow(
            title=title,
            folder="" if folder == "." else folder,
            timezone=timezone,
            secrets=secrets_named(data),
        ),
        "utf-8",
    )
    return path
