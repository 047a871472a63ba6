"""vcrpy's side of the cassettes: a recorder that keeps no secrets, and an indexed lookup.

Recordings go through vcrpy (replays do not: see ``replay``). With ``new_episodes`` a
recording also plays back what the cassette holds, and that must cost time linear in the
number of requests. vcrpy's ``Cassette`` compares a request with every recorded
interaction (quadratic over a session), so ``IndexedCassette`` looks candidates up by
``cassettes.request_key``, built from the very fields the matchers compare, then confirms
each candidate with vcrpy's own ``requests_match``: lookups are O(1) and matching stays
exact. Secrets are removed before anything is written: all request headers (among
them Kraken's ``API-Key`` and ``API-Sign`` and Binance's ``X-MBX-APIKEY``) and the fields
of ``format.UNRECORDED_FIELDS`` (nonce, signature, timestamp, client order ids) in the
body or the query, so private requests match whatever a later run signs them with.

A cassette is replaced only whole, and only by a recording that ended well: vcrpy
would write it in place (a full disk leaves half a file) and save what an interrupted
recording had so far over a good cassette. ``WholeFiles`` writes to a temp file in the
cassette's folder and renames it over the old one; a recording that raised (Ctrl-C, a
SIGTERM, a failed request) saves nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import vcr
import yaml
from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.matchers import requests_match
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.record_mode import RecordMode
from vcr.serialize import serialize

from ..atomic import atomic_write
from ..desk import yamlio
from ..desk.yamlio import invalid
from .format import UNRECORDED_FIELDS, CassetteError, Key, request_key

MATCH_ON = ("method", "path", "query", "body")
#: The simulator's control endpoints drive its clock; they are not part of a session.
CONTROL_PREFIX = "/_sim/"
#: Binance's weight and wait headers pace the client: a replay paces as the recording did.
KEEP_RESPONSE_HEADERS = {"content-type", "x-mbx-used-weight-1m", "retry-after"}


def key_of(request: Any) -> Key:
    """Equal for any two vcrpy requests the ``MATCH_ON`` matchers could call equal."""
    return request_key(request.method, request.uri, request.body)


class IndexedCassette(Cassette):
    """A ``Cassette`` whose lookups go through an index of its interactions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._index: dict[Key, list[int]] = defaultdict(list)
        self._cursor: dict[Key, int] = defaultdict(int)  # candidates before it are all played
        self._matchers = kwargs.get("match_on", ())
        self._checked: tuple[Any, int | None] = (None, None)
        super().__init__(*args, **kwargs)

    def append(self, request: Any, response: Any) -> None:
        """Index an interaction, loaded or new. A new one (recorded after the cassette was
        loaded, ``rewound``) also counts as played: vcrpy would answer a later identical
        request with it under ``new_episodes``, and a session polling ``Time`` would be
        handed the time it already saw instead of the exchange's."""
        before = len(self.data)
        super().append(request, response)
        if len(self.data) > before:
            self._index[key_of(self.data[-1][0])].append(before)
            if self.rewound:
                self.play_counts[before] += 1

    def _first_unplayed(self, request: Any) -> int | None:
        filtered = self.filter_request(request)
        if not filtered:
            return None
        key = key_of(filtered)
        candidates = self._index.get(key, ())
        start = self._cursor[key]
        while start < len(candidates) and self.play_counts[candidates[start]]:
            start += 1
        self._cursor[key] = start
        for index in candidates[start:]:
            if not self.play_counts[index] and requests_match(filtered, self.data[index][0], self._matchers):
                return index
        return None

    def __contains__(self, request: Any) -> bool:
        return self._first_unplayed(request) is not None

    def can_play_response_for(self, request: Any) -> bool:
        """vcrpy's check, with the lookup kept for the ``play_response`` that follows it:
        each lookup filters (deep-copies) the request, and vcrpy would do it three times."""
        index = self._first_unplayed(request)
        self._checked = (request, index)
        return (index is not None and self.record_mode != RecordMode.ALL
                and (self.rewound or self.allow_playback_repeats))

    def play_response(self, request: Any) -> Any:
        checked, index = self._checked
        self._checked = (None, None)
        if checked is not request or index is None or self.play_counts[index]:
            index = self._first_unplayed(request)
        if index is None:
            raise CannotOverwriteExistingCassetteException(cassette=self, failed_request=request)
        self.play_counts[index] += 1
        return self.data[index][1]

    def rewind(self) -> None:
        super().rewind()
        self._cursor.clear()


