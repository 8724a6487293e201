"""Symbolic links never carry a write or a read out of where it belongs: ``newsroom publish``
writes only through real folders inside the target, and a theme's files (static files,
templates, catalogs, theme.toml) may link only to files of the same theme."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require_tool
from test_site import DAYS, build_archive, cli_config, dated, save
from test_themes import plugins as plugins  # noqa: F401 (the module's fixture)
from test_themes import write_theme

from newsroom.cli import cli
from newsroom.config import Config
from newsroom.core.errors import NewsroomError
from newsroom.core.plugins import Plugins
from newsroom.render.publishing import publish_to_folder

SECRET = "-----BEGIN PRIVATE KEY----- do not publish -----END PRIVATE KEY-----\n"


def run_publish(config: Config, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-c", str(config.path), "publish", *args])
    return result.exit_code, result.output


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


# -- the target folder ------------------------------------------------------------------------


def test_a_symlinked_folder_in_the_target_is_refused_and_nothing_is_written_through_it(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = cli_config(tmp_path / "n", plugins, theme="briefing")
    build_archive(config, plugins, DAYS[:2])
    www, elsewhere = tmp_path / "www", tmp_path / "elsewhere"
    www.mkdir()
    elsewhere.mkdir()
    (www / "static").symlink_to(elsewhere, target_is_directory=True)

    code, output = run_publish(config, "--to", str(www))
    assert code != 0
    assert f"{www.resolve() / 'static'}" in output and "symbolic link" in output
    assert list(elsewhere.iterdir()) == []  # nothing went through the link
    assert sorted(p.name for p in www.iterdir()) == ["static"]  # nor anywhere else

    # A folder newsroom published itself, replaced by a link afterwards: refused the same way.
    (www / "static").unlink()
    code, output = run_publish(config, "--to", str(www))
    assert code == 0, output
    site_static = config.output_dir / "site" / "static"
    shutil.rmtree(www / "static")
    (www / "static").symlink_to(elsewhere, target_is_directory=True)
    (site_static / "extra.css").write_text("body{}", "utf-8")  # something new to copy
    code, output = run_publish(config, "--to", str(www), "--no-render")
    assert code != 0 and "symbolic link" in output and "static" in output
    assert list(elsewhere.iterdir()) == []


def test_planted_links_at_temporary_names_are_never_written_through(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = cli_config(tmp_path / "n", plugins, theme="briefing")
    build_archive(config, plugins, DAYS[:2])
    www, victims = tmp_path / "www", tmp_path / "victims"
    www.mkdir()
    victims.mkdir()
    planted = {
        ".index.html.publishing": "index",  # the name a copy went through
        ".newsroom-published.json.tmp": "record",  # the name the record went through
    }
    for name, victim in planted.items():
        (victims / victim).write_text("keep me\n", "utf-8")
        (www / name).symlink_to(victims / victim)

    code, output = run_publish(config, "--to", str(www))
    assert code == 0, output
    assert {p.name: p.read_text("utf-8") for p in victims.iterdir()} == {
        "index": "keep me\n",
        "record": "keep me\n",
    }
    site = config.output_dir / "site"
    assert not (www / "index.html").is_symlink()
    assert (www / "index.html").read_bytes() == (site / "index.html").read_bytes()
    assert not (www / ".newsroom-published.json").is_symlink()
    record = json.loads((www / ".newsroom-published.json").read_text("utf-8"))
    assert "index.html" in record["files"]
    # The planted link is someone else's file: left as it was, and no temporary file is left.
    assert [p.name for p in www.iterdir() if p.name.endswith(".publishing")] == [
        ".index.html.publishing"
    ]
    assert (www / ".index.html.publishing").readlink() == victims / "index"


def test_a_link_at_a_published_name_is_replaced_never_written_through(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = cli_config(tmp_path / "n", plugins, theme="briefing")
    build_archive(config, plugins, DAYS[:2])
    www, victim = tmp_path / "www", tmp_path / "victim.txt"
    victim.write_text("keep me\n", "utf-8")
    site = config.output_dir / "site"
    assert publish_to_folder(site, www, output=config.output_dir).copied
    (www / "index.html").unlink()
    (www / "index.html").symlink_to(victim)  # newsroom's own name, now a link

    done = publish_to_folder(site, www, output=config.output_dir)
    assert done.copied == ["index.html"]
    assert victim.read_text("utf-8") == "keep me\n"
    assert not (www / "index.html").is_symlink()
    assert (www / "index.html").read_bytes() == (site / "index.html").read_bytes()


def test_a_record_that_names_files_outside_the_folder_removes_nothing_there(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = cli_config(tmp_path / "n", plugins, theme="briefing")
    build_archive(config, plugins, DAYS[:1])
    www, outside = tmp_path / "www", tmp_path / "outside"
    (outside / "data").mkdir(parents=True)
    (outside / "data" / "keep.txt").write_text("keep me\n", "utf-8")
    www.mkdir()
    (www / "data").symlink_to(outside / "data", target_is_directory=True)
    (www / ".newsroom-published.json").write_text(
        json.dumps({"files": ["../outside/data/keep.txt", "data/keep.txt", "/etc/hostname"]}),
        "utf-8",
    )
    with pytest.raises(NewsroomError, match="symbolic link"):
        publish_to_folder(config.output_dir / "site", www, output=config.output_dir)
    assert (outside / "data" / "keep.txt").read_text("utf-8") == "keep me\n"


# -- the site ---------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    git = require_tool("git")
    done = subprocess.run([git, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_link_in_the_site_is_neither_copied_nor_committed(
    plugins: Plugins, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    config = cli_config(repo, plugins)
    _git(repo, "init", "-q", "-b", "main")
    build_archive(config, plugins, DAYS[:1])
    key = tmp_path / "id_ed25519"
    key.write_text(SECRET, "utf-8")
    link = config.output_dir / "site" / "static" / "key.pem"
    link.symlink_to(key)
    www = tmp_path / "www"

    code, output = run_publish(config, "--to", str(www), "--no-render")
    assert code != 0
    assert str(link) in output and "symbolic link" in output
    assert not any(SECRET.encode() in data for data in files_under(www).values())

    code, output = run_publish(config, "--branch", "gh-pages", "--no-render")
    assert code != 0
    assert str(link) in output and "symbolic link" in output
    assert _git(repo, "branch", "--list", "gh-pages") == ""  # no commit was made


# -- theme files ------------------------------------------------------------------------------


def test_a_theme_static_file_linking_outside_the_theme_is_refused(
    plugins: Plugins, tmp_path: Path
) -> None:
    root = tmp_path / "n"
    theme = write_theme(
        root / "look",
        {
            "theme.toml": 'extends = "briefing"\n',
            "assets/shared.css": "body{color:#123}",
        },
    )
    (theme / "static").mkdir()
    (theme / "static" / "shared.css").symlink_to(Path("../assets/shared.css"))  # stays inside
    key = tmp_path / "id_ed25519"
    key.write_text(SECRET, "utf-8")
    config = cli_config(root, plugins, theme="./look")
    build_archive(config, plugins, DAYS[:1])  # rendered while the theme had no bad link
    site_static = config.output_dir / "site" / "static"
    assert not (site_static / "shared.css").is_symlink()  # copied as a regular file
    assert (site_static / "shared.css").read_text("utf-8") == "body{color:#123}"

    (theme / "static" / "key.pem").symlink_to(key)
    www = tmp_path / "www"
    code, output = run_publish(config, "--to", str(www))
    assert code != 0
    assert str(theme / "static" / "key.pem") in output and "outside the theme" in output
    assert not (site_static / "key.pem").exists()
    assert not any(SECRET.encode() in data for data in files_under(www).values())

    # A linked folder that leaves the theme is refused too.
    (theme / "static" / "key.pem").unlink()
    (theme / "static" / "keys").symlink_to(tmp_path, target_is_directory=True)
    code, output = run_publish(config, "--to", str(www))
    assert code != 0 and str(theme / "static" / "keys") in output
    assert not (site_static / "keys").exists()


@pytest.mark.parametrize(
    ("name", "outside"),
    [
        ("templates/web/index.html.j2", SECRET),
        ("locale/ko/LC_MESSAGES/messages.po", 'msgid "Archive"\nmsgstr "' + SECRET.strip() + '"\n'),
        ("theme.toml", f'extends = "briefing"\n[settings]\ntoken = "{SECRET.strip()}"\n'),
    ],
    ids=["template", "catalog", "theme.toml"],
)
def test_a_theme_file_linking_outside_the_theme_is_refused(
    plugins: Plugins, tmp_path: Path, name: str, outside: str
) -> None:
    root = tmp_path / "n"
    theme = write_theme(root / "look", {"theme.toml": 'extends = "briefing"\n'})
    secret = tmp_path / "secret"
    secret.write_text(outside, "utf-8")
    (theme / name).parent.mkdir(parents=True, exist_ok=True)
    (theme / name).unlink(missing_ok=True)
    (theme / name).symlink_to(secret)
    config = cli_config(root, plugins, theme="./look")
    save(config, dated(DAYS[0]))
    www = tmp_path / "www"

    code, output = run_publish(config, "--to", str(www))
    assert code != 0
    assert str(theme / name) in output and "outside the theme" in output
    assert SECRET.strip() not in output
    built = files_under(config.output_dir) if config.output_dir.exists() else {}
    assert not any(SECRET.strip().encode() in data for data in built.values())
    assert not www.exists() or files_under(www) == {}


def test_the_site_static_folder_is_never_written_through_a_link(
    plugins: Plugins, tmp_path: Path
) -> None:
    from newsroom.render.rendering import render

    config = cli_config(tmp_path / "n", plugins, theme="briefing")
    editions = build_archive(config, plugins, DAYS[:1])
    static = config.output_dir / "site" / "static"
    shutil.rmtree(static)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    static.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(NewsroomError, match="symbolic link") as refused:
        render(config, plugins, editions[-1], only={"web"})
    assert str(static) in str(refused.value)
    assert list(elsewhere.iterdir()) == []


def test_a_theme_with_links_inside_itself_still_renders(plugins: Plugins, tmp_path: Path) -> None:
    root = tmp_path / "n"
    theme = write_theme(
        root / "look",
        {
            "theme.toml": 'extends = "briefing"\n',
            "shared/footer.html.j2": "{% extends 'parent:web/index.html.j2' %}",
        },
    )
    (theme / "templates" / "web").mkdir(parents=True)
    (theme / "templates" / "web" / "index.html.j2").symlink_to(Path("../../shared/footer.html.j2"))
    (theme / "static").symlink_to(Path("shared"), target_is_directory=True)
    config = cli_config(root, plugins, theme="./look")
    build_archive(config, plugins, DAYS[:1])
    site = config.output_dir / "site"
    assert (site / "index.html").is_file()
    assert (site / "static" / "footer.html.j2").is_file()
    assert not os.path.islink(site / "static" / "footer.html.j2")
