"""``newsroom theme new``: a theme folder that builds at once and says where to change what.

The new theme extends its parent and changes nothing yet: ``theme.toml`` lists the parent's
settings (commented out, with their current values), the two templates extend the parent's
versions and name every block they may override, and a stylesheet and a Korean catalog are
ready to fill in. With ``package=True`` the folder is wrapped in an installable distribution
that registers the theme under the ``newsroom.themes`` entry point.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from newsroom.__about__ import DISTRIBUTION
from newsroom.core.errors import ConfigError
from newsroom.render.email_blocks import email_html_parts
from newsroom.render.themes import PARENT_PREFIX, Theme, available_themes, inside_theme, load_theme

NAME = re.compile(r"[a-z][a-z0-9-]{0,40}")
BLOCK = re.compile(r"{%-?\s*block\s+(\w+)")
COMMENT = re.compile(r"{#.*?#}", re.S)
PARTIAL = re.compile(r"(?:^|/)_[^/]+\.j2$")


@dataclass
class Scaffold:
    theme_dir: Path
    """The theme folder (inside the package when there is one)."""
    package_dir: Path | None
    files: list[Path]


def blocks_of(theme: Theme, template: str) -> list[str]:
    """The block names of ``template`` as the theme chain resolves it, in order."""
    for t in theme.chain:
        path = t.path / "templates" / template
        if path.is_file():
            inside_theme(t.path, path)
            text = COMMENT.sub("", path.read_text("utf-8"))  # examples in comments are not blocks
            return list(dict.fromkeys(BLOCK.findall(text)))
    return []


def partials_of(theme: Theme, folder: str) -> list[str]:
    """Partials (``_*.j2``) a child can replace whole, by their names under templates/."""
    found: set[str] = set()
    for t in theme.chain:
        base = t.path / "templates"
        for path in (base / folder).glob("_*.j2") if (base / folder).is_dir() else []:
            found.add(path.relative_to(base).as_posix())
    return sorted(found)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _theme_toml(name: str, parent: Theme) -> str:
    settings = "\n".join(f"# {k} = {_toml_value(v)}" for k, v in parent.settings.items())
    return f"""name = "{name}"
extends = "{parent.name}"
description = "A newsroom theme based on {parent.name}."

