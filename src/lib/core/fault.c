/*
 * fault.c - the fault-injection points of fault.h and the SQLite VFS that
 * carries the write and fsync points.
 *
 * Test builds only (CUSTOS_TESTING). The VFS is the one place outside store/
 * and audit/ that includes sqlite3.h: it speaks no SQL, it only wraps the
 * default VFS's file methods, so a fault is a real failed write(2) or fsync(2)
 * as SQLite sees it. Files are told apart by name: custos.db* belongs to the
 * store, audit.db* to the audit log, anything else passes untouched.
 */
#include "core/fault.h"

#ifdef CUSTOS_TESTING

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

typedef struct arm {
    atomic_bool armed;
    atomic_uint_fast64_t hits;     /* hits since armed */
    atomic_uint_fast64_t injected; /* since the process started */
    uint64_t after, every, times;
    uint64_t failed; /* failures since armed, under mu */
} arm;

static arm arms[FAULT__COUNT];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const char *const names[FAULT__COUNT] = {
    "store.write", "store.fsync", "store.alloc", "audit.write", "audit.fsync", "audit.alloc",
};

const char *fault_name(fault_point p)
{
    return p >= 0 && p < FAULT__COUNT ? names[p] : NULL;
}

void fault_arm(fault_point p, uint64_t after, uint64_t every, uint64_t times)
{
    if (p < 0 || p >= FAULT__COUNT) {
        return;
    }
    pthread_mutex_lock(&mu);
    arms[p].after = after;
    arms[p].every = every ? every : 1;
    arms[p].times = times;
    arms[p].failed = 0;
    atomic_store(&arms[p].hits, 0);
    atomic_store(&arms[p].armed, true);
    pthread_mutex_unlock(&mu);
}

void fault_disarm_all(void)
{
    for (int p = 0; p < FAULT__COUNT; p++) {
        atomic_store(&arms[p].armed, false);
    }
}

uint64_t fault_injected(fault_point p)
{
    return p >= 0 && p < FAULT__COUNT ? atomic_load(&arms[p].injected) : 0;
}

bool fault_hit(fault_point p)
{
    if (p < 0 || p >= FAULT__COUNT || !atomic_load_explicit(&arms[p].armed, memory_order_relaxed)) {
        return false;
    }
    arm *a = &arms[p];
    bool fail = false;
    pthread_mutex_lock(&mu);
    uint64_t n = atomic_fetch_add(&a->hits, 1) + 1;
    if (atomic_load(&a->armed) && n > a->after && (n - a->after) % a->every == 0 &&
        (a->times == 0 || a->failed < a->times)) {
        a->failed++;
        atomic_fetch_add(&a->injected, 1);
        fail = true;
    }
    pthread_mutex_unlock(&mu);
    if (fail) {
        log_warn("fault.injected", "point=%s hit=%llu", names[p], (unsigned long long)n);
    }
    return fail;
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 18) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* One item: NAME[:after=N][:every=N][:times=N], n bytes at s. */
static err parse_item(const char *s, size_t n, fault_point *p, uint64_t v[3])
{
    size_t k = 0;
    while (k < n && s[k] != ':') {
        k++;
    }
    *p = FAULT__COUNT;
    for (int i = 0; i < FAULT__COUNT; i++) {
        if (strlen(names[i]) == k && memcmp(names[i], s, k) == 0) {
            *p = (fault_point)i;
        }
    }
    ENSURE(*p != FAULT__COUNT, ERR_INPUT, "CUSTOS_FAULTS: unknown fault point");
    static const char *const keys[3] = {"after=", "every=", "times="};
    v[0] = 0;
    v[1] = 1;
    v[2] = 0;
    while (k < n) {
        size_t start = ++k; /* past ':' */
        while (k < n && s[k] != ':') {
            k++;
        }
        bool ok = false;
        for (int j = 0; j < 3 && !ok; j++) {
            size_t kl = strlen(keys[j]);
            ok = k - start > kl && memcmp(s + start, keys[j], kl) == 0 &&
                 parse_u64(s + start + kl, k - start - kl, &v[j]);
        }
        ENSURE(ok, ERR_INPUT, "CUSTOS_FAULTS: expected after=N, every=N or times=N");
    }
    return ERR_OK;
}

err fault_arm_spec(const char *spec)
{
    fault_point ps[FAULT__COUNT * 4];
    uint64_t vs[FAULT__COUNT * 4][3];
    size_t n = 0;
    const char *s = spec;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        ENSURE(n < sizeof ps / sizeof ps[0], ERR_INPUT, "CUSTOS_FAULTS: too many items");
        TRY(parse_item(s, len, &ps[n], vs[n]));
        n++;
        s += len;
        if (*s == ',') {
            s++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        fault_arm(ps[i], vs[i][0], vs[i][1], vs[i][2]);
    }
    return ERR_OK;
}

/* ---- the VFS ---- */

typedef struct ffile {
    sqlite3_file base;
    fault_point wr, sy; /* FAULT__COUNT: not ours */
    sqlite3_file *real; /* right after this struct */
} ffile;

