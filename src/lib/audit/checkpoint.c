/*
 * checkpoint.c - signed checkpoints (see checkpoint.h). The parser is strict
 * and bounded: it reads the note through a cursor, never past its end, and
 * refuses anything that is not exactly the format.
 */
#include "audit/checkpoint.h"

#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"

static const char EM_DASH[] = "\xe2\x80\x94 ";

static bool name_ok(const char *name, size_t n)
{
    if (n == 0 || n > 200) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c >= 0x7f || c == '+') {
            return false;
        }
    }
    return true;
}

static void key_hash(const char *name, const uint8_t pk[32], uint8_t out[4])
{
    uint8_t buf_[256 + 34], h[32];
    size_t n = strlen(name);
    memcpy(buf_, name, n);
    buf_[n] = '\n';
    buf_[n + 1] = 0x01;
    memcpy(buf_ + n + 2, pk, 32);
    hash_sha256(buf_, n + 34, h);
    memcpy(out, h, 4);
}

err checkpoint_sign(const checkpoint *c, const char *key_name, const uint8_t pk[32],
                    checkpoint_signer sign, void *ctx, buf *note)
{
    ENSURE(name_ok(key_name, strlen(key_name)), ERR_INPUT, "checkpoint: bad key name");
    ENSURE(c->origin[0] && !memchr(c->origin, '\n', strlen(c->origin)), ERR_INPUT,
           "checkpoint: bad origin");
    char root64[B64_LEN(32)];
    b64_encode(root64, sizeof root64, c->root, 32);
    buf_reset(note);
    TRY(buf_appendf(note, "%s\n%llu\n%s\n", c->origin, (unsigned long long)c->size, root64));
    uint8_t sig[68];
    key_hash(key_name, pk, sig);
    sign(ctx, buf_slice(note), sig + 4);
    char sig64[B64_LEN(68)];
    b64_encode(sig64, sizeof sig64, sig, sizeof sig);
    return buf_appendf(note, "\n%s%s %s\n", EM_DASH, key_name, sig64);
}

/* Next line (without its '\n'); ERR_INPUT when the text ends without one. */
static err next_line(cursor *c, slice *line, size_t lineno)
{
    size_t start = c->pos;
    while (c->pos < c->len && c->p[c->pos] != '\n') {
        c->pos++;
    }
    ENSURE(c->pos < c->len, ERR_INPUT, "checkpoint: line %zu does not end with a newline",
           lineno);
    *line = slice_of(c->p + start, c->pos - start);
    c->pos++;
    return ERR_OK;
}

static err parse_body(slice note, checkpoint *out, size_t *body_len, size_t *sigs_at)
{
    memset(out, 0, sizeof *out);
    ENSURE(note.len > 0 && note.len <= CHECKPOINT_MAX_NOTE, ERR_INPUT,
           "checkpoint: empty or too large");
    for (size_t i = 0; i < note.len; i++) {
        ENSURE(note.p[i] == '\n' || (note.p[i] >= 0x20 && note.p[i] != 0x7f) || note.p[i] >= 0x80,
               ERR_INPUT, "checkpoint: control character at byte %zu", i);
    }
    cursor c = cursor_of(note);
    slice origin, size, root, ext;
    TRY(next_line(&c, &origin, 1));
    ENSURE(origin.len > 0 && origin.len < sizeof out->origin, ERR_INPUT,
           "checkpoint: line 1 (origin) is empty or too long");
    memcpy(out->origin, origin.p, origin.len);
    TRY(next_line(&c, &size, 2));
    ENSURE(size.len > 0 && size.len <= 20 && (size.len == 1 || size.p[0] != '0'), ERR_INPUT,
           "checkpoint: line 2 must be the tree size in decimal");
    uint64_t v = 0;
    for (size_t i = 0; i < size.len; i++) {
        ENSURE(size.p[i] >= '0' && size.p[i] <= '9', ERR_INPUT,
               "checkpoint: line 2 must be the tree size in decimal");
        ENSURE(v <= (UINT64_MAX - (uint64_t)(size.p[i] - '0')) / 10, ERR_INPUT,
               "checkpoint: line 2 is too large");
        v = v * 10 + (uint64_t)(size.p[i] - '0');
    }
    out->size = v;
    TRY(next_line(&c, &root, 3));
    size_t n = 0;
    ENSURE(root.len == 44 && b64_decode(out->root, 32, &n, (const char *)root.p, root.len) == ERR_OK &&
               n == 32,
           ERR_INPUT, "checkpoint: line 3 must be a base64 SHA-256 hash");
    /* optional extension lines, then the blank line that ends the body */
    for (size_t lineno = 4;; lineno++) {
        TRY(next_line(&c, &ext, lineno));
        if (ext.len == 0) {
            break;
        }
        ENSURE(lineno < 100, ERR_INPUT, "checkpoint: too many extension lines");
    }
    *body_len = c.pos - 1;
    *sigs_at = c.pos;
    ENSURE(c.pos < c.len, ERR_INPUT, "checkpoint: no signature lines");
    return ERR_OK;
}

