"""pytest hooks and fixtures; each hook hands its work to the module that owns it."""

from __future__ import annotations
