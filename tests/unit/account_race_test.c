/*
 * account_race_test.c - one account row, many writers: a sign-in that was already under way
 * when the account was locked, disabled or sent to a blocking remedial course neither gets a
 * session for a locked or disabled account nor writes the old lock or training date back; under
 * concurrent sign-ins, locks, unlocks and remedial courses the row ends as the last committed
 * change left it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/clock.h"
#include "door/door_int.h" /* white-box: the vault's store, the sign-in's pause point */
#include "door/door_training.h"
#include "test.h"

#define STARTER "training/security-basics"
#define PW "a-long-enough-password-1"
#define HOUR_US ((int64_t)3600 * 1000000)

static vault *V;
static actor SYS, GUARD_ACTOR, AD;

/* ---- the pause point: a sign-in stops there until the test lets it go ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool paused, go;

static void pause_here(void)
{
    pthread_mutex_lock(&mu);
    paused = true;
    pthread_cond_broadcast(&cv);
    while (!go) {
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
}

/* Waits (with a deadline) until the sign-in stands at the pause point. */
static bool wait_paused(void)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 30;
    pthread_mutex_lock(&mu);
    int r = 0;
    while (!paused && r == 0) {
        r = pthread_cond_timedwait(&cv, &mu, &dl);
    }
    bool ok = paused;
    pthread_mutex_unlock(&mu);
    return ok;
}

