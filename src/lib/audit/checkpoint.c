/*
 * checkpoint.c - signed checkpoints (see checkpoint.h and docs/FORMATS-audit-tree.md).
 *
 * The parser is strict and bounded: the whole note is checked first (size, UTF-8, no control
 * characters, final newline), then split at its last blank line into the signed text and the
 * signature block, and each part is read line by line through a cursor, never past its end.
 * Anything that is not exactly the format is refused with ERR_INPUT naming the line; only a
 * well-formed note reaches signature verification, and a signature line by the trusted key
 * that does not verify fails the whole note (ERR_CRYPTO), as in Go's note package.
 */
#include "audit/checkpoint.h"
#include "core/utf8.h"

#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"

/* U+2014 EM DASH and a space: the start of every signature line. */
static const uint8_t EM_DASH[4] = {0xe2, 0x80, 0x94, ' '};
#define ED25519_ALG 0x01
#define MAX_SIG_RAW 4096 /* decoded bytes of one signature line, any algorithm */

static bool name_ok(const uint8_t *name, size_t n)
{
    if (n == 0 || n > CHECKPOINT_MAX_NAME) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (name[i] <= 0x20 || name[i] >= 0x7f || name[i] == '+') {
            return false;
        }
    }
    return true;
}

/* Only the base64 alphabet and '=': libsodium 1.0.18's decoder reads some bytes >= 0x80 as
 * alphabet characters (a sign-extension quirk), which would make encodings malleable. */
static bool b64_alphabet(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=')) {
            return false;
        }
    }
    return true;
}

/* A key name given by the caller (a C string from configuration), measured without reading
 * past CHECKPOINT_MAX_NAME + 1 bytes. */
static err name_arg(const char *key_name, size_t *len)
{
    ENSURE(key_name != NULL, ERR_INPUT, "checkpoint: no key name");
    *len = strnlen(key_name, CHECKPOINT_MAX_NAME + 1);
    ENSURE(name_ok((const uint8_t *)key_name, *len), ERR_INPUT,
           "checkpoint: a key name is 1..%d printable ASCII characters without spaces or '+'",
           CHECKPOINT_MAX_NAME);
    return ERR_OK;
}

/* SHA-256(name || "\n" || 0x01 || pk)[0:4], the key hash of an Ed25519 key. */
static void key_hash(const uint8_t *name, size_t n, const uint8_t pk[32], uint8_t out[4])
{
    uint8_t b[CHECKPOINT_MAX_NAME + 34], h[32];
    memcpy(b, name, n);
    b[n] = '\n';
    b[n + 1] = ED25519_ALG;
    memcpy(b + n + 2, pk, 32);
    hash_sha256(b, n + 34, h);
    memcpy(out, h, 4);
}

/* UTF-8 without control characters (C0 other than '\n', and DEL); names the line. */
static err check_text(slice t)
{
    size_t line = 1;
    for (size_t i = 0; i < t.len;) {
        uint8_t c = t.p[i];
        ENSURE(c == '\n' || (c >= 0x20 && c != 0x7f), ERR_INPUT,
               "checkpoint: line %zu holds a control character", line);
        size_t n = utf8_seq_len(t.p + i, t.len - i, NULL);
        ENSURE(n > 0, ERR_INPUT, "checkpoint: line %zu is not valid UTF-8", line);
        line += c == '\n';
        i += n;
    }
    return ERR_OK;
}

/* The next line without its '\n' (every line ends with one: checked before). */
static slice next_line(cursor *c)
{
    size_t start = c->pos;
    const uint8_t *nl = memchr(c->p + start, '\n', c->len - start);
    size_t end = nl ? (size_t)(nl - c->p) : c->len;
    c->pos = nl ? end + 1 : end;
    return slice_of(c->p + start, end - start);
}

/* Checks the note as a whole and splits it at its last blank line: text (ending in '\n') and
 * the signature block (non-empty, ending in '\n'). *sig_line is the first signature line's
 * number. */
