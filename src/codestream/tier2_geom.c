/* htcodec: tile geometry for tier 2 (B.5 - B.7): resolutions, bands,
 * precincts and code-blocks of every component of one tile. */
#include "codestream/tier2_internal.h"

void htc_t2_tile_comp_rect(const HtcStream *s, const HtcTile *t, uint32_t c, uint32_t *x0,
                           uint32_t *y0, uint32_t *x1, uint32_t *y1)
{
    const HtcComponent *cp = &s->comps[c];
    *x0 = htc_ceil_div_u32(t->x0, cp->dx);
    *y0 = htc_ceil_div_u32(t->y0, cp->dy);
    *x1 = htc_ceil_div_u32(t->x1, cp->dx);
    *y1 = htc_ceil_div_u32(t->y1, cp->dy);
}

void htc_t2_res_rect(const HtcStream *s, const HtcTile *t, uint32_t c, uint32_t nl, uint32_t r,
                     HtcResGeom *out)
{
    uint32_t x0, y0, x1, y1;
    htc_t2_tile_comp_rect(s, t, c, &x0, &y0, &x1, &y1);
    const uint32_t sh = nl - r;
    out->x0 = htc_ceil_div_pow2(x0, sh);
    out->y0 = htc_ceil_div_pow2(y0, sh);
    out->x1 = htc_ceil_div_pow2(x1, sh);
    out->y1 = htc_ceil_div_pow2(y1, sh);
}

/* ceil((v - o * 2^(nb-1)) / 2^nb) for the band of orientation offset o (B-15). */
static uint32_t band_coord(uint32_t v, uint32_t nb, uint32_t o)
{
    const int64_t a = (int64_t)v - (nb ? ((int64_t)o << (nb - 1)) : 0);
    const int64_t d = (int64_t)1 << nb;
    int64_t q = a >= 0 ? (a + d - 1) >> nb : -((-a) >> nb); /* division by d, rounded as C's */
    return q < 0 ? 0 : (uint32_t)q;
}

static uint32_t floor_shift(uint32_t v, uint32_t e) { return e >= 32 ? 0 : v >> e; }
static uint32_t ceil_shift(uint32_t v, uint32_t e)
{
    return e >= 32 ? (v ? 1 : 0) : (uint32_t)(((uint64_t)v + ((uint64_t)1 << e) - 1) >> e);
}

/* Geometry of one resolution; counts precincts, blocks and tag nodes, and
 * fills them when the arrays are given (second pass). */
