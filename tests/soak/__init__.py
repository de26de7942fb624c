"""The bounded soak on loopback (the scenario itself is bench/soak.py, at a larger size there)."""
