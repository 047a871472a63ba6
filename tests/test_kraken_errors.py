"""Every Kraken error string maps to its ccxt-style exception and keeps the original text."""

from __future__ import annotations

import pickle

import pytest

from pytest_peak_testnet.exchange import errors as ke
from pytest_peak_testnet.exchange.kraken.errors import error_class, unwrap

#: The strings the issue and Kraken's error documentation name, with the class each must raise.
MAPPING = [
    ("EAPI:Invalid key", ke.AuthenticationError),
    ("EAPI:Invalid signature", ke.AuthenticationError),
    ("EAPI:Invalid nonce", ke.InvalidNonce),
    ("EAPI:Rate limit exceeded", ke.RateLimitExceeded),
    ("EOrder:Rate limit exceeded", ke.RateLimitExceeded),
    ("EGeneral:Temporary lockout", ke.DDoSProtection),
    ("EGeneral:Too many requests", ke.DDoSProtection),
    ("ETrade:User Locked", ke.AccountSuspended),
    ("EGeneral:Permission denied", ke.PermissionDenied),
    ("EGeneral:Internal error", ke.ExchangeNotAvailable),
    ("EService:Unavailable", ke.ExchangeNotAvailable),
    ("EService:Busy", ke.ExchangeNotAvailable),
    ("EService:Deadline elapsed", ke.ExchangeNotAvailable),
    ("EService:Market in cancel_only mode", ke.OnMaintenance),
    ("EService:Market in post_only mode", ke.OnMaintenance),
    ("EOrder:Insufficient funds", ke.InsufficientFunds),
    ("EOrder:Order minimum not met", ke.InvalidOrder),
    ("EOrder:Cost minimum not met", ke.InvalidOrder),
    ("EOrder:Tick size check failed", ke.InvalidOrder),
    ("EOrder:Invalid price:XBTEUR price can only be specified up to 1 decimals.", ke.InvalidOrder),
    ("EOrder:Unknown order", ke.OrderNotFound),
    ("EQuery:Unknown asset pair", ke.BadSymbol),
    ("EGeneral:Invalid arguments", ke.BadRequest),
    ("EGeneral:Invalid arguments:volume", ke.BadRequest),
    ("EGeneral:Invalid arguments:price", ke.BadRequest),
    ("EFunding:Something new", ke.ExchangeError),
]


@pytest.mark.parametrize(("error", "cls"), MAPPING)
def test_each_error_string_raises_its_class_and_keeps_the_string(error: str, cls: type[ke.BaseError]) -> None:
    with pytest.raises(ke.BaseError) as info:
        unwrap({"error": [error]})  # Kraken's failure envelope: no "result" key at all
    assert type(info.value) is cls
    assert error_class(error) is cls
    assert info.value.errors == (error,)
    assert str(info.value) == error


def test_ccxt_roots_separate_refusals_from_transient_failures() -> None:
    for cls in (ke.AuthenticationError, ke.BadSymbol, ke.InsufficientFunds, ke.OrderNotFound, ke.BadResponse):
        assert issubclass(cls, ke.ExchangeError)
    for cls in (ke.RequestTimeout, ke.ExchangeNotAvailable, ke.InvalidNonce, ke.RateLimitExceeded):
        assert issubclass(cls, ke.NetworkError)
    assert issubclass(ke.MissingCredentials, ke.AuthenticationError)
    assert issubclass(ke.ExchangeError, ke.BaseError) and issubclass(ke.NetworkError, ke.BaseError)


@pytest.mark.parametrize("cls", sorted({cls for _, cls in MAPPING} | {ke.MissingCredentials, ke.BadResponse,
                                                                       ke.RequestTimeout, ke.NetworkError},
                                      key=lambda c: c.__name__))
def test_errors_pickle_with_their_fields(cls: type[ke.BaseError]) -> None:
    original = cls("EOrder:Insufficient funds, EGeneral:Internal error",
                   ("EOrder:Insufficient funds", "EGeneral:Internal error"))
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is cls
    assert (copy.message, copy.errors) == (original.message, original.errors)


def test_several_errors_are_all_kept_and_the_first_decides() -> None:
    with pytest.raises(ke.InsufficientFunds) as info:
        unwrap({"error": ["EOrder:Insufficient funds", "WGeneral:Danger"], "result": {}})
    assert info.value.errors == ("EOrder:Insufficient funds",)


def test_warnings_come_with_the_result_and_do_not_fail_the_call() -> None:
    result, warnings = unwrap({"error": ["WOrder:Order size will be reduced"], "result": {"count": 1}})
    assert result == {"count": 1}
    assert warnings == ("WOrder:Order size will be reduced",)


@pytest.mark.parametrize("payload", [{"error": []}, [], "<html>502</html>", {"error": "EGeneral:oops"}])
def test_anything_but_an_envelope_is_a_bad_response(payload: object) -> None:
    with pytest.raises(ke.BadResponse):
        unwrap(payload)
