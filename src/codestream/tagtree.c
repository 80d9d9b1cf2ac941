/* htcodec: tag tree decoding (B.10.2). */
#include "codestream/tagtree.h"

#include "internal.h"

uint32_t htc_tagtree_num_nodes(uint32_t w, uint32_t h)
{
    if (!w || !h)
        return 0;
    uint64_t n = 0;
    for (;;) {
        n += (uint64_t)w * h;
        if (w == 1 && h == 1)
            break;
        w = (w + 1) >> 1;
        h = (h + 1) >> 1;
    }
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void htc_tagtree_init(HtcTagTree *t, HtcTagNode *nodes, uint32_t w, uint32_t h)
{
    t->nodes = nodes;
    t->w = w;
    t->h = h;
    t->num_nodes = htc_tagtree_num_nodes(w, h);
    if (!t->num_nodes)
        return;
    /* Level by level: the parent of (x, y) at one level is (x/2, y/2) at the next. */
    uint32_t base = 0, lw = w, lh = h;
    while (!(lw == 1 && lh == 1)) {
        const uint32_t pw = (lw + 1) >> 1, ph = (lh + 1) >> 1;
        const uint32_t pbase = base + lw * lh;
        for (uint32_t y = 0; y < lh; y++)
            for (uint32_t x = 0; x < lw; x++)
                nodes[base + y * lw + x].parent = pbase + (y >> 1) * pw + (x >> 1);
        base = pbase;
        lw = pw;
        lh = ph;
    }
    nodes[base].parent = UINT32_MAX;
    htc_tagtree_reset(t);
}

void htc_tagtree_reset(HtcTagTree *t)
{
    for (uint32_t i = 0; i < t->num_nodes; i++) {
        t->nodes[i].value = 0;
        t->nodes[i].known = 0;
    }
}

/* The unknown nodes from the leaf up (path[depth - 1] is the highest),
 * and the value of the lowest known node above them (0 when none is).
 *
 * A node's bits come only once its parent is known, so the known nodes of a
 * path are the ones above some point, and each is at least its parent: the
 * walk from the root would pass the known ones without reading or changing
 * anything, and start the unknown ones from the lowest known value. */
static int unknown_path(const HtcTagTree *t, uint32_t leaf, uint32_t path[40], uint32_t *low)
{
    const HtcTagNode *nodes = t->nodes;
    int depth = 0;
    uint32_t n = leaf;
    while (n != UINT32_MAX && !nodes[n].known && depth < 40) {
        path[depth++] = n;
        n = nodes[n].parent;
    }
    *low = n != UINT32_MAX && nodes[n].known ? nodes[n].value : 0;
    return depth;
}

int htc_tagtree_decode(HtcTagTree *t, uint32_t leaf, uint32_t threshold, HtcT2Bits *br)
{
    uint32_t path[40], low;
    const int depth = unknown_path(t, leaf, path, &low);
    if (low >= threshold)
        return 0;
    for (int i = depth - 1; i >= 0; i--) {
        HtcTagNode *node = &t->nodes[path[i]];
        if (node->value < low)
            node->value = low;
        if (node->value >= threshold)
            return 0;
        /* Zeros raise the value, a one makes it known. */
        const int r = htc_t2_bits_zero_run(br, threshold - node->value, &node->value);
        if (r <= 0)
            return r;
        node->known = 1;
        low = node->value;
    }
    return 1;
}

int64_t htc_tagtree_value(HtcTagTree *t, uint32_t leaf, uint32_t limit, HtcT2Bits *br)
{
    /* One walk from the root down, as decoding against thresholds 1, 2, ...,
     * limit + 1 in turn would read the same bits in the same order (a node's
     * bits come only once its parent is known); a value that would pass
     * limit is corrupt. */
    uint32_t path[40], low;
    const int depth = unknown_path(t, leaf, path, &low);
    const uint64_t cap = (uint64_t)HTC_MIN(limit, UINT32_MAX - 1u) + 1;
    for (int i = depth - 1; i >= 0; i--) {
        HtcTagNode *node = &t->nodes[path[i]];
        if (node->value < low)
            node->value = low;
        if (node->value >= cap)
            return HTC_ECORRUPT;
        const int r = htc_t2_bits_zero_run(br, (uint32_t)(cap - node->value), &node->value);
        if (r < 0)
            return r;
        if (r == 0)
            return HTC_ECORRUPT;
        node->known = 1;
        low = node->value;
    }
    const HtcTagNode *lf = &t->nodes[leaf];
    if (!lf->known || lf->value > limit)
        return HTC_ECORRUPT;
    return lf->value;
}
