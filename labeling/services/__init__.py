"""Writes for the labeling app, one module per concern: ``items`` (creating and deleting items),
``imports`` (uploads turned into items, at once or on a worker), ``files`` (stored objects).
"""
