/*
 * checkpoint_test.c - signed checkpoints: the exact layout, a signature checked independently
 * with libsodium, published known answers (Go's sumdb/note example signed by PeterNeumann:
 * vkey, signature and note byte for byte; the C2SP tlog-witness example checkpoint), other
 * signers ignored, extension lines accepted, and every malformation or forgery refused with
 * the right error: wrong key, flipped bytes anywhere, reordered or missing lines, missing blank
 * line, trailing garbage, leading zeros, bad base64, a bad em dash, control characters and
 * broken UTF-8, repeated or too many signatures, oversized notes; verifier keys both ways.
 */
#include <sodium.h>

#include "audit/checkpoint.h"
#include "test.h"

static uint8_t PK[32], SK[64], PK2[32], SK2[64];
static const char *KEY = "custos.audit.test";
static const char *ROOT64 = "AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk="; /* bytes i * 7 */

static void sign_with(void *ctx, slice msg, uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg.p, msg.len, ctx);
}

static checkpoint cp(uint64_t size)
{
    checkpoint c;
    memset(&c, 0, sizeof c);
    snprintf(c.origin, sizeof c.origin, "%s", KEY);
    c.size = size;
    for (int i = 0; i < 32; i++) {
        c.root[i] = (uint8_t)(i * 7);
    }
    return c;
}

static err open_text(const char *t)
{
    checkpoint c;
    return checkpoint_open(slice_cstr(t), KEY, PK, &c);
}

/* Signs text (a whole checkpoint body, possibly malformed) as a note by KEY. */
static void sign_text(const char *text, buf *note)
{
    if (checkpoint_note_sign(slice_cstr(text), KEY, PK, sign_with, SK, note) != ERR_OK) {
        printf("  cannot sign %s\n", text);
    }
}

TEST(t_round_trip)
{
    crypto_sign_keypair(PK, SK);
    crypto_sign_keypair(PK2, SK2);
    buf note;
    buf_init(&note, 0);
    checkpoint in = cp(1234), c;
    EXPECT_OK(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note));
    EXPECT_OK(checkpoint_open(buf_slice(&note), KEY, PK, &c));
    EXPECT_INT(c.size, 1234);
    EXPECT_STR(c.origin, KEY);
    EXPECT(memcmp(c.root, in.root, 32) == 0);
    /* the layout, byte for byte: body, blank line, one em-dash signature line */
    char want[512];
    snprintf(want, sizeof want, "%s\n1234\n%s\n\n\xe2\x80\x94 %s ", KEY, ROOT64, KEY);
    const char *t = buf_cstr(&note);
    EXPECT(strncmp(t, want, strlen(want)) == 0);
    EXPECT_INT(strlen(t), strlen(want) + 92 + 1);
    EXPECT(t[strlen(t) - 1] == '\n');
    /* independently: key hash and an Ed25519 signature over exactly the body */
    uint8_t raw[68], kh[32], khin[64];
    size_t n = 0, blen = strlen(KEY) + 6 + 45;
    EXPECT(sodium_base642bin(raw, sizeof raw, t + strlen(want), 92, NULL, &n, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           n == 68);
    EXPECT(crypto_sign_verify_detached(raw + 4, (const uint8_t *)t, blen, PK) == 0);
    memcpy(khin, KEY, strlen(KEY));
    khin[strlen(KEY)] = '\n';
    khin[strlen(KEY) + 1] = 0x01;
    memcpy(khin + strlen(KEY) + 2, PK, 32);
    crypto_hash_sha256(kh, khin, strlen(KEY) + 34);
    EXPECT(memcmp(raw, kh, 4) == 0);
    /* parse without a key */
    EXPECT_OK(checkpoint_parse(buf_slice(&note), &c));
    EXPECT_INT(c.size, 1234);
    /* a wrong key or key name: no signature by the trusted key */
    EXPECT_ERR(checkpoint_open(buf_slice(&note), KEY, PK2, &c), ERR_CRYPTO);
    EXPECT_ERR(checkpoint_open(buf_slice(&note), "other.name", PK, &c), ERR_CRYPTO);
    EXPECT_ERR(checkpoint_open(buf_slice(&note), "bad name", PK, &c), ERR_INPUT);
    EXPECT(c.size == 0 && c.origin[0] == '\0'); /* nothing given out on failure */
    /* the extreme sizes */
    in = cp(0);
    EXPECT_OK(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note));
    EXPECT_OK(checkpoint_open(buf_slice(&note), KEY, PK, &c));
    EXPECT_INT(c.size, 0);
    in = cp(UINT64_MAX);
    EXPECT_OK(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note));
    EXPECT(strstr(buf_cstr(&note), "\n18446744073709551615\n") != NULL);
    EXPECT_OK(checkpoint_open(buf_slice(&note), KEY, PK, &c));
    EXPECT(c.size == UINT64_MAX);
    /* bad arguments to sign */
    EXPECT_ERR(checkpoint_sign(&in, "a b", PK, sign_with, SK, &note), ERR_INPUT);
    EXPECT_ERR(checkpoint_sign(&in, "a+b", PK, sign_with, SK, &note), ERR_INPUT);
    EXPECT_ERR(checkpoint_sign(&in, "", PK, sign_with, SK, &note), ERR_INPUT);
    in.origin[0] = '\0';
    EXPECT_ERR(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note), ERR_INPUT);
    snprintf(in.origin, sizeof in.origin, "two\nlines");
    EXPECT_ERR(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note), ERR_INPUT);
    memset(in.origin, 'o', sizeof in.origin); /* unterminated */
    EXPECT_ERR(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note), ERR_INPUT);
    buf_free(&note);
}

