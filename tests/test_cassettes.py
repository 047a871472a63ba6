"""Cassettes: Kraken's wire format, no secrets, exact ordered playback through the index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import yaml

from conftest import ROOT, write_profile
from pytest_peak_testnet.cassettes import CassetteError, find_secrets, use_cassette
from pytest_peak_testnet.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET

SHIPPED = sorted((ROOT / "cassettes").glob("*.yaml"))


def interactions(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["interactions"]


def test_every_shipped_profile_has_a_cassette() -> None:
    names = {p.stem for p in SHIPPED}
    assert {"ma_crossover_small", "btc_momentum", "eth_swing", "quick_smoke"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_cassette_holds_no_secret(path: Path) -> None:
    text = path.read_text()
    assert find_secrets(text) == []
    for interaction in interactions(path):
        assert interaction["request"]["headers"] == {}
        body = json.loads(interaction["response"]["body"]["string"])
        assert isinstance(body["error"], list)  # Kraken's envelope: error always, result on success
        assert body["error"] or "result" in body


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_cassette_stays_small(path: Path) -> None:
    assert path.stat().st_size < 1_000_000


@pytest.mark.parametrize("leak", [
    "API-Sign: 4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==",
    "API-Key:\n  - abc",
    "body: nonce=1616492376594&ordertype=limit",
    "body: ordertype=limit&otp=123456",
    f"secret {DEFAULT_API_SECRET}",
])
def test_the_secrets_scan_finds_what_it_is_for(leak: str) -> None:
    assert find_secrets(f"interactions:\n- request:\n    {leak}\n")


def test_a_fresh_recording_is_scrubbed(project: pytest.Pytester) -> None:
    write_profile(project, "rec", duration_minutes=20, params={"fast": 2, "slow": 4})
    project.runpytest("--testnet-profile", "rec", "--testnet-record-mode=all", "--testnet-simulator").assert_outcomes(
        passed=1)
    text = (project.path / "cassettes" / "rec.yaml").read_text()
    assert "/0/private/AddOrder" in text
    assert find_secrets(text) == []
    assert DEFAULT_API_KEY not in text and DEFAULT_API_SECRET not in text
    assert "/_sim/" not in text  # the simulator's clock control is not part of a session


def _cassette(path: Path, bodies: list[str]) -> None:
    def interaction(body: str) -> dict:
        return {
            "request": {"method": "GET", "uri": "https://api.kraken.com/0/public/Time", "body": None, "headers": {}},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"Content-Type": ["application/json"]}, "body": {"string": body}},
        }
    path.write_text(yaml.safe_dump({"interactions": [interaction(b) for b in bodies], "version": 1}))


def test_identical_requests_play_back_in_recorded_order_once_each(tmp_path: Path) -> None:
    path = tmp_path / "times.yaml"
    bodies = [json.dumps({"error": [], "result": {"unixtime": t}}) for t in (100, 160, 220)]
    _cassette(path, bodies)
    with use_cassette(path, "none", "record it"):
        seen = [requests.get("https://api.kraken.com/0/public/Time", timeout=1).json()["result"]["unixtime"]
                for _ in range(3)]
        assert seen == [100, 160, 220]
        with pytest.raises(Exception, match="Time"):
            requests.get("https://api.kraken.com/0/public/Time", timeout=1)


def test_a_request_the_cassette_lacks_is_named(tmp_path: Path) -> None:
    path = tmp_path / "times.yaml"
    _cassette(path, [json.dumps({"error": [], "result": {"unixtime": 1}})])
    with pytest.raises(CassetteError, match=r"has no recorded answer for GET /0/public/OHLC \(pair XXBTZEUR\); "
                                            r"record it again with: make it"):
        with use_cassette(path, "none", "make it"):
            requests.get("https://api.kraken.com/0/public/OHLC?pair=XXBTZEUR&interval=1", timeout=1)
