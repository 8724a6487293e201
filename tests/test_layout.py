"""The layout: old import paths of modules that moved into the stage folders keep working."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

from newsroom._moved import MOVED


def test_every_old_path_gives_the_module_at_its_new_place_with_a_warning() -> None:
    # In a fresh interpreter: here the old names may already be imported.
    script = """
import importlib, sys, warnings
from newsroom._moved import MOVED
for old, new in MOVED.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new), old
    assert sys.modules[old] is module and module.__name__ == new
    messages = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert any(f"{old} moved to {new}" in m for m in messages), (old, messages)
print(len(MOVED))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(MOVED) >= 40


def test_a_plugin_written_for_the_flat_layout_still_works() -> None:
    script = """
import warnings
warnings.simplefilter("error", DeprecationWarning)
try:
    from newsroom.feeds import parse_feed
except DeprecationWarning as exc:
    print("warned:", exc)
warnings.simplefilter("ignore", DeprecationWarning)
from newsroom.feeds import parse_feed
from newsroom.http import Fetcher
from newsroom.sanitize import clean_text
import newsroom.pipeline
parsed = parse_feed(b'<rss version="2.0"><channel><item><title>t</title>'
                    b'<link>https://example.org/a</link></item></channel></rss>',
                    url="https://example.org/feed")
print(parsed.entries[0].link, newsroom.pipeline.__name__)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "warned: newsroom.feeds moved to newsroom.collect.feeds" in done.stdout
    assert "https://example.org/a newsroom.curate.pipeline" in done.stdout


def test_no_module_name_is_both_old_and_new() -> None:
    assert not set(MOVED) & set(MOVED.values())
    for new in MOVED.values():
        importlib.import_module(new)


@pytest.mark.parametrize("name", ["newsroom.config", "newsroom.cli"])
def test_modules_that_became_packages_keep_their_names(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        module = importlib.import_module(name)
    assert module.__name__ == name
    if name == "newsroom.config":
        assert {"Config", "parse_config", "load_config", "find_config"} <= set(dir(module))
    else:
        assert callable(module.main)
