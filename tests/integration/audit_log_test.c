/*
 * audit_log_test.c - the audit log end to end, against a real server: only
 * the right roles read it; a scripted workload leaves exactly one entry per
 * operation; proofs and checkpoints verify with an independent implementation
 * written here; reports; SIEM export and forwarding; witnesses (file, syslog,
 * webhook) receive signed checkpoints; fail closed when the log cannot be
 * written; offline `custos audit verify` catches every kind of tampering and
 * names the index; the server refuses a log that was rolled back or deleted.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/test.h"
#include "core/clock.h"
#include "harness.h"

static srv S;
static char root[512];
static char tok_st1[64], tok_sales1[64], tok_service1[64], tok_aud[64], tok_legal[64], tok_sec[64],
    tok_admin[64];
static uint8_t PK[32];
static char KEYNAME[128];
static int udp_witness = -1, udp_siem = -1;
static unsigned udp_witness_port, udp_siem_port;

/* ---- an independent RFC 9162 verifier, written from the RFC for this test ---- */

static void h_sha(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, const uint8_t *c,
                  size_t cn, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, a, an);
    crypto_hash_sha256_update(&st, b, bn);
    crypto_hash_sha256_update(&st, c, cn);
    crypto_hash_sha256_final(&st, out);
}

static void node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t one = 1;
    h_sha(&one, 1, l, 32, r, 32, out);
}

