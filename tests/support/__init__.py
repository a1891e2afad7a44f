"""What tests share, beside the fixtures in ``tests/conftest.py``:

- ``client``: the app under test over HTTP in-process, built from ``Settings``
- ``graphql``: GraphQL over that client, failing the test on any error
- ``cli``: the ``nkcinema`` command in a subprocess
- ``live``: ``nkcinema serve`` on a free port, for end-to-end tests
- ``node``: the end-to-end scripts in ``tests/e2e/js`` run by node against that server
- ``databases``: throwaway SQLite files or PostgreSQL databases, empty or seeded
- ``factories``: synthetic catalogs written straight into the tables
- ``sql``: the statements an engine executes, the plan for a statement
- ``curation``: a curator sending operations with a token, a sample of every mutation
- ``documents``: the README's examples and the operations in ``examples/operations``
- ``fuzz``: the fuzzers' oracle, their admin writes, the values operations are made from
"""
