/*
 * ingest_test.c - the import path: the RFC 4180 reader (quotes, embedded line
 * breaks and their line numbers, CRLF, BOM, limits, every structural error),
 * the cell writer, GB18030 conversion both ways, and import_parse on CSV, JSON
 * arrays and JSON lines, including a 10,000-row file with exactly one bad row,
 * its GB18030 twin, and checks that no message ever repeats a value.
 */
#include <stdio.h>
#include <string.h>

#include "model/ingest.h"
#include "test.h"

/* ---- CSV reader ---- */

typedef struct rows {
    int n;
    size_t line[16];
    size_t ncells[16];
    char cell[16][8][64];
    int stop_at; /* return an error at this row (1-based), 0 = never */
} rows;

static err collect(void *ctx, size_t line, size_t ncells, const slice *cells)
{
    rows *r = ctx;
    if (r->stop_at && r->n + 1 == r->stop_at) {
        BAIL(ERR_CONFLICT, "stopped by the callback");
    }
    if (r->n < 16) {
        r->line[r->n] = line;
        r->ncells[r->n] = ncells;
        for (size_t c = 0; c < ncells && c < 8; c++) {
            size_t len = cells[c].len < 63 ? cells[c].len : 63;
            memcpy(r->cell[r->n][c], cells[c].p, len);
            r->cell[r->n][c][len] = '\0';
        }
    }
    r->n++;
    return ERR_OK;
}

static err csv(const char *s, rows *r)
{
    memset(r, 0, sizeof *r);
    return csv_parse(slice_cstr(s), collect, r);
}

static err csv_n(const char *s, size_t n, rows *r)
{
    memset(r, 0, sizeof *r);
    return csv_parse(slice_of(s, n), collect, r);
}

TEST(csv_basic)
{
    rows r;
    EXPECT_OK(csv("name,phone\n王小明,13812345678\n李娜,\n", &r));
    EXPECT_INT(r.n, 3);
    EXPECT_INT(r.ncells[0], 2);
    EXPECT_STR(r.cell[1][0], "王小明");
    EXPECT_STR(r.cell[1][1], "13812345678");
    EXPECT_STR(r.cell[2][1], "");
    EXPECT_INT(r.line[2], 3);
    /* no final line break, CRLF, trailing comma, an empty row in the middle */
    EXPECT_OK(csv("a,b\r\nc,\r\n\r\nd,e", &r));
    EXPECT_INT(r.n, 4);
    EXPECT_INT(r.ncells[1], 2);
    EXPECT_STR(r.cell[1][1], "");
    EXPECT_INT(r.ncells[2], 1);
    EXPECT_STR(r.cell[3][1], "e");
    EXPECT_INT(r.line[3], 4);
    /* blank lines at the very end are ignored, a BOM is skipped */
    EXPECT_OK(csv("\xef\xbb\xbfname\nx\n\n\r\n\n", &r));
    EXPECT_INT(r.n, 2);
    EXPECT_STR(r.cell[0][0], "name");
    EXPECT_OK(csv("", &r));
    EXPECT_INT(r.n, 0);
    EXPECT_OK(csv("\xef\xbb\xbf", &r));
    EXPECT_INT(r.n, 0);
    EXPECT_OK(csv("\n\n", &r));
    EXPECT_INT(r.n, 0);
    EXPECT_OK(csv(",", &r));
    EXPECT_INT(r.n, 1);
    EXPECT_INT(r.ncells[0], 2);
}

TEST(csv_quotes_and_lines)
{
    rows r;
    EXPECT_OK(csv("\"a,b\",\"say \"\"hi\"\"\",\"\"\n\"x\"\n", &r));
    EXPECT_INT(r.n, 2);
    EXPECT_STR(r.cell[0][0], "a,b");
    EXPECT_STR(r.cell[0][1], "say \"hi\"");
    EXPECT_STR(r.cell[0][2], "");
    EXPECT_STR(r.cell[1][0], "x");
    /* embedded line breaks: the next row's line number moves on */
    EXPECT_OK(csv("h1,h2\n\"line1\nline2\nline3\",b\nc,\"d\r\ne\"\r\nf,g\n", &r));
    EXPECT_INT(r.n, 4);
    EXPECT_STR(r.cell[1][0], "line1\nline2\nline3");
    EXPECT_INT(r.line[1], 2);
    EXPECT_INT(r.line[2], 5);
    EXPECT_STR(r.cell[2][1], "d\r\ne");
    EXPECT_INT(r.line[3], 7);
    /* a quoted cell at the very end */
    EXPECT_OK(csv("a,\"b\"", &r));
    EXPECT_STR(r.cell[0][1], "b");
    EXPECT_OK(csv("\"王\"\"小明\"", &r));
    EXPECT_STR(r.cell[0][0], "王\"小明");
}