static err split(slice note, slice *text, slice *sigs, size_t *sig_line)
{
    ENSURE(note.len > 0 && note.len <= CHECKPOINT_MAX_NOTE, ERR_INPUT,
           "checkpoint: a note is 1..%d bytes", CHECKPOINT_MAX_NOTE);
    TRY(check_text(note));
    ENSURE(note.p[note.len - 1] == '\n', ERR_INPUT,
           "checkpoint: the last line does not end with a newline");
    size_t i = note.len - 1;
    while (i > 0 && !(note.p[i - 1] == '\n' && note.p[i] == '\n')) {
        i--;
    }
    ENSURE(i > 0, ERR_INPUT, "checkpoint: no blank line between the text and the signatures");
    /* note.p[i - 1] ends the text, note.p[i] is the blank line */
    *text = slice_of(note.p, i);
    *sigs = slice_of(note.p + i + 1, note.len - i - 1);
    size_t lines = 0;
    for (size_t j = 0; j < i; j++) {
        lines += note.p[j] == '\n';
    }
    *sig_line = lines + 2;
    ENSURE(sigs->len > 0, ERR_INPUT, "checkpoint: line %zu: no signature lines", *sig_line);
    return ERR_OK;
}

/* Reads every signature line (form, count, no repeated key), and with a key verifies the
 * lines by that key: *verified tells whether one did; a line by that key that does not
 * verify is ERR_CRYPTO. */
static err sig_lines(slice text, slice sigs, size_t lineno, const uint8_t *key_name, size_t klen,
                     const uint8_t *pk, bool *verified)
{
    struct {
        slice name;
        uint8_t hash[4];
    } seen[CHECKPOINT_MAX_SIGS];
    size_t nseen = 0;
    uint8_t want[4] = {0};
    if (pk) {
        key_hash(key_name, klen, pk, want);
    }
    *verified = false;
    cursor c = cursor_of(sigs);
    for (; cursor_left(&c) > 0; lineno++) {
        slice line = next_line(&c);
        ENSURE(nseen < CHECKPOINT_MAX_SIGS, ERR_INPUT,
               "checkpoint: line %zu: more than %d signatures", lineno, CHECKPOINT_MAX_SIGS);
        ENSURE(line.len > sizeof EM_DASH && memcmp(line.p, EM_DASH, sizeof EM_DASH) == 0, ERR_INPUT,
               "checkpoint: line %zu must start with an em dash (U+2014) and a space", lineno);
        slice rest = slice_of(line.p + sizeof EM_DASH, line.len - sizeof EM_DASH);
        const uint8_t *sp = memchr(rest.p, ' ', rest.len);
        ENSURE(sp != NULL, ERR_INPUT, "checkpoint: line %zu: expected a key name and a signature",
               lineno);
        slice name = slice_of(rest.p, (size_t)(sp - rest.p));
        slice b64 = slice_of(sp + 1, rest.len - name.len - 1);
        ENSURE(name_ok(name.p, name.len), ERR_INPUT, "checkpoint: line %zu: bad key name", lineno);
        uint8_t raw[MAX_SIG_RAW];
        size_t rn = 0;
        ENSURE(b64.len > 0 && b64.len <= B64_LEN(MAX_SIG_RAW) && b64_alphabet(b64.p, b64.len) &&
                   b64_decode(raw, sizeof raw, &rn, (const char *)b64.p, b64.len) == ERR_OK &&
                   rn >= 5,
               ERR_INPUT, "checkpoint: line %zu: the signature is not base64 of at least 5 bytes",
               lineno);
        for (size_t k = 0; k < nseen; k++) {
            ENSURE(seen[k].name.len != name.len || memcmp(seen[k].name.p, name.p, name.len) != 0 ||
                       memcmp(seen[k].hash, raw, 4) != 0,
                   ERR_INPUT, "checkpoint: line %zu repeats a key's signature", lineno);
        }
        seen[nseen].name = name;
        memcpy(seen[nseen].hash, raw, 4);
        nseen++;
        if (pk && name.len == klen && memcmp(name.p, key_name, klen) == 0 &&
            memcmp(raw, want, 4) == 0) {
            ENSURE(rn == 4 + 64 && ed25519_verify(pk, text, raw + 4), ERR_CRYPTO,
                   "checkpoint: line %zu: the signature does not verify", lineno);
            *verified = true;
        }
    }
    return ERR_OK;
}

