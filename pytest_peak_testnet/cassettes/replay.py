"""Replays: a transport that answers from a recorded cassette, without a socket.

vcrpy records (``recording``): it patches ``http.client`` under requests and writes what
crossed the wire. A replay needs none of that machinery, nor requests itself. The client
gets a ``ReplaySession`` as its transport (a venue client's ``Transport``), which reads the vcrpy
cassette file (JSON or YAML, by its suffix) once and answers every request from it.
Nothing is patched, so nothing else in the process is affected, and no request can leave:
the session has no way to send one. It costs a fraction of vcrpy's playback (no import of
vcrpy or requests, no patched connection, no deep copies), which is what keeps a replayed
session close to the cost of an empty pytest run.

Matching is the recorder's (``cassettes.request_key``): method, path, query and form body
without nonce and otp. Identical requests are answered in the order they were recorded,
and each recorded answer plays once, as vcrpy plays them.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from ..desk import yamlio
from ..desk.yamlio import invalid
from ..gcpause import gc_paused
from .format import CassetteError, Key, describe, request_key, serializer_for

#: vcrpy's cassette format version (``vcr.serialize.CASSETTE_FORMAT_VERSION``).
FORMAT_VERSION = 1


class Headers(Mapping[str, str]):
    """A recorded answer's headers as requests shows them: any case of a name finds it,
    a repeated header's values are joined by ``", "``."""

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._fields: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            known = self._fields.get(name.lower())
            self._fields[name.lower()] = (name, value) if known is None else (known[0], f"{known[1]}, {value}")

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._fields.values())

    def __len__(self) -> int:
        return len(self._fields)


@dataclass(frozen=True)
class Reply:
    """A recorded answer, read as a ``requests.Response`` is (a venue client's ``Reply``)."""

    status_code: int
    reason: str
    header_pairs: tuple[tuple[str, str], ...]
    content: bytes

    @property
    def headers(self) -> Headers:
        return Headers(self.header_pairs)

    def json(self) -> Any:
        return json.loads(self.content)


class ReplaySession:
    """The client's transport in a replay (its ``Transport``): answers each request
    with the next unplayed recorded answer that matches it; a request the cassette has no
    answer for is a ``CassetteError`` naming it. The URL is built as requests builds it
    (the query appended, urlencoded), the form body is the client's string."""

    def __init__(self, path: Path, record_command: str) -> None:
        self.path = path
        self.record_command = record_command
        self._answers: dict[Key, deque[Reply]] = {}
        for key, answer in load(path, record_command):
            self._answers.setdefault(key, deque()).append(answer)

    def get(self, url: str, *, params: Mapping[str, Any] | None = None, headers: dict[str, str] | None = None,
            timeout: float | None = None) -> Reply:
        return self._answer("GET", _with_query(url, params), None)

    def post(self, url: str, *, data: str | None = None, headers: dict[str, str] | None = None,
             timeout: float | None = None) -> Reply:
        return self._answer("POST", url, data)

    def delete(self, url: str, *, params: Mapping[str, Any] | None = None, headers: dict[str, str] | None = None,
               timeout: float | None = None) -> Reply:
        """Binance's ``DELETE /api/v3/order`` (a cancel)."""
        return self._answer("DELETE", _with_query(url, params), None)

    def _answer(self, method: str, url: str, body: str | None) -> Reply:
        queue = self._answers.get(request_key(method, url, body))
        if not queue:
            raise CassetteError(f"cassette {self.path} has no recorded answer for {describe(method, url, body)}; "
                                f"record it again with: {self.record_command}")
        return queue.popleft()


def _with_query(url: str, params: Mapping[str, Any] | None) -> str:
    """The URL as requests sends it: ``params`` urlencoded after what ``url`` already has."""
    query = urlencode(params or {}, doseq=True)
    return f"{url}{'&' if '?' in url else '?'}{query}" if query else url


def load(path: Path, record_command: str) -> list[tuple[Key, Reply]]:
    """Every recorded interaction of a vcrpy cassette as ``(key, answer)``, in order. A run
    checks its cassette in setup and plays it in the call: the second load of an unchanged
    file is the first one's (immutable) list."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise CassetteError(f"cassette {path} not found; record it with: {record_command}") from None
    global _last_loaded
    key = (path, stat.st_mtime_ns, stat.st_size)
    if _last_loaded is not None and _last_loaded[0] == key:
        return _last_loaded[1]
    played = _load(path, record_command)
    _last_loaded = (key, played)
    return played


_last_loaded: tuple[tuple[Path, int, int], list[tuple[Key, Reply]]] | None = None


def _load(path: Path, record_command: str) -> list[tuple[Key, Reply]]:
    def broken(what: str) -> CassetteError:
        return CassetteError(f"cassette {path} {what}; record it again with: {record_command}")

    serializer = serializer_for(path)
    try:
        data = parse(path.read_bytes(), serializer)
    except UnicodeDecodeError as exc:
        raise broken(f"is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise broken(f"is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        raise broken(invalid(exc)) from None
    except RecursionError:  # ``[[[[...`` 100,000 deep: no cassette is
        raise broken("is nested too deep to be a cassette") from None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise broken(f"is not a vcrpy cassette of format version {FORMAT_VERSION}")
    if not isinstance(data.get("interactions"), list):
        raise broken("has no interactions list")
    played = []
    for number, interaction in enumerate(data["interactions"], 1):
        try:
            method, uri = str(_dig(interaction, "request.method")), str(_dig(interaction, "request.uri"))
            body, code = _dig(interaction, "response.body.string"), _dig(interaction, "response.status.code")
        except LookupError as missing:
            raise broken(f"has no {missing.args[0]} in interaction {number}") from None
        response = interaction["response"]
        headers = response.get("headers") or {}
        if not isinstance(code, int) or not isinstance(headers, dict) or not isinstance(body, (str, bytes, type(None))):
            raise broken(f"has a malformed response in interaction {number} "
                         "(expected an integer status code, a headers mapping and a string body)")
        answer = Reply(code, str(response["status"].get("message", "")),
                       tuple((name, str(value)) for name, values in headers.items() for value in values),
                       body.encode() if isinstance(body, str) else body or b"")
        played.append((request_key(method, uri, interaction["request"].get("body")), answer))
    return played


def parse(text: bytes, serializer: str) -> Any:
    """The document, with the cyclic garbage collector paused. A cassette becomes tens of
    thousands of objects (PyYAML even builds a node for every scalar first), all alive
    until the parse ends, so the collections their allocation triggers find nothing to
    free, yet each rescans pytest's whole heap. For ma_crossover_small's YAML cassette
    inside a pytest run that was 28-38 ms against 10 ms paused."""
    with gc_paused():
        return json.loads(text) if serializer == "json" else yamlio.load(text)


def _dig(mapping: Any, dotted: str) -> Any:
    """``mapping["a"]["b"]`` for ``"a.b"``; a ``LookupError`` carrying ``dotted`` when absent."""
    for part in dotted.split("."):
        if not isinstance(mapping, dict) or part not in mapping:
            raise LookupError(dotted)
        mapping = mapping[part]
    return mapping
