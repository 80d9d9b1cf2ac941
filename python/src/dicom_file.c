/* htcodec Python extension: DicomFile, a DICOM Part 10 file read through the
 * DICOM layer (dicom/htc_dicom.h): its pixel module, frames (decoded with the
 * GIL released into host Images, (rows, columns, samples)), slice geometry,
 * tags and DICOM JSON. Built only when the DICOM layer is (HTCPY_DICOM). */
#include "module.h"

#ifdef HTCPY_DICOM
#include <stdlib.h>
#include <string.h>

#include "htc_dicom.h"

typedef struct HtcPyDicom {
    PyObject_HEAD
    HtcDicom *dcm;
    Py_buffer view;
    int has_view;
    PyThread_type_lock lock; /* the handle reads fragments lazily: one call at a time */
} HtcPyDicom;

static PyObject *dcm_error(int rc)
{
    const char *m = htc_dicom_last_error();
    return htcpy_error(htcpy_state(), rc, m && m[0] ? m : htc_last_error());
}

static int dcm_init(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"src", NULL};
    HtcPyDicom *d = (HtcPyDicom *)self;
    PyObject *src;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:DicomFile", kws, &src))
        return -1;
    if (d->dcm) {
        PyErr_SetString(PyExc_RuntimeError, "DicomFile is already open");
        return -1;
    }
    if (!d->lock && !(d->lock = PyThread_allocate_lock())) {
        PyErr_NoMemory();
        return -1;
    }
    HtcDicomSettings s;
    htc_dicom_default_settings(&s);
    int rc;
    if (PyUnicode_Check(src) || (!PyBytes_Check(src) && PyObject_HasAttrString(src, "__fspath__"))) {
        PyObject *path = NULL;
        if (!PyUnicode_FSConverter(src, &path))
            return -1;
        const char *p = PyBytes_AS_STRING(path);
        Py_BEGIN_ALLOW_THREADS
        rc = htc_dicom_open_file(&d->dcm, p, &s);
        Py_END_ALLOW_THREADS
        Py_DECREF(path);
    } else {
        if (PyObject_GetBuffer(src, &d->view, PyBUF_SIMPLE) < 0)
            return -1;
        d->has_view = 1;
        Py_BEGIN_ALLOW_THREADS
        rc = htc_dicom_open_memory(&d->dcm, d->view.buf, (size_t)d->view.len, &s);
        Py_END_ALLOW_THREADS
    }
    if (rc < 0) {
        dcm_error(rc);
        return -1;
    }
    return 0;
}

static void dcm_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    HtcPyDicom *d = (HtcPyDicom *)self;
    htc_dicom_close(&d->dcm);
    if (d->has_view)
        PyBuffer_Release(&d->view);
    if (d->lock)
        PyThread_free_lock(d->lock);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int check(HtcPyDicom *d)
{
    if (!d->dcm) {
        PyErr_SetString(PyExc_ValueError, "DicomFile is not open");
        return -1;
    }
    return 0;
}

static PyObject *dcm_image(PyObject *self, PyObject *unused)
{
    (void)unused;
    HtcPyDicom *d = (HtcPyDicom *)self;
    if (check(d) < 0)
        return NULL;
    HtcDicomImage im;
    int rc;
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    rc = htc_dicom_get_image(d->dcm, &im);
    PyThread_release_lock(d->lock);
    if (rc < 0)
        return dcm_error(rc);
    return Py_BuildValue(
        "{s:s,s:s,s:i,s:O,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:s,s:O,s:d,s:d}", "transfer_syntax",
        im.transfer_syntax, "transfer_syntax_name", im.transfer_syntax_name ? im.transfer_syntax_name : "",
        "codec", im.codec, "encapsulated", im.encapsulated ? Py_True : Py_False, "rows", im.rows, "columns",
        im.columns, "frames", im.frames, "samples_per_pixel", im.samples_per_pixel, "bits_allocated",
        im.bits_allocated, "bits_stored", im.bits_stored, "high_bit", im.high_bit, "pixel_representation",
        im.pixel_representation, "planar_configuration", im.planar_configuration, "photometric",
        im.photometric, "has_rescale", im.has_rescale ? Py_True : Py_False, "rescale_slope", im.rescale_slope,
        "rescale_intercept", im.rescale_intercept);
}

