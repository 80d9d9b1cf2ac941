/* htcodec: tag tree decoding (B.10.2). */
#include "codestream/tagtree.h"

#include "internal.h"

uint32_t htc_tagtree_num_nodes(uint32_t w, uint32_t h)
{
    if (!w || !h)
        return 0;
    if (w == 1 && h == 1)
        return 1;
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
        HtcTagNode *n = nodes + base;
        for (uint32_t y = 0; y < lh; y++) {
            const uint32_t prow = pbase + (y >> 1) * pw;
            for (uint32_t x = 0; x < lw; x++, n++) {
                n->value = 0;
                n->parent = prow + (x >> 1);
                n->bound = (uint32_t)(n - nodes);
                n->known = 0;
            }
        }
        base = pbase;
        lw = pw;
        lh = ph;
    }
    nodes[base].value = 0;
    nodes[base].parent = UINT32_MAX;
    nodes[base].bound = base;
    nodes[base].known = 0;
}

void htc_tagtree_init_like(HtcTagTree *t, HtcTagNode *nodes, const HtcTagTree *like)
{
    *t = *like;
    t->nodes = nodes;
    if (t->num_nodes)
        memcpy(nodes, like->nodes, (size_t)t->num_nodes * sizeof(HtcTagNode));
}

void htc_tagtree_reset(HtcTagTree *t)
{
    for (uint32_t i = 0; i < t->num_nodes; i++) {
        t->nodes[i].value = 0;
        t->nodes[i].bound = i;
        t->nodes[i].known = 0;
    }
}
