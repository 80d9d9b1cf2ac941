/* htcodec: the HT cleanup pass on the GPU in two kernels.
 *
 * One GPU thread doing a whole code-block (k_ht_blocks) leaves the GPU
 * mostly idle: a CT slice has ~70 code-blocks and each thread walks 4096
 * samples alone. The cleanup pass has a serial part (the MEL and VLC
 * streams: per quad its significance, EMB pattern and u) and a part that
 * parallelises once those are known (MagSgn: bit counts per sample are
 * known, so a prefix sum gives each sample where its bits start):
 *   k_ht_vlc:  a thread a block runs the serial part for the whole block
 *              and stores, per quad, its CxtVLC entry and u (kappa not yet
 *              added) in the block's scratch;
 *   k_ht_warp: a warp a block unstuffs the MagSgn stream 32 bytes a step
 *              into a ring of words in shared memory, then, quad row by
 *              quad row, lane i takes quad i (i + 32, ...): kappa from the
 *              row above, U, the bit counts of its four samples, a prefix
 *              sum over the row, and every lane reads its samples at once
 *              and writes them dequantised.
 * Both follow src/coding/ht_cleanup.c step for step, so the GPU gives the
 * CPU's bits. Blocks they do not take (refinement passes, odd shapes,
 * anything the entry checks refuse) are left to k_ht_blocks, a thread a
 * block running the CPU's own code. */
#ifndef HTC_GPU_HT_WARP_CUH
#define HTC_GPU_HT_WARP_CUH

#define HTW_WARPS 4            /* warps (code-blocks) per CUDA block */
#define HTW_MAX_QUADS 1024     /* quads of a block taken here (64x64) */
#define HTW_MAX_QW 64          /* quads in a row taken here (width 128) */
#define HTW_RING_WORDS 512     /* unstuffed MagSgn bits in flight: 16 Kibit */
#define HTW_RING_MASK (HTW_RING_WORDS - 1)
#define HTW_FULL 0xFFFFFFFFu
#define HTW_RHO_ROW (HTW_MAX_QW + 6) /* a thread's two rows: 35 words, an odd count, no bank conflicts */
#define HTW_VLC_THREADS 128

typedef struct HtwShared {
    uint32_t ring[HTW_RING_WORDS];
    uint32_t e[2][2 * HTW_MAX_QW + 4];/* v | 1 of a row's bottom samples, index x + 1 */
} HtwShared;

/* Quads in a row of the scratch layout (even, so a pair is 8 bytes). */
static __device__ inline uint32_t htw_qstride(uint32_t qw) { return (qw + 1) & ~1u; }

/* The warp's MagSgn reader: bits [0, have) are in the ring, the stream's
 * bytes [next, len) are not yet read. */
typedef struct HtwMagSgn {
    const uint8_t *src;
    uint32_t len, next, ff;  /* ff: the byte before next was 0xFF */
    uint32_t have;           /* bits unstuffed so far */
} HtwMagSgn;

static __device__ inline uint32_t htw_scan_incl(uint32_t v, uint32_t lane)
{
    for (uint32_t d = 1; d < 32; d <<= 1) {
        const uint32_t o = __shfl_up_sync(HTW_FULL, v, d);
        if (lane >= d)
            v += o;
    }
    return v;
}

/* Unstuffs until `want` bits are in the ring or the stream ends (the ring
 * keeps the unread bits: want - pos stays below its size). */
static __device__ void htw_fill(HtwMagSgn *m, uint32_t *ring, uint32_t want, uint32_t lane)
{
    while (m->have < want && m->next < m->len) {
        const uint32_t idx = m->next + lane;
        const uint32_t ok = idx < m->len;
        const uint32_t b = ok ? m->src[idx] : 0;
        const uint32_t up = __shfl_up_sync(HTW_FULL, b, 1);
        const uint32_t pf = lane ? up == 0xFF : m->ff;
        const uint32_t nb = ok ? 8 - pf : 0;
        const uint32_t val = pf ? b & 0x7F : b;
        const uint32_t incl = htw_scan_incl(nb, lane);
        const uint32_t total = __shfl_sync(HTW_FULL, incl, 31);
        const uint32_t cnt = min(32u, m->len - m->next);
        const uint32_t last = __shfl_sync(HTW_FULL, b, cnt - 1);
        /* words first written now start empty */
        const uint32_t w0 = (m->have + 31) >> 5, w1 = (m->have + total + 31) >> 5;
        for (uint32_t w = w0 + lane; w < w1; w += 32)
            ring[w & HTW_RING_MASK] = 0;
        __syncwarp();
        if (nb) {
            const uint32_t at = m->have + incl - nb, sh = at & 31, wi = at >> 5;
            atomicOr(&ring[wi & HTW_RING_MASK], val << sh);
            if (sh + nb > 32)
                atomicOr(&ring[(wi + 1) & HTW_RING_MASK], val >> (32 - sh));
        }
        __syncwarp();
        m->have += total;
        m->next += cnt;
        m->ff = last == 0xFF;
    }
}

