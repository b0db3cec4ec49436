"""The default theme as readers get it: page weight, dark mode, print, focus, skip link, narrow
screens without layout shift, and screenshots of the main pages at phone and desktop widths
(kept in tests/artifacts/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import chromium, serve_subpath
from conftest import ROOT, page

ARTIFACTS = ROOT / "tests" / "artifacts"
ARTICLE = "2024/01/16/north-korean-minister-lauds-comradely-ties-with-russia/"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
_LAYOUT_SHIFT = """new Promise(done => {
  let total = 0;
  new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value; })
    .observe({type: "layout-shift", buffered: true});
  setTimeout(() => done(total), 200);
})"""


def _pages(site: Path) -> dict[str, str]:
    """Front page, the longer sample article, its thread and an entity page."""
    thread = page(site, ARTICLE).css_first(".kicker a").attributes["href"][len("/repo/"):]
    return {"front": "", "article": ARTICLE, "thread": thread, "entity": "entities/person/vladimir-putin/"}


def page_weight(site: Path, route: str) -> int:
    """Bytes a reader downloads for a page: its HTML and every stylesheet, script and image it loads."""
    output = site / "output"
    html = (output / route / "index.html").read_text(encoding="utf-8")
    total = len(html.encode("utf-8"))
    for ref in re.findall(r'<(?:link rel="stylesheet"|script|img)[^>]*?(?:href|src)="/repo/([^"]+)"', html):
        total += (output / ref).stat().st_size
    return total


def test_article_page_weighs_under_30_kb(sample_site):
    weights = {name: page_weight(sample_site, route) for name, route in _pages(sample_site).items()}
    assert weights["article"] < 30_000, weights
    assert all(w < 60_000 for w in weights.values()), weights


def test_theme_has_dark_mode_print_focus_and_a_skip_link(sample_site):
    css = (sample_site / "output/assets/style.css").read_text(encoding="utf-8")
    assert "@media (prefers-color-scheme: dark)" in css and "@media print" in css
    assert ":focus-visible" in css and "outline" in css
    for route in _pages(sample_site).values():
        doc = page(sample_site, route)
        first_link = doc.css_first("body a")
        assert first_link.attributes["class"] == "skip" and first_link.attributes["href"] == "#main"
        assert doc.css_first("main#main") is not None
        assert all(t.attributes.get("datetime") for t in doc.css("time"))


@pytest.mark.browser
def test_pages_fit_320_px_and_screenshots(sample_site):
    ARTIFACTS.mkdir(exist_ok=True)
    pages = _pages(sample_site)
    with serve_subpath(sample_site / "output") as base, chromium() as browser:
        narrow = browser.new_page(viewport={"width": 320, "height": 640})
        for name, route in pages.items():
            narrow.goto(base + route)
            overflow = narrow.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways at 320 px by {overflow} px"
            shift = narrow.evaluate(_LAYOUT_SHIFT)
            assert shift < 0.01, f"{name} shifts its layout while loading (CLS {shift})"
        narrow.keyboard.press("Tab")  # the skip link is the first stop and becomes visible
        box = narrow.locator("a.skip").bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0
        for width_name, (width, height) in WIDTHS.items():
            for scheme in ("light", "dark"):
                tab = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
                for name, route in pages.items():
                    if scheme == "dark" and name != "article":
                        continue
                    tab.goto(base + route)
                    suffix = "" if scheme == "light" else "-dark"
                    tab.screenshot(path=str(ARTIFACTS / f"{name}-{width_name}{suffix}.png"))
                tab.close()
    assert all((ARTIFACTS / f"{name}-{width}.png").is_file() for name in pages for width in WIDTHS)
