"""Daily digests: a `Site` grouped into days, each day its threads and what changed.

Pure: the site in, `Day` records out. A day is a calendar day in the site's
time zone; a thread appears on every day it received an article.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from . import urls
from .content import Article, Site, Thread


@dataclass(frozen=True)
class DayThread:
    """One thread on one day: the articles it received and what they brought."""

    thread: Thread
    articles: tuple[Article, ...]  # that day's, oldest first
    earlier: tuple[Article, ...]  # the thread before that day, oldest first
    new_entities: tuple[tuple[str, str], ...]  # (type, name) first seen in the thread that day

    @property
    def latest(self) -> Article:
        return self.articles[-1]

    @property
    def is_new(self) -> bool:
        """True when the thread started that day."""
        return not self.earlier


@dataclass(frozen=True)
class Day:
    """One day's digest: its threads, newest activity first, and its neighbours."""

    date: dt.date
    threads: tuple[DayThread, ...]
    previous: dt.date | None = None
    next: dt.date | None = None

    @property
    def route(self) -> str:
        return urls.digest_route(self.date)

    @property
    def articles(self) -> list[Article]:
        return [a for t in self.threads for a in t.articles]

    @property
    def article_count(self) -> int:
        return sum(len(t.articles) for t in self.threads)


def group_days(site: Site, tz: dt.tzinfo) -> list[Day]:
    """Every day with articles, newest first, each linked to the days before and after."""
    by_day: dict[dt.date, dict[str, list[Article]]] = defaultdict(lambda: defaultdict(list))
    for thread in site.threads.values():
        for article in thread.articles:
            by_day[article.date.astimezone(tz).date()][thread.id].append(article)
    dates = sorted(by_day)
    days = []
    for i, date in enumerate(dates):
        items = [_day_thread(site.threads[tid], arts) for tid, arts in by_day[date].items()]
        items.sort(key=lambda t: (max(a.last_active for a in t.articles), t.thread.id), reverse=True)
        days.append(Day(date=date, threads=tuple(items),
                        previous=dates[i - 1] if i > 0 else None,
                        next=dates[i + 1] if i + 1 < len(dates) else None))
    days.reverse()
    return days


def _day_thread(thread: Thread, articles: Sequence[Article]) -> DayThread:
    todays = {a.key for a in articles}
    earlier = tuple(a for a in thread.articles if a.key not in todays and a.date < articles[0].date)
    seen = {(k, n) for a in earlier for k, names in a.entities.items() for n in names}
    new: list[tuple[str, str]] = []
    if earlier:
        for article in articles:
            for kind, names in article.entities.items():
                new += [(kind, n) for n in names if (kind, n) not in seen and (kind, n) not in new]
    return DayThread(thread=thread, articles=tuple(sorted(articles, key=lambda a: (a.date, a.key))),
                     earlier=earlier, new_entities=tuple(new))


def active_threads(site: Site, day: Day | None, tz: dt.tzinfo, *, days: int, limit: int) -> list[Thread]:
    """Threads with news in the `days` before `day`, not already in its digest, latest first."""
    if day is None:
        return []
    shown = {t.thread.id for t in day.threads}
    since = day.date - dt.timedelta(days=days)
    out = []
    for thread in site.threads_by_latest():
        if len(out) >= limit:
            break
        if thread.id not in shown and thread.last_active.astimezone(tz).date() >= since:
            out.append(thread)
    return out


def days_by_month(days: Sequence[Day]) -> dict[tuple[int, int], list[Day]]:
    """Days grouped by (year, month), each month's days newest first."""
    months: dict[tuple[int, int], list[Day]] = defaultdict(list)
    for day in days:
        months[(day.date.year, day.date.month)].append(day)
    return dict(months)
