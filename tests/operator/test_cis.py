"""The operator's code forms and the station's identities: what a fetched act's lines match against."""

from __future__ import annotations

from warehouse import codes
from warehouse.operator.cis import cis_of_line, level_of, station_identity
from warehouse.transfer_act import generate_act
from warehouse.vocab import Level


def test_every_generated_code_round_trips_through_the_operators_form() -> None:
    _header, lines = generate_act(pallets=1, boxes_per_pallet=2, blocks_per_box=2, packs_per_block=2, seed=5)
    for line in lines:
        cis = cis_of_line(line)
        assert station_identity(cis) == (line.identity, line.kind)
        assert level_of(cis) is (Level.BOX if line.level is Level.PALLET else line.level)


def test_parse_alone_misreads_the_operators_pack() -> None:
    _header, lines = generate_act(pallets=0, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=1, seed=6)
    pack = next(line for line in lines if line.level is Level.PACK)
    assert codes.parse(cis_of_line(pack)).kind is not codes.Kind.PACK  # hence station_identity
    assert station_identity(cis_of_line(pack))[1] is codes.Kind.PACK
