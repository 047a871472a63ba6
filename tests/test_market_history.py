"""Market history for the simulator from a Kraken OHLCVT CSV: checked on load, served at
its own times, and recorded into a cassette a profile then replays."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import edit, write_profile
from pytest_peak_testnet.errors import InputError
from pytest_peak_testnet.exchange.simulator import Simulator
from pytest_peak_testnet.exchange.simulator.kraken.csvhistory import load

#: 2024-05-01 00:00 UTC.
START = 1_714_521_600


def rows(count: int, start: int = START, step: int = 60) -> list[str]:
    """Kraken OHLCVT lines (no header): a slow wave around 60,000 EUR, whole tenths."""
    lines = []
    for i in range(count):
        open_ = round(60_000 + 400 * math.sin(i / 17), 1)
        close = round(60_000 + 400 * math.sin((i + 1) / 17), 1)
        lines.append(f"{start + i * step},{open_:.1f},{max(open_, close) + 3.5:.1f},{min(open_, close) - 2.5:.1f},"
                     f"{close:.1f},{0.5 + i % 7 / 10:.8f},{3 + i % 5}")
    return lines


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_file_loads_as_its_pairs_candles(tmp_path: Path) -> None:
    history = load(write(tmp_path / "XBTEUR_1.csv", rows(5)))
    assert (history.pair.pair_id, history.interval, len(history.bars)) == ("XXBTZEUR", 60, 5)
    assert history.covers() == "XBTEUR_1.csv covers 2024-05-01 00:00 UTC to 2024-05-01 00:05 UTC"


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r[:2] + r[3:], ":3: gap: no candle between 2024-05-01 00:01 UTC and 2024-05-01 00:03 UTC "
                              "(2 min apart, the file's interval is 1 min)"),
    (lambda r: [r[0], r[0], *r[1:]], ":2: time 1714521600 is not after the previous candle's 1714521600"),
    (lambda r: [r[0], r[1] + ",9", *r[2:]], ":2: expected 7 columns (time, open, high, low, close, volume, trades), "
                                            "found 8"),
    (lambda r: [r[0], "1714521660,60023.5,abc,60000.0,60010.0,1.0,3", *r[2:]],
     ":2: expected whole-number time and trades and decimal figures, found "
     "'1714521660,60023.5,abc,60000.0,60010.0,1.0,3'"),
    (lambda r: [r[0], "1714521660,60023.5,60020.0,60000.0,60010.0,1.0,3", *r[2:]],
     ":2: expected low <= open, close <= high, found open 60023.5, high 60020.0, low 60000.0, close 60010.0"),
    (lambda r: r[:1], ": expected at least 2 candles, found 1"),
    (lambda r: [r[0], "1714521660,60023.55,60030.0,60000.0,60010.0,1.0,3", *r[2:]],
     ":2: price 60023.55 has more decimals than XBT/EUR's 1; the simulator serves a file's prices as written, so it "
     "cannot round them (a pair with finer prices: ETHEUR (2), XBTUSDT (2), ETHXBT (5), SHIBEUR (8))"),
    (lambda r: [r[0], "1714521660,0.00002345,0.00002401,0.00002300,0.00002399,1.0,3", *r[2:]],
     ":2: price 0.00002345 has more decimals than XBT/EUR's 1; the simulator serves a file's prices as written, so it "
     "cannot round them (a pair with finer prices: SHIBEUR (8))"),
])
def test_gaps_and_bad_rows_are_one_line(tmp_path: Path, change: object, message: str) -> None:
    path = write(tmp_path / "XBTEUR_1.csv", change(rows(5)))  # type: ignore[operator]
    with pytest.raises(InputError) as error:
        load(path)
    assert str(error.value) == f"{path}{message}"
    assert "\n" not in str(error.value)


def test_a_file_naming_no_pair_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot tell the pair: name the file <PAIR>_<minutes>.csv .* found 'btc.csv'"):
        load(write(tmp_path / "btc.csv", rows(5)))


def test_the_simulator_serves_the_candles_at_their_own_times(tmp_path: Path) -> None:
    lines = rows(60)
    history = load(write(tmp_path / "XBTEUR_1.csv", lines))
    with Simulator(history=[history], start_time=START + 30 * 60 + 30) as sim:
        answer = requests.get(f"{sim.url}/0/public/OHLC", params={"pair": "XBTEUR", "interval": 1}, timeout=10).json()
        candles = answer["result"]["XXBTZEUR"]
        # Every closed minute before 00:30 is the file's row, figures as written; the 00:30 one is under way.
        assert [[str(c[0]), *c[1:5], c[6], str(c[7])] for c in candles[:-1]] == \
            [[*line.split(",")[:5], line.split(",")[5], line.split(",")[6]] for line in lines[:30]]
        assert candles[-1][0] == START + 30 * 60 and candles[-1][1] == lines[30].split(",")[1]
        five = requests.get(f"{sim.url}/0/public/OHLC", params={"pair": "XBTEUR", "interval": 5}, timeout=10).json()
        first = five["result"]["XXBTZEUR"][0]
        window = [line.split(",") for line in lines[:5]]
        assert first[:5] == [START, window[0][1], max(w[2] for w in window), min(w[3] for w in window), window[4][4]]
        ticker = requests.get(f"{sim.url}/0/public/Ticker", params={"pair": "XBTEUR"}, timeout=10).json()
        assert ticker["result"]["XXBTZEUR"]["o"] == lines[0].split(",")[1]  # the day opened at the file's first row
        sim.clock.advance(3600)
        late = requests.get(f"{sim.url}/0/public/OHLC", params={"pair": "XBTEUR", "interval": 1}, timeout=10).json()
        assert late["error"] == ["EGeneral:Invalid arguments:no market history at 2024-05-01 01:30 UTC; "
                                 "XBTEUR_1.csv covers 2024-05-01 00:00 UTC to 2024-05-01 01:00 UTC"]


def shib_rows(count: int) -> list[str]:
    """A coin priced in millionths of a euro: every price has 8 decimals."""
    lines = []
    for i in range(count):
        open_, close = 2345 + int(90 * math.sin(i / 11)), 2345 + int(90 * math.sin((i + 1) / 11))
        lines.append(f"{START + i * 60},{open_ / 1e8:.8f},{(max(open_, close) + 7) / 1e8:.8f},"
                     f"{(min(open_, close) - 5) / 1e8:.8f},{close / 1e8:.8f},{9_000_000 + i:.5f},{4 + i % 3}")
    return lines


def test_a_file_with_8_decimal_prices_records_and_replays_its_own_prices(project: pytest.Pytester) -> None:
    """Before, SHIB-like prices in a BTC/EUR file were served as 0.0 everywhere; on a pair
    with 8 price decimals every served candle is the file's row as written."""
    edit(project.path / "config" / "config.toml", 'allowed = ["BTC/EUR", "ETH/EUR", "BTC/USDT"]',
         'allowed = ["BTC/EUR", "ETH/EUR", "BTC/USDT", "SHIB/EUR"]')
    write_profile(project, "shib", symbol="SHIB/EUR", duration_minutes=15, max_notional=200.0, max_trades=5,
                  close_at_end=True, params={"fast": 3, "slow": 8})
    lines = shib_rows(260)
    data = write(project.path / "market" / "SHIBEUR_1.csv", lines)
    recorded = project.runpytest("--testnet-profile", "shib", "--testnet-record-mode=all",
                                 f"--testnet-simulator-data={data}")
    recorded.assert_outcomes(passed=1)
    interactions = json.loads((project.path / "cassettes" / "shib.json").read_text())["interactions"]
    pages = [json.loads(i["response"]["body"]["string"])["result"]["SHIBEUR"]
             for i in interactions if "/0/public/OHLC" in i["request"]["uri"]]
    served = {str(c[0]): c[1:5] for page in pages for c in page[:-1]}
    by_file = {line.split(",")[0]: line.split(",")[1:5] for line in lines}
    assert len(served) >= 50 and all(served[t] == by_file[t] for t in served)
    replayed = project.runpytest("--testnet-profile", "shib")
    replayed.assert_outcomes(passed=1)
    line = next(x for x in recorded.outlines if x.startswith("shib: "))
    assert line in replayed.outlines


