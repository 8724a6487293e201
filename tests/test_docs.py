"""Docs stay complete: every hook is documented with its arguments and an example."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from newsroom.core import hookspecs

ROOT = Path(__file__).resolve().parent.parent


def hook_specs() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in vars(hookspecs).items()
        if inspect.isfunction(fn) and hasattr(fn, "newsroom_spec")
    }


def test_there_are_hooks() -> None:
    assert {
        "register_sources",
        "register_filters",
        "register_sections",
        "register_renderers",
    } <= set(hook_specs())


def test_every_hook_is_documented_with_its_arguments_and_an_example() -> None:
    text = (ROOT / "docs" / "hooks.md").read_text("utf-8")
    headings = dict(re.findall(r"^## (\w+)\(([^)]*)\)$", text, re.M))
    for name, signature in hook_specs().items():
        assert name in headings, f"hook {name} is missing from docs/hooks.md"
        documented = [a.strip() for a in headings[name].split(",") if a.strip()]
        assert documented == list(signature.parameters), f"docs/hooks.md: {name} arguments"
        section = text.split(f"## {name}(", 1)[1].split("\n## ", 1)[0]
        assert "```python" in section and "@hookimpl" in section, f"{name}: no example"
        assert "Called:" in section, f"{name}: say when it is called"


def test_every_hook_has_a_docstring() -> None:
    for name in hook_specs():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_public_api_is_exported() -> None:
    import newsroom

    assert sorted(newsroom.__all__) == newsroom.__all__
    for name in newsroom.__all__:
        assert hasattr(newsroom, name), name


def test_hook_examples_run_and_register() -> None:
    """The examples in docs/hooks.md are real plugins: load each one into a fresh manager."""
    import types

    import click

    from newsroom.core.plugins import Plugins, new_plugin_manager

    text = (ROOT / "docs" / "hooks.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    plugins = Plugins(new_plugin_manager())
    for n, code in enumerate(blocks):
        module = types.ModuleType(f"docs_example_{n}")
        exec(compile(code, f"docs/hooks.md example {n}", "exec"), module.__dict__)
        plugins.add(module, module.__name__)
    assert "jsonfeed" in plugins.sources
    assert "min-stars" in plugins.filters
    assert "everything" in plugins.sections
    assert "urls" in plugins.renderers
    assert "http-api" in plugins.transports
    assert "example-esp" in plugins.feedback
    group = click.Group()
    plugins.pm.hook.register_commands(cli=group)
    assert "hello" in group.commands


def test_configuration_reference_is_up_to_date() -> None:
    from newsroom.config.reference import BEGIN, END, options_reference

    text = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert generated == options_reference().strip(), (
        "docs/configuration.md is stale: run `python -m newsroom.config.reference`"
    )


def test_every_block_of_the_default_theme_is_documented() -> None:
    text = (ROOT / "docs" / "themes.md").read_text("utf-8")
    templates = ROOT / "themes" / "newsroom_default" / "templates"
    blocks = {
        name
        for path in templates.rglob("*.j2")
        for name in re.findall(r"{%-?\s*block\s+(\w+)", path.read_text("utf-8"))
    }
    assert blocks
    missing = sorted(b for b in blocks if f"`{b}`" not in text)
    assert not missing, f"blocks missing from docs/themes.md: {missing}"


def test_theme_example_in_docs_renders(tmp_path: Path) -> None:
    """The child theme in docs/themes.md, written out as a user would, changes one block."""
    from test_render import korean_edition, run, write_config
    from test_render import plugins as render_plugins

    text = (ROOT / "docs" / "themes.md").read_text("utf-8")
    toml = re.search(r"```toml\n# my-theme/theme.toml\n(.*?)```", text, re.S)
    jinja = re.search(r"```jinja\n\{# my-theme/(\S+) #\}\n(.*?)```", text, re.S)
    assert toml and jinja
    theme = tmp_path / "my-theme"
    (theme / jinja.group(1)).parent.mkdir(parents=True)
    (theme / "theme.toml").write_text(toml.group(1), "utf-8")
    (theme / jinja.group(1)).write_text(jinja.group(2), "utf-8")
    plugins = render_plugins.__wrapped__()  # type: ignore[attr-defined]
    config = write_config(tmp_path, plugins, theme="./my-theme")
    edition = korean_edition()
    starred = [i for i in edition.items if i.metrics.get("stars")]
    assert starred, "the sample edition needs a repository with stars"
    email = run(config, plugins, edition)["email.html"].read_text("utf-8")
    stars = f"★ {starred[0].metrics['stars']:,.0f} stars"
    assert stars in email
    assert "#c2410c" in email  # the theme's setting reached the email
    assert edition.items[0].url in email  # everything else inherited


def test_the_distribution_is_named_where_users_install_or_depend_on_it() -> None:
    """The name `newsroom` on the package index is an unrelated project: `pip install
    newsroom` or a dependency on `newsroom>=0.1` would install that. Docs, examples,
    scaffolds and error messages name `newsroom-digest`."""
    import tomllib

    from newsroom.__about__ import DISTRIBUTION

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["name"] == DISTRIBUTION == "newsroom-digest"
    wrong = re.compile(
        r"pip install ['\"]?newsroom(?:\[|['\"]?\s|['\"]?$)"  # pip install newsroom, 'newsroom[x]'
        r"|(?:dependencies|requires).*[\"']newsroom(?:\[[a-z]+\])?(?:[<>=~!][^\"']*)?[\"']"
        r"|uninstall newsroom\b(?!-)",
        re.M,
    )
    found = []
    files = [ROOT / "README.md", ROOT / "pyproject.toml", *ROOT.glob("docs/*.md")]
    files += [p for p in ROOT.glob("examples/**/*") if p.suffix in (".md", ".toml", ".py")]
    files += [p for p in ROOT.glob("newsroom/**/*") if p.suffix in (".py", ".toml", ".md")]
    files += [p for p in ROOT.glob("plugins/**/*.py")]
    for path in files:
        if "_demo" in path.parts or "_out" in path.parts:
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if wrong.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
