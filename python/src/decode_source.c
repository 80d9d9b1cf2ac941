/* htcodec Python extension: DecodeSource(code_stream, region=None), what one
 * item of a decode call reads: a CodeStream and an optional Region. */
#include "module.h"

static int src_init(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"code_stream", "region", NULL};
    HtcPyState *st = htcpy_state();
    HtcPyDecodeSource *s = (HtcPyDecodeSource *)self;
    PyObject *cs, *region = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:DecodeSource", kws, &cs, &region))
        return -1;
    if (region != Py_None && !PyObject_TypeCheck(region, st->Region)) {
        PyErr_SetString(PyExc_TypeError, "DecodeSource: region must be a Region or None");
        return -1;
    }
    PyObject *stream;
    if (PyObject_TypeCheck(cs, st->CodeStream))
        stream = Py_NewRef(cs);
    else if (!(stream = htcpy_code_stream_new(st, cs))) /* a path or bytes: parse it now */
        return -1;
    Py_XSETREF(s->code_stream, stream);
    Py_XSETREF(s->region, region == Py_None ? NULL : Py_NewRef(region));
    return 0;
}

static int src_traverse(PyObject *self, visitproc visit, void *arg)
{
    HtcPyDecodeSource *s = (HtcPyDecodeSource *)self;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(s->code_stream);
    Py_VISIT(s->region);
    return 0;
}

static int src_clear(PyObject *self)
{
    HtcPyDecodeSource *s = (HtcPyDecodeSource *)self;
    Py_CLEAR(s->code_stream);
    Py_CLEAR(s->region);
    return 0;
}

static void src_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    src_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *get_cs(PyObject *self, void *c)
{
    (void)c;
    HtcPyDecodeSource *s = (HtcPyDecodeSource *)self;
    if (!s->code_stream)
        Py_RETURN_NONE;
    return Py_NewRef(s->code_stream);
}

static PyObject *get_region(PyObject *self, void *c)
{
    (void)c;
    HtcPyDecodeSource *s = (HtcPyDecodeSource *)self;
    if (!s->region)
        Py_RETURN_NONE;
    return Py_NewRef(s->region);
}

static PyObject *src_repr(PyObject *self)
{
    HtcPyDecodeSource *s = (HtcPyDecodeSource *)self;
    return PyUnicode_FromFormat("DecodeSource(code_stream=%R, region=%R)", s->code_stream ? s->code_stream : Py_None,
                                s->region ? s->region : Py_None);
}

static PyGetSetDef src_getset[] = {
    {"code_stream", get_cs, NULL, "The CodeStream to decode.", NULL},
    {"region", get_region, NULL, "The Region to decode, or None for the whole image.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot src_slots[] = {
    {Py_tp_init, src_init},
    {Py_tp_dealloc, src_dealloc},
    {Py_tp_traverse, src_traverse},
    {Py_tp_clear, src_clear},
    {Py_tp_repr, src_repr},
    {Py_tp_getset, src_getset},
    {Py_tp_doc, "DecodeSource(code_stream, region=None): a CodeStream (or a path / bytes, parsed now)\n"
                "and the Region of it to decode."},
    {0, NULL},
};

PyType_Spec htcpy_source_spec = {
    .name = "htcodec.DecodeSource",
    .basicsize = sizeof(HtcPyDecodeSource),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = src_slots,
};
