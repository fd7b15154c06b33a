"""Network queries for planners (overlaps, chain coverage and gaps, brokers, paths, what-if).

Each query is a function ``f(registry_or_graph, ...) -> rows`` so the Neo4j backend can
answer the same questions; they arrive with issue #4.
"""