TEST(csv_errors)
{
    rows r;
    EXPECT_ERR(csv("a,b\nc,\"open\nstill\nopen\n", &r), ERR_INPUT);
    EXPECT(strstr(err_message(), "line 2") != NULL);
    EXPECT(strstr(err_message(), "never closed") != NULL);
    EXPECT_INT(r.n, 1); /* rows before the fault were delivered */
    EXPECT_ERR(csv("\"", &r), ERR_INPUT);
    EXPECT(strstr(err_message(), "line 1") != NULL);
    EXPECT_ERR(csv("a\n\"x\"y\n", &r), ERR_INPUT);
    EXPECT(strstr(err_message(), "line 2") != NULL);
    EXPECT_ERR(csv("a\n\"x\" \n", &r), ERR_INPUT);
    EXPECT_ERR(csv("a\nb\"c\n", &r), ERR_INPUT);
    EXPECT(strstr(err_message(), "line 2") != NULL);
    EXPECT_ERR(csv("a\rb\n", &r), ERR_INPUT);
    EXPECT_ERR(csv("a\r", &r), ERR_INPUT);
    EXPECT_ERR(csv_n("a\nb\0c\n", 6, &r), ERR_INPUT);
    EXPECT(strstr(err_message(), "NUL") != NULL && strstr(err_message(), "line 2") != NULL);
    EXPECT_ERR(csv_n("a\n\"b\0c\"\n", 8, &r), ERR_INPUT);
    /* 64 cells pass, 65 do not */
    char line[400] = "";
    for (int i = 0; i < CSV_MAX_CELLS - 1; i++) {
        strcat(line, "x,");
    }
    strcat(line, "x\n");
    char two[900];
    snprintf(two, sizeof two, "h\n%s", line);
    EXPECT_OK(csv(two, &r));
    EXPECT_INT(r.ncells[1], CSV_MAX_CELLS);
    snprintf(two, sizeof two, "h\n\nx,%s", line);
    EXPECT_ERR(csv(two, &r), ERR_INPUT);
    EXPECT(strstr(err_message(), "line 3") != NULL);
    /* a cell of 65536 bytes passes, one more byte does not (quoted or not) */
    static char big[CSV_MAX_CELL_BYTES + 16];
    memset(big, 'a', CSV_MAX_CELL_BYTES);
    big[CSV_MAX_CELL_BYTES] = '\0';
    EXPECT_OK(csv(big, &r));
    big[CSV_MAX_CELL_BYTES] = 'a';
    big[CSV_MAX_CELL_BYTES + 1] = '\0';
    EXPECT_ERR(csv(big, &r), ERR_INPUT);
    big[0] = '"';
    big[CSV_MAX_CELL_BYTES + 1] = 'a';
    big[CSV_MAX_CELL_BYTES + 2] = '"';
    big[CSV_MAX_CELL_BYTES + 3] = '\0';
    EXPECT_ERR(csv(big, &r), ERR_INPUT);
    EXPECT(strstr(err_message(), "longer") != NULL);
    /* an error from the callback stops the parse and comes back unchanged */
    memset(&r, 0, sizeof r);
    r.stop_at = 2;
    EXPECT_ERR(csv_parse(slice_cstr("a\nb\nc\n"), collect, &r), ERR_CONFLICT);
    EXPECT_INT(r.n, 1);
}

TEST(csv_writer)
{
    buf b;
    buf_init(&b, 0);
    const char *cells[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "", "王小明", "cr\r"};
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        if (i) {
            EXPECT_OK(buf_append_byte(&b, ','));
        }
        EXPECT_OK(csv_write_cell(&b, slice_cstr(cells[i])));
    }
    EXPECT_STR(buf_cstr(&b), "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,王小明,\"cr\r\"");
    rows r;
    memset(&r, 0, sizeof r);
    EXPECT_OK(csv_parse(buf_slice(&b), collect, &r));
    EXPECT_INT(r.n, 1);
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        EXPECT_STR(r.cell[0][i], cells[i]);
    }
    buf_free(&b);
}

