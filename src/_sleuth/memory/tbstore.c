/* tbstore.c — interning of captured tracebacks (see tbstore.h). */
#include <stdlib.h>
#include <string.h>
#include "tbstore.h"
#include "table.h"

/* Hash of a stack. Each frame's term is independent of the others (no serial chain), so the
 * multiplies of a deep stack pipeline. */
static inline uint64_t
hash_step(uint64_t h, int i, const SmRawFrame *f)
{
    uint64_t x = ((uint64_t)(uintptr_t)f->code >> 4) ^ ((uint64_t)f->lasti << 40);
    x *= UINT64_C(0x9E3779B97F4A7C15);
    unsigned r = (unsigned)(i * 7) & 63;
    return h + (r ? (x << r) | (x >> (64 - r)) : x);
}

static inline uint32_t
hash_final(uint64_t h, uint16_t total)
{
    h ^= total;
    h *= UINT64_C(0xBF58476D1CE4E5B9);
    h ^= h >> 31;
    return (uint32_t)(h ^ (h >> 32));
}

static uint32_t
hash_frames(const SmRawFrame *f, int n, uint16_t total)
{
    uint64_t h = 0;
    for (int i = 0; i < n; i++)
        h = hash_step(h, i, &f[i]);
    return hash_final(h, total);
}

int
SmTbStore_init(SmTbStore *s)
{
    memset(s, 0, sizeof(*s));
    s->rcap = 1024;
    s->fcap = 4096;
    s->imask = 2047;
    s->recs = malloc(s->rcap * sizeof(SmTbRec));
    s->frames = malloc(s->fcap * sizeof(SmRawFrame));
    s->index = calloc(s->imask + 1, sizeof(uint32_t));
    if (!s->recs || !s->frames || !s->index) {
        free(s->recs);
        free(s->frames);
        free(s->index);
        memset(s, 0, sizeof(*s));
        return -1;
    }
    /* id 0: the empty traceback */
    s->recs[0] = (SmTbRec){0, hash_frames(NULL, 0, 0), 0, 0};
    s->nrec = 1;
    return 0;
}

static int
same(const SmTbStore *s, const SmTbRec *r, const SmRawFrame *f, int n, uint16_t total)
{
    if (r->nframe != n || r->total != total)
        return 0;
    /* short stacks are the common case: no memcmp call */
    const SmRawFrame *g = &s->frames[r->first];
    for (int i = 0; i < n; i++)
        if (g[i].code != f[i].code || g[i].lasti != f[i].lasti)
            return 0;
    return 1;
}

static int
grow_index(SmTbStore *s)
{
    size_t mask = s->imask * 2 + 1;
    uint32_t *idx = calloc(mask + 1, sizeof(uint32_t));
    if (!idx)
        return -1;
    for (uint32_t id = 1; id < s->nrec; id++) {
        size_t i = s->recs[id].hash & mask;
        while (idx[i])
            i = (i + 1) & mask;
        idx[i] = id + 1;
    }
    free(s->index);
    s->index = idx;
    s->imask = mask;
    return 0;
}

static void
set_hint(SmTbStore *s, uint32_t id)
{
    const SmTbRec *r = &s->recs[id];
    const SmRawFrame *top = &s->frames[r->first];
    *SmTbStore_hint(s, top->code, top->lasti) =
        (SmTbHint){top->code, top->lasti, id, r->first, r->nframe, r->total, 0, -1};
}

uint32_t
SmTbStore_intern(SmTbStore *s, const SmRawFrame *f, int n, uint16_t total)
{
    if (n == 0 || !s->index)
        return 0;
    uint32_t h = hash_frames(f, n, total);
    size_t i = h & s->imask;
    for (;;) {
        uint32_t v = s->index[i];
        if (v == 0)
            break;
        const SmTbRec *r = &s->recs[v - 1];
        if (r->hash == h && same(s, r, f, n, total)) {
            set_hint(s, v - 1);
            return v - 1;
        }
        i = (i + 1) & s->imask;
    }
    /* new traceback; the load check only bites if grow_index failed */
    if (s->nrec >= SM_TB_MAX || (size_t)(s->nrec + 1) * 4 > (s->imask + 1) * 3)
        return 0;
    if (s->nrec == s->rcap) {
        SmTbRec *r = realloc(s->recs, (size_t)s->rcap * 2 * sizeof(SmTbRec));
        if (!r)
            return 0;
        s->recs = r;
        s->rcap *= 2;
    }
    if (s->nframes + (size_t)n > s->fcap) {
        size_t cap = s->fcap * 2;
        while (cap < s->nframes + (size_t)n)
            cap *= 2;
        SmRawFrame *fr = realloc(s->frames, cap * sizeof(SmRawFrame));
        if (!fr)
            return 0;
        s->frames = fr;
        s->fcap = cap;
    }
    if (s->nframes + (size_t)n > UINT32_MAX)
        return 0;
    uint32_t id = s->nrec++;
    s->recs[id] = (SmTbRec){(uint32_t)s->nframes, h, (uint16_t)n, total};
    for (int k = 0; k < n; k++) {
        /* The store keeps the code alive until the names are resolved. */
        Py_INCREF(f[k].code);
        s->frames[s->nframes++] = f[k];
    }
    s->index[i] = id + 1;
    if ((size_t)s->nrec * 2 > s->imask + 1)
        (void)grow_index(s);  /* on failure the index just gets fuller */
    set_hint(s, id);
    return id;
}

void
SmTbStore_release(SmTbStore *s)
{
    for (size_t k = 0; k < s->nframes; k++)
        Py_DECREF(s->frames[k].code);
    free(s->recs);
    free(s->frames);
    free(s->index);
    memset(s, 0, sizeof(*s));
}

size_t
SmTbStore_bytes(const SmTbStore *s)
{
    return s->rcap * sizeof(SmTbRec) + s->fcap * sizeof(SmRawFrame) +
           (s->index ? (s->imask + 1) * sizeof(uint32_t) : 0) + sizeof(s->hints);
}