/* The checkpoint body: origin, size, root hash, then non-empty extension lines. */
static err parse_body(slice text, checkpoint *out)
{
    memset(out, 0, sizeof *out);
    cursor c = cursor_of(text);
    slice origin = next_line(&c);
    ENSURE(origin.len > 0 && origin.len < sizeof out->origin, ERR_INPUT,
           "checkpoint: line 1 (origin) must be 1..%zu bytes", sizeof out->origin - 1);
    ENSURE(cursor_left(&c) > 0, ERR_INPUT, "checkpoint: line 2 (tree size) is missing");
    slice size = next_line(&c);
    ENSURE(size.len > 0 && size.len <= 20 && (size.len == 1 || size.p[0] != '0'), ERR_INPUT,
           "checkpoint: line 2 must be the tree size in decimal without leading zeros");
    uint64_t v = 0;
    for (size_t i = 0; i < size.len; i++) {
        uint8_t d = size.p[i];
        ENSURE(d >= '0' && d <= '9', ERR_INPUT,
               "checkpoint: line 2 must be the tree size in decimal without leading zeros");
        ENSURE(v <= (UINT64_MAX - (uint64_t)(d - '0')) / 10, ERR_INPUT,
               "checkpoint: line 2: the tree size is too large");
        v = v * 10 + (uint64_t)(d - '0');
    }
    ENSURE(cursor_left(&c) > 0, ERR_INPUT, "checkpoint: line 3 (root hash) is missing");
    slice root = next_line(&c);
    size_t n = 0;
    ENSURE(root.len == B64_LEN(32) - 1 && b64_alphabet(root.p, root.len) &&
               b64_decode(out->root, sizeof out->root, &n, (const char *)root.p, root.len) ==
                   ERR_OK &&
               n == 32,
           ERR_INPUT, "checkpoint: line 3 must be the base64 root hash (32 bytes)");
    for (size_t lineno = 4; cursor_left(&c) > 0; lineno++) {
        ENSURE(next_line(&c).len > 0, ERR_INPUT, "checkpoint: line %zu is empty", lineno);
    }
    memcpy(out->origin, origin.p, origin.len);
    out->size = v;
    return ERR_OK;
}

err checkpoint_parse(slice note, checkpoint *out)
{
    slice text, sigs;
    size_t sig_line;
    bool unused;
    memset(out, 0, sizeof *out);
    TRY(split(note, &text, &sigs, &sig_line));
    TRY(parse_body(text, out));
    err rc = sig_lines(text, sigs, sig_line, NULL, 0, NULL, &unused);
    if (rc != ERR_OK) {
        memset(out, 0, sizeof *out);
    }
    return rc;
}

err checkpoint_note_open(slice note, const char *key_name, const uint8_t pk[32], slice *text)
{
    slice t, sigs;
    size_t klen, sig_line;
    bool verified;
    TRY(name_arg(key_name, &klen));
    TRY(split(note, &t, &sigs, &sig_line));
    TRY(sig_lines(t, sigs, sig_line, (const uint8_t *)key_name, klen, pk, &verified));
    ENSURE(verified, ERR_CRYPTO, "checkpoint: no signature by the trusted key");
    *text = t;
    return ERR_OK;
}

err checkpoint_open(slice note, const char *key_name, const uint8_t pk[32], checkpoint *out)
{
    slice text, sigs;
    size_t klen, sig_line;
    bool verified;
    checkpoint c;
    memset(out, 0, sizeof *out);
    TRY(name_arg(key_name, &klen));
    TRY(split(note, &text, &sigs, &sig_line));
    TRY(parse_body(text, &c));
    TRY(sig_lines(text, sigs, sig_line, (const uint8_t *)key_name, klen, pk, &verified));
    ENSURE(verified, ERR_CRYPTO, "checkpoint: no signature by the trusted key");
    *out = c;
    return ERR_OK;
}

/* Appends "\n— <name> <base64(key hash || signature over the first text_len bytes)>\n". */
static err append_signature(buf *note, size_t text_len, const char *key_name, size_t klen,
                            const uint8_t pk[32], checkpoint_signer sign, void *ctx)
{
    uint8_t sig[4 + 64];
    char sig64[B64_LEN(sizeof sig)];
    key_hash((const uint8_t *)key_name, klen, pk, sig);
    sign(ctx, slice_of(note->p, text_len), sig + 4);
    b64_encode(sig64, sizeof sig64, sig, sizeof sig);
    TRY(buf_append_byte(note, '\n'));
    TRY(buf_append(note, EM_DASH, sizeof EM_DASH));
    TRY(buf_append(note, key_name, klen));
    TRY(buf_append_byte(note, ' '));
    TRY(buf_append_str(note, sig64));
    TRY(buf_append_byte(note, '\n'));
    ENSURE(note->len <= CHECKPOINT_MAX_NOTE, ERR_TOO_LARGE, "checkpoint: the note is too large");
    return ERR_OK;
}

