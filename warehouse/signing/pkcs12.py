"""Read a PKCS#12 key file far enough to tell *why* it cannot be used: wrong password, or a GOST key.

`cryptography` opens NCA's RSA files, but for anything else it says only "Invalid password or PKCS12
data" — also for a GOST key given the right password. A person must hear which one it is ("wrong
password" and "this key signs only through NCALayer" need different actions), so this module checks the
password against the file's MAC and decrypts the bags itself (RFC 7292), reading the certificate and the
private key's algorithm without ever building a key object.

NCA files use the legacy ciphers (3DES for the key, RC2-40 for the certificates); `cryptography` offers
RC2 with 128-bit keys only, so RC2 (RFC 2268) is implemented here, for decryption only. Modern files
(PBES2: PBKDF2 + AES) are read too.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Final

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from warehouse.signing import der
from warehouse.signing.certs import is_gost_oid
from warehouse.signing.errors import SigningError

__all__ = ["KeyFileContents", "inspect", "rc2_cbc_decrypt"]

MAX_KEY_FILE = 1024 * 1024  # NCA key files are a few kilobytes
_MAX_ITERATIONS = 10_000_000  # PBKDF2 runs in C
_MAX_KDF_ITERATIONS = 200_000  # the PKCS#12 KDF runs in Python: NCA files use 1,024, OpenSSL 2,048

_DATA = "1.2.840.113549.1.7.1"
_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_KEY_BAG = "1.2.840.113549.1.12.10.1.1"
_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
_CERT_BAG = "1.2.840.113549.1.12.10.1.3"
_X509_CERT = "1.2.840.113549.1.9.22.1"
_PBES2 = "1.2.840.113549.1.5.13"
_PBKDF2 = "1.2.840.113549.1.5.12"

# PKCS#12 PBE: (cipher, key length, effective RC2 bits)
_PKCS12_PBE: Final[dict[str, tuple[str, int, int]]] = {
    "1.2.840.113549.1.12.1.3": ("3des", 24, 0),
    "1.2.840.113549.1.12.1.4": ("3des", 16, 0),
    "1.2.840.113549.1.12.1.5": ("rc2", 16, 128),
    "1.2.840.113549.1.12.1.6": ("rc2", 5, 40),
}
_HASHES: Final[dict[str, str]] = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
_HMACS: Final[dict[str, str]] = {
    "1.2.840.113549.2.7": "sha1",
    "1.2.840.113549.2.8": "sha224",
    "1.2.840.113549.2.9": "sha256",
    "1.2.840.113549.2.10": "sha384",
    "1.2.840.113549.2.11": "sha512",
}
_AES_CBC: Final[dict[str, int]] = {
    "2.16.840.1.101.3.4.1.2": 16,
    "2.16.840.1.101.3.4.1.22": 24,
    "2.16.840.1.101.3.4.1.42": 32,
}
_DES_EDE3_CBC = "1.2.840.113549.3.7"


class _Undecryptable(Exception):
    """A bag is encrypted with an algorithm this module does not know (e.g. a GOST PBE)."""


class _BadPadding(Exception):
    """Decryption produced garbage: with no MAC to check first, the password is wrong."""


@dataclass
class KeyFileContents:
    """What a PKCS#12 file holds, as far as it could be read."""

    certificates: list[x509.Certificate] = field(default_factory=list)
    key_algorithms: list[str] = field(default_factory=list)  # OIDs of the private keys
    password_checked: bool = False  # the MAC (or a successful decryption) proved the password right
    unreadable_bags: int = 0  # bags encrypted with an algorithm not known here

    @property
    def has_gost_key(self) -> bool:
        return any(is_gost_oid(oid) for oid in self.key_algorithms) or (
            not self.key_algorithms
            and any(is_gost_oid(c.public_key_algorithm_oid.dotted_string) for c in self.certificates)
        )

    def key_certificate(self) -> x509.Certificate | None:
        """The end-entity certificate (not a CA's) — the one that belongs to the key."""
        for cert in self.certificates:
            try:
                if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                    continue
            except x509.ExtensionNotFound:
                pass
            return cert
        return self.certificates[0] if self.certificates else None


