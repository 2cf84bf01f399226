"""The POLE model: entities, identifiers with validation, code lists, source records."""
