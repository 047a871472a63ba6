"""How fast a replay is, how it grows, and what the plugin costs pytest (issue 6).

    .venv/bin/python benchmarks/run.py            # the full run, ~2-4 minutes; writes RESULTS.md
    .venv/bin/python benchmarks/run.py --quick    # a smoke run of every figure, ~10 s

Shared machines are noisy, so every figure is a ratio against a baseline measured in the
same run, next to it in time; absolute numbers are printed for reading, never compared
across runs. End-to-end figures are the best of several fresh pytest processes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _inproc
import pytest
from _procs import (
    PARAM_TESTS,
    PLUGIN_OFF,
    TRIVIAL_TEST,
    Runner,
    bench_project,
    call_durations,
    ma_profile,
    pytest_project,
    repo_copy,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
KEPT_HEADING = "## Fixes"
SECTIONS = ("replay", "growth", "collection", "throughput", "ledger")


@dataclass(frozen=True)
class Size:
    repeat: int
    hours: tuple[int, ...]  # replay lengths; the first is the baseline
    profiles: int
    candles: int
    ledger_cycles: int
    warm_up: bool = True


FULL = Size(repeat=7, hours=(1, 6, 24), profiles=1000, candles=300_000, ledger_cycles=96)
#: Every figure, each from the smallest input that still exercises its code path.
QUICK = Size(repeat=1, hours=(1, 2), profiles=20, candles=20_000, ledger_cycles=8, warm_up=False)


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    baseline: str
    ratio: str
    target: str
    verdict: str  # PASS, MISS or "info"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def replay(runner: Runner, work: Path, size: Size) -> tuple[list[Row], float]:
    repo = repo_copy(work / "repo")
    bare = pytest_project(work / "bare", TRIVIAL_TEST)
    subject, idle, off = runner.best(size.repeat, (repo, ("--testnet-profile", "ma_crossover_small")),
                                     (bare, ()), (bare, PLUGIN_OFF), warm_up=size.warm_up)
    ratio, idle_ratio = subject.seconds / off.seconds, idle.seconds / off.seconds
    # How far the two fastest runs can be trusted on a shared machine: each round's pair was
    # taken seconds apart, so a busy minute slows both sides of it.
    pairs = [s / o for s, o in zip(subject.rounds, off.rounds, strict=True)]
    paired = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else pairs * 3
    return [
        Row("1. replay ma_crossover_small (60 min, 1m), end to end", f"{subject.seconds:.3f} s",
            f"pytest -p no:peak_testnet, 1 trivial test: {off.seconds:.3f} s", f"{ratio:.2f}x", "<= 1.5x",
            verdict(ratio <= 1.5)),
        Row("1b. the same replay vs the trivial run with the plugin idle", f"{subject.seconds:.3f} s",
            f"plugin idle: {idle.seconds:.3f} s", f"{subject.seconds / idle.seconds:.2f}x", "-", "info"),
        Row("1c. the plugin idle: 1 trivial test, plugin installed vs -p no:peak_testnet", f"{idle.seconds:.3f} s",
            f"-p no:peak_testnet: {off.seconds:.3f} s", f"{idle_ratio:.2f}x", "<= 1.05x", verdict(idle_ratio <= 1.05)),
        Row(f"1d. figure 1 round by round: median of {len(off.rounds)} ratios of runs taken back to back "
            f"(quartiles {paired[0]:.2f}x-{paired[2]:.2f}x)", f"{statistics.median(subject.rounds):.3f} s",
            f"{statistics.median(off.rounds):.3f} s", f"{paired[1]:.2f}x", "-", "info"),
        *counted(runner, work, size),
    ], idle.max_rss_mb


def counted(runner: Runner, work: Path, size: Size) -> list[Row]:
    """Figures 1 and 1c again, in instructions: a noise-free view of the same runs, in a repo
    copy with one run of history (the warm-up), as figure 1's first round has."""
    figures = ("1e. figure 1 in instructions (valgrind callgrind): the replay vs 1 trivial test without the plugin",
               "1f. figure 1c in instructions: the plugin idle vs 1 trivial test without the plugin")
    if not size.warm_up:
        return [Row(figure, "skipped: --quick (valgrind runs ~50x slower)", "-", "-", "-", "info") for figure in figures]
    repo = repo_copy(work / "repo-counted")
    bare = pytest_project(work / "bare-counted", TRIVIAL_TEST)
    jobs = ((repo, ("--testnet-profile", "ma_crossover_small")), (bare, ()), (bare, PLUGIN_OFF))
    runner.warm_up(*jobs)
    counts = runner.instructions(*jobs)
    if counts is None:
        return [Row(figure, "skipped: valgrind is not installed (apt-get install valgrind)", "-", "-", "-", "info")
                for figure in figures]
    subject, idle, off = counts
    return [
        Row(figures[0], f"{subject / 1e6:,.0f} M instructions", f"{off / 1e6:,.0f} M", f"{subject / off:.2f}x", "-",
            "info"),
        Row(figures[1], f"{idle / 1e6:,.0f} M instructions", f"{off / 1e6:,.0f} M", f"{idle / off:.2f}x", "-", "info"),
    ]


