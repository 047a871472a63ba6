"""Cassettes: Kraken's wire format, no secrets, exact ordered playback through the index."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml
from test_bad_inputs import alias_bomb

from conftest import ROOT, error_lines, write_profile
from pytest_peak_testnet.cassettes import CassetteError, find_secrets, use_cassette
from pytest_peak_testnet.desk.config import load_config
from pytest_peak_testnet.desk.profiles import load_profiles
from pytest_peak_testnet.exchange.simulator import DEFAULT_API_KEY, DEFAULT_API_SECRET

SHIPPED = sorted((ROOT / "cassettes").glob("*.json"))


def interactions(path: Path) -> list[dict]:
    return json.loads(path.read_text())["interactions"]


def test_every_shipped_profile_has_a_cassette() -> None:
    """Every profile the repo defines, in profiles/ and in config/config.toml, as the desk loads them."""
    config = load_config(ROOT / "config" / "config.toml", ROOT)
    profiles = load_profiles(ROOT / "profiles", config, ROOT)
    assert "eth_scalp_toml" in profiles  # the TOML profiles are among them
    missing = [name for name, profile in profiles.items()
               if not (ROOT / "cassettes" / (profile.cassette or f"{name}.json")).is_file()]
    assert missing == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_cassette_holds_no_secret(path: Path) -> None:
    text = path.read_text()
    assert find_secrets(text) == []
    for interaction in interactions(path):
        assert interaction["request"]["headers"] == {}
        body = json.loads(interaction["response"]["body"]["string"])
        if interaction["request"]["uri"].startswith("/api/v3/"):  # Binance: its answer, or {"code", "msg"}
            assert isinstance(body, list) or "code" not in body or isinstance(body["msg"], str)
        else:
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
    text = (project.path / "cassettes" / "rec.json").read_text()
    assert "/0/private/AddOrder" in text
    assert find_secrets(text) == []
    assert DEFAULT_API_KEY not in text and DEFAULT_API_SECRET not in text
    assert "/_sim/" not in text  # the simulator's clock control is not part of a session


def _cassette(path: Path, bodies: list[str], method: str = "GET", path_: str = "/0/public/Time",
              form: str | None = None) -> None:
    def interaction(body: str) -> dict:
        return {
            "request": {"method": method, "uri": f"https://api.kraken.com{path_}", "body": form, "headers": {}},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"Content-Type": ["application/json"]}, "body": {"string": body}},
        }
    path.write_text(yaml.safe_dump({"interactions": [interaction(b) for b in bodies], "version": 1}))


def test_identical_requests_play_back_in_recorded_order_once_each(tmp_path: Path) -> None:
    path = tmp_path / "times.yaml"
    bodies = [json.dumps({"error": [], "result": {"unixtime": t}}) for t in (100, 160, 220)]
    _cassette(path, bodies)
    with use_cassette(path, "none", "record it") as session:
        assert session is not None
        seen = [session.get("https://api.kraken.com/0/public/Time", timeout=1).json()["result"]["unixtime"]
                for _ in range(3)]
        assert seen == [100, 160, 220]
        with pytest.raises(CassetteError, match="Time"):
            session.get("https://api.kraken.com/0/public/Time", timeout=1)


def test_a_private_request_matches_whatever_nonce_it_carries(tmp_path: Path) -> None:
    path = tmp_path / "order.yaml"
    _cassette(path, [json.dumps({"error": [], "result": {"descr": {"order": "buy"}}})], "POST",
              "/0/private/AddOrder", "ordertype=market&pair=XXBTZEUR&type=buy")
    with use_cassette(path, "none", "record it") as session:
        assert session is not None
        answer = session.post("https://api.kraken.com/0/private/AddOrder", timeout=1,
                              data="nonce=1700000000123&type=buy&pair=XXBTZEUR&ordertype=market")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["result"]["descr"]["order"] == "buy"


def test_a_request_the_cassette_lacks_is_named(tmp_path: Path) -> None:
    path = tmp_path / "times.yaml"
    _cassette(path, [json.dumps({"error": [], "result": {"unixtime": 1}})])
    with pytest.raises(CassetteError, match=r"has no recorded answer for GET /0/public/OHLC \(pair XXBTZEUR\); "
                                            r"record it again with: make it"):
        with use_cassette(path, "none", "make it") as session:
            assert session is not None
            session.get("https://api.kraken.com/0/public/OHLC?pair=XXBTZEUR&interval=1", timeout=1)


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("broken.json", '{"version": 1, "interactions": [', r"is not valid JSON \(Expecting value, line 1\)"),
    ("broken.yaml", "interactions: [\n  - {request: ", r"is not valid YAML \(.*, line \d+\)"),
    ("broken.json", '["just", "a list"]', "is not a vcrpy cassette of format version 1"),
    ("broken.json", '{"version": 1}', "has no interactions list"),
    ("broken.json", '{"version": 1, "interactions": [{"request": {"method": "GET", "uri": "/"}}]}',
     "has no response.body.string in interaction 1"),
    ("broken.yaml", "version: 1\ninteractions:\n- request: {method: GET}\n"
                    "  response: {body: {string: ''}, status: {code: 200}}\n", "has no request.uri in interaction 1"),
    ("broken.yaml", "version: 1\ninteractions:\n- request: {method: GET, uri: /}\n"
                    "  response: {body: {string: ''}, status: {code: OK}}\n",
     r"has a malformed response in interaction 1 \(expected an integer status code, .*\)"),
])
def test_a_broken_cassette_is_one_line_naming_it(replay_project: pytest.Pytester, name: str, text: str,
                                                 expected: str) -> None:
    (replay_project.path / "cassettes" / name).write_text(text)
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", "--testnet-override", f"cassette={name}")
    result.assert_outcomes(errors=1)  # found in setup: the run does not start
    result.stdout.re_match_lines([rf"CassetteError: cassette .*{re.escape(name)} {expected}; record it again with: "
                                  r"pytest --testnet-profile quick_smoke --testnet-record-mode=rewrite --testnet-simulator"])


def test_a_yaml_cassette_replays_like_its_json_twin(replay_project: pytest.Pytester) -> None:
    cassettes = replay_project.path / "cassettes"
    (cassettes / "quick_smoke.yaml").write_text(yaml.safe_dump(json.loads((cassettes / "quick_smoke.json").read_text())))
    results = [replay_project.runpytest("--testnet-profile", "quick_smoke", "--testnet-override", f"cassette={name}")
               for name in ("quick_smoke.json", "quick_smoke.yaml")]
    lines = [next(line for line in r.outlines if line.startswith("quick_smoke: ")) for r in results]
    assert results[1].ret == 0 and lines[0] == lines[1]


def test_a_cassette_recorded_with_full_uris_still_replays(replay_project: pytest.Pytester) -> None:
    """Cassettes recorded before URIs were stored relative to the base URL held the
    simulator's address and port; they replay as they did, to the same baseline."""
    path = replay_project.path / "cassettes" / "quick_smoke.json"
    data = json.loads(path.read_text())
    for interaction in data["interactions"]:
        interaction["request"]["uri"] = "http://127.0.0.1:40589" + interaction["request"]["uri"]
    path.write_text(json.dumps(data))
    result = replay_project.runpytest("--testnet-profile", "quick_smoke")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*baselines: 1 matched*"])


