"""Where a newsletter's outputs live: each edition's folder and the files in it that the
later steps read (the render writes the email, ``send`` and ``approve`` read it back)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsroom.config.loading import Config

#: The rendered email of an edition: what ``send`` reads and an approval is tied to, in
#: the order :func:`newsroom.deliver.messages.files_hash` hashes them.
EMAIL_FILES = ("email.html", "email.txt", "email.json")


#: The folder under the output folder where ``newsroom dev-smtp`` keeps the mail it
#: receives, and where ``newsroom preview`` shows it from.
DEV_MAIL = "dev-mail"


def dev_mail_dir(config: Config) -> Path:
    """``<output>/dev-mail/``: the messages ``newsroom dev-smtp`` received for this newsletter."""
    return config.output_dir / DEV_MAIL


def edition_dir(config: Config, edition_id: str) -> Path:
    """The folder of one edition's outputs: ``<output>/editions/<id>/``."""
    return config.output_dir / "editions" / edition_id


def remove_rendered_email(folder: Path) -> None:
    """Remove the email a previous render left in an edition's folder.

    Called before a new ``edition.json`` is written there: a build killed between writing it
    and rendering must not leave the new edition beside the previous build's email, which
    ``newsroom send`` would then send as this edition. Without the files, ``send`` asks for
    a render instead.
    """
    for name in EMAIL_FILES:
        (folder / name).unlink(missing_ok=True)
