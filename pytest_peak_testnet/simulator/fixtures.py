"""Placeholder until the simulator lands (owned by the simulator work)."""
