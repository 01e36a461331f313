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


# The reconciliation digest's hashes (store/digest.h; schema 8 keeps their
# XOR per type and bucket in the table `digest`, by triggers that call them
# as rvk_bucket, rvk_ch, rvk_vh and rvk_xor). They must equal store/digest.c's,
# whose values tests/unit/store/store_test.c pins.
FNV_SEED = 14695981039346656037
M64 = (1 << 64) - 1


def _fnv(h, data):
    for b in data:
        h = ((h ^ b) * 1099511628211) & M64
    return h


def bucket(iss, id_, buckets=64):
    """FNV-1a over iss, a NUL and id, modulo the buckets."""
    return _fnv(FNV_SEED, iss.encode() + b"\0" + id_.encode()) % buckets


def change_hash(type_, iss, id_, source):
    """FNV-1a over the type (8 bytes, little-endian), then iss, id and
    source, each after its length (4 bytes, big-endian); a final mix. As
    SQLite stores it: a signed 64-bit integer."""
    h = _fnv(FNV_SEED, (type_ & M64).to_bytes(8, "little"))
    for f in (iss, id_, source):
        b = f.encode()
        h = _fnv(h, len(b).to_bytes(4, "big") + b)
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & M64
    h ^= h >> 33
    return h - (1 << 64) if h >> 63 else h


def version_hash(type_, iss, id_, source, version, node, deleted):
    """As change_hash after a byte 'v', the node after the source (length
    first), then the version (8 bytes, little-endian) and deleted (1 byte):
    the hash of a versions row."""
    h = _fnv(_fnv(FNV_SEED, b"v"), (type_ & M64).to_bytes(8, "little"))
    for f in (iss, id_, source, node):
        b = f.encode()
        h = _fnv(h, len(b).to_bytes(4, "big") + b)
    h = _fnv(h, (version & M64).to_bytes(8, "little") + bytes([1 if deleted else 0]))
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & M64
    h ^= h >> 33
    return _signed(h)


def _signed(x):
    x &= M64
    return x - (1 << 64) if x >> 63 else x


class _Xor:
    def __init__(self):
        self.x = 0

    def step(self, v):
        if v is not None:
            self.x ^= v

    def finalize(self):
        return _signed(self.x)


def register(db, types=5):
    """Gives a sqlite3 connection the functions revokd's own connections
    have: rvk_kh (the key hash; NULL for an unknown type, as revokd's) and
    the digest's, which the triggers of schema 8 call on every insert or
    delete of a revocation row."""
    def kh(t, i, d):
        if not isinstance(t, int) or i is None or d is None or not 0 <= t < types:
            return None
        return key_hash(t, str(i), str(d))

    def ch(t, i, d, s):
        if None in (t, i, d, s):
            return None
        return change_hash(int(t), str(i), str(d), str(s))

    db.create_function("rvk_kh", 3, kh, deterministic=True)
    db.create_function("rvk_bucket", 2,
                       lambda i, d: None if i is None or d is None else bucket(str(i), str(d)),
                       deterministic=True)
    db.create_function("rvk_ch", 4, ch, deterministic=True)
    db.create_function("rvk_vh", 7,
                       lambda t, i, d, s, v, n, x: None if None in (t, i, d, s, v, n, x)
                       else version_hash(int(t), str(i), str(d), str(s), int(v), str(n), x),
                       deterministic=True)
    db.create_function("rvk_xor", 2,
                       lambda a, b: None if a is None or b is None else _signed(a ^ b),
                       deterministic=True)
    db.create_aggregate("rvk_xor", 1, _Xor)
