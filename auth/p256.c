/*
 * p256.c - ES256 verification on a pinned P-256 key with a table of the
 * key's own multiples.
 *
 * Design: SEC 1 §4.1.4 with OpenSSL's primitives. For r, s in [1, n-1]:
 * w = s^-1 mod n, u1 = e·w, u2 = r·w, R = u1·G + u2·Q, valid iff R is not
 * the point at infinity and R.x mod n = r. e is the whole SHA-256 digest
 * (256 bits, as long as n: no truncation).
 *
 * On x86_64 and aarch64 OpenSSL's P-256 (nistz256) multiplies a group's
 * generator through a precomputed table; any other point goes through a
 * window method with 256 doublings. Here (bench/verify, docs/BENCHMARKS.md
 * "ES256: a table for the pinned key"): u1·G 5.7 µs, u2·Q 35.5 µs. The
 * table: a second EC_GROUP on the same curve whose generator is Q, with
 * EC_GROUP_precompute_mult (a ~150 KB table, ~18 ms of CPU, built on the
 * key's first verify so a key that never verifies never pays). u2·Q
 * through it costs 6.3 µs like u1·G; with the inverse of s (BN_mod_inverse,
 * 10 µs: OpenSSL's faster one for the group order is not public) an ES256
 * rvk_key_verify takes 31.9 µs against 62.9 µs for EVP_DigestVerify. On
 * P-384 and P-521, OpenSSL 3 multiplies a
 * generator with a constant-time ladder that ignores such a table (a
 * measured 2.5x slower): only P-256 takes this path.
 *
 * The equation is the one OpenSSL's own ECDSA verify computes
 * (ossl_ecdsa_simple_verify_sig); only where the multiple of Q comes from
 * differs. tests/fuzz/fuzz_es256.c compares the verdict with
 * EVP_PKEY_verify's on every input, valid signatures and altered ones.
 * Nothing here is secret (a public key, a public signature): no constant-time
 * requirement.
 */
/* EC_GROUP_precompute_mult is deprecated in OpenSSL 3 (the generator's
 * table is now automatic) but still shipped; it is the only way to have a
 * table for any other point. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "auth/p256.h"
#include "base/check.h"
#include "base/mem.h"
#include "base/pool.h"

#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_NISTZ256 1
#else
#define HAVE_NISTZ256 0
#endif

/* Per-call state: a BN_CTX (its numbers are reused from call to call) and
 * two points, from the verifier's pool (base/pool.h). */
struct scratch {
	BN_CTX *bn;
	EC_POINT *a, *b;
};

struct rvk_p256 {
	atomic_uint refs;
	EC_GROUP *curve;              /* P-256 as named; read-only */
	EC_POINT *q;                  /* the public key, on curve */
	_Atomic(EC_GROUP *) table;    /* generator Q, precomputed; NULL until
	                               * built, then only read */
	atomic_bool building;         /* one thread builds, others use EVP */
	rvk_pool_t scratch;           /* idle struct scratch */
};

static void
scratch_free(void *p)
{
	struct scratch *s = p;
	if (s == NULL)
		return;
	EC_POINT_free(s->a);
	EC_POINT_free(s->b);
	BN_CTX_free(s->bn);
	free(s);
}

static struct scratch *
scratch_take(rvk_p256_t *v)
{
	struct scratch *s = rvk_pool_take(&v->scratch);
	if (s != NULL)
		return s;
	s = rvk_calloc(1, sizeof(*s));
	s->bn = BN_CTX_new();
	s->a = EC_POINT_new(v->curve);
	s->b = EC_POINT_new(v->curve);
	if (s->bn == NULL || s->a == NULL || s->b == NULL) {
		scratch_free(s);
		return NULL;
	}
	return s;
}

rvk_p256_t *
rvk_p256_new(const EVP_PKEY *pkey)
{
	RVK_REQUIRE(pkey != NULL);
	if (!HAVE_NISTZ256)
		return NULL;
	unsigned char pub[65];
	size_t pub_len = 0;
	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pub,
	                                     sizeof(pub), &pub_len))
		return NULL;
	EC_GROUP *curve = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *q = curve ? EC_POINT_new(curve) : NULL;
	/* oct2point checks that the point is on the curve. */
	if (q == NULL || !EC_POINT_oct2point(curve, q, pub, pub_len, NULL)
	    || EC_POINT_is_at_infinity(curve, q)) {
		EC_POINT_free(q);
		EC_GROUP_free(curve);
		return NULL;
	}
	rvk_p256_t *v = rvk_calloc(1, sizeof(*v));
	atomic_init(&v->refs, 1);
	v->curve = curve;
	v->q = q;
	atomic_init(&v->table, NULL);
	atomic_init(&v->building, false);
	rvk_pool_init(&v->scratch);
	return v;
}

