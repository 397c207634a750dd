/*
 * etag.h - a customer's row version as an HTTP entity tag, and the If-Match header
 * read back (RFC 9110 8.8.3 and 13.1.1). The tag is strong and carries only the
 * version number: "12". If-Match compares strongly, so a weak tag never matches.
 */
#ifndef CUSTOS_ETAG_H
#define CUSTOS_ETAG_H

#include <stddef.h>
#include <stdint.h>

#define ETAG_MAX 24
/* What etag_if_match answers for a header that can match no version (412). */
#define ETAG_NONE UINT64_MAX

/* Writes "<version>" (quotes included, NUL-terminated) into out. */
void etag_format(uint64_t version, char out[ETAG_MAX]);
/* The version an If-Match header of len bytes names: 0 when there is no header (NULL) or it
 * is "*" (any current version), the number of one strong tag "N" (N >= 1), ETAG_NONE for
 * anything else (weak tags, lists, malformed text). Reads only the len bytes given. */
uint64_t etag_if_match(const char *header, size_t len);

#endif
