"""The key hash of revokd's revocations table (column `kh`, its key index;
docs/ARCHITECTURE.md, "The store's key index"), for tests and benchmarks
that write rows by hand. It must equal store/db.c's rvk_db_key_hash, whose
values tests/unit/store/store_test.c pins."""
import hashlib


def key_hash(type_, iss, id_):
    """From the top: the type (4 bits); the first 16 bits of SHA-256(iss);
    the first 44 bits of SHA-256 over the type byte, the issuer's length in
    bytes (4 bytes, big-endian), the issuer and the ID."""
    i = iss.encode()
    issh = int.from_bytes(hashlib.sha256(i).digest()[:2], "big")
    d = hashlib.sha256(bytes([type_]) + len(i).to_bytes(4, "big") + i
                       + id_.encode()).digest()
    return type_ << 60 | issh << 44 | int.from_bytes(d[:8], "big") >> 20
