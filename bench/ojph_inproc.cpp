// bench/ojph_inproc.cpp: OpenJPH timed in one process, as `htc bench --json`
// times htcodec, so that small files (0.5 ms CT slices) get a figure free of
// process start-up and of its noise.
//
//   ojph_inproc FILE... [--repeat R] [--warmup W] [--json]
//
// Each file is read into memory once. A timed run is: open an ojph::mem_infile
// on the bytes, read the headers, create the decoder, pull every line of every
// component and convert it into an output buffer in htc's .raw layout (planar,
// component order, 1 byte a sample up to 8 bits, else 2 (16-bit, little-endian;
// 4 above 16 bits), signed as two's complement), then close: the work of
// `htc bench` (parse + decode into a picture), no file writing. The output
// buffer is allocated once per file. Per file: the median wall time and CPU
// time (CLOCK_PROCESS_CPUTIME_ID) of R runs after W warm-up runs, and the
// sha256 of the output buffer (comparable with htc's sha256 and with the
// corpus's reference/SHA256SUMS). Uses only OpenJPH's public API (0.9).
//
// Build (bench/bench.py does this when it finds the headers; $ROOT is an
// unpacked libopenjph-dev + libopenjph0.9, or / when they are installed):
//   g++ -O2 -std=c++14 -I$ROOT/usr/include bench/ojph_inproc.cpp \
//       -L$ROOT/usr/lib/x86_64-linux-gnu -l:libopenjph.so.0.9 \
//       -Wl,-rpath,$ROOT/usr/lib/x86_64-linux-gnu -o build/ojph_inproc
#include <openjph/ojph_arch.h>
#include <openjph/ojph_codestream.h>
#include <openjph/ojph_file.h>
#include <openjph/ojph_mem.h>
#include <openjph/ojph_params.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <string>
#include <vector>

#include "../tests/sha256.h" /* the samples' checksum, as the tests compute it */

