"""All SQL lives here: one module per entity, plus the engine and migrations."""