/* Go's golang.org/x/mod/sumdb/note example (also in the C2SP signed-note spec's lineage):
 * signer key PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz. */
static const char *PETER_SEED64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char *PETER_VKEY =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char *PETER_TEXT = "If you think cryptography is the answer to your problem,\n"
                                "then you don't know what your problem is.\n";
static const char *PETER_NOTE =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

TEST(t_known_answer_go_note)
{
    uint8_t seed[33], pk[32], sk[64], pk2[32];
    size_t n = 0;
    EXPECT_OK(b64_decode(seed, sizeof seed, &n, PETER_SEED64, strlen(PETER_SEED64)));
    EXPECT(n == 33 && seed[0] == 0x01);
    crypto_sign_seed_keypair(pk, sk, seed + 1);
    buf v, note;
    buf_init(&v, 0);
    buf_init(&note, 0);
    EXPECT_OK(checkpoint_vkey("PeterNeumann", pk, &v));
    EXPECT_STR(buf_cstr(&v), PETER_VKEY);
    char name[64];
    EXPECT_OK(checkpoint_parse_vkey(PETER_VKEY, name, sizeof name, pk2));
    EXPECT_STR(name, "PeterNeumann");
    EXPECT(memcmp(pk, pk2, 32) == 0);
    /* Ed25519 is deterministic: the same note, byte for byte */
    EXPECT_OK(
        checkpoint_note_sign(slice_cstr(PETER_TEXT), "PeterNeumann", pk, sign_with, sk, &note));
    EXPECT_STR(buf_cstr(&note), PETER_NOTE);
    slice text = {0};
    EXPECT_OK(checkpoint_note_open(slice_cstr(PETER_NOTE), "PeterNeumann", pk2, &text));
    EXPECT(text.len == strlen(PETER_TEXT) && memcmp(text.p, PETER_TEXT, text.len) == 0);
    char m[512];
    snprintf(m, sizeof m, "%s", PETER_NOTE);
    m[strlen("If you think cryptograph")] = 'Y';
    EXPECT_ERR(checkpoint_note_open(slice_cstr(m), "PeterNeumann", pk2, &text), ERR_CRYPTO);
    /* it is a note but not a checkpoint */
    checkpoint c;
    EXPECT_ERR(checkpoint_open(slice_cstr(PETER_NOTE), "PeterNeumann", pk2, &c), ERR_INPUT);
    EXPECT(strstr(err_message(), "line 2") != NULL);
    buf_free(&v);
    buf_free(&note);
}

