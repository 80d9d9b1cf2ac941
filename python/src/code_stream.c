/* htcodec Python extension: CodeStream, a parsed JPEG 2000 / HTJ2K codestream,
 * JP2 or JPH file (from a path or any bytes-like object, which it keeps alive),
 * and its sub code streams (a region or a tile of it, sharing the parse). */
#include <string.h>

#include "module.h"

static int fill_info(HtcPyState *st, HtcPyCodeStream *cs)
{
    int rc = htc_stream_get_info(cs->stream, &cs->info);
    if (rc >= 0)
        rc = htc_stream_get_component(cs->stream, 0, &cs->comp0);
    if (rc < 0) {
        htcpy_error(st, rc, htc_last_error());
        return -1;
    }
    return 0;
}

static int missing(HtcPyState *st, const char *fn)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "this libhtc build has no %s yet", fn);
    htcpy_error(st, HTC_EUNSUPPORTED, msg);
    return -1;
}

/* Opens self from src; 0 or -1 with an exception set. */
static int open_from(HtcPyState *st, HtcPyCodeStream *cs, PyObject *src)
{
    if (!HTCPY_HAVE(htc_stream_open_memory) || !HTCPY_HAVE(htc_stream_open_file) ||
        !HTCPY_HAVE(htc_stream_get_info) || !HTCPY_HAVE(htc_stream_get_component))
        return missing(st, "htc_stream_* parser");
    int rc;
    if (PyUnicode_Check(src) || (!PyBytes_Check(src) && PyObject_HasAttrString(src, "__fspath__"))) {
        PyObject *path = NULL;
        if (!PyUnicode_FSConverter(src, &path))
            return -1;
        const char *p = PyBytes_AS_STRING(path);
        Py_BEGIN_ALLOW_THREADS
        rc = htc_stream_open_file(&cs->stream, p, NULL);
        Py_END_ALLOW_THREADS
        if (rc < 0) {
            char msg[600];
            const char *le = htc_last_error();
            if (le && strstr(le, p))
                snprintf(msg, sizeof(msg), "%s", le);
            else
                snprintf(msg, sizeof(msg), "%s: %s", p, le && le[0] ? le : htc_strerror(rc));
            Py_DECREF(path);
            htcpy_error(st, rc, msg);
            return -1;
        }
        Py_DECREF(path);
    } else {
        if (PyObject_GetBuffer(src, &cs->view, PyBUF_SIMPLE) < 0) {
            PyErr_Format(PyExc_TypeError,
                         "CodeStream: expected a path (str or os.PathLike) or a bytes-like object, got %.80s",
                         Py_TYPE(src)->tp_name);
            return -1;
        }
        cs->has_view = 1;
        Py_BEGIN_ALLOW_THREADS
        rc = htc_stream_open_memory(&cs->stream, cs->view.buf, (size_t)cs->view.len, NULL);
        Py_END_ALLOW_THREADS
        if (rc < 0) {
            htcpy_error(st, rc, htc_last_error());
            return -1;
        }
    }
    return fill_info(st, cs);
}

static void cs_release(HtcPyCodeStream *cs)
{
    if (cs->stream && !cs->parent && HTCPY_HAVE(htc_stream_close))
        htc_stream_close(&cs->stream);
    cs->stream = NULL;
    if (cs->has_view) {
        PyBuffer_Release(&cs->view);
        cs->has_view = 0;
    }
    Py_CLEAR(cs->parent);
    Py_CLEAR(cs->region);
}

static int cs_init(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"src", NULL};
    PyObject *src;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:CodeStream", kws, &src))
        return -1;
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    cs_release(cs);
    cs->tile = -1;
    return open_from(htcpy_state(), cs, src);
}

PyObject *htcpy_code_stream_new(HtcPyState *st, PyObject *src)
{
    HtcPyCodeStream *cs = (HtcPyCodeStream *)st->CodeStream->tp_alloc(st->CodeStream, 0);
    if (!cs)
        return NULL;
    cs->tile = -1;
    if (open_from(st, cs, src) < 0) {
        Py_DECREF(cs);
        return NULL;
    }
    return (PyObject *)cs;
}

