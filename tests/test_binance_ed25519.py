"""Binance's Ed25519 API keys (``key_type = "ed25519"``): signatures checked against RFC
8032's test vectors (Binance's documented Ed25519 examples publish no private key), the
client placing orders on the simulator with an Ed25519 key, a wrong signature refused with
``-1022``, the key file's problems and a missing ``cryptography`` each in one line, and no
key material anywhere a user or a cassette could see it."""

from __future__ import annotations

import base64
import logging
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("cryptography", reason="the ed25519 extra (pip install -e '.[ed25519]') is not installed")

from conftest import edit
from pytest_peak_testnet.desk.config import BinanceConfig
from pytest_peak_testnet.exchange.binance import BinanceTestnetClient, credentials_from_env
from pytest_peak_testnet.exchange.binance.ed25519 import Ed25519Keys
from pytest_peak_testnet.exchange.binance.signing import KeysError
from pytest_peak_testnet.exchange.errors import AuthenticationError
from pytest_peak_testnet.exchange.simulator import Simulator
from pytest_peak_testnet.exchange.simulator.server import BINANCE_ED25519_PRIVATE_KEY

#: RFC 8032, section 7.1, TEST 1 (the simulator's key) and TEST 2, as PKCS#8 PEM.
TEST_1_PEM = BINANCE_ED25519_PRIVATE_KEY
TEST_1_SIGNATURE = ("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bb"
                    "e24655141438e7a100b")
TEST_2_PEM = ("-----BEGIN PRIVATE KEY-----\n"
              "MC4CAQAwBQYDK2VwBCIEIEzNCJso/5banbbDRuwRTg9bijGfNaumJNqM9u1PuKb7\n"
              "-----END PRIVATE KEY-----\n")
TEST_2_MESSAGE = "r"  # 0x72
TEST_2_SIGNATURE = ("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aee"
                    "b00d291612bb0c00")
TEST_1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#: The payload of Binance's documented Ed25519 example (rest-api.md, "SIGNED Endpoint Examples", Ed25519 Keys).
DOC_PAYLOAD = ("symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2&timestamp=1668481559918"
               "&recvWindow=5000")
ED25519 = '[exchange.binance_testnet]\nkey_type = "ed25519"\n'


def b64(hex_signature: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_signature)).decode()


@pytest.mark.parametrize(("pem", "message", "signature"), [
    (TEST_1_PEM, "", TEST_1_SIGNATURE), (TEST_2_PEM, TEST_2_MESSAGE, TEST_2_SIGNATURE)])
def test_signatures_match_rfc_8032s_vectors_in_base64(pem: str, message: str, signature: str) -> None:
    assert Ed25519Keys("key", pem).sign(message) == b64(signature)


def test_binances_payload_is_signed_and_verified_with_the_derived_public_key() -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from pytest_peak_testnet.exchange.binance.ed25519 import private_key, verifies

    public = private_key(TEST_1_PEM, "test").public_key()
    assert public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == TEST_1_PUBLIC
    signature = Ed25519Keys("key", TEST_1_PEM).sign(DOC_PAYLOAD)
    assert len(base64.b64decode(signature)) == 64 and verifies(public, DOC_PAYLOAD, signature)
    assert not verifies(public, DOC_PAYLOAD.replace("SELL", "BUY"), signature)
    assert not verifies(public, DOC_PAYLOAD, signature.swapcase())  # unlike HMAC's hex, case matters


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(venue="binance") as simulator:
        yield simulator