/* ---- charset ---- */

TEST(charset_gb18030)
{
    const char *utf = "王小明,北京市朝阳区";
    const char gb[] = "\xcd\xf5\xd0\xa1\xc3\xf7,\xb1\xb1\xbe\xa9\xca\xd0\xb3\xaf\xd1\xf4\xc7\xf8";
    buf out, back;
    buf_init(&out, 0);
    buf_init(&back, 0);
    EXPECT_OK(charset_from_utf8("gb18030", slice_cstr(utf), &out));
    EXPECT_INT(out.len, sizeof gb - 1);
    EXPECT(out.len == sizeof gb - 1 && memcmp(out.p, gb, out.len) == 0);
    EXPECT_OK(charset_to_utf8("GB18030", buf_slice(&out), &back));
    EXPECT_STR(buf_cstr(&back), utf);
    const char *names[] = {"gbk", "GBK", "gb2312", "GB2312", "cp936", "Gb18030"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        EXPECT_OK(charset_to_utf8(names[i], slice_of(gb, sizeof gb - 1), &back));
        EXPECT_STR(buf_cstr(&back), utf);
    }
    /* four-byte sequences and characters outside GBK */
    const char *rare = "😀 € é 𠀀";
    EXPECT_OK(charset_from_utf8("gb18030", slice_cstr(rare), &out));
    EXPECT(out.len >= 4 && memcmp(out.p, "\x94\x39\xfc\x36", 4) == 0);
    EXPECT_OK(charset_to_utf8("gbk", buf_slice(&out), &back));
    EXPECT_STR(buf_cstr(&back), rare);
    buf_free(&out);
    buf_free(&back);
}

TEST(charset_errors)
{
    buf out;
    buf_init(&out, 0);
    EXPECT_ERR(charset_to_utf8("gb18030", slice_of("abc\x81\x20xyz", 8), &out), ERR_INPUT);
    EXPECT(strstr(err_message(), "GB18030") != NULL && strstr(err_message(), "byte 3") != NULL);
    EXPECT_INT(out.len, 0);
    EXPECT_ERR(charset_to_utf8("gbk", slice_of("\xcd\xf5\xd0", 3), &out), ERR_INPUT); /* cut */
    EXPECT(strstr(err_message(), "byte 2") != NULL);
    EXPECT_ERR(charset_to_utf8("gbk", slice_of("\xff\xfe", 2), &out), ERR_INPUT);
    EXPECT(strstr(err_message(), "byte 0") != NULL);
    EXPECT_ERR(charset_to_utf8("latin1", slice_cstr("abc"), &out), ERR_INPUT);
    EXPECT(strstr(err_message(), "unsupported charset") != NULL);
    EXPECT_ERR(charset_to_utf8("", slice_cstr("abc"), &out), ERR_INPUT);
    EXPECT_ERR(charset_from_utf8("big5", slice_cstr("abc"), &out), ERR_INPUT);
    /* UTF-8 is validated, and the offset is given */
    EXPECT_OK(charset_to_utf8(NULL, slice_cstr("王小明"), &out));
    EXPECT_STR(buf_cstr(&out), "王小明");
    EXPECT_OK(charset_to_utf8("UTF-8", slice_cstr("ok"), &out));
    EXPECT_OK(charset_to_utf8("utf8", slice_cstr("ok"), &out));
    EXPECT_ERR(charset_to_utf8("utf-8", slice_of("ab\xed\xa0\x80", 5), &out), ERR_INPUT);
    EXPECT(strstr(err_message(), "byte 2") != NULL);
    EXPECT_ERR(charset_to_utf8(NULL, slice_of("\xcd\xf5", 2), &out), ERR_INPUT); /* GB as UTF-8 */
    EXPECT_ERR(charset_from_utf8("gb18030", slice_of("a\xc0\xaf", 3), &out), ERR_INPUT);
    EXPECT(strstr(err_message(), "byte 1") != NULL);
    EXPECT_OK(charset_to_utf8("gb18030", slice_of("", 0), &out));
    EXPECT_INT(out.len, 0);
    buf_free(&out);
    /* the output limit holds */
    buf small;
    buf_init(&small, 8);
    EXPECT_ERR(charset_to_utf8("gb18030", slice_cstr("\xcd\xf5\xd0\xa1\xc3\xf7\xcd\xf5"), &small),
               ERR_TOO_LARGE);
    EXPECT_OK(charset_to_utf8("gb18030", slice_cstr("\xcd\xf5\xd0\xa1"), &small));
    EXPECT_STR(buf_cstr(&small), "王小");
    buf_free(&small);
}

