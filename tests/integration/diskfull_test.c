/*
 * diskfull_test.c - the vault on a small tmpfs that fills up under concurrent
 * writes.
 *
 * While the disk is full every write must fail closed with 503 (no 500, no
 * acknowledgement of something that was not kept); once space is freed the
 * server recovers by itself, and every acknowledged write, from before, during
 * and after, reads back decrypted with its audit entry. A second fill ends in
 * SIGKILL while the disk is full; after space is freed the server restarts and
 * nothing acknowledged is missing. The audit log verifies offline and the
 * store passes SQLite's integrity check.
 *
 * Needs root (it mounts a tmpfs); skipped with a message otherwise.
 * CUSTOS_SOAK=1 (make soak) repeats the fill-and-free cycle more times.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/test.h"
#include "harness.h"
#include "load.h"
#include "store/store.h"
#include "store/store_backup.h"

#define TMPFS_SIZE "size=128m,mode=0700"

static srv S;
static char mnt[600], filler[700];
static bool mounted;

/* Fills the file system up: ENOSPC at the end. Returns the bytes written. */
static long fill_disk(void)
{
    int fd = open(filler, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) {
        return -1;
    }
    static char chunk[1 << 16];
    memset(chunk, 0x5a, sizeof chunk);
    long total = 0;
    for (size_t sz = sizeof chunk; sz >= 512;) {
        ssize_t k = write(fd, chunk, sz);
        if (k > 0) {
            total += k;
        } else if (k < 0 && errno == ENOSPC) {
            sz /= 2;
        } else {
            break;
        }
    }
    fsync(fd);
    close(fd);
    return total;
}

static bool kill9(void)
{
    if (!S.pid) {
        return false;
    }
    kill(S.pid, SIGKILL);
    int st = 0;
    waitpid(S.pid, &st, 0);
    S.pid = 0;
    return true;
}

TEST(t_disk_full)
{
    bool soak = getenv("CUSTOS_SOAK") && atoi(getenv("CUSTOS_SOAK")) != 0;
    if (geteuid() != 0) {
        printf("    skipped: this test mounts a tmpfs to fill it and needs root\n");
        return;
    }
    h_setup(&S, "diskfull");
    /* The vault on the tmpfs; the key file and the server's log stay outside it. */
    snprintf(mnt, sizeof mnt, "%s", S.dir);
    char *slash = strrchr(mnt, '/');
    snprintf(slash, sizeof mnt - (size_t)(slash - mnt), "/small-disk");
    mkdir(mnt, 0700);
    if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_SIZE) != 0) {
        printf("    skipped: cannot mount a tmpfs (%s)\n", strerror(errno));
        return;
    }
    mounted = true;
    snprintf(S.dir, sizeof S.dir, "%s/vault", mnt);
    snprintf(S.cacert, sizeof S.cacert, "%s/tls/cert.pem", S.dir);
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    setenv("CUSTOS_DEMO_PASSWORD", DEMO_PW, 1);
    setenv("CUSTOS_DEMO_SEED", "13", 1);
    const char *demo[] = {"demo", S.dir, "--customers", "10", NULL};
    EXPECT_INT(h_cli(&S, NULL, demo), 0);
    h_quiet_guard(&S);
    EXPECT(h_start(&S));
    load_opts o = {
        .writers = 4,
        .rotator = false,
        .stop_on_transport = false,
        .allow_503 = true,
        .seed = (unsigned)(time(NULL) % 100000),
    };
    load *L = load_new(&S, &o);
    EXPECT(load_login(L));
    int cycles = soak ? 10 : 1;
    uint64_t refused_full = 0, acked_full = 0;
    for (int cyc = 0; cyc <= cycles && !test_cur_failed_; cyc++) {
        bool crash = cyc == cycles; /* the last fill ends in SIGKILL */
        load_start(L);
        EXPECT(load_wait_acks(L, 60, 120));
        /* Full. */
        load_counts k0 = load_get_counts(L);
        long filled = fill_disk();
        EXPECT(filled >= 0);
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) { /* until the full disk was felt for a while, with a deadline */
            load_counts k = load_get_counts(L);
            if (k.refused - k0.refused >= 40) {
                break;
            }
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > 120) {
                break;
            }
            fill_disk(); /* whatever a checkpoint or a deletion freed */
            usleep(20000);
        }
        load_counts k1 = load_get_counts(L);
        EXPECT(k1.refused - k0.refused >= 40);
        EXPECT_INT(k1.unexpected, k0.unexpected); /* 503, never 500 */
        EXPECT_INT(k1.transport, k0.transport);
        refused_full += k1.refused - k0.refused;
        acked_full += k1.acked - k0.acked;
        if (crash) {
            EXPECT(kill9());
            load_stop(L);
            unlink(filler);
            EXPECT(h_start(&S));
            EXPECT(load_login(L));
        } else {
            load_stop(L);
            unlink(filler);
            /* Recovered by itself, no restart: writes succeed again. */
            load_opts *lo = load_options(L);
            lo->allow_503 = false;
            load_start(L);
            EXPECT(load_wait_acks(L, 40, 60));
            load_stop(L);
            lo->allow_503 = true;
            EXPECT_INT(load_get_counts(L).unexpected, k1.unexpected);
        }
        EXPECT(load_verify(L, true));
        printf("    %s: %ld bytes of filler, %llu writes refused with 503 while full, %llu "
               "acknowledged\n",
               crash ? "full, then SIGKILL" : "full, then freed", filled,
               (unsigned long long)(k1.refused - k0.refused),
               (unsigned long long)(k1.acked - k0.acked));
    }
    EXPECT_INT(h_stop(&S), 0);
    const char *av[] = {"audit", "verify", S.dir, NULL};
    buf out;
    buf_init(&out, 0);
    EXPECT_INT(h_cli(&S, &out, av), 0);
    printf("    %s", buf_cstr(&out));
    buf_free(&out);
    char db[700];
    snprintf(db, sizeof db, "%s/custos.db", S.dir);
    EXPECT_OK(store_check_file(db));
    load_counts k = load_get_counts(L);
    EXPECT_INT(k.lost, 0);
    EXPECT_INT(k.half, 0);
    EXPECT_INT(k.unexpected, 0);
    printf("    disk full %d time(s): %llu writes refused (503) while full, %llu acknowledged "
           "while full; acknowledged writes in all: %llu, all read back with their audit "
           "entries; lost: %llu; half-written: %llu\n",
           cycles + 1, (unsigned long long)refused_full, (unsigned long long)acked_full,
           (unsigned long long)k.acked, (unsigned long long)k.lost, (unsigned long long)k.half);
    load_free(L);
}

int main(void)
{
    test_init();
    RUN(t_disk_full);
    if (S.pid) {
        kill9();
    }
    if (mounted && umount2(mnt, MNT_DETACH) != 0) {
        printf("    cannot unmount %s: %s\n", mnt, strerror(errno));
    }
    return test_done("diskfull_test");
}
