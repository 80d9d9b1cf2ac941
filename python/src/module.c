/* htcodec Python extension: the module, its state and its exception. */
#include "module.h"

static HtcPyState g_state;
static int g_ready;

HtcPyState *htcpy_state(void) { return g_ready ? &g_state : NULL; }
HtcPyState *htcpy_state_from_type(PyTypeObject *tp)
{
    (void)tp;
    return htcpy_state();
}

const char *htcpy_status_name(int status)
{
    switch (status) {
    case HTC_OK: return "HTC_OK";
    case HTC_EINVAL: return "HTC_EINVAL";
    case HTC_ENOMEM: return "HTC_ENOMEM";
    case HTC_ETRUNCATED: return "HTC_ETRUNCATED";
    case HTC_EFORMAT: return "HTC_EFORMAT";
    case HTC_EMARKER: return "HTC_EMARKER";
    case HTC_ECONTRADICT: return "HTC_ECONTRADICT";
    case HTC_ELIMIT: return "HTC_ELIMIT";
    case HTC_EUNSUPPORTED: return "HTC_EUNSUPPORTED";
    case HTC_ECORRUPT: return "HTC_ECORRUPT";
    case HTC_EIO: return "HTC_EIO";
    case HTC_ENODEVICE: return "HTC_ENODEVICE";
    case HTC_EDEVICE: return "HTC_EDEVICE";
    case HTC_ERANGE: return "HTC_ERANGE";
    case HTC_EBOX: return "HTC_EBOX";
    case HTC_EDICOM: return "HTC_EDICOM";
    case HTC_ETSYNTAX: return "HTC_ETSYNTAX";
    default: return "HTC_E?";
    }
}

PyObject *htcpy_error_object(HtcPyState *st, int status, const char *message)
{
    const char *what = htc_strerror(status);
    PyObject *text;
    if (message && message[0])
        text = PyUnicode_FromFormat("%s (%s: %s)", message, htcpy_status_name(status), what);
    else
        text = PyUnicode_FromFormat("%s (%s)", what, htcpy_status_name(status));
    if (!text)
        return NULL;
    PyObject *exc = PyObject_CallOneArg(st->Error, text);
    Py_DECREF(text);
    if (!exc)
        return NULL;
    PyObject *code = PyLong_FromLong(status);
    PyObject *name = PyUnicode_FromString(htcpy_status_name(status));
    PyObject *msg = PyUnicode_FromString(message && message[0] ? message : what);
    int bad = !code || !name || !msg || PyObject_SetAttrString(exc, "status", code) < 0 ||
              PyObject_SetAttrString(exc, "status_name", name) < 0 ||
              PyObject_SetAttrString(exc, "library_message", msg) < 0;
    Py_XDECREF(code);
    Py_XDECREF(name);
    Py_XDECREF(msg);
    if (bad) {
        Py_DECREF(exc);
        return NULL;
    }
    return exc;
}

PyObject *htcpy_error(HtcPyState *st, int status, const char *message)
{
    PyObject *exc = htcpy_error_object(st, status, message);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* Each type file exports its spec. */
extern PyType_Spec htcpy_region_spec, htcpy_params_spec, htcpy_code_stream_spec,
    htcpy_source_spec, htcpy_image_spec, htcpy_decoder_spec;
int htcpy_enums_init(PyObject *m, HtcPyState *st);
int htcpy_dicom_init(PyObject *m);

static int add_type(PyObject *m, PyType_Spec *spec, PyTypeObject **out)
{
    PyObject *t = PyType_FromModuleAndSpec(m, spec, NULL);
    if (!t)
        return -1;
    if (PyModule_AddObjectRef(m, strrchr(spec->name, '.') + 1, t) < 0) {
        Py_DECREF(t);
        return -1;
    }
    *out = (PyTypeObject *)t;
    return 0;
}

static PyObject *py_cuda_device_count(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyLong_FromLong(HTCPY_HAVE(htc_cuda_device_count) ? htc_cuda_device_count() : 0);
}

static PyObject *py_features(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return Py_BuildValue("{s:O,s:O,s:O,s:O,s:i}",
                         "parse", HTCPY_HAVE(htc_stream_open_memory) ? Py_True : Py_False,
                         "decode", HTCPY_HAVE(htc_decode) ? Py_True : Py_False,
                         "decode_batch", HTCPY_HAVE(htc_decode_batch) ? Py_True : Py_False,
                         "cuda_built", htc_cuda_built() ? Py_True : Py_False,
                         "cuda_devices", HTCPY_HAVE(htc_cuda_device_count) ? htc_cuda_device_count() : 0);
}

static PyObject *py_strerror(PyObject *self, PyObject *arg)
{
    (void)self;
    long s = PyLong_AsLong(arg);
    if (s == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(htc_strerror((int)s));
}

static PyMethodDef module_methods[] = {
    {"cuda_device_count", py_cuda_device_count, METH_NOARGS, "Number of usable CUDA devices."},
    {"features", py_features, METH_NOARGS,
     "Which parts of libhtc this build has: {'parse', 'decode', 'decode_batch', 'cuda_built', 'cuda_devices'}."},
    {"strerror", py_strerror, METH_O, "htc_strerror(status)."},
    {NULL, NULL, 0, NULL},
};

static int module_exec(PyObject *m)
{
    HtcPyState *st = &g_state;
    if (g_ready) {
        PyErr_SetString(PyExc_ImportError, "htcodec._htcodec cannot be loaded twice in one process");
        return -1;
    }
    st->Error = PyErr_NewExceptionWithDoc(
        "htcodec.Error",
        "A libhtc failure. Attributes: status (negative HTC_E* code), status_name ('HTC_EMARKER' ...),\n"
        "library_message (htc_last_error(): names the marker or box and the byte offset).",
        PyExc_RuntimeError, NULL);
    if (!st->Error || PyModule_AddObjectRef(m, "Error", st->Error) < 0)
        return -1;
    if (add_type(m, &htcpy_region_spec, &st->Region) < 0 ||
        add_type(m, &htcpy_params_spec, &st->DecodeParams) < 0 ||
        add_type(m, &htcpy_code_stream_spec, &st->CodeStream) < 0 ||
        add_type(m, &htcpy_source_spec, &st->DecodeSource) < 0 ||
        add_type(m, &htcpy_image_spec, &st->Image) < 0 ||
        add_type(m, &htcpy_decoder_spec, &st->Decoder) < 0)
        return -1;
    g_ready = 1;
    if (htcpy_enums_init(m, st) < 0) {
        g_ready = 0;
        return -1;
    }
    if (htcpy_dicom_init(m) < 0)
        return -1;
    for (int s = HTC_ETSYNTAX; s <= HTC_OK; s++)
        if (PyModule_AddIntConstant(m, htcpy_status_name(s), s) < 0)
            return -1;
    if (PyModule_AddStringConstant(m, "library_version", htc_version_string()) < 0)
        return -1;
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "htcodec._htcodec",
    .m_doc = "libhtc (JPEG 2000 / HTJ2K decoding) for Python; use the htcodec package.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC PyInit__htcodec(void) { return PyModuleDef_Init(&module_def); }
