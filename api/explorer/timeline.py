"""Timelines drawn on the server as SVG: periods (a membership, a grant, a body's life, a seat) as
bars on rows along the years, so that a visitor sees at a glance where a competence sat and for
how long. The picture repeats facts the page also gives as text, which is what screen readers
read; the template hides the SVG from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH = 960
LABELS_WIDTH = 260
"""Where the bars start: the rows' labels stand to the left."""
ROW_HEIGHT = 30
BAR_HEIGHT = 20
AXIS_HEIGHT = 28
CHAR_WIDTH = 7.2
"""A generous width of one character of the bars' text, to leave out what would not fit."""


def day_of(value: str | None) -> date | None:
    """A date of an answer (ISO, or null for an open end) as a date."""
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Span:
    """One period on a row: `row` names the row (several spans may share it), `text` the bar,
    `group` the heading the row stands under (a competence, say)."""

    group: str
    row: str
    text: str
    start: date
    end: date | None
    """The first day it no longer held (half-open); None: it still holds."""
    tone: str
    """What kind of period, for its colour: local, regional, member, life, seat."""
    href: str | None = None
    """The page of what `text` names (a person's, a body's), for the periods as text."""


@dataclass(frozen=True)
class Bar:
    span: Span
    x: float
    y: float
    width: float
    text: str
    """The span's text as far as it fits the bar: whole, without what stands in brackets
    (a holder's office), or not at all."""


@dataclass(frozen=True)
class Row:
    label: str
    y: float
    """The row's middle."""
    heading: bool = False
    """A group's heading, drawn across the picture above its rows."""


@dataclass(frozen=True)
class Tick:
    year: int
    x: float


@dataclass(frozen=True)
class Timeline:
    rows: list[Row]
    bars: list[Bar]
    ticks: list[Tick]
    width: int
    height: int
    today_x: float


Lane = tuple[str, str, list[Span]]
"""A row's group, its label and its spans."""


def _lanes(spans: list[Span]) -> list[Lane]:
    """The rows in the order their groups and labels first appear; a span that overlaps one
    already on its row goes on a row of its own below it, with the same label."""
    lanes: list[Lane] = []
    for span in sorted(spans, key=lambda s: s.start):
        lane = next((on for group, label, on in lanes if (group, label) == (span.group, span.row)
                     and all(s.end is not None and s.end <= span.start for s in on)), None)
        if lane is None:
            lanes.append((span.group, span.row, [span]))
        else:
            lane.append(span)
    order = list(dict.fromkeys((s.group, s.row) for s in spans))
    return sorted(lanes, key=lambda lane: order.index(lane[:2]))


def _fitted(text: str, width: float) -> str:
    for shown in (text, text.split(" (")[0]):
        if len(shown) * CHAR_WIDTH + 8 <= width:
            return shown
    return ""


def timeline(spans: list[Span], today: date) -> Timeline | None:
    """The picture of `spans` up to `today`; None when there is nothing to draw."""
    if not spans:
        return None
    first = min(s.start for s in spans).year
    last = max([today.year, *(s.end.year for s in spans if s.end is not None)]) + 1
    chart = WIDTH - LABELS_WIDTH - 24  # room for the last year's number

    def x(day: date) -> float:
        years = day.year + (day.timetuple().tm_yday - 1) / 366
        return round(LABELS_WIDTH + chart * (years - first) / (last - first), 1)

    step = max(1, -(-(last - first) // 10))
    ticks = [Tick(year, x(date(year, 1, 1))) for year in range(first, last + 1, step)]
    rows: list[Row] = []
    bars: list[Bar] = []
    group = None
    for lane_group, label, lane in _lanes(spans):
        if lane_group != group:
            group = lane_group
            rows.append(Row(group, AXIS_HEIGHT + ROW_HEIGHT * len(rows) + ROW_HEIGHT / 2, True))
        middle = AXIS_HEIGHT + ROW_HEIGHT * len(rows) + ROW_HEIGHT / 2
        rows.append(Row(label, middle))
        for span in lane:
            left, right = x(span.start), x(span.end or today)
            width = max(right - left - 1, 2.0)  # a hair between periods that meet
            bars.append(Bar(span, left, middle - BAR_HEIGHT / 2, width, _fitted(span.text, width)))
    return Timeline(rows, bars, ticks, WIDTH, AXIS_HEIGHT + ROW_HEIGHT * len(rows) + 4,
                    x(today))
