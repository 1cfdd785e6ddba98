"""The composition root: settings, wiring, the HTTP app factory and the command line."""
