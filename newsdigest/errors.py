"""The small error hierarchy: user errors print one line, bugs show a traceback."""

from __future__ import annotations


class NewsdigestError(Exception):
    """A problem the user can fix; printed as one line, location first."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(NewsdigestError):
    """config.yaml is missing a value, has a wrong type or cannot be read."""


class WireError(NewsdigestError):
    """A wire file cannot be turned into an article."""


class ContentError(NewsdigestError):
    """An article, entity or thread file in content/ is malformed."""


class TemplateError(NewsdigestError):
    """A template fails to load or render."""


class BuildError(NewsdigestError):
    """The build cannot finish (output locked, a URL claimed twice, disk full)."""
