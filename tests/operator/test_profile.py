"""Profiles: the Kazakh one by default, the Russian one on request, a clear refusal for any other name."""

from __future__ import annotations

import pytest

from warehouse.operator.profile import Envelope, UnknownProfile, get_profile, operator_settings


def test_the_default_is_the_kazakh_profile() -> None:
    kz = get_profile()
    assert kz.name == "kz_ismet_v3" and kz.envelope is Envelope.KZ_PER_TYPE
    assert kz.prefix == "/api/v3/true-api" and kz.participant_field == "inn" and kz.product_group == "tobacco"
    assert (kz.codes_per_lookup, kz.requests_per_second) == (1000, 50)
    ru = get_profile("ru_true_api")
    assert ru.envelope is Envelope.RU_UNIFIED and set(ru.create.values()) == {"lk/documents/create"}
    assert ru.doc_types == kz.doc_types


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(UnknownProfile, match="kz_ismet_v3, ru_true_api"):
        get_profile("kz_xtrace")


def test_settings_give_the_base_url_and_the_profile() -> None:
    config = {"WAREHOUSE_OPERATOR_URL": "https://stage.ismet.kz/api/v3/true-api/", "OPERATOR_PROFILE": "ru_true_api"}
    url, profile = operator_settings(config)
    assert url == "https://stage.ismet.kz/api/v3/true-api" and profile.name == "ru_true_api"
    assert operator_settings({}) == (None, get_profile())
