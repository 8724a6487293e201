"""The editor's commands: ``approve`` (for ``[email] require_approval``) and ``notes`` (a
notes file to start from)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from newsroom.cli.common import Options, edition_path, handle_errors
from newsroom.core import exitcodes

if TYPE_CHECKING:
    from newsroom.core.model import Edition


@click.command()
@click.argument("edition_id")
@click.option("--by", metavar="NAME", help="Who approves (default: the login name).")
@click.option("--revoke", is_flag=True, help="Withdraw the approval instead.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.pass_obj
@handle_errors
def approve(opts: Options, edition_id: str, by: str | None, revoke: bool, as_json: bool) -> None:
    """Approve EDITION as it is rendered now, so `newsroom send` may send it when
    [email] require_approval is on. A later change to its email needs a new approval."""
    from newsroom.core.sanitize import load_edition
    from newsroom.deliver import approvals
    from newsroom.store.state import State

    newsletter = opts.open()
    config = newsletter.config
    path = edition_path(newsletter, edition_id)
    with State.of(config) as state:
        if revoke:
            withdrawn = approvals.revoke(state, edition_id)
            if as_json:
                click.echo(json.dumps({"edition": edition_id, "revoked": withdrawn}))
            elif withdrawn:
                click.echo(f"Withdrew the approval of {edition_id}.")
            else:
                click.echo(f"Edition {edition_id} was not approved.", err=True)
            sys.exit(exitcodes.OK if withdrawn else exitcodes.USAGE)
        content_hash = approvals.rendered_hash(path.parent, edition_id)
        earlier = approvals.approval(state, edition_id)
        record = approvals.approve(state, edition_id, content_hash, by)
    edition = load_edition(path)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "edition": edition_id,
                    "title": edition.title,
                    "content_hash": content_hash,
                    "approved_by": record.approved_by,
                    "approved_at": record.approved_at.isoformat(),
                    "replaces": earlier.content_hash if earlier else None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    sections = len(edition.sections)
    items = len(edition.items)
    who = f" by {record.approved_by}" if record.approved_by else ""
    click.echo(
        f"Approved {edition_id}{who}: {edition.title!r}, {sections} section(s), {items} item(s), "
        f"as rendered now ({content_hash[:12]})."
    )
    if earlier and earlier.content_hash != content_hash:
        click.echo(
            f"  This replaces the approval of {earlier.approved_at:%Y-%m-%d %H:%M} UTC, given to "
            "an earlier rendering."
        )
    if not config.email.require_approval:
        click.echo("  Note: [email] require_approval is off, so `newsroom send` does not ask.")
    click.echo(f"  Send it with: newsroom send {edition_id}")


@click.command()
@click.argument("edition_id", required=False)
@click.pass_obj
@handle_errors
def notes(opts: Options, edition_id: str | None) -> None:
    """Start the editor's notes of EDITION (default: the latest built): notes/EDITION.md,
    with every part's heading and the edition's items listed to copy links from."""
    from newsroom.core.errors import BuildError
    from newsroom.core.sanitize import load_edition
    from newsroom.curate.notes import NOTES_DIR

    newsletter = opts.open()
    path = edition_path(newsletter, edition_id)
    edition = load_edition(path)
    target = newsletter.config.root / NOTES_DIR / f"{edition.id}.md"
    if target.exists():
        raise BuildError(f"{target} exists already; edit it, then run `newsroom build` again")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(notes_template(edition), "utf-8")
    click.echo(f"Wrote {target}; edit it, then run `newsroom build --edition {edition.id}`.")


def notes_template(edition: Edition) -> str:
    """A notes file with every part, and the edition's items in a comment."""
    korean = edition.language.split("-")[0] == "ko"
    heads = (
        ("인트로", "인사이트", "고정", "제외", "추가", "순서")
        if korean
        else ("Intro", "Insight", "Pin", "Drop", "Add", "Order")
    )
    intro = (
        "이 호에 실린 항목입니다. 고정하거나 뺄 항목의 링크를 아래 목록에 옮겨 쓰세요."
        if korean
        else "The edition as built: copy the links of items to pin or drop into the lists below."
    )
    listing = [intro]
    for section in edition.sections:
        listing.append(f"  {section.id}: {section.title}")
        # "--" would end the comment early.
        listing.extend(
            f"    - {item.url}  {item.title.replace('--', '—')}" for item in section.items
        )
    parts = "\n\n".join(f"## {head}" for head in heads)
    order = "".join(f"- {section.id}\n" for section in edition.sections)
    return f"# {edition.title}\n\n<!--\n" + "\n".join(listing) + f"\n-->\n\n{parts}\n{order}"


#: The commands this module adds to ``newsroom``.
COMMANDS = [approve, notes]
