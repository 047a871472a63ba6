"""The desk: its configuration and schema, profiles and their expectations, the limits, the
usage ledger, and the ``Desk`` one pytest run builds from them (``project``)."""
