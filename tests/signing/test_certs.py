"""What a person sees of a certificate, and what the signing policy makes of it."""

from __future__ import annotations

import pytest
from cryptography import x509

from tests.signing.pki import GOST_2004_KEY, NCA_PASSWORD, RSA_CA, RSA_CRL, RSA_KEY, Pki, minted
from warehouse.signing import pkcs12
from warehouse.signing.certs import CertificateInfo, load_certificates, load_crls
from warehouse.signing.errors import SigningError
from warehouse.signing.trust import SigningSettings, check_certificate, check_for_signing, load_settings


def _cert(path: object, password: str = NCA_PASSWORD) -> x509.Certificate:
    cert = pkcs12.inspect(path.read_bytes(), password).key_certificate()  # type: ignore[attr-defined]
    assert cert is not None
    return cert


def _nca_settings(**kw: object) -> SigningSettings:
    return SigningSettings(tuple(load_certificates(RSA_CA.read_bytes())), tuple(load_crls(RSA_CRL.read_bytes())), **kw)  # type: ignore[arg-type]


def test_nca_subject_fields() -> None:
    info = CertificateInfo.from_certificate(_cert(RSA_KEY))
    assert (info.name, info.iin, info.bin, info.issuer) == (
        "ТЕСТОВ ТЕСТ ТЕСТОВИЧ",
        "123456789011",
        None,
        "ҰКО 3.0 (RSA TEST)",
    )
    assert info.can_sign and info.key_algorithm == "rsa"
    assert info.not_after.year == 2022
    gost = CertificateInfo.from_certificate(_cert(GOST_2004_KEY))
    assert (gost.bin, gost.organization, gost.key_algorithm) == ("123456789021", 'АО "ТЕСТ"', "gost")


def test_own_subjects_and_an_auth_key(pki: Pki) -> None:
    info = CertificateInfo.from_certificate(pki.sign.certificate)
    assert (info.iin, info.bin, info.organization) == ("900101300123", "123456789021", "ТОО «Склад & Ко»")
    assert info.name == "ИВАНОВ ИВАН ПЕТРОВИЧ"
    assert CertificateInfo.from_certificate(pki.auth.certificate).can_sign is False


def _minted_settings(**kw: object) -> SigningSettings:
    chain = minted()
    crls = tuple(c for f in ("root.crl", "intermediate.crl") for c in load_crls((chain.store / f).read_bytes()))
    return SigningSettings((chain.root,), crls, (chain.intermediate,), **kw)  # type: ignore[arg-type]


def test_expired_keys_are_refused_the_demo_only_warns() -> None:
    with pytest.raises(SigningError, match="expired"):
        check_for_signing(_cert(RSA_KEY), _nca_settings())  # NCA's own test key expired in 2022
    with pytest.raises(SigningError, match="expired"):
        check_for_signing(minted().expired.certificate, _minted_settings())
    assert check_for_signing(minted().expired.certificate, _minted_settings(demo=True)) == ("demo", "expired")


def test_revoked_and_self_signed_keys_are_refused() -> None:
    with pytest.raises(SigningError, match="revoked"):
        check_for_signing(minted().revoked.certificate, _minted_settings())
    with pytest.raises(SigningError, match="untrusted") as e:
        check_for_signing(minted().fake.certificate, _minted_settings())
    assert e.value.certificate is not None and e.value.certificate.name == "ДИРЕКТОР ПОДДЕЛЬНЫЙ ПЕТРОВИЧ"
    assert check_for_signing(minted().sign.certificate, _minted_settings()) == ()
    assert check_certificate(minted().sign.certificate, _minted_settings()).issuer_certificate == minted().intermediate


def test_auth_key_and_foreign_ca_are_refused(pki: Pki) -> None:
    with pytest.raises(SigningError, match="auth_key") as e:
        check_for_signing(pki.auth.certificate, SigningSettings())
    assert e.value.certificate is not None and e.value.certificate.iin == "900101300123"
    with pytest.raises(SigningError, match="untrusted"):
        check_for_signing(pki.sign.certificate, _nca_settings())
    with pytest.raises(SigningError, match="no_trust_store"):
        check_for_signing(pki.sign.certificate, SigningSettings())
    with pytest.raises(SigningError, match="revocation_unchecked"):  # a trusted CA without its CRL
        check_for_signing(pki.sign.certificate, SigningSettings((pki.ca,)))
    own = SigningSettings((pki.ca,), tuple(load_crls(pki.crl_pem.read_bytes())))
    assert check_for_signing(pki.sign.certificate, own) == ()
    with pytest.raises(SigningError, match="revoked"):
        check_for_signing(pki.revoked.certificate, own)


def test_settings_from_config_and_environment(pki: Pki) -> None:
    settings = load_settings(
        {"SIGNING_TRUSTED_CA": f"{RSA_CA}", "NCANODE_URL": ""},
        {
            "WAREHOUSE_TRUSTED_CA": "/nonexistent",
            "WAREHOUSE_CRL": str(pki.crl_pem.parent),
            "WAREHOUSE_DEMO_MODE": "yes",
            "WAREHOUSE_NCANODE_URL": "http://127.0.0.1:14579",
        },
    )
    assert len(settings.trusted) == 1 and len(settings.crls) == 1 and settings.demo
    assert not load_settings({}, {}).demo  # strict unless told: never a default
    assert settings.ncanode_url == "http://127.0.0.1:14579" and settings.ncalayer_url == "wss://127.0.0.1:13579"
    with pytest.raises(SigningError, match="trust_file"):
        load_settings({"SIGNING_TRUSTED_CA": "/nonexistent/ca.pem"}, {})
