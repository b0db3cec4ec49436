"""URLs and output paths: the shortcuts of `urls` give what the long way gives."""

from __future__ import annotations

import os
import random

import pytest

from newsdigest.urls import output_file, slugify


def test_output_file_is_the_normalised_path_and_refuses_to_leave_output():
    rng = random.Random(3)
    parts = ["a", "b", ".", "..", "", "x.y", ".h", "c:", "\\", "/", "//", "\u00e9", "index.html", "..."]
    for _ in range(20_000):
        route = "".join(rng.choice(parts) + rng.choice(["/", ""]) for _ in range(rng.randint(0, 5)))
        path = os.path.normpath(route + "index.html" if route == "" or route.endswith("/") else route)
        leaves = path.startswith(("../", "/")) or path == ".." or "\\" in path or ":" in path.split("/")[0]
        if leaves:
            with pytest.raises(ValueError):
                output_file(route)
        else:
            assert output_file(route) == path, route


class _Text(str):
    """Text that is not exactly a str: `slugify` takes the long way with it."""


def test_slugify_takes_a_slug_as_it_is_and_anything_else_the_long_way():
    rng = random.Random(5)
    chars = "abcxyz019-_ -'\u2019\u00e9AZ.!\u00a0"
    for _ in range(20_000):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 14)))
        for length in (3, 8, 60, 200):
            assert slugify(text, length) == slugify(_Text(text), length), (text, length)
    for text in ("con", "nul", "com1", "a-b", "a--b", "-a", "a-", "a" * 70, "under_score"):
        assert slugify(text) == slugify(_Text(text)), text
    assert slugify("belstra-rejects-forces-lomavo-city-16") == "belstra-rejects-forces-lomavo-city-16"