def test_a_cassette_must_be_json_or_yaml(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest("--testnet-profile", "quick_smoke", "--testnet-override", "cassette=smoke.txt")
    assert error_lines(result) == ["ERROR: --testnet-override: cassette: expected a file name ending in "
                                   ".json or .yaml or .yml, found 'smoke.txt'"]


def test_rerecording_against_another_simulator_port_gives_the_same_file(project: pytest.Pytester) -> None:
    write_profile(project, "rec", duration_minutes=20, params={"fast": 2, "slow": 4})
    args = ("--testnet-profile", "rec", "--testnet-record-mode=rewrite", "--testnet-simulator")
    project.runpytest(*args).assert_outcomes(passed=1)
    path = project.path / "cassettes" / "rec.json"
    first = path.read_text()
    project.runpytest(*args).assert_outcomes(passed=1)  # a fresh simulator, on another port
    assert path.read_text() == first
    data = json.loads(first)
    assert {i["request"]["uri"].split("/0/")[0] for i in data["interactions"]} == {""}  # no scheme, host or port
    assert first == json.dumps(data, indent=4, sort_keys=True) + "\n"
    project.runpytest("--testnet-profile", "rec").assert_outcomes(passed=1)  # and it replays


@pytest.mark.parametrize(("mode", "stale_kept"), [("rewrite", False), ("all", True)])
def test_rewrite_leaves_nothing_stale(project: pytest.Pytester, mode: str, stale_kept: bool) -> None:
    write_profile(project, "rec", duration_minutes=20, params={"fast": 2, "slow": 4})
    path = project.path / "cassettes" / "rec.json"
    path.parent.mkdir()
    _cassette(path, ['{"error": [], "result": {}}'], path_="/0/public/Stale")
    path.write_text(json.dumps(yaml.safe_load(path.read_text())))  # vcrpy reads a .json cassette as JSON
    project.runpytest("--testnet-profile", "rec", f"--testnet-record-mode={mode}", "--testnet-simulator"
                      ).assert_outcomes(passed=1)
    assert ("/0/public/Stale" in path.read_text()) is stale_kept


@pytest.mark.parametrize("leak", ["X-MBX-APIKEY:\n  - abc", "uri: /api/v3/account?timestamp=1&signature=9f2c"])
def test_the_secrets_scan_finds_binance_keys_and_signatures(leak: str) -> None:
    assert find_secrets(f"interactions:\n- request:\n    {leak}\n")


def test_a_binance_request_matches_whatever_it_is_signed_and_stamped_with(tmp_path: Path) -> None:
    """Binance signs the query (GET, DELETE) or the body (POST); the signature, the
    timestamp and the client order ids change every run and are neither kept nor matched."""
    path = tmp_path / "binance.yaml"
    _cassette(path, [json.dumps({"symbol": "BTCUSDT", "status": "CANCELED"})], "DELETE",
              "/api/v3/order?orderId=12&recvWindow=5000&symbol=BTCUSDT")
    with use_cassette(path, "none", "record it") as session:
        assert session is not None
        answer = session.delete("https://testnet.binance.vision/api/v3/order?symbol=BTCUSDT&orderId=12"
                                "&origClientOrderId=pt-9&recvWindow=5000&timestamp=1700000000123&signature=ab12",
                                params={}, timeout=1)
        assert answer.json()["status"] == "CANCELED"
    _cassette(path, [json.dumps({"orderId": 12})], "POST", "/api/v3/order",
              "quantity=0.001&recvWindow=5000&side=BUY&symbol=BTCUSDT&type=MARKET")
    with use_cassette(path, "none", "record it") as session:
        assert session is not None
        answer = session.post("https://testnet.binance.vision/api/v3/order", timeout=1,
                              data="symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&newClientOrderId=pt-1"
                                   "&recvWindow=5000&timestamp=1700000000456&signature=cd34")
        assert answer.json()["orderId"] == 12


def test_a_binance_recording_keeps_no_signature_timestamp_or_key(tmp_path: Path) -> None:
    """A signed GET through a recording: the cassette keeps the query in the order it was
    sent, without signature and timestamp, and no request header at all."""
    import requests
    from servers import json_server

    path = tmp_path / "signed.json"
    with json_server(lambda _: (b'{"balances": []}', {"X-MBX-USED-WEIGHT-1M": "20"})) as url, \
            use_cassette(path, "all", "record it"):
        requests.get(f"{url}/api/v3/account?recvWindow=5000&omitZeroBalances=true&timestamp=1700000000123"
                     "&signature=9f2c0a", headers={"X-MBX-APIKEY": DEFAULT_API_KEY}, timeout=5)
    [interaction] = json.loads(path.read_text())["interactions"]
    assert interaction["request"]["uri"] == "/api/v3/account?recvWindow=5000&omitZeroBalances=true"
    assert interaction["request"]["headers"] == {}
    assert interaction["response"]["headers"]["X-MBX-USED-WEIGHT-1M"] == ["20"]
    assert find_secrets(path.read_text()) == [] and DEFAULT_API_KEY not in path.read_text()


def test_extending_a_yaml_cassette_with_aliases_is_refused_at_once(project: pytest.Pytester) -> None:
    """new_episodes reads the cassette it extends; vcrpy expanded a nine-level alias bomb."""
    write_profile(project, "grows", cassette="grows.yaml", params={"fast": 3, "slow": 7})
    cassette = project.path / "cassettes" / "grows.yaml"
    cassette.parent.mkdir(exist_ok=True)
    cassette.write_text("interactions: []\nversion: 1\nbomb:\n" + alias_bomb(9).split("description:\n", 1)[1])
    before = cassette.read_bytes()
    started = time.monotonic()
    result = project.runpytest("--testnet-profile", "grows", "--testnet-record-mode=new_episodes", "--testnet-simulator")
    assert time.monotonic() - started < 10
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"CassetteError: cassette {cassette} is not valid YAML (aliases are not allowed "
                                 "(found *a0), line 5); record it again with: *"])
    assert "Traceback" not in result.stdout.str() and cassette.read_bytes() == before
