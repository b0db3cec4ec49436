"""Related stories: for an article, other threads that share its main entities.

Pure. An article's main entities are the first few of each type in its front
matter (ingest lists them most salient first). A thread scores the rarer of
those entities higher (an entity in every article says little), and only the
latest threads of each entity are looked at, so a build stays fast on large sites.
"""

from __future__ import annotations

import heapq
import math

from .content import Article, Site, Thread

MAIN_PER_TYPE = 3
THREADS_PER_ENTITY = 40


class RelatedStories:
    """Related stories of any article of one site; what every article's ranking uses is computed once."""

    def __init__(self, site: Site) -> None:
        self.site = site
        total = len(site.articles) or 1
        # Per entity: its weight (rarer counts more) and its latest threads.
        self._candidates = {key: (math.log(1 + total / len(entity.articles)),
                                  [tid for tid in entity.threads[:THREADS_PER_ENTITY] if tid in site.threads])
                            for key, entity in site.entities.items()}
        self._recency = {tid: -thread.latest.date.timestamp() for tid, thread in site.threads.items()}

    def of(self, article: Article, limit: int) -> list[Thread]:
        """Up to `limit` other threads sharing the article's main entities, strongest first."""
        candidates = self._candidates
        scores: dict[str, float] = {}
        get = scores.get
        for kind, names in article.entities.items():
            for name in names[:MAIN_PER_TYPE]:
                found = candidates.get((kind, name))
                if found is not None:
                    weight, tids = found
                    for tid in tids:
                        scores[tid] = get(tid, 0.0) + weight
        scores.pop(article.thread_id, None)
        if not scores or limit <= 0:
            return []
        # Only threads scoring at least the `limit`-th best score can rank: order just those.
        bar = heapq.nlargest(limit, scores.values())[-1]
        recency = self._recency
        best = sorted([(-score, recency[tid], tid) for tid, score in scores.items() if score >= bar])[:limit]
        return [self.site.threads[tid] for _, _, tid in best]
