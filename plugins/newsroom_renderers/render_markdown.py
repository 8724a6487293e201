"""The ``markdown`` renderer: a Jekyll post in ``<output>/_posts/<date>-<slug>.md``."""

from __future__ import annotations

from pathlib import Path

from newsroom import BuildError, Edition, RenderContext, Renderer
from newsroom import Options as BaseOptions

from .common import environment, local_time, template_variables, write
from .mdtext import slugify

TEMPLATE = "markdown/post.md.j2"


class MarkdownRenderer(Renderer):
    """Write the edition as a Jekyll post: YAML front matter and a Markdown body."""

    name = "markdown"
    description = "Jekyll post with front matter (_posts/<date>-<slug>.md)"

    class Options(BaseOptions):
        layout: str = "post"
        """The Jekyll layout named in the front matter."""
        folder: str = "_posts"
        """Folder next to ``site/`` (inside the output folder) the post goes into."""

    options: Options

    def render(self, edition: Edition, ctx: RenderContext) -> list[Path]:
        when = local_time(edition)
        values = template_variables(
            edition,
            "markdown",
            ctx,
            layout=self.options.layout,
            # Jekyll's own format; the offset is the newsletter's zone (+0900 for Seoul).
            post_date=when.strftime("%Y-%m-%d %H:%M:%S %z"),
        )
        text = environment(ctx).get_template(TEMPLATE).render(values)
        folder = (ctx.site_dir.parent / self.options.folder).resolve()
        if not folder.is_relative_to(ctx.site_dir.parent.resolve()):
            raise BuildError(f"folder {self.options.folder!r} is outside the output folder")
        return [write(folder / f"{edition.date.isoformat()}-{post_slug(edition)}.md", text)]


def post_slug(edition: Edition) -> str:
    """``ai-브리핑`` from the newsletter's title, plus what the id adds to the date
    (``2026-02-14-evening`` → ``ai-브리핑-evening``), so two editions a day don't collide."""
    custom = edition.extra.get("slug")
    base = slugify(custom if isinstance(custom, str) else edition.newsletter.title) or "edition"
    rest = edition.id.removeprefix(edition.date.isoformat()).strip("-_.")
    suffix = slugify(rest) if rest else ""
    return f"{base}-{suffix}" if suffix else base
