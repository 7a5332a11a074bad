/*
 * Thumbnails of results: GET /api/v1/jobs/{id}/result?thumb=N answers a JPEG whose longest side
 * is N (64..512; a smaller result keeps its size), for the page's history cards.
 *
 * A thumbnail is made once and cached in outputs/.thumbs/<stem>_<N>.jpg (a hidden directory the
 * history scanner never reads), written under a temporary name and renamed, so a reader sees a
 * whole file or none; deleting a result removes its thumbnails (toon_thumbs_remove).  It is
 * made the way the pipeline reads and writes images: the result is streamed row by row through
 * the reader (O(width) memory for baseline JPEG and non-interlaced PNG; WebP is decoded whole,
 * and the reader's plan counts it), the AREA resizer and the JPEG writer.  Its planned heap is
 * reserved against the same room the jobs share, so a burst of thumbnails cannot push the
 * process over its limit: when the room is taken the answer is 503 with Retry-After.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "image/codec.h"
#include "image/resize.h"
#include "service/internal.h"

#define THUMB_MIN     64
#define THUMB_MAX     512
#define THUMB_QUALITY 85
#define THUMB_DIR     ".thumbs"

int toon_thumb_side(long requested)
{
    return requested < THUMB_MIN ? THUMB_MIN : requested > THUMB_MAX ? THUMB_MAX : (int)requested;
}

/* "<stem>_<side>.jpg" for outputs/<out_name>. */
static void thumb_name(const char *out_name, int side, char *buf, size_t len)
{
    const char *dot = strrchr(out_name, '.');
    int stem = dot ? (int)(dot - out_name) : (int)strlen(out_name);
    snprintf(buf, len, "%.*s_%d.jpg", stem, out_name, side);
}

