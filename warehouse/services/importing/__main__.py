"""The reader process (see `sources._ProcessSource`): `python -m warehouse.services.importing PATH ACT_ID BASE`."""

import sys

from warehouse.services.importing.sources import _read_in_child

if __name__ == "__main__":  # not when a test walks the package's modules
    _read_in_child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