/* k <= 32 bits at pos, first in bit 0; past the stream's end 1 bits (as
 * htc_ht_unstuff writes). */
static __device__ inline uint32_t htw_get(const HtwMagSgn *m, const uint32_t *ring, uint32_t pos, uint32_t k)
{
    const uint32_t wi = pos >> 5;
    uint64_t x = ((uint64_t)ring[(wi + 1) & HTW_RING_MASK] << 32 | ring[wi & HTW_RING_MASK]) >> (pos & 31);
    if (m->next >= m->len) {
        const uint32_t avail = m->have > pos ? m->have - pos : 0;
        if (avail < 64)
            x |= ~(uint64_t)0 << avail;
    }
    return (uint32_t)(x & (((uint64_t)1 << k) - 1));
}

static __device__ inline uint32_t htw_bit_len(uint32_t v) { return 32 - htc_clz32(v | 1); }

/* CxtVLC of one quad in context c (a MEL event decides for c == 0), from
 * the VLC bits in *bits; returns the table entry. */
static __device__ inline uint32_t htw_quad_vlc(const uint16_t *lut, uint32_t c, uint64_t *bits, uint32_t *used,
                                               HtcHtMel *mel)
{
    const uint32_t ev = htc_ht_mel_take(mel, c == 0);
    const uint32_t q = lut[c << 7 | ((uint32_t)*bits & 0x7F)] & (0u - ev);
    const uint32_t k = HTC_HT_VLC_LEN(q);
    *bits >>= k;
    *used += k;
    return q;
}

static __device__ inline void htw_pair_uvlc(uint32_t e, uint64_t *bits, uint32_t *used, uint32_t *u0, uint32_t *u1)
{
    const uint32_t pk = e & 7;
    *bits >>= pk;
    const uint32_t s0 = (e >> 3) & 7, s1 = (e >> 6) & 7;
    const uint32_t sfx = (uint32_t)*bits & ((1u << (s0 + s1)) - 1);
    *bits >>= s0 + s1;
    *used += pk + s0 + s1;
    *u0 = ((e >> 9) & 7) + (sfx & ((1u << s0) - 1));
    *u1 = ((e >> 12) & 7) + (sfx >> s0);
}

/* The serial part (one thread): the MEL and VLC streams of the whole
 * block, as the VLC loop of htc_ht_cleanup_with, without kappa; quad
 * (qx, qy) goes to quads[qy * htw_qstride(qw) + qx] as entry | u << 16. */
