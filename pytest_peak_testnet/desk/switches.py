"""The config's on/off switches for sessions: ``[testnet_session] enabled`` and the
``enabled`` of the exchange block a profile uses (its ``exchange:``, else ``default_exchange``).

A switched-off desk still collects its profiles, so ``-k``, ``--collect-only`` and the
reports see them, but each is skipped with the switch that stopped it, before the limits
are asked or anything is logged.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import display
from .config import DeskConfig


def off_reason(config: DeskConfig, root: Path, exchange: str | None = None) -> str | None:
    """``exchange``: the block a profile names, None for ``default_exchange``'s."""
    shown = display(config.path, root)
    if not config.session.enabled:
        return f"testnet sessions are switched off: [testnet_session] enabled = false in {shown}"
    if not config.exchange_named(exchange).enabled:
        name = exchange or config.session.default_exchange
        return f"exchange {name} is switched off: [exchange.{name}] enabled = false in {shown}"
    return None
