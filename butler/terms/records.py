"""Signed agreement records: every proffer, answer and agreement, chained per vendor.

Each record (butler.models.AgreementRecord) carries the SHA-256 of the previous record for the same vendor and
an Ed25519 signature over its canonical JSON, made with a key generated once and kept in the vault
(`keys/agreement-signing`). Refusals are kept too: they are evidence. `verify_chain` needs only the records and
the public key, so a vendor or a regulator can check an export without butler's vault.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from butler.models import AgreementRecord
from butler.records import Collection
from butler.terms.errors import RecordChainBroken
from butler.terms.roster import Status
from butler.terms.web import vendor_key
from butler.vault import Vault

__all__ = [
    "EXPORT_FORMAT",
    "GENESIS",
    "KEY_RECORDS",
    "RECORDS",
    "RECORDS_COLLECTION",
    "SIGNING_KEY_ID",
    "ChainReport",
    "append_record",
    "export_records",
    "pseudonym_secret",
    "public_key_b64",
    "record_hash",
    "record_vendors",
    "signing_key",
    "signing_payload",
    "vendor_records",
    "verify_chain",
    "verify_export",
    "verify_records",
]

RECORDS_COLLECTION = "agreements"
KEYS_COLLECTION = "keys"
PSEUDONYM_KEY_ID = "myterms-pseudonym"
RECORDS = Collection(RECORDS_COLLECTION, __name__, "signed MyTerms agreement records", id_scheme="<vendor>#<seq>")
KEY_RECORDS = Collection(KEYS_COLLECTION, __name__, "signing keys and pseudonym secrets", secret=True)
SIGNING_KEY_ID = "agreement-signing"
GENESIS = "0" * 64
EXPORT_FORMAT = "butler-myterms-records/1"


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signing_payload(record: AgreementRecord) -> bytes:
    """The bytes a signature covers: the record's canonical JSON without its signature."""
    return _canonical(record.model_dump(mode="json", exclude={"signature"}))


def record_hash(record: AgreementRecord) -> str:
    """SHA-256 of the whole record (signature included): what the next record names as `prev_hash`."""
    return hashlib.sha256(_canonical(record.model_dump(mode="json"))).hexdigest()


def pseudonym_secret(vault: Vault) -> bytes:
    """The secret the person's per-vendor pseudonyms are derived from, generated and stored on first use."""
    with vault.lock.exclusive():
        stored = vault.get(KEYS_COLLECTION, PSEUDONYM_KEY_ID)
        if stored is None:
            stored = vault.put(KEYS_COLLECTION, PSEUDONYM_KEY_ID, {"secret": secrets.token_hex(32)})
    return bytes.fromhex(stored.data["secret"])


def signing_key(vault: Vault) -> Ed25519PrivateKey:
    """The person's agreement-signing key, generated and stored in the vault on first use."""
    with vault.lock.exclusive():
        stored = vault.get(KEYS_COLLECTION, SIGNING_KEY_ID)
        if stored is not None:
            return Ed25519PrivateKey.from_private_bytes(base64.b64decode(stored.data["private"]))
        key = Ed25519PrivateKey.generate()
        vault.put(KEYS_COLLECTION, SIGNING_KEY_ID, {
            "algorithm": "Ed25519",
            "private": base64.b64encode(key.private_bytes_raw()).decode(),
            "public": base64.b64encode(key.public_key().public_bytes_raw()).decode(),
            "created": dt.datetime.now(dt.UTC).isoformat(),
        })
        vault.audit.append("terms.key", SIGNING_KEY_ID, {"public": public_key_b64(key.public_key())})
        return key


def public_key_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes_raw()).decode()


def record_vendors(vault: Vault) -> list[str]:
    """The vendors (as keyed) butler holds agreement records for, sorted."""
    return sorted({record_id.split("#", 1)[0] for record_id in vault.ids(RECORDS_COLLECTION)})


def read_chain(vault: Vault, collection: str, key: str, *,
               unreadable: Callable[[str], Exception]) -> list[AgreementRecord]:
    """The records `<key>#<seq>` of one signed chain in `collection`, in order, as stored (unverified: see
    `verify_chain`). A record that does not read raises `unreadable(message)`."""
    out = []
    for record_id in sorted(i for i in vault.ids(collection) if i.startswith(key + "#")):
        stored = vault.get(collection, record_id)
        if stored is None:
            continue
        try:
            out.append(AgreementRecord.model_validate(stored.data))
        except ValidationError:
            raise unreadable(f"record {record_id} is unreadable") from None
    return out


def append_to_chain(vault: Vault, collection: str, key: str, *, width: int,
                    unreadable: Callable[[str], Exception], **fields: Any) -> AgreementRecord:
    """Sign and store the next record of chain `key` in `collection` (its id `<key>#<seq>`, `seq` zero-padded to
    `width`): `fields` are the record's own (term_id, counterparty, status, at, place, details); its place in the
    chain and the link to the one before are filled in here. The caller notes it in the audit log."""
    signer = signing_key(vault)
    with vault.lock.exclusive():
        chain = read_chain(vault, collection, key, unreadable=unreadable)
        unsigned = AgreementRecord(seq=len(chain), prev_hash=record_hash(chain[-1]) if chain else GENESIS, **fields)
        signature = base64.b64encode(signer.sign(signing_payload(unsigned))).decode()
        record = unsigned.model_copy(update={"signature": signature})
        vault.put(collection, f"{key}#{record.seq:0{width}d}", record.model_dump(mode="json"), expected_version=0)
    return record