/* The example of the C2SP tlog-witness spec: a checkpoint cosigned twice by one name with two
 * keys; parsed (no public key is published, so it cannot be opened). */
static const char *SOFA =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\xe2\x80\x94 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\xe2\x80\x94 example.com/behind-the-sofa "
    "opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/"
    "V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";

TEST(t_known_answer_c2sp_example)
{
    checkpoint c;
    EXPECT_OK(checkpoint_parse(slice_cstr(SOFA), &c));
    EXPECT_STR(c.origin, "example.com/behind-the-sofa");
    EXPECT_INT(c.size, 20852163);
    EXPECT(c.root[0] == 0x0a && c.root[1] == 0xc5 && c.root[31] == 0x62);
    EXPECT_ERR(checkpoint_open(slice_cstr(SOFA), "example.com/behind-the-sofa", PK, &c),
               ERR_CRYPTO);
}

TEST(t_other_signers_and_extensions)
{
    buf note, other, both;
    buf_init(&note, 0);
    buf_init(&other, 0);
    buf_init(&both, 0);
    checkpoint in = cp(5), c;
    EXPECT_OK(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note));
    EXPECT_OK(checkpoint_sign(&in, "witness.example/w1", PK2, sign_with, SK2, &other));
    const char *sig2 = strstr(buf_cstr(&other), "\n\n") + 2;
    const char *sig1 = strstr(buf_cstr(&note), "\n\n") + 2;
    /* cosigned, the witness's line after ours and before it: both keys open it */
    EXPECT_OK(buf_append_str(&both, buf_cstr(&note)));
    EXPECT_OK(buf_append_str(&both, sig2));
    EXPECT_OK(open_text(buf_cstr(&both)));
    EXPECT_OK(checkpoint_open(buf_slice(&both), "witness.example/w1", PK2, &c));
    buf_reset(&both);
    EXPECT_OK(buf_append_str(&both, buf_cstr(&other)));
    EXPECT_OK(buf_append_str(&both, sig1));
    EXPECT_OK(open_text(buf_cstr(&both)));
    /* an unknown key's line with a signature of another length is ignored */
    EXPECT_OK(buf_append_str(&both, "\xe2\x80\x94 pq.example/mldsa AAECAwQFBgcICQ==\n"));
    EXPECT_OK(open_text(buf_cstr(&both)));
    /* only the witness signed: no signature by the trusted key */
    EXPECT_ERR(open_text(buf_cstr(&other)), ERR_CRYPTO);
    /* a line by the trusted key that does not verify fails the note, whoever else signed */
    buf_reset(&both);
    EXPECT_OK(buf_append_str(&both, buf_cstr(&note)));
    EXPECT_OK(buf_append_str(&both, sig2));
    char *b = (char *)both.p + (sig1 - buf_cstr(&note)) + 4 + strlen(KEY) + 1 + 20;
    *b = *b == 'A' ? 'B' : 'A';
    EXPECT_ERR(open_text(buf_cstr(&both)), ERR_CRYPTO);
    EXPECT_OK(checkpoint_open(buf_slice(&both), "witness.example/w1", PK2, &c));
    /* the same key twice */
    buf_reset(&both);
    EXPECT_OK(buf_append_str(&both, buf_cstr(&note)));
    EXPECT_OK(buf_append_str(&both, sig1));
    EXPECT_ERR(open_text(buf_cstr(&both)), ERR_INPUT);
    /* extension lines after the root are signed, accepted and ignored */
    char body[512];
    snprintf(body, sizeof body, "%s\n5\n%s\nextension one\n\xc3\xa9xtension two\n", KEY, ROOT64);
    sign_text(body, &note);
    EXPECT_OK(checkpoint_open(buf_slice(&note), KEY, PK, &c));
    EXPECT_INT(c.size, 5);
    /* but not empty ones */
    snprintf(body, sizeof body, "%s\n5\n%s\n\nextension\n", KEY, ROOT64);
    sign_text(body, &note);
    EXPECT_ERR(checkpoint_open(buf_slice(&note), KEY, PK, &c), ERR_INPUT);
    buf_free(&both);
    buf_free(&note);
    buf_free(&other);
}