static __device__ void htw_vlc_block(const HtcHtTables *t, const uint8_t *seg, uint32_t lcup, uint32_t scup,
                                     uint32_t qw, uint32_t qh, uint32_t *quads, uint8_t (*rho_buf)[HTW_RHO_ROW])
{
    const uint32_t qs = htw_qstride(qw);
    HtcHtMel mel;
    htc_ht_mel_init(&mel, seg + lcup - scup, scup - 1);
    HtcHtRev r;
    htc_ht_vlc_init(&r, seg, lcup, scup);
    /* rho of the row above and this one, with a zero quad on each side */
    rho_buf[0][0] = rho_buf[1][0] = 0;
    for (uint32_t qy = 0; qy < qh; qy++) {
        const uint8_t *rho_up = rho_buf[(qy + 1) & 1] + 1;
        uint8_t *rho = rho_buf[qy & 1] + 1;
        rho[qw] = rho[qw + 1] = 0;
        uint2 *qrow = (uint2 *)(quads + (size_t)qy * qs);
        uint32_t w_rho = 0;
        for (uint32_t qx = 0; qx < qw; qx += 2) {
            const int has_b = qx + 1 < qw;
            htc_ht_rev_refill(&r); /* at least 33 bits; a pair takes at most 30 */
            uint64_t bits = r.acc;
            uint32_t used = 0;
            uint32_t q0, q1 = 0, u0, u1;
            if (qy == 0) {
                uint32_t c = ((w_rho | w_rho >> 1) & 1) | (w_rho >> 1 & 6);
                q0 = htw_quad_vlc(t->vlc0, c, &bits, &used, &mel);
                w_rho = HTC_HT_VLC_RHO(q0);
                if (has_b) {
                    c = ((w_rho | w_rho >> 1) & 1) | (w_rho >> 1 & 6);
                    q1 = htw_quad_vlc(t->vlc0, c, &bits, &used, &mel);
                    w_rho = HTC_HT_VLC_RHO(q1);
                }
                uint32_t mode = HTC_HT_VLC_UOFF(q0) | HTC_HT_VLC_UOFF(q1) << 1;
                if (mode == 3 && htc_ht_mel_event(&mel))
                    mode = 4;
                htw_pair_uvlc(t->uvlc0[mode][bits & 63], &bits, &used, &u0, &u1);
                u0 += 1; /* kappa is 1 in the initial row */
                u1 += 1;
            } else {
                uint32_t nw = rho_up[(int)qx - 1], n = rho_up[qx], ne = rho_up[qx + 1];
                uint32_t c = ((nw >> 3 | n >> 1) & 1) | ((w_rho >> 1 | w_rho >> 2) & 2) | ((n >> 1 | ne << 1) & 4);
                q0 = htw_quad_vlc(t->vlc1, c, &bits, &used, &mel);
                w_rho = HTC_HT_VLC_RHO(q0);
                if (has_b) {
                    nw = n;
                    n = ne;
                    ne = rho_up[qx + 2];
                    c = ((nw >> 3 | n >> 1) & 1) | ((w_rho >> 1 | w_rho >> 2) & 2) | ((n >> 1 | ne << 1) & 4);
                    q1 = htw_quad_vlc(t->vlc1, c, &bits, &used, &mel);
                    w_rho = HTC_HT_VLC_RHO(q1);
                }
                const uint32_t mode = HTC_HT_VLC_UOFF(q0) | HTC_HT_VLC_UOFF(q1) << 1;
                htw_pair_uvlc(t->uvlc1[mode][bits & 63], &bits, &used, &u0, &u1);
            }
            r.acc = bits;
            r.n -= used;
            rho[qx] = (uint8_t)HTC_HT_VLC_RHO(q0);
            rho[qx + 1] = (uint8_t)HTC_HT_VLC_RHO(q1);
            qrow[qx >> 1] = make_uint2(q0 | HTC_MIN(u0, 0xFFFFu) << 16, q1 | HTC_MIN(u1, 0xFFFFu) << 16);
        }
    }
}

/* The signed value of a sample with v at bit-plane p; 0 where sig is 0. */
static __device__ inline int32_t htw_sample(uint32_t v, uint32_t p, uint32_t sig)
{
    const uint32_t mag = (((v >> 1) + 1) << p) & (0u - sig);
    const uint32_t sign = 0u - (v & 1);
    return (int32_t)((mag ^ sign) - sign);
}

/* Dequantisation of one decoded value q (as the sweep in k_ht_blocks),
 * stored at o; u: the planes not decoded (<= 31). */
static __device__ inline void htw_store(int32_t *o, int32_t q, uint32_t u, int reversible, float delta)
{
    if (reversible) {
        if (u && q) {
            const uint32_t half = 1u << (u - 1);
            const uint32_t m = (q < 0 ? 0u - (uint32_t)q : (uint32_t)q) + half;
            q = (int32_t)(q < 0 ? 0u - m : m);
        }
        *o = q;
    } else {
        const float r = GPU_FMUL((float)(1ull << u), 0.5f);
        const int32_t m = q < 0 ? (int32_t)(0u - (uint32_t)q) : q;
        const float a = GPU_FADD((float)m, r);
        const float v = GPU_FMUL(a, delta);
        const float f = q == 0 ? 0.0f : q < 0 ? -v : v;
        *(float *)o = f;
    }
}

