/* htcodec: which instruction sets the CPU (and the OS) offer, read once.
 *
 * htc_cpu_flags() returns HTC_CPU_* bits (include/htc/decoder.h) of what
 * this machine can run, masked by the environment variable HTC_CPUMASK when
 * it is set (a number, decimal or 0x-hex: bits that stay allowed), so that
 * tests and benchmarks can turn ISAs off without rebuilding. The result is
 * computed once and cached; calling it from several threads is safe. */
#ifndef HTC_CPU_H
#define HTC_CPU_H

#include <stdint.h>

#include "htc/decoder.h"

uint32_t htc_cpu_flags(void);

/* What the hardware offers, without the HTC_CPUMASK environment mask. */
uint32_t htc_cpu_flags_raw(void);

#endif /* HTC_CPU_H */
