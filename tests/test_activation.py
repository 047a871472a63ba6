"""The plugin acts only in a desk's project, and costs nothing where it does not."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, error_lines

FOREIGN_CONFIG = '[database]\nurl = "sqlite:///app.db"\n'
#: What the plugin must not import until a desk is active: each costs every pytest run.
HEAVY = ("yaml", "jinja2", "http.server", "requests", "vcr", "pytest_peak_testnet.simulator",
         "pytest_peak_testnet.exchange.simulator", "pytest_peak_testnet.desk.project", "pytest_peak_testnet.desk.config")


def foreign(pytester: pytest.Pytester) -> pytest.Pytester:
    """An unrelated project with a config/config.toml of its own and one test."""
    (pytester.path / "config").mkdir()
    (pytester.path / "config" / "config.toml").write_text(FOREIGN_CONFIG)
    pytester.makepyfile(test_app="def test_app(): pass")
    return pytester


def test_a_foreign_project_with_its_own_config_passes_silently(pytester: pytest.Pytester) -> None:
    foreign(pytester)
    (pytester.path / "profiles").mkdir()
    (pytester.path / "profiles" / "users.yaml").write_text("admin: {role: owner}\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-q", "-W", "ignore::pytest.PytestAssertRewriteWarning",
                                "profiles", "test_app.py")
    result.assert_outcomes(passed=1)
    assert "testnet" not in (result.stdout.str() + result.stderr.str()).lower()
    assert sorted(p.name for p in pytester.path.iterdir()) == ["config", "profiles", "test_app.py"]


def test_a_named_config_without_a_testnet_section_is_one_line_error(pytester: pytest.Pytester) -> None:
    foreign(pytester)
    result = pytester.runpytest("--testnet-config", "config/config.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error_lines(result) == [
        "ERROR: config/config.toml: holds no testnet section ([testnet_limits.*], [testnet_profiles.*], "
        "[testnet_session], [exchange.kraken_testnet], ...); name the desk's config with --testnet-config "
        "or ini testnet_config"]


@pytest.mark.parametrize("toml", ["", "[environment]\nmode = \"testnet\"\n"], ids=["empty", "environment-only"])
def test_a_config_named_in_the_ini_must_be_a_desks(pytester: pytest.Pytester, toml: str) -> None:
    pytester.makeini("[pytest]\ntestnet_config = desk.toml\n")
    (pytester.path / "desk.toml").write_text(toml)
    pytester.makepyfile(test_app="def test_app(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line.split(";")[0] for line in error_lines(result)] == [
        "ERROR: desk.toml: holds no testnet section ([testnet_limits.*], [testnet_profiles.*], "
        "[testnet_session], [exchange.kraken_testnet], ...)"]


def test_a_testnet_option_asks_for_the_desk(pytester: pytest.Pytester) -> None:
    foreign(pytester)
    result = pytester.runpytest("--testnet-dry-run")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert len(error_lines(result)) == 1


def test_one_testnet_section_makes_a_desk(pytester: pytest.Pytester) -> None:
    (pytester.path / "config").mkdir()
    (pytester.path / "config" / "config.toml").write_text(
        '[testnet_profiles.toml_only]\nstrategy = "rsi_strategy"\nsymbol = "ETH/EUR"\ntimeframe = "5m"\n')
    result = pytester.runpytest("--collect-only", "-q", "config/config.toml")
    result.stdout.fnmatch_lines(["config/config.toml::toml_only"])


#: What a cassette replay has no use for: the network stack, the recorder, the simulator,
#: the account side of the wire format (live orders only), a venue it does not trade on.
REPLAY_UNUSED = ("requests", "vcr", "http.server", "pytest_peak_testnet.exchange.simulator",
                 "pytest_peak_testnet.exchange.kraken.orders", "filelock", "pytest_peak_testnet.exchange.binance")


def loaded_of(pytester: pytest.Pytester, modules: tuple[str, ...], *args: str) -> pytest.RunResult:
    """A whole pytest run in a fresh process that prints which of ``modules`` it loaded."""
    pytester.makeconftest(f"""
import sys

def pytest_unconfigure(config):
    print("loaded:", sorted(m for m in {modules!r} if m in sys.modules))
""")
    result = pytester.runpytest_subprocess("-s", *args)
    result.assert_outcomes(passed=1)
    return result


def test_idle_plugin_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    foreign(pytester)
    loaded_of(pytester, HEAVY, "-p", "no:cacheprovider").stdout.fnmatch_lines(["loaded: []"])


def test_a_replay_loads_only_what_it_uses(replay_project: pytest.Pytester) -> None:
    result = loaded_of(replay_project, REPLAY_UNUSED, "--testnet-profile", "ma_crossover_small")
    result.stdout.fnmatch_lines(["loaded: []"])


def test_importing_the_plugin_imports_pytest_and_the_standard_library_only() -> None:
    code = ("import sys; before = set(sys.modules); import pytest; with_pytest = set(sys.modules); "
            "import pytest_peak_testnet.plugin; "
            "new = {m.split('.')[0] for m in set(sys.modules) - with_pytest}; "
            "print(sorted(new - set(sys.stdlib_module_names) - {'pytest_peak_testnet'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_disabled_plugin_leaves_a_desk_project_alone(project: pytest.Pytester) -> None:
    project.makepyfile(test_plain="def test_plain(): pass")
    result = project.runpytest("-p", "no:peak_testnet", "profiles", "test_plain.py")
    result.assert_outcomes(passed=1)
    assert "testnet" not in result.stdout.str()


def collect_this_repo(*args: str) -> subprocess.CompletedProcess[str]:
    """``pytest --collect-only`` in this repository, with its own testpaths."""
    return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly",
                           "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


def test_this_repo_collects_without_the_plugin() -> None:
    """testpaths names folders, never the config file itself: only the plugin collects a
    config, and without it a file named in testpaths would be 'not found'."""
    done = collect_this_repo("-p", "no:peak_testnet")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("tests/test_exact.py::") for line in lines)
    assert [line for line in lines if line.startswith(("profiles/", "config/"))] == []


def test_this_repo_collects_its_toml_profiles_with_the_plugin() -> None:
    done = collect_this_repo()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    lines = done.stdout.splitlines()
    assert "config/config.toml::eth_scalp_toml" in lines and "profiles/quick_smoke.yaml::quick_smoke" in lines


def test_a_conftest_with_optional_hooks_loads_without_the_plugin(project: pytest.Pytester) -> None:
    """The hooks as the README writes them: ``optionalhook=True``, so a desk's conftest does
    not stop ``-p no:peak_testnet`` with 'unknown hook'."""
    project.makeconftest("""
        import pytest

        @pytest.hookimpl(optionalhook=True)
        def pytest_peak_testnet_strategies():
            return []

        @pytest.hookimpl(optionalhook=True)
        def pytest_peak_testnet_report_sections(config, report):
            return []
    """)
    project.makepyfile(test_plain="def test_plain(): pass")
    project.runpytest("-p", "no:peak_testnet").assert_outcomes(passed=1)
    project.runpytest("--testnet-profile", "quick_smoke", "--testnet-dry-run").assert_outcomes(passed=1)
