"""The exchange: the Kraken REST client, its wire format and errors, credentials, the clock, and the simulator that stands in for Kraken offline."""