/* RFC 9162 §2.1.3.2 */
static bool rfc_verify_inclusion(const uint8_t leaf[32], uint64_t index, uint64_t size,
                                 uint8_t (*proof)[32], size_t n, const uint8_t root_[32])
{
    if (index >= size) {
        return false;
    }
    uint64_t fn = index, sn = size - 1;
    uint8_t r[32];
    memcpy(r, leaf, 32);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) || fn == sn) {
            node(proof[i], r, r);
            if (!(fn & 1)) {
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            node(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root_, 32) == 0;
}

/* RFC 9162 §2.1.4.2 */
static bool rfc_verify_consistency(uint64_t first, uint64_t second, const uint8_t r1[32],
                                   const uint8_t r2[32], uint8_t (*proof)[32], size_t n)
{
    if (first == second) {
        return n == 0 && memcmp(r1, r2, 32) == 0;
    }
    if (first == 0 || first > second || n == 0) {
        return false;
    }
    uint8_t(*p)[32] = proof;
    size_t len = n;
    uint8_t tmp[65][32];
    if ((first & (first - 1)) == 0) { /* a power of two: prepend first_hash */
        if (n > 64) {
            return false;
        }
        memcpy(tmp[0], r1, 32);
        memcpy(tmp + 1, proof, n * 32);
        p = tmp;
        len = n + 1;
    }
    uint64_t fn = first - 1, sn = second - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[32], sr[32];
    memcpy(fr, p[0], 32);
    memcpy(sr, p[0], 32);
    for (size_t i = 1; i < len; i++) {
        if (sn == 0) {
            return false;
        }
        if ((fn & 1) || fn == sn) {
            node(p[i], fr, fr);
            node(p[i], sr, sr);
            if (!(fn & 1)) {
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            node(sr, p[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, r1, 32) == 0 && memcmp(sr, r2, 32) == 0;
}

/* C2SP signed note: body, blank line, "— name base64(keyhash4 || sig64)". */
static bool note_verify(const char *note, uint64_t *size, uint8_t root_[32])
{
    const char *blank = strstr(note, "\n\n");
    if (!blank) {
        return false;
    }
    size_t body_len = (size_t)(blank - note) + 1;
    char line[256];
    snprintf(line, sizeof line, "\xe2\x80\x94 %s ", KEYNAME);
    const char *sigl = strstr(blank + 2, line);
    if (!sigl) {
        return false;
    }
    const char *b64 = sigl + strlen(line);
    size_t b64n = strcspn(b64, "\n");
    uint8_t raw[68];
    size_t rn = 0;
    if (sodium_base642bin(raw, sizeof raw, b64, b64n, NULL, &rn, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        rn != 68) {
        return false;
    }
    uint8_t kh[32];
    uint8_t nl = '\n', alg = 1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)KEYNAME, strlen(KEYNAME));
    crypto_hash_sha256_update(&st, &nl, 1);
    crypto_hash_sha256_update(&st, &alg, 1);
    crypto_hash_sha256_update(&st, PK, 32);
    crypto_hash_sha256_final(&st, kh);
    if (memcmp(kh, raw, 4) != 0 ||
        crypto_sign_verify_detached(raw + 4, (const uint8_t *)note, body_len, PK) != 0) {
        return false;
    }
    /* origin \n size \n root */
    const char *l2 = strchr(note, '\n');
    if (!l2) {
        return false;
    }
    *size = strtoull(l2 + 1, NULL, 10);
    const char *l3 = strchr(l2 + 1, '\n');
    size_t got = 0;
    return l3 &&
           sodium_base642bin(root_, 32, l3 + 1, strcspn(l3 + 1, "\n"), NULL, &got, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           got == 32;
}

static bool b64_32(const char *s, uint8_t out[32])
{
    size_t n = 0;
    return s &&
           sodium_base642bin(out, 32, s, strlen(s), NULL, &n, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           n == 32;
}

/* ---- a webhook receiver: HTTPS with the vault's own certificate ---- */

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static char hook_body[8192];
static int hook_count;
static struct MHD_Daemon *hook_d;
static unsigned hook_port;

typedef struct hook_req {
    char b[8192];
    size_t n;
} hook_req;

static enum MHD_Result hook_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version, const char *up,
                                    size_t *up_size, void **ctx)
{
    hook_req *r = *ctx;
    if (!r) {
        *ctx = calloc(1, sizeof(hook_req));
        return MHD_YES;
    }
    if (*up_size) {
        size_t k = *up_size < sizeof r->b - 1 - r->n ? *up_size : sizeof r->b - 1 - r->n;
        memcpy(r->b + r->n, up, k);
        r->n += k;
        *up_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&hook_mu);
    snprintf(hook_body, sizeof hook_body, "%s", r->b);
    hook_count++;
    pthread_mutex_unlock(&hook_mu);
    free(r);
    *ctx = NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *p = calloc(1, 1 << 20);
    size_t n = fread(p, 1, (1 << 20) - 1, f);
    p[n] = '\0';
    fclose(f);
    return p;
}

static int udp_listener(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Drains a UDP socket; returns how many datagrams contained needle. */
static int udp_drain(int fd, const char *needle, char *last, size_t last_max)
{
    char b[70000];
    int n = 0;
    for (;;) {
        ssize_t k = recv(fd, b, sizeof b - 1, 0);
        if (k <= 0) {
            break;
        }
        b[k] = '\0';
        if (strstr(b, needle)) {
            n++;
            if (last) {
                snprintf(last, last_max, "%s", b);
            }
        }
    }
    return n;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static uint64_t log_size(void)
{
    json_t *j = NULL;
    h_json(&S, "GET", "/healthz", NULL, NULL, &j);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "audit_entries"));
    json_decref(j);
    return n;
}

TEST(t_start)
{
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "7", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "12", NULL};
    EXPECT_INT(h_cli(&S, NULL, demo), 0);
    /* the vault's audit key, from audit.pub */
    char p[700];
    snprintf(p, sizeof p, "%s/audit.pub", S.dir);
    char *pub = read_text(p);
    EXPECT(pub != NULL);
    if (pub) {
        const char *e = strstr(pub, "ed25519 "), *k = strstr(pub, "key_name ");
        size_t n = 0;
        EXPECT(e && k && sodium_hex2bin(PK, 32, e + 8, 64, NULL, &n, NULL) == 0 && n == 32);
        if (k) {
            snprintf(KEYNAME, sizeof KEYNAME, "%.*s", (int)strcspn(k + 9, "\n"), k + 9);
        }
        free(pub);
    }
    /* witnesses: a file, syslog over UDP, a webhook over HTTPS; a SIEM over UDP */
    udp_witness = udp_listener(&udp_witness_port);
    udp_siem = udp_listener(&udp_siem_port);
    char key[700], cert[700];
    snprintf(key, sizeof key, "%s/tls/key.pem", S.dir);
    snprintf(cert, sizeof cert, "%s/tls/cert.pem", S.dir);
    char *kp = read_text(key), *cp = read_text(cert);
    hook_d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, NULL, NULL, hook_handler,
                         NULL, MHD_OPTION_HTTPS_MEM_KEY, kp, MHD_OPTION_HTTPS_MEM_CERT, cp,
                         MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    EXPECT(hook_d != NULL);
    if (hook_d) {
        hook_port = MHD_get_daemon_info(hook_d, MHD_DAEMON_INFO_BIND_PORT)->port;
    }
    free(kp);
    free(cp);
    snprintf(p, sizeof p, "%s/custos.json", S.dir);
    FILE *f = fopen(p, "w");
    fprintf(f,
            "{\"audit\":{\"checkpoint_every\":20,\"checkpoint_seconds\":0.5,"
            "\"witness_file\":\"%s/witness.log\",\"witness_syslog\":\"127.0.0.1:%u\","
            "\"witness_webhook\":\"https://localhost:%u/checkpoints\",\"webhook_cacert\":\"%s\","
            "\"siem_syslog\":\"127.0.0.1:%u\"},\"access\":{\"second_factor\":\"off\"}}\n",
            root, udp_witness_port, hook_port, cert, udp_siem_port);
    fclose(f);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    EXPECT(h_login(&S, "steward1", DEMO_PW, tok_st1));
    EXPECT(h_login(&S, "sales1", DEMO_PW, tok_sales1));
    EXPECT(h_login(&S, "service1", DEMO_PW, tok_service1));
    EXPECT(h_login(&S, "auditor1", DEMO_PW, tok_aud));
    EXPECT(h_login(&S, "legal1", DEMO_PW, tok_legal));
    EXPECT(h_login(&S, "security1", DEMO_PW, tok_sec));
    EXPECT(h_login(&S, "admin", DEMO_PW, tok_admin));
}

TEST(t_who_reads_the_log)
{
    const char *yes[] = {tok_aud, tok_legal, tok_sec};
    const char *no[] = {tok_st1, tok_sales1, tok_service1, tok_admin};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_INT(h_json(&S, "GET", "/v1/audit/entries?limit=1", yes[i], NULL, NULL), 200);
    }
    for (size_t i = 0; i < 4; i++) {
        EXPECT_INT(h_json(&S, "GET", "/v1/audit/entries?limit=1", no[i], NULL, NULL), 403);
        EXPECT_INT(h_json(&S, "GET", "/v1/audit/checkpoint", no[i], NULL, NULL), 403);
    }
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/checkpoint", NULL, NULL, NULL), 401);
}

static char cust[ID_LEN + 1];
static int64_t t_before_us, t_after_us;

TEST(t_completeness)
{
    /* K operations, mixed roles, allowed and denied: exactly K entries, in order. */
    uint64_t start = log_size();
    t_before_us = clock_now_us();
    json_t *j = NULL;
    static const char *const expect[] = {
        "customer.create", "customer.read",      "customer.read",      "customer.read",
        "customer.read",   "customer.update",    "customer.search",    "customer.search",
        "login",           "transaction.create", "communication.read", "customer.list"};
    static const char *const decision[] = {"allow", "allow", "allow", "deny",  "deny", "deny",
                                           "allow", "deny",  "deny",  "allow", "deny", "allow"};
    EXPECT_INT(h_json(&S, "POST", "/v1/customers", tok_st1,
                      "{\"name\":\"审计测试\",\"phone\":\"13544445555\"}", &j),
               201);
    snprintf(cust, sizeof cust, "%s", jstr(j, "id") ? jstr(j, "id") : "");
    json_decref(j);
    char path[256];
    snprintf(path, sizeof path, "/v1/customers/%s", cust);
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, NULL), 200);
    EXPECT_INT(h_json(&S, "GET", path, tok_sales1, NULL, NULL), 200);
    EXPECT_INT(h_json(&S, "GET", path, tok_admin, NULL, NULL), 403);
    EXPECT_INT(
        h_json(&S, "GET", "/v1/customers/cus_nosuchcustomeraaaaaaaaaaa", tok_st1, NULL, NULL), 404);
    EXPECT_INT(h_json(&S, "PATCH", path, tok_sales1, "{\"phone\":\"13500000000\"}", NULL), 403);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?phone=13544445555", tok_service1, NULL, NULL), 200);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?phone=13544445555", tok_sales1, NULL, NULL), 403);
    EXPECT_INT(h_json(&S, "POST", "/v1/login", NULL,
                      "{\"username\":\"sales1\",\"password\":\"not-the-password\"}", NULL),
               401);
    snprintf(path, sizeof path, "/v1/customers/%s/transactions", cust);
    EXPECT_INT(h_json(&S, "POST", path, tok_sales1,
                      "{\"date\":\"2026-05-01\",\"description\":\"明 黄花梨圈椅\",\"price\":"
                      "98000000}",
                      NULL),
               201);
    snprintf(path, sizeof path, "/v1/customers/%s/communications", cust);
    EXPECT_INT(h_json(&S, "GET", path, tok_sales1, NULL, NULL), 403);
    EXPECT_INT(h_json(&S, "GET", "/v1/customers?limit=5", tok_sales1, NULL, NULL), 200);
    t_after_us = clock_now_us();
    size_t k = sizeof expect / sizeof expect[0];
    snprintf(path, sizeof path, "/v1/audit/entries?after=%llu&limit=1000",
             (unsigned long long)(start - 1));
    EXPECT_INT(h_json(&S, "GET", path, tok_aud, NULL, &j), 200);
    json_t *arr = json_object_get(j, "entries");
    /* the K entries, then this very query */
    size_t got = json_array_size(arr);
    int extra_checkpoints = 0;
    size_t m = 0;
    for (size_t i = 0; i < got; i++) {
        json_t *d = json_object_get(json_array_get(arr, i), "decoded");
        const char *act = jstr(d, "action");
        if (act && strcmp(act, "audit.sign") == 0) {
            extra_checkpoints++;
            continue;
        }
        if (m < k) {
            EXPECT_STR(act, expect[m]);
            EXPECT_STR(jstr(d, "decision"), decision[m]);
        } else if (m == k) {
            EXPECT_STR(act, "audit.search");
        }
        m++;
    }
    EXPECT_INT(m, k + 1);
    EXPECT_INT(extra_checkpoints, 0);
    json_decref(j);
}

