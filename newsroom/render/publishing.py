"""Publishing the web edition: copying ``build/site`` to a folder, or committing it to a git
branch (GitHub Pages style), without touching anything else.

A folder is synchronised: files whose content differs are copied (unchanged ones keep their
modification time, so rsync and caches see only what changed), and files this newsletter
published there before and that the site no longer has are removed. Files someone else put
in the folder are never touched: a publish that would replace one is refused unless forced.
What was published where is kept in the folder's ``.newsroom-published.json`` and in
``<output>/.publish-state.json``.

A branch gets one commit per publish with the site as its whole tree (plus ``.nojekyll``, so
GitHub Pages serves the files as they are), made with git's plumbing through a temporary
index: the checkout, the index and the current branch of the repository stay as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsroom.core.errors import NewsroomError
from newsroom.render.safe_folder import SafeFolder, UnsafePath, parts_of

STATE_FILE = ".publish-state.json"
RECORD_FILE = ".newsroom-published.json"
"""In the published folder: the files newsroom put there, so it knows them without build/."""


class PublishError(NewsroomError):
    """The web edition could not be published."""


@dataclass
class FolderResult:
    target: Path
    copied: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


@dataclass
class BranchResult:
    repository: Path
    branch: str
    commit: str
    """The branch's commit after publishing."""
    changed: bool
    """Whether a new commit was made (false: the site was already there)."""
    pushed_to: str = ""


def site_files(site: Path) -> list[str]:
    """The site's files, as POSIX paths relative to it.

    A symbolic link in the site is refused, naming it: the renderer never makes one, and
    copying or committing it would publish whatever it points to (or the link itself)."""
    if not site.is_dir():
        raise PublishError(f"no web edition at {site}: build or render an edition first")
    found: list[str] = []
    refused: list[str] = []

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_symlink():
                    refused.append(f"{entry.path} is a symbolic link")
                elif entry.is_dir(follow_symlinks=False):
                    walk(entry.path, f"{prefix}{entry.name}/")
                elif entry.is_file(follow_symlinks=False):
                    found.append(f"{prefix}{entry.name}")
                else:
                    refused.append(f"{entry.path} is not a regular file")

    walk(str(site), "")
    refused.sort()
    if refused:
        shown = "; ".join(refused[:10]) + (
            f"; and {len(refused) - 10} more" if len(refused) > 10 else ""
        )
        raise PublishError(
            f"not publishing {site}: {shown}. newsroom publishes regular files only (a link "
            "would publish whatever it points to): remove what is named, and render the site "
            "again"
        )
    return sorted(found)


def _read_state(output: Path) -> dict[str, Any]:
    try:
        data = json.loads((output / STATE_FILE).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_state(output: Path, state: dict[str, Any]) -> None:
    with SafeFolder(output) as folder:
        folder.write(STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1).encode())


def _read_record(folder: SafeFolder) -> list[str]:
    """The files the folder's own record says newsroom published there (a link in the
    record's place is no record: it is replaced by the next one written)."""
    try:
        data = json.loads(folder.read(RECORD_FILE) or b"null")
    except ValueError:
        return []
    files = data.get("files") if isinstance(data, dict) else None
    return [f for f in files if _plain(f)] if isinstance(files, list) else []


def _plain(rel: object) -> bool:
    """Whether ``rel`` is a path newsroom could have published (a record may be edited by
    anyone who can write to the folder: ``..`` or an absolute path is no file of ours)."""
    if not isinstance(rel, str):
        return False
    try:
        parts_of(rel)
    except ValueError:
        return False
    return True


def _write_record(folder: SafeFolder, files: set[str] | list[str]) -> None:
    record = {"published_by": "newsroom", "files": sorted(files)}
    data = json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    folder.write(RECORD_FILE, data.encode("utf-8"))


def publish_to_folder(
    site: Path, target: Path, *, output: Path | None = None, force: bool = False
) -> FolderResult:
    """Make ``target`` hold the site: copy what differs, remove what this newsletter published
    there before and the site no longer has.

    A file in ``target`` that newsroom did not publish there (by the folder's
    ``.newsroom-published.json`` or ``<output>/.publish-state.json``) and that differs from
    the site's is not overwritten: the publish is refused, naming it, unless ``force``.

    Nothing is written or removed through a symbolic link under ``target``: a link in place
    of a folder the site writes to (or removes from) stops the publish before anything is
    changed, naming it; a link in place of a file is replaced like a file, never written
    through. ``target`` itself may be a link: it is the folder the user named."""
    target = target.resolve()
    site = site.resolve()
    if target == site or target.is_relative_to(site) or site.is_relative_to(target):
        raise PublishError(f"cannot publish {site} into {target}: one holds the other")
    files = [f for f in site_files(site) if f not in (RECORD_FILE, f"{RECORD_FILE}.tmp")]
    output = output or site.parent
    state = _read_state(output)
    key = str(target)
    try:
        target.mkdir(parents=True, exist_ok=True)
        with SafeFolder(target) as folder:
            result = _sync(site, folder, files, state, key, force)
    except UnsafePath as exc:
        advice = (
            "newsroom never writes through a link (it could send the site's files anywhere): "
            "replace it with a real folder, or publish elsewhere"
            if exc.link
            else "the site has a folder there: move it away"
        )
        raise PublishError(
            f"not publishing to {target}: {exc.path} is {exc.reason}. {advice}"
        ) from None
    except OSError as exc:
        raise PublishError(f"publishing to {target} failed: {exc}") from None
    _write_state(output, state)
    return result