/* Properly signed bodies that are not checkpoints: refused as input, naming the line. */
TEST(t_malformed_bodies)
{
    static const struct {
        const char *body;
        const char *line;
    } cases[] = {
        {"custos.audit.test\n077\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\n00\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\n-1\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\n+1\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\n 1\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\n1 \nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\n\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\n0x10\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\n18446744073709551616\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n",
         "line 2"},
        {"custos.audit.test\n7\n", "line 3"},
        {"custos.audit.test\n", "line 2"},
        {"custos.audit.test\n7\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk\n", "line 3"},
        {"custos.audit.test\n7\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tl=\n", "line 3"},
        {"custos.audit.test\n7\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk==\n", "line 3"},
        {"custos.audit.test\n7\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK-2vcTL0tk=\n", "line 3"},
        {"custos.audit.test\n7\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk= \n", "line 3"},
        {"custos.audit.test\n7\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL\n", "line 3"},
        {"custos.audit.test\n7\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tkAAAA=\n", "line 3"},
        {"custos.audit.test\n7\nnot base64!\n", "line 3"},
        /* libsodium 1.0.18 would read 0x91 as '/': the alphabet is checked first */
        {"custos.audit.test\n7\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk\x91\n", "line 3"},
        {"7\ncustos.audit.test\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n", "line 2"},
        {"custos.audit.test\nAAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=\n7\n", "line 2"},
    };
    buf note;
    buf_init(&note, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sign_text(cases[i].body, &note);
        err e = open_text(buf_cstr(&note));
        if (e != ERR_INPUT || strstr(err_message(), cases[i].line) == NULL) {
            printf("  case %zu: %s: %s\n", i, err_code_name(e), err_message());
        }
        EXPECT(e == ERR_INPUT && strstr(err_message(), cases[i].line) != NULL);
    }
    /* an origin of 255 bytes is the longest */
    char body[600];
    memset(body, 'o', 255);
    snprintf(body + 255, sizeof body - 255, "\n1\n%s\n", ROOT64);
    sign_text(body, &note);
    EXPECT_OK(open_text(buf_cstr(&note)));
    memset(body, 'o', 256);
    snprintf(body + 256, sizeof body - 256, "\n1\n%s\n", ROOT64);
    sign_text(body, &note);
    EXPECT_ERR(open_text(buf_cstr(&note)), ERR_INPUT);
    EXPECT(strstr(err_message(), "line 1") != NULL);
    buf_free(&note);
}

