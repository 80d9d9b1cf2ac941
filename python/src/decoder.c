/* htcodec Python extension: Decoder, nvImageCodec's decode entry point.
 *
 *   Decoder(device_id=-1, max_num_cpu_threads=0, backends=None, options="")
 *   .read(path | [paths], params=None)
 *   .decode(data | CodeStream | DecodeSource | [any of those], params=None)
 *
 * A single item returns an Image or raises htcodec.Error with the library's
 * message; a list returns a list with None where an item failed, and the
 * reasons in .last_errors (this thread's last batch: one entry per item,
 * None or the htcodec.Error it would have raised).
 *
 * The GIL is released while streams are parsed, decoded and converted. A
 * Decoder may be used from many threads at once: each call takes a libhtc
 * decoder from a small pool (opening another one when all are busy). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

#ifdef HTCPY_CUDA
#include <cuda_runtime_api.h>
#endif

#define POOL_MAX 32

enum { MODE_AUTO = 0, MODE_CPU = 1, MODE_GPU = 2 };

typedef struct HtcPyDecoder {
    PyObject_HEAD
    PyThread_type_lock lock; /* guards pool */
    HtcDecoder *pool[POOL_MAX];
    int num_idle;
    HtcDecoderSettings settings;
    int mode;
    int device_id;
    int closed;
    _Atomic int direct; /* the library's own device output: -1 not tried yet, 0 refused, 1 works */
    PyObject *errors; /* {thread ident: [None | Error, ...]} */
} HtcPyDecoder;

/* One item of a call, prepared with the GIL held, decoded without it. */
typedef struct Item {
    HtcPyCodeStream *cs;  /* borrowed from the refs list */
    HtcDecodeParams params;
    HtcPicture pic;
    HtcPyOutSpec spec;
    void *out;            /* host HWC block */
    int planar;           /* decode_components(): one block per component */
    int direct;           /* asked the library for device memory (interleaved) */
    int retry;            /* that failed: decoding again on the host */
    uint32_t num_planes;
    void **plane_out;
    HtcPlane *plane_geo;
    int status;
    char message[512];
} Item;

/* ---- the pool of libhtc decoders */
static HtcDecoder *pool_take(HtcPyDecoder *d, int *rc)
{
    HtcDecoder *h = NULL;
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    if (d->num_idle > 0)
        h = d->pool[--d->num_idle];
    PyThread_release_lock(d->lock);
    *rc = 0;
    if (!h)
        *rc = htc_decoder_open(&h, &d->settings);
    return h;
}

static void pool_give(HtcPyDecoder *d, HtcDecoder *h)
{
    if (!h)
        return;
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    if (d->num_idle < POOL_MAX && !d->closed) {
        d->pool[d->num_idle++] = h;
        h = NULL;
    }
    PyThread_release_lock(d->lock);
    if (h)
        htc_decoder_close(&h);
}

static void pool_close(HtcPyDecoder *d)
{
    if (!d->lock)
        return;
    PyThread_acquire_lock(d->lock, WAIT_LOCK);
    d->closed = 1;
    int n = d->num_idle;
    d->num_idle = 0;
    PyThread_release_lock(d->lock);
    for (int i = 0; i < n; i++)
        htc_decoder_close(&d->pool[i]);
}

/* ---- construction */
static int parse_backends(PyObject *backends, int *mode)
{
    *mode = MODE_AUTO;
    if (backends == Py_None)
        return 0;
    PyObject *fast = PySequence_Fast(backends, "Decoder: backends must be a list of BackendKind or Backend");
    if (!fast)
        return -1;
    int cpu = 0, gpu = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); i++) {
        PyObject *b = PySequence_Fast_GET_ITEM(fast, i);
        PyObject *kind = PyObject_HasAttrString(b, "backend_kind") ? PyObject_GetAttrString(b, "backend_kind")
                                                                    : Py_NewRef(b);
        long k = kind ? PyLong_AsLong(kind) : -1;
        Py_XDECREF(kind);
        if (k == -1 && PyErr_Occurred()) {
            Py_DECREF(fast);
            return -1;
        }
        if (k == 1)
            cpu = 1;
        else if (k >= 2 && k <= 4)
            gpu = 1;
        if (k == 3)
            cpu = 1;
    }
    Py_DECREF(fast);
    *mode = cpu && !gpu ? MODE_CPU : gpu && !cpu ? MODE_GPU : MODE_AUTO;
    return 0;
}

