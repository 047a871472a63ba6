"""``peak-testnet init``: a new desk in a folder, green in its first minute.

It writes a config, one profile, a conftest with the profile's strategy, a ``pytest.ini``
that makes the folder the rootdir and a ``.gitignore``, then records the profile against
the bundled simulator (offline, about a second), which writes its cassette and baseline:
``pytest`` in the folder then replays it. The files are the package's ``new_desk/``, as
they are, so what the README shows of them is what a desk gets.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from ..errors import InputError, display

SOURCE = Path(__file__).parent / "new_desk"
PROFILE = "breakout_demo"
#: Where each file goes in the desk, from which file of ``new_desk/``, and what it is for.
FILES = (
    ("config/config.toml", "config.toml", "the desk's limits, exchange and session settings"),
    (f"profiles/{PROFILE}.yaml", "profile.yaml", "one profile: half an hour of BTC/EUR breakouts"),
    ("conftest.py", "conftest.py", "the breakout strategy, registered with the plugin's hook"),
    ("pytest.ini", "pytest.ini", "makes this folder the rootdir"),
    (".gitignore", "gitignore", "reports, run logs and the ledger stay out of git"),
)
RECORD = ("--testnet-profile", PROFILE, "--testnet-record-mode=rewrite", "--testnet-simulator")


def init(folder: Path, out: TextIO) -> None:
    """Write the desk into ``folder`` (made if missing) and record its profile. A folder
    that already holds any of the files, or cassettes, is left as it is."""
    shown = display(folder.resolve(), Path.cwd().resolve())
    taken = [name for name in (*(target for target, _, _ in FILES), "cassettes") if (folder / name).exists()]
    if taken:
        raise InputError(shown, f"already holds {', '.join(taken)}; init writes a new desk into a folder without them")
    for target, source, _ in FILES:
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SOURCE / source, folder / target)
    print(f"a new desk in {shown}:", file=out)
    width = max(len(target) for target, _, _ in FILES)
    for target, _, what in FILES:
        print(f"  {target:<{width}}  {what}", file=out)
    done = subprocess.run([sys.executable, "-m", "pytest", *RECORD, "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
                          cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InputError(shown, f"recording {PROFILE} against the simulator failed:\n{done.stdout}{done.stderr}")
    print("recorded against the bundled simulator (offline):", file=out)
    for name in (f"{PROFILE}.json", f"{PROFILE}.baseline.yaml"):
        print(f"  cassettes/{name}", file=out)
    where = "" if shown == "." else f"cd {shown} && "
    print(f"next: {where}pytest    (replays {PROFILE} from its cassette, offline)", file=out)
