"""What tests share, beside the fixtures in ``tests/conftest.py``:

- ``client``: the app under test over HTTP in-process, built from ``Settings``
- ``graphql``: GraphQL over that client, failing the test on any error
- ``cli``: the ``nkcinema`` command in a subprocess
- ``live``: ``nkcinema serve`` on a free port, for end-to-end tests
- ``databases``: throwaway SQLite files or PostgreSQL databases
- ``factories``: synthetic catalogs written straight into the tables
- ``sql``: the statements an engine executes, the plan for a statement
"""