def test_the_client_places_an_order_on_the_simulator_with_an_ed25519_key(sim: Simulator,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = sim.config(key_type="ed25519")
    client = BinanceTestnetClient(config, keys=sim.credentials(config))
    ack = client.place_order("BTC/USDT", "buy", "market", Decimal("0.001"))
    assert ack.status == "filled" and sum(f.quantity for f in ack.fills) == Decimal("0.001")
    assert client.orders("BTC/USDT", [ack.order_id or ""])[ack.order_id or ""].status == "filled"
    assert "signature=<redacted>" in caplog.text  # a GET's query, percent-encoded base64 and all
    assert not re.search(r"signature=(?!<redacted>)", caplog.text)


def test_a_wrong_ed25519_key_is_refused_with_minus_1022_in_one_line(sim: Simulator) -> None:
    config = sim.config(key_type="ed25519")
    wrong = Ed25519Keys(sim.exchange.ed25519_api_key, TEST_2_PEM)
    with pytest.raises(AuthenticationError) as caught:
        BinanceTestnetClient(config, keys=wrong).balances()
    assert str(caught.value) == "/api/v3/account: -1022 Signature for this request is not valid."


def test_the_hmac_key_still_signs_beside_the_ed25519_one(sim: Simulator) -> None:
    assert BinanceTestnetClient(sim.config(), keys=sim.credentials()).balances()["USDT"] == Decimal("10000")


def test_no_key_material_in_repr_or_error(sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "binance-prv.pem"
    key_file.write_text(TEST_1_PEM)
    monkeypatch.setenv("BINANCE_TESTNET_API_KEY", "an-api-key")
    monkeypatch.setenv("BINANCE_TESTNET_PRIVATE_KEY_FILE", str(key_file))
    keys = credentials_from_env(BinanceConfig(key_type="ed25519"))
    assert repr(keys) == str(keys) == "Ed25519Keys(<redacted: BINANCE_TESTNET_API_KEY, BINANCE_TESTNET_PRIVATE_KEY_FILE>)"
    with pytest.raises(TypeError, match="not pickled"):
        keys.__reduce__()
    body = TEST_1_PEM.splitlines()[1]
    key_file.write_text(TEST_1_PEM.replace(body, body[:-8]))  # a truncated key: no quote of it
    with pytest.raises(KeysError) as caught:
        credentials_from_env(BinanceConfig(key_type="ed25519"))
    assert body[:20] not in str(caught.value)


def _pem_of(key: object, password: bytes | None = None) -> str:
    from cryptography.hazmat.primitives import serialization

    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                             encryption).decode()


def _encrypted() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return _pem_of(Ed25519PrivateKey.generate(), b"passphrase")


def _ec() -> str:
    from cryptography.hazmat.primitives.asymmetric import ec

    return _pem_of(ec.generate_private_key(ec.SECP256R1()))


@pytest.mark.parametrize(("content", "problem"), [
    (None, r"BINANCE_TESTNET_PRIVATE_KEY_FILE: names '.*missing.pem', which cannot be read \(No such file or directory\)"),
    ("not a key\n", "BINANCE_TESTNET_PRIVATE_KEY_FILE: names a file that holds no private key; expected an unencrypted "
                    r"Ed25519 private key in PEM \(-----BEGIN PRIVATE KEY-----\)"),
    (_encrypted, "BINANCE_TESTNET_PRIVATE_KEY_FILE: names a password-protected key; expected an unencrypted"),
    (_ec, r"BINANCE_TESTNET_PRIVATE_KEY_FILE: names a private key of another type \(EC\), not Ed25519; expected"),
])
def test_the_key_files_problems_are_one_line_naming_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  content: object, problem: str) -> None:
    path = tmp_path / "missing.pem"
    if content is not None:
        path.write_text(content() if callable(content) else str(content))
    monkeypatch.setenv("BINANCE_TESTNET_API_KEY", "an-api-key")
    monkeypatch.setenv("BINANCE_TESTNET_PRIVATE_KEY_FILE", str(path))
    with pytest.raises(KeysError, match=f"^{problem}") as caught:
        credentials_from_env(BinanceConfig(key_type="ed25519"))
    assert "\n" not in str(caught.value)