static int cs_traverse(PyObject *self, visitproc visit, void *arg)
{
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(cs->parent);
    Py_VISIT(cs->region);
    return 0;
}

static void cs_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (cs->weakrefs)
        PyObject_ClearWeakRefs(self);
    cs_release(cs);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int check_open(const HtcPyCodeStream *cs)
{
    if (!cs->stream) {
        PyErr_SetString(PyExc_ValueError, "CodeStream is not open (its __init__ failed or was not called)");
        return -1;
    }
    return 0;
}

/* The area a decode of this (sub) code stream covers, in image coordinates. */
static void area(const HtcPyCodeStream *cs, uint32_t *x0, uint32_t *y0, uint32_t *x1, uint32_t *y1)
{
    *x0 = 0, *y0 = 0, *x1 = cs->info.width, *y1 = cs->info.height;
    if (cs->tile >= 0 && HTCPY_HAVE(htc_stream_get_tile)) {
        HtcTileInfo t;
        if (htc_stream_get_tile(cs->stream, (uint32_t)cs->tile, &t) >= 0) {
            *x0 = t.x0 - cs->info.x0, *y0 = t.y0 - cs->info.y0;
            *x1 = t.x1 - cs->info.x0, *y1 = t.y1 - cs->info.y0;
        }
    }
    long long s[2], e[2];
    if (htcpy_region_get(cs->region, s, e)) {
        *y0 = (uint32_t)HTC_PY_MAX(s[0], *y0);
        *x0 = (uint32_t)HTC_PY_MAX(s[1], *x0);
        *y1 = (uint32_t)HTC_PY_MIN(e[0], *y1);
        *x1 = (uint32_t)HTC_PY_MIN(e[1], *x1);
        if (*y1 < *y0)
            *y1 = *y0;
        if (*x1 < *x0)
            *x1 = *x0;
    }
}

#define GETTER(name, expr)                                 \
    static PyObject *get_##name(PyObject *self, void *c)   \
    {                                                      \
        (void)c;                                           \
        HtcPyCodeStream *cs = (HtcPyCodeStream *)self;     \
        if (check_open(cs) < 0)                            \
            return NULL;                                   \
        uint32_t x0, y0, x1, y1;                           \
        area(cs, &x0, &y0, &x1, &y1);                      \
        (void)x0, (void)y0, (void)x1, (void)y1;            \
        return PyLong_FromUnsignedLongLong(expr);          \
    }

GETTER(width, x1 - x0)
GETTER(height, y1 - y0)
GETTER(num_channels, cs->info.num_components)
GETTER(precision, cs->comp0.precision)
GETTER(num_tiles_x, cs->info.num_tiles_x)
GETTER(num_tiles_y, cs->info.num_tiles_y)
GETTER(tile_width, cs->info.tile_width)
GETTER(tile_height, cs->info.tile_height)
GETTER(tile_offset_x, cs->info.tile_x0)
GETTER(tile_offset_y, cs->info.tile_y0)
GETTER(image_offset_x, cs->info.x0)
GETTER(image_offset_y, cs->info.y0)

static int native_type(const HtcPyCodeStream *cs)
{
    const unsigned p = cs->comp0.precision;
    const int s = cs->comp0.is_signed;
    if (p <= 8)
        return s ? HTC_SAMPLE_I8 : HTC_SAMPLE_U8;
    if (p <= 16)
        return s ? HTC_SAMPLE_I16 : HTC_SAMPLE_U16;
    return s ? HTC_SAMPLE_I32 : HTC_SAMPLE_U32;
}

static PyObject *get_dtype(PyObject *self, void *c)
{
    (void)c;
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (check_open(cs) < 0)
        return NULL;
    const char *name = htcpy_dtype_name(native_type(cs));
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np) {
        PyErr_Clear();
        return PyUnicode_FromString(name);
    }
    PyObject *dt = PyObject_CallMethod(np, "dtype", "s", name);
    Py_DECREF(np);
    return dt;
}

