"""`make bench`: Callcraft's figures beside the machine's ceilings, measured in the same run.

Benchmarks are a command, never a test: nothing here is imported by the test suite.
"""