/* ---- import ---- */

#define BIG_ROWS 10000
#define BAD_ROW 7345

/* A valid ID number that differs per row. */
static void row_id(char out[19], size_t i)
{
    char first[18];
    snprintf(first, sizeof first, "110105%04zu%02zu%02zu%03zu", 1950 + i % 50, 1 + i % 12,
             1 + i % 28, i % 1000);
    memcpy(out, first, 17);
    out[17] = id_number_check_digit(first);
    out[18] = '\0';
}

/* The 10,000-row file: one quoted note with a line break in row 10 (so data row r
 * starts on line r + 2 after it), and row BAD_ROW with a wrong check digit. */
static void big_csv(buf *b)
{
    static const char *family[] = {"王", "李", "张", "刘", "陈", "欧阳"};
    static const char *given[] = {"小明", "娜", "伟", "芳", "建国", "秀英"};
    buf_init(b, 0);
    if (buf_append_str(b, "name,id_number,phone,email,address,preferences,vip_level,"
                          "marketing_consent,notes\r\n") != ERR_OK) {
        return;
    }
    for (size_t i = 1; i <= BIG_ROWS; i++) {
        char id[19];
        row_id(id, i);
        if (i == BAD_ROW) {
            id[17] = id[17] == '0' ? '1' : '0';
        }
        err e = buf_appendf(b,
                            "%s%s,%s,+86 139-%04zu-%04zu,user%zu@Example.com,\"北京市朝阳区%zu号, "
                            "3单元\",porcelain;jade,%zu,%s,%s\r\n",
                            family[i % 6], given[i % 5], id, i / 10000, i % 10000, i, i, i % 6,
                            i % 2 ? "yes" : "no", i == 10 ? "\"first\nsecond\"" : "");
        if (e != ERR_OK) {
            return;
        }
    }
}

TEST(import_big_csv_one_bad_row)
{
    buf in;
    big_csv(&in);
    import_batch b;
    EXPECT_OK(import_parse(buf_slice(&in), IMPORT_CSV, &b));
    EXPECT_INT(b.nrows, BIG_ROWS - 1);
    EXPECT_INT(b.nerrors, 1);
    if (b.nerrors == 1) {
        EXPECT_INT(b.errors[0].row, BAD_ROW);
        EXPECT_INT(b.errors[0].line, BAD_ROW + 2);
        EXPECT_STR(b.errors[0].field, "id_number");
        EXPECT(strstr(b.errors[0].message, "check") != NULL);
        EXPECT(strstr(b.errors[0].message, "110105") == NULL);
    }
    if (b.nrows == BIG_ROWS - 1) {
        EXPECT_INT(b.rows[0].line, 2);
        EXPECT_STR(b.rows[0].rec.v[CF_PHONE], "13900000001");
        EXPECT_STR(b.rows[0].rec.v[CF_EMAIL], "user1@example.com");
        EXPECT_STR(b.rows[0].rec.v[CF_PREFERENCES], "porcelain,jade");
        EXPECT_STR(b.rows[0].rec.v[CF_MARKETING_CONSENT], "true");
        EXPECT(b.rows[0].rec.v[CF_NOTES] == NULL);
        EXPECT_STR(b.rows[9].rec.v[CF_NOTES], "first\nsecond");
        EXPECT_INT(b.rows[10].line, 13);
        EXPECT_STR(b.rows[BAD_ROW - 1].rec.v[CF_NAME], "张娜"); /* row 7346 */
        EXPECT_INT(b.rows[BAD_ROW - 1].line, BAD_ROW + 3);
    }
    import_batch_free(&b);
    EXPECT(b.rows == NULL && b.nrows == 0 && b.errors == NULL);

    /* the GB18030 twin gives the same records */
    buf gb, utf;
    buf_init(&gb, 0);
    buf_init(&utf, 0);
    EXPECT_OK(charset_from_utf8("gb18030", buf_slice(&in), &gb));
    EXPECT(gb.len < in.len);
    EXPECT_OK(charset_to_utf8("gb18030", buf_slice(&gb), &utf));
    import_batch a, c;
    EXPECT_OK(import_parse(buf_slice(&in), IMPORT_CSV, &a));
    EXPECT_OK(import_parse(buf_slice(&utf), IMPORT_CSV, &c));
    EXPECT_INT(a.nrows, c.nrows);
    EXPECT_INT(a.nerrors, c.nerrors);
    int diff = 0;
    for (size_t i = 0; i < a.nrows && i < c.nrows; i++) {
        diff += a.rows[i].line != c.rows[i].line;
        for (int f = 0; f < CF__COUNT; f++) {
            const char *x = a.rows[i].rec.v[f], *y = c.rows[i].rec.v[f];
            diff += (x == NULL) != (y == NULL) || (x && y && strcmp(x, y) != 0);
        }
    }
    EXPECT_INT(diff, 0);
    import_batch_free(&a);
    import_batch_free(&c);
    buf_free(&gb);
    buf_free(&utf);
    buf_free(&in);
}