static PyObject *get_is_signed(PyObject *self, void *c)
{
    (void)c;
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (check_open(cs) < 0)
        return NULL;
    return PyBool_FromLong(cs->comp0.is_signed);
}

static PyObject *get_codec_name(PyObject *self, void *c)
{
    (void)self;
    (void)c;
    return PyUnicode_FromString("jpeg2k");
}

static PyObject *get_format(PyObject *self, void *c)
{
    (void)c;
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (check_open(cs) < 0)
        return NULL;
    static const char *const names[] = {"j2k", "jp2", "jph"};
    int f = cs->info.format;
    return PyUnicode_FromString(f >= 0 && f <= 2 ? names[f] : "?");
}

static PyObject *get_is_htj2k(PyObject *self, void *c)
{
    (void)c;
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (check_open(cs) < 0)
        return NULL;
    return PyBool_FromLong(cs->info.is_ht);
}

static PyObject *get_region(PyObject *self, void *c)
{
    (void)c;
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (!cs->region)
        Py_RETURN_NONE;
    return Py_NewRef(cs->region);
}

static PyObject *get_tile(PyObject *self, void *c)
{
    (void)c;
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (cs->tile < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(cs->tile);
}

static PyObject *get_components(PyObject *self, void *c)
{
    (void)c;
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (check_open(cs) < 0)
        return NULL;
    PyObject *list = PyList_New(0);
    for (uint32_t i = 0; list && i < cs->info.num_components; i++) {
        HtcComponentInfo ci;
        int rc = htc_stream_get_component(cs->stream, i, &ci);
        if (rc < 0) {
            Py_DECREF(list);
            return htcpy_error(htcpy_state(), rc, htc_last_error());
        }
        PyObject *d = Py_BuildValue("{s:I,s:O,s:I,s:I,s:I,s:I}", "precision", ci.precision, "is_signed",
                                    ci.is_signed ? Py_True : Py_False, "dx", ci.dx, "dy", ci.dy, "width",
                                    ci.width, "height", ci.height);
        if (!d || PyList_Append(list, d) < 0) {
            Py_XDECREF(d);
            Py_CLEAR(list);
        } else
            Py_DECREF(d);
    }
    return list;
}

static PyObject *cs_sub(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"image_idx", "region", "tile", NULL};
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    HtcPyState *st = htcpy_state();
    long image_idx = 0;
    PyObject *region = Py_None, *tile = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|lOO:get_sub_code_stream", kws, &image_idx, &region, &tile))
        return NULL;
    if (check_open(cs) < 0)
        return NULL;
    if (image_idx != 0) {
        PyErr_Format(PyExc_IndexError, "get_sub_code_stream: image_idx %ld, but a JPEG 2000 file holds one image",
                     image_idx);
        return NULL;
    }
    if (region != Py_None && !PyObject_TypeCheck(region, st->Region)) {
        PyErr_SetString(PyExc_TypeError, "get_sub_code_stream: region must be a Region or None");
        return NULL;
    }
    long t = cs->tile;
    if (tile != Py_None) {
        t = PyLong_AsLong(tile);
        if (t == -1 && PyErr_Occurred())
            return NULL;
        const uint64_t n = (uint64_t)cs->info.num_tiles_x * cs->info.num_tiles_y;
        if (t < 0 || (uint64_t)t >= n)
            return htcpy_error(st, HTC_ERANGE, "get_sub_code_stream: tile index out of range");
    }
    HtcPyCodeStream *sub = (HtcPyCodeStream *)st->CodeStream->tp_alloc(st->CodeStream, 0);
    if (!sub)
        return NULL;
    HtcPyCodeStream *root = cs->parent ? (HtcPyCodeStream *)cs->parent : cs;
    sub->parent = Py_NewRef((PyObject *)root);
    sub->stream = root->stream;
    sub->info = root->info;
    sub->comp0 = root->comp0;
    sub->tile = (int)t;
    if (region != Py_None)
        sub->region = Py_NewRef(region);
    else if (cs->region)
        sub->region = Py_NewRef(cs->region);
    return (PyObject *)sub;
}

