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


#: The label of an item's own link, by kind; other kinds use "Read more".
KIND_LABELS = {
    "paper": N_("Paper"),
    "repository": N_("Repository"),
    "model": N_("Model"),
    "product": N_("Product"),
    "discussion": N_("Discussion"),
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
    "model": N_("Model"),
    "dataset": N_("Dataset"),
    "github": N_("GitHub"),
    "huggingface": N_("Hugging Face"),
}

#: Plural forms of metrics on an item's source line: (singular, plural).
METRIC_LABELS = {
    "points": Nn_("%(num)s point", "%(num)s points"),
    "comments": Nn_("%(num)s comment", "%(num)s comments"),
}


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
        return self.gettext(KIND_LABELS.get(kind, READ_MORE))

    def link_label(self, key: str) -> str:
        label = LINK_LABELS.get(key.lower())
        return self.gettext(label) if label else key

    def metric(self, key: str, value: float, shown: str) -> str:
        """``"12 points"`` / ``"댓글 3개"``: ``shown`` is ``value`` formatted for the locale."""
        singular, plural = METRIC_LABELS[key]
        count = int(value) if float(value).is_integer() else 2
        return self.ngettext(singular, plural, count) % {"num": shown}