def growth(runner: Runner, work: Path, size: Size, bare_rss: float) -> list[Row]:
    names = {h: f"replay_{h}h" for h in size.hours}
    project = bench_project(work / "growth", {names[h]: ma_profile(60 * h) for h in size.hours}, durations=True)
    requests, seconds, rss = {}, {}, {}
    for h, name in names.items():
        recorded = runner.pytest(project, "--testnet-profile", name, "--testnet-record-mode=all", "--testnet-simulator")
        if f"{name}: DURATION_ELAPSED" not in recorded.output:  # growth is only measured over full durations
            raise SystemExit(f"benchmark: {name} stopped before its duration:\n{recorded.output}")
        text = (project / "cassettes" / f"{name}.json").read_text(encoding="utf-8")
        requests[h] = len(json.loads(text)["interactions"])
    for h, name in names.items():
        peaks = [runner.pytest(project, "--testnet-profile", name).max_rss_mb
                 for _ in range(size.repeat + size.warm_up)]  # the first run warms up; the fastest counts
        seconds[h] = min(call_durations(project, name)[1 + size.warm_up:])  # [0]: the recording
        rss[h] = max(peaks)
    first, last = size.hours[0], size.hours[-1]
    per = {h: seconds[h] / requests[h] * 1000 for h in size.hours}
    rows = []
    for h in size.hours[1:]:
        ratio = seconds[h] / seconds[first]
        final = h == last
        limit = 30 * h / 24 if final else None
        rows.append(Row(
            f"2. replay {h} h vs {first} h ({requests[h]} vs {requests[first]} requests)",
            f"{seconds[h] * 1000:.1f} ms, {per[h]:.3f} ms/request",
            f"{first} h: {seconds[first] * 1000:.1f} ms, {per[first]:.3f} ms/request", f"{ratio:.1f}x",
            f"<= {limit:g}x" if limit else "-", verdict(ratio <= limit) if limit else "info"))
    rows.append(Row(f"2b. time per request, {last} h vs {first} h", f"{per[last]:.3f} ms", f"{per[first]:.3f} ms",
                    f"{per[last] / per[first]:.2f}x", "flat", "info"))
    rows.append(Row(f"5. peak RSS of the {last} h replay", f"{rss[last]:.0f} MB",
                    f"bare pytest: {bare_rss:.0f} MB" if bare_rss else "-",
                    f"{rss[last] / bare_rss:.2f}x" if bare_rss else "-", "<= 200 MB", verdict(rss[last] <= 200)))
    return rows


