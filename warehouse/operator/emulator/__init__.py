"""The operator's API on loopback: a program of its own (`warehouse operator emulate`).

`store`: the state in the emulator's own SQLite file (codes, documents, their listed codes) and the state
machine (IN_PROGRESS until `ready_at`, then the document's effect). `app`: the Flask app serving the
profile's paths under its prefix, strict about fields, verifying every CMS it is given, plus the test-only
controls under /_emu/ (seed, clock, faults, request log). It imports only pure station modules.
"""
