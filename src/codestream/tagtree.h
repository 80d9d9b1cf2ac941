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

/* Decodes leaf `leaf` against threshold: returns 1 when its value is below
 * threshold, 0 when it is at least threshold, or a negative status from
 * the bit reader. */
int htc_tagtree_decode(HtcTagTree *t, uint32_t leaf, uint32_t threshold, HtcT2Bits *br);

/* Decodes leaf's value completely (the zero bit-plane tree); returns the
 * value, or a negative status. limit guards against endless one-bits. */
int64_t htc_tagtree_value(HtcTagTree *t, uint32_t leaf, uint32_t limit, HtcT2Bits *br);

#endif /* HTC_TAGTREE_H */
