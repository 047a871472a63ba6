"""jinja2 for the report and the dashboard: shipped templates, filters, one-line errors.

``StrictUndefined`` everywhere, so a misspelt name in a template (shipped or a user's)
stops the render with the template's file and line instead of printing an empty cell.

Compiling the templates costs more than rendering them (about 20 ms against 2 ms for the
report and the dashboard), and a replay is over in a few times that. So each environment
is built once per process, and compiled templates are kept between runs in jinja2's
bytecode cache (a private folder in the temp directory, keyed by each template's source,
so an edited template is compiled afresh).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from .charts import sparkline
from .formatting import cell, money, num, pct, ratio

#: A ``<`` that CommonMark could read as the start of raw HTML or an autolink.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


class ReportError(Exception):
    """A template that does not render: one line naming the template, the line and why."""


@cache
def environment(user_dir: Path | None = None, autoescape: bool = False) -> jinja2.Environment:
    """A user's template folder is searched before the shipped templates, so a user
    template can include the shipped partials (or replace one)."""
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("pytest_peak_testnet.reporting", "templates")]
    if user_dir is not None:
        loaders.insert(0, jinja2.FileSystemLoader(user_dir))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                             autoescape=autoescape, finalize=None if autoescape else markdown_text,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             bytecode_cache=_bytecode_cache("html" if autoescape else "markdown"))
    env.filters.update(sparkline=sparkline, cell=cell, num=num, money=money, pct=pct, ratio=ratio)
    return env


def markdown_text(value: Any) -> Any:
    """Every value a Markdown template prints, with a ``<`` that could open a tag, a comment
    or an autolink (``<`` then a letter, ``/``, ``!`` or ``?``) as an entity: Markdown passes
    raw HTML through, so a profile named ``<script>...`` would be a script wherever the
    report is rendered (a CI summary, a pull request). ``-0.23 < 0`` and ``1500.00 >
    1000.00`` open nothing and stay as they are, in code spans too."""
    return _TAG_START.sub("&lt;", value) if isinstance(value, str) else value


def _bytecode_cache(kind: str) -> jinja2.BytecodeCache | None:
    """jinja2's own cache folder, or none where the temp directory is not safe to share
    (rendering is then only slower). Compiled code depends on the environment as well as
    the source (``finalize`` is compiled in), and jinja2 keys it by the source alone: each
    kind of environment keeps its own files."""
    try:
        return jinja2.FileSystemBytecodeCache(pattern=f"__peak_testnet_{kind}_%s.cache")
    except (OSError, RuntimeError):
        return None


def render(name: str, user_template: Path | None = None, autoescape: bool = False, **context: Any) -> str:
    """Render the shipped template ``name``, or ``user_template`` instead when given."""
    env = environment(None if user_template is None else user_template.parent, autoescape)
    try:
        return env.get_template(name if user_template is None else user_template.name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"{exc.filename or exc.name}, line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"template not found: {exc.name}") from None
    except jinja2.TemplateError as exc:
        raise ReportError(f"{_template_line(exc)}{exc}") from None


def _template_line(exc: BaseException) -> str:
    """``file, line N: `` of the innermost template frame, which jinja puts in tracebacks."""
    tb, found = exc.__traceback__, ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"{filename}, line {tb.tb_lineno}: "
        tb = tb.tb_next
    return found
