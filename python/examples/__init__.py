"""Example environments written in Python (importing one registers it)."""