err checkpoint_note_sign(slice text, const char *key_name, const uint8_t pk[32],
                         checkpoint_signer sign, void *ctx, buf *note)
{
    size_t klen;
    TRY(name_arg(key_name, &klen));
    ENSURE(text.len > 0 && text.len < CHECKPOINT_MAX_NOTE && text.p[text.len - 1] == '\n',
           ERR_INPUT, "checkpoint: a note's text is non-empty and ends with a newline");
    TRY(check_text(text));
    buf_reset(note);
    TRY(buf_append(note, text.p, text.len));
    return append_signature(note, text.len, key_name, klen, pk, sign, ctx);
}

err checkpoint_sign(const checkpoint *c, const char *key_name, const uint8_t pk[32],
                    checkpoint_signer sign, void *ctx, buf *note)
{
    size_t klen;
    TRY(name_arg(key_name, &klen));
    size_t olen = strnlen(c->origin, sizeof c->origin);
    ENSURE(olen > 0 && olen < sizeof c->origin && memchr(c->origin, '\n', olen) == NULL &&
               check_text(slice_of(c->origin, olen)) == ERR_OK,
           ERR_INPUT, "checkpoint: the origin must be 1..255 bytes of UTF-8 on one line");
    char root64[B64_LEN(32)];
    b64_encode(root64, sizeof root64, c->root, sizeof c->root);
    buf_reset(note);
    TRY(buf_append(note, c->origin, olen));
    TRY(buf_appendf(note, "\n%llu\n%s\n", (unsigned long long)c->size, root64));
    return append_signature(note, note->len, key_name, klen, pk, sign, ctx);
}

err checkpoint_vkey(const char *key_name, const uint8_t pk[32], buf *out)
{
    size_t klen;
    TRY(name_arg(key_name, &klen));
    uint8_t h[4], k[33];
    key_hash((const uint8_t *)key_name, klen, pk, h);
    k[0] = ED25519_ALG;
    memcpy(k + 1, pk, 32);
    char hex[HEX_LEN(4)], b64[B64_LEN(33)];
    hex_encode(hex, h, sizeof h);
    b64_encode(b64, sizeof b64, k, sizeof k);
    buf_reset(out);
    TRY(buf_append(out, key_name, klen));
    return buf_appendf(out, "+%s+%s", hex, b64);
}

err checkpoint_parse_vkey(const char *vkey, char *name_out, size_t name_max, uint8_t pk[32])
{
    ENSURE(vkey != NULL, ERR_INPUT, "vkey: missing");
    size_t len = strnlen(vkey, 1024);
    ENSURE(len < 1024, ERR_INPUT, "vkey: too long");
    const uint8_t *p = (const uint8_t *)vkey;
    const uint8_t *p1 = memchr(p, '+', len);
    ENSURE(p1 != NULL, ERR_INPUT, "vkey: expected name+hash+key");
    size_t nlen = (size_t)(p1 - p);
    ENSURE(name_ok(p, nlen), ERR_INPUT, "vkey: bad key name");
    ENSURE(nlen < name_max, ERR_INPUT, "vkey: the key name is too long");
    size_t left = len - nlen - 1;
    ENSURE(left > 9 && p1[9] == '+', ERR_INPUT, "vkey: expected name+hash+key");
    uint8_t h[4], want[4], k[64];
    size_t n = 0;
    for (size_t i = 1; i <= 8; i++) {
        ENSURE((p1[i] >= '0' && p1[i] <= '9') || (p1[i] >= 'a' && p1[i] <= 'f'), ERR_INPUT,
               "vkey: the key hash is 8 lowercase hex digits");
    }
    ENSURE(hex_decode(h, sizeof h, &n, (const char *)p1 + 1, 8) == ERR_OK && n == 4, ERR_INPUT,
           "vkey: the key hash is 8 lowercase hex digits");
    const char *b64 = (const char *)p1 + 10;
    size_t b64n = left - 9;
    ENSURE(b64_alphabet((const uint8_t *)b64, b64n) &&
               b64_decode(k, sizeof k, &n, b64, b64n) == ERR_OK && n == 33 && k[0] == ED25519_ALG,
           ERR_INPUT, "vkey: not an Ed25519 key (0x01 and 32 bytes, base64)");
    key_hash(p, nlen, k + 1, want);
    ENSURE(memcmp(h, want, 4) == 0, ERR_INPUT, "vkey: the key hash does not match the key");
    memcpy(name_out, p, nlen);
    name_out[nlen] = '\0';
    memcpy(pk, k + 1, 32);
    return ERR_OK;
}
