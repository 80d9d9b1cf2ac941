/* htcodec Python extension: DLPack export ("dltensor" capsules, the ABI of
 * DLPack 0.8 that torch.from_dlpack, cupy.from_dlpack and numpy.from_dlpack
 * accept). The capsule keeps the owning Image alive until the consumer's
 * tensor is freed. */
#include <stdlib.h>

#include "module.h"

/* The DLPack ABI (dlpack.h, v0.8), declared here field for field. */
typedef struct {
    int32_t device_type; /* 1 kDLCPU, 2 kDLCUDA */
    int32_t device_id;
} HtcDLDevice;

typedef struct {
    uint8_t code; /* 0 int, 1 uint, 2 float */
    uint8_t bits;
    uint16_t lanes;
} HtcDLDataType;

typedef struct {
    void *data;
    HtcDLDevice device;
    int32_t ndim;
    HtcDLDataType dtype;
    int64_t *shape;
    int64_t *strides; /* in elements */
    uint64_t byte_offset;
} HtcDLTensor;

typedef struct HtcDLManagedTensor {
    HtcDLTensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct HtcDLManagedTensor *self);
} HtcDLManagedTensor;

typedef struct {
    HtcDLManagedTensor managed;
    int64_t shape[4];
    int64_t strides[4];
    PyObject *owner;
} Export;

static void export_deleter(HtcDLManagedTensor *self)
{
    Export *e = (Export *)self->manager_ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    Py_XDECREF(e->owner);
    PyGILState_Release(g);
    free(e);
}

static void capsule_destructor(PyObject *capsule)
{
    /* Consumed capsules are renamed "used_dltensor"; the consumer frees those. */
    if (!PyCapsule_IsValid(capsule, "dltensor"))
        return;
    HtcDLManagedTensor *m = PyCapsule_GetPointer(capsule, "dltensor");
    if (m && m->deleter)
        m->deleter(m);
}

PyObject *htcpy_dlpack_capsule(PyObject *owner, void *data, int device_type, int device_id,
                               const Py_ssize_t *shape, const Py_ssize_t *strides, int ndim, int sample_type)
{
    if (ndim > 4) {
        PyErr_SetString(PyExc_ValueError, "__dlpack__: too many dimensions");
        return NULL;
    }
    Export *e = calloc(1, sizeof(*e));
    if (!e)
        return PyErr_NoMemory();
    const size_t ss = htcpy_sample_size(sample_type);
    for (int i = 0; i < ndim; i++) {
        e->shape[i] = shape[i];
        e->strides[i] = (int64_t)((size_t)strides[i] / ss);
    }
    HtcDLTensor *t = &e->managed.dl_tensor;
    t->data = data;
    t->device.device_type = device_type;
    t->device.device_id = device_id;
    t->ndim = ndim;
    switch (sample_type) {
    case HTC_SAMPLE_I8:
    case HTC_SAMPLE_I16:
    case HTC_SAMPLE_I32: t->dtype.code = 0; break;
    case HTC_SAMPLE_F32: t->dtype.code = 2; break;
    default: t->dtype.code = 1; break;
    }
    t->dtype.bits = (uint8_t)(ss * 8);
    t->dtype.lanes = 1;
    t->shape = e->shape;
    t->strides = e->strides;
    t->byte_offset = 0;
    e->managed.manager_ctx = e;
    e->managed.deleter = export_deleter;
    e->owner = Py_NewRef(owner);
    PyObject *cap = PyCapsule_New(&e->managed, "dltensor", capsule_destructor);
    if (!cap) {
        Py_DECREF(e->owner);
        free(e);
    }
    return cap;
}
