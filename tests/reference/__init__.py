"""Independent references for the project's trading arithmetic (issue 11, item 5).

``series`` makes the fixed candle series, ``engine`` runs the same strategies and rules in
backtesting.py with TA-Lib indicators and measures drawdown with quantstats, ``table``
prints the project's figures beside the references'. None of it calls this project's
strategies or books: only the candles and the run's settings cross over.
"""
