/*
 * demo_test.c - the synthetic data generator: the generator's known answers and
 * bounds, and that what it makes is valid, canonical, internally consistent (ID number
 * and birth date, era and description, lot and date), shaped like the real thing
 * (proportions of optional fields, cities), and the same for the same seed.
 */
#include <stdint.h>

#include "model/demo.h"
#include "test.h"

#define N_CUSTOMERS 2000

static size_t nitems(const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++) {
        n += *p == ',';
    }
    return n;
}

static bool starts_with(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Every value is already canonical: validating it again gives the same text. */
static bool canonical(const record *rec)
{
    size_t n = model_nfields(rec->type);
    for (size_t i = 0; i < n; i++) {
        if (rec->v[i] == NULL) {
            continue;
        }
        record copy;
        record_init(&copy, rec->type);
        bool same = record_set(&copy, (int)i, rec->v[i], strlen(rec->v[i])) == ERR_OK &&
                    strcmp(copy.v[i], rec->v[i]) == 0;
        record_free(&copy);
        if (!same) {
            printf("  field %s is not canonical\n", model_field(rec->type, (int)i)->name);
            return false;
        }
    }
    return true;
}

static bool records_equal(const record *a, const record *b)
{
    for (int i = 0; i < REC_MAX_FIELDS; i++) {
        if ((a->v[i] == NULL) != (b->v[i] == NULL)) {
            return false;
        }
        if (a->v[i] != NULL && strcmp(a->v[i], b->v[i]) != 0) {
            return false;
        }
    }
    return true;
}

TEST(rng_known_answers)
{
    /* Computed independently (splitmix64 seeding, xoshiro256** reference algorithm). */
    demo_rng r;
    demo_rng_seed(&r, 0);
    EXPECT(demo_rng_next(&r) == 0x99ec5f36cb75f2b4ULL);
    EXPECT(demo_rng_next(&r) == 0xbf6e1f784956452aULL);
    EXPECT(demo_rng_next(&r) == 0x1a5f849d4933e6e0ULL);
    demo_rng_seed(&r, 20260101);
    EXPECT(demo_rng_next(&r) == 0x57e28e0407eb6adeULL);
    EXPECT(demo_rng_next(&r) == 0xae12aadc7d2056a3ULL);
    EXPECT(demo_rng_next(&r) == 0x007b518906d1df4fULL);
}

TEST(rng_below_bounds_and_spread)
{
    demo_rng r;
    demo_rng_seed(&r, 7);
    EXPECT_INT(demo_rng_below(&r, 0), 0);
    EXPECT_INT(demo_rng_below(&r, 1), 0);
    int counts[10] = {0};
    bool in_range = true;
    for (int i = 0; i < 100000; i++) {
        uint32_t x = demo_rng_below(&r, 10);
        in_range = in_range && x < 10;
        if (x < 10) {
            counts[x]++;
        }
    }
    EXPECT(in_range);
    for (int i = 0; i < 10; i++) {
        EXPECT(counts[i] > 9500 && counts[i] < 10500);
    }
    uint32_t big_max = 0;
    for (int i = 0; i < 10000; i++) {
        uint32_t x = demo_rng_below(&r, 0xFFFFFFFFu);
        EXPECT(x < 0xFFFFFFFFu);
        big_max = x > big_max ? x : big_max;
    }
    EXPECT(big_max > 0xF0000000u);
}

/* Checks one customer; counts what the proportions test looks at. */
typedef struct tally {
    int ids, ids_home_city, emails, wechats, landlines, notes, addr_home, consent, vip[6];
    int bad;
} tally;

static void check_customer(const record *c, const char *dept, tally *t)
{
    bool ok = record_check_required(c) == ERR_OK && canonical(c);
    ok = ok && c->v[CF_NAME] != NULL && c->v[CF_BIRTH_DATE] != NULL && c->v[CF_PHONE] != NULL &&
         c->v[CF_ADDRESS] != NULL && c->v[CF_PREFERENCES] != NULL && c->v[CF_VIP_LEVEL] != NULL &&
         c->v[CF_MARKETING_CONSENT] != NULL;
    ok = ok && strcmp(c->v[CF_DEPARTMENT], dept) == 0;
    if (!ok) {
        t->bad++;
        return;
    }
    size_t nl = strlen(c->v[CF_NAME]);
    ok = ok && nl >= 6 && nl <= 12; /* 2 to 4 characters of 3 bytes */
    const char *id = c->v[CF_ID_NUMBER];
    if (id != NULL) {
        t->ids++;
        const char *bd = c->v[CF_BIRTH_DATE];
        ok = ok && id_number_valid(id, strlen(id));
        ok = ok && memcmp(id + 6, bd, 4) == 0 && memcmp(id + 10, bd + 5, 2) == 0 &&
             memcmp(id + 12, bd + 8, 2) == 0;
        char first17[18];
        memcpy(first17, id, 17);
        first17[17] = '\0';
        ok = ok && id_number_check_digit(first17) == id[17];
        bool bj = strcmp(dept, "beijing") == 0;
        t->ids_home_city += starts_with(id, bj ? "1101" : "3101");
    }
    int year = atoi(c->v[CF_BIRTH_DATE]);
    ok = ok && year >= 1945 && year <= 2000;
    t->emails += c->v[CF_EMAIL] != NULL;
    t->wechats += c->v[CF_WECHAT] != NULL;
    t->notes += c->v[CF_NOTES] != NULL;
    t->landlines += c->v[CF_PHONE][0] == '0';
    if (c->v[CF_PHONE][0] == '0') {
        ok = ok && (starts_with(c->v[CF_PHONE], "010-") || starts_with(c->v[CF_PHONE], "021-")) &&
             strlen(c->v[CF_PHONE]) == 12;
    } else {
        ok = ok && strlen(c->v[CF_PHONE]) == 11;
    }
    t->addr_home +=
        starts_with(c->v[CF_ADDRESS], strcmp(dept, "beijing") == 0 ? "北京市" : "上海市");
    ok = ok && (starts_with(c->v[CF_ADDRESS], "北京市") || starts_with(c->v[CF_ADDRESS], "上海市"));
    size_t np = nitems(c->v[CF_PREFERENCES]);
    ok = ok && np >= 1 && np <= 3;
    int vip = atoi(c->v[CF_VIP_LEVEL]);
    ok = ok && vip >= 0 && vip <= 5;
    if (vip >= 0 && vip <= 5) {
        t->vip[vip]++;
    }
    t->consent += strcmp(c->v[CF_MARKETING_CONSENT], "true") == 0;
    if (c->v[CF_WECHAT] != NULL) {
        size_t wl = strlen(c->v[CF_WECHAT]);
        ok = ok && wl >= 6 && wl <= 30;
    }
    if (!ok) {
        t->bad++;
    }
}

TEST(customers_valid_and_plausible)
{
    demo_rng r;
    demo_rng_seed(&r, 20260315);
    tally t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < N_CUSTOMERS; i++) {
        const char *dept = i % 2 ? "shanghai" : "beijing";
        record c;
        record_init(&c, REC_CUSTOMER);
        EXPECT_OK(demo_customer(&r, dept, i % 2 ? "sales2" : "sales1", &c));
        check_customer(&c, dept, &t);
        record_free(&c);
    }
    EXPECT_INT(t.bad, 0);
    /* Proportions: loose bounds around the generator's targets. */
    EXPECT(t.ids > N_CUSTOMERS * 85 / 100 && t.ids < N_CUSTOMERS * 95 / 100);
    EXPECT(t.ids_home_city > t.ids * 65 / 100 && t.ids_home_city < t.ids * 85 / 100);
    EXPECT(t.emails > N_CUSTOMERS * 55 / 100 && t.emails < N_CUSTOMERS * 65 / 100);
    EXPECT(t.wechats > N_CUSTOMERS * 45 / 100 && t.wechats < N_CUSTOMERS * 55 / 100);
    EXPECT(t.landlines > N_CUSTOMERS * 8 / 100 && t.landlines < N_CUSTOMERS * 16 / 100);
    EXPECT(t.notes > N_CUSTOMERS * 30 / 100 && t.notes < N_CUSTOMERS * 40 / 100);
    EXPECT(t.addr_home > N_CUSTOMERS * 85 / 100 && t.addr_home < N_CUSTOMERS * 95 / 100);
    EXPECT(t.consent > N_CUSTOMERS * 58 / 100 && t.consent < N_CUSTOMERS * 72 / 100);
    EXPECT(t.vip[0] > t.vip[2] && t.vip[2] > t.vip[4] && t.vip[5] > 0);
}

