"""Media types in HTTP headers: which of the types the server offers a client prefers (Accept,
RFC 9110 section 12.5.1), and what a request body is (Content-Type)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

UTF_8 = frozenset({"utf-8", "utf8"})
"""The server reads and writes UTF-8 only; a media type naming another charset does not match."""


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    quality: float
    charset: str | None
    position: int

    def specificity(self, offer: str) -> int | None:
        """How closely the range names `offer` (2 exactly, 1 by type, 0 by `*/*`); None when
        it does not cover it."""
        if self.charset is not None and self.charset not in UTF_8:
            return None
        offered_type, _, offered_subtype = offer.partition("/")
        if self.type == "*":
            return 0
        if self.type != offered_type:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == offered_subtype else None


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers: highest quality, then named most exactly, then listed
    first; on a full tie, the earlier offer. Without an Accept header, the first offer. None
    when the client accepts none of them."""
    if accept is None or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    ranked = [(rank, -index, offer) for index, offer in enumerate(offers)
              if (rank := _rank(ranges, offer)) is not None]
    return max(ranked, key=lambda r: r[:2])[2] if ranked else None


def _rank(ranges: Sequence[MediaRange], offer: str) -> tuple[float, int, int] | None:
    """The offer's quality is that of the range that names it most exactly (RFC 9110)."""
    matches = [(specificity, -r.position, r) for r in ranges
               if (specificity := r.specificity(offer)) is not None]
    if not matches:
        return None
    specificity, negative_position, best = max(matches, key=lambda m: m[:2])
    return (best.quality, specificity, negative_position) if best.quality > 0 else None


def parse_accept(accept: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed ones are left out, as if not sent."""
    ranges = (_parse_range(part, position) for position, part in enumerate(accept.split(",")))
    return [r for r in ranges if r is not None]


def _parse_range(text: str, position: int) -> MediaRange | None:
    media, _, parameters = text.partition(";")
    kind, slash, subtype = media.strip().lower().partition("/")
    if not slash or not kind or not subtype or (kind == "*" and subtype != "*"):
        return None
    quality, charset = 1.0, None
    for name, value in _parameters(parameters):
        if name == "q":
            try:
                quality = float(value)
            except ValueError:
                return None
            if not 0 <= quality <= 1:
                return None
            break  # what follows q are accept-extensions, not media type parameters
        if name == "charset":
            charset = value
    return MediaRange(kind, subtype, quality, charset, position)


def is_utf8_json(content_type: str | None) -> bool:
    """Whether a request body of this Content-Type is JSON the server can read: application/json
    in UTF-8, which is what it is when no charset is named."""
    media, _, parameters = (content_type or "").partition(";")
    charset = dict(_parameters(parameters)).get("charset", "utf-8")
    return media.strip().lower() == "application/json" and charset in UTF_8


def _parameters(text: str) -> list[tuple[str, str]]:
    """`name=value` pairs of a header's parameters, lowercased, quotes removed."""
    pairs = (part.partition("=") for part in text.split(";") if part.strip())
    return [(name.strip().lower(), value.strip().strip('"').lower()) for name, _, value in pairs]
