"""The same corpus as a Hugo site, for the side-by-side figures in `make bench`.

Hugo gets equivalent work: a page per article (body, entity links, the other
articles of its thread), a taxonomy per entity type and for threads, so a term
page (paginated by 20) and an RSS feed (20 items) per entity and per thread,
a paginated front page and the site feed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

try:
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper
    from yaml import SafeLoader as _Loader

HUGO_CONFIG = """baseURL = "https://example.github.io/digest/"
title = "Bench Digest"
locale = "en"
disableKinds = ["robotsTXT"]
[taxonomies]
  person = "person"
  organization = "organization"
  place = "place"
  thread = "thread"
[pagination]
  pagerSize = 20
[services.rss]
  limit = 20
"""

LAYOUTS = {
    "_default/baseof.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .RelPermalink }}">{{ end }}
</head><body><header><a href="{{ "" | relURL }}">{{ site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "_default/single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2 January 2006" }}</time>
{{ with .Params.dateline }} · {{ . }}{{ end }}{{ with .Params.byline }} · By {{ delimit . ", " }}{{ end }}</p>
{{ .Content }}</article>
<aside>{{ range $tax := slice "person" "organization" "place" }}{{ with $.GetTerms $tax }}
<section><h2>{{ $tax }}</h2><ul>
{{ range . }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}
</ul></section>
{{ end }}{{ end }}
{{ range .GetTerms "thread" }}{{ if gt (len .Pages) 1 }}<section><h2>In this story</h2><ol>
{{ range .Pages.ByDate }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
{{ .Date.Format "2 January 2006" }}</li>{{ end }}
</ol></section>{{ end }}{{ end }}</aside>
{{ end }}
""",
    "_default/list.html": """{{ define "main" }}<h1>{{ .Title }}</h1><ol>
{{ range .Paginator.Pages }}<li><h3><a href="{{ .RelPermalink }}">{{ .Title }}</a></h3>
<p>{{ .Date.Format "2 January 2006" }}{{ with .Params.dateline }} · {{ . }}{{ end }}</p>
{{ with .Params.summary }}<p>{{ . }}</p>{{ end }}</li>{{ end }}</ol>
{{ with .Paginator.Prev }}<a href="{{ .URL }}">Newer</a>{{ end }}
{{ with .Paginator.Next }}<a href="{{ .URL }}">Older</a>{{ end }}
{{ end }}
""",
    "_default/terms.html": """{{ define "main" }}<h1>{{ .Title }}</h1><ul>
{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }}</a>
{{ .Count }}</li>{{ end }}
</ul>{{ end }}
""",
}


def write_hugo_site(corpus: Path, target: Path) -> Path:
    """Convert corpus/content/articles/**.md into a Hugo site at `target` (entities as taxonomies)."""
    if target.exists():
        shutil.rmtree(target)
    posts = target / "content" / "posts"
    for rel, text in LAYOUTS.items():
        path = target / "layouts" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (target / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    articles = corpus / "content" / "articles"
    for path in sorted(articles.rglob("*.md")):
        write_hugo_page(path, posts / path.relative_to(articles))
    return target


def write_hugo_page(source: Path, dest: Path) -> None:
    """One article as a Hugo page: the taxonomies as top-level front matter keys."""
    text = source.read_text(encoding="utf-8")
    _, head, body = text.split("---\n", 2)
    data = yaml.load(head, Loader=_Loader)
    front = {"title": data["title"], "date": data["date"].isoformat(), "summary": data.get("summary", ""),
             "byline": data.get("byline", []), "dateline": data.get("dateline", "")}
    for kind in ("person", "organization", "place"):
        front[kind] = (data.get("entities") or {}).get(kind, [])
    if data.get("thread"):
        front["thread"] = [data["thread"]]
    dest.parent.mkdir(parents=True, exist_ok=True)
    head = yaml.dump(front, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)
    dest.write_text(f"---\n{head}---\n{body}", encoding="utf-8")
