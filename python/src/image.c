/* htcodec Python extension: Image, a decoded (H, W, C) array in host or
 * device memory. Host images export the buffer protocol, __array_interface__
 * and __array__; device images __cuda_array_interface__ (v3); both __dlpack__
 * and __dlpack_device__. */
#include <stdlib.h>
#include <string.h>

#include "module.h"

#ifdef HTCPY_CUDA
#include <cuda_runtime_api.h>
#endif

const char *htcpy_typestr(int t)
{
    switch (t) {
    case HTC_SAMPLE_U8: return "|u1";
    case HTC_SAMPLE_I8: return "|i1";
    case HTC_SAMPLE_U16: return "<u2";
    case HTC_SAMPLE_I16: return "<i2";
    case HTC_SAMPLE_U32: return "<u4";
    case HTC_SAMPLE_I32: return "<i4";
    case HTC_SAMPLE_F32: return "<f4";
    default: return "|V0";
    }
}

const char *htcpy_format(int t)
{
    switch (t) {
    case HTC_SAMPLE_U8: return "B";
    case HTC_SAMPLE_I8: return "b";
    case HTC_SAMPLE_U16: return "H";
    case HTC_SAMPLE_I16: return "h";
    case HTC_SAMPLE_U32: return "I";
    case HTC_SAMPLE_I32: return "i";
    case HTC_SAMPLE_F32: return "f";
    default: return "B";
    }
}

const char *htcpy_dtype_name(int t)
{
    switch (t) {
    case HTC_SAMPLE_U8: return "uint8";
    case HTC_SAMPLE_I8: return "int8";
    case HTC_SAMPLE_U16: return "uint16";
    case HTC_SAMPLE_I16: return "int16";
    case HTC_SAMPLE_U32: return "uint32";
    case HTC_SAMPLE_I32: return "int32";
    case HTC_SAMPLE_F32: return "float32";
    default: return "void";
    }
}

static HtcPyImage *image_alloc(HtcPyState *st)
{
    return (HtcPyImage *)st->Image->tp_alloc(st->Image, 0);
}

static void set_geometry(HtcPyImage *im, Py_ssize_t h, Py_ssize_t w, Py_ssize_t c, int sample_type)
{
    const Py_ssize_t ss = (Py_ssize_t)htcpy_sample_size(sample_type);
    im->shape[0] = h, im->shape[1] = w, im->shape[2] = c;
    im->strides[2] = ss, im->strides[1] = ss * c, im->strides[0] = ss * c * w;
    im->sample_type = sample_type;
}

PyObject *htcpy_image_from_host(HtcPyState *st, void *block, size_t size, Py_ssize_t h, Py_ssize_t w,
                                Py_ssize_t c, int sample_type, unsigned precision)
{
    HtcPyImage *im = image_alloc(st);
    if (!im) {
        free(block);
        return NULL;
    }
    im->memory = HTC_MEMORY_HOST;
    im->device_id = 0;
    im->host_block = block;
    im->data = block;
    im->size = size;
    im->precision = precision;
    set_geometry(im, h, w, c, sample_type);
    return (PyObject *)im;
}

PyObject *htcpy_image_from_picture(HtcPyState *st, HtcPicture *pic, unsigned precision)
{
    HtcPyImage *im = image_alloc(st);
    if (!im) {
        htc_picture_release(pic);
        return NULL;
    }
    im->pic = *pic;
    memset(pic, 0, sizeof(*pic));
    im->has_pic = 1;
    im->memory = im->pic.memory;
    im->device_id = im->pic.device_id;
    im->data = im->pic.buffer;
    im->size = im->pic.buffer_size;
    im->precision = precision;
    set_geometry(im, im->pic.height, im->pic.width, im->pic.num_planes, im->pic.sample_type);
    return (PyObject *)im;
}

static void image_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    HtcPyImage *im = (HtcPyImage *)self;
    if (im->has_pic && HTCPY_HAVE(htc_picture_release))
        htc_picture_release(&im->pic);
    else if (im->host_block && im->memory == HTC_MEMORY_HOST)
        free(im->host_block);
#ifdef HTCPY_CUDA
    else if (im->host_block && im->memory == HTC_MEMORY_DEVICE)
        cudaFree(im->host_block);
