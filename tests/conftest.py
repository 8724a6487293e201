"""Shared fixtures. ``local_server`` and ``plugin_manager`` come from ``newsroom.testing``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEWSROOM_SHARED", ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, what: str) -> None:
    """Skip when a tool or data set is missing, except in CI where that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} is not available")


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"the `{name}` command")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The captured real responses in ../shared/fixtures (read-only; never copied)."""
    path = SHARED / "fixtures"
    require(path.is_dir(), f"{path} (captured fixtures)")
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
