"""GraphQL object types, one module per idea."""
