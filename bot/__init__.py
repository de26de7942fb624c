"""Hosting: the aiohttp app, the Bot Framework adapter and Teams specifics.

The only package that imports `botbuilder`.
"""
