"""YAML as the project reads it (profiles, overrides, YAML cassettes): one loader, and one
way to say where a parse failed."""

from __future__ import annotations

import yaml

#: libyaml's safe loader where PyYAML was built with it (several times faster), else PyYAML's.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def problem(exc: yaml.YAMLError) -> tuple[str | None, int | None]:
    """What a parse error says went wrong and its 1-based line, each when it knows them."""
    mark = getattr(exc, "problem_mark", None)
    return getattr(exc, "problem", None), None if mark is None else mark.line + 1


def invalid(exc: yaml.YAMLError) -> str:
    """How a file that does not parse is described: ``is not valid YAML (<problem>, line N)``."""
    what, line = problem(exc)
    return f"is not valid YAML ({what or 'not YAML'}" + (f", line {line})" if line else ")")
