"""The arxiv source against a real HTTP server on 127.0.0.1 serving captured API answers."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from newsroom_arxiv import ArxivSource
from pydantic import ValidationError

from newsroom import Item, SourceError
from newsroom.testing import LocalServer, run_source

DATA = Path(__file__).parent / "data" / "arxiv"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
QUERY_50 = "api-2026/ai-weekly-radar_query_cat-cs.AI-OR-cs.LG_max50_2026-07-13.xml"
ERROR_FEED = "api-2026/id_abc_s0_m100_b79c8dcf6bc3.body.xml"
EMPTY_FEED = "api-2026/id_0000.0000_s0_m100_8b51d9633a68.body.xml"


def source(server: LocalServer, **options: object) -> ArxivSource:
    options = {"categories": ["cs.AI"], "base_url": server.url, "delay": 0, **options}
    return ArxivSource(ArxivSource.Options(**options), instance="papers")


def fetch(src: ArxivSource, times: int = 1) -> tuple[list[Item], list[str]]:
    """Run ``src.fetch`` ``times`` times on one shared client; the last items and all warnings."""
    run = run_source(src, times=times, now=NOW)
    return run.items, run.messages


def query(server: LocalServer) -> dict[str, list[str]]:
    """The query parameters of the last request the server received."""
    return parse_qs(urlsplit(server.requests[-1].path).query)


@pytest.fixture
def arxiv_dir(shared_fixtures: Path) -> Path:
    return shared_fixtures / "arxiv"


# -- the request ----------------------------------------------------------------------------


def test_request_asks_for_newest_submissions_in_the_categories(local_server: LocalServer) -> None:
    local_server.add_file("/api/query", DATA / "query_3_entries.xml")
    fetch(source(local_server, categories=["cs.AI", "cs.CL"], max_results=25))
    request = local_server.requests[-1]
    assert urlsplit(request.path).path == "/api/query"
    assert query(local_server) == {
        "search_query": ["cat:cs.AI OR cat:cs.CL"],
        "start": ["0"],
        "max_results": ["25"],
        "sortBy": ["submittedDate"],
        "sortOrder": ["descending"],
    }
    assert request.headers["User-Agent"].startswith("newsroom/")


def test_query_is_anded_with_the_categories(local_server: LocalServer) -> None:
    local_server.add_file("/api/query", DATA / "query_3_entries.xml")
    fetch(source(local_server, categories=["cs.AI", "cs.CL"], query='abs:"tool use"'))
    assert query(local_server)["search_query"] == ['(cat:cs.AI OR cat:cs.CL) AND (abs:"tool use")']


def test_query_alone_is_sent_as_is(local_server: LocalServer) -> None:
    local_server.add_file("/api/query", DATA / "query_3_entries.xml")
    fetch(source(local_server, categories=[], query="ti:transformer"))
    assert query(local_server)["search_query"] == ["ti:transformer"]
    assert query(local_server)["max_results"] == ["50"]


@pytest.mark.parametrize(
    "options",
    [
        {"categories": []},
        {"categories": [], "query": "  "},
        {"categories": ["cs.AI OR cat:cs.LG"]},
        {"categories": ["cs.AI"], "max_results": 2001},
        {"categories": ["cs.AI"], "delay": -1},
        {"categories": ["cs.AI"], "sort": "relevance"},
    ],
)
def test_bad_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ArxivSource.Options(**options)


def test_defaults_follow_arxivs_rules() -> None:
    opts = ArxivSource.Options(categories=["hep-th", "cs.AI"])
    assert (opts.base_url, opts.delay, opts.max_results) == ("https://export.arxiv.org", 3.0, 50)


def test_registered_as_a_plugin(plugin_manager: object) -> None:
    registration = plugin_manager.sources.get("arxiv")  # type: ignore[attr-defined]
    assert registration is not None and registration.cls is ArxivSource
    assert ArxivSource.kind == "paper"


# -- parsing ---------------------------------------------------------------------------------


def test_sample_entries_become_papers(local_server: LocalServer) -> None:
    local_server.add_file("/api/query", DATA / "query_3_entries.xml")
    items, warnings = fetch(source(local_server))
    assert warnings == []
    first, revised, old = items

    assert first.title == "Small Models, Long Contexts: Retrieval Without Re-training"
    assert first.url == "https://arxiv.org/abs/2603.01234"
    assert first.links == {"pdf": "https://arxiv.org/pdf/2603.01234v1"}
    assert first.summary == (
        "<p>We show that models with &lt;1B parameters &amp; a retrieval index match larger "
        "ones on long-context tasks.</p>"
    )
    assert first.authors == ["Ada Lovelace", "Alan Turing"]
    assert first.published == dt.datetime(2026, 3, 1, 18, 30, tzinfo=dt.UTC)
    assert first.tags == ["cs.CL", "cs.AI"]  # primary category first
    assert first.extra == {"arxiv_id": "2603.01234", "primary_category": "cs.CL"}
    assert (first.kind, first.publisher) == ("paper", "arXiv")

    # A revision keeps the versionless URL (and so its id) but links the PDF it describes.
    assert revised.url == "https://arxiv.org/abs/2602.09876"
    assert revised.links == {
        "pdf": "https://arxiv.org/pdf/2602.09876v2",
        "doi": "https://doi.org/10.1000/agents.2026",
    }
    assert revised.extra["comment"] == "12 pages, 4 figures"
    assert revised.extra["journal_ref"] == "Proc. of Imaginary Conf. 2026"

    assert old.url == "https://arxiv.org/abs/cs/0112017"  # http upgraded to https
    assert old.links["pdf"] == "https://arxiv.org/pdf/cs/0112017v1"
    assert old.extra["arxiv_id"] == "cs/0112017"


def test_captured_2026_query_with_50_entries(local_server: LocalServer, arxiv_dir: Path) -> None:
    path = arxiv_dir / QUERY_50
    local_server.add_file("/api/query", path)
    items, warnings = fetch(source(local_server, categories=["cs.AI", "cs.LG"]))
    assert len(items) == 50 and warnings == []

    # feedparser as an independent reader of the same file.
    oracle = feedparser.parse(path.read_bytes()).entries
    assert [i.title for i in items] == [" ".join(e.title.split()) for e in oracle]
    assert [i.authors for i in items] == [[a.name for a in e.authors] for e in oracle]
    assert len({i.id for i in items}) == 50

    first = items[0]
    assert first.title.startswith("PHINN-EEG: Topological Time-Series Analysis of Dream-State EEG")
    assert first.url == "https://arxiv.org/abs/2607.09662"
    assert first.links["pdf"] == "https://arxiv.org/pdf/2607.09662v1"
    assert first.authors == ["Ren Takahashi", "Emre Yusuf", "Jayabrata Bhaduri"]
    assert first.tags == ["q-bio.NC", "cs.AI", "cs.LG", "eess.SP", "math.AT"]
    assert first.extra["primary_category"] == "q-bio.NC"
    assert first.published == dt.datetime(2026, 7, 10, 17, 59, 45, tzinfo=dt.UTC)
    assert first.summary.startswith("<p>Current electroencephalography (EEG)-based dream")

    for item in items:
        assert re.fullmatch(r"\d{4}\.\d{4,5}", item.extra["arxiv_id"])
        assert item.url == f"https://arxiv.org/abs/{item.extra['arxiv_id']}"
        assert item.links["pdf"].startswith(f"https://arxiv.org/pdf/{item.extra['arxiv_id']}v")
        assert item.tags[0] == item.extra["primary_category"]
        assert item.summary.startswith("<p>") and item.published is not None


def test_legacy_2016_format_is_unwrapped(local_server: LocalServer, arxiv_dir: Path) -> None:
    local_server.add_file("/api/query", arxiv_dir / "api-2016/id_list_1111.2011v2.xml")
    [paper], _ = fetch(source(local_server))
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.summary.startswith(
        "<p>Theoretical description of anisotropic systems, such as "
        "layered superconductors and coupled spin chains,"
    )
    assert "\n" not in paper.summary and "  " not in paper.summary
    assert paper.url == "https://arxiv.org/abs/1111.2011"
    assert paper.links == {
        "pdf": "https://arxiv.org/pdf/1111.2011v2",
        "doi": "https://dx.doi.org/10.1103/PhysRevB.85.115117",
    }
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.tags == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert paper.extra["primary_category"] == "cond-mat.str-el"
    assert paper.published == dt.datetime(2011, 11, 8, 18, 48, 36, tzinfo=dt.UTC)


def test_legacy_2016_search_result(local_server: LocalServer, arxiv_dir: Path) -> None:
    path = arxiv_dir / "api-2016/search_query_au_del_maestro.xml"
    local_server.add_file("/api/query", path)
    items, _ = fetch(source(local_server))
    assert len(items) == path.read_text().count("<entry>") == 10
    for item in items:
        assert "\n" not in item.title and "  " not in item.title
        assert not item.summary.startswith("<p> ")
        assert any(name.endswith("Del Maestro") for name in item.authors)


def test_xml_entities_are_not_expanded(local_server: LocalServer) -> None:
    # An answer that tries to read a local file through an external entity (XXE).
    evil = (
        (DATA / "query_3_entries.xml")
        .read_text()
        .replace(
            "<feed ",
            '<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n<feed ',
            1,
        )
        .replace("Ada Lovelace", "&xxe;")
    )
    local_server.add("/api/query", evil)
    items, _ = fetch(source(local_server))
    assert items[0].authors == ["Alan Turing"]  # the entity stayed an empty reference


# -- errors and empty answers -----------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 200])
def test_api_error_feed_gives_arxivs_message(
    local_server: LocalServer, arxiv_dir: Path, status: int
) -> None:
    # arXiv answers a bad request with HTTP 400 and an Atom feed holding one "Error" entry.
    local_server.add_file("/api/query", arxiv_dir / ERROR_FEED, status=status)
    with pytest.raises(SourceError, match="incorrect id format for abc") as info:
        fetch(source(local_server))
    assert urlsplit(info.value.url or "").path == "/api/query"


def test_empty_result_is_an_empty_list(local_server: LocalServer, arxiv_dir: Path) -> None:
    local_server.add_file("/api/query", arxiv_dir / EMPTY_FEED)
    assert fetch(source(local_server)) == ([], [])


def test_server_error_is_a_source_error(local_server: LocalServer) -> None:
    local_server.add("/api/query", "oops", status=500, content_type="text/plain")
    with pytest.raises(SourceError, match="500"):
        fetch(source(local_server))


def test_html_instead_of_atom_is_a_source_error(local_server: LocalServer) -> None:
    local_server.add(
        "/api/query",
        "<!DOCTYPE html><html><body><p>Maintenance<br></body></html>",
        content_type="text/html",
    )
    with pytest.raises(SourceError, match="Atom"):
        fetch(source(local_server))


def test_other_xml_is_a_source_error(local_server: LocalServer) -> None:
    local_server.add("/api/query", "<?xml version='1.0'?><rss version='2.0'><channel/></rss>")
    with pytest.raises(SourceError, match="<rss>"):
        fetch(source(local_server))


def test_entries_without_id_are_skipped_with_a_warning(local_server: LocalServer) -> None:
    body = (
        (DATA / "query_3_entries.xml")
        .read_text()
        .replace("<id>http://arxiv.org/abs/cs/0112017v1</id>", "", 1)
    )
    local_server.add("/api/query", body)
    items, warnings = fetch(source(local_server))
    assert len(items) == 2
    assert warnings == ["skipped 1 arXiv entries without an id or title"]


# -- politeness --------------------------------------------------------------------------------


def test_consecutive_requests_are_spaced_by_delay(local_server: LocalServer) -> None:
    body = (DATA / "query_3_entries.xml").read_bytes()
    arrivals: list[float] = []

    def handler(request: object, _: bytes) -> tuple[int, dict[str, str], bytes]:
        arrivals.append(time.monotonic())
        return 200, {"Content-Type": "application/atom+xml"}, body

    local_server.add("/api/query", handler=handler)
    items, _ = fetch(source(local_server, delay=0.5), times=2)
    assert len(items) == 3 and len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.5