#endif
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* ---- buffer protocol (host images) */
static int image_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    HtcPyImage *im = (HtcPyImage *)self;
    if (im->memory != HTC_MEMORY_HOST) {
        PyErr_SetString(PyExc_BufferError, "Image is in device memory; use .cpu() first, or __dlpack__");
        return -1;
    }
    view->obj = Py_NewRef(self);
    view->buf = im->data;
    view->len = (Py_ssize_t)im->size;
    view->readonly = 0;
    view->itemsize = (Py_ssize_t)htcpy_sample_size(im->sample_type);
    view->format = (flags & PyBUF_FORMAT) ? (char *)htcpy_format(im->sample_type) : NULL;
    view->ndim = 3;
    view->shape = (flags & PyBUF_ND) == PyBUF_ND ? im->shape : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? im->strides : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    if (!view->shape && (flags & PyBUF_ND) != PyBUF_ND)
        view->ndim = 1; /* a plain contiguous byte view */
    im->exports++;
    return 0;
}

static void image_releasebuffer(PyObject *self, Py_buffer *view)
{
    (void)view;
    ((HtcPyImage *)self)->exports--;
}

/* ---- properties */
static PyObject *get_height(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromSsize_t(((HtcPyImage *)self)->shape[0]);
}
static PyObject *get_width(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromSsize_t(((HtcPyImage *)self)->shape[1]);
}
static PyObject *get_num_channels(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromSsize_t(((HtcPyImage *)self)->shape[2]);
}
static PyObject *get_ndim(PyObject *self, void *c)
{
    (void)self;
    (void)c;
    return PyLong_FromLong(3);
}
static PyObject *get_shape(PyObject *self, void *c)
{
    (void)c;
    const HtcPyImage *im = (const HtcPyImage *)self;
    return Py_BuildValue("(nnn)", im->shape[0], im->shape[1], im->shape[2]);
}
static PyObject *get_strides(PyObject *self, void *c)
{
    (void)c;
    const HtcPyImage *im = (const HtcPyImage *)self;
    return Py_BuildValue("(nnn)", im->strides[0], im->strides[1], im->strides[2]);
}
static PyObject *get_dtype(PyObject *self, void *c)
{
    (void)c;
    const char *name = htcpy_dtype_name(((HtcPyImage *)self)->sample_type);
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np) {
        PyErr_Clear();
        return PyUnicode_FromString(name);
    }
    PyObject *dt = PyObject_CallMethod(np, "dtype", "s", name);
    Py_DECREF(np);
    return dt;
}
static PyObject *get_precision(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLong(((HtcPyImage *)self)->precision);
}
static PyObject *get_buffer_kind(PyObject *self, void *c)
{
    (void)c;
    HtcPyState *st = htcpy_state();
    return PyObject_CallFunction(st->ImageBufferKind, "i", ((HtcPyImage *)self)->memory);
}
static PyObject *get_buffer_size(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromSize_t(((HtcPyImage *)self)->size);
}
static PyObject *get_device_id(PyObject *self, void *c)
{
    (void)c;
    const HtcPyImage *im = (const HtcPyImage *)self;
    if (im->memory == HTC_MEMORY_HOST)
        Py_RETURN_NONE;
    return PyLong_FromLong(im->device_id);
}

static PyObject *interface_dict(const HtcPyImage *im, int version)
{
    return Py_BuildValue("{s:(nnn),s:s,s:(KO),s:O,s:i}", "shape", im->shape[0], im->shape[1], im->shape[2],
                         "typestr", htcpy_typestr(im->sample_type), "data",
                         (unsigned long long)(uintptr_t)im->data, Py_False, "strides", Py_None, "version",
                         version);
}

static PyObject *get_array_interface(PyObject *self, void *c)
{
    (void)c;
    const HtcPyImage *im = (const HtcPyImage *)self;
    if (im->memory != HTC_MEMORY_HOST) {
        PyErr_SetString(PyExc_AttributeError, "__array_interface__: the Image is in device memory; use .cpu()");
        return NULL;
    }
    return interface_dict(im, 3);
}

static PyObject *get_cuda_array_interface(PyObject *self, void *c)
{
    (void)c;
    const HtcPyImage *im = (const HtcPyImage *)self;
    if (im->memory != HTC_MEMORY_DEVICE) {
        PyErr_SetString(PyExc_AttributeError, "__cuda_array_interface__: the Image is in host memory; use .cuda()");
        return NULL;
    }
    PyObject *d = interface_dict(im, 3);
    /* The decode has finished (synchronised) when the Image is returned. */
    if (d && PyDict_SetItemString(d, "stream", Py_None) < 0)
        Py_CLEAR(d);
    return d;
}