def test_unset_variables_name_the_key_file_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BINANCE_TESTNET_API_KEY", raising=False)
    monkeypatch.delenv("BINANCE_TESTNET_PRIVATE_KEY_FILE", raising=False)
    with pytest.raises(KeysError, match=r"^BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_PRIVATE_KEY_FILE: not set; "):
        credentials_from_env(BinanceConfig(key_type="ed25519"))
    monkeypatch.setenv("BINANCE_TESTNET_API_KEY", "an-api-key")
    with pytest.raises(KeysError, match=r"^BINANCE_TESTNET_PRIVATE_KEY_FILE: not set \(or empty\); expected the path"):
        credentials_from_env(BinanceConfig(key_type="ed25519"))


def test_an_unknown_key_type_is_one_line_naming_file_and_key(project: pytest.Pytester) -> None:
    (project.path / "config" / "config.toml").open("a").write('\n[exchange.binance_testnet]\nkey_type = "rsa"\n')
    result = project.runpytest("--testnet-profile", "btc_usdt_binance", "--testnet-simulator")
    result.stderr.fnmatch_lines(["ERROR: config/config.toml: exchange.binance_testnet.key_type: expected one of "
                                 "'hmac', 'ed25519', found 'rsa'*"])


def test_a_recording_with_an_ed25519_key_fills_on_the_simulator(project: pytest.Pytester) -> None:
    """The shipped Binance profile recorded against the simulator, which hands out its
    Ed25519 key and checks every signature with its public key; the cassette holds neither."""
    with (project.path / "config" / "config.toml").open("a") as config:
        config.write("\n" + ED25519)
    result = project.runpytest("--testnet-profile", "btc_usdt_binance", "--testnet-record-mode=all",
                               "--testnet-simulator")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["btc_usdt_binance: DURATION_ELAPSED, 12 trades, *"])
    cassette = (project.path / "cassettes" / "btc_usdt_binance.json").read_text()
    assert '"status": "FILLED"' in cassette or '\\"status\\":\\"FILLED\\"' in cassette
    assert "signature" not in cassette and "PRIVATE KEY" not in cassette and "ed25519-key" not in cassette


def test_without_cryptography_an_ed25519_key_is_one_line_naming_the_extra(project: pytest.Pytester) -> None:
    """``cryptography`` made unimportable, as if the extra were not installed."""
    edit(project.path / "config" / "config.toml", "[testnet_session]", ED25519 + "\n[testnet_session]")
    project.makeconftest("import sys\nsys.modules['cryptography'] = None\n")
    result = project.runpytest_subprocess("--testnet-profile", "btc_usdt_binance", "--testnet-record-mode=all",
                                          "--testnet-simulator")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['KeysError: key_type = "ed25519": needs the cryptography package, which is not '
                                 "installed: pip install 'pytest-peak-testnet[ed25519]'"])
    assert "Traceback" not in result.stdout.str()


def test_a_replay_with_an_ed25519_key_needs_no_cryptography(replay_project: pytest.Pytester) -> None:
    """A replay signs nothing real (the cassette holds no signature), so a desk on Ed25519
    keys replays where the extra is not installed, as in a CI job without it."""
    edit(replay_project.path / "config" / "config.toml", "[testnet_session]", ED25519 + "\n[testnet_session]")
    replay_project.makeconftest("import sys\nsys.modules['cryptography'] = None\n")
    result = replay_project.runpytest_subprocess("--testnet-profile", "btc_usdt_binance",
                                                 "--testnet-base-url", "http://127.0.0.1:9")
    result.assert_outcomes(passed=1)


def test_the_command_line_simulator_writes_its_ed25519_key_for_a_desk(tmp_path: Path) -> None:
    key_file = tmp_path / "sim-ed25519.pem"
    process = subprocess.Popen([sys.executable, "-m", "pytest_peak_testnet.simulator", "--venue", "binance",
                                "--ed25519-key-file", str(key_file)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        process.stdout.readline()
        assert process.stdout.readline().startswith("ed25519 api key peak-testnet-simulator-ed25519-key, private key "
                                                    f"written to {key_file}")
        keys = Ed25519Keys("peak-testnet-simulator-ed25519-key", key_file.read_text())
        assert BinanceTestnetClient(BinanceConfig(base_url=url), keys=keys).balances()["USDT"] == Decimal("10000")
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
