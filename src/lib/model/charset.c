/*
 * charset.c - character set conversion at the edge: Chinese business systems
 * often export GB18030 (or its subsets GBK, GB2312, CP936) and everything
 * inside Custos is UTF-8.
 *
 * Conversion goes through glibc's iconv(3), always from or to GB18030, the
 * superset that maps every Unicode code point, so a file declared as GBK that
 * happens to use a GB18030 character still converts. Conversion is strict: an
 * invalid or truncated sequence stops it with the byte offset, never a
 * replacement character. UTF-8 input is validated, not converted. The output
 * buffer is a buf, so its size limit applies and it is wiped when freed.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "model/ingest.h"
#include "model/model_int.h"

typedef enum cs_kind { CS_UTF8, CS_GB18030, CS_UNKNOWN } cs_kind;

static cs_kind charset_kind(const char *name)
{
    static const char *const gb[] = {"gb18030", "gbk", "gb2312", "cp936"};
    if (name == NULL || strcasecmp(name, "utf-8") == 0 || strcasecmp(name, "utf8") == 0) {
        return CS_UTF8;
    }
    for (size_t i = 0; i < sizeof gb / sizeof gb[0]; i++) {
        if (strcasecmp(name, gb[i]) == 0) {
            return CS_GB18030;
        }
    }
    return CS_UNKNOWN;
}

static err check_utf8(slice in)
{
    size_t bad = in.len ? utf8_invalid_at(in.p, in.len) : 0;
    ENSURE(bad == in.len, ERR_INPUT, "invalid UTF-8 byte sequence at byte %zu", bad);
    return ERR_OK;
}

/* Runs in through iconv(from -> to), appending to out within its size limit. */
static err convert(const char *to, const char *from, const char *label, slice in, buf *out)
{
    TRY(buf_reserve(out, 0)); /* also settles out->limit */
    iconv_t cd = iconv_open(to, from);
    ENSURE(cd != (iconv_t)-1, ERR_INTERNAL, "charset conversion is not available");
    err rc = ERR_OK;
    char *ip = (char *)(uintptr_t)in.p; /* iconv's signature; the input is not written */
    size_t ileft = in.len;
    while (ileft > 0) {
        /* Either way a character grows at most twofold (UTF-8 2 bytes -> GB18030 4). */
        size_t room = out->limit - out->len, want = ileft * 2 + 16;
        want = want < room ? want : room;
        CHECK(want > 0, ERR_TOO_LARGE, "converted text is larger than %zu bytes", out->limit);
        GUARD(buf_reserve(out, want));
        char *op = (char *)out->p + out->len;
        size_t oleft = out->cap - out->len - 1; /* keep buf's spare byte for buf_cstr */
        size_t before = oleft;
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        int e = errno;
        out->len += before - oleft;
        if (r != (size_t)-1) {
            continue;
        }
        if (e == E2BIG) {
            CHECK(before != oleft, ERR_TOO_LARGE, "converted text is larger than %zu bytes",
                  out->limit);
            continue;
        }
        size_t at = in.len - ileft;
        CHECK(e != EILSEQ && e != EINVAL, ERR_INPUT, "invalid %s byte sequence at byte %zu", label,
              at);
        FAIL(ERR_INTERNAL, "charset conversion failed at byte %zu", at);
    }
out:
    iconv_close(cd);
    return rc;
}

err charset_to_utf8(const char *charset, slice in, buf *out)
{
    ENSURE(in.p != NULL || in.len == 0, ERR_INTERNAL, "NULL input");
    buf_reset(out);
    err rc = ERR_OK;
    switch (charset_kind(charset)) {
    case CS_UTF8:
        GUARD(check_utf8(in));
        GUARD(buf_append(out, in.p, in.len));
        break;
    case CS_GB18030:
        GUARD(convert("UTF-8", "GB18030", "GB18030", in, out));
        /* iconv's output is trusted no further than anything else */
        CHECK(utf8_invalid_at(out->p, out->len) == out->len, ERR_INTERNAL,
              "charset conversion produced invalid UTF-8");
        break;
    default:
        FAIL(ERR_INPUT, "unsupported charset (use utf-8 or gb18030)");
    }
out:
    if (rc != ERR_OK) {
        buf_reset(out);
    }
    return rc;
}

err charset_from_utf8(const char *charset, slice in, buf *out)
{
    ENSURE(in.p != NULL || in.len == 0, ERR_INTERNAL, "NULL input");
    buf_reset(out);
    err rc = ERR_OK;
    cs_kind k = charset_kind(charset);
    CHECK(k != CS_UNKNOWN, ERR_INPUT, "unsupported charset (use utf-8 or gb18030)");
    GUARD(check_utf8(in));
    if (k == CS_UTF8) {
        GUARD(buf_append(out, in.p, in.len));
    } else {
        GUARD(convert("GB18030", "UTF-8", "UTF-8", in, out));
    }
out:
    if (rc != ERR_OK) {
        buf_reset(out);
    }
    return rc;
}
