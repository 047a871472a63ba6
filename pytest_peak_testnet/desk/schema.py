"""Build frozen dataclasses from untyped mappings (TOML tables, YAML documents, overrides).

The dataclass fields are the schema: their type hints say what is accepted and their
metadata says which range is valid. One walker serves the config and the profiles, so a
limit is checked the same way wherever it is written, and every complaint is one line
that names the place, the key, what was expected and what was found.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
import types
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from ..errors import InputError

T = TypeVar("T")

#: Range checks a field can ask for through ``metadata={"check": ...}``.
CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "positive": (lambda v: v > 0, "> 0"),
    "non_negative": (lambda v: v >= 0, ">= 0"),
    "fraction": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "share": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "round_trip": (lambda v: v >= 2, ">= 2 (a round trip is 2 trades: a buy and the sell that closes it)"),
}


#: ``1e3``: YAML 1.1 (PyYAML) reads it as text, since its floats need a dot (``1.0e+3``).
_YAML_TEXT_EXPONENT = re.compile(r"([-+]?\d+)[eE]([-+]?)(\d+)")


def positive(default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"check": "positive"})


def non_negative(default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"check": "non_negative"})


def fraction(default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"check": "fraction"})


def share(default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"check": "share"})


def round_trip(default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"check": "round_trip"})


def closest(name: str, known: Any) -> str:
    """`` (did you mean X?)`` or ``""``: a typo must point at the key the user meant."""
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {match[0]}?" if match else ""


def describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return f"a {'table' if isinstance(value, dict) else 'list'} {value!r}"[:80]
    return repr(value)


Where = Callable[[str], str]
"""Maps a field name to the location text an error starts with."""


def build(cls: type[T], data: Mapping[str, Any], where: Where, *, base_dir: Path | None = None,
          extra: Mapping[str, Any] | None = None) -> T:
    """Instantiate ``cls`` from ``data``; unknown keys, missing required keys and bad values
    raise ``InputError``. ``extra`` supplies fields that do not come from the user (a name,
    a source path). ``base_dir`` anchors relative ``Path`` fields."""
    hints, all_fields = _schema(cls)  # type: ignore[arg-type]  # typeshed: type[T] is not Hashable; a class is
    fields = {f.name: f for f in all_fields if f.name not in (extra or {})}
    for key in data:
        if key not in fields:
            raise InputError(where(str(key)), f"unknown key{closest(str(key), fields)}")
    values: dict[str, Any] = dict(extra or {})
    for name, f in fields.items():
        if name in data:
            try:
                values[name] = coerce(data[name], hints[name], f.metadata.get("check"), name, base_dir)
            except InputError as exc:  # ``where`` may parse the file again: only for an error
                raise InputError(where(exc.where), exc.message) from None  # ``name`` or a path in it: ``expect.pnl``
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InputError(where(name), f"missing, expected {expected(hints[name], f.metadata.get('check'))}")
    return cls(**values)


@functools.cache
def _schema(cls: type) -> tuple[dict[str, Any], tuple[dataclasses.Field[Any], ...]]:
    """A class's hints and init fields, resolved once: ``get_type_hints`` evaluates every
    annotation string on each call, and a thousand profiles call it twice each."""
    return get_type_hints(cls), tuple(f for f in dataclasses.fields(cls) if f.init)


def expected(hint: Any, check: str | None = None) -> str:
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if _is_optional(hint):
        return expected(_strip_optional(hint), check)
    if _is_union(hint):
        return " or ".join(expected(a, check) for a in args)
    if hint is bool:
        return "true or false"
    bound = f" {CHECKS[check][1]}" if check else ""
    if hint is int:
        return f"a whole number{bound}"
    if hint in (float, Decimal):
        return f"a number{bound}"
    if hint is str:
        return "a non-empty string"
    if hint is Path:
        return "a path (string)"
    if origin is tuple:
        return f"a list of {_plural(args[0])}"
    if origin in (dict, Mapping) or hint is dict:
        return "a table (mapping)"
    return str(hint)


def _exact(value: Any, check: str | None, bad: Callable[[], InputError], *, quoted: bool = False) -> Decimal:
    """Money and rates as ``Decimal``: a TOML/YAML float becomes the number written in the
    file (``0.0026``, via its shortest repr, not the binary float's 0.00259999...). A quoted
    amount (``"5000"``) is refused like any other type mismatch, since the same text is a
    string to every other reader of the file; only where ``quoted`` (an expectation's exact
    figure, copied from a report, more digits than a float holds) is it taken as written."""
    exponent = _YAML_TEXT_EXPONENT.fullmatch(value.strip()) if isinstance(value, str) and not quoted else None
    if exponent:
        error = bad()
        raise InputError(error.where, f"{error.message} (YAML reads an exponent without a dot as text: write "
                                      f"{exponent[1]}.0e{exponent[2] or '+'}{exponent[3]} or the plain number)")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (isinstance(value, str) and not quoted):
        raise bad()
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except ArithmeticError:
        raise bad() from None
    if not number.is_finite() or (check and not CHECKS[check][0](number)):
        raise bad()
    return number


def exact_figure(value: Any, hint: type, where: str) -> Any:
    """An expectation's figure: like ``coerce``, but an amount may be quoted to keep digits
    a float cannot hold (``"9999.765172267066624"``)."""
    if hint is Decimal:
        return _exact(value, None, lambda: InputError(where, f"expected {expected(hint)}, found {describe(value)}"),
                      quoted=True)
    return coerce(value, hint, None, where)


def _plural(hint: Any) -> str:
    if get_origin(hint) is Literal:
        return ", ".join(repr(a) for a in get_args(hint))
    return {str: "strings", int: "whole numbers", float: "numbers"}.get(hint, str(hint))


def _is_optional(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def _strip_optional(hint: Any) -> Any:
    return next(a for a in get_args(hint) if a is not type(None))


def coerce(value: Any, hint: Any, check: str | None, where: str, base_dir: Path | None = None) -> Any:
    """``value`` as the type ``hint`` names, or ``InputError`` naming ``where``."""
    def bad() -> InputError:
        return InputError(where, f"expected {expected(hint, check)}, found {describe(value)}")

    origin, args = get_origin(hint), get_args(hint)
    if _is_optional(hint):
        return None if value is None else coerce(value, _strip_optional(hint), check, where, base_dir)
    if _is_union(hint):  # the first alternative that takes the value (``"html"`` or ``["html", "json"]``)
        for alternative in args:
            try:
                return coerce(value, alternative, check, where, base_dir)
            except InputError:
                continue
        raise bad()
    if origin is Literal:
        if value not in args or isinstance(value, bool):
            raise bad()
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise bad()
        return value
    if hint in (int, float):
        ok = isinstance(value, int) if hint is int else isinstance(value, (int, float))
        if not ok or isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            raise bad()
        if check and not CHECKS[check][0](value):
            raise bad()
        return hint(value)
    if hint is Decimal:
        return _exact(value, check, bad)
    if hint is str:
        if not isinstance(value, str) or not value.strip():
            raise bad()
        return value
    if hint is Path:
        if not isinstance(value, str) or not value.strip():
            raise bad()
        path = Path(value).expanduser()
        return path if path.is_absolute() or base_dir is None else base_dir / path
    if origin is tuple:
        if not isinstance(value, list):
            raise bad()
        return tuple(coerce(item, args[0], check, f"{where}[{i}]", base_dir) for i, item in enumerate(value))
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, dict):
            raise bad()
        return dict(value)
    parse = getattr(hint, "parse_input", None)
    if parse is not None:  # a type that reads its own table (a profile's ``expect:``)
        return parse(value, where)
    raise TypeError(f"schema.coerce does not know {hint!r}")  # a programming error, not user input