def _unreadable(why: str) -> RecordChainBroken:
    return RecordChainBroken(f"agreement {why}")


def vendor_records(vault: Vault, vendor: str) -> list[AgreementRecord]:
    """A vendor's records in order, as stored (unverified: use `verify_records` to check them)."""
    return read_chain(vault, RECORDS_COLLECTION, vendor_key(vendor), unreadable=_unreadable)


def append_record(vault: Vault, vendor: str, *, term_id: str, status: Status, place: str,
                  details: dict[str, Any] | None = None, at: dt.datetime | None = None) -> AgreementRecord:
    """Sign and store the next record in `vendor`'s chain, and note it in the audit log."""
    vendor = vendor_key(vendor)
    record = append_to_chain(vault, RECORDS_COLLECTION, vendor, width=8, unreadable=_unreadable,
                             term_id=term_id, counterparty=vendor, status=status.value,
                             at=at or dt.datetime.now(dt.UTC), place=place, details=details or {})
    vault.audit.append(f"terms.{_action(status)}", vendor,
                       {"seq": record.seq, "term_id": term_id, "status": status.value, "hash": record_hash(record)})
    return record


def _action(status: Status) -> str:
    return {
        Status.REQUESTED: "proffer",
        Status.COUNTER_OFFER_MADE: "counter-offer",
        Status.CONFIRMATION_REQUIRED: "confirmation-required",
        Status.ACCEPTED: "accepted",
        Status.REFUSED: "refused",
        Status.INVALID: "invalid",
    }.get(status, "record")


@dataclass(frozen=True)
class ChainReport:
    """The result of checking a chain: how many records, the head hash, and every problem found."""

    vendor: str
    records: int
    head: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            raise RecordChainBroken(f"agreement records for {self.vendor} do not verify: {self.problems[0]}"
                                    + (f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""))


def verify_chain(vendor: str, records: Sequence[AgreementRecord], public_key: Ed25519PublicKey) -> ChainReport:
    """Check order, links and signatures of one vendor's records with the public key alone."""
    problems: list[str] = []
    head = GENESIS
    for index, record in enumerate(records):
        if record.seq != index:
            problems.append(f"record {index} is numbered {record.seq} (a record was removed or reordered)")
        if record.counterparty != vendor:
            problems.append(f"record {index} names another counterparty ({record.counterparty})")
        if record.prev_hash != head:
            problems.append(f"record {index} does not follow record {index - 1} (chain broken)")
        try:
            if record.signature is None:
                raise InvalidSignature
            public_key.verify(base64.b64decode(record.signature, validate=True), signing_payload(record))
        except (InvalidSignature, ValueError):
            problems.append(f"record {index} ({record.status}, {record.term_id}) has no valid signature "
                            "(it was altered)")
        head = record_hash(record)
    return ChainReport(vendor, len(records), head, problems)


def verify_records(vault: Vault, vendor: str) -> ChainReport:
    """Check the stored records for `vendor` (name or URL): signatures, order and hash links."""
    key = vendor_key(vendor)
    try:
        records = vendor_records(vault, key)
    except RecordChainBroken as exc:
        return ChainReport(key, 0, GENESIS, [exc.message])
    return verify_chain(key, records, signing_key(vault).public_key())


def export_records(vault: Vault, vendor: str) -> dict[str, Any]:
    """A vendor's chain as a self-contained JSON document: the records, the head hash and the public key."""
    key = vendor_key(vendor)
    records = vendor_records(vault, key)
    public = signing_key(vault).public_key()
    report = verify_chain(key, records, public)
    vault.audit.append("terms.export", key, {"records": len(records), "head": report.head})
    return {
        "format": EXPORT_FORMAT,
        "vendor": key,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "public_key": {"algorithm": "Ed25519", "encoding": "base64-raw", "key": public_key_b64(public)},
        "signature_covers": "canonical JSON (sorted keys, no spaces, UTF-8) of the record without 'signature'",
        "hash": "SHA-256 of the canonical JSON of the whole record; each record names its predecessor's",
        "head": report.head,
        "verified": report.ok,
        "records": [r.model_dump(mode="json") for r in records],
    }


def verify_export(document: dict[str, Any]) -> ChainReport:
    """Check an exported document with nothing but what it contains."""
    try:
        if document.get("format") != EXPORT_FORMAT:
            raise ValueError("unknown format")
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(document["public_key"]["key"], validate=True))
        records = [AgreementRecord.model_validate(r) for r in _list(document["records"])]
        vendor = str(document["vendor"])
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        return ChainReport(str(document.get("vendor", "?")), 0, GENESIS, [f"not a records export: {exc}"])
    report = verify_chain(vendor, records, public)
    if document.get("head") != report.head:
        report.problems.append("the export's head hash does not match its last record (records were removed)")
    return report


def _list(value: Any) -> Iterable[Any]:
    if not isinstance(value, list):
        raise TypeError("records must be a list")
    return value
