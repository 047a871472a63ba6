"""Profiles are pytest items: node ids, markers, selection, junit, --testnet-profile."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conftest import error_lines, write_profile


def test_each_profile_is_an_item_with_a_file_node_id(project: pytest.Pytester) -> None:
    result = project.runpytest("--collect-only", "-q", "profiles")
    result.stdout.fnmatch_lines([
        "profiles/btc_momentum.yaml::btc_momentum",
        "profiles/btc_usdt_binance.yaml::btc_usdt_binance",
        "profiles/eth_swing.yaml::eth_swing",
        "profiles/ma_crossover_small.yaml::ma_crossover_small",
        "profiles/quick_smoke.yaml::quick_smoke",
    ])


def test_strict_markers_and_smoke_selection(project: pytest.Pytester) -> None:
    write_profile(project, "tagged", markers=["nightly", "testnet_smoke"])
    result = project.runpytest("--strict-markers", "-m", "testnet_smoke", "--testnet-dry-run", "-v", "profiles")
    result.assert_outcomes(passed=3, deselected=3)
    result.stdout.fnmatch_lines(["*btc_usdt_binance PASSED*", "*quick_smoke PASSED*", "*tagged PASSED*"])
    project.runpytest("--strict-markers", "-m", "nightly", "--testnet-dry-run", "profiles").assert_outcomes(passed=1, deselected=5)
    assert "nightly: declared by a testnet profile" in project.runpytest("--markers").stdout.str()


def test_every_profile_carries_the_testnet_marker(project: pytest.Pytester) -> None:
    project.makepyfile(test_plain="def test_plain(): pass")
    result = project.runpytest("-m", "testnet", "--testnet-dry-run", "profiles", "test_plain.py")
    result.assert_outcomes(passed=5, deselected=1)


def test_keyword_selection(project: pytest.Pytester) -> None:
    result = project.runpytest("-k", "eth or smoke", "--testnet-dry-run", "-v", "profiles")
    result.assert_outcomes(passed=3, deselected=2)


def test_testnet_profile_runs_a_profile_outside_the_collected_paths(project: pytest.Pytester) -> None:
    project.makepyfile(test_plain="def test_plain(): pass")
    result = project.runpytest("--testnet-profile", "eth_swing", "--testnet-dry-run", "-v", "test_plain.py")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["profiles/eth_swing.yaml::eth_swing PASSED*"])


def test_testnet_profile_accepts_repeats_and_commas_and_toml_profiles(project: pytest.Pytester) -> None:
    with (project.path / "config" / "config.toml").open("a") as f:
        f.write('\n[testnet_profiles.toml_only]\nstrategy = "rsi_strategy"\nsymbol = "ETH/EUR"\ntimeframe = "5m"\n')
    result = project.runpytest("--testnet-profile", "toml_only,quick_smoke", "--testnet-profile", "eth_swing",
                               "--testnet-dry-run", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "config/config.toml::toml_only PASSED*",
        "profiles/quick_smoke.yaml::quick_smoke PASSED*",
        "profiles/eth_swing.yaml::eth_swing PASSED*",
    ])


def test_toml_profiles_are_collected_with_their_config_file(project: pytest.Pytester) -> None:
    with (project.path / "config" / "config.toml").open("a") as f:
        f.write('\n[testnet_profiles.toml_only]\nstrategy = "rsi_strategy"\nsymbol = "ETH/EUR"\ntimeframe = "5m"\n'
                'markers = ["testnet_smoke"]\n')
    result = project.runpytest("-m", "testnet_smoke", "--testnet-dry-run", "-v", "profiles", "config/config.toml")
    result.assert_outcomes(passed=3, deselected=3)
    result.stdout.fnmatch_lines(["config/config.toml::toml_only PASSED*"])
    project.runpytest("--testnet-dry-run", "profiles").assert_outcomes(passed=5)


def test_unknown_profile_lists_the_known_ones_and_the_closest(project: pytest.Pytester) -> None:
    result = project.runpytest("--testnet-profile", "ma_crossover_smal")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == [
        "ERROR: --testnet-profile: unknown profile 'ma_crossover_smal'; did you mean ma_crossover_small? "
        "(profiles: btc_momentum, btc_usdt_binance, eth_swing, ma_crossover_small, quick_smoke)"]


def test_junitxml_has_a_testcase_per_profile(project: pytest.Pytester) -> None:
    result = project.runpytest("--testnet-dry-run", "--junitxml=out.xml", "profiles")
    result.assert_outcomes(passed=5)
    cases = ET.parse(project.path / "out.xml").getroot().iter("testcase")
    names = {c.get("name"): c for c in cases}
    assert set(names) == {"btc_momentum", "btc_usdt_binance", "eth_swing", "ma_crossover_small", "quick_smoke"}
    props = {p.get("name"): p.get("value") for p in names["quick_smoke"].iter("property")}
    assert props["testnet_decision"] == "allowed"


TOML_PROFILE = '\n[testnet_profiles.toml_only]\nstrategy = "rsi_strategy"\nsymbol = "ETH/EUR"\ntimeframe = "5m"\n'


def add_toml_profile(pytester: pytest.Pytester) -> None:
    with (pytester.path / "config" / "config.toml").open("a") as f:
        f.write(TOML_PROFILE)


def test_a_node_id_runs_exactly_what_it_names(project: pytest.Pytester) -> None:
    add_toml_profile(project)
    result = project.runpytest("--testnet-dry-run", "-v", "profiles/ma_crossover_small.yaml::ma_crossover_small")
    result.assert_outcomes(passed=1)
    assert "toml_only" not in result.stdout.str()


def test_toml_profile_node_ids_run_back(project: pytest.Pytester) -> None:
    add_toml_profile(project)
    collected = project.runpytest("--collect-only", "-q", "profiles", "config/config.toml")
    collected.stdout.fnmatch_lines(["profiles/quick_smoke.yaml::quick_smoke", "config/config.toml::toml_only",
                                    "6 tests collected*"])
    result = project.runpytest("--testnet-dry-run", "-v", "config/config.toml::toml_only")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["config/config.toml::toml_only PASSED*"])


def test_testnet_profile_counts_what_pytest_collected(project: pytest.Pytester) -> None:
    add_toml_profile(project)
    project.makepyfile(test_plain="def test_plain(): pass")
    result = project.runpytest("--testnet-profile", "toml_only", "--testnet-dry-run", "test_plain.py")
    result.stdout.fnmatch_lines(["collected 2 items / 1 deselected / 1 selected"])
    result.assert_outcomes(passed=1, deselected=1)


@pytest.mark.parametrize(("rerun", "outcomes"), [("--lf", {"errors": 2}),
                                                 ("--ff", {"errors": 2, "passed": 1}),
                                                 ("--sw", {"errors": 1})])
def test_reruns_of_failures_keep_toml_and_yaml_profiles(project: pytest.Pytester, rerun: str,
                                                        outcomes: dict[str, int]) -> None:
    """Without cassettes both replays fail (in setup); each rerun option finds them again by node id."""
    project.makeini("[pytest]\nfilterwarnings = ignore::pytest.PytestAssertRewriteWarning\n")
    add_toml_profile(project)
    project.makepyfile(test_plain="def test_plain(): pass")
    paths = ("-p", "no:randomly", "config/config.toml", "profiles/quick_smoke.yaml", "test_plain.py")
    project.runpytest(*paths, *(["--sw"] if rerun == "--sw" else [])).assert_outcomes(
        **({"errors": 1} if rerun == "--sw" else {"errors": 2, "passed": 1}))
    result = project.runpytest(rerun, *paths, "-v")
    result.assert_outcomes(**outcomes)
    result.stdout.fnmatch_lines(["config/config.toml::toml_only ERROR*"])
    if rerun == "--lf":
        result.stdout.fnmatch_lines(["run-last-failure: rerun previous 2 failures*"])


@pytest.fixture
def other_config(replay_project: pytest.Pytester) -> pytest.Pytester:
    """The repo's layout: testpaths name config/config.toml, and the run names another config."""
    (replay_project.path / "config" / "config.toml").rename(replay_project.path / "config" / "other.toml")
    (replay_project.path / "config" / "config.toml").write_text("# another tool's config\n")
    ini = replay_project.path / "tox.ini"
    ini.write_text(ini.read_text().rstrip("\n") + "\ntestpaths = profiles config/config.toml\n")
    return replay_project


def test_xdist_workers_collect_what_the_controller_selected(other_config: pytest.Pytester) -> None:
    """Before, the workers collected testpaths' config/config.toml, failed, and the run said
    "no tests ran" (rc 5); without -n it passed."""
    result = other_config.runpytest_subprocess("-n", "2", "--testnet-config=config/other.toml",
                                               "--testnet-profile", "quick_smoke")
    result.assert_outcomes(passed=1)


def test_an_xdist_workers_collection_error_is_shown(other_config: pytest.Pytester) -> None:
    result = other_config.runpytest_subprocess("-n", "2", "--testnet-config=config/other.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines([f"ERROR: xdist worker gw?: not found: {other_config.path}/config/config.toml "
                                 "(no match in any of [[]<Dir config>[]])"])
