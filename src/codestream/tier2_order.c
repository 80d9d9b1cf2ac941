/* htcodec: packet order (B.12): the five progressions and POC changes.
 *
 * Position-driven orders (RPCL, PCRL, CPRL) visit a precinct where the
 * standard's loop over reference-grid points (y, x) first meets it; each
 * precinct gets that point as a key and the precincts are sorted by the
 * order's keys, which gives the same sequence as the loop without walking
 * every grid point. */
#include "codestream/tier2_internal.h"

typedef struct PrecKey {
    uint64_t y, x;
    uint32_t c, r, p;
} PrecKey;

/* Whether u comes before v in progression prog (RPCL, PCRL or CPRL). */
static inline int key_before(const PrecKey *u, const PrecKey *v, int prog)
{
    if (prog == HTC_RPCL) {
        if (u->r != v->r) return u->r < v->r;
        if (u->y != v->y) return u->y < v->y;
        if (u->x != v->x) return u->x < v->x;
        return u->c < v->c;
    }
    if (prog == HTC_PCRL) {
        if (u->y != v->y) return u->y < v->y;
        if (u->x != v->x) return u->x < v->x;
        if (u->c != v->c) return u->c < v->c;
        return u->r < v->r;
    }
    if (u->c != v->c) return u->c < v->c;
    if (u->y != v->y) return u->y < v->y;
    if (u->x != v->x) return u->x < v->x;
    return u->r < v->r;
}

/* Stable sort of keys (equal keys keep their order, as the merge sort of
 * the C library did): insertion sort of runs of 8, then merges through tmp. */
static void sort_keys(PrecKey *keys, PrecKey *tmp, uint32_t n, int prog)
{
    const uint32_t run = 8;
    for (uint32_t a = 0; a < n; a += run) {
        const uint32_t e = HTC_MIN(a + run, n);
        for (uint32_t i = a + 1; i < e; i++) {
            const PrecKey k = keys[i];
            uint32_t j = i;
            while (j > a && key_before(&k, &keys[j - 1], prog)) {
                keys[j] = keys[j - 1];
                j--;
            }
            keys[j] = k;
        }
    }
    PrecKey *src = keys, *dst = tmp;
    for (uint32_t w = run; w < n; w *= 2) {
        for (uint32_t a = 0; a < n; a += 2 * w) {
            const uint32_t m = HTC_MIN(a + w, n), e = HTC_MIN(a + 2 * w, n);
            uint32_t i = a, j = m, o = a;
            while (i < m && j < e)
                dst[o++] = key_before(&src[j], &src[i], prog) ? src[j++] : src[i++];
            while (i < m)
                dst[o++] = src[i++];
            while (j < e)
                dst[o++] = src[j++];
        }
        PrecKey *x = src;
        src = dst;
        dst = x;
        if (w > UINT32_MAX / 4)
            break;
    }
    if (src != keys)
        memcpy(keys, src, (size_t)n * sizeof(PrecKey));
}

/* The reference-grid point where the B.12 loop meets precinct index k
 * (absolute, on the resolution grid) along one axis. */
static uint64_t prec_key(uint32_t k, uint32_t first, uint32_t res0, uint32_t pp, uint32_t level,
                         uint32_t d, uint32_t tile0)
{
    if (k == first && (res0 & ((1u << pp) - 1u)) != 0)
        return tile0;
    if (pp + level > 40) /* only the first precinct can lie in the tile */
        return k == first ? tile0 : UINT64_MAX;
    return ((uint64_t)k << pp << level) * d;
}

typedef struct Iter {
    const HtcT2Tile *tt;
    uint16_t *done;            /* layers emitted, per precinct unit */
    HtcPacketFn fn;
    void *opaque;
} Iter;

/* Emits packet (c, r, p, l) if it is the next one of its precinct. */
static int emit(Iter *it, uint32_t c, uint32_t r, uint32_t p, uint32_t l)
{
    const HtcT2Res *res = &it->tt->comps[c].res[r];
    uint16_t *d = &it->done[res->first_prec_global + p];
    if (*d != l)
        return 0;
    (*d)++;
    return it->fn(it->opaque, c, r, p, l);
}

