"""Issue 22's done-when, end to end: the shipped Binance profile replays offline with its
baseline; a recording against the simulator in Binance's wire format places orders that
fill, partly fill and expire on a thin book, and the reports show the exchange's fills,
fees and slippage; a buy's commission taken in BTC leaves dust, not an open position; a
profile declares the simulator's book. (A production host refused with no request sent:
``test_venues``; Kraken's baselines byte-identical: ``test_baselines``.)"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import ROOT, edit, error_lines, write_profile
from pytest_peak_testnet.desk.config import SessionConfig
from pytest_peak_testnet.trading.paper import PaperAccount

OFFLINE = ("--testnet-base-url", "http://127.0.0.1:9")
PROFILE = "btc_usdt_binance"


def reports_in_both_formats(project: pytest.Pytester) -> None:
    edit(project.path / "config" / "config.toml", 'report_format = "markdown"', 'report_format = ["markdown", "html"]')


def test_the_binance_profile_replays_offline_with_its_baseline(replay_project: pytest.Pytester) -> None:
    result = replay_project.runpytest("-m", "testnet_smoke", "profiles", *OFFLINE)
    result.assert_outcomes(passed=2, deselected=3)
    result.stdout.fnmatch_lines([
        f"{PROFILE}: DURATION_ELAPSED, 12 trades, 6 round trips, notional 303.33 USDT, PnL -0.36 USDT; orders 6 "
        "filled, 6 partly, 6 expired, slippage at most +0.5 bps, dust 0.0000064 BTC",
        "testnet expectations: * held, 0 failed; baselines: 2 matched"])


def _placed_orders(cassette: Path) -> list[dict[str, object]]:
    interactions = json.loads(cassette.read_text())["interactions"]
    return [json.loads(i["response"]["body"]["string"]) for i in interactions
            if i["request"]["method"] == "POST" and i["request"]["uri"].startswith("/api/v3/order")]


def test_a_recording_on_a_thin_book_fills_partly_fills_and_expires_and_the_reports_show_it(
        project: pytest.Pytester) -> None:
    """The shipped profile recorded again against the simulator in Binance's wire format:
    its book (3 levels of 0.0002 BTC) is thinner than its buys."""
    reports_in_both_formats(project)
    result = project.runpytest("--testnet-profile", PROFILE, "--testnet-record-mode=all", "--testnet-simulator",
                               "--testnet-report")
    result.assert_outcomes(passed=1)
    placed = _placed_orders(project.path / "cassettes" / f"{PROFILE}.json")
    statuses = {(o["side"], o["status"]) for o in placed}
    assert statuses == {("BUY", "EXPIRED"), ("SELL", "FILLED")}
    expired = next(o for o in placed if o["status"] == "EXPIRED")
    assert Decimal("0") < Decimal(str(expired["executedQty"])) < Decimal(str(expired["origQty"]))
    assert {f["commissionAsset"] for o in placed for f in o["fills"]} == {"BTC", "USDT"}

    markdown = (project.path / "reports" / "latest.md").read_text()
    assert ("| Orders | orders placed on the project's simulator, which fills them as the exchange would; figures "
            "come from its fills and fees |") in markdown
    assert "- **Exchange fills:** 36 fills of 12 orders; orders 6 filled, 6 partly filled, 6 expired;" in markdown
    assert ("- **Commissions:** 0.0000036 BTC, 0.15150007 USDT, as the exchange charged them; the fees above "
            "(0.30 USDT) hold those in BTC and USDT, a BTC commission converted at its fill's price") in markdown
    assert "- **Dust:** 0.0000064 BTC left at the end, below one lot step" in markdown
    assert "Open position" not in markdown
    fills = [line for line in markdown.splitlines() if re.match(r"\| 2024-01-01 \d\d:\d\d:00 \| \d+ \|", line)]
    assert len(fills) == 36
    assert fills[0] == "| 2024-01-01 00:02:00 | 1 | buy | 42356.65 | 0.0002 | 0.0000002 BTC | 42354.53 | +0.50 |"
    assert "| sell | 42281.51 | 0.0002 | 0.0084563 USDT | 42283.62 | +0.50 |" in fills[3]

    html = (project.path / "reports" / "latest.html").read_text()
    assert "<b>Exchange fills:</b> 36 fills of 12 orders; orders 6 filled, 6 partly filled, 6 expired;" in html
    assert "<b>Commissions:</b> 0.0000036 BTC, 0.15150007 USDT" in html and "<b>Dust:</b> 0.0000064 BTC" in html
    assert html.count('<td class="n">0.0000002 BTC</td>') == 18
    assert '<td class="n">+0.50</td>' in html


def test_the_closing_sell_sells_the_whole_sellable_position_and_leaves_dust(project: pytest.Pytester) -> None:
    """Binance takes a buy's commission in BTC: 0.00115 bought holds 0.00114885. The sell is
    0.00114 (the lot step is 0.00001), never refused for a quantity off the grid, and the
    0.00000885 left is dust: the run is flat, its round trip closed."""
    write_profile(project, "one_trip", exchange="binance_testnet", symbol="BTC/USDT", duration_minutes=10,
                  max_notional=100.0, max_trades=2, close_at_end=True, params={"fast": 2, "slow": 5},
                  expect={"orders_rejected": 0, "open_volume": 0, "round_trips": 1, "dust": "0.00000885"})
    result = project.runpytest("--testnet-profile", "one_trip", "--testnet-record-mode=all", "--testnet-simulator")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["one_trip: *, 2 trades, 1 round trip, notional *; orders 2 filled, 0 partly, "
                                 "0 expired, *, dust 0.00000885 BTC"])
    assert "position open" not in result.stdout.str()
    sides = [(o["side"], o["origQty"]) for o in _placed_orders(project.path / "cassettes" / "one_trip.json")]
    assert sides == [("BUY", "0.00115000"), ("SELL", "0.00114000")]


def test_dust_below_a_lot_step_is_flat_and_is_sold_once_it_makes_a_lot() -> None:
    paper = PaperAccount(SessionConfig(), Decimal("0.00001"))
    paper.record("buy", Decimal("0.0009991"), Decimal("40000"), Decimal("39.964"), Decimal("0.04"), 60)
    assert (paper.open_volume, paper.dust) == (Decimal("0.00099"), Decimal("0.0000091"))
    paper.record("sell", paper.open_volume, Decimal("40100"), Decimal("39.699"), Decimal("0.04"), 120)
    metrics = paper.metrics(type("Tally", (), {"denied": 0, "sent": 2, "accepted": 2, "rejected": 0})())  # type: ignore[arg-type]
    assert (metrics.open_volume, metrics.round_trips, paper.dust) == (0, 1, Decimal("0.0000091"))
    assert metrics.trips[0].exit_price == Decimal("40100")  # over the volume sold, not the volume bought
    paper.record("buy", Decimal("0.0009991"), Decimal("40000"), Decimal("39.964"), Decimal("0.04"), 180)
    assert (paper.open_volume, paper.dust) == (Decimal("0.00100"), Decimal("0.0000082"))


@pytest.mark.parametrize(("simulator", "message"), [
    ("{book_depth: -0.1}", "simulator.book_depth: expected a number > 0, found -0.1"),
    ("{book_levels: 2.5}", "simulator.book_levels: expected a whole number > 0, found 2.5"),
    ("{book_deep: 0.1}", "simulator.book_deep: unknown key; did you mean book_depth?"),
    ("0.0002", "simulator: expected a table (mapping) of simulator settings, found 0.0002"),
])
def test_a_bad_simulator_setting_is_one_line(project: pytest.Pytester, simulator: str, message: str) -> None:
    path = project.path / "profiles" / f"{PROFILE}.yaml"
    text = re.sub(r"simulator:\n(  .*\n)+", f"simulator: {simulator}\n", path.read_text())
    path.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("simulator:"))
    result = project.runpytest("--testnet-list")
    assert error_lines(result) == [f"ERROR: profiles/{PROFILE}.yaml:{line}: {message}"]


def test_a_setting_the_venues_simulator_does_not_take_is_one_line(project: pytest.Pytester) -> None:
    write_profile(project, "kraken_book", simulator={"book_depth": 0.1})
    result = project.runpytest("--testnet-list")
    assert error_lines(result) == [
        "ERROR: profiles/kraken_book.yaml: simulator.book_depth: kraken's simulator takes no settings, not "
        "book_depth (profile kraken_book trades on kraken_testnet)"]


def test_the_shipped_config_names_binance_and_allows_its_symbol() -> None:
    from pytest_peak_testnet.desk.config import BinanceConfig, load_config

    config = load_config(ROOT / "config" / "config.toml", ROOT)
    binance = config.exchanges["binance_testnet"]
    assert isinstance(binance, BinanceConfig)
    assert (binance.base_url, binance.validate_only, binance.recv_window) == ("https://testnet.binance.vision",
                                                                              False, 5000)
    assert "BTC/USDT" in config.symbols.allowed and config.symbols.notional_cap("BTC/USDT") == Decimal("1000.0")


def test_the_binance_reports_are_well_formed(replay_project: pytest.Pytester) -> None:
    """The fills table and the commission and dust items keep the layout rules of every
    report: one Markdown item a line, every HTML element closed, every item in both."""
    from test_report_layout import MARKDOWN_LINE, Tags

    reports_in_both_formats(replay_project)
    replay_project.runpytest("--testnet-profile", PROFILE, "--testnet-report", *OFFLINE).assert_outcomes(passed=1)
    markdown = (replay_project.path / "reports" / "latest.md").read_text()
    for number, line in enumerate(markdown.splitlines(), 1):
        assert MARKDOWN_LINE.match(line), f"line {number} starts in no known way: {line!r}"
    labels = re.findall(r"^- \*\*([^*]+):\*\*", markdown, re.MULTILINE)
    assert labels[labels.index("Exchange fills"):labels.index("Equity")] == ["Exchange fills", "Commissions", "Dust"]
    tags = Tags()
    tags.feed((replay_project.path / "reports" / "latest.html").read_text())
    tags.close()
    assert tags.problems == [] and tags.open == []
    assert {f"{label}:" for label in labels} <= set(tags.labels)
