/*
 * tlsgen.c - a self-signed TLS key and certificate for a fresh vault, so that the
 * server speaks HTTPS from its first start without any operator step.
 *
 * The key is ECDSA P-256 (small, fast, accepted by every client); the certificate is
 * X.509 v3 for localhost, 127.0.0.1 and ::1 only, CA:false, digitalSignature and
 * serverAuth, valid from an hour ago (clock skew) for 825 days (the longest lifetime
 * browsers accept for a server certificate). Both files are created exclusively: an
 * existing file is never overwritten, and a failure part-way removes whatever this
 * call wrote, so the caller finds either both files or neither. The exported private
 * key is wiped from memory as soon as it is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/mem.h"
#include "crypto/crypto.h"

#define TLS_SERIAL_LEN 16
#define TLS_VALID_DAYS 825
#define TLS_BACKDATE_S 3600

/* Writes all of d to fd and makes it durable. */
static err write_all(int fd, const gnutls_datum_t *d, const char *path)
{
    TRY(file_write_all(fd, d->data, d->size, path));
    ENSURE(fsync(fd) == 0, ERR_IO, "cannot sync %s: %s", path, strerror(errno));
    return ERR_OK;
}

/* ERR_CONFLICT when path exists (even as a dangling link), ERR_IO when it cannot tell. */
static err must_be_absent(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        BAIL(ERR_CONFLICT, "%s exists already; refusing to overwrite it", path);
    }
    ENSURE(errno == ENOENT, ERR_IO, "cannot check %s: %s", path, strerror(errno));
    return ERR_OK;
}

/* Adds the subject alternative names: DNS localhost, IP 127.0.0.1 and IP ::1. */
static err add_sans(gnutls_x509_crt_t crt)
{
    static const uint8_t v4[4] = {127, 0, 0, 1};
    static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    int g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                 GNUTLS_FSAN_SET);
    if (g >= 0) {
        g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, sizeof v4,
                                                 GNUTLS_FSAN_APPEND);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, sizeof v6,
                                                 GNUTLS_FSAN_APPEND);
    }
    ENSURE(g >= 0, ERR_CRYPTO, "cannot set the certificate's alternative names: %s",
           gnutls_strerror(g));
    return ERR_OK;
}

/* Fills in every field of the certificate for key and signs it with key. */
static err build_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
    uint8_t serial[TLS_SERIAL_LEN];
    int g = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
    ENSURE(g >= 0, ERR_CRYPTO, "cannot draw a certificate serial: %s", gnutls_strerror(g));
    /* A DER INTEGER is signed: keep the serial positive and a full 16 bytes long. */
    serial[0] = (uint8_t)((serial[0] & 0x7F) | 0x40);

    time_t now = (time_t)(clock_now_us() / 1000000);
    uint8_t kid[64];
    size_t kid_len = sizeof kid;

    g = gnutls_x509_crt_set_version(crt, 3);
    if (g >= 0) {
        g = gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_key(crt, key);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "Custos", 6);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_activation_time(crt, now - TLS_BACKDATE_S);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)TLS_VALID_DAYS * 86400);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, kid, &kid_len);
    }
    if (g >= 0) {
        g = gnutls_x509_crt_set_subject_key_id(crt, kid, kid_len);
    }
    ENSURE(g >= 0, ERR_CRYPTO, "cannot build the TLS certificate: %s", gnutls_strerror(g));
    TRY(add_sans(crt));
    /* Self-signed: the issuer is the certificate itself. */
    g = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
    ENSURE(g >= 0, ERR_CRYPTO, "cannot sign the TLS certificate: %s", gnutls_strerror(g));
    return ERR_OK;
}

err tls_generate_self_signed(const char *key_path, const char *cert_path)
{
    ENSURE(key_path != NULL && cert_path != NULL, ERR_INTERNAL, "missing TLS file path");
    ENSURE(strcmp(key_path, cert_path) != 0, ERR_INPUT,
           "the TLS key and certificate need two different files");
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t key_pem = {NULL, 0}, cert_pem = {NULL, 0};
    int key_fd = -1, cert_fd = -1;
    bool key_made = false, cert_made = false;
    err rc = ERR_OK;
    int g;

    /* Refuse before doing any work when either file is already there. */
    GUARD(must_be_absent(key_path));
    GUARD(must_be_absent(cert_path));

    g = gnutls_x509_privkey_init(&key);
    CHECK(g >= 0, ERR_CRYPTO, "cannot create a TLS key: %s", gnutls_strerror(g));
    g = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    CHECK(g >= 0, ERR_CRYPTO, "cannot generate the TLS key (ECDSA P-256): %s", gnutls_strerror(g));
    g = gnutls_x509_crt_init(&crt);
    CHECK(g >= 0, ERR_CRYPTO, "cannot create a certificate: %s", gnutls_strerror(g));
    GUARD(build_cert(crt, key));

    /* Unencrypted PKCS #8: the key file is protected by its mode, like any server key. */
    g = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                          &key_pem);
    CHECK(g >= 0, ERR_CRYPTO, "cannot export the TLS key: %s", gnutls_strerror(g));
    g = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem);
    CHECK(g >= 0, ERR_CRYPTO, "cannot export the TLS certificate: %s", gnutls_strerror(g));

    GUARD(file_create_exclusive(key_path, 0600, &key_fd));
    key_made = true;
    GUARD(file_create_exclusive(cert_path, 0600, &cert_fd));
    cert_made = true;
    GUARD(write_all(key_fd, &key_pem, key_path));
    GUARD(write_all(cert_fd, &cert_pem, cert_path));
    g = close(key_fd);
    key_fd = -1;
    CHECK(g == 0, ERR_IO, "cannot close %s: %s", key_path, strerror(errno));
    g = close(cert_fd);
    cert_fd = -1;
    CHECK(g == 0, ERR_IO, "cannot close %s: %s", cert_path, strerror(errno));

out:
    if (key_fd >= 0) {
        close(key_fd);
    }
    if (cert_fd >= 0) {
        close(cert_fd);
    }
    if (rc != ERR_OK) {
        /* Both files or neither: remove only what this call created. */
        if (key_made) {
            (void)unlink(key_path);
        }
        if (cert_made) {
            (void)unlink(cert_path);
        }
    }
    if (key_pem.data != NULL) {
        mem_wipe(key_pem.data, key_pem.size);
        gnutls_free(key_pem.data);
    }
    if (cert_pem.data != NULL) {
        gnutls_free(cert_pem.data);
    }
    if (crt != NULL) {
        gnutls_x509_crt_deinit(crt);
    }
    if (key != NULL) {
        gnutls_x509_privkey_deinit(key); /* wipes the key material */
    }
    return rc;
}