def collection(runner: Runner, work: Path, size: Size) -> list[Row]:
    n = size.profiles

    def profiles(count: int) -> dict[str, str]:
        return {f"p{i:04d}": ma_profile(30 + i % 200, fast=2 + i % 8, slow=20 + i % 40) for i in range(count)}

    many, one = bench_project(work / "profiles_n", profiles(n)), bench_project(work / "profiles_1", profiles(1))
    params_n = pytest_project(work / "params_n", PARAM_TESTS.format(n=n))
    params_1 = pytest_project(work / "params_1", PARAM_TESTS.format(n=1))
    rows = []
    for label, extra, target in (("3. collection + dry run", ("-q",), True),
                                 ("3b. collection alone (--collect-only)", ("--collect-only", "-q"), False)):
        profile_args = (*extra, "--testnet-dry-run", "profiles")
        pn, p1, tn, t1 = (run.seconds for run in runner.best(
            size.repeat, (many, profile_args), (one, profile_args), (params_n, extra), (params_1, extra),
            warm_up=size.warm_up))
        per_profile, per_test = (pn - p1) / (n - 1) * 1000, (tn - t1) / (n - 1) * 1000
        ratio = per_profile / per_test
        rows.append(Row(f"{label} of {n} profiles vs {n} parametrized tests, per item",
                        f"{per_profile:.3f} ms/profile", f"{per_test:.3f} ms/test", f"{ratio:.2f}x",
                        "<= 2x" if target else "-", verdict(ratio <= 2) if target else "info"))
    return rows