static int decoder_init(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"device_id", "max_num_cpu_threads", "backends", "options", NULL};
    HtcPyDecoder *d = (HtcPyDecoder *)self;
    HtcPyState *st = htcpy_state();
    int device_id = -1, threads = 0;
    PyObject *backends = Py_None;
    const char *options = "";
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|iiOz:Decoder", kws, &device_id, &threads, &backends, &options))
        return -1;
    (void)options;
    if (threads < 0) {
        PyErr_SetString(PyExc_ValueError, "Decoder: max_num_cpu_threads must be >= 0 (0: all cores)");
        return -1;
    }
    if (parse_backends(backends, &d->mode) < 0)
        return -1;
    if (device_id == -99999) /* nvImageCodec's NVIMGCODEC_DEVICE_CPU_ONLY */
        d->mode = MODE_CPU;
    const int ndev = HTCPY_HAVE(htc_cuda_device_count) ? htc_cuda_device_count() : 0;
    if (d->mode == MODE_AUTO)
        d->mode = ndev > 0 ? MODE_GPU : MODE_CPU;
    else if (d->mode == MODE_GPU && ndev <= 0) {
        htcpy_error(st, HTC_ENODEVICE, "Decoder: a GPU backend was asked for and no CUDA device is usable");
        return -1;
    }
    d->device_id = device_id >= 0 ? device_id : 0;
    if (d->mode == MODE_GPU && d->device_id >= ndev) {
        htcpy_error(st, HTC_ENODEVICE, "Decoder: device_id is not a usable CUDA device");
        return -1;
    }
    if (!HTCPY_HAVE(htc_decoder_default_settings) || !HTCPY_HAVE(htc_decoder_open)) {
        /* Parsing may work already; decoding reports what is missing. */
        memset(&d->settings, 0, sizeof(d->settings));
    } else {
        htc_decoder_default_settings(&d->settings);
    }
    d->settings.threads = (uint32_t)threads;
    /* A GPU Decoder drives libhtc's GPU backend: one htc_decode_batch per
     * list, samples left in device memory where they are to be returned. */
    d->settings.device = d->mode == MODE_GPU ? HTC_DEVICE_GPU : HTC_DEVICE_CPU;
    d->settings.device_id = d->device_id;
    if (!d->lock && !(d->lock = PyThread_allocate_lock())) {
        PyErr_NoMemory();
        return -1;
    }
    if (!d->errors && !(d->errors = PyDict_New()))
        return -1;
    d->closed = 0;
    d->direct = -1;
    return 0;
}

static void decoder_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    HtcPyDecoder *d = (HtcPyDecoder *)self;
    PyObject_GC_UnTrack(self);
    pool_close(d);
    if (d->lock)
        PyThread_free_lock(d->lock);
    Py_CLEAR(d->errors);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int decoder_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((HtcPyDecoder *)self)->errors);
    return 0;
}

static int decoder_clear(PyObject *self)
{
    Py_CLEAR(((HtcPyDecoder *)self)->errors);
    return 0;
}

/* ---- preparing items (GIL held) */
static void fail_item(Item *it, int status, const char *msg)
{
    it->status = status;
    snprintf(it->message, sizeof(it->message), "%s", msg && msg[0] ? msg : htc_strerror(status));
}

