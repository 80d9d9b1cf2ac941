/* htcodec DICOM layer: the value representation of a tag from the data
 * dictionary, for implicit VR data sets. */
#include "dcm_internal.h"

typedef struct DcmDictEntry {
    uint32_t tag;
    char a, b;
} DcmDictEntry;

typedef struct DcmDictMask {
    uint32_t mask, value;
    char a, b;
} DcmDictMask;

#include "dcm_dict_table.h"

uint16_t dcm_dict_vr(uint32_t tag)
{
    const uint16_t group = (uint16_t)(tag >> 16), elem = (uint16_t)tag;
    if (elem == 0)
        return DCM_VR('U', 'L'); /* group length */
    if (group & 1) {
        if (elem >= 0x10 && elem <= 0xFF)
            return DCM_VR('L', 'O'); /* private creator */
        return DCM_VR('U', 'N');
    }
    size_t lo = 0, hi = sizeof(dcm_dict_table) / sizeof(dcm_dict_table[0]);
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (dcm_dict_table[mid].tag == tag)
            return DCM_VR(dcm_dict_table[mid].a, dcm_dict_table[mid].b);
        if (dcm_dict_table[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < sizeof(dcm_dict_masks) / sizeof(dcm_dict_masks[0]); i++)
        if ((tag & dcm_dict_masks[i].mask) == dcm_dict_masks[i].value)
            return DCM_VR(dcm_dict_masks[i].a, dcm_dict_masks[i].b);
    return 0;
}

int dcm_vr_is_long(uint16_t vr)
{
    switch (vr) {
    case DCM_VR('O', 'B'): case DCM_VR('O', 'D'): case DCM_VR('O', 'F'): case DCM_VR('O', 'L'):
    case DCM_VR('O', 'V'): case DCM_VR('O', 'W'): case DCM_VR('S', 'Q'): case DCM_VR('S', 'V'):
    case DCM_VR('U', 'C'): case DCM_VR('U', 'N'): case DCM_VR('U', 'R'): case DCM_VR('U', 'T'):
    case DCM_VR('U', 'V'):
        return 1;
    default:
        return 0;
    }
}

int dcm_vr_known(uint16_t vr)
{
    static const char all[] = "AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV";
    for (size_t i = 0; i + 1 < sizeof(all); i += 2)
        if (DCM_VR(all[i], all[i + 1]) == vr)
            return 1;
    return 0;
}

typedef struct DcmPrivEntry {
    uint16_t creator;
    uint8_t kind;              /* 0 exact, 1 block-agnostic element, 2 and group-agnostic */
    uint16_t group, elem;
    char a, b;
} DcmPrivEntry;

#include "dcm_private_table.h"

uint16_t dcm_private_vr(const char *creator, uint32_t tag)
{
    size_t lo = 0, hi = sizeof(dcm_private_creators) / sizeof(dcm_private_creators[0]);
    int found = -1;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int c = strcmp(dcm_private_creators[mid], creator);
        if (c == 0) {
            found = (int)mid;
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (found < 0)
        return 0;
    const size_t n = sizeof(dcm_private_table) / sizeof(dcm_private_table[0]);
    lo = 0;
    hi = n;
    while (lo < hi) { /* first entry of this creator */
        const size_t mid = lo + (hi - lo) / 2;
        if (dcm_private_table[mid].creator < found)
            lo = mid + 1;
        else
            hi = mid;
    }
    const uint16_t group = (uint16_t)(tag >> 16), elem = (uint16_t)tag;
    for (int kind = 0; kind <= 2; kind++)
        for (size_t i = lo; i < n && dcm_private_table[i].creator == found; i++) {
            const DcmPrivEntry *e = &dcm_private_table[i];
            if (e->kind != kind)
                continue;
            if ((kind == 0 && e->group == group && e->elem == elem) ||
                (kind == 1 && e->group == group && e->elem == (elem & 0xFF)) ||
                (kind == 2 && e->group == (group & 0xFF00) && e->elem == (elem & 0xFF)))
                return DCM_VR(e->a, e->b);
        }
    return 0;
}