static int layout_res(HtcT2Tile *tt, uint32_t c, uint32_t r, int fill, uint64_t *nprec,
                      uint64_t *nblock, uint64_t *nnode, uint64_t *nunits)
{
    const HtcStream *s = tt->s;
    const HtcTile *t = tt->t;
    const HtcCod *cod = &t->cod[c];
    HtcT2Comp *tc = &tt->comps[c];
    HtcT2Res *res = &tc->res[r];
    const uint32_t nl = tc->nl;
    const uint32_t tcx0 = tc->rect.x0, tcy0 = tc->rect.y0, tcx1 = tc->rect.x1, tcy1 = tc->rect.y1;

    if (!fill) {
        memset(res, 0, sizeof(*res));
        /* htc_t2_res_rect, from the tile-component worked out once */
        res->rect.x0 = htc_ceil_div_pow2(tcx0, nl - r);
        res->rect.y0 = htc_ceil_div_pow2(tcy0, nl - r);
        res->rect.x1 = htc_ceil_div_pow2(tcx1, nl - r);
        res->rect.y1 = htc_ceil_div_pow2(tcy1, nl - r);
        res->ppx = cod->ppx[r];
        res->ppy = cod->ppy[r];
        if (res->ppx > 31 || res->ppy > 31)
            return htc_fail(&s->ctx, HTC_ECORRUPT, "tile %u component %u: precinct size 2^%u x 2^%u",
                            t->index, c, res->ppx, res->ppy);
        if (res->rect.x1 > res->rect.x0 && res->rect.y1 > res->rect.y0) {
            res->px0 = floor_shift(res->rect.x0, res->ppx);
            res->py0 = floor_shift(res->rect.y0, res->ppy);
            res->pw = ceil_shift(res->rect.x1, res->ppx) - res->px0;
            res->ph = ceil_shift(res->rect.y1, res->ppy) - res->py0;
        }
        res->num_bands = r == 0 ? 1 : 3;
        const HtcResGeom *low = r ? &tc->res[r - 1].rect : NULL;
        for (uint32_t b = 0; b < res->num_bands; b++) {
            HtcT2Band *band = &res->bands[b];
            const uint32_t orient = r == 0 ? 0 : b + 1;
            const uint32_t nb = r == 0 ? nl : nl - r + 1;
            const uint32_t ox = orient & 1, oy = orient >> 1;
            band->orient = (uint8_t)orient;
            band->index = (uint16_t)(r == 0 ? 0 : 3 * (r - 1) + 1 + b);
            band->x0 = band_coord(tcx0, nb, ox);
            band->y0 = band_coord(tcy0, nb, oy);
            band->x1 = band_coord(tcx1, nb, ox);
            band->y1 = band_coord(tcy1, nb, oy);
            band->out_x = ox ? low->x1 - low->x0 : 0;
            band->out_y = oy ? low->y1 - low->y0 : 0;
            const uint32_t pbw = r ? (res->ppx ? res->ppx - 1u : 0u) : res->ppx;
            const uint32_t pbh = r ? (res->ppy ? res->ppy - 1u : 0u) : res->ppy;
            band->pbw = (uint8_t)pbw;
            band->pbh = (uint8_t)pbh;
            band->cbw = (uint8_t)HTC_MIN((uint32_t)cod->cblk_w_exp, pbw);
            band->cbh = (uint8_t)HTC_MIN((uint32_t)cod->cblk_h_exp, pbh);
        }
        *nunits += (uint64_t)res->pw * res->ph;
    }

    const uint64_t np = (uint64_t)res->pw * res->ph;
    if (np > ((uint64_t)1 << 32) / 4)
        return htc_fail(&s->ctx, HTC_ELIMIT, "tile %u component %u resolution %u: %llu precincts",
                        t->index, c, r, (unsigned long long)np);
    if (fill)
        res->precs = tt->precs + *nprec;
    for (uint32_t p = 0, pi = 0, pj = 0; p < np; p++) {
        if (pi == res->pw) {
            pi = 0;
            pj++;
        }
        for (uint32_t b = 0; b < res->num_bands; b++) {
            const HtcT2Band *band = &res->bands[b];
            /* The precinct in band coordinates, clipped to the band. */
            const uint64_t px0 = (uint64_t)(res->px0 + pi) << band->pbw;
            const uint64_t py0 = (uint64_t)(res->py0 + pj) << band->pbh;
            const uint64_t px1 = px0 + ((uint64_t)1 << band->pbw);
            const uint64_t py1 = py0 + ((uint64_t)1 << band->pbh);
            const uint32_t x0 = (uint32_t)HTC_MAX(px0, (uint64_t)band->x0);
            const uint32_t y0 = (uint32_t)HTC_MAX(py0, (uint64_t)band->y0);
            const uint32_t x1 = (uint32_t)HTC_MIN(px1, (uint64_t)band->x1);
            const uint32_t y1 = (uint32_t)HTC_MIN(py1, (uint64_t)band->y1);
            uint32_t cw = 0, ch = 0, cbx0 = 0, cby0 = 0;
            if (x1 > x0 && y1 > y0) {
                cbx0 = x0 >> band->cbw;
                cby0 = y0 >> band->cbh;
                cw = ceil_shift(x1, band->cbw) - cbx0;
                ch = ceil_shift(y1, band->cbh) - cby0;
            }
            const uint64_t nb = (uint64_t)cw * ch;
            const uint32_t nn = htc_tagtree_num_nodes(cw, ch);
            if (fill) {
                HtcT2Prec *pr = &tt->precs[*nprec];
                pr->cbx0 = cbx0;
                pr->cby0 = cby0;
                pr->cw = cw;
                pr->ch = ch;
                pr->first_block = (uint32_t)*nblock;
                htc_tagtree_init(&pr->incl, tt->nodes + *nnode, cw, ch);
                htc_tagtree_init_like(&pr->zbp, tt->nodes + *nnode + nn, &pr->incl);
                for (uint32_t j = 0; j < ch; j++) {
                    for (uint32_t i = 0; i < cw; i++) {
                        HtcT2Block *bl = &tt->blocks[*nblock + (uint64_t)j * cw + i];
                        memset(bl, 0, sizeof(*bl));
                        bl->x0 = HTC_MAX((cbx0 + i) << band->cbw, x0);
                        bl->y0 = HTC_MAX((cby0 + j) << band->cbh, y0);
                        bl->x1 = (uint32_t)HTC_MIN((uint64_t)(cbx0 + i + 1) << band->cbw, (uint64_t)x1);
                        bl->y1 = (uint32_t)HTC_MIN((uint64_t)(cby0 + j + 1) << band->cbh, (uint64_t)y1);
                        bl->first_seg = bl->last_seg = HTC_T2_NONE;
                        bl->first_chunk = bl->last_chunk = HTC_T2_NONE;
                        bl->cur_seg = HTC_T2_NONE;
                    }
                }
            }
            *nprec += 1;
            *nblock += nb;
            *nnode += 2 * (uint64_t)nn;
        }
        pi++;
    }
    return 0;
}