/* ---- methods */
static PyObject *image_array(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"dtype", "copy", NULL};
    PyObject *dtype = Py_None, *copy = Py_None;
    HtcPyImage *im = (HtcPyImage *)self;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:__array__", kws, &dtype, &copy))
        return NULL;
    if (im->memory != HTC_MEMORY_HOST) {
        PyErr_SetString(PyExc_TypeError, "__array__: the Image is in device memory; use .cpu() first");
        return NULL;
    }
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np)
        return NULL;
    PyObject *mv = PyMemoryView_FromObject(self);
    PyObject *arr = mv ? PyObject_CallMethod(np, "asarray", "O", mv) : NULL;
    Py_XDECREF(mv);
    if (arr && (dtype != Py_None || copy == Py_True)) {
        PyObject *a2 = PyObject_CallMethod(np, "array", "OO", arr, dtype);
        Py_DECREF(arr);
        arr = a2;
    }
    Py_DECREF(np);
    return arr;
}

static PyObject *image_cpu(PyObject *self, PyObject *unused)
{
    (void)unused;
    HtcPyImage *im = (HtcPyImage *)self;
    HtcPyState *st = htcpy_state();
    if (im->memory == HTC_MEMORY_HOST)
        return Py_NewRef(self);
#ifdef HTCPY_CUDA
    void *block = NULL;
    if (posix_memalign(&block, 64, im->size ? im->size : 1) != 0)
        return PyErr_NoMemory();
    cudaError_t e;
    Py_BEGIN_ALLOW_THREADS
    cudaSetDevice(im->device_id);
    e = cudaMemcpy(block, im->data, im->size, cudaMemcpyDeviceToHost);
    Py_END_ALLOW_THREADS
    if (e != cudaSuccess) {
        free(block);
        return htcpy_error(st, HTC_EDEVICE, cudaGetErrorString(e));
    }
    return htcpy_image_from_host(st, block, im->size, im->shape[0], im->shape[1], im->shape[2], im->sample_type,
                                 im->precision);
#else
    return htcpy_error(st, HTC_ENODEVICE, "this htcodec was built without CUDA");
#endif
}

static PyObject *image_cuda(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"device_id", NULL};
    int device_id = -1;
    HtcPyImage *im = (HtcPyImage *)self;
    HtcPyState *st = htcpy_state();
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|i:cuda", kws, &device_id))
        return NULL;
    if (im->memory == HTC_MEMORY_DEVICE && (device_id < 0 || device_id == im->device_id))
        return Py_NewRef(self);
    const int n = HTCPY_HAVE(htc_cuda_device_count) ? htc_cuda_device_count() : 0;
    if (n <= 0)
        return htcpy_error(st, HTC_ENODEVICE, "Image.cuda(): no usable CUDA device");
#ifdef HTCPY_CUDA
    if (device_id < 0)
        device_id = 0;
    if (device_id >= n)
        return htcpy_error(st, HTC_ENODEVICE, "Image.cuda(): device_id out of range");
    if (im->memory != HTC_MEMORY_HOST)
        return htcpy_error(st, HTC_EUNSUPPORTED, "Image.cuda(): copies between devices are not supported");
    void *dev = NULL;
    cudaError_t e;
    Py_BEGIN_ALLOW_THREADS
    e = cudaSetDevice(device_id);
    if (e == cudaSuccess)
        e = cudaMalloc(&dev, im->size ? im->size : 1);
    if (e == cudaSuccess)
        e = cudaMemcpy(dev, im->data, im->size, cudaMemcpyHostToDevice);
    Py_END_ALLOW_THREADS
    if (e != cudaSuccess) {
        if (dev)
            cudaFree(dev);
        return htcpy_error(st, HTC_EDEVICE, cudaGetErrorString(e));
    }
    HtcPyImage *out = (HtcPyImage *)st->Image->tp_alloc(st->Image, 0);
    if (!out) {
        cudaFree(dev);
        return NULL;
    }
    out->memory = HTC_MEMORY_DEVICE;
    out->device_id = device_id;
    out->host_block = dev;
    out->data = dev;
    out->size = im->size;
    out->precision = im->precision;
    memcpy(out->shape, im->shape, sizeof(im->shape));
    memcpy(out->strides, im->strides, sizeof(im->strides));
    out->sample_type = im->sample_type;
    return (PyObject *)out;
#else
    return htcpy_error(st, HTC_ENODEVICE, "Image.cuda(): this htcodec was built without CUDA");
#endif
}

