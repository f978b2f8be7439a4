/* rd_passes.h — how an input is cut into units that the reducer may remove.
 *
 * A pass turns the current input into a list of units. Most units are edits
 * (a span of the input and what replaces it: nothing, a copy of another span,
 * or fixed text); removing a set of units means applying those edits. Passes
 * whose units are not spans (CSV columns) provide their own build function.
 *
 * Hierarchical passes (statements, JSON members, brackets) are asked for one
 * nesting level at a time, outermost first, so that units of one level never
 * overlap. "single" passes produce overlapping edits (hoisting a JSON child
 * over its parent) that are only ever tried one at a time.
 */
#ifndef SLEUTH_RD_PASSES_H
#define SLEUTH_RD_PASSES_H

#include "rd_util.h"

enum { RD_REPL_NONE = 0, RD_REPL_SPAN = 1, RD_REPL_TEXT = 2 };

typedef struct {
    size_t start, end;     /* span of the current input */
    int repl;              /* RD_REPL_* */
    size_t src, src_len;   /* SPAN: offset in the input; TEXT: offset in arena */
} RdEdit;

typedef struct {
    RdEdit *v;
    size_t n, cap;
    size_t count;          /* number of units (== n for edit passes) */
    RdBuf arena;           /* replacement text for RD_REPL_TEXT */
} RdUnits;

typedef struct RdPass {
    const char *name;
    const char *help;
    int single;            /* units overlap: try each alone */
    /* Fills OUT with the units of LEVEL (0 = outermost). Returns 0, 1 when
     * there is no such level (the pass is done), or -1 when out of memory. */
    int (*split)(const unsigned char *p, size_t n, int level, RdUnits *out);
    /* Builds the input without units [lo, hi). NULL: apply the edits. */
    int (*build)(const unsigned char *p, size_t n, const RdUnits *u,
                 size_t lo, size_t hi, RdBuf *out);
    /* Repairs what removing units may break (JSON trailing commas). */
    int (*fixup)(RdBuf *out);
} RdPass;

void rd_units_clear(RdUnits *u);
void rd_units_free(RdUnits *u);

/* The input without units [lo, hi) of pass PASS, fixed up. 0 or -1. */
int rd_pass_build(const RdPass *pass, const unsigned char *p, size_t n,
                  const RdUnits *u, size_t lo, size_t hi, RdBuf *out);

const RdPass *rd_pass_find(const char *name);
/* Comma-separated list of every pass name, for messages. */
const char *rd_pass_names(void);

/* "python", "json", "csv", "text" or "binary", from the file name and the
 * content. */
const char *rd_detect_format(const char *path, const unsigned char *p, size_t n);
int rd_format_valid(const char *format);
/* Default pass list of FORMAT, coarse to fine; returns how many (<= max). */
size_t rd_default_passes(const char *format, const RdPass **out, size_t max);

/* 1 when P is one strict JSON document (RFC 8259). */
int rd_json_valid(const unsigned char *p, size_t n);

#endif