/* Turns a Python exception into an item failure (batch) and clears it. */
static void fail_item_from_exception(Item *it)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    int status = HTC_EINVAL;
    PyObject *s = value ? PyObject_GetAttrString(value, "status") : NULL;
    if (s && PyLong_Check(s))
        status = (int)PyLong_AsLong(s);
    PyErr_Clear();
    Py_XDECREF(s);
    PyObject *m = value ? PyObject_GetAttrString(value, "library_message") : NULL;
    if (!m) {
        PyErr_Clear();
        m = value ? PyObject_Str(value) : NULL;
    }
    const char *text = m ? PyUnicode_AsUTF8(m) : NULL;
    if (!text)
        PyErr_Clear();
    fail_item(it, status, text ? text : "invalid item");
    Py_XDECREF(m);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* Resolves one source into a CodeStream (new reference) and a region. */
static PyObject *resolve(HtcPyState *st, PyObject *src, int from_path, PyObject **region)
{
    *region = NULL;
    if (PyObject_TypeCheck(src, st->DecodeSource)) {
        HtcPyDecodeSource *ds = (HtcPyDecodeSource *)src;
        if (!ds->code_stream) {
            PyErr_SetString(PyExc_ValueError, "DecodeSource has no code stream");
            return NULL;
        }
        *region = ds->region;
        return Py_NewRef(ds->code_stream);
    }
    if (PyObject_TypeCheck(src, st->CodeStream))
        return Py_NewRef(src);
    if (!from_path && PyUnicode_Check(src)) {
        PyErr_SetString(PyExc_TypeError, "Decoder.decode: a str is a path; use Decoder.read(path), or pass bytes");
        return NULL;
    }
    return htcpy_code_stream_new(st, src);
}

static void set_params(const HtcPyDecodeParams *dp, HtcPyCodeStream *cs, PyObject *region, Item *it)
{
    HtcDecodeParams *p = &it->params;
    htc_decode_default_params(p);
    p->reduce = dp->reduce;
    p->layers = dp->layers;
    p->tile = dp->tile >= 0 ? dp->tile : cs->tile;
    p->sample_type = HTC_SAMPLE_AUTO;
    p->layout = HTC_LAYOUT_PLANAR;
    p->memory = HTC_MEMORY_HOST;
    long long s[2], e[2];
    if (!htcpy_region_get(region, s, e) && !htcpy_region_get(cs->region, s, e))
        return;
    const long long w = cs->info.width, h = cs->info.height;
    const long long y0 = s[0], x0 = s[1], y1 = HTC_PY_MIN(e[0], h), x1 = HTC_PY_MIN(e[1], w);
    if (y0 >= y1 || x0 >= x1) {
        char msg[200];
        snprintf(msg, sizeof(msg), "region y %lld..%lld x %lld..%lld lies outside the %lldx%lld image", s[0], e[0],
                 s[1], e[1], w, h);
        fail_item(it, HTC_ERANGE, msg);
        return;
    }
    p->use_region = 1;
    p->region_x0 = (uint32_t)x0, p->region_y0 = (uint32_t)y0;
    p->region_x1 = (uint32_t)x1, p->region_y1 = (uint32_t)y1;
}

/* ---- decoding (GIL released) */
static int finish_planar(Item *it)
{
    const uint32_t n = it->pic.num_planes;
    it->plane_out = calloc(n ? n : 1, sizeof(void *));
    it->plane_geo = calloc(n ? n : 1, sizeof(HtcPlane));
    if (!it->plane_out || !it->plane_geo)
        return snprintf(it->message, sizeof(it->message), "out of memory"), HTC_ENOMEM;
    it->num_planes = n;
    for (uint32_t i = 0; i < n; i++) {
        const HtcPlane *p = &it->pic.planes[i];
        it->plane_geo[i] = *p;
        const size_t size = (size_t)p->width * p->height * htcpy_sample_size(htcpy_plane_type(p));
        if (posix_memalign(&it->plane_out[i], 64, size ? size : 1) != 0) {
            it->plane_out[i] = NULL;
            return snprintf(it->message, sizeof(it->message), "out of memory"), HTC_ENOMEM;
        }
        const int rc = htcpy_copy_plane(&it->pic, i, it->plane_out[i]);
        if (rc < 0)
            return snprintf(it->message, sizeof(it->message), "copying component %u failed", i), rc;
    }
    return 0;
}

