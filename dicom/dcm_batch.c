/* htcodec DICOM layer: many frames at once. JPEG 2000 and HTJ2K frames go
 * to libhtc's batch call together (a GPU decoder takes them as one job
 * table); frames of the other transfer syntaxes are decoded one by one. */
#include <stdio.h>

#include "dcm_internal.h"

typedef struct Pending {
    uint8_t *bytes;            /* the frame's codestream (kept until the batch is done) */
    HtcStream *stream;
    HtcDicomImage img;
    int j2k;
} Pending;

static void item_fail(HtcDicomBatchItem *it, int rc)
{
    it->status = rc;
    snprintf(it->message, sizeof(it->message), "%s", htc_dicom_last_error());
}

int htc_dicom_decode_batch(HtcDecoder *dec, HtcDicomBatchItem *items, size_t n, const HtcDicomDecodeParams *p)
{
    if (n == 0)
        return 0;
    if (!items)
        return dcm_fail(NULL, HTC_EINVAL, "NULL items");
    HtcDicomDecodeParams defp;
    if (!p) {
        htc_dicom_default_decode_params(&defp);
        p = &defp;
    }
    /* Scratch from the first file's allocator. */
    HtcDicom *first = NULL;
    for (size_t i = 0; i < n && !first; i++)
        first = items[i].dicom;
    if (!first)
        return dcm_fail(NULL, HTC_EINVAL, "no DICOM handle in the batch");
    if (n > SIZE_MAX / (sizeof(Pending) + sizeof(HtcBatchItem) + sizeof(size_t)))
        return dcm_fail(&first->ctx, HTC_ELIMIT, "batch of %zu frames", n);
    Pending *pend = dcm_calloc(&first->ctx, n, sizeof(Pending));
    HtcBatchItem *bi = dcm_calloc(&first->ctx, n, sizeof(HtcBatchItem));
    size_t *which = dcm_calloc(&first->ctx, n, sizeof(size_t));
    if (!pend || !bi || !which) {
        dcm_free(&first->ctx, pend);
        dcm_free(&first->ctx, bi);
        dcm_free(&first->ctx, which);
        return dcm_fail(&first->ctx, HTC_ENOMEM, "no memory for a batch of %zu frames", n);
    }
    size_t nj = 0;
    for (size_t i = 0; i < n; i++) {
        HtcDicomBatchItem *it = &items[i];
        memset(&it->out, 0, sizeof(it->out));
        it->status = 0;
        it->message[0] = 0;
        HtcDicom *d = it->dicom;
        if (!d) {
            it->status = HTC_EINVAL;
            snprintf(it->message, sizeof(it->message), "NULL DICOM handle");
            continue;
        }
        int rc = htc_dicom_get_image(d, &pend[i].img);
        if (rc >= 0 && it->frame >= pend[i].img.frames)
            rc = dcm_fail(&d->ctx, HTC_ERANGE, "frame %u asked for, Number of Frames is %u", it->frame + 1,
                          pend[i].img.frames);
        if (rc < 0) {
            item_fail(it, rc);
            continue;
        }
        const int codec = pend[i].img.codec;
        if (codec != HTC_DICOM_J2K && codec != HTC_DICOM_HTJ2K) {
            rc = htc_dicom_decode_frame(d, dec, it->frame, p, &it->out);
            if (rc < 0)
                item_fail(it, rc);
            continue;
        }
        size_t size;
        rc = htc_dicom_frame_data(d, it->frame, &pend[i].bytes, &size);
        if (rc >= 0) {
            rc = dcm_j2k_open(d, &pend[i].img, pend[i].bytes, size, &pend[i].stream, &it->out.corrected);
        }
        if (rc < 0) {
            item_fail(it, rc);
            continue;
        }
        pend[i].j2k = 1;
        bi[nj].stream = pend[i].stream;
        which[nj++] = i;
    }
    int rc = 0;
    if (nj) {
        HtcDecoder *own = NULL;
        if (!dec) {
            rc = dcm_make_decoder(first, p, &own);
            dec = own;
        }
        if (rc >= 0)
            rc = htc_decode_batch(dec, bi, nj);
        if (rc < 0) {
            rc = dcm_fail(&first->ctx, rc, "batch decode: %s", htc_last_error());
            for (size_t k = 0; k < nj; k++)
                item_fail(&items[which[k]], rc);
        } else {
            for (size_t k = 0; k < nj; k++) {
                HtcDicomBatchItem *it = &items[which[k]];
                if (bi[k].status < 0) {
                    it->status = bi[k].status;
                    snprintf(it->message, sizeof(it->message), "frame codestream: %s", bi[k].message);
                } else {
                    const int corrected = it->out.corrected;
                    int r = dcm_picture_to_frame(it->dicom, &bi[k].picture, &it->out);
                    it->out.corrected = corrected;
                    memcpy(it->out.photometric, pend[which[k]].img.photometric, sizeof(it->out.photometric));
                    if (r >= 0 && p->convert_rgb)
                        r = dcm_convert_rgb(it->dicom, &it->out);
                    if (r >= 0 && p->apply_rescale)
                        r = dcm_apply_rescale(it->dicom, &pend[which[k]].img, it->frame, &it->out);
                    if (r < 0) {
                        htc_dicom_frame_release(&it->out);
                        item_fail(it, r);
                    }
                }
                htc_picture_release(&bi[k].picture);
            }
            rc = 0;
        }
        htc_decoder_close(&own);
    }
    for (size_t i = 0; i < n; i++) {
        htc_stream_close(&pend[i].stream);
        if (pend[i].bytes)
            htc_dicom_free(items[i].dicom, pend[i].bytes);
    }
    dcm_free(&first->ctx, pend);
    dcm_free(&first->ctx, bi);
    dcm_free(&first->ctx, which);
    return rc;
}
