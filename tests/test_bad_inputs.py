"""A corpus of malformed inputs, one per row: config, profiles, overrides, cassettes, the
ledger and command-line options. Each must stop with exactly one line that names the file
(or option) and the key, the documented exit code, and nothing written: no ledger entry,
no run log, no report, no cassette change."""

from __future__ import annotations

import fnmatch
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import ROOT
from conftest import edit as edit_file

TODAY = datetime.now(timezone.utc).date().isoformat()
LEDGER = f"test_results/usage/usage_{TODAY}.json"
CONFIG = "config/config.toml"
USAGE, FAILED = pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.TESTS_FAILED
OFFLINE = ("--testnet-base-url", "http://127.0.0.1:9")
SMOKE = ("--testnet-profile", "quick_smoke", *OFFLINE)
#: A config named by the user: one that does not parse is not taken for someone else's file.
NAMED = ("--testnet-config", CONFIG)
PROFILE = "strategy: ma_crossover\nsymbol: BTC/EUR\ntimeframe: 1m\n"
RUN = ('{"run_id": "a1", "profile": "p", "nodeid": "n", "mode": "live", "planned_notional": 10.0, '
       '"planned_trades": 1, "started_at": "2026-01-01T00:00:00+00:00"')


def alias_bomb(levels: int) -> str:
    """A "billion laughs" under a profile's description: each level nine aliases of the last."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return PROFILE + "description:\n  " + "\n  ".join(lines) + "\n"


#: Nested deeper than Python's parsers recurse.
DEEP = "[" * 100_000 + "]" * 100_000


def ledger(runs: str = "", used: str = "0.0", day: str = TODAY) -> str:
    return f'{{"date": "{day}", "notional_used": {used}, "trades_executed": 0, "run_log": [{runs}]}}'


@dataclass(frozen=True)
class Case:
    #: Files to write; a ``(old, new)`` pair edits the file the project already has.
    files: dict[str, str | bytes | tuple[str, str]]
    args: tuple[str, ...]
    exit: int
    #: The one line (fnmatch pattern) the user sees.
    line: str


def edit(old: str, new: str) -> tuple[str, str]:
    return (old, new)


CASES: dict[str, Case] = {
    # -- the config (TOML) ----------------------------------------------------------------
    "config_not_toml": Case({CONFIG: edit("[testnet_limits.run]", "[testnet_limits.run")}, (*NAMED, *SMOKE), USAGE, "ERROR: config/config.toml: invalid TOML: *"),
    "config_not_utf8": Case({CONFIG: b"[testnet_session]\nsymbol = \"\xff\"\n"}, SMOKE, USAGE,
                            "ERROR: config/config.toml: cannot read: 'utf-8' codec can't decode byte 0xff*"),
    "config_unknown_key": Case({CONFIG: edit("max_trades_per_day = 60", "max_trade_per_day = 60")}, SMOKE, USAGE,
                               "ERROR: config/config.toml: testnet_limits.daily.max_trade_per_day: unknown key; "
                               "did you mean max_trades_per_day?"),
    "config_section_not_table": Case({CONFIG: "testnet_session = 3\n"}, SMOKE, USAGE,
                                     "ERROR: config/config.toml: testnet_session: expected a table, found 3"),
    "config_negative_limit": Case({CONFIG: edit("max_orders_per_minute = 10", "max_orders_per_minute = -1")}, SMOKE,
                                  USAGE, "ERROR: config/config.toml: live_risk_limits.max_orders_per_minute: "
                                         "expected a whole number > 0, found -1"),
    "config_inf_timeout": Case({CONFIG: edit("timeout_seconds = 2.0", "timeout_seconds = inf")}, SMOKE, USAGE,
                               "ERROR: config/config.toml: exchange.kraken_testnet.timeout_seconds: *found inf"),
    "config_bool_as_string": Case({CONFIG: edit("validate_only = true", 'validate_only = "yes"')}, SMOKE, USAGE,
                                  "ERROR: config/config.toml: exchange.kraken_testnet.validate_only: "
                                  "expected true or false, found 'yes'"),
    "config_bad_timeframe": Case({CONFIG: edit('timeframe = "1m"', 'timeframe = "2m"')}, SMOKE, USAGE,
                                 "ERROR: config/config.toml: testnet_session.timeframe: expected one of *found '2m'"),
    "config_profile_not_table": Case({CONFIG: edit("[environment]", "[testnet_profiles]\nbad = 3\n[environment]")},
                                     SMOKE, USAGE, "ERROR: config/config.toml: testnet_profiles.bad: "
                                                   "expected a table, found 3"),
    "config_chosen_missing": Case({}, ("--testnet-config", "config/nope.toml", *SMOKE), USAGE,
                                  "ERROR: config/nope.toml: config file not found*"),
    "config_live_without_confirmation": Case({CONFIG: edit("validate_only = true", "validate_only = false")}, SMOKE,
                                             USAGE, "ERROR: config/config.toml: exchange.kraken_testnet.validate_only:"
                                                    " false places real orders; *"),
    # -- profiles (YAML, and TOML tables) ---------------------------------------------------
    "profile_not_yaml": Case({"profiles/bad.yaml": "strategy: [ma_crossover\n"}, SMOKE, USAGE,
                             "ERROR: profiles/bad.yaml:*: invalid YAML: *"),
    "profile_a_list": Case({"profiles/bad.yaml": "- strategy\n- symbol\n"}, SMOKE, USAGE,
                           "ERROR: profiles/bad.yaml:1: expected a mapping of profile fields, found list"),
    "profile_not_utf8": Case({"profiles/bad.yaml": b"strategy: ma_crossover\ndescription: \xff\n"}, SMOKE, USAGE,
                             "ERROR: profiles/bad.yaml: cannot read: 'utf-8' codec can't decode byte 0xff*"),
    "profile_missing_strategy": Case({"profiles/bad.yaml": "symbol: BTC/EUR\ntimeframe: 1m\n"}, SMOKE, USAGE,
                                     "ERROR: profiles/bad.yaml:*strategy*"),
    "profile_unknown_field": Case({"profiles/bad.yaml": PROFILE + "duraton_minutes: 5\n"}, SMOKE, USAGE,
                                  "ERROR: profiles/bad.yaml:4: duraton_minutes: unknown key; "
                                  "did you mean duration_minutes?"),
    "profile_zero_duration": Case({"profiles/bad.yaml": PROFILE + "duration_minutes: 0\n"}, SMOKE, USAGE,
                                  "ERROR: profiles/bad.yaml:4: duration_minutes: expected a whole number > 0, found 0"),
    "profile_fractional_trades": Case({"profiles/bad.yaml": PROFILE + "max_trades: 1.5\n"}, SMOKE, USAGE,
                                      "ERROR: profiles/bad.yaml:4: max_trades: expected a whole number >= 2 *, found 1.5"),
    "profile_one_trade": Case({"profiles/bad.yaml": PROFILE + "max_trades: 1\n"}, SMOKE, USAGE,
                              "ERROR: profiles/bad.yaml:4: max_trades: expected a whole number >= 2 (a round trip is "
                              "2 trades: a buy and the sell that closes it), found 1"),
    "profile_negative_notional": Case({"profiles/bad.yaml": PROFILE + "max_notional: -5\n"}, SMOKE, USAGE,
                                      "ERROR: profiles/bad.yaml:4: max_notional: expected a number > 0, found -5"),
    "profile_bad_timeframe": Case({"profiles/bad.yaml": PROFILE.replace("1m", "2m")}, SMOKE, USAGE,
                                  "ERROR: profiles/bad.yaml:3: timeframe: expected one of *found '2m'"),
    "profile_bad_marker": Case({"profiles/bad.yaml": PROFILE + "markers: [not valid]\n"}, SMOKE, USAGE,
                               "ERROR: profiles/bad.yaml: markers: expected marker names (identifiers), "
                               "found 'not valid'"),
    "profile_bad_cassette_suffix": Case({"profiles/bad.yaml": PROFILE + "cassette: bad.txt\n"}, SMOKE, USAGE,
                                        "ERROR: profiles/bad.yaml: cassette: expected a file name ending in *"),
    "profile_alias_bomb": Case({"profiles/bad.yaml": alias_bomb(5)}, SMOKE, USAGE,
                               "ERROR: profiles/bad.yaml:6: invalid YAML: aliases are not allowed (found *a0)"),
    "profile_cassette_outside": Case({"profiles/bad.yaml": PROFILE + "cassette: ../../outside/evil.json\n"}, SMOKE,
                                     USAGE, "ERROR: profiles/bad.yaml: cassette: expected a path inside the cassettes "
                                            "folder (relative, without '..'), found '../../outside/evil.json'"),
    "profile_cassette_absolute": Case({"profiles/bad.yaml": PROFILE + "cassette: /tmp/evil.json\n"}, SMOKE, USAGE,
                                      "ERROR: profiles/bad.yaml: cassette: expected a path inside the cassettes "
                                      "folder *, found '/tmp/evil.json'"),
    "profile_huge_tolerance": Case({"profiles/bad.yaml": PROFILE + "baseline_tolerance: 1.0e+400\n"}, SMOKE, USAGE,
                                   "ERROR: profiles/bad.yaml:4: baseline_tolerance: expected a number in [[]0, 1[]], "
                                   "found inf"),
    "profile_tolerance_1e400": Case({"profiles/bad.yaml": PROFILE + "baseline_tolerance: 1e400\n"}, SMOKE, USAGE,
                                    "ERROR: profiles/bad.yaml:4: baseline_tolerance: expected a number in [[]0, 1[]], "
                                    "found '1e400' (YAML reads an exponent without a dot as text: write 1.0e+400 or "
                                    "the plain number)"),
    "profile_tolerance_above_one": Case({"profiles/bad.yaml": PROFILE + "baseline_tolerance: 5\n"}, SMOKE, USAGE,
                                        "ERROR: profiles/bad.yaml:4: baseline_tolerance: expected a number in [[]0, 1[]]"
                                        ", found 5"),
    "profile_unknown_param": Case({"profiles/bad.yaml": PROFILE + "params: {fats: 3}\n"}, SMOKE, USAGE,
                                  "ERROR: profiles/bad.yaml: params.fats: unknown key; did you mean fast?"),
    "profile_param_type": Case({"profiles/bad.yaml": PROFILE + "params: {fast: three}\n"}, SMOKE, USAGE,
                               "ERROR: profiles/bad.yaml: params.fast: expected *found 'three'"),
    "profile_unknown_strategy": Case({"profiles/bad.yaml": PROFILE.replace("ma_crossover", "ma_crosover")}, SMOKE,
                                     USAGE, "ERROR: profiles/bad.yaml: strategy: unknown strategy 'ma_crosover'; *"),
    "profile_defined_twice": Case({CONFIG: edit("[environment]", "[testnet_profiles.quick_smoke]\n"
                                                "strategy = 'ma_crossover'\nsymbol = 'BTC/EUR'\ntimeframe = '1m'\n"
                                                "[environment]")}, SMOKE, USAGE,
                                  "ERROR: config/config.toml: testnet_profiles.quick_smoke: profile 'quick_smoke' is "
                                  "also defined in profiles/quick_smoke.yaml"),
    "profile_table_bad_field": Case({CONFIG: edit("[environment]", "[testnet_profiles.t]\nstrategy = 'ma_crossover'\n"
                                                  "symbol = 'BTC/EUR'\ntimeframe = '1m'\nmax_trades = 0\n"
                                                  "[environment]")}, SMOKE, USAGE,
                                    "ERROR: config/config.toml: testnet_profiles.t.max_trades: "
                                    "expected a whole number >= 2 *, found 0"),
    # -- overrides --------------------------------------------------------------------------
    "override_no_equals": Case({}, (*SMOKE, "--testnet-override", "duration"), USAGE,
                               "ERROR: --testnet-override: expected KEY=VALUE, found 'duration'"),
    "override_empty_key": Case({}, (*SMOKE, "--testnet-override", "=5"), USAGE,
                               "ERROR: --testnet-override: expected KEY=VALUE, found '=5'"),
    "override_unknown_field": Case({}, (*SMOKE, "--testnet-override", "durration=5"), USAGE,
                                   "ERROR: --testnet-override durration: unknown profile field; did you mean *"),
    "override_not_a_number": Case({}, (*SMOKE, "--testnet-override", "duration=abc"), USAGE,
                                  "ERROR: --testnet-override duration_minutes: expected a whole number > 0, "
                                  "found 'abc'"),
    "override_negative": Case({}, (*SMOKE, "--testnet-override", "max_notional=-1"), USAGE,
                              "ERROR: --testnet-override max_notional: expected a number > 0, found -1"),
    "override_bad_timeframe": Case({}, (*SMOKE, "--testnet-override", "timeframe=7m"), USAGE,
                                   "ERROR: --testnet-override timeframe: expected one of *found '7m'"),
    "override_bad_param": Case({}, (*SMOKE, "--testnet-override", "params.fast=x"), USAGE,
                               "ERROR: profiles/quick_smoke.yaml: params.fast: expected *found 'x'"),
    # -- cassettes (replays: the run fails, in one line) -------------------------------------
    "cassette_not_json": Case({"cassettes/quick_smoke.json": '{"version": 1, "interactions": ['}, SMOKE, FAILED,
                              "CassetteError: cassette */cassettes/quick_smoke.json is not valid JSON (*); "
                              "record it again with: *"),
    "cassette_not_utf8": Case({"cassettes/quick_smoke.json": b'{"version": 1, "\xff": []}'}, SMOKE, FAILED,
                              "CassetteError: cassette */cassettes/quick_smoke.json is not UTF-8 text (byte 16); *"),
    "cassette_wrong_version": Case({"cassettes/quick_smoke.json": '{"version": 2, "interactions": []}'}, SMOKE,
                                   FAILED, "CassetteError: cassette */quick_smoke.json is not a vcrpy cassette of "
                                           "format version 1; *"),
    "cassette_no_interactions": Case({"cassettes/quick_smoke.json": '{"version": 1}'}, SMOKE, FAILED,
                                     "CassetteError: cassette */quick_smoke.json has no interactions list; *"),
    "cassette_no_status": Case({"cassettes/quick_smoke.json": '{"version": 1, "interactions": [{"request": '
                                '{"method": "GET", "uri": "http://x/0/public/Time"}, "response": {"body": '
                                '{"string": ""}}}]}'}, SMOKE, FAILED,
                               "CassetteError: cassette */quick_smoke.json has no response.status.code in "
                               "interaction 1; *"),
    "cassette_yaml_broken": Case({"profiles/quick_smoke.yaml": edit("strategy:", "cassette: qs.yaml\nstrategy:"),
                                  "cassettes/qs.yaml": "interactions: [\n"}, SMOKE, FAILED,
                                 "CassetteError: cassette */cassettes/qs.yaml is not valid YAML (*, line *); *"),
    "cassette_yaml_alias": Case({"profiles/quick_smoke.yaml": edit("strategy:", "cassette: qs.yaml\nstrategy:"),
                                 "cassettes/qs.yaml": "interactions: &i []\nversion: 1\nmore: *i\n"}, SMOKE, FAILED,
                                "CassetteError: cassette */cassettes/qs.yaml is not valid YAML (aliases are not "
                                "allowed (found *i), line 3); *"),
    "cassette_nested_deep": Case({"cassettes/quick_smoke.json": DEEP}, SMOKE, FAILED,
                                 "CassetteError: cassette */cassettes/quick_smoke.json is nested too deep to be a "
                                 "cassette; record it again with: *"),
    # -- the ledger (--testnet-budget reads it) ----------------------------------------------
    "ledger_nested_deep": Case({LEDGER: DEEP}, ("--testnet-budget",), USAGE,
                               f"ERROR: */{LEDGER}: nested too deep to be a ledger; the ledger is not read as empty, *"),
    "ledger_not_json": Case({LEDGER: ledger()[:-3]}, ("--testnet-budget",), USAGE,
                            f"ERROR: */{LEDGER}: not valid JSON (*); the ledger is not read as empty, *"),
    "ledger_not_utf8": Case({LEDGER: ledger().encode().replace(b"[]", b'[], "x": "\xff"')}, ("--testnet-budget",),
                            USAGE, f"ERROR: */{LEDGER}: not UTF-8 text (byte *); the ledger is not read as empty, *"),
    "ledger_wrong_date": Case({LEDGER: ledger(day="2001-01-01")}, ("--testnet-budget",), USAGE,
                              f"ERROR: */{LEDGER}: date is '2001-01-01', expected '{TODAY}'; *"),
    "ledger_run_log_not_list": Case({LEDGER: ledger().replace("[]", "{}")}, ("--testnet-budget",), USAGE,
                                    f"ERROR: */{LEDGER}: expected an object with a run_log list; *"),
    "ledger_unknown_field": Case({LEDGER: ledger(RUN + ', "colour": "red"}')}, ("--testnet-budget",), USAGE,
                                 f"ERROR: */{LEDGER}: run_log[[]0[]] is not a run record; *"),
    "ledger_notional_list": Case({LEDGER: ledger(RUN.replace("10.0", "[10]") + "}")}, ("--testnet-budget",), USAGE,
                                 f"ERROR: */{LEDGER}: run_log[[]0[]].planned_notional is [[]10[]]; *"),
    "ledger_bad_status": Case({LEDGER: ledger(RUN + ', "status": "lost"}')}, ("--testnet-budget",), USAGE,
                              f"ERROR: */{LEDGER}: run_log[[]0[]] has status 'lost' and mode 'live'; *"),
    "ledger_bad_started_at": Case({LEDGER: ledger(RUN.replace("2026-01-01T00:00:00+00:00", "yesterday") + "}")},
                                  ("--testnet-budget",), USAGE,
                                  f"ERROR: */{LEDGER}: run_log[[]0[]]: Invalid isoformat string: 'yesterday'; *"),
    "ledger_totals_disagree": Case({LEDGER: ledger(used="5.0")}, ("--testnet-budget",), USAGE,
                                   f"ERROR: */{LEDGER}: its totals disagree with its run_log; *"),
    "ledger_in_setup": Case({LEDGER: ledger()[:-3]}, SMOKE, FAILED,
                            f"LedgerError: */{LEDGER}: not valid JSON (*"),
    # -- options --------------------------------------------------------------------------
    "option_unknown_profile": Case({}, ("--testnet-profile", "quick_smok"), USAGE,
                                   "ERROR: --testnet-profile: unknown profile 'quick_smok'; did you mean quick_smoke? *"),
    "option_empty_profile": Case({}, ("--testnet-profile", ""), USAGE,
                                 "ERROR: --testnet-profile: empty profile name in ''; *"),
    "option_bad_record_mode_ini": Case({"tox.ini": edit("[pytest]", "[pytest]\ntestnet_record_mode = sometimes")},
                                       SMOKE, USAGE, "ERROR: ini testnet_record_mode: expected one of none, once, "
                                                     "new_episodes, all, rewrite, found 'sometimes'"),
    "option_bad_on_blocked_ini": Case({"tox.ini": edit("[pytest]", "[pytest]\ntestnet_on_blocked = warn")}, SMOKE,
                                      USAGE, "ERROR: ini testnet_on_blocked: expected one of skip, fail, found 'warn'"),
    "option_bad_credentials": Case({}, ("--testnet-profile", "quick_smoke", "--testnet-record-mode=all",
                                        "--testnet-base-url", "http://127.0.0.1:9"), FAILED,
                                   "CredentialsError: KRAKEN_TESTNET_API_SECRET: is not valid base64; *"),
}


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file and its bytes, but the ledger's lock file (taking the lock is not writing)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.name != ".usage.lock" and "__pycache__" not in p.parts}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_line_and_writes_nothing(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                  name: str) -> None:
    case = CASES[name]
    shutil.copytree(ROOT / "cassettes", project.path / "cassettes")
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", "a-key")
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", "not-base64!")
    for relative, content in case.files.items():
        path = project.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):
            edit_file(path, *content)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    before = _snapshot(project.path)
    result = project.runpytest(*case.args)
    assert result.ret == case.exit, result.stdout.str() + result.stderr.str()
    lines = result.stdout.lines + result.stderr.lines
    matching = [line for line in lines if fnmatch.fnmatchcase(line, case.line)]
    assert len(matching) == 1, (case.line, lines)
    if case.line.startswith("ERROR:"):  # a usage error: the only line on stderr
        assert [line for line in result.stderr.lines if line.strip()] == matching
    assert not [line for line in lines if "Traceback" in line or line.startswith("E ") or "raise " in line]
    after = _snapshot(project.path)
    assert after == before, sorted(set(after) ^ set(before)) or [k for k in after if after[k] != before[k]]


def test_the_corpus_covers_every_kind_of_input() -> None:
    kinds = {name.split("_")[0] for name in CASES}
    assert kinds == {"config", "profile", "override", "cassette", "ledger", "option"} and len(CASES) >= 40