static PyObject *cs_repr(PyObject *self)
{
    HtcPyCodeStream *cs = (HtcPyCodeStream *)self;
    if (!cs->stream)
        return PyUnicode_FromString("CodeStream(<closed>)");
    uint32_t x0, y0, x1, y1;
    area(cs, &x0, &y0, &x1, &y1);
    return PyUnicode_FromFormat("CodeStream(codec_name=jpeg2k, height=%u, width=%u, num_channels=%u, "
                                "precision=%u, tiles=%ux%u%s)",
                                y1 - y0, x1 - x0, cs->info.num_components, cs->comp0.precision,
                                cs->info.num_tiles_x, cs->info.num_tiles_y, cs->info.is_ht ? ", htj2k" : "");
}

static PyMethodDef cs_methods[] = {
    {"get_sub_code_stream", (PyCFunction)(void (*)(void))cs_sub, METH_VARARGS | METH_KEYWORDS,
     "get_sub_code_stream(image_idx=0, region=None, tile=None) -> CodeStream sharing this parse, "
     "limited to a Region and/or one tile."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef cs_getset[] = {
    {"width", get_width, NULL, "Width of the image (or of the region / tile of a sub code stream).", NULL},
    {"height", get_height, NULL, "Height of the image (or of the region / tile).", NULL},
    {"num_channels", get_num_channels, NULL, "Number of components.", NULL},
    {"dtype", get_dtype, NULL, "numpy dtype of component 0 at its own depth and sign.", NULL},
    {"precision", get_precision, NULL, "Bits of component 0.", NULL},
    {"is_signed", get_is_signed, NULL, "Whether component 0 is signed.", NULL},
    {"num_tiles_x", get_num_tiles_x, NULL, "Tiles across.", NULL},
    {"num_tiles_y", get_num_tiles_y, NULL, "Tiles down.", NULL},
    {"tile_width", get_tile_width, NULL, "Tile width (XTsiz).", NULL},
    {"tile_height", get_tile_height, NULL, "Tile height (YTsiz).", NULL},
    {"tile_offset_x", get_tile_offset_x, NULL, "Tile grid origin x (XTOsiz).", NULL},
    {"tile_offset_y", get_tile_offset_y, NULL, "Tile grid origin y (YTOsiz).", NULL},
    {"image_offset_x", get_image_offset_x, NULL, "Image origin x on the reference grid (XOsiz).", NULL},
    {"image_offset_y", get_image_offset_y, NULL, "Image origin y on the reference grid (YOsiz).", NULL},
    {"codec_name", get_codec_name, NULL, "'jpeg2k' (JPEG 2000 and HTJ2K, as nvImageCodec names them).", NULL},
    {"format", get_format, NULL, "'j2k' (bare codestream), 'jp2' or 'jph'.", NULL},
    {"is_htj2k", get_is_htj2k, NULL, "Whether the codestream uses HT code-blocks (Part 15).", NULL},
    {"components", get_components, NULL, "Per component: precision, is_signed, dx, dy, width, height.", NULL},
    {"region", get_region, NULL, "The Region of a sub code stream, or None.", NULL},
    {"tile", get_tile, NULL, "The tile of a sub code stream, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot cs_slots[] = {
    {Py_tp_init, cs_init},
    {Py_tp_dealloc, cs_dealloc},
    {Py_tp_traverse, cs_traverse},
    {Py_tp_repr, cs_repr},
    {Py_tp_methods, cs_methods},
    {Py_tp_getset, cs_getset},
    {Py_tp_doc, "CodeStream(path | bytes | buffer): a parsed JPEG 2000 / HTJ2K codestream, JP2 or JPH file.\n"
                "Raises htcodec.Error (with the parser's message) when the data is not valid."},
    {0, NULL},
};

PyType_Spec htcpy_code_stream_spec = {
    .name = "htcodec.CodeStream",
    .basicsize = sizeof(HtcPyCodeStream),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = cs_slots,
};
