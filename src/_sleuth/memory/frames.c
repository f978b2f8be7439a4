/* frames.c — stack capture for the allocation hooks (see frames.h). */
#include <string.h>
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

/* The innermost frame picks a hint. While the next frames match the hinted
 * record they are only compared, not stored (buf gets the matched part from
 * the record only if it is needed after all); the rest are read into buf,
 * up to max, and counted. */
uint32_t
SmFrames_capture(PyThreadState *ts, SmTbStore *s, SmRawFrame *buf, int max)
{
    const SmTbHint *hint;
    const SmRawFrame *known = NULL;   /* the hinted record's frames */
    PyCodeObject *code;
    intptr_t lasti;
    int n, matched = 1;   /* buf[1..matched) are known[1..matched), unwritten */
    size_t depth;
    SmPyFrame *f = ts ? SmCompat_top_frame(ts) : NULL;

    while (f && !SmCompat_frame_read(f, &code, &lasti))
        f = f->previous;
    if (!f)
        return 0;   /* the empty traceback */
    buf[0].code = code;
    buf[0].lasti = lasti;
    n = 1;
    depth = 1;
    f = f->previous;
    hint = SmTbStore_hint(s, code, lasti);
    if (hint->id && hint->code == code && hint->lasti == lasti && hint->nframe <= max) {
        known = &s->frames[hint->first];
        for (; f && n < hint->nframe; f = f->previous) {
            if (!SmCompat_frame_read(f, &code, &lasti))
                continue;
            if (known[n].code != code || known[n].lasti != lasti)
                break;   /* f is read again below */
            n++;
            depth++;
        }
        matched = n;
    }
    for (; f; f = f->previous) {
        if (!SmCompat_frame_read(f, &code, &lasti))
            continue;
        if (n < max) {
            buf[n].code = code;
            buf[n].lasti = lasti;
            n++;
        }
        depth++;
    }
    if (depth > UINT16_MAX)
        depth = UINT16_MAX;
    /* the record's own test: same frames, same count, same total */
    if (__builtin_expect(known && n == matched && n == hint->nframe && depth == hint->total, 1))
        return hint->id;
    if (matched > 1)
        memcpy(buf + 1, known + 1, (size_t)(matched - 1) * sizeof(SmRawFrame));
    return SmTbStore_intern(s, buf, n, (uint16_t)depth);
}

uintptr_t
SmFrames_object_block(PyObject *obj)
{
    return (uintptr_t)obj - SmCompat_preheader_size(Py_TYPE(obj));
}