TEST(t_tampering)
{
    buf note;
    buf_init(&note, 0);
    checkpoint in = cp(77);
    EXPECT_OK(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note));
    char t[1024], m[2048];
    snprintf(t, sizeof t, "%s", buf_cstr(&note));
    size_t len = strlen(t), body = strstr(t, "\n\n") - t + 1;
    /* every byte changed, everywhere: body and signature lines */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            snprintf(m, sizeof m, "%s", t);
            m[i] = (char)(m[i] ^ (1 << bit));
            err e = open_text(m);
            if (e == ERR_OK) {
                printf("  byte %zu bit %d accepted\n", i, bit);
            }
            EXPECT(e != ERR_OK);
        }
    }
    /* the size changed in the body: a valid-looking body whose signature fails */
    snprintf(m, sizeof m, "%s", t);
    m[strlen(KEY) + 1] = '8';
    EXPECT_ERR(open_text(m), ERR_CRYPTO);
    /* missing blank line */
    snprintf(m, sizeof m, "%.*s%s", (int)body, t, t + body + 1);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    /* two blank lines: the body then ends in an empty line */
    snprintf(m, sizeof m, "%.*s\n%s", (int)body, t, t + body);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    /* trailing garbage: after the last newline, as a line, as a blank line */
    snprintf(m, sizeof m, "%sgarbage", t);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    snprintf(m, sizeof m, "%sgarbage\n", t);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    snprintf(m, sizeof m, "%s\n", t);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    /* preceding garbage */
    snprintf(m, sizeof m, "garbage\n%s", t);
    EXPECT(open_text(m) != ERR_OK);
    /* no final newline */
    snprintf(m, sizeof m, "%.*s", (int)len - 1, t);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    /* no signature lines */
    snprintf(m, sizeof m, "%.*s\n", (int)body, t);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    /* CRLF line ends */
    snprintf(m, sizeof m, "%s\r\n77\r\n%s\r\n\r\n%s", KEY, ROOT64, t + body + 1);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    /* reordered lines: size and root swapped; the signature line before the body */
    snprintf(m, sizeof m, "%s\n%s\n77\n%s", KEY, ROOT64, t + body);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    snprintf(m, sizeof m, "%s\n%.*s", t + body + 1, (int)body, t);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    /* bad em dashes: ASCII hyphen, en dash, no space, two spaces, a tab */
    static const char *const dashes[] = {
        "- ",        "\xe2\x80\x93 ", "\xe2\x80\x94", "\xe2\x80\x94  ", "\xe2\x80\x94\t",
        "\xe2\x80 ", " \xe2\x80\x94 "};
    for (size_t i = 0; i < sizeof dashes / sizeof dashes[0]; i++) {
        snprintf(m, sizeof m, "%.*s\n%s%s", (int)body, t, dashes[i], t + body + 1 + 4);
        EXPECT_ERR(open_text(m), ERR_INPUT);
    }
    /* bad base64 in the signature: padding removed, a space inside, too short */
    snprintf(m, sizeof m, "%.*s", (int)len - 2, t);
    strcat(m, "\n");
    EXPECT_ERR(open_text(m), ERR_INPUT);
    snprintf(m, sizeof m, "%.*s\n\xe2\x80\x94 %s AAAA\n", (int)body, t, KEY);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    snprintf(m, sizeof m, "%.*s\n\xe2\x80\x94 %s \n", (int)body, t, KEY);
    EXPECT_ERR(open_text(m), ERR_INPUT);
    /* a control character, a NUL, broken and overlong UTF-8 anywhere */
    static const char *const inserts[] = {"\x01",     "\x7f",         "\xc3",
                                          "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof inserts / sizeof inserts[0]; i++) {
        snprintf(m, sizeof m, "%s%s\n77\n%s", KEY, inserts[i], t + strlen(KEY) + 4);
        EXPECT_ERR(open_text(m), ERR_INPUT);
    }
    char z[1024];
    memcpy(z, t, len);
    z[3] = '\0';
    checkpoint c;
    EXPECT_ERR(checkpoint_open(slice_of(z, len), KEY, PK, &c), ERR_INPUT);
    buf_free(&note);
}

TEST(t_limits)
{
    buf note, big;
    buf_init(&note, 0);
    buf_init(&big, 0);
    checkpoint in = cp(9);
    EXPECT_OK(checkpoint_sign(&in, KEY, PK, sign_with, SK, &note));
    /* 100 signature lines (ours and 99 unknown keys) are fine, 101 are not */
    EXPECT_OK(buf_append_str(&big, buf_cstr(&note)));
    for (int i = 1; i < 100; i++) {
        EXPECT_OK(buf_appendf(&big, "\xe2\x80\x94 w%d.example AAECAwQF\n", i));
    }
    EXPECT_OK(open_text(buf_cstr(&big)));
    EXPECT_OK(buf_append_str(&big, "\xe2\x80\x94 w100.example AAECAwQF\n"));
    EXPECT_ERR(open_text(buf_cstr(&big)), ERR_INPUT);
    /* 64 KiB in all */
    buf_reset(&big);
    EXPECT_OK(buf_append_str(&big, buf_cstr(&note)));
    while (big.len <= CHECKPOINT_MAX_NOTE) {
        EXPECT_OK(buf_append_str(&big, "\xe2\x80\x94 x AAECAwQF\n"));
    }
    checkpoint c;
    EXPECT_ERR(checkpoint_open(buf_slice(&big), KEY, PK, &c), ERR_INPUT);
    EXPECT_ERR(checkpoint_parse(buf_slice(&big), &c), ERR_INPUT);
    EXPECT_ERR(checkpoint_open(slice_of("", 0), KEY, PK, &c), ERR_INPUT);
    EXPECT_ERR(checkpoint_parse(slice_of(NULL, 0), &c), ERR_INPUT);
    buf_free(&big);
    buf_free(&note);
}

