/* htcodec: HT (Part 15) decoding tables, derived once at first use from the
 * code-word definitions of the standard (src/coding/ht_tables.c). */
#ifndef HTC_HT_TABLES_H
#define HTC_HT_TABLES_H

#include <stdint.h>

/* CxtVLC decoding: index = (c_q << 7) | the next 7 bits of the VLC stream
 * (first bit read in bit 0). Entry bits: 0..2 code-word length (0 = no such
 * code-word), 3 u_off, 4..7 rho, 8..11 e_1, 12..15 e_k. */
#define HTC_HT_VLC_LEN(e) ((e) & 7u)
#define HTC_HT_VLC_UOFF(e) (((e) >> 3) & 1u)
#define HTC_HT_VLC_RHO(e) (((e) >> 4) & 15u)
#define HTC_HT_VLC_E1(e) (((e) >> 8) & 15u)
#define HTC_HT_VLC_EK(e) (((e) >> 12) & 15u)

typedef struct HtcHtTables {
    uint16_t vlc0[8 << 7]; /* initial row of quads */
    uint16_t vlc1[8 << 7]; /* non-initial rows */
    /* U-VLC prefix: index = next 3 bits; entry bits 0..1 prefix length,
     * 2..4 suffix length, 5..7 u_pfx. */
    uint8_t uvlc_prefix[8];
    /* U-VLC of a quad pair: index = next 6 bits of the VLC stream; entry
     * bits 0..2 prefix bits of both quads, 3..5 suffix length of quad 0,
     * 6..8 of quad 1, 9..11 u prefix value of quad 0, 12..14 of quad 1.
     * uvlc0[mode] for the initial row (mode: u_off0 + 2 u_off1, and 4 when
     * both are set and the MEL event is 1), uvlc1[u_off0 + 2 u_off1] for
     * the others. */
    uint16_t uvlc0[5][64];
    uint16_t uvlc1[4][64];
} HtcHtTables;

/* The tables, built on the first call (thread-safe). */
const HtcHtTables *htc_ht_tables(void);

#endif /* HTC_HT_TABLES_H */