static PyObject *image_dlpack(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"stream", "max_version", "dl_device", "copy", NULL};
    PyObject *stream = Py_None, *max_version = Py_None, *dl_device = Py_None, *copy = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$OOOO:__dlpack__", kws, &stream, &max_version, &dl_device, &copy))
        return NULL;
    HtcPyImage *im = (HtcPyImage *)self;
    if (copy == Py_True) {
        PyErr_SetString(PyExc_BufferError, "__dlpack__: copy=True is not supported; the export never copies");
        return NULL;
    }
    /* Decodes are synchronised before the Image is returned: no stream wait is needed. */
    const int dev_type = im->memory == HTC_MEMORY_DEVICE ? 2 /* kDLCUDA */ : 1 /* kDLCPU */;
    return htcpy_dlpack_capsule(self, im->data, dev_type, im->memory == HTC_MEMORY_DEVICE ? im->device_id : 0,
                                im->shape, im->strides, 3, im->sample_type);
}

static PyObject *image_dlpack_device(PyObject *self, PyObject *unused)
{
    (void)unused;
    HtcPyImage *im = (HtcPyImage *)self;
    if (im->memory == HTC_MEMORY_DEVICE)
        return Py_BuildValue("(ii)", 2, im->device_id);
    return Py_BuildValue("(ii)", 1, 0);
}

static PyObject *image_repr(PyObject *self)
{
    const HtcPyImage *im = (const HtcPyImage *)self;
    return PyUnicode_FromFormat("Image(shape=(%zd, %zd, %zd), dtype=%s, precision=%u, buffer_kind=%s)",
                                im->shape[0], im->shape[1], im->shape[2], htcpy_dtype_name(im->sample_type),
                                im->precision, im->memory == HTC_MEMORY_HOST ? "STRIDED_HOST" : "STRIDED_DEVICE");
}

static PyMethodDef image_methods[] = {
    {"__array__", (PyCFunction)(void (*)(void))image_array, METH_VARARGS | METH_KEYWORDS,
     "numpy array sharing the Image's host memory (host images)."},
    {"cpu", image_cpu, METH_NOARGS, "This Image when in host memory, else a host copy."},
    {"cuda", (PyCFunction)(void (*)(void))image_cuda, METH_VARARGS | METH_KEYWORDS,
     "cuda(device_id=None): this Image when on the device, else a device copy; htcodec.Error "
     "(HTC_ENODEVICE) without a GPU."},
    {"__dlpack__", (PyCFunction)(void (*)(void))image_dlpack, METH_VARARGS | METH_KEYWORDS,
     "DLPack capsule sharing the Image's memory (CPU or CUDA)."},
    {"__dlpack_device__", image_dlpack_device, METH_NOARGS, "(device_type, device_id): (1, 0) host, (2, id) CUDA."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef image_getset[] = {
    {"height", get_height, NULL, "Rows.", NULL},
    {"width", get_width, NULL, "Columns.", NULL},
    {"num_channels", get_num_channels, NULL, "Channels.", NULL},
    {"ndim", get_ndim, NULL, "3.", NULL},
    {"shape", get_shape, NULL, "(height, width, channels).", NULL},
    {"strides", get_strides, NULL, "Byte strides of (height, width, channels).", NULL},
    {"dtype", get_dtype, NULL, "numpy dtype of the samples.", NULL},
    {"precision", get_precision, NULL, "Significant bits per sample; 0 means the full range of dtype.", NULL},
    {"buffer_kind", get_buffer_kind, NULL, "ImageBufferKind.STRIDED_HOST or STRIDED_DEVICE.", NULL},
    {"buffer_size", get_buffer_size, NULL, "Bytes.", NULL},
    {"device_id", get_device_id, NULL, "CUDA device of a device image, else None.", NULL},
    {"__array_interface__", get_array_interface, NULL, "numpy array interface (host images).", NULL},
    {"__cuda_array_interface__", get_cuda_array_interface, NULL, "CUDA array interface v3 (device images).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject *image_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    (void)tp;
    (void)args;
    (void)kw;
    PyErr_SetString(PyExc_TypeError, "Images come from Decoder.decode() / read()");
    return NULL;
}

static PyType_Slot image_slots[] = {
    {Py_tp_new, image_new},
    {Py_tp_dealloc, image_dealloc},
    {Py_tp_repr, image_repr},
    {Py_tp_methods, image_methods},
    {Py_tp_getset, image_getset},
    {Py_bf_getbuffer, image_getbuffer},
    {Py_bf_releasebuffer, image_releasebuffer},
    {Py_tp_doc, "A decoded image, (height, width, channels), in host or device memory."},
    {0, NULL},
};

PyType_Spec htcpy_image_spec = {
    .name = "htcodec.Image",
    .basicsize = sizeof(HtcPyImage),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = image_slots,
};
