/* stacks_layout.c — per-version structure offsets (see stacks_layout.h).
 *
 * The numbers below were produced by offsetof() against each version's
 * Include/internal headers and checked by reading live interpreters of each
 * version (tests/test_stacks.py runs every reader x target pairing).
 */
#include "stacks_layout.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const stacks_layout layout_311 = {
    .minor = 11,
    .rt_interpreters_head = 40, .rt_gil = 360,
    .is_next = 0, .is_id = 48, .is_threads_head = 16, .is_modules = 888, .is_gil_ptr = 0,
    .gil_last_holder = 8, .gil_locked = 16,
    .ts_next = 8, .ts_interp = 16, .ts_thread_id = 152, .ts_native_thread_id = 160,
    .ts_cframe = 56, .cf_current_frame = 8, .ts_current_frame = 0, .has_cframe = 1,
    .fr_code = 32, .fr_previous = 48, .fr_instr = 56, .fr_owner = 69, .fr_localsplus = 72,
    .fr_is_entry = 68, .owner_generator = 1, .owner_cstack = -1,
    .co_filename = 112, .co_name = 120, .co_qualname = 128, .co_linetable = 136,
    .co_firstlineno = 72, .co_nlocalsplus = 76, .co_localsplusnames = 96,
    .co_localspluskinds = 104, .co_firsttraceable = 168, .co_code_adaptive = 184,
    .ob_type = 8, .var_size = 16,
    .uni_state = 32, .uni_length = 16, .uni_ascii_size = 48, .uni_compact_size = 72,
    .bytes_sval = 32, .float_fval = 16, .long_digit = 24, .tuple_item = 24, .cell_ref = 16,
    .long_tagged = 0, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
    .dk_log2_size = 8, .dk_log2_index_bytes = 9, .dk_kind = 10, .dk_nentries = 24,
    .dk_indices = 32,
    .type_name = 24, .type_flags = 168, .type_basicsize = 32, .type_cached_keys = 872,
};

static const stacks_layout layout_312 = {
    .minor = 12,
    .rt_interpreters_head = 40, .rt_gil = 0,
    .is_next = 0, .is_id = 8, .is_threads_head = 72, .is_modules = 944, .is_gil_ptr = 384,
    .gil_last_holder = 8, .gil_locked = 16,
    .ts_next = 8, .ts_interp = 16, .ts_thread_id = 136, .ts_native_thread_id = 144,
    .ts_cframe = 56, .cf_current_frame = 0, .ts_current_frame = 0, .has_cframe = 1,
    .fr_code = 0, .fr_previous = 8, .fr_instr = 56, .fr_owner = 70, .fr_localsplus = 72,
    .fr_is_entry = -1, .owner_generator = 1, .owner_cstack = 3,
    .co_filename = 112, .co_name = 120, .co_qualname = 128, .co_linetable = 136,
    .co_firstlineno = 68, .co_nlocalsplus = 72, .co_localsplusnames = 96,
    .co_localspluskinds = 104, .co_firsttraceable = 176, .co_code_adaptive = 192,
    .ob_type = 8, .var_size = 16,
    .uni_state = 32, .uni_length = 16, .uni_ascii_size = 40, .uni_compact_size = 56,
    .bytes_sval = 32, .float_fval = 16, .long_digit = 24, .tuple_item = 24, .cell_ref = 16,
    .long_tagged = 1, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
    .dk_log2_size = 8, .dk_log2_index_bytes = 9, .dk_kind = 10, .dk_nentries = 24,
    .dk_indices = 32,
    .type_name = 24, .type_flags = 168, .type_basicsize = 32, .type_cached_keys = 880,
};

