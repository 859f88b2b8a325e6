"""The fake scanners of tests/hardware (pipes, ptys): the station is tested over the real readers."""

from tests.hardware.conftest import bench, collector, scanner

__all__ = ["bench", "collector", "scanner"]
