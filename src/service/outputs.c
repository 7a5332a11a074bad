/*
 * The outputs directory as the service reads it back.  Anyone may drop files there, so nothing
 * in it is trusted: a result or a sidecar is opened relative to the directory's descriptor,
 * without following a link (O_NOFOLLOW) and without blocking on a FIFO (O_NONBLOCK), and used
 * only when fstat says it is a regular file (sidecars: of a bounded size).  Names come from
 * sidecars already checked to be plain names (no '/', no leading '.'), so openat on the
 * directory keeps every file served inside it.
 *
 * Also here: whether the directory can be written, for /readyz (a real create and unlink,
 * remembered for a second so a probe every few seconds costs nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "service/internal.h"

/* How long a writability check is trusted. */
#define WRITABLE_CACHE_S 1.0

static int open_in(const char *dir, const char *name, struct stat *st)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -1;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int saved = errno;
    close(dfd);
    errno = saved;
    if (fd < 0) return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        errno = EINVAL; /* a link, FIFO, device or directory: never a result */
        return -1;
    }
    /* Reads of a regular file never block; clear the flag for whoever reads it next. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int toon_outputs_open(const struct toon_service *svc, const char *name, struct stat *st)
{
    if (!name[0] || strchr(name, '/') || name[0] == '.') {
        errno = EINVAL;
        return -1;
    }
    return open_in(svc->outputs, name, st);
}

enum toon_status toon_outputs_read_small(const struct toon_service *svc, const char *name,
                                         size_t max, char **out, struct toon_err *err)
{
    *out = NULL;
    struct stat st;
    int fd = toon_outputs_open(svc, name, &st);
    if (fd < 0)
        return toon_err_set(err, TOON_STATUS_IO, "%s",
                            errno == EINVAL || errno == ELOOP ? "not a regular file"
                                                              : strerror(errno));
    if ((size_t)st.st_size > max) {
        close(fd);
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "larger than %zu bytes", max);
    }
    char *buf = toon_malloc(max + 1);
    size_t n = 0;
    ssize_t k = 1;
    while (buf && n <= max && k > 0) {
        k = read(fd, buf + n, max + 1 - n);
        if (k < 0 && errno == EINTR)
            k = 1;
        else if (k > 0)
            n += (size_t)k;
    }
    close(fd);
    if (!buf) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    if (k < 0 || n > max) {
        toon_free(buf);
        return toon_err_set(err, TOON_STATUS_IO, "%s",
                            k < 0 ? "cannot be read" : "grew while it was read");
    }
    buf[n] = 0;
    *out = buf;
    return TOON_STATUS_OK;
}

int toon_outputs_is_result(const struct toon_service *svc, const char *name)
{
    struct stat st;
    int fd = toon_outputs_open(svc, name, &st);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}

/* The sidecar's name of a result: its stem with .json. */
static void sidecar_name(const char *name, char *buf, size_t len)
{
    const char *dot = strrchr(name, '.');
    int stem = dot ? (int)(dot - name) : (int)strlen(name);
    snprintf(buf, len, "%.*s.json", stem, name);
}

/* Claims <name> in dfd through its sidecar, then links tmp there: 0, EEXIST when the name is
 * taken (nothing left behind), or another errno. */
static int claim_one(int dfd, const char *tmp, const char *name)
{
    char side[160];
    sidecar_name(name, side, sizeof side);
    int fd = openat(dfd, side, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    close(fd);
    if (linkat(AT_FDCWD, tmp, dfd, name, 0) == 0) return 0;
    int e = errno;
    unlinkat(dfd, side, 0);
    return e;
}

int toon_outputs_claim(const struct toon_service *svc, const char *tmp, const char *stem,
                       const char *ext, char *name, size_t len)
{
    int dfd = open(svc->outputs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return errno;
    int e = EEXIST;
    for (int k = 1; e == EEXIST && k <= 9999; k++) {
        if (k == 1)
            snprintf(name, len, "%s.%s", stem, ext);
        else
            snprintf(name, len, "%s_%d.%s", stem, k, ext);
        e = claim_one(dfd, tmp, name);
    }
    close(dfd);
    if (e) name[0] = 0;
    return e;
}

/* Unlinks dfd/name when it is a regular file (not a link, FIFO or directory). */
static void unlink_regular(int dfd, const char *name)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
        unlinkat(dfd, name, 0);
}

void toon_outputs_remove(const struct toon_service *svc, const char *name)
{
    if (!name[0] || strchr(name, '/') || name[0] == '.') return;
    int dfd = open(svc->outputs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    char side[160];
    sidecar_name(name, side, sizeof side);
    unlink_regular(dfd, name);
    unlink_regular(dfd, side);
    close(dfd);
    toon_thumbs_remove(svc, name);
}

/* Creates and removes a file in dir; 0 with why filled when that fails. */
static int try_write(const char *dir, char *why, size_t why_len)
{
    char id[33], path[4400];
    if (toon_random_id(id, NULL) != TOON_STATUS_OK) id[0] = 0;
    snprintf(path, sizeof path, "%.4200s/.ready-%s", dir, id);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, "ok", 2) != 2 || close(fd) != 0) {
        snprintf(why, why_len, "cannot write in %.4000s: %s", dir, strerror(errno));
        if (fd >= 0) unlink(path);
        return 0;
    }
    if (unlink(path) != 0) {
        snprintf(why, why_len, "cannot remove files in %.4000s: %s", dir, strerror(errno));
        return 0;
    }
    return 1;
}

int toon_outputs_writable(struct toon_service *svc, char *why, size_t why_len)
{
    double now = toon_now();
    pthread_mutex_lock(&svc->mu);
    int fresh = now - svc->writable_at < WRITABLE_CACHE_S && now >= svc->writable_at;
    int ok = svc->writable_ok;
    snprintf(why, why_len, "%s", svc->writable_why);
    pthread_mutex_unlock(&svc->mu);
    if (fresh) return ok;
    /* Results are written in work/ and renamed into outputs/; sidecars go to outputs/. */
    ok = try_write(svc->outputs, why, why_len) && try_write(svc->work, why, why_len);
    if (ok) why[0] = 0;
    pthread_mutex_lock(&svc->mu);
    svc->writable_at = now;
    svc->writable_ok = ok;
    snprintf(svc->writable_why, sizeof svc->writable_why, "%s", why);
    pthread_mutex_unlock(&svc->mu);
    return ok;
}