TEST(customers_differ_from_one_another)
{
    /* Phones and ID numbers are drawn from large spaces: few repeats in 2,000. */
    demo_rng r;
    demo_rng_seed(&r, 99);
    static char phones[N_CUSTOMERS][24];
    int repeats = 0;
    for (int i = 0; i < N_CUSTOMERS; i++) {
        record c;
        record_init(&c, REC_CUSTOMER);
        EXPECT_OK(demo_customer(&r, "beijing", "sales1", &c));
        snprintf(phones[i], sizeof phones[i], "%s", c.v[CF_PHONE] ? c.v[CF_PHONE] : "");
        record_free(&c);
        for (int k = 0; k < i; k++) {
            repeats += strcmp(phones[k], phones[i]) == 0;
        }
    }
    EXPECT(repeats <= 2);
}

TEST(same_seed_same_data)
{
    demo_rng a, b, c;
    demo_rng_seed(&a, 42);
    demo_rng_seed(&b, 42);
    demo_rng_seed(&c, 43);
    int same = 0, differ_from_other_seed = 0;
    for (int i = 0; i < 300; i++) {
        record x, y, z;
        record_init(&x, REC_CUSTOMER);
        record_init(&y, REC_CUSTOMER);
        record_init(&z, REC_CUSTOMER);
        EXPECT_OK(demo_customer(&a, "shanghai", "sales2", &x));
        EXPECT_OK(demo_customer(&b, "shanghai", "sales2", &y));
        EXPECT_OK(demo_customer(&c, "shanghai", "sales2", &z));
        same += records_equal(&x, &y);
        differ_from_other_seed += !records_equal(&x, &z);
        record_free(&x);
        record_free(&y);
        record_free(&z);

        record_init(&x, REC_TRANSACTION);
        record_init(&y, REC_TRANSACTION);
        EXPECT_OK(demo_transaction(&a, &x));
        EXPECT_OK(demo_transaction(&b, &y));
        same += records_equal(&x, &y);
        record_free(&x);
        record_free(&y);

        record_init(&x, REC_COMMUNICATION);
        record_init(&y, REC_COMMUNICATION);
        EXPECT_OK(demo_communication(&a, "service1", &x));
        EXPECT_OK(demo_communication(&b, "service1", &y));
        same += records_equal(&x, &y);
        record_free(&x);
        record_free(&y);
        /* keep c in step with a and b */
        record_init(&x, REC_TRANSACTION);
        EXPECT_OK(demo_transaction(&c, &x));
        record_free(&x);
        record_init(&x, REC_COMMUNICATION);
        EXPECT_OK(demo_communication(&c, "service1", &x));
        record_free(&x);
    }
    EXPECT_INT(same, 900);
    EXPECT_INT(differ_from_other_seed, 300);
    EXPECT(memcmp(&a, &b, sizeof a) == 0);
    EXPECT(memcmp(&a, &c, sizeof a) != 0);
}

