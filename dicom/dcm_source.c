/* htcodec DICOM layer: byte sources. A file is mapped (or read with pread),
 * memory is borrowed, a reader is called; every access goes through
 * dcm_read, which checks the range and counts the bytes. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcm_internal.h"

static int pread_all(void *opaque, uint64_t off, void *dst, size_t n)
{
    const int fd = (int)(intptr_t)opaque;
    uint8_t *p = dst;
    while (n) {
        const ssize_t r = pread(fd, p, n, (off_t)off);
        if (r <= 0)
            return HTC_EIO;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int dcm_source_file(DcmSource *s, const DcmCtx *c, const char *path, int use_mmap)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dcm_fail(c, HTC_EIO, "cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return dcm_fail(c, HTC_EIO, "%s is not a regular file", path);
    }
    s->size = (uint64_t)st.st_size;
    s->fd = fd;
    if (use_mmap && st.st_size > 0 && (uint64_t)st.st_size <= SIZE_MAX) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            s->map = m;
            s->map_size = (size_t)st.st_size;
            s->base = m;
            return 0;
        }
    }
    s->reader.opaque = (void *)(intptr_t)fd;
    s->reader.size = s->size;
    s->reader.read = pread_all;
    return 0;
}

void dcm_source_memory(DcmSource *s, const void *data, size_t size)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->base = data;
    s->size = size;
}

void dcm_source_reader(DcmSource *s, const HtcDicomReader *r)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->reader = *r;
    s->size = r->size;
}

void dcm_source_close(DcmSource *s, const DcmCtx *c)
{
    if (s->map)
        munmap(s->map, s->map_size);
    if (s->fd >= 0)
        close(s->fd);
    dcm_free(c, s->owned);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

int dcm_read(DcmSource *s, const DcmCtx *c, uint64_t off, void *dst, size_t n)
{
    if (off > s->size || n > s->size - off)
        return dcm_fail(c, HTC_EDICOM, "read of %zu bytes at offset %llu past the end of the data (%llu bytes)",
                        n, (unsigned long long)off, (unsigned long long)s->size);
    s->bytes_read += n;
    if (n == 0)
        return 0;
    if (s->base) {
        memcpy(dst, s->base + off, n);
        return 0;
    }
    const int rc = s->reader.read(s->reader.opaque, off, dst, n);
    if (rc < 0)
        return dcm_fail(c, rc, "reading %zu bytes at offset %llu failed", n, (unsigned long long)off);
    return 0;
}
