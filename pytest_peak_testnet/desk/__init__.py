"""The desk: its configuration and schema, profiles and their expectations, the limits, the
usage ledger, the ``Desk`` one pytest run builds from them (``project``), and the new desk
``peak-testnet init`` writes (``scaffold``, from the files in ``new_desk/``)."""
