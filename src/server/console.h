/*
 * console.h - the web console's page and files (console.c) and its own /v1/ routes
 * (handlers_console.c).
 */
#ifndef CUSTOS_CONSOLE_H
#define CUSTOS_CONSOLE_H

#include "server/server.h"

/* GET/HEAD "/" and "/c/VERSION/<file>": true when the URL is the console's (answered). */
bool console_route(request *r, response *out);
/* Total size of the built-in assets, uncompressed. */
size_t console_assets_bytes(void);
/* After authentication: GET /v1/me/totp/qr (SVG) and GET /v1/me/session. False: not its. */
bool handle_console(server *s, request *r, response *out);

#endif
