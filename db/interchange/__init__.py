"""The catalog interchange format and the moves of whole catalogs in and out of the database.

- ``format``: the typed records of ``nkcinema-catalog/1``, parsed (validated) from JSON
  documents and serialised back to canonical JSON.
- ``export``: reads the whole catalog out of the database (``nkcinema export``).
- ``load``: validates documents against each other and the stored catalog, then writes them
  in bulk, all or nothing (``nkcinema seed``).
"""
