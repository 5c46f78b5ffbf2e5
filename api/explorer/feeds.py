"""Atom feeds (RFC 4287) of the explorer's lists, made by feedgen, so that a journalist can follow
a body or a municipality in any feed reader: one entry per item, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from feedgen.feed import FeedGenerator
from starlette.requests import Request

ATOM = "application/atom+xml"
FEED_LENGTH = 50
"""The most entries a feed holds: a reader polls it, and keeps what it saw."""


@dataclass(frozen=True)
class FeedEntry:
    path: str
    """The address of the item's own page, from the site's root (/besluiten/CODE)."""
    title: str
    updated: date | datetime
    summary: str = ""


def _moment(day: date | datetime) -> datetime:
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=UTC)
    return datetime.combine(day, time(), UTC)


def atom(request: Request, title: str, entries: list[FeedEntry]) -> bytes:
    """The feed of the page at the request's address (without `.atom`), holding `entries`."""
    root = str(request.base_url).rstrip("/")
    page = str(request.url).replace(".atom", "", 1)
    feed = FeedGenerator()
    feed.id(page)
    feed.title(f"{title} · Bevoegd")
    feed.language("nl")
    feed.link(href=page, rel="alternate", type="text/html")
    feed.link(href=str(request.url), rel="self", type=ATOM)
    shown = entries[:FEED_LENGTH]
    feed.updated(max((_moment(e.updated) for e in shown),
                     default=datetime(1970, 1, 1, tzinfo=UTC)))
    for item in reversed(shown):  # feedgen puts each added entry first
        entry = feed.add_entry()
        entry.id(root + item.path)
        entry.title(item.title)
        entry.link(href=root + item.path, rel="alternate", type="text/html")
        entry.updated(_moment(item.updated))
        if item.summary:
            entry.summary(item.summary)
    return feed.atom_str(pretty=True)