def throughput(work: Path, size: Size) -> list[Row]:
    rows = _inproc.candles(size.candles)
    repeat = max(size.repeat // 2, 1) + 1
    noop = _inproc.throughput_noop(rows, repeat)
    out = []
    for name in _inproc.STRATEGY_PARAMS:
        rate, orders = _inproc.throughput(name, rows, work / "runs", repeat)
        target = name == "ma_crossover"
        out.append(Row(f"4. strategy + executor, {name} ({orders} orders in {len(rows)} candles)",
                       f"{rate:,.0f} candles/s", f"no-op call per candle: {noop:,.0f}/s", f"{noop / rate:.1f}x slower",
                       ">= 1,000,000 candles/s" if target else "-", verdict(rate >= 1_000_000) if target else "info"))
    return out


def ledger(size: Size) -> list[Row]:
    one = _inproc.ledger(1, size.ledger_cycles)
    many = _inproc.ledger(8, size.ledger_cycles // 8)
    return [
        Row("6. ledger reserve+settle, 1 process", f"{one.per_second:.0f} cycles/s", "-", "1.00x",
            "totals exact", verdict(one.exact)),
        Row("6b. ledger reserve+settle, 8 processes on one ledger", f"{many.per_second:.0f} cycles/s (all)",
            f"1 process: {one.per_second:.0f} cycles/s", f"{many.per_second / one.per_second:.2f}x",
            "totals exact", verdict(many.exact)),
        Row("6c. ledger totals after 8 processes", many.detail, "-", "-", "exact", verdict(many.exact)),
        *postgres_ledger(size, one, many),
    ]


def postgres_ledger(size: Size, json_one: _inproc.LedgerResult, json_many: _inproc.LedgerResult) -> list[Row]:
    """The same cycles on the PostgreSQL ledger, on a server started here (tests/pgserver.py:
    Debian's initdb and pg_ctl, fsync on as a desk's server would run)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pgserver import PostgresServer, bin_dir

    figures = ("6d. PostgreSQL ledger reserve+settle, 1 process", "6e. PostgreSQL ledger reserve+settle, 8 processes")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        bindir = None
        why = 'skipped: psycopg is not installed (pip install ".[postgres]")'
    else:
        bindir = bin_dir()
        why = "skipped: no PostgreSQL server binaries (apt-get install postgresql)"
    if bindir is None:
        return [Row(figure, why, "-", "-", "-", "info") for figure in figures]
    server = PostgresServer(bindir, fsync=True).start()
    try:
        cycles = size.ledger_cycles * 4
        one = _inproc.ledger(1, cycles, url=server.new_database())
        many = _inproc.ledger(8, cycles // 8, url=server.new_database())
    finally:
        server.stop()
    return [
        Row(figures[0], f"{one.per_second:.0f} cycles/s", f"JSON, 1 process: {json_one.per_second:.0f} cycles/s",
            f"{one.per_second / json_one.per_second:.2f}x", "totals exact", verdict(one.exact)),
        Row(figures[1], f"{many.per_second:.0f} cycles/s (all); {many.detail}",
            f"JSON, 8 processes: {json_many.per_second:.0f} cycles/s", f"{many.per_second / json_many.per_second:.2f}x",
            ">= 500 cycles/s, totals exact", verdict(many.exact and many.per_second >= 500)),
    ]


def table(rows: list[Row]) -> list[str]:
    head = ("figure", "measured", "baseline (same run)", "ratio", "target", "")
    cells = [head] + [(r.figure, r.measured, r.baseline, r.ratio, r.target, r.verdict) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip() for cell in cells]


def machine() -> str:
    return (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.system()} {platform.machine()}, "
            f"nproc {os.cpu_count()}; Python {platform.python_version()}; pytest {pytest.__version__}")


def write_results(path: Path, rows: list[Row], size: Size) -> None:
    kept = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if KEPT_HEADING in old:
            kept = "\n" + old[old.index(KEPT_HEADING):]
    lines = ["# Benchmark results", "", f"Last run: {machine()}.", "",
             f"`python benchmarks/run.py` (best of {size.repeat} runs per end-to-end figure). Ratios are",
             "against a baseline measured in the same run; absolute times vary between runs.", "",
             "| figure | measured | baseline (same run) | ratio | target | |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.measured} | {r.baseline} | {r.ratio} | {r.target} | {r.verdict} |" for r in rows]
    path.write_text("\n".join(lines) + "\n" + kept, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: every figure, tiny inputs, ~10 s")
    parser.add_argument("--repeat", type=int,
                        help="runs per end-to-end figure (the fastest counts); default 7, quick 1")
    parser.add_argument("--results", type=Path, help=f"write the table here (default {RESULTS.name}, "
                                                     "not written by --quick)")
    parser.add_argument("--only", action="append", choices=SECTIONS, metavar="SECTION",
                        help=f"measure only these (repeatable): {', '.join(SECTIONS)}; the table is not written")
    args = parser.parse_args(argv)
    only = args.only or SECTIONS
    size = QUICK if args.quick else FULL
    if args.repeat:
        size = dataclasses.replace(size, repeat=args.repeat)
    results = args.results or (None if args.quick or args.only else RESULTS)
    print(machine(), flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="peak-bench-") as tmp:
        work = Path(tmp)
        runner = Runner(work)
        bare_rss = 0.0
        if "replay" in only:
            print("measuring the replay ...", flush=True)
            found, bare_rss = replay(runner, work, size)
            rows += found
        if "growth" in only:
            print("measuring growth (recording cassettes from the simulator) ...", flush=True)
            rows += growth(runner, work, size, bare_rss)
        if "collection" in only:
            print("measuring collection and dry run ...", flush=True)
            rows += collection(runner, work, size)
        if "throughput" in only:
            print("measuring strategy + executor throughput ...", flush=True)
            rows += throughput(work, size)
        if "ledger" in only:
            print("measuring the ledger ...", flush=True)
            rows += ledger(size)
    rows.sort(key=lambda row: int(re.match(r"\d+", row.figure).group()))  # type: ignore[union-attr]
    print("\n".join(table(rows)))
    if results is not None:
        write_results(results, rows, size)
        print(f"written to {results}")
    return 1 if any(r.verdict == "MISS" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