TEST(transactions_valid_and_consistent)
{
    demo_rng r;
    demo_rng_seed(&r, 5);
    int bad = 0, lots = 0, invoices = 0, big = 0;
    bool categories[16] = {false};
    for (int i = 0; i < N_CUSTOMERS; i++) {
        record t;
        record_init(&t, REC_TRANSACTION);
        EXPECT_OK(demo_transaction(&r, &t));
        bool ok = record_check_required(&t) == ERR_OK && canonical(&t);
        ok = ok && t.v[TF_ERA] && t.v[TF_CATEGORY] && t.v[TF_CURRENCY] && t.v[TF_PAYMENT_METHOD];
        if (ok) {
            int year = atoi(t.v[TF_DATE]);
            ok = year >= 2015 && year <= 2026;
            ok = ok && strcmp(t.v[TF_DATE], "2026-10-31") <= 0;
            /* the description names the era first */
            size_t el = strlen(t.v[TF_ERA]);
            ok = ok && strncmp(t.v[TF_DESCRIPTION], t.v[TF_ERA], el) == 0 &&
                 t.v[TF_DESCRIPTION][el] == ' ';
            ok = ok && strcmp(t.v[TF_CURRENCY], "CNY") == 0;
            unsigned long long fen = strtoull(t.v[TF_PRICE], NULL, 10);
            ok = ok && fen >= 500000ULL && fen <= 800000000ULL && fen % 100 == 0;
            big += fen >= 100000000ULL;
            if (t.v[TF_LOT] != NULL) {
                lots++;
                const char *lot = t.v[TF_LOT];
                ok = ok && strlen(lot) == 10 && memcmp(lot, t.v[TF_DATE], 4) == 0 &&
                     (lot[4] == 'S' || lot[4] == 'A') && lot[5] == '-';
            }
            if (t.v[TF_INVOICE] != NULL) {
                invoices++;
                size_t il = strlen(t.v[TF_INVOICE]);
                ok = ok && (il == 8 || il == 20);
            }
            /* large sums are not paid in cash or by phone */
            if (fen >= 200000000ULL) {
                ok = ok && strcmp(t.v[TF_PAYMENT_METHOD], "cash") != 0 &&
                     strcmp(t.v[TF_PAYMENT_METHOD], "wechat_pay") != 0 &&
                     strcmp(t.v[TF_PAYMENT_METHOD], "alipay") != 0;
            }
            const field_def *f = model_field(REC_TRANSACTION, TF_CATEGORY);
            for (int k = 0; f->enum_values[k] && k < 16; k++) {
                if (strcmp(f->enum_values[k], t.v[TF_CATEGORY]) == 0) {
                    categories[k] = true;
                }
            }
        }
        bad += !ok;
        record_free(&t);
    }
    EXPECT_INT(bad, 0);
    EXPECT(lots > N_CUSTOMERS * 60 / 100 && lots < N_CUSTOMERS * 80 / 100);
    EXPECT(invoices > N_CUSTOMERS * 80 / 100 && invoices < N_CUSTOMERS * 90 / 100);
    EXPECT(big > 0);
    int seen = 0;
    for (int k = 0; k < 16; k++) {
        seen += categories[k];
    }
    EXPECT_INT(seen, 9); /* every category but "other" */
}