# The parent's settings with their values; uncomment a line to change it for this theme.
# A newsletter overrides any of them again in its newsroom.toml's [theme] table.
[settings]
{settings}
"""


def _listing(names: list[str], indent: str = "    ") -> str:
    lines, line = [], ""
    for name in names:
        if len(line) + len(name) > 80:
            lines.append(line.rstrip())
            line = ""
        line += name + ", "
    lines.append(line.rstrip(", "))
    return "\n".join(indent + item for item in lines if item)


def _email_template(parent: Theme) -> str:
    return f"""{{% extends "parent:email/edition.mjml.j2" %}}
{{#- The email. Extends the parent's version and changes nothing yet: override a block here
    ({{{{ super() }}}} keeps the parent's part), or replace a partial whole by adding a file of
    the same name next to this one. docs/themes.md describes every block and variable.

    Blocks of email/edition.mjml.j2:
{_listing(blocks_of(parent, "email/edition.mjml.j2"))}

    Partials:
{_listing(partials_of(parent, "email"))}

    These render inside an <mj-text> and take HTML, not MJML (the others take MJML):
{_listing([p.name for p in email_html_parts(parent)])}

    For example, a line under every item (HTML: `item` is one of those):

    {{% block item %}}
      {{{{ super() }}}}
      <p class="nr-meta">★ {{{{ item.metrics.get("stars", "") }}}}</p>
    {{% endblock %}}
-#}}
"""


def _web_template(name: str, parent: Theme) -> str:
    return f"""{{% extends "parent:web/base.html.j2" %}}
{{#- The page around every web page (the front page, the archive, each edition). It adds
    static/{name}.css after the parent's styles; override more blocks here.

    Blocks of web/base.html.j2:
{_listing(blocks_of(parent, "web/base.html.j2"))}

    The edition's content comes from web/_edition_body.html.j2 (blocks:
    {", ".join(blocks_of(parent, "web/_edition_body.html.j2"))}); partials:
{_listing(partials_of(parent, "web"))}
-#}}
{{% block styles %}}
{{{{ super() }}}}
<link rel="stylesheet" href="{{{{ root }}}}static/{name}.css">
{{% endblock %}}
"""


CATALOG = """# Korean UI strings of this theme: entries here replace the parent theme's.
# Find every message with:  pybabel extract -F babel.cfg -o messages.pot .
msgid ""
msgstr ""
"Language: ko\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

# msgid "Unsubscribe"
# msgstr "수신 거부"
"""

BABEL_CFG = """# pybabel extract -F babel.cfg -o messages.pot .
[jinja2: templates/**.j2]
extensions = jinja2.ext.i18n
trim_blocks = true
lstrip_blocks = true
"""


def _readme(name: str, parent: Theme, package: bool) -> str:
    install = (
        f"""Install it with `pip install .` (from the folder holding pyproject.toml), then set
`theme = "{name}"` in `[newsletter]`; `newsroom themes` lists it."""
        if package
        else f"""Use it with `theme = "./{name}"` in `[newsletter]` (a path relative to
newsroom.toml).

To share it as a package, run next to this folder

    newsroom theme new {name} --package --extends {parent.name} --directory newsroom-theme-{name}

and copy `theme.toml`, `templates/`, `static/` and `locale/` from here into
`newsroom-theme-{name}/newsroom_{name.replace("-", "_")}/`; then
`pip install ./newsroom-theme-{name}`."""
    )
    return f"""# {name}

A newsroom theme extending `{parent.name}`. {install}

- `theme.toml`: name, parent, and settings (colours, fonts, logo, width)
- `templates/email/edition.mjml.j2`, `templates/web/base.html.j2`: extend the parent's
  files; override blocks there, or add any other template or partial of the parent under
  the same name
- `static/{name}.css`: loaded after the parent's stylesheet on every web page
- `locale/ko/LC_MESSAGES/messages.po`: Korean strings that replace the parent's

`newsroom preview` shows the email (desktop, mobile, light, dark) and the web edition and
reloads them as you edit.
"""


def _pyproject(name: str, module: str) -> str:
    return f"""[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "newsroom-theme-{name}"
version = "0.1.0"
description = "The {name} theme for newsroom"
requires-python = ">=3.11"
dependencies = ["{DISTRIBUTION}"]

[project.entry-points."newsroom.themes"]
{name} = "{module}"

[tool.hatch.build.targets.wheel]
packages = ["{module}"]
"""


def scaffold_theme(
    name: str,
    target: Path,
    *,
    extends: str = "default",
    root: Path | None = None,
    package: bool = False,
) -> Scaffold:
    """Write a new theme called ``name`` into ``target`` (a folder that must not exist)."""
    if not NAME.fullmatch(name):
        raise ConfigError(
            f"theme name {name!r}: use lowercase letters, digits and '-', starting with a letter"
        )
    if name == PARENT_PREFIX:
        raise ConfigError(
            f"theme name {name!r} is reserved: templates name the parent theme with "
            f"'{PARENT_PREFIX}:'; choose another name"
        )
    installed = available_themes()
    if name in installed:
        raise ConfigError(
            f"theme name {name!r} is taken by the installed theme {name!r} "
            f"({installed[name].origin}); choose another name"
        )
    if target.exists():
        raise ConfigError(f"{target} already exists; choose another name or folder")
    parent = load_theme(extends, root=root)
    if name in (t.name for t in parent.chain):
        raise ConfigError(
            f"theme name {name!r}: the new theme would extend itself (its parent "
            f"{parent.name!r} is, or extends, a theme called {name!r}); choose another name"
        )
    if parent.origin == "local" and package:
        raise ConfigError("a packaged theme must extend an installed theme, not a folder")
    module = f"newsroom_{name.replace('-', '_')}"
    theme_dir = target / module if package else target
    files: dict[Path, str] = {
        theme_dir / "theme.toml": _theme_toml(name, parent),
        theme_dir / "templates" / "email" / "edition.mjml.j2": _email_template(parent),
        theme_dir / "templates" / "web" / "base.html.j2": _web_template(name, parent),
        theme_dir / "static" / f"{name}.css": (
            f"/* {name}: loaded after the {parent.name} theme's styles on every web page. */\n"
        ),
        theme_dir / "locale" / "ko" / "LC_MESSAGES" / "messages.po": CATALOG,
        theme_dir / "babel.cfg": BABEL_CFG,
        target / "README.md": _readme(name, parent, package),
    }
    if parent.origin == "local":
        # A folder: named relative to the new theme's folder, which is where it is read from.
        ref = Path(os.path.relpath(parent.path, theme_dir.resolve())).as_posix()
        toml = files[theme_dir / "theme.toml"]
        files[theme_dir / "theme.toml"] = toml.replace(
            f'extends = "{parent.name}"', f"extends = {json.dumps(ref)}"
        )
    if package:
        files[theme_dir / "__init__.py"] = (
            f'"""The {name} newsroom theme (templates are data)."""\n'
        )
        files[target / "pyproject.toml"] = _pyproject(name, module)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return Scaffold(theme_dir, target if package else None, list(files))
