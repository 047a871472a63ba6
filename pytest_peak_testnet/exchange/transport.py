"""How a venue's client sends, whatever the venue: the ``Transport`` it is given, and how a
failure of that transport reads under the retry rule.

A ``requests.Session`` is a transport, and the default wherever a request can leave the
process; a replay passes ``cassettes.replay.ReplaySession``, which answers from the
cassette, so a replayed session never imports requests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from .errors import BaseError, NetworkError, RequestTimeout

if TYPE_CHECKING:
    import requests


class Reply(Protocol):
    """What a client reads of an answer (a ``requests.Response`` is one)."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def json(self) -> Any: ...


class Transport(Protocol):
    """A transport built on requests fails with requests' exceptions, which
    ``transport_failure`` sorts; any other exception passes through unchanged."""

    def get(self, url: str, *, params: Mapping[str, Any], headers: dict[str, str], timeout: float) -> Reply: ...

    def post(self, url: str, *, data: str, headers: dict[str, str], timeout: float) -> Reply: ...

    def delete(self, url: str, *, params: Mapping[str, Any], headers: dict[str, str], timeout: float) -> Reply: ...


class Transient(Exception):
    """An attempt failed in a way a retry may cure; ``reached`` says the request may have
    been acted on, which rules out resending an order."""

    def __init__(self, error: BaseError, *, reached: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.reached = reached


def transport_failure(path: str, timeout: float, exc: OSError) -> Transient | BaseError | None:
    """What a failure of the transport means; ``None`` for an ``OSError`` that is none of
    requests' (only a transport built on requests, which imported it, raises those)."""
    if "requests" not in sys.modules:
        return None
    import requests

    if isinstance(exc, requests.Timeout):
        sent = not isinstance(exc, requests.ConnectTimeout)
        return Transient(RequestTimeout(f"{path}: no answer within {timeout} s"), reached=sent)
    if isinstance(exc, requests.ConnectionError):
        error = NetworkError(f"{path}: connection failed ({type(exc).__name__})")
        return Transient(error, reached=not never_sent(exc))
    if isinstance(exc, requests.RequestException):
        return NetworkError(f"{path}: {type(exc).__name__}")
    return None


@contextmanager
def failures_sorted(path: str, timeout: float) -> Iterator[None]:
    """Around a send: a failure of the transport is raised as what it means
    (``transport_failure``), without its cause, whose frames may hold a signed request."""
    try:
        yield
    except OSError as exc:
        failure = transport_failure(path, timeout, exc)
        if failure is None:
            raise
        raise failure from None


def never_sent(exc: requests.ConnectionError) -> bool:
    """Refused or unresolvable: the TCP connection never existed, so nothing was sent."""
    from urllib3.exceptions import NewConnectionError

    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def environment_session(base_url: str) -> requests.Session:
    """A session with the environment's proxy and CA bundle settings read once: with
    ``trust_env`` on, requests reads them again for every request."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session
