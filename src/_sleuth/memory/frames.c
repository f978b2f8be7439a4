/* frames.c — stack capture for the allocation hooks (see frames.h). */
#include "memory_compat.h"
#include "frames.h"

PyThreadState *
SmFrames_tstate_with_gil(void)
{
    return SmCompat_tstate_with_gil();
}

/* Read the whole stack into buf (up to max frames) and intern it. skipped:
 * the started non-shim frames above the innermost one read (see
 * SmCompat_py_depth) */
static uint32_t __attribute__((noinline))
capture_and_intern(PyThreadState *ts, SmPyFrame *f, int skipped, SmTbStore *s,
                   SmRawFrame *buf, int max)
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
        if (hint->id == id) {
            hint->plain = (uint8_t)plain;
#if SM_HAVE_PY_DEPTH
            /* The interpreter's count vouches for this depth only if the
             * two agree now (they do unless a frame is between its push
             * and its start) */
            int32_t d = SmCompat_py_depth(ts);
            hint->depth = d >= 0 && (size_t)d - (size_t)skipped == depth ? d - skipped : -1;
#else
            (void)ts;
            (void)skipped;
            hint->depth = -1;
#endif
        }
    }
    return id;
}

/* The innermost frame picks a hint, and the rest of the stack is only
 * compared with the hinted record: nothing is stored, hashed or looked up.
 * The frames under the stored ones are not walked either where the
 * interpreter's frame count can be trusted (3.12): its count equal to the
 * one the hint was made with means the same depth. Anything else (no hint, a frame
 * that differs, another depth) reads the stack again from the top and
 * interns it; that happens about once per distinct stack. */
uint32_t
SmFrames_capture(PyThreadState *ts, SmTbStore *s, SmRawFrame *buf, int max)
{
    PyCodeObject *code;
    intptr_t lasti;
    SmPyFrame *top = ts ? SmCompat_top_frame(ts) : NULL;
    SmPyFrame *f = top;
    int skipped = 0;

    while (f && !SmCompat_frame_read(f, &code, &lasti)) {
#if SM_HAVE_PY_DEPTH
        skipped += !SmCompat_frame_is_shim(f) && SmCompat_frame_started(f);
#endif
        f = f->previous;
    }
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
#if SM_HAVE_PY_DEPTH
    /* (a record cut at another limit than max is not this stack's) */
    if (__builtin_expect(hint->depth >= 0 && SmCompat_py_depth(ts) - skipped == hint->depth, 1) &&
        (nframe == max || nframe == hint->total))
        return hint->id;
#endif
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
    return capture_and_intern(ts, top, skipped, s, buf, max);
}
