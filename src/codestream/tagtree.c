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

/* The nodes from the leaf up to the root (path[depth - 1]); at most 32
 * levels for 2^32 leaves. */
static int path_to(const HtcTagTree *t, uint32_t leaf, uint32_t path[40])
{
    int depth = 0;
    uint32_t n = leaf;
    while (n != UINT32_MAX && depth < 40) {
        path[depth++] = n;
        n = t->nodes[n].parent;
    }
    return depth;
}

int htc_tagtree_decode(HtcTagTree *t, uint32_t leaf, uint32_t threshold, HtcBitFn bit,
                       void *reader)
{
    uint32_t path[40];
    const int depth = path_to(t, leaf, path);
    uint32_t low = 0;
    for (int i = depth - 1; i >= 0; i--) {
        HtcTagNode *node = &t->nodes[path[i]];
        if (node->value < low)
            node->value = low;
        while (!node->known && node->value < threshold) {
            const int b = bit(reader);
            if (b < 0)
                return b;
            if (b)
                node->known = 1;
            else
                node->value++;
        }
        low = node->value;
        if (node->value >= threshold)
            return 0;
    }
    return t->nodes[leaf].known && t->nodes[leaf].value < threshold;
}

int64_t htc_tagtree_value(HtcTagTree *t, uint32_t leaf, uint32_t limit, HtcBitFn bit,
                          void *reader)
{
    /* One walk from the root down. Decoding against thresholds 1, 2, ...,
     * limit + 1 in turn reads the same bits in the same order (a node's bits
     * come only once its parent is known), but walks the path once per
     * threshold: most of tier 2's time on large precincts. */
    uint32_t path[40];
    const int depth = path_to(t, leaf, path);
    const uint64_t cap = (uint64_t)limit + 1;
    uint32_t low = 0;
    for (int i = depth - 1; i >= 0; i--) {
        HtcTagNode *node = &t->nodes[path[i]];
        if (node->value < low)
            node->value = low;
        while (!node->known) {
            if (node->value >= cap)
                return HTC_ECORRUPT;
            const int b = bit(reader);
            if (b < 0)
                return b;
            if (b)
                node->known = 1;
            else
                node->value++;
        }
        low = node->value;
    }
    const HtcTagNode *lf = &t->nodes[leaf];
    if (!lf->known || lf->value > limit)
        return HTC_ECORRUPT;
    return lf->value;
}