static void same_records(const import_batch *a, const import_batch *b)
{
    EXPECT_INT(a->nrows, b->nrows);
    for (size_t i = 0; i < a->nrows && i < b->nrows; i++) {
        for (int f = 0; f < CF__COUNT; f++) {
            const char *x = a->rows[i].rec.v[f], *y = b->rows[i].rec.v[f];
            EXPECT((x == NULL) == (y == NULL));
            if (x && y) {
                EXPECT_STR(x, y);
            }
        }
    }
}

TEST(import_json_forms)
{
    const char *csvs = "name,phone,preferences,vip_level,marketing_consent\n"
                       "王小明,13812345678,porcelain;jade,3,true\n"
                       "李娜,(010) 62345678,,,no\n";
    const char *arr = "\xef\xbb\xbf [\n"
                      " {\"name\":\"王小明\",\"phone\":\"13812345678\","
                      "\"preferences\":[\"porcelain\",\"jade\"],\"vip_level\":3,"
                      "\"marketing_consent\":true},\n"
                      " {\"name\":\"李娜\",\"phone\":\"+86 10 6234 5678\",\"preferences\":null,"
                      "\"marketing_consent\":false}\n]\n";
    const char *lines =
        "{\"name\":\"王小明\",\"phone\":\"13812345678\","
        "\"preferences\":\"porcelain|jade\",\"vip_level\":\"3\","
        "\"marketing_consent\":\"yes\"}\r\n"
        "\n"
        "  {\"name\":\"李娜\",\"phone\":\"010-62345678\",\"marketing_consent\":false}\n";
    import_batch c, a, l;
    EXPECT_OK(import_parse(slice_cstr(csvs), IMPORT_CSV, &c));
    EXPECT_OK(import_parse(slice_cstr(arr), IMPORT_JSON, &a));
    EXPECT_OK(import_parse(slice_cstr(lines), IMPORT_JSON, &l));
    EXPECT_INT(c.nrows, 2);
    EXPECT_INT(c.nerrors + a.nerrors + l.nerrors, 0);
    same_records(&c, &a);
    same_records(&c, &l);
    if (l.nrows == 2 && a.nrows == 2) {
        EXPECT_INT(l.rows[1].line, 3);
        EXPECT_INT(a.rows[1].line, 2); /* array rows: position */
        EXPECT_STR(a.rows[1].rec.v[CF_PHONE], "010-62345678");
    }
    import_batch_free(&c);
    import_batch_free(&a);
    import_batch_free(&l);
}