def inspect(data: bytes, password: str) -> KeyFileContents:
    """Check `password` and read the certificates and key algorithms of a PKCS#12 file.

    Raises SigningError "not_a_key_file" when the bytes are not PKCS#12 and "wrong_password" when the
    MAC (or, without a MAC, the padding of the decrypted key) shows the password is wrong.
    """
    if len(data) > MAX_KEY_FILE:
        raise SigningError("not_a_key_file", "larger than any key file")
    try:
        pfx = der.parse(data).expect(der.SEQUENCE).children()
        if len(pfx) < 2 or pfx[0].integer() != 3:
            raise der.DerError("not a PFX version 3")
        auth_safe = _data_content(pfx[1])
        mac_data = pfx[2] if len(pfx) > 2 else None
    except der.DerError as e:
        raise SigningError("not_a_key_file", str(e)) from e

    found = KeyFileContents()
    if mac_data is not None:
        verdict = _check_mac(mac_data, auth_safe, password)
        if verdict is False:
            raise SigningError("wrong_password")
        found.password_checked = verdict is True
    try:
        for info in der.parse(auth_safe).expect(der.SEQUENCE).children():
            kind = info.child(0).oid()
            if kind == _DATA:
                _read_bags(_data_content(info), password, found)
            elif kind == _ENCRYPTED_DATA:
                try:
                    _read_bags(_decrypt_encrypted_data(info, password), password, found)
                except _Undecryptable:
                    found.unreadable_bags += 1
    except _BadPadding as e:
        raise SigningError("wrong_password") from e
    except der.DerError as e:
        raise SigningError("not_a_key_file", str(e)) from e
    return found


# ---------------------------------------------------------------------------------------------------
# Structure


def _data_content(content_info: der.Node) -> bytes:
    """The octets of a ContentInfo of type data: [0] EXPLICIT OCTET STRING (BER may chunk it)."""
    if content_info.child(0).oid() != _DATA:
        raise der.DerError("expected a data ContentInfo")
    wrapper = content_info.child(1).expect(0, der.CONTEXT)
    return wrapper.child(0).expect(der.OCTET_STRING).octets()


def _decrypt_encrypted_data(content_info: der.Node, password: str) -> bytes:
    encrypted_data = content_info.child(1).expect(0, der.CONTEXT).child(0)
    eci = encrypted_data.child(1)  # after the version
    algorithm = eci.child(1)
    body = eci.child(2).expect(0, der.CONTEXT)  # [0] IMPLICIT OCTET STRING, primitive or chunked
    ciphertext = body.content if not body.constructed else b"".join(c.octets() for c in body.children())
    return _decrypt(algorithm, ciphertext, password)


def _read_bags(safe_contents: bytes, password: str, found: KeyFileContents) -> None:
    for bag in der.parse(safe_contents).expect(der.SEQUENCE).children():
        bag_id = bag.child(0).oid()
        value = bag.child(1).expect(0, der.CONTEXT).child(0)
        if bag_id == _CERT_BAG:
            if value.child(0).oid() == _X509_CERT:
                raw = value.child(1).expect(0, der.CONTEXT).child(0).octets()
                try:
                    found.certificates.append(x509.load_der_x509_certificate(raw))
                except ValueError:
                    continue
        elif bag_id == _KEY_BAG:
            found.key_algorithms.append(value.child(1).child(0).oid())
        elif bag_id == _SHROUDED_KEY_BAG:
            try:
                plain = _decrypt(value.child(0), value.child(1).expect(der.OCTET_STRING).octets(), password)
            except _Undecryptable:
                found.unreadable_bags += 1
                continue
            found.password_checked = True
            found.key_algorithms.append(der.parse(plain).child(1).child(0).oid())


# ---------------------------------------------------------------------------------------------------
# MAC and key derivation (RFC 7292 appendix B)


def _bmp_password(password: str) -> bytes:
    return password.encode("utf-16-be") + b"\x00\x00"


