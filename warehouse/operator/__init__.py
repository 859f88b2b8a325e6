"""Exchange with the operator (ИС МПТ): one adapter interface, profiles per platform, a local emulator.

- `types`: the value types and the `OperatorAdapter` protocol every implementation keeps (the contract).
- `profile`: everything platform-specific — paths, envelope, document type names, the participant's id
  field — so that an unverified Kazakh detail is changed by configuration, not code (../shared/operator.md).
- `http`: `HttpOperatorAdapter`, the client the station uses (real hosts and the emulator alike).
- `emulator`: the operator's API on loopback, a separate process (`warehouse operator emulate`).

The package imports neither Flask (the emulator excepted, a program of its own) nor the station's database:
services (warehouse/services/operator_*.py) own the outbox, its transactions and the act's import.
"""