TEST(import_structure_errors)
{
    import_batch b;
    struct {
        const char *body;
        import_format fmt;
        err code;
        const char *needle;
    } v[] = {
        {"name,nickname\nx,y\n", IMPORT_CSV, ERR_INPUT, "unknown column 'nickname'"},
        {"name,phone,phone\n", IMPORT_CSV, ERR_INPUT, "duplicate column 'phone'"},
        {"phone\n13812345678\n", IMPORT_CSV, ERR_INPUT, "'name'"},
        {"Name\n", IMPORT_CSV, ERR_INPUT, "unknown column"},
        {"name,\nx,\n", IMPORT_CSV, ERR_INPUT, "column 2"},
        {"", IMPORT_CSV, ERR_INPUT, "header"},
        {"\n\n", IMPORT_CSV, ERR_INPUT, "header"},
        {"name\n\"x\n", IMPORT_CSV, ERR_INPUT, "line 2"},
        {"", IMPORT_JSON, ERR_INPUT, "empty"},
        {"  \n ", IMPORT_JSON, ERR_INPUT, "empty"},
        {"\"x\"", IMPORT_JSON, ERR_INPUT, "array"},
        {"[{\"name\":\"a\"},", IMPORT_JSON, ERR_INPUT, "not valid JSON"},
        {"[{\"name\":\"a\",\"name\":\"b\"}]", IMPORT_JSON, ERR_INPUT, "not valid JSON"},
        {"{\"name\":\"a\"}\n{\"name\":\"b\"}\n{\"name\":\n", IMPORT_JSON, ERR_INPUT, "line 3"},
        {"{\"name\":\"a\"}\n\n[1,2\n", IMPORT_JSON, ERR_INPUT, "line 3"},
        {"{\n\"name\":\"a\"\n}\n", IMPORT_JSON, ERR_INPUT, "line 1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        err e = import_parse(slice_cstr(v[i].body), v[i].fmt, &b);
        EXPECT_ERR(e, v[i].code);
        if (strstr(err_message(), v[i].needle) == NULL) {
            printf("    case %zu: \"%s\" lacks \"%s\"\n", i, err_message(), v[i].needle);
            EXPECT(0);
        }
        EXPECT(b.nrows == 0 && b.rows == NULL && b.errors == NULL);
        import_batch_free(&b);
    }
    /* a header whose cells are values (no header row) is not repeated */
    EXPECT_ERR(import_parse(slice_cstr("王小明,13812345678\n"), IMPORT_CSV, &b), ERR_INPUT);
    EXPECT(strstr(err_message(), "王") == NULL && strstr(err_message(), "138") == NULL);
    EXPECT(strstr(err_message(), "header row") != NULL);
    import_batch_free(&b);
    /* a header alone is a valid, empty import */
    EXPECT_OK(import_parse(slice_cstr("\xef\xbb\xbf name , phone\r\n"), IMPORT_CSV, &b));
    EXPECT_INT(b.nrows + b.nerrors, 0);
    import_batch_free(&b);
}

TEST(import_row_errors)
{
    import_batch b;
    const char *body = "name,phone,email,vip_level\n"
                       "王小明,13812345678,a@b.cn,1\n"
                       "李娜,12812345678,bad-email,9\n" /* three faults in one row */
                       ",13912345678,,\n"               /* no name */
                       "张伟,13912345678\n"             /* too few cells */
                       "\n"                             /* blank line: a one-cell row */
                       "  ,,,\n"                        /* blank cells only */
                       "陈芳,,,5\n";
    EXPECT_OK(import_parse(slice_cstr(body), IMPORT_CSV, &b));
    EXPECT_INT(b.nrows, 2);
    EXPECT_INT(b.nerrors, 7);
    if (b.nerrors == 7) {
        EXPECT_INT(b.errors[0].row, 2);
        EXPECT_INT(b.errors[0].line, 3);
        EXPECT_STR(b.errors[0].field, "phone");
        EXPECT_STR(b.errors[1].field, "email");
        EXPECT_STR(b.errors[2].field, "vip_level");
        EXPECT_INT(b.errors[3].row, 3);
        EXPECT_STR(b.errors[3].field, "name");
        EXPECT_INT(b.errors[4].row, 4);
        EXPECT_STR(b.errors[4].field, "");
        EXPECT(strstr(b.errors[4].message, "2 cells") != NULL);
        EXPECT_INT(b.errors[5].line, 6);
        EXPECT_INT(b.errors[6].row, 6);
        EXPECT_STR(b.errors[6].field, "name");
    }
    if (b.nrows == 2) {
        EXPECT_STR(b.rows[1].rec.v[CF_NAME], "陈芳");
        EXPECT_INT(b.rows[1].line, 8);
        EXPECT(b.rows[1].rec.v[CF_PHONE] == NULL);
    }
    import_batch_free(&b);

    const char *json = "[{\"name\":\"a\",\"shoe_size\":42},\"row\",{\"name\":\"b\",\"phone\":1},"
                       "{\"phone\":\"13812345678\"},{\"name\":\"c\"}]";
    EXPECT_OK(import_parse(slice_cstr(json), IMPORT_JSON, &b));
    EXPECT_INT(b.nrows, 1);
    EXPECT_INT(b.nerrors, 4);
    if (b.nerrors == 4) {
        EXPECT(strstr(b.errors[0].message, "unknown field 'shoe_size'") != NULL);
        EXPECT_INT(b.errors[1].row, 2);
        EXPECT(strstr(b.errors[1].message, "object") != NULL);
        EXPECT_STR(b.errors[2].field, "phone");
        EXPECT_STR(b.errors[3].field, "name");
        EXPECT_INT(b.errors[3].line, 4);
    }
    import_batch_free(&b);
}

TEST(import_error_cap)
{
    buf in;
    buf_init(&in, 0);
    EXPECT_OK(buf_append_str(&in, "name,phone\n"));
    for (int i = 0; i < 1500; i++) {
        EXPECT_OK(buf_appendf(&in, "n%d,12345\n", i));
    }
    import_batch b;
    EXPECT_OK(import_parse(buf_slice(&in), IMPORT_CSV, &b));
    EXPECT_INT(b.nerrors, 1500);
    EXPECT_INT(b.nrows, 0);
    EXPECT_INT(b.errors[IMPORT_MAX_ERRORS - 1].row, IMPORT_MAX_ERRORS);
    import_batch_free(&b);
    buf_free(&in);
}

TEST(import_row_limit)
{
    buf in;
    buf_init(&in, 0);
    EXPECT_OK(buf_append_str(&in, "vip_level,name\n"));
    EXPECT_OK(buf_reserve(&in, (size_t)(IMPORT_MAX_ROWS + 1) * 3));
    for (size_t i = 0; i <= IMPORT_MAX_ROWS; i++) {
        EXPECT_OK(buf_append(&in, ",a\n", 3));
    }
    import_batch b;
    EXPECT_ERR(import_parse(buf_slice(&in), IMPORT_CSV, &b), ERR_TOO_LARGE);
    EXPECT(b.nrows == 0 && b.rows == NULL);
    import_batch_free(&b);
    buf_free(&in);
}

TEST(import_messages_never_carry_values)
{
    const char *c = "CANARY";
    char body[2048];
    snprintf(body, sizeof body,
             "name,id_number,birth_date,phone,email,address,wechat,preferences,vip_level,"
             "department,salesperson,marketing_consent,notes\n"
             "%s\x01,1101%s,%s,1%s,%s,a\x02%s,%s\x03,%s-x,%s,%s!,%s %s,%s,\"x\x7f%s\"\n",
             c, c, c, c, c, c, c, c, c, c, c, c, c, c);
    import_batch b;
    EXPECT_OK(import_parse(slice_cstr(body), IMPORT_CSV, &b));
    EXPECT_INT(b.nerrors, 13);
    for (size_t i = 0; i < b.nerrors && i < IMPORT_MAX_ERRORS; i++) {
        EXPECT(strstr(b.errors[i].message, c) == NULL);
        EXPECT(strstr(b.errors[i].message, "canary") == NULL);
        EXPECT(b.errors[i].field[0] != '\0');
    }
    import_batch_free(&b);
    /* jansson's own messages quote the input; ours do not */
    EXPECT_ERR(import_parse(slice_cstr("[{\"name\": CANARY}]"), IMPORT_JSON, &b), ERR_INPUT);
    EXPECT(strstr(err_message(), c) == NULL);
    EXPECT_ERR(import_parse(slice_cstr("{\"name\":\"a\"} CANARY"), IMPORT_JSON, &b), ERR_INPUT);
    EXPECT(strstr(err_message(), c) == NULL);
    import_batch_free(&b);
}

int main(void)
{
    test_init();
    RUN(csv_basic);
    RUN(csv_quotes_and_lines);
    RUN(csv_errors);
    RUN(csv_writer);
    RUN(charset_gb18030);
    RUN(charset_errors);
    RUN(import_big_csv_one_bad_row);
    RUN(import_json_forms);
    RUN(import_structure_errors);
    RUN(import_row_errors);
    RUN(import_error_cap);
    RUN(import_row_limit);
    RUN(import_messages_never_carry_values);
    return test_done("ingest_test");
}