static void free_planar(Item *it)
{
    for (uint32_t i = 0; it->plane_out && i < it->num_planes; i++)
        free(it->plane_out[i]);
    free(it->plane_out);
    free(it->plane_geo);
    it->plane_out = NULL;
    it->plane_geo = NULL;
    it->num_planes = 0;
}

static void finish_item(Item *it)
{
    if (it->status < 0)
        return;
    if (it->direct && it->pic.memory == HTC_MEMORY_DEVICE)
        return; /* the Image takes the picture as it is */
    if (it->planar) {
        const int prc = finish_planar(it);
        htc_picture_release(&it->pic);
        if (prc < 0) {
            free_planar(it);
            it->status = prc;
        }
        return;
    }
    int rc = htcpy_out_plan(&it->pic, &it->spec, it->message, sizeof(it->message));
    if (rc >= 0) {
        if (posix_memalign(&it->out, 64, it->spec.size ? it->spec.size : 1) != 0) {
            it->out = NULL;
            rc = HTC_ENOMEM;
            snprintf(it->message, sizeof(it->message), "out of memory for a %zu-byte image", it->spec.size);
        } else {
            rc = htcpy_convert(&it->pic, &it->spec, it->out);
            if (rc < 0)
                snprintf(it->message, sizeof(it->message), "converting the decoded samples failed");
        }
    }
    htc_picture_release(&it->pic);
    if (rc < 0) {
        free(it->out);
        it->out = NULL;
        it->status = rc;
    }
}

static int wanted(const Item *it, int retries) { return it->status >= 0 && (!retries || it->retry); }

/* Decodes the wanted items with h: one batch call when the library has it. */
static void decode_items(HtcDecoder *h, Item *items, size_t n, int retries)
{
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        live += wanted(&items[i], retries);
    HtcBatchItem *batch = NULL;
    if (live > 1 && HTCPY_HAVE(htc_decode_batch))
        batch = calloc(live, sizeof(*batch));
    if (batch) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!wanted(&items[i], retries))
                continue;
            batch[k].stream = items[i].cs->stream;
            batch[k].params = &items[i].params;
            k++;
        }
        const int rc = htc_decode_batch(h, batch, live);
        k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!wanted(&items[i], retries))
                continue;
            if (rc < 0)
                fail_item(&items[i], rc, htc_last_error());
            else if (batch[k].status < 0)
                fail_item(&items[i], batch[k].status, batch[k].message);
            else
                items[i].pic = batch[k].picture;
            if (rc < 0 || batch[k].status < 0)
                htc_picture_release(&batch[k].picture);
            k++;
        }
        free(batch);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!wanted(&items[i], retries))
            continue;
        memset(&items[i].pic, 0, sizeof(items[i].pic));
        const int rc = htc_decode(h, items[i].cs->stream, &items[i].params, &items[i].pic);
        if (rc < 0) {
            fail_item(&items[i], rc, htc_last_error());
            htc_picture_release(&items[i].pic);
        }
    }
}