int htc_t2_tile_build(const HtcStream *s, uint32_t tile, HtcT2Scratch *sc, HtcT2Tile *tt)
{
    const HtcContext *ctx = &s->ctx;
    memset(tt, 0, sizeof(*tt));
    if (tile >= s->ntx * s->nty)
        return htc_fail(ctx, HTC_ERANGE, "tile %u of %u", tile, s->ntx * s->nty);
    tt->s = s;
    tt->t = &s->tiles[tile];
    tt->num_comps = s->num_components;
    tt->comps = htc_t2_mem_get(ctx, &sc->comps, (size_t)s->num_components * sizeof(HtcT2Comp));
    if (!tt->comps)
        return htc_fail(ctx, HTC_ENOMEM, "tier 2: %u components", s->num_components);
    memset(tt->comps, 0, (size_t)s->num_components * sizeof(HtcT2Comp));
    uint64_t nres = 0;
    for (uint32_t c = 0; c < tt->num_comps; c++) {
        const uint32_t nl = tt->t->cod[c].levels;
        if (nl > HTC_MAX_LEVELS)
            return htc_fail(ctx, HTC_ECORRUPT, "tile %u component %u: %u levels", tile, c, nl);
        nres += nl + 1;
    }
    tt->res_pool = htc_t2_mem_get(ctx, &sc->res, (size_t)nres * sizeof(HtcT2Res));
    if (!tt->res_pool)
        return htc_fail(ctx, HTC_ENOMEM, "tier 2: %llu resolutions", (unsigned long long)nres);
    nres = 0;
    for (uint32_t c = 0; c < tt->num_comps; c++) {
        tt->comps[c].res = tt->res_pool + nres;
        nres += tt->t->cod[c].levels + 1u;
    }

    uint64_t nprec = 0, nblock = 0, nnode = 0, nunits = 0;
    for (uint32_t c = 0; c < tt->num_comps; c++) {
        const uint32_t nl = tt->t->cod[c].levels;
        if (nl > HTC_MAX_LEVELS)
            return htc_fail(ctx, HTC_ECORRUPT, "tile %u component %u: %u levels", tile, c, nl);
        tt->comps[c].nl = nl;
        HtcResGeom *g = &tt->comps[c].rect;
        htc_t2_tile_comp_rect(s, tt->t, c, &g->x0, &g->y0, &g->x1, &g->y1);
        for (uint32_t r = 0; r <= nl; r++) {
            const uint64_t first = nunits;
            HTC_CHECK(layout_res(tt, c, r, 0, &nprec, &nblock, &nnode, &nunits));
            tt->comps[c].res[r].first_prec_global = (uint32_t)first;
        }
    }
    const uint64_t bytes = nprec * sizeof(HtcT2Prec) + nblock * sizeof(HtcT2Block) +
                           nnode * sizeof(HtcTagNode);
    if (nprec > UINT32_MAX / 2 || nblock > UINT32_MAX / 2 || nnode > UINT32_MAX / 2 ||
        nunits > UINT32_MAX / 2 || bytes > ctx->limits.max_memory)
        return htc_fail(ctx, HTC_ELIMIT, "tile %u: %llu precincts, %llu code-blocks exceed the limits",
                        tile, (unsigned long long)nprec, (unsigned long long)nblock);
    tt->num_precs = (uint32_t)nprec;
    tt->num_blocks = (uint32_t)nblock;
    tt->num_nodes = (uint32_t)nnode;
    tt->num_prec_units = (uint32_t)nunits;
    /* Every field of these is set below. */
    tt->precs = htc_t2_mem_get(ctx, &sc->precs, (size_t)nprec * sizeof(HtcT2Prec));
    tt->blocks = htc_t2_mem_get(ctx, &sc->blocks, (size_t)nblock * sizeof(HtcT2Block));
    tt->nodes = htc_t2_mem_get(ctx, &sc->nodes, (size_t)nnode * sizeof(HtcTagNode));
    if (!tt->precs || !tt->blocks || !tt->nodes)
        return htc_fail(ctx, HTC_ENOMEM, "tier 2: tile %u tables (%llu bytes)", tile,
                        (unsigned long long)bytes);
    nprec = nblock = nnode = 0;
    for (uint32_t c = 0; c < tt->num_comps; c++)
        for (uint32_t r = 0; r <= tt->comps[c].nl; r++)
            HTC_CHECK(layout_res(tt, c, r, 1, &nprec, &nblock, &nnode, &nunits));
    return 0;
}
