/*
 * console_assets.h - the web console's files, built into the binary: the table is generated
 * from console/ at build time by scripts/console-embed.sh (build/gen/console_assets.c).
 */
#ifndef CUSTOS_CONSOLE_ASSETS_H
#define CUSTOS_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct console_asset {
    const char *path; /* relative to console/: "app.js", "views/customers.js" */
    const char *mime; /* Content-Type */
    const char *etag; /* strong tag: a hash of the bytes, quoted */
    const unsigned char *data;
    size_t len;
} console_asset;

/* A hash of every asset: the HTML names its assets under /c/CONSOLE_VERSION/. */
extern const char CONSOLE_VERSION[];
extern const console_asset CONSOLE_ASSETS[];
extern const size_t CONSOLE_NASSETS;

#endif
