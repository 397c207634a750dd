/*
 * http_range.h - the Range request header read for one representation (RFC 9110 14.2):
 * one byte range `bytes=a-b`, `bytes=a-` or `bytes=-n` is answered 206 with that part,
 * a range that starts past the end 416, and anything else (no header, another unit,
 * several ranges, malformed text) the whole representation (200), as 14.2 allows a
 * server to ignore a Range it does not serve.
 */
#ifndef CUSTOS_HTTP_RANGE_H
#define CUSTOS_HTTP_RANGE_H

#include <stddef.h>
#include <stdint.h>

typedef enum http_range_result {
    HTTP_RANGE_WHOLE,        /* send the whole representation (200) */
    HTTP_RANGE_PART,         /* send bytes first..last, both included (206) */
    HTTP_RANGE_UNSATISFIABLE /* 416 with Content-Range: bytes * /len */
} http_range_result;

/* Reads the hlen bytes of a Range header (NULL: no header) for a representation of len
 * bytes. On HTTP_RANGE_PART, first <= last < len. Reads only the bytes given. */
http_range_result http_range_parse(const char *h, size_t hlen, uint64_t len, uint64_t *first,
                                   uint64_t *last);

#endif