TEST(t_vkey)
{
    buf v;
    buf_init(&v, 0);
    EXPECT_OK(checkpoint_vkey(KEY, PK, &v));
    char name[64];
    uint8_t pk[32];
    EXPECT_OK(checkpoint_parse_vkey(buf_cstr(&v), name, sizeof name, pk));
    EXPECT_STR(name, KEY);
    EXPECT(memcmp(pk, PK, 32) == 0);
    /* the key hash must match the name and key */
    char bad[256];
    snprintf(bad, sizeof bad, "%s", buf_cstr(&v));
    bad[strlen(KEY) + 1] = bad[strlen(KEY) + 1] == '0' ? '1' : '0';
    EXPECT_ERR(checkpoint_parse_vkey(bad, name, sizeof name, pk), ERR_INPUT);
    snprintf(bad, sizeof bad, "x%s", buf_cstr(&v));
    EXPECT_ERR(checkpoint_parse_vkey(bad, name, sizeof name, pk), ERR_INPUT);
    EXPECT_ERR(checkpoint_parse_vkey(name, name, sizeof name, pk), ERR_INPUT);
    EXPECT_ERR(checkpoint_parse_vkey("nohash", name, sizeof name, pk), ERR_INPUT);
    EXPECT_ERR(checkpoint_parse_vkey("a+00000000+AAAA", name, sizeof name, pk), ERR_INPUT);
    EXPECT_ERR(checkpoint_parse_vkey("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", name,
                                     sizeof name, pk),
               ERR_INPUT);
    /* uppercase hash digits, a wrong key type, a name too long for the caller's buffer */
    EXPECT_ERR(
        checkpoint_parse_vkey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                              name, sizeof name, pk),
        ERR_INPUT);
    EXPECT_ERR(
        checkpoint_parse_vkey("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                              name, sizeof name, pk),
        ERR_INPUT);
    EXPECT_ERR(checkpoint_parse_vkey(PETER_VKEY, name, 12, pk), ERR_INPUT);
    EXPECT_OK(checkpoint_parse_vkey(PETER_VKEY, name, 13, pk));
    EXPECT_ERR(
        checkpoint_parse_vkey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ",
                              name, sizeof name, pk),
        ERR_INPUT);
    /* found by fuzzing: a byte >= 0x80 in place of '/' */
    EXPECT_ERR(checkpoint_parse_vkey(
                   "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq\x91LDE4izWy10TW", name,
                   sizeof name, pk),
               ERR_INPUT);
    EXPECT_ERR(checkpoint_vkey("bad name", PK, &v), ERR_INPUT);
    EXPECT_ERR(checkpoint_vkey("bad+name", PK, &v), ERR_INPUT);
    EXPECT_ERR(checkpoint_vkey("caf\xc3\xa9", PK, &v), ERR_INPUT);
    buf_free(&v);
}

int main(void)
{
    test_init();
    RUN(t_round_trip);
    RUN(t_known_answer_go_note);
    RUN(t_known_answer_c2sp_example);
    RUN(t_other_signers_and_extensions);
    RUN(t_malformed_bodies);
    RUN(t_tampering);
    RUN(t_limits);
    RUN(t_vkey);
    return test_done("checkpoint_test");
}
