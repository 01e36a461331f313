"""The key hash of revokd's revocations table (column `kh`, its key index;
docs/ARCHITECTURE.md, "The store's key index"), for tests and benchmarks
that write rows by hand. It must equal store/db.c's rvk_db_key_hash, whose
values tests/unit/store/store_test.c pins."""
import hashlib


def key_hash(type_, iss, id_):
    """SHA-256 over the type byte, the issuer's length in bytes (4 bytes,
    big-endian), the issuer and the ID; its first 8 bytes big-endian,
    shifted right by 4, under the type in the top 4 bits."""
    i = iss.encode()
    d = hashlib.sha256(bytes([type_]) + len(i).to_bytes(4, "big") + i
                       + id_.encode()).digest()
    return type_ << 60 | int.from_bytes(d[:8], "big") >> 4
