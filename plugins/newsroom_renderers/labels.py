"""Words the renderers put together in Python (link labels, metrics), translated through the
theme's gettext catalogs like the templates' own ``_()`` strings.

Every msgid is written out here inside ``N_()`` or ``Nn_()`` so extraction tools
(``pybabel extract -k N_ -k Nn_:1,2``) and the catalog test find them; the default theme's
catalogs translate them.
"""

from __future__ import annotations

import gettext


def N_(message: str) -> str:
    """Mark ``message`` for extraction; translated when it is shown."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural form for extraction."""
    return singular, plural


#: The label of an item's own link, by what it is (``Item.link_kind``); other kinds use
#: "Read more".
KIND_LABELS = {
    "paper": N_("Paper"),
    "repository": N_("Repository"),
    "model": N_("Model"),
    "product": N_("Product"),
    "discussion": N_("Discussion"),
    "article": N_("Article"),
}
READ_MORE = N_("Read more")
#: After the first two of more than two authors.
ET_AL = N_("et al.")

#: Labels of ``Item.links`` keys; unknown keys are shown as they are.
LINK_LABELS = {
    "pdf": N_("PDF"),
    "code": N_("Code"),
    "discussion": N_("Discussion"),
    "comments": N_("Comments"),
    "doi": N_("DOI"),
    "demo": N_("Demo"),
    "project": N_("Project page"),
    "paper": N_("Paper"),
    "arxiv": N_("Paper"),
    "model": N_("Model"),
    "dataset": N_("Dataset"),
    "github": N_("GitHub"),
    "huggingface": N_("Hugging Face"),
    "website": N_("Website"),
    "article": N_("Article"),
    "repository": N_("Repository"),
}

#: Metrics on an item's source line, in the order shown: (singular, plural) with the
#: formatted count as ``%(num)s``. ``stars_period`` depends on the period the source counted
#: (``extra["since"]``: daily, weekly, monthly).
METRIC_LABELS = {
    "stars": Nn_("★ %(num)s star", "★ %(num)s stars"),
    "github_stars": Nn_("★ %(num)s GitHub star", "★ %(num)s GitHub stars"),
    "forks": Nn_("%(num)s fork", "%(num)s forks"),
    "upvotes": Nn_("%(num)s upvote", "%(num)s upvotes"),
    "votes": Nn_("▲ %(num)s vote", "▲ %(num)s votes"),
    "points": Nn_("%(num)s point", "%(num)s points"),
    "comments": Nn_("%(num)s comment", "%(num)s comments"),
}
PERIOD_LABELS = {
    "daily": N_("+%(num)s today"),
    "weekly": N_("+%(num)s this week"),
    "monthly": N_("+%(num)s this month"),
}
#: ``stars_period`` of a source that does not say which period.
RECENTLY = N_("+%(num)s recently")
#: A label shown with the source that reported it, when two reports of a story give the
#: same one ("12 comments (Hacker News)").
FROM_SOURCE = N_("%(label)s (%(source)s)")


class Messages:
    """One language's catalog, with the lookups the renderers need."""

    __slots__ = ("_tr",)

    def __init__(self, translations: gettext.NullTranslations) -> None:
        self._tr = translations

    def gettext(self, message: str) -> str:
        return self._tr.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._tr.ngettext(singular, plural, n)

    def kind_label(self, kind: str) -> str:
        """The label of an item's own link (``Item.link_kind``)."""
        label = KIND_LABELS.get(kind) or LINK_LABELS.get(kind.lower())
        return self.gettext(label or READ_MORE)

    def link_label(self, key: str) -> str:
        label = LINK_LABELS.get(key.lower())
        return self.gettext(label) if label else key

    def metric(self, key: str, value: float, shown: str) -> str:
        """``"12 points"`` / ``"댓글 3개"``: ``shown`` is ``value`` formatted for the locale.
        A metric without a label of its own is shown by its name ("upvote ratio 0.97")."""
        if key not in METRIC_LABELS:
            return f"{key.replace('_', ' ')} {shown}"
        singular, plural = METRIC_LABELS[key]
        count = int(value) if float(value).is_integer() else 2
        return self.ngettext(singular, plural, count) % {"num": shown}

    def period(self, since: object, shown: str) -> str:
        """``"+1,203 today"`` / ``"오늘 +1,203"``: stars gained in the source's period."""
        label = PERIOD_LABELS.get(since) if isinstance(since, str) else None
        return self.gettext(label or RECENTLY) % {"num": shown}

    def from_source(self, label: str, source: str) -> str:
        return self.gettext(FROM_SOURCE) % {"label": label, "source": source}
