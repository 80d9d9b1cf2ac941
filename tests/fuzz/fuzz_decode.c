/* libFuzzer target for the whole decode: parse, tier 2, tier 1, transforms,
 * output. Tight limits keep each input small; a decode either succeeds with
 * a full picture or fails with a negative status and a message. Also tries
 * reduce, a layer limit and a region, which take other paths through tier 2. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htc/htc.h"

static volatile uint64_t sink;

static void one(HtcDecoder *d, const HtcStream *s, const HtcDecodeParams *p)
{
    HtcPicture pic;
    memset(&pic, 0, sizeof(pic));
    const int rc = htc_decode(d, s, p, &pic);
    if (rc < 0) {
        if (htc_last_error()[0] == 0)
            abort(); /* every failure says why */
        return;
    }
    if (!pic.buffer || !pic.planes)
        abort();
    const uint8_t *b = pic.buffer;
    for (size_t i = 0; i < pic.buffer_size; i += 61)
        sink += b[i];
    htc_picture_release(&pic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    HtcStreamSettings ss;
    htc_stream_default_settings(&ss);
    ss.limits.max_pixels = 1u << 22;
    ss.limits.max_tiles = 4096;
    ss.limits.max_components = 16;
    ss.limits.max_memory = (uint64_t)1 << 28;
    HtcStream *s = NULL;
    if (htc_stream_open_memory(&s, data, size, &ss) < 0)
        return 0;
    HtcImageInfo info;
    if (htc_stream_get_info(s, &info) < 0 || (uint64_t)info.width * info.height > (1u << 22)) {
        htc_stream_close(&s);
        return 0;
    }
    HtcDecoderSettings ds;
    htc_decoder_default_settings(&ds);
    ds.threads = 1;
    ds.limits = ss.limits;
    HtcDecoder *d = NULL;
    if (htc_decoder_open(&d, &ds) < 0)
        abort();
    HtcDecodeParams p;
    htc_decode_default_params(&p);
    one(d, s, &p);
    p.reduce = 1;
    p.layers = 1;
    one(d, s, &p);
    htc_decode_default_params(&p);
    p.use_region = 1;
    p.region_x0 = info.width / 3;
    p.region_y0 = info.height / 3;
    p.region_x1 = info.width / 3 + 1 + info.width / 4;
    p.region_y1 = info.height / 3 + 1 + info.height / 4;
    one(d, s, &p);
    htc_decoder_close(&d);
    htc_stream_close(&s);
    return 0;
}
