/* htcodec Python extension: DecodeParams, nvImageCodec's names and defaults
 * (apply_exif_orientation=True, color_spec=ColorSpec.RGB, allow_any_depth=False)
 * plus what JPEG 2000 adds: reduce, layers and tile. */

#include "module.h"

void htcpy_params_defaults(HtcPyDecodeParams *p)
{
    p->apply_exif_orientation = 1;
    p->allow_any_depth = 0;
    p->color_spec = HTCPY_CS_RGB;
    p->reduce = 0;
    p->layers = 0;
    p->tile = -1;
}

static int set_color_spec(HtcPyDecodeParams *p, PyObject *v)
{
    long cs = PyLong_AsLong(v);
    if (cs == -1 && PyErr_Occurred())
        return -1;
    if (cs < HTCPY_CS_UNCHANGED || cs > HTCPY_CS_YCC) {
        PyErr_Format(PyExc_ValueError, "DecodeParams: color_spec %ld is not a ColorSpec", cs);
        return -1;
    }
    p->color_spec = (int)cs;
    return 0;
}

static int set_tile(HtcPyDecodeParams *p, PyObject *v)
{
    if (v == Py_None) {
        p->tile = -1;
        return 0;
    }
    long t = PyLong_AsLong(v);
    if (t == -1 && PyErr_Occurred())
        return -1;
    if (t < -1 || t > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "DecodeParams: tile %ld out of range (None or -1: all tiles)", t);
        return -1;
    }
    p->tile = (int)t;
    return 0;
}

static int set_unsigned(unsigned *out, PyObject *v, const char *what, unsigned long max)
{
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred())
        return -1;
    if (x < 0 || (unsigned long)x > max) {
        PyErr_Format(PyExc_ValueError, "DecodeParams: %s must be in 0..%lu, got %ld", what, max, x);
        return -1;
    }
    *out = (unsigned)x;
    return 0;
}

static int params_init(PyObject *self, PyObject *args, PyObject *kw)
{
    HtcPyDecodeParams *p = (HtcPyDecodeParams *)self;
    static char *kws[] = {"apply_exif_orientation", "color_spec", "allow_any_depth", "reduce", "layers",
                          "tile", NULL};
    int exif = 1, any = 0;
    PyObject *cs = NULL, *reduce = NULL, *layers = NULL, *tile = NULL;
    htcpy_params_defaults(p);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|pOpOOO:DecodeParams", kws, &exif, &cs, &any, &reduce,
                                     &layers, &tile))
        return -1;
    p->apply_exif_orientation = exif;
    p->allow_any_depth = any;
    if (cs && set_color_spec(p, cs) < 0)
        return -1;
    if (reduce && set_unsigned(&p->reduce, reduce, "reduce", 32) < 0)
        return -1;
    if (layers && set_unsigned(&p->layers, layers, "layers", 65535) < 0)
        return -1;
    if (tile && set_tile(p, tile) < 0)
        return -1;
    return 0;
}

static PyObject *get_color_spec(PyObject *self, void *c)
{
    (void)c;
    HtcPyState *st = htcpy_state();
    return PyObject_CallFunction(st->ColorSpec, "i", ((HtcPyDecodeParams *)self)->color_spec);
}
static int put_color_spec(PyObject *self, PyObject *v, void *c)
{
    (void)c;
    if (!v) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete color_spec");
        return -1;
    }
    return set_color_spec((HtcPyDecodeParams *)self, v);
}
static PyObject *get_tile(PyObject *self, void *c)
{
    (void)c;
    int t = ((HtcPyDecodeParams *)self)->tile;
    if (t < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(t);
}
static int put_tile(PyObject *self, PyObject *v, void *c)
{
    (void)c;
    if (!v) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete tile");
        return -1;
    }
    return set_tile((HtcPyDecodeParams *)self, v);
}
static PyObject *get_reduce(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLong(((HtcPyDecodeParams *)self)->reduce);
}
static int put_reduce(PyObject *self, PyObject *v, void *c)
{
    (void)c;
    if (!v) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete reduce");
        return -1;
    }
    return set_unsigned(&((HtcPyDecodeParams *)self)->reduce, v, "reduce", 32);
}
static PyObject *get_layers(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLong(((HtcPyDecodeParams *)self)->layers);
}
static int put_layers(PyObject *self, PyObject *v, void *c)
{
    (void)c;
    if (!v) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete layers");
        return -1;
    }
    return set_unsigned(&((HtcPyDecodeParams *)self)->layers, v, "layers", 65535);
}

static PyObject *get_bool(PyObject *self, void *c)
{
    const int *f = (const int *)((char *)self + (size_t)c);
    return PyBool_FromLong(*f);
}
static int put_bool(PyObject *self, PyObject *v, void *c)
{
    if (!v) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete this attribute");
        return -1;
    }
    int b = PyObject_IsTrue(v);
    if (b < 0)
        return -1;
    *(int *)((char *)self + (size_t)c) = b;
    return 0;
}

static PyObject *params_repr(PyObject *self)
{
    const HtcPyDecodeParams *p = (const HtcPyDecodeParams *)self;
    static const char *const cs[] = {"UNCHANGED", "RGB", "GRAY", "YCC"};
    return PyUnicode_FromFormat("DecodeParams(apply_exif_orientation=%s, color_spec=ColorSpec.%s, "
                                "allow_any_depth=%s, reduce=%u, layers=%u, tile=%d)",
                                p->apply_exif_orientation ? "True" : "False", cs[p->color_spec],
                                p->allow_any_depth ? "True" : "False", p->reduce, p->layers, p->tile);
}

static PyGetSetDef params_getset[] = {
    {"apply_exif_orientation", get_bool, put_bool,
     "Accepted for nvImageCodec compatibility; JPEG 2000 carries no EXIF orientation (default True).",
     (void *)offsetof(HtcPyDecodeParams, apply_exif_orientation)},
    {"allow_any_depth", get_bool, put_bool,
     "False (default): samples scaled to uint8 as nvImageCodec does (round((v + signed offset 2^(p-1)) "
     "* 255 / (2^p - 1))); True: samples at their own depth "
     "and sign (uint8/int8 up to 8 bits, uint16/int16 up to 16, else uint32/int32).",
     (void *)offsetof(HtcPyDecodeParams, allow_any_depth)},
    {"color_spec", get_color_spec, put_color_spec,
     "ColorSpec.RGB (default: 3 channels, grey replicated), GRAY (1 channel, BT.601 luma of RGB) or "
     "UNCHANGED (every component a channel).",
     NULL},
    {"reduce", get_reduce, put_reduce, "Resolution levels to discard (default 0).", NULL},
    {"layers", get_layers, put_layers, "Quality layers to decode; 0 (default) = all.", NULL},
    {"tile", get_tile, put_tile, "Tile index to decode alone, or None (default) for the whole image.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject *params_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    PyObject *self = tp->tp_alloc(tp, 0);
    if (self)
        htcpy_params_defaults((HtcPyDecodeParams *)self);
    return self;
}

static PyType_Slot params_slots[] = {
    {Py_tp_new, params_new},
    {Py_tp_init, params_init},
    {Py_tp_repr, params_repr},
    {Py_tp_getset, params_getset},
    {Py_tp_doc, "DecodeParams(apply_exif_orientation=True, color_spec=ColorSpec.RGB, allow_any_depth=False,\n"
                "             reduce=0, layers=0, tile=None)"},
    {0, NULL},
};

PyType_Spec htcpy_params_spec = {
    .name = "htcodec.DecodeParams",
    .basicsize = sizeof(HtcPyDecodeParams),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = params_slots,
};
