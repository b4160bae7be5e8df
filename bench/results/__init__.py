"""Layer 3, results: the typed run record, the store, the code version, freshness, and the figures computed
from records (`measures`, `stats`), so that every page and every search uses one definition of each.
"""
