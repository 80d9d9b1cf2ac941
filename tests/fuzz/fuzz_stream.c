/* libFuzzer target for the box and marker parsers: opens the input with
 * tight limits and walks every getter. Any crash, leak, hang or sanitizer
 * report is a bug; a negative status must come with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htc/htc.h"

static volatile uint64_t sink;

static void walk(const HtcStream *s)
{
    HtcImageInfo in;
    if (htc_stream_get_info(s, &in) < 0)
        abort();
    sink += in.width + in.height + in.num_components;
    for (uint32_t c = 0; c < in.num_components; c++) {
        HtcComponentInfo ci;
        if (htc_stream_get_component(s, c, &ci) < 0)
            abort();
        sink += ci.width + ci.height + ci.precision;
        HtcCodingInfo co;
        if (htc_stream_get_coding(s, HTC_TILE_MAIN, c, &co) < 0)
            abort();
        sink += co.levels + co.steps[3 * co.levels];
    }
    const uint32_t nt = in.num_tiles_x * in.num_tiles_y;
    for (uint32_t t = 0; t < nt; t++) {
        HtcTileInfo ti;
        if (htc_stream_get_tile(s, t, &ti) < 0)
            abort();
        sink += ti.num_bytes;
        /* The coding of the first components of every tile. */
        for (uint32_t c = 0; c < in.num_components && c < 4; c++) {
            HtcCodingInfo co;
            if (htc_stream_get_coding(s, t, c, &co) < 0)
                abort();
            sink += co.cblk_width + co.precinct_w_exp[co.levels] + co.steps[3 * co.levels];
        }
    }
    const uint8_t *cs;
    size_t cs_size;
    htc_stream_get_codestream(s, &cs, &cs_size);
    for (uint32_t i = 0; i < htc_stream_num_tile_parts(s); i++) {
        HtcTilePartInfo tp;
        if (htc_stream_get_tile_part(s, i, &tp) < 0)
            abort();
        if (tp.data_offset + tp.data_length > cs_size)
            abort();
        /* Touch the first and last byte of the packet data. */
        if (tp.data_length)
            sink += cs[tp.data_offset] + cs[tp.data_offset + tp.data_length - 1];
    }
    for (uint32_t i = 0; i < in.num_comments; i++) {
        int rcom;
        const uint8_t *d;
        size_t n;
        if (htc_stream_get_comment(s, i, &rcom, &d, &n) < 0)
            abort();
        if (n)
            sink += d[0] + d[n - 1];
    }
    HtcJp2Info j;
    if (htc_stream_get_jp2(s, &j) == 0) {
        for (uint32_t i = 0; i < j.num_boxes; i++) {
            uint32_t type, depth;
            uint64_t off, len;
            if (htc_stream_get_box(s, i, &type, &depth, &off, &len) < 0)
                abort();
            sink += type + len;
        }
    }
    sink += strlen(htc_stream_markers(s));
    for (uint32_t i = 0; i < htc_stream_num_markers(s); i++) {
        uint16_t code;
        uint64_t off;
        uint32_t len;
        if (htc_stream_get_marker(s, i, &code, &off, &len) < 0 || off + len > cs_size)
            abort();
        sink += cs[off] + code;
    }
    /* Out-of-range indices are errors, not crashes. */
    HtcTileInfo ti;
    if (htc_stream_get_tile(s, nt, &ti) != HTC_ERANGE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int strict = 0; strict <= 1; strict++) {
        HtcStreamSettings st;
        htc_stream_default_settings(&st);
        st.limits.max_pixels = (uint64_t)1 << 28;
        st.limits.max_tiles = 4096;
        st.limits.max_components = 1024;
        st.limits.max_bytes = (uint64_t)1 << 24;
        st.limits.max_memory = (uint64_t)1 << 26;
        st.strict = strict;
        HtcStream *s = NULL;
        const int rc = htc_stream_open_memory(&s, data, size, &st);
        if (rc < 0) {
            if (s || !htc_last_error()[0])
                abort();
            continue;
        }
        walk(s);
        htc_stream_close(&s);
        if (s)
            abort();
    }
    return 0;
}
