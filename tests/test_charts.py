"""Charts: what the bars of an entity's chart say, in the site's zone."""

from __future__ import annotations

import datetime as dt
import re

from newsdigest.charts import mention_timeline

BERLIN = dt.timezone(dt.timedelta(hours=1))


def _titles(svg: str) -> list[str]:
    return re.findall(r"<rect [^>]*><title>([^<]*)</title>", svg)


def test_a_short_span_is_counted_by_day_in_the_site_zone():
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 2 March in Berlin
    svg = mention_timeline([late, late + dt.timedelta(hours=2), late + dt.timedelta(days=2)], BERLIN)
    assert _titles(svg) == ["2 Mar 2026: 2", "4 Mar 2026: 1"]
    assert "3 mentions, 2 Mar 2026 to 4 Mar 2026, busiest day: 2" in svg


def test_a_long_span_is_counted_by_month():
    days = [dt.datetime(2026, 1, d, 12, tzinfo=dt.UTC) for d in (3, 3, 20)] + [dt.datetime(2026, 4, 2, tzinfo=dt.UTC)]
    svg = mention_timeline(days, BERLIN)
    assert _titles(svg) == ["Jan 2026: 3", "Apr 2026: 1"]
    assert "busiest month: 3" in svg and ">Jan 2026</text>" in svg and ">Apr 2026</text>" in svg