def _sync(
    site: Path, folder: SafeFolder, files: list[str], state: dict[str, Any], key: str, force: bool
) -> FolderResult:
    target = folder.root
    before = {rel for rel in state.get("folders", {}).get(key, []) if _plain(rel)}
    before |= set(_read_record(folder))
    # Every path to write or remove is looked at first: a link on the way stops the publish
    # before anything is changed.
    kinds = {rel: folder.kind(rel) for rel in files}
    for rel in before - set(files):
        folder.kind(rel)
    blocked = [rel for rel in files if kinds[rel] == "other"]
    if blocked:
        raise PublishError(
            f"not publishing to {target}: where the site has a file, it holds a folder or a "
            f"special file: {', '.join(blocked[:10])}. Move them away"
        )
    foreign = [rel for rel in files if rel not in before and kinds[rel] != "missing"]
    # A link is never newsroom's (it publishes regular files only), whatever it points to.
    conflicts = [rel for rel in foreign if kinds[rel] == "link" or not folder.same(rel, site / rel)]
    if conflicts and not force:
        shown = ", ".join(conflicts[:10])
        more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
        raise PublishError(
            f"not publishing to {target}: it holds files newsroom did not publish there, which "
            f"the site would replace: {shown}{more}. Move them away, or replace them with "
            "`newsroom publish --force`"
        )
    # An identical file already there is left as it is and stays someone else's.
    ours = [rel for rel in files if rel in before or rel in conflicts or rel not in foreign]
    result = FolderResult(target)
    # Recorded before copying, so an interrupted publish still knows what it may have written.
    _write_record(folder, before | set(ours))
    for rel in files:
        if kinds[rel] == "file" and folder.same(rel, site / rel):
            result.unchanged += 1
            continue
        # Through a temporary name, so a web server never serves half a file.
        folder.write(rel, site / rel)
        result.copied.append(rel)
    for rel in sorted(before - set(files)):
        if folder.remove(rel):
            result.removed.append(rel)
    _write_record(folder, ours)
    state.setdefault("folders", {})[key] = ours
    return result


# -- git --------------------------------------------------------------------------------


def _git(
    repo: Path, *args: str, env: dict[str, str] | None = None, input: bytes | None = None
) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=repo,
            env={**os.environ, **(env or {})},
            input=input,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise PublishError("publishing to a branch needs the git command") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise PublishError(f"git {args[0]}: {message}")
    return done.stdout.decode("utf-8", "replace").strip()


def repository_of(folder: Path) -> Path:
    """The top of the git work tree holding ``folder``."""
    try:
        return Path(_git(folder, "rev-parse", "--show-toplevel"))
    except PublishError:
        raise PublishError(
            f"{folder} is not inside a git repository: run `git init` there, or publish "
            "to a folder ([publish] directory)"
        ) from None


def _identity(repo: Path) -> dict[str, str]:
    """Commit as the repository's configured user, or as newsroom when there is none."""
    env: dict[str, str] = {}
    for kind in ("name", "email"):
        try:
            value = _git(repo, "config", f"user.{kind}")
        except PublishError:
            value = ""
        if not value and not os.environ.get(f"GIT_AUTHOR_{kind.upper()}"):
            default = "newsroom" if kind == "name" else "newsroom@localhost"
            env[f"GIT_AUTHOR_{kind.upper()}"] = env[f"GIT_COMMITTER_{kind.upper()}"] = default
    return env


def _checked_out(repo: Path) -> dict[str, Path | None]:
    """The branches checked out in ``repo``: the current one, and those of every worktree."""
    found: dict[str, Path | None] = {}
    try:
        found[_git(repo, "symbolic-ref", "-q", "HEAD")] = None
    except PublishError:  # a detached HEAD
        pass
    worktree: Path | None = None
    for line in _git(repo, "worktree", "list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            worktree = Path(line.removeprefix("worktree "))
        elif line.startswith("branch "):
            found[line.removeprefix("branch ")] = worktree
    return found


def _refuse_checked_out(repo: Path, ref: str, branch: str) -> None:
    checked_out = _checked_out(repo)
    if ref in checked_out:
        where = checked_out[ref] or repo
        raise PublishError(
            f"cannot publish to branch {branch}: it is checked out in {where}, and its next "
            "commit would build on the site instead of your files; publish to another branch "
            '(e.g. git_branch = "gh-pages")'
        )


def publish_to_branch(
    site: Path, repo: Path, branch: str, *, message: str, remote: str = ""
) -> BranchResult:
    """Commit ``site`` as the whole tree of ``branch`` in ``repo`` (created when missing);
    push it to ``remote`` when one is given."""
    site_files(site)  # refuses a missing site
    ref = f"refs/heads/{branch}"
    _git(repo, "check-ref-format", ref)
    _refuse_checked_out(repo, ref, branch)
    with tempfile.TemporaryDirectory(prefix="newsroom-publish-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(repo, f"--work-tree={site.resolve()}", "add", "--all", "--force", ".", env=env)
        blob = _git(repo, "hash-object", "-w", "--stdin", input=b"")
        _git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},.nojekyll", env=env)
        tree = _git(repo, "write-tree", env=env)
    try:
        parent = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except PublishError:
        parent = ""
    if parent and _git(repo, "rev-parse", f"{parent}^{{tree}}") == tree:
        commit, changed = parent, False
    else:
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args[2:2] = ["-p", parent]
        commit = _git(repo, *args, env=_identity(repo))
        # Compare-and-swap: a publish running at the same time fails instead of being lost.
        _git(repo, "update-ref", "-m", "newsroom publish", ref, commit, parent or "0" * 40)
        changed = True
    result = BranchResult(repo, branch, commit, changed)
    if remote:
        _git(repo, "push", "--quiet", remote, f"{ref}:{ref}")
        result.pushed_to = remote
    return result
