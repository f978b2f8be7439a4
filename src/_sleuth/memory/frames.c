/* frames.c — stack capture for the allocation hooks (see frames.h). */
#include "memory_compat.h"
#include "frames.h"

PyThreadState *
SmFrames_tstate_with_gil(void)
{
    return SmCompat_tstate_with_gil();
}

PyThreadState *
SmFrames_tstate_unchecked(void)
{
    return _PyThreadState_UncheckedGet();
}

int
SmFrames_capture(PyThreadState *ts, SmRawFrame *buf, int max, uint16_t *total,
                 uint32_t *hash)
{
    uint64_t h = 0;
    int n = 0;
    unsigned depth = 0;
    for (SmPyFrame *f = ts ? SmCompat_top_frame(ts) : NULL; f; f = f->previous) {
        if (SmCompat_frame_skip(f))
            continue;
        if (n < max) {
            buf[n].code = SmCompat_frame_code(f);
            buf[n].lasti = SmCompat_frame_lasti(f);
            h = SmTb_hash_step(h, n, &buf[n]);
            n++;
        }
        if (depth < UINT16_MAX)
            depth++;
    }
    *total = (uint16_t)depth;
    *hash = SmTb_hash_final(h, *total);
    return n;
}

uintptr_t
SmFrames_object_block(PyObject *obj)
{
    return (uintptr_t)obj - SmCompat_preheader_size(Py_TYPE(obj));
}
