/* stacks_render.h — a snapshot as text (py-spy dump's shape) or JSON. */
#ifndef SLEUTH_STACKS_RENDER_H
#define SLEUTH_STACKS_RENDER_H

#include <stddef.h>
#include "stacks_walk.h"

typedef struct {
    char *data;
    size_t len, cap;
    int oom;            /* an append failed: the text is incomplete */
} stacks_buf;

void stacks_buf_free(stacks_buf *b);
void stacks_buf_printf(stacks_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void stacks_render_text(const stacks_snapshot *s, stacks_buf *b);
void stacks_render_json(const stacks_snapshot *s, stacks_buf *b);

#endif
