/*
 * harness.h - integration tests drive the real binary: `custos init/demo` in a
 * temporary folder, `custos serve` on a random loopback port, HTTPS requests
 * with libcurl that trust only the vault's own certificate.
 */
#ifndef CUSTOS_HARNESS_H
#define CUSTOS_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/buf.h"

typedef struct srv {
    char dir[512]; /* the vault folder */
    char key[512]; /* its key file */
    char log[512]; /* the server's stderr */
    char cacert[600];
    unsigned port;
    unsigned mport; /* the metrics listener (plain HTTP on 127.0.0.1) */
    pid_t pid;
} srv;

/* A fresh temporary work folder (under $TMPDIR), with a key file and an empty vault path. */
void h_setup(srv *s, const char *tag);
/* Runs the custos binary with argv (NULL-terminated) and the key file; returns the exit
 * status; output (stdout+stderr) goes to out when not NULL. */
int h_cli(srv *s, buf *out, const char *const *argv);
/* Writes VAULT/guard.rules with admission limits only (no detection rules). */
void h_quiet_guard(srv *s);
/* Starts `custos serve` on 127.0.0.1:0 and waits until it answers /healthz. */
bool h_start(srv *s);
/* SIGTERM, waits; returns the exit status (0 when clean, sanitizers included). */
int h_stop(srv *s);

/* One HTTPS request. body may be NULL. Returns the status (0 on transport failure). */
int h_req(srv *s, const char *method, const char *path, const char *token, const char *content_type,
          const char *body, size_t body_len, buf *resp, const char *extra_header);
/* Same, with the answer parsed as JSON (NULL when not JSON). */
int h_json(srv *s, const char *method, const char *path, const char *token, const char *body,
           json_t **out);
/* h_json with extra request headers (one per line). */
int h_json_h(srv *s, const char *method, const char *path, const char *token, const char *body,
             const char *extra_header, json_t **out);
/* The response headers of the last h_req/h_json on this thread (each thread has its own). */
const char *h_last_headers(void);
/* GET path on the metrics listener (/metrics, /healthz, /readyz); returns the status. */
int h_metrics(srv *s, const char *path, buf *resp);
/* Logs in; the token is written to tok (>= 64 bytes). */
bool h_login(srv *s, const char *user, const char *password, char *tok);

/* Waiting with a deadline: h_deadline(ms) is the monotonic time ms from now; h_poll(deadline)
 * pauses briefly (10 ms) and returns false once the deadline has passed, so a wait reads
 * `while (!condition) { if (!h_poll(dl)) break; }` and never depends on a fixed sleep.
 * h_wait_readable waits for fd to have data (or its writers to close) until the deadline. */
int64_t h_deadline(int ms);
bool h_poll(int64_t deadline);
bool h_wait_readable(int fd, int64_t deadline);

/* True when needle occurs anywhere in the file (binary-safe). */
bool h_file_contains(const char *path, const char *needle);
/* Counts files under dir (recursively) that contain needle; names them on stdout. */
int h_tree_contains(const char *dir, const char *needle);

#define DEMO_PW "demo-password-for-tests"

#endif
