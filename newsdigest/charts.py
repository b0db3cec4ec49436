"""Small SVG pictures drawn at build time: no JavaScript, no external files.

Pure functions from dates to SVG text (as Markup, since every value inside is a
number or a date we formatted ourselves).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from markupsafe import Markup, escape

_W, _H = 640, 120


def thread_timeline(dates: Sequence[dt.datetime], tz: dt.tzinfo) -> Markup:
    """One mark per article on a time axis, oldest left."""
    if not dates:
        return Markup("")
    local = sorted(d.astimezone(tz) for d in dates)
    start, end = local[0], local[-1]
    span = max((end - start).total_seconds(), 1.0)
    pad = 24
    label = f"{len(local)} articles from {start:%-d %b %Y} to {end:%-d %b %Y}"
    marks = []
    for i, d in enumerate(local):
        x = pad + (_W - 2 * pad) * ((d - start).total_seconds() / span if len(local) > 1 else 0.5)
        marks.append(f'<circle cx="{x:.1f}" cy="50" r="7"><title>{i + 1}: {d:%-d %b %Y %H:%M}</title></circle>')
    return Markup(
        f'<svg class="chart" viewBox="0 0 {_W} 90" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
        f'<line x1="{pad}" y1="50" x2="{_W - pad}" y2="50" class="axis"/>'
        + "".join(marks)
        + f'<text x="{pad}" y="82" class="tick">{start:%-d %b %Y}</text>'
        + f'<text x="{_W - pad}" y="82" class="tick" text-anchor="end">{end:%-d %b %Y}</text></svg>')


def mention_timeline(dates: Sequence[dt.datetime], tz: dt.tzinfo) -> Markup:
    """Articles per month (per day for a short span) as bars."""
    if not dates:
        return Markup("")
    local = [d.astimezone(tz).date() for d in dates]
    counts = Counter(local)
    first, last = min(counts), max(counts)
    daily = (last - first).days <= 45
    if daily:
        buckets = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        fmt = "%-d %b %Y"
    else:
        buckets, y, m = [], first.year, first.month
        while (y, m) <= (last.year, last.month):
            buckets.append(dt.date(y, m, 1))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        months: Counter[dt.date] = Counter()
        for day, n in counts.items():  # day by day: an entity has many articles some days
            months[day.replace(day=1)] += n
        counts = months
        fmt = "%b %Y"
    top = max(counts.values())
    pad, base = 24, _H - 24
    width = (_W - 2 * pad) / len(buckets)
    bars = []
    for i, b in enumerate(buckets):
        n = counts.get(b, 0)
        if not n:
            continue
        h = max(2.0, (base - 10) * n / top)
        bars.append(f'<rect x="{pad + i * width + width * 0.1:.1f}" y="{base - h:.1f}" '
                    f'width="{max(width * 0.8, 1):.1f}" height="{h:.1f}"><title>{_label(b, fmt)}: {n}</title></rect>')
    unit = "day" if daily else "month"
    label = (f"{len(local)} mentions, {_label(first, '%-d %b %Y')} to {_label(last, '%-d %b %Y')}, "
             f"busiest {unit}: {top}")
    return Markup(
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
        f'<line x1="{pad}" y1="{base}" x2="{_W - pad}" y2="{base}" class="axis"/>' + "".join(bars)
        + f'<text x="{pad}" y="{_H - 6}" class="tick">{_label(buckets[0], fmt)}</text>'
        + f'<text x="{_W - pad}" y="{_H - 6}" class="tick" text-anchor="end">{_label(buckets[-1], fmt)}</text></svg>')


@lru_cache(maxsize=8192)
def _label(day: dt.date, fmt: str) -> str:
    """`day` as `fmt` says: the charts of thousands of entities name the same days and months."""
    return format(day, fmt)