TEST(communications_valid)
{
    demo_rng r;
    demo_rng_seed(&r, 6);
    int bad = 0, channels[4] = {0};
    for (int i = 0; i < N_CUSTOMERS; i++) {
        record m;
        record_init(&m, REC_COMMUNICATION);
        EXPECT_OK(demo_communication(&r, "service1", &m));
        bool ok = record_check_required(&m) == ERR_OK && canonical(&m);
        ok = ok && m.v[MF_EMPLOYEE] && strcmp(m.v[MF_EMPLOYEE], "service1") == 0;
        if (ok) {
            /* stored in UTC: 09:00-19:59 in Beijing is 01:00-11:59Z */
            const char *at = m.v[MF_AT];
            int year = atoi(at), hour = atoi(at + 11);
            ok = strlen(at) == 20 && at[19] == 'Z' && year >= 2020 && year <= 2026 && hour >= 1 &&
                 hour <= 11;
            /* the summary fits the channel */
            const char *ch = m.v[MF_CHANNEL], *sum = m.v[MF_SUMMARY];
            if (strstr(sum, "来电") || strstr(sum, "已电话")) {
                ok = ok && strcmp(ch, "phone") == 0;
            }
            if (starts_with(sum, "邮件")) {
                ok = ok && strcmp(ch, "email") == 0;
            }
            if (strstr(sum, "到访") || strstr(sum, "来馆")) {
                ok = ok && strcmp(ch, "visit") == 0;
            }
            channels[0] += strcmp(ch, "phone") == 0;
            channels[1] += strcmp(ch, "wechat") == 0;
            channels[2] += strcmp(ch, "email") == 0;
            channels[3] += strcmp(ch, "visit") == 0;
        }
        bad += !ok;
        record_free(&m);
    }
    EXPECT_INT(bad, 0);
    for (int k = 0; k < 4; k++) {
        EXPECT(channels[k] > N_CUSTOMERS / 10);
    }
}

