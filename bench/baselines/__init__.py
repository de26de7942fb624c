"""Other SDKs' echo samples and the bare aiohttp floor, the turn benchmark's baselines.

Each SDK sample runs in a virtualenv of its own (`bench.baselines.venvs`), so its dependencies
never meet trustboard's. None of this is part of trustboard.
"""
