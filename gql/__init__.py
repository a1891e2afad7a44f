"""The GraphQL API: the Strawberry schema over the data layer. Depends on db and settings;
never on the serving layer (``web``), which wraps it.

- ``schema``: the schema (``schema``; ``catalog_schema(serving=...)`` for the served one) and
  its request deadline; ``query`` and ``mutations``: the root types; ``types/``: the object
  types (tied together by ``strawberry.lazy``), with ``nested`` and ``similar`` their lists.
- ``context``: the per-request ``Context`` (request, database, settings, what the extensions
  learn); ``loaders``: its DataLoaders, one statement per batch.
- ``inputs``, ``arguments``, ``pagination``, ``cursors``, ``ids``, ``search``: arguments in,
  connections and pages out; ``validated`` and ``auth``: what mutations accept and who may.
- Extensions, one concern each: ``operation_choice``, ``limits`` (depth, aliases, tokens,
  cost), ``document_cache``, ``admission`` (the gate for expensive operations),
  ``execution`` (compiled execution), ``extensions`` (error codes and masking).
- ``compiled/``: the GraphQL → SQL compiler (plans, statements, shaping); ``errors``: the
  codes every error leaves with.
"""