/* Planar frame -> interleaved (rows, columns, components) block. */
static void interleave(const HtcDicomFrame *f, void *dst)
{
    const size_t ss = htcpy_sample_size(f->sample_type);
    const size_t plane = (size_t)f->width * f->height;
    const uint8_t *src = f->data;
    uint8_t *out = dst;
    if (f->components == 1) {
        memcpy(out, src, plane * ss);
        return;
    }
    for (size_t i = 0; i < plane; i++)
        for (uint32_t c = 0; c < f->components; c++)
            memcpy(out + (i * f->components + c) * ss, src + (c * plane + i) * ss, ss);
}

static PyObject *dcm_decode_frame(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"index", "apply_rescale", NULL};
    HtcPyDicom *d = (HtcPyDicom *)self;
    unsigned int k = 0;
    int rescale = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Ip:decode_frame", kws, &k, &rescale))
        return NULL;
    if (check(d) < 0)
        return NULL;
    HtcDicomDecodeParams p;
    htc_dicom_default_decode_params(&p);
    p.apply_rescale = rescale;
    HtcDicomFrame f;
    memset(&f, 0, sizeof(f));
    void *block = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    rc = htc_dicom_decode_frame(d->dcm, NULL, k, &p, &f);
    PyThread_release_lock(d->lock);
    if (rc >= 0) {
        if (posix_memalign(&block, 64, f.size ? f.size : 1) != 0)
            rc = HTC_ENOMEM, block = NULL;
        else
            interleave(&f, block);
    }
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        htc_dicom_frame_release(&f);
        if (rc == HTC_ENOMEM && !block)
            return PyErr_NoMemory();
        return dcm_error(rc);
    }
    PyObject *img = htcpy_image_from_host(htcpy_state(), block, f.size, f.height, f.width, f.components,
                                          f.sample_type, f.precision);
    PyObject *out = img ? Py_BuildValue("(N{s:s,s:O,s:I,s:O})", img, "photometric", f.photometric, "is_signed",
                                        f.is_signed ? Py_True : Py_False, "precision", f.precision, "corrected",
                                        f.corrected ? Py_True : Py_False)
                        : NULL;
    htc_dicom_frame_release(&f);
    return out;
}

static PyObject *dcm_frame_data(PyObject *self, PyObject *args)
{
    HtcPyDicom *d = (HtcPyDicom *)self;
    unsigned int k = 0;
    if (!PyArg_ParseTuple(args, "|I:frame_data", &k) || check(d) < 0)
        return NULL;
    uint8_t *data = NULL;
    size_t size = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    rc = htc_dicom_frame_data(d->dcm, k, &data, &size);
    PyThread_release_lock(d->lock);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return dcm_error(rc);
    PyObject *b = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)size);
    htc_dicom_free(d->dcm, data);
    return b;
}

static PyObject *triple(const double *v, int n, int have)
{
    if (!have)
        Py_RETURN_NONE;
    PyObject *t = PyTuple_New(n);
    for (int i = 0; t && i < n; i++)
        PyTuple_SET_ITEM(t, i, PyFloat_FromDouble(v[i]));
    return t;
}

