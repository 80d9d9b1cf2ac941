/* htc info FILE [--json]: what a codestream, JP2 or JPH file holds, like
 * opj_dump or kdu_expand -record: image, components, tiles, tile-parts with
 * byte ranges, coding style and quantisation per tile-component, markers,
 * JP2 boxes. --json prints the same facts as one JSON object. DICOM files
 * go to htc_cli_info_dicom() when the DICOM layer provides it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Provided by the DICOM part of the CLI when it is built; weak so that
 * `htc info` links without it. */
#if defined(__GNUC__)
__attribute__((weak))
#endif
int htc_cli_info_dicom(const char *path, int json);

static const char *const prog_names[] = {"LRCP", "RLCP", "RPCL", "PCRL", "CPRL"};
static const char *const quant_names[] = {"none", "derived", "expounded"};

static const char *marker_name(uint16_t code)
{
    static const struct { uint16_t code; const char *name; } names[] = {
        {0xFF4F, "SOC"}, {0xFF51, "SIZ"}, {0xFF50, "CAP"}, {0xFF59, "CPF"}, {0xFF52, "COD"},
        {0xFF53, "COC"}, {0xFF5E, "RGN"}, {0xFF5C, "QCD"}, {0xFF5D, "QCC"}, {0xFF5F, "POC"},
        {0xFF55, "TLM"}, {0xFF57, "PLM"}, {0xFF58, "PLT"}, {0xFF60, "PPM"}, {0xFF61, "PPT"},
        {0xFF63, "CRG"}, {0xFF64, "COM"}, {0xFF90, "SOT"}, {0xFF93, "SOD"}, {0xFFD9, "EOC"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].code == code)
            return names[i].name;
    return NULL;
}

static void print_marker_name(uint16_t code)
{
    const char *n = marker_name(code);
    if (n)
        printf("%s", n);
    else
        printf("0x%04X", code);
}

static const char *format_name(int f)
{
    return f == HTC_FORMAT_JP2 ? "jp2" : f == HTC_FORMAT_JPH ? "jph" : "codestream";
}

static void fourcc(uint32_t t, char out[5])
{
    for (int i = 0; i < 4; i++) {
        const char ch = (char)(t >> (24 - 8 * i));
        out[i] = ch >= 32 && ch < 127 ? ch : '?';
    }
    out[4] = 0;
}

