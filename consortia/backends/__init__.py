"""Places a registry can live besides memory.

The embedded graph (:mod:`consortia.graph`) is the reference implementation
that needs no server; a backend here keeps the registry in a database and
answers the same questions with the same guarantees (see :mod:`.neo4j`).
"""
