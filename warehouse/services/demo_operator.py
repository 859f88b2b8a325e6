"""The operator emulator beside the demo (`warehouse demo --operator`, `make run OPERATOR=1`): a child process
on a free loopback port holding one act that waits for the demo company's acceptance, and a session with it."""

from __future__ import annotations

import datetime
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from warehouse import transfer_act
from warehouse.operator.types import Session
from warehouse.services import operator_session
from warehouse.signing.signers import Pkcs12Signer

DEMO_OPERATOR_ACT = "ДЕМО-000002"
PROFILE = "kz_ismet_v3"
FOLDER = "operator-demo"  # in the instance folder: the seed act and the emulator's database


class DemoOperatorError(RuntimeError):
    """The emulator did not start (its own words are the message)."""


@dataclass
class DemoOperator:
    process: subprocess.Popen[str]
    url: str  # base URL with the profile's prefix
    company_bin: str  # the demo act's receiver: the station's company at the operator

    def env(self) -> dict[str, str]:
        """The settings that point a station at this emulator."""
        return {
            "WAREHOUSE_OPERATOR_URL": self.url,
            "WAREHOUSE_OPERATOR_PROFILE": PROFILE,
            "WAREHOUSE_COMPANY_BIN": self.company_bin,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def write_seed(path: Path, today: datetime.date | None = None) -> transfer_act.Party:
    """The demo act at the operator (2 boxes x 5 blocks x 10 packs, dated today so the station's date window
    finds it); its receiver is the demo company, the same as the local demo act's."""
    header, lines = transfer_act.generate_act(
        pallets=1,
        boxes_per_pallet=2,
        blocks_per_box=5,
        packs_per_block=10,
        seed=2027,
        number=DEMO_OPERATOR_ACT,
        date=today or datetime.datetime.now(datetime.UTC).date(),
    )
    transfer_act.write_json(path, header, lines)
    return header.receiver


def start(instance: Path, *, port: int = 0) -> DemoOperator:
    """Start `warehouse operator emulate` on loopback. Its database stays in the instance folder, so the act is
    seeded on the first start only: what the demo accepted stays accepted at the operator, as it would."""
    folder = instance / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    seed, db, log = folder / "act.json", folder / "emulator.sqlite3", folder / "emulator.log"
    receiver = write_seed(seed) if not db.exists() else transfer_act.read_act(seed).header.receiver
    command = [sys.executable, "-c", "from warehouse.cli import main; main()", "operator", "emulate"]
    command += ["--port", str(port), "--db", str(db), "--profile", PROFILE]
    if not db.exists():
        command += ["--seed", str(seed)]
    with log.open("w", encoding="utf-8") as errors:  # its complaints go to a file, not over the station's screen
        # S603: our own interpreter and command, paths in the instance folder as its arguments
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)  # noqa: S603
    assert process.stdout is not None
    url = process.stdout.readline().strip()  # the emulator prints its base URL once it listens
    if not url.startswith("http://"):
        process.wait(timeout=10)
        process.stdout.close()
        raise DemoOperatorError(log.read_text("utf-8").strip() or f"exit status {process.returncode}")
    return DemoOperator(process, url, receiver.bin)


def demo_signer(common_name: str = "DEMO OPERATOR LOGIN") -> Pkcs12Signer:
    """A throwaway key made in memory and never stored: the emulator checks a login's signature, not whom its
    certificate chains to; the BIN comes from WAREHOUSE_COMPANY_BIN."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return Pkcs12Signer(key, certificate)


def login(instance: Path, operator: DemoOperator) -> Session:
    """Log the station in to the demo emulator (the session file, as `warehouse operator login` keeps it)."""
    settings = operator_session.OperatorSettings(url=operator.url, profile=PROFILE, company_bin=operator.company_bin)
    return operator_session.login_with_signer(instance, settings, demo_signer())