def _clean_request(request: Any) -> Any:
    """No request headers are kept: matching never reads them, and ``API-Key`` and
    ``API-Sign`` must never be written. The simulator's control calls are not kept at all.
    The URI keeps its path and query only: matching never reads the host, and a recording
    against a simulator on another port must give the same file. A query loses the
    fields a run signs or stamps afresh (Binance's signature and timestamp)."""
    if request.path.startswith(CONTROL_PREFIX):
        return None
    request.headers = {}
    parts = urlsplit(request.uri)
    query = parts.query
    if any(name in UNRECORDED_FIELDS for name, _ in parse_qsl(query, keep_blank_values=True)):
        # Rebuilt only then: vcrpy's query filter would reorder every recorded query.
        query = urlencode([pair for pair in parse_qsl(query, keep_blank_values=True)
                           if pair[0] not in UNRECORDED_FIELDS])
    request.uri = parts.path + (f"?{query}" if query else "")
    return request


def _slim_response(response: dict[str, Any]) -> dict[str, Any]:
    """Only what a replay needs: status, content type, body. No cookies, no edge headers."""
    response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() in KEEP_RESPONSE_HEADERS}
    return response


class SortedJSON:
    """vcrpy's JSON serializer with its keys in a fixed order, so that two recordings of
    the same session are the same file and a re-recording diffs only where it differs."""

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        return json.dumps(cassette, indent=4, sort_keys=True) + "\n"

    @staticmethod
    def deserialize(text: str) -> Any:
        return json.loads(text)


class WholeFiles(FilesystemPersister):
    """vcrpy's files, each saved whole (see the module's docstring), and written only once
    vcrpy has let go of the connection classes (``recording``): an error raised from its
    save (a full disk, a folder that is a file) ends vcrpy's exit before it unpatches them,
    and every later request of the session would go through the failed cassette."""

    def __init__(self) -> None:
        self.pending: tuple[Path, str] | None = None

    def save_cassette(self, cassette_path: str, cassette_dict: dict[str, Any], serializer: Any) -> None:
        self.pending = (Path(cassette_path), serialize(cassette_dict, serializer))

    def write(self) -> None:
        if self.pending is not None:
            atomic_write(*self.pending, durable=True)


class Afresh(WholeFiles):
    """``rewrite``: what the cassette holds is not read (it may be the broken file being
    replaced), and stays on disk until the new recording takes its place."""

    @classmethod
    def load_cassette(cls, cassette_path: str, serializer: Any) -> Any:
        raise CassetteNotFoundError()


def check_yaml(path: Path, record_command: str) -> None:
    """Refuse a YAML cassette vcrpy is about to read if it holds aliases (``yamlio``) or is
    not YAML at all: vcrpy would expand a few hundred bytes of nested aliases into
    gigabytes, or fail with a traceback. A missing file is recorded afresh."""
    try:
        yamlio.refuse_aliases(path.read_bytes())
    except FileNotFoundError:
        return
    except yaml.YAMLError as exc:
        raise CassetteError(f"cassette {path} {invalid(exc)}; record it again with: {record_command}") from None


@contextmanager
def recording(path: Path, record_mode: str, serializer: str) -> Iterator[None]:
    """vcrpy records the requests made inside; the cassette is written once they all went well."""
    persister = Afresh() if record_mode == "rewrite" else WholeFiles()
    with IndexedCassette.use(**recorder(record_mode, serializer, persister).get_merged_config(path=str(path))):
        yield
    persister.write()


def recorder(record_mode: str, serializer: str, persister: WholeFiles) -> vcr.VCR:
    """``rewrite`` is ``all`` on a cassette read as empty, and replaced once recorded."""
    recorder = vcr.VCR(
        record_mode="all" if record_mode == "rewrite" else record_mode,
        record_on_exception=False,
        serializer=serializer,
        match_on=MATCH_ON,
        filter_post_data_parameters=UNRECORDED_FIELDS,
        before_record_request=_clean_request,
        before_record_response=_slim_response,
        decode_compressed_response=True,
    )
    recorder.register_serializer("json", SortedJSON)  # YAML's dump sorts keys already
    recorder.register_persister(persister)
    return recorder
