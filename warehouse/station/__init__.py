"""The station's scanners on the application side: where a scan goes, and its hand-off to the services.

`hardware/` reads scanners and emits `hardware.scan.Scan`s; this package decides what they mean here.

- `routing`: scanner -> station -> the act open there (`StationRouter`), the tray, registration codes
- `bindings`: the scanner bindings kept in the database
- `sink`: the one hand-off thread between the readers and the receiving and shipping services
- `scanners`: the readers, router and sink of a running station inside the web process

See docs/scanners.md.
"""
