"""The catalog's data layer. Depends only on ``settings``; it never imports ``gql`` or ``web``.

- ``models`` (``base``, ``enums``): the tables; ``engine``: engines and session factories;
  ``sessions``: the request's session (``RequestDatabase``: one statement at a time, a read
  retried once on a dropped connection); ``statement_timeout``: per-statement limits.
- Reads: ``queries``, ``pagination`` (keyset pages), ``search`` and ``text``, ``facets``
  (and ``facet_counts``: from the counts the database keeps), ``similar``, ``disputes``,
  ``external_ids``, ``aliases``.
- Writes: ``curation/`` (``outcome`` and ``common``: the shared machinery; ``works``,
  ``links``, ``names``, ``sources``: the records), ``rules``, ``races``, ``tokens``;
  ``catalog_version`` and ``version_reads``: the version every write bumps.
- The interchange format: ``interchange/`` (``format``: parse and serialise; ``export``:
  read the database; ``load``: validate and write in bulk).
"""