/* 3.13.0 values; the debug offsets read from the target override most. */
static const stacks_layout layout_313 = {
    .minor = 13,
    .rt_interpreters_head = 632, .rt_gil = 0,
    .is_next = 7264, .is_id = 7272, .is_threads_head = 7344, .is_modules = 7656,
    .is_gil_ptr = 16, .gil_last_holder = 8, .gil_locked = 16,
    .ts_next = 8, .ts_interp = 16, .ts_thread_id = 152, .ts_native_thread_id = 160,
    .ts_cframe = 0, .cf_current_frame = 0, .ts_current_frame = 72, .has_cframe = 0,
    .fr_code = 0, .fr_previous = 8, .fr_instr = 56, .fr_owner = 70, .fr_localsplus = 72,
    .fr_is_entry = -1, .owner_generator = 1, .owner_cstack = 3,
    .co_filename = 112, .co_name = 120, .co_qualname = 128, .co_linetable = 136,
    .co_firstlineno = 68, .co_nlocalsplus = 72, .co_localsplusnames = 96,
    .co_localspluskinds = 104, .co_firsttraceable = 184, .co_code_adaptive = 200,
    .ob_type = 8, .var_size = 16,
    .uni_state = 32, .uni_length = 16, .uni_ascii_size = 40, .uni_compact_size = 56,
    .bytes_sval = 32, .float_fval = 16, .long_digit = 24, .tuple_item = 24, .cell_ref = 16,
    .long_tagged = 1, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
    .dk_log2_size = 8, .dk_log2_index_bytes = 9, .dk_kind = 10, .dk_nentries = 24,
    .dk_indices = 32,
    .type_name = 24, .type_flags = 168, .type_basicsize = 32, .type_cached_keys = 880,
};

/* Our own declaration of 3.13's _Py_DebugOffsets (Include/internal/
 * pycore_runtime.h): the layout is a published interface within 3.13.x. */
