/* htcodec: htc_ht_decode_block, the HT code-block decoder's entry point:
 * checks the block's parameters, finds the cleanup segment of the last HT
 * set and the refinement segment after it (ISO/IEC 15444-15 clause 7.1),
 * and runs the passes. */
#include "hd.h"
#include "coding/block.h"
#include "coding/ht_decode.h"
#include "coding/ht_dsp.h"
#include "internal.h"

static HTC_HD void clear_block(int32_t *out, ptrdiff_t stride, uint32_t w, uint32_t h)
{
    for (uint32_t y = 0; y < h; y++)
        memset(out + (ptrdiff_t)y * stride, 0, (size_t)w * sizeof(*out));
}

int htc_ht_decode_block(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                        uint32_t *undecoded_planes, void *scratch, size_t scratch_size)
{
    return htc_ht_decode_block_with(htc_ht_dsp(), p, out, stride, undecoded_planes, scratch,
                                    scratch_size);
}

HTC_HD int htc_ht_decode_block_with(const HtcHtDSP *dsp, const HtcBlockParams *p, int32_t *out,
                             ptrdiff_t stride, uint32_t *undecoded_planes, void *scratch,
                             size_t scratch_size)
{
    if (!p || !out || !undecoded_planes)
        return HTC_EINVAL;
    const uint32_t w = p->width, h = p->height;
    if (w < 1 || h < 1 || w > 1024 || h > 1024 || w * h > 4096 || (ptrdiff_t)w > stride)
        return htc_fail(NULL, HTC_EINVAL, "HT code-block: bad size %ux%u", w, h);
    *undecoded_planes = p->mb;
    if (p->mb > 31)
        return htc_fail(NULL, HTC_EUNSUPPORTED, "HT code-block: Mb %u > 31", p->mb);
    if (p->num_segments > HTC_MAX_SEGMENTS)
        return htc_fail(NULL, HTC_EINVAL, "HT code-block: %u segments", p->num_segments);

    uint64_t passes = 0;
    for (uint32_t i = 0; i < p->num_segments; i++)
        passes += p->seg_passes[i];
    if (passes != p->num_passes) {
        clear_block(out, stride, w, h);
        return htc_fail(NULL, HTC_ECORRUPT, "HT code-block: %u passes, segments hold %llu",
                        p->num_passes, (unsigned long long)passes);
    }
    if (passes == 0 || p->mb == 0) {
        clear_block(out, stride, w, h);
        return 0;
    }

    /* The cleanup pass of the last HT set is pass 3S; earlier sets (or
     * placeholder passes) only move the cleanup's bit-plane down. */
    const uint64_t sets = (passes - 1) / 3;
    const uint64_t cup_pass = 3 * sets;
    uint64_t z = 0, off = 0;
    uint32_t seg = 0;
    while (seg < p->num_segments && z + p->seg_passes[seg] <= cup_pass) {
        z += p->seg_passes[seg];
        off += p->seg_len[seg];
        seg++;
    }
    if (seg >= p->num_segments || z + p->seg_passes[seg] != cup_pass + 1) {
        clear_block(out, stride, w, h);
        return htc_fail(NULL, HTC_ECORRUPT,
                        "HT code-block: the cleanup pass %llu does not end its segment",
                        (unsigned long long)cup_pass);
    }
    const uint32_t lcup = p->seg_len[seg];
    uint64_t lref = 0;
    for (uint32_t i = seg + 1; i < p->num_segments; i++)
        lref += p->seg_len[i];
    uint32_t ref_passes = (uint32_t)(passes - 1 - cup_pass);

    const uint64_t drop = (uint64_t)p->zero_planes + sets;
    if (drop + 1 > p->mb) {
        clear_block(out, stride, w, h);
        return htc_fail(NULL, HTC_ECORRUPT,
                        "HT code-block: %u missing MSBs and %llu HT sets exceed Mb %u",
                        p->zero_planes, (unsigned long long)sets, p->mb);
    }
    const uint32_t plane = p->mb - 1 - (uint32_t)drop;
    if (lref == 0 || plane == 0 || lref > 0xFFFFFFFFu)
        ref_passes = 0;

    if (lcup < 2 || off + lcup + lref < off) {
        clear_block(out, stride, w, h);
        return htc_fail(NULL, HTC_ECORRUPT, "HT code-block: cleanup segment of %u bytes", lcup);
    }
    const uint8_t *cup = p->data + off;
    const uint32_t scup = (uint32_t)cup[lcup - 1] << 4 | (cup[lcup - 2] & 0xF);
    if (scup < 2 || scup > lcup || scup > 4079) {
        clear_block(out, stride, w, h);
        return htc_fail(NULL, HTC_ECORRUPT,
                        "HT code-block: Scup %u outside 2..min(Lcup %u, 4079) (segment at %llu)",
                        scup, lcup, (unsigned long long)off);
    }

#ifdef __CUDA_ARCH__ /* GPU callers always give scratch: keep the stack small */
    uint8_t local[1];
#else
    uint8_t local[HTC_HT_CLEANUP_SCRATCH_MAX > HTC_HT_REFINE_SCRATCH ? HTC_HT_CLEANUP_SCRATCH_MAX
                                                                    : HTC_HT_REFINE_SCRATCH];
#endif
    void *s = scratch && scratch_size >= sizeof(local) ? scratch : local;
#ifdef __CUDA_ARCH__
    int rc = htc_ht_cleanup_with(dsp, p->data + off, lcup, w, h, plane, p->mb - plane + 1, out,
                                 stride, s);
#else
    int rc = (dsp->cleanup ? dsp->cleanup : htc_ht_cleanup_with)(
        dsp, p->data + off, lcup, w, h, plane, p->mb - plane + 1, out, stride, s);
#endif
    if (rc < 0) {
        clear_block(out, stride, w, h);
        return htc_fail(NULL, rc,
                        "HT code-block: cleanup segment (%u bytes at %llu) gives an exponent "
                        "bound above Mb %u",
                        lcup, (unsigned long long)off, p->mb);
    }
    if (ref_passes) {
        rc = htc_ht_refine(p->data + off + lcup, (uint32_t)lref, ref_passes, w, h, plane,
                           (p->cblk_style & HTC_CBLK_VCAUSAL) != 0, out, stride, s);
        if (rc < 0) {
            clear_block(out, stride, w, h);
            return htc_fail(NULL, rc, "HT code-block: corrupt refinement segment");
        }
    }
    *undecoded_planes = plane - (ref_passes ? 1 : 0);
    return 0;
}
