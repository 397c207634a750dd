/*
 * mailrx.c - the SMTP receiver of the integration tests (mailrx.h).
 */
#include "mailrx.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static unsigned any_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    unsigned port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &n) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static bool accepts(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

bool mailrx_start(mailrx *m, const char *dir)
{
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    m->port = any_port();
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", m->port);
    const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    m->pid = fork();
    if (m->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execlp(py, py, "-m", "aiosmtpd", "-n", "-l", listen, "-c", "aiosmtpd.handlers.Mailbox",
               m->dir, (char *)NULL);
        _exit(127);
    }
    int64_t dl = h_deadline(15000);
    while (!accepts(m->port)) {
        int st;
        if (waitpid(m->pid, &st, WNOHANG) == m->pid || !h_poll(dl)) {
            printf("  the SMTP receiver did not start (is python3-aiosmtpd installed?)\n");
            m->pid = 0;
            return false;
        }
    }
    return true;
}

void mailrx_stop(mailrx *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
}

int mailrx_each(const mailrx *m, bool (*fn)(void *ctx, const char *msg, size_t len), void *ctx)
{
    char d[800];
    snprintf(d, sizeof d, "%s/new", m->dir);
    int n = 0;
    buf one;
    buf_init(&one, 8192);
    DIR *dh = opendir(d);
    struct dirent *e;
    while (dh && (e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char p[1100];
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        FILE *f = fopen(p, "rb");
        char chunk[8192];
        size_t k;
        buf_reset(&one);
        while (f && (k = fread(chunk, 1, sizeof chunk, f)) > 0) {
            IGNORE(buf_append(&one, chunk, k));
        }
        if (f) {
            fclose(f);
        }
        n++;
        if (!fn(ctx, buf_cstr(&one), one.len)) {
            break;
        }
    }
    if (dh) {
        closedir(dh);
    }
    buf_free(&one);
    return n;
}

static bool append_one(void *ctx, const char *msg, size_t len)
{
    buf *all = ctx;
    IGNORE(buf_append(all, msg, len));
    IGNORE(buf_append_str(all, "\n=====\n"));
    return true;
}

int mailrx_read(const mailrx *m, buf *all)
{
    buf_reset(all);
    return mailrx_each(m, append_one, all);
}

int mailrx_wait(const mailrx *m, int n, int ms, buf *all)
{
    int64_t dl = h_deadline(ms);
    int got;
    while ((got = mailrx_read(m, all)) < n && h_poll(dl)) {
    }
    return got;
}