typedef struct {
    char cookie[8];
    uint64_t version, free_threaded;
    struct { uint64_t size, finalizing, interpreters_head; } runtime_state;
    struct {
        uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
            ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
            gil_runtime_state_locked, gil_runtime_state_holder;
    } interpreter_state;
    struct {
        uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
            datastack_chunk, status;
    } thread_state;
    struct { uint64_t size, previous, executable, instr_ptr, localsplus, owner; } interpreter_frame;
    struct {
        uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
            localsplusnames, localspluskinds, co_code_adaptive;
    } code_object;
    struct { uint64_t size, ob_type; } pyobject;
    struct { uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
    struct { uint64_t size, ob_item, ob_size; } tuple_object;
    struct { uint64_t size, ob_item, ob_size; } list_object;
    struct { uint64_t size, ma_keys, ma_values; } dict_object;
    struct { uint64_t size, ob_fval; } float_object;
    struct { uint64_t size, lv_tag, ob_digit; } long_object;
    struct { uint64_t size, ob_size, ob_sval; } bytes_object;
    struct { uint64_t size, state, length, asciiobject_size; } unicode_object;
    struct { uint64_t size, collecting; } gc;
} debug_offsets_313;

_Static_assert(sizeof(debug_offsets_313) == 584, "3.13.0 _Py_DebugOffsets is 584 bytes");

/* Offsets larger than this are not believed (the largest real one is
 * PyInterpreterState's ~8 KB); it keeps a corrupt table from steering reads. */
#define MAX_OFFSET (1u << 16)

static int
load_313(stacks_layout *out, stacks_mem *mem, uint64_t runtime, unsigned long hexversion,
         char *errmsg, size_t errlen)
{
    debug_offsets_313 d;
    if (stacks_mem_read(mem, runtime, &d, sizeof(d)) < 0) {
        snprintf(errmsg, errlen, "cannot read _Py_DebugOffsets at 0x%llx",
                 (unsigned long long)runtime);
        return -1;
    }
    if (memcmp(d.cookie, "xdebugpy", 8) != 0) {
        snprintf(errmsg, errlen, "_PyRuntime does not start with the 3.13 debug cookie");
        return -1;
    }
    if ((d.version >> 16) != (hexversion >> 16)) {
        snprintf(errmsg, errlen, "debug offsets are for version 0x%llx, runtime says 0x%lx",
                 (unsigned long long)d.version, hexversion);
        return -1;
    }
    if (d.free_threaded) {
        snprintf(errmsg, errlen, "free-threaded (no-GIL) CPython 3.13 is not supported");
        return -1;
    }
    const uint64_t vals[] = {
        d.runtime_state.interpreters_head, d.interpreter_state.id, d.interpreter_state.next,
        d.interpreter_state.threads_head, d.interpreter_state.imports_modules,
        d.interpreter_state.ceval_gil, d.interpreter_state.gil_runtime_state_locked,
        d.interpreter_state.gil_runtime_state_holder, d.thread_state.next,
        d.thread_state.interp, d.thread_state.current_frame, d.thread_state.thread_id,
        d.thread_state.native_thread_id, d.interpreter_frame.previous,
        d.interpreter_frame.executable, d.interpreter_frame.instr_ptr,
        d.interpreter_frame.localsplus, d.interpreter_frame.owner, d.code_object.filename,
        d.code_object.name, d.code_object.qualname, d.code_object.linetable,
        d.code_object.firstlineno, d.code_object.localsplusnames,
        d.code_object.localspluskinds, d.code_object.co_code_adaptive,
        d.unicode_object.state, d.unicode_object.length, d.unicode_object.asciiobject_size,
    };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        if (vals[i] > MAX_OFFSET) {
            snprintf(errmsg, errlen, "implausible debug offset %llu (field %zu)",
                     (unsigned long long)vals[i], i);
            return -1;
        }
    }
    out->rt_interpreters_head = d.runtime_state.interpreters_head;
    out->is_id = d.interpreter_state.id;
    out->is_next = d.interpreter_state.next;
    out->is_threads_head = d.interpreter_state.threads_head;
    out->is_modules = d.interpreter_state.imports_modules;
    out->is_gil_ptr = d.interpreter_state.ceval_gil;
    /* The published locked/holder offsets are from the interpreter state to
     * its embedded _gil; ceval.gil may point at another interpreter's _gil
     * (a shared GIL), so keep them relative to the struct instead. */
    if (d.interpreter_state.gil_runtime_state_locked < d.interpreter_state.gil_runtime_state ||
        d.interpreter_state.gil_runtime_state_holder < d.interpreter_state.gil_runtime_state) {
        snprintf(errmsg, errlen, "implausible GIL offsets in the debug offsets");
        return -1;
    }
    out->gil_locked = d.interpreter_state.gil_runtime_state_locked -
                      d.interpreter_state.gil_runtime_state;
    out->gil_last_holder = d.interpreter_state.gil_runtime_state_holder -
                           d.interpreter_state.gil_runtime_state;
    out->ts_next = d.thread_state.next;
    out->ts_interp = d.thread_state.interp;
    out->ts_current_frame = d.thread_state.current_frame;
    out->ts_thread_id = d.thread_state.thread_id;
    out->ts_native_thread_id = d.thread_state.native_thread_id;
    out->fr_previous = d.interpreter_frame.previous;
    out->fr_code = d.interpreter_frame.executable;
    out->fr_instr = d.interpreter_frame.instr_ptr;
    out->fr_localsplus = d.interpreter_frame.localsplus;
    out->fr_owner = d.interpreter_frame.owner;
    out->co_filename = d.code_object.filename;
    out->co_name = d.code_object.name;
    out->co_qualname = d.code_object.qualname;
    out->co_linetable = d.code_object.linetable;
    out->co_firstlineno = d.code_object.firstlineno;
    out->co_localsplusnames = d.code_object.localsplusnames;
    out->co_localspluskinds = d.code_object.localspluskinds;
    /* _co_firsttraceable is not published. In 3.13 it is an int followed by
     * co_extra (void *) and then co_code_adaptive, so it sits 16 bytes before
     * the published co_code_adaptive. */
    out->co_firsttraceable = d.code_object.co_code_adaptive - 16;
    out->co_code_adaptive = d.code_object.co_code_adaptive;
    out->uni_state = d.unicode_object.state;
    out->uni_length = d.unicode_object.length;
    out->uni_ascii_size = d.unicode_object.asciiobject_size;
    /* PyCompactUnicodeObject adds utf8_length and utf8 to PyASCIIObject. */
    out->uni_compact_size = d.unicode_object.asciiobject_size + 16;
    return 0;
}

int
stacks_layout_load(stacks_layout *out, unsigned long hexversion, stacks_mem *mem,
                   uint64_t runtime, char *errmsg, size_t errlen)
{
    int minor = (int)((hexversion >> 16) & 0xff);
    if ((hexversion >> 24) != 3 || minor < 11 || minor > 13) {
        snprintf(errmsg, errlen, "unsupported version");
        return -1;
    }
    if (minor == 11)
        *out = layout_311;
    else if (minor == 12)
        *out = layout_312;
    else {
        *out = layout_313;
        return load_313(out, mem, runtime, hexversion, errmsg, errlen);
    }
    return 0;
}