static void json_string(const uint8_t *d, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        const uint8_t ch = d[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 32 || ch >= 127)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static int coding_equal(const HtcCodingInfo *a, const HtcCodingInfo *b)
{
    return !memcmp(a, b, sizeof(*a));
}

static void print_coding_json(const HtcCodingInfo *c)
{
    printf("{\"levels\": %u, \"cblk_width\": %u, \"cblk_height\": %u, \"cblk_style\": %u, "
           "\"reversible\": %d, \"progression\": \"%s\", \"layers\": %u, \"mct\": %d, "
           "\"use_precincts\": %d, \"sop\": %d, \"eph\": %d, \"precincts\": [",
           c->levels, c->cblk_width, c->cblk_height, c->cblk_style, c->reversible,
           prog_names[c->progression % 5], c->layers, c->mct, c->use_precincts, c->sop, c->eph);
    for (uint32_t r = 0; r <= c->levels; r++)
        printf("%s[%u, %u]", r ? ", " : "", c->precinct_w_exp[r], c->precinct_h_exp[r]);
    printf("], \"quant_style\": \"%s\", \"guard_bits\": %u, \"num_steps\": %u, \"steps\": [",
           quant_names[c->quant_style % 3], c->guard_bits, c->num_steps);
    for (uint32_t b = 0; b < 3 * c->levels + 1; b++)
        printf("%s[%u, %u]", b ? ", " : "", c->steps[b] & 0x7ff, c->steps[b] >> 11);
    printf("], \"roi_shift\": %u}", c->roi_shift);
}

static void print_coding_text(const HtcCodingInfo *c, const char *indent)
{
    printf("%slevels %u, code-blocks %ux%u, style 0x%02X%s, %s, %s, %u layer%s%s%s%s\n", indent,
           c->levels, c->cblk_width, c->cblk_height, c->cblk_style,
           (c->cblk_style & 0x40) ? (c->cblk_style & 0x80 ? " (HT mixed)" : " (HT)") : "",
           c->reversible ? "5/3 reversible" : "9/7 irreversible", prog_names[c->progression % 5],
           c->layers, c->layers == 1 ? "" : "s", c->mct ? ", MCT" : "", c->sop ? ", SOP" : "",
           c->eph ? ", EPH" : "");
    if (c->use_precincts) {
        printf("%sprecincts (log2 w,h per resolution):", indent);
        for (uint32_t r = 0; r <= c->levels; r++)
            printf(" %u,%u", c->precinct_w_exp[r], c->precinct_h_exp[r]);
        printf("\n");
    }
    printf("%squantisation %s, %u guard bits, %u step size%s given; (mantissa,exponent) per band:",
           indent, quant_names[c->quant_style % 3], c->guard_bits, c->num_steps,
           c->num_steps == 1 ? "" : "s");
    for (uint32_t b = 0; b < 3 * c->levels + 1; b++)
        printf(" (%u,%u)", c->steps[b] & 0x7ff, c->steps[b] >> 11);
    printf("\n");
    if (c->roi_shift)
        printf("%sROI max-shift %u\n", indent, c->roi_shift);
}

static void print_json(const HtcStream *s, const char *path)
{
    HtcImageInfo in;
    htc_stream_get_info(s, &in);
    const uint32_t nt = in.num_tiles_x * in.num_tiles_y;
    printf("{\"file\": ");
    json_string((const uint8_t *)path, strlen(path));
    printf(", \"format\": \"%s\",\n \"image\": {\"x0\": %u, \"y0\": %u, \"x1\": %u, \"y1\": %u, "
           "\"width\": %u, \"height\": %u, \"num_components\": %u, \"tile_x0\": %u, \"tile_y0\": %u, "
           "\"tile_width\": %u, \"tile_height\": %u, \"num_tiles_x\": %u, \"num_tiles_y\": %u, "
           "\"num_tiles\": %u, \"rsiz\": %u, \"is_ht\": %d, \"has_tlm\": %d, \"has_plt\": %d, "
           "\"has_plm\": %d, \"has_ppm\": %d, \"has_ppt\": %d, \"has_poc\": %d, \"cap_pcap\": %u, "
           "\"cap_ccap15\": %u, \"num_comments\": %u},\n",
           format_name(in.format), in.x0, in.y0, in.x1, in.y1, in.width, in.height, in.num_components,
           in.tile_x0, in.tile_y0, in.tile_width, in.tile_height, in.num_tiles_x, in.num_tiles_y, nt,
           in.rsiz, in.is_ht, in.has_tlm, in.has_plt, in.has_plm, in.has_ppm, in.has_ppt, in.has_poc,
           in.cap_pcap, in.cap_ccap15, in.num_comments);
    printf(" \"markers\": \"%s\",\n \"components\": [", htc_stream_markers(s));
    for (uint32_t c = 0; c < in.num_components; c++) {
        HtcComponentInfo ci;
        htc_stream_get_component(s, c, &ci);
        printf("%s\n  {\"precision\": %u, \"signed\": %d, \"dx\": %u, \"dy\": %u, \"width\": %u, "
               "\"height\": %u}",
               c ? "," : "", ci.precision, ci.is_signed, ci.dx, ci.dy, ci.width, ci.height);
    }
    printf("],\n \"coding\": [");
    for (uint32_t c = 0; c < in.num_components; c++) {
        HtcCodingInfo ci;
        htc_stream_get_coding(s, HTC_TILE_MAIN, c, &ci);
        printf("%s\n  ", c ? "," : "");
        print_coding_json(&ci);
    }
    printf("],\n \"tiles\": [");
    for (uint32_t t = 0; t < nt; t++) {
        HtcTileInfo ti;
        htc_stream_get_tile(s, t, &ti);
        printf("%s\n  {\"index\": %u, \"x0\": %u, \"y0\": %u, \"x1\": %u, \"y1\": %u, "
               "\"num_tile_parts\": %u, \"declared_tile_parts\": %u, \"first_offset\": %llu, "
               "\"num_bytes\": %llu",
               t ? "," : "", t, ti.x0, ti.y0, ti.x1, ti.y1, ti.num_tile_parts, ti.declared_tile_parts,
               (unsigned long long)ti.first_offset, (unsigned long long)ti.num_bytes);
        /* The tile's coding where its headers change the main header's. */
        int first = 1;
        for (uint32_t c = 0; c < in.num_components; c++) {
            HtcCodingInfo main_ci, ci;
            htc_stream_get_coding(s, HTC_TILE_MAIN, c, &main_ci);
            htc_stream_get_coding(s, t, c, &ci);
            if (coding_equal(&main_ci, &ci))
                continue;
            printf("%s{\"component\": %u, \"coding\": ", first ? ", \"coding\": [" : ", ", c);
            print_coding_json(&ci);
            printf("}");
            first = 0;
        }
        printf("%s}", first ? "" : "]");
    }
    printf("],\n \"tile_parts\": [");
    for (uint32_t i = 0; i < htc_stream_num_tile_parts(s); i++) {
        HtcTilePartInfo tp;
        htc_stream_get_tile_part(s, i, &tp);
        printf("%s\n  {\"tile\": %u, \"part\": %u, \"sot_offset\": %llu, \"data_offset\": %llu, "
               "\"data_length\": %llu}",
               i ? "," : "", tp.tile_index, tp.part_index, (unsigned long long)tp.sot_offset,
               (unsigned long long)tp.data_offset, (unsigned long long)tp.data_length);
    }
    printf("],\n \"marker_list\": [");
    for (uint32_t i = 0; i < htc_stream_num_markers(s); i++) {
        uint16_t code;
        uint64_t off;
        uint32_t len;
        htc_stream_get_marker(s, i, &code, &off, &len);
        printf("%s{\"marker\": \"", i ? ", " : "");
        print_marker_name(code);
        printf("\", \"offset\": %llu, \"length\": %u}", (unsigned long long)off, len);
    }
    printf("],\n \"comments\": [");
    for (uint32_t i = 0; i < in.num_comments; i++) {
        int rcom;
        const uint8_t *d;
        size_t n;
        htc_stream_get_comment(s, i, &rcom, &d, &n);
        printf("%s{\"rcom\": %d, \"text\": ", i ? ", " : "", rcom);
        json_string(d, n);
        printf("}");
    }
    printf("]");
    HtcJp2Info j;
    if (in.format != HTC_FORMAT_CODESTREAM && htc_stream_get_jp2(s, &j) == 0) {
        char cc[5];
        fourcc(j.brand, cc);
        printf(",\n \"jp2\": {\"brand\": \"%s\", \"minor_version\": %u, \"compatibility\": [", cc,
               j.minor_version);
        for (uint32_t i = 0; i < j.num_compat && i < 16; i++) {
            fourcc(j.compat[i], cc);
            printf("%s\"%s\"", i ? ", " : "", cc);
        }
        printf("], \"width\": %u, \"height\": %u, \"num_components\": %u, \"bpc\": %u, "
               "\"unknown_colourspace\": %u, \"ipr\": %u, \"colr_method\": %u, \"enum_cs\": %u, "
               "\"icc_size\": %llu, \"has_bpcc\": %d, \"palette_entries\": %u, \"palette_columns\": %u, "
               "\"cmap_channels\": %u, \"cdef_channels\": %u, \"jp2c_offset\": %llu, \"boxes\": [",
               j.width, j.height, j.num_components, j.bpc, j.unknown_cs, j.ipr, j.colr_method,
               j.enum_cs, (unsigned long long)j.icc_size, j.has_bpcc, j.pclr_entries, j.pclr_columns,
               j.cmap_channels, j.cdef_channels, (unsigned long long)j.jp2c_offset);
        for (uint32_t i = 0; i < j.num_boxes; i++) {
            uint32_t type, depth;
            uint64_t off, len;
            htc_stream_get_box(s, i, &type, &depth, &off, &len);
            fourcc(type, cc);
            printf("%s{\"type\": \"%s\", \"depth\": %u, \"offset\": %llu, \"length\": %llu}",
                   i ? ", " : "", cc, depth, (unsigned long long)off, (unsigned long long)len);
        }
        printf("]}");
    }
    printf("}\n");
}

static void print_text(const HtcStream *s, const char *path)
{
    HtcImageInfo in;
    htc_stream_get_info(s, &in);
    const uint32_t nt = in.num_tiles_x * in.num_tiles_y;
    printf("%s: %s%s\n", path, format_name(in.format), in.is_ht ? ", HTJ2K (Part 15)" : ", Part 1");
    printf("image: %ux%u, area (%u,%u)-(%u,%u), %u component%s, Rsiz 0x%04X\n", in.width, in.height,
           in.x0, in.y0, in.x1, in.y1, in.num_components, in.num_components == 1 ? "" : "s", in.rsiz);
    if (in.cap_pcap)
        printf("CAP: Pcap 0x%08X, Ccap15 0x%04X\n", in.cap_pcap, in.cap_ccap15);
    for (uint32_t c = 0; c < in.num_components; c++) {
        HtcComponentInfo ci;
        htc_stream_get_component(s, c, &ci);
        printf("component %u: %u bits %s, sub-sampling %ux%u, %ux%u samples\n", c, ci.precision,
               ci.is_signed ? "signed" : "unsigned", ci.dx, ci.dy, ci.width, ci.height);
    }
    printf("tiles: %u (%ux%u of %ux%u, origin %u,%u)\n", nt, in.num_tiles_x, in.num_tiles_y,
           in.tile_width, in.tile_height, in.tile_x0, in.tile_y0);
    printf("markers: %s\n", htc_stream_markers(s));
    printf("main header:");
    for (uint32_t i = 0; i < htc_stream_num_markers(s); i++) {
        uint16_t code;
        uint64_t off;
        uint32_t len;
        htc_stream_get_marker(s, i, &code, &off, &len);
        if (code == 0xFF90)
            break;
        printf(" ");
        print_marker_name(code);
        printf("@%llu+%u", (unsigned long long)off, len);
    }
    printf("\n");
    for (uint32_t c = 0; c < in.num_components; c++) {
        HtcCodingInfo ci;
        htc_stream_get_coding(s, HTC_TILE_MAIN, c, &ci);
        if (c > 0) {
            HtcCodingInfo prev;
            htc_stream_get_coding(s, HTC_TILE_MAIN, c - 1, &prev);
            if (coding_equal(&prev, &ci))
                continue;
        }
        printf("coding, component %u%s (main header):\n", c, in.num_components > 1 && c == 0 ? " and those like it" : "");
        print_coding_text(&ci, "  ");
    }
    for (uint32_t t = 0; t < nt; t++) {
        HtcTileInfo ti;
        htc_stream_get_tile(s, t, &ti);
        printf("tile %u: (%u,%u)-(%u,%u), %u tile-part%s", t, ti.x0, ti.y0, ti.x1, ti.y1, ti.num_tile_parts,
               ti.num_tile_parts == 1 ? "" : "s");
        if (ti.declared_tile_parts)
            printf(" (TNsot %u)", ti.declared_tile_parts);
        printf(", %llu bytes from offset %llu\n", (unsigned long long)ti.num_bytes,
               (unsigned long long)ti.first_offset);
        for (uint32_t c = 0; c < in.num_components; c++) {
            HtcCodingInfo main_ci, ci;
            htc_stream_get_coding(s, HTC_TILE_MAIN, c, &main_ci);
            htc_stream_get_coding(s, t, c, &ci);
            if (!coding_equal(&main_ci, &ci)) {
                printf("  component %u (tile header):\n", c);
                print_coding_text(&ci, "    ");
            }
        }
    }
    for (uint32_t i = 0; i < htc_stream_num_tile_parts(s); i++) {
        HtcTilePartInfo tp;
        htc_stream_get_tile_part(s, i, &tp);
        printf("tile-part %u: tile %u part %u, SOT at %llu, data %llu..%llu (%llu bytes)\n", i, tp.tile_index,
               tp.part_index, (unsigned long long)tp.sot_offset, (unsigned long long)tp.data_offset,
               (unsigned long long)(tp.data_offset + tp.data_length), (unsigned long long)tp.data_length);
    }
    for (uint32_t i = 0; i < in.num_comments; i++) {
        int rcom;
        const uint8_t *d;
        size_t n;
        htc_stream_get_comment(s, i, &rcom, &d, &n);
        printf("comment %u (%s): ", i, rcom == 1 ? "Latin-1" : "binary");
        for (size_t k = 0; k < n && k < 200; k++)
            putchar(d[k] >= 32 && d[k] < 127 ? d[k] : '.');
        printf("\n");
    }
    HtcJp2Info j;
    if (in.format != HTC_FORMAT_CODESTREAM && htc_stream_get_jp2(s, &j) == 0) {
        char cc[5];
        fourcc(j.brand, cc);
        printf("ftyp: brand '%s' minor %u, compatible:", cc, j.minor_version);
        for (uint32_t i = 0; i < j.num_compat && i < 16; i++) {
            fourcc(j.compat[i], cc);
            printf(" '%s'", cc);
        }
        printf("\nihdr: %ux%u, %u components, BPC %u, UnkC %u, IPR %u\n", j.width, j.height,
               j.num_components, j.bpc, j.unknown_cs, j.ipr);
        if (j.colr_method == 1)
            printf("colr: enumerated colourspace %u\n", j.enum_cs);
        else if (j.colr_method)
            printf("colr: method %u, ICC profile of %llu bytes\n", j.colr_method,
                   (unsigned long long)j.icc_size);
        if (j.pclr_entries)
            printf("pclr: %u entries, %u columns; cmap: %u channels\n", j.pclr_entries, j.pclr_columns,
                   j.cmap_channels);
        if (j.cdef_channels)
            printf("cdef: %u channels\n", j.cdef_channels);
        for (uint32_t i = 0; i < j.num_boxes; i++) {
            uint32_t type, depth;
            uint64_t off, len;
            htc_stream_get_box(s, i, &type, &depth, &off, &len);
            fourcc(type, cc);
            printf("box %*s'%s' at %llu, %llu bytes\n", (int)(2 * depth), "", cc, (unsigned long long)off,
                   (unsigned long long)len);
        }
    }
}

/* The library's warnings (recoverable oddities) go to stderr. */
static void print_warning(void *opaque, int level, const char *message)
{
    if (level == HTC_LOG_WARNING)
        fprintf(stderr, "htc info: %s: warning: %s\n", (const char *)opaque, message);
}

static int is_dicom(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    unsigned char b[132];
    const size_t n = fread(b, 1, sizeof(b), f);
    fclose(f);
    return n == sizeof(b) && !memcmp(b + 128, "DICM", 4);
}

int htc_cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!path)
            path = argv[i];
        else {
            fprintf(stderr, "htc info: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: htc info FILE [--json]\n");
        return 2;
    }
    if (is_dicom(path)) {
        if (htc_cli_info_dicom)
            return htc_cli_info_dicom(path, json);
        fprintf(stderr, "htc info: %s: DICOM: not supported yet\n", path);
        return 3;
    }
    HtcStreamSettings st;
    htc_stream_default_settings(&st);
    st.log = print_warning;
    st.log_opaque = (void *)path;
    HtcStream *s = NULL;
    const int rc = htc_stream_open_file(&s, path, &st);
    if (rc < 0) {
        fprintf(stderr, "htc info: %s: %s: %s\n", path, htc_strerror(rc), htc_last_error());
        if (json) {
            printf("{\"file\": ");
            json_string((const uint8_t *)path, strlen(path));
            printf(", \"error\": %d, \"message\": ", rc);
            json_string((const uint8_t *)htc_last_error(), strlen(htc_last_error()));
            printf("}\n");
        }
        return 1;
    }
    if (json)
        print_json(s, path);
    else
        print_text(s, path);
    htc_stream_close(&s);
    return 0;
}
