/* The context tables of the Part 1 block decoder, rebuilt here from the
 * wording of T.800 D.3 (Tables D.1 to D.3 and D.7), and the flag layout
 * they assume. */
#include "coding/mq_decoder.h"
#include "coding/t1_tables.h"
#include "test.h"

/* Table D.1, written as its rows. */
static int zc_rule(int h, int v, int d, int cls)
{
    if (cls == 1) { /* HL: the LL/LH rule with h and v exchanged */
        const int t = h;
        h = v;
        v = t;
    }
    if (cls != 2) {
        if (h == 2) return 8;
        if (h == 1) return v >= 1 ? 7 : d >= 1 ? 6 : 5;
        if (v == 2) return 4;
        if (v == 1) return 3;
        return d >= 2 ? 2 : d;
    }
    if (d >= 3) return 8;
    if (d == 2) return h + v >= 1 ? 7 : 6;
    if (d == 1) return h + v >= 2 ? 5 : 3 + h + v;
    return h + v >= 2 ? 2 : h + v;
}

static int contrib(uint32_t f, uint32_t sig, uint32_t neg)
{
    return !(f & sig) ? 0 : (f & neg) ? -1 : 1;
}

int main(void)
{
    for (uint32_t f = 0; f < 0x1000; f++) {
        const int h = !!(f & HTC_T1_W) + !!(f & HTC_T1_E);
        const int v = !!(f & HTC_T1_N) + !!(f & HTC_T1_S);
        const int d = !!(f & HTC_T1_NW) + !!(f & HTC_T1_NE) + !!(f & HTC_T1_SW) + !!(f & HTC_T1_SE);
        for (int cls = 0; cls < 3; cls++)
            CHECK_EQ_INT(htc_t1_zc_ctx[cls][htc_t1_zc_index(f)], zc_rule(h, v, d, cls));
        /* Tables D.2 and D.3. */
        int H = contrib(f, HTC_T1_W, HTC_T1_W_NEG) + contrib(f, HTC_T1_E, HTC_T1_E_NEG);
        int V = contrib(f, HTC_T1_N, HTC_T1_N_NEG) + contrib(f, HTC_T1_S, HTC_T1_S_NEG);
        H = H > 1 ? 1 : H < -1 ? -1 : H;
        V = V > 1 ? 1 : V < -1 ? -1 : V;
        int xr = 0;
        if (H < 0 || (H == 0 && V < 0)) {
            xr = 1;
            H = -H;
            V = -V;
        }
        const int ctx = H == 0 ? 9 + (V != 0) : 12 + V;
        CHECK_EQ_INT(htc_t1_sc_ctx[htc_t1_sc_index(f)] >> 1, ctx);
        CHECK_EQ_INT(htc_t1_sc_ctx[htc_t1_sc_index(f)] & 1, xr);
    }
    /* Table D.7. */
    HtcMqCx c[HTC_T1_NUM_CTX];
    htc_t1_reset_contexts(c);
    for (int i = 0; i < HTC_T1_NUM_CTX; i++)
        CHECK_EQ_INT(c[i], htc_mq_table[i == 0 ? 8 : i == HTC_T1_CTX_RL ? 6 : i == HTC_T1_CTX_UNI ? 92 : 0]);
    return test_summary("t1_tables");
}
