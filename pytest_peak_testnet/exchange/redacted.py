"""Strings that never show themselves in a repr: a signed request's body and headers.

``pytest --fulltrace`` prints the arguments of every frame of an interrupted request, down
to the socket: requests' ``Session.post(data, headers)``, urllib3's ``urlopen(body,
headers)``. A signed request's nonce, body, key and signature travel through all of them,
so each is a ``Redacted`` string: requests and urllib3 pass the same objects down (the
headers into their case-insensitive dict), their reprs (and those of the dicts that hold
them) show ``'<redacted>'``, and the bytes sent are the string's own.
"""

from __future__ import annotations


class Redacted(str):
    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"
