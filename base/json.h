/*
 * json.h - the one way revokd decodes JSON that a peer sent.
 *
 * DESIGN: jansson turns a few bytes into far more memory: "[{},{},...]"
 * costs it ~200 bytes per 3 bytes of input (an object, its hash table, the
 * array slot), so 8 concurrent 4 MiB bodies took 1.9 GB (docs/SECURITY.md,
 * "Security round 2"). rvk_json_load bounds both things a document can
 * choose:
 *   - nesting: a scan of the bytes (strings and escapes skipped) refuses a
 *     document nested deeper than RVK_JSON_MAX_DEPTH before jansson sees
 *     it (jansson's own limit, 2048, bounds only its stack);
 *   - memory: jansson allocates through this module's functions
 *     (json_set_alloc_funcs, once, before main), and during a load each
 *     thread counts what jansson allocates against a budget of
 *     RVK_JSON_MEM_FACTOR times the input's size plus RVK_JSON_MEM_SLACK.
 *     Past the budget jansson's allocation fails and the load fails ("out
 *     of memory", a 400 to the peer), so memory per request is at most
 *     that multiple of the bytes the peer sent, whatever their shape.
 *     Allocations are counted, frees are not: the bound is on everything
 *     jansson asked for during the load, a little stricter than its peak.
 * Outside rvk_json_load nothing is counted or refused (the allocation
 * functions are malloc and free).
 *
 * Threads: thread-safe; the budget is per thread.
 * Security: the input is untrusted. Documents revokd writes itself
 * (cursors, configuration) may use json_loadb directly.
 */
#ifndef RVK_BASE_JSON_H
#define RVK_BASE_JSON_H

#include <stddef.h>

#include <jansson.h>

/* Deepest nesting of arrays and objects accepted ({"a":{}} is 2). The
 * deepest legitimate input (a SET's events/subject/user) is 5. */
#define RVK_JSON_MAX_DEPTH 32
/* Budget of one load: RVK_JSON_MEM_FACTOR * len + RVK_JSON_MEM_SLACK
 * bytes of heap, each allocation counted as the chunk malloc gives it.
 * Measured with jansson 2.14 and glibc (cumulated over the load): webhook
 * batches of 10,000 events 9x (realistic members) to 18x (the shortest
 * events); a JOSE header 22x and a logout token's payload 16x, both far
 * under the slack; the dense shapes [{},...] 82x, [[],...] 50x, ["",...]
 * 34x, [1,...] 27x, all refused. */
#define RVK_JSON_MEM_FACTOR 24
#define RVK_JSON_MEM_SLACK ((size_t)16 << 10)

/*
 * Decodes buf[0..len) (need not be NUL-terminated) with jansson's flags,
 * within the depth and memory bounds above.
 * Returns: a new reference, or NULL with err filled (when err is not NULL):
 * err->text is "nesting too deep" or "document too large for its size"
 * for the two bounds, else jansson's message.
 */
json_t *rvk_json_load(const char *buf, size_t len, size_t flags,
                      json_error_t *err);

/* Returns: the depth of the deepest array or object of buf[0..len), or a
 * value above max as soon as one is found (the scan stops there). Not a
 * validator: malformed text gets some answer; jansson judges it after. */
size_t rvk_json_depth(const char *buf, size_t len, size_t max);

#endif
