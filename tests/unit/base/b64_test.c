#include "base/b64.h"
#include "base/fault.h"
#include "base/mem.h"
#include "base/reason.h"
#include "tests/support/tap.h"

static int
dec_url(const char *s, unsigned char *out, size_t *n)
{
	return rvk_b64url_decode(s, strlen(s), out, n);
}

TAP_TEST(url_roundtrip)
{
	unsigned char in[64] = { 0 }, out[96];
	char enc[128];
	for (size_t n = 0; n < sizeof(in); n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(i * 37 + n);
		size_t e = rvk_b64url_encode(in, n, enc);
		TAP_CHECK_INT(e, rvk_b64url_encoded_len(n));
		size_t d = 0;
		TAP_CHECK(rvk_b64url_decode(enc, e, out, &d));
		TAP_CHECK_INT(d, n);
		TAP_CHECK(memcmp(in, out, n) == 0);
	}
}

TAP_TEST(url_rejects_bad_alphabet_and_padding)
{
	unsigned char out[16];
	size_t n;
	TAP_CHECK(!dec_url("ab+c", out, &n));
	TAP_CHECK(!dec_url("ab/c", out, &n));
	TAP_CHECK(!dec_url("abc=", out, &n));
	TAP_CHECK(!dec_url("ab c", out, &n));
	TAP_CHECK(!dec_url("a", out, &n));     /* impossible length */
	TAP_CHECK(!dec_url("QR", out, &n));    /* leftover bits non-zero */
	TAP_CHECK(dec_url("QQ", out, &n));     /* "A" */
	TAP_CHECK_INT(n, 1);
	TAP_CHECK(out[0] == 'A');
	TAP_CHECK(dec_url("", out, &n));
	TAP_CHECK_INT(n, 0);
}

TAP_TEST(std_with_padding)
{
	unsigned char out[16];
	size_t n;
	TAP_CHECK(rvk_b64_decode("aGk=", 4, out, &n));
	TAP_CHECK_INT(n, 2);
	TAP_CHECK(memcmp(out, "hi", 2) == 0);
	TAP_CHECK(!rvk_b64_decode("aGk", 3, out, &n));
	TAP_CHECK(!rvk_b64_decode("aG-=", 4, out, &n));
	char enc[16];
	rvk_b64_encode((const unsigned char *)"hi", 2, enc);
	TAP_CHECK_STR(enc, "aGk=");
}

TAP_TEST(reasons_match_spec)
{
	TAP_CHECK_STR(rvk_reason_str(RVK_REASON_TOO_LARGE), "token too large");
	TAP_CHECK_STR(rvk_reason_str(RVK_REASON_UNSUPPORTED_CRIT), "unsupported critical header");
	TAP_CHECK_STR(rvk_reason_metric(RVK_REASON_ISSUED_IN_FUTURE), "issued_in_the_future");
	TAP_CHECK_STR(rvk_reason_str(RVK_REASON_KEY_REVOKED), "key revoked");
	for (int r = 0; r < RVK_REASON_COUNT; r++) {
		const char *t = rvk_reason_str((rvk_reason_t)r);
		const char *m = rvk_reason_metric((rvk_reason_t)r);
		TAP_CHECK_INT(strlen(t), strlen(m));
	}
}

#ifdef RVK_FAULT_INJECTION
TAP_TEST(fault_fires_on_nth_call)
{
	rvk_fault_arm("alloc", 3, 1);
	void *a = rvk_trymalloc(8), *b = rvk_trymalloc(8), *c = rvk_trymalloc(8),
	     *d = rvk_trymalloc(8);
	TAP_CHECK(a && b && !c && d);
	TAP_CHECK_INT(rvk_fault_fired("alloc"), 1);
	rvk_fault_reset();
	free(a);
	free(b);
	free(d);
}
#else
TAP_TEST(fault_fires_on_nth_call)
{
	printf("# fault points compiled out (-Dfault_injection=disabled)\n");
}
#endif

int
main(void)
{
	return tap_main(TAP_LIST(url_roundtrip, url_rejects_bad_alphabet_and_padding,
	                         std_with_padding, reasons_match_spec,
	                         fault_fires_on_nth_call));
}
