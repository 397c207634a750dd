/*
 * config.c - VAULT/training.json: the zone, the cycle's days, and where reminders
 * go. Absent means the defaults (Asia/Shanghai, due after 30 days, 14 days'
 * grace, first reminder 7 days before, no mail). Unknown keys are refused.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/smtp.h"
#include "training/training.h"

static err str_field(json_t *o, const char *k, char *out, size_t max)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        return ERR_OK;
    }
    ENSURE(json_is_string(v) && json_string_length(v) < max, ERR_INPUT,
           "training.json: %s must be a text of at most %zu bytes", k, max - 1);
    const char *s = json_string_value(v);
    for (const char *p = s; *p; p++) {
        ENSURE((unsigned char)*p >= 0x20 && *p != 0x7f, ERR_INPUT,
               "training.json: %s has a control character", k);
    }
    snprintf(out, max, "%s", s);
    return ERR_OK;
}

static err int_field(json_t *o, const char *k, int lo, int hi, int *out)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        return ERR_OK;
    }
    ENSURE(json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi,
           ERR_INPUT, "training.json: %s must be a whole number from %d to %d", k, lo, hi);
    *out = (int)json_integer_value(v);
    return ERR_OK;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == '_' || (*p == '*' && n == 1))) {
            return false;
        }
    }
    return true;
}

/* "hr_scope": {"hr1": ["beijing", "shanghai"], "hr2": ["*"]}: kept as "user:dept\n" lines. */
static err hr_scope_parse(json_t *o, tr_config *c)
{
    if (!o) {
        return ERR_OK;
    }
    ENSURE(json_is_object(o), ERR_INPUT, "training.json: hr_scope must be an object");
    const char *user;
    json_t *arr;
    size_t len = 0;
    json_object_foreach(o, user, arr)
    {
        ENSURE(name_ok(user) && strcmp(user, "*") != 0 && json_is_array(arr), ERR_INPUT,
               "training.json: hr_scope maps usernames to lists of departments");
        size_t i;
        json_t *d;
        json_array_foreach(arr, i, d)
        {
            ENSURE(json_is_string(d) && name_ok(json_string_value(d)), ERR_INPUT,
                   "training.json: hr_scope.%.40s: a department name or \"*\"", user);
            int n = snprintf(c->hr_scope + len, sizeof c->hr_scope - len, "%s:%s\n", user,
                             json_string_value(d));
            ENSURE(n > 0 && (size_t)n < sizeof c->hr_scope - len, ERR_TOO_LARGE,
                   "training.json: hr_scope is too long");
            len += (size_t)n;
        }
    }
    return ERR_OK;
}

bool tr_hr_scope_has(const tr_config *c, const char *user, const char *dept)
{
    char want[200];
    const char *lines = c->hr_scope;
    for (int k = 0; k < 2; k++) {
        snprintf(want, sizeof want, "%s:%s\n", user, k == 0 ? dept : "*");
        for (const char *p = lines; (p = strstr(p, want)) != NULL; p++) {
            if (p == lines || p[-1] == '\n') {
                return true;
            }
        }
    }
    return false;
}

err tr_config_parse(slice text, tr_config *c)
{
    memset(c, 0, sizeof *c);
    tr_rules_default(&c->rules);
    snprintf(c->zone, sizeof c->zone, "%s", TR_DEFAULT_ZONE);
    snprintf(c->from, sizeof c->from, "custos-training@localhost");
    c->remind_every_s = 3600;
    json_error_t je;
    json_t *o = json_loadb((const char *)text.p, text.len, JSON_REJECT_DUPLICATES, &je);
    ENSURE(o != NULL, ERR_INPUT, "training.json:%d: %s", je.line, je.text);
    err rc = ERR_OK;
    static const char *const KEYS[] = {
        "zone",     "due_days",     "grace_days",         "remind_days",
        "smtp",     "from",         "mail_domain",        "console_url",
        "hr_scope", "remind_every", "smtp_plain_loopback"};
    const char *k;
    json_t *v;
    CHECK(json_is_object(o), ERR_INPUT, "training.json: must be an object");
    json_object_foreach(o, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
            known = known || strcmp(k, KEYS[i]) == 0;
        }
        CHECK(known, ERR_INPUT, "training.json: unknown key %.40s", k);
    }
    GUARD(str_field(o, "zone", c->zone, sizeof c->zone));
    GUARD(tr_zone_parse(c->zone, &c->rules.zone_off_s));
    GUARD(int_field(o, "due_days", 1, 91, &c->rules.due_days));
    GUARD(int_field(o, "grace_days", 0, 91, &c->rules.grace_days));
    GUARD(int_field(o, "remind_days", 0, 60, &c->rules.remind_days));
    GUARD(str_field(o, "smtp", c->smtp, sizeof c->smtp));
    CHECK(!c->smtp[0] || strncmp(c->smtp, "smtp://", 7) == 0 ||
              strncmp(c->smtp, "smtps://", 8) == 0,
          ERR_INPUT, "training.json: smtp must be an smtp:// or smtps:// address");
    json_t *pl = json_object_get(o, "smtp_plain_loopback");
    CHECK(!pl || json_is_boolean(pl), ERR_INPUT,
          "training.json: smtp_plain_loopback is true or false");
    c->smtp_plain_loopback = json_is_true(pl);
    CHECK(!c->smtp_plain_loopback || smtp_url_loopback(c->smtp), ERR_INPUT,
          "training.json: smtp_plain_loopback is only for a relay on loopback (127.0.0.1, ::1)");
    GUARD(str_field(o, "from", c->from, sizeof c->from));
    GUARD(str_field(o, "mail_domain", c->mail_domain, sizeof c->mail_domain));
    GUARD(str_field(o, "console_url", c->console_url, sizeof c->console_url));
    GUARD(int_field(o, "remind_every", 0, 7 * 86400, &c->remind_every_s));
    GUARD(hr_scope_parse(json_object_get(o, "hr_scope"), c));
    for (const char *p = c->mail_domain; *p; p++) {
        CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-',
              ERR_INPUT, "training.json: mail_domain must be a domain name");
    }
    CHECK(strchr(c->from, '@') && !strpbrk(c->from, "<>\r\n,"), ERR_INPUT,
          "training.json: from must be one address");
out:
    json_decref(o);
    return rc;
}

err tr_config_load(const char *dir, tr_config *c)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/training.json", dir);
    FILE *f = fopen(p, "rb");
    if (!f) {
        return tr_config_parse((slice){(const uint8_t *)"{}", 2}, c);
    }
    char text[8192];
    size_t n = fread(text, 1, sizeof text, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    ENSURE(!more, ERR_TOO_LARGE, "training.json: larger than 8 KiB");
    return tr_config_parse((slice){(const uint8_t *)text, n}, c);
}
