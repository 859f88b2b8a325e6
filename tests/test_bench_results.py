"""The benches' figures file: its shape, the verdicts it works out, and a step's figures read back."""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path

import pytest

from tests.bench import results
from tests.bench.results import Figure, Results, figure

KEYS = ["name", "value", "unit", "target", "baseline", "ratio", "met"]


def test_the_examples_run() -> None:
    assert doctest.testmod(results).failed == 0


def test_the_file_has_every_field_of_every_figure(tmp_path: Path) -> None:
    r = Results("receiving")
    r.add("import JSON", 14.0, "s", at_most=20.0, baseline=7.0)
    r.add("packs", 250_000.0, "/s", at_least=300_000.0)
    r.add("write CSV", 3.5, "s")
    path = r.write(tmp_path)
    assert path == tmp_path / "receiving.json"
    figures = json.loads(path.read_text(encoding="utf-8"))["figures"]
    assert [list(f) for f in figures] == [KEYS] * 3
    assert figures[0] == {
        "name": "import JSON",
        "value": 14.0,
        "unit": "s",
        "target": 20.0,
        "baseline": 7.0,
        "ratio": 2.0,
        "met": True,
    }
    assert figures[1]["met"] is False and figures[1]["target"] == 300_000.0
    assert figures[2] == {"name": "write CSV", "value": 3.5, "unit": "s"} | dict.fromkeys(KEYS[3:])


def test_the_default_folder_is_bench_results_at_the_root() -> None:
    assert Path(__file__).resolve().parent.parent / "bench-results" == results.FOLDER
    ignored = (results.FOLDER.parent / ".gitignore").read_text(encoding="utf-8").split()
    assert "bench-results/" in ignored


@pytest.mark.parametrize(
    ("value", "bounds", "met"),
    [
        (20.0, {"at_most": 20.0}, True),  # a bound is inclusive
        (20.1, {"at_most": 20.0}, False),
        (50.0, {"at_least": 50.0}, True),
        (49.9, {"at_least": 50.0}, False),
        (3.0, {}, None),  # no target, no verdict
        (3.0, {"at_most": 20.0, "met": False}, False),  # the bench's verdict of several facts wins
        (None, {"at_most": 20.0}, None),  # not measured: no verdict
    ],
)
def test_met(value: float | None, bounds: dict[str, object], met: bool | None) -> None:
    assert figure("f", value, "ms", **bounds).met is met  # type: ignore[arg-type]


def test_a_figure_has_one_target() -> None:
    with pytest.raises(ValueError, match="one target"):
        figure("f", 1.0, "s", at_most=2.0, at_least=0.5)


def test_what_is_not_a_finite_number_is_null(tmp_path: Path) -> None:
    r = Results("codes")
    r.add("ratio", math.inf, "x", at_least=50.0)
    r.add("zero baseline", 5.0, "s", baseline=0.0)
    r.add("nan", math.nan, "ms")
    text = r.write(tmp_path).read_text(encoding="utf-8")
    assert "Infinity" not in text and "NaN" not in text
    inf, zero, nan = json.loads(text)["figures"]
    assert inf["value"] is None and inf["met"] is None and inf["target"] == 50.0
    assert zero["baseline"] == 0.0 and zero["ratio"] is None
    assert nan["value"] is None


def test_a_steps_figures_read_back_and_gathered(tmp_path: Path) -> None:
    step = Results("read-json")
    step.add("read-json time", 9.25, "s")
    step.add("read-json peak RSS", 61.0, "MB", at_most=150.0)
    gathered = Results("acts_format")
    gathered.extend(results.read(step.write(tmp_path / "steps")))
    assert gathered.figures == step.figures
    assert gathered.figures[1] == Figure("read-json peak RSS", 61.0, "MB", 150.0, None, None, True)
    again = gathered.write(tmp_path)
    assert results.read(again) == step.figures


def test_a_second_run_replaces_the_file(tmp_path: Path) -> None:
    first = Results("screen")
    first.add("p95", 90.0, "ms")
    first.add("p99", 120.0, "ms")
    first.write(tmp_path)
    second = Results("screen")
    second.add("p95", 80.0, "ms")
    path = second.write(tmp_path)
    assert [f.value for f in results.read(path)] == [80.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["screen.json"]  # no partial file left behind


def test_each_bench_writes_its_figures() -> None:
    benches = sorted((Path(results.__file__).parent).glob("bench_*.py"))
    assert benches, "no bench found"  # every bench, however many: each must write its figures
    for bench in benches:
        source = bench.read_text(encoding="utf-8")
        assert "Results(" in source and ".write(" in source, f"{bench.name} does not write bench-results/"
