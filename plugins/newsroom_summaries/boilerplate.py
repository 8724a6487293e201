"""The lines feeds wrap around every entry, which say nothing about the item itself.

Only formats the first-party sources actually meet are handled, each by a pattern tight
enough not to touch ordinary text:

- Reddit: "submitted by /u/name [link] [comments]" after every post;
- hnrss: "Article URL: … Comments URL: … Points: N # Comments: N";
- WordPress: "The post … appeared first on …" (TechCrunch and many others);
- arXiv's RSS: "arXiv:2508.13426v1 Announce Type: new Abstract:" before the abstract;
- "Continue reading" and "Read more" links at the end.
"""

from __future__ import annotations

import re

_PATTERNS = [
    # Reddit: "&#32; submitted by &#32; <a …> /u/x </a> <br/> <span><a …>[link]</a></span>
    # &#32; <span><a …>[comments]</a></span>"
    re.compile(r"(?:&#32;|\s)*submitted\s+by\s.*?\[comments\]\s*</a>\s*(?:</span>)?", re.I | re.S),
    re.compile(r"<p>\s*(?:Article URL|Comments URL|Points|#\s*Comments):.*?</p>", re.I | re.S),
    re.compile(r"<p>\s*The post\s.*?\sappeared first on\s.*?</p>", re.I | re.S),
    re.compile(r"^\s*(?:<p>\s*)?arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.I),
    re.compile(
        r"<a\b[^>]*>\s*(?:Continue reading|Read more|Read the full story"
        r"|(?:기사\s?)?(?:더\s?보기|전문\s?보기|원문\s?보기))"
        r"[^<]*</a>\s*\.?",
        re.I,
    ),
]


def strip_boilerplate(markup: str) -> str:
    """``markup`` without the feed boilerplate above."""
    for pattern in _PATTERNS:
        markup = pattern.sub(" ", markup)
    return markup