rvk_p256_t *
rvk_p256_ref(rvk_p256_t *v)
{
	RVK_REQUIRE(v != NULL);
	atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
	return v;
}

void
rvk_p256_unref(rvk_p256_t *v)
{
	if (v == NULL
	    || atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
		return;
	rvk_pool_fini(&v->scratch, scratch_free);
	EC_GROUP_free(atomic_load_explicit(&v->table, memory_order_acquire));
	EC_POINT_free(v->q);
	EC_GROUP_free(v->curve);
	free(v);
}

/* Returns: the group whose generator is Q, its table built, or NULL when
 * another thread is building it or OpenSSL failed (the caller uses EVP
 * this time; a failed build is tried again by a later verify). */
static const EC_GROUP *
table_of(rvk_p256_t *v, BN_CTX *bn)
{
	EC_GROUP *t = atomic_load_explicit(&v->table, memory_order_acquire);
	if (t != NULL)
		return t;
	bool idle = false;
	if (!atomic_compare_exchange_strong(&v->building, &idle, true))
		return NULL;
	t = EC_GROUP_dup(v->curve);
	if (t == NULL
	    || !EC_GROUP_set_generator(t, v->q, EC_GROUP_get0_order(v->curve),
	                               EC_GROUP_get0_cofactor(v->curve))
	    || !EC_GROUP_precompute_mult(t, bn)) {
		EC_GROUP_free(t);
		atomic_store(&v->building, false);
		return NULL;
	}
	atomic_store_explicit(&v->table, t, memory_order_release);
	return t;
}

/* Returns: 1 valid, 0 not, -1 OpenSSL failure. */
static int
verify_with(const rvk_p256_t *v, const EC_GROUP *table, struct scratch *s,
            const unsigned char digest[32], const unsigned char sig[64])
{
	const BIGNUM *n = EC_GROUP_get0_order(v->curve);
	BN_CTX_start(s->bn);
	BIGNUM *r = BN_CTX_get(s->bn), *sv = BN_CTX_get(s->bn);
	BIGNUM *w = BN_CTX_get(s->bn), *e = BN_CTX_get(s->bn);
	BIGNUM *u1 = BN_CTX_get(s->bn), *u2 = BN_CTX_get(s->bn);
	BIGNUM *x = BN_CTX_get(s->bn);
	int ok = -1;
	if (x == NULL || !BN_bin2bn(sig, 32, r) || !BN_bin2bn(sig + 32, 32, sv)
	    || !BN_bin2bn(digest, 32, e))
		goto cleanup;
	if (BN_is_zero(r) || BN_cmp(r, n) >= 0 || BN_is_zero(sv)
	    || BN_cmp(sv, n) >= 0) {
		ok = 0;
		goto cleanup;
	}
	if (!BN_mod_inverse(w, sv, n, s->bn) || !BN_mod_mul(u1, e, w, n, s->bn)
	    || !BN_mod_mul(u2, r, w, n, s->bn)
	    || !EC_POINT_mul(v->curve, s->a, u1, NULL, NULL, s->bn)
	    || !EC_POINT_mul(table, s->b, u2, NULL, NULL, s->bn)
	    || !EC_POINT_add(v->curve, s->a, s->a, s->b, s->bn))
		goto cleanup;
	if (EC_POINT_is_at_infinity(v->curve, s->a)) {
		ok = 0;
		goto cleanup;
	}
	if (!EC_POINT_get_affine_coordinates(v->curve, s->a, x, NULL, s->bn)
	    || !BN_nnmod(x, x, n, s->bn))
		goto cleanup;
	ok = BN_cmp(x, r) == 0;
cleanup:
	BN_CTX_end(s->bn);
	return ok;
}

int
rvk_p256_verify(rvk_p256_t *v, const unsigned char digest[32],
                const unsigned char sig[64])
{
	RVK_REQUIRE(v != NULL && digest != NULL && sig != NULL);
	struct scratch *s = scratch_take(v);
	if (s == NULL)
		return -1;
	const EC_GROUP *table = table_of(v, s->bn);
	int ok = table ? verify_with(v, table, s, digest, sig) : -1;
	scratch_free(rvk_pool_give(&v->scratch, s));
	return ok;
}