static void run_items(HtcPyDecoder *d, Item *items, size_t n)
{
    int rc = 0;
    HtcDecoder *h = pool_take(d, &rc);
    if (!h) {
        const char *le = htc_last_error();
        for (size_t i = 0; i < n; i++)
            if (items[i].status >= 0)
                fail_item(&items[i], rc < 0 ? rc : HTC_ENOMEM, le);
        return;
    }
    /* On a GPU, native samples are asked of the library in device memory,
     * interleaved, as they are to be returned; when it cannot (no device
     * output in this build, sub-sampled components ...) they are decoded on
     * the host and copied to the device. */
    if (d->mode == MODE_GPU && d->direct != 0)
        for (size_t i = 0; i < n; i++) {
            Item *it = &items[i];
            if (it->status < 0 || it->planar || !it->spec.allow_any_depth || it->spec.color_spec != HTCPY_CS_UNCHANGED)
                continue;
            it->direct = 1;
            it->params.memory = HTC_MEMORY_DEVICE;
            it->params.layout = HTC_LAYOUT_INTERLEAVED;
        }
    decode_items(h, items, n, 0);
    size_t nretry = 0;
    for (size_t i = 0; i < n; i++) {
        Item *it = &items[i];
        if (!it->direct)
            continue;
        if (it->status >= 0 && it->pic.memory == HTC_MEMORY_DEVICE) {
            d->direct = 1;
            continue;
        }
        if (it->status == HTC_ENODEVICE)
            d->direct = 0; /* this build has no device output: stop asking */
        if (it->status >= 0) /* a host picture after all: convert it as usual */
            it->direct = 0;
        else {
            it->direct = 0;
            it->retry = 1;
            it->status = 0;
            it->message[0] = 0;
            it->params.memory = HTC_MEMORY_HOST;
            it->params.layout = HTC_LAYOUT_PLANAR;
            nretry++;
        }
    }
    if (nretry)
        decode_items(h, items, n, 1);
    pool_give(d, h);
    for (size_t i = 0; i < n; i++)
        finish_item(&items[i]);
}

/* ---- the calls */
static int is_batch(PyObject *x) { return PyList_Check(x) || PyTuple_Check(x); }

static PyObject *make_planes(HtcPyState *st, Item *it)
{
    PyObject *list = PyList_New(it->num_planes);
    for (uint32_t i = 0; list && i < it->num_planes; i++) {
        const HtcPlane *p = &it->plane_geo[i];
        const int type = htcpy_plane_type(p);
        const size_t size = (size_t)p->width * p->height * htcpy_sample_size(type);
        PyObject *img = htcpy_image_from_host(st, it->plane_out[i], size, p->height, p->width, 1, type, p->precision);
        it->plane_out[i] = NULL;
        if (!img)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, img);
    }
    return list;
}

static PyObject *make_image(HtcPyState *st, HtcPyDecoder *d, Item *it)
{
    if (it->planar)
        return make_planes(st, it);
    if (it->direct && it->pic.memory == HTC_MEMORY_DEVICE) {
        const unsigned prec = it->pic.num_planes ? it->pic.planes[0].precision : 0;
        return htcpy_image_from_picture(st, &it->pic, prec); /* takes the picture */
    }
    PyObject *img = htcpy_image_from_host(st, it->out, it->spec.size, it->spec.height, it->spec.width,
                                          it->spec.channels, it->spec.sample_type, it->spec.precision);
    it->out = NULL;
    if (!img || d->mode != MODE_GPU)
        return img;
    /* The library decodes on the host for now; the result moves to the device. */
    PyObject *dev = PyObject_CallMethod(img, "cuda", "i", d->device_id);
    Py_DECREF(img);
    return dev;
}

