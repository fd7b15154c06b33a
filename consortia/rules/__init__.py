"""Rules: rulebooks as cited data and the engine that checks a registry against them."""
