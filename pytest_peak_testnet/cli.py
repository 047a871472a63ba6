"""``peak-testnet``: the commands a person runs beside pytest, reading what runs left on disk.

``init`` writes a new desk and records its first cassette (``desk.scaffold``);
``monitor`` reads or follows a run log; ``dashboard`` writes the budget page from the
ledger; ``serve`` serves that page, refreshed while runs write; ``ledger release`` frees a
reservation that will never settle; ``ledger migrate`` upgrades a PostgreSQL ledger's schema
and ``ledger import`` copies JSON days into it. All but ``init`` read the same TOML config as
the plugin, relative to the current folder.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .activation import DEFAULT_CONFIG
from .desk import processes, scaffold
from .desk.config import AlertsConfig, DeskConfig, load_config
from .desk.ledgers import ENV_URL, open_ledger
from .desk.usage import Ledger, UsageLedger
from .errors import InputError
from .reporting import dashboard, monitor, serve


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="peak-testnet", description="Start a desk, watch its testnet runs and the budget.")
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top.add_argument("--config", metavar="PATH", help=f"the desk's TOML config (default {DEFAULT_CONFIG})")
    # Global options are accepted after the subcommand too (``peak-testnet monitor --config X``);
    # SUPPRESS there, so a subcommand that was not given one keeps the top level's.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help=f"the desk's TOML config (default {DEFAULT_CONFIG})")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_with(common))
    new = commands.add_parser("init", help="write a new desk (config, a profile, a conftest) and record its profile "
                                           "against the bundled simulator, so that pytest replays it")
    new.add_argument("folder", nargs="?", type=Path, default=Path("."), help="where (default: the current folder)")
    mon = commands.add_parser("monitor", help="show a run's events, or list the runs")
    mon.add_argument("run", nargs="?", type=Path, help="a run folder or its events.jsonl")
    mon.add_argument("--latest", action="store_true", help="the most recently started run")
    mon.add_argument("--tail", action="store_true", help="keep following the log until the run ends")
    mon.add_argument("--alerts", action="store_true", help="show only alerts ([testnet_alerts] in the config)")
    mon.add_argument("--max-seconds", type=float, metavar="N",
                     help="with --tail: stop following after N seconds even if the run has not ended")
    mon.add_argument("--poll", type=float, default=0.2, metavar="S", help="with --tail: check every S seconds")
    dash = commands.add_parser("dashboard", help="write the static HTML budget dashboard")
    dash.add_argument("path", nargs="?", type=Path, help="where to write it (default <reports_dir>/dashboard.html)")
    ledger = commands.add_parser("ledger", help="act on the usage ledger")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    release = ledger_commands.add_parser("release", help="release a reservation whose run will never settle "
                                         "(its process was killed, on another host)")
    release.add_argument("run_id", metavar="RUN_ID", help="the run's id in the ledger (--testnet-budget shows it)")
    srv = commands.add_parser("serve", help="serve the dashboard over HTTP, refreshed while runs write (read-only)")
    srv.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 picks a free one)")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    srv.add_argument("--refresh", type=float, default=serve.REFRESH_SECONDS, metavar="S",
                     help=f"seconds between the page's refreshes (default {serve.REFRESH_SECONDS:g})")
    ledger_commands.add_parser("migrate", help="bring a PostgreSQL ledger's schema to this version")
    copy = ledger_commands.add_parser("import", help="copy the JSON ledger's days into the PostgreSQL ledger")
    copy.add_argument("--from", dest="source", type=Path, metavar="DIR",
                      help="the JSON ledger's usage_base_dir (default: the config's)")
    return top


def _with(common: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """A parser class whose every instance (each subcommand, nested ones too) takes ``common``'s options."""
    class Sub(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "parents": [*kwargs.get("parents", ()), common]})

    return Sub


def read_config(chosen: str | None) -> DeskConfig:
    """The config, or the documented defaults when the default file does not exist."""
    path = Path(chosen or DEFAULT_CONFIG)
    if chosen is None and not path.exists():
        return DeskConfig(path=path)
    return load_config(path, Path.cwd())


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    try:
        if args.command == "init":
            scaffold.init(args.folder, out)
            return 0
        config = read_config(args.config)
        if args.command == "monitor":
            return run_monitor(args, config, out)
        if args.command == "serve":
            return run_serve(args, config, out)
        orchestration = config.orchestration
        if args.command == "ledger" and args.ledger_command in ("migrate", "import"):
            return run_pg(args, config, out)
        ledger = open_ledger(orchestration)
        if args.command == "ledger":
            run, path = ledger.release(args.run_id, f"released by hand on {processes.host()}")
            print(f"released run {run.run_id} ({run.profile}): {run.planned_notional:.2f} notional and "
                  f"{run.planned_trades} trades reserved on {run.host} (pid {run.pid}) since {run.started_at}; "
                  f"{path}", file=out)
            return 0
        target = args.path or orchestration.reports_dir / dashboard.FILENAME
        dashboard.write(target, ledger, config.daily_limits, orchestration.runs_base_dir, config.alerts,
                        config.symbols, orchestration.dashboard_runs)
        print(f"dashboard written: {target}", file=out)
        return 0
    except (InputError, OSError) as exc:
        print(f"peak-testnet: {exc}", file=sys.stderr)
        return 1