def pkcs12_kdf(password: bytes, salt: bytes, purpose: int, iterations: int, size: int, hash_name: str) -> bytes:
    """RFC 7292 B.2: purpose 1 = key, 2 = IV, 3 = MAC key; `password` already BMP-encoded."""
    if not 0 < iterations <= _MAX_KDF_ITERATIONS:
        raise der.DerError("unreasonable iteration count")
    u = hashlib.new(hash_name).digest_size
    v = hashlib.new(hash_name).block_size
    d = bytes([purpose]) * v

    def stretch(value: bytes) -> bytes:
        if not value:
            return b""
        n = -(-len(value) // v) * v
        return (value * (n // len(value) + 1))[:n]

    i = bytearray(stretch(salt) + stretch(password))
    out = b""
    while len(out) < size:
        a = hashlib.new(hash_name, d + bytes(i)).digest()
        for _ in range(iterations - 1):
            a = hashlib.new(hash_name, a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big") + 1
        for k in range(0, len(i), v):
            block = (int.from_bytes(i[k : k + v], "big") + b) % (1 << (8 * v))
            i[k : k + v] = block.to_bytes(v, "big")
    return out[:size]


def _check_mac(mac_data: der.Node, auth_safe: bytes, password: str) -> bool | None:
    """True when the MAC verifies, False when it does not, None when its algorithm is unknown here."""
    digest_info = mac_data.child(0)
    hash_name = _HASHES.get(digest_info.child(0).child(0).oid())
    if hash_name is None:
        return None  # e.g. a GOST hash, or PBMAC1
    expected = digest_info.child(1).octets()
    salt = mac_data.child(1).octets()
    parts = mac_data.children()
    iterations = parts[2].integer() if len(parts) > 2 else 1
    size = hashlib.new(hash_name).digest_size
    key = pkcs12_kdf(_bmp_password(password), salt, 3, iterations, size, hash_name)
    actual = hmac.new(key, auth_safe, hash_name).digest()
    if hmac.compare_digest(actual, expected):
        return True
    # Some tools derive the MAC of an empty password without the BMP terminator.
    if not password:
        key = pkcs12_kdf(b"", salt, 3, iterations, size, hash_name)
        return hmac.compare_digest(hmac.new(key, auth_safe, hash_name).digest(), expected)
    return False


# ---------------------------------------------------------------------------------------------------
# Decryption


def _unpad(data: bytes, block: int) -> bytes:
    if not data or len(data) % block:
        raise _BadPadding
    n = data[-1]
    if not 1 <= n <= block or data[-n:] != bytes([n]) * n:
        raise _BadPadding
    return data[:-n]


def _decrypt(algorithm: der.Node, ciphertext: bytes, password: str) -> bytes:
    oid = algorithm.child(0).oid()
    if oid in _PKCS12_PBE:
        cipher, key_size, rc2_bits = _PKCS12_PBE[oid]
        params = algorithm.child(1)
        salt, iterations = params.child(0).octets(), params.child(1).integer()
        bmp = _bmp_password(password)
        key = pkcs12_kdf(bmp, salt, 1, iterations, key_size, "sha1")
        iv = pkcs12_kdf(bmp, salt, 2, iterations, 8, "sha1")
        if cipher == "3des":
            plain = _cbc(TripleDES(key), iv, ciphertext)
        else:
            plain = rc2_cbc_decrypt(key, rc2_bits, iv, ciphertext)
        return _unpad(plain, 8)
    if oid == _PBES2:
        return _pbes2(algorithm.child(1), ciphertext, password)
    raise _Undecryptable(oid)


def _cbc(algorithm: TripleDES | algorithms.AES, iv: bytes, ciphertext: bytes) -> bytes:
    if len(ciphertext) % (algorithm.block_size // 8):
        raise _BadPadding
    decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def _pbes2(params: der.Node, ciphertext: bytes, password: str) -> bytes:
    kdf, scheme = params.child(0), params.child(1)
    if kdf.child(0).oid() != _PBKDF2:
        raise _Undecryptable(kdf.child(0).oid())
    kdf_params = kdf.child(1).children()
    salt = kdf_params[0].expect(der.OCTET_STRING).content
    iterations = kdf_params[1].integer()
    if not 0 < iterations <= _MAX_ITERATIONS:
        raise der.DerError("unreasonable iteration count")
    prf = "sha1"
    for extra in kdf_params[2:]:
        if extra.is_(der.SEQUENCE):
            prf_name = _HMACS.get(extra.child(0).oid())
            if prf_name is None:
                raise _Undecryptable(extra.child(0).oid())
            prf = prf_name
    scheme_oid = scheme.child(0).oid()
    iv = scheme.child(1).expect(der.OCTET_STRING).content
    # PBES2 takes the password as UTF-8 (PKCS#5), not as the BMPString of the PKCS#12 PBEs.
    secret = password.encode("utf-8")
    if scheme_oid in _AES_CBC:
        key = hashlib.pbkdf2_hmac(prf, secret, salt, iterations, _AES_CBC[scheme_oid])
        return _unpad(_cbc(algorithms.AES(key), iv, ciphertext), 16)
    if scheme_oid == _DES_EDE3_CBC:
        key = hashlib.pbkdf2_hmac(prf, secret, salt, iterations, 24)
        return _unpad(_cbc(TripleDES(key), iv, ciphertext), 8)
    raise _Undecryptable(scheme_oid)


# RC2 (RFC 2268), decryption only: NCA's certificate bags use pbeWithSHAAnd40BitRC2-CBC.
_PITABLE: Final = bytes(
    [
        0xD9,
        0x78,
        0xF9,
        0xC4,
        0x19,
        0xDD,
        0xB5,
        0xED,
        0x28,
        0xE9,
        0xFD,
        0x79,
        0x4A,
        0xA0,
        0xD8,
        0x9D,
        0xC6,
        0x7E,
        0x37,
        0x83,
        0x2B,
        0x76,
        0x53,
        0x8E,
        0x62,
        0x4C,
        0x64,
        0x88,
        0x44,
        0x8B,
        0xFB,
        0xA2,
        0x17,
        0x9A,
        0x59,
        0xF5,
        0x87,
        0xB3,
        0x4F,
        0x13,
        0x61,
        0x45,
        0x6D,
        0x8D,
        0x09,
        0x81,
        0x7D,
        0x32,
        0xBD,
        0x8F,
        0x40,
        0xEB,
        0x86,
        0xB7,
        0x7B,
        0x0B,
        0xF0,
        0x95,
        0x21,
        0x22,
        0x5C,
        0x6B,
        0x4E,
        0x82,
        0x54,
        0xD6,
        0x65,
        0x93,
        0xCE,
        0x60,
        0xB2,
        0x1C,
        0x73,
        0x56,
        0xC0,
        0x14,
        0xA7,
        0x8C,
        0xF1,
        0xDC,
        0x12,
        0x75,
        0xCA,
        0x1F,
        0x3B,
        0xBE,
        0xE4,
        0xD1,
        0x42,
        0x3D,
        0xD4,
        0x30,
        0xA3,
        0x3C,
        0xB6,
        0x26,
        0x6F,
        0xBF,
        0x0E,
        0xDA,
        0x46,
        0x69,
        0x07,
        0x57,
        0x27,
        0xF2,
        0x1D,
        0x9B,
        0xBC,
        0x94,
        0x43,
        0x03,
        0xF8,
        0x11,
        0xC7,
        0xF6,
        0x90,
        0xEF,
        0x3E,
        0xE7,
        0x06,
        0xC3,
        0xD5,
        0x2F,
        0xC8,
        0x66,
        0x1E,
        0xD7,
        0x08,
        0xE8,
        0xEA,
        0xDE,
        0x80,
        0x52,
        0xEE,
        0xF7,
        0x84,
        0xAA,
        0x72,
        0xAC,
        0x35,
        0x4D,
        0x6A,
        0x2A,
        0x96,
        0x1A,
        0xD2,
        0x71,
        0x5A,
        0x15,
        0x49,
        0x74,
        0x4B,
        0x9F,
        0xD0,
        0x5E,
        0x04,
        0x18,
        0xA4,
        0xEC,
        0xC2,
        0xE0,
        0x41,
        0x6E,
        0x0F,
        0x51,
        0xCB,
        0xCC,
        0x24,
        0x91,
        0xAF,
        0x50,
        0xA1,
        0xF4,
        0x70,
        0x39,
        0x99,
        0x7C,
        0x3A,
        0x85,
        0x23,
        0xB8,
        0xB4,
        0x7A,
        0xFC,
        0x02,
        0x36,
        0x5B,
        0x25,
        0x55,
        0x97,
        0x31,
        0x2D,
        0x5D,
        0xFA,
        0x98,
        0xE3,
        0x8A,
        0x92,
        0xAE,
        0x05,
        0xDF,
        0x29,
        0x10,
        0x67,
        0x6C,
        0xBA,
        0xC9,
        0xD3,
        0x00,
        0xE6,
        0xCF,
        0xE1,
        0x9E,
        0xA8,
        0x2C,
        0x63,
        0x16,
        0x01,
        0x3F,
        0x58,
        0xE2,
        0x89,
        0xA9,
        0x0D,
        0x38,
        0x34,
        0x1B,
        0xAB,
        0x33,
        0xFF,
        0xB0,
        0xBB,
        0x48,
        0x0C,
        0x5F,
        0xB9,
        0xB1,
        0xCD,
        0x2E,
        0xC5,
        0xF3,
        0xDB,
        0x47,
        0xE5,
        0xA5,
        0x9C,
        0x77,
        0x0A,
        0xA6,
        0x20,
        0x68,
        0xFE,
        0x7F,
        0xC1,
        0xAD,
    ]
)


def _rc2_key_schedule(key: bytes, effective_bits: int) -> list[int]:
    t = len(key)
    if not 1 <= t <= 128:
        raise ValueError("RC2 key must be 1..128 bytes")
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    expanded = bytearray(key) + bytearray(128 - t)
    for i in range(t, 128):
        expanded[i] = _PITABLE[(expanded[i - 1] + expanded[i - t]) & 0xFF]
    expanded[128 - t8] = _PITABLE[expanded[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        expanded[i] = _PITABLE[expanded[i + 1] ^ expanded[i + t8]]
    return [expanded[2 * i] | (expanded[2 * i + 1] << 8) for i in range(64)]


def _rc2_decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [block[2 * i] | (block[2 * i + 1] << 8) for i in range(4)]
    shifts = (1, 2, 3, 5)
    j = 63

    def reverse_mix() -> None:
        nonlocal j
        for i in (3, 2, 1, 0):
            s = shifts[i]
            r[i] = ((r[i] >> s) | (r[i] << (16 - s))) & 0xFFFF
            r[i] = (r[i] - k[j] - (r[i - 1] & r[i - 2]) - ((~r[i - 1]) & r[i - 3])) & 0xFFFF
            j -= 1

    def reverse_mash() -> None:
        for i in (3, 2, 1, 0):
            r[i] = (r[i] - k[r[i - 1] & 63]) & 0xFFFF

    # Encryption runs 5 mixing rounds, a mash, 6 mixing rounds, a mash, 5 mixing rounds: undo that.
    for group, rounds in enumerate((5, 6, 5)):
        for _ in range(rounds):
            reverse_mix()
        if group < 2:
            reverse_mash()
    return b"".join(w.to_bytes(2, "little") for w in r)


def rc2_cbc_decrypt(key: bytes, effective_bits: int, iv: bytes, ciphertext: bytes) -> bytes:
    """RC2-CBC decryption without unpadding. Only here to read legacy PKCS#12 certificate bags."""
    if len(iv) != 8 or len(ciphertext) % 8:
        raise _BadPadding
    k = _rc2_key_schedule(key, effective_bits)
    out = bytearray()
    previous = iv
    for pos in range(0, len(ciphertext), 8):
        block = ciphertext[pos : pos + 8]
        plain = _rc2_decrypt_block(k, block)
        out += bytes(a ^ b for a, b in zip(plain, previous, strict=True))
        previous = block
    return bytes(out)
