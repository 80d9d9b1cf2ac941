/* libFuzzer target for the DICOM layer: opens the input as a Part 10 file
 * with tight limits, then walks everything a user can reach: the element
 * tree and its values, the pixel module, the bytes and the decode of the
 * first frames, the DICOM JSON and the plane geometry. Any crash, leak, hang
 * or sanitizer report is a bug; a failure must come with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htc_dicom.h"

static volatile uint64_t sink;

static void walk(HtcDicom *d, int32_t parent, int depth)
{
    for (int32_t n = htc_dicom_first(d, parent); n >= 0; n = htc_dicom_next(d, n)) {
        HtcDicomElement e;
        if (htc_dicom_element(d, n, &e) < 0)
            abort();
        sink += e.tag + e.length;
        const uint32_t vm = htc_dicom_value_count(d, n);
        for (uint32_t i = 0; i < vm && i < 4; i++) {
            char s[64];
            int64_t iv;
            double dv;
            htc_dicom_get_string(d, n, i, s, sizeof(s));
            if (htc_dicom_get_int(d, n, i, &iv) == 0)
                sink += (uint64_t)iv;
            if (htc_dicom_get_double(d, n, i, &dv) == 0)
                sink += dv == dv;
            sink += strlen(s);
        }
        if (depth < 80)
            walk(d, n, depth + 1);
    }
}

static void fail_has_message(int rc)
{
    if (rc < 0 && htc_dicom_last_error()[0] == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HtcDicomSettings s;
    htc_dicom_default_settings(&s);
    s.limits.max_pixels = 1u << 22;
    s.limits.max_memory = 1u << 26;
    s.max_elements = 1u << 16;
    HtcDicom *d = NULL;
    int rc = htc_dicom_open_memory(&d, data, size, &s);
    fail_has_message(rc);
    if (rc < 0) {
        if (d)
            abort();
        return 0;
    }
    walk(d, -1, 0);
    HtcDicomImage img;
    rc = htc_dicom_get_image(d, &img);
    fail_has_message(rc);
    if (rc == 0) {
        for (uint32_t k = 0; k < img.frames && k < 4; k++) {
            uint8_t *p;
            size_t n;
            rc = htc_dicom_frame_data(d, k, &p, &n);
            fail_has_message(rc);
            if (rc == 0) {
                sink += n ? p[n - 1] : 0;
                htc_dicom_free(d, p);
            }
            HtcDicomFrame f;
            HtcDicomDecodeParams dp;
            htc_dicom_default_decode_params(&dp);
            dp.apply_rescale = k & 1;
            dp.convert_rgb = (size & 2) != 0;
            rc = htc_dicom_decode_frame(d, NULL, k, &dp, &f);
            fail_has_message(rc);
            if (rc == 0) {
                sink += f.size ? ((const uint8_t *)f.data)[f.size - 1] : 0;
                htc_dicom_frame_release(&f);
            }
            HtcDicomPlane pl;
            if (htc_dicom_get_plane(d, k, &pl) == 0)
                sink += pl.has_spacing;
        }
    }
    char *json;
    size_t n;
    rc = htc_dicom_to_json(d, (int)(size & 1), "x", &json, &n);
    fail_has_message(rc);
    if (rc == 0) {
        if (strlen(json) != n)
            abort();
        htc_dicom_free(d, json);
    }
    htc_dicom_close(&d);
    if (d)
        abort();
    return 0;
}
