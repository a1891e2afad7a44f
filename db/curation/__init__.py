"""Curators' writes: validated, atomic, versioned, attributed and audited.

Each write runs inside the caller's transaction and either applies the whole change — the
record, its attributions, one ``changes`` row (who, when, what, before and after) and a bump
of the catalog version — or returns user errors and writes nothing.

- ``outcome``: what every write answers (``Outcome``, ``UserError``) and the error codes.
- ``common``: the machinery the writes share — checked text, cited and curator sources,
  free slugs, field attribution, the audit ``record``.
- ``works``: create, update and delete a work (its fields, directors and themes).
- ``links``: what hangs off a work — credits, theme tags, relations, disputes.
- ``names``: people and themes.
- ``sources``: new sources that statements can cite.
"""
