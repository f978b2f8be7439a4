/* stacks_layout.h — where CPython keeps things, per minor version.
 *
 * 3.11 and 3.12 publish nothing, so their offsets are facts taken from the
 * installed internal headers (offsetof() on the x86-64 builds of 3.11.7 and
 * 3.12.1; a patch release does not change these structures). 3.13 publishes
 * _Py_DebugOffsets at the start of _PyRuntime: the fields it names are read
 * from the target; the few it does not name come from the table.
 */
#ifndef SLEUTH_STACKS_LAYOUT_H
#define SLEUTH_STACKS_LAYOUT_H

#include <stdint.h>
#include "stacks_mem.h"

typedef struct {
    int minor;                 /* 11, 12 or 13 */
    /* _PyRuntime */
    uint64_t rt_interpreters_head;
    uint64_t rt_gil;           /* 3.11: struct _gil_runtime_state inside _PyRuntime */
    /* PyInterpreterState */
    uint64_t is_next, is_id, is_threads_head, is_modules;
    uint64_t is_gil_ptr;       /* 3.12+: struct _gil_runtime_state * */
    uint64_t gil_last_holder, gil_locked;
    /* PyThreadState */
    uint64_t ts_next, ts_interp, ts_thread_id, ts_native_thread_id;
    uint64_t ts_cframe;        /* 3.11/3.12: _PyCFrame *cframe, else 0 */
    uint64_t cf_current_frame; /* offset of current_frame in _PyCFrame */
    uint64_t ts_current_frame; /* 3.13: _PyInterpreterFrame *current_frame */
    int has_cframe;
    /* _PyInterpreterFrame */
    uint64_t fr_code, fr_previous, fr_instr, fr_owner, fr_localsplus;
    int64_t fr_is_entry;       /* 3.11: bool is_entry; -1 where shim frames mark entries */
    int owner_generator;       /* FRAME_OWNED_BY_GENERATOR */
    int owner_cstack;          /* FRAME_OWNED_BY_CSTACK, -1 when absent (3.11) */
    /* PyCodeObject */
    uint64_t co_filename, co_name, co_qualname, co_linetable, co_firstlineno;
    uint64_t co_nlocalsplus, co_localsplusnames, co_localspluskinds;
    uint64_t co_firsttraceable, co_code_adaptive;
    /* objects */
    uint64_t ob_type;          /* 8 */
    uint64_t var_size;         /* ob_size of PyVarObject: 16 */
    uint64_t uni_state, uni_length, uni_ascii_size, uni_compact_size;
    uint64_t bytes_sval, float_fval, long_digit, tuple_item, cell_ref;
    int long_tagged;           /* 3.12+: lv_tag instead of a signed ob_size */
    uint64_t module_dict;      /* PyModuleObject.md_dict */
    uint64_t dict_keys, dict_values;
    uint64_t dk_log2_size, dk_log2_index_bytes, dk_kind, dk_nentries, dk_indices;
    uint64_t type_name, type_flags, type_basicsize, type_cached_keys;
} stacks_layout;

/* Fill `out` for the given hex version; for 3.13 read the target's debug
 * offsets at `runtime`. 0 ok; -1 with a message in errmsg. */
int stacks_layout_load(stacks_layout *out, unsigned long hexversion,
                       stacks_mem *mem, uint64_t runtime, char *errmsg, size_t errlen);

#endif