static int run_poc(Iter *it, const HtcPoc *poc, PrecKey *keys, uint32_t nkeys)
{
    const HtcT2Tile *tt = it->tt;
    const uint32_t ce = HTC_MIN((uint32_t)poc->ce, tt->num_comps);
    const uint32_t lye = HTC_MIN((uint32_t)poc->lye, (uint32_t)tt->t->cod[0].layers);
    uint32_t maxr = 0;
    for (uint32_t c = poc->cs; c < ce; c++)
        maxr = HTC_MAX(maxr, tt->comps[c].nl + 1);
    const uint32_t re = HTC_MIN((uint32_t)poc->re, maxr);
    int rc;
    switch (poc->progression) {
    case HTC_LRCP:
        for (uint32_t l = 0; l < lye; l++)
            for (uint32_t r = poc->rs; r < re; r++)
                for (uint32_t c = poc->cs; c < ce; c++) {
                    if (r > tt->comps[c].nl)
                        continue;
                    const HtcT2Res *res = &tt->comps[c].res[r];
                    for (uint32_t p = 0; p < res->pw * res->ph; p++)
                        if ((rc = emit(it, c, r, p, l)) != 0)
                            return rc;
                }
        return 0;
    case HTC_RLCP:
        for (uint32_t r = poc->rs; r < re; r++)
            for (uint32_t l = 0; l < lye; l++)
                for (uint32_t c = poc->cs; c < ce; c++) {
                    if (r > tt->comps[c].nl)
                        continue;
                    const HtcT2Res *res = &tt->comps[c].res[r];
                    for (uint32_t p = 0; p < res->pw * res->ph; p++)
                        if ((rc = emit(it, c, r, p, l)) != 0)
                            return rc;
                }
        return 0;
    default:
        /* keys are sorted for this order; filter by the POC's ranges. */
        for (uint32_t i = 0; i < nkeys; i++) {
            const PrecKey *k = &keys[i];
            if (k->c < poc->cs || k->c >= ce || k->r < poc->rs || k->r >= re)
                continue;
            for (uint32_t l = 0; l < lye; l++)
                if ((rc = emit(it, k->c, k->r, k->p, l)) != 0)
                    return rc;
        }
        return 0;
    }
}

int htc_t2_iterate(const HtcContext *ctx, const HtcT2Tile *tt, HtcT2Scratch *sc, HtcPacketFn fn,
                   void *opaque)
{
    const HtcTile *t = tt->t;
    const HtcStream *s = tt->s;
    HtcPoc whole;
    const HtcPoc *pocs = t->poc;
    uint32_t npoc = t->num_poc;
    if (!npoc) {
        whole.rs = 0;
        whole.re = HTC_MAX_LEVELS + 1;
        whole.cs = 0;
        whole.ce = (uint16_t)HTC_MIN(tt->num_comps, 65535u);
        whole.lye = t->cod[0].layers;
        whole.progression = t->cod[0].progression;
        pocs = &whole;
        npoc = 1;
    }
    Iter it = { tt, NULL, fn, opaque };
    it.done = htc_t2_mem_get(ctx, &sc->done, (size_t)tt->num_prec_units * sizeof(uint16_t));
    PrecKey *keys = NULL;
    uint32_t nkeys = 0;
    int need_keys = 0;
    for (uint32_t i = 0; i < npoc; i++)
        need_keys |= pocs[i].progression >= HTC_RPCL;
    if (need_keys) /* the keys, and as many again to sort them */
        keys = htc_t2_mem_get(ctx, &sc->keys, 2 * (size_t)tt->num_prec_units * sizeof(PrecKey));
    if (!it.done || (need_keys && !keys))
        return htc_fail(ctx, HTC_ENOMEM, "tier 2: packet order tables");
    memset(it.done, 0, (size_t)tt->num_prec_units * sizeof(uint16_t));
    if (need_keys) {
        for (uint32_t c = 0; c < tt->num_comps; c++) {
            const HtcT2Comp *tc = &tt->comps[c];
            for (uint32_t r = 0; r <= tc->nl; r++) {
                const HtcT2Res *res = &tc->res[r];
                const uint32_t level = tc->nl - r;
                for (uint32_t p = 0; p < res->pw * res->ph; p++) {
                    PrecKey *k = &keys[nkeys++];
                    k->c = c;
                    k->r = r;
                    k->p = p;
                    k->x = prec_key(res->px0 + p % res->pw, res->px0, res->rect.x0, res->ppx, level,
                                    s->comps[c].dx, t->x0);
                    k->y = prec_key(res->py0 + p / res->pw, res->py0, res->rect.y0, res->ppy, level,
                                    s->comps[c].dy, t->y0);
                }
            }
        }
    }
    int rc = 0;
    int sorted_as = -1;
    for (uint32_t i = 0; i < npoc && rc == 0; i++) {
        const int prog = pocs[i].progression;
        if (prog > HTC_CPRL) {
            rc = htc_fail(ctx, HTC_ECORRUPT, "tile %u: progression order %d", t->index, prog);
            break;
        }
        if (prog >= HTC_RPCL && sorted_as != prog) {
            sort_keys(keys, keys + nkeys, nkeys, prog);
            sorted_as = prog;
        }
        rc = run_poc(&it, &pocs[i], keys, nkeys);
    }
    return rc;
}
