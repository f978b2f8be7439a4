/* frames.c — stack capture for the allocation hooks (see frames.h). */
#include "memory_compat.h"
#include "frames.h"

PyThreadState *
SmFrames_tstate_with_gil(void)
{
    return SmCompat_tstate_with_gil();
}

/* Read the whole stack into buf (up to max frames) and intern it. */
static uint32_t __attribute__((noinline))
capture_and_intern(SmPyFrame *f, SmTbStore *s, SmRawFrame *buf, int max)
{
    PyCodeObject *code;
    intptr_t lasti;
    int n = 0, plain = 1;
    size_t depth = 0;
    for (; f; f = f->previous) {
        if (!SmCompat_frame_read(f, &code, &lasti))
            continue;
        if (n < max) {
            buf[n].code = code;
            buf[n].lasti = lasti;
            plain &= SmCompat_past_prologue(code, lasti);
            n++;
        }
        depth++;
    }
    if (depth > UINT16_MAX)
        depth = UINT16_MAX;
    uint32_t id = SmTbStore_intern(s, buf, n, (uint16_t)depth);
    if (id) {
        /* the hint that interning just set */
        SmTbHint *hint = SmTbStore_hint(s, buf[0].code, buf[0].lasti);
        if (hint->id == id)
            hint->plain = (uint8_t)plain;
    }
    return id;
}

/* The innermost frame picks a hint, and the rest of the stack is only
 * compared with the hinted record and counted: nothing is stored, hashed or
 * looked up. Anything else (no hint, a frame that differs, another depth)
 * reads the stack again from the top and interns it; that happens about
 * once per distinct stack. */
uint32_t
SmFrames_capture(PyThreadState *ts, SmTbStore *s, SmRawFrame *buf, int max)
{
    PyCodeObject *code;
    intptr_t lasti;
    SmPyFrame *top = ts ? SmCompat_top_frame(ts) : NULL;
    SmPyFrame *f = top;

    while (f && !SmCompat_frame_read(f, &code, &lasti))
        f = f->previous;
    if (!f)
        return 0;   /* the empty traceback */
    const SmTbHint *hint = SmTbStore_hint(s, code, lasti);
    if (!(hint->id && hint->code == code && hint->lasti == lasti && hint->nframe <= max))
        goto slow;
    const SmRawFrame *known = &s->frames[hint->first];
    int n = 1, nframe = hint->nframe;
    f = f->previous;
    if (nframe == 1)
        ;   /* start(1): nothing to compare */
    else if (hint->plain) {
        /* the usual case: one test per frame that matches */
        for (; f && n < nframe; f = f->previous) {
            if (SmCompat_frame_is(f, known[n].code, known[n].lasti))
                n++;
            else if (SmCompat_frame_read(f, &code, &lasti))
                goto slow;   /* a frame that differs (else a skipped one) */
        }
    }
    else {
        for (; f && n < nframe; f = f->previous) {
            if (!SmCompat_frame_read(f, &code, &lasti))
                continue;
            if (known[n].code != code || known[n].lasti != lasti)
                goto slow;
            n++;
        }
    }
    if (n < nframe)
        goto slow;   /* the stack is shorter */
    /* Below the stored frames only their number matters */
    size_t below = 0;
    for (; f; f = f->previous)
        below += (size_t)SmCompat_frame_read(f, &code, &lasti);
    if (below && nframe < max)
        goto slow;   /* a record under max stored every frame there was */
    size_t depth = (size_t)n + below;
    if (depth > UINT16_MAX)
        depth = UINT16_MAX;
    if (__builtin_expect(depth == hint->total, 1))
        return hint->id;
slow:
    return capture_and_intern(top, s, buf, max);
}

uintptr_t
SmFrames_object_block(PyObject *obj)
{
    return (uintptr_t)obj - SmCompat_preheader_size(Py_TYPE(obj));
}
