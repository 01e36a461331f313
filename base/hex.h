/*
 * hex.h - one hexadecimal digit, for the percent-decoders (form bodies,
 * Redis URLs).
 *
 * Threads: pure.
 */
#ifndef RVK_BASE_HEX_H
#define RVK_BASE_HEX_H

/* Returns: the value of c (0-15), or -1 when c is not a hex digit. */
static inline int
rvk_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
