/* htcodec Python extension: Region, a (y, x) rectangle of the image,
 * end exclusive: Region(start_y, start_x, end_y, end_x),
 * Region(start=(y, x), end=(y, x)) or Region() (the whole image). */
#include "module.h"

static int to_pair(PyObject *seq, long long out[2], const char *what)
{
    PyObject *fast = PySequence_Fast(seq, "Region: start and end must be sequences of 2 integers");
    if (!fast)
        return -1;
    if (PySequence_Fast_GET_SIZE(fast) != 2) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_ValueError, "Region: %s must have 2 entries (y, x)", what);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        out[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(fast, i));
        if (out[i] == -1 && PyErr_Occurred()) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    return 0;
}

static int region_init(PyObject *self, PyObject *args, PyObject *kw)
{
    HtcPyRegion *r = (HtcPyRegion *)self;
    static char *kw4[] = {"start_y", "start_x", "end_y", "end_x", NULL};
    static char *kw2[] = {"start", "end", NULL};
    Py_ssize_t n = PyTuple_GET_SIZE(args) + (kw ? PyDict_GET_SIZE(kw) : 0);
    r->ndim = 0;
    if (n == 0)
        return 0;
    if (n == 4) {
        long long v[4];
        if (!PyArg_ParseTupleAndKeywords(args, kw, "LLLL:Region", kw4, &v[0], &v[1], &v[2], &v[3]))
            return -1;
        r->start[0] = v[0], r->start[1] = v[1], r->end[0] = v[2], r->end[1] = v[3];
    } else {
        PyObject *s, *e;
        if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:Region", kw2, &s, &e))
            return -1;
        if (to_pair(s, r->start, "start") < 0 || to_pair(e, r->end, "end") < 0)
            return -1;
    }
    for (int i = 0; i < 2; i++) {
        if (r->start[i] < 0 || r->end[i] <= r->start[i] || r->end[i] > 0xffffffffLL) {
            PyErr_Format(PyExc_ValueError,
                         "Region: need 0 <= start < end < 2**32 on each axis, got start=(%lld, %lld) "
                         "end=(%lld, %lld)",
                         r->start[0], r->start[1], r->end[0], r->end[1]);
            return -1;
        }
    }
    r->ndim = 2;
    return 0;
}

int htcpy_region_get(PyObject *region, long long start[2], long long end[2])
{
    HtcPyRegion *r = (HtcPyRegion *)region;
    if (!region || r->ndim == 0)
        return 0;
    start[0] = r->start[0], start[1] = r->start[1];
    end[0] = r->end[0], end[1] = r->end[1];
    return 1;
}

static PyObject *tuple_of(const HtcPyRegion *r, const long long *v)
{
    if (r->ndim == 0)
        return PyTuple_New(0);
    return Py_BuildValue("(LL)", v[0], v[1]);
}

static PyObject *region_start(PyObject *self, void *c)
{
    (void)c;
    return tuple_of((HtcPyRegion *)self, ((HtcPyRegion *)self)->start);
}
static PyObject *region_end(PyObject *self, void *c)
{
    (void)c;
    return tuple_of((HtcPyRegion *)self, ((HtcPyRegion *)self)->end);
}
static PyObject *region_ndim(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromLong(((HtcPyRegion *)self)->ndim);
}

static PyObject *region_repr(PyObject *self)
{
    HtcPyRegion *r = (HtcPyRegion *)self;
    if (r->ndim == 0)
        return PyUnicode_FromString("Region(start=() end=())");
    return PyUnicode_FromFormat("Region(start=(%lld, %lld) end=(%lld, %lld))", r->start[0], r->start[1],
                                r->end[0], r->end[1]);
}

static PyObject *region_richcompare(PyObject *a, PyObject *b, int op)
{
    HtcPyState *st = htcpy_state();
    if (!st || !PyObject_TypeCheck(b, st->Region) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    const HtcPyRegion *x = (const HtcPyRegion *)a, *y = (const HtcPyRegion *)b;
    int eq = x->ndim == y->ndim &&
             (x->ndim == 0 || (!memcmp(x->start, y->start, sizeof(x->start)) &&
                               !memcmp(x->end, y->end, sizeof(x->end))));
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyGetSetDef region_getset[] = {
    {"start", region_start, NULL, "(start_y, start_x), or () for the whole image", NULL},
    {"end", region_end, NULL, "(end_y, end_x), exclusive, or ()", NULL},
    {"ndim", region_ndim, NULL, "2, or 0 for the whole image", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot region_slots[] = {
    {Py_tp_init, region_init},
    {Py_tp_repr, region_repr},
    {Py_tp_richcompare, region_richcompare},
    {Py_tp_getset, region_getset},
    {Py_tp_doc, "Region(start_y, start_x, end_y, end_x) or Region(start=(y, x), end=(y, x)):\n"
                "a rectangle of the full-resolution image, end exclusive."},
    {0, NULL},
};

PyType_Spec htcpy_region_spec = {
    .name = "htcodec.Region",
    .basicsize = sizeof(HtcPyRegion),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = region_slots,
};
