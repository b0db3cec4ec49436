"""Daily digests: a `Site` grouped into days, each day its threads and what changed.

Pure: the site in, `Day` records out. A day is a calendar day in the site's
time zone; a thread appears on every day it received an article or a new
version of an earlier one (an update, from the article's `versions:`, or its
`updated:` time when it has no version history).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from . import urls
from .content import Article, Site, Thread


@dataclass(frozen=True)
class Update:
    """A new version of an article that arrived on a later day than the article itself."""

    article: Article
    received: dt.datetime
    headline: str  # the version's headline
    note: str = ""  # what the version brought, as the wire said: "Adds Kremlin comment"
    is_correction: bool = False

    @property
    def route(self) -> str:
        return self.article.route

    @property
    def detail(self) -> str:
        """What to say about the update: its note, else its headline when that differs from the title."""
        return self.note or (self.headline if self.headline != self.article.title else "")


@dataclass(frozen=True)
class DayThread:
    """One thread on one day: the articles it received, the updates to earlier ones, what they brought."""

    thread: Thread
    articles: tuple[Article, ...]  # that day's, oldest first
    earlier: tuple[Article, ...]  # the thread before that day, oldest first
    new_entities: tuple[tuple[str, str], ...]  # (type, name) first seen in the thread that day
    updates: tuple[Update, ...]  # that day's updates to articles of earlier days, oldest first
    last_news: dt.datetime  # the day's latest article, update, or new version of that day's articles

    @property
    def latest(self) -> Article:
        """The day's newest article, or on a day of updates only, the article updated last."""
        return self.articles[-1] if self.articles else self.updates[-1].article

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
        """The articles first published that day."""
        return [a for t in self.threads for a in t.articles]

    @property
    def updates(self) -> list[Update]:
        return [u for t in self.threads for u in t.updates]

    @property
    def article_count(self) -> int:
        return sum(len(t.articles) for t in self.threads)

    @property
    def update_count(self) -> int:
        return sum(len(t.updates) for t in self.threads)

    @property
    def last_news(self) -> dt.datetime:
        """The latest article or update of the day."""
        return max(t.last_news for t in self.threads)

    @property
    def last_change(self) -> dt.datetime:
        """When what the day's digest shows last changed: its articles' latest versions included."""
        return max([a.updated or a.date for a in self.articles]
                   + [max(u.received, u.article.updated or u.received) for u in self.updates])


def group_days(site: Site, tz: dt.tzinfo) -> list[Day]:
    """Every day with articles or updates, newest first, each linked to the days before and after."""
    by_day: dict[dt.date, list[DayThread]] = defaultdict(list)
    for thread in site.threads.values():
        for date, item in _thread_days(thread, tz):
            by_day[date].append(item)
    dates = sorted(by_day)
    days = []
    for i, date in enumerate(dates):
        items = sorted(by_day[date], key=lambda t: (t.last_news, t.thread.id), reverse=True)
        days.append(Day(date=date, threads=tuple(items),
                        previous=dates[i - 1] if i > 0 else None,
                        next=dates[i + 1] if i + 1 < len(dates) else None))
    days.reverse()
    return days


def article_updates(article: Article, tz: dt.tzinfo) -> list[Update]:
    """The article's versions received after the day it was published, the last of each day only."""
    if article.versions:
        found = [Update(article, v.received, v.headline, v.note, v.is_correction) for v in article.versions]
    elif article.updated:  # an update set by hand, with no version history
        found = [Update(article, article.updated, article.title)]
    else:
        return []
    published = article.date.astimezone(tz).date()
    last_of_day = {u.received.astimezone(tz).date(): u for u in sorted(found, key=lambda u: u.received)}
    return [u for day, u in sorted(last_of_day.items()) if day > published]


def _thread_days(thread: Thread, tz: dt.tzinfo) -> Iterator[tuple[dt.date, DayThread]]:
    """The thread on each day it had news, oldest day first.

    Each article's day is found once, and the entities seen before a day are gathered
    as the days go by, not again for every day of a long story.
    """
    published = [a.date.astimezone(tz).date() for a in thread.articles]
    articles: dict[dt.date, list[Article]] = defaultdict(list)
    updates: dict[dt.date, list[Update]] = defaultdict(list)
    for article, day in zip(thread.articles, published, strict=True):
        articles[day].append(article)
        for update in article_updates(article, tz):
            updates[update.received.astimezone(tz).date()].append(update)
    by_day = sorted(zip(published, thread.articles, strict=True), key=lambda pa: pa[0])
    seen: set[tuple[str, str]] = set()  # the entities of the articles published before `date`
    n = 0
    for date in sorted(articles.keys() | updates.keys()):
        while n < len(by_day) and by_day[n][0] < date:
            seen.update((k, name) for k, names in by_day[n][1].entities.items() for name in names)
            n += 1
        earlier = tuple(a for _, a in by_day[:n])  # those published before `date`, in the thread's order
        yield date, _day_thread(thread, date, tz, articles.get(date, []), updates.get(date, []), earlier, seen)


def _day_thread(thread: Thread, date: dt.date, tz: dt.tzinfo, articles: Sequence[Article],
                updates: Sequence[Update], earlier: tuple[Article, ...], seen: set[tuple[str, str]]) -> DayThread:
    same_day = [t for a in articles for t in [a.updated, *(v.received for v in a.versions)]
                if t is not None and t.astimezone(tz).date() == date]
    new: list[tuple[str, str]] = []
    if earlier:
        for article in articles:
            for kind, names in article.entities.items():
                new += [(kind, n) for n in names if (kind, n) not in seen and (kind, n) not in new]
    return DayThread(thread=thread, articles=tuple(sorted(articles, key=lambda a: (a.date, a.key))),
                     earlier=earlier, new_entities=tuple(new),
                     updates=tuple(sorted(updates, key=lambda u: (u.received, u.article.key))),
                     last_news=max([a.date for a in articles] + [u.received for u in updates] + same_day))


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
