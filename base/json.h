/*
 * json.h - the one way revokd decodes JSON that a peer sent.
 *
 * DESIGN: jansson turns a few bytes into far more memory: "[{},{},...]"
 * costs it ~250 bytes of heap per 3 bytes of input (an object, its hash
 * table, the array slot), so 8 concurrent 4 MiB bodies took 1.9 GB
 * (docs/SECURITY.md, "Security round 2"). rvk_json_load bounds what a
 * document can make jansson do, with one scan of its bytes (strings and
 * their escapes skipped) before jansson sees it:
 *   - nesting: deeper than RVK_JSON_MAX_DEPTH is refused (jansson's own
 *     limit, 2048, bounds only its stack);
 *   - memory: the scan counts the containers ({ and [) and the other
 *     values and keys (one per , and :) and prices them above what jansson
 *     2.14 spends on each (RVK_JSON_COST_CONTAINER, RVK_JSON_COST_ITEM, plus
 *     RVK_JSON_COST_BYTE per input byte for strings and the lexer); a
 *     document priced over RVK_JSON_MEM_FACTOR times its size plus
 *     RVK_JSON_MEM_SLACK is refused. So jansson's heap for any accepted
 *     document stays within about that multiple of its bytes.
 * Why a price and not an allocator budget (json_set_alloc_funcs failing
 * past a limit): jansson 2.14 ignores a failed allocation of its lexer's
 * buffer and then trips an assert (load.c lex_unget_unsave: the process
 * aborts); fuzz_json found it. Nothing here makes an allocation fail.
 *
 * Threads: pure; thread-safe.
 * Security: the input is untrusted. Documents revokd wrote itself
 * (cursors, after their MAC) and the configuration file use json_loadb.
 */
#ifndef RVK_BASE_JSON_H
#define RVK_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Deepest nesting of arrays and objects accepted ({"a":{}} is 2). The
 * deepest legitimate input (a SET's events/subject/user) is 5. */
#define RVK_JSON_MAX_DEPTH 32

/* Prices, in bytes of heap, measured with jansson 2.14 and glibc (each
 * allocation as the chunk malloc gives it, cumulated over the load) and
 * rounded up: an object with its hash table ~245, an array ~150; a value
 * or key with its slot, pair or hash-table share at most ~100; strings and
 * the lexer's buffer ~3 per input byte. The price was above the measured
 * heap for every shape tried (base/json_test, docs/SECURITY.md). */
#define RVK_JSON_COST_CONTAINER 256
#define RVK_JSON_COST_ITEM 128
#define RVK_JSON_COST_BYTE 4
/* A document may cost RVK_JSON_MEM_FACTOR * len + RVK_JSON_MEM_SLACK.
 * Priced this way: webhook batches of 10,000 events 16x (realistic
 * members) to 27x (the shortest events: {"type":"key.revoked","kid":"k"});
 * JOSE headers and logout payloads fit in the slack; the dense shapes
 * [{},...] 132x (jansson: 82x), [[],...] 132x (50x), [1,...] 68x (27x),
 * ["",...] 47x (34x) are refused. */
#define RVK_JSON_MEM_FACTOR 32
#define RVK_JSON_MEM_SLACK ((size_t)16 << 10)

typedef struct rvk_json_scan {
	size_t depth;           /* deepest nesting seen (the scan stops past max) */
	size_t containers;      /* { and [ outside strings */
	size_t items;           /* , and : outside strings */
} rvk_json_scan_t;

/* Scans buf[0..len): stops as soon as depth exceeds max_depth. Not a
 * validator: malformed text gets some answer, jansson judges it after. */
void rvk_json_scan(const char *buf, size_t len, size_t max_depth,
                   rvk_json_scan_t *out);

/* Returns: whether a scanned document of len bytes is within the memory
 * bound (its price at most RVK_JSON_MEM_FACTOR * len + RVK_JSON_MEM_SLACK):
 * rvk_json_load's test, for a parser that takes a document without it
 * (auth/jws.c's fast claim scanner defers when this is false). */
bool rvk_json_affordable(const rvk_json_scan_t *s, size_t len);

/*
 * Decodes buf[0..len) (need not be NUL-terminated) with jansson's flags,
 * within the depth and memory bounds above.
 * Returns: a new reference, or NULL with err filled (when err is not NULL):
 * err->text is "nesting too deep" or "document too large for its size"
 * for the two bounds, else jansson's message.
 */
json_t *rvk_json_load(const char *buf, size_t len, size_t flags,
                      json_error_t *err);

#endif