TEST(honeytoken_looks_like_a_customer)
{
    demo_rng r;
    demo_rng_seed(&r, 11);
    for (int i = 0; i < 50; i++) {
        record h;
        record_init(&h, REC_CUSTOMER);
        EXPECT_OK(demo_honeytoken(&r, "beijing", "sales1", &h));
        tally t;
        memset(&t, 0, sizeof t);
        check_customer(&h, "beijing", &t);
        EXPECT_INT(t.bad, 0);
        EXPECT(h.v[CF_VIP_LEVEL] && atoi(h.v[CF_VIP_LEVEL]) >= 4);
        EXPECT(h.v[CF_NOTES] != NULL);
        record_free(&h);
    }
}

TEST(bad_arguments)
{
    demo_rng r;
    demo_rng_seed(&r, 1);
    record c;
    record_init(&c, REC_TRANSACTION);
    EXPECT_ERR(demo_customer(&r, "beijing", "sales1", &c), ERR_INTERNAL);
    EXPECT_ERR(demo_communication(&r, "service1", &c), ERR_INTERNAL);
    record_free(&c);
    record_init(&c, REC_CUSTOMER);
    EXPECT_ERR(demo_transaction(&r, &c), ERR_INTERNAL);
    EXPECT_ERR(demo_customer(&r, "Bei Jing!", "sales1", &c), ERR_INPUT);
    record_free(&c);
    record_init(&c, REC_CUSTOMER);
    EXPECT_ERR(demo_customer(&r, "beijing", "", &c), ERR_INPUT);
    record_free(&c);
    record_init(&c, REC_CUSTOMER);
    EXPECT_ERR(demo_customer(&r, NULL, "sales1", &c), ERR_INTERNAL);
    record_free(&c);
    record_init(&c, REC_COMMUNICATION);
    EXPECT_ERR(demo_communication(&r, "not a user", &c), ERR_INPUT);
    record_free(&c);
    /* another department token is accepted: customers of either city */
    record_init(&c, REC_CUSTOMER);
    EXPECT_OK(demo_customer(&r, "hangzhou", "sales3", &c));
    EXPECT(c.v[CF_DEPARTMENT] && strcmp(c.v[CF_DEPARTMENT], "hangzhou") == 0);
    record_free(&c);
}

int main(void)
{
    test_init();
    RUN(rng_known_answers);
    RUN(rng_below_bounds_and_spread);
    RUN(customers_valid_and_plausible);
    RUN(customers_differ_from_one_another);
    RUN(same_seed_same_data);
    RUN(transactions_valid_and_consistent);
    RUN(communications_valid);
    RUN(honeytoken_looks_like_a_customer);
    RUN(bad_arguments);
    return test_done("demo_test");
}
