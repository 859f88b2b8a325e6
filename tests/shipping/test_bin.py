"""БИН/ИИН check digit: weights 1..11 mod 11; 10 means a second round with 3..11, 1, 2; 10 again: invalid."""

from __future__ import annotations

import pytest

from warehouse.identifiers import bin_check_digit, valid_bin


def reference(body: str) -> int | None:
    """Written from the rule, independently of the service."""
    first = sum((i + 1) * int(d) for i, d in enumerate(body)) % 11
    if first != 10:
        return first
    second = sum(((i + 2) % 11 + 1) * int(d) for i, d in enumerate(body)) % 11
    return None if second == 10 else second


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("123456789013", True),  # first round 296 % 11 = 10, second 377 % 11 = 3
        ("100000000001", True),  # 1 * 1 = 1
        ("000000000010", True),  # 11 * 1 = 11 ≡ 0
        ("123456789012", False),  # wrong check digit
        ("123456789021", False),  # the BIN of the test certificates is not a valid one
        ("12345678901", False),  # 11 digits
        ("1234567890133", False),  # 13 digits
        ("12345678901A", False),
        ("１２３４５６７８９０１３", False),  # full-width digits are digits to Python, not to a БИН
        ("", False),
    ],
)
def test_valid_bin(value: str, ok: bool) -> None:
    assert valid_bin(value) is ok


def test_agrees_with_the_rule_and_some_bodies_have_no_check_digit() -> None:
    for n in range(0, 10**11, 7_919_333):
        body = f"{n:011d}"
        assert bin_check_digit(body) == reference(body)
    # Bodies where both rounds give 10 exist, and no 12th digit makes them valid.
    body = next(f"{n:011d}" for n in range(10**6) if reference(f"{n:011d}") is None)
    assert bin_check_digit(body) is None
    assert not any(valid_bin(body + str(d)) for d in range(10))