TEST(t_proofs)
{
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/checkpoint", tok_aud, NULL, &j), 200);
    const char *note = jstr(j, "checkpoint");
    uint64_t size = 0;
    uint8_t tree_root[32];
    EXPECT(note && note_verify(note, &size, tree_root));
    EXPECT(size > 20);
    json_decref(j);
    uint64_t idxs[] = {0, 1, size / 2, size - 1};
    for (size_t i = 0; i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, "/v1/audit/proof/inclusion?index=%llu&size=%llu",
                 (unsigned long long)idxs[i], (unsigned long long)size);
        EXPECT_INT(h_json(&S, "GET", path, tok_aud, NULL, &j), 200);
        uint8_t leaf[32], r[32], proof[64][32];
        size_t n = json_array_size(json_object_get(j, "proof"));
        EXPECT(b64_32(jstr(j, "leaf_hash"), leaf) && b64_32(jstr(j, "root"), r));
        EXPECT(memcmp(r, tree_root, 32) == 0);
        for (size_t k = 0; k < n && k < 64; k++) {
            EXPECT(b64_32(json_string_value(json_array_get(json_object_get(j, "proof"), k)),
                          proof[k]));
        }
        EXPECT(n <= 64 && rfc_verify_inclusion(leaf, idxs[i], size, proof, n, tree_root));
        if (n > 0) {
            proof[n - 1][0] ^= 1;
            EXPECT(!rfc_verify_inclusion(leaf, idxs[i], size, proof, n, tree_root));
        }
        json_decref(j);
    }
    /* consistency of an older tree with the checkpoint */
    for (uint64_t m = 1; m < size; m += size / 3 + 1) {
        char path[128];
        snprintf(path, sizeof path, "/v1/audit/proof/consistency?from=%llu&to=%llu",
                 (unsigned long long)m, (unsigned long long)size);
        EXPECT_INT(h_json(&S, "GET", path, tok_aud, NULL, &j), 200);
        uint8_t r1[32], r2[32], proof[64][32];
        size_t n = json_array_size(json_object_get(j, "proof"));
        EXPECT(b64_32(jstr(j, "root_from"), r1) && b64_32(jstr(j, "root_to"), r2));
        EXPECT(memcmp(r2, tree_root, 32) == 0);
        for (size_t k = 0; k < n && k < 64; k++) {
            EXPECT(b64_32(json_string_value(json_array_get(json_object_get(j, "proof"), k)),
                          proof[k]));
        }
        EXPECT(rfc_verify_consistency(m, size, r1, r2, proof, n));
        r1[3] ^= 1;
        EXPECT(!rfc_verify_consistency(m, size, r1, r2, proof, n));
        json_decref(j);
    }
    EXPECT_INT(
        h_json(&S, "GET", "/v1/audit/proof/inclusion?index=5&size=999999999", tok_aud, NULL, NULL),
        400);
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/proof/inclusion?index=x&size=1", tok_aud, NULL, NULL),
               400);
}

