"""Scanner -> station -> open act, and the tray for what cannot be routed (pure: no readers, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from hardware.scan import Scan
from warehouse.station.routing import Binding, Route, StationRouter, route_code, routed_act
from warehouse.station.tray import TrayItem, TrayReason


def scan(device: str, text: str = "0001") -> Scan:
    return Scan(text, device, "evdev", "enter", b"", 0, datetime.now(UTC))


def test_a_bound_scanner_goes_to_the_act_open_at_its_station() -> None:
    router = StationRouter()
    router.set_bindings({"kbd-1": Binding("dock-1", user_id=3, scanner_id=9), "kbd-2": Binding("dock-2")})
    router.open_act("dock-1", 11, user_id=5)
    router.open_act("dock-2", 12, user_id=5)
    assert router.route("kbd-1") == Route(11, "dock-1", 3, 9)  # a personal scanner keeps its person
    assert router.route("kbd-2") == Route(12, "dock-2", 5, None)  # else the person at the screen


def test_what_cannot_be_routed_says_why() -> None:
    router = StationRouter()
    router.bind("kbd-1", Binding("dock-1"))
    assert router.route("stranger") is TrayReason.UNBOUND
    assert router.route("kbd-1") is TrayReason.NO_ACT


def test_default_station_takes_unbound_scanners() -> None:
    router = StationRouter(default_station="station-1")
    router.open_act("station-1", 4)
    assert router.route("anything") == Route(4, "station-1", None, None)
    assert not router.is_bound("anything")


def test_a_stale_close_does_not_close_the_next_act() -> None:
    router = StationRouter()
    router.open_act("dock-1", 1)
    router.open_act("dock-1", 2)  # the operator moved on to another act
    router.close_act("dock-1", 1)
    assert router.act_for("dock-1") == 2
    router.close_act("dock-1")
    assert router.act_for("dock-1") is None


def test_the_tray_is_bounded_and_taken_per_device() -> None:
    seen: list[TrayItem] = []
    router = StationRouter(tray_size=3, on_tray=seen.append)
    for n in range(4):
        router.to_tray(scan("a" if n % 2 else "b", str(n)), TrayReason.UNBOUND)
    assert [i.scan.text for i in router.tray()] == ["1", "2", "3"]  # the oldest fell out
    assert len(seen) == 4
    assert [i.scan.text for i in router.clear_tray("a")] == ["1", "3"]
    assert [i.scan.text for i in router.tray()] == ["2"]
    assert [i.scan.text for i in router.clear_tray()] == ["2"] and router.tray() == []


def test_a_route_code_points_its_scanners_station_at_the_act() -> None:
    router = StationRouter()
    router.set_bindings({"kbd-1": Binding("dock-1", user_id=3), "kbd-2": Binding("dock-2")})
    router.open_act("dock-1", 1, user_id=5)
    assert router.take_route_code(scan("kbd-1", route_code(2)))
    assert router.act_for("dock-1") == 2 and router.route("kbd-1") == Route(2, "dock-1", 3, None)
    assert router.act_for("dock-2") is None  # another station's scanners stay where they were
    assert not router.take_route_code(scan("kbd-1", "0104600439931256213Vb'JQ&"))  # a marking code is none
    assert router.take_route_code(scan("stranger", "]d1#whact:2"))  # a scanner of no station moves nothing
    assert [(i.reason, i.scan.device) for i in router.tray()] == [(TrayReason.UNBOUND, "stranger")]
    assert routed_act("#WHACT:") is None and routed_act("#WHACT:2x") is None