static PyObject *dcm_plane(PyObject *self, PyObject *args)
{
    HtcPyDicom *d = (HtcPyDicom *)self;
    unsigned int k = 0;
    if (!PyArg_ParseTuple(args, "|I:plane", &k) || check(d) < 0)
        return NULL;
    HtcDicomPlane pl;
    memset(&pl, 0, sizeof(pl));
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    int rc = htc_dicom_get_plane(d->dcm, k, &pl);
    PyThread_release_lock(d->lock);
    if (rc < 0)
        return dcm_error(rc);
    return Py_BuildValue("{s:N,s:N,s:N}", "position", triple(pl.position, 3, pl.has_position), "orientation",
                         triple(pl.orientation, 6, pl.has_orientation), "spacing",
                         triple(pl.spacing, 2, pl.has_spacing));
}

static PyObject *dcm_tag(PyObject *self, PyObject *args)
{
    HtcPyDicom *d = (HtcPyDicom *)self;
    unsigned int group, element, i = 0;
    if (!PyArg_ParseTuple(args, "II|I:tag", &group, &element, &i) || check(d) < 0)
        return NULL;
    char buf[1024];
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    int rc = htc_dicom_tag_string(d->dcm, HTC_DICOM_TAG(group, element), i, buf, sizeof(buf));
    PyThread_release_lock(d->lock);
    if (rc == HTC_ERANGE)
        Py_RETURN_NONE;
    if (rc < 0)
        return dcm_error(rc);
    return PyUnicode_DecodeLatin1(buf, (Py_ssize_t)strlen(buf), "replace");
}

static PyObject *dcm_json(PyObject *self, PyObject *unused)
{
    (void)unused;
    HtcPyDicom *d = (HtcPyDicom *)self;
    if (check(d) < 0)
        return NULL;
    char *json = NULL;
    size_t size = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    rc = htc_dicom_to_json(d->dcm, HTC_DICOM_BULK_URI, "", &json, &size);
    PyThread_release_lock(d->lock);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return dcm_error(rc);
    PyObject *s = PyUnicode_DecodeUTF8(json, (Py_ssize_t)strlen(json), "replace");
    htc_dicom_free(d->dcm, json);
    return s;
}

static PyMethodDef dcm_methods[] = {
    {"image", dcm_image, METH_NOARGS, "The pixel module: rows, columns, frames, bits, photometric, rescale ..."},
    {"decode_frame", (PyCFunction)(void (*)(void))dcm_decode_frame, METH_VARARGS | METH_KEYWORDS,
     "decode_frame(index=0, apply_rescale=False) -> (Image (rows, columns, samples), facts): the stored "
     "values as the compressed data holds them (YBR stays YBR; the codestream wins over the header)."},
    {"frame_data", dcm_frame_data, METH_VARARGS, "frame_data(index=0) -> bytes: the frame as stored."},
    {"plane", dcm_plane, METH_VARARGS, "plane(index=0) -> {position, orientation, spacing} (None when absent)."},
    {"tag", dcm_tag, METH_VARARGS, "tag(group, element, i=0) -> value i as text, or None when absent."},
    {"to_json", dcm_json, METH_NOARGS, "The data set as DICOM JSON (PS3.18 F.2), bulk data as URIs."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot dcm_slots[] = {
    {Py_tp_init, dcm_init},
    {Py_tp_dealloc, dcm_dealloc},
    {Py_tp_methods, dcm_methods},
    {Py_tp_doc, "DicomFile(path | bytes): a DICOM Part 10 file (htcodec.dicom wraps it)."},
    {0, NULL},
};

PyType_Spec htcpy_dicom_spec = {
    .name = "htcodec.DicomFile",
    .basicsize = sizeof(HtcPyDicom),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = dcm_slots,
};

int htcpy_dicom_init(PyObject *m)
{
    PyObject *t = PyType_FromModuleAndSpec(m, &htcpy_dicom_spec, NULL);
    if (!t)
        return -1;
    int rc = PyModule_AddObjectRef(m, "DicomFile", t);
    Py_DECREF(t);
    return rc;
}
#else
int htcpy_dicom_init(PyObject *m)
{
    (void)m;
    return 0;
}
#endif
