"""The catalog's data layer: models, engine and sessions, queries, interchange format.

``db`` depends only on ``settings``; it never imports ``gql``.
"""
