/*
 * door_notices_cfg.c - notices.json, the vault's settings for the words of a breach response
 * (company, contacts, mail server, drill recipients, the zone): read by the notices and by the
 * incident's own documents, below both so that neither calls the other for it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "door_int.h"
#include "door_notices_int.h"

#define CFG_MAX (64 * 1024)

err door_notices_cfg_load(vault *v, json_t **out)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/notices.json", vault_dir(v));
    if (access(p, R_OK) != 0) {
        *out = json_object();
        return *out ? ERR_OK : ERR_INTERNAL;
    }
    /* it names the mail server: only the vault's owner may read or change it */
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ENSURE(fd >= 0, ERR_IO, "cannot open notices.json");
    err rc = file_check_private(fd, "notices.json", p);
    close(fd);
    TRY(rc);
    buf b;
    buf_init(&b, CFG_MAX + 1);
    rc = file_read_bounded(p, CFG_MAX, &b);
    if (rc == ERR_OK) {
        json_error_t je;
        *out = json_loadb((const char *)b.p, b.len, JSON_REJECT_DUPLICATES, &je);
        if (!*out || !json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            rc = err_set(ERR_INPUT, __FILE__, __LINE__, "notices.json is not a JSON object");
        }
    }
    buf_free(&b);
    return rc;
}

err door_notices_zone(vault *v, pb_lang l, int32_t *offset_s, char *label, size_t cap)
{
    json_t *cfg = NULL;
    TRY(door_notices_cfg_load(v, &cfg));
    const json_t *tz = json_object_get(cfg, "tz_offset_s");
    *offset_s = json_is_integer(tz) ? (int32_t)json_integer_value(tz) : 28800;
    const json_t *x = json_object_get(cfg, "tz_label");
    if (json_is_object(x)) {
        x = json_object_get(x, l == PB_EN ? "en" : "zh-CN");
    }
    const char *lb = json_string_value(x);
    snprintf(label, cap, "%s", lb ? lb : l == PB_ZH ? "北京时间" : "China Standard Time, UTC+8");
    json_decref(cfg);
    return ERR_OK;
}
