"""The station's scanners on the application side: where a scan goes, and its hand-off to the services.

`hardware/` reads scanners and emits `hardware.scan.Scan`s; this package decides what they mean here.

- `routing`: scanner -> station -> the act open there (`StationRouter`)
- `tray`: the scans that could not be recorded, waiting for a person
- `registration`: the one-time codes a scanner scans to bind itself to a station
- `bindings`: the scanner bindings kept in the database
- `sink`: the one hand-off thread between the readers and the receiving and shipping services
- `scanners`: the readers, router and sink of a running station inside the web process

See docs/scanners.md.
"""
