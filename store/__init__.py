"""factbot's store: seed parsing, the SQLite index and search. Imports nothing from Slack.

    from store import Index
    index = Index.open("factbot.db", seeds="seeds")   # builds the index when the file is new
    result = index.search("ipo seres", limit=5)
    for hit in result.hits:
        print(hit.text, hit.article.title, hit.section, hit.citations)
    report = index.reload(actor="cli")                # re-read the seeds folder
"""
from store.model import Article, ArticleInfo, Fact, ParseError, ParseResult
from store.parse import parse_bytes, parse_file, parse_text
from store.index import FileReport, Index, ReloadBusy, ReloadFailed, ReloadRefused, ReloadReport
from store.hits import Hit, SearchResult

__all__ = [
    "Article", "ArticleInfo", "Fact", "FileReport", "Hit", "Index", "ParseError", "ParseResult",
    "ReloadBusy", "ReloadFailed", "ReloadRefused", "ReloadReport", "SearchResult", "parse_bytes", "parse_file", "parse_text",
]