static PyObject *run(HtcPyDecoder *d, PyObject *srcs, PyObject *params, int from_path, int planar)
{
    HtcPyState *st = htcpy_state();
    if (d->closed || !d->lock) {
        PyErr_SetString(PyExc_ValueError, "Decoder is closed");
        return NULL;
    }
    HtcPyDecodeParams defaults;
    const HtcPyDecodeParams *dp = &defaults;
    htcpy_params_defaults(&defaults);
    if (params && params != Py_None) {
        if (!PyObject_TypeCheck(params, st->DecodeParams)) {
            PyErr_SetString(PyExc_TypeError, "params must be a DecodeParams or None");
            return NULL;
        }
        dp = (const HtcPyDecodeParams *)params;
    }
    if (!HTCPY_HAVE(htc_decode) || !HTCPY_HAVE(htc_decoder_open) || !HTCPY_HAVE(htc_decode_default_params) ||
        !HTCPY_HAVE(htc_picture_release))
        return htcpy_error(st, HTC_EUNSUPPORTED, "this libhtc build has no htc_decode yet");
    const int batch = is_batch(srcs);
    PyObject *seq = batch ? PySequence_Fast(srcs, "") : PyTuple_Pack(1, srcs);
    if (!seq)
        return NULL;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *refs = PyList_New(n);
    Item *items = calloc(n ? (size_t)n : 1, sizeof(Item));
    PyObject *result = NULL, *errors = NULL;
    if (!refs || !items) {
        if (!items)
            PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *region = NULL;
        Item *it = &items[i];
        it->spec.color_spec = dp->color_spec;
        it->spec.allow_any_depth = dp->allow_any_depth;
        it->planar = planar;
        PyObject *cs = resolve(st, PySequence_Fast_GET_ITEM(seq, i), from_path, &region);
        if (!cs) {
            if (!batch || !PyErr_ExceptionMatches(PyExc_Exception))
                goto done;
            fail_item_from_exception(it);
            Py_INCREF(Py_None);
            PyList_SET_ITEM(refs, i, Py_None);
            continue;
        }
        PyList_SET_ITEM(refs, i, cs);
        it->cs = (HtcPyCodeStream *)cs;
        if (!it->cs->stream) {
            fail_item(it, HTC_EINVAL, "CodeStream is not open");
            continue;
        }
        set_params(dp, it->cs, region, it);
    }
    Py_BEGIN_ALLOW_THREADS
    run_items(d, items, (size_t)n);
    Py_END_ALLOW_THREADS
    if (!batch) {
        if (items[0].status < 0)
            htcpy_error(st, items[0].status, items[0].message);
        else
            result = make_image(st, d, &items[0]);
        goto done;
    }
    result = PyList_New(n);
    errors = PyList_New(n);
    if (!result || !errors) {
        Py_CLEAR(result);
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *img = NULL, *err = NULL;
        if (items[i].status >= 0) {
            img = make_image(st, d, &items[i]);
            if (!img) {
                if (!PyErr_ExceptionMatches(PyExc_Exception)) {
                    Py_CLEAR(result);
                    goto done;
                }
                fail_item_from_exception(&items[i]);
            }
        }
        if (!img) {
            err = htcpy_error_object(st, items[i].status, items[i].message);
            if (!err) {
                Py_CLEAR(result);
                goto done;
            }
        }
        PyList_SET_ITEM(result, i, img ? img : Py_NewRef(Py_None));
        PyList_SET_ITEM(errors, i, err ? err : Py_NewRef(Py_None));
    }
    {
        PyObject *key = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
        if (!key || PyDict_SetItem(d->errors, key, errors) < 0)
            Py_CLEAR(result);
        Py_XDECREF(key);
    }
done:
    if (items) {
        for (Py_ssize_t i = 0; i < n; i++) {
            free(items[i].out);
            free_planar(&items[i]);
            if (items[i].pic.planes && HTCPY_HAVE(htc_picture_release))
                htc_picture_release(&items[i].pic);
        }
        free(items);
    }
    Py_XDECREF(errors);
    Py_XDECREF(refs);
    Py_DECREF(seq);
    return result;
}

static PyObject *decoder_decode(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"src", "params", "cuda_stream", NULL};
    PyObject *src, *params = Py_None;
    unsigned long long stream = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OK:decode", kws, &src, &params, &stream))
        return NULL;
    return run((HtcPyDecoder *)self, src, params, 0, 0);
}

static PyObject *decoder_components(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"src", "params", NULL};
    PyObject *src, *params = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:decode_components", kws, &src, &params))
        return NULL;
    return run((HtcPyDecoder *)self, src, params, 1, 1);
}