namespace {

double now_ms(clockid_t clk)
{
    timespec ts;
    clock_gettime(clk, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Plane {
    uint32_t width, height, bytes;
    bool is_signed;
    uint32_t bits;
    size_t offset;             // in the output buffer
};

// One line of component samples into the output row: clamped to the
// component's range (lossless decodes never need it; lossy ones can overshoot).
void store(const ojph::line_buf *line, const Plane &pl, uint8_t *row)
{
    const int32_t *src = line->i32;
    const int64_t lo = pl.is_signed ? -((int64_t)1 << (pl.bits - 1)) : 0;
    const int64_t hi = pl.is_signed ? ((int64_t)1 << (pl.bits - 1)) - 1 : ((int64_t)1 << pl.bits) - 1;
    for (uint32_t x = 0; x < pl.width; x++) {
        int64_t v = src[x];
        v = v < lo ? lo : v > hi ? hi : v;
        const uint32_t u = (uint32_t)v;
        if (pl.bytes == 1)
            row[x] = (uint8_t)u;
        else if (pl.bytes == 2) {
            row[2 * x] = (uint8_t)u;
            row[2 * x + 1] = (uint8_t)(u >> 8);
        } else {
            for (int k = 0; k < 4; k++)
                row[4 * x + k] = (uint8_t)(u >> (8 * k));
        }
    }
}

// One decode of data into out (resized on the first call); planes filled.
void decode(const std::vector<uint8_t> &data, std::vector<Plane> &planes, std::vector<uint8_t> &out)
{
    ojph::mem_infile file;
    file.open(data.data(), data.size());
    ojph::codestream cs;
    cs.read_headers(&file);
    cs.create();
    ojph::param_siz siz = cs.access_siz();
    const uint32_t nc = siz.get_num_components();
    if (planes.size() != nc) {
        planes.resize(nc);
        size_t off = 0;
        for (uint32_t c = 0; c < nc; c++) {
            Plane &p = planes[c];
            p.width = siz.get_recon_width(c);
            p.height = siz.get_recon_height(c);
            p.bits = siz.get_bit_depth(c);
            p.is_signed = siz.is_signed(c);
            p.bytes = p.bits <= 8 ? 1 : p.bits <= 16 ? 2 : 4;
            p.offset = off;
            off += (size_t)p.width * p.height * p.bytes;
        }
        out.assign(off, 0);
    }
    if (cs.is_planar()) {
        for (uint32_t c = 0; c < nc; c++) {
            const Plane &pl = planes[c];
            for (uint32_t y = 0; y < pl.height; y++) {
                ojph::ui32 got = c;
                const ojph::line_buf *line = cs.pull(got);
                const Plane &gp = planes[got];
                store(line, gp, out.data() + gp.offset + (size_t)y * gp.width * gp.bytes);
            }
        }
    } else {
        // lines come component after component for each row (all of one size)
        for (uint32_t y = 0; y < planes[0].height; y++)
            for (uint32_t c = 0; c < nc; c++) {
                ojph::ui32 got = c;
                const ojph::line_buf *line = cs.pull(got);
                const Plane &gp = planes[got];
                store(line, gp, out.data() + gp.offset + (size_t)y * gp.width * gp.bytes);
            }
    }
    cs.close();
}

bool read_file(const char *path, std::vector<uint8_t> &data)
{
    FILE *f = std::fopen(path, "rb");
    if (!f)
        return false;
    std::fseek(f, 0, SEEK_END);
    const long n = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    data.resize(n > 0 ? (size_t)n : 0);
    const bool ok = n > 0 && std::fread(data.data(), 1, data.size(), f) == data.size();
    std::fclose(f);
    return ok;
}

void json_string(const char *s)
{
    std::putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            std::printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            std::printf("\\u%04x", (unsigned char)*s);
        else
            std::putchar(*s);
    }
    std::putchar('"');
}

} // namespace

int main(int argc, char **argv)
{
    unsigned long repeat = 10, warmup = 1;
    bool json = false;
    std::vector<const char *> files;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--json")
            json = true;
        else if ((a == "--repeat" || a == "--warmup") && i + 1 < argc) {
            char *end;
            const unsigned long v = std::strtoul(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1000000) {
                std::fprintf(stderr, "ojph_inproc: bad value for %s\n", a.c_str());
                return 2;
            }
            (a == "--repeat" ? repeat : warmup) = v;
        } else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "usage: ojph_inproc FILE... [--repeat R] [--warmup W] [--json]\n");
            return 2;
        } else
            files.push_back(argv[i]);
    }
    if (files.empty()) {
        std::fprintf(stderr, "usage: ojph_inproc FILE... [--repeat R] [--warmup W] [--json]\n");
        return 2;
    }
    int failed = 0;
    if (json)
        std::printf("[");
    for (size_t fi = 0; fi < files.size(); fi++) {
        std::vector<uint8_t> data, out;
        std::vector<Plane> planes;
        std::vector<double> wall, cpu;
        std::string sha, err;
        if (!read_file(files[fi], data))
            err = "cannot read the file";
        else {
            try {
                for (unsigned long r = 0; r < warmup + repeat; r++) {
                    const double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ms(CLOCK_MONOTONIC);
                    decode(data, planes, out);
                    const double t = now_ms(CLOCK_MONOTONIC) - t0, c = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
                    if (r == 0) {
                        TestSha256 h;
                        test_sha256_init(&h);
                        test_sha256_update(&h, out.data(), out.size());
                        char hex[65];
                        test_sha256_final_hex(&h, hex);
                        sha = hex;
                    }
                    if (r >= warmup) {
                        wall.push_back(t);
                        cpu.push_back(c);
                    }
                }
            } catch (const std::exception &e) {
                err = std::string("OpenJPH: ") + e.what();
            }
        }
        uint64_t samples = 0;
        for (const Plane &p : planes)
            samples += (uint64_t)p.width * p.height;
        if (!err.empty()) {
            failed++;
            std::fprintf(stderr, "ojph_inproc: %s: %s\n", files[fi], err.c_str());
        }
        if (json) {
            std::printf("%s\n  {\"file\": ", fi ? "," : "");
            json_string(files[fi]);
            if (!err.empty()) {
                std::printf(", \"error\": ");
                json_string(err.c_str());
                std::printf("}");
                continue;
            }
            const double med = median(wall);
            std::printf(", \"decoder\": \"OpenJPH %d.%d.%d in process\", \"components\": %zu, "
                        "\"width\": %u, \"height\": %u, \"samples\": %llu, \"repeat\": %lu, "
                        "\"median_ms\": %.4f, \"min_ms\": %.4f, \"median_cpu_ms\": %.4f, "
                        "\"msamples_per_s\": %.3f, \"sha256\": \"%s\"}",
                        OPENJPH_VERSION_MAJOR, OPENJPH_VERSION_MINOR, OPENJPH_VERSION_PATCH,
                        planes.size(), planes[0].width, planes[0].height,
                        (unsigned long long)samples, repeat, med,
                        *std::min_element(wall.begin(), wall.end()), median(cpu),
                        med > 0 ? (double)samples / (med * 1e3) : 0.0, sha.c_str());
        } else if (err.empty()) {
            std::printf("%-40s %ux%ux%zu median %.3f ms, CPU %.3f ms, sha256 %s\n", files[fi],
                        planes[0].width, planes[0].height, planes.size(), median(wall), median(cpu),
                        sha.c_str());
        }
    }
    if (json)
        std::printf("\n]\n");
    return failed ? 1 : 0;
}