/* Where a block's cleanup segment is and which bit-plane it ends on, as
 * htc_ht_decode_block finds them; 0 when the warp path can take the block
 * (a cleanup pass only, every check passed), else the CPU code on one lane
 * decides (and gives the same errors). */
static __device__ int htw_plan(const GpuJob *j, const uint8_t *data, uint32_t *off, uint32_t *lcup, uint32_t *scup,
                               uint32_t *plane)
{
    const uint32_t w = j->w, h = j->h;
    if (!j->is_ht)
        return -1;
    if (w < 1 || h < 1 || w * h > 4096 || j->mb > 31 || j->mb == 0 || j->num_passes == 0 ||
        j->num_segs > GPU_MAX_SEGS || j->num_segs == 0)
        return -1;
    const uint32_t qw = (w + 1) / 2, qh = (h + 1) / 2;
    if (qw > HTW_MAX_QW || qw * qh > HTW_MAX_QUADS)
        return -1;
    /* a cleanup pass alone: one pass in one HT set, in the first segment */
    if (j->num_passes != 1 || j->seg_passes[0] != 1)
        return -1;
    for (uint32_t s = 1; s < j->num_segs; s++)
        if (j->seg_passes[s])
            return -1;
    const uint32_t drop = j->zero_planes;
    if (drop + 1 > j->mb)
        return -1;
    const uint32_t L = j->seg_len[0];
    if (L < 2)
        return -1;
    const uint32_t S = (uint32_t)data[L - 1] << 4 | (data[L - 2] & 0xF);
    if (S < 2 || S > L || S > 4079)
        return -1;
    *off = 0;
    *lcup = L;
    *scup = S;
    *plane = j->mb - 1 - drop;
    return 0;
}

/* The serial part of every block the warp path takes, a thread a block.
 * Its look-ups are the chain every quad waits on: the tables and the rho
 * rows sit in shared memory (lower latency than L1 and local memory). */
__global__ void __launch_bounds__(HTW_VLC_THREADS) k_ht_vlc(const GpuJob *jobs, uint32_t n, const uint8_t *pool,
                                                            uint8_t *scratch, size_t scratch_size)
{
    __shared__ HtcHtTables tabs;
    __shared__ uint8_t rho[HTW_VLC_THREADS][2][HTW_RHO_ROW];
    {
        const uint32_t *src = (const uint32_t *)&gpu_ht_tables;
        uint32_t *dst = (uint32_t *)&tabs;
        for (uint32_t k = threadIdx.x; k < sizeof(HtcHtTables) / 4; k += blockDim.x)
            dst[k] = src[k];
        __syncthreads();
    }
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const GpuJob j = jobs[i];
    const uint8_t *data = pool + j.data_off;
    uint32_t off, lcup, scup, plane;
    if (htw_plan(&j, data, &off, &lcup, &scup, &plane) < 0)
        return;
    htw_vlc_block(&tabs, data + off, lcup, scup, (j.w + 1) / 2, (j.h + 1) / 2,
                  (uint32_t *)(scratch + (size_t)i * scratch_size), rho[threadIdx.x]);
}
static_assert(sizeof(HtcHtTables) % 4 == 0, "tables copied as words");

