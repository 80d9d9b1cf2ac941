/* htcodec: tag trees (B.10.2), decoder side.
 *
 * One tree per precinct and band for inclusion, one for zero bit-planes.
 * The nodes of all levels live in one array that the caller provides
 * (htc_tagtree_num_nodes says how many), leaves first in raster order. */
#ifndef HTC_TAGTREE_H
#define HTC_TAGTREE_H

#include <stdint.h>

#include "codestream/tier2_bits.h"

typedef struct HtcTagNode {
    uint32_t value;            /* lower bound, or the value once known */
    uint32_t parent;           /* index of the parent node, UINT32_MAX at the root */
    uint32_t bound;            /* leaves: the node whose value answered the last
                                  htc_tagtree_decode with 0 (the leaf itself at first) */
    uint8_t known;             /* value is final */
} HtcTagNode;

typedef struct HtcTagTree {
    HtcTagNode *nodes;
    uint32_t w, h;             /* leaves */
    uint32_t num_nodes;
} HtcTagTree;

/* Nodes a w x h tree needs (0 when w or h is 0). */
uint32_t htc_tagtree_num_nodes(uint32_t w, uint32_t h);

/* Lays the tree out in nodes (htc_tagtree_num_nodes entries) and resets it. */
void htc_tagtree_init(HtcTagTree *t, HtcTagNode *nodes, uint32_t w, uint32_t h);
void htc_tagtree_reset(HtcTagTree *t);
/* Lays out a tree of like's shape in nodes (num_nodes of like), as like's
 * nodes are now: a copy of a tree just laid out is laid out and reset. */
void htc_tagtree_init_like(HtcTagTree *t, HtcTagNode *nodes, const HtcTagTree *like);

/* The decoders are inline: tier 2 calls them for every code-block.
 *
 * The unknown nodes from the leaf up (path[depth - 1] is the highest), and
 * the value of the lowest known node above them (0 when none is). A node's
 * bits come only once its parent is known, so the known nodes of a path are
 * the ones above some point, and each is at least its parent: the walk from
 * the root would pass the known ones without reading or changing anything,
 * and start the unknown ones from the lowest known value. */
static inline int htc_tagtree_unknown_path(const HtcTagTree *t, uint32_t leaf, uint32_t path[40],
                                           uint32_t *low)
{
    const HtcTagNode *nodes = t->nodes;
    int depth = 0;
    uint32_t n = leaf;
    while (!nodes[n].known) {
        path[depth++] = n;
        n = nodes[n].parent;
        if (n == UINT32_MAX || depth == 40) {
            *low = 0;
            return depth;
        }
    }
    *low = nodes[n].value;
    return depth;
}

/* Decodes leaf `leaf` against threshold: returns 1 when its value is below
 * threshold, 0 when it is at least threshold, or a negative status from
 * the bit reader.
 *
 * An answer 0 comes from a node on the path whose value reached threshold,
 * with known nodes above it; the leaf keeps its index. While that node's
 * value is at least a later call's threshold, the answer is 0 at once: the
 * walk from the root would meet that node (still the first unknown one) or,
 * once it is known, the first unknown one below it (raised to at least its
 * value) before reading any bit. So a code-block left out of many layers
 * walks its path only in the layers whose bits its own path carries. */
static inline int htc_tagtree_decode(HtcTagTree *t, uint32_t leaf, uint32_t threshold, HtcT2Bits *br)
{
    HtcTagNode *lf = &t->nodes[leaf];
    if (t->nodes[lf->bound].value >= threshold)
        return lf->known ? lf->value < threshold : 0;
    if (!lf->known && lf->parent != UINT32_MAX && t->nodes[lf->parent].known) {
        /* Most often only the leaf is unknown (its siblings made the parent known). */
        const uint32_t low = t->nodes[lf->parent].value;
        if (lf->value < low)
            lf->value = low;
        if (lf->value >= threshold)
            return 0; /* bound: the leaf itself */
        const int r = htc_t2_bits_zero_run(br, threshold - lf->value, &lf->value);
        if (r <= 0)
            return r;
        lf->known = 1;
        return 1;
    }
    uint32_t path[40], low;
    const int depth = htc_tagtree_unknown_path(t, leaf, path, &low);
    if (low >= threshold) {
        /* the known node that gave low: the parent of the highest unknown one
         * (none only for threshold 0) */
        const uint32_t k = depth ? t->nodes[path[depth - 1]].parent : leaf;
        lf->bound = k != UINT32_MAX ? k : leaf;
        return 0;
    }
    for (int i = depth - 1; i >= 0; i--) {
        HtcTagNode *node = &t->nodes[path[i]];
        if (node->value < low)
            node->value = low;
        if (node->value >= threshold) {
            lf->bound = path[i];
            return 0;
        }
        /* Zeros raise the value, a one makes it known. */
        const int r = htc_t2_bits_zero_run(br, threshold - node->value, &node->value);
        if (r < 0)
            return r;
        if (r == 0) {
            lf->bound = path[i];
            return 0;
        }
        node->known = 1;
        low = node->value;
    }
    return 1;
}

/* Decodes leaf's value completely (the zero bit-plane tree), in one walk
 * from the root down, as decoding against thresholds 1, 2, ..., limit + 1 in
 * turn would read the same bits in the same order (a node's bits come only
 * once its parent is known); returns the value, or a negative status
 * (HTC_ECORRUPT for a value above limit, which must be below UINT32_MAX). */
static inline int64_t htc_tagtree_value(HtcTagTree *t, uint32_t leaf, uint32_t limit, HtcT2Bits *br)
{
    const uint32_t cap = limit + 1;
    HtcTagNode *lf = &t->nodes[leaf];
    if (!lf->known && lf->parent != UINT32_MAX && t->nodes[lf->parent].known) {
        /* Most often only the leaf is unknown. */
        const uint32_t low = t->nodes[lf->parent].value;
        if (lf->value < low)
            lf->value = low;
        if (lf->value >= cap)
            return HTC_ECORRUPT;
        const int r = htc_t2_bits_zero_run(br, cap - lf->value, &lf->value);
        if (r < 0)
            return r;
        if (r == 0)
            return HTC_ECORRUPT;
        lf->known = 1;
        return lf->value;
    }
    uint32_t path[40], low;
    const int depth = htc_tagtree_unknown_path(t, leaf, path, &low);
    for (int i = depth - 1; i >= 0; i--) {
        HtcTagNode *node = &t->nodes[path[i]];
        if (node->value < low)
            node->value = low;
        if (node->value >= cap)
            return HTC_ECORRUPT;
        const int r = htc_t2_bits_zero_run(br, cap - node->value, &node->value);
        if (r < 0)
            return r;
        if (r == 0)
            return HTC_ECORRUPT;
        node->known = 1;
        low = node->value;
    }
    if (!lf->known || lf->value > limit)
        return HTC_ECORRUPT;
    return lf->value;
}

#endif /* HTC_TAGTREE_H */
