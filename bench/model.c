/*
 * model.c - the data model's costs: import throughput on a generated
 * 10,000-row customer CSV, in UTF-8 and as its GB18030 twin (conversion
 * included), against the bare RFC 4180 reader as the baseline; and field
 * validations per second (ID numbers, phones in several spellings) against
 * validating a short plain-text field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "model/ingest.h"
#include "model/model.h"

#define ROWS 10000

static void die(const char *what)
{
    printf("bench model: %s failed: %s\n", what, err_message());
    exit(1);
}

static void make_csv(buf *b)
{
    static const char *family[] = {"王", "李", "张", "刘", "陈", "欧阳"};
    static const char *given[] = {"小明", "娜", "伟", "芳", "建国", "秀英"};
    buf_init(b, 0);
    if (buf_append_str(b, "name,id_number,phone,email,address,preferences,vip_level,department,"
                          "marketing_consent,notes\n") != ERR_OK) {
        die("csv header");
    }
    for (size_t i = 1; i <= ROWS; i++) {
        char first[18], id[19];
        snprintf(first, sizeof first, "110105%04zu%02zu%02zu%03zu", 1950 + i % 50, 1 + i % 12,
                 1 + i % 28, i % 1000);
        memcpy(id, first, 17);
        id[17] = id_number_check_digit(first);
        id[18] = '\0';
        if (buf_appendf(
                b,
                "%s%s,%s,+86 139-%04zu-%04zu,user%zu@example.com,\"北京市朝阳区建国路%zu号, "
                "%zu单元\",porcelain;jade,%zu,beijing,yes,\"喜欢青花瓷\n每月来店\"\n",
                family[i % 6], given[i % 6], id, i / 10000, i % 10000, i, i, i % 9,
                i % 6) != ERR_OK) {
            die("csv row");
        }
    }
}

static err count_row(void *ctx, size_t line, size_t ncells, const slice *cells)
{
    size_t *n = ctx;
    *n += ncells ? cells[0].len : 0;
    return ERR_OK;
}

static double time_csv_parse(slice in, int reps)
{
    double t0 = bench_secs();
    for (int r = 0; r < reps; r++) {
        size_t n = 0;
        if (csv_parse(in, count_row, &n) != ERR_OK) {
            die("csv_parse");
        }
    }
    return bench_secs() - t0;
}

static double time_import(slice in, const char *charset, int reps)
{
    double t0 = bench_secs();
    for (int r = 0; r < reps; r++) {
        buf utf8;
        buf_init(&utf8, 0);
        slice body = in;
        if (charset) {
            if (charset_to_utf8(charset, in, &utf8) != ERR_OK) {
                die("charset_to_utf8");
            }
            body = buf_slice(&utf8);
        }
        import_batch b;
        if (import_parse(body, IMPORT_CSV, &b) != ERR_OK || b.nrows != ROWS || b.nerrors != 0) {
            die("import_parse");
        }
        import_batch_free(&b);
        buf_free(&utf8);
    }
    return bench_secs() - t0;
}

static double time_validate(rectype t, int idx, const char *const *in, size_t nin, size_t n)
{
    const field_def *f = model_field(t, idx);
    buf c;
    buf_init(&c, 0);
    double t0 = bench_secs();
    for (size_t i = 0; i < n; i++) {
        const char *s = in[i % nin];
        if (model_validate(f, s, strlen(s), &c) != ERR_OK) {
            die("model_validate");
        }
    }
    double secs = bench_secs() - t0;
    buf_free(&c);
    return secs;
}

void bench_model(void)
{
    bench_section("model: import and validation");
    buf csv, gb;
    make_csv(&csv);
    buf_init(&gb, 0);
    if (charset_from_utf8("gb18030", buf_slice(&csv), &gb) != ERR_OK) {
        die("charset_from_utf8");
    }
    printf("  10,000-row CSV: %zu bytes UTF-8, %zu bytes GB18030\n", csv.len, gb.len);
    const int reps = 5;
    double rows = (double)ROWS * reps;
    /* the reader alone is fast: more repetitions, then scaled to the same row count */
    double base = time_csv_parse(buf_slice(&csv), reps * 8) / 8;
    bench_report("csv_parse rows (baseline)", rows, base);
    double utf = time_import(buf_slice(&csv), NULL, reps);
    bench_report("import_parse rows, UTF-8", rows, utf);
    double gbt = time_import(buf_slice(&gb), "gb18030", reps);
    bench_report("import_parse rows, GB18030 (with conversion)", rows, gbt);
    bench_ratio("import_parse UTF-8 rows/s vs csv_parse", rows / utf, rows / base, NULL);
    bench_ratio("import_parse GB18030 rows/s vs UTF-8", rows / gbt, rows / utf, NULL);
    buf_free(&gb);
    buf_free(&csv);

    static const char *const text[] = {"北京市朝阳区建国路88号", "Qing Qianlong"};
    static const char *const ids[] = {"11010519491231002X", "110101199003074477",
                                      "11010519491231002x", " 440308199901011234 "};
    static const char *const phones[] = {"13812345678", "+86 138-1234-5678", "008613812345678",
                                         "(010) 62345678", "0571-88888888"};
    const size_t n = 500000;
    double tb = time_validate(REC_CUSTOMER, CF_ADDRESS, text, 2, n);
    bench_report("validate short text (baseline)", (double)n, tb);
    double ti = time_validate(REC_CUSTOMER, CF_ID_NUMBER, ids, 4, n);
    bench_report("validate id_number", (double)n, ti);
    double tp = time_validate(REC_CUSTOMER, CF_PHONE, phones, 5, n);
    bench_report("validate phone (5 spellings)", (double)n, tp);
    double t0 = bench_secs();
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        ok += id_number_valid(ids[i % 2], 18);
    }
    double tv = bench_secs() - t0;
    if (ok != n) {
        die("id_number_valid");
    }
    bench_report("id_number_valid alone", (double)n, tv);
    bench_ratio("id_number validations/s vs short text", n / ti, n / tb, NULL);
    bench_ratio("phone validations/s vs short text", n / tp, n / tb, NULL);
}