/* ---- the reference verifier (tests/interop/notecheck.go) ---- */

/* Runs notecheck on a JSON document; its exit status, its first line in out. */
static int notecheck(json_t *doc, char *out, size_t outn)
{
    const char *bin = getenv("NOTECHECK_BIN") ? getenv("NOTECHECK_BIN") : "build/notecheck";
    char in[700], cmd[1600];
    snprintf(in, sizeof in, "%s/notecheck.json", root);
    if (json_dump_file(doc, in, JSON_COMPACT) != 0) {
        return -1;
    }
    snprintf(cmd, sizeof cmd, "'%s' < '%s' 2>&1", bin, in);
    FILE *p = popen(cmd, "r");
    if (!p) {
        return -1;
    }
    out[0] = '\0';
    if (!fgets(out, (int)outn, p)) {
        out[0] = '\0';
    }
    out[strcspn(out, "\n")] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The vkey line of the vault's audit.pub. */
static bool vault_vkey(char *out, size_t n)
{
    char p[700];
    snprintf(p, sizeof p, "%s/audit.pub", S.dir);
    char *t = read_text(p);
    const char *v = t ? strstr(t, "vkey ") : NULL;
    bool ok = v != NULL;
    if (ok) {
        v += 5;
        size_t k = strcspn(v, "\n");
        ok = k < n;
        snprintf(out, n, "%.*s", (int)k, v);
    }
    free(t);
    return ok;
}

TEST(t_reference_verifier)
{
    /* A signed checkpoint, one entry's inclusion in it and an older tree's consistency with
     * it, checked by the Go reference implementations of signed notes and RFC 6962 proofs. */
    char vkey[512], line[512];
    EXPECT(vault_vkey(vkey, sizeof vkey));
    json_t *cp = NULL, *inc = NULL, *con = NULL, *ents = NULL;
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/checkpoint", tok_aud, NULL, &cp), 200);
    const char *note = jstr(cp, "checkpoint");
    uint64_t size = 0;
    uint8_t rt[32];
    EXPECT(note && note_verify(note, &size, rt));
    uint64_t idx = size / 3, from = size / 2 + 1;
    char path[160];
    snprintf(path, sizeof path, "/v1/audit/proof/inclusion?index=%llu&size=%llu",
             (unsigned long long)idx, (unsigned long long)size);
    EXPECT_INT(h_json(&S, "GET", path, tok_aud, NULL, &inc), 200);
    snprintf(path, sizeof path, "/v1/audit/proof/consistency?from=%llu&to=%llu",
             (unsigned long long)from, (unsigned long long)size);
    EXPECT_INT(h_json(&S, "GET", path, tok_aud, NULL, &con), 200);
    snprintf(path, sizeof path, "/v1/audit/entries?after=%llu&limit=1",
             (unsigned long long)idx - 1);
    EXPECT_INT(h_json(&S, "GET", path, tok_aud, NULL, &ents), 200);
    json_t *e0 = json_array_get(json_object_get(ents, "entries"), 0);
    EXPECT_INT(json_integer_value(json_object_get(e0, "index")), idx);
    json_t *doc =
        json_pack("{s:s, s:s, s:{s:I, s:I, s:O, s:O, s:O}, s:{s:I, s:I, s:O, s:O}}", "vkey", vkey,
                  "checkpoint", note ? note : "", "inclusion", "index", (json_int_t)idx, "size",
                  (json_int_t)size, "leaf_hash", json_object_get(inc, "leaf_hash"), "proof",
                  json_object_get(inc, "proof"), "entry", json_object_get(e0, "entry"),
                  "consistency", "from", (json_int_t)from, "to", (json_int_t)size, "root_from",
                  json_object_get(con, "root_from"), "proof", json_object_get(con, "proof"));
    EXPECT(doc != NULL);
    EXPECT_INT(notecheck(doc, line, sizeof line), 0);
    EXPECT_STR(line, "ok");
    /* and it refuses what it should: a flipped proof hash, another entry, a forged note */
    json_t *bad = json_deep_copy(doc);
    json_t *p0 = json_array_get(json_object_get(json_object_get(bad, "inclusion"), "proof"), 0);
    char flipped[64];
    snprintf(flipped, sizeof flipped, "%s", json_string_value(p0));
    flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
    json_string_set(p0, flipped);
    EXPECT_INT(notecheck(bad, line, sizeof line), 1);
    EXPECT(strstr(line, "inclusion") != NULL);
    json_decref(bad);
    bad = json_deep_copy(doc);
    json_object_set_new(json_object_get(bad, "inclusion"), "index",
                        json_integer((json_int_t)idx + 1));
    EXPECT_INT(notecheck(bad, line, sizeof line), 1);
    json_decref(bad);
    bad = json_deep_copy(doc);
    char forged[4096];
    snprintf(forged, sizeof forged, "%s", note ? note : "");
    char *sz = strchr(forged, '\n');
    if (sz) {
        sz[1] = sz[1] == '9' ? '8' : '9'; /* another tree size, same signature */
    }
    json_object_set_new(bad, "checkpoint", json_string(forged));
    EXPECT_INT(notecheck(bad, line, sizeof line), 1);
    EXPECT(strstr(line, "signature") != NULL);
    json_decref(bad);
    bad = json_deep_copy(doc);
    json_t *c0 = json_object_get(bad, "consistency");
    json_object_set_new(c0, "from", json_integer((json_int_t)from - 1));
    EXPECT_INT(notecheck(bad, line, sizeof line), 1);
    EXPECT(strstr(line, "consistency") != NULL);
    json_decref(bad);
    json_decref(doc);
    json_decref(cp);
    json_decref(inc);
    json_decref(con);
    json_decref(ents);
}

TEST(t_reports)
{
    char path[512];
    json_t *j = NULL;
    snprintf(path, sizeof path, "/v1/audit/reports/subject?customer=%s", cust);
    EXPECT_INT(h_json(&S, "GET", path, tok_legal, NULL, &j), 200);
    json_t *actors = json_object_get(j, "actors");
    bool st = false, sa = false, sv = false;
    size_t i;
    json_t *it;
    json_array_foreach(actors, i, it)
    {
        st = st || !strcmp(json_string_value(it), "steward1");
        sa = sa || !strcmp(json_string_value(it), "sales1");
        sv = sv || !strcmp(json_string_value(it), "service1");
    }
    EXPECT(st && sa && sv); /* created and read; read; found by search */
    EXPECT(json_array_size(json_object_get(j, "accesses")) >= 7);
    json_decref(j);
    char f[40], t[40];
    clock_rfc3339(t_before_us, f);
    clock_rfc3339(t_after_us, t);
    snprintf(path, sizeof path, "/v1/audit/reports/actor?actor=sales1&from=%s&to=%s", f, t);
    EXPECT_INT(h_json(&S, "GET", path, tok_sec, NULL, &j), 200);
    bool found = false;
    json_array_foreach(json_object_get(j, "customers"), i, it)
    {
        found = found || !strcmp(json_string_value(it), cust);
    }
    EXPECT(found);
    EXPECT(json_array_size(json_object_get(j, "customers")) >= 2); /* the listing read others */
    json_array_foreach(json_object_get(j, "entries"), i, it)
    {
        EXPECT_STR(jstr(json_object_get(it, "decoded"), "actor"), "sales1");
        EXPECT_STR(jstr(json_object_get(it, "decoded"), "decision"), "allow");
    }
    json_decref(j);
    EXPECT_INT(h_json(&S, "GET", "/v1/audit/reports/subject?customer=../x", tok_legal, NULL, NULL),
               400);
}

TEST(t_siem)
{
    buf r;
    buf_init(&r, 0);
    EXPECT_INT(h_req(&S, "GET", "/v1/audit/export?format=jsonl&limit=1000", tok_sec, NULL, NULL, 0,
                     &r, NULL),
               200);
    int lines = 0, good = 0;
    char *save = NULL;
    for (char *l = strtok_r((char *)buf_cstr(&r), "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(l, 0, NULL);
        uint8_t leaf[32], want[32];
        char *canon = json_dumps(json_object_get(o, "entry"),
                                 JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        uint8_t zero = 0;
        if (canon && b64_32(jstr(o, "leaf_hash"), want)) {
            h_sha(&zero, 1, (const uint8_t *)canon, strlen(canon), NULL, 0, leaf);
            good += memcmp(leaf, want, 32) == 0;
        }
        free(canon);
        json_decref(o);
        lines++;
    }
    EXPECT(lines > 20);
    EXPECT_INT(good, lines); /* every exported line can be checked against the tree */
    /* no personal value of the customer created above reaches the SIEM copy */
    EXPECT(strstr(buf_cstr(&r), "13544445555") == NULL);
    EXPECT(strstr(buf_cstr(&r), "\\u5BA1") == NULL && strstr(buf_cstr(&r), "审计测试") == NULL);
    buf_reset(&r);
    EXPECT_INT(h_req(&S, "GET", "/v1/audit/export?format=syslog&limit=10", tok_sec, NULL, NULL, 0,
                     &r, NULL),
               200);
    EXPECT(strncmp(buf_cstr(&r), "<110>1 ", 7) == 0);
    EXPECT(strstr(buf_cstr(&r), "[custos@32473 index=\"") != NULL);
    buf_free(&r);
    buf_init(&r, 0);
    EXPECT_INT(h_req(&S, "GET", "/v1/audit/export", tok_sales1, NULL, NULL, 0, &r, NULL), 403);
    buf_free(&r);
    /* the SIEM copy is sent by the witness thread: wait for it, with a deadline */
    int siem = 0;
    int64_t dl = h_deadline(30 * 1000);
    while ((siem += udp_drain(udp_siem, "[custos@32473 index=", NULL, 0)) == 0 && h_poll(dl)) {
    }
    EXPECT(siem > 0);
}

TEST(t_witnesses)
{
    /* checkpoints every 0.5 s with new entries: wait for each witness in turn, with one
     * deadline (the webhook, the file, the syslog datagram) */
    int64_t dl = h_deadline(30 * 1000);
    int hooks = 0;
    for (;;) {
        pthread_mutex_lock(&hook_mu);
        hooks = hook_count;
        pthread_mutex_unlock(&hook_mu);
        if (hooks > 0 || !h_poll(dl)) {
            break;
        }
    }
    char p[700];
    snprintf(p, sizeof p, "%s/witness.log", root);
    char *file = read_text(p);
    while (!(file && strstr(file, KEYNAME)) && h_poll(dl)) {
        free(file);
        file = read_text(p);
    }
    EXPECT(file && strstr(file, KEYNAME) != NULL);
    free(file);
    char last[70000] = "";
    int got = 0;
    while ((got += udp_drain(udp_witness, "checkpoint", last, sizeof last)) == 0 && h_poll(dl)) {
    }
    EXPECT(got > 0);
    EXPECT(strncmp(last, "<110>1 ", 7) == 0);
    pthread_mutex_lock(&hook_mu);
    json_t *j = json_loads(hook_body, 0, NULL);
    pthread_mutex_unlock(&hook_mu);
    uint64_t size = 0;
    uint8_t rt[32];
    EXPECT(hooks > 0);
    const char *note = jstr(j, "checkpoint");
    EXPECT(note && note_verify(note, &size, rt));
    json_decref(j);
}

TEST(t_fail_closed)
{
    /* The audit log cannot grow (file size limit on the server process): every customer read
     * is refused with 503 and no customer field; service comes back when space returns. */
    char path[256];
    snprintf(path, sizeof path, "/v1/customers/%s", cust);
    struct rlimit small = {1, RLIM_INFINITY}, big = {RLIM_INFINITY, RLIM_INFINITY};
    EXPECT(prlimit(S.pid, RLIMIT_FSIZE, &small, NULL) == 0);
    for (int i = 0; i < 3; i++) {
        buf r;
        buf_init(&r, 0);
        EXPECT_INT(h_req(&S, "GET", path, tok_st1, NULL, NULL, 0, &r, NULL), 503);
        EXPECT(strstr(buf_cstr(&r), "审计测试") == NULL);
        EXPECT(strstr(buf_cstr(&r), "13544445555") == NULL);
        EXPECT(strstr(buf_cstr(&r), "unavailable") != NULL);
        buf_free(&r);
    }
    EXPECT(prlimit(S.pid, RLIMIT_FSIZE, &big, NULL) == 0);
    json_t *j = NULL;
    EXPECT_INT(h_json(&S, "GET", path, tok_st1, NULL, &j), 200);
    EXPECT_STR(jstr(j, "name"), "审计测试");
    json_decref(j);
}

static char saved_cp[700], old_copy[700];

TEST(t_cli_checkpoint_and_verify)
{
    /* an auditor keeps a checkpoint apart from the server */
    snprintf(saved_cp, sizeof saved_cp, "%s/held-apart.checkpoint", root);
    char addr[64], cacert[700];
    snprintf(addr, sizeof addr, "https://127.0.0.1:%u", S.port);
    snprintf(cacert, sizeof cacert, "%s", S.cacert);
    setenv("CUSTOS_ADDR", addr, 1);
    setenv("CUSTOS_CACERT", cacert, 1);
    setenv("CUSTOS_TOKEN", tok_aud, 1);
    const char *save[] = {"audit", "checkpoint", "--save", saved_cp, NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, save), 0);
    buf_free(&out);
    /* an older state of the whole log, for the roll-back test */
    char src[700];
    snprintf(src, sizeof src, "%s/audit.db", S.dir);
    snprintf(old_copy, sizeof old_copy, "%s/old-audit.db", root);
    sqlite3 *a, *b;
    sqlite3_open(src, &a);
    sqlite3_open(old_copy, &b);
    sqlite3_backup *bk = sqlite3_backup_init(b, "main", a, "main");
    sqlite3_backup_step(bk, -1);
    sqlite3_backup_finish(bk);
    sqlite3_close(a);
    sqlite3_close(b);
    /* more activity after the copy, then a checkpoint that covers it */
    for (int i = 0; i < 5; i++) {
        EXPECT_INT(h_json(&S, "GET", "/v1/customers?limit=1", tok_st1, NULL, NULL), 200);
    }
    unlink(saved_cp);
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, save), 0);
    buf_free(&out);
    EXPECT_INT(h_stop(&S), 0);
    const char *v1[] = {"audit", "verify", S.dir, NULL};
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, v1), 0);
    EXPECT(strstr(buf_cstr(&out), "audit log OK") != NULL);
    buf_free(&out);
    const char *v2[] = {"audit", "verify", S.dir, "--checkpoint", saved_cp, NULL};
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, v2), 0);
    buf_free(&out);
}

