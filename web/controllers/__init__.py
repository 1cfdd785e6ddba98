"""Page controllers: one module per page family."""