def run_serve(args: argparse.Namespace, config: DeskConfig, out: TextIO) -> int:
    if not 0 <= args.port <= 65535:
        raise InputError("--port", f"expected a TCP port from 0 to 65535, found {args.port}")
    if not 0 < args.refresh < float("inf"):  # also false for nan
        raise InputError("--refresh", f"expected a number of seconds > 0, found {args.refresh:g}")
    httpd = serve.server(config, args.host, args.port, args.refresh)
    host, port = str(httpd.server_address[0]), httpd.server_address[1]
    print(f"serving the testnet dashboard on http://{host}:{port}/ (read-only; Ctrl-C stops)", file=out, flush=True)
    if not serve.is_loopback(host):
        print(f"peak-testnet: {host} is not a loopback address: anyone who reaches it can read the ledger and "
              "the run logs", file=sys.stderr)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


def run_pg(args: argparse.Namespace, config: DeskConfig, out: TextIO) -> int:
    """``ledger migrate`` and ``ledger import``: both act on a PostgreSQL ledger only."""
    from .desk.ledger_pg import PostgresLedger

    orchestration = config.orchestration
    ledger: Ledger = open_ledger(orchestration)
    if not isinstance(ledger, PostgresLedger):
        print(f"peak-testnet: no PostgreSQL ledger configured (set {ENV_URL} or [testnet_orchestration] ledger); "
              "the JSON ledger has no schema to migrate or import into", file=sys.stderr)
        return 1
    if args.ledger_command == "migrate":
        before, after = PostgresLedger(ledger.url, ledger.retention_days, migrate=True).migrate()
        print(f"ledger schema {ledger.where(ledger.today())}: version {before} -> {after}"
              if before != after else f"ledger schema {ledger.where(ledger.today())}: version {after}, up to date",
              file=out)
        return 0
    source = UsageLedger(args.source or orchestration.usage_base_dir, orchestration.usage_retention_days)
    days = source.history()
    added = sum(ledger.import_day(usage) for usage in days)
    total = sum(len(usage.run_log) for usage in days)
    print(f"imported {added} runs from {len(days)} days of {source.dir} into {ledger.where(ledger.today())} "
          f"({total - added} already there)", file=out)
    return 0


def run_monitor(args: argparse.Namespace, config: DeskConfig, out: TextIO) -> int:
    runs_dir = config.orchestration.runs_base_dir
    if args.run is None and not args.latest:
        runs = monitor.run_dirs(runs_dir)
        for run in runs:
            print(run_line(run), file=out)
        if not runs:
            print(f"no runs under {runs_dir} yet: a profile's run writes its log there", file=out)
        return 0
    if args.run is not None:
        path = monitor.events_path(args.run)
    else:
        runs = monitor.run_dirs(runs_dir)
        if not runs:
            print(f"peak-testnet: no runs under {runs_dir}", file=sys.stderr)
            return 1
        path = monitor.events_path(runs[-1])
    print(f"run {path.parent.name}", file=out)
    events: Iterable[dict[str, Any]] = (
        monitor.follow(path, poll_seconds=args.poll, max_seconds=args.max_seconds) if args.tail
        else monitor.read_events(path))
    show(events, config.alerts, args.alerts, out)
    return 0


def show(events: Iterable[dict[str, Any]], rules: AlertsConfig, alerts_only: bool, out: TextIO) -> None:
    """Print as events arrive (``flush``: a follower sees each line when it happens)."""
    last, count = None, 0
    for event in events:
        last = event
        alert = monitor.alert_for(event, rules)
        if not alerts_only:
            print(monitor.describe(event), file=out, flush=True)
        if alert is not None:
            count += 1
            print(alert, file=out, flush=True)
    if alerts_only and count == 0:
        print("no alerts", file=out)
    if last is None or last["event"] not in monitor.END_EVENTS:
        print("the run has not ended (yet)", file=out)


def run_line(run: Path) -> str:
    events = monitor.read_events(monitor.events_path(run))
    state = events[-1]["event"] if events and events[-1]["event"] in monitor.END_EVENTS else "running or stopped"
    return f"{run.name}  {state}  {len(events)} events"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