/* A copy of the vault's audit log with sql applied, verified by the CLI; the index named. */
static long tampered(const char *sql, bool with_saved, const char *replace_with)
{
    char dir[700], cmd[2400], db[800];
    snprintf(dir, sizeof dir, "%s/tamper", root);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp '%s/audit.pub' '%s/'", dir, dir,
             S.dir, dir);
    if (system(cmd) != 0) {
        return -100;
    }
    snprintf(db, sizeof db, "%s/audit.db", dir);
    char src[800];
    if (replace_with) {
        snprintf(src, sizeof src, "%s", replace_with);
    } else {
        snprintf(src, sizeof src, "%s/audit.db", S.dir);
    }
    sqlite3 *a, *b;
    sqlite3_open(src, &a);
    sqlite3_open(db, &b);
    sqlite3_backup *bk = sqlite3_backup_init(b, "main", a, "main");
    sqlite3_backup_step(bk, -1);
    sqlite3_backup_finish(bk);
    sqlite3_close(a);
    if (sql && sqlite3_exec(b, sql, NULL, NULL, NULL) != SQLITE_OK) {
        printf("    tamper SQL failed: %s\n", sqlite3_errmsg(b));
    }
    sqlite3_close(b);
    const char *v[] = {"audit",  "verify", dir, "--json", with_saved ? "--checkpoint" : NULL,
                       saved_cp, NULL};
    buf out;
    buf_init(&out, 0);
    int rc = h_cli(&S, &out, v);
    json_t *j = json_loads(buf_cstr(&out), 0, NULL);
    long idx = rc == 0 ? -1 : (long)json_integer_value(json_object_get(j, "bad_index"));
    if (rc != 0 && !j) {
        printf("    verify said: %s\n", buf_cstr(&out));
    }
    json_decref(j);
    buf_free(&out);
    return idx;
}

