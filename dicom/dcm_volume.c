/* htcodec DICOM layer: a series as a volume. Each slice's plane (Image
 * Position / Orientation (Patient), Pixel Spacing, from the top level or from
 * an enhanced image's functional groups); slices sorted along the normal of
 * the orientation, spacing, and the voxel-to-patient affine in LPS and RAS. */
#include <math.h>
#include <stdlib.h>

#include "dcm_internal.h"

#define TAG_IPP 0x00200032u
#define TAG_IOP 0x00200037u
#define TAG_SPACING 0x00280030u
#define TAG_SHARED_FG 0x52009229u
#define TAG_PER_FRAME_FG 0x52009230u
#define TAG_PLANE_POSITION 0x00209113u
#define TAG_PLANE_ORIENTATION 0x00209116u
#define TAG_PIXEL_MEASURES 0x00289110u

static int read_doubles(HtcDicom *d, int32_t parent, uint32_t tag, double *v, uint32_t n)
{
    const int32_t node = htc_dicom_find(d, parent, tag);
    if (node < 0 || htc_dicom_value_count(d, node) < n)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (htc_dicom_get_double(d, node, i, &v[i]) < 0 || !isfinite(v[i]))
            return 0;
    return 1;
}

/* Item i of sequence tag under parent, or -1. */
static int32_t item(HtcDicom *d, int32_t parent, uint32_t tag, uint32_t i)
{
    const int32_t sq = htc_dicom_find(d, parent, tag);
    if (sq < 0)
        return -1;
    int32_t it = htc_dicom_first(d, sq);
    for (uint32_t k = 0; it >= 0 && k < i; k++)
        it = htc_dicom_next(d, it);
    return it;
}

/* Looks in one functional groups item for the three macros. */
static void from_groups(HtcDicom *d, int32_t fg, HtcDicomPlane *pl)
{
    if (fg < 0)
        return;
    int32_t it;
    if (!pl->has_position && (it = item(d, fg, TAG_PLANE_POSITION, 0)) >= 0)
        pl->has_position = read_doubles(d, it, TAG_IPP, pl->position, 3);
    if (!pl->has_orientation && (it = item(d, fg, TAG_PLANE_ORIENTATION, 0)) >= 0)
        pl->has_orientation = read_doubles(d, it, TAG_IOP, pl->orientation, 6);
    if (!pl->has_spacing && (it = item(d, fg, TAG_PIXEL_MEASURES, 0)) >= 0)
        pl->has_spacing = read_doubles(d, it, TAG_SPACING, pl->spacing, 2);
}

int htc_dicom_get_plane(HtcDicom *d, uint32_t k, HtcDicomPlane *pl)
{
    if (!d || !pl)
        return dcm_fail(NULL, HTC_EINVAL, "NULL argument");
    memset(pl, 0, sizeof(*pl));
    from_groups(d, item(d, DCM_NONE, TAG_PER_FRAME_FG, k), pl);
    from_groups(d, item(d, DCM_NONE, TAG_SHARED_FG, 0), pl);
    if (!pl->has_position)
        pl->has_position = read_doubles(d, DCM_NONE, TAG_IPP, pl->position, 3);
    if (!pl->has_orientation)
        pl->has_orientation = read_doubles(d, DCM_NONE, TAG_IOP, pl->orientation, 6);
    if (!pl->has_spacing)
        pl->has_spacing = read_doubles(d, DCM_NONE, TAG_SPACING, pl->spacing, 2);
    if (!pl->has_spacing)
        pl->spacing[0] = pl->spacing[1] = 1;
    if (!pl->has_position || !pl->has_orientation)
        return dcm_fail(&d->ctx, HTC_EDICOM, "frame %u: no Image Position (Patient) (0020,0032) or Image Orientation (Patient) (0020,0037)",
                        k + 1);
    return 0;
}

typedef struct Key {
    double dist;
    uint32_t index;
} Key;

static int cmp_key(const void *a, const void *b)
{
    const Key *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int htc_dicom_volume_sort(const HtcDicomPlane *pl, uint32_t n, uint32_t *order, HtcDicomVolume *vol)
{
    if (!pl || !order || !vol || n == 0)
        return dcm_fail(NULL, HTC_EINVAL, "no slices");
    memset(vol, 0, sizeof(*vol));
    const double *r = pl[0].orientation, *c = pl[0].orientation + 3;
    double nrm[3] = { r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0] };
    const double len = sqrt(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
    if (!(len > 1e-6))
        return dcm_fail(NULL, HTC_EDICOM, "Image Orientation (Patient) of slice 1 is degenerate");
    for (int i = 0; i < 3; i++)
        nrm[i] /= len;
    Key *keys = dcm_alloc_with(NULL, (size_t)n * sizeof(*keys));
    if (!keys)
        return dcm_fail(NULL, HTC_ENOMEM, "no memory for %u slices", n);
    for (uint32_t i = 0; i < n; i++) {
        if (!pl[i].has_position || !pl[i].has_orientation) {
            dcm_free_with(NULL, keys);
            return dcm_fail(NULL, HTC_EDICOM, "slice %u has no position or orientation", i + 1);
        }
        for (int k = 0; k < 6; k++)
            if (fabs(pl[i].orientation[k] - pl[0].orientation[k]) > 1e-4) {
                dcm_free_with(NULL, keys);
                return dcm_fail(NULL, HTC_EDICOM, "slice %u: Image Orientation (Patient) differs from slice 1", i + 1);
            }
        keys[i].dist = nrm[0] * pl[i].position[0] + nrm[1] * pl[i].position[1] + nrm[2] * pl[i].position[2];
        keys[i].index = i;
    }
    qsort(keys, n, sizeof(*keys), cmp_key);
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        order[i] = keys[i].index;
        if (i) {
            const double gap = keys[i].dist - keys[i - 1].dist;
            if (gap < 1e-6) {
                const uint32_t a = keys[i - 1].index, b = keys[i].index;
                dcm_free_with(NULL, keys);
                return dcm_fail(NULL, HTC_EDICOM, "slices %u and %u are at the same position", a + 1, b + 1);
            }
            sum += gap;
        }
    }
    vol->num_slices = n;
    vol->slice_spacing = n > 1 ? sum / (n - 1) : 1;
    for (uint32_t i = 1; i < n; i++) {
        const double dev = fabs(keys[i].dist - keys[i - 1].dist - vol->slice_spacing);
        if (dev > vol->spacing_spread)
            vol->spacing_spread = dev;
    }
    dcm_free_with(NULL, keys);
    memcpy(vol->normal, nrm, sizeof(nrm));
    const HtcDicomPlane *p0 = &pl[order[0]], *pn = &pl[order[n - 1]];
    double kv[3];
    for (int i = 0; i < 3; i++)
        kv[i] = n > 1 ? (pn->position[i] - p0->position[i]) / (n - 1) : nrm[i] * vol->slice_spacing;
    double *a = vol->affine_lps;
    for (int i = 0; i < 3; i++) {
        a[4 * i + 0] = r[i] * p0->spacing[1]; /* along a row: column spacing */
        a[4 * i + 1] = c[i] * p0->spacing[0]; /* down a column: row spacing */
        a[4 * i + 2] = kv[i];
        a[4 * i + 3] = p0->position[i];
    }
    a[15] = 1;
    memcpy(vol->affine_ras, a, sizeof(vol->affine_ras));
    for (int j = 0; j < 4; j++) {
        vol->affine_ras[j] = -a[j];
        vol->affine_ras[4 + j] = -a[4 + j];
    }
    return 0;
}