static sqlite3_vfs *orig;
static sqlite3_vfs vfs;

#define REAL(f) (((ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    ffile *ff = (ffile *)f;
    if (ff->wr != FAULT__COUNT && fault_hit(ff->wr)) {
        return SQLITE_IOERR_WRITE;
    }
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    ffile *ff = (ffile *)f;
    if (ff->sy != FAULT__COUNT && fault_hit(ff->sy)) {
        return SQLITE_IOERR_FSYNC;
    }
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods methods = {
    3,          f_close,       f_read,      f_write,   f_truncate, f_sync,   f_size,
    f_lock,     f_unlock,      f_reserved,  f_control, f_sector,   f_device, f_shm_map,
    f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch,   f_unfetch,
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The layer a database file belongs to, by its name. */
static void classify(const char *name, fault_point *wr, fault_point *sy)
{
    *wr = *sy = FAULT__COUNT;
    if (!name) {
        return;
    }
    static const char *const sfx[] = {"", "-wal", "-journal"};
    for (size_t i = 0; i < 3; i++) {
        char s[32], a[32];
        snprintf(s, sizeof s, "/custos.db%s", sfx[i]);
        snprintf(a, sizeof a, "/audit.db%s", sfx[i]);
        if (ends_with(name, s)) {
            *wr = FAULT_STORE_WRITE;
            *sy = FAULT_STORE_FSYNC;
        } else if (ends_with(name, a)) {
            *wr = FAULT_AUDIT_WRITE;
            *sy = FAULT_AUDIT_FSYNC;
        }
    }
}

static int f_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    ffile *ff = (ffile *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    int r = orig->xOpen(orig, name, ff->real, flags, out_flags);
    if (r != SQLITE_OK || ff->real->pMethods == NULL) {
        f->pMethods = NULL;
        return r;
    }
    if (ff->real->pMethods->iVersion < 3) { /* the unix VFS has version 3 */
        ff->real->pMethods->xClose(ff->real);
        f->pMethods = NULL;
        return SQLITE_CANTOPEN;
    }
    classify(name, &ff->wr, &ff->sy);
    f->pMethods = &methods;
    return SQLITE_OK;
}

/* Everything but xOpen goes to the default VFS. */
static int f_delete(sqlite3_vfs *v, const char *name, int sync)
{
    return orig->xDelete(orig, name, sync);
}
static int f_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    return orig->xAccess(orig, name, flags, out);
}
static int f_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
    return orig->xFullPathname(orig, name, n, out);
}
static void *f_dlopen(sqlite3_vfs *v, const char *name)
{
    return orig->xDlOpen(orig, name);
}
static void f_dlerror(sqlite3_vfs *v, int n, char *msg)
{
    orig->xDlError(orig, n, msg);
}
static void (*f_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    return orig->xDlSym(orig, h, sym);
}
static void f_dlclose(sqlite3_vfs *v, void *h)
{
    orig->xDlClose(orig, h);
}
static int f_random(sqlite3_vfs *v, int n, char *out)
{
    return orig->xRandomness(orig, n, out);
}
static int f_sleep(sqlite3_vfs *v, int us)
{
    return orig->xSleep(orig, us);
}
static int f_time(sqlite3_vfs *v, double *t)
{
    return orig->xCurrentTime(orig, t);
}
static int f_lasterr(sqlite3_vfs *v, int n, char *msg)
{
    return orig->xGetLastError ? orig->xGetLastError(orig, n, msg) : 0;
}
static int f_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    return orig->xCurrentTimeInt64(orig, t);
}

static void init_once(void)
{
    const char *spec = getenv("CUSTOS_FAULTS");
    if (spec && *spec && fault_arm_spec(spec) != ERR_OK) {
        log_error("fault.spec", "%s", err_message());
    }
    orig = sqlite3_vfs_find(NULL);
    if (!orig || orig->iVersion < 2) {
        return;
    }
    vfs.iVersion = 2;
    vfs.szOsFile = (int)sizeof(ffile) + orig->szOsFile;
    vfs.mxPathname = orig->mxPathname;
    vfs.zName = "custos-fault";
    vfs.xOpen = f_open;
    vfs.xDelete = f_delete;
    vfs.xAccess = f_access;
    vfs.xFullPathname = f_fullpath;
    vfs.xDlOpen = f_dlopen;
    vfs.xDlError = f_dlerror;
    vfs.xDlSym = f_dlsym;
    vfs.xDlClose = f_dlclose;
    vfs.xRandomness = f_random;
    vfs.xSleep = f_sleep;
    vfs.xCurrentTime = f_time;
    vfs.xGetLastError = f_lasterr;
    vfs.xCurrentTimeInt64 = f_time64;
    if (sqlite3_vfs_register(&vfs, 1) != SQLITE_OK) {
        log_error("fault.vfs", "cannot register the fault-injection VFS");
    }
}

void fault_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

#else

/* Release builds: fault.h's inline no-op hooks are all there is. */
typedef int fault_release_build_has_no_points;

#endif
