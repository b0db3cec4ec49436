"""Related stories: for an article, other threads that share its main entities.

Pure. An article's main entities are the first few of each type in its front
matter (ingest lists them most salient first). A thread scores the rarer of
those entities higher (an entity in every article says little), and only the
latest threads of each entity are looked at, so a build stays fast on large sites.
"""

from __future__ import annotations

import math

from .content import Article, Site, Thread

MAIN_PER_TYPE = 3
THREADS_PER_ENTITY = 40


def related_threads(site: Site, article: Article, limit: int) -> list[Thread]:
    """Up to `limit` other threads sharing the article's main entities, strongest first."""
    own = article.thread_id
    total = len(site.articles) or 1
    scores: dict[str, float] = {}
    for kind, names in article.entities.items():
        for name in names[:MAIN_PER_TYPE]:
            entity = site.entities.get((kind, name))
            if entity is None:
                continue
            weight = math.log(1 + total / len(entity.articles))
            for tid in entity.threads[:THREADS_PER_ENTITY]:
                if tid != own and tid in site.threads:
                    scores[tid] = scores.get(tid, 0.0) + weight
    ranked = sorted(scores, key=lambda t: (-scores[t], -site.threads[t].latest.date.timestamp(), t))
    return [site.threads[t] for t in ranked[:limit]]
