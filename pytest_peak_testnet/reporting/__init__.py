"""Reporting: the Markdown/JSON report, its rendering and charts, the dashboard, the run log and its monitor, terminal text."""
