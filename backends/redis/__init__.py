"""The Redis reference store of the CACHE tier: its raw provider (provider.py), the seed's own cache choice."""