def probe(project: pytest.Pytester) -> Path:
    """A 15-minute BTC/EUR profile with no expectations of its own (the shipped ones state
    what they prove on the simulator's walk, not on this file's wave)."""
    return write_profile(project, "history_probe", duration_minutes=15, max_notional=200.0, max_trades=5,
                         close_at_end=True, params={"fast": 3, "slow": 8})


def ohlc_answers(cassette: Path) -> list[list[list[object]]]:
    interactions = json.loads(cassette.read_text())["interactions"]
    return [json.loads(i["response"]["body"]["string"])["result"]["XXBTZEUR"]
            for i in interactions if "/0/public/OHLC" in i["request"]["uri"]]


def test_a_profile_records_and_replays_real_history(project: pytest.Pytester) -> None:
    """The probe warms up on 50 minutes of the file (config.test.toml) and trades the 15 after them."""
    probe(project)
    lines = rows(260, start=START)
    data = write(project.path / "market" / "XBTEUR_1.csv", lines)
    recorded = project.runpytest("--testnet-profile", "history_probe", "--testnet-record-mode=all",
                                 f"--testnet-simulator-data={data}")
    recorded.assert_outcomes(passed=1)
    pages = ohlc_answers(project.path / "cassettes" / "history_probe.json")
    served = {str(c[0]): c[1:5] for page in pages for c in page[:-1]}
    by_file = {line.split(",")[0]: line.split(",")[1:5] for line in lines}
    assert len(served) >= 50 and all(served[t] == by_file[t] for t in served)
    assert min(map(int, served)) == START  # the warm-up reaches back to the file's first row

    replayed = project.runpytest("--testnet-profile", "history_probe")
    replayed.assert_outcomes(passed=1)
    line = next(x for x in recorded.outlines if x.startswith("history_probe: "))
    assert line in replayed.outlines


