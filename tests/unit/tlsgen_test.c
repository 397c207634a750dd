/*
 * tlsgen_test.c - the self-signed TLS material of a fresh vault: file modes, that
 * GnuTLS loads the pair as server credentials, the certificate's fields (SANs,
 * validity, constraints, usages, signature), and the refusals: never overwrite,
 * and leave nothing behind after a failure.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "test.h"

static char *dir;

static void path_in(char *out, size_t max, const char *name)
{
    snprintf(out, max, "%s/%s", dir, name);
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static mode_t mode_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (st.st_mode & 07777) : (mode_t)-1;
}

/* Reads a PEM certificate file into crt (initialised here); false on any failure. */
static bool load_cert(const char *path, gnutls_x509_crt_t *crt)
{
    gnutls_datum_t d = {NULL, 0};
    if (gnutls_load_file(path, &d) < 0) {
        return false;
    }
    bool ok = gnutls_x509_crt_init(crt) >= 0;
    if (ok && gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
        gnutls_x509_crt_deinit(*crt);
        ok = false;
    }
    gnutls_free(d.data);
    return ok;
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static bool file_is(const char *p, const char *text)
{
    char got[256] = {0};
    FILE *f = fopen(p, "r");
    if (!f) {
        return false;
    }
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    return n == strlen(text) && memcmp(got, text, n) == 0;
}

TEST(generates_loadable_pair_with_modes)
{
    char k[600], c[600];
    path_in(k, sizeof k, "a.key");
    path_in(c, sizeof c, "a.crt");
    mode_t old = umask(0); /* every file the vault makes is private, whatever the umask */
    EXPECT_OK(tls_generate_self_signed(k, c));
    umask(old);
    EXPECT_INT(mode_of(k), 0600);
    EXPECT_INT(mode_of(c), 0600);

    gnutls_certificate_credentials_t cred;
    EXPECT(gnutls_certificate_allocate_credentials(&cred) >= 0);
    int g = gnutls_certificate_set_x509_key_file(cred, c, k, GNUTLS_X509_FMT_PEM);
    if (g < 0) {
        printf("  gnutls: %s\n", gnutls_strerror(g));
    }
    EXPECT(g >= 0);
    gnutls_certificate_free_credentials(cred);

    gnutls_x509_privkey_t key;
    gnutls_datum_t d = {NULL, 0};
    EXPECT(gnutls_load_file(k, &d) >= 0);
    EXPECT(gnutls_x509_privkey_init(&key) >= 0);
    EXPECT(gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM) >= 0);
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    EXPECT_INT(gnutls_x509_privkey_get_pk_algorithm(key), GNUTLS_PK_ECDSA);
    EXPECT(gnutls_x509_privkey_export_ecc_raw(key, &curve, NULL, NULL, NULL) >= 0);
    EXPECT_INT(curve, GNUTLS_ECC_CURVE_SECP256R1);
    gnutls_x509_privkey_deinit(key);
    gnutls_free(d.data);
}