/* The thumbnails' directory under outputs/, made when missing; a descriptor or -1. */
static int thumbs_dir(const struct toon_service *svc)
{
    int dfd = open(svc->outputs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -1;
    if (mkdirat(dfd, THUMB_DIR, 0755) != 0 && errno != EEXIST) {
        close(dfd);
        return -1;
    }
    int tfd = openat(dfd, THUMB_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(dfd);
    return tfd;
}

/* A cached thumbnail, opened only when it is a regular file; -1 when there is none. */
static int open_cached(int tfd, const char *name)
{
    int fd = openat(tfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* The thumbnail's size: longest side `side`, never larger than the image. */
static void thumb_dims(const struct toon_image_info *info, int side, int *dw, int *dh)
{
    int longest = info->w > info->h ? info->w : info->h;
    if (longest <= side) {
        *dw = info->w;
        *dh = info->h;
        return;
    }
    *dw = (int)(((long long)info->w * side + longest / 2) / longest);
    *dh = (int)(((long long)info->h * side + longest / 2) / longest);
    if (*dw < 1) *dw = 1;
    if (*dh < 1) *dh = 1;
}

size_t toon_thumb_plan_bytes(const struct toon_image_info *info, int side)
{
    int dw, dh;
    thumb_dims(info, side, &dw, &dh);
    return toon_imgreader_plan_bytes(info) +
           toon_resizer_plan_bytes(info->w, info->h, dw, dh, 3, TOON_RESIZE_AREA) +
           toon_imgwriter_plan_bytes(TOON_FORMAT_JPEG, dw, dh) + (size_t)dw * 3;
}

static enum toon_status pull_rows(void *ctx, uint8_t *rows, int n, struct toon_err *err)
{
    return toon_imgreader_read(ctx, rows, n, err);
}

/* Streams data[len] through the reader, the resizer and the JPEG writer into f. */
static enum toon_status encode_thumb(const uint8_t *data, size_t len, int side, FILE *f,
                                     struct toon_err *err)
{
    struct toon_imgreader *rd = NULL;
    struct toon_resizer *rz = NULL;
    struct toon_imgwriter *wr = NULL;
    uint8_t *row = NULL; /* [dw][3] */
    enum toon_status st = toon_imgreader_open(data, len, NULL, &rd, err);
    if (st != TOON_STATUS_OK) goto fail;
    const struct toon_image_info *info = toon_imgreader_info(rd);
    int dw, dh;
    thumb_dims(info, side, &dw, &dh);
    st = toon_resizer_new(info->w, info->h, dw, dh, 3, TOON_RESIZE_AREA, pull_rows, rd, &rz, err);
    if (st != TOON_STATUS_OK) goto fail;
    st = toon_imgwriter_open(TOON_FORMAT_JPEG, THUMB_QUALITY, dw, dh, toon_write_file, f, &wr, err);
    if (st != TOON_STATUS_OK) goto fail;
    row = toon_malloc((size_t)dw * 3);
    if (!row) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto fail;
    }
    for (int y = 0; st == TOON_STATUS_OK && y < dh; y++) {
        st = toon_resizer_read(rz, row, 1, err);
        if (st == TOON_STATUS_OK) st = toon_imgwriter_write(wr, row, 1, err);
    }
    if (st == TOON_STATUS_OK) st = toon_imgwriter_finish(wr, err);
fail:
    toon_free(row);
    toon_imgwriter_free(wr);
    toon_resizer_free(rz);
    toon_imgreader_free(rd);
    return st;
}

/* Reserves `cost` bytes of the jobs' room, or says why not (503). */
static enum toon_status reserve(struct toon_service *svc, size_t cost, struct toon_err *err)
{
    size_t room = toon_admission_room(svc);
    pthread_mutex_lock(&svc->mu);
    int ok = svc->reserved + cost <= room;
    if (ok) svc->reserved += cost;
    pthread_mutex_unlock(&svc->mu);
    if (ok) return TOON_STATUS_OK;
    char b[32];
    return toon_err_set(err, TOON_STATUS_NO_MEMORY,
                        "the server's memory is taken by running jobs (a thumbnail needs %s); "
                        "retry in a few seconds",
                        toon_mb(cost, b, sizeof b));
}

static void unreserve(struct toon_service *svc, size_t cost)
{
    pthread_mutex_lock(&svc->mu);
    svc->reserved -= cost;
    pthread_cond_broadcast(&svc->cv_work);
    pthread_mutex_unlock(&svc->mu);
}

/* Makes tfd/name from the result in data[len], through a temporary name. */
static enum toon_status make_thumb(struct toon_service *svc, int tfd, const char *name,
                                   const uint8_t *data, size_t len, int side, struct toon_err *err)
{
    struct toon_image_info info;
    enum toon_status st = toon_image_probe(data, len, &info, err);
    size_t cost = st == TOON_STATUS_OK ? toon_thumb_plan_bytes(&info, side) : 0;
    if (st == TOON_STATUS_OK) st = reserve(svc, cost, err);
    if (st != TOON_STATUS_OK) return st;
    char id[33], tmp[200];
    if (toon_random_id(id, NULL) != TOON_STATUS_OK) snprintf(id, sizeof id, "%d", (int)getpid());
    snprintf(tmp, sizeof tmp, ".%.120s.%s.part", name, id);
    int fd = openat(tfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        st = toon_job_write_error(errno, "the thumbnail", err);
        if (fd >= 0) close(fd);
    } else {
        st = encode_thumb(data, len, side, f, err);
        if (fclose(f) != 0 && st == TOON_STATUS_OK)
            st = toon_job_write_error(errno, "the thumbnail", err);
        if (st == TOON_STATUS_OK && renameat(tfd, tmp, tfd, name) != 0)
            st = toon_job_write_error(errno, "the thumbnail", err);
        if (st != TOON_STATUS_OK) unlinkat(tfd, tmp, 0);
    }
    unreserve(svc, cost);
    return st;
}

enum toon_status toon_thumb_open(struct toon_service *svc, const char *out_name, int side,
                                 int *out_fd, struct toon_err *err)
{
    *out_fd = -1;
    char name[200];
    thumb_name(out_name, side, name, sizeof name);
    int tfd = thumbs_dir(svc);
    if (tfd < 0) return toon_job_write_error(errno, "the thumbnail", err);
    int fd = open_cached(tfd, name);
    enum toon_status st = TOON_STATUS_OK;
    if (fd < 0) {
        struct stat sb;
        int rfd = toon_outputs_open(svc, out_name, &sb);
        void *map = rfd >= 0 && sb.st_size > 0
                        ? mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, rfd, 0)
                        : MAP_FAILED;
        if (rfd >= 0) close(rfd);
        if (map == MAP_FAILED) {
            close(tfd);
            return toon_err_set(err, TOON_STATUS_NOT_FOUND,
                                "the result file is missing on disk, or is not a regular file");
        }
        st = make_thumb(svc, tfd, name, map, (size_t)sb.st_size, side, err);
        munmap(map, (size_t)sb.st_size);
        if (st == TOON_STATUS_OK) fd = open_cached(tfd, name);
        if (st == TOON_STATUS_OK && fd < 0)
            st = toon_err_set(err, TOON_STATUS_IO, "the thumbnail vanished as it was made");
    }
    close(tfd);
    *out_fd = fd;
    return st;
}

/* 1 if file is "<stem>_<digits>.jpg". */
static int is_thumb_of(const char *file, const char *stem, size_t n)
{
    if (strncmp(file, stem, n) != 0 || file[n] != '_') return 0;
    const char *p = file + n + 1;
    size_t digits = strspn(p, "0123456789");
    return digits > 0 && strcmp(p + digits, ".jpg") == 0;
}

void toon_thumbs_remove(const struct toon_service *svc, const char *out_name)
{
    int dfd = open(svc->outputs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int tfd =
        dfd >= 0 ? openat(dfd, THUMB_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (dfd >= 0) close(dfd);
    DIR *d = tfd >= 0 ? fdopendir(tfd) : NULL;
    if (!d) {
        if (tfd >= 0) close(tfd);
        return;
    }
    const char *dot = strrchr(out_name, '.');
    size_t n = dot ? (size_t)(dot - out_name) : strlen(out_name);
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (is_thumb_of(e->d_name, out_name, n) &&
            fstatat(tfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            unlinkat(tfd, e->d_name, 0);
    }
    closedir(d); /* closes tfd */
}