err checkpoint_parse(slice note, checkpoint *out)
{
    size_t body, sigs;
    return parse_body(note, out, &body, &sigs);
}

err checkpoint_open(slice note, const char *key_name, const uint8_t pk[32], checkpoint *out)
{
    size_t body, sigs;
    TRY(parse_body(note, out, &body, &sigs));
    uint8_t want[4];
    key_hash(key_name, pk, want);
    size_t klen = strlen(key_name);
    cursor c = cursor_of(note);
    c.pos = sigs;
    bool verified = false;
    for (size_t k = 0; c.pos < c.len; k++) {
        ENSURE(k < 100, ERR_INPUT, "checkpoint: too many signatures");
        slice line;
        TRY(next_line(&c, &line, 0));
        ENSURE(line.len > 4 && memcmp(line.p, EM_DASH, 4) == 0, ERR_INPUT,
               "checkpoint: a signature line must start with an em dash and a space");
        const uint8_t *sp = memchr(line.p + 4, ' ', line.len - 4);
        ENSURE(sp != NULL, ERR_INPUT, "checkpoint: a signature line lacks its signature");
        size_t nlen = (size_t)(sp - (line.p + 4));
        ENSURE(name_ok((const char *)line.p + 4, nlen), ERR_INPUT,
               "checkpoint: bad key name in a signature line");
        const char *b64 = (const char *)sp + 1;
        size_t b64n = line.len - 4 - nlen - 1;
        uint8_t raw[512];
        size_t rn = 0;
        ENSURE(b64n > 0 && b64n < 700 && b64_decode(raw, sizeof raw, &rn, b64, b64n) == ERR_OK &&
                   rn >= 5,
               ERR_INPUT, "checkpoint: a signature is not valid base64");
        if (nlen == klen && memcmp(line.p + 4, key_name, klen) == 0 && rn == 68 &&
            memcmp(raw, want, 4) == 0 && ed25519_verify(pk, slice_of(note.p, body), raw + 4)) {
            verified = true;
        }
    }
    ENSURE(verified, ERR_CRYPTO, "checkpoint: no valid signature by %s", key_name);
    return ERR_OK;
}

err checkpoint_vkey(const char *key_name, const uint8_t pk[32], buf *out)
{
    ENSURE(name_ok(key_name, strlen(key_name)), ERR_INPUT, "checkpoint: bad key name");
    uint8_t h[4], k[33];
    key_hash(key_name, pk, h);
    k[0] = 0x01;
    memcpy(k + 1, pk, 32);
    char hex[HEX_LEN(4)], b64[B64_LEN(33)];
    hex_encode(hex, h, 4);
    b64_encode(b64, sizeof b64, k, sizeof k);
    buf_reset(out);
    return buf_appendf(out, "%s+%s+%s", key_name, hex, b64);
}

err checkpoint_parse_vkey(const char *vkey, char *name_out, size_t name_max, uint8_t pk[32])
{
    const char *p1 = strchr(vkey, '+');
    ENSURE(p1 != NULL, ERR_INPUT, "vkey: expected name+hash+key");
    const char *p2 = strchr(p1 + 1, '+');
    ENSURE(p2 != NULL && p2 - p1 == 9, ERR_INPUT, "vkey: expected name+hash+key");
    size_t nlen = (size_t)(p1 - vkey);
    ENSURE(name_ok(vkey, nlen) && nlen < name_max, ERR_INPUT, "vkey: bad key name");
    uint8_t h[4], want[4], k[64];
    size_t n = 0;
    ENSURE(hex_decode(h, 4, &n, p1 + 1, 8) == ERR_OK && n == 4, ERR_INPUT, "vkey: bad key hash");
    ENSURE(b64_decode(k, sizeof k, &n, p2 + 1, strlen(p2 + 1)) == ERR_OK && n == 33 &&
               k[0] == 0x01,
           ERR_INPUT, "vkey: not an Ed25519 key");
    memcpy(name_out, vkey, nlen);
    name_out[nlen] = '\0';
    memcpy(pk, k + 1, 32);
    key_hash(name_out, pk, want);
    ENSURE(memcmp(h, want, 4) == 0, ERR_INPUT, "vkey: the key hash does not match");
    return ERR_OK;
}