TEST(certificate_fields)
{
    char k[600], c[600];
    path_in(k, sizeof k, "a.key");
    path_in(c, sizeof c, "a.crt");
    gnutls_x509_crt_t crt;
    if (!load_cert(c, &crt)) {
        EXPECT(!"certificate loads");
        return;
    }
    EXPECT_INT(gnutls_x509_crt_get_version(crt), 3);

    /* subject alternative names: exactly DNS localhost, IP 127.0.0.1, IP ::1 */
    static const uint8_t v4[4] = {127, 0, 0, 1};
    static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    int dns = 0, ip4 = 0, ip6 = 0, other = 0;
    for (unsigned seq = 0;; seq++) {
        uint8_t san[256];
        size_t n = sizeof san;
        unsigned critical = 0;
        int t = gnutls_x509_crt_get_subject_alt_name(crt, seq, san, &n, &critical);
        if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        if (t == GNUTLS_SAN_DNSNAME && n == 9 && memcmp(san, "localhost", 9) == 0) {
            dns++;
        } else if (t == GNUTLS_SAN_IPADDRESS && n == 4 && memcmp(san, v4, 4) == 0) {
            ip4++;
        } else if (t == GNUTLS_SAN_IPADDRESS && n == 16 && memcmp(san, v6, 16) == 0) {
            ip6++;
        } else {
            other++;
        }
        if (seq > 10) {
            break;
        }
    }
    EXPECT_INT(dns, 1);
    EXPECT_INT(ip4, 1);
    EXPECT_INT(ip6, 1);
    EXPECT_INT(other, 0);

    char cn[64];
    size_t n = sizeof cn;
    EXPECT(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &n) >= 0);
    EXPECT_STR(cn, "localhost");
    n = sizeof cn;
    EXPECT(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, 0, cn, &n) >=
           0);
    EXPECT_STR(cn, "Custos");
    n = sizeof cn;
    EXPECT(gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &n) >=
           0);
    EXPECT_STR(cn, "localhost");

    uint8_t serial[40];
    n = sizeof serial;
    EXPECT(gnutls_x509_crt_get_serial(crt, serial, &n) >= 0);
    EXPECT_INT(n, 16);

    time_t now = time(NULL);
    time_t from = gnutls_x509_crt_get_activation_time(crt);
    time_t until = gnutls_x509_crt_get_expiration_time(crt);
    EXPECT(from <= now - 3500 && from >= now - 3700);
    EXPECT_INT(until - from, 825LL * 86400 + 3600);

    unsigned ca = 1, critical = 0;
    int pathlen = 0;
    EXPECT(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen) >= 0);
    EXPECT_INT(ca, 0);
    unsigned usage = 0;
    EXPECT(gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0);
    EXPECT_INT(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
    char oid[128];
    n = sizeof oid;
    EXPECT(gnutls_x509_crt_get_key_purpose_oid(crt, 0, oid, &n, &critical) >= 0);
    EXPECT_STR(oid, GNUTLS_KP_TLS_WWW_SERVER);
    n = sizeof oid;
    EXPECT_INT(gnutls_x509_crt_get_key_purpose_oid(crt, 1, oid, &n, &critical),
               GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
    EXPECT_INT(gnutls_x509_crt_get_signature_algorithm(crt), GNUTLS_SIGN_ECDSA_SHA256);
    unsigned bits = 0;
    EXPECT_INT(gnutls_x509_crt_get_pk_algorithm(crt, &bits), GNUTLS_PK_ECDSA);
    EXPECT_INT(bits, 256);

    /* The signature verifies under the certificate's own key. */
    unsigned status = 1;
    EXPECT(gnutls_x509_crt_verify(crt, &crt, 1, 0, &status) >= 0);
    EXPECT_INT(status, 0);
    EXPECT(gnutls_x509_crt_check_hostname(crt, "localhost") != 0);
    EXPECT(gnutls_x509_crt_check_hostname(crt, "127.0.0.1") != 0);
    EXPECT(gnutls_x509_crt_check_hostname(crt, "example.com") == 0);
    gnutls_x509_crt_deinit(crt);
}

TEST(serials_differ)
{
    char k[600], c[600], c2[600];
    path_in(k, sizeof k, "b.key");
    path_in(c, sizeof c, "b.crt");
    EXPECT_OK(tls_generate_self_signed(k, c));
    path_in(c2, sizeof c2, "a.crt");
    gnutls_x509_crt_t x, y;
    if (!load_cert(c, &x)) {
        EXPECT(!"certificate loads");
        return;
    }
    if (!load_cert(c2, &y)) {
        EXPECT(!"certificate loads");
        gnutls_x509_crt_deinit(x);
        return;
    }
    uint8_t s1[40], s2[40];
    size_t n1 = sizeof s1, n2 = sizeof s2;
    EXPECT(gnutls_x509_crt_get_serial(x, s1, &n1) >= 0);
    EXPECT(gnutls_x509_crt_get_serial(y, s2, &n2) >= 0);
    EXPECT(n1 != n2 || memcmp(s1, s2, n1) != 0);
    gnutls_x509_crt_deinit(x);
    gnutls_x509_crt_deinit(y);
}

TEST(refuses_to_overwrite)
{
    char k[600], c[600], k2[600], c2[600];
    path_in(k, sizeof k, "a.key");
    path_in(c, sizeof c, "a.crt");
    path_in(k2, sizeof k2, "c.key");
    path_in(c2, sizeof c2, "c.crt");
    /* both exist */
    EXPECT_ERR(tls_generate_self_signed(k, c), ERR_CONFLICT);
    EXPECT(exists(k) && exists(c));
    /* only the key exists: it is untouched and no certificate appears */
    write_file(k2, "old key\n");
    EXPECT_ERR(tls_generate_self_signed(k2, c2), ERR_CONFLICT);
    EXPECT(file_is(k2, "old key\n"));
    EXPECT(!exists(c2));
    unlink(k2);
    /* only the certificate exists */
    write_file(c2, "old cert\n");
    EXPECT_ERR(tls_generate_self_signed(k2, c2), ERR_CONFLICT);
    EXPECT(file_is(c2, "old cert\n"));
    EXPECT(!exists(k2));
    unlink(c2);
    /* a dangling symbolic link counts as existing */
    char target[600];
    path_in(target, sizeof target, "nowhere");
    EXPECT(symlink(target, k2) == 0);
    EXPECT_ERR(tls_generate_self_signed(k2, c2), ERR_CONFLICT);
    EXPECT(!exists(target) && !exists(c2));
    unlink(k2);
    /* the same path twice */
    EXPECT_ERR(tls_generate_self_signed(k2, k2), ERR_INPUT);
    EXPECT(!exists(k2));
}

TEST(failure_leaves_nothing)
{
    char k[600], c[600];
    path_in(k, sizeof k, "d.key");
    path_in(c, sizeof c, "missing-dir/d.crt");
    /* the key could be written, the certificate cannot: the key is removed again */
    EXPECT_ERR(tls_generate_self_signed(k, c), ERR_IO);
    EXPECT(!exists(k));
    EXPECT(strstr(err_message(), "d.crt") != NULL);
    path_in(k, sizeof k, "missing-dir/e.key");
    path_in(c, sizeof c, "e.crt");
    EXPECT_ERR(tls_generate_self_signed(k, c), ERR_IO);
    EXPECT(!exists(c));
}

static void cleanup(void)
{
    static const char *const names[] = {"a.key", "a.crt", "b.key", "b.crt", "c.key",
                                        "c.crt", "d.key", "e.crt", NULL};
    char p[600];
    for (size_t i = 0; names[i]; i++) {
        path_in(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(dir);
    free(dir);
}

int main(void)
{
    test_init();
    dir = test_tmpdir("tlsgen");
    RUN(generates_loadable_pair_with_modes);
    RUN(certificate_fields);
    RUN(serials_differ);
    RUN(refuses_to_overwrite);
    RUN(failure_leaves_nothing);
    cleanup();
    return test_done("tlsgen_test");
}
