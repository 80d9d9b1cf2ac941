/* htcodec: JPEG 2000 Part 1 and Part 15 (HTJ2K) decoding. Umbrella header. */
#ifndef HTC_HTC_H
#define HTC_HTC_H

#include "htc/common.h"
#include "htc/version.h"
#include "htc/stream.h"
#include "htc/picture.h"
#include "htc/decoder.h"
#include "htc/cuda.h"

#endif /* HTC_HTC_H */