static PyObject *decoder_read(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kws[] = {"path", "params", "cuda_stream", NULL};
    PyObject *src, *params = Py_None;
    unsigned long long stream = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OK:read", kws, &src, &params, &stream))
        return NULL;
    return run((HtcPyDecoder *)self, src, params, 1, 0);
}

static PyObject *get_last_errors(PyObject *self, void *c)
{
    (void)c;
    HtcPyDecoder *d = (HtcPyDecoder *)self;
    PyObject *key = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    if (!key)
        return NULL;
    PyObject *v = d->errors ? PyDict_GetItemWithError(d->errors, key) : NULL;
    Py_DECREF(key);
    if (v)
        return PySequence_List(v);
    if (PyErr_Occurred())
        return NULL;
    return PyList_New(0);
}

static PyObject *get_device(PyObject *self, void *c)
{
    (void)c;
    HtcPyDecoder *d = (HtcPyDecoder *)self;
    if (d->mode == MODE_GPU)
        return PyUnicode_FromFormat("cuda:%d", d->device_id);
    return PyUnicode_FromString("cpu");
}

static PyObject *get_threads(PyObject *self, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLong(((HtcPyDecoder *)self)->settings.threads);
}

static PyObject *decoder_enter(PyObject *self, PyObject *unused)
{
    (void)unused;
    return Py_NewRef(self);
}

static PyObject *decoder_exit(PyObject *self, PyObject *args)
{
    (void)args;
    pool_close((HtcPyDecoder *)self);
    Py_RETURN_NONE;
}

static PyMethodDef decoder_methods[] = {
    {"decode", (PyCFunction)(void (*)(void))decoder_decode, METH_VARARGS | METH_KEYWORDS,
     "decode(src, params=None, cuda_stream=0): src is bytes / a buffer / CodeStream / DecodeSource, "
     "or a list of them.\nOne item: an Image, or htcodec.Error. A list: a list with None for failed "
     "items (reasons in last_errors)."},
    {"read", (PyCFunction)(void (*)(void))decoder_read, METH_VARARGS | METH_KEYWORDS,
     "read(path, params=None, cuda_stream=0): path is a str / os.PathLike / DecodeSource, or a list of "
     "them; results as decode()."},
    {"decode_components", (PyCFunction)(void (*)(void))decoder_components, METH_VARARGS | METH_KEYWORDS,
     "decode_components(src, params=None): like read()/decode() (a str is a path), but each result is a list "
     "of host Images, one per component, (height_c, width_c, 1) at the component's own size, depth and sign "
     "(color_spec and allow_any_depth do not apply; reduce, layers, tile and regions do)."},
    {"__enter__", decoder_enter, METH_NOARGS, NULL},
    {"__exit__", decoder_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef decoder_getset[] = {
    {"last_errors", get_last_errors, NULL,
     "For this thread's last batch call: one entry per item, None where it worked, else the "
     "htcodec.Error (status, status_name, library_message) that a single call would have raised.",
     NULL},
    {"device", get_device, NULL, "'cpu' or 'cuda:N': where decoded Images are placed.", NULL},
    {"max_num_cpu_threads", get_threads, NULL, "Worker threads of the libhtc decoders (0: all cores).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot decoder_slots[] = {
    {Py_tp_init, decoder_init},
    {Py_tp_dealloc, decoder_dealloc},
    {Py_tp_traverse, decoder_traverse},
    {Py_tp_clear, decoder_clear},
    {Py_tp_methods, decoder_methods},
    {Py_tp_getset, decoder_getset},
    {Py_tp_doc, "Decoder(device_id=-1, max_num_cpu_threads=0, backends=None, options='')\n"
                "device_id -1: the first GPU when there is one, else the CPU; backends: BackendKind / "
                "Backend list (CPU_ONLY keeps images on the host)."},
    {0, NULL},
};

PyType_Spec htcpy_decoder_spec = {
    .name = "htcodec.Decoder",
    .basicsize = sizeof(HtcPyDecoder),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = decoder_slots,
};
