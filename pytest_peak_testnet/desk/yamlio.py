"""YAML as the project reads it (profiles, overrides, baselines, YAML cassettes): one
loader, and one way to say where a parse failed.

Aliases (``*name``) are refused: none of these files needs one, and a kilobyte of nested
aliases (a "billion laughs") expands to gigabytes while it is read.
"""

from __future__ import annotations

from typing import Any

import yaml

#: libyaml's safe loader where PyYAML was built with it (several times faster), else PyYAML's.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str | bytes) -> Any:
    """``text`` parsed; an alias is a ``yaml.YAMLError`` (``refuse_aliases``)."""
    refuse_aliases(text)
    return yaml.load(text, Loader=Loader)


def refuse_aliases(text: str | bytes) -> None:
    """A ``yaml.YAMLError`` at the line of the first alias, found before anything is built
    (only texts holding a ``*`` are scanned for one)."""
    if (b"*" in text) if isinstance(text, bytes) else ("*" in text):
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.AliasEvent):
                mark: Any = event.start_mark  # libyaml's Mark or PyYAML's: both have .line
                raise yaml.composer.ComposerError(None, None, f"aliases are not allowed (found *{event.anchor})", mark)


def problem(exc: yaml.YAMLError) -> tuple[str | None, int | None]:
    """What a parse error says went wrong and its 1-based line, each when it knows them."""
    mark = getattr(exc, "problem_mark", None)
    return getattr(exc, "problem", None), None if mark is None else mark.line + 1


def invalid(exc: yaml.YAMLError) -> str:
    """How a file that does not parse is described: ``is not valid YAML (<problem>, line N)``."""
    what, line = problem(exc)
    return f"is not valid YAML ({what or 'not YAML'}" + (f", line {line})" if line else ")")