def test_the_profile_and_config_keys_choose_the_file(project: pytest.Pytester) -> None:
    write(project.path / "market" / "XBTEUR_1.csv", rows(260))
    profile = probe(project)
    profile.write_text(profile.read_text() + "simulator_data: market/XBTEUR_1.csv\n")
    project.runpytest("--testnet-profile", "history_probe", "--testnet-record-mode=all",
                      "--testnet-simulator").assert_outcomes(passed=1)
    assert min(c[0] for page in ohlc_answers(project.path / "cassettes" / "history_probe.json") for c in page) == START

    edit(profile, "simulator_data: market/XBTEUR_1.csv\n", "")
    config = project.path / "config" / "config.toml"
    edit(config, "[testnet_session]\n", '[testnet_session]\nsimulator_data = "market/XBTEUR_1.csv"\n')
    project.runpytest("--testnet-profile", "history_probe", "--testnet-record-mode=all",
                      "--testnet-simulator").assert_outcomes(passed=1)
    assert min(c[0] for page in ohlc_answers(project.path / "cassettes" / "history_probe.json") for c in page) == START


@pytest.mark.parametrize(("name", "count", "message"), [
    ("XBTEUR_1.csv", 60, "market/XBTEUR_1.csv: XBTEUR_1.csv covers 2024-05-01 00:00 UTC to 2024-05-01 01:00 UTC: "
                         "history_probe needs 50 warm-up candles of 1m and 15 min after them, up to 2024-05-01 01:06 UTC"),
    ("ETHEUR_1.csv", 260, "market/ETHEUR_1.csv: holds ETH/EUR candles; profile history_probe trades BTC/EUR"),
])
def test_a_file_that_cannot_serve_the_profile_fails_it_in_one_line(project: pytest.Pytester, name: str, count: int,
                                                                   message: str) -> None:
    data = write(project.path / "market" / name, rows(count))
    probe(project)
    result = project.runpytest("--testnet-profile", "history_probe", "--testnet-record-mode=all",
                               f"--testnet-simulator-data={data}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*InputError: {message}"])


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "market_history"


@pytest.fixture
def example(pytester: pytest.Pytester) -> pytest.Pytester:
    """The shipped example desk: real BTC/USDT minutes, a profile and its cassette."""
    for name in ("pytest.ini", "config", "profiles", "cassettes", "market"):
        source = EXAMPLE / name
        if source.is_dir():
            shutil.copytree(source, pytester.path / name)
        else:
            shutil.copy(source, pytester.path / name)
    return pytester


def test_the_example_profile_replays_a_cassette_of_real_history(example: pytest.Pytester) -> None:
    cassette = example.path / "cassettes" / "btc_usdt_history.json"
    lines = (example.path / "market" / "XBTUSDT_1.csv").read_text().splitlines()
    by_file = {int(line.split(",")[0]): line.split(",")[1:5] for line in lines}
    pages = [json.loads(i["response"]["body"]["string"])["result"]["XBTUSDT"]
             for i in json.loads(cassette.read_text())["interactions"] if "/0/public/OHLC" in i["request"]["uri"]]
    closed = [candle for page in pages for candle in page[:-1]]
    assert len({c[0] for c in closed}) >= 260  # 200 warm-up minutes and the hour traded
    assert all(c[1:5] == by_file[c[0]] for c in closed)  # every recorded candle is the file's, figures as written

    result = example.runpytest("--testnet-profile", "btc_usdt_history", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["btc_usdt_history: DURATION_ELAPSED, 6 trades, 3 round trips, "
                                 "notional 233.96 USDT, PnL -0.80 USDT"])


def test_recording_the_example_again_gives_the_same_candles(example: pytest.Pytester) -> None:
    cassette = example.path / "cassettes" / "btc_usdt_history.json"
    shipped = json.loads(cassette.read_text())["interactions"]
    example.runpytest("--testnet-profile", "btc_usdt_history", "--testnet-record-mode=all",
                      "--testnet-simulator").assert_outcomes(passed=1)
    again = json.loads(cassette.read_text())["interactions"]
    def candles(interactions: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """The market's answers; AssetPairs lists whatever pairs the simulator has now."""
        return [(i["request"]["uri"], i["response"]["body"]["string"]) for i in interactions
                if "/public/" in i["request"]["uri"] and "/AssetPairs" not in i["request"]["uri"]]
    assert candles(again) == candles(shipped)


def test_the_data_option_with_a_space_says_why_the_config_is_not_found(project: pytest.Pytester,
                                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    """pytest reads the value as a test path before it knows the option; a file outside the
    project moves the rootdir there, and the config was then only "not found"."""
    data = write(tmp_path_factory.mktemp("elsewhere") / "XBTEUR_1.csv", rows(260))
    probe(project)
    result = project.runpytest("--testnet-profile", "history_probe", "--testnet-simulator-data", str(data))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    [line] = [x for x in result.stderr.lines if x.startswith("ERROR: ")]
    assert line.startswith("ERROR: config/config.toml: config file not found")
    assert line.endswith(f"; pytest took the rootdir {data.parent.parent} from '--testnet-simulator-data {data}' (it reads "
                         f"that value as a test path before it knows the option): write --testnet-simulator-data={data}")
