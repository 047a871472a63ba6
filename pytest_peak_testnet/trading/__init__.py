"""Trading: strategies, the paper account, the session and its executor, the live risk limits, exact money."""