/* MagSgn (and dequantisation) of the blocks k_ht_vlc took, a warp a block. */
__global__ void __launch_bounds__(32 * HTW_WARPS) k_ht_warp(const GpuJob *jobs, uint32_t n, const uint8_t *pool,
                                                             int32_t *arena, int *status, uint8_t *scratch,
                                                             size_t scratch_size)
{
    __shared__ HtwShared shm[HTW_WARPS];
    const uint32_t lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    const uint32_t i = blockIdx.x * HTW_WARPS + wid;
    if (i >= n)
        return; /* whole warps leave together */
    HtwShared *sh = &shm[wid];
    const GpuJob j = jobs[i];
    const uint8_t *data = pool + j.data_off;
    int32_t *out = arena + j.coef_off;
    uint32_t off, lcup, scup, plane;
    if (htw_plan(&j, data, &off, &lcup, &scup, &plane) < 0)
        return; /* k_ht_blocks (others_only) decodes it */

    const uint8_t *seg = data + off;
    const uint32_t w = j.w, h = j.h, qw = (w + 1) / 2, qh = (h + 1) / 2, qs = htw_qstride(qw);
    const uint32_t *quads = (const uint32_t *)(scratch + (size_t)i * scratch_size);
    const uint32_t umax = j.mb - plane + 1;
    const uint32_t ud = plane > 31 ? 31 : plane; /* planes left undecoded */
    for (uint32_t k = lane; k < 2 * (2 * HTW_MAX_QW + 4); k += 32)
        sh->e[k / (2 * HTW_MAX_QW + 4)][k % (2 * HTW_MAX_QW + 4)] = 0;
    __syncwarp();

    HtwMagSgn ms;
    ms.src = seg;
    ms.len = lcup - scup;
    ms.next = 0;
    ms.ff = 0;
    ms.have = 0;
    uint32_t pos = 0, bad = 0;
    for (uint32_t qy = 0; qy < qh && !bad; qy++) {
        const uint32_t *e_up = sh->e[(qy + 1) & 1] + 1;
        uint32_t *e_cur = sh->e[qy & 1] + 1;
        for (uint32_t base = 0; base < qw; base += 32) {
            const uint32_t qx = base + lane;
            const uint32_t live = qx < qw;
            uint32_t qe = 0, U = 0;
            if (live) {
                const uint32_t e = quads[qy * qs + qx];
                qe = e & 0xFFFF;
                U = e >> 16;
                if (qy) {
                    const uint32_t rho = HTC_HT_VLC_RHO(qe);
                    uint32_t kappa = 1;
                    if (rho & (rho - 1)) {
                        const uint32_t *eu = e_up + 2 * qx;
                        const uint32_t emax = htw_bit_len(eu[-1] | eu[0] | eu[1] | eu[2]);
                        kappa = emax > 2 ? emax - 1 : 1;
                    }
                    U += kappa;
                }
            }
            if (__any_sync(HTW_FULL, live && U > umax)) {
                bad = 1;
                break;
            }
            const uint32_t rho = HTC_HT_VLC_RHO(qe), e1 = HTC_HT_VLC_E1(qe), ek = HTC_HT_VLC_EK(qe);
            uint32_t m[4], tot = 0;
            for (uint32_t b = 0; b < 4; b++) {
                m[b] = (U - (ek >> b & 1)) & (0u - (rho >> b & 1));
                tot += m[b];
            }
            const uint32_t incl = htw_scan_incl(tot, lane);
            const uint32_t row_bits = __shfl_sync(HTW_FULL, incl, 31);
            htw_fill(&ms, sh->ring, pos + row_bits, lane);
            uint32_t at = pos + incl - tot;
            uint32_t v[4];
            for (uint32_t b = 0; b < 4; b++) {
                v[b] = (uint32_t)(htw_get(&ms, sh->ring, at, m[b]) | (uint64_t)(e1 >> b & 1) << m[b]);
                at += m[b];
            }
            if (live) {
                e_cur[2 * qx] = (v[1] | 1) & (0u - (rho >> 1 & 1));
                e_cur[2 * qx + 1] = (v[3] | 1) & (0u - (rho >> 3 & 1));
                int32_t *o = out + (size_t)(2 * qy) * j.stride + 2 * qx;
                const int two_rows = 2 * qy + 1 < h, two_cols = 2 * qx + 1 < w;
                htw_store(o, htw_sample(v[0], plane, rho & 1), ud, j.reversible, j.delta);
                if (two_rows)
                    htw_store(o + j.stride, htw_sample(v[1], plane, rho >> 1 & 1), ud, j.reversible, j.delta);
                if (two_cols) {
                    htw_store(o + 1, htw_sample(v[2], plane, rho >> 2 & 1), ud, j.reversible, j.delta);
                    if (two_rows)
                        htw_store(o + j.stride + 1, htw_sample(v[3], plane, rho >> 3 & 1), ud, j.reversible,
                                  j.delta);
                }
            }
            pos += row_bits;
        }
        if (lane == 0)
            e_cur[2 * qw] = e_cur[2 * qw + 1] = 0;
        __syncwarp();
    }
    if (bad) {
        /* as the CPU: a corrupt cleanup leaves the block zero */
        for (uint32_t k = lane; k < w * h; k += 32)
            out[(size_t)(k / w) * j.stride + k % w] = 0;
        if (lane == 0)
            status[i] = HTC_ECORRUPT;
        return;
    }
    if (lane == 0)
        status[i] = 0;
}

#endif /* HTC_GPU_HT_WARP_CUH */
