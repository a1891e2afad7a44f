"""The catalog benchmark (issue #3): latency, statement counts and query plans of the real
GraphQL app over a synthetic catalog, on SQLite and PostgreSQL.

Run it with ``.venv/bin/python -m bench`` from the project directory; see ``bench/README.md``.
"""
