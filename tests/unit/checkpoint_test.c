/*
 * checkpoint_test.c - signed checkpoints: round trip, extra signers ignored,
 * every malformation and forgery refused, verifier keys, and a signature
 * checked independently with libsodium over the exact body bytes.
 */
#include <sodium.h>

#include "audit/checkpoint.h"
#include "test.h"

static uint8_t PK[32], SK[64], PK2[32], SK2[64];

static void sign1(void *ctx, slice msg, uint8_t sig[64])
{
    crypto_sign_detached(sig, NULL, msg.p, msg.len, ctx == NULL ? SK : SK2);
}

static void make(buf *note, uint64_t size)
{
    checkpoint c;
    memset(&c, 0, sizeof c);
    snprintf(c.origin, sizeof c.origin, "custos.audit.test");
    c.size = size;
    for (int i = 0; i < 32; i++) {
        c.root[i] = (uint8_t)(i * 7);
    }
    if (checkpoint_sign(&c, "custos.audit.test", PK, sign1, NULL, note) != ERR_OK) {
        printf("sign failed\n");
    }
}

static err open_text(const char *t, checkpoint *c)
{
    return checkpoint_open(slice_cstr(t), "custos.audit.test", PK, c);
}

TEST(t_round_trip)
{
    crypto_sign_keypair(PK, SK);
    crypto_sign_keypair(PK2, SK2);
    buf note;
    buf_init(&note, 0);
    make(&note, 1234);
    checkpoint c;
    EXPECT_OK(checkpoint_open(buf_slice(&note), "custos.audit.test", PK, &c));
    EXPECT_INT(c.size, 1234);
    EXPECT_STR(c.origin, "custos.audit.test");
    EXPECT(c.root[3] == 21);
    /* the layout, byte for byte: body, blank line, em-dash signature line */
    const char *t = buf_cstr(&note);
    EXPECT(strncmp(t, "custos.audit.test\n1234\n", 23) == 0);
    const char *blank = strstr(t, "\n\n");
    EXPECT(blank && strncmp(blank + 2, "\xe2\x80\x94 custos.audit.test ", 22) == 0);
    /* independent check: the signature covers exactly the body */
    uint8_t raw[68];
    size_t n = 0;
    const char *b64 = blank + 2 + 22;
    EXPECT(sodium_base642bin(raw, sizeof raw, b64, strcspn(b64, "\n"), NULL, &n, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           n == 68);
    EXPECT(crypto_sign_verify_detached(raw + 4, (const uint8_t *)t, (size_t)(blank - t) + 1, PK) ==
           0);
    /* a wrong key or key name */
    EXPECT_ERR(checkpoint_open(buf_slice(&note), "custos.audit.test", PK2, &c), ERR_CRYPTO);
    EXPECT_ERR(checkpoint_open(buf_slice(&note), "other.name", PK, &c), ERR_CRYPTO);
    EXPECT_OK(checkpoint_parse(buf_slice(&note), &c));
    buf_free(&note);
}

TEST(t_other_signers_ignored)
{
    buf note, other;
    buf_init(&note, 0);
    buf_init(&other, 0);
    make(&note, 5);
    checkpoint c;
    memset(&c, 0, sizeof c);
    snprintf(c.origin, sizeof c.origin, "custos.audit.test");
    c.size = 5;
    for (int i = 0; i < 32; i++) {
        c.root[i] = (uint8_t)(i * 7);
    }
    EXPECT_OK(checkpoint_sign(&c, "witness.example", PK2, sign1, (void *)1, &other));
    /* cosigned: the witness's line after ours, and before it */
    const char *sig2 = strstr(buf_cstr(&other), "\n\n") + 2;
    buf both;
    buf_init(&both, 0);
    EXPECT_OK(buf_append_str(&both, buf_cstr(&note)));
    EXPECT_OK(buf_append_str(&both, sig2));
    EXPECT_OK(open_text(buf_cstr(&both), &c));
    EXPECT_OK(checkpoint_open(buf_slice(&both), "witness.example", PK2, &c));
    buf_free(&both);
    buf_free(&note);
    buf_free(&other);
}

TEST(t_refusals)
{
    buf note;
    buf_init(&note, 0);
    make(&note, 77);
    char t[4096];
    snprintf(t, sizeof t, "%s", buf_cstr(&note));
    checkpoint c;
    char m[4096];
    /* a flipped byte in the body, in the signature, in the size */
    for (size_t i = 0; i < strlen(t); i++) {
        if (t[i] == '\n' || (unsigned char)t[i] >= 0x80) {
            continue;
        }
        snprintf(m, sizeof m, "%s", t);
        m[i] = m[i] == 'A' ? 'B' : 'A';
        err e = open_text(m, &c);
        if (e == ERR_OK) {
            printf("  flipped byte %zu accepted\n", i);
        }
        EXPECT(e != ERR_OK);
    }
    static const char *const bad[] = {
        "", "\n", "custos.audit.test\n77\n",
        "custos.audit.test\n077\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 x AAAA\n",
        "custos.audit.test\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 x AAAA\n",
        "custos.audit.test\n99999999999999999999999\nAAEC\n\n\xe2\x80\x94 x AAAA\n",
        "\n77\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 x AAAA\n",
        "custos.audit.test\n77\nnot base64!\n\n\xe2\x80\x94 x AAAA\n",
        "custos.audit.test\n77\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n- x AAAA\n",
        "custos.audit.test\r\n77\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n\xe2\x80\x94 x AAAA\n",
        "custos.audit.test\n77\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT(open_text(bad[i], &c) != ERR_OK);
    }
    /* missing blank line, trailing garbage after the signature, a line without newline */
    const char *blank = strstr(t, "\n\n");
    snprintf(m, sizeof m, "%.*s%s", (int)(blank - t + 1), t, blank + 2);
    EXPECT(open_text(m, &c) != ERR_OK);
    snprintf(m, sizeof m, "%sgarbage", t);
    EXPECT(open_text(m, &c) != ERR_OK);
    snprintf(m, sizeof m, "%.*s", (int)strlen(t) - 1, t);
    EXPECT(open_text(m, &c) != ERR_OK);
    /* reordered body lines */
    const char *l2 = strchr(t, '\n') + 1;
    const char *l3 = strchr(l2, '\n') + 1;
    snprintf(m, sizeof m, "custos.audit.test\n%.*s%.*s%s", (int)(strchr(l3, '\n') - l3 + 1), l3,
             (int)(l3 - l2), l2, strchr(l3, '\n') + 1);
    EXPECT(open_text(m, &c) != ERR_OK);
    buf_free(&note);
}

TEST(t_vkey)
{
    buf v;
    buf_init(&v, 0);
    EXPECT_OK(checkpoint_vkey("custos.audit.test", PK, &v));
    char name[64];
    uint8_t pk[32];
    EXPECT_OK(checkpoint_parse_vkey(buf_cstr(&v), name, sizeof name, pk));
    EXPECT_STR(name, "custos.audit.test");
    EXPECT(memcmp(pk, PK, 32) == 0);
    /* the key hash must match the name and key */
    char bad[256];
    snprintf(bad, sizeof bad, "%s", buf_cstr(&v));
    bad[strlen("custos.audit.test") + 1] ^= 1;
    EXPECT_ERR(checkpoint_parse_vkey(bad, name, sizeof name, pk), ERR_INPUT);
    EXPECT_ERR(checkpoint_parse_vkey("nohash", name, sizeof name, pk), ERR_INPUT);
    EXPECT_ERR(checkpoint_parse_vkey("a+00000000+AAAA", name, sizeof name, pk), ERR_INPUT);
    EXPECT_ERR(checkpoint_vkey("bad name", PK, &v), ERR_INPUT);
    EXPECT_ERR(checkpoint_vkey("bad+name", PK, &v), ERR_INPUT);
    buf_free(&v);
}

int main(void)
{
    test_init();
    RUN(t_round_trip);
    RUN(t_other_signers_ignored);
    RUN(t_refusals);
    RUN(t_vkey);
    return test_done("checkpoint_test");
}
