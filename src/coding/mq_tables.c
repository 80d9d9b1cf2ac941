/* htcodec: T.800 Table C.2, the probability estimation of the MQ coder.
 *
 * Each row below is one line of Table C.2 (Index, Qe_Value, NMPS, NLPS,
 * SWITCH); ROW() expands it to the two entries the decoder indexes by
 * state * 2 + MPS, packed as mq_decoder.h says, with the indexes of the
 * next context value after an MPS and after an LPS (where SWITCH = 1 the
 * LPS also exchanges the sense of the MPS). */
#include "coding/mq_decoder.h"

#define ENTRY(qe, mps, nmps, nlps) ((qe) | (mps) << 16 | (uint32_t)(nmps) << 17 | (uint32_t)(nlps) << 24)
#define ROW(qe, nmps, nlps, sw)                                    \
    ENTRY(qe, 0u, (nmps) * 2 + 0, (nlps) * 2 + (0 ^ (sw))),        \
    ENTRY(qe, 1u, (nmps) * 2 + 1, (nlps) * 2 + (1 ^ (sw)))

#if defined(__GNUC__)
__attribute__((aligned(64)))
#endif
const HtcMqCx htc_mq_table[94] = {
    /*        Qe  NMPS NLPS SWITCH       index */
    ROW(0x5601,  1,  1, 1), /*  0 */
    ROW(0x3401,  2,  6, 0), /*  1 */
    ROW(0x1801,  3,  9, 0), /*  2 */
    ROW(0x0AC1,  4, 12, 0), /*  3 */
    ROW(0x0521,  5, 29, 0), /*  4 */
    ROW(0x0221, 38, 33, 0), /*  5 */
    ROW(0x5601,  7,  6, 1), /*  6 */
    ROW(0x5401,  8, 14, 0), /*  7 */
    ROW(0x4801,  9, 14, 0), /*  8 */
    ROW(0x3801, 10, 14, 0), /*  9 */
    ROW(0x3001, 11, 17, 0), /* 10 */
    ROW(0x2401, 12, 18, 0), /* 11 */
    ROW(0x1C01, 13, 20, 0), /* 12 */
    ROW(0x1601, 29, 21, 0), /* 13 */
    ROW(0x5601, 15, 14, 1), /* 14 */
    ROW(0x5401, 16, 14, 0), /* 15 */
    ROW(0x5101, 17, 15, 0), /* 16 */
    ROW(0x4801, 18, 16, 0), /* 17 */
    ROW(0x3801, 19, 17, 0), /* 18 */
    ROW(0x3401, 20, 18, 0), /* 19 */
    ROW(0x3001, 21, 19, 0), /* 20 */
    ROW(0x2801, 22, 19, 0), /* 21 */
    ROW(0x2401, 23, 20, 0), /* 22 */
    ROW(0x2201, 24, 21, 0), /* 23 */
    ROW(0x1C01, 25, 22, 0), /* 24 */
    ROW(0x1801, 26, 23, 0), /* 25 */
    ROW(0x1601, 27, 24, 0), /* 26 */
    ROW(0x1401, 28, 25, 0), /* 27 */
    ROW(0x1201, 29, 26, 0), /* 28 */
    ROW(0x1101, 30, 27, 0), /* 29 */
    ROW(0x0AC1, 31, 28, 0), /* 30 */
    ROW(0x09C1, 32, 29, 0), /* 31 */
    ROW(0x08A1, 33, 30, 0), /* 32 */
    ROW(0x0521, 34, 31, 0), /* 33 */
    ROW(0x0441, 35, 32, 0), /* 34 */
    ROW(0x02A1, 36, 33, 0), /* 35 */
    ROW(0x0221, 37, 34, 0), /* 36 */
    ROW(0x0141, 38, 35, 0), /* 37 */
    ROW(0x0111, 39, 36, 0), /* 38 */
    ROW(0x0085, 40, 37, 0), /* 39 */
    ROW(0x0049, 41, 38, 0), /* 40 */
    ROW(0x0025, 42, 39, 0), /* 41 */
    ROW(0x0015, 43, 40, 0), /* 42 */
    ROW(0x0009, 44, 41, 0), /* 43 */
    ROW(0x0005, 45, 42, 0), /* 44 */
    ROW(0x0001, 45, 43, 0), /* 45 */
    ROW(0x5601, 46, 46, 0), /* 46: the fixed uniform state */
};
