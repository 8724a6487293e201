"""Reading the arXiv API's Atom responses into :class:`~newsroom.Item` objects.

Two formats are in the wild and both are handled: the current backend (2025-) and the
legacy one, which hard-wraps titles and abstracts at about 80 columns and declares the
``arxiv:``/``opensearch:`` namespaces on each element instead of the root.
"""

from __future__ import annotations

import datetime as dt
import html
import re

from lxml import etree

from newsroom import Item, SourceError

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"

# The error feed's single entry has an id like https://arxiv.org/api/errors#incorrect_id_...
_ERROR_ID = re.compile(r"arxiv\.org/api/errors", re.IGNORECASE)
_VERSION = re.compile(r"v\d+$")


def _parser() -> etree.XMLParser:
    # A response is untrusted input: no entity expansion, no DTD fetching.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def fold(text: str | None) -> str:
    """Collapse runs of whitespace (the legacy format hard-wraps titles and abstracts)."""
    return " ".join((text or "").split())


def https(url: str) -> str:
    """arXiv serves everything over https; the legacy format still writes http links."""
    return "https://" + url[len("http://") :] if url.startswith("http://") else url


def arxiv_id(entry_id: str) -> str:
    """``http://arxiv.org/abs/2607.09662v1`` → ``2607.09662``; old ids keep their archive
    (``astro-ph/0601001``)."""
    _, _, tail = entry_id.partition("/abs/")
    return _VERSION.sub("", tail or entry_id)


def parse_feed(content: bytes, url: str) -> etree._Element:
    """The ``<feed>`` root of an Atom document, or :class:`SourceError` if it is not one."""
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"arXiv did not answer with an Atom feed ({exc.msg})", url=url) from None
    if root.tag != f"{ATOM}feed":
        name = etree.QName(root).localname
        raise SourceError(
            f"arXiv did not answer with an Atom feed (root element <{name}>)", url=url
        )
    return root


def _text(entry: etree._Element, tag: str) -> str:
    """An element's whole text, folded (``findtext`` would stop at a stray child element)."""
    element = entry.find(tag)
    return fold("".join(element.itertext())) if element is not None else ""


def api_error(feed: etree._Element) -> str | None:
    """arXiv's message when ``feed`` is the API's error feed, else ``None``."""
    for entry in feed.iterfind(f"{ATOM}entry"):
        if _ERROR_ID.search(entry.findtext(f"{ATOM}id") or ""):
            return _text(entry, f"{ATOM}summary") or "unknown error"
    return None


def _published(entry: etree._Element) -> dt.datetime | None:
    text = (entry.findtext(f"{ATOM}published") or "").strip()
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _links(entry: etree._Element) -> tuple[str | None, str | None, str | None]:
    """The abstract page, PDF and DOI links of an entry."""
    abs_url = pdf = doi = None
    for link in entry.iterfind(f"{ATOM}link"):
        href, rel, title = link.get("href"), link.get("rel"), link.get("title")
        if not href:
            continue
        if rel == "alternate":
            abs_url = href
        elif title == "pdf" or link.get("type") == "application/pdf":
            pdf = href
        elif title == "doi":
            doi = href
    return abs_url, pdf, doi


def _categories(entry: etree._Element) -> tuple[str | None, list[str]]:
    """The primary category and every category, primary first, without repeats."""
    primary_el = entry.find(f"{ARXIV}primary_category")
    primary = primary_el.get("term") if primary_el is not None else None
    terms = [primary] if primary else []
    for cat in entry.iterfind(f"{ATOM}category"):
        term = cat.get("term")
        if term and term not in terms:
            terms.append(term)
    return primary or (terms[0] if terms else None), terms


def entry_to_item(entry: etree._Element) -> Item | None:
    """One paper, or ``None`` for an entry without an id or title."""
    entry_id = (entry.findtext(f"{ATOM}id") or "").strip()
    title = _text(entry, f"{ATOM}title")
    if not entry_id or not title:
        return None
    paper_id = arxiv_id(entry_id)
    abs_url, pdf, doi = _links(entry)
    # The versionless abstract page: the same paper keeps one URL (and id) across revisions.
    url = _VERSION.sub("", https(abs_url or entry_id))
    primary, tags = _categories(entry)
    abstract = _text(entry, f"{ATOM}summary")
    links = {"pdf": https(pdf)} if pdf else {}
    if doi:
        links["doi"] = https(doi)
    extra: dict[str, str] = {"arxiv_id": paper_id}
    if primary:
        extra["primary_category"] = primary
    for field in ("comment", "journal_ref"):
        value = fold(entry.findtext(f"{ARXIV}{field}"))
        if value:
            extra[field] = value
    return Item(
        url=url,
        title=title,
        summary=f"<p>{html.escape(abstract)}</p>" if abstract else "",
        kind="paper",
        publisher="arXiv",
        published=_published(entry),
        authors=[
            name
            for a in entry.iterfind(f"{ATOM}author")
            if (name := fold(a.findtext(f"{ATOM}name")))
        ],
        tags=tags,
        links=links,
        extra=extra,
    )


def feed_items(feed: etree._Element) -> tuple[list[Item], int]:
    """Every usable entry of a result feed, in the feed's order, and how many were not."""
    items = [entry_to_item(entry) for entry in feed.iterfind(f"{ATOM}entry")]
    usable = [item for item in items if item is not None]
    return usable, len(items) - len(usable)
