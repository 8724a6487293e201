"""``newsroom review``: the editor's check of an edition before it is sent."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from newsroom.cli.common import Options, edition_path, handle_errors
from newsroom.core import exitcodes

if TYPE_CHECKING:
    from newsroom.config import Config
    from newsroom.render.review import Review


def review_of(config: Config, edition_id: str | None) -> Review:
    """The review of the built edition ``edition_id`` of ``config``."""
    from newsroom.config.outputs import edition_dir
    from newsroom.core.errors import BuildError
    from newsroom.core.sanitize import load_edition
    from newsroom.render.review import review_edition

    path = edition_dir(config, edition_id) / "edition.json" if edition_id else None
    if path is None or not path.is_file():
        raise BuildError(f"no edition {edition_id!r} to review; run `newsroom build` first")
    return review_edition(config, load_edition(path), path.parent)


def print_review(review: Review, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(review.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"Review of {review.edition}: subject {review.subject!r}")
    for finding in review.errors + review.warnings:
        where = " / ".join(p for p in (finding.section, finding.item) if p)
        click.echo(
            f"  {finding.level}: {finding.check}: {where + ': ' if where else ''}{finding.message}"
        )
    if not review.rendered:
        click.echo("  (not rendered yet: the email's size and images were not checked)")
    click.echo(f"{len(review.errors)} error(s), {len(review.warnings)} warning(s).")


def hold_unless_reviewed(config: Config, edition_id: str) -> None:
    """With ``[email] require_review``, exit with code 12 when ``edition_id``'s review has
    errors, saying which."""
    if not config.email.require_review:
        return
    review = review_of(config, edition_id)
    if review.errors:
        print_review(review, as_json=False)
        click.echo(
            f"Held {edition_id}: its review has {len(review.errors)} error(s) and [email] "
            "require_review is on; fix them (the notes, the config) and build again.",
            err=True,
        )
        sys.exit(exitcodes.REVIEW_ERRORS)


@click.command()
@click.argument("edition_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.pass_obj
@handle_errors
def review(opts: Options, edition_id: str | None, as_json: bool) -> None:
    """Check EDITION (default: the latest built) before sending: items without a summary,
    titles and summaries not in the newsletter's language, stories repeated, empty or thin
    sections, tracking links, the subject, Gmail's clipping size, images without alt text.
    Exits with 12 when there are errors."""
    newsletter = opts.open()
    eid = edition_path(newsletter, edition_id).parent.name
    result = review_of(newsletter.config, eid)
    print_review(result, as_json)
    sys.exit(exitcodes.REVIEW_ERRORS if result.errors else exitcodes.OK)


#: The commands this module adds to ``newsroom``.
COMMANDS = [review]
