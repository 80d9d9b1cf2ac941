/* htcodec: the per-coefficient state of the Part 1 block decoder and the
 * context tables of T.800 D.3 (Tables D.1, D.3, D.4 and D.7).
 *
 * Each coefficient has a 16-bit flags word; the decoder keeps the words of a
 * code-block with a one-coefficient border, so every coefficient has eight
 * neighbours. When a coefficient becomes significant it sets its bit in each
 * neighbour's word (and its sign in the four direct neighbours' words), so a
 * context is one table read of the coefficient's own word. */
#ifndef HTC_T1_TABLES_H
#define HTC_T1_TABLES_H

#include <stdint.h>
#include "hd.h"

/* Neighbour significance, in the low byte so that it indexes the
 * zero-coding table directly: the coefficient above (N), below (S), left
 * (W), right (E), then the diagonals. */
#define HTC_T1_N 0x0001u
#define HTC_T1_S 0x0002u
#define HTC_T1_W 0x0004u
#define HTC_T1_E 0x0008u
#define HTC_T1_NW 0x0010u
#define HTC_T1_NE 0x0020u
#define HTC_T1_SW 0x0040u
#define HTC_T1_SE 0x0080u
/* Sign of a significant direct neighbour: 1 = negative. */
#define HTC_T1_N_NEG 0x0100u
#define HTC_T1_S_NEG 0x0200u
#define HTC_T1_W_NEG 0x0400u
#define HTC_T1_E_NEG 0x0800u
/* The coefficient itself. */
#define HTC_T1_SIG 0x1000u     /* significant */
#define HTC_T1_VISIT 0x2000u   /* coded in the significance propagation pass of this bit-plane */
#define HTC_T1_REFINED 0x4000u /* refined at least once (MR context 16) */
#define HTC_T1_NEG 0x8000u     /* negative */

#define HTC_T1_NBR_MASK 0x00FFu /* any neighbour significant */

/* Context numbers: 0..8 significance (zero coding), 9..13 sign,
 * 14..16 magnitude refinement, 17 run-length, 18 uniform. */
enum {
    HTC_T1_CTX_SC = 9,
    HTC_T1_CTX_MR = 14,
    HTC_T1_CTX_RL = 17,
    HTC_T1_CTX_UNI = 18,
    HTC_T1_NUM_CTX = 19,
};

/* Zero-coding context (Table D.1) by band class (0: LL and LH, 1: HL,
 * 2: HH) and htc_t1_zc_index(flags): N, S, W, E in bits 0..3, NW, NE, SW,
 * SE in bits 4..7. */
extern const uint8_t htc_t1_zc_ctx[3][256];
/* Sign context and XOR bit (Tables D.2, D.3) by htc_t1_sc_index(flags):
 * N, S, W, E significance in bits 0..3, their signs in bits 4..7;
 * context << 1 | xor. */
extern const uint8_t htc_t1_sc_ctx[256];

static HTC_HD inline uint32_t htc_t1_zc_index(uint32_t f)
{
    return f & 0xFF;
}

static HTC_HD inline uint32_t htc_t1_sc_index(uint32_t f)
{
    return (f & 0x0F) | ((f >> 4) & 0xF0);
}

/* Context initial values (Table D.7), as HtcMqCx words. */
void htc_t1_reset_contexts(uint32_t ctx[HTC_T1_NUM_CTX]);

#endif /* HTC_T1_TABLES_H */
