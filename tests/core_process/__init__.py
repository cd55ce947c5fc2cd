"""A test-only process for the core's tests: its own tiny schema, material and document.

So that a rule change in any real robot breaks only that robot's tests, the core's
tests build their cases with this process (`core_spec()`), registered per test by the
`core_process` fixture (tests/conftest.py).
"""
