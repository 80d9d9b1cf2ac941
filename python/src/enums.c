/* htcodec Python extension: ColorSpec, ImageBufferKind and BackendKind,
 * IntEnums with nvImageCodec's member names. */
#include "module.h"

static PyObject *make_enum(PyObject *m, const char *name, const char *const *names,
                           const long *values, int n)
{
    PyObject *enum_mod = PyImport_ImportModule("enum");
    if (!enum_mod)
        return NULL;
    PyObject *members = PyList_New(0);
    PyObject *cls = NULL;
    if (!members)
        goto done;
    for (int i = 0; i < n; i++) {
        PyObject *item = Py_BuildValue("(sl)", names[i], values[i]);
        if (!item || PyList_Append(members, item) < 0) {
            Py_XDECREF(item);
            goto done;
        }
        Py_DECREF(item);
    }
    PyObject *kw = Py_BuildValue("{s:s}", "module", "htcodec");
    if (!kw)
        goto done;
    PyObject *args = Py_BuildValue("(sO)", name, members);
    PyObject *int_enum = PyObject_GetAttrString(enum_mod, "IntEnum");
    if (args && int_enum)
        cls = PyObject_Call(int_enum, args, kw);
    Py_XDECREF(args);
    Py_XDECREF(int_enum);
    Py_DECREF(kw);
    if (cls && PyModule_AddObjectRef(m, name, cls) < 0)
        Py_CLEAR(cls);
done:
    Py_XDECREF(members);
    Py_DECREF(enum_mod);
    return cls;
}

int htcpy_enums_init(PyObject *m, HtcPyState *st)
{
    /* SRGB is an alias of RGB (the C API's name for it). */
    static const char *const cs_names[] = {"UNCHANGED", "YCC", "RGB", "GRAY", "SRGB"};
    static const long cs_values[] = {HTCPY_CS_UNCHANGED, HTCPY_CS_YCC, HTCPY_CS_RGB, HTCPY_CS_GRAY,
                                     HTCPY_CS_RGB};
    static const char *const bk_names[] = {"STRIDED_HOST", "STRIDED_DEVICE"};
    static const long bk_values[] = {HTC_MEMORY_HOST, HTC_MEMORY_DEVICE};
    static const char *const be_names[] = {"CPU_ONLY", "GPU_ONLY", "HYBRID_CPU_GPU", "HW_GPU_ONLY"};
    static const long be_values[] = {1, 2, 3, 4};
    st->ColorSpec = make_enum(m, "ColorSpec", cs_names, cs_values, 5);
    if (!st->ColorSpec)
        return -1;
    st->ImageBufferKind = make_enum(m, "ImageBufferKind", bk_names, bk_values, 2);
    if (!st->ImageBufferKind)
        return -1;
    st->BackendKind = make_enum(m, "BackendKind", be_names, be_values, 4);
    return st->BackendKind ? 0 : -1;
}
