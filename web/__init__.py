"""The htmx pages (issue #3): controllers, Jinja templates and static assets.

Depends on ``domain`` and ``projections`` only; ``api`` mounts it.
"""
