"""Callcraft's domain: the contact centre's language, its aggregates and its pure rules.

Nothing here performs I/O or reads the clock; time comes in as a value.
"""