static uint64_t entries_in(const char *db)
{
    sqlite3 *h;
    sqlite3_open(db, &h);
    sqlite3_stmt *st;
    uint64_t n = 0;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM entries", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        n = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

TEST(t_offline_tamper)
{
    char live[700];
    snprintf(live, sizeof live, "%s/audit.db", S.dir);
    uint64_t n = entries_in(live);
    EXPECT(n > 40);
    EXPECT_INT(tampered(NULL, true, NULL), -1); /* the untouched copy verifies */
    /* one byte of one entry */
    EXPECT_INT(tampered("UPDATE entries SET entry=CAST(replace(CAST(entry AS TEXT),'\"v\":1',"
                        "'\"v\":2') AS BLOB) WHERE idx=10",
                        false, NULL),
               10);
    /* one deleted */
    EXPECT_INT(tampered("DELETE FROM entries WHERE idx=11", false, NULL), 11);
    /* one inserted */
    EXPECT_INT(tampered("UPDATE entries SET idx=idx+1000000 WHERE idx>=12;"
                        "UPDATE entries SET idx=idx-1000000+1 WHERE idx>=1000000;"
                        "INSERT INTO entries SELECT 12, ts, actor, action, customer, decision, "
                        "entry, leaf FROM entries WHERE idx=3;",
                        false, NULL),
               12);
    /* two swapped */
    EXPECT_INT(tampered("UPDATE entries SET idx=-5 WHERE idx=14; UPDATE entries SET idx=14 "
                        "WHERE idx=15; UPDATE entries SET idx=15 WHERE idx=-5;",
                        false, NULL),
               14);
    /* the tail cut, with the checkpoints that covered it: the one held apart catches it */
    char sql[256];
    snprintf(sql, sizeof sql,
             "DELETE FROM entries WHERE idx>=%llu; DELETE FROM checkpoints WHERE size>%llu",
             (unsigned long long)(n - 3), (unsigned long long)(n - 3));
    EXPECT_INT(tampered(sql, true, NULL), (long)(n - 3));
    /* the whole log rolled back to an older copy */
    uint64_t old_n = entries_in(old_copy);
    EXPECT(old_n < n);
    EXPECT_INT(tampered(NULL, true, old_copy), (long)old_n);
}

TEST(t_server_refuses_bad_log)
{
    char live[700], keep[700], cmd[2200];
    snprintf(live, sizeof live, "%s/audit.db", S.dir);
    snprintf(keep, sizeof keep, "%s/keep-audit.db", root);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s' && rm -f '%s-wal' '%s-shm'", live, keep,
             old_copy, live, live, live);
    EXPECT_INT(system(cmd), 0);
    EXPECT(!h_start(&S)); /* rolled back: refused */
    char *log = read_text(S.log);
    EXPECT(log && strstr(log, "truncated or rolled back") != NULL);
    free(log);
    snprintf(cmd, sizeof cmd, "rm -f '%s'", live);
    EXPECT_INT(system(cmd), 0);
    EXPECT(!h_start(&S)); /* deleted: refused */
    log = read_text(S.log);
    EXPECT(log && strstr(log, "log is missing") != NULL);
    free(log);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", keep, live);
    EXPECT_INT(system(cmd), 0);
    EXPECT(h_start(&S)); /* the real log again: serves */
    EXPECT_INT(h_stop(&S), 0);
}

int main(void)
{
    test_init();
    h_setup(&S, "audit");
    snprintf(root, sizeof root, "%s", S.dir);
    *strrchr(root, '/') = '\0';
    RUN(t_start);
    if (test_failed_) {
        printf("the server did not start; see %s\n", S.log);
        return test_done("audit_log_test");
    }
    RUN(t_who_reads_the_log);
    RUN(t_completeness);
    RUN(t_proofs);
    RUN(t_reference_verifier);
    RUN(t_reports);
    RUN(t_siem);
    RUN(t_witnesses);
    RUN(t_fail_closed);
    RUN(t_cli_checkpoint_and_verify);
    RUN(t_offline_tamper);
    RUN(t_server_refuses_bad_log);
    if (S.pid) {
        h_stop(&S);
    }
    if (hook_d) {
        MHD_stop_daemon(hook_d);
    }
    return test_done("audit_log_test");
}