static void release(void)
{
    pthread_mutex_lock(&mu);
    go = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

typedef struct signin {
    const char *user;
    err e;
    login_result res;
} signin;

static err login(const char *user, login_result *res)
{
    login_request rq = {.username = user, .password = PW, .source = "127.0.0.1", .request_id = "r"};
    return door_login(V, &rq, res);
}

static void *signin_main(void *arg)
{
    signin *s = arg;
    s->e = login(s->user, &s->res);
    return NULL;
}

/* Starts a sign-in of user that stops at the pause point. */
static bool start_paused(pthread_t *th, signin *s, const char *user)
{
    memset(s, 0, sizeof *s);
    s->user = user;
    pthread_mutex_lock(&mu);
    paused = go = false;
    pthread_mutex_unlock(&mu);
    door_test_login_paused = pause_here;
    if (pthread_create(th, NULL, signin_main, s) != 0) {
        return false;
    }
    return wait_paused();
}

static void finish(pthread_t th)
{
    release();
    pthread_join(th, NULL);
    door_test_login_paused = NULL;
}

static account row(const char *user)
{
    account acc;
    memset(&acc, 0, sizeof acc);
    EXPECT_OK(store_account_by_name(V->st, user, &acc));
    return acc;
}

static void person(const char *user)
{
    EXPECT_OK(door_account_create(V, &SYS, user, PW, ROLE_AUDITOR, "audit"));
}

TEST(t_setup)
{
    char *d = test_tmpdir("account_race");
    char dir[600], key[700];
    snprintf(dir, sizeof dir, "%s/vault", d);
    snprintf(key, sizeof key, "%s/key", d);
    free(d);
    EXPECT_OK(key_file_generate(key));
    vault_key src = {NULL, 0, key};
    vault_init_opts o = {&src, VAULT_KDF_FAST, NULL, NULL};
    EXPECT_OK(vault_init(dir, &o));
    EXPECT_OK(vault_open(dir, &src, &V));
    actor_system(&SYS, "test");
    actor_system(&GUARD_ACTOR, "guard");
    memset(&AD, 0, sizeof AD);
    snprintf(AD.username, sizeof AD.username, "admin");
    snprintf(AD.department, sizeof AD.department, "it");
    snprintf(AD.source, sizeof AD.source, "127.0.0.1");
    snprintf(AD.request_id, sizeof AD.request_id, "t");
    AD.role = ROLE_ADMIN;
    json_t *out = NULL;
    EXPECT_OK(door_training_import(V, &SYS, STARTER, &out));
    json_decref(out);
    person("paused1");
    person("paused2");
    person("paused3");
    person("paused4");
    person("stress1");
    login_result res;
    EXPECT_OK(login("paused1", &res)); /* the pause point is unset: sign-ins just work */
}

/* A lock that lands while the sign-in checks the password refuses it and survives it. */
TEST(t_lock_during_signin)
{
    pthread_t th;
    signin s;
    EXPECT(start_paused(&th, &s, "paused1"));
    int64_t until = clock_now_us() + HOUR_US;
    EXPECT_OK(door_account_lock(V, "paused1", until, NULL));
    finish(th);
    EXPECT_ERR(s.e, ERR_AUTH);
    EXPECT(s.res.token[0] == '\0');
    account acc = row("paused1");
    EXPECT(acc.locked_until_us == until);
    identity_account_wipe(&acc);
}

/* A blocking remedial course assigned meanwhile: its training_until=0 is not written over. */
TEST(t_remedial_during_signin)
{
    int64_t valid = clock_now_us() + 200 * 24 * HOUR_US;
    EXPECT_OK(door_account_training_offline(V, &SYS, "paused2", valid));
    pthread_t th;
    signin s;
    EXPECT(start_paused(&th, &s, "paused2"));
    json_t *out = NULL;
    EXPECT_OK(door_training_remedial_assign(V, &GUARD_ACTOR, "paused2", "security-basics",
                                            "violation:bulk-read", true, &out));
    json_decref(out);
    finish(th);
    EXPECT_OK(s.e); /* a remedial course holds customer data back, not the sign-in */
    account acc = row("paused2");
    EXPECT(acc.training_until_us == 0);
    identity_account_wipe(&acc);
    /* and the session it got has no training either */
    actor a;
    EXPECT_OK(door_authenticate(V, s.res.token, "127.0.0.1", "r", &a));
    EXPECT(a.training_until_us == 0);
}

/* Disabled meanwhile by an administrator: refused, and still disabled. */
TEST(t_disable_during_signin)
{
    pthread_t th;
    signin s;
    EXPECT(start_paused(&th, &s, "paused3"));
    account_change c = {.disabled = 1, .training_until_us = -1};
    json_t *out = NULL;
    EXPECT_OK(door_account_change(V, &AD, "paused3", &c, &out));
    json_decref(out);
    finish(th);
    EXPECT_ERR(s.e, ERR_AUTH);
    account acc = row("paused3");
    EXPECT(acc.disabled);
    identity_account_wipe(&acc);
}

/* The password reset meanwhile: the old password opens nothing, the new hash stays. */
TEST(t_password_reset_during_signin)
{
    pthread_t th;
    signin s;
    EXPECT(start_paused(&th, &s, "paused4"));
    account_change c = {
        .disabled = -1, .password = "another-long-password-2", .training_until_us = -1};
    json_t *out = NULL;
    EXPECT_OK(door_account_change(V, &AD, "paused4", &c, &out));
    json_decref(out);
    account before = row("paused4");
    finish(th);
    EXPECT_ERR(s.e, ERR_AUTH);
    account acc = row("paused4");
    EXPECT_STR(acc.pwhash, before.pwhash);
    identity_account_wipe(&acc);
    identity_account_wipe(&before);
}

/* ---- many writers at once ---- */

#define SIGNERS 3
static atomic_bool stop;
static atomic_long attempts[SIGNERS];

static void *signer_main(void *arg)
{
    long i = (long)(intptr_t)arg;
    while (!atomic_load(&stop)) {
        login_result res;
        IGNORE(login("stress1", &res));
        atomic_fetch_add(&attempts[i], 1);
    }
    return NULL;
}

/* Waits until every signer finished two attempts begun after now: none is still in flight
 * from before. */
static bool quiesce(void)
{
    long mark[SIGNERS];
    for (int i = 0; i < SIGNERS; i++) {
        mark[i] = atomic_load(&attempts[i]);
    }
    int64_t deadline = clock_now_us() + 60 * 1000000LL;
    for (int i = 0; i < SIGNERS; i++) {
        while (atomic_load(&attempts[i]) < mark[i] + 2) {
            if (clock_now_us() > deadline) {
                return false;
            }
            sched_yield();
        }
    }
    return true;
}

typedef struct writer {
    int64_t until;
    err e;
} writer;

static void *locker_main(void *arg)
{
    writer *w = arg;
    w->e = door_account_lock(V, "stress1", w->until, NULL);
    return NULL;
}

static void *remedial_main(void *arg)
{
    writer *w = arg;
    json_t *out = NULL;
    w->e = door_training_remedial_assign(V, &GUARD_ACTOR, "stress1", "security-basics",
                                         "violation:bulk-read", true, &out);
    json_decref(out);
    return NULL;
}

TEST(t_stress_last_change_wins)
{
    pthread_t signers[SIGNERS];
    atomic_store(&stop, false);
    for (long i = 0; i < SIGNERS; i++) {
        atomic_store(&attempts[i], 0);
        EXPECT(pthread_create(&signers[i], NULL, signer_main, (void *)(intptr_t)i) == 0);
    }
    int lost_lock = 0, lost_training = 0, lost_unlock = 0, rounds = 12;
    for (int r = 0; r < rounds; r++) {
        /* unlocked, trained: sign-ins succeed and write */
        EXPECT_OK(door_account_unlock(V, "stress1"));
        EXPECT_OK(
            door_account_training_offline(V, &SYS, "stress1", clock_now_us() + 100 * 24 * HOUR_US));
        EXPECT(quiesce());
        account acc = row("stress1");
        lost_unlock += acc.locked_until_us != 0;
        identity_account_wipe(&acc);
        /* a lock and a remedial course at once, while the sign-ins run */
        writer lw = {clock_now_us() + HOUR_US + r, ERR_OK}, rw = {0, ERR_OK};
        pthread_t lt, rt;
        EXPECT(pthread_create(&lt, NULL, locker_main, &lw) == 0);
        EXPECT(pthread_create(&rt, NULL, remedial_main, &rw) == 0);
        pthread_join(lt, NULL);
        pthread_join(rt, NULL);
        EXPECT_OK(lw.e);
        EXPECT_OK(rw.e);
        EXPECT(quiesce());
        acc = row("stress1");
        lost_lock += acc.locked_until_us != lw.until;
        lost_training += acc.training_until_us != 0;
        identity_account_wipe(&acc);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < SIGNERS; i++) {
        pthread_join(signers[i], NULL);
    }
    long total = 0;
    for (int i = 0; i < SIGNERS; i++) {
        total += atomic_load(&attempts[i]);
    }
    printf("  %d rounds, %ld sign-ins: lost locks %d, lost remedial %d, lost unlocks %d\n", rounds,
           total, lost_lock, lost_training, lost_unlock);
    EXPECT_INT(lost_lock, 0);
    EXPECT_INT(lost_training, 0);
    EXPECT_INT(lost_unlock, 0);
}

TEST(t_teardown)
{
    vault_close(V);
}

int main(void)
{
    test_init();
    RUN(t_setup);
    RUN(t_lock_during_signin);
    RUN(t_remedial_during_signin);
    RUN(t_disable_during_signin);
    RUN(t_password_reset_during_signin);
    RUN(t_stress_last_change_wins);
    RUN(t_teardown);
    return test_done("account_race_test");
}
