"""Which ledger a desk uses: the JSON files (one machine), or PostgreSQL when a URL is set.

The PostgreSQL module, and psycopg with it, is imported only when a URL is configured:
a desk without a database never needs either installed.
"""

from __future__ import annotations

import os

from .config import OrchestrationConfig
from .usage import Ledger, UsageLedger

ENV_URL = "PEAK_TESTNET_LEDGER_URL"


def ledger_url(orchestration: OrchestrationConfig) -> str | None:
    """``PEAK_TESTNET_LEDGER_URL``, else ``[testnet_orchestration] ledger``, else None."""
    return os.environ.get(ENV_URL) or orchestration.ledger or None


def open_ledger(orchestration: OrchestrationConfig) -> Ledger:
    url = ledger_url(orchestration)
    if url is None:
        return UsageLedger(orchestration.usage_base_dir, orchestration.usage_retention_days,
                           runs_dir=orchestration.runs_base_dir)
    from .ledger_pg import PostgresLedger, check_url

    where = ENV_URL if os.environ.get(ENV_URL) else "[testnet_orchestration] ledger"
    return PostgresLedger(check_url(url, where), orchestration.usage_retention_days,
                          base_dir=orchestration.usage_base_dir, runs_dir=orchestration.runs_base_dir)
